/*-------------------------------------------------------------------------
 *
 * batchspec.c
 *	  A batched migration as its up script declares it.
 *
 * A migration is batched when one of the comment lines before its statement
 * is a "-- batch:" line:
 *
 *		-- batch: table=big key=id size=10000
 *		UPDATE big SET n = 0 WHERE n IS NULL;
 *
 * Its up script is one UPDATE or DELETE, and CALL migrate() runs it in
 * batches of "size" rows of the table, walking the unique key "key" in
 * order, committing after each batch (batch.c).  Here are the rules for the
 * declaration, the checks that need only the text (registration refuses a
 * script that breaks them, FmBatchSpecParse()), the checks that need the
 * table (FmBatchResolve(): registration warns when the table exists and the
 * key is not usable, since an earlier pending migration may still create
 * the index; the run refuses), and the texts a batch runs.
 *
 * Nothing here reads or writes fleetmigrate's catalog.  FmBatchResolve()
 * takes an AccessShareLock on the table, held to the end of the
 * transaction.  Results are palloc'd in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "batchspec.h"
#include "compat.h"
#include "common.h"
#include "parse.h"

/* The exact spelling of the declaration, from column 1. */
#define DIRECTIVE	"-- batch:"

static const char *directive_line(const char *up, int *lineno, bool *exact);
static void parse_items(FmBatchSpec *spec, const char *items, int len,
						const char *label);
static int	find_where(const char *text);

/*
 * directive_line
 *		Among the lines before the first one that is neither blank nor a
 *		"--" comment, the first that looks like a "-- batch:" line: after
 *		blanks, two or more dashes, blanks, the word "batch" in any case,
 *		then blanks and a colon or the end of the line.  Sets *lineno (from
 *		1) and *exact (spelled exactly DIRECTIVE from column 1).  NULL:
 *		none.
 */
static const char *
directive_line(const char *up, int *lineno, bool *exact)
{
	const char *line = up;
	int			n = 1;

	while (*line != '\0')
	{
		const char *p = line;
		const char *eol = strchr(line, '\n');

		if (eol == NULL)
			eol = line + strlen(line);
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < eol)
		{
			if (p + 1 >= eol || p[0] != '-' || p[1] != '-')
				return NULL;	/* the statement starts here */
			while (p < eol && *p == '-')
				p++;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if (pg_strncasecmp(p, "batch", strlen("batch")) == 0)
			{
				p += strlen("batch");
				while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
					p++;
				if (p == eol || *p == ':')
				{
					*lineno = n;
					*exact = strncmp(line, DIRECTIVE, strlen(DIRECTIVE)) == 0;
					return line;
				}
			}
		}
		if (*eol == '\0')
			break;
		line = eol + 1;
		n++;
	}
	return NULL;
}

/*
 * FmBatchDeclared
 *		Whether the up script "up" declares a batched migration (or has a
 *		line that looks like the declaration: registration refuses those).
 *		Cheap: reads the comment lines at the top only.
 */
bool
FmBatchDeclared(const char *up)
{
	int			lineno;
	bool		exact;

	return up != NULL && directive_line(up, &lineno, &exact) != NULL;
}

/*
 * parse_items
 *		The "name=value" items of a "-- batch:" line (the "len" bytes at
 *		"items"), separated by blanks or commas, into *spec.  ERRORs (22023)
 *		for an unknown or repeated name, a missing value, a size out of
 *		range.
 */
static void
parse_items(FmBatchSpec *spec, const char *items, int len, const char *label)
{
	char	   *copy = pnstrdup(items, len);
	char	   *p = copy;
	bool		seen_table = false,
				seen_key = false,
				seen_size = false;

	for (;;)
	{
		char	   *word;
		char	   *value;
		char	   *eq;
		List	   *names;

		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',' && *p != '\r')
			p++;
		if (*p != '\0')
			*p++ = '\0';
		eq = strchr(word, '=');
		if (eq == NULL || eq == word || eq[1] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid item \"%s\" in the \"-- batch:\" line of the %s",
							word, label),
					 errdetail("The line holds items of the form name=value, separated by spaces: table=, key= and size=."),
					 errhint("Write it as in \"-- batch: table=big key=id size=10000\".")));
		*eq = '\0';
		value = eq + 1;
		if (strcmp(word, "table") == 0 && !seen_table)
		{
			seen_table = true;
			if (!SplitIdentifierString(pstrdup(value), '.', &names) ||
				list_length(names) < 1 || list_length(names) > 2)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid table name \"%s\" in the \"-- batch:\" line of the %s",
								value, label)));
			spec->table = list_length(names) == 2 ?
				makeRangeVar(linitial(names), lsecond(names), -1) :
				makeRangeVar(NULL, linitial(names), -1);
		}
		else if (strcmp(word, "key") == 0 && !seen_key)
		{
			seen_key = true;
			if (!SplitIdentifierString(pstrdup(value), '.', &names) ||
				list_length(names) != 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid key column \"%s\" in the \"-- batch:\" line of the %s",
								value, label),
						 errdetail("The key is one column of the table, named without the table.")));
			spec->key = linitial(names);
		}
		else if (strcmp(word, "size") == 0 && !seen_size)
		{
			char	   *end;
			long		size;

			seen_size = true;
			errno = 0;
			size = strtol(value, &end, 10);
			if (errno != 0 || *end != '\0' || size < 1 || size > FM_BATCH_SIZE_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid batch size \"%s\" in the \"-- batch:\" line of the %s",
								value, label),
						 errdetail("A batch size is a whole number of rows from 1 to %d.",
								   FM_BATCH_SIZE_MAX)));
			spec->size = (int) size;
		}
		else if (strcmp(word, "table") == 0 || strcmp(word, "key") == 0 ||
				 strcmp(word, "size") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" appears twice in the \"-- batch:\" line of the %s",
							word, label)));
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown item \"%s\" in the \"-- batch:\" line of the %s",
							word, label),
					 errhint("The items are table=, key= and size=.")));
	}
}

/*
 * find_where
 *		Byte offset in "text", a statement that parses, of its WHERE
 *		keyword outside parentheses and brackets (the statement's own, not a
 *		subquery's); -1 if it has none.  Uses the server's scanner, so that
 *		strings, quoted names and comments are skipped as the parser skips
 *		them.
 */
static int
find_where(const char *text)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE lval;
	YYLTYPE		loc;
	int			where_token;
	int			depth = 0;
	int			result = -1;
	int			tok;

	where_token = ScanKeywordTokens[ScanKeywordLookup("where", &ScanKeywords)];
	scanner = scanner_init(text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	while ((tok = core_yylex(&lval, &loc, scanner)) != 0)
	{
		if (tok == '(' || tok == '[')
			depth++;
		else if (tok == ')' || tok == ']')
			depth--;
		else if (tok == where_token && depth == 0)
		{
			result = loc;
			break;
		}
	}
	scanner_finish(scanner);
	return result;
}

/*
 * FmBatchSpecParse
 *		The batched migration declared by up script "up", or NULL if it
 *		declares none.  ERRORs (22023, or the parser's syntax error) unless
 *		the declaration is spelled right, its items are valid, and the
 *		script is exactly one UPDATE or DELETE of the table it names,
 *		without WITH, RETURNING or WHERE CURRENT OF.  "label" names the
 *		script in messages ('up script of migration "042 backfill"').
 */
FmBatchSpec *
FmBatchSpecParse(const char *up, const char *label)
{
	FmBatchSpec *spec;
	const char *line;
	const char *eol;
	int			lineno;
	bool		exact;
	List	   *stmts;
	Node	   *tree;
	Node	   *where = NULL;
	bool		returning = false;
	WithClause *with = NULL;

	line = directive_line(up, &lineno, &exact);
	if (line == NULL)
		return NULL;
	eol = strchr(line, '\n');
	if (eol == NULL)
		eol = line + strlen(line);
	if (!exact)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed \"-- batch:\" line at line %d of the %s",
						lineno, label),
				 errhint("Write it exactly as \"-- batch: key=id size=10000\", from the first column, or reword the comment.")));

	spec = palloc0(sizeof(FmBatchSpec));
	spec->line = lineno;
	spec->size = FM_BATCH_SIZE_DEFAULT;
	parse_items(spec, line + strlen(DIRECTIVE),
				(int) (eol - line - strlen(DIRECTIVE)), label);

	stmts = FmSplitScript(up, label);
	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a batched %s must hold exactly one statement, not %d",
						label, list_length(stmts)),
				 errdetail("Each batch runs the statement on one range of keys and commits; other statements would run again with every batch."),
				 errhint("Put the other statements in migrations of their own, before or after this one.")));
	spec->stmt = linitial(stmts);
	tree = spec->stmt->parsetree;
	if (IsA(tree, UpdateStmt))
	{
		UpdateStmt *u = (UpdateStmt *) tree;

		spec->relation = u->relation;
		where = u->whereClause;
		returning = FmHasReturning(u);
		with = u->withClause;
	}
	else if (IsA(tree, DeleteStmt))
	{
		DeleteStmt *d = (DeleteStmt *) tree;

		spec->is_delete = true;
		spec->relation = d->relation;
		where = d->whereClause;
		returning = FmHasReturning(d);
		with = d->withClause;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the statement of a batched %s must be an UPDATE or a DELETE",
						label),
				 errdetail("Statement 1 (line %d) is %s.", spec->stmt->line,
						   CreateCommandName(tree)),
				 errhint("Remove the \"-- batch:\" line to run it as an ordinary migration.")));

	if (with != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the statement of a batched %s cannot have a WITH clause", label),
				 errdetail("A WITH query would run again with every batch, and one that changes data would change it once per batch."),
				 errhint("Write the condition in the WHERE clause, or the join in FROM or USING.")));
	if (returning)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the statement of a batched %s cannot have a RETURNING clause", label),
				 errdetail("Nothing receives the rows it would return.")));
	if (where != NULL && IsA(where, CurrentOfExpr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the statement of a batched %s cannot use WHERE CURRENT OF", label)));
	if (spec->table != NULL &&
		!FmNamesMatch(spec->table->schemaname, spec->table->relname,
					  spec->relation->schemaname, spec->relation->relname))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the \"-- batch:\" line of the %s names table \"%s\", but the statement changes \"%s\"",
						label,
						spec->table->schemaname ?
						psprintf("%s.%s", spec->table->schemaname, spec->table->relname) :
						spec->table->relname,
						spec->relation->schemaname ?
						psprintf("%s.%s", spec->relation->schemaname, spec->relation->relname) :
						spec->relation->relname)));

	spec->text = FmStatementText(up, spec->stmt);
	spec->where_at = where != NULL ? find_where(spec->text) : -1;
	if (where != NULL && spec->where_at < 0)
		elog(ERROR, "could not find the WHERE clause of a batched statement");
	return spec;
}

/* Set target's problem, with a detail and a hint, both optional. */
static void
set_problem(FmBatchTarget *target, char *problem, char *detail, char *hint)
{
	target->problem = problem;
	target->problem_detail = detail;
	target->problem_hint = hint;
}

/*
 * FmBatchResolve
 *		The table the batched statement of "spec" changes, and its key:
 *		key= or the one-column primary key.  The key is usable when it is a
 *		NOT NULL column with a valid unique index on it alone, without a
 *		predicate: then every row has one key, no two rows the same, and
 *		the index walks them in order.  Fills *target, with
 *		target->problem (an errmsg) and its detail and hint when the key is
 *		not usable.  Returns false if the table does not exist and
 *		"missing_ok"; ERRORs if it does not exist otherwise.  Takes
 *		AccessShareLock on the table.
 */
bool
FmBatchResolve(const FmBatchSpec *spec, bool missing_ok, FmBatchTarget *target)
{
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	AttrNumber	attnum;
	HeapTuple	atttup;
	bool		notnull;
	bool		indexed = false;
	char	   *shown;

	memset(target, 0, sizeof(FmBatchTarget));
	target->relid = RangeVarGetRelid(spec->relation, AccessShareLock, missing_ok);
	if (!OidIsValid(target->relid))
		return false;
	rel = table_open(target->relid, NoLock);
	target->relation = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												  RelationGetRelationName(rel));
	shown = psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)),
					 RelationGetRelationName(rel));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		set_problem(target,
					psprintf("\"%s\" is not a table", shown),
					pstrdup("A batched migration walks the key of a table."),
					NULL);
		table_close(rel, NoLock);
		return true;
	}

	indexes = RelationGetIndexList(rel);
	if (spec->key == NULL)
	{
		foreach(lc, indexes)
		{
			HeapTuple	itup = SearchSysCache1(INDEXRELID,
											   ObjectIdGetDatum(lfirst_oid(lc)));
			Form_pg_index index;

			if (!HeapTupleIsValid(itup))
				continue;
			index = (Form_pg_index) GETSTRUCT(itup);
			if (index->indisprimary && index->indnkeyatts == 1 &&
				index->indkey.values[0] != 0)
				target->key = get_attname(target->relid, index->indkey.values[0], false);
			ReleaseSysCache(itup);
		}
		if (target->key == NULL)
		{
			set_problem(target,
						psprintf("table \"%s\" has no primary key of one column", shown),
						pstrdup("A batched migration walks the table by a unique key; without key= it takes the primary key."),
						pstrdup("Name a NOT NULL column with a unique index in the \"-- batch:\" line, as in key=id."));
			table_close(rel, NoLock);
			return true;
		}
	}
	else
		target->key = spec->key;

	attnum = get_attnum(target->relid, target->key);
	if (attnum == InvalidAttrNumber)
	{
		set_problem(target,
					psprintf("column \"%s\" of table \"%s\" does not exist", target->key, shown),
					NULL,
					pstrdup("The key= of the \"-- batch:\" line names a NOT NULL column with a unique index."));
		table_close(rel, NoLock);
		return true;
	}
	atttup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(target->relid),
							 Int16GetDatum(attnum));
	if (!HeapTupleIsValid(atttup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u",
			 attnum, target->relid);
	notnull = ((Form_pg_attribute) GETSTRUCT(atttup))->attnotnull;
	target->keytype = ((Form_pg_attribute) GETSTRUCT(atttup))->atttypid;
	ReleaseSysCache(atttup);
	target->keytype_name = format_type_be_qualified(target->keytype);

	foreach(lc, indexes)
	{
		HeapTuple	itup = SearchSysCache1(INDEXRELID,
										   ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;

		if (!HeapTupleIsValid(itup))
			continue;
		index = (Form_pg_index) GETSTRUCT(itup);
		if (index->indisunique && index->indisvalid && index->indnkeyatts == 1 &&
			index->indkey.values[0] == attnum &&
			heap_attisnull(itup, Anum_pg_index_indpred, NULL))
			indexed = true;
		ReleaseSysCache(itup);
	}
	if (!indexed)
		set_problem(target,
					psprintf("key column \"%s\" of table \"%s\" has no unique index of its own",
							 target->key, shown),
					pstrdup("A batched migration walks the table in key order, one range of keys per batch; it needs a valid unique index on the key column alone, without a WHERE clause."),
					pstrdup("Use the primary key, or create such an index in an earlier migration (CREATE UNIQUE INDEX CONCURRENTLY)."));
	else if (!notnull)
		set_problem(target,
					psprintf("key column \"%s\" of table \"%s\" can be null", target->key, shown),
					pstrdup("Rows whose key is null are in no range of keys, so no batch would change them."),
					pstrdup("Use the primary key, or a column declared NOT NULL."));
	if (target->problem != NULL)
	{
		table_close(rel, NoLock);
		return true;
	}
	/* an UPDATE that moves rows past the last key done would meet them again */
	if (!spec->is_delete && IsA(spec->stmt->parsetree, UpdateStmt))
	{
		foreach(lc, ((UpdateStmt *) spec->stmt->parsetree)->targetList)
		{
			ResTarget  *res = lfirst_node(ResTarget, lc);

			if (res->name != NULL && strcmp(res->name, target->key) == 0)
			{
				set_problem(target,
							psprintf("its UPDATE sets the key column \"%s\" of table \"%s\"",
									 target->key, shown),
							pstrdup("Each batch takes the next range of keys after the last one done; rows whose key the UPDATE changes would be met again in a later batch, or never."),
							pstrdup("Walk the table by another unique NOT NULL column with key=, or change the key in a migration that is not batched."));
				table_close(rel, NoLock);
				return true;
			}
		}
	}
	/* a rule would rewrite each batch's statement into something else */
	if (rel->rd_rules != NULL)
	{
		set_problem(target,
					psprintf("table \"%s\" has rules", shown),
					pstrdup("A rule rewrites the statement each batch runs, so the batch cannot count or bound what it changes."),
					pstrdup("Run the change in a migration that is not batched, or replace the rule with a trigger."));
		table_close(rel, NoLock);
		return true;
	}
	table_close(rel, NoLock);
	return true;
}

/* The key as the statement names it: qualified by the target's alias or name. */
static char *
statement_key(const FmBatchSpec *spec, const FmBatchTarget *target)
{
	const char *qualifier = spec->relation->alias != NULL ?
		spec->relation->alias->aliasname : spec->relation->relname;

	return psprintf("%s.%s", quote_identifier(qualifier),
					quote_identifier(target->key));
}

/*
 * FmBatchStatement
 *		The text of the statement of one batch: the user's statement with
 *		its condition and the range of keys, "$1" (exclusive; text) to "$2"
 *		(inclusive; text).  The "first" batch has no lower end ($1 unused).
 *		The user's condition is put in parentheses, on lines of its own, so
 *		that a trailing comment cannot hide the range.
 */
char *
FmBatchStatement(const FmBatchSpec *spec, const FmBatchTarget *target,
				 bool first)
{
	StringInfoData buf;
	char	   *key = statement_key(spec, target);

	initStringInfo(&buf);
	if (spec->where_at < 0)
		appendStringInfo(&buf, "%s\nWHERE ", spec->text);
	else
		appendStringInfo(&buf, "%.*sWHERE (\n%s\n) AND ", spec->where_at,
						 spec->text, spec->text + spec->where_at + strlen("where"));
	if (!first)
		appendStringInfo(&buf, "%s > $1::%s AND ", key, target->keytype_name);
	appendStringInfo(&buf, "%s <= $2::%s", key, target->keytype_name);
	return buf.data;
}

/*
 * FmBatchBoundsQuery
 *		The query for the next batch's range: after key "$1" (text; the
 *		"first" batch starts at the lowest key), the next "size" keys of the
 *		table in order.  It returns one row, the highest of them as text and
 *		how many there are, or no row when none is left.
 */
char *
FmBatchBoundsQuery(const FmBatchSpec *spec, const FmBatchTarget *target,
				   bool first)
{
	const char *key = quote_identifier(target->key);

	return psprintf("SELECT s.k::pg_catalog.text, s.n FROM ("
					"SELECT %s AS k, pg_catalog.row_number() OVER (ORDER BY %s) AS n"
					"  FROM %s%s%s%s%s ORDER BY %s LIMIT %d) s"
					" ORDER BY s.n DESC LIMIT 1",
					key, key,
					spec->relation->inh ? "" : "ONLY ", target->relation,
					first ? "" : " WHERE ", first ? "" : key,
					first ? "" : psprintf(" > $1::%s", target->keytype_name),
					key, spec->size);
}
