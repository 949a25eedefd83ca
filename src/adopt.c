/*-------------------------------------------------------------------------
 *
 * adopt.c
 *	  Adopting an existing database: baseline() in its two forms,
 *	  unbaseline() and import_history().  Each is a run (run.c): it takes
 *	  the runner lock, like apply_pending().
 *
 * A migration is adopted (state 'baseline', without running it) only when
 * the database has what its up script creates (FmCheckObjects(), objects.c)
 * and its verify script, if it has one, passes (FmVerifyMigration(), rolled
 * back).  baseline() is all or nothing: one error lists every migration
 * that does not check out.  import_history() reads another tool's history
 * table as the calling user (plain SPI, no role switch: the caller's
 * privileges apply) and adopts what checks out, reporting each entry;
 * with strict => true it is all or nothing too.
 *
 * Everything happens in the caller's transaction: an error leaves nothing
 * adopted.  Memory: per-migration work in a context reset after each one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "definition.h"
#include "objects.h"
#include "order.h"
#include "parse.h"
#include "run.h"
#include "runner.h"

/* One entry of another tool's history. */
typedef struct SourceEntry
{
	char	   *version;		/* NULL: the tool has none */
	char	   *name;			/* NULL: the tool has none */
	char	   *skip;			/* why it is not taken; NULL: it ran */
	List	   *statements;		/* char *: supabase's statements; else NIL */
} SourceEntry;

/* What a tool keeps, and how its entries map to migrations. */
typedef struct ToolDef
{
	const char *tool;
	const char *schema;			/* NULL: the caller's search_path */
	const char *table;
	const char *sql;			/* version, name, skip, statements */
} ToolDef;

static const ToolDef tools[] = {
	{"supabase", "supabase_migrations", "schema_migrations",
		"SELECT version::pg_catalog.text, name::pg_catalog.text, NULL::pg_catalog.text,"
		"       statements::pg_catalog.text[]"
		"  FROM supabase_migrations.schema_migrations ORDER BY version COLLATE \"C\""},
	{"flyway", NULL, "flyway_schema_history",
		"SELECT version::pg_catalog.text, description::pg_catalog.text,"
		"       CASE WHEN NOT success THEN 'failed in Flyway (success = false)'"
		"            WHEN type OPERATOR(pg_catalog.~~) '%BASELINE'"
		"            THEN 'Flyway''s baseline marker, not a migration: baseline what it stands for with fleetmigrate.baseline()'"
		"            WHEN version IS NULL THEN 'a repeatable migration (no version): fleetmigrate runs repeatable migrations itself'"
		"            WHEN type OPERATOR(pg_catalog.<>) ALL (ARRAY['SQL', 'JDBC', 'SPRING_JDBC', 'SCRIPT'])"
		"            THEN pg_catalog.format('a Flyway entry of type %s, not a migration', type)"
		"       END, NULL::pg_catalog.text[]"
		"  FROM flyway_schema_history ORDER BY installed_rank"},
	{"dbmate", NULL, "schema_migrations",
		"SELECT version::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text,"
		"       NULL::pg_catalog.text[]"
		"  FROM schema_migrations ORDER BY version::pg_catalog.text COLLATE \"C\""},
	{"golang-migrate", NULL, "schema_migrations",
		"SELECT version::pg_catalog.text, NULL::pg_catalog.text,"
		"       CASE WHEN dirty THEN 'dirty in golang-migrate: its last run failed part way' END,"
		"       NULL::pg_catalog.text[]"
		"  FROM schema_migrations ORDER BY version"},
	{"node-pg-migrate", NULL, "pgmigrations",
		"SELECT CASE WHEN pg_catalog.strpos(name, '_') OPERATOR(pg_catalog.>) 0"
		"            THEN pg_catalog.split_part(name, '_', 1) END,"
		"       CASE WHEN pg_catalog.strpos(name, '_') OPERATOR(pg_catalog.>) 0"
		"            THEN pg_catalog.substr(name, pg_catalog.strpos(name, '_') OPERATOR(pg_catalog.+) 1)"
		"            ELSE name END,"
		"       NULL::pg_catalog.text, NULL::pg_catalog.text[]"
		"  FROM pgmigrations ORDER BY run_on, id"},
	{"sqitch", "sqitch", "changes",
		"SELECT NULL::pg_catalog.text, change::pg_catalog.text, NULL::pg_catalog.text,"
		"       NULL::pg_catalog.text[]"
		"  FROM sqitch.changes ORDER BY committed_at, change COLLATE \"C\""},
	{"prisma", NULL, "_prisma_migrations",
		"SELECT CASE WHEN pg_catalog.strpos(migration_name, '_') OPERATOR(pg_catalog.>) 0"
		"            THEN pg_catalog.split_part(migration_name, '_', 1) END,"
		"       CASE WHEN pg_catalog.strpos(migration_name, '_') OPERATOR(pg_catalog.>) 0"
		"            THEN pg_catalog.substr(migration_name, pg_catalog.strpos(migration_name, '_') OPERATOR(pg_catalog.+) 1)"
		"            ELSE migration_name END,"
		"       CASE WHEN rolled_back_at IS NOT NULL THEN 'rolled back in Prisma (rolled_back_at is set)'"
		"            WHEN finished_at IS NULL THEN 'not finished in Prisma (finished_at is null: it failed or is still running)'"
		"       END, NULL::pg_catalog.text[]"
		"  FROM _prisma_migrations ORDER BY started_at, migration_name COLLATE \"C\""},
	{"query", NULL, NULL, NULL},
};

PG_FUNCTION_INFO_V1(fleetmigrate_baseline);
PG_FUNCTION_INFO_V1(fleetmigrate_baseline_list);
PG_FUNCTION_INFO_V1(fleetmigrate_unbaseline);
PG_FUNCTION_INFO_V1(fleetmigrate_import_history);
PG_FUNCTION_INFO_V1(fleetmigrate_repair);

static char *verify_problem(const FmMigration *m, const char *verify,
							 MemoryContext cxt);

/* How a migration's up script is named in a syntax error. */
static char *
adopt_label(const FmAdoptable *a)
{
	return psprintf("up script of migration \"%s %s\"", a->m.version, a->m.name);
}

/*
 * adopt_problem
 *		Why migration "a" cannot be adopted: the objects its up script
 *		creates that do not exist, or its verify script's failure; NULL when
 *		it checks out.  "set_check" is its object check made with the other
 *		migrations of a set (FmCheckObjectsSet()); NULL: check it alone.
 *		*unverified gets what the parser could not see (NULL: nothing).  Allocated in the current memory context; "cxt" is the
 *		verify script's working context.
 */
static char *
adopt_problem(FmAdoptable *a, const FmObjectCheck *set_check, MemoryContext cxt,
			  char **unverified)
{
	FmObjectCheck check;

	if (set_check != NULL)
		check = *set_check;
	else
		FmCheckObjects(a->up, adopt_label(a), &check);
	*unverified = NULL;
	if (check.unverified != NIL)
	{
		StringInfoData buf;
		ListCell   *lc;

		initStringInfo(&buf);
		foreach(lc, check.unverified)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", (char *) lfirst(lc));
		*unverified = buf.data;
	}
	if (check.missing != NIL)
		return psprintf("missing %s", FmObjectCheckText(&check, 20));
	/* its verify script checks a state that a later one of the set changes */
	if (check.changed_later && a->verify != NULL)
	{
		*unverified = psprintf("%s%sits verify script (a later migration of the set changes what it creates)",
							   *unverified ? *unverified : "", *unverified ? ", " : "");
		return NULL;
	}
	return verify_problem(&a->m, a->verify, cxt);
}

/*
 * verify_problem
 *		Why migration "m"'s verify script "verify" (NULL: none) fails, as
 *		"its verify script fails: ..."; NULL when it passes.  The script
 *		runs in a subtransaction that is rolled back, its memory in "cxt"
 *		(reset here).  Allocated in the current memory context.
 */
static char *
verify_problem(const FmMigration *m, const char *verify, MemoryContext cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	char	   *problem = NULL;

	if (verify == NULL)
		return NULL;
	PG_TRY();
	{
		(void) FmVerifyMigration(m, verify, cxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* FmVerifyMigration() rolled its subtransaction back */
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (FmErrorIsInterrupt(edata))
			PG_RE_THROW();
		FlushErrorState();
		problem = psprintf("its verify script fails: %s", FmErrorText(edata, true));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(cxt);
	return problem;
}

/*
 * baseline_set
 *		Check every migration of "set" (FmAdoptable *, in apply order; the
 *		objects against the state the set leaves, so that what a later one
 *		drops is not expected of an earlier one), then mark each
 *		baselined and put a row for it into the result.  ERRORs, with
 *		nothing baselined, listing every migration that does not check out.
 */
static void
baseline_set(List *set, const char *by, const char *reason,
			 ReturnSetInfo *rsinfo)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "fleetmigrate baseline check",
											  ALLOCSET_DEFAULT_SIZES);
	StringInfoData problems;
	StringInfoData unseen;
	ListCell   *lc;
	int			nproblems = 0;
	FmAdoptable *first = NULL;
	List	   *scripts = NIL;
	List	   *labels = NIL;
	FmObjectCheck *checks = palloc0(sizeof(FmObjectCheck) * Max(list_length(set), 1));

	initStringInfo(&problems);
	initStringInfo(&unseen);
	/* the objects, against the state the whole set leaves */
	foreach(lc, set)
	{
		FmAdoptable *a = lfirst(lc);

		scripts = lappend(scripts, a->up);
		labels = lappend(labels, adopt_label(a));
	}
	FmCheckObjectsSet(scripts, labels, checks);
	foreach(lc, set)
	{
		FmAdoptable *a = lfirst(lc);
		char	   *unverified;
		char	   *problem = adopt_problem(a, &checks[foreach_current_index(lc)],
											cxt, &unverified);

		if (problem != NULL)
		{
			if (nproblems++ == 0)
				first = a;
			appendStringInfo(&problems, "%s %s: %s.\n", a->m.version, a->m.name,
							 problem);
		}
		if (unverified != NULL)
			appendStringInfo(&unseen, "%s%s %s: %s", unseen.len > 0 ? "; " : "",
							 a->m.version, a->m.name, unverified);
	}
	if (nproblems > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 nproblems == 1 ?
				 errmsg("cannot baseline %s: the database does not match it",
						FmMigrationLabel(first->m.version, first->m.name)) :
				 errmsg("cannot baseline %d migrations: the database does not match them",
						nproblems),
				 errdetail("%sNothing was baselined.", problems.data),
				 errhint("A baseline says that a migration already ran. Apply the migrations that did not run instead (fleetmigrate.apply_pending()), or baseline only the ones whose objects exist, as in fleetmigrate.baseline(ARRAY['001', '002 add_index'], reason => '...').")));
	if (unseen.len > 0)
		ereport(NOTICE,
				(errmsg("part of what the baselined migrations do was not verified"),
				 errdetail("Not verified: %s.", unseen.data)));

	foreach(lc, set)
	{
		FmAdoptable *a = lfirst(lc);
		Datum		row[2];
		bool		nulls[2] = {false, false};

		if (!FmCatalogMarkAdopted(&a->m, by, reason, "baseline"))
			elog(ERROR, "migration %s %s changed during baseline()", a->m.version, a->m.name);
		row[0] = CStringGetTextDatum(a->m.version);
		row[1] = CStringGetTextDatum(a->m.name);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	MemoryContextDelete(cxt);
}

/* ERROR for migrations of "set" that are in effect; "what" for the message. */
static void
refuse_in_effect(List *set, const char *version)
{
	StringInfoData list;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&list);
	foreach(lc, set)
	{
		FmAdoptable *a = lfirst(lc);

		if (!a->in_effect)
			continue;
		if (n < 10)
			appendStringInfo(&list, "%s%s %s (%s)", n > 0 ? ", " : "",
							 a->m.version, a->m.name, a->state);
		n++;
	}
	if (n == 0)
		return;
	if (n > 10)
		appendStringInfo(&list, " and %d more", n - 10);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot baseline up to version \"%s\": %d of those migrations %s already in effect",
					version, n, n == 1 ? "is" : "are"),
			 errdetail("Already in effect: %s. Nothing was changed.", list.data),
			 errhint("baseline() marks only migrations that have never run. Baseline up to an earlier version, or apply the pending ones with fleetmigrate.apply_pending().")));
}

/*
 * fleetmigrate.baseline(version text, reason text DEFAULT NULL)
 *		RETURNS TABLE(version text, name text)
 *
 * Mark every migration up to "version" as applied without running it, for
 * a database whose schema predates fleetmigrate; each must check out
 * (baseline_set()).
 */
Datum
fleetmigrate_baseline(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FmRunOptions run_options = {.caller = "baseline()", .wait = true};
	FmRun		run;
	char	   *version;
	char	   *reason;

	FmRunRefuseNested("baseline()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"version\" of baseline() cannot be null"),
				 errhint("Pass the version of the last migration your database already has, as in fleetmigrate.baseline('012').")));
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		List	   *set;
		ListCell   *lc;
		bytea	   *key = FmVersionKey(version, strlen(version));
		bool		known = false;

		(void) FmRunLock(&run);
		set = FmCatalogAdoptable(FM_ADOPT_UPTO, version);
		foreach(lc, set)
		{
			FmAdoptable *a = lfirst(lc);

			if (FmCompareVersionKeys(a->m.sort_key, key) == 0)
				known = true;
		}
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("version \"%s\" is not registered", version),
					 errdetail("baseline() marks the registered migrations up to a registered version as applied."),
					 errhint("Register your migrations first, then see SELECT version, name FROM fleetmigrate.status for their versions.")));
		refuse_in_effect(set, version);
		baseline_set(set, run.run_by, reason, rsinfo);
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
 * fleetmigrate.baseline(migrations text[], reason text DEFAULT NULL)
 *		RETURNS TABLE(version text, name text)
 *
 * Mark an explicit list of migrations ('version' or 'version name') as
 * applied without running them; each must check out (baseline_set()).
 */
Datum
fleetmigrate_baseline_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FmRunOptions run_options = {.caller = "baseline()", .wait = true};
	FmRun		run;
	ArrayType  *array;
	Datum	   *items;
	bool	   *itemnulls;
	int			nitems;
	char	   *reason;

	FmRunRefuseNested("baseline()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"migrations\" of baseline() cannot be null"),
				 errhint("Pass the migrations your database already has, as in fleetmigrate.baseline(ARRAY['001', '007 create_feedback_tables'], reason => '...').")));
	array = PG_GETARG_ARRAYTYPE_P(0);
	reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"migrations\" of baseline() must be a one-dimensional array")));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &items, &itemnulls, &nitems);
	if (nitems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the list of migrations to baseline is empty"),
				 errhint("Name each migration your database already has, as in fleetmigrate.baseline(ARRAY['001', '007 create_feedback_tables'], reason => '...').")));

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		List	   *set = NIL;
		ListCell   *lc;

		(void) FmRunLock(&run);
		for (int i = 0; i < nitems; i++)
		{
			char	   *entry;
			List	   *found;
			FmAdoptable *a;

			if (itemnulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("entry %d of the list of migrations to baseline is null", i + 1)));
			entry = TextDatumGetCString(items[i]);
			found = entry[0] == '\0' || entry[0] == ' ' ? NIL :
				FmCatalogAdoptable(FM_ADOPT_REF, entry);
			if (found == NIL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("migration \"%s\" is not registered", entry),
						 errdetail("Each entry is a version, or a version and a name separated by one space. Nothing was baselined."),
						 errhint("See SELECT version, name FROM fleetmigrate.status for the registered migrations.")));
			if (list_length(found) > 1)
			{
				StringInfoData names;

				initStringInfo(&names);
				foreach(lc, found)
					appendStringInfo(&names, "%s'%s %s'", names.len > 0 ? ", " : "",
									 ((FmAdoptable *) lfirst(lc))->m.version,
									 ((FmAdoptable *) lfirst(lc))->m.name);
				ereport(ERROR,
						(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
						 errmsg("version \"%s\" names %d migrations", entry, list_length(found)),
						 errdetail("Registered with that version: %s. Nothing was baselined.", names.data),
						 errhint("Name each one you mean with its version and name, as in %s.", names.data)));
			}
			a = linitial(found);
			foreach(lc, set)
			{
				FmAdoptable *b = lfirst(lc);

				if (strcmp(a->m.version, b->m.version) == 0 &&
					strcmp(a->m.name, b->m.name) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("%s is listed twice", FmMigrationLabel(a->m.version, a->m.name)),
							 errdetail("Nothing was baselined.")));
			}
			if (a->in_effect)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("%s is already %s", FmMigrationLabel(a->m.version, a->m.name),
								strcmp(a->state, "baseline") == 0 ? "baselined" : "applied"),
						 errdetail("Its state is \"%s\". Nothing was baselined.", a->state),
						 errhint("baseline() marks only migrations that have never run. Leave it out of the list.")));
			set = lappend(set, a);
		}
		baseline_set(set, run.run_by, reason, rsinfo);
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
	}
	PG_END_TRY();
	SPI_finish();
	return (Datum) 0;
}

/* Whether "reason" has something other than white space. */
static bool
has_text(const char *reason)
{
	for (const char *p = reason; p != NULL && *p != '\0'; p++)
	{
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return true;
	}
	return false;
}

/*
 * fleetmigrate.unbaseline(version text, name text, reason text) RETURNS text
 *
 * Undo one baseline: the migration is pending again and an 'unbaselined'
 * event records who did it and why.  Refused for a migration that is not
 * baselined, and for one that a migration in effect requires.
 */
Datum
fleetmigrate_unbaseline(PG_FUNCTION_ARGS)
{
	FmRunOptions run_options = {.caller = "unbaseline()", .wait = true};
	FmRun		run;
	char	   *version;
	char	   *name;
	char	   *reason;

	FmRunRefuseNested("unbaseline()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migration %s cannot be null",
						PG_ARGISNULL(0) ? "version" : "name")));
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!has_text(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unbaseline() needs a reason"),
				 errdetail("The reason is recorded in the history with who undid the baseline."),
				 errhint("Say why, as in fleetmigrate.unbaseline('%s', '%s', reason => 'baselined by mistake: the table never existed').",
						 version, name)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		char	   *state;
		List	   *dependents;

		(void) FmRunLock(&run);
		state = FmCatalogState(version, name);
		if (state == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("%s is not registered", FmMigrationLabel(version, name)),
					 errhint("See SELECT version, name, state FROM fleetmigrate.status for the registered migrations.")));
		if (strcmp(state, "baseline") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s is not baselined", FmMigrationLabel(version, name)),
					 errdetail("Its state is \"%s\". unbaseline() undoes a baseline() or an import_history(), nothing else.", state),
					 strcmp(state, "applied") == 0 ?
					 errhint("An applied migration is undone with fleetmigrate.rollback().") : 0));
		dependents = FmCatalogDependents(version, name);
		if (dependents != NIL)
		{
			StringInfoData list;
			ListCell   *lc;

			initStringInfo(&list);
			foreach(lc, dependents)
				appendStringInfo(&list, "%s\"%s\"", list.len > 0 ? ", " : "",
								 (char *) lfirst(lc));
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot unbaseline %s: %d migration%s in effect require%s it",
							FmMigrationLabel(version, name), list_length(dependents),
							list_length(dependents) == 1 ? "" : "s",
							list_length(dependents) == 1 ? "s" : ""),
					 errdetail("Required by: %s. Nothing was changed.", list.data),
					 errhint("Undo those first (fleetmigrate.rollback() or fleetmigrate.unbaseline()).")));
		}
		if (!FmCatalogUnbaseline(version, name, run.run_by, reason))
			elog(ERROR, "migration %s %s changed during unbaseline()", version, name);
		/* to run again: the status view shows its lint as of now */
		FmRunRefreshLint(version, name);
	}
	PG_FINALLY();
	{
		FmRunEnd(&run);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text("unbaselined"));
}

/* Copy the text[] "datum" into a list of C strings. */
static List *
text_items(Datum datum)
{
	ArrayType  *array = DatumGetArrayTypeP(datum);
	Datum	   *items;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(items[i]));
	}
	return result;
}

/* Whether every query of a WITH clause (NULL: none) is a SELECT. */
static bool
ctes_only_select(WithClause *with)
{
	ListCell   *lc;

	if (with == NULL)
		return true;
	foreach(lc, with->ctes)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (!IsA(cte->ctequery, SelectStmt))
			return false;
	}
	return true;
}

/*
 * read_source
 *		The entries of "tool"'s history, read as the calling user.  "query":
 *		the caller's query for tool 'query' (read-only, one SELECT with
 *		columns "version" and/or "name").
 */
static List *
read_source(const ToolDef *tool, const char *query)
{
	List	   *result = NIL;
	int			rc;
	int			vcol;
	int			ncol;

	if (tool->table != NULL)
	{
		RangeVar   *rv = makeRangeVar((char *) tool->schema, (char *) tool->table, -1);

		if (!OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("%s's history table %s does not exist", tool->tool,
							quote_qualified_identifier(tool->schema, tool->table)),
					 tool->schema == NULL ?
					 errdetail("import_history('%s') reads %s through the search_path (%s).",
							   tool->tool, tool->table,
							   GetConfigOption("search_path", false, false)) : 0,
					 errhint("Check the tool's name, or SET search_path to the schema that holds its table. For a table of your own, use import_history('query', query => 'SELECT version, name FROM ...').")));
		rc = SPI_execute(tool->sql, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			SourceEntry *e = palloc0(sizeof(SourceEntry));
			bool		isnull;
			Datum		d;

			e->version = SPI_getvalue(tuple, desc, 1);
			e->name = SPI_getvalue(tuple, desc, 2);
			e->skip = SPI_getvalue(tuple, desc, 3);
			d = SPI_getbinval(tuple, desc, 4, &isnull);
			if (!isnull)
				e->statements = text_items(d);
			result = lappend(result, e);
		}
		return result;
	}

	/* the caller's own query: one SELECT, read-only, as the caller */
	{
		List	   *statements = FmSplitScript(query, "query of import_history()");
		SelectStmt *select;

		if (list_length(statements) != 1 ||
			!IsA(((FmStatement *) linitial(statements))->parsetree, SelectStmt) ||
			(select = (SelectStmt *) ((FmStatement *) linitial(statements))->parsetree)->intoClause != NULL ||
			!ctes_only_select(select->withClause))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the query of import_history('query') must be one SELECT that changes nothing"),
					 errhint("Write a query that returns columns \"version\" and \"name\", as in import_history('query', query => 'SELECT version, name FROM legacy.schema_log').")));
	}
	/*
	 * Read-only for everything it calls as well: SPI's read_only flag checks
	 * only the statement itself, not a function of the caller's that writes.
	 */
	{
		bool		save_read_only = XactReadOnly;

		XactReadOnly = true;
		PG_TRY();
		{
			rc = SPI_execute(query, true, 0);
		}
		PG_FINALLY();
		{
			XactReadOnly = save_read_only;
		}
		PG_END_TRY();
	}
	if (rc != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of import_history('query') must be one SELECT that changes nothing")));
	vcol = SPI_fnumber(SPI_tuptable->tupdesc, "version");
	ncol = SPI_fnumber(SPI_tuptable->tupdesc, "name");
	if (vcol <= 0 && ncol <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the query of import_history('query') returns neither a \"version\" nor a \"name\" column"),
				 errhint("Name the columns, as in SELECT file_version AS version, file_name AS name FROM ....")));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		SourceEntry *e = palloc0(sizeof(SourceEntry));

		e->version = vcol > 0 ? SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, vcol) : NULL;
		e->name = ncol > 0 ? SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, ncol) : NULL;
		if (e->version == NULL && e->name == NULL)
			e->skip = "neither a version nor a name";
		result = lappend(result, e);
	}
	return result;
}

/* A name as compared: lower case, "-" and " " as "_". */
static char *
name_key(const char *name)
{
	char	   *key = pstrdup(name);

	for (char *p = key; *p; p++)
	{
		if (*p == '-' || *p == ' ')
			*p = '_';
		else if (*p >= 'A' && *p <= 'Z')
			*p = *p - 'A' + 'a';
	}
	return key;
}

/* The import's state, for its helpers. */
typedef struct Import
{
	ReturnSetInfo *rsinfo;
	const char *tool;
	const char *by;
	char	   *event_reason;
	MemoryContext cxt;			/* verify scripts' working context */
	StringInfoData refused;		/* for strict: not_registered, unverified */
	int			nrefused;
	List	   *items;			/* ImportItem *, in the history's order */
} Import;

/*
 * One result of the import, kept until every entry is mapped: a row as it
 * is ("a" NULL), or a migration to check and adopt.
 */
typedef struct ImportItem
{
	FmAdoptable *a;
	const char *note;
	const char *version;
	const char *name;
	const char *outcome;
	const char *detail;
} ImportItem;

/* A result row, put out after the check (emit_now()). */
static void
emit(Import *imp, const char *version, const char *name, const char *outcome,
	 const char *detail)
{
	ImportItem *item = palloc0(sizeof(ImportItem));

	item->version = version;
	item->name = name;
	item->outcome = outcome;
	item->detail = detail;
	imp->items = lappend(imp->items, item);
}

/* Migration "a" to check and adopt, after every entry is mapped. */
static void
adopt_later(Import *imp, FmAdoptable *a, const char *note)
{
	ImportItem *item = palloc0(sizeof(ImportItem));

	item->a = a;
	item->note = note;
	imp->items = lappend(imp->items, item);
}

static void
emit_now(Import *imp, const char *version, const char *name, const char *outcome,
		 const char *detail)
{
	Datum		row[4];
	bool		nulls[4] = {version == NULL, name == NULL, false, detail == NULL};

	row[0] = version ? CStringGetTextDatum(version) : (Datum) 0;
	row[1] = name ? CStringGetTextDatum(name) : (Datum) 0;
	row[2] = CStringGetTextDatum(outcome);
	row[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(imp->rsinfo->setResult, imp->rsinfo->setDesc, row, nulls);
	if (strcmp(outcome, "not_registered") == 0 || strcmp(outcome, "unverified") == 0)
	{
		if (imp->nrefused++ < 20)
			appendStringInfo(&imp->refused, "%s %s: %s: %s\n",
							 version ? version : "-", name ? name : "-",
							 outcome, detail);
	}
}

/*
 * Check migration "a" and adopt it; report the outcome.  "check" is its
 * object check, made with the others of the import.
 */
static void
import_one(Import *imp, FmAdoptable *a, const char *note,
		   const FmObjectCheck *check)
{
	char	   *unverified;
	char	   *problem;

	if (a->in_effect)
	{
		emit_now(imp, a->m.version, a->m.name, "already_applied",
			 psprintf("Its state is \"%s\".", a->state));
		return;
	}
	problem = adopt_problem(a, check, imp->cxt, &unverified);
	if (problem != NULL)
	{
		emit_now(imp, a->m.version, a->m.name, "unverified",
			 psprintf("%s%s; not imported: it stays %s.", note ? note : "", problem,
					  a->state));
		return;
	}
	if (!FmCatalogMarkAdopted(&a->m, imp->by, imp->event_reason, "imported"))
	{
		emit_now(imp, a->m.version, a->m.name, "already_applied",
			 "It was already in effect.");
		return;
	}
	a->in_effect = true;
	emit_now(imp, a->m.version, a->m.name, "imported",
		 psprintf("%s%s%s%s", note ? note : "",
				  check && check->changed_later ?
				  "its objects exist as later migrations of the history leave them" :
				  "its objects exist",
				  a->verify && !(check && check->changed_later) ?
				  " and its verify script passes" : "",
				  unverified ? psprintf(" (not verified: %s)", unverified) : ""));
}

/* Register a supabase entry from its statements; the adoptable row. */
static FmAdoptable *
register_from_statements(SourceEntry *e)
{
	FmDefinition def = {0};
	StringInfoData up;
	ListCell   *lc;
	List	   *found;

	initStringInfo(&up);
	foreach(lc, e->statements)
	{
		char	   *stmt = pstrdup(lfirst(lc));
		int			len = strlen(stmt);

		while (len > 0 && (stmt[len - 1] == ';' || stmt[len - 1] == ' ' ||
						   stmt[len - 1] == '\n' || stmt[len - 1] == '\t' ||
						   stmt[len - 1] == '\r'))
			stmt[--len] = '\0';
		if (len > 0)
			appendStringInfo(&up, "%s;\n", stmt);
	}
	def.version = e->version;
	def.name = e->name;
	def.up = up.data;
	def.origin = psprintf("supabase_migrations.schema_migrations version %s", e->version);
	(void) FmRegisterDefinition(&def);
	found = FmCatalogAdoptable(FM_ADOPT_REF, psprintf("%s %s", e->version, e->name));
	return found != NIL ? linitial(found) : NULL;
}

/* Map one entry of a tool's history to migrations, and import them. */
static void
import_entry(Import *imp, SourceEntry *e, bool supabase, bool golang)
{
	List	   *found;
	FmAdoptable *a = NULL;
	ListCell   *lc;

	if (e->skip != NULL && !golang)
	{
		emit(imp, e->version, e->name, "skipped", e->skip);
		return;
	}
	/* a row of the tool's table that names nothing can be matched to nothing */
	if (e->version == NULL && (golang || e->name == NULL))
	{
		emit(imp, NULL, e->name, "skipped",
			 golang ? "The entry has no version." :
			 "The entry has neither a version nor a name.");
		return;
	}
	if (golang)
	{
		bytea	   *key = FmVersionKey(e->version, strlen(e->version));
		bool		seen = false;

		/* golang-migrate keeps one row: the last version it ran */
		found = FmCatalogAdoptable(FM_ADOPT_UPTO, e->version);
		foreach(lc, found)
		{
			FmAdoptable *m = lfirst(lc);
			bool		last = FmCompareVersionKeys(m->m.sort_key, key) == 0;

			if (m->m.repeatable)
				continue;
			seen |= last;
			if (last && e->skip != NULL)
				emit(imp, m->m.version, m->m.name, "skipped", e->skip);
			else
				adopt_later(imp, m, last ? NULL : psprintf("up to golang-migrate's version %s: ", e->version));
		}
		if (!seen)
			emit(imp, e->version, NULL, e->skip ? "skipped" : "not_registered",
				 e->skip ? e->skip : "golang-migrate's last version is not a registered version.");
		return;
	}

	if (e->version != NULL)
	{
		found = FmCatalogAdoptable(FM_ADOPT_VERSION, e->version);
		if (list_length(found) > 1 && e->name != NULL)
		{
			List	   *named = NIL;
			StringInfoData names;

			initStringInfo(&names);
			foreach(lc, found)
			{
				FmAdoptable *m = lfirst(lc);

				appendStringInfo(&names, "%s%s %s", names.len > 0 ? ", " : "",
								 m->m.version, m->m.name);
				if (strcmp(name_key(m->m.name), name_key(e->name)) == 0)
					named = lappend(named, m);
			}
			if (named == NIL)
			{
				emit(imp, e->version, e->name, "not_registered",
					 psprintf("Version %s names %d registered migrations (%s), none of them \"%s\".",
							  e->version, list_length(found), names.data, e->name));
				return;
			}
			found = named;
		}
	}
	else
		found = FmCatalogAdoptable(FM_ADOPT_NAME, e->name);

	if (found == NIL && supabase && e->version != NULL && e->name != NULL)
	{
		a = register_from_statements(e);
		if (a != NULL)
		{
			adopt_later(imp, a, "registered from its statements; ");
			return;
		}
	}
	if (found == NIL)
	{
		emit(imp, e->version, e->name, "not_registered",
			 psprintf("%s says it ran, but no registered migration has %s \"%s\".", imp->tool,
					  e->version ? "version" : "name", e->version ? e->version : e->name));
		return;
	}
	if (list_length(found) > 1)
	{
		StringInfoData names;

		initStringInfo(&names);
		foreach(lc, found)
			appendStringInfo(&names, "%s%s %s", names.len > 0 ? ", " : "",
							 ((FmAdoptable *) lfirst(lc))->m.version,
							 ((FmAdoptable *) lfirst(lc))->m.name);
		emit(imp, e->version, e->name, "not_registered",
			 psprintf("It matches %d registered migrations (%s), and its name does not tell them apart.",
					  list_length(found), names.data));
		return;
	}
	adopt_later(imp, linitial(found), NULL);
}

/*
 * import_items
 *		Check the migrations the entries map to, together and in the
 *		history's order (what a later one drops is not expected of an
 *		earlier one, as for baseline()), adopt those that check out, and put
 *		out every row in order.
 */
static void
import_items(Import *imp)
{
	List	   *scripts = NIL;
	List	   *labels = NIL;
	FmObjectCheck *checks = palloc0(sizeof(FmObjectCheck) * Max(list_length(imp->items), 1));
	FmObjectCheck *next = checks;
	ListCell   *lc;

	foreach(lc, imp->items)
	{
		ImportItem *item = lfirst(lc);

		if (item->a != NULL && !item->a->in_effect)
		{
			scripts = lappend(scripts, item->a->up);
			labels = lappend(labels, adopt_label(item->a));
		}
	}
	FmCheckObjectsSet(scripts, labels, checks);
	foreach(lc, imp->items)
	{
		ImportItem *item = lfirst(lc);

		if (item->a == NULL)
			emit_now(imp, item->version, item->name, item->outcome, item->detail);
		else if (item->a->in_effect)
			import_one(imp, item->a, item->note, NULL);
		else
			import_one(imp, item->a, item->note, next++);
	}
}

/*
 * fleetmigrate.import_history(tool text, query text DEFAULT NULL,
 *		strict boolean DEFAULT false, reason text DEFAULT NULL)
 *	RETURNS TABLE(version text, name text, outcome text, detail text)
 *
 * Adopt another tool's history: each entry it says ran is mapped to a
 * registered migration, checked as baseline() checks, and adopted (state
 * 'baseline', an 'imported' event).  One row per entry.  Without strict,
 * what checks out is imported and the rest reported; with strict, an entry
 * not registered or unverified refuses the whole call.
 */
Datum
fleetmigrate_import_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FmRunOptions run_options = {.caller = "import_history()", .wait = true};
	FmRun		run;
	char	   *toolname;
	char	   *query;
	char	   *reason;
	bool		strict;
	const ToolDef *tool = NULL;
	Import		imp = {0};

	FmRunRefuseNested("import_history()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" of import_history() cannot be null",
						PG_ARGISNULL(0) ? "tool" : "strict")));
	toolname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	strict = PG_GETARG_BOOL(2);
	reason = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	for (int i = 0; i < lengthof(tools); i++)
	{
		if (strcmp(tools[i].tool, toolname) == 0)
			tool = &tools[i];
	}
	if (tool == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown tool \"%s\"", toolname),
				 errhint("The tools are supabase, flyway, dbmate, golang-migrate, node-pg-migrate, sqitch, prisma, and query (a query of your own: import_history('query', query => 'SELECT version, name FROM ...')).")));
	if (tool->table == NULL && query == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("import_history('query') needs a query"),
				 errhint("Pass it as query => 'SELECT version, name FROM legacy.schema_log'.")));
	if (tool->table != NULL && query != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a query is only for import_history('query')"),
				 errdetail("import_history('%s') reads %s itself.", tool->tool,
						   quote_qualified_identifier(tool->schema, tool->table))));

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	FmRunStart(&run, &run_options);
	PG_TRY();
	{
		List	   *entries;
		ListCell   *lc;

		(void) FmRunLock(&run);
		entries = read_source(tool, query);
		imp.rsinfo = rsinfo;
		imp.tool = tool->tool;
		imp.by = run.run_by;
		imp.event_reason = psprintf("imported from %s (%s)%s%s", tool->tool,
									tool->table ? quote_qualified_identifier(tool->schema, tool->table) :
									"a query",
									reason ? ": " : "", reason ? reason : "");
		imp.cxt = AllocSetContextCreate(CurrentMemoryContext,
										"fleetmigrate import check",
										ALLOCSET_DEFAULT_SIZES);
		initStringInfo(&imp.refused);
		foreach(lc, entries)
			import_entry(&imp, lfirst(lc), strcmp(tool->tool, "supabase") == 0,
						 strcmp(tool->tool, "golang-migrate") == 0);
		import_items(&imp);
		if (strict && imp.nrefused > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot import %s's history: %d entr%s did not check out",
							tool->tool, imp.nrefused, imp.nrefused == 1 ? "y" : "ies"),
					 errdetail("%sNothing was imported (strict => true).", imp.refused.data),
					 errhint("Register the missing migrations, or apply those whose objects are missing, and import again; without strict, what checks out is imported and the rest reported.")));
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
 * fleetmigrate.repair(version text, name text, reason text) RETURNS text
 *
 * Accept the registered up script of an applied migration as what the
 * database has: its applied checksum becomes the registered one, and a
 * 'repaired' event records who did it and why.  The database must match
 * the text, as for a baseline: the objects it creates exist and its verify
 * script, if any, passes.  Returns 'repaired', or 'unchanged' when there
 * was nothing to accept.
 */
Datum
fleetmigrate_repair(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *name;
	char	   *reason;
	char	   *p;
	char	   *up;
	char	   *verify;
	bool		repaired;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migration %s cannot be null",
						PG_ARGISNULL(0) ? "version" : "name")));
	FmRunRefuseNested("repair()");
	FmRefuseOnStandby("repair()");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	for (p = reason; p != NULL && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'); p++)
		;
	if (p == NULL || *p == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("repair() needs a reason"),
				 errdetail("The reason is recorded in the history with who repaired the migration."),
				 errhint("Say why the registered script is right, as in fleetmigrate.repair('%s', '%s', reason => 'whitespace fix in the file, same DDL').",
						 version, name)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	/* the database must match the text to accept */
	if (FmCatalogRepairScripts(version, name, &up, &verify))
	{
		FmMigration m = {.version = version, .name = name, .transactional = true};
		FmObjectCheck check;
		MemoryContext cxt;
		char	   *problem;

		FmCheckObjects(up, psprintf("up script of migration \"%s %s\"", version, name),
					   &check);
		if (check.missing != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("cannot repair %s: %d object%s its registered up script creates do%s not exist",
							FmMigrationLabel(version, name), list_length(check.missing),
							list_length(check.missing) == 1 ? "" : "s",
							list_length(check.missing) == 1 ? "es" : ""),
					 errdetail("Missing: %s. repair() accepts the registered text as what ran, and the database does not match it. Nothing was changed.",
							   FmObjectCheckText(&check, 20)),
					 errhint("Register the text that actually ran again, or put the change in a new migration and apply it.")));
		cxt = AllocSetContextCreate(CurrentMemoryContext, "fleetmigrate repair verify",
									ALLOCSET_DEFAULT_SIZES);
		problem = verify_problem(&m, verify, cxt);
		MemoryContextDelete(cxt);
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("cannot repair %s: the database does not match it",
							FmMigrationLabel(version, name)),
					 errdetail("Its objects exist, but %s. repair() accepts the registered text as what ran. Nothing was changed.",
							   problem),
					 errhint("Register the text that actually ran again, or put the change in a new migration and apply it.")));
	}
	repaired = FmCatalogRepair(version, name, GetUserNameFromId(GetUserId(), false),
							   reason);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(repaired ? "repaired" : "unchanged"));
}
