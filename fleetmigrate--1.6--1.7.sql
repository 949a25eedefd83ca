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
-- locks on a class id that is no catalog (src/runlock.h).  A run of migrate()
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

/*
 * Authentication tiers: whose privileges (issue 17, found 1).  The C
 * functions now read and write the application's users table as the
 * calling role, with no role switch, so that its triggers, policies,
 * constraints and index expressions run with the caller's privileges, never
 * the extension owner's; only fleetmigrate.tiers, tier_config and
 * user_tier_history are touched as the owner, in statements of their own.
 * No object changes: no grant changes either (the roles that call the tier
 * functions need privileges on the users table, which is the application's
 * to grant; see the README's "Upgrading from 1.6").  The comments say whose
 * privileges each function uses.
 */
COMMENT ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) IS
'Move a user to another tier and record it in fleetmigrate.user_tier_history; false when the user is already on it. A move to a lower rank needs allow_downgrade. Reads and updates the users table as the caller (SELECT of the id, tier and upgraded-at columns, UPDATE of the tier and timestamp columns)';

COMMENT ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) IS
'Move every user matching condition (an SQL expression over the users table, without parameters) to new_tier, batch_size rows at a time, committing after each batch when called on its own; returns how many changed and how many were skipped as downgrades. Reads and updates the users table as the caller';

COMMENT ON FUNCTION fleetmigrate.user_has_capability(uuid, text) IS
'true when the user''s tier grants the capability; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.user_can_view_requests(uuid) IS
'true when the user''s tier grants can_view_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.user_can_create_requests(uuid) IS
'true when the user''s tier grants can_create_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.tier_users() IS
'Every user in the configured users table that the caller may see, with their tier and tier timestamps (NULL where not configured); reads the users table as the caller';

COMMENT ON FUNCTION fleetmigrate.configure_user_table(regclass, name, name, name, name) IS
'Name the table that holds each user''s tier: a permanent application table with a uuid id column, a text tier column, and optional timestamptz columns (NULL: none) for when the user was first upgraded and when the tier last changed, four distinct columns';

/*
 * Registration rules and the bundle format (src/definition.c,
 * src/bundle.c): register_dir(NULL) is an error rather than an empty
 * result.
 */
ALTER FUNCTION fleetmigrate.register_dir(text) CALLED ON NULL INPUT;
