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
