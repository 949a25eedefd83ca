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
            THEN m.linted_at END AS linted_at
  FROM fleetmigrate.migrations m
 ORDER BY m.repeatable, m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

COMMENT ON VIEW fleetmigrate.status IS
'One row per registered migration, in apply order: state, checksums, progress, and for a migration still to run its worst lint finding as stored when it was registered or last linted again (linted_at); reading it lints nothing';

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
END
$grant$;

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

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.batch_progress TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT INSERT, UPDATE, DELETE ON TABLE fleetmigrate.batch_progress TO %s', owner);
END
$grant$;
