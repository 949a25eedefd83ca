-- privilege_matrix: what each role may do with every object of the
-- extension, for a superuser install and for a trusted install by a database
-- owner who is not a superuser.  The expected output is the reviewed matrix:
-- a grant added or lost, or an object added, changes it.
--
-- The five roles (README, "Privilege model"):
--   stranger  regress_matrix_stranger: granted nothing, so what PUBLIC has
--   app       regress_matrix_app: what the README grants the application's
--             server role for the tier functions
--   deployer  regress_matrix_deployer: exactly the README's deployer grants
--   owner     the role that ran CREATE EXTENSION: in this database the
--             superuser running the tests (the owner of a superuser
--             install); in regress_fm_matrix its owner regress_matrix_dbowner,
--             who is no superuser and installs the extension as trusted
--
-- Letters, as in an aclitem (psql's \dp), "*" when the role may grant it on,
-- "-" for nothing:
--   routines  X EXECUTE
--   tables, views  a INSERT, r SELECT, w UPDATE, d DELETE, D TRUNCATE,
--             x REFERENCES, t TRIGGER
--   sequences  r SELECT, w UPDATE, U USAGE
--   the schema  U USAGE, C CREATE
SELECT current_user AS regress_superuser, current_database() AS regress_db \gset
SET client_min_messages = warning;
CREATE ROLE regress_matrix_stranger;
CREATE ROLE regress_matrix_app;
CREATE ROLE regress_matrix_deployer;
CREATE ROLE regress_matrix_dbowner LOGIN;
CREATE DATABASE regress_fm_matrix OWNER regress_matrix_dbowner;

-- The queries, defined once and used in both databases.  The objects are the
-- extension's members (pg_depend deptype 'e'), so a new one shows up here,
-- and its schema.  A table's or view's row type (and its array type) follows
-- its relation; PostgreSQL 17 and later list them as members too, so they are
-- left out, for the same matrix on every version.
SELECT $q$
SELECT o.type, o.identity,
       max(p.privs) FILTER (WHERE r.who = 'stranger') AS stranger,
       max(p.privs) FILTER (WHERE r.who = 'app') AS app,
       max(p.privs) FILTER (WHERE r.who = 'deployer') AS deployer,
       max(p.privs) FILTER (WHERE r.who = 'owner') AS owner
  FROM (SELECT d.classid, d.objid, i.type,
               CASE WHEN d.classid = 'pg_proc'::regclass THEN d.objid::regprocedure::text
                    ELSE i.identity END AS identity
          FROM pg_depend d, pg_extension e, pg_identify_object(d.classid, d.objid, 0) i
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
           AND d.deptype = 'e' AND e.extname IN ('fleetmigrate', 'fleetmigrate_tiers')
           AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
                    SELECT 1 FROM pg_type t LEFT JOIN pg_type el ON el.oid = t.typelem
                     WHERE t.oid = d.objid AND (t.typrelid <> 0 OR el.typrelid <> 0)))
        UNION ALL
        SELECT 'pg_namespace'::regclass, e.extnamespace, 'schema', e.extnamespace::regnamespace::text
          FROM pg_extension e WHERE e.extname = 'fleetmigrate') o
 CROSS JOIN (SELECT 'stranger', 'regress_matrix_stranger'::name
             UNION ALL SELECT 'app', 'regress_matrix_app'
             UNION ALL SELECT 'deployer', 'regress_matrix_deployer'
             UNION ALL SELECT 'owner', pg_get_userbyid(e.extowner) FROM pg_extension e
                        WHERE e.extname = 'fleetmigrate') r(who, role)
 CROSS JOIN LATERAL (
       SELECT coalesce(nullif(string_agg(
                  CASE WHEN o.type = 'schema' AND has_schema_privilege(r.role, o.objid, k.priv || ' WITH GRANT OPTION')
                            OR o.type IN ('function', 'procedure') AND has_function_privilege(r.role, o.objid, k.priv || ' WITH GRANT OPTION')
                            OR o.type = 'sequence' AND has_sequence_privilege(r.role, o.objid, k.priv || ' WITH GRANT OPTION')
                            OR o.type IN ('table', 'view') AND has_table_privilege(r.role, o.objid, k.priv || ' WITH GRANT OPTION')
                       THEN k.letter || '*'
                       WHEN o.type = 'schema' AND has_schema_privilege(r.role, o.objid, k.priv)
                            OR o.type IN ('function', 'procedure') AND has_function_privilege(r.role, o.objid, k.priv)
                            OR o.type = 'sequence' AND has_sequence_privilege(r.role, o.objid, k.priv)
                            OR o.type IN ('table', 'view') AND has_table_privilege(r.role, o.objid, k.priv)
                       THEN k.letter ELSE '' END, '' ORDER BY k.n), ''), '-') AS privs
         FROM (VALUES (1, 'schema', 'U', 'USAGE'), (2, 'schema', 'C', 'CREATE'),
                      (1, 'function', 'X', 'EXECUTE'), (1, 'procedure', 'X', 'EXECUTE'),
                      (1, 'sequence', 'r', 'SELECT'), (2, 'sequence', 'w', 'UPDATE'),
                      (3, 'sequence', 'U', 'USAGE'),
                      (1, 'table', 'a', 'INSERT'), (2, 'table', 'r', 'SELECT'),
                      (3, 'table', 'w', 'UPDATE'), (4, 'table', 'd', 'DELETE'),
                      (5, 'table', 'D', 'TRUNCATE'), (6, 'table', 'x', 'REFERENCES'),
                      (7, 'table', 't', 'TRIGGER'),
                      (1, 'view', 'a', 'INSERT'), (2, 'view', 'r', 'SELECT'),
                      (3, 'view', 'w', 'UPDATE'), (4, 'view', 'd', 'DELETE'),
                      (5, 'view', 'D', 'TRUNCATE'), (6, 'view', 'x', 'REFERENCES'),
                      (7, 'view', 't', 'TRIGGER')) k(n, type, letter, priv)
        WHERE k.type = o.type) p
 GROUP BY o.type, o.identity
$q$ AS matrix_sql \gset

-- The routines PUBLIC may execute must be exactly the ones reviewed as
-- read-only (src/*.c): each changes nothing and reads nothing but its
-- arguments, the system catalog, the caller's own running migration, or a
-- user's tier as the caller and the tier definitions.
SELECT $q$
SELECT o.identity AS routine, p.provolatile AS volatility, r.why AS reviewed_read_only
  FROM (SELECT d.objid, d.objid::regprocedure::text AS identity
          FROM pg_depend d, pg_extension e
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
           AND d.deptype = 'e' AND e.extname IN ('fleetmigrate', 'fleetmigrate_tiers')
           AND d.classid = 'pg_proc'::regclass) o
  JOIN pg_proc p ON p.oid = o.objid
  LEFT JOIN (VALUES
       ('fleetmigrate.checksum(text)', 'hashes the tokens of its argument'),
       ('fleetmigrate.lint(text)', 'parses its argument, reads the system catalog, executes nothing'),
       ('fleetmigrate.param(text)', 'a value the caller supplied to its running migration'),
       ('fleetmigrate.user_can_create_requests(uuid)', 'reads one user''s tier'),
       ('fleetmigrate.user_can_view_requests(uuid)', 'reads one user''s tier'),
       ('fleetmigrate.user_has_capability(uuid,text)', 'reads one user''s tier'),
       ('fleetmigrate.version_key(text)', 'a sort key of its argument')) r(identity, why)
    ON r.identity = o.identity
 WHERE has_function_privilege('public', o.objid, 'EXECUTE')
$q$ AS public_routines_sql \gset

-- Policy checks, each an empty set when the policy holds: PUBLIC may write
-- nothing; no role but the owner of the extension's tables may attach code
-- to them (TRIGGER, REFERENCES), nor own any of the extension's objects,
-- since the bookkeeping runs as that owner; a SECURITY DEFINER routine pins
-- search_path to pg_catalog, pg_temp.
SELECT $q$
WITH e AS (SELECT oid, extowner FROM pg_extension WHERE extname IN ('fleetmigrate', 'fleetmigrate_tiers')),
     o AS (SELECT d.classid, d.objid, i.type,
                  CASE WHEN d.classid = 'pg_proc'::regclass THEN d.objid::regprocedure::text
                       ELSE i.identity END AS identity
             FROM pg_depend d, e, pg_identify_object(d.classid, d.objid, 0) i
            WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
              AND d.deptype = 'e'
              AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
                       SELECT 1 FROM pg_type t LEFT JOIN pg_type el ON el.oid = t.typelem
                        WHERE t.oid = d.objid AND (t.typrelid <> 0 OR el.typrelid <> 0)))),
     roles(role) AS (VALUES ('regress_matrix_stranger'), ('regress_matrix_app'),
                            ('regress_matrix_deployer'), ('regress_matrix_dbowner'))
SELECT 'PUBLIC may write' AS violation, o.identity
  FROM o
 WHERE o.type IN ('table', 'view')
       AND has_table_privilege('public', o.objid, 'INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
    OR o.type = 'sequence' AND has_sequence_privilege('public', o.objid, 'UPDATE,USAGE')
UNION ALL
SELECT 'may attach code: ' || r.role, o.identity
  FROM o, roles r
 WHERE o.type IN ('table', 'view')
   AND has_table_privilege(r.role, o.objid, 'REFERENCES,TRIGGER')
   AND NOT pg_has_role(r.role, (SELECT relowner FROM pg_class WHERE oid = o.objid), 'USAGE')
UNION ALL
SELECT 'owned by another role than the tables''', o.identity
  FROM o
 WHERE coalesce((SELECT relowner FROM pg_class WHERE o.classid = 'pg_class'::regclass AND oid = o.objid),
                (SELECT proowner FROM pg_proc WHERE o.classid = 'pg_proc'::regclass AND oid = o.objid))
       IS DISTINCT FROM (SELECT c.relowner FROM pg_class c
                          WHERE c.relnamespace = (SELECT extnamespace FROM pg_extension
                                                   WHERE extname = 'fleetmigrate')
                            AND c.relname = 'migrations')
UNION ALL
SELECT 'SECURITY DEFINER without search_path = pg_catalog, pg_temp', o.identity
  FROM o JOIN pg_proc p ON p.oid = o.objid
 WHERE p.prosecdef
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
$q$ AS violations_sql \gset

-- Who owns what: the role the bookkeeping runs as
SELECT $q$
SELECT CASE WHEN c.owner = e.extowner THEN 'extension owner'
            WHEN c.owner = 10 THEN 'bootstrap superuser'
            ELSE 'another role' END AS owned_by,
       r.rolsuper AS superuser, c.what, count(*) AS objects
  FROM pg_extension e,
       LATERAL (SELECT 'objects' AS what,
                       coalesce((SELECT relowner FROM pg_class WHERE d.classid = 'pg_class'::regclass AND oid = d.objid),
                                (SELECT proowner FROM pg_proc WHERE d.classid = 'pg_proc'::regclass AND oid = d.objid)) AS owner
                  FROM pg_depend d
                 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                   AND d.classid IN ('pg_class'::regclass, 'pg_proc'::regclass)
                UNION ALL
                SELECT 'schema', nspowner FROM pg_namespace
                 WHERE oid = e.extnamespace AND e.extname = 'fleetmigrate') c
  JOIN pg_roles r ON r.oid = c.owner
 WHERE e.extname IN ('fleetmigrate', 'fleetmigrate_tiers')
 GROUP BY 1, 2, 3
$q$ AS owners_sql \gset

-- ==== a superuser install, in the regression database ====================
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
-- the application's server role (README, "Privileges for authentication tiers")
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_matrix_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)
    TO regress_matrix_app;
-- the deployer (README, "Privileges: a deployer role")
GRANT USAGE ON SCHEMA fleetmigrate TO regress_matrix_deployer;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[])
    TO regress_matrix_deployer;
GRANT SELECT ON fleetmigrate.status, fleetmigrate.history TO regress_matrix_deployer;
GRANT CREATE ON SCHEMA public TO regress_matrix_deployer;

CREATE TEMP VIEW matrix AS :matrix_sql;
CREATE TEMP VIEW public_routines AS :public_routines_sql;
CREATE TEMP VIEW violations AS :violations_sql;
CREATE TEMP VIEW owners AS :owners_sql;

SELECT * FROM matrix ORDER BY identity COLLATE "C", type;
SELECT * FROM public_routines ORDER BY routine COLLATE "C";
SELECT * FROM violations ORDER BY violation COLLATE "C", identity COLLATE "C";
SELECT * FROM owners ORDER BY 1, 3;

-- the checks catch what they are for (rolled back)
BEGIN;
GRANT EXECUTE ON FUNCTION fleetmigrate.repair(text, text, text) TO PUBLIC;
GRANT UPDATE ON fleetmigrate.events TO PUBLIC;
GRANT USAGE ON SEQUENCE fleetmigrate.run_log_id_seq TO PUBLIC;
GRANT TRIGGER ON fleetmigrate.migrations TO regress_matrix_deployer;
GRANT REFERENCES ON fleetmigrate.tiers TO regress_matrix_dbowner;
ALTER FUNCTION fleetmigrate.lint(text) OWNER TO regress_matrix_dbowner;
ALTER FUNCTION fleetmigrate.schedule(text) SECURITY DEFINER;
ALTER FUNCTION fleetmigrate.unschedule() SECURITY DEFINER;
ALTER FUNCTION fleetmigrate.unschedule() RESET search_path;
SELECT * FROM public_routines WHERE reviewed_read_only IS NULL;
SELECT * FROM violations ORDER BY violation COLLATE "C", identity COLLATE "C";
ROLLBACK;

DROP VIEW matrix, public_routines, violations, owners;
REVOKE CREATE ON SCHEMA public FROM regress_matrix_deployer;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;

-- ==== a trusted install by the database owner, no superuser ==============
\c regress_fm_matrix regress_matrix_dbowner
SET client_min_messages = warning;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
-- the owner hands on what the README says, with the grant options it has
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_matrix_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)
    TO regress_matrix_app;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_matrix_deployer;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[])
    TO regress_matrix_deployer;
GRANT SELECT ON fleetmigrate.status, fleetmigrate.history TO regress_matrix_deployer;
GRANT CREATE ON SCHEMA public TO regress_matrix_deployer;

\c - :regress_superuser
SET client_min_messages = warning;
CREATE TEMP VIEW matrix AS :matrix_sql;
CREATE TEMP VIEW public_routines AS :public_routines_sql;
CREATE TEMP VIEW violations AS :violations_sql;
CREATE TEMP VIEW owners AS :owners_sql;

SELECT * FROM matrix ORDER BY identity COLLATE "C", type;
SELECT * FROM public_routines ORDER BY routine COLLATE "C";
SELECT * FROM violations ORDER BY violation COLLATE "C", identity COLLATE "C";
SELECT * FROM owners ORDER BY 1, 3;
CREATE TABLE matrix_fresh AS SELECT * FROM matrix;

-- ==== the same install from 1.0, updated by the owner ====================
-- Each update script grants the extension's owner its part, and register()'s
-- grants carry over to each new signature: the result is the fresh matrix.
\c - regress_matrix_dbowner
SET client_min_messages = warning;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
CREATE EXTENSION fleetmigrate VERSION '1.0';
GRANT USAGE ON SCHEMA fleetmigrate TO regress_matrix_deployer;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean)
    TO regress_matrix_deployer;
GRANT SELECT ON fleetmigrate.status, fleetmigrate.history TO regress_matrix_deployer;
ALTER EXTENSION fleetmigrate UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'fleetmigrate') AS updated
  FROM pg_extension WHERE extname = 'fleetmigrate';
-- the update dropped the unused tiers; the owner installs them again
CREATE EXTENSION fleetmigrate_tiers;
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_matrix_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)
    TO regress_matrix_app;

\c - :regress_superuser
SET client_min_messages = warning;
CREATE TEMP VIEW matrix AS :matrix_sql;
CREATE TEMP VIEW violations AS :violations_sql;
CREATE TEMP VIEW owners AS :owners_sql;
SELECT * FROM (
    (SELECT 'only after update' AS side, * FROM matrix EXCEPT SELECT 'only after update', * FROM matrix_fresh)
    UNION ALL
    (SELECT 'only in fresh install', * FROM matrix_fresh EXCEPT SELECT 'only in fresh install', * FROM matrix)) d
 ORDER BY identity COLLATE "C", side;
SELECT * FROM violations ORDER BY violation COLLATE "C", identity COLLATE "C";
SELECT * FROM owners ORDER BY 1, 3;

-- clean up
\c :regress_db :regress_superuser
DROP DATABASE regress_fm_matrix;
DROP ROLE regress_matrix_stranger, regress_matrix_app, regress_matrix_deployer, regress_matrix_dbowner;
