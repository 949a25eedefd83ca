/*-------------------------------------------------------------------------
 *
 * locks.c
 *	  Lock safety on a live database: every migration statement runs with
 *	  fleetmigrate.lock_timeout and fleetmigrate.statement_timeout, and a
 *	  migration that times out waiting for a lock is rolled back to its
 *	  start and tried again, fleetmigrate.lock_retries times, with
 *	  exponential backoff and jitter.
 *
 * A statement that needs a lock waits in the lock queue, and every query
 * that arrives after it waits behind it, even one whose lock would not
 * conflict with what is held.  lock_timeout bounds that wait: the
 * migration leaves the queue after at most that long, application queries
 * go on, and the migration tries again later.  When the retries run out,
 * the error names the sessions holding conflicting locks on the tables
 * the statement needs, from pg_locks and pg_stat_activity with the lock
 * manager's own conflict table (what pg_blocking_pids() reports for a
 * waiting session).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "lint.h"
#include "locks.h"
#include "parse.h"

/* GUCs (defined in fleetmigrate.c), in milliseconds; 0: off */
int			fm_lock_timeout = 1000;
int			fm_lock_retries = 10;
int			fm_statement_timeout = 0;

/* Backoff: the first wait, doubled per retry up to the cap, jittered. */
#define BACKOFF_FIRST_MS	200
#define BACKOFF_CAP_MS		10000

/* At most this many blocking sessions are named. */
#define MAX_BLOCKERS		10

/* The caller's statement timeout while a migration statement runs. */
static bool timer_running = false;
static bool outer_timeout_active = false;
static TimestampTz outer_timeout_at = 0;

/*
 * FmSetLockSettings
 *		SET LOCAL lock_timeout and statement_timeout for a migration: call
 *		after NewGUCNestLevel(); AtEOXact_GUC() at that level restores them.
 */
void
FmSetLockSettings(void)
{
	char		value[32];

	snprintf(value, sizeof(value), "%dms", fm_lock_timeout);
	(void) set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (fm_statement_timeout > 0)
	{
		snprintf(value, sizeof(value), "%dms", fm_statement_timeout);
		(void) set_config_option("statement_timeout", value, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}
}

/*
 * FmStatementTimerStart, FmStatementTimerStop
 *		statement_timeout is armed once per top-level statement, so a
 *		migration statement, which runs inside apply_pending()'s, arms its
 *		own: fleetmigrate.statement_timeout, or the caller's remaining time
 *		if that comes first.  Stop restores the caller's timer.
 */
void
FmStatementTimerStart(void)
{
	TimestampTz at;

	if (fm_statement_timeout <= 0)
		return;
	outer_timeout_active = get_timeout_active(STATEMENT_TIMEOUT);
	outer_timeout_at = outer_timeout_active ?
		get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), fm_statement_timeout);
	if (!outer_timeout_active || at < outer_timeout_at)
		enable_timeout_at(STATEMENT_TIMEOUT, at);
	timer_running = true;
}

void
FmStatementTimerStop(void)
{
	if (!timer_running)
		return;
	timer_running = false;
	if (outer_timeout_active)
		enable_timeout_at(STATEMENT_TIMEOUT, outer_timeout_at);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
	outer_timeout_active = false;
}

/* The pg_locks names of the modes that conflict with "mode". */
static Datum
conflicting_modes(LOCKMODE mode)
{
	LOCKTAG		tag;
	LockMethod	method;
	Datum		names[MAX_LOCKMODES];
	int			n = 0;
	int			i;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, InvalidOid);
	method = GetLockTagsMethodTable(&tag);
	for (i = 1; i <= method->numLockModes; i++)
	{
		if (method->conflictTab[mode] & LOCKBIT_ON(i))
			names[n++] = CStringGetTextDatum(GetLockmodeName(DEFAULT_LOCKMETHOD, i));
	}
	return PointerGetDatum(construct_array(names, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * append_blockers
 *		Append to "buf" the sessions that hold a lock conflicting with
 *		"mode" on relation "relid", one sentence each; returns how many.
 */
static int
append_blockers(StringInfo buf, Oid relid, LOCKMODE mode)
{
	Datum		values[2];
	Oid			types[2] = {OIDOID, TEXTARRAYOID};
	uint64		i;
	int			n;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = conflicting_modes(mode);
	if (SPI_execute_with_args(
							  "SELECT a.pid, a.usename, a.application_name, a.state,"
							  "       pg_catalog.round(pg_catalog.\"extract\"('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) a.xact_start), 1),"
							  "       pg_catalog.\"left\"(pg_catalog.regexp_replace(a.query, '\\s+', ' ', 'g'), 60),"
							  "       pg_catalog.string_agg(DISTINCT l.mode, ', ')"
							  "  FROM pg_catalog.pg_locks l"
							  "  JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
							  " WHERE l.locktype OPERATOR(pg_catalog.=) 'relation' AND l.granted"
							  "   AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d"
							  "        WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
							  "   AND l.relation OPERATOR(pg_catalog.=) $1"
							  "   AND l.mode OPERATOR(pg_catalog.=) ANY ($2)"
							  "   AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
							  " GROUP BY 1, 2, 3, 4, 5, 6"
							  " ORDER BY 5 DESC NULLS LAST, 1"
							  " LIMIT " CppAsString2(MAX_BLOCKERS),
							  2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		return 0;
	n = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *user = SPI_getvalue(tuple, desc, 2);
		char	   *app = SPI_getvalue(tuple, desc, 3);
		char	   *state = SPI_getvalue(tuple, desc, 4);
		char	   *age = SPI_getvalue(tuple, desc, 5);
		char	   *query = SPI_getvalue(tuple, desc, 6);

		appendStringInfo(buf,
						 "%sProcess %s (user %s, application \"%s\", %s, transaction open for %s s) holds %s on %s; its query: %s",
						 buf->len > 0 ? "\n" : "",
						 SPI_getvalue(tuple, desc, 1),
						 user ? user : "?", app ? app : "",
						 state ? state : "state unknown",
						 age ? age : "?",
						 SPI_getvalue(tuple, desc, 7),
						 FmRelationName(relid),
						 query ? query : "?");
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * describe_blockers
 *		The sessions that hold locks the statement "stmt" needs, as an
 *		errdetail text, or NULL if none holds one now.
 */
static char *
describe_blockers(const FmStatement *stmt)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	foreach(lc, FmStatementLocks(stmt->parsetree))
	{
		FmLockTarget *t = (FmLockTarget *) lfirst(lc);
		Oid			relid = RangeVarGetRelid(t->relation, NoLock, true);

		if (OidIsValid(relid))
			n += append_blockers(&buf, relid, t->mode);
	}
	return n > 0 ? buf.data : NULL;
}

/* Sleep for "ms" milliseconds, or until interrupted. */
static void
sleep_ms(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Statement "number" of migration m's up script "up"; NULL: none. */
static FmStatement *
up_statement(const FmMigration *m, const char *up, int number)
{
	ListCell   *lc;

	if (number <= 0 || up == NULL)
		return NULL;
	foreach(lc, FmSplitScript(up,
							  psprintf("up script of %s",
									   FmMigrationLabel(m->version, m->name))))
	{
		FmStatement *stmt = (FmStatement *) lfirst(lc);

		if (stmt->number == number)
			return stmt;
	}
	return NULL;
}

/*
 * FmLockRetryDelay
 *		Called after migration "m" failed and was rolled back to its start
 *		with "edata", at statement "statement" (0: unknown) of its up script
 *		"up",
 *		on attempt "attempt" (1: the first).  If the error is a lock
 *		timeout and retries are left, sends the NOTICE naming the blockers
 *		and returns how long to wait before the next attempt (backoff with
 *		jitter), in ms.  Otherwise returns -1; a lock timeout's error then
 *		names the sessions that hold what the statement waited for.  Call
 *		in a transaction, connected to SPI, with a snapshot.
 */
long
FmLockRetryDelay(const FmMigration *m, const char *up, int statement,
				 int attempt, ErrorData *edata)
{
	FmStatement *stmt;
	char	   *blockers;
	char	   *where;
	double		backoff;
	long		delay;

	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		return -1;

	stmt = up_statement(m, up, statement);
	blockers = stmt != NULL ? describe_blockers(stmt) : NULL;
	where = stmt != NULL ?
		psprintf("%s, statement %d (line %d)",
				 FmMigrationLabel(m->version, m->name), stmt->number, stmt->line) :
		FmMigrationLabel(m->version, m->name);

	if (attempt > fm_lock_retries)
	{
		edata->message = psprintf("%s could not get a lock after %d attempt%s: %s",
								  where, attempt, attempt == 1 ? "" : "s",
								  edata->message);
		edata->detail = blockers ? blockers :
			pstrdup("No session holds a conflicting lock on the statement's tables now; the lock it waited for may have been on a row or a transaction, or the blocker has finished.");
		edata->hint = pstrdup("Wait for the blocking transactions to finish, or end them with SELECT pg_cancel_backend(pid) (pg_terminate_backend(pid) for an idle transaction), then run again. fleetmigrate.lock_timeout and fleetmigrate.lock_retries set how long to try.");
		return -1;
	}

	backoff = Min((double) BACKOFF_FIRST_MS * pow(2.0, attempt - 1),
				  (double) BACKOFF_CAP_MS);
	delay = (long) (backoff / 2 + pg_prng_double(&pg_global_prng_state) * backoff / 2);
	ereport(NOTICE,
			(errmsg("%s timed out waiting for a lock (lock_timeout %d ms); rolled back, retry %d of %d in %ld ms",
					where, fm_lock_timeout, attempt, fm_lock_retries, delay),
			 blockers ? errdetail_internal("%s", blockers) : 0));
	return delay;
}

/*
 * FmLockRetrySleep
 *		Wait "delay" ms (FmLockRetryDelay()) before migration "m" is tried
 *		again, saying so in pg_stat_activity.  Can be called outside a
 *		transaction; ERRORs if cancelled.
 */
void
FmLockRetrySleep(const FmMigration *m, long delay)
{
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("fleetmigrate: waiting to retry migration %s %s",
									m->version, m->name));
	sleep_ms(delay);
}

/*
 * FmRetryLockTimeout
 *		FmLockRetryDelay(), then FmLockRetrySleep(): returns true after the
 *		wait if the caller should run the migration again, false otherwise.
 */
bool
FmRetryLockTimeout(const FmMigration *m, const char *up, int statement,
				   int attempt, ErrorData *edata)
{
	long		delay = FmLockRetryDelay(m, up, statement, attempt, edata);

	if (delay < 0)
		return false;
	FmLockRetrySleep(m, delay);
	return true;
}
