/* fleetmigrate--1.10--1.11.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.11'" to load this file. \quit

/*
 * Beyond one server: standbys, failover and many databases (issue 21).  As
 * in the earlier scripts every reference is schema-qualified, operators
 * included.  Each area has a section of its own below.
 */

-- ---- standbys that have caught up (issue 21, item 3) ------------------------
-- With fleetmigrate.wait_for_standbys set, a run of migrate() that applied
-- migrations waits after its last commit until every connected standby has
-- replayed it (src/standbys.c), and records here how far each one got:
-- [{"standby": name, "pid": n, "replayed": bool, "replayed_ms": ms or
-- "behind_bytes": n, "replay_lag_ms": pg_stat_replication.replay_lag}].
ALTER TABLE fleetmigrate.run_log ADD COLUMN standbys jsonb;

-- a database owner may set it with ALTER DATABASE before the library is
-- loaded, as the other settings (see the 1.8--1.9 script)
GRANT SET ON PARAMETER fleetmigrate.wait_for_standbys TO PUBLIC;

COMMENT ON COLUMN fleetmigrate.run_log.standbys IS
'With fleetmigrate.wait_for_standbys: each standby the run waited for after its last commit, whether it replayed the run (and in how many ms) or how many bytes it was behind when the wait timed out, and its replay lag; NULL when the run did not wait';

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
       r.pid,
       r.destroyed,
       r.run_count,
       r.last_run_at,
       r.standbys
  FROM fleetmigrate.run_log r
 ORDER BY r.id;

COMMENT ON VIEW fleetmigrate.runs IS
'One record per CALL fleetmigrate.migrate(), manual or scheduled, or per stretch of runs that applied nothing and found the same (run_count, last_run_at): when, by whom, how it was started, how many migrations it applied, outcome (running, succeeded, nothing_pending, blocked, failed, skipped, stopped, interrupted), the failed or blocked migration and why, and (with fleetmigrate.wait_for_standbys) how far each standby got; records older than fleetmigrate.run_log_retention are deleted';
