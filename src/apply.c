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
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "consent.h"
#include "lint.h"
#include "locks.h"
#include "params.h"
#include "parse.h"
#include "plan.h"
#include "run.h"
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
static void apply_all(ApplyRun *run, List *pending);
static void apply_dry_run(ApplyRun *run, List *pending);
static void put_row(ApplyRun *run, const char *version, const char *name,
					const char *status, double duration_ms, int statements,
					const char *message);

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
	const FmMigration *previous = NULL;
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
 *		with the catalog (FmExplainError()) before it propagates.
 */
static void
apply_all(ApplyRun *run, List *pending)
{
	ListCell   *lc;

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
	}
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

/* Locks by relation OID, then mode (HeldLocks). */
static int
compare_held(const void *a, const void *b)
{
	const FmLock *la = *(const FmLock *const *) a;
	const FmLock *lb = *(const FmLock *const *) b;

	if (la->relid != lb->relid)
		return la->relid < lb->relid ? -1 : 1;
	if (la->mode == NULL || lb->mode == NULL)
		return 0;				/* a key with no mode matches any */
	return strcmp(la->mode, lb->mode);
}

/*
 * HeldLocks
 *		The locks held when a dry run's migration starts, sorted by relation
 *		and mode for bsearch(), so that telling a migration's new locks
 *		costs what it locked, not what earlier ones did.
 */
typedef struct HeldLocks
{
	FmLock	  **locks;
	int			n;
} HeldLocks;

static void
held_locks_set(HeldLocks *held, List *locks)
{
	ListCell   *lc;

	held->n = list_length(locks);
	held->locks = palloc(sizeof(FmLock *) * (held->n + 1));
	foreach(lc, locks)
		held->locks[foreach_current_index(lc)] = lfirst(lc);
	qsort(held->locks, held->n, sizeof(FmLock *), compare_held);
}

/* The held lock on "relid" in "mode" (NULL: any mode); NULL if none. */
static const FmLock *
held_lock(const HeldLocks *held, Oid relid, const char *mode)
{
	FmLock		key = {relid, NULL, (char *) mode, InvalidOid};
	FmLock	   *keyp = &key;
	FmLock	  **found;

	if (held->n == 0)
		return NULL;
	found = bsearch(&keyp, held->locks, held->n, sizeof(FmLock *),
					compare_held);
	return found != NULL ? *found : NULL;
}

/*
 * describe_locks
 *		What a dry run's migration did to tables that existed before it:
 *		the strongest lock it took on each ("locks" now held, minus "held"
 *		before it), and whether it rewrote the table (its file changed).  A
 *		table's file before the migration is the one it had when an earlier
 *		migration of the run last locked it (a lock held keeps others from
 *		rewriting it), else the one it had when the run began ("files",
 *		sorted by OID); a table in neither was created by this migration.
 *		Locks an earlier migration of the run took are not repeated.
 */
static char *
describe_locks(List *locks, const HeldLocks *held, FmRelFile *files, int nfiles)
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

		if (strongest != NULL &&
			(lock == NULL || lock->relid != strongest->relid))
		{
			const FmLock *earlier = held_lock(held, strongest->relid, NULL);
			FmRelFile	key = {strongest->relid, InvalidOid};
			FmRelFile  *at_start = earlier != NULL ? NULL :
				bsearch(&key, files, nfiles, sizeof(FmRelFile),
						compare_relfiles);

			if (earlier != NULL || at_start != NULL)
			{
				Oid			before = earlier != NULL ?
					earlier->filenode : at_start->filenode;

				appendStringInfo(&buf, "%s %s %s%s", any ? "," : "",
								 strongest->relation, strongest->mode,
								 before != strongest->filenode ?
								 " (rewritten)" : "");
				any = true;
			}
			strongest = NULL;
		}
		if (lock == NULL)
			break;
		if (held_lock(held, lock->relid, lock->mode) == NULL &&
			(strongest == NULL || lock_rank(lock->mode) > lock_rank(strongest->mode)))
			strongest = lock;
	}
	if (!any)
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
	MemoryContext run_cxt;		/* the tables' files when the run began */
	FmMigration *current;		/* the migration running; NULL: none yet */
	FmFailedAt	failed_at;
} DryRunArgs;

/*
 * Run every migration of the dry run, reporting each (apply_dry_run()).
 * The tables' files are read once, not before every migration: with many
 * tables that read cost more than the migrations.
 */
static void
dry_run_all(void *arg)
{
	DryRunArgs *args = (DryRunArgs *) arg;
	ApplyRun   *run = args->run;
	MemoryContext oldcxt = CurrentMemoryContext;
	/* the locks held before the migration, and the ones after it */
	MemoryContext held_cxt = AllocSetContextCreate(args->run_cxt,
												   "fleetmigrate dry run locks held",
												   ALLOCSET_SMALL_SIZES);
	MemoryContext locks_cxt = AllocSetContextCreate(args->run_cxt,
													"fleetmigrate dry run locks",
													ALLOCSET_SMALL_SIZES);
	HeldLocks	held = {NULL, 0};
	int			nfiles;
	FmRelFile  *files;
	ListCell   *lc;

	MemoryContextSwitchTo(args->run_cxt);
	files = FmCatalogTableFiles(&nfiles);
	MemoryContextSwitchTo(oldcxt);

	foreach(lc, args->pending)
	{
		FmMigration *current = (FmMigration *) lfirst(lc);
		char	   *scripts[3];
		double		duration_ms;
		int			nstatements;
		List	   *locks;
		List	   *findings;
		List	   *destroyed;
		char	   *message;
		char	   *lint;
		MemoryContext swap;

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
		MemoryContextSwitchTo(locks_cxt);
		locks = FmCatalogMyLocks();
		MemoryContextSwitchTo(run->migration_cxt);
		message = psprintf("dry run: rolled back; %s; %s%s", lint,
						   describe_locks(locks, &held, files, nfiles),
						   dry_run_consent(current, destroyed));
		/* this migration's locks are the next one's "held" */
		MemoryContextSwitchTo(locks_cxt);
		held_locks_set(&held, locks);
		MemoryContextReset(held_cxt);
		swap = held_cxt;
		held_cxt = locks_cxt;
		locks_cxt = swap;
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

			if (opts.dry_run)
				apply_dry_run(&run, pending);
			else
				apply_all(&run, pending);
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
