/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  Classifying a script's statements with the server's parser: what can
 *	  lose data, what blocks application traffic, what breaks running
 *	  code, what cannot run in a transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_LINT_H
#define FLEETMIGRATE_LINT_H

#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "storage/lockdefs.h"

typedef enum FmSeverity
{
	FM_SEVERITY_INFO,
	FM_SEVERITY_WARNING,
	FM_SEVERITY_ERROR
} FmSeverity;

/* One finding of FmLint(). */
typedef struct FmFinding
{
	int			statement;		/* 1-based statement number */
	int			line;			/* line of the statement's first token */
	const char *rule;			/* "family.rule", a constant */
	FmSeverity	severity;
	char	   *message;
	char	   *hint;			/* NULL: none */
} FmFinding;

/* A relation a statement locks, and how (FmStatementLocks()). */
typedef struct FmLockTarget
{
	RangeVar   *relation;
	LOCKMODE	mode;
} FmLockTarget;

#define FM_RULE_IS_DESTRUCTIVE(rule) (strncmp((rule), "destructive.", 12) == 0)

extern List *FmLint(const char *script, const char *label);
extern char *FmLintSummary(List *findings);
extern const char *FmSeverityName(FmSeverity severity);
extern const char *FmLockModeName(LOCKMODE mode);
extern char *FmRelationName(Oid relid);
extern List *FmStatementLocks(Node *parsetree);

#endif							/* FLEETMIGRATE_LINT_H */
