/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  What a running migration reports in pg_stat_activity, read back by
 *	  the view fleetmigrate.progress (progress.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_PROGRESS_H
#define FLEETMIGRATE_PROGRESS_H

#include "datatype/timestamp.h"

/* Where this backend is in a run; reported, never stored. */
typedef struct FmProgressState
{
	char		caller[32];		/* "apply_pending()", "migrate()", ... ; ""
								 * outside a run */
	int64		run_id;			/* fleetmigrate.runs id; 0: none */
	int			migrations;		/* migrations in the plan; 0: unknown */
	int			migration;		/* position of the running one, from 1 */
	char		version[128];	/* the running migration */
	char		name[256];
	TimestampTz migration_started;
	int			statements;		/* statements of its up script; 0: unknown */
	int			statement;		/* the running one, from 1; 0: none yet */
	int			line;
	TimestampTz statement_started;
	int			worker_pid;		/* background worker running it; 0: none */
	int64		batch_rows_done;	/* a batched backfill's rows; -1: none */
	int64		batch_rows_total;	/* -1: unknown */
} FmProgressState;

extern void FmProgressRunBegin(const char *caller);
extern void FmProgressRunId(int64 run_id);
extern void FmProgressRunPlanned(int migrations);
extern void FmProgressRunEnd(const char *restore);
extern void FmProgressMigrationBegin(const char *version, const char *name);
extern void FmProgressStatement(int statement, int statements, int line,
								TimestampTz started, const char *sql);
extern void FmProgressWorker(int worker_pid);
extern void FmProgressBatch(int64 rows_done, int64 rows_total);
extern void FmProgressGet(FmProgressState *state);
extern void FmProgressSet(const FmProgressState *state);

#endif							/* FLEETMIGRATE_PROGRESS_H */
