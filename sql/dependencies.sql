-- dependencies: apply_pending() and migrate() check requirements and
-- conflicts before anything runs, and explain "relation does not exist"
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE FUNCTION pending() RETURNS TABLE(version text, name text, state text)
LANGUAGE sql AS $$ SELECT version, name, state FROM fleetmigrate.status $$;

-- a requirement that sorts after the migration that needs it
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 create_orders
-- requires: 002 create_users
CREATE TABLE dep_orders (id int PRIMARY KEY, user_id int REFERENCES dep_users);
-- migration: 002 create_users
CREATE TABLE dep_users (id int PRIMARY KEY);
$b$);
SELECT * FROM fleetmigrate.apply_pending();
-- with a target between them, the requirement is not part of the run
SELECT * FROM fleetmigrate.apply_pending(target => '001');
-- a dry run is refused the same way
SELECT * FROM fleetmigrate.apply_pending(dry_run => true);
SELECT * FROM pending();
SELECT to_regclass('dep_users') IS NULL AS nothing_ran;

-- so is the unattended runner, which records the refusal in its run
CALL fleetmigrate.migrate();
SELECT outcome, applied, failed_version, sqlstate, split_part(error, E'\n', 1) AS error
  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT * FROM pending();

-- renumbered so that the requirement runs first: both apply, in one run
DELETE FROM fleetmigrate.migrations;
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 create_users
CREATE TABLE dep_users (id int PRIMARY KEY);
-- migration: 002 create_orders
-- requires: 001 create_users
CREATE TABLE dep_orders (id int PRIMARY KEY, user_id int REFERENCES dep_users);
$b$);
SELECT version, name, status FROM fleetmigrate.apply_pending();

-- a requirement applied by an earlier run is met; a bare version requires
-- every migration with that version (here two parallel 003s)
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 003 add_email
ALTER TABLE dep_users ADD COLUMN email text;
-- migration: 003 add_phone
ALTER TABLE dep_users ADD COLUMN phone text;
-- migration: 004 contact_view
-- requires: 001, 003
CREATE VIEW dep_contacts AS SELECT id, email, phone FROM dep_users;
$b$);
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '004');

-- a cycle registers (validate() reports it), but never runs
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 010 a
-- requires: 011
CREATE TABLE dep_a (id int);
-- migration: 011 b
-- requires: 010
CREATE TABLE dep_b (id int);
$b$);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, name, problem FROM fleetmigrate.validate();
DELETE FROM fleetmigrate.migrations WHERE version IN ('010', '011');

-- conflicts: two pending migrations that cannot both be applied
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 020 tiers_as_enum
CREATE TYPE dep_tier AS ENUM ('free', 'pro');
-- migration: 021 tiers_as_table
-- conflicts: 020 tiers_as_enum
CREATE TABLE dep_tier (name text PRIMARY KEY);
$b$);
SELECT * FROM fleetmigrate.apply_pending();
-- a target that stops before one of them applies the other
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '020');
-- now the conflict is applied
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM pending() WHERE version IN ('020', '021');
DELETE FROM fleetmigrate.migrations WHERE version = '021';

-- every problem of a plan is listed; the first one is the message
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 030 first
-- requires: 032 third
-- conflicts: 020
SELECT 1;
-- migration: 031 second
-- requires: 032 third
SELECT 1;
-- migration: 032 third
SELECT 1;
$b$);
SELECT * FROM fleetmigrate.apply_pending();

-- a requirement whose migration was deleted from the catalog behind
-- register()'s back
DELETE FROM fleetmigrate.migrations WHERE version IN ('030', '031');
SELECT fleetmigrate.register('033', 'needs_gone', 'SELECT 1', requires => '{032}');
DELETE FROM fleetmigrate.migrations WHERE version = '032';
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '033';

-- bad input: requirements and conflicts are checked when registering
SELECT fleetmigrate.register('040', 'bad', 'SELECT 1', requires => '{999}');
SELECT fleetmigrate.register('040', 'bad', 'SELECT 1', conflicts => '{NULL}');
SELECT fleetmigrate.register('040', 'bad', 'SELECT 1', requires => '{040}');
SELECT fleetmigrate.register('040', 'bad', 'SELECT 1', requires => '{"001 create_users", "001 create_users"}');
SELECT fleetmigrate.register('040', 'bad', 'SELECT 1', conflicts => NULL);

-- "relation does not exist": which migration creates it, and why it has
-- not run.  Nothing registered creates it: the seed's "apply the core
-- schema first"
SELECT fleetmigrate.register('050', 'tiers', E'-- progressive auth\nALTER TABLE users ADD COLUMN tier text;');
SELECT * FROM fleetmigrate.apply_pending();
-- a migration that sorts later creates it
SELECT fleetmigrate.register('051', 'core_schema', 'CREATE TABLE users (id uuid PRIMARY KEY);');
SELECT * FROM fleetmigrate.apply_pending();
-- the dry run and migrate() say the same
SELECT version, name, status, message FROM fleetmigrate.apply_pending(dry_run => true);
CALL fleetmigrate.migrate();
-- a migration that was applied created it, and it was dropped since
DELETE FROM fleetmigrate.migrations WHERE version IN ('050', '051');
SELECT fleetmigrate.register('050', 'create_accounts', 'CREATE TABLE dep_accounts (id int)');
SELECT version, name, status FROM fleetmigrate.apply_pending();
DROP TABLE dep_accounts;
SELECT fleetmigrate.register('051', 'index_accounts', 'CREATE INDEX ON dep_accounts (id)');
SELECT * FROM fleetmigrate.apply_pending();
-- the server's own hint is kept
DELETE FROM fleetmigrate.migrations WHERE version = '051';
SELECT fleetmigrate.register('051', 'alias', 'SELECT dep_users.id FROM dep_users u');
SELECT * FROM fleetmigrate.apply_pending();

-- the error leaves nothing behind: the failed call rolled back entirely
SELECT version, name, state FROM pending() WHERE state <> 'applied';

DROP FUNCTION pending();
DROP TABLE dep_orders, dep_users CASCADE;
DROP TYPE dep_tier;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
