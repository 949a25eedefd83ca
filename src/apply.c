/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  fleetmigrate.apply_pending(): apply the pending migrations inside the
 *	  caller's transaction, or rehearse them (dry run).
 *
 * apply_pending() is a run (run.c) that
 *	 1. takes the runner lock for the transaction (FmRunLock()), waiting
 *		for a concurrent runner unless wait => false; the lock goes away
 *		with the transaction, so a killed session never leaves it behind.
 *		In REPEATABLE READ or SERIALIZABLE the snapshot predates any wait,
 *		so we do not wait: a busy lock is a serialization failure;
 *	 2. reads its plan once and checks it (FmRunPlan()): the pending
 *		migrations in natural order, their rows locked; requirements,
 *		conflicts, order, parameters, consent to data loss; and it refuses
 *		a plan that contains a migration that cannot run inside a
 *		transaction;
 *	 3. runs exactly that plan: before each migration it fetches the
 *		scripts the run checked (FmCatalogPlannedScripts()); a migration
 *		registered again since (only migration code of this very
 *		transaction could) stops the run there, with a 'skipped' row;
 *	 4. runs each migration in a subtransaction (FmRunMigration()), so that
 *		its failure can be explained with the catalog before it propagates.
 * Any error propagates and aborts the caller's transaction (or its
 * savepoint), so nothing of the call remains.  A dry run executes the same
 * work inside one internal subtransaction, rolls it back, and turns an
 * error into a result row.
 *
 * Memory: the plan lives in the SPI procedure context; each migration's
 * scripts, parse trees, statement texts and result row datums in a
 * per-migration context that is reset after it, so memory does not grow
 * with the number of migrations.  Result rows go to the tuplestore that
 * InitMaterializedSRF() set up in the per-query context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/varlena.h"

#include "batchspec.h"
#include "catalog.h"
#include "consent.h"
#include "lint.h"
#include "locks.h"
#include "params.h"
#include "parse.h"
#include "plan.h"
#include "run.h"
#include "runner.h"
#include "standbys.h"

/* Columns of apply_pending()'s result. */
#define APPLY_COLUMNS		6

/* Options of one apply_pending() call. */
typedef struct ApplyOptions
{
	char	   *target;			/* apply up to this version; NULL: all */
	bool		dry_run;		/* execute, report, roll back */
	bool		wait;			/* wait for a concurrent runner */
} ApplyOptions;

/* State of one call, shared by the helpers below. */
typedef struct ApplyRun
{
	char	   *applied_by;		/* current_user at the start of the call */
	MemoryContext migration_cxt;	/* reset after every migration */
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
} ApplyRun;

PG_FUNCTION_INFO_V1(fleetmigrate_apply_pending);

static void refuse_non_transactional(List *pending, const FmMigration *m);
static bool planned_scripts(ApplyRun *run, const FmMigration *m,
							char *scripts[3]);
static int	apply_all(ApplyRun *run, List *pending);
static void apply_dry_run(ApplyRun *run, List *pending);
static void put_row(ApplyRun *run, const char *version, const char *name,
					const char *status, double duration_ms, int statements,
					const char *message);

/*
 * previous_pending
 *		The last migration of "pending" (in apply order) whose version sorts
 *		strictly before m's: the target that applies everything before m.
 *		NULL if there is none.
 */
static const FmMigration *
previous_pending(List *pending, const FmMigration *m)
{
	const FmMigration *previous = NULL;
	ListCell   *lc;

	foreach(lc, pending)
	{
		const FmMigration *other = (const FmMigration *) lfirst(lc);

		if (FmCompareVersionKeys(other->sort_key, m->sort_key) >= 0)
			break;
		previous = other;
	}
	return previous;
}

/*
 * refuse_non_transactional
 *		The plan check of apply_pending() (FmRunOptions.check_migration):
 *		ERROR if migration "m" holds a statement that cannot run in a
 *		transaction block; name the statement and suggest a target that
 *		applies everything that sorts before it.
 */
static void
refuse_non_transactional(List *pending, const FmMigration *m)
{
	char	   *script;
	List	   *stmts;
	const FmMigration *previous;
	const FmStatement *culprit = NULL;
	ListCell   *lc;

	if (m->transactional)
		return;
	script = FmCatalogScript(m, FM_SCRIPT_UP);
	stmts = FmSplitScript(script, "up script");
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

	previous = previous_pending(pending, m);

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
 * refuse_batched
 *		apply_pending() runs every migration in the calling transaction and
 *		cannot commit between the batches of a batched migration (batch.c):
 *		ERROR, before anything runs, if "pending" holds one; suggest a
 *		target that applies everything that sorts before it.  One catalog
 *		read finds the candidates: the migrations whose up script mentions
 *		"batch".
 */
static void
refuse_batched(List *pending)
{
	List	   *candidates = FmCatalogMentioning("batch");
	const FmMigration *previous;
	ListCell   *lc;

	if (candidates == NIL)
		return;
	foreach(lc, pending)
	{
		const FmMigration *m = (const FmMigration *) lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, candidates)
		{
			const FmScript *c = (const FmScript *) lfirst(lc2);

			if (strcmp(c->m.version, m->version) != 0 ||
				strcmp(c->m.name, m->name) != 0 || !FmBatchDeclared(c->script))
				continue;
			previous = previous_pending(pending, m);
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s is batched and cannot run inside a transaction",
							FmMigrationLabel(m->version, m->name)),
					 errdetail("It commits after each batch of rows, so that no lock is held for long, which a single transaction does not allow. Nothing was applied."),
					 previous != NULL ?
					 errhint("Run CALL fleetmigrate.migrate(). apply_pending() can apply the migrations before it with fleetmigrate.apply_pending(target => %s).",
							 quote_literal_cstr(previous->version)) :
					 errhint("Run CALL fleetmigrate.migrate(), which commits after each batch.")));
		}
	}
}

/*
 * planned_scripts
 *		The scripts of migration "m" as the run checked them, in the
 *		per-migration context.  Returns false, with a 'skipped' row, if it
 *		was registered again since: the run stops there.
 */
static bool
planned_scripts(ApplyRun *run, const FmMigration *m, char *scripts[3])
{
	MemoryContext oldcxt = MemoryContextSwitchTo(run->migration_cxt);
	/* the rows are locked since the plan was read, in this transaction */
	bool		same = FmCatalogPlannedScripts(m, false, scripts);

	MemoryContextSwitchTo(oldcxt);
	if (!same)
		put_row(run, m->version, m->name, "skipped", -1, -1,
				"registered again after this run checked its plan; it and the migrations after it wait for the next run");
	return same;
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
	char	   *scripts[3];
	ApplyRun   *run;
	int			nstatements;
	double		duration_ms;
	FmFailedAt	failed_at;
} MigrationArgs;

static void
run_migration(void *arg)
{
	MigrationArgs *args = (MigrationArgs *) arg;

	args->nstatements = FmRunMigration(args->m, args->scripts,
									   args->run->applied_by,
									   args->run->migration_cxt,
									   &args->duration_ms, &args->failed_at);
}

/*
 * apply_all
 *		The normal path: run every pending migration, each in a
 *		subtransaction so that, when one fails, its error can be explained
 *		with the catalog (FmExplainError()) before it propagates.  Returns
 *		the number of migrations applied.
 */
static int
apply_all(ApplyRun *run, List *pending)
{
	ListCell   *lc;
	int			applied = 0;

	foreach(lc, pending)
	{
		MigrationArgs args = {(FmMigration *) lfirst(lc), {NULL, NULL, NULL}, run, 0, 0, {0, 0}};
		ErrorData  *edata;
		List	   *destroyed;
		char	   *removed;
		int			attempt = 0;

		if (!planned_scripts(run, args.m, args.scripts))
			break;
		/* a lock timeout rolls the migration back; it runs again */
		do
		{
			edata = FmInSubtransaction(run_migration, &args, true,
									   CurrentMemoryContext);
		} while (edata != NULL &&
				 FmRetryLockTimeout(args.m, args.scripts[FM_SCRIPT_UP],
									args.failed_at.statement, ++attempt, edata));
		if (edata != NULL)
		{
			FmExplainError(args.m, args.failed_at.statement, edata);
			ReThrowError(edata);
		}
		destroyed = FmConsentLastDestroyed();
		removed = destroyed != NIL ? FmDataLossText(destroyed, true) : NULL;
		ereport(NOTICE,
				(errmsg("applied %s %s in %.0f ms",
						args.m->version, args.m->name, args.duration_ms),
				 removed != NULL ? errdetail("Removed: %s.", removed) : 0));
		put_row(run, args.m->version, args.m->name, "applied",
				args.duration_ms, args.nstatements,
				removed != NULL ? psprintf("removed: %s", removed) : NULL);
		MemoryContextReset(run->migration_cxt);
		applied++;
	}
	return applied;
}

static int
compare_relfiles(const void *a, const void *b)
{
	Oid			ra = ((const FmRelFile *) a)->relid;
	Oid			rb = ((const FmRelFile *) b)->relid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * KnownLock
 *		What a dry run knows of a relation it holds locks on: the modes
 *		held when the previous migration ended and the ones held now, so
 *		that telling a migration's new locks costs a hash lookup per lock
 *		held and a catalog lookup per new one, not a description of every
 *		lock held after every migration.
 */
typedef struct KnownLock
{
	Oid			relid;			/* hash key */
	int			round;			/* the migration "now" refers to */
	LOCKMASK	before;			/* modes held before that migration */
	LOCKMASK	now;			/* modes held after it */
	int			listed;			/* the migration that listed it as new */
	bool		looked_up;		/* table and filenode are set */
	bool		table;			/* a user table or materialized view */
	Oid			filenode;		/* its file when last looked up */
} KnownLock;

/* One relation a migration locked anew, for describe_locks(). */
typedef struct NewLock
{
	char	   *relation;
	LOCKMODE	mode;			/* the strongest new one */
	bool		rewritten;
} NewLock;

/* New locks by relation name, in the database's collation (as listed before 1.10) */
static int
compare_new_locks(const void *a, const void *b)
{
	const char *ra = ((const NewLock *) a)->relation;
	const char *rb = ((const NewLock *) b)->relation;

	return varstr_cmp(ra, strlen(ra), rb, strlen(rb), DEFAULT_COLLATION_OID);
}

/*
 * describe_locks
 *		What migration number "round" of a dry run did to tables that
 *		existed before it: the strongest lock it took on each (the modes
 *		held now that were not held when the previous migration ended, in
 *		"known"), and whether it rewrote the table (its file changed).  A
 *		table's file before the migration is the one it had when the run
 *		last found a new lock on it (a lock held keeps other sessions from
 *		rewriting it), else the one it had when the run began ("files",
 *		sorted by OID); a table in neither was created by this migration.
 *		One exception, as rare as it is harmless: a table this run already
 *		holds ACCESS EXCLUSIVE on and rewrote in an earlier migration
 *		without a new lock is reported as rewritten again when a later
 *		migration takes a new, weaker mode on it.
 */
static char *
describe_locks(HTAB *known, int round, FmRelFile *files, int nfiles)
{
	StringInfoData buf;
	int			nheld;
	FmRelLock  *held = FmCatalogMyRelationLocks(&nheld);
	List	   *changed = NIL;
	NewLock    *news;
	int			nnew = 0;
	ListCell   *lc;

	for (int i = 0; i < nheld; i++)
	{
		bool		found;
		KnownLock  *k = hash_search(known, &held[i].relid, HASH_ENTER, &found);

		if (!found)
		{
			k->round = -1;
			k->now = 0;
			k->listed = -1;
			k->looked_up = false;
		}
		if (k->round != round)
		{
			/* held when the previous migration ended, or not at all */
			k->before = k->round == round - 1 ? k->now : 0;
			k->now = 0;
			k->round = round;
		}
		k->now |= held[i].modes;
		if ((k->now & ~k->before) != 0 && k->listed != round)
		{
			k->listed = round;
			changed = lappend(changed, k);
		}
	}

	news = palloc(sizeof(NewLock) * (list_length(changed) + 1));
	foreach(lc, changed)
	{
		KnownLock  *k = (KnownLock *) lfirst(lc);
		LOCKMASK	fresh = k->now & ~k->before;
		bool		had_file = k->looked_up && k->table && k->before != 0;
		Oid			before_file = k->filenode;
		char	   *name = NULL;
		Oid			filenode;
		FmRelFile	key = {k->relid, InvalidOid};
		FmRelFile  *at_start;
		LOCKMODE	mode;

		k->looked_up = true;
		k->table = FmCatalogUserTable(k->relid, &name, &filenode);
		if (!k->table)
			continue;
		k->filenode = filenode;
		if (!had_file)
		{
			at_start = bsearch(&key, files, nfiles, sizeof(FmRelFile),
							   compare_relfiles);
			if (at_start == NULL)
				continue;		/* created by this migration */
			before_file = at_start->filenode;
		}
		for (mode = MaxLockMode; mode > NoLock; mode--)
		{
			if (fresh & LOCKBIT_ON(mode))
				break;
		}
		news[nnew].relation = name;
		news[nnew].mode = mode;
		news[nnew].rewritten = before_file != filenode;
		nnew++;
	}
	qsort(news, nnew, sizeof(NewLock), compare_new_locks);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "new locks:");
	for (int i = 0; i < nnew; i++)
		appendStringInfo(&buf, "%s %s %s%s", i > 0 ? "," : "",
						 news[i].relation,
						 GetLockmodeName(DEFAULT_LOCKMETHOD, news[i].mode),
						 news[i].rewritten ? " (rewritten)" : "");
	if (nnew == 0)
		appendStringInfoString(&buf, " none on existing tables");
	return buf.data;
}

/*
 * dry_run_consent
 *		What a dry run's migration "m" removed ("destroyed", FmDataLoss *)
 *		and, when the run's consent does not cover it, the consent a real
 *		run would need: "; removes: statement 2 (line 4): DROP TABLE t
 *		deletes 500 rows; needs allow_data_loss => ARRAY['019 drop']".
 */
static char *
dry_run_consent(const FmMigration *m, List *destroyed)
{
	bool		refused = false;
	bool		needs_call = false;
	ListCell   *lc;

	if (destroyed == NIL)
		return "";
	foreach(lc, destroyed)
	{
		const FmDataLoss *d = (const FmDataLoss *) lfirst(lc);

		if (!d->consented)
		{
			refused = true;
			needs_call |= d->needs_call;
		}
	}
	return psprintf("; removes: %s%s", FmDataLossText(destroyed, false),
					!refused ? "" :
					needs_call ?
					psprintf("; needs %s",
							 FmConsentArgument(list_make1((void *) m))) :
					"; needs allow_destructive");
}

/* The state of a dry run, for dry_run_all(). */
typedef struct DryRunArgs
{
	ApplyRun   *run;
	List	   *pending;
	MemoryContext run_cxt;		/* what the run knows of tables and locks */
	FmMigration *current;		/* the migration running; NULL: none yet */
	FmFailedAt	failed_at;
} DryRunArgs;

/*
 * Run every migration of the dry run, reporting each (apply_dry_run()).
 * The tables' files are read once, not before every migration, and the
 * locks are compared with those known (describe_locks()): with many tables
 * or many migrations, reading and describing everything after every
 * migration cost more than the migrations.
 */
static void
dry_run_all(void *arg)
{
	DryRunArgs *args = (DryRunArgs *) arg;
	ApplyRun   *run = args->run;
	MemoryContext oldcxt = CurrentMemoryContext;
	HASHCTL		ctl;
	HTAB	   *known;
	int			nfiles;
	FmRelFile  *files;
	ListCell   *lc;

	MemoryContextSwitchTo(args->run_cxt);
	files = FmCatalogTableFiles(&nfiles);
	MemoryContextSwitchTo(oldcxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(KnownLock);
	ctl.hcxt = args->run_cxt;
	known = hash_create("fleetmigrate dry run locks", 256, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	foreach(lc, args->pending)
	{
		FmMigration *current = (FmMigration *) lfirst(lc);
		char	   *scripts[3];
		double		duration_ms;
		int			nstatements;
		List	   *findings;
		List	   *destroyed;
		char	   *message;
		char	   *lint;

		args->current = current;
		if (!planned_scripts(run, current, scripts))
			break;
		MemoryContextSwitchTo(run->migration_cxt);
		/* linted as the database is before it runs */
		findings = FmLint(scripts[FM_SCRIPT_UP],
						  psprintf("up script of %s",
								   FmMigrationLabel(current->version, current->name)));
		lint = FmLintSummary(findings);
		MemoryContextSwitchTo(oldcxt);
		nstatements = FmRunMigration(current, scripts, run->applied_by,
									 run->migration_cxt, &duration_ms,
									 &args->failed_at);
		/* measured as each statement ran (consent.c), not enforced */
		destroyed = FmConsentLastDestroyed();
		MemoryContextSwitchTo(run->migration_cxt);
		message = psprintf("dry run: rolled back; %s; %s%s", lint,
						   describe_locks(known, foreach_current_index(lc) + 1,
										  files, nfiles),
						   dry_run_consent(current, destroyed));
		MemoryContextSwitchTo(oldcxt);
		put_row(run, current->version, current->name, "would_apply",
				duration_ms, nstatements, message);
		MemoryContextReset(run->migration_cxt);
	}
}

/*
 * apply_dry_run
 *		Run every pending migration inside one internal subtransaction, then
 *		roll it back (FmInSubtransaction()).  Rows say 'would_apply'; the
 *		first error becomes a row with status 'error' and ends the
 *		rehearsal.  Query cancel and shutdown are re-thrown, not reported.
 */
static void
apply_dry_run(ApplyRun *run, List *pending)
{
	DryRunArgs	args = {run, pending, NULL, NULL, {0, 0}};
	ErrorData  *edata;

	args.run_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "fleetmigrate dry run",
										 ALLOCSET_DEFAULT_SIZES);
	/* success or not, nothing of the rehearsal stays */
	edata = FmInSubtransaction(dry_run_all, &args, false, CurrentMemoryContext);
	if (edata != NULL)
	{
		const FmMigration *current = args.current;

		/* cancel and shutdown, or a failure before any migration: raise */
		if (current == NULL || FmErrorIsInterrupt(edata))
			ReThrowError(edata);
		else
		{
			FmExplainError(current, args.failed_at.statement, edata);
			put_row(run, current->version, current->name, "error", -1, -1,
					FmErrorText(edata, true));
			MemoryContextReset(run->migration_cxt);
		}
	}
	MemoryContextDelete(args.run_cxt);
}

/*
 * fleetmigrate.apply_pending(target text, dry_run boolean, params jsonb,
 *		allow_destructive boolean, wait boolean, allow_data_loss text[])
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
	FmRunOptions run_options;
	FmRun		fmrun;
	int			i;

	FmRunRefuseNested("apply_pending()");

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

	memset(&run_options, 0, sizeof(run_options));
	run_options.caller = "apply_pending()";
	run_options.session_lock = false;
	run_options.wait = opts.wait;
	run_options.params = PG_GETARG_JSONB_P(2);
	run_options.allow_destructive = PG_GETARG_BOOL(3);
	/* before 1.9 the SQL function has five arguments */
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		run_options.allow_data_loss =
			FmConsentParseList(PG_GETARG_ARRAYTYPE_P(5), "apply_pending()");
	/* a dry run shows the findings instead (apply_dry_run()) */
	run_options.check_destructive = !opts.dry_run;
	run_options.check_migration = refuse_non_transactional;

	FmRunStart(&fmrun, &run_options);
	PG_TRY();
	{
		if (!FmRunLock(&fmrun))
		{
			int			holder = FmCatalogLockHolder();

			put_row(&run, NULL, NULL, "skipped", -1, -1,
					holder != 0 ?
					psprintf("another fleetmigrate run is in progress (process %d); nothing was applied", holder) :
					"another fleetmigrate run is in progress; nothing was applied");
		}
		else
		{
			List	   *pending = FmRunPlan(&fmrun, opts.target);

			refuse_batched(pending);
			if (opts.dry_run)
				apply_dry_run(&run, pending);
			/*
			 * What is left to run is linted again, for the status view; and
			 * with fleetmigrate.wait_for_standbys the caller's commit waits
			 * until the standbys have replayed it.
			 */
			else if (apply_all(&run, pending) > 0)
			{
				FmRunRefreshLint(NULL, NULL);
				if (fm_wait_for_standbys > 0)
					FmStandbysWaitAtCommit();
			}
		}
	}
	PG_FINALLY();
	{
		FmRunEnd(&fmrun);
	}
	PG_END_TRY();

	if (debug_query_string != NULL)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);

	SPI_finish();
	return (Datum) 0;
}
