/*-------------------------------------------------------------------------
 *
 * params.h
 *	  Migration parameters: values a run supplies, fleetmigrate.param().
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_PARAMS_H
#define FLEETMIGRATE_PARAMS_H

#include "nodes/pg_list.h"
#include "utils/elog.h"
#include "utils/jsonb.h"

#include "catalog.h"
#include "common.h"

extern void FmParamsSetRun(Jsonb *params, const char *caller);
extern void FmParamsReset(void);
extern void FmCheckPlanParams(List *plan);
extern void FmCheckPlanParamsIn(List *migrations, List *plan);
extern void FmParamsBegin(const FmMigration *m);
extern void FmParamsEnd(void);
extern char *FmParamsJson(const FmMigration *m);
extern void FmParamsMaskError(ErrorData *edata);

#endif							/* FLEETMIGRATE_PARAMS_H */
