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

#include "nodes/parsenodes.h"
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
	FM_DATA_TYPE,				/* the non-null values of the columns of type
								 * "names" (DROP TYPE/DOMAIN ... CASCADE) */
	FM_DATA_DEPENDENTS,			/* the tables and columns that dropping
								 * "object" of kind "objtype" takes with it
								 * (depend.c); none: no consent is needed */
	FM_DATA_OWNED,				/* the tables the roles "names" own here
								 * (DROP OWNED) */
	FM_DATA_DATABASE			/* database "names": not countable from here */
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
	bool		consent;		/* a run measures it and needs consent for
								 * what it removes (set_data()) */
	bool		nested;			/* inside another statement (a WITH query,
								 * EXPLAIN ANALYZE): the statement's row
								 * count is not this finding's */
	ObjectType	objtype;		/* FM_DATA_DEPENDENTS */
	Node	   *object;			/* FM_DATA_DEPENDENTS: as in DropStmt.objects */
	bool		cascade;		/* FM_DATA_DEPENDENTS: with CASCADE */
} FmFinding;

/* A relation a statement locks, and how (FmStatementLocks()). */
typedef struct FmLockTarget
{
	RangeVar   *relation;
	LOCKMODE	mode;
} FmLockTarget;

#define FM_RULE_IS_DESTRUCTIVE(rule) (strncmp((rule), "destructive.", 12) == 0)

/*
 * A destructive finding a run weighs against its consent: not a view or
 * function dropped on its own, which holds no data.
 */
#define FM_FINDING_NEEDS_CONSENT(f) \
	(FM_RULE_IS_DESTRUCTIVE((f)->rule) && (f)->consent)

extern List *FmLint(const char *script, const char *label);
extern char *FmLintSummary(List *findings);
extern const char *FmSeverityName(FmSeverity severity);
extern const char *FmLockModeName(LOCKMODE mode);
extern char *FmRelationName(Oid relid);
extern List *FmStatementLocks(Node *parsetree);

#endif							/* FLEETMIGRATE_LINT_H */
