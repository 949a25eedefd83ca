/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What differs between the supported PostgreSQL major versions (15, 17
 *	  and 18), in one place.
 *
 * Include it after postgres.h.  Each entry names the version that changed
 * and what the rest of the code may then assume.
 *
 * Kept out of here on purpose: the scanner's token codes, which change with
 * every major version's grammar and whose header (gram.h) is no longer
 * installed since 16; parse.c learns them from the scanner at run time
 * instead, so checksums do not depend on them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_COMPAT_H
#define FLEETMIGRATE_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "fleetmigrate needs PostgreSQL 15 or later"
#endif

/*
 * 16 moved the varlena macros (VARDATA, VARSIZE_ANY_EXHDR, SET_VARSIZE, ...)
 * out of postgres.h into varatt.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 18 replaced pg_attribute_noreturn(), written after a declarator, with
 * pg_noreturn, written before the declaration.  Earlier versions' attribute
 * is accepted in front as well, so declarations use pg_noreturn throughout.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * 18 dropped PortalRun()'s run_once argument (it was always true for a
 * portal run to completion, as ours are).
 */
#if PG_VERSION_NUM >= 180000
#define FmPortalRun(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun(portal, count, isTopLevel, dest, altdest, qc)
#else
#define FmPortalRun(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun(portal, count, isTopLevel, true, dest, altdest, qc)
#endif

/*
 * 18 added index_beginscan()'s instrumentation argument (NULL: none).
 */
#if PG_VERSION_NUM >= 180000
#define FmIndexBeginScan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan(heap, index, snapshot, NULL, nkeys, norderbys)
#else
#define FmIndexBeginScan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan(heap, index, snapshot, nkeys, norderbys)
#endif

/*
 * 18 put a RETURNING list into a ReturningClause (with its OLD/NEW options):
 * whether an UPDATE, DELETE or INSERT has one.
 */
#if PG_VERSION_NUM >= 180000
#define FmHasReturning(stmt) ((stmt)->returningClause != NULL)
#else
#define FmHasReturning(stmt) ((stmt)->returningList != NIL)
#endif

/*
 * Words that are keywords, other than unreserved ones, in some supported
 * version but not in all of them (compared across the kwlist.h of 15, 17 and
 * 18: 16 added the SQL/JSON constructors and system_user, 17 the other
 * SQL/JSON functions and merge_action).  A checksum must not depend on the
 * version, so parse.c treats these words as keywords on every version (see
 * FmNormalizeScript).  A new supported version adds its new ones here.
 */
#define FM_VERSION_DEPENDENT_KEYWORDS \
	"json", "json_array", "json_arrayagg", "json_exists", "json_object", \
	"json_objectagg", "json_query", "json_scalar", "json_serialize", \
	"json_table", "json_value", "merge_action", "system_user"

#endif							/* FLEETMIGRATE_COMPAT_H */
