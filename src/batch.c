/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  Running a batched migration under CALL migrate(): its one UPDATE or
 *	  DELETE, one range of keys per transaction.
 *
 * The declaration and its checks are batchspec.c's.  Here, called by
 * migrate() in a transaction of its own (migrate() committed before, so no
 * snapshot or row lock of the run is held):
 *	 1. check the table and key (FmBatchResolve()) and the statement (its
 *		condition must call no volatile function: each batch evaluates it
 *		again), prepare the statements, and read the progress row of
 *		fleetmigrate.batch_progress: where an earlier run stopped, or start
 *		at the lowest key (estimating the table's rows for the total);
 *	 2. then, batch after batch: find the next range (the next "size" keys
 *		after the last one done, in key order, through the unique index),
 *		run the statement on it, record the range as done in the progress
 *		row, commit.  Each batch runs in a subtransaction with
 *		fleetmigrate.lock_timeout and statement_timeout; a lock timeout
 *		rolls the batch back and tries it again, fleetmigrate.lock_retries
 *		times, with the same backoff as any migration (locks.c);
 *	 3. when no key is left: run the verify script, record the migration as
 *		applied and the progress row as finished, in one transaction that
 *		the caller commits.
 * The statement and the progress of a batch commit together, so after a
 * failure, a cancel, pg_terminate_backend() or a crash the next run starts
 * after the last committed batch, and no batch runs twice.  Rows inserted
 * meanwhile with a key above the last one done are in a later batch.
 *
 * Memory: the state lives in the caller's "cxt", which survives the
 * commits (a child of migrate()'s procedure context); the statements are
 * kept plans (SPI_keepplan), freed at the end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "batchspec.h"
#include "catalog.h"
#include "consent.h"
#include "locks.h"
#include "params.h"
#include "progress.h"
#include "runner.h"

/* One batched migration as it runs. */
typedef struct BatchRun
{
	const FmMigration *m;
	char	   *const *scripts;
	int64		run_id;
	MemoryContext cxt;			/* survives the commits */
	char	   *label;			/* 'up script of migration "042 x"' */
	FmBatchSpec *spec;
	FmBatchTarget target;
	SPIPlanPtr	bounds[2];		/* [1]: first batch (no lower end) */
	SPIPlanPtr	change[2];
	FmBatchState state;
	bool		left;			/* false: no key left, the work is done */
	FmExecErrorContext ectx;
} BatchRun;

static void batch_error_callback(void *arg);
static SPIPlanPtr keep_plan(const char *sql, int nargs);
static bool volatile_but_param(Oid func_id, void *context);
static bool volatile_walker(Node *node, void *context);
static void batch_begin(void *arg);
static void run_batch(BatchRun *run);
static void batch_step(void *arg);

/* The context line of an error in a batch: which batch, after which key. */
static void
batch_error_callback(void *arg)
{
	BatchRun   *run = (BatchRun *) arg;

	if (run->state.last_key != NULL)
		errcontext("batch %d of migration \"%s %s\", keys after %s",
				   run->state.batches + 1, run->m->version, run->m->name,
				   run->state.last_key);
	else
		errcontext("batch 1 of migration \"%s %s\"", run->m->version,
				   run->m->name);
}

/* Prepare "sql" with "nargs" text parameters and keep the plan. */
static SPIPlanPtr
keep_plan(const char *sql, int nargs)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/* check_functions_in_node(): a volatile function other than param() */
static bool
volatile_but_param(Oid func_id, void *context)
{
	return func_id != *(Oid *) context &&
		func_volatile(func_id) == PROVOLATILE_VOLATILE;
}

/*
 * volatile_walker
 *		contain_volatile_functions() but for fleetmigrate.param() (OID in
 *		*context), which is VOLATILE only because it reads the running
 *		migration's values: the same in every batch of the run.
 */
static bool
volatile_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, volatile_but_param, context))
		return true;
	if (IsA(node, NextValueExpr))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, volatile_walker, context, 0);
	return expression_tree_walker(node, volatile_walker, context);
}

/*
 * batch_begin
 *		Step 1 above, in a subtransaction of its own (FmInSubtransaction()).
 */
static void
batch_begin(void *arg)
{
	BatchRun   *run = (BatchRun *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(run->cxt);
	char	   *checksum = FmScriptChecksum(run->scripts[FM_SCRIPT_UP]);
	List	   *sources;
	bool		restart;

	if (!FmCatalogBatchesKept())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is batched, and the fleetmigrate catalog is older than 1.10",
						FmMigrationLabel(run->m->version, run->m->name)),
				 errhint("Run ALTER EXTENSION fleetmigrate UPDATE, which adds the table that records how far a batched migration got.")));

	run->spec = FmBatchSpecParse(run->scripts[FM_SCRIPT_UP], run->label);
	(void) FmBatchResolve(run->spec, false, &run->target);
	if (run->target.problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot run %s in batches: %s",
						FmMigrationLabel(run->m->version, run->m->name),
						run->target.problem),
				 run->target.problem_detail ?
				 errdetail_internal("%s", run->target.problem_detail) : 0,
				 run->target.problem_hint ?
				 errhint("%s", run->target.problem_hint) : 0));

	run->bounds[0] = keep_plan(FmBatchBoundsQuery(run->spec, &run->target, false), 1);
	run->bounds[1] = keep_plan(FmBatchBoundsQuery(run->spec, &run->target, true), 1);
	run->change[0] = keep_plan(FmBatchStatement(run->spec, &run->target, false), 2);
	run->change[1] = keep_plan(FmBatchStatement(run->spec, &run->target, true), 2);

	/* a condition each batch evaluates again must give the same answer */
	sources = SPI_plan_get_plan_sources(run->change[0]);
	if (sources != NIL)
	{
		CachedPlanSource *ps = (CachedPlanSource *) linitial(sources);

		if (ps->query_list != NIL)
		{
			Query	   *q = linitial_node(Query, ps->query_list);

			Oid			argtypes[1] = {TEXTOID};
			List	   *names = list_make1(makeString("fleetmigrate"));
			Oid			param;

			names = lappend(names, makeString("param"));
			param = LookupFuncName(names, 1, argtypes, true);

			if (q->jointree != NULL &&
				volatile_walker(q->jointree->quals, &param))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the condition of batched %s calls a volatile function",
								FmMigrationLabel(run->m->version, run->m->name)),
						 errdetail("Each batch evaluates the condition again, in a transaction of its own, so a volatile function (random(), clock_timestamp(), nextval(), ...) would choose the rows differently in each batch."),
						 errhint("Compute the value once in an earlier migration, or compare with a constant.")));
		}
	}

	/*
	 * Consent, as for any migration, to what the statement would remove
	 * now (the plan was checked before earlier migrations of the run ran);
	 * what it removed is recorded when the last batch is done.
	 */
	{
		MemoryContext outer = MemoryContextSwitchTo(run->cxt);

		FmConsentWatchBegin(run->m, run->scripts[FM_SCRIPT_UP]);
		MemoryContextSwitchTo(outer);
	}
	FmConsentBeforeStatement(run->spec->stmt);

	restart = !FmCatalogBatchRead(run->m, &run->state) || run->state.finished;
	if (!restart &&
		(strcmp(run->state.relation, run->target.relation) != 0 ||
		 strcmp(run->state.key_column, run->target.key) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot resume batched %s: its earlier batches walked key \"%s\" of table %s",
						FmMigrationLabel(run->m->version, run->m->name),
						run->state.key_column, run->state.relation),
				 errdetail("%d batches covering %lld rows were committed, up to key %s; its up script now walks key \"%s\" of table %s.",
						   run->state.batches, (long long) run->state.rows_done,
						   run->state.last_key ? run->state.last_key : "(none)",
						   run->target.key, run->target.relation),
				 errhint("Register it again with the earlier table and key, or, as the extension's owner, delete its row from fleetmigrate.batch_progress to start over at the lowest key.")));
	if (restart)
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(run->target.relid));
		float4		reltuples = -1;

		if (HeapTupleIsValid(tuple))
		{
			reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
			ReleaseSysCache(tuple);
		}
		memset(&run->state, 0, sizeof(FmBatchState));
		if (reltuples >= 0)
			run->state.rows_total = (int64) reltuples;
		else
		{
			/* never vacuumed nor analyzed: count */
			bool		isnull;

			if (SPI_execute(psprintf("SELECT pg_catalog.count(*) FROM %s%s",
									 run->spec->relation->inh ? "" : "ONLY ",
									 run->target.relation),
							true, 0) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "could not count the rows of %s", run->target.relation);
			MemoryContextSwitchTo(run->cxt);
			run->state.rows_total =
				DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
		}
		run->state.relation = run->target.relation;
		run->state.key_column = run->target.key;
	}
	else if (strcmp(run->state.checksum, checksum) != 0)
		ereport(NOTICE,
				(errmsg("batched %s was registered again after %d of its batches ran; it goes on after key %s with the up script registered now",
						FmMigrationLabel(run->m->version, run->m->name),
						run->state.batches,
						run->state.last_key ? run->state.last_key : "(none)"),
				 errdetail("The %lld rows of the table up to that key went through the earlier up script.",
						   (long long) run->state.rows_done)));
	run->state.run_id = run->run_id;
	run->state.checksum = checksum;
	run->state.batch_size = run->spec->size;
	FmCatalogBatchWrite(run->m, &run->state, restart);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * run_batch
 *		The next range of keys, the statement on it and its progress
 *		(FmCatalogBatchWrite()); run->left false when no key is left.
 */
static void
run_batch(BatchRun *run)
{
	bool		first = run->state.last_key == NULL;
	Datum		values[2];
	char	   *highest;
	int64		keys;
	int64		last_row;
	uint64		changed;
	bool		isnull;
	int			outnest;
	int			rc;

	values[0] = CStringGetTextDatum(first ? "" : run->state.last_key);
	values[1] = (Datum) 0;
	/*
	 * The highest key as text that reads back as the same value in any
	 * session (a later run may have other settings): ISO dates, exact
	 * floats.  Only for this query, not for the user's statement.
	 */
	outnest = NewGUCNestLevel();
	(void) set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "1", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	FmStatementTimerStart();
	rc = SPI_execute_plan(run->bounds[first ? 1 : 0], values, NULL, false, 1);
	FmStatementTimerStop();
	AtEOXact_GUC(true, outnest);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not find the next batch: %s",
			 SPI_result_code_string(rc));
	run->left = SPI_processed == 1;
	if (!run->left)
		return;

	MemoryContextSwitchTo(run->cxt);
	highest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	keys = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 2, &isnull));
	last_row = run->state.rows_done + keys;
	/* pg_stat_activity and fleetmigrate.progress: the rows done before it */
	FmProgressStatement(run->spec->stmt->number, 1, run->spec->stmt->line, 0,
						run->spec->text);
	FmProgressBatch(run->state.rows_done, Max(run->state.rows_total, last_row));
	values[1] = CStringGetTextDatum(highest);
	run->ectx.statement = run->spec->stmt;
	FmStatementTimerStart();
	rc = SPI_execute_plan(run->change[first ? 1 : 0], values, NULL, false, 0);
	FmStatementTimerStop();
	changed = SPI_processed;
	if (rc != (run->spec->is_delete ? SPI_OK_DELETE : SPI_OK_UPDATE))
		elog(ERROR, "could not run a batch: %s", SPI_result_code_string(rc));
	FmCatalogCheckIntact(run->m->version, run->m->name);
	run->ectx.statement = NULL;

	MemoryContextSwitchTo(run->cxt);
	run->state.last_key = highest;
	run->state.batches++;
	run->state.rows_done += keys;
	run->state.rows_changed += changed;
	run->state.rows_total = Max(run->state.rows_total, run->state.rows_done);
	FmCatalogBatchWrite(run->m, &run->state, false);
}

/*
 * batch_step
 *		One batch of step 2 above, in a subtransaction
 *		(FmInSubtransaction()), with the lock and statement timeouts and the
 *		migration's parameters set for it.
 */
static void
batch_step(void *arg)
{
	BatchRun   *run = (BatchRun *) arg;
	ErrorContextCallback errcb;
	int			nestlevel;

	errcb.callback = batch_error_callback;
	errcb.arg = run;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/*
	 * The migration is still what the run checked: each batch locks its
	 * catalog row, so register() waits for the batch, and the next batch
	 * stops the run rather than go on with a text it did not check.
	 */
	{
		char	   *scripts[3];

		if (!FmCatalogPlannedScripts(run->m, true, scripts))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s was registered again while its batches ran",
							FmMigrationLabel(run->m->version, run->m->name)),
					 errdetail("The %d batch%s done so far stay committed; this run does not go on with a text it did not check.",
							   run->state.batches, run->state.batches == 1 ? "" : "es"),
					 errhint("Run CALL fleetmigrate.migrate() again: it checks the new text and goes on after the last batch done.")));
	}

	/* SET LOCAL for the batch: lock and statement timeouts, parameters */
	nestlevel = NewGUCNestLevel();
	FmSetLockSettings();
	FmParamsBegin(run->m);
	PG_TRY();
	{
		run_batch(run);
	}
	PG_FINALLY();
	{
		FmStatementTimerStop();
		FmParamsEnd();
	}
	PG_END_TRY();
	AtEOXact_GUC(false, nestlevel);
	error_context_stack = errcb.previous;
}

/* Step 3 above: verify, record the migration applied and the work done. */
typedef struct FinishArgs
{
	BatchRun   *run;
	const char *applied_by;
	TimestampTz started;
	instr_time	start;
	double	   *duration_ms;
} FinishArgs;

static void
batch_finish(void *arg)
{
	FinishArgs *args = (FinishArgs *) arg;
	BatchRun   *run = args->run;
	instr_time	elapsed;
	char	   *consent = FmConsent(run->m, run->scripts[FM_SCRIPT_UP]);
	List	   *destroyed;

	(void) FmVerifyMigration(run->m, run->scripts[FM_SCRIPT_VERIFY], run->cxt);
	run->state.finished = true;
	run->state.rows_total = run->state.rows_done;
	FmCatalogBatchWrite(run->m, &run->state, false);

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, args->start);
	*args->duration_ms = INSTR_TIME_GET_MILLISEC(elapsed);
	FmCatalogRecordApplied(run->m, args->started, *args->duration_ms,
						   args->applied_by, consent, FmParamsJson(run->m),
						   run->scripts[FM_SCRIPT_UP], NULL);
	/* what its batches removed, in all the runs that did them */
	FmConsentAfterStatement(run->spec->stmt,
							run->spec->is_delete ? SPI_OK_DELETE : SPI_OK_UPDATE,
							(uint64) run->state.rows_changed);
	destroyed = FmConsentWatchEnd();
	if (destroyed != NIL)
		FmCatalogRecordDestroyed(run->m, FmDataLossJson(destroyed, NULL));
}

/*
 * FmRunBatchedMigration
 *		Run batched migration "m" (scripts as planned), for run "run_id" of
 *		migrate(), by applied_by, committing after each batch.  Call with
 *		a non-atomic SPI connection, in a transaction that holds no
 *		snapshot of the run.  On success returns NULL, with the migration
 *		recorded as applied in the current transaction, which the caller
 *		commits, and sets *duration_ms.  On failure returns the error
 *		(copied into "errcxt"), with the batches before it committed and
 *		*failed_at set; the caller records the failure.  "cxt" must survive
 *		commits.
 */
ErrorData *
FmRunBatchedMigration(const FmMigration *m, char *const scripts[3],
					  int64 run_id, const char *applied_by, MemoryContext cxt,
					  MemoryContext errcxt, double *duration_ms,
					  FmFailedAt *failed_at)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	BatchRun   *run = palloc0(sizeof(BatchRun));
	FinishArgs	finish;
	ErrorData  *edata;
	ErrorContextCallback errcb;

	run->m = m;
	run->scripts = scripts;
	run->run_id = run_id;
	run->cxt = cxt;
	run->label = psprintf("up script of %s", FmMigrationLabel(m->version, m->name));
	run->ectx.migration = m;
	run->ectx.script = scripts[FM_SCRIPT_UP];
	run->ectx.what = NULL;
	run->ectx.statement = NULL;
	run->ectx.tolerated = NIL;
	finish.run = run;
	finish.applied_by = applied_by;
	finish.started = GetCurrentTimestamp();
	INSTR_TIME_SET_CURRENT(finish.start);
	finish.duration_ms = duration_ms;
	*duration_ms = 0;
	failed_at->statement = 0;
	failed_at->line = 0;

	/* "migration ..., statement 1, line N" on every error */
	errcb.callback = FmExecErrorCallback;
	errcb.arg = &run->ectx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	FmProgressMigrationBegin(m->version, m->name);
	edata = FmInSubtransaction(batch_begin, run, true, errcxt);
	if (edata == NULL)
	{
		SPI_commit();
		run->left = true;
		while (run->left)
		{
			int			attempt = 0;

			for (;;)
			{
				edata = FmInSubtransaction(batch_step, run, true, errcxt);
				if (edata == NULL ||
					!FmRetryLockTimeout(m, scripts[FM_SCRIPT_UP], 1, ++attempt,
										edata))
					break;
				FreeErrorData(edata);
				edata = NULL;
			}
			if (edata != NULL)
				break;
			if (run->left)
				SPI_commit();
		}
	}
	if (edata == NULL)
		edata = FmInSubtransaction(batch_finish, &finish, true, errcxt);
	error_context_stack = errcb.previous;

	if (edata != NULL && run->spec != NULL)
	{
		failed_at->statement = run->spec->stmt->number;
		failed_at->line = run->spec->stmt->line;
	}
	for (int i = 0; i < 2; i++)
	{
		if (run->bounds[i] != NULL)
			SPI_freeplan(run->bounds[i]);
		if (run->change[i] != NULL)
			SPI_freeplan(run->change[i]);
	}
	if (edata == NULL)
		ereport(NOTICE,
				(errmsg("%s ran in %d batch%s of up to %d rows: %lld rows of %s, %lld changed",
						FmMigrationLabel(m->version, m->name), run->state.batches,
						run->state.batches == 1 ? "" : "es", run->spec->size,
						(long long) run->state.rows_done, run->target.relation,
						(long long) run->state.rows_changed)));
	MemoryContextSwitchTo(oldcxt);
	return edata;
}
