-- install: the extension installs, objects are where API.md says, and
-- every function, table and view carries a comment
CREATE EXTENSION fleetmigrate;

SELECT extname, extversion, n.nspname, extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'fleetmigrate';

-- every member object, with its comment present or not
SELECT pg_describe_object(classid, objid, 0) AS object,
       obj_description(objid, CASE classid WHEN 'pg_proc'::regclass THEN 'pg_proc'
                                           ELSE 'pg_class' END) IS NOT NULL AS commented
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate')
   AND deptype = 'e'
   AND classid IN ('pg_proc'::regclass, 'pg_class'::regclass)
   AND (classid = 'pg_proc'::regclass
        OR (SELECT relkind FROM pg_class WHERE oid = objid) IN ('r', 'v'))
 ORDER BY 1;

-- catalog tables are dumped by pg_dump
SELECT unnest(extconfig)::regclass AS dumped
  FROM pg_extension WHERE extname = 'fleetmigrate';

-- nothing that changes state is executable by PUBLIC
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'fleetmigrate'::regnamespace
 ORDER BY p.oid::regprocedure::text COLLATE "C";

SELECT c.relname,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('public', c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE') AS public_write
  FROM pg_class c
 WHERE c.relnamespace = 'fleetmigrate'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY 1;

-- an empty catalog: nothing pending, nothing applied
SELECT * FROM fleetmigrate.apply_pending();
SELECT count(*) FROM fleetmigrate.status;
SELECT count(*) FROM fleetmigrate.history;

DROP EXTENSION fleetmigrate;
