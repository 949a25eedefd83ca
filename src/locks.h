/*-------------------------------------------------------------------------
 *
 * locks.h
 *	  Lock safety: lock and statement timeouts for migration statements,
 *	  retries of a migration that timed out waiting for a lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_LOCKS_H
#define FLEETMIGRATE_LOCKS_H

#include "utils/elog.h"

#include "catalog.h"

/* GUCs, in milliseconds (0: off) and retries */
extern int	fm_lock_timeout;
extern int	fm_lock_retries;
extern int	fm_statement_timeout;

extern void FmSetLockSettings(void);
extern void FmStatementTimerStart(void);
extern void FmStatementTimerStop(void);
extern long FmLockRetryDelay(const FmMigration *m, const char *up,
							 int statement, int attempt, ErrorData *edata);
extern void FmLockRetrySleep(const FmMigration *m, long delay);
extern bool FmRetryLockTimeout(const FmMigration *m, const char *up,
							   int statement, int attempt,
							   ErrorData *edata);

#endif							/* FLEETMIGRATE_LOCKS_H */
