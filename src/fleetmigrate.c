/*-------------------------------------------------------------------------
 *
 * fleetmigrate.c
 *	  Module entry: the magic block and the configuration parameters.
 *
 * fleetmigrate keeps SQL migrations in an in-database catalog and applies
 * them through SPI.  The work is split by concern, in layers: a file uses
 * only the files above it in this list (test/t/layers.sh checks that no
 * two files depend on each other in a circle).
 *	 common.c	leaf helpers: migration labels, parameter declarations
 *	 progress.c	progress reported in pg_stat_activity (fleetmigrate.progress)
 *	 standbys.c	waiting for the standbys to replay a run; counting them
 *	 order.c	natural version ordering (the catalog's sort key)
 *	 parse.c	splitting scripts into statements with the server's parser
 *	 runlock.c	the runner's locks, out of reach of migration code
 *	 files.c	reading a directory of migration files
 *	 objects.c	what an up script creates, and whether it exists
 *	 lint.c		lint(): statements classified with the server's parser
 *	 catalog.c	every read and write of the catalog tables; register(),
 *				validate(), repair()
 *	 bundle.c	bundles: register_bundle(), export_bundle(), register_dir()
 *	 params.c	migration parameters: fleetmigrate.param(), secret masking
 *	 locks.c	lock_timeout, statement_timeout, retries after a lock timeout
 *	 plan.c		checks of a plan before it runs; explaining errors
 *	 runner.c	executing one migration's scripts and recording it
 *	 worker.c	non-transactional migrations in a background worker
 *	 run.c		one run's lifecycle, for every entry point below
 *	 apply.c	apply_pending(): in the caller's transaction, or a dry run
 *	 migrate.c	migrate(): the unattended runner, one commit per migration
 *	 rollback.c	rollback(), verify(), rehearse_rollback()
 *	 adopt.c	adopting a database: baseline(), unbaseline(), import_history()
 *	 remote.c	a short read-only libpq session with another database
 *	 schedule.c	the view scheduled_databases: each pg_cron job's database,
 *				read over remote.c
 *	 tiers.c	authentication tiers: upgrades, permission checks
 *
 * The module needs no shared memory and no preloading.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "locks.h"
#include "plan.h"
#include "run.h"
#include "standbys.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static const struct config_enum_entry out_of_order_options[] = {
	{"allow", FM_OUT_OF_ORDER_ALLOW, false},
	{"error", FM_OUT_OF_ORDER_ERROR, false},
	{NULL, 0, false}
};

static const struct config_enum_entry environment_options[] = {
	{"development", FM_ENVIRONMENT_DEVELOPMENT, false},
	{"staging", FM_ENVIRONMENT_STAGING, false},
	{"production", FM_ENVIRONMENT_PRODUCTION, false},
	{NULL, 0, false}
};

/*
 * _PG_init
 *		Define fleetmigrate's configuration parameters.
 */
void
_PG_init(void)
{
	DefineCustomEnumVariable("fleetmigrate.out_of_order",
							 "What a run does with a pending migration that sorts before an applied one.",
							 "allow applies it with a NOTICE (status shows out_of_order); error refuses the run before anything is applied.",
							 &fm_out_of_order,
							 FM_OUT_OF_ORDER_ALLOW,
							 out_of_order_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("fleetmigrate.environment",
							 "What kind of database this is: development, staging or production.",
							 "In production, rollback() is refused unless forced and confirmed with the database name and the server's system identifier.",
							 &fm_environment,
							 FM_ENVIRONMENT_PRODUCTION,
							 environment_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("fleetmigrate.lock_timeout",
							"How long a migration statement waits for a lock before the migration is rolled back and retried.",
							"Bounds how long application queries queue behind a waiting migration. 0 waits without limit.",
							&fm_lock_timeout,
							1000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("fleetmigrate.lock_retries",
							"How many times a migration that timed out waiting for a lock is retried.",
							"Retries wait with exponential backoff and jitter, starting at 200 ms and doubling up to 10 s.",
							&fm_lock_retries,
							10, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("fleetmigrate.statement_timeout",
							"The longest a migration statement may run.",
							"0, the default, sets no limit of fleetmigrate's own.",
							&fm_statement_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("fleetmigrate.run_log_retention",
							"How long fleetmigrate.run_log keeps the record of a run of migrate().",
							"Each run of migrate() first deletes the records of runs that ended longer ago than this (a summarized record counts from its last run). 0 keeps every record.",
							&fm_run_log_retention,
							FM_RUN_LOG_RETENTION_DEFAULT, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("fleetmigrate.wait_for_standbys",
							"How long a run that applied migrations waits, after its last commit, for every connected standby to replay it.",
							"0, the default, does not wait. migrate() raises an error when the time is up; apply_pending() warns, after its transaction's commit.",
							&fm_wait_for_standbys,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("fleetmigrate");
}
