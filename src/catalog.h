/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reads and writes of fleetmigrate's catalog tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_CATALOG_H
#define FLEETMIGRATE_CATALOG_H

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"

/* A migration as the runner needs it, read from fleetmigrate.migrations. */
typedef struct FmMigration
{
	char	   *version;
	char	   *name;
	char	   *up;
	bool		transactional;
	bool		out_of_order;	/* an applied migration sorts after it */
} FmMigration;

/* Prepared catalog statements of one run; valid until SPI_finish(). */
typedef struct FmCatalog
{
	SPIPlanPtr	pending;
	SPIPlanPtr	target_known;
	SPIPlanPtr	last_applied;
	SPIPlanPtr	record_applied;
} FmCatalog;

extern SPIPlanPtr FmPrepare(const char *sql, int nargs, Oid *argtypes);
extern uint64 FmExecute(SPIPlanPtr plan, Datum *values, const char *nulls,
						int expected);
extern void FmCatalogPrepare(FmCatalog *cat);
extern List *FmCatalogPending(FmCatalog *cat, const char *target);
extern void FmCatalogRecordApplied(FmCatalog *cat, const FmMigration *m,
								   TimestampTz started, double duration_ms,
								   const char *applied_by);
extern char *FmMigrationLabel(const char *version, const char *name);

#endif							/* FLEETMIGRATE_CATALOG_H */
