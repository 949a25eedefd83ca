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
