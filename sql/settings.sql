-- settings: a database owner who is not a superuser sets fleetmigrate's
-- settings with ALTER DATABASE ... SET (or ALTER ROLE ... SET) in a new
-- session, which has not loaded the library (nothing preloads it), and they
-- take effect in the session after
SELECT current_user AS regress_superuser, current_database() AS regress_db \gset
SET client_min_messages = warning;

-- Start from a cluster where no role may SET fleetmigrate's settings but
-- superusers (an earlier CREATE EXTENSION in this cluster granted it): what
-- the owner gets below comes from the owner's own CREATE EXTENSION.
DO $$
DECLARE
    p text;
BEGIN
    FOR p IN SELECT parname FROM pg_parameter_acl WHERE parname LIKE 'fleetmigrate.%' LOOP
        EXECUTE format('REVOKE SET ON PARAMETER %s FROM PUBLIC', p);
    END LOOP;
END
$$;
SELECT count(*) AS granted_before FROM pg_parameter_acl, aclexplode(paracl) a
 WHERE parname LIKE 'fleetmigrate.%' AND a.grantee = 0;

CREATE ROLE regress_settings_owner LOGIN;
CREATE ROLE regress_settings_deployer LOGIN;
CREATE DATABASE regress_fm_settings OWNER regress_settings_owner;

\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
-- 1.8 granted nothing; the owner's own update to 1.9 grants (CREATE
-- EXTENSION runs the same script: there is no fleetmigrate--1.9.sql)
CREATE EXTENSION fleetmigrate VERSION '1.8';
SELECT count(*) AS granted_by_1_8 FROM pg_parameter_acl, aclexplode(paracl) a
 WHERE parname LIKE 'fleetmigrate.%' AND a.grantee = 0;
ALTER EXTENSION fleetmigrate UPDATE;
-- every fleetmigrate setting (pg_settings lists them once the library is
-- loaded, as the update did) is user-settable, and PUBLIC may store it
SELECT s.name, s.context,
       EXISTS (SELECT FROM pg_parameter_acl p, aclexplode(p.paracl) a
                WHERE p.parname = s.name AND a.grantee = 0 AND a.privilege_type = 'SET') AS public_may_set
  FROM pg_settings s WHERE s.name LIKE 'fleetmigrate.%' ORDER BY s.name;
SELECT fleetmigrate.register('001', 'users', 'CREATE TABLE st_users (id int)', down => 'DROP TABLE st_users');
SELECT version, status FROM fleetmigrate.apply_pending();

-- a new session: the library is not loaded, so the settings are unknown
-- placeholders to the server
\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
SELECT count(*) AS loaded_settings FROM pg_settings WHERE name LIKE 'fleetmigrate.%';
ALTER DATABASE regress_fm_settings SET fleetmigrate.environment = 'development';
ALTER DATABASE regress_fm_settings SET fleetmigrate.out_of_order = 'error';
ALTER DATABASE regress_fm_settings SET fleetmigrate.lock_timeout = '250ms';
ALTER DATABASE regress_fm_settings SET fleetmigrate.lock_retries = 3;
ALTER DATABASE regress_fm_settings SET fleetmigrate.statement_timeout = '5min';
-- a misspelt name is still refused (only the real names are granted)
ALTER DATABASE regress_fm_settings SET fleetmigrate.enviroment = 'development';

-- they take effect in the next session: rollback() without force, because
-- this is a development database now, then the values the library reads
\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
SELECT version, name, status FROM fleetmigrate.rollback();
SELECT name, setting, unit, source FROM pg_settings WHERE name LIKE 'fleetmigrate.%' ORDER BY name;
-- out_of_order = error: a pending migration before an applied one is refused
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('000', 'early', 'SELECT 1');
\set VERBOSITY terse
SELECT version, status FROM fleetmigrate.apply_pending();
\set VERBOSITY default
SELECT fleetmigrate.unregister('000', 'early');

-- in a session that has loaded the library, a bad value is refused at once
ALTER DATABASE regress_fm_settings SET fleetmigrate.environment = 'prod';
-- in one that has not, it is stored unchecked; the next session warns when
-- the library loads and stays in production, the safe side
\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
ALTER DATABASE regress_fm_settings SET fleetmigrate.environment = 'prod';
\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
\set VERBOSITY terse
SELECT version, name, status FROM fleetmigrate.rollback();
\set VERBOSITY default
SHOW fleetmigrate.environment;
ALTER DATABASE regress_fm_settings RESET ALL;

-- a role that is not the owner sets its own default in a new session
\c regress_fm_settings regress_settings_deployer
SET client_min_messages = warning;
ALTER ROLE regress_settings_deployer SET fleetmigrate.environment = 'staging';
\c regress_fm_settings regress_settings_deployer
SET client_min_messages = warning;
SELECT count(*) AS findings FROM fleetmigrate.lint('');   -- loads the library
SELECT setting, source FROM pg_settings WHERE name = 'fleetmigrate.environment';
-- but may not set the database's
ALTER DATABASE regress_fm_settings SET fleetmigrate.environment = 'development';

-- fleetmigrate.wait_for_standbys: with no standby connected a run that
-- applied migrations says so; one that applied nothing, or a dry run, says
-- nothing; a bad value is refused
\c regress_fm_settings regress_settings_owner
SET client_min_messages = notice;
SET fleetmigrate.wait_for_standbys = '5s';
SELECT fleetmigrate.register('005', 'standbys', 'CREATE TABLE st_standbys (id int)');
SELECT version, status FROM fleetmigrate.apply_pending(dry_run => true);
-- (the notice of the time a migration took is left out: it varies)
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT version, status FROM fleetmigrate.apply_pending();
SET LOCAL client_min_messages = notice;
SELECT 'the wait is at commit';
COMMIT;
-- rolled back to a savepoint: nothing to wait for at commit
SELECT fleetmigrate.register('006', 'standbys_migrate', 'CREATE TABLE st_standbys_m (id int)');
BEGIN;
SAVEPOINT before_apply;
SET LOCAL client_min_messages = warning;
SELECT version, status FROM fleetmigrate.apply_pending();
ROLLBACK TO SAVEPOINT before_apply;
SELECT 'no wait at this commit';
COMMIT;
SET client_min_messages = warning;
CALL fleetmigrate.migrate();
SET client_min_messages = notice;
SELECT applied, outcome, standbys FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
CALL fleetmigrate.migrate();
SELECT applied, outcome, standbys FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
-- (the messages differ between server versions)
\set VERBOSITY sqlstate
SET fleetmigrate.wait_for_standbys = -1;
SET fleetmigrate.wait_for_standbys = 'until they catch up';
SET fleetmigrate.wait_for_standbys = '30 fortnights';
\set VERBOSITY default
RESET fleetmigrate.wait_for_standbys;
SHOW fleetmigrate.wait_for_standbys;
SET client_min_messages = warning;

-- the grants are cluster-wide and stay after DROP EXTENSION (they let
-- nobody do more than SET in a session after loading the library allows)
\c regress_fm_settings regress_settings_owner
SET client_min_messages = warning;
DROP EXTENSION fleetmigrate;
DROP TABLE IF EXISTS st_users, st_standbys, st_standbys_m;
SELECT count(*) AS still_granted FROM pg_parameter_acl, aclexplode(paracl) a
 WHERE parname LIKE 'fleetmigrate.%' AND a.grantee = 0 AND a.privilege_type = 'SET';

\c :regress_db :regress_superuser
SET client_min_messages = warning;
DROP DATABASE regress_fm_settings;
DROP ROLE regress_settings_owner;
DROP ROLE regress_settings_deployer;
