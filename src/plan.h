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
extern void FmCheckPlanDestructive(List *plan);
extern void FmConsentSetRun(bool allow, const char *caller);
extern void FmConsentReset(void);
extern char *FmConsent(const FmMigration *m, const char *up);
extern bool FmConsentNeeded(const FmMigration *m, List *findings);
extern void FmExplainError(const FmMigration *m, int statement,
						   ErrorData *edata);

#endif							/* FLEETMIGRATE_PLAN_H */
