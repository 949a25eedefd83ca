/*-------------------------------------------------------------------------
 *
 * depend.c
 *	  What a DROP would take with it, read from pg_depend: the objects to
 *	  name in a finding ("CASCADE also drops view public.totals, column
 *	  total of table public.orders") and the data among them (the tables
 *	  and materialized views that go whole, the columns that go), which
 *	  consent.c measures.
 *
 * The walk follows the server's own rules (dependency.c,
 * findDependentObjects()) closely enough to name what goes: from the
 * dropped object to every object that depends on it automatically,
 * internally, as a partition or as an extension member, and with CASCADE
 * also normally; an object that is an internal part of another (a view's
 * rewrite rule) takes its owner (the view) with it.  Without CASCADE the
 * server refuses a drop that has normal dependents, so they are not
 * followed.  The walk stops at FM_REACH_LIMIT objects (a DROP SCHEMA ...
 * CASCADE of a large schema) and says so.
 *
 * Locks: none on the objects (lint() takes none, see lint.c); pg_depend and
 * pg_shdepend are read with ACCESS SHARE through their indexes, and every
 * other row through the syscache, so an object dropped meanwhile is simply
 * not found.  The server functions that look an object up by name or
 * describe it (LookupFuncWithArgs(), getObjectDescription()) can still
 * fail with "cache lookup failed" when a row they read vanishes between two
 * reads; they run in a subtransaction here (gone_safe()), and such an
 * error means the object is gone.  Results are palloc'd in CurrentMemoryContext.  Uses no other
 * file of fleetmigrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_shdepend.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "depend.h"

/* The walk stops after this many objects. */
#define FM_REACH_LIMIT	2000

static bool in_set(List *set, Oid classid, Oid objid, int32 subid);
static bool relation_in_set(List *set, Oid relid);
static void add_object(List **set, List **queue, Oid classid, Oid objid,
					   int32 subid);
static void add_owners(List **set, List **queue, const ObjectAddress *obj);
static bool part_of_dropped_relation(List *set, const ObjectAddress *obj);
static bool worth_naming(List *set, const ObjectAddress *obj);

/*
 * gone_safe
 *		fn(arg) in a subtransaction: false when it failed because an object
 *		it read was dropped meanwhile (an internal "cache lookup failed", or
 *		"does not exist"); any other error is raised again.  Memory that fn
 *		allocates in CurrentMemoryContext stays.
 */
static bool
gone_safe(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_INTERNAL_ERROR &&
			edata->sqlerrcode != ERRCODE_UNDEFINED_OBJECT &&
			edata->sqlerrcode != ERRCODE_UNDEFINED_FUNCTION &&
			edata->sqlerrcode != ERRCODE_UNDEFINED_SCHEMA)
			ReThrowError(edata);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* A function lookup, for gone_safe(). */
typedef struct FuncLookup
{
	ObjectWithArgs *owa;
	Oid			oid;
} FuncLookup;

static void
lookup_function(void *arg)
{
	FuncLookup *l = (FuncLookup *) arg;

	if (l->owa->args_unspecified)
	{
		FuncCandidateList c = FuncnameGetCandidates(l->owa->objname, -1, NIL,
													false, false, false, true);

		if (c != NULL && c->next == NULL)
			l->oid = c->oid;
	}
	else

		/*
		 * as a routine: with the kind the DROP says, a function of another
		 * kind is an ERROR even with missing_ok
		 */
		l->oid = LookupFuncWithArgs(OBJECT_ROUTINE, l->owa, true);
}

/*
 * type_now
 *		The type a DROP TYPE or DROP DOMAIN names, looked up as
 *		LookupTypeNameOid() would but without reading its row (which can be
 *		dropped in between): InvalidOid if there is none.
 */
static Oid
type_now(TypeName *typeName)
{
	char	   *schema;
	char	   *name;
	Oid			typoid;

	DeconstructQualifiedName(typeName->names, &schema, &name);
	if (schema != NULL)
	{
		Oid			namespace = get_namespace_oid(schema, true);

		if (!OidIsValid(namespace))
			return InvalidOid;
		typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								 PointerGetDatum(name),
								 ObjectIdGetDatum(namespace));
	}
	else
		typoid = TypenameGetTypidExtended(name, true);
	if (OidIsValid(typoid) && typeName->arrayBounds != NIL)
		typoid = get_array_type(typoid);
	return typoid;
}

/*
 * FmDropObjectAddress
 *		The object a DROP statement's "object" (one of DropStmt.objects, of
 *		kind "type") names, as it exists now; false if it does not exist
 *		(or cannot be told: an overloaded function named without its
 *		arguments).  Takes no lock.
 */
bool
FmDropObjectAddress(ObjectType type, Node *object, ObjectAddress *address)
{
	Oid			oid = InvalidOid;
	Oid			classid = InvalidOid;

	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_INDEX:
			classid = RelationRelationId;
			oid = RangeVarGetRelid(makeRangeVarFromNameList((List *) object),
								   NoLock, true);
			break;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			{
				FuncLookup	l;
				char	   *schema;
				char	   *name;

				classid = ProcedureRelationId;
				l.owa = castNode(ObjectWithArgs, object);
				l.oid = InvalidOid;
				DeconstructQualifiedName(l.owa->objname, &schema, &name);
				if (schema != NULL && !OidIsValid(get_namespace_oid(schema, true)))
					return false;
				if (!gone_safe(lookup_function, &l))
					return false;
				oid = l.oid;
				break;
			}
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			classid = TypeRelationId;
			oid = type_now(castNode(TypeName, object));
			break;
		case OBJECT_EXTENSION:
			classid = ExtensionRelationId;
			oid = get_extension_oid(strVal(object), true);
			break;
		case OBJECT_SCHEMA:
			classid = NamespaceRelationId;
			oid = get_namespace_oid(strVal(object), true);
			break;
		default:
			return false;
	}
	if (!OidIsValid(oid))
		return false;
	address->classId = classid;
	address->objectId = oid;
	address->objectSubId = 0;
	return true;
}

static bool
in_set(List *set, Oid classid, Oid objid, int32 subid)
{
	ListCell   *lc;

	foreach(lc, set)
	{
		ObjectAddress *a = (ObjectAddress *) lfirst(lc);

		if (a->classId == classid && a->objectId == objid &&
			(a->objectSubId == subid || a->objectSubId == 0))
			return true;
	}
	return false;
}

/* Does the whole of relation "relid" go? */
static bool
relation_in_set(List *set, Oid relid)
{
	return in_set(set, RelationRelationId, relid, 0);
}

static void
add_object(List **set, List **queue, Oid classid, Oid objid, int32 subid)
{
	ObjectAddress *a;

	if (in_set(*set, classid, objid, subid) || list_length(*set) >= FM_REACH_LIMIT)
		return;
	a = palloc(sizeof(ObjectAddress));
	a->classId = classid;
	a->objectId = objid;
	a->objectSubId = subid;
	*set = lappend(*set, a);
	*queue = lappend(*queue, a);
}

/*
 * add_owners
 *		An object that is an internal part of another (a view's rewrite
 *		rule, a relation's row type) cannot go alone: its owner goes too.
 */
static void
add_owners(List **set, List **queue, const ObjectAddress *obj)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[3];
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	ScanKeyInit(&key[2], Anum_pg_depend_objsubid, BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(obj->objectSubId));
	scan = systable_beginscan(rel, DependDependerIndexId, true, NULL, 3, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tuple);

		if (d->deptype == DEPENDENCY_INTERNAL)
			add_object(set, queue, d->refclassid, d->refobjid, d->refobjsubid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * FmDropReachOf
 *		What dropping "root" (with or without CASCADE) takes besides root
 *		itself, as it is in the catalog now.  Never ERRORs for objects
 *		dropped meanwhile.
 */
FmDropReach *
FmDropReachOf(const ObjectAddress *root, bool cascade)
{
	FmDropReach *reach = palloc0(sizeof(FmDropReach));
	List	   *set = NIL;
	List	   *queue = NIL;
	Relation	rel;
	ListCell   *lc;

	add_object(&set, &queue, root->classId, root->objectId, root->objectSubId);
	rel = table_open(DependRelationId, AccessShareLock);
	while (queue != NIL)
	{
		ObjectAddress *obj = (ObjectAddress *) linitial(queue);
		ScanKeyData key[3];
		int			nkeys = 2;
		SysScanDesc scan;
		HeapTuple	tuple;

		queue = list_delete_first(queue);
		CHECK_FOR_INTERRUPTS();
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(obj->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(obj->objectId));
		if (obj->objectSubId != 0)
		{
			ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber,
						F_INT4EQ, Int32GetDatum(obj->objectSubId));
			nkeys = 3;
		}
		scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL,
								  nkeys, key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tuple);
			ObjectAddress dep;

			switch (d->deptype)
			{
				case DEPENDENCY_NORMAL:
					if (!cascade)
						continue;
					break;
				case DEPENDENCY_AUTO:
				case DEPENDENCY_INTERNAL:
				case DEPENDENCY_PARTITION_PRI:
				case DEPENDENCY_PARTITION_SEC:
				case DEPENDENCY_EXTENSION:
				case DEPENDENCY_AUTO_EXTENSION:
					break;
				default:
					continue;
			}
			/* an object's dependence on a part of itself */
			if (d->classid == obj->classId && d->objid == obj->objectId)
				continue;
			if (in_set(set, d->classid, d->objid, d->objsubid))
				continue;
			dep.classId = d->classid;
			dep.objectId = d->objid;
			dep.objectSubId = d->objsubid;
			add_object(&set, &queue, dep.classId, dep.objectId, dep.objectSubId);
			add_owners(&set, &queue, &dep);
		}
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	reach->truncated = list_length(set) >= FM_REACH_LIMIT;

	/* the data, and what to name */
	foreach(lc, set)
	{
		ObjectAddress *obj = (ObjectAddress *) lfirst(lc);

		if (foreach_current_index(lc) == 0)
			continue;			/* root */
		if (obj->classId == RelationRelationId)
		{
			char		relkind = get_rel_relkind(obj->objectId);
			bool		holds = relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW;

			if (obj->objectSubId == 0 && holds)
				reach->relids = lappend_oid(reach->relids, obj->objectId);
			else if (obj->objectSubId > 0 && holds &&
					 !relation_in_set(set, obj->objectId))
			{
				char	   *attname = get_attname(obj->objectId, obj->objectSubId, true);

				if (attname != NULL)
				{
					reach->colrels = lappend_oid(reach->colrels, obj->objectId);
					reach->columns = lappend(reach->columns, attname);
				}
			}
		}
		if (worth_naming(set, obj))
			reach->objects = lappend(reach->objects, obj);
	}
	return reach;
}

/*
 * part_of_dropped_relation
 *		Does "obj" depend automatically or internally on a relation or a
 *		column that goes (a table's index, default, constraint, trigger; a
 *		column's default), or is it an internal part of another object that
 *		goes (a constraint's index or triggers)?  Such parts go with their
 *		owner and are not named.
 */
static bool
part_of_dropped_relation(List *set, const ObjectAddress *obj)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		part = false;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	scan = systable_beginscan(rel, DependDependerIndexId, true, NULL, 2, key);
	while (!part && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tuple);

		if (d->deptype != DEPENDENCY_AUTO && d->deptype != DEPENDENCY_INTERNAL)
			continue;
		if (obj->classId == RelationRelationId && obj->objectId == d->refobjid)
			continue;
		/* a part of a relation, or of a column, that goes */
		if (d->refclassid == RelationRelationId &&
			in_set(set, d->refclassid, d->refobjid, d->refobjsubid))
			part = true;
		/*
		 * an internal part of another object that goes (a constraint's
		 * index or triggers): named through its owner
		 */
		if (d->deptype == DEPENDENCY_INTERNAL &&
			in_set(set, d->refclassid, d->refobjid, d->refobjsubid))
			part = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return part;
}

/*
 * worth_naming
 *		Leave out what a reader would not call an object of its own: rewrite
 *		rules (their view is named), row and array types, TOAST tables, the
 *		columns and parts of a relation that goes whole.
 */
static bool
worth_naming(List *set, const ObjectAddress *obj)
{
	if (obj->classId == RewriteRelationId)
		return false;
	if (obj->classId == TypeRelationId)
	{
		HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(obj->objectId));
		bool		implicit;

		if (!HeapTupleIsValid(tuple))
			return false;
		implicit = OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typrelid) ||
			(OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typelem) &&
			 get_array_type(((Form_pg_type) GETSTRUCT(tuple))->typelem) == obj->objectId);
		ReleaseSysCache(tuple);
		return !implicit;
	}
	if (obj->classId == RelationRelationId)
	{
		char		relkind = get_rel_relkind(obj->objectId);

		if (relkind == '\0' || relkind == RELKIND_TOASTVALUE)
			return false;
		if (obj->objectSubId > 0)
			return !relation_in_set(set, obj->objectId);
	}
	return !part_of_dropped_relation(set, obj);
}

/*
 * FmOwnedReach
 *		What DROP OWNED BY role "roleid" takes in this database: the objects
 *		it owns (from pg_shdepend) and, among them, the tables and
 *		materialized views.
 */
FmDropReach *
FmOwnedReach(Oid roleid)
{
	FmDropReach *reach = palloc0(sizeof(FmDropReach));
	Relation	rel = table_open(SharedDependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key[0], Anum_pg_shdepend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(AuthIdRelationId));
	ScanKeyInit(&key[1], Anum_pg_shdepend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, SharedDependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_shdepend d = (Form_pg_shdepend) GETSTRUCT(tuple);
		ObjectAddress *obj;

		if (d->dbid != MyDatabaseId || d->deptype != SHARED_DEPENDENCY_OWNER)
			continue;
		if (list_length(reach->objects) >= FM_REACH_LIMIT)
		{
			reach->truncated = true;
			break;
		}
		obj = palloc(sizeof(ObjectAddress));
		obj->classId = d->classid;
		obj->objectId = d->objid;
		obj->objectSubId = d->objsubid;
		if (d->classid == RelationRelationId)
		{
			char		relkind = get_rel_relkind(d->objid);

			if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW)
				reach->relids = lappend_oid(reach->relids, d->objid);
			if (relkind == RELKIND_TOASTVALUE || relkind == RELKIND_INDEX ||
				relkind == '\0')
				continue;
		}
		if (d->classid == TypeRelationId && !worth_naming(NIL, obj))
			continue;
		reach->objects = lappend(reach->objects, obj);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return reach;
}

/* Does the reach hold data: a table, a materialized view or a column? */
bool
FmDropReachHoldsData(const FmDropReach *reach)
{
	return reach->relids != NIL || reach->columns != NIL;
}

/* getObjectDescription(), for gone_safe(). */
typedef struct Describe
{
	const ObjectAddress *object;
	char	   *description;
} Describe;

static void
describe(void *arg)
{
	Describe   *d = (Describe *) arg;

	d->description = getObjectDescription(d->object, true);
}

/*
 * FmDropReachText
 *		"view public.totals, column total of table public.orders and 3
 *		more", naming at most "max" objects, in the server's own words
 *		(getObjectDescription()), sorted so that the text is stable; NULL
 *		if the reach names nothing.  An object dropped meanwhile is left
 *		out.
 */
static int
compare_text(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

char *
FmDropReachText(const FmDropReach *reach, int max)
{
	List	   *data = NIL;
	List	   *rest = NIL;
	List	   *names;
	StringInfoData buf;
	ListCell   *lc;
	int			more;

	/* what holds data first: tables, materialized views, columns */
	foreach(lc, reach->objects)
	{
		ObjectAddress *obj = (ObjectAddress *) lfirst(lc);
		Describe	d;
		char	   *description;
		bool		holds = false;

		d.object = obj;
		d.description = NULL;
		if (!gone_safe(describe, &d) || d.description == NULL)
			continue;
		description = d.description;
		if (obj->classId == RelationRelationId)
		{
			char		relkind = get_rel_relkind(obj->objectId);

			holds = relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW;
		}
		if (holds)
			data = lappend(data, description);
		else
			rest = lappend(rest, description);
	}
	list_sort(data, compare_text);
	list_sort(rest, compare_text);
	names = list_concat(data, rest);
	if (names == NIL)
		return NULL;
	initStringInfo(&buf);
	foreach(lc, names)
	{
		if (foreach_current_index(lc) >= max)
			break;
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 (char *) lfirst(lc));
	}
	more = list_length(names) - max;
	if (more > 0 || reach->truncated)
		appendStringInfo(&buf, " and %s%d more", reach->truncated ? "at least " : "",
						 more > 0 ? more : 0);
	return buf.data;
}
