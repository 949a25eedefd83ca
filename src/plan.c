/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  Checks of a plan before anything runs, and explanations added to a
 *	  migration's error after it failed.
 *
 * A plan is the list of pending migrations one run would apply, in the
 * order it would apply them (FmCatalogPending()).  apply_pending() and
 * migrate() refuse, before running anything, a plan that
 *	 - breaks a requirement: a migration requires one that is neither in
 *	   effect nor earlier in the plan, or that is not registered at all;
 *	 - breaks a conflict: a migration conflicts with one that is in effect
 *	   or also in the plan;
 *	 - runs a migration out of order (it sorts before the latest applied
 *	   one) while fleetmigrate.out_of_order is 'error'.  With 'allow', the
 *	   default, such a migration runs after a NOTICE;
 *	 - contains a destructive statement (lint.c) without the consent that
 *	   what it would remove needs (consent.c, called by run.c).
 *
 * After a migration failed and its work was rolled back, FmExplainError()
 * may add a hint that needs the catalog: for "relation does not exist",
 * which registered migration creates that relation and why it has not run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"

#include "catalog.h"
#include "lint.h"
#include "order.h"
#include "parse.h"
#include "plan.h"

/* fleetmigrate.out_of_order (GUC, defined in fleetmigrate.c) */
int			fm_out_of_order = FM_OUT_OF_ORDER_ALLOW;

/* fleetmigrate.environment (GUC, defined in fleetmigrate.c; rollback.c) */
int			fm_environment = FM_ENVIRONMENT_PRODUCTION;

/* At most this many migrations are listed in one message. */
#define MAX_LISTED	10

static char *problem_text(const FmPlanProblem *p);
static char *problem_hint(const FmPlanProblem *p);
static void check_out_of_order(List *plan, const FmMigration *last);
static bool creates_relation(Node *parsetree, const char *schema,
							 const char *relname);
static char *missing_relation_hint(const FmMigration *m, const char *quoted);

/*
 * problem_text
 *		One broken requirement or conflict as a message: 'migration "005 b"
 *		requires migration "003 a", which would run after it'.
 */
static char *
problem_text(const FmPlanProblem *p)
{
	char	   *label = FmMigrationLabel(p->version, p->name);
	char	   *other;

	if (p->other_version == NULL)
		return psprintf("%s requires \"%s\", which is not registered",
						label, p->ref);
	other = FmMigrationLabel(p->other_version, p->other_name);
	if (p->conflict)
		return psprintf(p->other_in_effect ?
						"%s conflicts with %s, which is applied" :
						"%s conflicts with %s, which would be applied in the same run",
						label, other);
	return psprintf(p->other_planned ?
					"%s requires %s, which would run after it" :
					"%s requires %s, which is not applied and is not part of this run",
					label, other);
}

/*
 * problem_hint
 *		What to do about a broken requirement or conflict.
 */
static char *
problem_hint(const FmPlanProblem *p)
{
	if (p->other_version == NULL)
		return psprintf("Register the migration it requires, or register migration \"%s %s\" again without that requirement.",
						p->version, p->name);
	if (p->conflict && p->other_in_effect)
		return psprintf("Only one of two conflicting migrations can be applied. If they no longer conflict, register migration \"%s %s\" again without the conflict.",
						p->version, p->name);
	/* a target cannot separate two migrations of the same version */
	if (p->conflict &&
		FmCompareVersionKeys(FmVersionKey(p->version, strlen(p->version)),
							 FmVersionKey(p->other_version,
										  strlen(p->other_version))) == 0)
		return psprintf("Only one of two conflicting migrations can be applied, and a target cannot separate them: both have version %s. Remove the one you do not want with fleetmigrate.unregister(version, name), or register it again under a version of its own; if they no longer conflict, register migration \"%s %s\" again without the conflict.",
						p->version, p->version, p->name);
	if (p->conflict)
		return psprintf("Only one of two conflicting migrations can be applied. Apply with a target that stops before the later one, or, if they no longer conflict, register migration \"%s %s\" again without the conflict.",
						p->version, p->name);
	if (p->other_repeatable)
		return pstrdup("Repeatable migrations run after every versioned one, so a versioned migration can only require one that has already been applied.");
	return pstrdup("A required migration must sort before the one that requires it. Renumber them so that it does, or apply with no target if the target stops before it.");
}

/*
 * FmReportPlanProblems
 *		ERROR naming the first broken requirement or conflict of "problems"
 *		(FmCatalogPlanProblems()), with every one in the detail.  migrate()
 *		reports the one that blocks its run this way (run.c).
 */
void
FmReportPlanProblems(List *problems)
{
	const FmPlanProblem *first = (const FmPlanProblem *) linitial(problems);
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "Nothing was applied.");
	if (list_length(problems) > 1)
	{
		ListCell   *lc;
		int			n = 0;

		appendStringInfo(&detail, " The plan has %d such problems:",
						 list_length(problems));
		foreach(lc, problems)
		{
			char	   *text = problem_text((const FmPlanProblem *) lfirst(lc));

			if (++n > MAX_LISTED)
			{
				appendStringInfo(&detail, " And %d more.",
								 list_length(problems) - MAX_LISTED);
				break;
			}
			text[0] = pg_toupper((unsigned char) text[0]);
			appendStringInfo(&detail, " %s.", text);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg_internal("%s", problem_text(first)),
			 errdetail_internal("%s", detail.data),
			 errhint("%s", problem_hint(first))));
}

/*
 * check_out_of_order
 *		Migrations of the plan that sort before "last", the latest applied
 *		one: an ERROR naming them under out_of_order = 'error', a NOTICE for
 *		each under 'allow'.
 */
static void
check_out_of_order(List *plan, const FmMigration *last)
{
	StringInfoData list;
	const FmMigration *first = NULL;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&list);
	foreach(lc, plan)
	{
		const FmMigration *m = (const FmMigration *) lfirst(lc);

		if (!m->out_of_order)
			continue;
		if (fm_out_of_order == FM_OUT_OF_ORDER_ALLOW)
		{
			ereport(NOTICE,
					(errmsg("%s will run out of order",
							FmMigrationLabel(m->version, m->name)),
					 errdetail("It sorts before %s, which is already applied.",
							   FmMigrationLabel(last->version, last->name))));
			continue;
		}
		if (first == NULL)
			first = m;
		if (++n <= MAX_LISTED)
			appendStringInfo(&list, "%s\"%s %s\"", n > 1 ? ", " : "",
							 m->version, m->name);
	}
	if (first == NULL)
		return;
	if (n > MAX_LISTED)
		appendStringInfo(&list, " and %d more", n - MAX_LISTED);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 n == 1 ?
			 errmsg("%s would run out of order",
					FmMigrationLabel(first->version, first->name)) :
			 errmsg("%d migrations would run out of order", n),
			 errdetail("%s sort%s before %s, which is already applied, and fleetmigrate.out_of_order is \"error\". Nothing was applied.",
					   n == 1 ? "It" : psprintf("Migrations %s", list.data),
					   n == 1 ? "s" : "",
					   FmMigrationLabel(last->version, last->name)),
			 errhint("Renumber late-merged migrations to sort after the latest applied one, or SET fleetmigrate.out_of_order = allow to apply them anyway.")));
}

/*
 * FmCheckPlan
 *		ERROR, before anything runs, if "plan" breaks a requirement or a
 *		conflict, or runs a migration out of order where that is refused.
 *		"last" is the latest applied migration (NULL: none).
 */
void
FmCheckPlan(List *plan, const FmMigration *last)
{
	List	   *problems = FmCatalogPlanProblems(plan);

	if (problems != NIL)
		FmReportPlanProblems(problems);
	if (last != NULL)
		check_out_of_order(plan, last);
}

/*
 * creates_relation
 *		Whether a raw parse tree creates relation "relname" (in "schema", if
 *		not NULL, or unqualified): CREATE TABLE, CREATE FOREIGN TABLE,
 *		CREATE TABLE AS, CREATE MATERIALIZED VIEW, CREATE VIEW, CREATE
 *		SEQUENCE, or ALTER ... RENAME TO it.
 */
static bool
creates_relation(Node *parsetree, const char *schema, const char *relname)
{
	RangeVar   *rv;

	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		if (stmt->relation == NULL || stmt->newname == NULL ||
			stmt->relationType != OBJECT_TABLE ||
			(stmt->renameType != OBJECT_TABLE &&
			 stmt->renameType != OBJECT_VIEW &&
			 stmt->renameType != OBJECT_MATVIEW &&
			 stmt->renameType != OBJECT_SEQUENCE &&
			 stmt->renameType != OBJECT_FOREIGN_TABLE))
			return false;
		return FmNamesMatch(stmt->relation->schemaname, stmt->newname,
							schema, relname);
	}
	rv = FmCreatedRelation(parsetree);
	return rv != NULL && FmNamesMatch(rv->schemaname, rv->relname, schema, relname);
}

/*
 * missing_relation_hint
 *		For relation "quoted" ("name" or "schema.name", as the server's
 *		message has it) that migration "m" did not find: which registered
 *		migration creates it and what that means.
 */
static char *
missing_relation_hint(const FmMigration *m, const char *quoted)
{
	char	   *schema = NULL;
	char	   *relname = pstrdup(quoted);
	char	   *dot = strrchr(relname, '.');
	FmScript   *creator = NULL;
	ListCell   *lc;

	if (dot != NULL)
	{
		*dot = '\0';
		schema = relname;
		relname = dot + 1;
	}
	foreach(lc, FmCatalogMentioning(relname))
	{
		FmScript   *script = (FmScript *) lfirst(lc);
		ListCell   *lc2;

		if (strcmp(script->m.version, m->version) == 0 &&
			strcmp(script->m.name, m->name) == 0)
			continue;
		foreach(lc2, FmSplitScript(script->script, "up script"))
		{
			FmStatement *stmt = (FmStatement *) lfirst(lc2);

			if (creates_relation(stmt->parsetree, schema, relname))
			{
				/* prefer one that has not run: it explains the error */
				if (creator == NULL || (creator->in_effect && !script->in_effect))
					creator = script;
				break;
			}
		}
	}

	if (creator == NULL)
		return psprintf("No registered migration creates relation \"%s\". If it belongs to a schema created outside fleetmigrate (such as a core schema.sql), apply that first, or register it as a migration and list that migration in this one's requires.",
						quoted);
	if (creator->in_effect)
		return psprintf("Relation \"%s\" was created by migration \"%s %s\", which is applied: the relation has been dropped or renamed since, or it is in a schema that is not on the search_path.",
						quoted, creator->m.version, creator->m.name);
	if ((creator->m.repeatable && !m->repeatable) ||
		(creator->m.repeatable == m->repeatable &&
		 FmCompareMigrations(creator->m.sort_key, creator->m.version,
							 creator->m.name, m->sort_key, m->version,
							 m->name) > 0))
		return psprintf("Relation \"%s\" is created by migration \"%s %s\", which has not been applied and runs after this one. Renumber this migration to sort after it, and list it in this migration's requires so that a plan in the wrong order is refused before anything runs.",
						quoted, creator->m.version, creator->m.name);
	return psprintf("Relation \"%s\" is created by migration \"%s %s\", which has not been applied. Apply it first, and list it in this migration's requires.",
					quoted, creator->m.version, creator->m.name);
}

/*
 * FmExplainError
 *		Add what the catalog knows to the error of migration "m" (statement
 *		"statement" of its up script, 0: none), after its work was rolled
 *		back, so that the catalog can be read: for "relation does not exist"
 *		(and no hint of the server's own), which migration creates it.
 *		Allocates in the current memory context.
 */
void
FmExplainError(const FmMigration *m, int statement, ErrorData *edata)
{
	const char *open;
	const char *close;

	if (edata->sqlerrcode != ERRCODE_UNDEFINED_TABLE || edata->hint != NULL ||
		statement == 0 || edata->message == NULL)
		return;
	/* relation "name" does not exist: the name is the first quoted text */
	open = strchr(edata->message, '"');
	close = open ? strchr(open + 1, '"') : NULL;
	if (close == NULL || close == open + 1)
		return;
	edata->hint = missing_relation_hint(m, pnstrdup(open + 1, close - open - 1));
}
