/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  fleetmigrate.lint(): every statement of a script classified from its
 *	  raw parse tree (raw_parser()), with the catalog consulted for what
 *	  exists now and the server's own functions for lock levels
 *	  (AlterTableGetLockLevel()) and type compatibility
 *	  (IsBinaryCoercible()).  Nothing is executed and no regular
 *	  expression looks at the text: a DROP TABLE inside a function body or
 *	  a string is not a statement.
 *
 * Four families of rules:
 *	 destructive	what can lose data: DROP TABLE/SCHEMA/COLUMN/..., TRUNCATE,
 *					DELETE or UPDATE without WHERE (also inside a WITH query
 *					or EXPLAIN ANALYZE), MERGE ... THEN DELETE, DROP OWNED,
 *					DROP EXTENSION, DROP DATABASE, a lossy column type change.
 *					Runs refuse such a migration without consent
 *					(FmFinding.consent, measured by consent.c).  A view or
 *					function holds no data: dropped and created again in the
 *					same script it is replaced and not reported; dropped on
 *					its own it is a warning that needs no consent; with
 *					CASCADE, what goes with it is read from pg_depend
 *					(depend.c), named, and measured by the run.
 *	 blocking		the lock a statement takes on an existing relation, and
 *					the ones held for a time that grows with the table
 *					(rewrite, full scan, index build); and, reading the
 *					migration as a whole (one transaction: every lock is held
 *					to its end), such work on a table that an earlier
 *					statement locked SHARE or stronger (blocking.lock_held,
 *					see hold_lock()); and such work under an ACCESS EXCLUSIVE
 *					lock while standbys stream from this server, which
 *					replay the lock (blocking.standby_replay).
 *	 compatibility	renames that running application code may not know.
 *	 structure		transaction control, statements that cannot run in a
 *					transaction block.
 *
 * "Existing" means in the catalog now and not created earlier in the same
 * script: an index on a table the script has just created blocks nobody.
 *
 * Catalog lookups and concurrent DDL.  lint() is granted to PUBLIC and is
 * meant for live databases, where a migration may drop, alter or rename the
 * very objects a script names while lint() looks at them.  It takes no lock
 * on them: AccessShareLock would queue behind a migration's ACCESS EXCLUSIVE
 * lock (lint() would hang for as long as that migration runs) and, taken
 * inside an application's transaction, would be held to its end and make the
 * next migration wait for it; ConditionalLockRelationOid() would not wait,
 * but when it fails lint() still has to say something about the relation,
 * and types, functions and schemas have no such lock.  So every lookup is
 * lock-free and allowed to find nothing: each reads one catalog row through
 * the syscache (or one scan), and when the object is gone by then, lint()
 * treats it as it treats an object that does not exist.  The lsyscache and
 * parser helpers that elog "cache lookup failed" on a missing row are not
 * used on anything that can vanish (get_atttypetypmodcoll(), func_volatile(),
 * LookupTypeName(), format_type_with_typemod(), a domain's getBaseType());
 * the replacements below return "gone" instead.  A relation's name is read
 * again, from its row, each time a finding names it (relation_name()), so a
 * relation dropped after it was found produces no finding, never a NULL
 * name.  Where a server function has to be called that reads a row again
 * and fails if it is missing (IsBinaryCoercible(), LookupExplicitNamespace()
 * also inside FuncnameGetCandidates(), LookupTypeNameExtended() for a type
 * modifier), the row is read here first
 * and the call follows at once: invalidations are processed only when a
 * lock is acquired, so the row is still in the syscache when the function
 * reads it (namespace_now() reads until no invalidation arrived meanwhile).
 *
 * What remains: findings about one statement can reflect the catalog at
 * slightly different moments, which is all a lint of objects that are
 * changing at that moment can promise.  Unqualified names go through the
 * search_path as in any query, with the server's own behaviour when a schema
 * on it is dropped at that instant; and a type modifier is computed by the
 * type's typmod_in function, which a superuser-defined base type could lose
 * to a concurrent DROP FUNCTION ... CASCADE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "storage/sinval.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "depend.h"
#include "lint.h"
#include "parse.h"
#include "standbys.h"

PG_FUNCTION_INFO_V1(fleetmigrate_lint);

/* An object created earlier in the script. */
typedef enum CreatedKind
{
	CREATED_RELATION,
	CREATED_FUNCTION,
	CREATED_TYPE
} CreatedKind;

typedef struct Created
{
	CreatedKind kind;
	char	   *schema;			/* NULL: as written, unqualified */
	char	   *name;
} Created;

/* A CHECK (column IS NOT NULL) constraint the script added. */
typedef struct NotNullCheck
{
	RangeVar   *relation;
	char	   *constraint;
	char	   *column;
	bool		validated;
} NotNullCheck;

/* A view or function the script creates, and where (the pre-pass). */
typedef struct Creation
{
	CreatedKind kind;
	char	   *schema;
	char	   *name;
	int			statement;
} Creation;

/*
 * A lock a statement takes on an existing relation, held until the
 * migration ends when the migration is one transaction.
 */
typedef struct HeldLock
{
	int			statement;
	const char *tag;			/* the command tag of that statement */
	Oid			relid;
	LOCKMODE	mode;
	FmFinding  *info;			/* its blocking.lock finding, if any */
	bool		briefly;		/* the finding's hint still says "briefly" */
} HeldLock;

/* The strongest lock held on a relation (the earliest of equals). */
typedef struct HeldRel
{
	Oid			relid;			/* hash key */
	HeldLock   *lock;
} HeldRel;

typedef struct LintState
{
	const char *script;
	List	   *findings;
	List	   *created;		/* Created * */
	List	   *creations;		/* Creation *: every view and function the
								 * script creates (the pre-pass) */
	List	   *checks;			/* NotNullCheck * */
	int			non_transactional;	/* such statements seen so far */
	bool		one_transaction;	/* no statement must run top-level: every
									 * lock is held to the migration's end */
	List	   *held;			/* HeldLock *: locks taken so far, in
								 * statement order */
	int			held_said;		/* the first held[] whose hint may still
								 * say "briefly" */
	HTAB	   *held_rel;		/* relid -> HeldRel: the strongest lock
								 * held on each relation */
	int			nested;			/* > 0: inside a WITH query or EXPLAIN */
	int			warned_statement;	/* the last blocking.lock_held: */
	Oid			warned_relid;	/* statement and relation */
	const FmStatement *stmt;	/* the statement being classified */
	const char *tag;			/* its command tag */
	LOCKMODE	stmt_lock;		/* the lock it takes on the relation it
								 * works on, when that is known */
	int			standbys;		/* standbys streaming now; -1: not counted */
	int			standby_statement;	/* the last blocking.standby_replay */
} LintState;

static const char *const lock_mode_names[] = {
	"no",
	"ACCESS SHARE",
	"ROW SHARE",
	"ROW EXCLUSIVE",
	"SHARE UPDATE EXCLUSIVE",
	"SHARE",
	"SHARE ROW EXCLUSIVE",
	"EXCLUSIVE",
	"ACCESS EXCLUSIVE"
};

#define CONSENT_HINT \
	"If that is intended: allow_destructive => true at registration (in a bundle: " \
	"\"-- flags: allow_destructive\") consents while the object is absent or empty; " \
	"data that exists needs allow_data_loss naming the migration in apply_pending() " \
	"or migrate()."

static void add_finding(LintState *st, const char *rule, FmSeverity severity,
						const char *hint, const char *fmt,...) pg_attribute_printf(5, 6);
static void lint_statement(LintState *st, Node *tree);
static void hold_lock(LintState *st, Oid relid, LOCKMODE mode, FmFinding *info);
static void hold_strongest(LintState *st, HeldLock *h);
static void lint_with(LintState *st, WithClause *with);
static void note_work(LintState *st, Oid relid, const char *what);
static void note_standby_replay(LintState *st, Oid relid, const char *what);

const char *
FmSeverityName(FmSeverity severity)
{
	switch (severity)
	{
		case FM_SEVERITY_INFO:
			return "info";
		case FM_SEVERITY_WARNING:
			return "warning";
		case FM_SEVERITY_ERROR:
			return "error";
	}
	return "?";
}

/* "an ACCESS EXCLUSIVE", "a SHARE" */
static const char *
article(LOCKMODE mode)
{
	const char *name = FmLockModeName(mode);

	return (name[0] == 'A' || name[0] == 'E') ? "an" : "a";
}

/* "ACCESS EXCLUSIVE", as LOCK TABLE spells the mode */
const char *
FmLockModeName(LOCKMODE mode)
{
	if (mode < 0 || mode > AccessExclusiveLock)
		return "unknown";
	return lock_mode_names[mode];
}

static void
add_finding(LintState *st, const char *rule, FmSeverity severity,
			const char *hint, const char *fmt,...)
{
	FmFinding  *f = palloc0(sizeof(FmFinding));
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	f->statement = st->stmt->number;
	f->line = st->stmt->line;
	f->rule = rule;
	f->severity = severity;
	f->message = buf.data;
	f->hint = hint ? pstrdup(hint) : NULL;
	f->nested = st->nested > 0;
	st->findings = lappend(st->findings, f);
}

/*
 * set_data
 *		What holds the data the finding just added can remove (FmDataTarget),
 *		and how the script names it, for a run to measure.
 */
static void
set_data(LintState *st, FmDataTarget data, RangeVar *relation,
		 const char *column, List *names, const char *target)
{
	FmFinding  *f = (FmFinding *) llast(st->findings);

	f->data = data;
	f->relation = relation ? copyObject(relation) : NULL;
	f->column = column ? pstrdup(column) : NULL;
	f->names = names ? copyObject(names) : NIL;
	f->inh = relation ? relation->inh : false;
	f->target = target ? pstrdup(target) : NULL;
	f->consent = true;
}

/*
 * Names as the script wrote them, and as they are now.
 */
static char *
rangevar_name(const RangeVar *rv)
{
	return quote_qualified_identifier(rv->schemaname, rv->relname);
}

/*
 * relation_name
 *		The schema-qualified, quoted name of relation "relid" as the catalog
 *		has it now, or NULL if the relation (or its schema) is gone: no lock
 *		is held on it, so a concurrent DROP can remove it at any time.
 *		palloc'd in CurrentMemoryContext.
 */
static char *
relation_name(Oid relid)
{
	HeapTuple	tuple;
	Form_pg_class form;
	char	   *relname;
	char	   *nspname;

	if (!OidIsValid(relid))
		return NULL;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return NULL;
	form = (Form_pg_class) GETSTRUCT(tuple);
	relname = pstrdup(NameStr(form->relname));
	nspname = get_namespace_name(form->relnamespace);
	ReleaseSysCache(tuple);
	if (nspname == NULL)
		return NULL;
	return quote_qualified_identifier(nspname, relname);
}

/*
 * FmRelationName
 *		The schema-qualified, quoted name of relation "relid", or, when it
 *		no longer exists, its OID in digits (as regclass output shows such
 *		an OID).  Needs no lock on the relation and never fails for a
 *		relation that is gone.  palloc'd in CurrentMemoryContext.
 */
char *
FmRelationName(Oid relid)
{
	char	   *name = relation_name(relid);

	return name != NULL ? name : psprintf("%u", relid);
}

static void
remember_created(LintState *st, CreatedKind kind, const char *schema,
				 const char *name)
{
	Created    *c = palloc(sizeof(Created));

	c->kind = kind;
	c->schema = schema ? pstrdup(schema) : NULL;
	c->name = pstrdup(name);
	st->created = lappend(st->created, c);
}

/* Was an object of this kind and name created earlier in the script? */
static bool
created_earlier(const LintState *st, CreatedKind kind, const char *schema,
				const char *name)
{
	ListCell   *lc;

	foreach(lc, st->created)
	{
		Created    *c = (Created *) lfirst(lc);

		if (c->kind == kind && FmNamesMatch(c->schema, c->name, schema, name))
			return true;
	}
	return false;
}

static bool
is_new(const LintState *st, const RangeVar *rv)
{
	return created_earlier(st, CREATED_RELATION, rv->schemaname, rv->relname);
}

/*
 * namespace_now
 *		LookupExplicitNamespace(schema, true) for a schema that may be
 *		dropped while we look: InvalidOid when it does not exist (or is
 *		gone), and an ERROR only when the user may not use it, as the server
 *		says for any query.  LookupExplicitNamespace() finds the OID by name,
 *		then checks USAGE on it, which fails with "schema with OID ... does
 *		not exist" when the schema was dropped in between and invalidations
 *		were processed there.  So both of its rows, and the superuser test
 *		that comes before the second, are read here first, again until no
 *		invalidation arrived while reading them; the call that follows at
 *		once then finds them all in the caches.
 */
static Oid
namespace_now(const char *schema)
{
	/* our own temporary schema, which no other session can drop */
	if (strcmp(schema, "pg_temp") == 0)
		return LookupExplicitNamespace(schema, true);
	for (;;)
	{
		uint64		inval_count = SharedInvalidMessageCounter;
		Oid			namespace;

		(void) superuser_arg(GetUserId());
		namespace = get_namespace_oid(schema, true);
		if (!OidIsValid(namespace) ||
			!SearchSysCacheExists1(NAMESPACEOID, ObjectIdGetDatum(namespace)))
			return InvalidOid;
		if (inval_count == SharedInvalidMessageCounter)
			return LookupExplicitNamespace(schema, true);
	}
}

/*
 * existing_relation
 *		The relation a RangeVar names, if it exists now and the script did
 *		not create it; InvalidOid otherwise.  No lock is taken (see the file
 *		header): the relation can be gone by the time it is used, and every
 *		use must allow for that (relation_name() returns NULL then).
 */
static Oid
existing_relation(const LintState *st, RangeVar *rv)
{
	if (is_new(st, rv))
		return InvalidOid;
	if (rv->schemaname != NULL && rv->catalogname == NULL)
	{
		Oid			namespace = namespace_now(rv->schemaname);

		return OidIsValid(namespace) ?
			get_relname_relid(rv->relname, namespace) : InvalidOid;
	}
	return RangeVarGetRelid(rv, NoLock, true);
}

/*
 * A statement's lock on an existing relation, when nothing more specific
 * was said about it: brief, and fleetmigrate.lock_timeout bounds the wait.
 */
static void
note_lock(LintState *st, Oid relid, LOCKMODE mode)
{
	const char *effect;
	char	   *name;

	if (!OidIsValid(relid) || mode < ShareUpdateExclusiveLock)
		return;
	name = relation_name(relid);
	if (name == NULL)
		return;					/* dropped since it was found */
	if (mode == ShareUpdateExclusiveLock)
		effect = "reads and writes go on";
	else if (mode <= ExclusiveLock)
		effect = "writes wait while it is held";
	else
		effect = "reads and writes wait while it is held";
	add_finding(st, "blocking.lock", FM_SEVERITY_INFO,
				"The lock is held briefly. fleetmigrate.lock_timeout limits how long the migration waits for it in front of application queries.",
				"%s takes %s %s lock on %s: %s",
				st->tag, article(mode), FmLockModeName(mode), name, effect);
	hold_lock(st, relid, mode, (FmFinding *) llast(st->findings));
}

/*
 * Whole-migration lock analysis
 *
 * A migration that is one transaction holds every lock it takes until it
 * commits.  A strong lock (SHARE or stronger: writes wait; ACCESS EXCLUSIVE:
 * reads too) taken by a quick statement is held through every later
 * statement, so a later statement whose work grows with a table (an UPDATE,
 * a DELETE, INSERT ... SELECT, a scan or an index build, a rewrite) keeps
 * the lock for as long as that work takes.  hold_lock() remembers each lock
 * as a statement takes it; note_work() is called for each such work, and
 * warns when the work is on a relation an earlier statement locked, and
 * corrects the "held briefly" hint of every lock taken before it.
 */
static void
hold_lock(LintState *st, Oid relid, LOCKMODE mode, FmFinding *info)
{
	HeldLock   *h;

	if (!st->one_transaction || st->nested > 0 || !OidIsValid(relid) ||
		mode < ShareLock)
		return;
	h = palloc0(sizeof(HeldLock));
	h->statement = st->stmt->number;
	h->tag = st->tag;
	h->relid = relid;
	h->mode = mode;
	h->info = info;
	h->briefly = info != NULL;
	st->held = lappend(st->held, h);
	hold_strongest(st, h);
}

/* Remember "h" as the strongest lock on its relation if it is. */
static void
hold_strongest(LintState *st, HeldLock *h)
{
	HeldRel    *entry;
	bool		found;

	if (st->held_rel == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(HeldRel);
		ctl.hcxt = CurrentMemoryContext;
		st->held_rel = hash_create("fleetmigrate lint locks", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(st->held_rel, &h->relid, HASH_ENTER, &found);
	if (!found || h->mode > entry->lock->mode)
		entry->lock = h;
}

/*
 * estimated_rows
 *		"about 3000000 rows (pg_class.reltuples)", or why the number is not
 *		known: the planner's estimate, read without a lock.
 */
static char *
estimated_rows(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	float4		reltuples;
	char		relkind;

	if (!HeapTupleIsValid(tuple))
		return pstrdup("row count unknown");
	reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
	relkind = ((Form_pg_class) GETSTRUCT(tuple))->relkind;
	ReleaseSysCache(tuple);
	if (relkind == RELKIND_PARTITIONED_TABLE)
		return pstrdup("row count unknown: a partitioned table, pg_class has no estimate for it");
	if (reltuples < 0)
		return pstrdup("row count unknown: never analyzed or vacuumed");
	return psprintf("about %.0f row%s by pg_class.reltuples", reltuples,
					reltuples == 1 ? "" : "s");
}

/*
 * note_standby_replay
 *		Work that grows with existing relation "relid" runs under an ACCESS
 *		EXCLUSIVE lock on it (its statement's, or one an earlier statement
 *		of the same transaction took), and standbys stream from this
 *		server.  A hot standby replays the lock: queries there wait for it
 *		until the migration commits, replay stops while queries that were
 *		running on the table hold it, and after max_standby_streaming_delay
 *		the standby cancels them.  Said when standbys are connected now,
 *		as lint() of the primary sees them.
 */
static void
note_standby_replay(LintState *st, Oid relid, const char *what)
{
	bool		exclusive = st->stmt_lock == AccessExclusiveLock;
	char	   *relname;
	char	   *delay;
	const char *brief;

	if (!OidIsValid(relid) || st->nested > 0 ||
		st->standby_statement == st->stmt->number)
		return;
	if (!exclusive && st->one_transaction && st->held_rel != NULL)
	{
		HeldRel    *entry = hash_search(st->held_rel, &relid, HASH_FIND, NULL);

		exclusive = entry != NULL && entry->lock->mode == AccessExclusiveLock &&
			entry->lock->statement < st->stmt->number;
	}
	if (!exclusive)
		return;
	if (st->standbys < 0)
		st->standbys = FmStandbysConnected();
	if (st->standbys == 0)
		return;
	relname = relation_name(relid);
	if (relname == NULL)
		return;					/* dropped since it was found */
	st->standby_statement = st->stmt->number;
	delay = GetConfigOptionByName("max_standby_streaming_delay", NULL, false);
	/* how to make the lock brief: an index is rebuilt concurrently */
	brief = strcmp(what, "the index rebuild") == 0 ?
		"REINDEX ... CONCURRENTLY, which takes no such lock" :
		"a new column or table filled by a batched backfill (see README: Batched backfills)";
	add_finding(st, "blocking.standby_replay", FM_SEVERITY_WARNING,
				strcmp(delay, "-1") == 0 ?
				psprintf("On a hot standby, queries on it wait for the lock until the migration commits, and replay (every change after it) stops while queries that were running on it finish: max_standby_streaming_delay is -1 on this server. Run it when the standbys' readers can wait, or make the lock brief: %s.",
						 brief) :
				psprintf("On a hot standby, queries on it wait for the lock until the migration commits; replay stops while queries that were running on it finish, and after max_standby_streaming_delay (%s on this server) the standby cancels them. Run it when the standbys' readers can wait, or make the lock brief: %s.",
						 delay, brief),
				"%s of %s (%s) runs under an ACCESS EXCLUSIVE lock, which the %d connected standby%s replay%s",
				what, relname, estimated_rows(relid), st->standbys,
				st->standbys == 1 ? "" : "s", st->standbys == 1 ? "s" : "");
}

/*
 * note_work
 *		Statement st->stmt does work that grows with relation "relid"
 *		("what": "UPDATE", "SET NOT NULL", ...).
 */
static void
note_work(LintState *st, Oid relid, const char *what)
{
	HeldLock   *strongest = NULL;
	char	   *relname;

	note_standby_replay(st, relid, what);
	if (!st->one_transaction || !OidIsValid(relid))
		return;
	relname = relation_name(relid);
	if (relname == NULL)
		return;					/* dropped since it was found */
	/* every lock taken before this statement is held through it */
	for (; st->held_said < list_length(st->held); st->held_said++)
	{
		HeldLock   *h = (HeldLock *) list_nth(st->held, st->held_said);

		if (h->statement >= st->stmt->number)
			break;
		if (h->briefly)
		{
			h->briefly = false;
			h->info->hint = psprintf("The lock is not held briefly: it is held until the migration ends, through statement %d (%s of %s, %s). fleetmigrate.lock_timeout limits only the wait for it. Split the migration so that this statement ends one and the work runs in the next.",
									 st->stmt->number, what, relname,
									 estimated_rows(relid));
		}
	}
	if (st->held_rel != NULL)
	{
		HeldRel    *entry = hash_search(st->held_rel, &relid, HASH_FIND, NULL);

		if (entry != NULL && entry->lock->statement < st->stmt->number)
			strongest = entry->lock;
	}
	if (strongest == NULL ||
		(st->warned_statement == st->stmt->number && st->warned_relid == relid))
		return;
	st->warned_statement = st->stmt->number;
	st->warned_relid = relid;
	add_finding(st, "blocking.lock_held", FM_SEVERITY_WARNING,
				psprintf("Split the migration: end it after statement %d and move %s to a later migration, so that no lock of statement %d is held while it runs. A large UPDATE or DELETE can run as a batched backfill (see README: Batched backfills), which commits between batches.",
						 strongest->statement, what, strongest->statement),
				"%s of %s (%s) runs while the %s lock that statement %d (%s) took on it is held: %s of it wait until the migration ends",
				what, relname, estimated_rows(relid),
				FmLockModeName(strongest->mode), strongest->statement,
				strongest->tag,
				strongest->mode == AccessExclusiveLock ? "reads and writes" : "writes");
}

/*
 * Column type changes
 */
static bool
is_integer_type(Oid type, int *digits)
{
	switch (type)
	{
		case INT2OID:
			*digits = 5;
			return true;
		case INT4OID:
			*digits = 10;
			return true;
		case INT8OID:
			*digits = 19;
			return true;
	}
	return false;
}

/* numeric's typmod: precision and scale */
static void
numeric_precision_scale(int32 typmod, int *precision, int *scale)
{
	int32		tmp = typmod - VARHDRSZ;

	*precision = (int) (((uint32) tmp >> 16) & 0xffff);
	*scale = (int) ((int16) (tmp & 0xffff));
}

/*
 * base_type_now
 *		The base type of "typid" (itself unless it is a domain), following
 *		the domains down as getBaseType() does, or InvalidOid if it or a
 *		type on the way is gone.
 */
static Oid
base_type_now(Oid typid)
{
	for (;;)
	{
		HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		Form_pg_type form;

		if (!HeapTupleIsValid(tuple))
			return InvalidOid;
		form = (Form_pg_type) GETSTRUCT(tuple);
		if (form->typtype != TYPTYPE_DOMAIN)
		{
			ReleaseSysCache(tuple);
			return typid;
		}
		typid = form->typbasetype;
		ReleaseSysCache(tuple);
	}
}

/*
 * binary_coercible
 *		IsBinaryCoercible() for a column's type change, false when either
 *		type is gone.  IsBinaryCoercible() reduces a domain to its base type
 *		with getBaseType(), which fails on a type that vanished: it is given
 *		the base type found just before, whose row is then still in the
 *		syscache (nothing between the two looks takes a lock, so no
 *		invalidation is processed in between).  A pseudo-type target, which
 *		no column can have, would send it to further lookups of the source
 *		type; it is not coercible here.
 */
static bool
binary_coercible(Oid srctype, Oid targettype)
{
	char		targettyptype = get_typtype(targettype);
	Oid			srcbase;

	if (targettyptype == '\0' || targettyptype == TYPTYPE_PSEUDO)
		return false;
	srcbase = base_type_now(srctype);
	if (!OidIsValid(srcbase))
		return false;
	return IsBinaryCoercible(srcbase, targettype);
}

/*
 * column_type_now
 *		The type and typmod a column's new type name means now, or
 *		InvalidOid if there is no such type (or it was dropped while we
 *		looked).  LookupTypeName() is not used on the name: it elogs "cache
 *		lookup failed" when the type is dropped between finding its OID and
 *		reading its row.  The name is resolved here as it resolves it; the
 *		row is then read once, and a typmod given in the name is computed
 *		by LookupTypeNameExtended() on the OID alone, right after that read,
 *		so its own read finds the row still in the syscache.  ERRORs as the
 *		server does on a typmod the type does not accept.
 */
static Oid
column_type_now(const TypeName *typeName, int32 *typmod)
{
	Oid			typoid = InvalidOid;
	HeapTuple	tuple;
	TypeName   *byoid;
	Type		typ;

	*typmod = -1;
	if (typeName->pct_type)
		return InvalidOid;		/* %TYPE: not allowed in a column definition */
	if (typeName->names == NIL)
		typoid = typeName->typeOid;
	else
	{
		char	   *schema;
		char	   *name;

		DeconstructQualifiedName(typeName->names, &schema, &name);
		if (schema != NULL)
		{
			Oid			namespace = namespace_now(schema);

			if (OidIsValid(namespace))
				typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										 PointerGetDatum(name),
										 ObjectIdGetDatum(namespace));
		}
		else
			typoid = TypenameGetTypidExtended(name, true);
		if (OidIsValid(typoid) && typeName->arrayBounds != NIL)
			typoid = get_array_type(typoid);
	}
	if (!OidIsValid(typoid))
		return InvalidOid;

	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typoid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;		/* dropped since its name was found */
	ReleaseSysCache(tuple);
	if (typeName->typmods == NIL)
	{
		*typmod = typeName->typemod;
		return typoid;
	}
	byoid = makeTypeNameFromOid(typoid, -1);
	byoid->typmods = typeName->typmods;
	byoid->location = typeName->location;
	typ = LookupTypeNameExtended(NULL, byoid, typmod, true, true);
	if (typ == NULL)
		return InvalidOid;
	ReleaseSysCache(typ);
	return typoid;
}

/*
 * type_change_in_place
 *		True if the server changes the column's type without rewriting or
 *		scanning the table: the same type with an unlimited or larger
 *		length or precision, or a binary-coercible type without one.
 */
static bool
type_change_in_place(Oid oldtype, int32 oldmod, Oid newtype, int32 newmod)
{
	if (oldtype == newtype)
	{
		if (newmod < 0)
			return true;
		if (oldmod < 0)
			return false;
		if (newtype == NUMERICOID)
		{
			int			op,
						os,
						np,
						ns;

			numeric_precision_scale(oldmod, &op, &os);
			numeric_precision_scale(newmod, &np, &ns);
			return ns == os && np >= op;
		}
		if (newtype == BPCHAROID)
			return newmod == oldmod;
		return newmod >= oldmod;
	}
	return newmod < 0 && binary_coercible(oldtype, newtype);
}

/*
 * type_change_keeps_values
 *		True if every value of the old type has a value of the new one
 *		that means the same.
 */
static bool
type_change_keeps_values(Oid oldtype, int32 oldmod, Oid newtype, int32 newmod)
{
	int			olddigits;
	int			newdigits;

	if (type_change_in_place(oldtype, oldmod, newtype, newmod))
		return true;
	if (oldtype == newtype)
	{
		if (newtype == NUMERICOID && oldmod >= 0 && newmod >= 0)
		{
			int			op,
						os,
						np,
						ns;

			numeric_precision_scale(oldmod, &op, &os);
			numeric_precision_scale(newmod, &np, &ns);
			return ns >= os && np - ns >= op - os;
		}
		return newmod < 0 || (oldmod >= 0 && newmod >= oldmod);
	}
	/* everything has a text form */
	if (newtype == TEXTOID || (newtype == VARCHAROID && newmod < 0))
		return true;
	if (is_integer_type(oldtype, &olddigits))
	{
		if (is_integer_type(newtype, &newdigits))
			return newdigits >= olddigits;
		if (newtype == NUMERICOID)
		{
			int			np,
						ns;

			if (newmod < 0)
				return true;
			numeric_precision_scale(newmod, &np, &ns);
			return np - ns >= olddigits;
		}
		if (newtype == FLOAT8OID)
			return oldtype != INT8OID;
		return false;
	}
	if (oldtype == FLOAT4OID)
		return newtype == FLOAT8OID || (newtype == NUMERICOID && newmod < 0);
	if (oldtype == FLOAT8OID)
		return newtype == NUMERICOID && newmod < 0;
	if (oldtype == TIMESTAMPOID)
		return newtype == TIMESTAMPTZOID && newmod < 0;
	if (oldtype == DATEOID)
		return newtype == TIMESTAMPOID || newtype == TIMESTAMPTZOID;
	return false;
}

/* ALTER TABLE ... ALTER COLUMN ... TYPE */
static void
lint_type_change(LintState *st, Oid relid, RangeVar *rv, AlterTableCmd *cmd,
				 bool *said)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	bool		using = def->raw_default != NULL;
	const char *column = quote_identifier(cmd->name);
	HeapTuple	atttuple;
	Form_pg_attribute att;
	AttrNumber	attnum;
	Oid			oldtype;
	int32		oldmod;
	Oid			newtype;
	int32		newmod;
	char	   *relname;
	char	   *from;
	char	   *to;
	bool		keeps;

	/*
	 * A table or column that does not exist now is created by a migration
	 * that runs before this one: it holds no data yet.  The column's number
	 * and type are read from one row, which is there or not.
	 */
	if (!OidIsValid(relid))
		return;
	atttuple = SearchSysCacheAttName(relid, cmd->name);
	if (!HeapTupleIsValid(atttuple))
		return;
	att = (Form_pg_attribute) GETSTRUCT(atttuple);
	attnum = att->attnum;
	oldtype = att->atttypid;
	oldmod = att->atttypmod;
	ReleaseSysCache(atttuple);
	if (attnum <= 0)
		return;
	from = format_type_extended(oldtype, oldmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_INVALID_AS_NULL);
	relname = relation_name(relid);
	if (from == NULL || relname == NULL)
		return;					/* the table went, and the column with it */
	*said = true;
	newtype = column_type_now(def->typeName, &newmod);
	to = OidIsValid(newtype) ?
		format_type_extended(newtype, newmod,
							 FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_INVALID_AS_NULL) :
		NULL;
	if (to == NULL)
	{
		add_finding(st, "destructive.type_change", FM_SEVERITY_WARNING,
					"Check the change against the type where the migration runs. " CONSENT_HINT,
					"cannot tell whether changing column %s of %s to type %s, which does not exist now, keeps every value",
					column, relname, TypeNameToString(def->typeName));
		set_data(st, FM_DATA_COLUMN, rv, cmd->name, NIL, rangevar_name(rv));
		return;
	}
	keeps = type_change_keeps_values(oldtype, oldmod, newtype, newmod);

	if (keeps && !using && type_change_in_place(oldtype, oldmod, newtype, newmod))
	{
		*said = false;			/* only the lock: brief */
		return;
	}
	if (!keeps)
		add_finding(st, "destructive.type_change", FM_SEVERITY_ERROR,
					"Values that do not fit the new type are lost or make the migration fail. Add a column of the new type, copy and check the data, then switch over. " CONSENT_HINT,
					"changing column %s of %s from %s to %s can lose data",
					column, relname, from, to);
	else if (using)
		add_finding(st, "destructive.type_change", FM_SEVERITY_WARNING,
					"Check that the USING expression keeps every value. " CONSENT_HINT,
					"changing column %s of %s from %s to %s computes every value anew with USING",
					column, relname, from, to);
	if (!keeps || using)
		set_data(st, FM_DATA_COLUMN, rv, cmd->name, NIL, rangevar_name(rv));

	add_finding(st, "blocking.rewrite", FM_SEVERITY_WARNING,
				"Reads and writes wait for the whole rewrite. Add a column of the new type, fill it in batches and switch over instead.",
				"changing column %s of %s from %s to %s rewrites the table under an ACCESS EXCLUSIVE lock",
				column, relname, from, to);
	note_work(st, relid, "the rewrite");
}

/*
 * Defaults of added columns
 */
/*
 * function_volatility
 *		func_volatile() for a function that may have been dropped since it
 *		was found: one that is gone counts as volatile, as one not in the
 *		catalog does.
 */
static char
function_volatility(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	char		volatility;

	if (!HeapTupleIsValid(tuple))
		return PROVOLATILE_VOLATILE;
	volatility = ((Form_pg_proc) GETSTRUCT(tuple))->provolatile;
	ReleaseSysCache(tuple);
	return volatility;
}

static bool
volatile_call_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *fc = (FuncCall *) node;
		FuncCandidateList c;
		char	   *schema;
		char	   *name;

		/* a schema dropped while FuncnameGetCandidates() looks: see there */
		DeconstructQualifiedName(fc->funcname, &schema, &name);
		if (schema != NULL && !OidIsValid(namespace_now(schema)))
			return true;		/* not in the catalog now: assume the worst */
		c = FuncnameGetCandidates(fc->funcname, -1, NIL, false, false, false, true);
		if (c == NULL)
			return true;		/* not in the catalog now: assume the worst */
		for (; c != NULL; c = c->next)
		{
			if (function_volatility(c->oid) == PROVOLATILE_VOLATILE)
				return true;
		}
	}
	if (IsA(node, SubLink))
		return true;
	return raw_expression_tree_walker(node, volatile_call_walker, context);
}

static bool
is_serial_type(TypeName *typeName)
{
	static const char *const serials[] = {
		"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"
	};
	char	   *schema;
	char	   *name;
	int			i;

	if (typeName == NULL || typeName->arrayBounds != NIL)
		return false;
	DeconstructQualifiedName(typeName->names, &schema, &name);
	if (schema != NULL && strcmp(schema, "pg_catalog") != 0)
		return false;
	for (i = 0; i < lengthof(serials); i++)
	{
		if (strcmp(name, serials[i]) == 0)
			return true;
	}
	return false;
}

/* A referenced table's lock, for a foreign key. */
static void
note_referenced(LintState *st, Constraint *con, Oid relid)
{
	Oid			pkrelid = existing_relation(st, con->pktable);

	if (OidIsValid(pkrelid) && pkrelid != relid)
		note_lock(st, pkrelid, ShareRowExclusiveLock);
}

/* The tables the foreign keys among "constraints" reference. */
static void
note_references(LintState *st, List *constraints, Oid relid)
{
	ListCell   *lc;

	foreach(lc, constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == CONSTR_FOREIGN)
			note_referenced(st, con, relid);
	}
}

/* ALTER TABLE ... ADD COLUMN on an existing table */
static void
lint_add_column(LintState *st, Oid relid, ColumnDef *def, bool *said)
{
	ListCell   *lc;
	bool		rewrite = is_serial_type(def->typeName);
	bool		validates = false;
	char	   *relname;

	if (def->raw_default != NULL &&
		volatile_call_walker(def->raw_default, NULL))
		rewrite = true;
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_DEFAULT:
				if (volatile_call_walker(con->raw_expr, NULL))
					rewrite = true;
				break;
			case CONSTR_IDENTITY:
				rewrite = true;
				break;
			case CONSTR_GENERATED:
				rewrite = true;
				break;
			case CONSTR_FOREIGN:
				validates = true;
				break;
			case CONSTR_CHECK:
			case CONSTR_UNIQUE:
			case CONSTR_PRIMARY:
			case CONSTR_EXCLUSION:
				validates = true;
				break;
			default:
				break;
		}
	}
	if (!rewrite && !validates)
		return;
	relname = relation_name(relid);
	if (relname == NULL)
		return;					/* dropped since it was found */
	if (rewrite)
	{
		*said = true;
		add_finding(st, "blocking.rewrite", FM_SEVERITY_WARNING,
					"Reads and writes wait for the whole rewrite. Add the column without a default (or with a constant one), then fill it in batches.",
					"adding column %s to %s with a volatile default, an identity or a stored generated value rewrites the table under an ACCESS EXCLUSIVE lock",
					quote_identifier(def->colname), relname);
		note_work(st, relid, "the rewrite");
	}
	if (validates)
	{
		*said = true;
		add_finding(st, "blocking.add_constraint", FM_SEVERITY_WARNING,
					"Add the column first, then the constraint as NOT VALID (or a unique index CONCURRENTLY) and validate it in a later migration.",
					"adding column %s to %s with a constraint checks or indexes every row under an ACCESS EXCLUSIVE lock",
					quote_identifier(def->colname), relname);
		note_work(st, relid, "the constraint check");
	}
}

/*
 * SET NOT NULL proofs: a validated CHECK (column IS NOT NULL)
 */
static char *
not_null_check_column(Node *expr)
{
	NullTest   *nt;
	ColumnRef  *cref;

	if (expr == NULL || !IsA(expr, NullTest))
		return NULL;
	nt = (NullTest *) expr;
	if (nt->nulltesttype != IS_NOT_NULL || nt->arg == NULL ||
		!IsA(nt->arg, ColumnRef))
		return NULL;
	cref = (ColumnRef *) nt->arg;
	if (list_length(cref->fields) != 1 || !IsA(linitial(cref->fields), String))
		return NULL;
	return strVal(linitial(cref->fields));
}

static bool
catalog_proves_not_null(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		proved = false;

	if (attnum <= 0)
		return false;
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (!proved && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		Datum		bin;
		bool		isnull;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		bin = heap_getattr(tuple, Anum_pg_constraint_conbin,
						   RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		expr = stringToNode(TextDatumGetCString(bin));
		if (IsA(expr, NullTest) &&
			((NullTest *) expr)->nulltesttype == IS_NOT_NULL &&
			!((NullTest *) expr)->argisrow &&
			IsA(((NullTest *) expr)->arg, Var) &&
			((Var *) ((NullTest *) expr)->arg)->varattno == attnum)
			proved = true;
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return proved;
}

static bool
same_relation(const RangeVar *a, const RangeVar *b)
{
	return FmNamesMatch(a->schemaname, a->relname, b->schemaname, b->relname);
}

static bool
script_proves_not_null(const LintState *st, const RangeVar *rv,
					   const char *column)
{
	ListCell   *lc;

	foreach(lc, st->checks)
	{
		NotNullCheck *c = (NotNullCheck *) lfirst(lc);

		if (c->validated && strcmp(c->column, column) == 0 &&
			same_relation(c->relation, rv))
			return true;
	}
	return false;
}

static void
remember_check(LintState *st, RangeVar *rv, Constraint *con)
{
	char	   *column = not_null_check_column(con->raw_expr);
	NotNullCheck *c;

	if (column == NULL || con->conname == NULL)
		return;
	c = palloc(sizeof(NotNullCheck));
	c->relation = rv;
	c->constraint = pstrdup(con->conname);
	c->column = pstrdup(column);
	c->validated = !con->skip_validation;
	st->checks = lappend(st->checks, c);
}

static void
validate_check(LintState *st, RangeVar *rv, const char *constraint)
{
	ListCell   *lc;

	foreach(lc, st->checks)
	{
		NotNullCheck *c = (NotNullCheck *) lfirst(lc);

		if (strcmp(c->constraint, constraint) == 0 &&
			same_relation(c->relation, rv))
			c->validated = true;
	}
}

/* ALTER TABLE ... ADD CONSTRAINT on an existing table */
static void
lint_add_constraint(LintState *st, Oid relid, Constraint *con, bool *said)
{
	const char *what = NULL;
	char	   *relname = relation_name(relid);

	if (relname == NULL)
		return;					/* dropped since it was found */

	switch (con->contype)
	{
		case CONSTR_FOREIGN:
			if (!con->skip_validation)
				what = "a foreign key";
			break;
		case CONSTR_CHECK:
			if (!con->skip_validation)
				what = "a check constraint";
			break;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
		case CONSTR_EXCLUSION:
			if (con->indexname == NULL)
			{
				*said = true;
				add_finding(st, "blocking.add_constraint", FM_SEVERITY_WARNING,
							"Build a unique index with CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, then add the constraint with USING INDEX.",
							"adding a %s constraint to %s builds its index under an ACCESS EXCLUSIVE lock",
							con->contype == CONSTR_PRIMARY ? "primary key" :
							con->contype == CONSTR_UNIQUE ? "unique" : "exclusion",
							relname);
				note_work(st, relid, "the index build");
			}
			return;
		default:
			return;
	}
	if (what == NULL)
		return;
	*said = true;
	add_finding(st, "blocking.add_constraint", FM_SEVERITY_WARNING,
				"Add the constraint with NOT VALID (a brief lock), then run ALTER TABLE ... VALIDATE CONSTRAINT, which lets reads and writes go on, in a later migration.",
				"adding %s to %s checks every row while the lock is held",
				what, relname);
	note_work(st, relid, "the constraint check");
}

/* ALTER TABLE */
static void
lint_alter_table(LintState *st, AlterTableStmt *stmt)
{
	RangeVar   *rv = stmt->relation;
	Oid			relid = existing_relation(st, rv);
	bool		fresh = is_new(st, rv);
	bool		said = false;
	ListCell   *lc;

	st->stmt_lock = AlterTableGetLockLevel(stmt->cmds);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		char	   *relname;

		switch (cmd->subtype)
		{
			case AT_DropColumn:
				if (!fresh)
				{
					said = true;
					add_finding(st, "destructive.drop_column", FM_SEVERITY_ERROR,
								"Stop using the column in application code first; keep a copy of its data if it may be needed. " CONSENT_HINT,
								"dropping column %s of %s deletes its data",
								quote_identifier(cmd->name), rangevar_name(rv));
					set_data(st, FM_DATA_COLUMN, rv, cmd->name, NIL,
							 rangevar_name(rv));
				}
				break;
			case AT_AlterColumnType:
				lint_type_change(st, relid, rv, cmd, &said);
				break;
			case AT_AddColumn:
				note_references(st, castNode(ColumnDef, cmd->def)->constraints, relid);
				if (OidIsValid(relid))
					lint_add_column(st, relid, castNode(ColumnDef, cmd->def), &said);
				break;
			case AT_AddConstraint:
				{
					Constraint *con = castNode(Constraint, cmd->def);

					note_references(st, list_make1(con), relid);
					if (con->contype == CONSTR_CHECK)
						remember_check(st, rv, con);
					if (OidIsValid(relid))
						lint_add_constraint(st, relid, con, &said);
					break;
				}
			case AT_ValidateConstraint:
				validate_check(st, rv, cmd->name);
				note_work(st, relid, "the VALIDATE CONSTRAINT scan");
				break;
			case AT_SetNotNull:
				if (OidIsValid(relid) &&
					!script_proves_not_null(st, rv, cmd->name) &&
					!catalog_proves_not_null(relid, cmd->name) &&
					(relname = relation_name(relid)) != NULL)
				{
					said = true;
					add_finding(st, "blocking.set_not_null", FM_SEVERITY_WARNING,
								"Add CHECK (column IS NOT NULL) NOT VALID, validate it in a later migration (reads and writes go on), then SET NOT NULL, which uses the validated constraint instead of a scan.",
								"setting column %s of %s NOT NULL scans every row under an ACCESS EXCLUSIVE lock",
								quote_identifier(cmd->name), relname);
					note_work(st, relid, "the SET NOT NULL scan");
				}
				break;
			case AT_SetTableSpace:
			case AT_SetLogged:
			case AT_SetUnLogged:
				if ((relname = relation_name(relid)) != NULL)
				{
					said = true;
					add_finding(st, "blocking.rewrite", FM_SEVERITY_WARNING,
								"Reads and writes wait for the whole copy. Run it in a maintenance window.",
								"%s copies all of %s under an ACCESS EXCLUSIVE lock",
								cmd->subtype == AT_SetTableSpace ? "SET TABLESPACE" :
								cmd->subtype == AT_SetLogged ? "SET LOGGED" : "SET UNLOGGED",
								relname);
					note_work(st, relid, "the copy");
				}
				break;
			default:
				break;
		}
	}
	if (OidIsValid(relid) && !said)
		note_lock(st, relid, AlterTableGetLockLevel(stmt->cmds));
}

/*
 * cascade_text
 *		The objects that a DROP ... CASCADE of "object" (of kind "type")
 *		would take with it as the catalog is now, in the server's words
 *		("view public.totals, column total of table public.orders"); NULL
 *		when it does not exist now or takes nothing.
 */
static char *
cascade_text(LintState *st, ObjectType type, Node *object)
{
	ObjectAddress address;

	if (!FmDropObjectAddress(type, object, &address))
		return NULL;
	return FmDropReachText(FmDropReachOf(&address, true), 10);
}

/* Was an object of this kind and name created later in the script? */
static bool
created_later(const LintState *st, CreatedKind kind, const char *schema,
			  const char *name)
{
	ListCell   *lc;

	foreach(lc, st->creations)
	{
		Creation   *c = (Creation *) lfirst(lc);

		if (c->kind == kind && c->statement > st->stmt->number &&
			FmNamesMatch(c->schema, c->name, schema, name))
			return true;
	}
	return false;
}

/*
 * lint_drop_no_data
 *		DROP VIEW, DROP FUNCTION or DROP PROCEDURE of an object the script
 *		did not create: such an object holds no data.  Dropped and created
 *		again later in the same migration, it is replaced, and nothing is
 *		said; dropped on its own, a warning that needs no consent.  With
 *		CASCADE, what goes with it may hold data: a finding that a run
 *		measures (FM_DATA_DEPENDENTS), an error when it holds data now.
 */
static void
lint_drop_no_data(LintState *st, DropStmt *stmt, Node *object,
				  const char *what, CreatedKind kind, const char *schema,
				  const char *name)
{
	bool		replaced = created_later(st, kind, schema, name);
	char	   *qname = quote_qualified_identifier(schema, name);
	const char *itself;
	ObjectAddress address;

	if (stmt->behavior != DROP_CASCADE)
	{
		if (replaced)
			return;
		add_finding(st, "destructive.drop", FM_SEVERITY_WARNING,
					"Application code that still uses it fails. It holds no data, so no consent is needed; a migration that creates it again after the DROP replaces it and is not reported.",
					"%s deletes %s %s",
					st->tag, what, qname);
		return;
	}
	itself = replaced ?
		psprintf("%s ... CASCADE replaces %s %s (the migration creates it again) but deletes", st->tag, what, qname) :
		psprintf("%s ... CASCADE deletes %s %s and", st->tag, what, qname);
	if (!FmDropObjectAddress(stmt->removeType, object, &address))
		add_finding(st, "destructive.drop", FM_SEVERITY_WARNING,
					"What depends on it when the migration runs goes too; a run measures the data among it and needs consent only for that. Drop the dependent objects explicitly instead. " CONSENT_HINT,
					"%s everything that depends on it; it does not exist now, so what that is cannot be told",
					itself);
	else
	{
		FmDropReach *reach = FmDropReachOf(&address, true);
		char	   *text = FmDropReachText(reach, 10);

		if (FmDropReachHoldsData(reach))
			add_finding(st, "destructive.drop", FM_SEVERITY_ERROR,
						"Tables or columns that depend on it are dropped with their data. Drop the dependent objects explicitly instead, or drop without CASCADE. " CONSENT_HINT,
						"%s everything that depends on it, with data: %s",
						itself, text ? text : "?");
		else if (text != NULL)
			add_finding(st, "destructive.drop", FM_SEVERITY_WARNING,
						"Nothing that goes holds data, so no consent is needed; application code that uses what goes fails. Drop the dependent objects explicitly instead.",
						"%s everything that depends on it, none of which holds data: %s",
						itself, text);
		else if (!replaced)
			add_finding(st, "destructive.drop", FM_SEVERITY_WARNING,
						"Application code that still uses it fails. It holds no data, so no consent is needed.",
						"%s ... CASCADE deletes %s %s; nothing depends on it now",
						st->tag, what, qname);
		else
			return;
	}
	set_data(st, FM_DATA_DEPENDENTS, NULL, NULL, NIL, qname);
	{
		FmFinding  *f = (FmFinding *) llast(st->findings);

		f->objtype = stmt->removeType;
		f->object = copyObject(object);
		f->cascade = true;
	}
}

/*
 * lint_drop_extension
 *		DROP EXTENSION takes every object the extension created (its tables
 *		too) and, with CASCADE, everything that depends on them (a column
 *		of one of its types): a run measures the data among it
 *		(FM_DATA_DEPENDENTS).
 */
static void
lint_drop_extension(LintState *st, DropStmt *stmt, Node *object)
{
	bool		cascade = stmt->behavior == DROP_CASCADE;
	const char *name = quote_identifier(strVal(object));
	ObjectAddress address;
	FmFinding  *f;

	if (!FmDropObjectAddress(OBJECT_EXTENSION, object, &address))
	{
		if (cascade)
			add_finding(st, "destructive.drop_extension", FM_SEVERITY_ERROR,
						"A column of one of its types, and every table that uses one, goes with it. " CONSENT_HINT,
						"DROP EXTENSION ... CASCADE deletes extension %s, its objects and everything that depends on them; it is not installed now, so what that is cannot be told",
						name);
		else
			add_finding(st, "destructive.drop_extension", FM_SEVERITY_WARNING,
						"The extension's own tables go with it; a run measures their data and needs consent only for that.",
						"DROP EXTENSION deletes extension %s and every object it created; it is not installed now",
						name);
	}
	else
	{
		FmDropReach *reach = FmDropReachOf(&address, cascade);
		char	   *text = FmDropReachText(reach, 10);

		if (FmDropReachHoldsData(reach))
			add_finding(st, "destructive.drop_extension", FM_SEVERITY_ERROR,
						cascade ?
						"Drop or convert the columns that use its types first, then drop it without CASCADE. " CONSENT_HINT :
						"The extension's tables are dropped with their data. " CONSENT_HINT,
						"DROP EXTENSION%s deletes extension %s and what goes with it, with data: %s",
						cascade ? " ... CASCADE" : "", name, text ? text : "?");
		else if (text != NULL)
			add_finding(st, "destructive.drop_extension", FM_SEVERITY_WARNING,
						"Nothing that goes holds data, so no consent is needed; application code that uses what goes fails.",
						"DROP EXTENSION%s deletes extension %s and what goes with it, none of which holds data: %s",
						cascade ? " ... CASCADE" : "", name, text);
		else
			add_finding(st, "destructive.drop_extension", FM_SEVERITY_WARNING,
						"Nothing that goes holds data, so no consent is needed; application code that uses it fails.",
						"DROP EXTENSION%s deletes extension %s",
						cascade ? " ... CASCADE" : "", name);
	}
	set_data(st, FM_DATA_DEPENDENTS, NULL, NULL, NIL, name);
	f = (FmFinding *) llast(st->findings);
	f->objtype = OBJECT_EXTENSION;
	f->object = copyObject(object);
	f->cascade = cascade;
}

/* DROP ... */
static void
lint_drop(LintState *st, DropStmt *stmt)
{
	ListCell   *lc;
	const char *what = NULL;
	CreatedKind kind = CREATED_RELATION;
	bool		no_data = false;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

				char	   *reach;

				if (is_new(st, rv))
					continue;
				reach = stmt->behavior == DROP_CASCADE ?
					cascade_text(st, OBJECT_TABLE, (Node *) lfirst(lc)) : NULL;
				if (reach != NULL)
					add_finding(st, "destructive.drop_table", FM_SEVERITY_ERROR,
								"Keep a copy (rename the table, or CREATE TABLE ... AS) if the data may be needed. " CONSENT_HINT,
								"DROP TABLE deletes table %s and all its data, and CASCADE also drops %s",
								rangevar_name(rv), reach);
				else
					add_finding(st, "destructive.drop_table", FM_SEVERITY_ERROR,
								"Keep a copy (rename the table, or CREATE TABLE ... AS) if the data may be needed. " CONSENT_HINT,
								"DROP TABLE deletes table %s and all its data",
								rangevar_name(rv));
				set_data(st, FM_DATA_TABLE, rv, NULL, NIL, rangevar_name(rv));
			}
			return;
		case OBJECT_SCHEMA:
			foreach(lc, stmt->objects)
			{
				char	   *reach = stmt->behavior == DROP_CASCADE ?
					cascade_text(st, OBJECT_SCHEMA, (Node *) lfirst(lc)) : NULL;

				add_finding(st, "destructive.drop_schema", FM_SEVERITY_ERROR,
							CONSENT_HINT,
							"DROP SCHEMA deletes schema %s%s%s",
							quote_identifier(strVal(lfirst(lc))),
							stmt->behavior == DROP_CASCADE ?
							" and every table and object in it" : "",
							reach ? psprintf(": %s", reach) : "");
				set_data(st, FM_DATA_SCHEMA, NULL, NULL,
						 list_make1(lfirst(lc)),
						 quote_identifier(strVal(lfirst(lc))));
			}
			return;
		case OBJECT_INDEX:
			if (stmt->concurrent)
				return;
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
				Oid			indexid = existing_relation(st, rv);
				Oid			relid;

				if (!OidIsValid(indexid) || get_rel_relkind(indexid) != RELKIND_INDEX)
					continue;
				relid = IndexGetRelation(indexid, true);
				if (OidIsValid(relid))
					note_lock(st, relid, AccessExclusiveLock);
			}
			return;
		case OBJECT_TRIGGER:
		case OBJECT_RULE:
		case OBJECT_POLICY:
			foreach(lc, stmt->objects)
			{
				List	   *names = (List *) lfirst(lc);
				RangeVar   *rv;

				if (list_length(names) < 2)
					continue;
				rv = makeRangeVarFromNameList(list_truncate(list_copy(names),
															list_length(names) - 1));
				note_lock(st, existing_relation(st, rv), AccessExclusiveLock);
			}
			return;
		case OBJECT_VIEW:
			what = "view";
			no_data = true;
			break;
		case OBJECT_EXTENSION:
			foreach(lc, stmt->objects)
				lint_drop_extension(st, stmt, (Node *) lfirst(lc));
			return;
		case OBJECT_MATVIEW:
			what = "materialized view";
			break;
		case OBJECT_SEQUENCE:
			what = "sequence";
			break;
		case OBJECT_FOREIGN_TABLE:
			what = "foreign table";
			break;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			what = stmt->removeType == OBJECT_PROCEDURE ? "procedure" : "function";
			kind = CREATED_FUNCTION;
			no_data = stmt->removeType != OBJECT_AGGREGATE;
			break;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			what = stmt->removeType == OBJECT_DOMAIN ? "domain" : "type";
			kind = CREATED_TYPE;
			break;
		default:
			return;
	}

	foreach(lc, stmt->objects)
	{
		Node	   *object = (Node *) lfirst(lc);
		List	   *names;
		char	   *schema;
		char	   *name;

		if (IsA(object, ObjectWithArgs))
			names = ((ObjectWithArgs *) object)->objname;
		else if (IsA(object, TypeName))
			names = ((TypeName *) object)->names;
		else
			names = (List *) object;
		DeconstructQualifiedName(names, &schema, &name);
		if (created_earlier(st, kind, schema, name))
			continue;
		if (no_data)
		{
			lint_drop_no_data(st, stmt, object, what, kind, schema, name);
			continue;
		}
		if (stmt->behavior == DROP_CASCADE)
		{
			char	   *reach = cascade_text(st, stmt->removeType, object);

			if (reach != NULL)
				add_finding(st, "destructive.drop", FM_SEVERITY_ERROR,
							"CASCADE also drops what depends on it: columns, views, defaults and tables included. Drop those explicitly instead. " CONSENT_HINT,
							"%s ... CASCADE deletes %s %s and everything that depends on it: %s",
							st->tag, what, quote_qualified_identifier(schema, name), reach);
			else
				add_finding(st, "destructive.drop", FM_SEVERITY_ERROR,
							"CASCADE also drops what depends on it: columns, views, defaults and tables included. Drop those explicitly instead. " CONSENT_HINT,
							"%s ... CASCADE deletes %s %s and everything that depends on it",
							st->tag, what, quote_qualified_identifier(schema, name));
		}
		else
			add_finding(st, "destructive.drop", FM_SEVERITY_WARNING,
						"Application code that still uses it fails. " CONSENT_HINT,
						"%s deletes %s %s",
						st->tag, what, quote_qualified_identifier(schema, name));
		/*
		 * a materialized view's rows go with it (counted as a table's); a
		 * type's columns go with it under CASCADE; the rest holds no rows
		 */
		if (stmt->removeType == OBJECT_MATVIEW)
			set_data(st, FM_DATA_TABLE, makeRangeVarFromNameList(names), NULL,
					 NULL, quote_qualified_identifier(schema, name));
		else
			set_data(st, kind == CREATED_TYPE && stmt->behavior == DROP_CASCADE ?
					 FM_DATA_TYPE : FM_DATA_NONE, NULL, NULL, names,
					 quote_qualified_identifier(schema, name));
	}
}

/* The names objects are created under. */
static void
remember_type_name(LintState *st, List *names)
{
	char	   *schema;
	char	   *name;

	DeconstructQualifiedName(names, &schema, &name);
	remember_created(st, CREATED_TYPE, schema, name);
}

static void
remember_relation(LintState *st, RangeVar *rv)
{
	remember_created(st, CREATED_RELATION, rv->schemaname, rv->relname);
}

/* CREATE TABLE: its foreign keys lock the tables they reference. */
static void
lint_create_table(LintState *st, CreateStmt *stmt)
{
	ListCell   *lc;

	/* the raw tree keeps table constraints among the columns */
	foreach(lc, stmt->tableElts)
	{
		Node	   *elt = (Node *) lfirst(lc);

		if (IsA(elt, ColumnDef))
			note_references(st, ((ColumnDef *) elt)->constraints, InvalidOid);
		else if (IsA(elt, Constraint))
			note_references(st, list_make1(elt), InvalidOid);
	}
	note_references(st, stmt->constraints, InvalidOid);
}

/* One warning about an existing relation: "<what> <relation><how>". */
static void
warn_relation(LintState *st, const char *rule, RangeVar *rv, const char *hint,
			  const char *what, const char *how, const char *work)
{
	Oid			relid = existing_relation(st, rv);
	char	   *name = relation_name(relid);

	if (name == NULL)
		return;
	add_finding(st, rule, FM_SEVERITY_WARNING, hint, "%s %s%s", what,
				name, how);
	note_work(st, relid, work);
	st->stmt_lock = NoLock;
}

static void
lint_maintenance(LintState *st, Node *tree)
{
	switch (nodeTag(tree))
	{
		case T_VacuumStmt:
			{
				VacuumStmt *stmt = (VacuumStmt *) tree;
				ListCell   *lc;

				if (!stmt->is_vacuumcmd || !FmOptionIsTrue(stmt->options, "full"))
					return;
				foreach(lc, stmt->rels)
				{
					st->stmt_lock = AccessExclusiveLock;
					warn_relation(st, "blocking.vacuum_full",
								  lfirst_node(VacuumRelation, lc)->relation,
								  "Reads and writes wait until the table is rewritten. Plain VACUUM does not block them; pg_repack rewrites without a long lock.",
								  "VACUUM FULL rewrites", " under an ACCESS EXCLUSIVE lock",
								  "the VACUUM FULL rewrite");
				}
				return;
			}
		case T_ClusterStmt:
			{
				ClusterStmt *stmt = (ClusterStmt *) tree;

				st->stmt_lock = AccessExclusiveLock;
				if (stmt->relation != NULL)
					warn_relation(st, "blocking.cluster", stmt->relation,
								  "Reads and writes wait until the table is rewritten. Run it in a maintenance window.",
								  "CLUSTER rewrites", " under an ACCESS EXCLUSIVE lock",
								  "the CLUSTER rewrite");
				return;
			}
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *stmt = (RefreshMatViewStmt *) tree;

				if (stmt->concurrent)
					note_lock(st, existing_relation(st, stmt->relation), ExclusiveLock);
				else
				{
					st->stmt_lock = AccessExclusiveLock;
					warn_relation(st, "blocking.refresh", stmt->relation,
								  "Reads of it wait for the whole query. With a unique index on it, REFRESH MATERIALIZED VIEW CONCURRENTLY lets them go on.",
								  "REFRESH MATERIALIZED VIEW without CONCURRENTLY keeps", " locked (ACCESS EXCLUSIVE) for the whole refresh",
								  "the refresh");
				}
				return;
			}
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) tree;

				if (FmOptionIsTrue(stmt->params, "concurrently") || stmt->relation == NULL)
					return;

				/*
				 * Each index is rebuilt under an ACCESS EXCLUSIVE lock, and a
				 * query that plans on the table opens every index of it: on
				 * a standby that replays the lock, every query on the table
				 * waits for the rebuild.
				 */
				st->stmt_lock = AccessExclusiveLock;
				warn_relation(st, "blocking.reindex", stmt->relation,
							  "Writes (and, for the index, reads that use it) wait for the whole rebuild. REINDEX ... CONCURRENTLY lets them go on.",
							  "REINDEX without CONCURRENTLY rebuilds", " under a lock that blocks writes",
							  "the index rebuild");
				return;
			}
		default:
			return;
	}
}

/*
 * lint_with
 *		The data-modifying queries of a WITH clause (WITH d AS (DELETE ...)),
 *		which run whether or not the statement reads their result: linted
 *		as statements of their own, nested.
 */
static void
lint_with(LintState *st, WithClause *with)
{
	ListCell   *lc;

	if (with == NULL)
		return;
	foreach(lc, with->ctes)
	{
		Node	   *query = lfirst_node(CommonTableExpr, lc)->ctequery;

		if (query == NULL || IsA(query, SelectStmt))
			continue;
		st->nested++;
		lint_statement(st, query);
		st->nested--;
	}
}

/* MERGE: a WHEN ... THEN DELETE clause deletes the rows it matches. */
static void
lint_merge(LintState *st, MergeStmt *stmt)
{
	ListCell   *lc;
	bool		deletes = false;

	lint_with(st, stmt->withClause);
	foreach(lc, stmt->mergeWhenClauses)
	{
		if (lfirst_node(MergeWhenClause, lc)->commandType == CMD_DELETE)
			deletes = true;
	}
	if (deletes && !is_new(st, stmt->relation))
	{
		add_finding(st, "destructive.merge_delete", FM_SEVERITY_ERROR,
					"Check the join and the WHEN conditions: every row they match is deleted. " CONSENT_HINT,
					"MERGE ... THEN DELETE deletes the rows of %s that it matches%s",
					rangevar_name(stmt->relation),
					st->nested > 0 ? " (inside another statement)" : "");
		set_data(st, FM_DATA_TABLE, stmt->relation, NULL, NIL,
				 rangevar_name(stmt->relation));
	}
	note_work(st, existing_relation(st, stmt->relation), "the MERGE");
}

/* DROP OWNED BY: every object the roles own in this database. */
static void
lint_drop_owned(LintState *st, DropOwnedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->roles)
	{
		RoleSpec   *spec = lfirst_node(RoleSpec, lc);
		char	   *role;
		Oid			roleid;
		char	   *owned = NULL;

		if (spec->roletype == ROLESPEC_CSTRING)
			role = spec->rolename;
		else if (spec->roletype == ROLESPEC_SESSION_USER)
			role = GetUserNameFromId(GetSessionUserId(), false);
		else if (spec->roletype == ROLESPEC_PUBLIC)
			continue;			/* the server refuses it */
		else
			role = GetUserNameFromId(GetUserId(), false);
		roleid = get_role_oid(role, true);
		if (OidIsValid(roleid))
			owned = FmDropReachText(FmOwnedReach(roleid), 10);
		if (owned != NULL)
			add_finding(st, "destructive.drop_owned", FM_SEVERITY_ERROR,
						"Use REASSIGN OWNED BY to keep the objects under another owner. " CONSENT_HINT,
						"DROP OWNED BY %s deletes every object it owns in this database, with the data of its tables: %s",
						quote_identifier(role), owned);
		else
			add_finding(st, "destructive.drop_owned", FM_SEVERITY_ERROR,
						"Use REASSIGN OWNED BY to keep the objects under another owner. " CONSENT_HINT,
						"DROP OWNED BY %s deletes every object it owns in this database, with the data of its tables",
						quote_identifier(role));
		set_data(st, FM_DATA_OWNED, NULL, NULL,
				 list_make1(makeString(role)), quote_identifier(role));
	}
}

/*
 * lint_statement
 *		Classify one statement (st->stmt) and remember what it creates.
 */
static void
lint_statement(LintState *st, Node *tree)
{
	ListCell   *lc;
	RangeVar   *created;

	if (FmStatementNeedsTopLevel(tree))
	{
		st->non_transactional++;
		add_finding(st, "structure.non_transactional", FM_SEVERITY_INFO,
					"migrate() applies such a migration statement by statement, outside a transaction; apply_pending() refuses it.",
					"%s cannot run inside a transaction block", st->tag);
		if (st->non_transactional > 1)
			add_finding(st, "structure.multiple_non_transactional", FM_SEVERITY_WARNING,
						"If a later statement fails, the earlier ones stay applied. Put each statement that cannot run in a transaction in a migration of its own.",
						"this is statement %d of the migration that cannot run inside a transaction block",
						st->non_transactional);
	}

	switch (nodeTag(tree))
	{
		case T_TransactionStmt:
			add_finding(st, "structure.transaction_control", FM_SEVERITY_ERROR,
						"Each migration runs in a transaction of its own, or statement by statement if it cannot; remove the statement.",
						"%s cannot be used in a migration", st->tag);
			break;
		case T_DropStmt:
			lint_drop(st, (DropStmt *) tree);
			break;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) tree)->relations)
			{
				RangeVar   *rv = lfirst_node(RangeVar, lc);

				if (!is_new(st, rv))
				{
					add_finding(st, "destructive.truncate", FM_SEVERITY_ERROR,
								CONSENT_HINT,
								"TRUNCATE deletes every row of %s", rangevar_name(rv));
					set_data(st, FM_DATA_TABLE, rv, NULL, NIL, rangevar_name(rv));
				}
			}
			break;
		case T_DeleteStmt:
			{
				DeleteStmt *stmt = (DeleteStmt *) tree;

				lint_with(st, stmt->withClause);
				if (stmt->whereClause == NULL && !is_new(st, stmt->relation))
				{
					add_finding(st, "destructive.delete_all", FM_SEVERITY_ERROR,
								"Add a WHERE clause if only some rows should go. " CONSENT_HINT,
								"DELETE without WHERE deletes every row of %s%s",
								rangevar_name(stmt->relation),
								st->nested > 0 ? " (inside another statement)" : "");
					set_data(st, FM_DATA_TABLE, stmt->relation, NULL, NIL,
							 rangevar_name(stmt->relation));
				}
				note_work(st, existing_relation(st, stmt->relation), "the DELETE");
				break;
			}
		case T_UpdateStmt:
			{
				UpdateStmt *stmt = (UpdateStmt *) tree;

				lint_with(st, stmt->withClause);
				if (stmt->whereClause == NULL && !is_new(st, stmt->relation))
				{
					add_finding(st, "destructive.update_all", FM_SEVERITY_WARNING,
								"It also locks every row until the migration ends; fill large tables in batches. " CONSENT_HINT,
								"UPDATE without WHERE overwrites every row of %s%s",
								rangevar_name(stmt->relation),
								st->nested > 0 ? " (inside another statement)" : "");
					set_data(st, FM_DATA_TABLE, stmt->relation, NULL, NIL,
							 rangevar_name(stmt->relation));
				}
				note_work(st, existing_relation(st, stmt->relation), "the UPDATE");
				break;
			}
		case T_InsertStmt:
			{
				InsertStmt *stmt = (InsertStmt *) tree;
				SelectStmt *select = (SelectStmt *) stmt->selectStmt;

				lint_with(st, stmt->withClause);
				if (select == NULL || !IsA(select, SelectStmt))
					break;
				lint_with(st, select->withClause);
				if (select->fromClause == NIL)
					break;		/* VALUES, or constants */
				note_work(st, existing_relation(st, stmt->relation), "the INSERT ... SELECT");
				foreach(lc, select->fromClause)
				{
					if (IsA(lfirst(lc), RangeVar))
						note_work(st, existing_relation(st, (RangeVar *) lfirst(lc)),
								  "the INSERT ... SELECT");
				}
				break;
			}
		case T_MergeStmt:
			lint_merge(st, (MergeStmt *) tree);
			break;
		case T_ExplainStmt:
			{
				ExplainStmt *stmt = (ExplainStmt *) tree;

				/* EXPLAIN ANALYZE runs the statement */
				if (!FmOptionIsTrue(stmt->options, "analyze"))
					break;
				st->nested++;
				lint_statement(st, stmt->query);
				st->nested--;
				break;
			}
		case T_DropOwnedStmt:
			lint_drop_owned(st, (DropOwnedStmt *) tree);
			break;
		case T_DropdbStmt:
			{
				DropdbStmt *stmt = (DropdbStmt *) tree;

				add_finding(st, "destructive.drop_database", FM_SEVERITY_ERROR,
							"Every table of that database goes with it, and fleetmigrate cannot count them from this one. " CONSENT_HINT,
							"DROP DATABASE deletes database %s and all its data",
							quote_identifier(stmt->dbname));
				set_data(st, FM_DATA_DATABASE, NULL, NULL,
						 list_make1(makeString(stmt->dbname)),
						 quote_identifier(stmt->dbname));
				break;
			}
		case T_AlterTableStmt:
			lint_alter_table(st, (AlterTableStmt *) tree);
			break;
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) tree;
				char	   *name;

				if (stmt->relation == NULL)
					break;
				name = relation_name(existing_relation(st, stmt->relation));
				if (name == NULL)
					break;
				if (stmt->renameType == OBJECT_TABLE ||
					stmt->renameType == OBJECT_VIEW ||
					stmt->renameType == OBJECT_MATVIEW ||
					stmt->renameType == OBJECT_FOREIGN_TABLE)
					add_finding(st, "compatibility.rename_table", FM_SEVERITY_WARNING,
								"Running application code that uses the old name fails. Create the new name as a view of the old one (or the other way round) until every client uses it.",
								"renaming %s to %s breaks queries that use the old name",
								name, quote_identifier(stmt->newname));
				else if (stmt->renameType == OBJECT_COLUMN)
					add_finding(st, "compatibility.rename_column", FM_SEVERITY_WARNING,
								"Running application code that uses the old name fails. Add the new column, keep both in step until every client uses it, then drop the old one.",
								"renaming column %s of %s to %s breaks queries that use the old name",
								quote_identifier(stmt->subname), name,
								quote_identifier(stmt->newname));
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) tree;
				char	   *name;

				if (stmt->relation == NULL)
					break;
				name = relation_name(existing_relation(st, stmt->relation));
				if (name != NULL)
					add_finding(st, "compatibility.rename_table", FM_SEVERITY_WARNING,
								"Running application code that names the old schema fails. Leave a view under the old name until every client uses the new one.",
								"moving %s to schema %s breaks queries that use the old name",
								name, quote_identifier(stmt->newschema));
				break;
			}
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) tree;

				if (!stmt->concurrent)
					warn_relation(st, "blocking.create_index", stmt->relation,
								  "Writes wait for the whole build. Use CREATE INDEX CONCURRENTLY, in a migration of its own.",
								  "CREATE INDEX without CONCURRENTLY blocks writes to", " (SHARE lock) for the whole index build",
								  "the index build");
				break;
			}
		case T_CreateTrigStmt:
			note_lock(st, existing_relation(st, ((CreateTrigStmt *) tree)->relation),
					  ShareRowExclusiveLock);
			break;
		case T_LockStmt:
			{
				LockStmt   *stmt = (LockStmt *) tree;

				if (stmt->mode < ShareLock)
					break;
				foreach(lc, stmt->relations)
				{
					char	   *name = relation_name(existing_relation(st, lfirst_node(RangeVar, lc)));

					if (name != NULL)
						add_finding(st, "blocking.lock_table", FM_SEVERITY_WARNING,
									"The lock is held until the migration ends. Lock only what needs it, as late as possible, or not at all.",
									"LOCK TABLE takes %s %s lock on %s until the migration ends",
									article(stmt->mode), FmLockModeName(stmt->mode),
									name);
				}
				break;
			}
		case T_VacuumStmt:
		case T_ClusterStmt:
		case T_RefreshMatViewStmt:
		case T_ReindexStmt:
			lint_maintenance(st, tree);
			break;

		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			lint_create_table(st, (CreateStmt *) tree);
			break;

			/*
			 * what the script creates: relations (FmCreatedRelation() below,
			 * and SELECT INTO, a raw tree of its own), routines and types
			 */
		case T_SelectStmt:
			lint_with(st, ((SelectStmt *) tree)->withClause);
			if (((SelectStmt *) tree)->intoClause != NULL)
				remember_relation(st, ((SelectStmt *) tree)->intoClause->rel);
			break;
		case T_CreateFunctionStmt:
			{
				char	   *schema;
				char	   *name;

				DeconstructQualifiedName(((CreateFunctionStmt *) tree)->funcname, &schema, &name);
				remember_created(st, CREATED_FUNCTION, schema, name);
				break;
			}
		case T_CompositeTypeStmt:
			{
				RangeVar   *rv = ((CompositeTypeStmt *) tree)->typevar;

				remember_created(st, CREATED_TYPE, rv->schemaname, rv->relname);
				break;
			}
		case T_CreateEnumStmt:
			remember_type_name(st, ((CreateEnumStmt *) tree)->typeName);
			break;
		case T_CreateRangeStmt:
			remember_type_name(st, ((CreateRangeStmt *) tree)->typeName);
			break;
		case T_CreateDomainStmt:
			remember_type_name(st, ((CreateDomainStmt *) tree)->domainname);
			break;
		case T_DefineStmt:
			if (((DefineStmt *) tree)->kind == OBJECT_TYPE)
				remember_type_name(st, ((DefineStmt *) tree)->defnames);
			break;
		default:
			break;
	}

	created = FmCreatedRelation(tree);
	if (created != NULL)
		remember_relation(st, created);
}

/*
 * hold_statement_locks
 *		The strong locks statement st->stmt took that lint_statement() did
 *		not already note (a statement with warnings of its own, a DML
 *		statement's table), for note_work() of the later statements.
 */
static void
hold_statement_locks(LintState *st, Node *tree)
{
	ListCell   *lc;

	if (!st->one_transaction)
		return;
	foreach(lc, FmStatementLocks(tree))
	{
		FmLockTarget *t = (FmLockTarget *) lfirst(lc);
		Oid			relid;
		bool		known = false;

		if (t->mode < ShareLock || t->relation == NULL)
			continue;
		relid = existing_relation(st, t->relation);
		if (!OidIsValid(relid))
			continue;
		/* this statement's own locks are at the end of the list */
		for (int i = list_length(st->held) - 1; i >= 0; i--)
		{
			HeldLock   *h = (HeldLock *) list_nth(st->held, i);

			if (h->statement != st->stmt->number)
				break;
			if (h->relid == relid)
			{
				h->mode = Max(h->mode, t->mode);
				hold_strongest(st, h);
				known = true;
			}
		}
		if (!known)
			hold_lock(st, relid, t->mode, NULL);
	}
}

/*
 * FmLint
 *		The findings for every statement of "script", in statement order.
 *		"label" names the script in a syntax error.
 */
List *
FmLint(const char *script, const char *label)
{
	LintState	st;
	List	   *statements = FmSplitScript(script, label);
	ListCell   *lc;

	memset(&st, 0, sizeof(st));
	st.script = script;
	st.one_transaction = true;
	st.standbys = -1;

	/*
	 * First what the whole script creates, for a DROP that a later CREATE
	 * undoes, and whether it is one transaction.
	 */
	foreach(lc, statements)
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);
		Node	   *tree = stmt->parsetree;
		Creation   *c = NULL;

		if (FmStatementNeedsTopLevel(tree))
			st.one_transaction = false;
		if (IsA(tree, ViewStmt))
		{
			c = palloc(sizeof(Creation));
			c->kind = CREATED_RELATION;
			c->schema = ((ViewStmt *) tree)->view->schemaname;
			c->name = ((ViewStmt *) tree)->view->relname;
		}
		else if (IsA(tree, CreateFunctionStmt))
		{
			c = palloc(sizeof(Creation));
			c->kind = CREATED_FUNCTION;
			DeconstructQualifiedName(((CreateFunctionStmt *) tree)->funcname,
									 &c->schema, &c->name);
		}
		if (c != NULL)
		{
			c->statement = stmt->number;
			st.creations = lappend(st.creations, c);
		}
	}

	foreach(lc, statements)
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);

		st.stmt = stmt;
		st.tag = CreateCommandName(stmt->parsetree);
		st.stmt_lock = NoLock;
		lint_statement(&st, stmt->parsetree);
		hold_statement_locks(&st, stmt->parsetree);
	}
	return st.findings;
}

/*
 * FmLintSummary
 *		The findings in a few words, for a dry run's message: "lint: ok",
 *		or every error and warning ("statement 1 destructive.drop_table
 *		(error)") and how many infos.
 */
char *
FmLintSummary(List *findings)
{
	StringInfoData buf;
	ListCell   *lc;
	int			infos = 0;
	int			listed = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "lint:");
	foreach(lc, findings)
	{
		FmFinding  *f = (FmFinding *) lfirst(lc);

		if (f->severity == FM_SEVERITY_INFO)
		{
			infos++;
			continue;
		}
		appendStringInfo(&buf, "%s statement %d %s (%s)",
						 listed++ > 0 ? "," : "", f->statement, f->rule,
						 FmSeverityName(f->severity));
	}
	if (infos > 0)
		appendStringInfo(&buf, "%s %d info", listed > 0 ? "," : "", infos);
	else if (listed == 0)
		appendStringInfoString(&buf, " ok");
	return buf.data;
}

/*
 * FmStatementLocks
 *		The relations a statement locks for longer than an instant, with
 *		the mode: what a migration waits for when it times out on a lock.
 */
List *
FmStatementLocks(Node *tree)
{
	List	   *result = NIL;
	ListCell   *lc;

#define TARGET(rv, lockmode) \
	do { \
		FmLockTarget *t = palloc(sizeof(FmLockTarget)); \
		t->relation = (rv); \
		t->mode = (lockmode); \
		result = lappend(result, t); \
	} while (0)

	switch (nodeTag(tree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) tree;

				TARGET(stmt->relation, AlterTableGetLockLevel(stmt->cmds));
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AddConstraint &&
						castNode(Constraint, cmd->def)->contype == CONSTR_FOREIGN)
						TARGET(castNode(Constraint, cmd->def)->pktable,
							   ShareRowExclusiveLock);
				}
				break;
			}
		case T_IndexStmt:
			TARGET(((IndexStmt *) tree)->relation,
				   ((IndexStmt *) tree)->concurrent ? ShareUpdateExclusiveLock : ShareLock);
			break;
		case T_CreateTrigStmt:
			TARGET(((CreateTrigStmt *) tree)->relation, ShareRowExclusiveLock);
			break;
		case T_RenameStmt:
			if (((RenameStmt *) tree)->relation != NULL)
				TARGET(((RenameStmt *) tree)->relation, AccessExclusiveLock);
			break;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) tree)->relations)
				TARGET(lfirst_node(RangeVar, lc), AccessExclusiveLock);
			break;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) tree)->relations)
				TARGET(lfirst_node(RangeVar, lc), ((LockStmt *) tree)->mode);
			break;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) tree;

				if (stmt->removeType != OBJECT_TABLE &&
					stmt->removeType != OBJECT_VIEW &&
					stmt->removeType != OBJECT_MATVIEW &&
					stmt->removeType != OBJECT_INDEX)
					break;
				foreach(lc, stmt->objects)
					TARGET(makeRangeVarFromNameList((List *) lfirst(lc)),
						   stmt->concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock);
				break;
			}
		case T_RefreshMatViewStmt:
			TARGET(((RefreshMatViewStmt *) tree)->relation,
				   ((RefreshMatViewStmt *) tree)->concurrent ? ExclusiveLock : AccessExclusiveLock);
			break;
		case T_ClusterStmt:
			if (((ClusterStmt *) tree)->relation != NULL)
				TARGET(((ClusterStmt *) tree)->relation, AccessExclusiveLock);
			break;
		case T_InsertStmt:
			TARGET(((InsertStmt *) tree)->relation, RowExclusiveLock);
			break;
		case T_UpdateStmt:
			TARGET(((UpdateStmt *) tree)->relation, RowExclusiveLock);
			break;
		case T_DeleteStmt:
			TARGET(((DeleteStmt *) tree)->relation, RowExclusiveLock);
			break;
		default:
			break;
	}
#undef TARGET
	return result;
}

/*
 * fleetmigrate.lint(sql text)
 *	RETURNS TABLE(statement integer, line integer, rule text, severity text,
 *				  message text, hint text)
 */
Datum
fleetmigrate_lint(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script;
	List	   *findings;
	ListCell   *lc;

	/* STRICT: lint(NULL) returns no rows without calling us */
	script = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	findings = FmLint(script, "the script");
	foreach(lc, findings)
	{
		FmFinding  *f = (FmFinding *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = Int32GetDatum(f->statement);
		values[1] = Int32GetDatum(f->line);
		values[2] = CStringGetTextDatum(f->rule);
		values[3] = CStringGetTextDatum(FmSeverityName(f->severity));
		values[4] = CStringGetTextDatum(f->message);
		values[5] = f->hint ? CStringGetTextDatum(f->hint) : (Datum) 0;
		nulls[5] = f->hint == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
