/*-------------------------------------------------------------------------
 *
 * preview.c
 *	  fleetmigrate.plan(): the plan-only dry run.  It reads the plan a run
 *	  would apply and checks it as the run would, but executes nothing of
 *	  the migrations, so that it is cheap and harmless on production.
 *
 * plan() is a run (run.c) that
 *	 1. takes no runner lock: it neither waits for a run nor makes one
 *		wait;
 *	 2. reads the plan without locking its rows (FmRunPlanUpToBlocked()
 *		with opts.read_only): the pending migrations up to "target" in
 *		apply order, checked as migrate() checks them.  The first migration
 *		the checks refuse (a broken requirement or conflict, out of order
 *		under out_of_order = 'error', a parameter not supplied) is a row
 *		with status 'refused' and the error a run would raise; those after
 *		it 'wait'.  What the call itself gets wrong (a parameter no pending
 *		migration declares, a target that matches nothing) is an ERROR;
 *	 3. for each migration: its statements parsed, its lint findings
 *		(lint.c), the relations its statements lock with the level the
 *		parser tells (FmStatementLocks()), and each existing one's row
 *		estimate from pg_class.reltuples.  Consent to data loss is a
 *		finding, not a check: deciding it needs counting rows, and plan()
 *		reads no application table.
 *
 * Everything it reads is the catalog (fleetmigrate's and the system's):
 * relation names are resolved without a lock, so plan() works in a
 * read-only transaction, writes nothing and leaves no dead row.
 *
 * Memory: the plan lives in the SPI procedure context; each migration's
 * scripts, parse trees and row datums in a per-migration context reset
 * after it.  Rows go to the tuplestore InitMaterializedSRF() set up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "batchspec.h"
#include "catalog.h"
#include "common.h"
#include "consent.h"
#include "lint.h"
#include "params.h"
#include "parse.h"
#include "plan.h"
#include "run.h"
#include "runner.h"

/* Columns of plan()'s result. */
#define PLAN_COLUMNS		9

/* One relation a migration locks (describe_locks()). */
typedef struct LockedRelation
{
	Oid			relid;			/* InvalidOid: absent now */
	char	   *name;			/* schema-qualified, or as the script says */
	LOCKMODE	mode;			/* the strongest of its statements */
	int			statement;		/* the first statement taking that mode */
	double		reltuples;		/* pg_class.reltuples; -1: never counted */
} LockedRelation;

/* One row of plan()'s result. */
typedef struct PlanRow
{
	const FmMigration *m;
	int			position;		/* from 1 */
	const char *status;			/* would_apply, refused, waits */
	int			statements;		/* -1: unknown (unregistered meanwhile) */
	char	   *lint;
	char	   *locks;
	int64		rows;			/* -1: no estimate */
	char	   *checks;			/* NULL: nothing to say */
} PlanRow;

PG_FUNCTION_INFO_V1(fleetmigrate_plan);

static LockedRelation *locked_relation(List **relations, FmLockTarget *t);
static char *describe_locks(List *stmts, int64 *rows);
static char *consent_findings(const FmMigration *m, List *findings);
static void describe_migration(PlanRow *row, char *checks);
static void put_row(ReturnSetInfo *rsinfo, const PlanRow *row);

/*
 * locked_relation
 *		The entry of "relations" (LockedRelation *) for the relation lock
 *		target "t" names, added if new.  Resolved with the caller's
 *		search_path and no lock; a relation that does not exist now (an
 *		earlier migration of the plan may create it) is kept by its name.
 */
static LockedRelation *
locked_relation(List **relations, FmLockTarget *t)
{
	Oid			relid = RangeVarGetRelid(t->relation, NoLock, true);
	char	   *name;
	LockedRelation *r;
	ListCell   *lc;

	if (OidIsValid(relid))
		name = FmRelationName(relid);
	else if (t->relation->schemaname != NULL)
		name = quote_qualified_identifier(t->relation->schemaname,
										  t->relation->relname);
	else
		name = pstrdup(quote_identifier(t->relation->relname));
	foreach(lc, *relations)
	{
		r = (LockedRelation *) lfirst(lc);
		if (OidIsValid(relid) ? r->relid == relid : strcmp(r->name, name) == 0)
			return r;
	}
	r = palloc0(sizeof(LockedRelation));
	r->relid = relid;
	r->name = name;
	r->reltuples = -1;
	if (OidIsValid(relid))
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

		if (HeapTupleIsValid(tuple))
		{
			r->reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
			ReleaseSysCache(tuple);
		}
	}
	*relations = lappend(*relations, r);
	return r;
}

/*
 * describe_locks
 *		The relations the statements "stmts" (FmStatement *) lock, each with
 *		the strongest level the parser tells and its estimated rows:
 *		"public.big ACCESS EXCLUSIVE (statement 1, about 3000000 rows)".
 *		Sets *rows to the sum of the estimates (-1: no existing table has
 *		one).
 */
static char *
describe_locks(List *stmts, int64 *rows)
{
	List	   *relations = NIL;
	StringInfoData buf;
	ListCell   *lc;

	foreach(lc, stmts)
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, FmStatementLocks(stmt->parsetree))
		{
			FmLockTarget *t = (FmLockTarget *) lfirst(lc2);
			LockedRelation *r = locked_relation(&relations, t);

			if (t->mode > r->mode)
			{
				r->mode = t->mode;
				r->statement = stmt->number;
			}
		}
	}

	*rows = -1;
	initStringInfo(&buf);
	foreach(lc, relations)
	{
		LockedRelation *r = (LockedRelation *) lfirst(lc);

		appendStringInfo(&buf, "%s%s %s (statement %d, ",
						 buf.len > 0 ? ", " : "", r->name,
						 FmLockModeName(r->mode), r->statement);
		if (!OidIsValid(r->relid))
			appendStringInfoString(&buf, "absent now)");
		else if (r->reltuples < 0)
			appendStringInfoString(&buf, "rows not estimated yet)");
		else
			appendStringInfo(&buf, "about %.0f row%s)", r->reltuples,
							 r->reltuples == 1 ? "" : "s");
		if (OidIsValid(r->relid) && r->reltuples >= 0)
			*rows = Max(*rows, 0) + (int64) r->reltuples;
	}
	return buf.len > 0 ? buf.data : pstrdup("none on existing tables");
}

/*
 * consent_findings
 *		The consent a run would need for the destructive findings of
 *		migration "m", as a check text; NULL if it has none.  Judged from
 *		lint alone: whether the objects hold data decides between
 *		allow_destructive and allow_data_loss, and plan() counts nothing.
 */
static char *
consent_findings(const FmMigration *m, List *findings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, findings)
	{
		FmFinding  *f = (FmFinding *) lfirst(lc);

		if (!FM_FINDING_NEEDS_CONSENT(f))
			continue;
		appendStringInfo(&buf, "%sstatement %d %s%s%s",
						 buf.len > 0 ? ", " : "", f->statement, f->rule,
						 f->target ? " on " : "", f->target ? f->target : "");
	}
	if (buf.len == 0)
		return NULL;
	return psprintf("destructive: %s; a run needs %s if the objects hold data, else %s",
					buf.data, FmConsentArgument(list_make1((void *) m)),
					m->allow_destructive ?
					"nothing more (registered with allow_destructive)" :
					"allow_destructive => true");
}

/*
 * describe_migration
 *		Fill "row" for its migration: statements, lint, locks, estimates,
 *		and the checks (after "checks", the run's own verdict, if any).
 *		Allocates in the current (per-migration) context.
 */
static void
describe_migration(PlanRow *row, char *checks)
{
	const FmMigration *m = row->m;
	char	   *label = psprintf("up script of %s",
								 FmMigrationLabel(m->version, m->name));
	char	   *up;
	List	   *notes = NIL;
	StringInfoData buf;
	ListCell   *lc;

	if (checks != NULL)
		notes = lappend(notes, checks);
	/*
	 * The up script as the plan check reads it (consent.c): plan() costs
	 * about what a run spends checking its plan.  Whether the stored text
	 * still matches its checksum is for the run (and validate()) to say.
	 */
	up = FmCatalogUpScriptIfAny(m);
	if (up == NULL)
	{
		row->statements = -1;
		row->lint = NULL;
		row->locks = NULL;
		row->rows = -1;
		notes = lappend(notes, "unregistered after this plan was read");
	}
	else
	{
		List	   *stmts = FmSplitScript(up, label);
		List	   *findings = FmLint(up, label);
		char	   *consent;

		row->statements = list_length(stmts);
		row->lint = FmLintSummary(findings);
		/* "lint: ok" in a column named lint says it twice */
		if (strncmp(row->lint, "lint: ", 6) == 0)
			row->lint += 6;
		row->locks = describe_locks(stmts, &row->rows);
		if (!m->transactional)
			notes = lappend(notes, "runs outside a transaction: CALL fleetmigrate.migrate() applies it, apply_pending() refuses a plan that contains it");
		if (FmBatchDeclared(up))
			notes = lappend(notes, "batched (a \"-- batch:\" line): CALL fleetmigrate.migrate() applies it one range of keys per transaction, apply_pending() refuses a plan that contains it; the key and the condition are checked when the run starts");
		if (m->out_of_order)
			notes = lappend(notes, "out of order: it sorts before the latest applied migration");
		consent = consent_findings(m, findings);
		if (consent != NULL)
			notes = lappend(notes, consent);
	}
	initStringInfo(&buf);
	foreach(lc, notes)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? "; " : "",
						 (char *) lfirst(lc));
	row->checks = buf.len > 0 ? buf.data : NULL;
}

/* Add "row" to the result. */
static void
put_row(ReturnSetInfo *rsinfo, const PlanRow *row)
{
	Datum		values[PLAN_COLUMNS];
	bool		nulls[PLAN_COLUMNS];

	memset(nulls, false, sizeof(nulls));
	values[0] = CStringGetTextDatum(row->m->version);
	values[1] = CStringGetTextDatum(row->m->name);
	values[2] = Int32GetDatum(row->position);
	values[3] = CStringGetTextDatum(row->status);
	values[4] = Int32GetDatum(row->statements);
	nulls[4] = row->statements < 0;
	values[5] = row->lint ? CStringGetTextDatum(row->lint) : (Datum) 0;
	nulls[5] = row->lint == NULL;
	values[6] = row->locks ? CStringGetTextDatum(row->locks) : (Datum) 0;
	nulls[6] = row->locks == NULL;
	values[7] = Int64GetDatum(row->rows);
	nulls[7] = row->rows < 0;
	values[8] = row->checks ? CStringGetTextDatum(row->checks) : (Datum) 0;
	nulls[8] = row->checks == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * fleetmigrate.plan(target text, params jsonb)
 *	RETURNS TABLE(version, name, "position", status, statements, lint,
 *				  locks, rows, checks)
 */
Datum
fleetmigrate_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = PG_ARGISNULL(0) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext migration_cxt;
	FmRunOptions opts;
	FmRun		run;
	FmBlocked	blocked;

	FmRunRefuseNested("plan()");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"params\" of plan() cannot be null")));

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	migration_cxt = AllocSetContextCreate(CurrentMemoryContext,
										  "fleetmigrate plan migration",
										  ALLOCSET_DEFAULT_SIZES);

	memset(&opts, 0, sizeof(opts));
	opts.caller = "plan()";
	opts.wait = false;
	opts.params = PG_GETARG_JSONB_P(1);
	/* consent is a finding here (consent_findings()): nothing is counted */
	opts.check_destructive = false;
	opts.read_only = true;

	FmRunStart(&run, &opts);
	PG_TRY();
	{
		ListCell   *lc;

		(void) FmRunPlanUpToBlocked(&run, target, &blocked);
		foreach(lc, run.pending)
		{
			PlanRow		row;
			int			position = foreach_current_index(lc) + 1;
			MemoryContext oldcxt = MemoryContextSwitchTo(migration_cxt);
			char	   *checks = NULL;

			memset(&row, 0, sizeof(row));
			row.m = (const FmMigration *) lfirst(lc);
			row.position = position;
			if (blocked.m == NULL || position < blocked.position)
				row.status = "would_apply";
			else if (position == blocked.position)
			{
				row.status = "refused";
				checks = FmErrorText(blocked.edata, true);
			}
			else
			{
				row.status = "waits";
				checks = psprintf("waits for migration \"%s %s\", which the checks refuse",
								  blocked.m->version, blocked.m->name);
			}
			describe_migration(&row, checks);
			MemoryContextSwitchTo(oldcxt);
			put_row(rsinfo, &row);
			MemoryContextReset(migration_cxt);
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
