-- tiers_rls: the permission checks in row-level security policies, and who
-- may do what with the tier objects
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SET client_min_messages = warning;
-- earlier tests' application tables
DROP TABLE IF EXISTS users, service_requests CASCADE;
CREATE ROLE regress_app;
CREATE ROLE regress_support;

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    auth_tier       text NOT NULL DEFAULT 'MAGIC_LINK',
    upgraded_at     timestamptz,
    tier_changed_at timestamptz
);
INSERT INTO users (id, auth_tier) VALUES
    ('00000000-0000-0000-0000-000000000001', 'MAGIC_LINK'),
    ('00000000-0000-0000-0000-000000000002', 'AUTHENTICATED'),
    ('00000000-0000-0000-0000-000000000003', 'ROBO_HUB');
-- in this application a magic-link user may not even view requests
UPDATE fleetmigrate.tiers SET capabilities = '{}' WHERE tier = 'MAGIC_LINK';

CREATE TABLE service_requests (
    id           integer PRIMARY KEY,
    requester_id uuid NOT NULL,
    title        text NOT NULL
);
INSERT INTO service_requests
SELECT g, ('00000000-0000-0000-0000-00000000000' || (1 + g % 3))::uuid, 'request ' || g
  FROM generate_series(1, 300) g;
ALTER TABLE service_requests ENABLE ROW LEVEL SECURITY;
-- rows are visible when their requester may view requests ...
CREATE POLICY requester_can_view ON service_requests FOR SELECT
    USING (fleetmigrate.user_can_view_requests(requester_id));
-- ... and new ones may be created by users who may create requests
CREATE POLICY caller_can_create ON service_requests FOR INSERT
    WITH CHECK (fleetmigrate.user_can_create_requests(current_setting('app.user_id')::uuid)
                AND requester_id = current_setting('app.user_id')::uuid);
GRANT SELECT, INSERT ON service_requests TO regress_app;

-- the checks read the users table as the calling role: without SELECT on
-- its id and tier columns, a permission error (never a silent "no") ...
SET ROLE regress_app;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000002') AS view_2;
RESET ROLE;
-- ... with it, the checks work, in queries and in policies
GRANT SELECT (id, auth_tier) ON users TO regress_app;
SET ROLE regress_app;
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000002') AS view_2,
       fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS create_1,
       fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000003', 'can_create_requests') AS create_3;
SELECT requester_id, count(*) FROM service_requests GROUP BY 1 ORDER BY 1;
SET app.user_id = '00000000-0000-0000-0000-000000000002';
INSERT INTO service_requests VALUES (1001, '00000000-0000-0000-0000-000000000002', 'allowed');
SET app.user_id = '00000000-0000-0000-0000-000000000001';
INSERT INTO service_requests VALUES (1002, '00000000-0000-0000-0000-000000000001', 'refused');
RESET app.user_id;
RESET ROLE;

-- a tier change shows in the very next query
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'signed up');
SET ROLE regress_app;
SELECT requester_id, count(*) FROM service_requests GROUP BY 1 ORDER BY 1;
RESET ROLE;

-- a policy on the querying user runs its check once per query (initplan,
-- one-time filter), also for a role without any privilege on the support
-- function
CREATE TABLE documents (id integer PRIMARY KEY, body text);
-- EXPLAIN (COSTS OFF) in the notation of PostgreSQL 17 and later, which
-- names an initplan's result "(InitPlan 1).col1" where 15 wrote "$0"
CREATE OR REPLACE FUNCTION explain_plan(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $f$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        line := regexp_replace(line, 'InitPlan (\d+) \(returns \$\d+\)', 'InitPlan \1');
        RETURN NEXT regexp_replace(line, '\$0\M', '(InitPlan 1).col1', 'g');
    END LOOP;
END
$f$;
INSERT INTO documents SELECT g, 'doc ' || g FROM generate_series(1, 100) g;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY viewer ON documents FOR SELECT
    USING (fleetmigrate.user_can_view_requests(nullif(current_setting('app.user_id', true), '')::uuid));
GRANT SELECT ON documents TO regress_app;
SET ROLE regress_app;
SELECT explain_plan($q$SELECT count(*) FROM documents$q$);
SET app.user_id = '00000000-0000-0000-0000-000000000002';
SELECT count(*) FROM documents;
SET app.user_id = '00000000-0000-0000-0000-000000000099';
SELECT count(*) FROM documents;
RESET app.user_id;
SELECT count(*) FROM documents;
RESET ROLE;

-- parallel workers check permissions too
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET ROLE regress_app;
SELECT explain_plan($q$SELECT count(*) FROM service_requests$q$);
SELECT count(*) FROM service_requests;
-- force_parallel_mode is debug_parallel_query from PostgreSQL 16 on
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) AS parallel_query_forced;
SELECT fleetmigrate.user_can_view_requests(id) AS unknown_user
  FROM (VALUES ('00000000-0000-0000-0000-000000000077'::uuid)) v(id);
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'off', false) AS parallel_query_forced;
RESET ROLE;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- the application role may not upgrade, read the history or change tiers
SET ROLE regress_app;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'ROBO_HUB');
CALL fleetmigrate.assign_tier('ROBO_HUB', 'true');
SELECT count(*) FROM fleetmigrate.user_tier_history;
UPDATE fleetmigrate.tiers SET capabilities = '{can_view_requests}' WHERE tier = 'MAGIC_LINK';
SELECT * FROM fleetmigrate.user_tier_summary;
SELECT * FROM fleetmigrate.tier_users();
SELECT fleetmigrate.configure_user_table('users');
RESET ROLE;

-- a role granted upgrade_user_tier upgrades through it with its own
-- privileges on the users table: without them, a permission error and
-- nothing changed ...
GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) TO regress_support;
SET ROLE regress_support;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'ROBO_DAPP', 'support ticket 7');
RESET ROLE;
-- ... reading without updating is not enough either ...
GRANT SELECT (id, auth_tier, upgraded_at) ON users TO regress_support;
SET ROLE regress_support;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'ROBO_DAPP', 'support ticket 7');
RESET ROLE;
-- ... with UPDATE of the tier and timestamp columns it works
GRANT UPDATE (auth_tier, upgraded_at, tier_changed_at) ON users TO regress_support;
SET ROLE regress_support;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'ROBO_DAPP', 'support ticket 7');
-- the other columns stay out of reach, and the history cannot be forged
UPDATE users SET id = id;
INSERT INTO fleetmigrate.user_tier_history (user_id, to_tier, changed_by)
VALUES ('00000000-0000-0000-0000-000000000001', 'ROBO_HUB', 'forged');
RESET ROLE;
SELECT user_id, from_tier, to_tier, reason, changed_by
  FROM fleetmigrate.user_tier_history ORDER BY id;

-- the summary for a role granted the view and tier_users(): tier_users()
-- reads the users table as the caller, every tier column included
GRANT SELECT ON fleetmigrate.user_tier_summary TO regress_support;
GRANT EXECUTE ON FUNCTION fleetmigrate.tier_users() TO regress_support;
SET ROLE regress_support;
SELECT tier, user_count FROM fleetmigrate.user_tier_summary;
RESET ROLE;
GRANT SELECT (tier_changed_at) ON users TO regress_support;
SET ROLE regress_support;
SELECT tier, user_count FROM fleetmigrate.user_tier_summary;
RESET ROLE;

-- a trigger of the users table that skips the update: an error, nothing
-- recorded (it runs as the caller, who may not change the history either)
CREATE FUNCTION skip_user_3() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = '00000000-0000-0000-0000-000000000003' THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER skip_user_3 BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION skip_user_3();
SET ROLE regress_support;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000003', 'ROBO_DAPP', 'skipped');
RESET ROLE;
SELECT count(*) AS skipped_recorded FROM fleetmigrate.user_tier_history WHERE reason = 'skipped';
DROP TRIGGER skip_user_3 ON users;
DROP FUNCTION skip_user_3();

-- clean up
DROP TABLE documents, service_requests, users;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP ROLE regress_app;
DROP ROLE regress_support;
