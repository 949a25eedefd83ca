/* fleetmigrate--1.6--1.7.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.7'" to load this file. \quit

/*
 * Soundness (issue 17): the privilege model of the authentication tiers,
 * a run that applies exactly the plan it checked, the runner's integrity
 * against migration code, and stricter input checks.  As in the earlier
 * scripts every reference is schema-qualified, operators included.
 */

-- ---- the runner's locks ----------------------------------------------------
-- The runner's locks are no longer advisory locks, which migration code
-- could take, keep or release (pg_advisory_unlock_all()): they are object
-- locks on a class id that is no catalog (src/runner.h).  A run of migrate()
-- is 'running' while its session holds the lock (classid 1179470162, "FMIR";
-- objid the run id modulo 2^32; objsubid 0).
CREATE OR REPLACE VIEW fleetmigrate.runs AS
SELECT r.id,
       r.started_at,
       r.finished_at,
       r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
       r.run_by,
       r.started_by,
       r.target,
       r.applied,
       CASE WHEN r.outcome OPERATOR(pg_catalog.=) 'running' AND NOT EXISTS (
                SELECT 1
                  FROM pg_catalog.pg_locks l
                 WHERE l.locktype OPERATOR(pg_catalog.=) 'object'
                   AND l.granted
                   AND l.database OPERATOR(pg_catalog.=)
                       (SELECT d.oid FROM pg_catalog.pg_database d
                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                   AND l.classid OPERATOR(pg_catalog.=) 1179470162::pg_catalog.oid
                   AND l.objid OPERATOR(pg_catalog.=)
                       (r.id OPERATOR(pg_catalog.%) 4294967296)::pg_catalog.oid
                   AND l.objsubid OPERATOR(pg_catalog.=) 0)
            THEN 'interrupted'
            ELSE r.outcome END AS outcome,
       r.failed_version,
       r.failed_name,
       r.sqlstate,
       r.error,
       r.pid
  FROM fleetmigrate.run_log r
 ORDER BY r.id;

-- ---- a run applies exactly the plan it checked ----------------------------
-- A run of migrate() that meets a migration registered again after its plan
-- was checked stops there: outcome 'stopped', the reason in error.
ALTER TABLE fleetmigrate.run_log
    DROP CONSTRAINT run_log_outcome_check,
    ADD CONSTRAINT run_log_outcome_check
        CHECK (outcome IN ('running', 'succeeded', 'nothing_pending', 'failed',
                           'skipped', 'stopped'));

COMMENT ON VIEW fleetmigrate.runs IS
'One row per CALL fleetmigrate.migrate(), manual or scheduled: when, by whom, how it was started, how many migrations it applied, outcome (running, succeeded, nothing_pending, failed, skipped, stopped, interrupted) and error';
