/*-------------------------------------------------------------------------
 *
 * run.h
 *	  One run's lifecycle, for every entry point that runs or changes
 *	  migrations (run.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_RUN_H
#define FLEETMIGRATE_RUN_H

#include "nodes/pg_list.h"
#include "utils/elog.h"
#include "utils/jsonb.h"

#include "catalog.h"

/* What a run is asked to do. */
typedef struct FmRunOptions
{
	const char *caller;			/* "apply_pending()", for messages */
	bool		session_lock;	/* hold the runner lock for the session
								 * (migrate()), not the transaction */
	bool		wait;			/* wait for a concurrent runner */
	Jsonb	   *params;			/* values supplied; NULL: none */
	bool		allow_destructive;	/* the call consents to dropping what
									 * is absent or empty */
	List	   *allow_data_loss;	/* char *: migrations ("version" or
									 * "version name") whose data loss the
									 * call consents to */
	bool		check_destructive;	/* refuse a plan, or a statement, that
									 * loses data without consent */
	bool		read_only;		/* plan(): read the plan without locking its
								 * rows (FmRunPlanUpToBlocked() only) */
	/* a check of the caller's own, for each migration of the plan; or NULL */
	void		(*check_migration) (List *plan, const FmMigration *m);
} FmRunOptions;

/* One run. */
typedef struct FmRun
{
	FmRunOptions opts;
	char	   *run_by;			/* current_user when the run began */
	bool		started;		/* between FmRunStart() and FmRunEnd() */
	bool		session_locked; /* holds the runner lock for the session */
	List	   *plan;			/* FmMigration *: the plan as checked */
	List	   *pending;		/* FmMigration *: the whole plan read
								 * (FmRunPlanUpToBlocked()) */
} FmRun;

/* The first migration a plan cannot apply yet (FmRunPlanUpToBlocked()). */
typedef struct FmBlocked
{
	FmMigration *m;				/* NULL: nothing blocked */
	ErrorData  *edata;			/* why: the error the checks raise for it */
	int			position;		/* its place in the plan, from 1 */
	int			later;			/* pending migrations after it */
} FmBlocked;

/* fleetmigrate.run_log_retention, in seconds (0: keep every record) */
#define FM_RUN_LOG_RETENTION_DEFAULT	(90 * 24 * 60 * 60)
extern int	fm_run_log_retention;

extern void FmRunStart(FmRun *run, const FmRunOptions *opts);
extern bool FmRunLock(FmRun *run);
extern List *FmRunPlan(FmRun *run, const char *target);
extern List *FmRunPlanUpToBlocked(FmRun *run, const char *target,
								  FmBlocked *blocked);
extern void FmRunEnd(FmRun *run);
extern void FmRunRefreshLint(const char *version, const char *name);

#endif							/* FLEETMIGRATE_RUN_H */
