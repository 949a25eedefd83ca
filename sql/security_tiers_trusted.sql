-- security_tiers_trusted: the attacks of issue 17 on the authentication
-- tiers, replayed against a trusted install by a database owner who is not
-- a superuser (as on hosted Postgres).  The extension's owner is then the
-- database owner, whom the attacks of a table owner aim at: granting itself
-- rollback(), setting an applied migration back to pending, forging
-- history.  The code attached to the users table must run with the
-- caller's privileges only, or fail with a permission error, and change
-- nothing.
SELECT current_user AS regress_superuser, current_database() AS regress_db \gset
SET client_min_messages = warning;
CREATE ROLE regress_dbowner LOGIN;
CREATE ROLE regress_deployer LOGIN;
CREATE ROLE regress_app LOGIN;
CREATE ROLE regress_stranger LOGIN;
CREATE DATABASE regress_fm_security OWNER regress_dbowner;
\c regress_fm_security :regress_superuser
GRANT CREATE ON SCHEMA public TO regress_deployer;
\c - regress_dbowner
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SELECT e.extowner::regrole AS extension_owner, r.rolsuper
  FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner WHERE e.extname = 'fleetmigrate';
SELECT fleetmigrate.register('001', 'create_notes', 'CREATE TABLE public.notes (id int)');
SELECT version, status FROM fleetmigrate.apply_pending();
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) TO regress_app;
-- what the database owner itself may do, which the attacks want
SELECT has_function_privilege('fleetmigrate.rollback(text, integer, boolean, text)', 'EXECUTE WITH GRANT OPTION') AS owner_grants_rollback,
       has_table_privilege('fleetmigrate.user_tier_history', 'INSERT') AS owner_inserts_history;

\c - regress_deployer
SET client_min_messages = warning;
-- what a hostile table owner attaches: every action a privileged role could
-- take, each tried on its own, the outcome logged (done, or the SQLSTATE)
CREATE TABLE public.attack_log (id serial, tag text, runner name, action text, outcome text);
GRANT INSERT ON public.attack_log TO PUBLIC;
GRANT USAGE ON SEQUENCE public.attack_log_id_seq TO PUBLIC;
CREATE FUNCTION public.attack(tag text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $attack$
DECLARE
    actions text[] := ARRAY[
        'ALTER ROLE regress_deployer SUPERUSER',
        'GRANT EXECUTE ON FUNCTION fleetmigrate.rollback(text, integer, boolean, text) TO regress_deployer',
        $$UPDATE fleetmigrate.migrations SET state = 'pending' WHERE state = 'applied'$$,
        $$INSERT INTO fleetmigrate.events (version, name, event, started_at, performed_by)
          VALUES ('999', 'forged', 'applied', now(), 'forged')$$,
        $$INSERT INTO fleetmigrate.user_tier_history (user_id, to_tier, changed_by)
          VALUES ('00000000-0000-0000-0000-000000000001', 'ROBO_DAPP', 'forged')$$];
    a text;
    outcome text;
BEGIN
    FOREACH a IN ARRAY actions LOOP
        BEGIN
            EXECUTE a;
            outcome := 'done';
        EXCEPTION WHEN OTHERS THEN
            outcome := SQLSTATE;
        END;
        INSERT INTO public.attack_log (tag, runner, action, outcome)
        VALUES (tag, current_user, split_part(a, ' ', 1), outcome);
    END LOOP;
    RETURN true;
END
$attack$;

-- the deployer's users table, with a trigger and policies that attack
-- whenever they run
CREATE TABLE public.users (
    id              uuid PRIMARY KEY,
    auth_tier       text NOT NULL DEFAULT 'MAGIC_LINK',
    upgraded_at     timestamptz,
    tier_changed_at timestamptz
);
INSERT INTO public.users (id)
SELECT ('00000000-0000-0000-0000-00000000000' || i)::uuid FROM generate_series(1, 4) i;
CREATE FUNCTION public.attack_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM public.attack('trigger');
    RETURN NEW;
END
$$;
CREATE TRIGGER attack BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.attack_trigger();
-- a policy helper with a fixed search_path of public: pg_temp comes first
CREATE TABLE public.allowed_ids (id uuid);
INSERT INTO public.allowed_ids SELECT id FROM public.users;
GRANT SELECT ON public.allowed_ids TO PUBLIC;
CREATE FUNCTION public.allowed(u uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public
AS $$ SELECT EXISTS (SELECT FROM allowed_ids a WHERE a.id = u) $$;
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY attack ON public.users USING (public.attack('policy'));
CREATE POLICY helper ON public.users AS RESTRICTIVE USING (public.allowed(id));

-- attack 1: the application role upgrades a user; without grants on the
-- users table it cannot ...
\c - regress_app
SET client_min_messages = warning;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'attack 1');
-- ... with them, the trigger and the policies run as the application role
\c - regress_deployer
GRANT SELECT (id, auth_tier, upgraded_at), UPDATE (auth_tier, upgraded_at, tier_changed_at)
    ON public.users TO regress_app;
\c - regress_app
SET client_min_messages = warning;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'attack 1');
CALL fleetmigrate.assign_tier('ROBO_HUB', $$id = '00000000-0000-0000-0000-000000000002'$$, 'attack 1');

-- attack 2: anyone calls the PUBLIC permission checks: the application
-- role, the deployer, the database owner, a stranger without grants
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS app_view_1;
\c - regress_deployer
SET client_min_messages = warning;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS deployer_view_1;
\c - regress_dbowner
SET client_min_messages = warning;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS dbowner_view_1;
SELECT count(*) FROM fleetmigrate.user_tier_summary;
\c - regress_stranger
SET client_min_messages = warning;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS stranger_view_1;

-- attack 3: the stranger plants a temporary view named like the table the
-- policy helper reads, over a temporary function that attacks
CREATE FUNCTION pg_temp.planted() RETURNS SETOF uuid LANGUAGE sql
    AS $$ SELECT id FROM public.allowed_ids WHERE public.attack('pg_temp') $$;
CREATE TEMP VIEW allowed_ids AS SELECT pg_temp.planted() AS id;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000002');
-- even where everyone may read the users table, the planted code runs as
-- the stranger
\c - regress_deployer
GRANT SELECT (id, auth_tier) ON public.users TO PUBLIC;
\c - regress_stranger
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.planted() RETURNS SETOF uuid LANGUAGE sql
    AS $$ SELECT id FROM public.allowed_ids WHERE public.attack('pg_temp') $$;
CREATE TEMP VIEW allowed_ids AS SELECT pg_temp.planted() AS id;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS stranger_view_1;

-- afterwards: who ran the attached code, what it could do, and nothing changed
\c - regress_deployer
SET client_min_messages = warning;
SELECT DISTINCT tag, runner, action, outcome FROM public.attack_log ORDER BY 1, 2, 3, 4;
SELECT count(*) AS attacks_done FROM public.attack_log WHERE outcome = 'done';
\c - regress_dbowner
SET client_min_messages = warning;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY 1;
SELECT has_function_privilege('regress_deployer', 'fleetmigrate.rollback(text, integer, boolean, text)', 'EXECUTE')
    AS deployer_may_roll_back;
SELECT version, state FROM fleetmigrate.migrations ORDER BY version;
SELECT version, name, event FROM fleetmigrate.events ORDER BY id;
SELECT user_id, from_tier, to_tier, reason, changed_by FROM fleetmigrate.user_tier_history ORDER BY id;
SELECT id, auth_tier FROM public.users ORDER BY id;

-- a policy that drops the extension while a tier function reads the users
-- table.  Like every policy it runs as the querying role: for the
-- extension's owner, who may drop the extension, it does: the owner's own
-- privileges drop it.  What matters is that the tier function that was
-- running meanwhile raises no internal error (1.6 gave XX000 here).
\c - regress_deployer
SET client_min_messages = warning;
CREATE FUNCTION public.drops_extension() RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN EXECUTE 'DROP EXTENSION fleetmigrate CASCADE'; RETURN true; END $$;
CREATE POLICY drops_extension ON public.users USING (public.drops_extension());
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;
GRANT SELECT, UPDATE ON public.users TO regress_dbowner;
\c - regress_dbowner
SET client_min_messages = warning;
\set VERBOSITY terse
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED') AS owner_upgrade;
\set VERBOSITY default
SELECT count(*) AS extension_left FROM pg_extension WHERE extname = 'fleetmigrate';

-- clean up
\c :regress_db :regress_superuser
SET client_min_messages = warning;
DROP DATABASE regress_fm_security;
DROP ROLE regress_dbowner;
DROP ROLE regress_deployer;
DROP ROLE regress_app;
DROP ROLE regress_stranger;
