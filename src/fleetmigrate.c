/*-------------------------------------------------------------------------
 *
 * fleetmigrate.c
 *	  Module entry: the magic block.
 *
 * fleetmigrate keeps SQL migrations in an in-database catalog and applies
 * them through SPI.  The work is split by concern:
 *	 order.c	natural version ordering (the catalog's sort key)
 *	 parse.c	splitting scripts into statements with the server's parser
 *	 catalog.c	every read and write of the catalog tables; register()
 *	 runner.c	apply_pending(): locking, running, recording
 *	 tiers.c	authentication tiers: upgrades, permission checks
 *
 * The module needs no shared memory and no preloading; it defines no
 * configuration parameters yet.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
