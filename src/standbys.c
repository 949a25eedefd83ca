/*-------------------------------------------------------------------------
 *
 * standbys.c
 *	  Waiting until every connected standby has replayed a run's commits
 *	  (fleetmigrate.wait_for_standbys), so that an application reading from
 *	  standbys never sees the old schema after a run said "applied".
 *
 * The replay positions are the walsenders' own, in shared memory: what
 * pg_stat_replication.replay_lsn shows.  Nothing is replicated here.
 *
 * A standby reports its replay position every wal_receiver_status_interval
 * (10 s by default), and at once after replaying a commit whose record asks
 * for it, which a commit made with synchronous_commit = remote_apply does.
 * So the last commit of a run that waits is made with remote_apply
 * (FmStandbysRequestFeedback(), set just before that commit), but only where
 * no synchronous standby is configured: there remote_apply would also make
 * the commit wait for their replay, with the migrations' locks held, and
 * overrule a caller's synchronous_commit = local.  With synchronous
 * standbys, the caller's synchronous_commit stands and the standbys report
 * on their interval.
 *
 * migrate() commits its migrations itself and waits after its last commit
 * (FmStandbysWaitNow()); a timeout is its error.  apply_pending() runs in
 * the caller's transaction, so it waits when that transaction commits
 * (FmStandbysWaitAtCommit()): after the commit and after the transaction's
 * locks are released, from a resource owner callback.  An error there is
 * impossible (the transaction is committed), so a timeout or a cancel is a
 * WARNING, as the server's own wait for synchronous replication does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "standbys.h"

int			fm_wait_for_standbys = 0;

/*
 * The server's own, from libpq/libpq.h (the same in PostgreSQL 14 to 18),
 * which cannot be included here: it includes libpq/libpq-be.h, which needs
 * the GSSAPI headers where the server was built with GSSAPI.
 */
extern bool pq_check_connection(void);

/* One standby the wait is for. */
typedef struct Standby
{
	int			pid;			/* its walsender */
	char		name[NAMEDATALEN];	/* application_name */
	bool		replayed;		/* it has replayed the target */
	bool		gone;			/* it disconnected during the wait */
	double		replayed_ms;	/* from the commit until it was seen replayed */
	XLogRecPtr	apply;			/* its replay position, last seen */
	TimeOffset	apply_lag;		/* pg_stat_replication.replay_lag, in
								 * microseconds; -1: not known */
} Standby;

typedef struct StandbyWait
{
	int			nstandbys;
	Standby    *standbys;
	XLogRecPtr	target;			/* the commit to be replayed */
	TimestampTz committed;
	double		waited_ms;
	bool		timed_out;
	bool		canceled;
} StandbyWait;

/* the next commit asks the standbys for feedback (remote_apply) */
static bool feedback_requested = false;
static bool feedback_committing = false;	/* this commit asks for it */
static TimestampTz feedback_committed = 0;	/* when the last such one was */

/* apply_pending(): wait when the transaction commits */
static StandbyWait *commit_wait = NULL; /* in TopMemoryContext */
static XLogRecPtr commit_before = InvalidXLogRecPtr;
static int	commit_wait_level = 0;	/* the (sub)transaction that applied */

/* migrate(): the last wait, for FmStandbysWaitNow()'s error */
static StandbyWait *last_wait = NULL;	/* in TopMemoryContext */

static bool callbacks_registered = false;

static void register_callbacks(void);
static void free_wait(StandbyWait *w);
static void forget_commit_wait(void);

/*
 * walsender_position
 *		The replay position and lag of walsender "pid", if it is still
 *		streaming to a standby (or catching up).
 */
static bool
walsender_position(int pid, XLogRecPtr *apply, TimeOffset *lag)
{
	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *w = &WalSndCtl->walsnds[i];
		bool		found;
		bool		streaming = false;

		SpinLockAcquire(&w->mutex);
		found = w->pid == pid;
		if (found)
		{
			streaming = w->state == WALSNDSTATE_STREAMING ||
				w->state == WALSNDSTATE_CATCHUP;
			*apply = w->apply;
			*lag = w->applyLag;
		}
		SpinLockRelease(&w->mutex);
		if (found)
			return streaming;
	}
	return false;
}

/*
 * is_standby
 *		Whether walsender "pid" serves a physical standby that replays: a
 *		logical walsender is connected to a database, and a WAL receiver
 *		that only stores WAL (pg_receivewal, pg_basebackup's WAL stream)
 *		reports where it has written but never a replay position.  A
 *		standby that has not reported anything yet is counted.
 */
static bool
is_standby(int pid)
{
	PGPROC	   *proc = BackendPidGetProc(pid);

	if (proc == NULL || OidIsValid(proc->databaseId))
		return false;
	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *w = &WalSndCtl->walsnds[i];
		bool		found;
		bool		replays = false;

		SpinLockAcquire(&w->mutex);
		found = w->pid == pid;
		if (found)
			replays = !(XLogRecPtrIsInvalid(w->apply) &&
						!XLogRecPtrIsInvalid(w->write));
		SpinLockRelease(&w->mutex);
		if (found)
			return replays;
	}
	return false;
}

/*
 * FmStandbysConnected
 *		How many physical standbys stream from this server now.
 */
int
FmStandbysConnected(void)
{
	int			n = 0;

	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *w = &WalSndCtl->walsnds[i];
		int			pid;
		bool		streaming;

		SpinLockAcquire(&w->mutex);
		pid = w->pid;
		streaming = w->state == WALSNDSTATE_STREAMING ||
			w->state == WALSNDSTATE_CATCHUP;
		SpinLockRelease(&w->mutex);
		if (pid != 0 && streaming && is_standby(pid))
			n++;
	}
	return n;
}

/*
 * connected_standbys
 *		The standbys streaming now, with their names from
 *		pg_stat_replication, in a new wait allocated in "cxt".
 */
static StandbyWait *
connected_standbys(MemoryContext cxt)
{
	StandbyWait *w = MemoryContextAllocZero(cxt, sizeof(StandbyWait));
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT r.pid, r.application_name"
					  "  FROM pg_catalog.pg_stat_replication r"
					  " ORDER BY r.application_name, r.pid",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: error code %d", ret);
	w->standbys = MemoryContextAllocZero(cxt, sizeof(Standby) *
										 Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		pid = SPI_getbinval(tuple, desc, 1, &isnull);
		char	   *name;
		Standby    *s;
		XLogRecPtr	apply;
		TimeOffset	lag;

		if (isnull || !walsender_position(DatumGetInt32(pid), &apply, &lag) ||
			!is_standby(DatumGetInt32(pid)))
			continue;
		s = &w->standbys[w->nstandbys++];
		s->pid = DatumGetInt32(pid);
		name = SPI_getvalue(tuple, desc, 2);
		strlcpy(s->name, name != NULL && name[0] != '\0' ? name : "walreceiver",
				sizeof(s->name));
		s->apply = apply;
		s->apply_lag = lag;
	}
	SPI_finish();
	return w;
}

/*
 * wait_for
 *		Wait until every standby of "w" has replayed w->target, or
 *		fm_wait_for_standbys ms have passed since w->committed.  In a commit
 *		("in_commit") interrupts are held and an error is impossible: a
 *		cancel or a shutdown ends the wait instead, as in the server's wait
 *		for synchronous replication (SyncRepWaitForLSN()); so does a client
 *		that has gone away (pq_check_connection(), as
 *		client_connection_check_interval does).
 */
static void
wait_for(StandbyWait *w, bool in_commit)
{
	for (;;)
	{
		TimestampTz checked = GetCurrentTimestamp();
		bool		all = true;
		long		elapsed_ms;
		long		timeout;
		int			rc;

		w->waited_ms = (double) (checked - w->committed) / 1000.0;
		for (int i = 0; i < w->nstandbys; i++)
		{
			Standby    *s = &w->standbys[i];
			XLogRecPtr	apply;
			TimeOffset	lag;

			if (s->replayed || s->gone)
				continue;
			if (!walsender_position(s->pid, &apply, &lag))
			{
				s->gone = true;
				continue;
			}
			s->apply = apply;
			s->apply_lag = lag;
			if (apply >= w->target)
			{
				s->replayed = true;
				s->replayed_ms = w->waited_ms;
			}
			else
				all = false;
		}
		if (all)
			return;
		elapsed_ms = (long) w->waited_ms;
		if (elapsed_ms >= fm_wait_for_standbys)
		{
			w->timed_out = true;
			return;
		}
		if (in_commit)
		{
			if (ProcDiePending || QueryCancelPending)
			{
				/* the cancel is spent on the wait; a termination stays */
				QueryCancelPending = false;
				w->canceled = true;
				return;
			}
			/*
			 * A client that went away waits for nothing.  Where the
			 * platform cannot tell (no WL_SOCKET_CLOSED), the check would
			 * be an error, as client_connection_check_interval is refused.
			 */
			if (MyProcPort != NULL && WaitEventSetCanReportClosed() &&
				!pq_check_connection())
			{
				w->canceled = true;
				return;
			}
		}
		else
			CHECK_FOR_INTERRUPTS();

		/* a standby answers within milliseconds; poll often at first */
		timeout = Min(fm_wait_for_standbys - elapsed_ms,
					  elapsed_ms < 1000 ? 1 : 10);
		rc = WaitLatch(MyLatch,
					   WL_LATCH_SET | WL_TIMEOUT |
					   (in_commit ? WL_POSTMASTER_DEATH : WL_EXIT_ON_PM_DEATH),
					   Max(timeout, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (rc & WL_POSTMASTER_DEATH)
		{
			w->canceled = true;
			return;
		}
	}
}

static const char *
lag_text(TimeOffset lag)
{
	if (lag < 0)
		return "replay lag not known";
	return psprintf("replay lag %.0f ms", (double) lag / 1000.0);
}

/*
 * describe
 *		Each standby of "w" and how far it is, for a message: "standby
 *		"s1" replayed it in 3 ms (replay lag 2 ms), standby "s2" is 1234
 *		bytes behind (replay lag 35000 ms)".
 */
static char *
describe(const StandbyWait *w)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < w->nstandbys; i++)
	{
		const Standby *s = &w->standbys[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "standby \"%s\" (process %d) ", s->name, s->pid);
		if (s->replayed)
			appendStringInfo(&buf, "replayed it in %.0f ms (%s)",
							 s->replayed_ms, lag_text(s->apply_lag));
		else if (s->gone)
			appendStringInfoString(&buf, "disconnected before it replayed it");
		else
			appendStringInfo(&buf, "is " UINT64_FORMAT " bytes behind (%s)",
							 (uint64) (w->target - s->apply),
							 lag_text(s->apply_lag));
	}
	return buf.data;
}

/* "w" as a JSON array, for fleetmigrate.runs.standbys */
static char *
standbys_json(const StandbyWait *w)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < w->nstandbys; i++)
	{
		const Standby *s = &w->standbys[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"standby\": ");
		escape_json(&buf, s->name);
		appendStringInfo(&buf, ", \"pid\": %d, \"replayed\": %s", s->pid,
						 s->replayed ? "true" : "false");
		if (s->replayed)
			appendStringInfo(&buf, ", \"replayed_ms\": %.3f", s->replayed_ms);
		else
			appendStringInfo(&buf, ", \"behind_bytes\": " UINT64_FORMAT,
							 s->apply < w->target ?
							 (uint64) (w->target - s->apply) : 0);
		if (s->gone)
			appendStringInfoString(&buf, ", \"disconnected\": true");
		if (s->apply_lag >= 0)
			appendStringInfo(&buf, ", \"replay_lag_ms\": %.3f",
							 (double) s->apply_lag / 1000.0);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * report
 *		What the wait for "w" found: a NOTICE when every standby replayed
 *		"what" (or none is connected); a WARNING when the others did but one
 *		disconnected before it had; otherwise, at "elevel", that the wait
 *		timed out or was canceled, each standby and how far it is.
 */
static void
report(const StandbyWait *w, const char *what, int elevel)
{
	bool		all = !w->timed_out && !w->canceled;
	bool		gone = false;

	for (int i = 0; i < w->nstandbys; i++)
		gone |= w->standbys[i].gone;
	if (w->nstandbys == 0)
		ereport(NOTICE,
				(errmsg("no standby is connected; nothing to wait for"),
				 errdetail("fleetmigrate.wait_for_standbys waits for the standbys in pg_stat_replication.")));
	else if (all && gone)
		ereport(WARNING,
				(errmsg("a standby disconnected before it replayed %s", what),
				 errdetail("The migrations are applied and committed on the primary; %s.",
						   describe(w)),
				 errhint("Readers of that standby can see the old schema until it has reconnected and replayed the rest: see pg_stat_replication on the primary.")));
	else if (all)
		ereport(NOTICE,
				(errmsg("every connected standby replayed %s within %.0f ms",
						what, w->waited_ms),
				 errdetail("%s.", describe(w))));
	else
		ereport(elevel,
				(errcode(ERRCODE_QUERY_CANCELED),
				 w->canceled ?
				 errmsg("canceled the wait for standbys to replay %s", what) :
				 errmsg("timed out after %d ms waiting for standbys to replay %s",
						fm_wait_for_standbys, what),
				 errdetail("The migrations are applied and committed on the primary; %s.",
						   describe(w)),
				 errhint("Nothing needs to run again. See how far each standby is in pg_stat_replication on the primary (on the standby: SELECT pg_is_wal_replay_paused()), or raise fleetmigrate.wait_for_standbys.")));
}

/*
 * FmStandbysRequestFeedback
 *		Make this transaction's commit ask the standbys for their replay
 *		position as soon as they have replayed it (remote_apply).
 */
void
FmStandbysRequestFeedback(void)
{
	register_callbacks();
	feedback_requested = true;
	feedback_committed = 0;
}

/*
 * FmStandbysWaitNow
 *		Right after a commit made with FmStandbysRequestFeedback(): wait
 *		until every connected standby has replayed it, and say so.  Returns
 *		false if the wait timed out; then the run's record gets "*json" and
 *		FmStandbysWaitNow's caller raises the error with
 *		FmStandbysRaiseTimeout().  "*json" describes each standby.
 */
bool
FmStandbysWaitNow(const char *what, char **json)
{
	TimestampTz committed = feedback_committed != 0 ?
		feedback_committed : GetCurrentTimestamp();

	free_wait(last_wait);
	last_wait = NULL;
	last_wait = connected_standbys(TopMemoryContext);
	last_wait->target = XactLastCommitEnd;
	last_wait->committed = committed;
	wait_for(last_wait, false);
	*json = standbys_json(last_wait);
	if (!last_wait->timed_out)
		report(last_wait, what, NOTICE);
	return !last_wait->timed_out;
}

/* The error of the last FmStandbysWaitNow() that timed out. */
void
FmStandbysRaiseTimeout(const char *what)
{
	Assert(last_wait != NULL && last_wait->timed_out);
	report(last_wait, what, ERROR);
}

/*
 * FmStandbysWaitAtCommit
 *		apply_pending() applied migrations in the caller's transaction:
 *		when it commits, wait until every standby connected now has
 *		replayed the commit.
 */
void
FmStandbysWaitAtCommit(void)
{
	int			level = GetCurrentTransactionNestLevel();

	/* an earlier call of this transaction waits already */
	if (commit_wait != NULL)
	{
		commit_wait_level = Min(commit_wait_level, level);
		FmStandbysRequestFeedback();
		return;
	}
	commit_wait = connected_standbys(TopMemoryContext);
	commit_before = XactLastCommitEnd;
	commit_wait_level = level;
	FmStandbysRequestFeedback();
}

/* Free a wait made by connected_standbys() (NULL: nothing). */
static void
free_wait(StandbyWait *w)
{
	if (w == NULL)
		return;
	pfree(w->standbys);
	pfree(w);
}

static void
forget_commit_wait(void)
{
	if (commit_wait != NULL)
	{
		free_wait(commit_wait);
		commit_wait = NULL;
	}
}

static void
standbys_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/*
			 * Only where no synchronous standby is configured does
			 * remote_apply change nothing but the standbys' feedback:
			 * otherwise it would make the commit wait for the synchronous
			 * standbys' replay, holding apply_pending()'s locks, and with
			 * no time limit, even when the caller chose synchronous_commit
			 * = local or off to go on without them.
			 */
			if (feedback_requested)
				feedback_committing = true;
			if (feedback_requested && SyncRepStandbyNames != NULL &&
				SyncRepStandbyNames[0] == '\0')
				(void) set_config_option("synchronous_commit", "remote_apply",
										 PGC_USERSET, PGC_S_SESSION,
										 GUC_ACTION_LOCAL, true, 0, false);
			feedback_requested = false;
			break;
		case XACT_EVENT_COMMIT:
			/* the time from which the wait is measured */
			if (feedback_committing)
				feedback_committed = GetCurrentTimestamp();
			feedback_committing = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* nothing committed here to wait for */
			feedback_requested = false;
			feedback_committing = false;
			forget_commit_wait();
			break;
		default:
			break;
	}
}

/*
 * A rolled-back savepoint (or exception block) took the migrations with
 * it: nothing to wait for.  A released one hands them to its parent, whose
 * rollback then takes them.
 */
static void
standbys_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (commit_wait == NULL)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB && level <= commit_wait_level)
	{
		feedback_requested = false;
		forget_commit_wait();
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB && level == commit_wait_level)
		commit_wait_level = level - 1;
}

/*
 * After a commit's locks are released: the wait apply_pending() asked for.
 */
static void
standbys_release_callback(ResourceReleasePhase phase, bool isCommit,
						  bool isTopLevel, void *arg)
{
	StandbyWait *w = commit_wait;

	if (phase != RESOURCE_RELEASE_AFTER_LOCKS || !isTopLevel || w == NULL)
		return;
	commit_wait = NULL;
	if (isCommit && XactLastCommitEnd > commit_before)
	{
		w->target = XactLastCommitEnd;
		w->committed = feedback_committed != 0 ?
			feedback_committed : GetCurrentTimestamp();
		wait_for(w, true);
		report(w, "the migrations", WARNING);
	}
	free_wait(w);
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(standbys_xact_callback, NULL);
	RegisterSubXactCallback(standbys_subxact_callback, NULL);
	RegisterResourceReleaseCallback(standbys_release_callback, NULL);
	callbacks_registered = true;
}
