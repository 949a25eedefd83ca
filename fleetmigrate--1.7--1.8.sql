/* fleetmigrate--1.7--1.8.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.8'" to load this file. \quit

/*
 * PostgreSQL 15, 17 and 18 (issue 18).  Checksums no longer hash the
 * grammar's token numbers, which change between major versions, but a text
 * rendering of the tokens (src/parse.c, FmNormalizeScript): a script has
 * the same checksum on every supported version, so applied migrations do not
 * look edited after pg_upgrade.  This script recomputes the stored checksums
 * once, by the new rule, with the new library's fleetmigrate.checksum().
 * As in the earlier scripts every reference is schema-qualified, operators
 * included.
 */

-- The history first, while the catalog still holds the old checksums: an
-- event that recorded the checksum of a script the catalog still holds (the
-- up script, or the down script for a rollback) gets that script's new
-- checksum.  An event of a text no longer stored (the script was registered
-- again since) cannot be recomputed and keeps the checksum it had.
WITH sums AS (
    SELECT m.version, m.name, m.checksum AS old,
           fleetmigrate.checksum(m.up) AS new
      FROM fleetmigrate.migrations m
    UNION ALL
    SELECT m.version, m.name, m.down_checksum,
           fleetmigrate.checksum(m.down)
      FROM fleetmigrate.migrations m
     WHERE m.down IS NOT NULL
)
UPDATE fleetmigrate.events e
   SET checksum = s.new
  FROM sums s
 WHERE e.version OPERATOR(pg_catalog.=) s.version
   AND e.name OPERATOR(pg_catalog.=) s.name
   AND e.checksum OPERATOR(pg_catalog.=) s.old;

-- The catalog: an applied migration whose text still matched what ran keeps
-- matching; one that had drifted keeps its old checksum of what ran, and so
-- stays reported by validate() and status.
UPDATE fleetmigrate.migrations
   SET applied_checksum = CASE
           WHEN applied_checksum OPERATOR(pg_catalog.=) checksum
           THEN fleetmigrate.checksum(up) ELSE applied_checksum END,
       checksum = fleetmigrate.checksum(up),
       down_checksum = fleetmigrate.checksum(down),
       verify_checksum = fleetmigrate.checksum(verify);

COMMENT ON FUNCTION fleetmigrate.checksum(text) IS
'The checksum fleetmigrate records for a script: SHA-256 of a text rendering of its SQL tokens, so that white space and comments do not change it; the same on every supported PostgreSQL version';
