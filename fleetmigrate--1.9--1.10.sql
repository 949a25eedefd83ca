/* fleetmigrate--1.9--1.10.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.10'" to load this file. \quit

/*
 * Live operations on big tables (issue 20).  As in the earlier scripts
 * every reference is schema-qualified, operators included.  Each area has a
 * section of its own below.
 */

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

-- status: how far a batched migration got (NULL for the others)
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
            THEN (SELECT CASE pg_catalog.max(CASE l.severity
                                                 WHEN 'error' THEN 3
                                                 WHEN 'warning' THEN 2
                                                 ELSE 1 END)
                              WHEN 3 THEN 'error'
                              WHEN 2 THEN 'warning'
                              WHEN 1 THEN 'info'
                              ELSE 'ok' END
                    FROM fleetmigrate.lint(m.up) l) END AS lint,
       m.allow_destructive,
       b.batch_rows_done,
       b.batch_rows_total
  FROM fleetmigrate.migrations m
  LEFT JOIN fleetmigrate.batch_progress b
         ON b.version OPERATOR(pg_catalog.=) m.version
        AND b.name OPERATOR(pg_catalog.=) m.name
 ORDER BY m.repeatable, m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

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
