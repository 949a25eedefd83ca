/*-------------------------------------------------------------------------
 *
 * batch.h
 *	  Running a batched migration under CALL migrate() (batch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_BATCH_H
#define FLEETMIGRATE_BATCH_H

#include "utils/elog.h"

#include "catalog.h"
#include "runner.h"

extern ErrorData *FmRunBatchedMigration(const FmMigration *m,
										char *const scripts[3], int64 run_id,
										const char *applied_by,
										MemoryContext cxt,
										MemoryContext errcxt,
										double *duration_ms,
										FmFailedAt *failed_at);

#endif							/* FLEETMIGRATE_BATCH_H */
