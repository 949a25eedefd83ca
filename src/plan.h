/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  Checks of a plan (the pending migrations a run would apply) before
 *	  anything runs, and explanations added to a migration's error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_PLAN_H
#define FLEETMIGRATE_PLAN_H

#include "nodes/pg_list.h"
#include "utils/elog.h"

#include "catalog.h"
/* the consent to data loss moved to consent.c; its callers find it here too */
#include "consent.h"

/* fleetmigrate.out_of_order */
typedef enum FmOutOfOrder
{
	FM_OUT_OF_ORDER_ALLOW,
	FM_OUT_OF_ORDER_ERROR
} FmOutOfOrder;

extern int	fm_out_of_order;

/* fleetmigrate.environment */
typedef enum FmEnvironment
{
	FM_ENVIRONMENT_DEVELOPMENT,
	FM_ENVIRONMENT_STAGING,
	FM_ENVIRONMENT_PRODUCTION
} FmEnvironment;

extern int	fm_environment;

extern void FmCheckPlan(List *plan, const FmMigration *last);
pg_noreturn extern void FmReportPlanProblems(List *problems);
extern void FmExplainError(const FmMigration *m, int statement,
						   ErrorData *edata);

#endif							/* FLEETMIGRATE_PLAN_H */
