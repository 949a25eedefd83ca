/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Non-transactional migrations, run in a background worker (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_WORKER_H
#define FLEETMIGRATE_WORKER_H

#include "runner.h"

extern PGDLLEXPORT void fleetmigrate_worker_main(Datum main_arg);
extern void FmWorkerDestroyed(const char **run_json, const char **text);
extern int	FmRunMigrationInWorker(const FmMigration *m, char *const scripts[3],
								   const char *applied_by, MemoryContext cxt,
								   double *duration_ms, FmFailedAt *failed_at);

#endif							/* FLEETMIGRATE_WORKER_H */
