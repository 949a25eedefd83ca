/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Applying pending migrations and recording them: apply_pending().
 *
 * apply_pending() runs inside the caller's transaction.  It
 *	 1. takes the runner lock, a transaction-level lock on
 *		(FM_LOCK_CLASSID, FM_LOCK_OBJID) (runlock.h), waiting for a concurrent runner
 *		unless wait => false; the lock goes away with the transaction, so a
 *		killed session never leaves it behind;
 *	 2. reads the pending migrations in natural order, locking their rows;
 *		in READ COMMITTED this read takes a fresh snapshot after the lock
 *		wait, so a second runner finds what the first one applied.  In
 *		REPEATABLE READ or SERIALIZABLE the snapshot predates any wait, so
 *		we do not wait: a busy lock is a serialization failure, and a run
 *		that committed after our snapshot makes the row locks raise one;
 *		either way nothing is applied twice;
 *	 3. refuses, before running anything, a plan that contains a migration
 *		that cannot run inside a transaction;
 *	 4. runs each migration's statements one at a time through SPI, split
 *		with the server's parser, under an error context callback naming the
 *		migration, statement number and line; then records it.  Settings a
 *		migration changes (SET search_path, SET ROLE, ...) are undone when
 *		it ends, as for a function with a SET clause, so each migration
 *		starts from the caller's settings and the caller gets them back.
 * Any error propagates and aborts the caller's transaction (or its
 * savepoint), so nothing of the call remains.  There is no subtransaction
 * in the normal path.  A dry run executes the same work inside one internal
 * subtransaction, rolls it back, and turns an error into a result row.
 *
 * Memory: the list of pending migrations lives in the SPI procedure
 * context; each migration's script, parse trees, statement texts and result
 * row datums in a per-migration context that is reset after it, so memory
 * does not grow with the number of migrations.  Result rows go to the tuplestore that
 * InitMaterializedSRF() set up in the per-query context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/guc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/lock.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "params.h"
#include "parse.h"
#include "lint.h"
#include "locks.h"
#include "plan.h"
#include "runlock.h"
#include "runner.h"

/* Columns of apply_pending()'s result. */
#define APPLY_COLUMNS		6

/* Options of one apply_pending() call. */
typedef struct ApplyOptions
{
	char	   *target;			/* apply up to this version; NULL: all */
	bool		dry_run;		/* execute, report, roll back */
	bool		wait;			/* wait for a concurrent runner */
} ApplyOptions;

/* State of one run, shared by the helpers below. */
typedef struct ApplyRun
{
	char	   *applied_by;		/* current_user at the start of the call */
	MemoryContext migration_cxt;	/* reset after every migration */
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
} ApplyRun;

/* True while this backend runs migrations (to refuse a nested call). */
static bool apply_in_progress = false;

bool
FmApplyInProgress(void)
{
	return apply_in_progress;
}

void
FmSetApplyInProgress(bool value)
{
	apply_in_progress = value;
}

PG_FUNCTION_INFO_V1(fleetmigrate_apply_pending);

static void acquire_runner_lock(ApplyRun *run, bool wait, bool *skipped);
static void refuse_non_transactional(List *pending, const FmMigration *m);
static char *drop_statement_context(char *context, const char *statement);
static void apply_all(ApplyRun *run, List *pending);
static void apply_dry_run(ApplyRun *run, List *pending);
static void put_row(ApplyRun *run, const char *version, const char *name,
					const char *status, double duration_ms, int statements,
					const char *message);

/*
 * FmAcquireRunnerLock
 *		Take the runner lock for the rest of the transaction.  Returns false
 *		if another session holds it and "wait" is false.  In a transaction
 *		with a transaction snapshot we never wait (what the other run
 *		applies would stay invisible): a busy lock is a serialization
 *		failure.
 */
bool
FmAcquireRunnerLock(bool wait)
{
	bool		xact_snapshot = IsolationUsesXactSnapshot();
	int			holder;

	if (FmLockAcquire(FM_LOCK_CLASSID, FM_LOCK_OBJID, false,
					  wait && !xact_snapshot))
		return true;
	if (!wait)
		return false;

	holder = FmCatalogLockHolder();
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not wait for another fleetmigrate run in a %s transaction",
					IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
			 holder != 0 ?
			 errdetail("Process %d is applying migrations. This transaction's snapshot was taken before that run can commit, so it could never see what that run applies.", holder) :
			 errdetail("Another session is applying migrations. This transaction's snapshot was taken before that run can commit, so it could never see what that run applies."),
			 errhint("Call fleetmigrate in a READ COMMITTED transaction to wait for the other run, or retry this transaction when it has finished.")));
	pg_unreachable();
}

/*
 * acquire_runner_lock
 *		FmAcquireRunnerLock(); if the lock is busy and "wait" is false, put
 *		a 'skipped' row and set *skipped.
 */
static void
acquire_runner_lock(ApplyRun *run, bool wait, bool *skipped)
{
	int			holder;

	*skipped = false;
	if (FmAcquireRunnerLock(wait))
		return;
	holder = FmCatalogLockHolder();
	put_row(run, NULL, NULL, "skipped", -1, -1,
			holder != 0 ?
			psprintf("another fleetmigrate run is in progress (process %d); nothing was applied", holder) :
			"another fleetmigrate run is in progress; nothing was applied");
	*skipped = true;
}

/*
 * refuse_non_transactional
 *		ERROR for migration "m", which holds a statement that cannot run in a
 *		transaction block; name the statement and suggest a target that
 *		applies everything that sorts before it.
 */
static void
refuse_non_transactional(List *pending, const FmMigration *m)
{
	char	   *script = FmCatalogScript(m, FM_SCRIPT_UP);
	List	   *stmts = FmSplitScript(script, "up script");
	const FmMigration *previous = NULL;
	const FmStatement *culprit = NULL;
	ListCell   *lc;

	foreach(lc, stmts)
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);

		if (FmStatementNeedsTopLevel(stmt->parsetree))
		{
			culprit = stmt;
			break;
		}
	}
	if (culprit == NULL)
		elog(ERROR, "migration marked non-transactional has no such statement");

	/* the last pending migration whose version sorts strictly before */
	foreach(lc, pending)
	{
		const FmMigration *other = (const FmMigration *) lfirst(lc);

		if (FmCompareVersionKeys(other->sort_key, m->sort_key) >= 0)
			break;
		previous = other;
	}

	ereport(ERROR,
			(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			 errmsg("%s cannot run inside a transaction",
					FmMigrationLabel(m->version, m->name)),
			 errdetail("Statement %d (line %d), %s, is one that PostgreSQL refuses to run inside a transaction block or a function. Nothing was applied.",
					   culprit->number, culprit->line,
					   FmStatementPreview(script, culprit)),
			 previous != NULL ?
			 errhint("Run CALL fleetmigrate.migrate(), which runs such statements one at a time outside a transaction. apply_pending() runs every migration inside the calling transaction; it can apply the migrations before this one with fleetmigrate.apply_pending(target => %s).",
					 quote_literal_cstr(previous->version)) :
			 errhint("Run CALL fleetmigrate.migrate(), which runs such statements one at a time outside a transaction. apply_pending() runs every migration inside the calling transaction.")));
}

/*
 * Error context while a migration runs: which migration, which script
 * (the up script goes without saying), which statement, on which line of
 * the script, and the start of the statement.
 */
void
FmExecErrorCallback(void *arg)
{
	FmExecErrorContext *ctx = (FmExecErrorContext *) arg;
	const FmMigration *m = ctx->migration;
	const char *what = ctx->what ? psprintf("%s script of ", ctx->what) : "";

	if (ctx->statement == NULL)
		errcontext("%smigration \"%s %s\"", what, m->version, m->name);
	else
		errcontext("%smigration \"%s %s\", statement %d, line %d: %s",
				   what, m->version, m->name, ctx->statement->number,
				   ctx->statement->line,
				   FmStatementPreview(ctx->script, ctx->statement));
}

/*
 * drop_statement_context
 *		Remove the 'SQL statement "<whole statement>"' line that SPI adds to
 *		an error's context: our own context line already names the statement
 *		(shortened) and its line.  Returns "context" otherwise unchanged.
 */
static char *
drop_statement_context(char *context, const char *statement)
{
	char	   *line = psprintf("SQL statement \"%s\"", statement);
	char	   *found = strstr(context, line);
	size_t		len = strlen(line);

	if (found == NULL)
		return context;
	if (found[len] == '\n')
		len++;
	else if (found[len] != '\0')
		return context;
	memmove(found, found + len, strlen(found + len) + 1);
	return context;
}

/*
 * check_verify_rows
 *		A statement of a verify script passes unless it returned a row whose
 *		first column is a boolean false or NULL.
 */
static void
check_verify_rows(const FmExecErrorContext *ctx)
{
	TupleDesc	desc = SPI_tuptable ? SPI_tuptable->tupdesc : NULL;

	if (desc == NULL || desc->natts < 1 ||
		TupleDescAttr(desc, 0)->atttypid != BOOLOID)
		return;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[i], desc, 1, &isnull);

		if (isnull || !DatumGetBool(value))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("verification of %s failed",
							FmMigrationLabel(ctx->migration->version,
											 ctx->migration->name)),
					 errdetail("Statement %d of its verify script (line %d) returned %s: %s",
							   ctx->statement->number, ctx->statement->line,
							   isnull ? "NULL" : "false",
							   FmStatementPreview(ctx->script, ctx->statement)),
					 errhint("A verify script fails when a statement raises an error or returns false or NULL in its first column.")));
	}
}

/*
 * FmInSubtransaction
 *		Call fn(arg) in an internal subtransaction.  When it returns, the
 *		subtransaction is committed ("keep") or rolled back, and the result
 *		is NULL.  When it fails, the subtransaction is rolled back and the
 *		error is returned, copied into "errcxt", with the error state
 *		cleared: the caller raises it again (ReThrowError()) or reports it.
 *		Either way the caller's memory context and resource owner are
 *		current again afterwards.
 */
ErrorData *
FmInSubtransaction(void (*fn) (void *arg), void *arg, bool keep,
				   MemoryContext errcxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(errcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return edata;
}

/* One statement for execute_tolerating(). */
typedef struct ExecuteArgs
{
	const char *text;
	const SPIExecuteOptions *options;
	int			rc;
} ExecuteArgs;

static void
execute_one(void *arg)
{
	ExecuteArgs *args = (ExecuteArgs *) arg;

	args->rc = SPI_execute_extended(args->text, args->options);
}

/*
 * execute_tolerating
 *		Run one statement of migration ctx->migration, which tolerates some
 *		errors, in a subtransaction of its own.  If it fails with one of the
 *		tolerated SQLSTATEs, roll the subtransaction back, say so with a
 *		NOTICE and return true; other errors propagate.  Otherwise returns
 *		false with SPI_execute_extended()'s result in *rc.
 */
static bool
execute_tolerating(const char *text, const SPIExecuteOptions *options,
				   const FmExecErrorContext *ctx, MemoryContext cxt, int *rc)
{
	ExecuteArgs args = {text, options, 0};
	ErrorData  *edata = FmInSubtransaction(execute_one, &args, true, cxt);
	const char *code;
	ListCell   *lc;

	*rc = args.rc;
	if (edata == NULL)
		return false;

	code = unpack_sql_state(edata->sqlerrcode);
	foreach(lc, ctx->migration->tolerate)
	{
		if (strcmp(lfirst(lc), code) == 0)
		{
			ereport(NOTICE,
					(errmsg("skipped statement %d (line %d) of %s: %s",
							ctx->statement->number, ctx->statement->line,
							FmMigrationLabel(ctx->migration->version,
											 ctx->migration->name),
							edata->message),
					 errdetail("The migration tolerates SQLSTATE %s; the statement's effects were rolled back and the migration goes on.",
							   code)));
			FreeErrorData(edata);
			return true;
		}
	}
	ReThrowError(edata);
}

/*
 * FmRunScript
 *		Execute the statements of ctx->script (of migration ctx->migration;
 *		ctx->what names the script, NULL for the up script) through SPI,
 *		under an error context naming the statement and its line.  With
 *		"verify", each statement's rows are checked (check_verify_rows());
 *		otherwise rows are discarded as they come.  Returns the number of
 *		statements.  On error sets *failed_at to the failing statement
 *		(0 and 0 when none was running) and re-throws without SPI's copy
 *		of the whole statement.  Allocates in "cxt"; returns in it.
 */
int
FmRunScript(FmExecErrorContext *ctx, MemoryContext cxt, bool verify,
			FmFailedAt *failed_at)
{
	ErrorContextCallback errcallback;
	SPIExecuteOptions options;
	List	   *stmts;
	char	   *volatile text = NULL;
	bool		tolerating;

	MemoryContextSwitchTo(cxt);
	failed_at->statement = 0;
	failed_at->line = 0;
	ctx->statement = NULL;
	errcallback.callback = FmExecErrorCallback;
	errcallback.arg = ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	stmts = FmSplitScript(ctx->script,
						  psprintf("%s script of %s",
								   ctx->what ? ctx->what : "up",
								   FmMigrationLabel(ctx->migration->version,
													ctx->migration->name)));

	/* an up script that tolerates errors runs each statement in a subtransaction */
	tolerating = ctx->what == NULL && ctx->migration->tolerate != NIL;

	/* Rows a statement returns are discarded, not collected in memory. */
	memset(&options, 0, sizeof(options));
	if (!verify)
		options.dest = None_Receiver;

	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, stmts)
		{
			FmStatement *stmt = (FmStatement *) lfirst(lc);
			int			rc;

			ctx->statement = stmt;
			text = FmStatementText(ctx->script, stmt);
			FmStatementTimerStart();
			if (tolerating && execute_tolerating(text, &options, ctx, cxt, &rc))
			{
				FmStatementTimerStop();
				continue;
			}
			if (!tolerating)
				rc = SPI_execute_extended(text, &options);
			FmStatementTimerStop();
			MemoryContextSwitchTo(cxt);
			if (rc < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("could not run %s in a migration: %s",
								CreateCommandName(stmt->parsetree),
								SPI_result_code_string(rc))));
			if (verify)
			{
				check_verify_rows(ctx);
				SPI_freetuptable(SPI_tuptable);
			}
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* keep the error, minus SPI's copy of the whole statement */
		MemoryContextSwitchTo(cxt);
		FmStatementTimerStop();
		if (ctx->statement != NULL)
		{
			failed_at->statement = ctx->statement->number;
			failed_at->line = ctx->statement->line;
		}
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->context != NULL && text != NULL)
			edata->context = drop_statement_context(edata->context, text);
		ReThrowError(edata);
	}
	PG_END_TRY();
	ctx->statement = NULL;
	error_context_stack = errcallback.previous;
	return list_length(stmts);
}

/* A verify script for run_verify(). */
typedef struct VerifyArgs
{
	FmExecErrorContext ctx;
	MemoryContext cxt;
} VerifyArgs;

static void
run_verify(void *arg)
{
	VerifyArgs *args = (VerifyArgs *) arg;
	FmFailedAt	failed_at;

	(void) FmRunScript(&args->ctx, args->cxt, true, &failed_at);
}

/*
 * FmVerifyMigration
 *		Run "script", the verify script of migration "m" (NULL: none), in a
 *		subtransaction that is rolled back whatever happens: what a verify
 *		script writes never stays.  ERRORs if verification fails.
 *		Returns false if there is no verify script.
 */
bool
FmVerifyMigration(const FmMigration *m, const char *script, MemoryContext cxt)
{
	VerifyArgs	args;
	ErrorData  *edata;

	if (script == NULL)
		return false;
	args.ctx.migration = m;
	args.ctx.script = MemoryContextStrdup(cxt, script);
	args.ctx.what = "verify";
	args.ctx.statement = NULL;
	args.cxt = cxt;
	edata = FmInSubtransaction(run_verify, &args, false, CurrentMemoryContext);
	if (edata != NULL)
		ReThrowError(edata);
	return true;
}

/*
 * FmRunMigration
 *		Execute one migration's up script, then its verify script (rolled
 *		back), and record it as applied, in the current (sub)transaction, by
 *		"applied_by".  Returns the number of statements; sets *duration_ms.
 *		ERRORs with context on any failure, after setting *failed_at to the
 *		failing statement's number and line (0 and 0 when no statement of
 *		the up script was running).  Allocates in "cxt", which the caller
 *		resets; returns in the caller's memory context.
 */
int
FmRunMigration(const FmMigration *m, const char *applied_by, MemoryContext cxt,
			   double *duration_ms, FmFailedAt *failed_at)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	FmExecErrorContext ctx;
	TimestampTz started = GetCurrentTimestamp();
	instr_time	start;
	instr_time	elapsed;
	char	   *scripts[3];
	char	   *consent;
	int			nestlevel;
	int			nstatements;

	INSTR_TIME_SET_CURRENT(start);
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("fleetmigrate: applying migration %s %s",
									m->version, m->name));

	FmCatalogScripts(m, scripts);
	ctx.migration = m;
	ctx.script = scripts[FM_SCRIPT_UP];
	ctx.what = NULL;
	ctx.statement = NULL;
	consent = FmConsent(m, scripts[FM_SCRIPT_UP]);

	/* SET in a migration lasts until the migration ends. */
	nestlevel = NewGUCNestLevel();
	FmSetLockSettings();
	FmParamsBegin(m);
	nstatements = FmRunScript(&ctx, cxt, false, failed_at);
	FmParamsEnd();
	AtEOXact_GUC(false, nestlevel);

	(void) FmVerifyMigration(m, scripts[FM_SCRIPT_VERIFY], cxt);

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	*duration_ms = INSTR_TIME_GET_MILLISEC(elapsed);

	FmCatalogRecordApplied(m, started, *duration_ms, applied_by, consent);

	MemoryContextSwitchTo(oldcxt);
	return nstatements;
}

/*
 * put_row
 *		Add a result row; the datums are built in the migration context.
 */
static void
put_row(ApplyRun *run, const char *version, const char *name,
		const char *status, double duration_ms, int statements,
		const char *message)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(run->migration_cxt);
	Datum		values[APPLY_COLUMNS];
	bool		nulls[APPLY_COLUMNS];

	memset(nulls, false, sizeof(nulls));
	values[0] = version ? CStringGetTextDatum(version) : (Datum) 0;
	nulls[0] = version == NULL;
	values[1] = name ? CStringGetTextDatum(name) : (Datum) 0;
	nulls[1] = name == NULL;
	values[2] = CStringGetTextDatum(status);
	values[3] = Float8GetDatum(duration_ms);
	nulls[3] = duration_ms < 0;
	values[4] = Int32GetDatum(statements);
	nulls[4] = statements < 0;
	values[5] = message ? CStringGetTextDatum(message) : (Datum) 0;
	nulls[5] = message == NULL;
	tuplestore_putvalues(run->tupstore, run->tupdesc, values, nulls);
	MemoryContextSwitchTo(oldcxt);
}

/* One migration for run_migration(). */
typedef struct MigrationArgs
{
	FmMigration *m;
	ApplyRun   *run;
	int			nstatements;
	double		duration_ms;
	FmFailedAt	failed_at;
} MigrationArgs;

static void
run_migration(void *arg)
{
	MigrationArgs *args = (MigrationArgs *) arg;

	args->nstatements = FmRunMigration(args->m, args->run->applied_by,
									   args->run->migration_cxt,
									   &args->duration_ms, &args->failed_at);
}

/*
 * apply_all
 *		The normal path: run every pending migration, each in a
 *		subtransaction so that, when one fails, its error can be explained
 *		with the catalog (FmExplainError()) before it propagates.
 */
static void
apply_all(ApplyRun *run, List *pending)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		MigrationArgs args = {(FmMigration *) lfirst(lc), run, 0, 0, {0, 0}};
		ErrorData  *edata;
		int			attempt = 0;

		/* a lock timeout rolls the migration back; it runs again */
		do
		{
			edata = FmInSubtransaction(run_migration, &args, true,
									   CurrentMemoryContext);
			MemoryContextReset(run->migration_cxt);
		} while (edata != NULL &&
				 FmRetryLockTimeout(args.m, args.failed_at.statement,
									++attempt, edata));
		if (edata != NULL)
		{
			FmExplainError(args.m, args.failed_at.statement, edata);
			ReThrowError(edata);
		}
		ereport(NOTICE,
				(errmsg("applied %s %s in %.0f ms",
						args.m->version, args.m->name, args.duration_ms)));
		put_row(run, args.m->version, args.m->name, "applied",
				args.duration_ms, args.nstatements, NULL);
		MemoryContextReset(run->migration_cxt);
	}
}

/*
 * FmErrorText
 *		One text with everything an ErrorData says: for a result row with
 *		"ERROR <sqlstate>: " in front, for the history (which has the
 *		SQLSTATE in a column of its own) without.
 */
char *
FmErrorText(ErrorData *edata, bool with_sqlstate)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (with_sqlstate)
		appendStringInfo(&buf, "ERROR %s: ", unpack_sql_state(edata->sqlerrcode));
	appendStringInfoString(&buf, edata->message ? edata->message : "unknown error");
	if (edata->detail)
		appendStringInfo(&buf, "\nDETAIL: %s", edata->detail);
	if (edata->hint)
		appendStringInfo(&buf, "\nHINT: %s", edata->hint);
	if (edata->context)
		appendStringInfo(&buf, "\nCONTEXT: %s", edata->context);
	return buf.data;
}

/* pg_locks' modes, weakest first */
static const char *const lock_modes[] = {
	"AccessShareLock", "RowShareLock", "RowExclusiveLock",
	"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
	"ExclusiveLock", "AccessExclusiveLock"
};

static int
lock_rank(const char *mode)
{
	for (int i = 0; i < lengthof(lock_modes); i++)
	{
		if (strcmp(lock_modes[i], mode) == 0)
			return i;
	}
	return -1;
}

static int
compare_relfiles(const void *a, const void *b)
{
	Oid			ra = ((const FmRelFile *) a)->relid;
	Oid			rb = ((const FmRelFile *) b)->relid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * describe_locks
 *		What a dry run's migration did to tables that existed before it:
 *		the strongest lock it took on each ("locks" now held, minus "held"
 *		before it), and whether it rewrote the table (its file changed from
 *		"files", sorted by OID).  Locks an earlier migration of the run took
 *		are not repeated.
 */
static char *
describe_locks(List *locks, List *held, FmRelFile *files, int nfiles)
{
	StringInfoData buf;
	const FmLock *strongest = NULL;
	bool		any = false;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "new locks:");
	/* sorted by relation: one entry per relation, its strongest new mode */
	for (int i = 0; i <= list_length(locks); i++)
	{
		const FmLock *lock = i < list_length(locks) ? list_nth(locks, i) : NULL;
		bool		new_lock = lock != NULL;
		ListCell   *lc2;

		if (strongest != NULL &&
			(lock == NULL || lock->relid != strongest->relid))
		{
			FmRelFile	key = {strongest->relid, InvalidOid};
			FmRelFile  *before = bsearch(&key, files, nfiles, sizeof(FmRelFile),
										 compare_relfiles);

			if (before != NULL)
			{
				appendStringInfo(&buf, "%s %s %s%s", any ? "," : "",
								 strongest->relation, strongest->mode,
								 before->filenode != strongest->filenode ?
								 " (rewritten)" : "");
				any = true;
			}
			strongest = NULL;
		}
		if (lock == NULL)
			break;
		foreach(lc2, held)
		{
			const FmLock *old = lfirst(lc2);

			if (old->relid == lock->relid && strcmp(old->mode, lock->mode) == 0)
				new_lock = false;
		}
		if (new_lock &&
			(strongest == NULL || lock_rank(lock->mode) > lock_rank(strongest->mode)))
			strongest = lock;
	}
	if (!any)
		appendStringInfoString(&buf, " none on existing tables");
	return buf.data;
}

/*
 * apply_dry_run
 *		Run every pending migration inside one internal subtransaction, then
 *		roll it back.  Rows say 'would_apply'; the first error becomes a row
 *		with status 'error' and ends the rehearsal.  Query cancel and
 *		shutdown are re-thrown, not reported.
 */
static void
apply_dry_run(ApplyRun *run, List *pending)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	FmMigration *volatile current = NULL;
	ErrorData  *volatile edata = NULL;
	FmFailedAt	failed_at = {0, 0};

	MemoryContext held_cxt = AllocSetContextCreate(oldcxt, "fleetmigrate dry run",
												   ALLOCSET_SMALL_SIZES);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		ListCell   *lc;
		List	   *held = NIL;

		foreach(lc, pending)
		{
			double		duration_ms;
			int			nstatements;
			int			nfiles;
			FmRelFile  *files;
			List	   *locks;
			List	   *findings;
			char	   *message;
			char	   *lint;

			current = (FmMigration *) lfirst(lc);
			MemoryContextSwitchTo(run->migration_cxt);
			files = FmCatalogTableFiles(&nfiles);
			/* linted as the database is before it runs */
			findings = FmLint(FmCatalogScript(current, FM_SCRIPT_UP),
							  psprintf("up script of %s",
									   FmMigrationLabel(current->version, current->name)));
			lint = FmLintSummary(findings);
			if (FmConsentNeeded(current, findings))
				lint = psprintf("%s; needs allow_destructive", lint);
			MemoryContextSwitchTo(oldcxt);
			nstatements = FmRunMigration(current, run->applied_by,
										 run->migration_cxt, &duration_ms,
										 &failed_at);
			MemoryContextSwitchTo(held_cxt);
			locks = FmCatalogMyLocks();
			message = psprintf("dry run: rolled back; %s; %s", lint,
							   describe_locks(locks, held, files, nfiles));
			held = locks;
			MemoryContextSwitchTo(oldcxt);
			put_row(run, current->version, current->name, "would_apply",
					duration_ms, nstatements, message);
			MemoryContextReset(run->migration_cxt);
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();

	/* success or not, nothing of the rehearsal stays */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;

	if (edata != NULL)
	{
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			current == NULL)
			ReThrowError(edata);
		FmExplainError(current, failed_at.statement, edata);
		put_row(run, current->version, current->name, "error", -1, -1,
				FmErrorText(edata, true));
		MemoryContextReset(run->migration_cxt);
	}
}

/*
 * fleetmigrate.apply_pending(target text, dry_run boolean, params jsonb,
 *		allow_destructive boolean, wait boolean)
 *	RETURNS TABLE(version, name, status, duration_ms, statements, message)
 */
Datum
fleetmigrate_apply_pending(PG_FUNCTION_ARGS)
{
	static const char *const argnames[] = {
		"target", "dry_run", "params", "allow_destructive", "wait"
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ApplyOptions opts;
	ApplyRun	run;
	FmMigration last;
	bool		skipped;
	int			i;

	if (apply_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("apply_pending() cannot be called from inside a migration")));

	for (i = 1; i < 5; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" of apply_pending() cannot be null",
							argnames[i])));
	}
	opts.target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	opts.dry_run = PG_GETARG_BOOL(1);
	opts.wait = PG_GETARG_BOOL(4);

	InitMaterializedSRF(fcinfo, 0);
	run.tupstore = rsinfo->setResult;
	run.tupdesc = rsinfo->setDesc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	run.applied_by = GetUserNameFromId(GetUserId(), false);
	run.migration_cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "fleetmigrate migration",
											  ALLOCSET_DEFAULT_SIZES);

	acquire_runner_lock(&run, opts.wait, &skipped);
	if (skipped)
	{
		SPI_finish();
		return (Datum) 0;
	}

	apply_in_progress = true;
	PG_TRY();
	{
		List	   *pending;
		ListCell   *lc;
		bool		have_last;

		FmParamsSetRun(PG_GETARG_JSONB_P(2), "apply_pending()");
		FmConsentSetRun(PG_GETARG_BOOL(3), "apply_pending()");
		have_last = FmCatalogLastApplied(&last);
		pending = FmCatalogPending(opts.target, false, have_last ? &last : NULL);
		FmCheckPlan(pending, have_last ? &last : NULL);
		foreach(lc, pending)
		{
			FmMigration *m = (FmMigration *) lfirst(lc);

			if (!m->transactional)
				refuse_non_transactional(pending, m);
		}
		FmCheckPlanParams(pending);
		/* a dry run shows the findings instead (apply_dry_run()) */
		if (!opts.dry_run)
			FmCheckPlanDestructive(pending);

		if (opts.dry_run)
			apply_dry_run(&run, pending);
		else
			apply_all(&run, pending);
	}
	PG_FINALLY();
	{
		apply_in_progress = false;
		FmParamsReset();
		FmConsentReset();
	}
	PG_END_TRY();

	if (debug_query_string != NULL)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);

	SPI_finish();
	return (Datum) 0;
}
