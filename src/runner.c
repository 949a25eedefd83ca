/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Executing a migration's scripts and recording the result.
 *
 * FmRunMigration() runs one migration's up script, then its verify script,
 * and records it as applied, with what its destructive statements removed
 * (consent.c measures each just before it runs and refuses one the run's
 * consent does not cover), in the caller's (sub)transaction; the scripts
 * are the ones the run checked (FmCatalogPlannedScripts()).  Each statement
 * runs through SPI, split with the server's parser, under an error context
 * callback naming the migration, statement number and line.  Settings a
 * migration changes (SET search_path, SET ROLE, ...) are undone when it
 * ends, as for a function with a SET clause, so each migration starts from
 * the caller's settings and the caller gets them back.
 *
 * FmInSubtransaction() is the exception-block idiom, written once: every
 * step that must fail alone (a migration, a tolerated statement, a verify
 * script, a plan check) runs through it.  The errors it and FmRunScript()
 * catch have the run's secret parameter values masked
 * (FmParamsMaskError()) before anyone sees them.
 *
 * Memory: a migration's parse trees and statement texts live in the
 * per-migration context the caller passes and resets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "portability/instr_time.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "batchspec.h"
#include "catalog.h"
#include "consent.h"
#include "locks.h"
#include "params.h"
#include "parse.h"
#include "plan.h"
#include "progress.h"
#include "runner.h"

static char *drop_statement_context(char *context, const char *statement);
static void check_duplicate_column(const FmExecErrorContext *ctx);
static char *tolerated_json(const FmExecErrorContext *ctx, const char *code,
							const char *message);

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
		FmParamsMaskError(edata);
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
 * column_definition
 *		"type" or "type NOT NULL", for check_duplicate_column()'s messages.
 */
static char *
column_definition(Oid typid, int32 typmod, bool notnull)
{
	return psprintf("%s%s", format_type_with_typemod(typid, typmod),
					notnull ? " NOT NULL" : "");
}

/*
 * check_duplicate_column
 *		Called when statement ctx->statement failed with duplicate_column
 *		(42701), which its migration tolerates, and was rolled back.  The
 *		statement is skipped only if it changes nothing that the database
 *		lacks: every column its ADD COLUMNs name must exist with the type
 *		(and type modifier) and nullability the statement asks for (NOT
 *		NULL, PRIMARY KEY, an identity and the serial types ask for NOT
 *		NULL).  ERRORs
 *		naming the column otherwise: a column of another type, one that
 *		allows NULL where NOT NULL was asked (or the reverse), or a column
 *		the statement would have added besides.  A statement that is not
 *		ALTER TABLE, or whose table or type cannot be found now, is left to
 *		the tolerance as before.
 */
static void
check_duplicate_column(const FmExecErrorContext *ctx)
{
	AlterTableStmt *stmt;
	Oid			relid;
	ListCell   *lc;

	if (ctx->statement == NULL || ctx->statement->parsetree == NULL ||
		!IsA(ctx->statement->parsetree, AlterTableStmt))
		return;
	stmt = (AlterTableStmt *) ctx->statement->parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		ColumnDef  *def;
		HeapTuple	atttuple;
		Form_pg_attribute att;
		Oid			typid = InvalidOid;
		int32		typmod = -1;
		bool		notnull;
		ListCell   *cc;

		if (!IsA(cmd, AlterTableCmd) || cmd->subtype != AT_AddColumn ||
			cmd->missing_ok || cmd->def == NULL || !IsA(cmd->def, ColumnDef))
			continue;
		def = (ColumnDef *) cmd->def;
		atttuple = SearchSysCacheAttName(relid, def->colname);
		if (!HeapTupleIsValid(atttuple))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist, and skipping the statement that adds it would leave it out",
							def->colname, get_rel_name(relid)),
					 errdetail("Statement %d (line %d) of %s failed with a tolerated error (42701, column already exists) for another of its columns; a skipped statement is skipped as a whole.",
							   ctx->statement->number, ctx->statement->line,
							   FmMigrationLabel(ctx->migration->version,
												ctx->migration->name)),
					 errhint("Add each column in a statement of its own, or write ADD COLUMN IF NOT EXISTS.")));
		att = (Form_pg_attribute) GETSTRUCT(atttuple);

		/* the type the statement asks for; serial types are integers */
		notnull = def->is_not_null;
		if (def->typeName != NULL && list_length(def->typeName->names) == 1 &&
			def->typeName->arrayBounds == NIL)
		{
			const char *tname = strVal(linitial(def->typeName->names));

			if (strcmp(tname, "smallserial") == 0 || strcmp(tname, "serial2") == 0)
				typid = INT2OID;
			else if (strcmp(tname, "serial") == 0 || strcmp(tname, "serial4") == 0)
				typid = INT4OID;
			else if (strcmp(tname, "bigserial") == 0 || strcmp(tname, "serial8") == 0)
				typid = INT8OID;
			if (OidIsValid(typid))
				notnull = true;
		}
		if (!OidIsValid(typid) && def->typeName != NULL)
		{
			Type		type = LookupTypeName(NULL, def->typeName, &typmod, false);

			if (type == NULL)
			{
				ReleaseSysCache(atttuple);
				continue;
			}
			typid = ((Form_pg_type) GETSTRUCT(type))->oid;
			ReleaseSysCache(type);
		}
		foreach(cc, def->constraints)
		{
			Constraint *con = lfirst(cc);

			/* NOT NULL, and what implies it: a primary key, an identity */
			if (IsA(con, Constraint) &&
				(con->contype == CONSTR_NOTNULL || con->contype == CONSTR_PRIMARY ||
				 con->contype == CONSTR_IDENTITY))
				notnull = true;
		}

		if (OidIsValid(typid) &&
			(att->atttypid != typid || att->atttypmod != typmod ||
			 att->attnotnull != notnull))
		{
			char	   *have = column_definition(att->atttypid, att->atttypmod,
												 att->attnotnull);
			char	   *want = column_definition(typid, typmod, notnull);

			ReleaseSysCache(atttuple);
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" already exists as %s, not as %s",
							def->colname, get_rel_name(relid), have, want),
					 errdetail("The migration tolerates SQLSTATE 42701 (column already exists), but statement %d (line %d) is skipped only when the existing column has the type and nullability that it asks for.",
							   ctx->statement->number, ctx->statement->line),
					 errhint("Change the column to what the migration expects first (ALTER TABLE ... ALTER COLUMN ... TYPE, SET NOT NULL or DROP NOT NULL), or change the statement to ask for the column as it is.")));
		}
		ReleaseSysCache(atttuple);
	}
}

/*
 * tolerated_json
 *		The history's record of a tolerated error: a JSON object with the
 *		statement number, its line, the SQLSTATE and the (masked) message.
 */
static char *
tolerated_json(const FmExecErrorContext *ctx, const char *code,
			   const char *message)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"statement\": %d, \"line\": %d, \"sqlstate\": ",
					 ctx->statement->number, ctx->statement->line);
	escape_json(&buf, code);
	appendStringInfoString(&buf, ", \"message\": ");
	escape_json(&buf, message ? message : "");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * execute_tolerating
 *		Run one statement of migration ctx->migration, which tolerates some
 *		errors, in a subtransaction of its own.  If it fails with one of the
 *		tolerated SQLSTATEs, roll the subtransaction back, say so with a
 *		NOTICE, add the error to ctx->tolerated (for the history) and return
 *		true; other errors propagate, and so does a "column already exists"
 *		whose column differs from the one asked for
 *		(check_duplicate_column()).  Otherwise returns false with
 *		SPI_execute_extended()'s result in *rc.  Allocates in "cxt".
 */
static bool
execute_tolerating(const char *text, const SPIExecuteOptions *options,
				   FmExecErrorContext *ctx, MemoryContext cxt, int *rc)
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
			MemoryContextSwitchTo(cxt);
			if (edata->sqlerrcode == ERRCODE_DUPLICATE_COLUMN)
				check_duplicate_column(ctx);
			ctx->tolerated = lappend(ctx->tolerated,
									 tolerated_json(ctx, code, edata->message));
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
	ctx->tolerated = NIL;
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
			uint64		processed;

			ctx->statement = stmt;
			text = FmStatementText(ctx->script, stmt);
			if (ctx->what == NULL)
			{
				/* an up script's statement: reported in pg_stat_activity */
				FmProgressStatement(stmt->number, list_length(stmts),
									stmt->line, 0, text);
				/* a destructive one: measured, consent checked */
				FmConsentBeforeStatement(stmt);
			}
			FmStatementTimerStart();
			if (tolerating && execute_tolerating(text, &options, ctx, cxt, &rc))
			{
				FmStatementTimerStop();
				continue;
			}
			if (!tolerating)
				rc = SPI_execute_extended(text, &options);
			FmStatementTimerStop();
			processed = SPI_processed;
			MemoryContextSwitchTo(cxt);
			FmCatalogCheckIntact(ctx->migration->version, ctx->migration->name);
			if (rc < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("could not run %s in a migration: %s",
								CreateCommandName(stmt->parsetree),
								SPI_result_code_string(rc))));
			if (ctx->what == NULL)
				FmConsentAfterStatement(stmt, rc, processed);
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
		FmParamsMaskError(edata);
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

/* The JSON array of the tolerated errors' objects; NULL for none. */
static char *
tolerated_array(List *tolerated)
{
	StringInfoData buf;
	ListCell   *lc;

	if (tolerated == NIL)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, tolerated)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 (char *) lfirst(lc));
	appendStringInfoChar(&buf, ']');
	return buf.data;
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
FmRunMigration(const FmMigration *m, char *const scripts[3],
			   const char *applied_by, MemoryContext cxt,
			   double *duration_ms, FmFailedAt *failed_at)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	FmExecErrorContext ctx;
	TimestampTz started = GetCurrentTimestamp();
	instr_time	start;
	instr_time	elapsed;
	char	   *consent;
	List	   *destroyed;
	int			nestlevel;
	int			nstatements;

	INSTR_TIME_SET_CURRENT(start);
	/* a batched migration commits after each batch: migrate() only */
	if (FmBatchDeclared(scripts[FM_SCRIPT_UP]))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s is batched and cannot run inside a transaction",
						FmMigrationLabel(m->version, m->name)),
				 errdetail("It commits after each batch of rows, so that no lock is held for long, which a single transaction does not allow. Nothing was applied."),
				 errhint("Run it with CALL fleetmigrate.migrate(); with apply_pending(), apply only the migrations before it, with target.")));
	FmProgressMigrationBegin(m->version, m->name);

	ctx.migration = m;
	ctx.script = scripts[FM_SCRIPT_UP];
	ctx.what = NULL;
	ctx.statement = NULL;
	consent = FmConsent(m, scripts[FM_SCRIPT_UP]);

	/* SET in a migration lasts until the migration ends. */
	nestlevel = NewGUCNestLevel();
	FmSetLockSettings();
	FmParamsBegin(m);
	FmConsentWatchBegin(m, scripts[FM_SCRIPT_UP]);
	nstatements = FmRunScript(&ctx, cxt, false, failed_at);
	destroyed = FmConsentWatchEnd();
	FmParamsEnd();
	AtEOXact_GUC(false, nestlevel);

	(void) FmVerifyMigration(m, scripts[FM_SCRIPT_VERIFY], cxt);

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	*duration_ms = INSTR_TIME_GET_MILLISEC(elapsed);

	FmCatalogRecordApplied(m, started, *duration_ms, applied_by, consent,
						   FmParamsJson(m), scripts[FM_SCRIPT_UP],
						   tolerated_array(ctx.tolerated));
	if (destroyed != NIL)
		FmCatalogRecordDestroyed(m, FmDataLossJson(destroyed, NULL));

	MemoryContextSwitchTo(oldcxt);
	return nstatements;
}

/*
 * FmErrorIsInterrupt
 *		Whether "edata" is a query cancel or a shutdown: an error that a dry
 *		run, a rehearsal or verify() must raise again rather than report as
 *		a result row.
 */
bool
FmErrorIsInterrupt(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
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
