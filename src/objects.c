/*-------------------------------------------------------------------------
 *
 * objects.c
 *	  What a migration's up script creates, and whether it exists: the
 *	  object check of baseline(), repair() and import_history().
 *
 * The script is split with the server's parser (FmSplitScript()) and its
 * raw parse trees are read in order.  Each statement that creates something
 * adds an expected object: a table (CREATE TABLE, CREATE TABLE AS) and its
 * columns, a column (ALTER TABLE ... ADD COLUMN), a named index, a view, a
 * materialized view, a sequence, a function or procedure (by name and
 * number of arguments: the raw tree has the argument types only as
 * written, so their count is what is compared), a type (CREATE TYPE, enum,
 * range, composite, domain), a schema (with the objects of its schema
 * elements) and an extension.  A later statement of the same script that
 * drops, renames or moves one of them changes the expectation: an object
 * created and dropped by the same script is not expected.  A set of scripts
 * (FmCheckObjectsSet()) is read the same way, in the order the migrations
 * would run: an object a later migration of the set drops is not expected
 * of the one that created it.
 *
 * Unqualified names are resolved as the migration would run: with a
 * "SET search_path" of the script in force from that statement on (its
 * first schema is where a CREATE puts the object), otherwise with the
 * session's search_path.  Temporary objects are not expected.
 *
 * What the parser cannot see is not checked: the statements of a DO block
 * (and dynamic SQL in general) are listed as "not verified".
 *
 * Lookups use the system caches only: no SQL, no privileges needed, nothing
 * of a user's executed.  Everything is allocated in the caller's memory
 * context.  Only a script that does not parse ERRORs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "objects.h"
#include "parse.h"

/* The kinds of object the check knows; the order is the report's. */
typedef enum ObjKind
{
	OBJ_SCHEMA,
	OBJ_EXTENSION,
	OBJ_TYPE,
	OBJ_TABLE,
	OBJ_COLUMN,
	OBJ_VIEW,
	OBJ_MATVIEW,
	OBJ_SEQUENCE,
	OBJ_INDEX,
	OBJ_FUNCTION,
	OBJ_PROCEDURE
} ObjKind;

/* The name of a kind, as the report writes it. */
static const char *
kind_name(ObjKind kind)
{
	switch (kind)
	{
		case OBJ_SCHEMA:
			return "schema";
		case OBJ_EXTENSION:
			return "extension";
		case OBJ_TYPE:
			return "type";
		case OBJ_TABLE:
			return "table";
		case OBJ_COLUMN:
			return "column";
		case OBJ_VIEW:
			return "view";
		case OBJ_MATVIEW:
			return "materialized view";
		case OBJ_SEQUENCE:
			return "sequence";
		case OBJ_INDEX:
			return "index";
		case OBJ_FUNCTION:
			return "function";
		case OBJ_PROCEDURE:
			return "procedure";
	}
	return "object";
}

/* One object the script leaves behind. */
typedef struct Expected
{
	ObjKind		kind;
	char	   *schema;			/* NULL: resolved with the session's path */
	char	   *name;			/* the object; for a column, its table */
	char	   *column;			/* a column's name; an index's table */
	char	   *table_schema;	/* an index's table's schema */
	int			nargs;			/* routines: input arguments; -1: any */
	bool		gone;			/* dropped later in the script or set */
	int			owner;			/* the script of the set that creates it */
	bool		changed_later;	/* dropped, renamed or moved by a later one */
} Expected;

/* The reading of one script. */
typedef struct Reader
{
	List	   *expected;		/* Expected * */
	List	   *unverified;		/* char * */
	char	   *path_schema;	/* first schema of the script's search_path;
								 * NULL: the session's */
	int			current;		/* the script being read, in the set */
} Reader;

static void read_statement(Reader *r, Node *tree, int number,
						   const char *default_schema);
static void gone(Reader *r, Expected *e);
static void changed(Reader *r, Expected *e);
static void check_one(Expected *e, List *expected, List *path, StringInfo out,
					  bool *missing);

/* Split a qualified name list into schema and name (a catalog is ignored). */
static void
split_names(List *names, char **schema, char **name)
{
	int			n = list_length(names);

	*name = n > 0 ? strVal(llast(names)) : NULL;
	*schema = n > 1 ? strVal(list_nth(names, n - 2)) : NULL;
}

/* Whether "kind" names a relation (they share pg_class). */
static bool
is_relation_kind(ObjKind kind)
{
	return kind == OBJ_TABLE || kind == OBJ_VIEW || kind == OBJ_MATVIEW ||
		kind == OBJ_SEQUENCE || kind == OBJ_INDEX;
}

/* Whether "kind" names a routine. */
static bool
is_routine_kind(ObjKind kind)
{
	return kind == OBJ_FUNCTION || kind == OBJ_PROCEDURE;
}

/* The schema a CREATE of an unqualified object in "r" puts it in. */
static char *
creation_schema(Reader *r, const char *schema, const char *default_schema)
{
	if (schema != NULL)
		return pstrdup(schema);
	if (default_schema != NULL)
		return pstrdup(default_schema);
	return r->path_schema;
}

/* Expected object "e" is dropped by the statement being read. */
static void
gone(Reader *r, Expected *e)
{
	e->gone = true;
	changed(r, e);
}

/* Expected object "e" is dropped, renamed or moved by the statement read. */
static void
changed(Reader *r, Expected *e)
{
	if (e->owner != r->current)
		e->changed_later = true;
}

static Expected *
expect(Reader *r, ObjKind kind, const char *schema, const char *name)
{
	Expected   *e = palloc0(sizeof(Expected));

	e->kind = kind;
	e->schema = schema ? pstrdup(schema) : NULL;
	e->name = pstrdup(name);
	e->nargs = -1;
	e->owner = r->current;
	r->expected = lappend(r->expected, e);
	return e;
}

/*
 * Mark gone every expected object of the classes "kinds" matches named
 * schema.name (nargs -1: any routine of that name).  Dropping a table takes
 * its columns and indexes with it.
 */
static void
forget(Reader *r, bool (*kinds) (ObjKind), ObjKind only, const char *schema,
	   const char *name, int nargs)
{
	ListCell   *lc;

	foreach(lc, r->expected)
	{
		Expected   *e = lfirst(lc);

		if (e->gone)
			continue;
		if (kinds ? !kinds(e->kind) : e->kind != only)
			continue;
		if (e->kind == OBJ_COLUMN)
			continue;
		if (!FmNamesMatch(e->schema, e->name, schema, name))
			continue;
		if (is_routine_kind(e->kind) && nargs >= 0 && e->nargs >= 0 &&
			nargs != e->nargs)
			continue;
		gone(r, e);
		if (e->kind == OBJ_TABLE || e->kind == OBJ_VIEW || e->kind == OBJ_MATVIEW)
		{
			ListCell   *lc2;

			foreach(lc2, r->expected)
			{
				Expected   *c = lfirst(lc2);

				if (c->kind == OBJ_COLUMN &&
					FmNamesMatch(c->schema, c->name, schema, name))
					gone(r, c);
				if (c->kind == OBJ_INDEX &&
					FmNamesMatch(c->table_schema, c->column, schema, name))
					gone(r, c);
			}
		}
	}
}

/* Rename (newname != NULL) or move (newschema != NULL) expected objects. */
static void
rename_objects(Reader *r, bool (*kinds) (ObjKind), ObjKind only,
			   const char *schema, const char *name,
			   const char *newname, const char *newschema)
{
	ListCell   *lc;

	foreach(lc, r->expected)
	{
		Expected   *e = lfirst(lc);
		bool		relation;

		if (e->gone || e->kind == OBJ_COLUMN)
			continue;
		if (kinds ? !kinds(e->kind) : e->kind != only)
			continue;
		if (!FmNamesMatch(e->schema, e->name, schema, name))
			continue;
		relation = is_relation_kind(e->kind);
		/* the columns and indexes of a table follow it */
		if (relation)
		{
			ListCell   *lc2;

			foreach(lc2, r->expected)
			{
				Expected   *c = lfirst(lc2);

				if (c->kind == OBJ_COLUMN &&
					FmNamesMatch(c->schema, c->name, e->schema, e->name))
				{
					changed(r, c);
					if (newname)
						c->name = pstrdup(newname);
					if (newschema)
						c->schema = pstrdup(newschema);
				}
				if (c->kind == OBJ_INDEX &&
					FmNamesMatch(c->table_schema, c->column, e->schema, e->name))
				{
					changed(r, c);
					if (newname)
						c->column = pstrdup(newname);
					if (newschema)
					{
						c->table_schema = pstrdup(newschema);
						c->schema = pstrdup(newschema);
					}
				}
			}
		}
		changed(r, e);
		if (newname)
			e->name = pstrdup(newname);
		if (newschema)
			e->schema = pstrdup(newschema);
	}
}

/* The ObjKind of a relation ObjectType; -1 for others. */
static int
relation_kind(ObjectType type)
{
	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_FOREIGN_TABLE:
			return OBJ_TABLE;
		case OBJECT_VIEW:
			return OBJ_VIEW;
		case OBJECT_MATVIEW:
			return OBJ_MATVIEW;
		case OBJECT_SEQUENCE:
			return OBJ_SEQUENCE;
		case OBJECT_INDEX:
			return OBJ_INDEX;
		default:
			return -1;
	}
}

static bool
is_type_kind(ObjKind kind)
{
	return kind == OBJ_TYPE;
}

/* The input arguments of a routine as CREATE writes them. */
static int
count_arguments(List *parameters, bool procedure)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, parameters)
	{
		FunctionParameter *p = lfirst_node(FunctionParameter, lc);

		if (p->mode == FUNC_PARAM_TABLE)
			continue;
		/* a procedure's OUT arguments are part of its signature */
		if (p->mode == FUNC_PARAM_OUT && !procedure)
			continue;
		n++;
	}
	return n;
}

/* Arguments of an ObjectWithArgs; -1 when not given. */
static int
owa_nargs(ObjectWithArgs *owa)
{
	return owa->args_unspecified ? -1 : list_length(owa->objargs);
}

/*
 * read_statement
 *		Add what one raw statement creates to r->expected, and apply what it
 *		drops, renames or moves.  "default_schema": the schema of a CREATE
 *		SCHEMA whose element this is; NULL otherwise.
 */
static void
read_statement(Reader *r, Node *tree, int number, const char *default_schema)
{
	char	   *schema;
	char	   *name;
	ListCell   *lc;

	switch (nodeTag(tree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			{
				CreateStmt *stmt = (CreateStmt *) tree;
				char	   *s;

				if (stmt->relation->relpersistence == RELPERSISTENCE_TEMP)
					break;
				s = creation_schema(r, stmt->relation->schemaname, default_schema);
				expect(r, OBJ_TABLE, s, stmt->relation->relname);
				foreach(lc, stmt->tableElts)
				{
					Node	   *elt = lfirst(lc);

					if (IsA(elt, ColumnDef))
						expect(r, OBJ_COLUMN, s, stmt->relation->relname)->column =
							pstrdup(((ColumnDef *) elt)->colname);
				}
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *stmt = (CreateTableAsStmt *) tree;
				IntoClause *into = stmt->into;

				if (into->rel->relpersistence == RELPERSISTENCE_TEMP)
					break;
				expect(r, stmt->objtype == OBJECT_MATVIEW ? OBJ_MATVIEW : OBJ_TABLE,
					   creation_schema(r, into->rel->schemaname, default_schema),
					   into->rel->relname);
				break;
			}
		case T_ViewStmt:
			{
				ViewStmt   *stmt = (ViewStmt *) tree;

				if (stmt->view->relpersistence == RELPERSISTENCE_TEMP)
					break;
				expect(r, OBJ_VIEW,
					   creation_schema(r, stmt->view->schemaname, default_schema),
					   stmt->view->relname);
				break;
			}
		case T_CreateSeqStmt:
			{
				CreateSeqStmt *stmt = (CreateSeqStmt *) tree;

				if (stmt->sequence->relpersistence == RELPERSISTENCE_TEMP)
					break;
				expect(r, OBJ_SEQUENCE,
					   creation_schema(r, stmt->sequence->schemaname, default_schema),
					   stmt->sequence->relname);
				break;
			}
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) tree;
				Expected   *e;

				if (stmt->idxname == NULL ||
					stmt->relation->relpersistence == RELPERSISTENCE_TEMP)
					break;
				/* an index lives in its table's schema */
				schema = creation_schema(r, stmt->relation->schemaname, default_schema);
				e = expect(r, OBJ_INDEX, schema, stmt->idxname);
				e->column = pstrdup(stmt->relation->relname);
				e->table_schema = schema ? pstrdup(schema) : NULL;
				break;
			}
		case T_CreateFunctionStmt:
			{
				CreateFunctionStmt *stmt = (CreateFunctionStmt *) tree;
				Expected   *e;

				split_names(stmt->funcname, &schema, &name);
				e = expect(r, stmt->is_procedure ? OBJ_PROCEDURE : OBJ_FUNCTION,
						   creation_schema(r, schema, default_schema), name);
				e->nargs = count_arguments(stmt->parameters, stmt->is_procedure);
				break;
			}
		case T_CreateEnumStmt:
			split_names(((CreateEnumStmt *) tree)->typeName, &schema, &name);
			expect(r, OBJ_TYPE, creation_schema(r, schema, default_schema), name);
			break;
		case T_CreateRangeStmt:
			split_names(((CreateRangeStmt *) tree)->typeName, &schema, &name);
			expect(r, OBJ_TYPE, creation_schema(r, schema, default_schema), name);
			break;
		case T_CreateDomainStmt:
			split_names(((CreateDomainStmt *) tree)->domainname, &schema, &name);
			expect(r, OBJ_TYPE, creation_schema(r, schema, default_schema), name);
			break;
		case T_CompositeTypeStmt:
			{
				RangeVar   *rv = ((CompositeTypeStmt *) tree)->typevar;

				expect(r, OBJ_TYPE, creation_schema(r, rv->schemaname, default_schema),
					   rv->relname);
				break;
			}
		case T_DefineStmt:
			if (((DefineStmt *) tree)->kind == OBJECT_TYPE)
			{
				split_names(((DefineStmt *) tree)->defnames, &schema, &name);
				expect(r, OBJ_TYPE, creation_schema(r, schema, default_schema), name);
			}
			break;
		case T_CreateSchemaStmt:
			{
				CreateSchemaStmt *stmt = (CreateSchemaStmt *) tree;

				/* CREATE SCHEMA AUTHORIZATION role: named for the role */
				name = stmt->schemaname ? stmt->schemaname :
					(stmt->authrole && stmt->authrole->rolename ?
					 stmt->authrole->rolename : NULL);
				if (name == NULL)
					break;
				expect(r, OBJ_SCHEMA, NULL, name);
				foreach(lc, stmt->schemaElts)
					read_statement(r, lfirst(lc), number, name);
				break;
			}
		case T_CreateExtensionStmt:
			expect(r, OBJ_EXTENSION, NULL, ((CreateExtensionStmt *) tree)->extname);
			break;
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) tree;
				RangeVar   *rv = stmt->relation;

				if (stmt->objtype != OBJECT_TABLE &&
					stmt->objtype != OBJECT_FOREIGN_TABLE)
					break;
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AddColumn)
						expect(r, OBJ_COLUMN,
							   creation_schema(r, rv->schemaname, default_schema),
							   rv->relname)->column =
							pstrdup(((ColumnDef *) cmd->def)->colname);
					else if (cmd->subtype == AT_DropColumn)
					{
						ListCell   *lc2;

						foreach(lc2, r->expected)
						{
							Expected   *e = lfirst(lc2);

							if (e->kind == OBJ_COLUMN &&
								strcmp(e->column, cmd->name) == 0 &&
								FmNamesMatch(e->schema, e->name,
											 rv->schemaname, rv->relname))
								gone(r, e);
						}
					}
				}
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) tree;
				int			rk = relation_kind(stmt->removeType);

				foreach(lc, stmt->objects)
				{
					Node	   *obj = lfirst(lc);

					if (rk >= 0)
					{
						split_names((List *) obj, &schema, &name);
						/* relations share one namespace per schema */
						forget(r, is_relation_kind, (ObjKind) rk, schema, name, -1);
					}
					else if (stmt->removeType == OBJECT_TYPE ||
							 stmt->removeType == OBJECT_DOMAIN)
					{
						split_names(((TypeName *) obj)->names, &schema, &name);
						forget(r, is_type_kind, OBJ_TYPE, schema, name, -1);
					}
					else if (stmt->removeType == OBJECT_FUNCTION ||
							 stmt->removeType == OBJECT_PROCEDURE ||
							 stmt->removeType == OBJECT_ROUTINE)
					{
						ObjectWithArgs *owa = (ObjectWithArgs *) obj;

						split_names(owa->objname, &schema, &name);
						forget(r, is_routine_kind, OBJ_FUNCTION, schema, name,
							   owa_nargs(owa));
					}
					else if (stmt->removeType == OBJECT_SCHEMA)
					{
						ListCell   *lc2;

						name = strVal(obj);
						foreach(lc2, r->expected)
						{
							Expected   *e = lfirst(lc2);

							if ((e->kind == OBJ_SCHEMA && strcmp(e->name, name) == 0) ||
								(e->schema != NULL && strcmp(e->schema, name) == 0))
								gone(r, e);
						}
					}
					else if (stmt->removeType == OBJECT_EXTENSION)
						forget(r, NULL, OBJ_EXTENSION, NULL, strVal(obj), -1);
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) tree;
				int			rk = relation_kind(stmt->renameType);

				/* ALTER TABLE ... RENAME works on views and indexes too */
				if (rk >= 0)
					rename_objects(r, is_relation_kind, (ObjKind) rk,
								   stmt->relation->schemaname,
								   stmt->relation->relname, stmt->newname, NULL);
				else if (stmt->renameType == OBJECT_COLUMN)
				{
					foreach(lc, r->expected)
					{
						Expected   *e = lfirst(lc);

						if (!e->gone && e->kind == OBJ_COLUMN &&
							strcmp(e->column, stmt->subname) == 0 &&
							FmNamesMatch(e->schema, e->name,
										 stmt->relation->schemaname,
										 stmt->relation->relname))
							e->column = pstrdup(stmt->newname);
					}
				}
				else if (stmt->renameType == OBJECT_SCHEMA)
				{
					foreach(lc, r->expected)
					{
						Expected   *e = lfirst(lc);

						if (e->kind == OBJ_SCHEMA && strcmp(e->name, stmt->subname) == 0)
							e->name = pstrdup(stmt->newname);
						if (e->schema != NULL && strcmp(e->schema, stmt->subname) == 0)
							e->schema = pstrdup(stmt->newname);
						if (e->table_schema != NULL &&
							strcmp(e->table_schema, stmt->subname) == 0)
							e->table_schema = pstrdup(stmt->newname);
					}
				}
				else if (stmt->renameType == OBJECT_TYPE ||
						 stmt->renameType == OBJECT_DOMAIN)
				{
					split_names((List *) stmt->object, &schema, &name);
					rename_objects(r, is_type_kind, OBJ_TYPE, schema, name,
								   stmt->newname, NULL);
				}
				else if (stmt->renameType == OBJECT_FUNCTION ||
						 stmt->renameType == OBJECT_PROCEDURE ||
						 stmt->renameType == OBJECT_ROUTINE)
				{
					split_names(((ObjectWithArgs *) stmt->object)->objname,
								&schema, &name);
					rename_objects(r, is_routine_kind, OBJ_FUNCTION, schema, name,
								   stmt->newname, NULL);
				}
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) tree;
				int			rk = relation_kind(stmt->objectType);

				if (rk >= 0)
					rename_objects(r, is_relation_kind, (ObjKind) rk,
								   stmt->relation->schemaname,
								   stmt->relation->relname, NULL, stmt->newschema);
				else if (stmt->objectType == OBJECT_TYPE ||
						 stmt->objectType == OBJECT_DOMAIN)
				{
					split_names((List *) stmt->object, &schema, &name);
					rename_objects(r, is_type_kind, OBJ_TYPE, schema, name,
								   NULL, stmt->newschema);
				}
				else if (stmt->objectType == OBJECT_FUNCTION ||
						 stmt->objectType == OBJECT_PROCEDURE ||
						 stmt->objectType == OBJECT_ROUTINE)
				{
					split_names(((ObjectWithArgs *) stmt->object)->objname,
								&schema, &name);
					rename_objects(r, is_routine_kind, OBJ_FUNCTION, schema, name,
								   NULL, stmt->newschema);
				}
				break;
			}
		case T_VariableSetStmt:
			{
				VariableSetStmt *stmt = (VariableSetStmt *) tree;

				/* SET LOCAL lasts as long: to the end of the migration */
				if (stmt->name == NULL || strcmp(stmt->name, "search_path") != 0)
					break;
				r->path_schema = NULL;
				if (stmt->kind != VAR_SET_VALUE)
					break;
				foreach(lc, stmt->args)
				{
					A_Const    *c = (A_Const *) lfirst(lc);

					if (!IsA(c, A_Const) || c->isnull || !IsA(&c->val, String))
						continue;
					if (strcmp(strVal(&c->val), "$user") == 0)
						continue;
					r->path_schema = pstrdup(strVal(&c->val));
					break;
				}
				break;
			}
		case T_DoStmt:
			r->unverified = lappend(r->unverified,
									psprintf("statement %d (DO block)", number));
			break;
		default:
			break;
	}
}

/* The namespaces to look "schema" up in: it, or the session's path. */
static List *
namespaces_for(const char *schema, List *path)
{
	Oid			nsp;

	if (schema == NULL)
		return path;
	nsp = get_namespace_oid(schema, true);
	return OidIsValid(nsp) ? list_make1_oid(nsp) : NIL;
}

/* The relation schema.name in "path"; InvalidOid: none. */
static Oid
find_relation(const char *schema, const char *name, List *path)
{
	ListCell   *lc;

	foreach(lc, namespaces_for(schema, path))
	{
		Oid			relid = get_relname_relid(name, lfirst_oid(lc));

		if (OidIsValid(relid))
			return relid;
	}
	return InvalidOid;
}

/* Whether relkind "relkind" is what "kind" creates. */
static bool
relkind_matches(ObjKind kind, char relkind)
{
	switch (kind)
	{
		case OBJ_TABLE:
			return relkind == RELKIND_RELATION ||
				relkind == RELKIND_PARTITIONED_TABLE ||
				relkind == RELKIND_FOREIGN_TABLE;
		case OBJ_VIEW:
			return relkind == RELKIND_VIEW;
		case OBJ_MATVIEW:
			return relkind == RELKIND_MATVIEW;
		case OBJ_SEQUENCE:
			return relkind == RELKIND_SEQUENCE;
		case OBJ_INDEX:
			return relkind == RELKIND_INDEX ||
				relkind == RELKIND_PARTITIONED_INDEX;
		default:
			return false;
	}
}

/* Whether a routine schema.name with "nargs" arguments exists. */
static bool
find_routine(const char *schema, const char *name, int nargs, bool procedure,
			 List *path)
{
	List	   *nsps = namespaces_for(schema, path);
	CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	bool		found = false;

	for (int i = 0; i < list->n_members && !found; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (!list_member_oid(nsps, proc->pronamespace))
			continue;
		if (nargs >= 0 && proc->pronargs != nargs)
			continue;
		if ((proc->prokind == PROKIND_PROCEDURE) != procedure)
			continue;
		found = true;
	}
	ReleaseSysCacheList(list);
	return found;
}

/* Whether the type schema.name exists. */
static bool
find_type(const char *schema, const char *name, List *path)
{
	ListCell   *lc;

	foreach(lc, namespaces_for(schema, path))
	{
		if (OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum(name),
									   ObjectIdGetDatum(lfirst_oid(lc)))))
			return true;
	}
	return false;
}

/*
 * check_one
 *		Look "e" up; when it is missing, set *missing and append its
 *		description to "out".
 */
static void
check_one(Expected *e, List *expected, List *path, StringInfo out, bool *missing)
{
	const char *schema = e->schema;
	bool		found = false;
	char	   *what;

	/* an unqualified name is reported in the schema a CREATE would use */
	if (schema == NULL && e->kind != OBJ_SCHEMA && e->kind != OBJ_EXTENSION &&
		path != NIL)
		schema = get_namespace_name(linitial_oid(path));

	switch (e->kind)
	{
		case OBJ_SCHEMA:
			found = OidIsValid(get_namespace_oid(e->name, true));
			break;
		case OBJ_EXTENSION:
			found = OidIsValid(get_extension_oid(e->name, true));
			break;
		case OBJ_TYPE:
			found = find_type(e->schema, e->name, path);
			break;
		case OBJ_FUNCTION:
		case OBJ_PROCEDURE:
			found = find_routine(e->schema, e->name, e->nargs,
								 e->kind == OBJ_PROCEDURE, path);
			break;
		case OBJ_COLUMN:
			{
				Oid			relid = find_relation(e->schema, e->name, path);

				if (!OidIsValid(relid))
				{
					ListCell   *lc;

					/* its table is reported already if the script creates it */
					foreach(lc, expected)
					{
						Expected   *t = lfirst(lc);

						if (!t->gone && t->kind == OBJ_TABLE &&
							FmNamesMatch(t->schema, t->name, e->schema, e->name))
							return;
					}
				}
				else
					found = get_attnum(relid, e->column) != InvalidAttrNumber;
				break;
			}
		default:
			{
				Oid			relid = find_relation(e->schema, e->name, path);

				found = OidIsValid(relid) &&
					relkind_matches(e->kind, get_rel_relkind(relid));
				break;
			}
	}
	if (found)
		return;

	if (e->kind == OBJ_COLUMN)
		what = psprintf("%s.%s", quote_qualified_identifier(schema, e->name),
						quote_identifier(e->column));
	else if (schema != NULL && e->kind != OBJ_SCHEMA && e->kind != OBJ_EXTENSION)
		what = quote_qualified_identifier(schema, e->name);
	else
		what = (char *) quote_identifier(e->name);
	appendStringInfo(out, "%s %s", kind_name(e->kind), what);
	if (is_routine_kind(e->kind) && e->nargs >= 0)
		appendStringInfo(out, " (%d argument%s)", e->nargs, e->nargs == 1 ? "" : "s");
	*missing = true;
}

/*
 * FmCheckObjects
 *		Read "script" (an up script; "label" names it in a syntax error) and
 *		look up every object it creates and keeps.  Fills *check: how many
 *		were checked, the missing ones ("table public.bug_reports") and what
 *		could not be checked.  Allocated in the current memory context.
 *		ERRORs only if the script does not parse.
 */
void
FmCheckObjects(const char *script, const char *label, FmObjectCheck *check)
{
	FmCheckObjectsSet(list_make1((char *) script), list_make1((char *) label),
					  check);
}

/*
 * FmCheckObjectsSet
 *		FmCheckObjects() for the up scripts of a set of migrations, in the
 *		order they would run ("scripts" and "labels", char *, in step):
 *		what a later script of the set drops, renames or moves is not
 *		expected of an earlier one, so a set is checked against the state
 *		it leaves.  Fills checks[i] for scripts[i].  Each script starts with
 *		the session's search_path.
 */
void
FmCheckObjectsSet(List *scripts, List *labels, FmObjectCheck *checks)
{
	Reader		r = {0};
	List	   *path = fetch_search_path(false);
	ListCell   *lc;

	for (int i = 0; i < list_length(scripts); i++)
	{
		List	   *statements = FmSplitScript(list_nth(scripts, i),
											   list_nth(labels, i));
		int			before = list_length(r.unverified);

		r.current = i;
		r.path_schema = NULL;
		foreach(lc, statements)
		{
			FmStatement *stmt = lfirst(lc);

			read_statement(&r, stmt->parsetree, stmt->number, NULL);
		}
		checks[i].checked = 0;
		checks[i].changed_later = false;
		checks[i].missing = NIL;
		checks[i].unverified = list_copy_tail(r.unverified, before);
	}

	foreach(lc, r.expected)
	{
		Expected   *e = lfirst(lc);
		FmObjectCheck *check = &checks[e->owner];
		StringInfoData buf;
		bool		missing = false;

		check->changed_later |= e->changed_later;
		if (e->gone)
			continue;
		check->checked++;
		initStringInfo(&buf);
		check_one(e, r.expected, path, &buf, &missing);
		if (missing)
			check->missing = lappend(check->missing, buf.data);
	}
}

/*
 * FmObjectCheckText
 *		The missing objects of "check" as one line ("table public.a, column
 *		public.a.b"), at most "limit" of them, then a count.
 */
char *
FmObjectCheckText(const FmObjectCheck *check, int limit)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	foreach(lc, check->missing)
	{
		if (n == limit)
		{
			appendStringInfo(&buf, " and %d more",
							 list_length(check->missing) - limit);
			break;
		}
		appendStringInfo(&buf, "%s%s", n++ > 0 ? ", " : "", (char *) lfirst(lc));
	}
	return buf.data;
}
