/*-------------------------------------------------------------------------
 *
 * objects.h
 *	  What a migration's up script creates, and whether it exists
 *	  (objects.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_OBJECTS_H
#define FLEETMIGRATE_OBJECTS_H

#include "nodes/pg_list.h"

/* The result of FmCheckObjects(). */
typedef struct FmObjectCheck
{
	int			checked;		/* objects the script creates and keeps */
	List	   *missing;		/* char *: "table public.bug_reports", ... */
	List	   *unverified;		/* char *: "statement 3 (DO block)", ... */
	bool		changed_later;	/* a later script of the set drops, renames
								 * or moves something it creates */
} FmObjectCheck;

extern void FmCheckObjects(const char *script, const char *label,
						   FmObjectCheck *check);
extern void FmCheckObjectsSet(List *scripts, List *labels,
							  FmObjectCheck *checks);
extern char *FmObjectCheckText(const FmObjectCheck *check, int limit);

#endif							/* FLEETMIGRATE_OBJECTS_H */
