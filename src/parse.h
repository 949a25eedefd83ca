/*-------------------------------------------------------------------------
 *
 * parse.h
 *	  Splitting migration scripts into statements with the server's parser.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_PARSE_H
#define FLEETMIGRATE_PARSE_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/nodes.h"
#include "nodes/primnodes.h"

/* One statement of a script, as found by raw_parser(). */
typedef struct FmStatement
{
	int			number;			/* 1-based position in the script */
	int			offset;			/* byte offset of the statement text */
	int			length;			/* byte length of the statement text */
	int			start;			/* byte offset of its first token */
	int			line;			/* 1-based line of its first token */
	Node	   *parsetree;		/* raw parse tree (RawStmt->stmt) */
} FmStatement;

/* The facts register() stores about a script. */
typedef struct FmScriptInfo
{
	int			statements;		/* number of statements */
	bool		transactional;	/* false if a statement must run top-level */
} FmScriptInfo;

extern List *FmSplitScript(const char *source, const char *label);
extern void FmCheckScript(const char *source, const char *label,
						  FmScriptInfo *info);
extern char *FmStatementText(const char *source, const FmStatement *stmt);
extern char *FmStatementPreview(const char *source, const FmStatement *stmt);
extern int	FmLineOfOffset(const char *source, int offset);
extern int	FmOffsetOfCharPosition(const char *source, int charpos);
extern bool FmStatementNeedsTopLevel(Node *parsetree);
extern bool FmOptionIsTrue(List *options, const char *name);
extern RangeVar *FmCreatedRelation(Node *parsetree);
extern bool FmNamesMatch(const char *schema1, const char *name1,
						 const char *schema2, const char *name2);
extern List *FmParseExpression(const char *source, const char *label);
extern void FmNormalizeScript(const char *source, StringInfo out);

#endif							/* FLEETMIGRATE_PARSE_H */
