/* fleetmigrate--1.9--1.10.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.10'" to load this file. \quit

/*
 * Live operations on big tables (issue 20).  As in the earlier scripts every
 * reference is schema-qualified, operators included.  Each area has a
 * section of its own below.
 */

-- ---- a cheap status view ---------------------------------------------------
-- The view status read lint() of every migration still to run on every
-- read: with one 50 MB pending migration a read took gigabytes.  It now
-- reads the finding stored in migrations.lint, as summary does, which is
-- computed when a migration is registered, after a run that applied or
-- rolled back migrations, by unbaseline(), and here, by the lint rules of
-- the library being updated to.  linted_at says when (NULL: not since 1.10).
ALTER TABLE fleetmigrate.migrations ADD COLUMN linted_at timestamptz;

-- Linted with the database's search_path (the one the migrations run with
-- by default), not the extension script's, which would hide the tables in
-- public; set back afterwards.
DO $lint$
DECLARE
    script_path text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path',
                                  (SELECT s.reset_val FROM pg_catalog.pg_settings s
                                    WHERE s.name OPERATOR(pg_catalog.=) 'search_path'),
                                  true);
    UPDATE fleetmigrate.migrations m
       SET lint = (SELECT CASE pg_catalog.max(CASE l.severity WHEN 'error' THEN 3
                                                             WHEN 'warning' THEN 2
                                                             ELSE 1 END)
                          WHEN 3 THEN 'error' WHEN 2 THEN 'warning' WHEN 1 THEN 'info'
                          ELSE 'ok' END
                     FROM fleetmigrate.lint(m.up) l),
           linted_at = pg_catalog.clock_timestamp()
     WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back']::pg_catalog.text[]);
    PERFORM pg_catalog.set_config('search_path', script_path, true);
END
$lint$;

-- The view status, reading lint and linted_at from the catalog, is defined
-- once for 1.10, with the batched backfills' columns, in that section below.

-- ---- dry runs that are safe where they are used (issue 20, item 3) --------
-- plan(): the plan-only dry run (src/preview.c).  It executes nothing of the
-- migrations, takes no runner lock and locks no row, so it works in a
-- read-only transaction.  It reads the migrations' scripts from the catalog,
-- so, like export_bundle(), it is the installing role's to grant.
CREATE FUNCTION fleetmigrate.plan(target text DEFAULT NULL,
                                  params jsonb DEFAULT '{}')
RETURNS TABLE(version text, name text, "position" integer, status text,
              statements integer, lint text, locks text, "rows" bigint,
              checks text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'fleetmigrate_plan';

COMMENT ON FUNCTION fleetmigrate.plan(text, jsonb) IS
'The plan-only dry run: one row per pending migration up to target, in apply order, as a run would check it (status would_apply, refused or waits), with its lint findings, the relations it locks with the level the parser tells and their estimated rows (pg_class.reltuples), and the checks a run would make. Executes nothing, takes no runner lock, writes nothing: safe on production and in a read-only transaction.';

REVOKE ALL ON FUNCTION fleetmigrate.plan(text, jsonb) FROM PUBLIC;


-- ---- batched backfills -------------------------------------------------------
-- A migration whose up script starts with a "-- batch:" line runs its one
-- UPDATE or DELETE in batches by key ranges under CALL migrate(), committing
-- after each batch (src/batch.c).  One row per batched migration that has
-- started: where it stopped (the last key done) and how far it got, updated
-- in the transaction of each batch, so a run that was interrupted resumes
-- after the last committed batch.  A progress view joins it by (version,
-- name) or by run_id (the run of fleetmigrate.runs that did the last batch).
CREATE TABLE fleetmigrate.batch_progress (
    version           text NOT NULL,
    name              text NOT NULL,
    run_id            bigint,
    checksum          text NOT NULL,
    relation          text NOT NULL,
    key_column        text NOT NULL,
    last_key          text,
    batch_size        integer NOT NULL,
    batches           integer NOT NULL DEFAULT 0,
    batch_rows_done   bigint NOT NULL DEFAULT 0,
    batch_rows_total  bigint NOT NULL,
    rows_changed      bigint NOT NULL DEFAULT 0,
    started_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at       timestamptz,
    PRIMARY KEY (version, name),
    FOREIGN KEY (version, name) REFERENCES fleetmigrate.migrations (version, name)
        ON UPDATE CASCADE ON DELETE CASCADE
);

COMMENT ON TABLE fleetmigrate.batch_progress IS
'Batched backfills: for each batched migration that has started, the table and key it walks, the last key done, batches and rows done out of the estimated total, rows changed; updated with each committed batch';

SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.batch_progress', '');

-- A migration registered before 1.10 whose up script has a line that reads
-- like a "-- batch:" line: from now on migrate() runs it in batches, or
-- refuses it if the line is malformed.  Said at the update, for each one
-- still to run.
DO $batchlines$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT m.version, m.name FROM fleetmigrate.migrations m
         WHERE m.state OPERATOR(pg_catalog.<>) ALL (ARRAY['applied', 'baseline']::pg_catalog.text[])
           AND m.up OPERATOR(pg_catalog.~*) '(^|\n)[ \t]*--[ \t]*batch'
         ORDER BY m.sort_key, m.version COLLATE "C", m.name COLLATE "C"
    LOOP
        RAISE WARNING 'migration "% %" has a line that reads like a "-- batch:" line', r.version, r.name
            USING DETAIL = 'From 1.10 on, a migration whose up script begins with a "-- batch:" line runs in batches under CALL fleetmigrate.migrate(), and a malformed one is refused.',
                  HINT = 'If that is not meant, register the migration again with the comment reworded.';
    END LOOP;
END
$batchlines$;

-- status: how far a batched migration got (NULL for the others), after
-- the cheap status view's linted_at
CREATE OR REPLACE VIEW fleetmigrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.applied_at,
       m.applied_by,
       m.duration_ms,
       CASE WHEN m.applied_checksum IS NULL
                 OR m.state OPERATOR(pg_catalog.<>) ALL (ARRAY['applied', 'baseline'])
            THEN NULL
            ELSE m.applied_checksum OPERATOR(pg_catalog.=) m.checksum END AS checksum_ok,
       m.out_of_order,
       m.statements,
       m.transactional,
       m.checksum,
       m.registered_at,
       m.statements_done,
       m.repeatable,
       m.requires,
       m.conflicts,
       CASE WHEN m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back'])
            THEN m.lint END AS lint,
       m.allow_destructive,
       CASE WHEN m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back'])
            THEN m.linted_at END AS linted_at,
       b.batch_rows_done,
       b.batch_rows_total
  FROM fleetmigrate.migrations m
  LEFT JOIN fleetmigrate.batch_progress b
         ON b.version OPERATOR(pg_catalog.=) m.version
        AND b.name OPERATOR(pg_catalog.=) m.name
 ORDER BY m.repeatable, m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

COMMENT ON VIEW fleetmigrate.status IS
'One row per registered migration, in apply order: state, checksums, progress, for a migration still to run its worst lint finding as stored when it was registered or last linted again (linted_at), and for a batched migration the rows its batches covered out of the estimated total; reading it lints nothing';

-- Nothing for PUBLIC; the owner reads it (and may delegate that) and may
-- delete a row to have a batched migration start over.
REVOKE ALL ON TABLE fleetmigrate.batch_progress FROM PUBLIC;


-- ---- progress for long migrations (issue 20, item 4) -----------------------
-- A running migration reports where it is in pg_stat_activity.query
-- (src/progress.c): a first line "fleetmigrate: applying migration V NAME",
-- a second line with the run, migration N of M, statement N of M, their
-- start times (UTC), the background worker's process id and a batched
-- backfill's row counters, then the statement.  This view reads that text
-- back, as the reader: it shows the sessions whose query pg_stat_activity
-- shows the reader (their own role's, or all with pg_read_all_stats), and
-- nothing else; it reads no table.  The server's own progress figures come
-- from pg_stat_progress_* for the backend that executes the statement (the
-- background worker of a non-transactional migration, else the session).
-- Only columns that every supported version has are named; server_progress
-- holds the whole row of the progress view, as the server's version has it.
CREATE VIEW fleetmigrate.progress AS
WITH s AS (
    SELECT a.pid, a.query,
           pg_catalog.split_part(a.query, E'\n', 1) AS head,
           pg_catalog.regexp_match(pg_catalog.split_part(a.query, E'\n', 2),
               '^(?:([a-z_]+\(\))(?: run (\d+))?, )?migration (\d+)(?: of (\d+))? since ([0-9-]+ [0-9:.]+\+00)(?:, statement (\d+)(?: of (\d+))? \(line (\d+)\) since ([0-9-]+ [0-9:.]+\+00))?(?:, in background worker (\d+))?(?:, rows (\d+)(?: of (\d+))?)?$') AS f
      FROM pg_catalog.pg_stat_activity a
     WHERE a.state OPERATOR(pg_catalog.=) 'active'
       AND a.backend_type OPERATOR(pg_catalog.<>) 'fleetmigrate worker'
       AND pg_catalog.starts_with(a.query, 'fleetmigrate: applying migration ')),
p AS (
    SELECT s.pid,
           s.f[1] AS caller,
           s.f[2]::pg_catalog.int8 AS run_id,
           pg_catalog.split_part(pg_catalog.substr(s.head, 34), ' ', 1) AS version,
           pg_catalog.substr(s.head, 35 OPERATOR(pg_catalog.+)
               pg_catalog.length(pg_catalog.split_part(pg_catalog.substr(s.head, 34), ' ', 1))) AS name,
           s.f[3]::pg_catalog.int4 AS migration,
           s.f[4]::pg_catalog.int4 AS migrations,
           s.f[5]::pg_catalog.timestamptz AS migration_started,
           s.f[6]::pg_catalog.int4 AS statement,
           s.f[7]::pg_catalog.int4 AS statements,
           s.f[8]::pg_catalog.int4 AS line,
           s.f[9]::pg_catalog.timestamptz AS statement_started,
           NULLIF(pg_catalog.regexp_replace(s.query, '^[^\n]*\n[^\n]*\n?', ''), '') AS query,
           s.f[10]::pg_catalog.int4 AS worker_pid,
           s.f[11]::pg_catalog.int8 AS batch_rows_done,
           s.f[12]::pg_catalog.int8 AS batch_rows_total
      FROM s
     WHERE s.f IS NOT NULL)
SELECT p.pid, p.caller, p.run_id, p.version, p.name,
       p.migration, p.migrations, p.migration_started,
       p.statement, p.statements, p.line, p.statement_started, p.query,
       p.worker_pid, x.wait_event_type, x.wait_event,
       COALESCE(ci.command, cl.command,
                CASE WHEN v.pid IS NOT NULL THEN 'VACUUM' END,
                CASE WHEN an.pid IS NOT NULL THEN 'ANALYZE' END) AS server_command,
       COALESCE(ci.phase, cl.phase, v.phase, an.phase) AS server_phase,
       COALESCE(ci.blocks_done, cl.heap_blks_scanned, v.heap_blks_scanned,
                an.sample_blks_scanned) AS server_blocks_done,
       COALESCE(ci.blocks_total, cl.heap_blks_total, v.heap_blks_total,
                an.sample_blks_total) AS server_blocks_total,
       COALESCE(ci.tuples_done, cl.heap_tuples_scanned) AS server_tuples_done,
       ci.tuples_total AS server_tuples_total,
       ci.lockers_done AS server_lockers_done,
       ci.lockers_total AS server_lockers_total,
       ci.current_locker_pid AS server_waiting_for_pid,
       COALESCE(pg_catalog.to_jsonb(ci), pg_catalog.to_jsonb(cl), pg_catalog.to_jsonb(v),
                pg_catalog.to_jsonb(an)) AS server_progress,
       p.batch_rows_done, p.batch_rows_total
  FROM p
  LEFT JOIN pg_catalog.pg_stat_activity x
         ON x.pid OPERATOR(pg_catalog.=) COALESCE(p.worker_pid, p.pid)
  LEFT JOIN pg_catalog.pg_stat_progress_create_index ci
         ON ci.pid OPERATOR(pg_catalog.=) COALESCE(p.worker_pid, p.pid)
  LEFT JOIN pg_catalog.pg_stat_progress_cluster cl
         ON cl.pid OPERATOR(pg_catalog.=) COALESCE(p.worker_pid, p.pid)
  LEFT JOIN pg_catalog.pg_stat_progress_vacuum v
         ON v.pid OPERATOR(pg_catalog.=) COALESCE(p.worker_pid, p.pid)
  LEFT JOIN pg_catalog.pg_stat_progress_analyze an
         ON an.pid OPERATOR(pg_catalog.=) COALESCE(p.worker_pid, p.pid);

COMMENT ON VIEW fleetmigrate.progress IS
'One row per session applying a migration now, read from pg_stat_activity as the reader sees it: run, migration N of M, statement N of M and when each started, the background worker, the server''s own progress figures (pg_stat_progress_*) of the backend executing the statement, and a batched backfill''s row counters';
COMMENT ON COLUMN fleetmigrate.progress.pid IS
'The session running apply_pending() or migrate()';
COMMENT ON COLUMN fleetmigrate.progress.caller IS
'apply_pending() or migrate() (NULL when no run is known, e.g. rollback())';
COMMENT ON COLUMN fleetmigrate.progress.run_id IS
'The run''s id in fleetmigrate.runs (migrate() only)';
COMMENT ON COLUMN fleetmigrate.progress.migration IS
'The running migration''s position in the run''s plan, from 1 (of migrations)';
COMMENT ON COLUMN fleetmigrate.progress.statement IS
'The running statement of its up script, from 1 (of statements); NULL before the first';
COMMENT ON COLUMN fleetmigrate.progress.statement_started IS
'When the running statement started (its first attempt, when it is retried after a lock timeout)';
COMMENT ON COLUMN fleetmigrate.progress.query IS
'The running statement, as far as track_activity_query_size allows';
COMMENT ON COLUMN fleetmigrate.progress.worker_pid IS
'The background worker running a non-transactional migration; NULL for a migration run in the session';
COMMENT ON COLUMN fleetmigrate.progress.wait_event_type IS
'What the backend executing the statement (worker_pid, else pid) waits for, as in pg_stat_activity';
COMMENT ON COLUMN fleetmigrate.progress.server_command IS
'The command pg_stat_progress_create_index, _cluster, _vacuum or _analyze reports for the executing backend; NULL for other statements';
COMMENT ON COLUMN fleetmigrate.progress.server_waiting_for_pid IS
'An index build waiting for older transactions: the process it waits for (current_locker_pid)';
COMMENT ON COLUMN fleetmigrate.progress.server_progress IS
'The whole row of the server''s progress view for the executing backend, as JSON (its columns vary with the server version)';
COMMENT ON COLUMN fleetmigrate.progress.batch_rows_done IS
'Filled by batched backfills: rows done so far by the running statement''s batches; NULL otherwise';
COMMENT ON COLUMN fleetmigrate.progress.batch_rows_total IS
'Filled by batched backfills: rows the running statement''s batches will touch, when known; NULL otherwise';

-- It shows only what pg_stat_activity shows the reader, and reads no table.
GRANT SELECT ON TABLE fleetmigrate.progress TO PUBLIC;

-- ---- the extension owner's grants, for every area above ----------------------
-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.plan(text, jsonb) TO %s WITH GRANT OPTION',
        owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.batch_progress TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT INSERT, UPDATE, DELETE ON TABLE fleetmigrate.batch_progress TO %s', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.progress TO %s WITH GRANT OPTION', owner);
END
$grant$;
