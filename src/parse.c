/*-------------------------------------------------------------------------
 *
 * parse.c
 *	  Splitting migration scripts into statements with the server's parser.
 *
 * A migration script is split with raw_parser(), the same grammar the
 * server uses, never with regular expressions: semicolons inside strings,
 * dollar quotes, comments and function bodies are handled exactly as the
 * server would handle them.  Each RawStmt carries its byte offset and
 * length; we add the line of its first token, which is what error messages
 * report.
 *
 * register() calls FmCheckScript() once per script: a script that does not
 * parse is rejected with the server's syntax error, shown against the
 * script itself (its line and position), and so are statements that cannot
 * run inside a migration (transaction control, COPY from the client).  The
 * runner calls FmSplitScript() again at apply time; raw parsing is cheap
 * compared to executing DDL and keeps the catalog free of derived data.
 *
 * Checksums are taken over FmNormalizeScript()'s rendering of a script:
 * the server's own scanner's tokens, so that white space and comments are
 * not part of them (see there).
 *
 * Everything is allocated in the caller's memory context; the runner uses
 * a per-migration context that it resets after each migration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

#include "compat.h"
#include "parse.h"

/* Longest statement preview shown in error context lines, in bytes. */
#define FM_PREVIEW_LENGTH	60

typedef struct ParseErrorContext
{
	const char *source;
	const char *label;
} ParseErrorContext;

static void parse_error_callback(void *arg);
static List *parse_with_context(const char *source, const char *label,
								 RawParseMode mode);
static int	skip_blanks_and_comments(const char *source, int offset, int end);

/*
 * FmLineOfOffset
 *		1-based line number of the byte at "offset" in "source".
 */
int
FmLineOfOffset(const char *source, int offset)
{
	int			line = 1;
	int			i;

	for (i = 0; i < offset && source[i] != '\0'; i++)
	{
		if (source[i] == '\n')
			line++;
	}
	return line;
}

/*
 * FmOffsetOfCharPosition
 *		Byte offset of the 1-based character position "charpos", as used by
 *		errposition(), in "source".
 */
int
FmOffsetOfCharPosition(const char *source, int charpos)
{
	int			offset = 0;
	int			i;

	for (i = 1; i < charpos && source[offset] != '\0'; i++)
		offset += pg_mblen(source + offset);
	return offset;
}

/*
 * Error context callback while parsing a script: show a syntax error
 * against the script (not against the register() call the client sent)
 * and say which script and line it was.
 */
static void
parse_error_callback(void *arg)
{
	ParseErrorContext *ctx = (ParseErrorContext *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		int			line = FmLineOfOffset(ctx->source,
										  FmOffsetOfCharPosition(ctx->source, pos));

		errposition(0);
		internalerrposition(pos);
		internalerrquery(ctx->source);
		errcontext("%s, line %d", ctx->label, line);
	}
	else
		errcontext("%s", ctx->label);
}

/*
 * FmParseExpression
 *		Parse "source" as one PL/pgSQL-style expression (raw_parser's
 *		RAW_PARSE_PLPGSQL_EXPR: a SELECT without the SELECT keyword) and
 *		return the raw parse tree list.  A syntax error is reported against
 *		"source", with "label" as context.
 */
List *
FmParseExpression(const char *source, const char *label)
{
	return parse_with_context(source, label, RAW_PARSE_PLPGSQL_EXPR);
}

/*
 * parse_with_context
 *		raw_parser() under parse_error_callback.
 */
static List *
parse_with_context(const char *source, const char *label, RawParseMode mode)
{
	ParseErrorContext ctx;
	ErrorContextCallback errcallback;
	List	   *raw;

	ctx.source = source;
	ctx.label = label;
	errcallback.callback = parse_error_callback;
	errcallback.arg = &ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	raw = raw_parser(source, mode);
	error_context_stack = errcallback.previous;
	return raw;
}

/*
 * Skip white space and comments (both kinds, nested block comments too)
 * from "offset" up to "end"; returns the offset of the first other byte.
 */
static int
skip_blanks_and_comments(const char *source, int offset, int end)
{
	while (offset < end)
	{
		char		c = source[offset];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			c == '\v')
			offset++;
		else if (c == '-' && offset + 1 < end && source[offset + 1] == '-')
		{
			while (offset < end && source[offset] != '\n')
				offset++;
		}
		else if (c == '/' && offset + 1 < end && source[offset + 1] == '*')
		{
			int			depth = 1;

			offset += 2;
			while (offset < end && depth > 0)
			{
				if (source[offset] == '*' && offset + 1 < end &&
					source[offset + 1] == '/')
				{
					depth--;
					offset += 2;
				}
				else if (source[offset] == '/' && offset + 1 < end &&
						 source[offset + 1] == '*')
				{
					depth++;
					offset += 2;
				}
				else
					offset++;
			}
		}
		else
			break;
	}
	return offset;
}

/*
 * FmSplitScript
 *		Parse "source" and return a List of FmStatement.
 *
 * "label" names the script in error context lines, for example
 * 'up script of migration "003 viral_analytics"'.  A script that does not
 * parse raises the server's syntax error, with its position transposed into
 * the script.  An empty or comment-only script yields NIL.  Result and parse
 * trees are allocated in the current memory context.
 */
List *
FmSplitScript(const char *source, const char *label)
{
	List	   *raw;
	List	   *result = NIL;
	ListCell   *lc;
	int			total = strlen(source);
	int			number = 0;
	int			line = 1;
	int			line_offset = 0;

	raw = parse_with_context(source, label, RAW_PARSE_DEFAULT);

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		FmStatement *stmt = palloc(sizeof(FmStatement));
		int			end;

		stmt->number = ++number;
		stmt->offset = rs->stmt_location;
		end = rs->stmt_len > 0 ? rs->stmt_location + rs->stmt_len : total;
		stmt->length = end - rs->stmt_location;
		stmt->start = skip_blanks_and_comments(source, rs->stmt_location, end);
		/* count lines incrementally: statements come in source order */
		while (line_offset < stmt->start)
		{
			if (source[line_offset] == '\n')
				line++;
			line_offset++;
		}
		stmt->line = line;
		stmt->parsetree = rs->stmt;
		result = lappend(result, stmt);
	}

	return result;
}

/*
 * FmStatementText
 *		The text of one statement from its first token, palloc'd, without
 *		the semicolon.  Positions in errors about it count from there.
 */
char *
FmStatementText(const char *source, const FmStatement *stmt)
{
	return pnstrdup(source + stmt->start,
					stmt->offset + stmt->length - stmt->start);
}

/*
 * FmStatementPreview
 *		The start of a statement on one line, for error context: from its
 *		first token, white space runs folded, at most FM_PREVIEW_LENGTH
 *		bytes (cut at a character boundary) followed by "..." when cut.
 */
char *
FmStatementPreview(const char *source, const FmStatement *stmt)
{
	StringInfoData buf;
	int			end = stmt->offset + stmt->length;
	int			i = stmt->start;
	bool		space = false;

	initStringInfo(&buf);
	while (i < end && buf.len < FM_PREVIEW_LENGTH)
	{
		char		c = source[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		{
			space = true;
			i++;
			continue;
		}
		if (space && buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		space = false;
		{
			int			len = pg_mblen(source + i);

			appendBinaryStringInfo(&buf, source + i, len);
			i += len;
		}
	}
	/* anything but trailing blanks left over means we cut it */
	while (i < end && (source[i] == ' ' || source[i] == '\t' ||
					   source[i] == '\n' || source[i] == '\r'))
		i++;
	if (i < end)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * FmOptionIsTrue
 *		Whether a statement's option list (VACUUM's, REINDEX's) sets option
 *		"name" true.
 */
bool
FmOptionIsTrue(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0 && defGetBoolean(opt))
			return true;
	}
	return false;
}

/*
 * FmCreatedRelation
 *		The relation a raw parse tree creates, as the script names it:
 *		CREATE TABLE, CREATE FOREIGN TABLE, CREATE TABLE AS, CREATE
 *		MATERIALIZED VIEW, CREATE VIEW, CREATE SEQUENCE; NULL for anything
 *		else.
 */
RangeVar *
FmCreatedRelation(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			return ((CreateStmt *) parsetree)->relation;
		case T_CreateTableAsStmt:
			return ((CreateTableAsStmt *) parsetree)->into->rel;
		case T_ViewStmt:
			return ((ViewStmt *) parsetree)->view;
		case T_CreateSeqStmt:
			return ((CreateSeqStmt *) parsetree)->sequence;
		default:
			return NULL;
	}
}

/*
 * FmNamesMatch
 *		Whether two names as a script writes them may name the same object:
 *		the same name, in the same schema where both give one.
 */
bool
FmNamesMatch(const char *schema1, const char *name1,
			 const char *schema2, const char *name2)
{
	return strcmp(name1, name2) == 0 &&
		(schema1 == NULL || schema2 == NULL || strcmp(schema1, schema2) == 0);
}

/*
 * FmStatementNeedsTopLevel
 *		True for statements PostgreSQL refuses inside a transaction block or
 *		a function (PreventInTransactionBlock in the server), decided from
 *		the raw parse tree alone.
 */
bool
FmStatementNeedsTopLevel(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->concurrent;
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				return stmt->kind == REINDEX_OBJECT_SCHEMA ||
					stmt->kind == REINDEX_OBJECT_SYSTEM ||
					stmt->kind == REINDEX_OBJECT_DATABASE ||
					FmOptionIsTrue(stmt->params, "concurrently");
			}
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				/* ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY */
				foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition &&
						((PartitionCmd *) cmd->def)->concurrent)
						return true;
				}
				return false;
			}
		case T_AlterDatabaseStmt:
			{
				ListCell   *lc;

				/* ALTER DATABASE ... SET TABLESPACE */
				foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
				{
					if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
						return true;
				}
				return false;
			}
		case T_DiscardStmt:
			return ((DiscardStmt *) parsetree)->target == DISCARD_ALL;
		case T_VacuumStmt:
			return ((VacuumStmt *) parsetree)->is_vacuumcmd;
		case T_ClusterStmt:
			return ((ClusterStmt *) parsetree)->relation == NULL;
		case T_AlterSystemStmt:
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_CreateSubscriptionStmt:
		case T_DropSubscriptionStmt:
			return true;
		default:
			return false;
	}
}

/*
 * FmCheckScript
 *		Check that "source" parses and holds only statements a migration can
 *		run; fill "info".  ERRORs with the statement number and line.
 *
 * Allocates in the current memory context; callers use a short-lived one.
 */
void
FmCheckScript(const char *source, const char *label, FmScriptInfo *info)
{
	List	   *stmts = FmSplitScript(source, label);
	ListCell   *lc;

	info->statements = list_length(stmts);
	info->transactional = true;

	foreach(lc, stmts)
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);
		Node	   *tree = stmt->parsetree;

		if (IsA(tree, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("%s contains transaction control statement %s",
							label, CreateCommandName(tree)),
					 errdetail("Statement %d, on line %d, is \"%s\".",
							   stmt->number, stmt->line,
							   FmStatementPreview(source, stmt)),
					 errhint("Remove it. fleetmigrate runs migrations inside a transaction that it controls, so that each one is applied completely or not at all.")));

		if (IsA(tree, CopyStmt) && ((CopyStmt *) tree)->filename == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s contains COPY from or to the client",
							label),
					 errdetail("Statement %d, on line %d, is \"%s\".",
							   stmt->number, stmt->line,
							   FmStatementPreview(source, stmt)),
					 errhint("A migration runs inside the server, where there is no client to copy from. Use INSERT statements instead.")));

		if (FmStatementNeedsTopLevel(tree))
			info->transactional = false;
	}
}

/*
 * The scanner's codes for the tokens that are not keywords or single
 * characters.  The grammar numbers them, and the numbers differ between
 * major versions; since PostgreSQL 16 the header that names them (gram.h)
 * is not installed either.  So we ask the scanner itself, once per
 * backend: each sample below scans to exactly one token of its kind.
 */
typedef enum FmTokenKind
{
	FM_TOK_IDENT,				/* foo, "Foo" */
	FM_TOK_UIDENT,				/* U&"foo" */
	FM_TOK_ICONST,				/* 1 */
	FM_TOK_FCONST,				/* 1.5 */
	FM_TOK_SCONST,				/* 'foo', E'foo', $$foo$$ */
	FM_TOK_USCONST,				/* U&'foo' */
	FM_TOK_BCONST,				/* B'101' */
	FM_TOK_XCONST,				/* X'1F' */
	FM_TOK_OP,					/* @@, ->> */
	FM_TOK_PARAM,				/* $1 */
	FM_TOK_TYPECAST,			/* :: */
	FM_TOK_DOT_DOT,				/* .. */
	FM_TOK_COLON_EQUALS,		/* := */
	FM_TOK_EQUALS_GREATER,		/* => */
	FM_TOK_LESS_EQUALS,			/* <= */
	FM_TOK_GREATER_EQUALS,		/* >= */
	FM_TOK_NOT_EQUALS,			/* <> and != */
	FM_TOK_KINDS
} FmTokenKind;

static const char *const token_samples[FM_TOK_KINDS] = {
	"x", "U&\"x\"", "1", "1.5", "'x'", "U&'x'", "B'1'", "X'1'", "@@", "$1",
	"::", "..", ":=", "=>", "<=", ">=", "<>"
};

/* The fixed text of the kinds whose code says it all. */
static const char *const token_fixed_text[FM_TOK_KINDS] = {
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	"::", "..", ":=", "=>", "<=", ">=", "<>"
};

/*
 * token_kinds[code] is the FmTokenKind of a scanner token code of 256 or
 * more, FM_TOK_KINDS for a keyword, or -1 for a code the scanner does not
 * return; learned once per backend.
 */
static int8 *token_kinds = NULL;
static int	token_kinds_size = 0;

/*
 * learn_token_codes
 *		Fill token_kinds[] from the scanner and its keyword list, the first
 *		time only.
 */
static void
learn_token_codes(void)
{
	int			codes[FM_TOK_KINDS];
	int			size = 256;
	int8	   *kinds;

	if (token_kinds != NULL)
		return;
	for (int kind = 0; kind < FM_TOK_KINDS; kind++)
	{
		core_yy_extra_type yyextra;
		core_yyscan_t scanner;
		core_YYSTYPE lval;
		YYLTYPE		loc;

		scanner = scanner_init(token_samples[kind], &yyextra, &ScanKeywords,
							   ScanKeywordTokens);
		/* U&'x' scans only with standard strings, whatever the session says */
		yyextra.standard_conforming_strings = true;
		codes[kind] = core_yylex(&lval, &loc, scanner);
		if (codes[kind] < 256 || core_yylex(&lval, &loc, scanner) != 0)
			elog(ERROR, "unexpected scanner token for \"%s\"",
				 token_samples[kind]);
		scanner_finish(scanner);
		size = Max(size, codes[kind] + 1);
	}
	for (int i = 0; i < ScanKeywords.num_keywords; i++)
		size = Max(size, ScanKeywordTokens[i] + 1);

	kinds = MemoryContextAlloc(TopMemoryContext, size);
	memset(kinds, -1, size);
	for (int i = 0; i < ScanKeywords.num_keywords; i++)
		kinds[ScanKeywordTokens[i]] = FM_TOK_KINDS;
	for (int kind = 0; kind < FM_TOK_KINDS; kind++)
	{
		if (kinds[codes[kind]] != -1)
			elog(ERROR, "scanner token for \"%s\" is not distinct",
				 token_samples[kind]);
		kinds[codes[kind]] = kind;
	}
	token_kinds_size = size;
	token_kinds = kinds;
}

/* The kind of a token code of 256 or more, FM_TOK_KINDS for a keyword. */
static FmTokenKind
token_kind(int token)
{
	if (token >= token_kinds_size || token_kinds[token] < 0)
		elog(ERROR, "unrecognized scanner token %d", token);
	return (FmTokenKind) token_kinds[token];
}

/*
 * plain_identifier
 *		Whether a quoted identifier means the same written without quotes on
 *		every supported version: lower case ASCII letters, digits, "_" and
 *		"$", not starting with a digit or "$", and no keyword that is not
 *		unreserved ("user", "char", "select") in any supported version.
 */
static bool
plain_identifier(const char *ident)
{
	static const char *const version_keywords[] = {FM_VERSION_DEPENDENT_KEYWORDS};
	int			kwnum;

	if (!((ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_'))
		return false;
	for (const char *p = ident + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			  *p == '_' || *p == '$'))
			return false;
	kwnum = ScanKeywordLookup(ident, &ScanKeywords);
	if (kwnum >= 0 && ScanKeywordCategories[kwnum] != UNRESERVED_KEYWORD)
		return false;
	for (int i = 0; i < lengthof(version_keywords); i++)
		if (strcmp(ident, version_keywords[i]) == 0)
			return false;
	return true;
}

/* Append "value" between "quote" characters, doubling any inside. */
static void
append_quoted(StringInfo out, const char *prefix, char quote,
			  const char *value)
{
	appendStringInfoString(out, prefix);
	appendStringInfoChar(out, quote);
	for (const char *p = value; *p; p++)
	{
		if (*p == quote)
			appendStringInfoChar(out, quote);
		appendStringInfoChar(out, *p);
	}
	appendStringInfoChar(out, quote);
}

/*
 * FmNormalizeScript
 *		Append to "out" a text rendering of the tokens the server's scanner
 *		reads from "source", one space between tokens:
 *		 - a keyword or an unquoted identifier as the scanner folds it, in
 *		   lower case (select, users): the two are not told apart, since a
 *		   word that is an identifier in one major version may be an
 *		   unreserved keyword in the next (path, format) and means the same;
 *		   a quoted identifier that means the same unquoted ("users") too;
 *		 - any other quoted identifier in double quotes ("Users", "user",
 *		   "char"), U&"..." as written, so it is never taken for the keyword
 *		   it spells;
 *		 - a string constant as a standard SQL literal of its value
 *		   ('it''s', whether written 'it''s', E'it\'s' or $$it's$$), bit
 *		   and hex strings as B'...' and X'...';
 *		 - numbers, parameters ($1), operators and punctuation as written,
 *		   with != as <>.
 *		Semicolons are left out: two scripts that both parse cannot differ
 *		in semicolons alone and mean different things.  White space and
 *		comments between tokens do not count, nor the case of keywords and
 *		unquoted identifiers, nor quotes around a plain identifier, nor how a
 *		constant is quoted.  Everything inside
 *		a string or a dollar-quoted body (function bodies included) counts.
 *		Every token that can hold a space or a quote is quoted with its quote
 *		doubled, so two scripts render alike only when they differ in
 *		nothing but the above.
 *
 * The rendering uses no token codes, which differ between major versions,
 * so a script has the same checksum on every supported version.  The
 * scanner uses the session's standard_conforming_strings, as the parser
 * does when the script runs.  The script must scan without error
 * (register() has parsed it already).
 */
void
FmNormalizeScript(const char *source, StringInfo out)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	bool		first = true;

	learn_token_codes();
	scanner = scanner_init(source, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		core_YYSTYPE lval;
		YYLTYPE		loc;
		int			token = core_yylex(&lval, &loc, scanner);
		FmTokenKind kind;

		if (token == 0)
			break;
		/* statement separators: "SELECT 1" and "SELECT 1;;" are alike */
		if (token == ';')
			continue;
		if (!first)
			appendStringInfoChar(out, ' ');
		first = false;
		if (token < 256)
		{
			appendStringInfoChar(out, (char) token);
			continue;
		}
		kind = token_kind(token);
		switch (kind)
		{
			case FM_TOK_IDENT:
				if (source[loc] == '"' && !plain_identifier(lval.str))
					append_quoted(out, "", '"', lval.str);
				else
					appendStringInfoString(out, lval.str);
				break;
			case FM_TOK_UIDENT:
				append_quoted(out, "U&", '"', lval.str);
				break;
			case FM_TOK_SCONST:
				append_quoted(out, "", '\'', lval.str);
				break;
			case FM_TOK_USCONST:
				append_quoted(out, "U&", '\'', lval.str);
				break;
			case FM_TOK_BCONST:
			case FM_TOK_XCONST:
				/* the scanner's value is the letter, then the digits */
				appendStringInfoChar(out, kind == FM_TOK_BCONST ? 'B' : 'X');
				append_quoted(out, "", '\'', lval.str + 1);
				break;
			case FM_TOK_ICONST:
				appendStringInfo(out, "%d", lval.ival);
				break;
			case FM_TOK_PARAM:
				appendStringInfo(out, "$%d", lval.ival);
				break;
			case FM_TOK_FCONST:
			case FM_TOK_OP:
				appendStringInfoString(out, lval.str);
				break;
			case FM_TOK_KINDS:
				/* a keyword */
				appendStringInfoString(out, lval.keyword);
				break;
			default:
				appendStringInfoString(out, token_fixed_text[kind]);
				break;
		}
	}
	scanner_finish(scanner);
}
