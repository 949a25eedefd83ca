-- security_tiers: the attacks of issue 17 on the authentication tiers,
-- replayed against an install by a superuser.  Whoever owns the users table
-- attaches code to it (a trigger, a row-level security policy, a policy
-- helper that reads pg_temp first); the tier functions must run that code
-- with the caller's privileges only, or fail with a permission error, and
-- change nothing.  Bad input to configure_user_table() and assign_tier().
SET client_min_messages = warning;
-- earlier tests' application tables
DROP TABLE IF EXISTS users, service_requests CASCADE;
CREATE ROLE regress_deployer;
CREATE ROLE regress_app;
CREATE ROLE regress_stranger;
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SELECT rolsuper AS installed_by_superuser FROM pg_roles r JOIN pg_extension e ON e.extowner = r.oid
 WHERE e.extname = 'fleetmigrate';
SELECT fleetmigrate.register('001', 'create_notes', 'CREATE TABLE public.notes (id int)');
SELECT version, status FROM fleetmigrate.apply_pending();
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) TO regress_app;
GRANT CREATE ON SCHEMA public TO regress_deployer;

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
ALTER FUNCTION public.attack(text) OWNER TO regress_deployer;

-- the deployer's users table, with a trigger that escalates when it runs
-- as a superuser, and a policy that attacks whenever it is evaluated
SET ROLE regress_deployer;
CREATE TABLE public.users (
    id              uuid PRIMARY KEY,
    auth_tier       text NOT NULL DEFAULT 'MAGIC_LINK',
    upgraded_at     timestamptz,
    tier_changed_at timestamptz
);
INSERT INTO public.users (id)
SELECT ('00000000-0000-0000-0000-00000000000' || i)::uuid FROM generate_series(1, 4) i;
CREATE FUNCTION public.escalate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        PERFORM public.attack('trigger as superuser');
    ELSE
        INSERT INTO public.attack_log (tag, runner, action, outcome)
        VALUES ('trigger', current_user, 'none', 'not a superuser');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER escalate BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.escalate();
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY attack ON public.users USING (public.attack('policy'));
-- a policy helper with a fixed search_path of public: pg_temp comes first
CREATE TABLE public.allowed_ids (id uuid);
INSERT INTO public.allowed_ids SELECT id FROM public.users;
GRANT SELECT ON public.allowed_ids TO PUBLIC;
CREATE FUNCTION public.allowed(u uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public
AS $$ SELECT EXISTS (SELECT FROM allowed_ids a WHERE a.id = u) $$;
CREATE POLICY helper ON public.users AS RESTRICTIVE USING (public.allowed(id));
RESET ROLE;

-- attack 1: the application role upgrades a user.  The trigger runs as the
-- application role, so it does not escalate
SET ROLE regress_app;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'attack 1');
RESET ROLE;
-- it needs its grants on the users table, as for an UPDATE of its own
SET ROLE regress_deployer;
GRANT SELECT (id, auth_tier, upgraded_at), UPDATE (auth_tier, upgraded_at, tier_changed_at)
    ON public.users TO regress_app;
RESET ROLE;
SET ROLE regress_app;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'attack 1');
CALL fleetmigrate.assign_tier('ROBO_HUB', $$id = '00000000-0000-0000-0000-000000000002'$$, 'attack 1');
RESET ROLE;

-- attack 2: anyone calls the permission checks; the policies on the users
-- table run as that caller.  A stranger without grants gets an error ...
SET ROLE regress_stranger;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
RESET ROLE;
-- ... the application role, an answer with its own privileges ...
SET ROLE regress_app;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS view_1;
RESET ROLE;
-- ... and so does the deployer itself
SET ROLE regress_deployer;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000002') AS view_2;
RESET ROLE;

-- attack 3: a role with no grants plants a temporary view named like the
-- table the policy helper reads, over a temporary function that attacks
SET ROLE regress_stranger;
CREATE FUNCTION pg_temp.planted() RETURNS SETOF uuid LANGUAGE sql
    AS $$ SELECT id FROM public.allowed_ids WHERE public.attack('pg_temp') $$;
CREATE TEMP VIEW allowed_ids AS SELECT pg_temp.planted() AS id;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
SELECT fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', 'can_view_requests');
RESET ROLE;
-- even where everyone may read the users table, its planted code runs as
-- the stranger
SET ROLE regress_deployer;
GRANT SELECT (id, auth_tier) ON public.users TO PUBLIC;
RESET ROLE;
SET ROLE regress_stranger;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS view_1;
DISCARD TEMP;
RESET ROLE;

-- afterwards: who ran the attached code, what it could do, and nothing changed
SELECT DISTINCT tag, runner, action, outcome FROM public.attack_log ORDER BY 1, 2, 3, 4;
SELECT count(*) AS attacks_done FROM public.attack_log WHERE outcome = 'done';
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY 1;
SELECT has_function_privilege('regress_deployer', 'fleetmigrate.rollback(text, integer, boolean, text)', 'EXECUTE')
    AS deployer_may_roll_back;
SELECT version, state FROM fleetmigrate.migrations ORDER BY version;
SELECT version, name, event FROM fleetmigrate.events ORDER BY id;
SELECT user_id, from_tier, to_tier, reason, changed_by FROM fleetmigrate.user_tier_history ORDER BY id;
SELECT id, auth_tier FROM public.users ORDER BY id;

-- the cache belongs to the role that filled it: in one query, a role that
-- may read the users table and one that may not (a SECURITY DEFINER
-- function owned by the stranger) get their own answers
ALTER TABLE public.users DISABLE ROW LEVEL SECURITY;
SET ROLE regress_deployer;
REVOKE SELECT (id, auth_tier) ON public.users FROM PUBLIC;
RESET ROLE;
CREATE FUNCTION public.check_as_stranger(u uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
AS $$ SELECT fleetmigrate.user_can_view_requests(u) $$;
ALTER FUNCTION public.check_as_stranger(uuid) OWNER TO regress_stranger;
SET ROLE regress_app;
SELECT fleetmigrate.user_can_view_requests(id) FROM public.users ORDER BY id LIMIT 1;
SELECT public.check_as_stranger('00000000-0000-0000-0000-000000000001');
DO $$
BEGIN
    FOR i IN 1..3 LOOP
        RAISE WARNING 'app: %', fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
        BEGIN
            RAISE WARNING 'stranger: %', public.check_as_stranger('00000000-0000-0000-0000-000000000001');
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'stranger: %', SQLERRM;
        END;
    END LOOP;
END
$$;
RESET ROLE;
-- one call site, the role changed between calls (SET ROLE in the same
-- snapshot): the stranger gets no answer the application role's cache holds
DO $$
DECLARE
    r text;
    answer text;
BEGIN
    FOREACH r IN ARRAY ARRAY['regress_app', 'regress_stranger', 'regress_app'] LOOP
        EXECUTE format('SET ROLE %I', r);
        BEGIN
            answer := current_user || ': ' ||
                fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
        EXCEPTION WHEN insufficient_privilege THEN
            answer := current_user || ': ' || SQLERRM;
        END;
        RAISE WARNING '%', answer;
        RESET ROLE;
    END LOOP;
END
$$;

-- bad input to configure_user_table(): a temporary table, fleetmigrate's own
-- tables, a system catalog, one column in two roles
CREATE TEMP TABLE temp_users (id uuid PRIMARY KEY, auth_tier text);
SELECT fleetmigrate.configure_user_table('temp_users', 'id', 'auth_tier', NULL, NULL);
SELECT fleetmigrate.configure_user_table('fleetmigrate.user_tier_history', 'user_id', 'to_tier', NULL, NULL);
SELECT fleetmigrate.configure_user_table('fleetmigrate.tiers', 'tier', 'tier', NULL, NULL);
SELECT fleetmigrate.configure_user_table('pg_catalog.pg_class');
SELECT fleetmigrate.configure_user_table('users', upgraded_at_column => 'tier_changed_at');
SELECT fleetmigrate.configure_user_table('users', upgraded_at_column => 'auth_tier', tier_changed_at_column => NULL);
SELECT fleetmigrate.configure_user_table('users', 'id', 'id');
SELECT count(*) AS configured FROM fleetmigrate.tier_config;
-- nor can the configuration be pointed at them behind the function's back
INSERT INTO fleetmigrate.tier_config (table_schema, table_name, id_column, tier_column)
VALUES ('fleetmigrate', 'user_tier_history', 'user_id', 'to_tier');
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
DELETE FROM fleetmigrate.tier_config;
DROP TABLE temp_users;

-- bad input to assign_tier(): a condition that reaches the internal
-- parameters, however spelled, is refused before anything runs
CALL fleetmigrate.assign_tier('ROBO_DAPP', '$1 IS NOT NULL');
CALL fleetmigrate.assign_tier('ROBO_DAPP', '$01::text <> $2::text');
CALL fleetmigrate.assign_tier('ROBO_DAPP', 'id > $2');
CALL fleetmigrate.assign_tier('ROBO_DAPP', '(SELECT $3) > 0');
CALL fleetmigrate.assign_tier('ROBO_DAPP', 'true /* $1 */ AND /**/$1 IS NULL');
CALL fleetmigrate.assign_tier('ROBO_DAPP', E'true AND\n$4 IS NULL');
-- a $1 inside a string or a comment is no parameter
CALL fleetmigrate.assign_tier('ROBO_DAPP', $$'$1' = 'x' /* $1 */$$);
SELECT count(*) AS robo_dapp FROM public.users WHERE auth_tier = 'ROBO_DAPP';

-- clean up
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP TABLE public.users, public.allowed_ids, public.attack_log, public.notes;
DROP FUNCTION public.escalate(), public.attack(text), public.allowed(uuid), public.check_as_stranger(uuid);
REVOKE CREATE ON SCHEMA public FROM regress_deployer;
DROP ROLE regress_deployer;
DROP ROLE regress_app;
DROP ROLE regress_stranger;
