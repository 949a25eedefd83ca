-- install: the extensions install, objects are where API.md says, and
-- every function, table and view carries a comment.  The authentication
-- tiers are the extension fleetmigrate_tiers: a database that does not
-- create it has none of their objects.
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

-- without fleetmigrate_tiers, nothing of the tiers: every relation, routine
-- and type in the schema is one of fleetmigrate's
SELECT count(*) AS tier_objects
  FROM (SELECT relname::text AS name FROM pg_class WHERE relnamespace = 'fleetmigrate'::regnamespace
        UNION ALL SELECT proname FROM pg_proc WHERE pronamespace = 'fleetmigrate'::regnamespace
        UNION ALL SELECT typname FROM pg_type WHERE typnamespace = 'fleetmigrate'::regnamespace) o
 WHERE name ~ 'tier|capabilit|user_can|magic_link|authenticated_users|refuse_history';
SELECT count(*) AS objects_not_of_fleetmigrate
  FROM pg_class c
 WHERE c.relnamespace = 'fleetmigrate'::regnamespace AND c.relkind IN ('r', 'v', 'S')
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate'));

-- the tiers, for a database that uses them
CREATE EXTENSION fleetmigrate_tiers;
SELECT extname, extversion, n.nspname, extrelocatable, extrequires
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  LEFT JOIN LATERAL (SELECT requires AS extrequires FROM pg_available_extension_versions v
                      WHERE v.name = e.extname AND v.version = e.extversion) r ON true
 WHERE extname = 'fleetmigrate_tiers';

-- every member object of fleetmigrate_tiers, with its comment present or not
SELECT pg_describe_object(classid, objid, 0) AS object,
       obj_description(objid, CASE classid WHEN 'pg_proc'::regclass THEN 'pg_proc'
                                           ELSE 'pg_class' END) IS NOT NULL AS commented
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate_tiers')
   AND deptype = 'e'
   AND classid IN ('pg_proc'::regclass, 'pg_class'::regclass)
   AND (classid = 'pg_proc'::regclass
        OR (SELECT relkind FROM pg_class WHERE oid = objid) IN ('r', 'v'))
 ORDER BY 1;

-- catalog tables are dumped by pg_dump
SELECT extname, unnest(extconfig)::regclass AS dumped
  FROM pg_extension WHERE extname LIKE 'fleetmigrate%' ORDER BY 1, 2::text;

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

-- fleetmigrate_tiers goes without taking anything of fleetmigrate along
DROP EXTENSION fleetmigrate_tiers;
SELECT count(*) AS objects FROM pg_class WHERE relnamespace = 'fleetmigrate'::regnamespace AND relkind IN ('r', 'v', 'S');
SELECT count(*) FROM fleetmigrate.status;
-- and fleetmigrate cannot go while fleetmigrate_tiers needs it
CREATE EXTENSION fleetmigrate_tiers;
DROP EXTENSION fleetmigrate;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
