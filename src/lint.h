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

/*
 * What holds the data a destructive finding can remove, so that a run can
 * measure it (consent.c).
 */
typedef enum FmDataTarget
{
	FM_DATA_NONE,				/* no data: a view, a function, a sequence */
	FM_DATA_TABLE,				/* the rows of "relation" */
	FM_DATA_COLUMN,				/* the non-null values of "column" */
	FM_DATA_SCHEMA,				/* the rows of every table in schema "names" */
	FM_DATA_TYPE				/* the non-null values of the columns of type
								 * "names" (DROP TYPE/DOMAIN ... CASCADE) */
} FmDataTarget;

/* One finding of FmLint(). */
typedef struct FmFinding
{
	int			statement;		/* 1-based statement number */
	int			line;			/* line of the statement's first token */
	const char *rule;			/* "family.rule", a constant */
	FmSeverity	severity;
	char	   *message;
	char	   *hint;			/* NULL: none */
	/* destructive findings only: */
	FmDataTarget data;
	RangeVar   *relation;		/* FM_DATA_TABLE, FM_DATA_COLUMN */
	char	   *column;			/* FM_DATA_COLUMN */
	List	   *names;			/* FM_DATA_SCHEMA, FM_DATA_TYPE */
	bool		inh;			/* TRUNCATE, DELETE, UPDATE: inheritors too */
	char	   *target;			/* the object as the script names it */
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
