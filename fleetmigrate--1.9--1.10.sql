/* fleetmigrate--1.9--1.10.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.10'" to load this file. \quit

/*
 * Live operations on big tables (issue 20).  As in the earlier scripts
 * every reference is schema-qualified, operators included.  Each area has a
 * section of its own below.
 */

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
