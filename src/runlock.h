/*-------------------------------------------------------------------------
 *
 * runlock.h
 *	  The runner's locks: keys, taking and releasing them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_RUNLOCK_H
#define FLEETMIGRATE_RUNLOCK_H

/*
 * The runner's locks are object locks of the regular lock manager on class
 * ids that are no catalog (catalog OIDs are below FirstNormalObjectId), so
 * that no SQL a migration runs can take, keep or release them: the
 * advisory-lock functions (pg_advisory_lock(), pg_advisory_unlock_all(),
 * ...) reach only advisory locks.  pg_locks shows them as locktype
 * 'object', objsubid 0, with
 *	 classid 1179470151 ("FMIG"), objid 1: the runner lock, which serializes
 *		apply_pending() and migrate() in one database;
 *	 classid 1179470151, objid 2: the lock of the worker that runs a
 *		non-transactional migration;
 *	 classid 1179470162 ("FMIR"), objid the run id modulo 2^32: held while
 *		a run of migrate() goes on (the view fleetmigrate.runs reads it).
 */
#define FM_LOCK_CLASSID		1179470151	/* 0x464D4947, "FMIG" */
#define FM_RUN_CLASSID		1179470162	/* 0x464D4952, "FMIR" */
#define FM_LOCK_OBJID		1			/* the runner lock */
#define FM_WORKER_OBJID		2			/* the worker's lock */

extern bool FmLockAcquire(uint32 classid, uint32 objid, bool session,
						  bool wait);
extern void FmLockRelease(uint32 classid, uint32 objid);

#endif							/* FLEETMIGRATE_RUNLOCK_H */
