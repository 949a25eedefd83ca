-- upgrade: ALTER EXTENSION ... UPDATE walks 1.0 -> 1.1 -> ... -> 1.11, keeps
-- the migration catalog and history, and ends with the same objects as a
-- fresh install
CREATE EXTENSION fleetmigrate VERSION '1.0';
SET client_min_messages = warning;

-- what fleetmigrate 1.0 left behind: one migration applied, one pending
CREATE TABLE upgrade_t (id int);
INSERT INTO fleetmigrate.migrations
       (version, name, up, checksum, statements, state, applied_checksum,
        applied_at, applied_by, registered_by)
SELECT v, n, up, encode(sha256(convert_to(up, 'UTF8')), 'hex'), 1, st,
       CASE WHEN st = 'applied' THEN encode(sha256(convert_to(up, 'UTF8')), 'hex') END,
       CASE WHEN st = 'applied' THEN now() END,
       CASE WHEN st = 'applied' THEN current_user END, current_user
  FROM (VALUES ('001', 'create_table', 'CREATE TABLE upgrade_t (id int)', 'applied'),
               ('002', 'pending', 'CREATE TABLE upgrade_t2 (id int)', 'pending')) AS m(v, n, up, st);
INSERT INTO fleetmigrate.events (version, name, event, checksum, started_at, performed_by, statements)
SELECT version, name, 'applied', checksum, applied_at, applied_by, 1
  FROM fleetmigrate.migrations WHERE state = 'applied';

-- the newer library refuses the old catalog, with a clear error
SELECT fleetmigrate.register('003', 'later', 'SELECT 1');
SELECT version, name, status FROM fleetmigrate.apply_pending();

ALTER EXTENSION fleetmigrate UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'fleetmigrate';

-- the catalog and history are intact; the runner still works
SELECT version, name, state FROM fleetmigrate.status;
SELECT version, name, event FROM fleetmigrate.history;
SELECT version, name, status FROM fleetmigrate.apply_pending();

-- the tiers came with 1.1 and went with 1.9, unused (tiers_extension tests
-- the database that uses them)
SELECT to_regclass('fleetmigrate.tiers') AS tiers_table,
       to_regprocedure('fleetmigrate.upgrade_user_tier(uuid,text,text,boolean)') AS upgrade_user_tier;

-- member objects, their comments and PUBLIC's privileges after the update ...
CREATE TEMP VIEW members AS
SELECT pg_describe_object(classid, objid, objsubid) AS object,
       obj_description(objid, classid::regclass::name) IS NOT NULL AS commented,
       CASE WHEN classid = 'pg_proc'::regclass
            THEN has_function_privilege('public', objid, 'EXECUTE')
            WHEN classid = 'pg_class'::regclass
            THEN has_table_privilege('public', objid, 'SELECT') END AS public_access
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate')
   -- a relation's row type and its array type follow the relation;
   -- PostgreSQL 17 and later list them as members too
   AND NOT (classid = 'pg_type'::regclass AND EXISTS (
            SELECT 1 FROM pg_type t LEFT JOIN pg_type el ON el.oid = t.typelem
             WHERE t.oid = objid AND (t.typrelid <> 0 OR el.typrelid <> 0)));
CREATE TEMP TABLE after_update AS SELECT * FROM members;
CREATE TEMP TABLE after_update_config AS
SELECT unnest(extconfig)::regclass::text AS dumped, unnest(extcondition) AS condition
  FROM pg_extension WHERE extname = 'fleetmigrate';

-- ... are those of a fresh install
DROP TABLE upgrade_t, upgrade_t2;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
CREATE EXTENSION fleetmigrate;
CREATE TEMP TABLE fresh AS SELECT * FROM members;
SELECT count(*) AS objects FROM fresh;
(SELECT 'only after update' AS side, * FROM after_update EXCEPT SELECT 'only after update', * FROM fresh)
UNION ALL
(SELECT 'only in fresh install', * FROM fresh EXCEPT SELECT 'only in fresh install', * FROM after_update)
ORDER BY 1, 2;
SELECT a.dumped, a.condition
  FROM after_update_config a
  FULL JOIN (SELECT unnest(extconfig)::regclass::text AS dumped, unnest(extcondition) AS condition
               FROM pg_extension WHERE extname = 'fleetmigrate') f USING (dumped)
 WHERE a.condition IS DISTINCT FROM f.condition;

-- clean up
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
