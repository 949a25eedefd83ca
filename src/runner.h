/*-------------------------------------------------------------------------
 *
 * runner.h
 *	  Applying pending migrations and recording them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_RUNNER_H
#define FLEETMIGRATE_RUNNER_H

/*
 * Advisory lock that serializes runners in one database: the same lock as
 * pg_advisory_xact_lock(1179470151, 1) ("FMIG", 1).
 */
#define FM_LOCK_CLASSID		1179470151	/* 0x464D4947, "FMIG" */
#define FM_LOCK_OBJID		1

#endif							/* FLEETMIGRATE_RUNNER_H */
