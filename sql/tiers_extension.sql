-- tiers_extension: since 1.9 the authentication tiers are the extension
-- fleetmigrate_tiers.  Updating fleetmigrate from 1.8 drops tiers nobody
-- uses and refuses to drop tiers in use; CREATE EXTENSION fleetmigrate_tiers
-- takes over the tiers of a 1.8 database with their data, grants and
-- dependents, and ends with exactly the objects of a fresh install.
SET client_min_messages = warning;
CREATE ROLE regress_tx_app;

-- the objects of fleetmigrate_tiers, each with a fingerprint of its
-- definition, comment and privileges
CREATE TEMP VIEW tier_objects AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
       md5(concat_ws('|',
         CASE WHEN d.classid = 'pg_proc'::regclass THEN pg_get_functiondef(d.objid) END,
         (SELECT proacl::text FROM pg_proc WHERE d.classid = 'pg_proc'::regclass AND oid = d.objid),
         (SELECT concat_ws(';', c.relkind, c.relacl::text, pg_get_viewdef(c.oid),
            (SELECT string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                                         a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid)), ',' ORDER BY a.attnum)
               FROM pg_attribute a
               LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
            (SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY k.conname)
               FROM pg_constraint k WHERE k.conrelid = c.oid),
            (SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY 1)
               FROM pg_index i WHERE i.indrelid = c.oid),
            (SELECT string_agg(pg_get_triggerdef(t.oid), ',' ORDER BY t.tgname)
               FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal))
            FROM pg_class c WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid),
         obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)))) AS fingerprint
  FROM pg_depend d
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate_tiers')
   AND d.deptype = 'e'
   -- PostgreSQL 17 and later list a relation's row type as a member too
   AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
            SELECT 1 FROM pg_type t LEFT JOIN pg_type el ON el.oid = t.typelem
             WHERE t.oid = d.objid AND (t.typrelid <> 0 OR el.typrelid <> 0)));
CREATE TEMP VIEW dumped AS
SELECT extname, unnest(extconfig)::regclass::text AS dumped
  FROM pg_extension WHERE extname LIKE 'fleetmigrate%';

-- ==== a 1.8 database that does not use the tiers ==========================
CREATE EXTENSION fleetmigrate VERSION '1.8';
ALTER EXTENSION fleetmigrate UPDATE;
SELECT to_regclass('fleetmigrate.tiers') AS tiers,
       to_regclass('fleetmigrate.user_tier_summary') AS summary,
       to_regprocedure('fleetmigrate.user_can_view_requests(uuid)') AS check_function,
       to_regtype('fleetmigrate.tiers') AS row_type;
SELECT * FROM dumped ORDER BY 1, 2;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;

-- ==== a 1.8 database that uses them: each use stops the update ============
CREATE TABLE public.users (id uuid PRIMARY KEY, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK',
                           upgraded_at timestamptz, tier_changed_at timestamptz);
INSERT INTO public.users (id) VALUES ('00000000-0000-0000-0000-000000000001'),
                                     ('00000000-0000-0000-0000-000000000002');
CREATE EXTENSION fleetmigrate VERSION '1.8';
\set SHOW_CONTEXT never
-- one use at a time, each undone again
BEGIN;
SELECT fleetmigrate.configure_user_table('public.users');
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
UPDATE fleetmigrate.tiers SET capabilities = '{}' WHERE tier = 'MAGIC_LINK';
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_tx_app;
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
CREATE VIEW public.tier_report AS SELECT * FROM fleetmigrate.user_tier_summary;
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
-- uses that record no dependency, or that are parts of the tier tables
BEGIN;
CREATE FUNCTION public.may_view(uuid) RETURNS boolean LANGUAGE sql
    AS $f$ SELECT fleetmigrate.user_can_view_requests($1) $f$;
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
CREATE FUNCTION public.note_tier() RETURNS trigger LANGUAGE plpgsql
    AS $f$ BEGIN RETURN NEW; END $f$;
CREATE TRIGGER tiers_noted BEFORE INSERT ON fleetmigrate.tiers
    FOR EACH ROW EXECUTE FUNCTION public.note_tier();
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
ALTER TABLE fleetmigrate.tiers ADD COLUMN colour text;
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
GRANT SELECT (tier) ON fleetmigrate.tiers TO regress_tx_app;
ALTER TABLE fleetmigrate.tier_config ENABLE ROW LEVEL SECURITY;
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
BEGIN;
SELECT fleetmigrate.register('001', 'first_upgrade',
    $$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED')$$);
ALTER EXTENSION fleetmigrate UPDATE;
ROLLBACK;
-- and all of them together, with history and a policy
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'on 1.8');
INSERT INTO fleetmigrate.tiers VALUES ('PARTNER', 30, '{can_view_requests}', 'a tier of our own');
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_tx_app;
CREATE TABLE public.requests (id int, owner uuid);
INSERT INTO public.requests VALUES (1, '00000000-0000-0000-0000-000000000001'),
                                   (2, '00000000-0000-0000-0000-000000000002');
ALTER TABLE public.requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY requests_view ON public.requests USING (fleetmigrate.user_can_create_requests(owner));
ALTER EXTENSION fleetmigrate UPDATE;
\set SHOW_CONTEXT errors
SELECT extversion FROM pg_extension WHERE extname = 'fleetmigrate';

-- fleetmigrate_tiers needs a fleetmigrate that no longer defines the tiers
-- on an update of its own
BEGIN;
DROP TABLE public.requests;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
CREATE EXTENSION fleetmigrate VERSION '1.7';
\set SHOW_CONTEXT never
CREATE EXTENSION fleetmigrate_tiers;
\set SHOW_CONTEXT errors
ROLLBACK;

-- ==== CREATE EXTENSION fleetmigrate_tiers takes them over ================
-- only fleetmigrate's owner may: another role with CREATE on the database
-- would become the owner of the users' tiers and their audit trail
CREATE ROLE regress_tx_other;
GRANT CREATE ON DATABASE :"DBNAME" TO regress_tx_other;
SET ROLE regress_tx_other;
-- (terse: the detail and hint name the superuser running the tests)
\set VERBOSITY terse
CREATE EXTENSION fleetmigrate_tiers;
\set VERBOSITY default
RESET ROLE;
REVOKE CREATE ON DATABASE :"DBNAME" FROM regress_tx_other;
DROP ROLE regress_tx_other;
CREATE EXTENSION fleetmigrate_tiers;
ALTER EXTENSION fleetmigrate UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname LIKE 'fleetmigrate%' ORDER BY 1;
-- the data, grants and dependents came along
SELECT tier, rank FROM fleetmigrate.tiers ORDER BY rank, tier;
SELECT user_id, from_tier, to_tier, reason FROM fleetmigrate.user_tier_history ORDER BY id;
SELECT has_function_privilege('regress_tx_app', 'fleetmigrate.upgrade_user_tier(uuid,text,text,boolean)',
                              'EXECUTE') AS app_may_upgrade;
-- ... and pg_dump still dumps that grant: the install's privileges stay its
-- baseline (pg_init_privs), not the ones the takeover found
SELECT count(*) AS app_in_baseline
  FROM pg_init_privs p, unnest(p.initprivs) a
 WHERE p.objoid = 'fleetmigrate.upgrade_user_tier(uuid,text,text,boolean)'::regprocedure
   AND a::text LIKE 'regress_tx_app=%';
GRANT SELECT ON public.users, public.requests TO regress_tx_app;
SET ROLE regress_tx_app;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS user_1_may_create;
-- the policy: only the request of the user who may create requests
SELECT id FROM public.requests ORDER BY id;
RESET ROLE;
-- and they keep working
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000002', 'PARTNER', 'on 1.9');
SELECT * FROM fleetmigrate.user_tier_summary;
-- fleetmigrate keeps none of them; pg_dump takes their data with the new
-- extension
SELECT count(*) AS tier_objects_of_fleetmigrate
  FROM pg_depend d
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fleetmigrate')
   AND d.deptype = 'e'
   AND pg_describe_object(d.classid, d.objid, 0) ~ 'tier|capabilit|user_can|magic_link|authenticated_users|refuse_history';
SELECT * FROM dumped ORDER BY 1, 2;

-- the same objects as a fresh install (without the grant the test added)
REVOKE EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) FROM regress_tx_app;
CREATE TEMP TABLE adopted AS SELECT * FROM tier_objects;
DROP TABLE public.requests;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers CASCADE;
CREATE TEMP TABLE fresh AS SELECT * FROM tier_objects;
SELECT count(*) AS objects FROM fresh;
(SELECT 'only adopted' AS side, * FROM adopted EXCEPT SELECT 'only adopted', * FROM fresh)
UNION ALL
(SELECT 'only fresh', * FROM fresh EXCEPT SELECT 'only fresh', * FROM adopted)
ORDER BY 2, 1;

-- a table named like a tier table, in a database whose fleetmigrate no
-- longer carries the tiers, is not taken over
DROP EXTENSION fleetmigrate_tiers;
CREATE TABLE fleetmigrate.tiers (tier text);
\set SHOW_CONTEXT never
CREATE EXTENSION fleetmigrate_tiers;
\set SHOW_CONTEXT errors
DROP TABLE fleetmigrate.tiers;
CREATE EXTENSION fleetmigrate_tiers;

-- clean up
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP OWNED BY regress_tx_app;
DROP TABLE public.users;
DROP ROLE regress_tx_app;
