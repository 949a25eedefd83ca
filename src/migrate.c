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
 *		snapshot and no row lock while it works.  A failure rolls the
 *		subtransaction back, records the failure (history event with
 *		SQLSTATE, message, statement number and line; the migration's state
 *		'failed'; the run's outcome), commits that, and raises the error
 *		again.
 * A failed migration is pending: the next run tries it again, with the
 * body registered by then (register() accepts a new body until a migration
 * has been applied).
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
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "params.h"
#include "locks.h"
#include "plan.h"
#include "runlock.h"
#include "runner.h"


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

PG_FUNCTION_INFO_V1(fleetmigrate_migrate);

static void refuse_atomic(FunctionCallInfo fcinfo);
static void check_plan(int64 run_id, const char *target,
					   const FmMigration *last, MemoryContext cxt);
static int	migrate_all(int64 run_id, const char *target, const char *applied_by,
						MemoryContext procxt);
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

/* The plan check_whole_plan() checks. */
typedef struct PlanArgs
{
	const char *target;
	const FmMigration *last;
} PlanArgs;

static void
check_whole_plan(void *arg)
{
	PlanArgs   *args = (PlanArgs *) arg;
	List	   *plan = FmCatalogPending(args->target, false, args->last);

	FmCheckPlan(plan, args->last);
	FmCheckPlanParams(plan);
	FmCheckPlanDestructive(plan);
}

/*
 * check_plan
 *		FmCheckPlan() of the whole plan, before anything runs.  A refused
 *		plan ends the run 'failed' (committed) and the error is raised
 *		again.  Works in "cxt", which it resets.
 */
static void
check_plan(int64 run_id, const char *target, const FmMigration *last,
		   MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	PlanArgs	args = {target, last};
	ErrorData  *edata = FmInSubtransaction(check_whole_plan, &args, true, oldcxt);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(cxt);

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
	const char *applied_by;
	MemoryContext cxt;
	double		duration_ms;
	FmFailedAt	failed_at;
} MigrateArgs;

/* Run a migration here or, if it cannot run in a transaction, in a worker. */
static void
run_one(void *arg)
{
	MigrateArgs *args = (MigrateArgs *) arg;

	if (args->m->transactional)
		(void) FmRunMigration(args->m, args->applied_by, args->cxt,
							  &args->duration_ms, &args->failed_at);
	else
		(void) FmRunMigrationInWorker(args->m, args->applied_by, args->cxt,
									  &args->duration_ms, &args->failed_at);
}

/*
 * migrate_all
 *		Step 3 above.  Returns the number of migrations applied; on a failure
 *		records it, commits and re-raises it.
 */
static int
migrate_all(int64 run_id, const char *target, const char *applied_by,
			MemoryContext procxt)
{
	MemoryContext iter_cxt = AllocSetContextCreate(procxt,
												   "fleetmigrate migrate",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext migration_cxt = AllocSetContextCreate(procxt,
														"fleetmigrate migration",
														ALLOCSET_DEFAULT_SIZES);
	int			applied = 0;
	FmMigration last_applied;
	bool		have_last;

	/* only this run applies migrations while it holds the runner lock */
	MemoryContextSwitchTo(procxt);
	have_last = FmCatalogLastApplied(&last_applied);
	check_plan(run_id, target, have_last ? &last_applied : NULL, iter_cxt);

	for (;;)
	{
		List	   *pending;
		FmMigration *m;
		ErrorData  *edata;
		MigrateArgs args;
		TimestampTz started;
		double		duration_ms;
		int			attempt;

		MemoryContextReset(iter_cxt);
		MemoryContextSwitchTo(iter_cxt);
		pending = FmCatalogPending(target, true,
								   have_last ? &last_applied : NULL);
		if (pending == NIL)
			break;
		m = (FmMigration *) linitial(pending);
		/*
		 * A non-transactional migration runs in a background worker, whose
		 * concurrent index builds wait for every older snapshot: commit, so
		 * that we hold none (nor the pending rows' locks) while we wait.
		 */
		if (!m->transactional)
			SPI_commit();

		started = GetCurrentTimestamp();
		args.m = m;
		args.applied_by = applied_by;
		args.cxt = migration_cxt;
		args.duration_ms = 0;
		args.failed_at.statement = 0;
		args.failed_at.line = 0;
		/* a lock timeout rolls the migration back; it runs again */
		attempt = 0;
		do
		{
			edata = FmInSubtransaction(run_one, &args, true, procxt);
			MemoryContextReset(migration_cxt);
		} while (edata != NULL &&
				 FmRetryLockTimeout(m, args.failed_at.statement, ++attempt, edata));
		duration_ms = args.duration_ms;

		if (edata != NULL)
		{
			char	   *text;

			MemoryContextSwitchTo(procxt);
			FmExplainError(m, args.failed_at.statement, edata);
			text = FmErrorText(edata, false);
			duration_ms = (double) (GetCurrentTimestamp() - started) / 1000.0;
			FmCatalogRecordFailed(m, started, duration_ms, applied_by,
								  edata->sqlerrcode, text,
								  args.failed_at.statement, args.failed_at.line);
			FmCatalogRunFinish(run_id, "failed", applied, m,
							   edata->sqlerrcode, text);
			SPI_commit();
			ReThrowError(edata);
		}

		applied++;
		if (!m->out_of_order && !m->repeatable)
		{
			MemoryContextSwitchTo(procxt);
			if (have_last)
			{
				pfree(last_applied.version);
				pfree(last_applied.name);
				pfree(last_applied.sort_key);
			}
			last_applied.version = pstrdup(m->version);
			last_applied.name = pstrdup(m->name);
			last_applied.sort_key = DatumGetByteaPCopy(PointerGetDatum(m->sort_key));
			have_last = true;
			MemoryContextSwitchTo(iter_cxt);
		}
		FmCatalogRunProgress(run_id, applied);
		ereport(NOTICE,
				(errmsg("applied %s %s in %.0f ms",
						m->version, m->name, duration_ms)));
		SPI_commit();
	}
	MemoryContextSwitchTo(procxt);
	return applied;
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
 *		INOUT applied integer, INOUT outcome text)
 */
Datum
fleetmigrate_migrate(PG_FUNCTION_ARGS)
{
	static const char *const argnames[NUM_INPUT_ARGS] = {
		"target", "params", "allow_destructive", "wait", "started_by"
	};
	char	   *target;
	char	   *started_by;
	char	   *applied_by;
	bool		wait;
	MemoryContext procxt;
	volatile bool have_runner_lock = false;
	volatile bool have_run_lock = false;
	int64		run_id;
	volatile int applied = 0;
	const char *volatile outcome = NULL;

	refuse_atomic(fcinfo);
	if (FmApplyInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migrate() cannot be called from inside a migration")));
	for (int i = ARG_PARAMS; i < NUM_INPUT_ARGS; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" of migrate() cannot be null",
							argnames[i])));
	}
	FmParamsSetRun(PG_GETARG_JSONB_P(ARG_PARAMS), "migrate()");
	FmConsentSetRun(PG_GETARG_BOOL(ARG_ALLOW_DESTRUCTIVE), "migrate()");
	wait = PG_GETARG_BOOL(ARG_WAIT);
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
	applied_by = GetUserNameFromId(GetUserId(), false);

	run_id = FmCatalogRunStart(applied_by, started_by, target);

	PG_TRY();
	{
		(void) FmLockAcquire(FM_RUN_CLASSID, (uint32) run_id, true, true);
		have_run_lock = true;
		SPI_commit();

		if (!FmLockAcquire(FM_LOCK_CLASSID, FM_LOCK_OBJID, true, wait))
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
			have_runner_lock = true;
			/* a fresh snapshot: whatever a runner we waited for applied */
			SPI_commit();
			FmSetApplyInProgress(true);
			applied = migrate_all(run_id, target, applied_by, procxt);
			outcome = applied > 0 ? "succeeded" : "nothing_pending";
			FmCatalogRunFinish(run_id, outcome, applied, NULL, 0, NULL);
		}
		SPI_commit();
	}
	PG_FINALLY();
	{
		FmSetApplyInProgress(false);
		FmParamsReset();
		FmConsentReset();
		if (have_runner_lock)
			FmLockRelease(FM_LOCK_CLASSID, FM_LOCK_OBJID);
		if (have_run_lock)
			FmLockRelease(FM_RUN_CLASSID, (uint32) run_id);
	}
	PG_END_TRY();

	SPI_finish();
	return migrate_result(fcinfo, run_id, applied, outcome);
}
