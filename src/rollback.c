/*-------------------------------------------------------------------------
 *
 * rollback.c
 *	  Changing and checking history: rollback(), verify() and
 *	  rehearse_rollback().  Each is a run (run.c).  baseline() is in
 *	  adopt.c.
 *
 * rollback() runs down scripts, newest first, inside the caller's
 * transaction: all of them or, on error, none.  Before anything runs it
 * checks the production guard (fleetmigrate.environment, and a forced
 * rollback's confirmation: the database name and the server's system
 * identifier) and that every migration to undo has a down script.  Each
 * down script runs in a subtransaction, as a migration does in
 * apply_pending(); a rolled-back migration is pending again (state
 * 'rolled_back'), and a 'rolled_back' event records who, when, how long and
 * under which guard.
 *
 * verify() runs the verify scripts of applied migrations again, each in a
 * subtransaction that is rolled back (FmVerifyMigration()), and reports
 * each result instead of raising it.
 *
 * rehearse_rollback() applies each pending migration, runs its down script
 * and applies it again, all rolled back at the end, and reports whether the
 * schema came back the same each time: the "test your rollback script"
 * item of a pre-deployment checklist.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "params.h"
#include "plan.h"
#include "run.h"
#include "runner.h"

/* Columns of rollback()'s result. */
#define ROLLBACK_COLUMNS	5

static char *instance_confirmation(const char *db);
pg_noreturn static void refuse_confirmation(const char *confirm,
											 const char *db,
											 const char *expected);
static const char *guard(bool force, const char *confirm);
static void refuse_unrehearsable(List *plan, const FmMigration *m);
static void refuse_missing_down(List *set);
static ErrorData *verify_one(FmScript *script, MemoryContext cxt);
static void undo(FmScript *script, const char *by, const char *reason,
				 MemoryContext cxt, double *duration_ms, int *statements);

/*
 * instance_confirmation
 *		What a confirmation must say to mean this database: its name and the
 *		system identifier of its server (pg_control_system()), as
 *		"name@identifier".  Every cluster made by initdb has an identifier of
 *		its own, so two servers whose databases share a name (every Supabase
 *		project's database is "postgres") ask for different confirmations.
 *		A physical copy of a cluster (a replica, pg_basebackup, a
 *		point-in-time clone) keeps the identifier.  Palloc'd in the current
 *		memory context; never ERRORs.
 */
static char *
instance_confirmation(const char *db)
{
	return psprintf("%s@" UINT64_FORMAT, db, GetSystemIdentifier());
}

/*
 * refuse_confirmation
 *		ERROR for a confirmation that is not this database's "expected"
 *		(instance_confirmation()): one that names only the database (the
 *		form before 1.9) says what to pass now; any other says what this
 *		database is, without offering the text to paste.
 */
static void
refuse_confirmation(const char *confirm, const char *db, const char *expected)
{
	if (strcmp(confirm, db) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confirmation \"%s\" names the database but not its server", confirm),
				 errdetail("Databases on different servers often share a name (every Supabase project's database is \"postgres\"), so a confirmation names the database and its server's system identifier. Nothing was rolled back."),
				 errhint("To roll back database \"%s\" on this server, pass confirm => %s.",
						 db, quote_literal_cstr(expected))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("confirmation \"%s\" does not match this database", confirm),
			 errdetail("This is database \"%s\" on the server with system identifier " UINT64_FORMAT ". Nothing was rolled back.",
					   db, GetSystemIdentifier()),
			 errhint("Check that you are connected to the database you mean to roll back.")));
}

/*
 * guard
 *		The production guard: in production, refuse unless "force" and
 *		"confirm" names this database on this server
 *		(instance_confirmation()).  A confirmation that does not is refused
 *		in every environment.  Returns what the history records about it.
 */
static const char *
guard(bool force, const char *confirm)
{
	const char *env = GetConfigOption("fleetmigrate.environment", false, false);
	char	   *db = get_database_name(MyDatabaseId);
	char	   *expected = instance_confirmation(db);

	/* a confirmation that names another database is a mistake anywhere */
	if (confirm != NULL && strcmp(confirm, expected) != 0)
		refuse_confirmation(confirm, db, expected);
	if (fm_environment != FM_ENVIRONMENT_PRODUCTION)
		return psprintf("environment %s", env);
	if (!force)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rollback is refused in production"),
				 errdetail("fleetmigrate.environment is \"production\" (the default). Down scripts usually drop tables and columns, and the data in them. Nothing was rolled back."),
				 errhint("In a development database, run ALTER DATABASE %s SET fleetmigrate.environment = 'development' and reconnect. To roll back in production anyway, take a backup first and call fleetmigrate.rollback(..., force => true, confirm => %s).",
						 quote_identifier(db), quote_literal_cstr(expected))));
	if (confirm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a forced rollback in production must be confirmed"),
				 errdetail("A confirmation names the database and its server's system identifier. Nothing was rolled back."),
				 errhint("Add confirm => %s to say that you mean database \"%s\" on this server.",
						 quote_literal_cstr(expected), db)));
	return psprintf("environment production; forced, confirmed \"%s\"", expected);
}

/*
 * refuse_missing_down
 *		ERROR naming every migration of "set" without a down script.
 */
static void
refuse_missing_down(List *set)
{
	StringInfoData list;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&list);
	foreach(lc, set)
	{
		FmScript   *script = lfirst(lc);

		if (script->script != NULL)
			continue;
		appendStringInfo(&list, "%s\"%s %s\"", n++ > 0 ? ", " : "",
						 script->m.version, script->m.name);
	}
	if (n == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 n == 1 ?
			 errmsg("cannot roll back migration %s: it has no down script", list.data) :
			 errmsg("cannot roll back %d migrations that have no down script: %s", n, list.data),
			 errdetail("Nothing was rolled back."),
			 errhint("Register the migration again with a down script (register(..., down => ...) or a \"-- down\" section in a bundle), or roll back fewer migrations.")));
}

/* One down script for run_down(). */
typedef struct UndoArgs
{
	FmExecErrorContext ctx;
	const char *by;
	const char *reason;
	MemoryContext cxt;
	double		duration_ms;
	int			statements;
} UndoArgs;

/* Run a down script, with its SETs undone after it, and record it. */
static void
run_down(void *arg)
{
	UndoArgs   *args = (UndoArgs *) arg;
	TimestampTz started = GetCurrentTimestamp();
	FmFailedAt	failed_at;
	instr_time	start;
	instr_time	elapsed;
	int			nestlevel = NewGUCNestLevel();

	INSTR_TIME_SET_CURRENT(start);
	args->statements = FmRunScript(&args->ctx, args->cxt, false, &failed_at);
	AtEOXact_GUC(false, nestlevel);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	args->duration_ms = INSTR_TIME_GET_MILLISEC(elapsed);
	FmCatalogRecordRolledBack(args->ctx.migration, started, args->duration_ms,
							  args->by, args->statements, args->reason);
}

/*
 * undo
 *		Run the down script of one migration in a subtransaction and record
 *		it as rolled back.  Errors propagate, after the subtransaction is
 *		rolled back.
 */
static void
undo(FmScript *script, const char *by, const char *reason, MemoryContext cxt,
	 double *duration_ms, int *statements)
{
	UndoArgs	args;
	ErrorData  *edata;

	args.ctx.migration = &script->m;
	args.ctx.script = script->script;
	args.ctx.what = "down";
	args.ctx.statement = NULL;
	args.by = by;
	args.reason = reason;
	args.cxt = cxt;
	edata = FmInSubtransaction(run_down, &args, true, CurrentMemoryContext);
	if (edata != NULL)
		ReThrowError(edata);
	*duration_ms = args.duration_ms;
	*statements = args.statements;
}

/*
 * fleetmigrate.rollback(target text, steps integer, force boolean,
 *		confirm text)
 *	RETURNS TABLE(version, name, status, duration_ms, message)
 */
PG_FUNCTION_INFO_V1(fleetmigrate_rollback);

Datum
fleetmigrate_rollback(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *confirm = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	const char *reason;
	MemoryContext cxt;
	int			steps;
	FmRunOptions run_options = {.caller = "rollback()", .wait = true};
	FmRun		run;

	FmRunRefuseNested("rollback()");
	FmRefuseOnStandby("rollback()");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" of rollback() cannot be null",
						PG_ARGISNULL(1) ? "steps" : "force")));
	steps = PG_GETARG_INT32(1);
	if (steps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"steps\" of rollback() must be at least 1"),
				 errhint("steps is how many of the newest applied migrations to roll back; to roll back to a version, pass target.")));
	reason = guard(PG_GETARG_BOOL(2), confirm);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "fleetmigrate rollback",
								ALLOCSET_DEFAULT_SIZES);

	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		ListCell   *lc;
		List	   *set;

		(void) FmRunLock(&run);
		set = FmCatalogRollbackSet(target, steps);
		if (set == NIL)
			ereport(NOTICE,
					(errmsg("nothing to roll back"),
					 target != NULL ?
					 errdetail("No applied migration sorts after version \"%s\".", target) :
					 errdetail("No migration is applied.")));
		refuse_missing_down(set);

		foreach(lc, set)
		{
			FmScript   *script = lfirst(lc);
			Datum		values[ROLLBACK_COLUMNS];
			bool		nulls[ROLLBACK_COLUMNS] = {false, false, false, false, true};
			double		duration_ms;
			int			statements;

			undo(script, run.run_by, reason, cxt, &duration_ms, &statements);
			ereport(NOTICE,
					(errmsg("rolled back %s %s in %.0f ms",
							script->m.version, script->m.name, duration_ms)));
			values[0] = CStringGetTextDatum(script->m.version);
			values[1] = CStringGetTextDatum(script->m.name);
			values[2] = CStringGetTextDatum("rolled_back");
			values[3] = Float8GetDatum(duration_ms);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextReset(cxt);
		}
		/* what is to run again is linted again, for the status view */
		if (set != NIL)
			FmRunRefreshLint(NULL, NULL);
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
	}
	PG_END_TRY();
	SPI_finish();
	return (Datum) 0;
}

/*
 * verify_one
 *		Run one verify script (FmVerifyMigration) and return its error, or
 *		NULL when it passed; a cancel or shutdown is thrown on.  The error is
 *		copied into the caller's memory context.
 */
static ErrorData *
verify_one(FmScript *script, MemoryContext cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;

	PG_TRY();
	{
		(void) FmVerifyMigration(&script->m, script->script, cxt);
	}
	PG_CATCH();
	{
		/* FmVerifyMigration() rolled its subtransaction back */
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (FmErrorIsInterrupt(edata))
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return edata;
}

/*
 * fleetmigrate.verify(version text)
 *	RETURNS TABLE(version text, name text, ok boolean, message text)
 *
 * Every applied migration with a verify script (or, given a version, every
 * applied migration of that version, ok NULL for one without a script).
 */
PG_FUNCTION_INFO_V1(fleetmigrate_verify);

Datum
fleetmigrate_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *version = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext cxt;
	List	   *scripts;
	FmRunOptions run_options = {.caller = "verify()"};
	FmRun		run;

	FmRunRefuseNested("verify()");
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "fleetmigrate verify",
								ALLOCSET_DEFAULT_SIZES);
	scripts = FmCatalogVerifiable(version);

	/* a run that takes no lock: verify scripts are always rolled back */
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, scripts)
		{
			FmScript   *script = lfirst(lc);
			Datum		values[4];
			bool		nulls[4] = {false, false, false, true};
			ErrorData  *edata = NULL;

			if (script->script == NULL && version == NULL)
				continue;
			values[0] = CStringGetTextDatum(script->m.version);
			values[1] = CStringGetTextDatum(script->m.name);
			if (script->script == NULL)
			{
				nulls[2] = true;
				nulls[3] = false;
				values[3] = CStringGetTextDatum("no verify script");
			}
			else
			{
				edata = verify_one(script, cxt);
				values[2] = BoolGetDatum(edata == NULL);
				if (edata != NULL)
				{
					nulls[3] = false;
					values[3] = CStringGetTextDatum(FmErrorText(edata, true));
				}
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextReset(cxt);
		}
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
	}
	PG_END_TRY();
	SPI_finish();
	return (Datum) 0;
}

/*
 * refuse_unrehearsable
 *		The plan check of rehearse_rollback() (FmRunOptions.check_migration):
 *		a migration that cannot run inside a transaction cannot be rehearsed.
 */
static void
refuse_unrehearsable(List *plan, const FmMigration *m)
{
	if (!m->transactional)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s cannot run inside a transaction, so it cannot be rehearsed",
						FmMigrationLabel(m->version, m->name)),
				 errhint("Rehearse with a target that stops before it.")));
}

/*
 * schema_diff
 *		Lines of sorted list "a" missing from sorted list "b" (prefixed
 *		"- ") and lines of "b" missing from "a" ("+ "), one per line; NULL
 *		when they are the same.  At most "limit" lines, then a count.
 */
static char *
schema_diff(List *a, List *b, int limit)
{
	StringInfoData buf;
	int			i = 0;
	int			j = 0;
	int			n = 0;

	initStringInfo(&buf);
	while (i < list_length(a) || j < list_length(b))
	{
		int			cmp;

		if (i >= list_length(a))
			cmp = 1;
		else if (j >= list_length(b))
			cmp = -1;
		else
			cmp = strcmp(list_nth(a, i), list_nth(b, j));
		if (cmp == 0)
		{
			i++;
			j++;
			continue;
		}
		if (n++ < limit)
			appendStringInfo(&buf, "\n%s %s", cmp < 0 ? "-" : "+",
							 (char *) (cmp < 0 ? list_nth(a, i) : list_nth(b, j)));
		if (cmp < 0)
			i++;
		else
			j++;
	}
	if (n == 0)
		return NULL;
	if (n > limit)
		appendStringInfo(&buf, "\n... and %d more", n - limit);
	return buf.data;
}

/* The state of a rehearsal, for rehearse_all(). */
typedef struct RehearseArgs
{
	List	   *set;			/* FmScript *: each migration to rehearse */
	ReturnSetInfo *rsinfo;
	MemoryContext cxt;			/* reset after each migration */
	const char *run_by;
	FmMigration *current;		/* the migration rehearsed; NULL: none yet */
	const char *phase;			/* what it was doing, for an error row */
} RehearseArgs;

/*
 * rehearse_all
 *		Apply each migration, run its down script and apply it again,
 *		comparing the schema each time, and report each (rehearse_rollback()
 *		runs this in a subtransaction that is always rolled back).
 */
static void
rehearse_all(void *arg)
{
	RehearseArgs *args = (RehearseArgs *) arg;
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext cxt = args->cxt;
	ListCell   *lc;

	foreach(lc, args->set)
	{
		FmScript   *script = lfirst(lc);
		FmMigration *current = &script->m;
		FmExecErrorContext ctx;
		FmFailedAt	failed_at;
		double		duration_ms;
		List	   *before;
		List	   *after;
		List	   *undone;
		List	   *again;
		char	   *down_diff;
		char	   *again_diff;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			nestlevel;

		args->current = current;
		MemoryContextSwitchTo(cxt);
		before = FmCatalogSchema();
		args->phase = "applying it";
		(void) FmRunMigration(current, script->planned, args->run_by, cxt,
							  &duration_ms, &failed_at);
		MemoryContextSwitchTo(cxt);
		after = FmCatalogSchema();
		ctx.migration = current;
		ctx.script = script->script;
		ctx.what = "down";
		ctx.statement = NULL;
		nestlevel = NewGUCNestLevel();
		args->phase = "running its down script";
		(void) FmRunScript(&ctx, cxt, false, &failed_at);
		AtEOXact_GUC(false, nestlevel);
		undone = FmCatalogSchema();
		args->phase = "applying it again after its down script (does the down script leave something behind?)";
		(void) FmRunMigration(current, script->planned, args->run_by, cxt,
							  &duration_ms, &failed_at);
		MemoryContextSwitchTo(cxt);
		again = FmCatalogSchema();

		down_diff = schema_diff(before, undone, 20);
		again_diff = schema_diff(after, again, 20);
		MemoryContextSwitchTo(oldcxt);
		values[0] = CStringGetTextDatum(current->version);
		values[1] = CStringGetTextDatum(current->name);
		values[2] = CStringGetTextDatum(down_diff || again_diff ? "differs" : "rehearsed");
		if (down_diff || again_diff)
			values[3] = CStringGetTextDatum(psprintf("%s%s%s%s",
													 down_diff ? "after the down script, the schema differs from before the migration:" : "",
													 down_diff ? down_diff : "",
													 down_diff && again_diff ? "\n" : "",
													 again_diff ? psprintf("applied again after the down script, the schema differs from the first time:%s", again_diff) : ""));
		else
			values[3] = CStringGetTextDatum("applied, rolled back and applied again: the same schema each time");
		tuplestore_putvalues(args->rsinfo->setResult, args->rsinfo->setDesc,
							 values, nulls);
		MemoryContextReset(cxt);
	}
}

/*
 * fleetmigrate.rehearse_rollback(target text, params jsonb)
 *	RETURNS TABLE(version text, name text, status text, message text)
 *
 * For each pending migration up to "target", in order, inside one
 * subtransaction that is rolled back at the end: apply it, run its down
 * script, apply it again, comparing the schema (FmCatalogSchema()) after
 * the down script with the one before the migration, and after applying it
 * again with the one after applying it the first time.  Status
 * 'rehearsed' (both the same), 'differs' (the message lists the
 * differences, "-" missing, "+" extra) or 'error' (the message has the
 * error; the rehearsal stops there).  Nothing stays.
 */
PG_FUNCTION_INFO_V1(fleetmigrate_rehearse_rollback);

Datum
fleetmigrate_rehearse_rollback(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext oldcxt;
	MemoryContext cxt;
	List	   *set = NIL;
	FmRunOptions run_options = {.caller = "rehearse_rollback()", .wait = true,
	.check_migration = refuse_unrehearsable};
	FmRun		run;
	RehearseArgs args = {0};

	FmRunRefuseNested("rehearse_rollback()");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"params\" of rehearse_rollback() cannot be null")));
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	oldcxt = CurrentMemoryContext;
	cxt = AllocSetContextCreate(oldcxt, "fleetmigrate rehearsal",
								ALLOCSET_DEFAULT_SIZES);

	run_options.params = PG_GETARG_JSONB_P(1);
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		List	   *pending;
		ListCell   *lc;
		ErrorData  *edata;

		(void) FmRunLock(&run);
		pending = FmRunPlan(&run, target);
		foreach(lc, pending)
		{
			FmMigration *m = lfirst(lc);
			FmScript   *script = palloc0(sizeof(FmScript));

			script->m = *m;
			/* the rows are locked since FmRunPlan(): nothing can change */
			if (!FmCatalogPlannedScripts(m, false, script->planned))
				elog(ERROR, "planned migration %s %s changed", m->version, m->name);
			script->script = script->planned[FM_SCRIPT_DOWN];
			set = lappend(set, script);
		}
		refuse_missing_down(set);

		/* nothing of the rehearsal stays, success or not */
		args.set = set;
		args.rsinfo = rsinfo;
		args.cxt = cxt;
		args.run_by = run.run_by;
		edata = FmInSubtransaction(rehearse_all, &args, false, oldcxt);
		if (edata != NULL)
		{
			const FmMigration *current = args.current;

			/* cancel and shutdown, or a failure before any migration: raise */
			if (current == NULL || FmErrorIsInterrupt(edata))
				ReThrowError(edata);
			else
			{
				Datum		values[4];
				bool		nulls[4] = {false, false, false, false};

				values[0] = CStringGetTextDatum(current->version);
				values[1] = CStringGetTextDatum(current->name);
				values[2] = CStringGetTextDatum("error");
				values[3] = CStringGetTextDatum(psprintf("failed while %s: %s", args.phase,
														 FmErrorText(edata, true)));
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
	}
	PG_END_TRY();
	SPI_finish();
	return (Datum) 0;
}
