/*-------------------------------------------------------------------------
 *
 * depend.h
 *	  What a DROP would take with it, read from pg_depend (depend.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_DEPEND_H
#define FLEETMIGRATE_DEPEND_H

#include "catalog/objectaddress.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* What dropping an object takes besides the object itself. */
typedef struct FmDropReach
{
	List	   *objects;		/* ObjectAddress *: the objects to name */
	List	   *relids;			/* Oid: tables and materialized views that
								 * go whole (their rows) */
	List	   *colrels;		/* Oid: relations of columns that go ... */
	List	   *columns;		/* char *: ... and those columns' names */
	bool		truncated;		/* stopped at FM_REACH_LIMIT objects */
} FmDropReach;

extern bool FmDropObjectAddress(ObjectType type, Node *object,
								ObjectAddress *address);
extern FmDropReach *FmDropReachOf(const ObjectAddress *root, bool cascade);
extern FmDropReach *FmOwnedReach(Oid roleid);
extern bool FmDropReachHoldsData(const FmDropReach *reach);
extern char *FmDropReachText(const FmDropReach *reach, int max);

#endif							/* FLEETMIGRATE_DEPEND_H */
