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

-- ---- history that tells the truth ------------------------------------------
-- The up text that ran, once per 'applied' and 'failed' event (the catalog's
-- up column holds what is registered now, which register() may replace);
-- the errors a migration tolerated, as a JSON array of {statement, line,
-- sqlstate, message}.  Older events keep NULL: their text was not kept.
ALTER TABLE fleetmigrate.events
    ADD COLUMN script text,
    ADD COLUMN tolerated jsonb;

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
       e.tolerated
  FROM fleetmigrate.events e
 ORDER BY e.id;

COMMENT ON VIEW fleetmigrate.history IS
'Every fleetmigrate event in order: who applied (or failed, rolled back, baselined, repaired, unregistered) which migration, when, how long, with which checksum; script is the up text that ran, tolerated the errors it skipped';

CREATE FUNCTION fleetmigrate.unregister(version text, name text, reason text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_unregister'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.unregister(text, text, text) IS
'Remove a migration that never ran (pending, failed inside a transaction, or rolled back) from the catalog, with an unregistered event in the history; refused for one that is applied, baselined, partly run or required by another';

REVOKE ALL ON FUNCTION fleetmigrate.unregister(text, text, text) FROM PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.unregister(text, text, text) TO %s WITH GRANT OPTION',
        owner);
END
$grant$;
