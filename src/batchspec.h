/*-------------------------------------------------------------------------
 *
 * batchspec.h
 *	  A batched migration as its up script declares it: the "-- batch:"
 *	  line, the one UPDATE or DELETE, the table and key (batchspec.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_BATCHSPEC_H
#define FLEETMIGRATE_BATCHSPEC_H

#include "nodes/primnodes.h"

#include "parse.h"

/* Batch size when the "-- batch:" line gives none, and the bounds. */
#define FM_BATCH_SIZE_DEFAULT	10000
#define FM_BATCH_SIZE_MAX		1000000

/* What the "-- batch:" line and the statement say. */
typedef struct FmBatchSpec
{
	int			line;			/* line of the "-- batch:" line */
	RangeVar   *table;			/* table= as given; NULL: not given */
	char	   *key;			/* key= as given; NULL: the primary key */
	int			size;			/* size=, rows per batch */
	FmStatement *stmt;			/* the UPDATE or DELETE */
	bool		is_delete;
	RangeVar   *relation;		/* the statement's target */
	char	   *text;			/* its text, from its first token */
	int			where_at;		/* byte offset in "text" of its WHERE; -1:
								 * none */
} FmBatchSpec;

/* The table and key a batched migration walks (FmBatchResolve()). */
typedef struct FmBatchTarget
{
	Oid			relid;
	char	   *relation;		/* schema-qualified, quoted */
	char	   *key;			/* the key column's name */
	Oid			keytype;
	char	   *keytype_name;	/* format_type_be() of it */
	char	   *problem;		/* NULL: usable; else why not (errmsg) */
	char	   *problem_detail;
	char	   *problem_hint;
} FmBatchTarget;

extern bool FmBatchDeclared(const char *up);
extern FmBatchSpec *FmBatchSpecParse(const char *up, const char *label);
extern bool FmBatchResolve(const FmBatchSpec *spec, bool missing_ok,
						   FmBatchTarget *target);
extern char *FmBatchStatement(const FmBatchSpec *spec,
							  const FmBatchTarget *target, bool first);
extern char *FmBatchBoundsQuery(const FmBatchSpec *spec,
								const FmBatchTarget *target, bool first);

#endif							/* FLEETMIGRATE_BATCHSPEC_H */
