-- rehearse: a dry run reports the locks each migration took on existing
-- tables and whether it rewrote one; rehearse_rollback() applies, rolls
-- back with the down script and applies again, comparing the schema
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE TABLE rh_users (id int PRIMARY KEY, email text);
INSERT INTO rh_users SELECT g, 'u' || g FROM generate_series(1, 10) g;

SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 add_tier
ALTER TABLE rh_users ADD COLUMN tier text;
-- down
ALTER TABLE rh_users DROP COLUMN tier;
-- migration: 002 email_type
ALTER TABLE rh_users ALTER COLUMN email TYPE varchar(200);
-- down
ALTER TABLE rh_users ALTER COLUMN email TYPE text;
-- migration: 003 index
CREATE INDEX rh_users_email ON rh_users (email);
-- down
DROP INDEX rh_users_email;
-- migration: 004 new_table
CREATE TABLE rh_requests (id int PRIMARY KEY, user_id int REFERENCES rh_users);
-- down
DROP TABLE rh_requests;
-- migration: 005 read_only
SELECT count(*) FROM rh_users;
-- down
SELECT 1;
$b$);

-- the dry run: locks on tables that existed before each migration (not
-- those an earlier migration of the run took), the strongest one each,
-- and "(rewritten)" when the table's file changed
SELECT version, name, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT relfilenode = pg_relation_filenode('rh_users') AS nothing_changed, to_regclass('rh_requests') IS NULL AS no_new_table
  FROM pg_class WHERE oid = 'rh_users'::regclass;

-- rehearse_rollback(): every down script here restores the schema
SELECT * FROM fleetmigrate.rehearse_rollback();
SELECT version, state FROM fleetmigrate.status;
SELECT count(*) AS events FROM fleetmigrate.history;
SELECT attname FROM pg_attribute WHERE attrelid = 'rh_users'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;

-- a down script that forgets something, and one that drops too much
SELECT fleetmigrate.register('003', 'index', E'CREATE INDEX IF NOT EXISTS rh_users_email ON rh_users (email);\nCREATE INDEX IF NOT EXISTS rh_users_tier ON rh_users (tier);',
       down => 'DROP INDEX rh_users_email');
SELECT fleetmigrate.register('004', 'new_table', 'CREATE TABLE rh_requests (id int PRIMARY KEY, user_id int REFERENCES rh_users)',
       down => 'DROP TABLE rh_requests; ALTER TABLE rh_users DROP COLUMN tier');
SELECT version, name, status, message FROM fleetmigrate.rehearse_rollback();
-- a target, and an up script that fails: the rehearsal stops with an error row
SELECT version, status FROM fleetmigrate.rehearse_rollback(target => '002');
-- a down script that forgets something makes applying again fail
SELECT fleetmigrate.register('003', 'index', E'CREATE INDEX rh_users_email ON rh_users (email);\nCREATE INDEX rh_users_tier ON rh_users (tier);',
       down => 'DROP INDEX rh_users_email');
SELECT version, name, status, message FROM fleetmigrate.rehearse_rollback(target => '003');
SELECT fleetmigrate.register('002', 'email_type', 'ALTER TABLE rh_users ALTER COLUMN emial TYPE varchar(200)', down => 'SELECT 1');
SELECT version, name, status, split_part(message, E'\n', 1) AS message FROM fleetmigrate.rehearse_rollback();

-- bad input: no down script, parameters, not from inside a migration
SELECT fleetmigrate.register('002', 'email_type', 'ALTER TABLE rh_users ALTER COLUMN email TYPE varchar(200)');
SELECT * FROM fleetmigrate.rehearse_rollback();
SELECT * FROM fleetmigrate.rehearse_rollback(target => '999');
SELECT * FROM fleetmigrate.rehearse_rollback(params => '{"x": 1}');
SELECT * FROM fleetmigrate.rehearse_rollback(params => NULL);

SELECT version, state FROM fleetmigrate.status;
DROP TABLE rh_users;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
