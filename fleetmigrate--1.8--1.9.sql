/* fleetmigrate--1.8--1.9.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.9'" to load this file. \quit

/*
 * Trust on real workflows (issue 19): consent scoped to data, adopting an
 * existing database, history that tells the truth.  As in the earlier
 * scripts every reference is schema-qualified, operators included.  Each
 * area has a section of its own below.
 */

-- ---- history: the new kinds of event ---------------------------------------
-- unbaselined: a baseline undone (unbaseline()); imported: an entry adopted
-- from another tool's history (import_history()); unregistered: a migration
-- that never ran removed from the catalog (unregister()).
ALTER TABLE fleetmigrate.events DROP CONSTRAINT events_event_check;
ALTER TABLE fleetmigrate.events ADD CONSTRAINT events_event_check
    CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'failed', 'rolled_back',
           'baseline', 'repaired', 'unbaselined', 'imported', 'unregistered']::pg_catalog.text[]));

-- ---- adopting an existing database -------------------------------------------
-- baseline() in both forms refuses a migration whose objects are missing or
-- whose verify script fails; unbaseline() undoes one baseline;
-- import_history() adopts another tool's history, read as the caller.
COMMENT ON FUNCTION fleetmigrate.baseline(text, text) IS
'Mark every registered migration up to a version as applied without running it (state baseline, recorded in the history), for a database whose schema predates fleetmigrate; refused if any of them is already applied, if an object its up script creates does not exist, or if its verify script fails';

CREATE FUNCTION fleetmigrate.baseline(migrations text[], reason text DEFAULT NULL)
RETURNS TABLE(version text, name text)
AS 'MODULE_PATHNAME', 'fleetmigrate_baseline_list'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.baseline(text[], text) IS
'Mark an explicit list of registered migrations (''version'' or ''version name'' entries) as applied without running them, all or none; each must be pending, the objects its up script creates must exist and its verify script must pass';

CREATE FUNCTION fleetmigrate.unbaseline(version text, name text, reason text)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_unbaseline'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.unbaseline(text, text, text) IS
'Undo the baseline (or import) of one migration: pending again, with an unbaselined event recording who and why; refused if a migration in effect requires it';

CREATE FUNCTION fleetmigrate.import_history(tool text, query text DEFAULT NULL,
                                            strict boolean DEFAULT false,
                                            reason text DEFAULT NULL)
RETURNS TABLE(version text, name text, outcome text, detail text)
AS 'MODULE_PATHNAME', 'fleetmigrate_import_history'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.import_history(text, text, boolean, text) IS
'Adopt the history of supabase, flyway, dbmate, golang-migrate, node-pg-migrate, sqitch, prisma or a query of your own: each entry that ran is checked as baseline() checks and marked imported; one row per entry (imported, already_applied, not_registered, unverified, skipped); strict => true makes it all or nothing';

REVOKE ALL ON FUNCTION fleetmigrate.baseline(text[], text),
                       fleetmigrate.unbaseline(text, text, text),
                       fleetmigrate.import_history(text, text, boolean, text) FROM PUBLIC;
-- ---- history that tells the truth ------------------------------------------
-- The up text that ran, once per 'applied' and 'failed' event (the catalog's
-- up column holds what is registered now, which register() may replace);
-- the errors a migration tolerated, as a JSON array of {statement, line,
-- sqlstate, message}.  Older events keep NULL: their text was not kept.
ALTER TABLE fleetmigrate.events
    ADD COLUMN script text,
    ADD COLUMN tolerated jsonb;

-- The most severe lint finding of the up script when it was registered
-- ('error', 'warning', 'info' or 'ok'), stored so that the summary need not
-- lint on every read.  Existing migrations still to run are linted now.
ALTER TABLE fleetmigrate.migrations ADD COLUMN lint text
    CHECK (lint OPERATOR(pg_catalog.=) ANY (ARRAY['error', 'warning', 'info', 'ok']::pg_catalog.text[]));
UPDATE fleetmigrate.migrations m
   SET lint = (SELECT CASE pg_catalog.max(CASE l.severity WHEN 'error' THEN 3
                                                         WHEN 'warning' THEN 2
                                                         ELSE 1 END)
                      WHEN 3 THEN 'error' WHEN 2 THEN 'warning' WHEN 1 THEN 'info'
                      ELSE 'ok' END
                 FROM fleetmigrate.lint(m.up) l)
 WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back']::pg_catalog.text[]);

CREATE FUNCTION fleetmigrate.unregister(version text, name text, reason text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_unregister'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.unregister(text, text, text) IS
'Remove a migration that never ran (pending, failed inside a transaction, or rolled back) from the catalog, with an unregistered event in the history; refused for one that is applied, baselined, partly run or required by another';

-- Status at a glance: one row.
CREATE VIEW fleetmigrate.summary AS
WITH m AS (
    SELECT s.version, s.name, s.sort_key, s.state, s.repeatable, s.checksum,
           s.applied_checksum, s.applied_at, s.lint
      FROM fleetmigrate.migrations s),
last AS (
    SELECT m.version, m.name, m.applied_at
      FROM m
     WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'baseline'])
     ORDER BY m.applied_at DESC NULLS LAST, m.sort_key DESC, m.version COLLATE "C" DESC,
              m.name COLLATE "C" DESC
     LIMIT 1)
SELECT (SELECT pg_catalog.count(*) FROM m
         WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'baseline'])) AS applied,
       (SELECT pg_catalog.count(*) FROM m
         WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'rolled_back'])) AS pending,
       (SELECT pg_catalog.count(*) FROM m
         WHERE m.state OPERATOR(pg_catalog.=) 'failed') AS failed,
       (SELECT pg_catalog.count(*) FROM m
         WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'baseline'])
           AND NOT m.repeatable
           AND m.applied_checksum IS DISTINCT FROM m.checksum) AS drift,
       (SELECT last.version FROM last) AS last_version,
       (SELECT last.name FROM last) AS last_name,
       (SELECT last.applied_at FROM last) AS last_applied_at,
       (SELECT CASE pg_catalog.max(CASE m.lint WHEN 'error' THEN 3 WHEN 'warning' THEN 2
                                               WHEN 'info' THEN 1 ELSE 0 END)
                    WHEN 3 THEN 'error' WHEN 2 THEN 'warning' WHEN 1 THEN 'info'
                    WHEN 0 THEN 'ok' END
          FROM m
         WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back'])) AS worst_lint;

COMMENT ON VIEW fleetmigrate.summary IS
'Status at a glance, one row: how many migrations are applied (or baselined), pending, failed, drifted (applied text changed since), the last one applied and when, and the worst lint finding among those still to run (stored at registration)';

REVOKE ALL ON FUNCTION fleetmigrate.unregister(text, text, text) FROM PUBLIC;
REVOKE ALL ON TABLE fleetmigrate.summary FROM PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.baseline(text[], text),'
        ' fleetmigrate.unbaseline(text, text, text),'
        ' fleetmigrate.import_history(text, text, boolean, text),'
        ' fleetmigrate.unregister(text, text, text) TO %s WITH GRANT OPTION',
        owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.summary TO %s WITH GRANT OPTION', owner);
END
$grant$;

-- ---- consent scoped to data (issue 19, item 1) -----------------------------
-- Consent given at registration (allow_destructive) and the call's
-- allow_destructive => true cover only objects that are absent or empty when
-- the statement runs; data that exists is removed only when the call names
-- the migration in allow_data_loss (src/consent.c).  What every destructive
-- statement removed is recorded: events.destroyed for the migration,
-- run_log.destroyed for a run of migrate(), each a JSON array with one object
-- per statement (statement, line, rule, object, rows or values, removed).
ALTER TABLE fleetmigrate.events ADD COLUMN destroyed pg_catalog.jsonb;
ALTER TABLE fleetmigrate.run_log ADD COLUMN destroyed pg_catalog.jsonb;

COMMENT ON COLUMN fleetmigrate.events.destroyed IS
'For an applied migration with destructive statements: what each removed, as a JSON array (statement, line, rule, object, rows or values counted just before it ran, or a DELETE''s processed rows)';
COMMENT ON COLUMN fleetmigrate.run_log.destroyed IS
'What the destructive statements of the migrations this run applied removed, as a JSON array (version, name, statement, line, rule, object, rows or values)';

-- The history view, once for all of 1.9: script and tolerated (history that
-- tells the truth), destroyed (this section).
CREATE OR REPLACE VIEW fleetmigrate.history AS
SELECT e.id,
       e.version,
       e.name,
       e.event,
       e.started_at,
       e.duration_ms,
       e.performed_by,
       e.session_user_name,
       e.transaction_id,
       e.checksum,
       e.statements,
       e.params,
       e.sqlstate,
       e.error,
       e.statement,
       e.line,
       e.reason,
       e.consent,
       e.script,
       e.tolerated,
       e.destroyed
  FROM fleetmigrate.events e
 ORDER BY e.id;

COMMENT ON VIEW fleetmigrate.history IS
'Every fleetmigrate event in order: who applied (or failed, rolled back, baselined, repaired, unregistered) which migration, when, how long, with which checksum; script is the up text that ran, tolerated the errors it skipped, destroyed what its destructive statements removed';

-- apply_pending() and migrate() gain allow_data_loss text[] (last, so that
-- every existing call, positional ones included, works as before).  The old
-- ones are renamed, their grants copied to the new ones, then dropped.
ALTER FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean)
    RENAME TO apply_pending_before_1_9;
ALTER PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text)
    RENAME TO migrate_before_1_9;

CREATE FUNCTION fleetmigrate.apply_pending(target text DEFAULT NULL,
                                           dry_run boolean DEFAULT false,
                                           params jsonb DEFAULT '{}',
                                           allow_destructive boolean DEFAULT false,
                                           wait boolean DEFAULT true,
                                           allow_data_loss text[] DEFAULT NULL)
RETURNS TABLE(version text, name text, status text,
              duration_ms double precision, statements integer, message text)
AS 'MODULE_PATHNAME', 'fleetmigrate_apply_pending'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[]) IS
'Apply pending migrations in order, up to target, inside the calling transaction: all or nothing. dry_run executes and rolls back; wait => false skips when another run holds the lock. allow_destructive consents to dropping what is absent or empty; allow_data_loss (''version'' or ''version name'' entries) to removing the data that exists in the migrations it names. message names what each destructive statement removed';

CREATE PROCEDURE fleetmigrate.migrate(target text DEFAULT NULL,
                                      params jsonb DEFAULT '{}',
                                      allow_destructive boolean DEFAULT false,
                                      wait boolean DEFAULT true,
                                      started_by text DEFAULT 'manual',
                                      INOUT run_id bigint DEFAULT NULL,
                                      INOUT applied integer DEFAULT NULL,
                                      INOUT outcome text DEFAULT NULL,
                                      allow_data_loss text[] DEFAULT NULL)
AS 'MODULE_PATHNAME', 'fleetmigrate_migrate'
LANGUAGE C;

COMMENT ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[]) IS
'Apply pending migrations up to target, one transaction per migration (CALL it on its own, not in a transaction block); a failure is rolled back, recorded in the history and the run log, then raised. allow_destructive consents to dropping what is absent or empty; allow_data_loss (''version'' or ''version name'' entries) to removing the data that exists in the migrations it names. Returns the run id, the number applied and the outcome';

REVOKE ALL ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[]) FROM PUBLIC;
REVOKE ALL ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[]) FROM PUBLIC;

DO $copy_grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee, a.is_grantable
          FROM pg_catalog.pg_proc p,
               LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=)
               'fleetmigrate.apply_pending_before_1_9(text, boolean, jsonb, boolean, boolean)'::pg_catalog.regprocedure
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
    LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[]) TO %s%s',
            g.grantee, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    FOR g IN
        SELECT a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee, a.is_grantable
          FROM pg_catalog.pg_proc p,
               LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=)
               'fleetmigrate.migrate_before_1_9(text, jsonb, boolean, boolean, text, bigint, integer, text)'::pg_catalog.regprocedure
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
    LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[]) TO %s%s',
            g.grantee, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$copy_grants$;

DROP FUNCTION fleetmigrate.apply_pending_before_1_9(text, boolean, jsonb, boolean, boolean);
DROP PROCEDURE fleetmigrate.migrate_before_1_9(text, jsonb, boolean, boolean, text, bigint, integer, text);

-- ---- settings a database owner can set (issue 19, item 4) -----------------
-- ALTER DATABASE ... SET fleetmigrate.environment = 'development' (or
-- ALTER ROLE ... SET) in a session that has not loaded the library yet stores
-- a placeholder for a parameter the server does not know, which PostgreSQL
-- allows only to superusers and to roles granted SET on that parameter.  The
-- library is loaded on first use, not preloaded, so a database owner would
-- have to call some fleetmigrate function first.  Every fleetmigrate setting
-- that is user-settable (context 'user': any role may SET it once the
-- library is loaded, and lint() loads it for anyone) gets SET granted to
-- PUBLIC, which changes nothing but that accident of order: who may run
-- ALTER DATABASE or ALTER ROLE is unchanged.  The grant is cluster-wide
-- (pg_parameter_acl is a shared catalog), the same in every database, and
-- stays after DROP EXTENSION.  The settings are read from the library, so a
-- setting added to src/fleetmigrate.c is granted by the script of the version
-- that adds it (run this block again there).
DO $settings$
DECLARE
    setting text;
BEGIN
    PERFORM fleetmigrate.version_key('0');     -- loads the library: its settings exist
    FOR setting IN
        SELECT s.name FROM pg_catalog.pg_settings s
         WHERE s.name OPERATOR(pg_catalog.~) '^fleetmigrate\.[a-z_]+$'
           AND s.context OPERATOR(pg_catalog.=) 'user'
         ORDER BY s.name
    LOOP
        EXECUTE pg_catalog.format('GRANT SET ON PARAMETER %s TO PUBLIC', setting);
    END LOOP;
END
$settings$;

-- ---- rollback confirmation (issue 19, item 4) ------------------------------
-- A forced rollback in production is confirmed with the database name and its
-- server's system identifier (src/rollback.c), no longer the name alone.
COMMENT ON FUNCTION fleetmigrate.rollback(text, integer, boolean, text) IS
'Run the down scripts of the newest applied migrations (steps, or every one after target), newest first, all or none; refused when fleetmigrate.environment is production unless force => true and confirm => this database''s name and its server''s system identifier, as ''name@identifier'' (the refusal''s hint shows it)';

-- ---- unattended runs that keep moving (issue 19, item 5) -------------------
-- A run of migrate() started by pg_cron applies what it can, up to the first
-- migration the plan's checks refuse, and ends 'blocked' naming it (the
-- migration in failed_version and failed_name, the reason in sqlstate and
-- error).  The run log stays bounded: a run that applied nothing and finds
-- what the latest record says (nothing pending, or the same migration
-- blocked for the same reason) is counted in that record (run_count,
-- last_run_at) instead of adding one, and each run deletes the records older
-- than fleetmigrate.run_log_retention (src/migrate.c).  The history
-- (fleetmigrate.events) is never deleted.
ALTER TABLE fleetmigrate.run_log
    ADD COLUMN run_count integer NOT NULL DEFAULT 1
        CHECK (run_count OPERATOR(pg_catalog.>) 0),
    ADD COLUMN last_run_at timestamptz,
    DROP CONSTRAINT run_log_outcome_check,
    ADD CONSTRAINT run_log_outcome_check
        CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'succeeded',
               'nothing_pending', 'failed', 'skipped', 'stopped',
               'blocked']::pg_catalog.text[]));

COMMENT ON COLUMN fleetmigrate.run_log.run_count IS
'How many runs this record stands for: consecutive runs that applied nothing and found the same (nothing pending, or the same migration blocked for the same reason) are counted in one record';
COMMENT ON COLUMN fleetmigrate.run_log.last_run_at IS
'When the last of the runs this record stands for finished (NULL: it stands for one run)';

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
       r.last_run_at
  FROM fleetmigrate.run_log r
 ORDER BY r.id;

COMMENT ON VIEW fleetmigrate.runs IS
'One record per CALL fleetmigrate.migrate(), manual or scheduled, or per stretch of runs that applied nothing and found the same (run_count, last_run_at): when, by whom, how it was started, how many migrations it applied, outcome (running, succeeded, nothing_pending, blocked, failed, skipped, stopped, interrupted), the failed or blocked migration and why; records older than fleetmigrate.run_log_retention are deleted';

COMMENT ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[]) IS
'Apply pending migrations up to target, one transaction per migration (CALL it on its own, not in a transaction block); a failure is rolled back, recorded in the history and the run log, then raised. Started by pg_cron, it applies the migrations before the first one the plan''s checks refuse (a parameter, consent, a requirement) and ends blocked, naming it, instead of refusing the whole plan. allow_destructive consents to dropping what is absent or empty; allow_data_loss (''version'' or ''version name'' entries) to removing the data that exists in the migrations it names. Returns the run id (of the record that counts it), the number applied and the outcome';

-- ---- the authentication tiers leave fleetmigrate -----------------------------
-- A database that does not use the tiers carries none of their objects: they
-- are the extension fleetmigrate_tiers now (fleetmigrate_tiers--1.9.sql), in
-- this schema under the same names.  Here they are dropped where they are
-- still fleetmigrate's and unused: nothing configured, no history, the tiers
-- as shipped, grants as installed, nothing else built on them, no registered
-- migration naming them.  Tiers in use are never dropped: the update stops
-- and says to run CREATE EXTENSION fleetmigrate_tiers first, which takes
-- them over with their data (after which this finds nothing to drop).
DO $tiers$
DECLARE
    ext oid := (SELECT e.oid FROM pg_catalog.pg_extension e
                 WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
    tiers_rel oid := pg_catalog.to_regclass('fleetmigrate.tiers');
    ours oid[];
    reasons text[] := '{}';
    n bigint;
    what text;
    -- a tier object named in SQL text: qualified (quoted or not), or a tier
    -- function called by its bare name
    named text := '"?\mfleetmigrate\M"?\s*\.\s*"?(tiers|tier_config|user_tier_history|builtin_tiers|configure_user_table|upgrade_user_tier|assign_tier|user_has_capability|user_can_view_requests|user_can_create_requests|tier_users|authenticated_users|magic_link_users|user_tier_summary)\M'
                   '|\m(builtin_tiers|configure_user_table|upgrade_user_tier|assign_tier|user_has_capability|user_can_view_requests|user_can_create_requests|tier_users)\s*\(';
BEGIN
    IF tiers_rel IS NULL OR NOT EXISTS (
            SELECT FROM pg_catalog.pg_depend d
             WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.objid OPERATOR(pg_catalog.=) tiers_rel
               AND d.refobjid OPERATOR(pg_catalog.=) ext
               AND d.deptype OPERATOR(pg_catalog.=) 'e') THEN
        RETURN;
    END IF;

    -- nobody changes them while they are looked at, and then dropped
    LOCK TABLE fleetmigrate.tiers, fleetmigrate.tier_config,
               fleetmigrate.user_tier_history IN ACCESS EXCLUSIVE MODE;

    -- the tier objects: members of fleetmigrate no other fleetmigrate object
    -- needs, with the row types of the tables and views and their arrays
    ours := ARRAY(
        SELECT o FROM pg_catalog.unnest(ARRAY[
            'fleetmigrate.tiers'::pg_catalog.regclass::pg_catalog.oid,
            'fleetmigrate.tier_config'::pg_catalog.regclass,
            'fleetmigrate.user_tier_history'::pg_catalog.regclass,
            'fleetmigrate.user_tier_history_id_seq'::pg_catalog.regclass,
            'fleetmigrate.authenticated_users'::pg_catalog.regclass,
            'fleetmigrate.magic_link_users'::pg_catalog.regclass,
            'fleetmigrate.user_tier_summary'::pg_catalog.regclass,
            'fleetmigrate.tiers'::pg_catalog.regtype,
            'fleetmigrate.tier_config'::pg_catalog.regtype,
            'fleetmigrate.user_tier_history'::pg_catalog.regtype,
            'fleetmigrate.authenticated_users'::pg_catalog.regtype,
            'fleetmigrate.magic_link_users'::pg_catalog.regtype,
            'fleetmigrate.user_tier_summary'::pg_catalog.regtype,
            'fleetmigrate.builtin_tiers()'::pg_catalog.regprocedure,
            'fleetmigrate.tiers_replace_builtin()'::pg_catalog.regprocedure,
            'fleetmigrate.tier_config_changed()'::pg_catalog.regprocedure,
            'fleetmigrate.refuse_history_change()'::pg_catalog.regprocedure,
            'fleetmigrate.configure_user_table(regclass, name, name, name, name)'::pg_catalog.regprocedure,
            'fleetmigrate.upgrade_user_tier(uuid, text, text, boolean)'::pg_catalog.regprocedure,
            'fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)'::pg_catalog.regprocedure,
            'fleetmigrate.tiers_support(internal)'::pg_catalog.regprocedure,
            'fleetmigrate.user_has_capability(uuid, text)'::pg_catalog.regprocedure,
            'fleetmigrate.user_can_view_requests(uuid)'::pg_catalog.regprocedure,
            'fleetmigrate.user_can_create_requests(uuid)'::pg_catalog.regprocedure,
            'fleetmigrate.tier_users()'::pg_catalog.regprocedure]) o);
    ours := ours OPERATOR(pg_catalog.||) ARRAY(
        SELECT t.typarray FROM pg_catalog.pg_type t
         WHERE t.oid OPERATOR(pg_catalog.=) ANY (ours) AND t.typarray OPERATOR(pg_catalog.<>) 0);

    -- what would be lost
    IF EXISTS (SELECT FROM fleetmigrate.tier_config) THEN
        reasons := reasons OPERATOR(pg_catalog.||) (
            SELECT pg_catalog.format('fleetmigrate.tier_config names the users table %I.%I.',
                                     c.table_schema, c.table_name)
              FROM fleetmigrate.tier_config c);
    END IF;
    n := (SELECT pg_catalog.count(*) FROM fleetmigrate.user_tier_history);
    IF n OPERATOR(pg_catalog.>) 0 THEN
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('fleetmigrate.user_tier_history holds %s %s.', n,
                              CASE n WHEN 1 THEN 'row' ELSE 'rows' END);
    END IF;
    -- columns of yours on the tier tables (the shipped ones: 4, 9 and 9)
    FOR what IN
        SELECT 'fleetmigrate.' OPERATOR(pg_catalog.||) c.relname::pg_catalog.text
          FROM pg_catalog.pg_class c
         WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY['fleetmigrate.tiers'::pg_catalog.regclass,
                                                       'fleetmigrate.tier_config'::pg_catalog.regclass,
                                                       'fleetmigrate.user_tier_history'::pg_catalog.regclass]::pg_catalog.oid[])
           AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
               OPERATOR(pg_catalog.<>)
               CASE c.relname WHEN 'tiers' THEN 4 ELSE 9 END
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('Table %s has columns that fleetmigrate did not create.', what);
    END LOOP;
    -- (builtin_tiers() returns the table's row type: compared only when
    -- the table has the shipped columns; the query is planned only then)
    IF (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) 'fleetmigrate.tiers'::pg_catalog.regclass
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) OPERATOR(pg_catalog.=) 4 THEN
        IF EXISTS (SELECT * FROM fleetmigrate.tiers
                   EXCEPT SELECT * FROM fleetmigrate.builtin_tiers())
           OR EXISTS (SELECT * FROM fleetmigrate.builtin_tiers()
                      EXCEPT SELECT * FROM fleetmigrate.tiers) THEN
            reasons := reasons OPERATOR(pg_catalog.||)
                'fleetmigrate.tiers is not as shipped.'::pg_catalog.text;
        END IF;
    END IF;
    -- grants given or taken away since the install
    FOR what IN
        SELECT pg_catalog.pg_describe_object(o.classid, o.oid, 0)
          FROM (SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, c.oid, c.relacl
                  FROM pg_catalog.pg_class c
                 WHERE c.oid OPERATOR(pg_catalog.=) ANY (ours)
                UNION ALL
                SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, f.oid, f.proacl
                  FROM pg_catalog.pg_proc f
                 WHERE f.oid OPERATOR(pg_catalog.=) ANY (ours)) o(classid, oid, acl)
          LEFT JOIN pg_catalog.pg_init_privs p
                 ON p.classoid OPERATOR(pg_catalog.=) o.classid
                AND p.objoid OPERATOR(pg_catalog.=) o.oid
                AND p.objsubid OPERATOR(pg_catalog.=) 0
         WHERE o.acl IS DISTINCT FROM p.initprivs
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('The grants on %s were changed.', what);
    END LOOP;
    FOR what IN
        SELECT DISTINCT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, a.attrelid, a.attnum)
          FROM pg_catalog.pg_attribute a
          LEFT JOIN pg_catalog.pg_init_privs p
                 ON p.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                AND p.objoid OPERATOR(pg_catalog.=) a.attrelid
                AND p.objsubid OPERATOR(pg_catalog.=) a.attnum
         WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ours) AND a.attnum OPERATOR(pg_catalog.>) 0
           AND a.attacl IS DISTINCT FROM p.initprivs
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('The grants on %s were changed.', what);
    END LOOP;
    FOR what IN
        SELECT 'fleetmigrate.' OPERATOR(pg_catalog.||) c.relname::pg_catalog.text FROM pg_catalog.pg_class c
         WHERE c.oid OPERATOR(pg_catalog.=) ANY (ours)
           AND (c.relrowsecurity OR c.relforcerowsecurity)
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('Row-level security was enabled on table %s.', what);
    END LOOP;
    FOR what IN
        SELECT f.oid::pg_catalog.regprocedure::pg_catalog.text FROM pg_catalog.pg_proc f
         WHERE f.oid OPERATOR(pg_catalog.=) ANY (ours)
           AND (f.proconfig IS NOT NULL OR f.prosecdef)
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('The settings of function %s were changed.', what);
    END LOOP;
    FOR what IN
        SELECT DISTINCT pg_catalog.pg_describe_object(l.classoid, l.objoid, l.objsubid)
          FROM pg_catalog.pg_seclabel l
         WHERE l.objoid OPERATOR(pg_catalog.=) ANY (ours)
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('The %s has a security label.', what);
    END LOOP;
    -- objects built on them: policies, views, functions, triggers,
    -- defaults, constraints or indexes of other tables
    FOR what IN
        SELECT DISTINCT coalesce(
                   -- a view, rather than its rule
                   (SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, 0)
                      FROM pg_catalog.pg_rewrite r
                     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                       AND r.oid OPERATOR(pg_catalog.=) d.objid),
                   pg_catalog.pg_describe_object(d.classid, d.objid, 0))
          FROM pg_catalog.pg_depend d
         WHERE d.refobjid OPERATOR(pg_catalog.=) ANY (ours)
           AND d.deptype OPERATOR(pg_catalog.<>) 'e'
           AND d.objid OPERATOR(pg_catalog.<>) ALL (ours)
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_rewrite r
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                    AND r.oid OPERATOR(pg_catalog.=) d.objid
                    AND r.ev_class OPERATOR(pg_catalog.=) ANY (ours))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_trigger t
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass
                    AND t.oid OPERATOR(pg_catalog.=) d.objid
                    AND t.tgrelid OPERATOR(pg_catalog.=) ANY (ours)
                    AND t.tgname OPERATOR(pg_catalog.=) ANY (ARRAY['tiers_replace_builtin', 'tier_config_changed',
                        'user_tier_history_append_only', 'user_tier_history_no_truncate']::pg_catalog.name[]))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_attrdef a
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                    AND a.oid OPERATOR(pg_catalog.=) d.objid
                    AND a.adrelid OPERATOR(pg_catalog.=) ANY (ours))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_constraint k
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass
                    AND k.oid OPERATOR(pg_catalog.=) d.objid
                    AND k.conrelid OPERATOR(pg_catalog.=) ANY (ours)
                    -- (18 keeps NOT NULL as constraints too: those of the columns)
                    AND (k.contype OPERATOR(pg_catalog.=) 'n'
                         OR k.conname OPERATOR(pg_catalog.=) ANY (ARRAY['tiers_pkey', 'tiers_tier_check',
                        'tiers_capabilities_check', 'tier_config_pkey', 'tier_config_singleton_check',
                        'user_tier_history_pkey', 'user_tier_history_check']::pg_catalog.name[])))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_index i
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND i.indexrelid OPERATOR(pg_catalog.=) d.objid
                    AND i.indrelid OPERATOR(pg_catalog.=) ANY (ours)
                    AND (SELECT c.relname FROM pg_catalog.pg_class c
                          WHERE c.oid OPERATOR(pg_catalog.=) i.indexrelid)
                        OPERATOR(pg_catalog.=) ANY (ARRAY['tiers_pkey', 'tier_config_pkey',
                        'user_tier_history_pkey', 'user_tier_history_user_idx']::pg_catalog.name[]))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_class t
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND t.reltoastrelid OPERATOR(pg_catalog.=) d.objid
                    AND t.oid OPERATOR(pg_catalog.=) ANY (ours))
           AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_type y
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
                    AND y.oid OPERATOR(pg_catalog.=) d.objid
                    AND y.typelem OPERATOR(pg_catalog.=) ANY (ours))
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('The %s uses them.', what);
    END LOOP;
    -- registered migrations that call them
    FOR what IN
        SELECT pg_catalog.format('Migration "%s %s" names them.', m.version, m.name)
          FROM fleetmigrate.migrations m
         WHERE pg_catalog.concat_ws(E'\n', m.up, m.down, m.verify)
               OPERATOR(pg_catalog.~*) named
         ORDER BY fleetmigrate.version_key(m.version), m.name
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||) what;
    END LOOP;
    -- functions of yours whose bodies name them (a body records no
    -- dependency, but for BEGIN ATOMIC)
    FOR what IN
        SELECT f.oid::pg_catalog.regprocedure::pg_catalog.text
          FROM pg_catalog.pg_proc f
          JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) f.prolang
         WHERE l.lanname OPERATOR(pg_catalog.<>) ALL (ARRAY['c', 'internal']::pg_catalog.name[])
           AND f.prosrc OPERATOR(pg_catalog.~*) named
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                              AND d.objid OPERATOR(pg_catalog.=) f.oid
                              AND d.deptype OPERATOR(pg_catalog.=) 'e')
         ORDER BY 1
    LOOP
        reasons := reasons OPERATOR(pg_catalog.||)
            pg_catalog.format('Function %s calls them.', what);
    END LOOP;

    IF pg_catalog.cardinality(reasons) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'this database uses the authentication tiers'
            USING ERRCODE = 'object_in_use',
                  DETAIL = pg_catalog.array_to_string(reasons, ' '),
                  HINT = 'Run CREATE EXTENSION fleetmigrate_tiers first (on a version older than 1.8, after ALTER EXTENSION fleetmigrate UPDATE TO ''1.8''): it takes over the tier tables, functions and views with their data and grants. Then run this update again.';
    END IF;

    DROP VIEW fleetmigrate.authenticated_users, fleetmigrate.magic_link_users,
              fleetmigrate.user_tier_summary;
    DROP FUNCTION fleetmigrate.builtin_tiers(),
                  fleetmigrate.configure_user_table(regclass, name, name, name, name),
                  fleetmigrate.upgrade_user_tier(uuid, text, text, boolean),
                  fleetmigrate.user_has_capability(uuid, text),
                  fleetmigrate.user_can_view_requests(uuid),
                  fleetmigrate.user_can_create_requests(uuid),
                  fleetmigrate.tier_users();
    DROP PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer);
    -- leaving the extension first takes them off its pg_dump list
    ALTER EXTENSION fleetmigrate DROP TABLE fleetmigrate.tiers;
    ALTER EXTENSION fleetmigrate DROP TABLE fleetmigrate.tier_config;
    ALTER EXTENSION fleetmigrate DROP TABLE fleetmigrate.user_tier_history;
    ALTER EXTENSION fleetmigrate DROP SEQUENCE fleetmigrate.user_tier_history_id_seq;
    DROP TABLE fleetmigrate.tiers, fleetmigrate.tier_config,
               fleetmigrate.user_tier_history;
    DROP FUNCTION fleetmigrate.tiers_replace_builtin(),
                  fleetmigrate.tier_config_changed(),
                  fleetmigrate.refuse_history_change(),
                  fleetmigrate.tiers_support(internal);
END
$tiers$;
