/*-------------------------------------------------------------------------
 *
 * runlock.c
 *	  The runner's locks (runlock.h): taking and releasing them.
 *
 * A lock is taken for the transaction (apply_pending()'s runner lock) or
 * for the session (migrate()'s runner and run locks, the worker's lock),
 * always in ExclusiveLock mode, in the current database.
 *
 * Session locks of the regular lock manager are released when a top-level
 * transaction aborts (ProcReleaseLocks()), but not when a process exits
 * outside a transaction: the server releases only advisory session locks
 * then, and a lock left in shared memory would block every later runner.
 * So we keep a list of the session locks this process holds: a transaction
 * abort empties it, an exit callback (registered once) releases what is
 * still on it, and the callers release them on every other way out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lock.h"

#include "runlock.h"

/* Session locks this process holds, for the exit callback. */
#define MAX_SESSION_LOCKS 4

typedef struct HeldLock
{
	uint32		classid;
	uint32		objid;
} HeldLock;

static HeldLock session_locks[MAX_SESSION_LOCKS];
static int	nsession_locks = 0;
static bool callbacks_registered = false;

static void release_at_exit(int code, Datum arg);
static void forget_at_abort(XactEvent event, void *arg);

static void
set_tag(LOCKTAG *tag, uint32 classid, uint32 objid)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, classid, objid, 0);
}

/*
 * FmLockAcquire
 *		Take lock (classid, objid) in ExclusiveLock mode, for the session or
 *		for the transaction.  Returns false if it is busy and "wait" is
 *		false.  May ERROR (deadlock, lock_timeout, cancel).
 */
bool
FmLockAcquire(uint32 classid, uint32 objid, bool session, bool wait)
{
	LOCKTAG		tag;

	if (session && !callbacks_registered)
	{
		before_shmem_exit(release_at_exit, (Datum) 0);
		RegisterXactCallback(forget_at_abort, NULL);
		callbacks_registered = true;
	}
	if (session && nsession_locks >= MAX_SESSION_LOCKS)
		elog(ERROR, "too many fleetmigrate session locks");

	set_tag(&tag, classid, objid);
	if (LockAcquire(&tag, ExclusiveLock, session, !wait) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	if (session)
	{
		session_locks[nsession_locks].classid = classid;
		session_locks[nsession_locks].objid = objid;
		nsession_locks++;
	}
	return true;
}

/*
 * FmLockRelease
 *		Release session lock (classid, objid), if this process still holds
 *		it (a transaction abort releases it).
 */
void
FmLockRelease(uint32 classid, uint32 objid)
{
	LOCKTAG		tag;
	int			i;

	for (i = 0; i < nsession_locks; i++)
	{
		if (session_locks[i].classid == classid &&
			session_locks[i].objid == objid)
			break;
	}
	if (i == nsession_locks)
		return;
	session_locks[i] = session_locks[--nsession_locks];

	set_tag(&tag, classid, objid);
	(void) LockRelease(&tag, ExclusiveLock, true);
}

/* before_shmem_exit callback: release the session locks still held. */
static void
release_at_exit(int code, Datum arg)
{
	while (nsession_locks > 0)
		FmLockRelease(session_locks[nsession_locks - 1].classid,
					  session_locks[nsession_locks - 1].objid);
}

/* Transaction callback: an abort released every session lock. */
static void
forget_at_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		nsession_locks = 0;
}
