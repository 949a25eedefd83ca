-- params: migrations declare parameters, a run supplies them as JSON,
-- fleetmigrate.param() reads them while the migration runs; never text
-- substitution
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE TABLE pm_users (id uuid PRIMARY KEY, email text, tier text NOT NULL DEFAULT 'MAGIC_LINK');
INSERT INTO pm_users VALUES ('8d0c6e3a-1f4b-4b5e-9a57-2c3d4e5f6a7b', 'admin@example.com', 'MAGIC_LINK');

-- the seed's "fill in the admin user id by hand" case, and a secret
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 promote_admin
-- params: admin_user_id, secret webhook_token
UPDATE pm_users SET tier = 'ROBO_HUB' WHERE id = fleetmigrate.param('admin_user_id')::uuid;
CREATE TABLE pm_settings AS SELECT fleetmigrate.param('webhook_token') AS webhook_token;
-- migration: 002 batch_size
-- params: batch_size
CREATE TABLE pm_config AS SELECT fleetmigrate.param('batch_size')::int AS batch_size,
                                 fleetmigrate.param('batch_size') AS as_text;
$b$);
SELECT version, params FROM fleetmigrate.migrations ORDER BY version;

-- a missing parameter fails the plan before anything runs, naming it
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": "8d0c6e3a-1f4b-4b5e-9a57-2c3d4e5f6a7b"}');
CALL fleetmigrate.migrate(params => '{"admin_user_id": "x"}');
SELECT tier FROM pm_users;

-- supplied: each migration reads its own; numbers and booleans come as text
SELECT version, name, status FROM fleetmigrate.apply_pending(params => '{
  "admin_user_id": "8d0c6e3a-1f4b-4b5e-9a57-2c3d4e5f6a7b",
  "webhook_token": "s3cr3t",
  "batch_size": 500}');
SELECT tier FROM pm_users;
SELECT * FROM pm_settings;
SELECT * FROM pm_config;
-- the history records the values, the secret one masked
SELECT version, params FROM fleetmigrate.history WHERE event = 'applied' ORDER BY id;

-- a value is data, never SQL: this one is just a string
SELECT fleetmigrate.register('003', 'note', 'CREATE TABLE pm_note AS SELECT fleetmigrate.param(''note'') AS note', params => '{note}');
SELECT version, name, status FROM fleetmigrate.apply_pending(params => $j${"note": "'); DROP TABLE pm_users; --"}$j$);
SELECT note FROM pm_note;
SELECT count(*) AS users_still_there FROM pm_users;

-- outside a migration, param() is an error; so is a name the running
-- migration does not declare
SELECT fleetmigrate.param('admin_user_id');
SELECT fleetmigrate.param(NULL);
SELECT fleetmigrate.register('004', 'undeclared', 'SELECT fleetmigrate.param(''admin_user_id'')');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '004';
-- a function created by a migration cannot read the value later
SELECT fleetmigrate.register('004', 'sneaky', $$CREATE FUNCTION pm_leak() RETURNS text LANGUAGE sql AS 'SELECT fleetmigrate.param(''token'')'$$, params => '{token}');
SELECT version, name, status FROM fleetmigrate.apply_pending(params => '{"token": "t"}');
SELECT pm_leak();

-- bad input: unknown names, wrong JSON types, not an object, NULL
SELECT fleetmigrate.register('005', 'needs', 'SELECT fleetmigrate.param(''admin_user_id'')', params => '{admin_user_id}');
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": "a", "admin_userid": "b"}');
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": ["a"]}');
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": {"id": 1}}');
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": null}');
SELECT * FROM fleetmigrate.apply_pending(params => '["admin_user_id"]');
SELECT * FROM fleetmigrate.apply_pending(params => NULL);
SELECT fleetmigrate.register('006', 'bad', 'SELECT 1', params => '{"secret "}');
SELECT fleetmigrate.register('006', 'bad', 'SELECT 1', params => '{"secret Token"}');
SELECT fleetmigrate.register('006', 'bad', 'SELECT 1', params => '{a, "secret a"}');
-- a dry run checks the same, and sees the values
SELECT version, name, status FROM fleetmigrate.apply_pending(dry_run => true, params => '{"admin_user_id": "a"}');

DROP FUNCTION pm_leak();
DROP TABLE pm_users, pm_settings, pm_config, pm_note;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
