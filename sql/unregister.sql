-- unregister: remove a migration that never ran (Studley's duplicate 010),
-- with an 'unregistered' event; refused for one that ran, or that another
-- migration requires
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- a baselined migration is in effect: refused below (the legacy database
-- has its table, so the baseline's object check passes)
CREATE TABLE un_legacy (id int);
SELECT fleetmigrate.register('000', 'legacy_schema', 'CREATE TABLE un_legacy (id int)');
SELECT version, name FROM fleetmigrate.baseline('000', reason => 'the legacy database has it');

-- Studley: two 010 migrations, the second an alternative to the first
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 initialize_database
CREATE TABLE un_users (id int PRIMARY KEY);
-- migration: 010 create_user_system_tables
CREATE TABLE un_user_profiles (user_id int REFERENCES un_users);
-- migration: 010 create_user_profiles
-- conflicts: 010 create_user_system_tables
CREATE TABLE un_profiles (id int REFERENCES un_users);
-- migration: 012 create_admin_user
-- requires: 010 create_user_system_tables
INSERT INTO un_users VALUES (1);
$b$);
-- a target cannot separate two migrations of the same version: the hint
-- says what does
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '010');
SELECT fleetmigrate.unregister('010', 'create_user_profiles', reason => 'redundant with create_user_system_tables');
SELECT version, name, state FROM fleetmigrate.status;
SELECT version, name, event, performed_by = current_user AS by_me, reason
  FROM fleetmigrate.history WHERE event = 'unregistered';
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.validate();

\set SHOW_CONTEXT never
-- refused: applied, baselined, not registered, required, partly run
SELECT fleetmigrate.unregister('001', 'initialize_database');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('000', 'legacy_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('010', 'create_user_profiles');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('10', 'create_user_system_tables');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.register('030', 'base', 'CREATE TABLE un_base (id int)');
SELECT fleetmigrate.register('031', 'uses_base', 'CREATE TABLE un_uses (id int)', requires => '{030}');
SELECT fleetmigrate.unregister('030', 'base');
\echo :LAST_ERROR_SQLSTATE
-- another migration of version 030 still meets "requires: 030"
SELECT fleetmigrate.register('030', 'base_too', 'CREATE TABLE un_base2 (id int)');
SELECT fleetmigrate.unregister('030', 'base');
-- ... but not when it is the last one
SELECT fleetmigrate.unregister('030', 'base_too');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('031', 'uses_base');
SELECT fleetmigrate.unregister('030', 'base_too');
-- a non-transactional migration that ran a statement outside a transaction
SELECT fleetmigrate.register('040', 'concurrent_index', 'CREATE INDEX CONCURRENTLY un_idx ON un_users (id); CREATE TABLE un_after (id int)');
UPDATE fleetmigrate.migrations SET statements_done = 1, state = 'failed' WHERE version = '040';
SELECT fleetmigrate.unregister('040', 'concurrent_index');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM fleetmigrate.migrations WHERE version = '040';
-- a repeatable migration that ran, then changed, is pending but in effect
SELECT fleetmigrate.register('R1', 'view', 'CREATE OR REPLACE VIEW un_v AS SELECT 1 AS one', repeatable => true);
SELECT count(*) FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('R1', 'view', 'CREATE OR REPLACE VIEW un_v AS SELECT 2 AS one', repeatable => true);
SELECT fleetmigrate.unregister('R1', 'view');
\echo :LAST_ERROR_SQLSTATE
-- bad input
SELECT fleetmigrate.unregister(NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('001', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT fleetmigrate.unregister('', '');
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT errors

-- allowed: a failed migration (its transaction was rolled back), and a
-- rolled-back one; validate() does not miss them afterwards
SELECT fleetmigrate.register('050', 'fails', 'CREATE TABLE un_users (id int)');
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('050', 'fails');
SELECT fleetmigrate.register('051', 'undone', 'CREATE TABLE un_undone (id int)', 'DROP TABLE un_undone');
SELECT count(*) FROM fleetmigrate.apply_pending();
SET fleetmigrate.environment = 'development';
SELECT version, status FROM fleetmigrate.rollback();
SELECT fleetmigrate.unregister('051', 'undone');
SELECT * FROM fleetmigrate.validate() WHERE version <> 'R1';
SELECT version, name, event FROM fleetmigrate.history
 WHERE version IN ('050', '051') ORDER BY id;
-- unregistering twice: the second time it is not registered
SELECT fleetmigrate.unregister('051', 'undone');

DROP VIEW un_v;
DROP TABLE un_user_profiles, un_users;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
