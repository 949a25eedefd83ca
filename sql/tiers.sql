-- tiers: the tier model, upgrade_user_tier(), the permission checks and
-- their cache, assign_tier(), configure_user_table(), the views
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SET client_min_messages = warning;
-- earlier tests' application tables
DROP TABLE IF EXISTS users, service_requests CASCADE;

-- the shipped tiers (the FleetOS seed's)
SELECT tier, rank, capabilities FROM fleetmigrate.tiers ORDER BY rank, tier;

-- no users table yet: the checks fail loudly rather than deny silently
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');

-- the core schema's users table, before migration 001 adds the tier
CREATE TABLE users (id uuid PRIMARY KEY, email text);
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
DROP TABLE users;

-- the seed's users table after migration 001
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text,
    signup_source   text,
    auth_tier       text NOT NULL DEFAULT 'MAGIC_LINK',
    upgraded_at     timestamptz,
    tier_changed_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- no users yet: every tier, nobody on it
SELECT * FROM fleetmigrate.user_tier_summary;
INSERT INTO users (id, email, signup_source)
SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
       'user' || i || '@example.com',
       (ARRAY['fleetos', 'robo_hub', 'robo_dapp', NULL])[1 + i % 4]
  FROM generate_series(1, 8) i;

-- permission checks: NULL and unknown users may do nothing, never an error
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS view_1,
       fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS create_1,
       fleetmigrate.user_can_view_requests(NULL) AS view_null,
       fleetmigrate.user_can_create_requests(NULL) AS create_null,
       fleetmigrate.user_can_view_requests('99999999-0000-0000-0000-000000000000') AS view_unknown,
       fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', 'can_view_requests') AS has_view,
       fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', 'no_such_capability') AS has_other,
       fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', NULL) AS has_null;

-- an upgrade changes the tier and its timestamps and writes one audit row,
-- in the caller's transaction
BEGIN;
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'first request');
SELECT auth_tier, upgraded_at IS NOT NULL AS upgraded, tier_changed_at IS NOT NULL AS changed
  FROM users WHERE id = '00000000-0000-0000-0000-000000000001';
SELECT user_id, from_tier, to_tier, reason, changed_by = current_user AS by_me,
       session_user_name = session_user AS session_ok,
       transaction_id = pg_current_xact_id() AS this_xact
  FROM fleetmigrate.user_tier_history ORDER BY id;
COMMIT;
SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001') AS create_1;

-- the same tier again: nothing changes, no audit row
SELECT tier_changed_at AS before_changed FROM users
 WHERE id = '00000000-0000-0000-0000-000000000001' \gset
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'again');
SELECT count(*) AS history_rows FROM fleetmigrate.user_tier_history;
SELECT tier_changed_at = :'before_changed' AS unchanged FROM users
 WHERE id = '00000000-0000-0000-0000-000000000001';

-- a lateral move (equal rank) is not a downgrade; upgraded_at is kept
UPDATE users SET upgraded_at = '2020-01-01' WHERE id = '00000000-0000-0000-0000-000000000002';
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000002', 'ROBO_HUB');
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000002', 'ROBO_DAPP', 'moved product');
SELECT auth_tier, upgraded_at = '2020-01-01' AS upgraded_at_kept
  FROM users WHERE id = '00000000-0000-0000-0000-000000000002';

-- a downgrade needs allow_downgrade
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'MAGIC_LINK', 'oops');
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'MAGIC_LINK', 'support ticket 42',
                                      allow_downgrade => true);
SELECT auth_tier, upgraded_at IS NOT NULL AS still_upgraded_once
  FROM users WHERE id = '00000000-0000-0000-0000-000000000001';

-- bad input: a clear error, and nothing changed
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000003', 'PLATINUM');
SELECT fleetmigrate.upgrade_user_tier('99999999-0000-0000-0000-000000000000', 'AUTHENTICATED');
SELECT fleetmigrate.upgrade_user_tier('99999999-0000-0000-0000-000000000000', 'PLATINUM');
SELECT fleetmigrate.upgrade_user_tier(NULL, 'AUTHENTICATED');
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000003', NULL);
SELECT count(*) AS history_rows FROM fleetmigrate.user_tier_history;

-- the audit trail is append-only, even for a superuser
UPDATE fleetmigrate.user_tier_history SET reason = 'rewritten';
DELETE FROM fleetmigrate.user_tier_history;
TRUNCATE fleetmigrate.user_tier_history;
SELECT count(*) AS history_rows FROM fleetmigrate.user_tier_history;

-- the tiers are editable: a new tier with a new capability
INSERT INTO fleetmigrate.tiers VALUES ('STAFF', 100, '{can_view_requests,can_create_requests,can_assign_requests}', 'Our staff');
SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000005', 'STAFF', 'hired');
SELECT fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000005', 'can_assign_requests') AS staff_assigns,
       fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', 'can_assign_requests') AS user_assigns;
-- a duplicate of an edited or new tier fails as usual
INSERT INTO fleetmigrate.tiers VALUES ('STAFF', 1, '{}', NULL);
-- a user whose tier is not in the table may do nothing
UPDATE users SET auth_tier = 'LEGACY' WHERE id = '00000000-0000-0000-0000-000000000006';
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000006') AS legacy_view;

-- answers follow changes made earlier in the same transaction
BEGIN;
DO $$
DECLARE
    u uuid := '00000000-0000-0000-0000-000000000007';
    r text := '';
BEGIN
    FOR i IN 1..2 LOOP
        r := r || fleetmigrate.user_can_create_requests(u)::text || ' ';
        IF i = 1 THEN
            PERFORM fleetmigrate.upgrade_user_tier(u, 'AUTHENTICATED', 'in a loop');
        END IF;
    END LOOP;
    RAISE WARNING 'before and after: %', r;
END
$$;
ROLLBACK;

-- the capability asked is not taken from a cache the next call resets
-- (tiers edited between calls in one transaction)
DO $$
DECLARE
    wrong integer := 0;
BEGIN
    FOR i IN 1..50 LOOP
        UPDATE fleetmigrate.tiers
           SET description = repeat('edited ', i),
               capabilities = capabilities || ('extra_' || i)
         WHERE tier = 'MAGIC_LINK';
        IF NOT fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000005', 'can_assign_requests') THEN
            wrong := wrong + 1;
        END IF;
    END LOOP;
    RAISE WARNING 'wrong answers: %', wrong;
END
$$;
UPDATE fleetmigrate.tiers SET capabilities = '{can_view_requests}', description = NULL
 WHERE tier = 'MAGIC_LINK';

-- the cache: many distinct users in one query give the same answers as a
-- join (single lookups, or one scan of the table once many users are asked for)
INSERT INTO users (id, auth_tier)
SELECT ('10000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
       (ARRAY['MAGIC_LINK', 'AUTHENTICATED', 'ROBO_HUB', 'LEGACY'])[1 + i % 4]
  FROM generate_series(1, 2000) i;
ANALYZE users;
UPDATE fleetmigrate.tiers SET capabilities = '{}' WHERE tier = 'MAGIC_LINK';
CREATE TABLE requests AS
SELECT g AS id,
       ('10000000-0000-0000-0000-' || lpad((1 + (g * 7919) % 2100)::text, 12, '0'))::uuid AS requester_id
  FROM generate_series(1, 20000) g;
SELECT (SELECT count(*) FROM requests r
         WHERE fleetmigrate.user_can_view_requests(r.requester_id)) AS by_function,
       (SELECT count(*) FROM requests r
          JOIN users u ON u.id = r.requester_id
          JOIN fleetmigrate.tiers t ON t.tier = u.auth_tier
         WHERE 'can_view_requests' = ANY (t.capabilities)) AS by_join;

-- how the users table is read: directly (index probes under the query's
-- snapshot; one scan once most of the table is being asked for) ...
SET client_min_messages = debug1;
SELECT count(*) AS few_users FROM requests
 WHERE id <= 100 AND fleetmigrate.user_can_view_requests(requester_id);
SELECT count(*) AS every_user FROM users WHERE fleetmigrate.user_can_view_requests(id);
SET client_min_messages = warning;
SELECT count(*) AS by_join FROM users u JOIN fleetmigrate.tiers t ON t.tier = u.auth_tier
 WHERE 'can_view_requests' = ANY (t.capabilities);
-- ... or with SQL statements, when no index on the id column alone fits
CREATE TABLE users_unindexed AS SELECT * FROM users;
CREATE UNIQUE INDEX ON users_unindexed (id) WHERE auth_tier <> 'LEGACY';
CREATE INDEX ON users_unindexed (id, auth_tier);
SELECT fleetmigrate.configure_user_table('users_unindexed');
SET client_min_messages = debug1;
SELECT (SELECT count(*) FROM requests r
         WHERE fleetmigrate.user_can_view_requests(r.requester_id)) AS by_function;
SET client_min_messages = warning;
DELETE FROM fleetmigrate.tier_config;
DROP TABLE users_unindexed;
UPDATE fleetmigrate.tiers SET capabilities = '{can_view_requests}' WHERE tier = 'MAGIC_LINK';

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

-- a call that does not depend on the row runs once per query (initplan);
-- one that does runs per row with its cache
SELECT explain_plan($q$SELECT count(*) FROM requests
 WHERE fleetmigrate.user_can_view_requests(current_setting('app.user_id')::uuid)$q$);
SELECT explain_plan($q$SELECT count(*) FROM requests WHERE fleetmigrate.user_can_view_requests(requester_id)$q$);
SET app.user_id = '00000000-0000-0000-0000-000000000001';
SELECT count(*) FROM requests
 WHERE fleetmigrate.user_can_view_requests(current_setting('app.user_id')::uuid);
SET app.user_id = '00000000-0000-0000-0000-000000000006';
SELECT count(*) FROM requests
 WHERE fleetmigrate.user_can_view_requests(current_setting('app.user_id')::uuid);
-- correlated to an outer query: still correct
SELECT r.id,
       (SELECT count(*) FROM requests q
         WHERE q.id <= 3 AND fleetmigrate.user_can_view_requests(r.requester_id)) AS visible
  FROM requests r WHERE r.id <= 4 ORDER BY r.id;
RESET app.user_id;

-- assign_tier(): the seed's data migration, in batches
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$lower(signup_source) = 'fleetos' AND tier_changed_at IS NULL$$,
                              'migration 001: existing FleetOS user', batch_size => 1);
SELECT id, auth_tier, upgraded_at IS NOT NULL AS upgraded
  FROM users WHERE signup_source = 'fleetos' ORDER BY id;
SELECT user_id, from_tier, to_tier FROM fleetmigrate.user_tier_history
 WHERE reason = 'migration 001: existing FleetOS user' ORDER BY id;
-- again: nobody left to move
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$lower(signup_source) = 'fleetos' AND tier_changed_at IS NULL$$);
-- downgrades are skipped unless allowed
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$id::text LIKE '00000000-%'$$, 'bulk', batch_size => 3);
CALL fleetmigrate.assign_tier('MAGIC_LINK', $$id::text LIKE '00000000-%' AND auth_tier = 'STAFF'$$,
                              'bulk down', allow_downgrade => true);
-- inside a transaction block it does not commit: a rollback undoes it all
BEGIN;
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$auth_tier = 'MAGIC_LINK'$$, batch_size => 100);
ROLLBACK;
SELECT count(*) AS magic_link_users FROM users WHERE auth_tier = 'MAGIC_LINK';
-- bad conditions and arguments
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$true) OR (true$$);
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$id FROM users$$);
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$true; DELETE FROM users$$);
CALL fleetmigrate.assign_tier('AUTHENTICATED', $$no_such_column = 1$$);
CALL fleetmigrate.assign_tier('AUTHENTICATED', '');
CALL fleetmigrate.assign_tier('PLATINUM', 'true');
CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true', batch_size => 0);
SELECT count(*) AS users_left FROM users;

-- the views
SELECT * FROM fleetmigrate.user_tier_summary;
SELECT count(*) AS authenticated FROM fleetmigrate.authenticated_users;
SELECT count(*) AS magic_link FROM fleetmigrate.magic_link_users;
SELECT user_id, tier FROM fleetmigrate.authenticated_users
 WHERE user_id::text LIKE '00000000-%' ORDER BY user_id;

-- configure_user_table(): checked up front
SELECT fleetmigrate.configure_user_table('users', tier_column => 'no_such_column');
SELECT fleetmigrate.configure_user_table('users', id_column => 'email');
SELECT fleetmigrate.configure_user_table('users', tier_column => 'created_at');
SELECT fleetmigrate.configure_user_table('users', upgraded_at_column => 'email');
CREATE VIEW users_view AS SELECT * FROM users;
SELECT fleetmigrate.configure_user_table('users_view');
SELECT fleetmigrate.configure_user_table(NULL);
SELECT * FROM fleetmigrate.tier_config;

-- another table, other names, no timestamps
CREATE SCHEMA "App";
CREATE TABLE "App"."Members" ("Member Id" uuid PRIMARY KEY, "Level" varchar(20) NOT NULL);
INSERT INTO "App"."Members" VALUES ('20000000-0000-0000-0000-000000000001', 'MAGIC_LINK');
SELECT fleetmigrate.configure_user_table('"App"."Members"', 'Member Id', 'Level', NULL, NULL);
SELECT table_schema, table_name, id_column, tier_column, upgraded_at_column,
       tier_changed_at_column, configured_by = current_user AS by_me
  FROM fleetmigrate.tier_config;
SELECT fleetmigrate.user_can_create_requests('20000000-0000-0000-0000-000000000001') AS before;
SELECT fleetmigrate.upgrade_user_tier('20000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'other table');
SELECT fleetmigrate.user_can_create_requests('20000000-0000-0000-0000-000000000001') AS after;
SELECT * FROM "App"."Members";
SELECT * FROM fleetmigrate.tier_users();
SELECT * FROM fleetmigrate.user_tier_summary;
-- the old table is no longer consulted
SELECT fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001') AS old_user;

-- a column dropped after configuring: a clear error naming the table
ALTER TABLE "App"."Members" DROP COLUMN "Level";
SELECT fleetmigrate.upgrade_user_tier('20000000-0000-0000-0000-000000000001', 'ROBO_HUB');
ALTER TABLE "App"."Members" ADD COLUMN "Level" text;
SELECT fleetmigrate.upgrade_user_tier('20000000-0000-0000-0000-000000000001', 'ROBO_HUB');
-- the table dropped: the same
DROP TABLE "App"."Members";
SELECT fleetmigrate.user_can_view_requests('20000000-0000-0000-0000-000000000001');

-- clean up
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP SCHEMA "App";
DROP VIEW users_view;
DROP TABLE users, requests;
