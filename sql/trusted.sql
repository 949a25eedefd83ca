-- trusted: a database owner who is not a superuser (as on hosted Postgres)
-- installs and uses the extension, and a hostile search_path cannot hijack
-- the install script or the bookkeeping
SELECT current_user AS regress_superuser, current_database() AS regress_db \gset
SET client_min_messages = warning;
CREATE ROLE regress_dbowner LOGIN;
CREATE ROLE regress_ci LOGIN;
CREATE DATABASE regress_fm_trusted OWNER regress_dbowner;

\c regress_fm_trusted regress_dbowner
SET client_min_messages = warning;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;

-- plant look-alikes of what the script and the C code use, first on the path
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('now'); SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.session_user() RETURNS name LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('session_user'); SELECT 'evil'::name $$;
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('='); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.text_le(bytea, bytea) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('<='); SELECT $1 OPERATOR(pg_catalog.<=) $2 $$;
CREATE OPERATOR evil.<= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = evil.text_le);
CREATE FUNCTION evil.pg_extension_config_dump(regclass, text) RETURNS void LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('config_dump') $$;
SET search_path = evil, pg_catalog, public;

CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SELECT extname, extowner::regrole FROM pg_extension WHERE extname LIKE 'fleetmigrate%' ORDER BY 1;
SELECT extname, count(*) AS dumped_tables FROM pg_extension, unnest(extconfig)
 WHERE extname LIKE 'fleetmigrate%' GROUP BY 1 ORDER BY 1;

-- the owner uses it, with the hostile search_path still in place
SELECT fleetmigrate.register('001', 'create_notes', 'CREATE TABLE public.notes (id int)');
SELECT fleetmigrate.register('002', 'create_tags', 'CREATE TABLE public.tags (id int)');
SELECT version, status FROM fleetmigrate.apply_pending(target => '1');
SELECT version, state, applied_by, checksum_ok FROM fleetmigrate.status;

-- and delegates to a deployer
GRANT USAGE ON SCHEMA fleetmigrate TO regress_ci;
GRANT EXECUTE ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[]) TO regress_ci;
GRANT CREATE ON SCHEMA public TO regress_ci;
\c - regress_ci
SET client_min_messages = warning;
SELECT current_user, version, status FROM fleetmigrate.apply_pending();
-- which is all it can do
SELECT count(*) FROM fleetmigrate.migrations;
\c - regress_dbowner
SET client_min_messages = warning;
SELECT version, event, performed_by FROM fleetmigrate.history ORDER BY id;

-- the owner cannot rewrite the history either
DELETE FROM fleetmigrate.events;

-- the tiers, for the database owner, with the hostile search_path in place
CREATE FUNCTION evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('uuid ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuid_eq);
CREATE FUNCTION evil.text_ne(text, text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO evil.calls VALUES ('<>'); SELECT $1 OPERATOR(pg_catalog.<>) $2 $$;
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_ne);
CREATE TABLE public.users (id uuid PRIMARY KEY, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK',
                           upgraded_at timestamptz, tier_changed_at timestamptz);
INSERT INTO public.users (id) VALUES ('00000000-0000-0000-0000-000000000001'),
                                     ('00000000-0000-0000-0000-000000000002');
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'trusted');
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS create_1,
       fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002') AS create_2;
CALL fleetmigrate.assign_tier('ROBO_HUB', 'true', 'everyone');
SELECT * FROM fleetmigrate.user_tier_summary;
SELECT user_id, from_tier, to_tier, reason, changed_by FROM fleetmigrate.user_tier_history ORDER BY id;
DELETE FROM fleetmigrate.user_tier_history;
INSERT INTO fleetmigrate.tiers VALUES ('PARTNER', 30, '{can_view_requests}', NULL);
-- the checks see the users table as the caller (here the database owner)
-- does, whether they read it directly or not: row-level security the
-- caller is subject to applies ...
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY hide_2 ON public.users
    USING (id OPERATOR(pg_catalog.<>) '00000000-0000-0000-0000-000000000002');
SET client_min_messages = debug1;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS create_1,
       fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002') AS create_2;
SET client_min_messages = warning;
ALTER TABLE public.users NO FORCE ROW LEVEL SECURITY;
SET client_min_messages = debug1;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002') AS create_2;
SET client_min_messages = warning;
-- ... and so do the caller's privileges
REVOKE SELECT ON public.users FROM regress_dbowner;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002') AS create_2;
GRANT SELECT (id, auth_tier) ON public.users TO regress_dbowner;
SET client_min_messages = debug1;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002') AS create_2;
SET client_min_messages = warning;
GRANT SELECT ON public.users TO regress_dbowner;

-- none of the planted objects was ever called
SELECT count(*) AS hijacked_calls FROM evil.calls;

-- the owner can remove the extensions again
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;

-- a schema someone else prepared is not trusted with the catalog
\c :regress_db :regress_superuser
CREATE ROLE regress_squatter;
\c regress_fm_trusted :regress_superuser
CREATE SCHEMA fleetmigrate AUTHORIZATION regress_squatter;
\c - regress_dbowner
SET client_min_messages = warning;
-- (no CONTEXT lines: PostgreSQL 18 adds the install script's statement)
\set SHOW_CONTEXT never
CREATE EXTENSION fleetmigrate;
\c - :regress_superuser
DROP SCHEMA fleetmigrate;
-- nor one that already holds objects
CREATE SCHEMA fleetmigrate AUTHORIZATION regress_dbowner;
CREATE TABLE fleetmigrate.migrations (version text);
\c - regress_dbowner
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;
\set SHOW_CONTEXT errors

-- 1.0 installed by the owner, updated by a superuser to 1.8: the owner gets
-- the tier functions (the C code acts as the extension's owner) and uses
-- them.  The update to 1.9 then stops rather than drop tiers in use; the
-- owner's CREATE EXTENSION fleetmigrate_tiers takes them over, history
-- included, and the update goes through.
\c - :regress_superuser
DROP SCHEMA fleetmigrate CASCADE;
\c - regress_dbowner
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate VERSION '1.0';
\c - :regress_superuser
ALTER EXTENSION fleetmigrate UPDATE TO '1.8';
\c - regress_dbowner
SET client_min_messages = warning;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000002', 'ROBO_DAPP', 'on 1.8');
\c - :regress_superuser
\set SHOW_CONTEXT never
ALTER EXTENSION fleetmigrate UPDATE;
\set SHOW_CONTEXT errors
\c - regress_dbowner
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate_tiers;
\c - :regress_superuser
ALTER EXTENSION fleetmigrate UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname LIKE 'fleetmigrate%' ORDER BY 1;
\c - regress_dbowner
SET client_min_messages = warning;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000002', 'ROBO_HUB', 'after update');
SELECT from_tier, to_tier, reason FROM fleetmigrate.user_tier_history ORDER BY id;
SELECT has_function_privilege('fleetmigrate.upgrade_user_tier(uuid,text,text,boolean)',
                              'EXECUTE WITH GRANT OPTION') AS may_delegate;

\c :regress_db :regress_superuser
DROP DATABASE regress_fm_trusted;
DROP ROLE regress_dbowner, regress_ci, regress_squatter;
