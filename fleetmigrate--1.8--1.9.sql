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
        ' fleetmigrate.import_history(text, text, boolean, text) TO %s WITH GRANT OPTION',
        owner);
END
$grant$;
