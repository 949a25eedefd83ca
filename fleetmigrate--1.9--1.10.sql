/* fleetmigrate--1.9--1.10.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.10'" to load this file. \quit

/*
 * Live operations on big tables (issue 20).  As in the earlier scripts every
 * reference is schema-qualified, operators included.  Each area has a
 * section of its own below.
 */

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
-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.progress TO %s WITH GRANT OPTION', owner);
END
$grant$;
