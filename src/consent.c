/*-------------------------------------------------------------------------
 *
 * consent.c
 *	  Consent to data loss, scoped to the data that exists.
 *
 * lint.c finds a migration's destructive statements (DROP TABLE, DROP
 * COLUMN, TRUNCATE, DELETE or UPDATE without WHERE, also inside a WITH
 * query or EXPLAIN ANALYZE, MERGE ... THEN DELETE, a lossy type change,
 * DROP SCHEMA, DROP TYPE ... CASCADE, DROP OWNED, DROP EXTENSION, DROP
 * DATABASE, DROP of a sequence or type) and says what holds the data each
 * can remove (FmFinding.data); those that need consent are
 * FM_FINDING_NEEDS_CONSENT (a view or function dropped without CASCADE is
 * not: it holds no data).  Here that data is
 * measured and weighed against the run's consent:
 *	 - consent given at registration (allow_destructive => true, in a
 *	   bundle "-- flags: allow_destructive") and the call's
 *	   allow_destructive => true cover only objects that are absent or hold
 *	   no data when the statement runs;
 *	 - data that exists is removed only when the call names the migration
 *	   in allow_data_loss ('version' or 'version name' entries).  An entry
 *	   that names no migration of the run's plan is an error: a typo must
 *	   not consent to nothing.
 *
 * Two moments:
 *	 FmCheckPlanDestructive()	at plan time, under the runner lock, before
 *					anything runs: each destructive statement of each
 *					migration the call does not name is measured; the run
 *					is refused, saying which objects hold how much, if one
 *					lacks consent;
 *	 FmConsentBeforeStatement()	just before each destructive statement of
 *					an up script runs (runner.c), measured again: data
 *					that an earlier statement or migration of the run put
 *					there needs the same consent.  FmConsentAfterStatement()
 *					takes a DELETE's or UPDATE's processed row count, and
 *					FmConsentWatchEnd() hands the list of what was removed
 *					to the runner, which records it (events.destroyed,
 *					run_log.destroyed) and names it in the result rows.
 *
 * Measuring reads the data directly with a table scan under ACCESS SHARE
 * (a partitioned table's partitions and, unless ONLY, a table's inheritors
 * too), with the latest snapshot: exact, no row security policy hides rows
 * from it and no user code runs.  Counting stops at FM_COUNT_LIMIT rows (a
 * larger table holds "at least" that many), so that a DROP TABLE of a huge
 * table does not wait for a scan of all of it.  The caller needs SELECT on the table,
 * which an owner has, and no row-level security policy may apply to it there
 * (the count would tell it what the policy hides); otherwise the amount is
 * unknown and counts as data.
 * A DROP SCHEMA counts the rows of the schema's tables, a DROP TYPE or
 * DROP DOMAIN ... CASCADE the non-null values of the columns of that type
 * (or its array type), a DROP VIEW/FUNCTION ... CASCADE or a DROP EXTENSION
 * the rows of the tables and the values of the columns that go with it
 * (depend.c; when none go, no consent is needed), a DROP OWNED the rows of
 * the tables the role owns here, a MERGE ... THEN DELETE every row of its
 * target (an upper bound); a DROP DATABASE cannot be counted from here and
 * needs allow_data_loss when the database exists.  Sequences, types without
 * CASCADE and the like hold no rows.
 *
 * State: the run's consent is backend-local, set when a run starts and
 * forgotten when it ends (FmConsentSetRun(), FmConsentReset(), called by
 * run.c); the watch
 * of the migration running lives in the per-migration memory context that
 * FmConsentWatchBegin() is called in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "consent.h"
#include "depend.h"
#include "lint.h"
#include "parse.h"

/* At most this many statements, or migrations, are listed in a message. */
#define MAX_LISTED	20

/* The watch of the migration whose up script runs. */
typedef struct Watch
{
	const FmMigration *m;
	MemoryContext cxt;			/* where the losses are allocated */
	List	   *findings;		/* FmFinding *: its destructive findings */
	List	   *losses;			/* FmDataLoss *: measured so far */
} Watch;

/* The run's consent (FmConsentSetRun()). */
static bool run_allows_destructive = false;
static List *run_data_loss = NIL;	/* char *: allow_data_loss entries */
static bool run_enforces = false;
static const char *run_caller = NULL;

static Watch *watch = NULL;
static List *last_destroyed = NIL;

static int64 count_rows(Oid relid, const char *column, int64 limit);
static int64 measure_relation(RangeVar *rv, const char *column, bool inh);
static int64 measure_oids(List *relids, List *columns);
static int64 measure_schema(const char *schema);
static int64 measure_type(List *names);
static int64 measure_dependents(const FmFinding *f, FmDataLoss *d);
static FmDataLoss *measure(const FmFinding *f);
static void judge(FmDataLoss *d, const FmMigration *m);
static bool entry_matches(const char *entry, const FmMigration *m);
static bool call_consents(const FmMigration *m);
static List *destructive_findings(const FmMigration *m, const char *up);
static char *amount_text(const FmDataLoss *d);
static char *loss_sentence(const FmDataLoss *d, bool past);

/*
 * FmConsentParseList
 *		The entries of an allow_data_loss argument (NULL: none), trimmed,
 *		as a List of palloc'd strings.  ERRORs for a NULL or empty entry.
 */
List *
FmConsentParseList(ArrayType *entries, const char *caller)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	if (entries == NULL)
		return NIL;
	deconstruct_array(entries, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *entry;
		char	   *end;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"allow_data_loss\" of %s cannot contain null",
							caller)));
		entry = TextDatumGetCString(elems[i]);
		while (*entry == ' ' || *entry == '\t' || *entry == '\n')
			entry++;
		end = entry + strlen(entry);
		while (end > entry && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			*--end = '\0';
		if (*entry == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"allow_data_loss\" of %s cannot contain an empty entry",
							caller),
					 errhint("Name each migration as 'version' or 'version name'.")));
		result = lappend(result, entry);
	}
	return result;
}

/*
 * FmConsentRunText
 *		This run's consent as one text, for a background worker
 *		(FmConsentSetRunText()): "a" or "-" (allow_destructive), "e" or "-"
 *		(enforce), then each allow_data_loss entry after a unit separator
 *		(0x1f; an entry that names a migration of the plan holds none).
 *		Allocated in the current memory context.
 */
char *
FmConsentRunText(void)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, run_allows_destructive ? 'a' : '-');
	appendStringInfoChar(&buf, run_enforces ? 'e' : '-');
	foreach(lc, run_data_loss)
		appendStringInfo(&buf, "\x1f%s", (char *) lfirst(lc));
	return buf.data;
}

/*
 * FmConsentSetRunText
 *		FmConsentSetRun() from FmConsentRunText()'s "text", for "caller".
 */
void
FmConsentSetRunText(const char *text, const char *caller)
{
	List	   *entries = NIL;
	const char *p = text + 2;

	while (*p == '\x1f')
	{
		const char *end = strchr(p + 1, '\x1f');

		if (end == NULL)
			end = p + strlen(p);
		entries = lappend(entries, pnstrdup(p + 1, end - p - 1));
		p = end;
	}
	FmConsentSetRun(text[0] == 'a', entries, text[1] == 'e', caller);
}

/*
 * FmConsentSetRun
 *		This run's consent: allow_destructive => true ("allow"), the
 *		allow_data_loss entries ("data_loss", kept as given), and whether a
 *		statement without consent is refused when it runs ("enforce"; a dry
 *		run and a rehearsal report instead).  "caller" names the function
 *		for messages ("apply_pending()").  FmConsentReset() forgets it.
 */
void
FmConsentSetRun(bool allow, List *data_loss, bool enforce, const char *caller)
{
	run_allows_destructive = allow;
	run_data_loss = data_loss;
	run_enforces = enforce;
	run_caller = caller;
	watch = NULL;
	last_destroyed = NIL;
}

void
FmConsentReset(void)
{
	run_allows_destructive = false;
	run_data_loss = NIL;
	run_enforces = false;
	run_caller = NULL;
	watch = NULL;
	last_destroyed = NIL;
}

/* "019" matches every migration of version 019, "019 drop_legacy" one. */
static bool
entry_matches(const char *entry, const FmMigration *m)
{
	const char *space = strpbrk(entry, " \t\n");
	const char *name;

	if (space == NULL)
		return strcmp(entry, m->version) == 0;
	if (strlen(m->version) != (size_t) (space - entry) ||
		strncmp(entry, m->version, space - entry) != 0)
		return false;
	name = space;
	while (*name == ' ' || *name == '\t' || *name == '\n')
		name++;
	return strcmp(name, m->name) == 0;
}

/* Whether the call names migration "m" in allow_data_loss. */
static bool
call_consents(const FmMigration *m)
{
	ListCell   *lc;

	foreach(lc, run_data_loss)
	{
		if (entry_matches((const char *) lfirst(lc), m))
			return true;
	}
	return false;
}

/*
 * FmConsentArgument
 *		The argument that consents to the data loss of "migrations"
 *		(FmMigration *): allow_data_loss => ARRAY['019 drop_legacy'].
 */
char *
FmConsentArgument(List *migrations)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "allow_data_loss => ARRAY[");
	foreach(lc, migrations)
	{
		const FmMigration *m = (const FmMigration *) lfirst(lc);

		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(psprintf("%s %s", m->version, m->name)));
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * count_rows
 *		The rows of relation "relid" (locked by the caller) visible to the
 *		latest snapshot, or, with "column", its non-null values there, up
 *		to "limit" (counting stops there).  A
 *		view or a foreign table (a DELETE through it removes rows elsewhere)
 *		counts FM_AMOUNT_ELSEWHERE, another relation without storage of its
 *		own (a partitioned table) 0.
 */
static int64
count_rows(Oid relid, const char *column, int64 limit)
{
	Relation	rel;
	AttrNumber	attnum = InvalidAttrNumber;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		n = 0;
	char		relkind = get_rel_relkind(relid);

	if (relkind == RELKIND_FOREIGN_TABLE || relkind == RELKIND_VIEW)
		return FM_AMOUNT_ELSEWHERE;
	if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
		return 0;
	if (column != NULL)
	{
		attnum = get_attnum(relid, column);
		if (attnum <= 0)
			return 0;
	}
	rel = table_open(relid, NoLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (n < limit && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		if (attnum == InvalidAttrNumber || !slot_attisnull(slot, attnum))
			n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return n;
}

/*
 * may_count
 *		Whether the caller may count all the rows of relation "relid": it
 *		has SELECT on it, and no row-level security policy hides rows from
 *		it (count_rows() reads every row, so a count it could not make with
 *		SELECT would tell it something).  "missing" is set when the
 *		relation is gone.
 */
static bool
may_count(Oid relid, bool *missing)
{
	*missing = false;
	if (pg_class_aclcheck_ext(relid, GetUserId(), ACL_SELECT, missing) != ACLCHECK_OK)
		return false;
	return check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
}

/*
 * measure_oids
 *		The rows (with "columns", List of char * in step with "relids",
 *		non-null values) of relations "relids", each locked ACCESS SHARE
 *		here; FM_AMOUNT_UNKNOWN if the caller may not read one.
 */
static int64
measure_oids(List *relids, List *columns)
{
	int64		total = 0;

	for (int i = 0; i < list_length(relids); i++)
	{
		Oid			relid = list_nth_oid(relids, i);
		const char *column = columns ? list_nth(columns, i) : NULL;
		bool		missing = false;
		int64		n;

		if (!may_count(relid, &missing))
		{
			if (missing)
				continue;
			return FM_AMOUNT_UNKNOWN;
		}
		LockRelationOid(relid, AccessShareLock);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;			/* dropped meanwhile */
		n = count_rows(relid, column, FM_COUNT_LIMIT - total);
		if (n < 0)
			return n;
		total += n;
		if (total >= FM_COUNT_LIMIT)
			break;				/* enough to say "at least" */
	}
	return total;
}

/*
 * measure_relation
 *		The rows of the table "rv" names (with "column": that column's
 *		non-null values), with its partitions and, with "inh", its
 *		inheritors; FM_AMOUNT_ABSENT if it does not exist.  Takes ACCESS
 *		SHARE on each, held to the end of the transaction.
 */
static int64
measure_relation(RangeVar *rv, const char *column, bool inh)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	bool		missing = false;
	List	   *relids;
	List	   *columns = NIL;

	if (!OidIsValid(relid))
		return FM_AMOUNT_ABSENT;
	if (!may_count(relid, &missing))
		return missing ? FM_AMOUNT_ABSENT : FM_AMOUNT_UNKNOWN;
	relid = RangeVarGetRelidExtended(rv, AccessShareLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		return FM_AMOUNT_ABSENT;
	if (column != NULL && get_attnum(relid, column) == InvalidAttrNumber)
		return FM_AMOUNT_ABSENT;
	if (inh || get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		relids = find_all_inheritors(relid, AccessShareLock, NULL);
	else
		relids = list_make1_oid(relid);
	if (column != NULL)
	{
		for (int i = 0; i < list_length(relids); i++)
			columns = lappend(columns, (char *) column);
	}
	return measure_oids(relids, columns);
}

/* The rows of the tables of schema "schema"; FM_AMOUNT_ABSENT: no schema. */
static int64
measure_schema(const char *schema)
{
	Oid			nspid = get_namespace_oid(schema, true);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *relids = NIL;
	int			rc;

	if (!OidIsValid(nspid))
		return FM_AMOUNT_ABSENT;
	values[0] = ObjectIdGetDatum(nspid);
	rc = SPI_execute_with_args("SELECT c.oid FROM pg_catalog.pg_class c"
							   " WHERE c.relnamespace OPERATOR(pg_catalog.=) $1"
							   "   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::\"char\"[])"
							   " ORDER BY c.oid",
							   1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids,
							 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc,
															1, &isnull)));
	}
	SPI_freetuptable(SPI_tuptable);
	return measure_oids(relids, NIL);
}

/*
 * measure_type
 *		The non-null values of the table columns of type "names" or of its
 *		array type, which DROP TYPE ... CASCADE drops; FM_AMOUNT_ABSENT: no
 *		such type.
 */
static int64
measure_type(List *names)
{
	Oid			typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(names), true);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *relids = NIL;
	List	   *columns = NIL;
	int			rc;

	if (!OidIsValid(typid))
		return FM_AMOUNT_ABSENT;
	values[0] = ObjectIdGetDatum(typid);
	rc = SPI_execute_with_args("SELECT a.attrelid, a.attname::pg_catalog.text"
							   "  FROM pg_catalog.pg_attribute a"
							   "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
							   " WHERE a.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY[$1,"
							   "       (SELECT t.typarray FROM pg_catalog.pg_type t"
							   "         WHERE t.oid OPERATOR(pg_catalog.=) $1)])"
							   "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
							   "   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::\"char\"[])"
							   " ORDER BY a.attrelid, a.attnum",
							   1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;

		relids = lappend_oid(relids,
							 DatumGetObjectId(SPI_getbinval(tuple, SPI_tuptable->tupdesc,
															1, &isnull)));
		columns = lappend(columns, SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2));
	}
	SPI_freetuptable(SPI_tuptable);
	return measure_oids(relids, columns);
}

/*
 * measure_dependents
 *		The rows of the tables and the non-null values of the columns that
 *		dropping the object of finding "f" takes with it now (depend.c);
 *		FM_AMOUNT_ABSENT if the object does not exist.  Sets d->no_data
 *		when nothing that goes holds data, and d->values when only columns
 *		do.
 */
static int64
measure_dependents(const FmFinding *f, FmDataLoss *d)
{
	ObjectAddress address;
	FmDropReach *reach;
	int64		rows;
	int64		values;

	if (!FmDropObjectAddress(f->objtype, f->object, &address))
		return FM_AMOUNT_ABSENT;
	reach = FmDropReachOf(&address, f->cascade);
	if (!FmDropReachHoldsData(reach))
	{
		d->no_data = true;
		return 0;
	}
	rows = measure_oids(reach->relids, NIL);
	if (rows < 0)
		return rows;
	values = measure_oids(reach->colrels, reach->columns);
	if (values < 0)
		return values;
	d->values = reach->relids == NIL;
	d->mixed = reach->relids != NIL && reach->columns != NIL;
	return Min(rows + values, FM_COUNT_LIMIT);
}

/*
 * measure
 *		What destructive finding "f" would remove now.  Must be connected to
 *		SPI.  Allocates in the current memory context.
 */
static FmDataLoss *
measure(const FmFinding *f)
{
	FmDataLoss *d = palloc0(sizeof(FmDataLoss));

	d->finding = f;
	switch (f->data)
	{
		case FM_DATA_NONE:
			d->amount = 0;
			break;
		case FM_DATA_TABLE:
			d->amount = measure_relation(f->relation, NULL, f->inh);
			break;
		case FM_DATA_COLUMN:
			d->values = true;
			d->amount = measure_relation(f->relation, f->column, f->inh);
			break;
		case FM_DATA_SCHEMA:
			d->amount = measure_schema(strVal(linitial(f->names)));
			break;
		case FM_DATA_TYPE:
			d->values = true;
			d->amount = measure_type(f->names);
			break;
		case FM_DATA_DEPENDENTS:
			d->amount = measure_dependents(f, d);
			break;
		case FM_DATA_OWNED:
			{
				Oid			roleid = get_role_oid(strVal(linitial(f->names)), true);

				d->amount = OidIsValid(roleid) ?
					measure_oids(FmOwnedReach(roleid)->relids, NIL) : FM_AMOUNT_ABSENT;
				break;
			}
		case FM_DATA_DATABASE:
			d->amount = OidIsValid(get_database_oid(strVal(linitial(f->names)), true)) ?
				FM_AMOUNT_OTHER_DATABASE : FM_AMOUNT_ABSENT;
			break;
	}
	d->at_least = d->amount >= FM_COUNT_LIMIT;
	return d;
}

/*
 * judge
 *		Whether the run's consent covers loss "d" of migration "m": naming
 *		it in allow_data_loss covers everything; allow_destructive, given at
 *		registration or in the call, only what holds no data.
 */
static void
judge(FmDataLoss *d, const FmMigration *m)
{
	/* what goes holds no data: a view or function dropped with CASCADE */
	if (d->no_data)
	{
		d->needs_call = false;
		d->consented = true;
		return;
	}
	/* data, or an amount that could not be counted */
	d->needs_call = d->amount > 0 || d->amount < FM_AMOUNT_ABSENT;
	if (call_consents(m))
		d->consented = true;
	else if (m->allow_destructive || run_allows_destructive)
		d->consented = !d->needs_call;
	else
		d->consented = false;
}

/* The destructive findings of a migration's up script. */
static List *
destructive_findings(const FmMigration *m, const char *up)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, FmLint(up, psprintf("up script of %s",
									FmMigrationLabel(m->version, m->name))))
	{
		FmFinding  *f = (FmFinding *) lfirst(lc);

		if (FM_FINDING_NEEDS_CONSENT(f))
			result = lappend(result, f);
	}
	return result;
}

/* "500 rows", "1 non-null value", "nothing (it does not exist)" */
static char *
amount_text(const FmDataLoss *d)
{
	if (d->finding->data == FM_DATA_NONE)
		return pstrdup("no rows");
	if (d->no_data)
		return pstrdup("no data (nothing that goes with it is a table or a column)");
	if (d->amount == FM_AMOUNT_OTHER_DATABASE)
		return pstrdup("an unknown amount of data (another database: it cannot be counted from this one)");
	if (d->amount == FM_AMOUNT_ABSENT)
		return pstrdup("nothing (it does not exist)");
	if (d->amount == FM_AMOUNT_UNKNOWN)
		return pstrdup("an unknown amount of data (the caller may not read all of it to count it)");
	if (d->amount == FM_AMOUNT_ELSEWHERE)
		return pstrdup("an unknown amount of data (a view or foreign table: its rows are elsewhere)");
	if (d->mixed)
		return psprintf("%s" INT64_FORMAT " rows and non-null values",
						d->at_least ? "at least " : "", d->amount);
	return psprintf("%s" INT64_FORMAT " %s%s", d->at_least ? "at least " : "",
					d->amount,
					d->values ? "non-null value" : "row",
					d->amount == 1 ? "" : "s");
}

/*
 * loss_sentence
 *		"DROP TABLE legacy_orders deletes 500 rows" ("deleted" if "past").
 */
static char *
loss_sentence(const FmDataLoss *d, bool past)
{
	const FmFinding *f = d->finding;
	const char *rule = f->rule + strlen("destructive.");
	const char *target = f->target ? f->target : "?";
	const char *deletes = past ? "deleted" : "deletes";
	char	   *amount = amount_text(d);

	if (strcmp(rule, "drop_table") == 0)
		return psprintf("DROP TABLE %s %s %s", target, deletes, amount);
	if (strcmp(rule, "truncate") == 0)
		return psprintf("TRUNCATE %s %s %s", target, deletes, amount);
	if (strcmp(rule, "delete_all") == 0)
		return psprintf("DELETE without WHERE on %s %s %s", target, deletes, amount);
	if (strcmp(rule, "update_all") == 0)
		return psprintf("UPDATE without WHERE on %s %s %s", target,
						past ? "overwrote" : "overwrites", amount);
	if (strcmp(rule, "drop_column") == 0)
		return psprintf("dropping column %s of %s %s %s",
						quote_identifier(f->column), target, deletes, amount);
	if (strcmp(rule, "type_change") == 0)
		return psprintf("changing the type of column %s of %s %s %s",
						quote_identifier(f->column), target,
						past ? "converted" : "converts", amount);
	if (strcmp(rule, "drop_schema") == 0)
		return psprintf("DROP SCHEMA %s %s %s", target, deletes, amount);
	if (strcmp(rule, "merge_delete") == 0)
		return psprintf("MERGE ... DELETE on %s %s up to %s", target,
						past ? "could delete" : "can delete", amount);
	if (strcmp(rule, "drop_owned") == 0)
		return psprintf("DROP OWNED BY %s %s %s of the tables it owns",
						target, deletes, amount);
	if (strcmp(rule, "drop_database") == 0)
		return psprintf("DROP DATABASE %s %s %s", target, deletes, amount);
	if (strcmp(rule, "drop_extension") == 0)
		return psprintf("DROP EXTENSION %s%s %s %s of what goes with it", target,
						f->cascade ? " CASCADE" : "", deletes, amount);
	if (f->data == FM_DATA_DEPENDENTS)
		return psprintf("DROP %s %s CASCADE %s %s of what goes with it",
						f->objtype == OBJECT_VIEW ? "VIEW" :
						f->objtype == OBJECT_PROCEDURE ? "PROCEDURE" :
						f->objtype == OBJECT_ROUTINE ? "ROUTINE" : "FUNCTION",
						target, deletes, amount);
	if (f->data == FM_DATA_TYPE)
		return psprintf("dropping type %s with CASCADE %s %s of columns of that type",
						target, deletes, amount);
	if (f->data == FM_DATA_TABLE)	/* a materialized view */
		return psprintf("dropping %s %s %s", target, deletes, amount);
	return psprintf("dropping %s %s no rows", target, past ? "removed" : "removes");
}

/*
 * FmDataLossText
 *		"statement 2 (line 4): DROP TABLE legacy_orders deleted 500 rows;
 *		statement 3 (line 5): ..." for result rows and NOTICEs.
 */
char *
FmDataLossText(List *losses, bool past)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, losses)
	{
		const FmDataLoss *d = (const FmDataLoss *) lfirst(lc);

		appendStringInfo(&buf, "%sstatement %d (line %d): %s",
						 foreach_current_index(lc) > 0 ? "; " : "",
						 d->finding->statement, d->finding->line,
						 loss_sentence(d, past));
	}
	return buf.data;
}

/*
 * FmDataLossJson
 *		What "losses" removed as a JSON array, one object per statement:
 *		statement, line, rule, object (as the script names it), rows or
 *		values (null: not counted; 0 with "absent": true: it did not
 *		exist), removed (a sentence); with "m", its version and name first.
 */
char *
FmDataLossJson(List *losses, const FmMigration *m)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, losses)
	{
		const FmDataLoss *d = (const FmDataLoss *) lfirst(lc);
		const FmFinding *f = d->finding;

		appendStringInfoString(&buf, foreach_current_index(lc) > 0 ? ", {" : "{");
		if (m != NULL)
		{
			appendStringInfoString(&buf, "\"version\": ");
			escape_json(&buf, m->version);
			appendStringInfoString(&buf, ", \"name\": ");
			escape_json(&buf, m->name);
			appendStringInfoString(&buf, ", ");
		}
		appendStringInfo(&buf, "\"statement\": %d, \"line\": %d, \"rule\": ",
						 f->statement, f->line);
		escape_json(&buf, f->rule);
		appendStringInfoString(&buf, ", \"object\": ");
		escape_json(&buf, f->target ? f->target : "");
		if (f->column != NULL)
		{
			appendStringInfoString(&buf, ", \"column\": ");
			escape_json(&buf, f->column);
		}
		appendStringInfo(&buf, ", \"%s\": ", d->values ? "values" : "rows");
		if (d->amount < FM_AMOUNT_ABSENT)
			appendStringInfoString(&buf, "null");
		else if (d->amount == FM_AMOUNT_ABSENT)
			appendStringInfoString(&buf, "0, \"absent\": true");
		else
			appendStringInfo(&buf, INT64_FORMAT "%s", d->amount,
							 d->at_least ? ", \"at_least\": true" : "");
		appendStringInfoString(&buf, ", \"removed\": ");
		escape_json(&buf, loss_sentence(d, true));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * check_entries
 *		ERROR if an allow_data_loss entry names no migration of "plan".
 */
static void
check_entries(List *plan)
{
	ListCell   *lc;

	foreach(lc, run_data_loss)
	{
		const char *entry = (const char *) lfirst(lc);
		StringInfoData list;
		ListCell   *lc2;
		bool		found = false;

		foreach(lc2, plan)
		{
			if (entry_matches(entry, (const FmMigration *) lfirst(lc2)))
				found = true;
		}
		if (found)
			continue;
		initStringInfo(&list);
		foreach(lc2, plan)
		{
			const FmMigration *m = (const FmMigration *) lfirst(lc2);

			if (foreach_current_index(lc2) >= MAX_LISTED)
			{
				appendStringInfo(&list, " and %d more",
								 list_length(plan) - MAX_LISTED);
				break;
			}
			appendStringInfo(&list, "%s\"%s %s\"",
							 foreach_current_index(lc2) > 0 ? ", " : "",
							 m->version, m->name);
		}
		/* a very long entry is shown by its start */
		if (strlen(entry) > 200)
			entry = psprintf("%s...", pnstrdup(entry, pg_mbcliplen(entry, strlen(entry), 200)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allow_data_loss entry \"%s\" names no migration of this run",
						entry),
				 plan == NIL ?
				 errdetail("The run has no migration to apply. Nothing was applied.") :
				 errdetail("The run would apply %s. Nothing was applied.", list.data),
				 errhint("Name a migration this run applies, as 'version' or 'version name' (as fleetmigrate.status shows them).")));
	}
}

/*
 * FmCheckPlanDestructive
 *		Before anything runs: ERROR if an allow_data_loss entry names no
 *		migration of "plan"; with "refuse", ERROR if a destructive statement
 *		of a migration of "plan" lacks consent for what it would remove now
 *		(measure()).  The detail names every such statement with what it
 *		would remove; the hint the consent that would do.  Takes ACCESS
 *		SHARE on the tables it measures.  Must be connected to SPI.
 */
void
FmCheckPlanDestructive(List *plan, bool refuse)
{
	FmCheckPlanDestructiveIn(plan, plan, refuse);
}

/*
 * FmCheckPlanDestructiveIn
 *		FmCheckPlanDestructive() for some migrations of a plan: the
 *		allow_data_loss entries are checked against the whole of "plan",
 *		what would be removed only for "migrations" (a part of "plan", NIL:
 *		none).  migrate() checks one migration at a time this way to find
 *		the first it cannot apply (run.c).
 */
void
FmCheckPlanDestructiveIn(List *migrations, List *plan, bool refuse)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	StringInfoData detail;
	List	   *refused = NIL;	/* FmMigration *: needing consent */
	int			nstatements = 0;
	bool		any_data = false;
	ListCell   *lc;

	check_entries(plan);
	if (!refuse || migrations == NIL)
		return;

	cxt = AllocSetContextCreate(CurrentMemoryContext,
								"fleetmigrate destructive check",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	initStringInfo(&detail);
	foreach(lc, migrations)
	{
		FmMigration *m = (FmMigration *) lfirst(lc);
		bool		listed = false;
		ListCell   *lc2;

		if (call_consents(m))
			continue;
		foreach(lc2, destructive_findings(m, FmCatalogScript(m, FM_SCRIPT_UP)))
		{
			FmDataLoss *d = measure((FmFinding *) lfirst(lc2));

			judge(d, m);
			if (d->consented)
				continue;
			if (!listed)
				refused = lappend(refused, m);
			listed = true;
			any_data |= d->needs_call;
			if (++nstatements > MAX_LISTED)
				continue;
			appendStringInfo(&detail, "%sMigration \"%s %s\", statement %d (line %d): %s.",
							 detail.len > 0 ? "\n" : "",
							 m->version, m->name,
							 d->finding->statement, d->finding->line,
							 loss_sentence(d, false));
		}
	}
	if (nstatements > MAX_LISTED)
		appendStringInfo(&detail, "\nAnd %d more.", nstatements - MAX_LISTED);

	MemoryContextSwitchTo(oldcxt);
	if (nstatements > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%d destructive statement%s in %d migration%s need%s consent; nothing was applied",
						nstatements, nstatements == 1 ? "" : "s",
						list_length(refused), list_length(refused) == 1 ? "" : "s",
						nstatements == 1 ? "s" : ""),
				 errdetail_internal("%s", detail.data),
				 any_data ?
				 errhint("Data that exists is removed only with consent in the call that names the migration: if that is intended, pass %s to %s. Consent given at registration (allow_destructive) covers only objects that are absent or empty.",
						 FmConsentArgument(refused),
						 run_caller ? run_caller : "apply_pending() or migrate()") :
				 errhint("The objects are absent or hold no data now. If dropping them is intended, register the migration with allow_destructive => true (in a bundle: \"-- flags: allow_destructive\") or pass allow_destructive => true to %s. fleetmigrate.lint() shows every finding.",
						 run_caller ? run_caller : "apply_pending() or migrate()")));
	MemoryContextDelete(cxt);
}

/*
 * FmConsent
 *		For the history: how migration "m", whose up script is "up", was
 *		consented to, with its destructive statements; NULL if it has none.
 *		Called before the migration runs (lint looks at the catalog).
 */
char *
FmConsent(const FmMigration *m, const char *up)
{
	List	   *findings;
	StringInfoData buf;
	ListCell   *lc;
	bool		named = call_consents(m);

	if (!m->allow_destructive && !run_allows_destructive && !named)
		return NULL;			/* FmCheckPlanDestructive() found nothing */
	findings = destructive_findings(m, up);
	if (findings == NIL)
		return NULL;
	initStringInfo(&buf);
	if (named)
		appendStringInfo(&buf, "named in allow_data_loss of %s: ",
						 run_caller ? run_caller : "the run");
	else if (m->allow_destructive)
		appendStringInfoString(&buf, "registered with allow_destructive: ");
	else
		appendStringInfo(&buf, "allow_destructive => true passed to %s: ",
						 run_caller ? run_caller : "the run");
	foreach(lc, findings)
	{
		FmFinding  *f = (FmFinding *) lfirst(lc);

		appendStringInfo(&buf, "%sstatement %d (line %d) %s",
						 foreach_current_index(lc) > 0 ? ", " : "",
						 f->statement, f->line, f->rule);
	}
	return buf.data;
}

/*
 * FmConsentWatchBegin
 *		Migration "m" is about to run its up script "up": find its
 *		destructive statements, for FmConsentBeforeStatement().  Allocates
 *		in the current memory context, the migration's.
 */
void
FmConsentWatchBegin(const FmMigration *m, const char *up)
{
	Watch	   *w = palloc0(sizeof(Watch));

	w->m = m;
	w->cxt = CurrentMemoryContext;
	w->findings = destructive_findings(m, up);
	watch = w;
	last_destroyed = NIL;
}

/*
 * FmConsentBeforeStatement
 *		Statement "stmt" of the watched up script is about to run: measure
 *		what each of its destructive findings would remove now and, when the
 *		run enforces consent, ERROR for one the consent does not cover.
 *		Does nothing when no migration is watched.
 */
void
FmConsentBeforeStatement(const FmStatement *stmt)
{
	ListCell   *lc;
	ListCell   *lc2;

	if (watch == NULL)
		return;
	foreach(lc, watch->findings)
	{
		const FmFinding *f = (const FmFinding *) lfirst(lc);
		MemoryContext oldcxt;
		FmDataLoss *d;

		if (f->statement != stmt->number)
			continue;
		/* a retry measures again: forget what the attempt before found */
		foreach(lc2, watch->losses)
		{
			FmDataLoss *old = (FmDataLoss *) lfirst(lc2);

			if (old->finding == f && !old->ran)
				watch->losses = foreach_delete_current(watch->losses, lc2);
		}
		oldcxt = MemoryContextSwitchTo(watch->cxt);
		d = measure(f);
		judge(d, watch->m);
		watch->losses = lappend(watch->losses, d);
		MemoryContextSwitchTo(oldcxt);
		if (!run_enforces || d->consented)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs consent to remove data that exists",
						FmMigrationLabel(watch->m->version, watch->m->name)),
				 errdetail("Statement %d (line %d): %s. The data was not there when the run checked its plan: an earlier statement or migration of this run put it there.",
						   f->statement, f->line, loss_sentence(d, false)),
				 errhint("If that is intended, pass %s to %s.",
						 FmConsentArgument(list_make1((void *) watch->m)),
						 run_caller ? run_caller : "the call")));
	}
}

/*
 * FmConsentAfterStatement
 *		Statement "stmt" of the watched up script ran, with SPI result "rc"
 *		and "processed" rows: what it removed is final; a DELETE's or
 *		UPDATE's amount is the rows it processed.
 */
void
FmConsentAfterStatement(const FmStatement *stmt, int rc, uint64 processed)
{
	ListCell   *lc;

	if (watch == NULL)
		return;
	foreach(lc, watch->losses)
	{
		FmDataLoss *d = (FmDataLoss *) lfirst(lc);

		if (d->finding->statement != stmt->number || d->ran)
			continue;
		d->ran = true;
		if (d->finding->nested)
			continue;			/* the row count is the outer statement's */
		if (rc == SPI_OK_DELETE || rc == SPI_OK_DELETE_RETURNING ||
			rc == SPI_OK_UPDATE || rc == SPI_OK_UPDATE_RETURNING)
		{
			d->amount = (int64) processed;
			d->at_least = false;	/* exact */
		}
	}
}

/*
 * FmConsentWatchEnd
 *		The watched up script ended: the list of what its destructive
 *		statements removed (FmDataLoss *, those that ran), in the memory
 *		context of FmConsentWatchBegin(); also FmConsentLastDestroyed()
 *		until the next migration.
 */
List *
FmConsentWatchEnd(void)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (watch == NULL)
		return NIL;
	foreach(lc, watch->losses)
	{
		FmDataLoss *d = (FmDataLoss *) lfirst(lc);

		if (d->ran)
			result = lappend(result, d);
	}
	watch = NULL;
	last_destroyed = result;
	return result;
}

/*
 * FmConsentLastDestroyed
 *		What the last migration that ran removed (FmConsentWatchEnd()), for
 *		its result row; valid until its memory context is reset.
 */
List *
FmConsentLastDestroyed(void)
{
	return last_destroyed;
}
