-- verify: a migration's verify script runs right after it, before commit,
-- and again with verify() at any time; what it writes never stays
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE vf_users (id int PRIMARY KEY, tier text NOT NULL DEFAULT 'MAGIC_LINK');
-- verify
SELECT to_regclass('vf_users') IS NOT NULL;
SELECT count(*) = 0 FROM vf_users WHERE tier IS NULL;
-- migration: 002 seed
INSERT INTO vf_users VALUES (1, 'AUTHENTICATED'), (2, 'MAGIC_LINK');
-- verify
-- a verify script that writes: its effects must not persist
INSERT INTO vf_users VALUES (99, 'ROBO_HUB');
SELECT count(*) = 3 FROM vf_users;
$b$);
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT id FROM vf_users ORDER BY id;

-- verify() re-runs them: each result, nothing written
SELECT * FROM fleetmigrate.verify();
SELECT count(*) AS users FROM vf_users;

-- a verify script that returns false fails its migration like any error:
-- nothing of the call remains
SELECT fleetmigrate.register('003', 'index', 'CREATE INDEX vf_users_tier ON vf_users (tier)',
       verify => E'SELECT true;\n-- the index must be unique\nSELECT indisunique FROM pg_index WHERE indexrelid = ''vf_users_tier''::regclass;');
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, name, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT to_regclass('vf_users_tier') IS NULL AS nothing_ran;
-- NULL fails too; an error in a verify script names the verify script
SELECT fleetmigrate.register('003', 'index', 'CREATE INDEX vf_users_tier ON vf_users (tier)',
       verify => 'SELECT NULL::boolean');
SELECT * FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('003', 'index', 'CREATE INDEX vf_users_tier ON vf_users (tier)',
       verify => 'SELECT 1 FROM vf_no_such_table');
SELECT * FROM fleetmigrate.apply_pending();
-- migrate() records the failed verification
CALL fleetmigrate.migrate();
SELECT version, name, event, sqlstate FROM fleetmigrate.history WHERE event = 'failed';
-- rows that are not boolean, and no rows, pass
SELECT fleetmigrate.register('003', 'index', 'CREATE INDEX vf_users_tier ON vf_users (tier)',
       verify => E'SELECT indexrelid FROM pg_index WHERE indexrelid = ''vf_users_tier''::regclass;\nSELECT true WHERE false;');
SELECT version, name, status FROM fleetmigrate.apply_pending();

-- drift found later: verify() reports it and changes nothing
DROP INDEX vf_users_tier;
ALTER TABLE vf_users RENAME TO vf_people;
SELECT version, name, ok, message FROM fleetmigrate.verify();
ALTER TABLE vf_people RENAME TO vf_users;
-- one version; one without a verify script says so
SELECT fleetmigrate.register('004', 'no_checks', 'SELECT 1');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.verify('4');
SELECT * FROM fleetmigrate.verify('002');

-- bad input
SELECT * FROM fleetmigrate.verify('999');
SELECT fleetmigrate.register('005', 'sneaky', 'SELECT * FROM fleetmigrate.verify()');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '005';

-- the FleetOS example set (test/fixtures/fleetos): applied, each
-- migration's verify script passes after it and again with verify(); rolled
-- back in development and applied again, it still verifies
DROP TABLE vf_users;
DELETE FROM fleetmigrate.migrations;
-- FM_FIXTURES: a copy of test/fixtures that the server can read (check.sh)
\getenv fixtures FM_FIXTURES
SELECT count(*) FROM fleetmigrate.register_dir(:'fixtures' || '/fleetos');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.verify();
SET fleetmigrate.environment = development;
SELECT version, name, status FROM fleetmigrate.rollback(target => '000');
SELECT to_regclass('user_tier_history') IS NULL AS tiers_gone;
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, ok FROM fleetmigrate.verify();
SELECT version, name, status FROM fleetmigrate.rollback(steps => 4);
RESET fleetmigrate.environment;

DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
