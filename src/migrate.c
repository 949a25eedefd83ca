/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  The unattended runner: CALL fleetmigrate.migrate().
 *
 * migrate() is a procedure, called on its own (not in a transaction block,
 * not from a function), so that it can commit.  It
 *	 1. adds a row to fleetmigrate.run_log and takes the run's own lock
 *		(FM_RUN_CLASSID, run id; runlock.h): while a session holds it the run is
 *		running; a run whose row still says 'running' without the lock was
 *		interrupted (the view fleetmigrate.runs says so).  Commits, so the
 *		row is visible while the run goes on;
 *	 2. takes the runner lock, the lock apply_pending() takes, as a
 *		session lock, waiting for a concurrent runner unless wait => false
 *		(then the run ends 'skipped').  Session locks go away with their
 *		session, so a killed runner never leaves one behind; we release
 *		both on every way out;
 *	 3. commits again (a fresh snapshot that sees what a runner we waited
 *		for applied), then applies one migration per transaction: read the
 *		first pending migration, run it in a subtransaction, record it and
 *		the run's progress, commit.  A non-transactional migration runs in
 *		a background worker (worker.c), after a commit so that we hold no
 *		snapshot and no row lock while it works.  A batched migration (its
 *		up script has a "-- batch:" line) runs one range of keys per
 *		transaction, committing each (batch.c), also after a commit.  A
 *		failure rolls the subtransaction back, records the failure (history
 *		event with SQLSTATE, message, statement number and line; the
 *		migration's state 'failed'; the run's outcome), commits that, and
 *		raises the error again.
 * A failed migration is pending: the next run tries it again, with the
 * body registered by then (register() accepts a new body until a migration
 * has been applied).
 *
 * Run unattended (started_by => 'pg_cron', what schedule() passes), a run
 * keeps moving: where a manual run refuses the whole plan because one
 * migration needs what the call does not give (a parameter, consent to data
 * loss, a requirement met, ...), it applies the migrations before that one
 * and ends 'blocked', naming it (FmRunPlanUpToBlocked()), without raising an
 * error.  The run log stays bounded: each run first deletes the records older
 * than fleetmigrate.run_log_retention, and a run that applied nothing and
 * finds what the latest record says (nothing pending, or the same migration
 * blocked for the same reason) is counted in that record instead of adding
 * one (FmCatalogRunSummarize()).
 *
 * Memory: everything that must survive the commits lives in the SPI
 * procedure context of a non-atomic connection (under the portal's); each
 * migration's work in a context reset after it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "batchspec.h"
#include "catalog.h"
#include "consent.h"
#include "params.h"
#include "locks.h"
#include "plan.h"
#include "progress.h"
#include "run.h"
#include "runlock.h"
#include "runner.h"
#include "standbys.h"
#include "worker.h"


/* Arguments of fleetmigrate.migrate(), in order. */
enum
{
	ARG_TARGET,
	ARG_PARAMS,
	ARG_ALLOW_DESTRUCTIVE,
	ARG_WAIT,
	ARG_STARTED_BY,
	NUM_INPUT_ARGS
};

/* After the INOUT run_id, applied and outcome (1.9): allow_data_loss text[] */
#define ARG_ALLOW_DATA_LOSS	8

PG_FUNCTION_INFO_V1(fleetmigrate_migrate);

static void refuse_atomic(FunctionCallInfo fcinfo);
static void check_plan(FmRun *run, int64 run_id, const char *target,
					   FmBlocked *blocked);
static int	migrate_all(FmRun *run, int64 run_id, const char *target,
						MemoryContext procxt, char **stopped,
						FmBlocked *blocked);
static void tidy_blocked(FmBlocked *blocked);
static void report_blocked(const FmBlocked *blocked, int applied);
static Datum migrate_result(FunctionCallInfo fcinfo, int64 run_id, int applied,
							const char *outcome);

/*
 * refuse_atomic
 *		ERROR unless called by a CALL that may commit: not in a transaction
 *		block, not from a function or a DO block.
 */
static void
refuse_atomic(FunctionCallInfo fcinfo)
{
	if (fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			 errmsg("fleetmigrate.migrate() cannot run inside a transaction block"),
			 errdetail("migrate() commits after each migration, which a transaction block, a function or a DO block around the CALL does not allow."),
			 errhint("Run CALL fleetmigrate.migrate() on its own, or apply everything inside your transaction with SELECT * FROM fleetmigrate.apply_pending().")));
}

/* The run check_whole_plan() checks. */
typedef struct PlanArgs
{
	FmRun	   *run;
	const char *target;
	FmBlocked  *blocked;		/* NULL: refuse the whole plan */
} PlanArgs;

static void
check_whole_plan(void *arg)
{
	PlanArgs   *args = (PlanArgs *) arg;

	if (args->blocked != NULL)
		(void) FmRunPlanUpToBlocked(args->run, args->target, args->blocked);
	else
		(void) FmRunPlan(args->run, args->target);
}

/*
 * check_plan
 *		Read and check the whole plan (FmRunPlan()) before anything runs;
 *		with "blocked" (run unattended), the plan up to the first migration
 *		the checks refuse, described in *blocked (FmRunPlanUpToBlocked()).
 *		A refused plan ends the run 'failed' (committed) and the error is
 *		raised again.  The plan is allocated in the current memory context.
 */
static void
check_plan(FmRun *run, int64 run_id, const char *target, FmBlocked *blocked)
{
	PlanArgs	args = {run, target, blocked};
	ErrorData  *edata = FmInSubtransaction(check_whole_plan, &args, true,
										   CurrentMemoryContext);

	if (edata != NULL)
	{
		FmCatalogRunFinish(run_id, "failed", 0, NULL, edata->sqlerrcode,
						   FmErrorText(edata, false));
		SPI_commit();
		ReThrowError(edata);
	}
}

/* One migration for run_one(). */
typedef struct MigrateArgs
{
	FmMigration *m;
	char	   *scripts[3];
	bool		changed;		/* registered again since the plan was checked */
	const char *applied_by;
	MemoryContext cxt;
	double		duration_ms;
	FmFailedAt	failed_at;
	List	   *destroyed;		/* FmDataLoss *: what it removed */
} MigrateArgs;

/* Fetch the scripts of the migration as the run checked them. */
static void
fetch_scripts(void *arg)
{
	MigrateArgs *args = (MigrateArgs *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(args->cxt);

	args->changed = !FmCatalogPlannedScripts(args->m, true, args->scripts);
	MemoryContextSwitchTo(oldcxt);
}

/* Run a migration here or, if it cannot run in a transaction, in a worker. */
static void
run_one(void *arg)
{
	MigrateArgs *args = (MigrateArgs *) arg;

	args->destroyed = NIL;
	if (args->m->transactional)
	{
		(void) FmRunMigration(args->m, args->scripts, args->applied_by,
							  args->cxt, &args->duration_ms, &args->failed_at);
		args->destroyed = FmConsentLastDestroyed();
	}
	else
		(void) FmRunMigrationInWorker(args->m, args->scripts, args->applied_by,
									  args->cxt, &args->duration_ms,
									  &args->failed_at);
}

/*
 * migrate_all
 *		Step 3 above: apply the plan FmRunPlan() checked (with "blocked",
 *		not NULL: the plan up to the first blocked migration, described in
 *		*blocked), one migration per transaction.  Returns the number of
 *		migrations applied, and sets
 *		*stopped to the explanation when a migration of the plan was
 *		registered again since (the run stops before it); on a failure
 *		records it, commits and re-raises it.
 */
static int
migrate_all(FmRun *run, int64 run_id, const char *target,
			MemoryContext procxt, char **stopped, FmBlocked *blocked)
{
	MemoryContext migration_cxt = AllocSetContextCreate(procxt,
														"fleetmigrate migration",
														ALLOCSET_DEFAULT_SIZES);
	int			applied = 0;
	int			position = 0;
	ListCell   *lc;

	MemoryContextSwitchTo(procxt);
	check_plan(run, run_id, target, blocked);
	/* the checks' row locks are not needed any more */
	SPI_commit();

	*stopped = NULL;
	foreach(lc, run->plan)
	{
		FmMigration *m = (FmMigration *) lfirst(lc);
		ErrorData  *edata;
		MigrateArgs args;
		TimestampTz started;
		double		duration_ms;
		int			attempt;
		bool		batched;

		position++;
		MemoryContextReset(migration_cxt);
		MemoryContextSwitchTo(migration_cxt);
		started = GetCurrentTimestamp();
		args.m = m;
		args.applied_by = run->run_by;
		args.cxt = migration_cxt;
		args.changed = false;
		args.duration_ms = 0;
		args.failed_at.statement = 0;
		args.failed_at.line = 0;
		args.destroyed = NIL;

		/*
		 * The scripts the run checked, the row locked; or it changed since.
		 * A script that does not match its checksum fails the migration.
		 */
		edata = FmInSubtransaction(fetch_scripts, &args, true, procxt);
		if (edata == NULL && args.changed)
		{
			int			rest = list_length(run->plan) - position;

			MemoryContextSwitchTo(procxt);
			*stopped = rest == 0 ?
				psprintf("%s was registered again after this run checked its plan; it waits for the next run",
						 FmMigrationLabel(m->version, m->name)) :
				psprintf("%s was registered again after this run checked its plan; it and the %d migration%s after it wait for the next run",
						 FmMigrationLabel(m->version, m->name), rest,
						 rest == 1 ? "" : "s");
			ereport(NOTICE, (errmsg("%s", *stopped)));
			break;
		}

		/*
		 * A non-transactional migration runs in a background worker, whose
		 * concurrent index builds wait for every older snapshot: commit, so
		 * that we hold none (nor the row lock) while we wait.  A batched one
		 * commits after each batch (batch.c), and retries a batch, not the
		 * migration, after a lock timeout.
		 */
		batched = edata == NULL && FmBatchDeclared(args.scripts[FM_SCRIPT_UP]);
		if (edata == NULL && (!m->transactional || batched))
			SPI_commit();
		if (batched)
		{
			edata = FmRunBatchedMigration(m, args.scripts, run_id, run->run_by,
										  migration_cxt, procxt,
										  &args.duration_ms, &args.failed_at);
			args.destroyed = edata == NULL ? FmConsentLastDestroyed() : NIL;
		}

		/*
		 * A lock timeout rolls the migration back; it runs again.  (A
		 * background worker retries its own statements: worker.c.)
		 */
		attempt = 0;
		while (edata == NULL && !batched)
		{
			edata = FmInSubtransaction(run_one, &args, true, procxt);
			if (edata == NULL || !m->transactional ||
				!FmRetryLockTimeout(m, args.scripts[FM_SCRIPT_UP],
									args.failed_at.statement, ++attempt, edata))
				break;
			FreeErrorData(edata);
			edata = NULL;
		}
		duration_ms = args.duration_ms;

		if (edata != NULL)
		{
			char	   *message;

			MemoryContextSwitchTo(procxt);
			FmExplainError(m, args.failed_at.statement, edata);
			message = FmErrorText(edata, false);
			duration_ms = (double) (GetCurrentTimestamp() - started) / 1000.0;
			FmCatalogRecordFailed(m, started, duration_ms, run->run_by,
								  edata->sqlerrcode, message,
								  args.failed_at.statement, args.failed_at.line);
			FmCatalogRunFinish(run_id, "failed", applied, m,
							   edata->sqlerrcode, message);
			SPI_commit();
			/*
			 * What the run changed, for the status view's stored lint; not
			 * after a cancel, which must not wait for lint.
			 */
			if ((applied > 0 || !m->transactional) && !FmErrorIsInterrupt(edata))
			{
				FmRunRefreshLint(NULL, NULL);
				SPI_commit();
			}
			ReThrowError(edata);
		}

		applied++;
		FmCatalogRunProgress(run_id, applied);
		{
			const char *removed_json = NULL;
			const char *removed = NULL;

			if (args.destroyed != NIL)
			{
				removed_json = FmDataLossJson(args.destroyed, m);
				removed = FmDataLossText(args.destroyed, true);
			}
			else if (!m->transactional && !batched)
				FmWorkerDestroyed(&removed_json, &removed);	/* its worker's */
			if (removed_json != NULL)
				FmCatalogRunDestroyed(run_id, removed_json);
			ereport(NOTICE,
					(errmsg("applied %s %s in %.0f ms",
							m->version, m->name, duration_ms),
					 removed != NULL ? errdetail("Removed: %s.", removed) : 0));
		}
		SPI_commit();
	}
	MemoryContextSwitchTo(procxt);
	MemoryContextDelete(migration_cxt);
	return applied;
}

/*
 * tidy_blocked
 *		The checks' error for blocked migration blocked->m without "nothing
 *		was applied", which is not so for a run that keeps moving: the
 *		migrations before it were applied.
 */
static void
tidy_blocked(FmBlocked *blocked)
{
	ErrorData  *edata = blocked->edata;
	static const char *const nothing = "Nothing was applied.";
	static const char *const nothing_suffix = "; nothing was applied";

	if (edata->message != NULL)
	{
		size_t		len = strlen(edata->message);
		size_t		suffix = strlen(nothing_suffix);

		if (len > suffix &&
			strcmp(edata->message + len - suffix, nothing_suffix) == 0)
			edata->message = pnstrdup(edata->message, len - suffix);
	}
	if (edata->detail != NULL)
	{
		char	   *at = strstr(edata->detail, nothing);

		if (at != NULL)
		{
			StringInfoData buf;
			const char *after = at + strlen(nothing);

			initStringInfo(&buf);
			appendBinaryStringInfo(&buf, edata->detail, at - edata->detail);
			appendStringInfoString(&buf, *after == ' ' ? after + 1 : after);
			while (buf.len > 0 && buf.data[buf.len - 1] == ' ')
				buf.data[--buf.len] = '\0';
			edata->detail = buf.len > 0 ? buf.data : NULL;
		}
	}
}

/*
 * report_blocked
 *		The NOTICE of a run that stopped before blocked migration
 *		blocked->m, having applied "applied" migrations.
 */
static void
report_blocked(const FmBlocked *blocked, int applied)
{
	ErrorData  *edata = blocked->edata;
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfo(&detail, "This run applied %d migration%s before it; ",
					 applied, applied == 1 ? "" : "s");
	if (blocked->later > 0)
		appendStringInfo(&detail, "it and the %d after it wait until it can run.",
						 blocked->later);
	else
		appendStringInfoString(&detail, "it waits until it can run.");
	if (edata->detail != NULL)
		appendStringInfo(&detail, " %s", edata->detail);
	ereport(NOTICE,
			(errmsg("%s is blocked: %s",
					FmMigrationLabel(blocked->m->version, blocked->m->name),
					edata->message ? edata->message : "unknown error"),
			 errdetail_internal("%s", detail.data),
			 edata->hint != NULL ?
			 errhint("%s Until then a scheduled run records it once, not on every run.",
					 edata->hint) :
			 errhint("Until it can run, a scheduled run records it once, not on every run.")));
}

/*
 * migrate_result
 *		The procedure's INOUT arguments: run id, migrations applied, outcome.
 */
static Datum
migrate_result(FunctionCallInfo fcinfo, int64 run_id, int applied,
			   const char *outcome)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum(run_id);
	values[1] = Int32GetDatum(applied);
	values[2] = CStringGetTextDatum(outcome);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * CALL fleetmigrate.migrate(target text, params jsonb, allow_destructive
 *		boolean, wait boolean, started_by text, INOUT run_id bigint,
 *		INOUT applied integer, INOUT outcome text, allow_data_loss text[])
 */
Datum
fleetmigrate_migrate(PG_FUNCTION_ARGS)
{
	static const char *const argnames[NUM_INPUT_ARGS] = {
		"target", "params", "allow_destructive", "wait", "started_by"
	};
	char	   *target;
	char	   *started_by;
	MemoryContext procxt;
	FmRunOptions run_options;
	FmRun		run;
	volatile bool have_run_lock = false;
	volatile int64 run_id = 0;
	volatile int64 record_id = 0;	/* the record that stands for the run */
	volatile int applied = 0;
	const char *volatile outcome = NULL;
	bool		unattended;
	FmBlocked	blocked;
	volatile bool wait_standbys = false;

	refuse_atomic(fcinfo);
	FmRunRefuseNested("migrate()");
	for (int i = ARG_PARAMS; i < NUM_INPUT_ARGS; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" of migrate() cannot be null",
							argnames[i])));
	}
	started_by = text_to_cstring(PG_GETARG_TEXT_PP(ARG_STARTED_BY));
	if (strcmp(started_by, "manual") != 0 && strcmp(started_by, "pg_cron") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for argument \"started_by\" of migrate(): \"%s\"",
						started_by),
				 errhint("Use 'manual' (the default) or 'pg_cron' (what fleetmigrate.schedule() passes).")));

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	procxt = CurrentMemoryContext;
	target = PG_ARGISNULL(ARG_TARGET) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
	FmCatalogBegin();
	/* run by pg_cron, on a catalog whose run log can say 'blocked' */
	unattended = strcmp(started_by, "pg_cron") == 0 && FmCatalogRunLogSummarizes();
	memset(&blocked, 0, sizeof(blocked));

	memset(&run_options, 0, sizeof(run_options));
	run_options.caller = "migrate()";
	run_options.session_lock = true;
	run_options.wait = PG_GETARG_BOOL(ARG_WAIT);
	run_options.params = PG_GETARG_JSONB_P(ARG_PARAMS);
	run_options.allow_destructive = PG_GETARG_BOOL(ARG_ALLOW_DESTRUCTIVE);
	/* before 1.9 the procedure has eight arguments */
	if (PG_NARGS() > ARG_ALLOW_DATA_LOSS && !PG_ARGISNULL(ARG_ALLOW_DATA_LOSS))
		run_options.allow_data_loss =
			FmConsentParseList(PG_GETARG_ARRAYTYPE_P(ARG_ALLOW_DATA_LOSS),
							   "migrate()");
	run_options.check_destructive = true;
	FmRunStart(&run, &run_options);

	PG_TRY();
	{
		run_id = FmCatalogRunStart(run.run_by, started_by, target);
		FmProgressRunId(run_id);
		if (fm_run_log_retention > 0 && FmCatalogRunLogSummarizes())
			(void) FmCatalogRunPrune(run_id, fm_run_log_retention);
		(void) FmLockAcquire(FM_RUN_CLASSID, (uint32) run_id, true, true);
		have_run_lock = true;
		SPI_commit();

		if (!FmRunLock(&run))
		{
			int			holder = FmCatalogLockHolder();

			outcome = "skipped";
			FmCatalogRunFinish(run_id, outcome, 0, NULL, 0, NULL);
			ereport(NOTICE,
					(errmsg("another fleetmigrate run is in progress; nothing was applied"),
					 holder != 0 ?
					 errdetail("Process %d holds the runner lock.", holder) : 0));
		}
		else
		{
			char	   *stopped;

			/* a fresh snapshot: whatever a runner we waited for applied */
			SPI_commit();
			applied = migrate_all(&run, run_id, target, procxt, &stopped,
								  unattended ? &blocked : NULL);
			if (stopped == NULL && blocked.m != NULL)
			{
				outcome = "blocked";
				tidy_blocked(&blocked);
				FmCatalogRunFinish(run_id, outcome, applied, blocked.m,
								   blocked.edata->sqlerrcode,
								   FmErrorText(blocked.edata, false));
				report_blocked(&blocked, applied);
			}
			else
			{
				outcome = stopped != NULL ? "stopped" :
					applied > 0 ? "succeeded" : "nothing_pending";
				FmCatalogRunFinish(run_id, outcome, applied, NULL, 0, stopped);
			}
			/* nothing new since the latest record: counted in it */
			if (applied == 0 && stopped == NULL && FmCatalogRunLogSummarizes())
				record_id = FmCatalogRunSummarize(run_id);
		}
		/* the standbys say at once when they have replayed this commit */
		wait_standbys = applied > 0 && fm_wait_for_standbys > 0;
		if (wait_standbys)
			FmStandbysRequestFeedback();
		SPI_commit();
		/* what is left to run is linted again, for the status view */
		if (applied > 0)
		{
			FmRunRefreshLint(NULL, NULL);
			if (wait_standbys)
				FmStandbysRequestFeedback();
			SPI_commit();
		}
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
		if (have_run_lock)
			FmLockRelease(FM_RUN_CLASSID, (uint32) run_id);
	}
	PG_END_TRY();

	/*
	 * With fleetmigrate.wait_for_standbys, the run ends when every standby
	 * has replayed its last commit, which is recorded; the runner lock is
	 * not held meanwhile.
	 */
	if (wait_standbys)
	{
		char	   *json;
		bool		replayed = FmStandbysWaitNow("the run", &json);

		FmCatalogRunStandbys(run_id, json);
		SPI_commit();
		if (!replayed)
			FmStandbysRaiseTimeout("the run");
	}
	SPI_finish();
	return migrate_result(fcinfo, record_id != 0 ? record_id : run_id,
						  applied, outcome);
}
