-- bundles: register_bundle(), export_bundle(), register_dir()
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;

-- a bundle with headers, down and verify scripts, a comment before the
-- first migration and CRLF line ends in one migration
SELECT * FROM fleetmigrate.register_bundle($b$-- our migrations, pasted from git

-- migration: 001 create_users
CREATE TABLE b_users (id bigint PRIMARY KEY, email text);
-- down
DROP TABLE b_users;
-- verify
SELECT 1 FROM b_users LIMIT 0;
-- migration: 002 create_feedback
-- requires: 001
-- conflicts: 002 old_feedback
-- params: admin_user_id, team
-- flags: allow_destructive
CREATE TABLE b_feedback (id bigint, user_id bigint REFERENCES b_users);

-- down
DROP TABLE b_feedback;
$b$ || E'-- migration: 003 crlf\r\nCREATE VIEW b_v AS SELECT 1 AS one;\r\n-- down\r\nDROP VIEW b_v;\r\n');
SELECT version, name, requires, conflicts, params, repeatable, allow_destructive,
       up, down, verify IS NULL AS no_verify
  FROM fleetmigrate.migrations ORDER BY version;

-- the same bundle again: unchanged; an edit: updated
SELECT * FROM fleetmigrate.register_bundle($b$-- migration: 001 create_users
CREATE TABLE b_users (id bigint PRIMARY KEY, email text);
-- down
DROP TABLE b_users;
-- verify
SELECT 1 FROM b_users LIMIT 0;
-- migration: 004 repeatable_view
-- flags: repeatable
CREATE OR REPLACE VIEW b_v4 AS SELECT 4 AS four;
$b$);

-- export, then register the export into an empty catalog: the same text
SELECT fleetmigrate.export_bundle() AS exported \gset
\echo :exported
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
CREATE EXTENSION fleetmigrate;
SELECT count(*) FROM fleetmigrate.register_bundle(:'exported');
SELECT fleetmigrate.export_bundle() = :'exported' AS round_trip;

-- names with quotes, semicolons and non-ASCII; a 10 MB body
SELECT * FROM fleetmigrate.register_bundle($b$-- migration: 010 it's; "quoted" — ünïcødé
SELECT 'it''s; fine';
$b$);
SELECT * FROM fleetmigrate.register_bundle(
    E'-- migration: 011 big\nSELECT ''' || repeat('x', 10 * 1024 * 1024) || E''';\n');
SELECT version, length(up) FROM fleetmigrate.migrations WHERE version = '011';
SELECT fleetmigrate.export_bundle() AS exported \gset
SELECT length(:'exported') > 10 * 1024 * 1024 AS big_export;

-- bad input: nothing of a failed bundle is registered
SELECT count(*) AS before FROM fleetmigrate.migrations;
SELECT * FROM fleetmigrate.register_bundle(NULL);
SELECT * FROM fleetmigrate.register_bundle('');
SELECT * FROM fleetmigrate.register_bundle(E'\n-- just a comment\n');
SELECT * FROM fleetmigrate.register_bundle(E'CREATE TABLE t (id int);\n-- migration: 020 x\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration:\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- migration: 021 b\nSELECT 2;\n-- migration: 020 a\nSELECT 3;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 good\nCREATE TABLE b_good (id int);\n-- migration: 021 bad\nCREATE TABLE b_bad (id int;\n');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- requires: 999\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- requires: 001 create_users, \nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- requires: 020 a\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- flags: fast\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- params: Admin\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- params: a\n-- params: b\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- down\nSELECT 2;\n-- down\nSELECT 3;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nBEGIN;\nSELECT 1;\nCOMMIT;');
-- lines that look like markers but are not spelled as one: refused with
-- the line and the exact spelling, instead of becoming script text (the
-- DROP TABLE meant for rollback would run on apply)
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nCREATE TABLE b_near (id int);\n--  down\nDROP TABLE b_near;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nCREATE TABLE b_near (id int);\n-- Down\nDROP TABLE b_near;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nCREATE TABLE b_near (id int);\n--down\nDROP TABLE b_near;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nCREATE TABLE b_near (id int);\n-- down:\nDROP TABLE b_near;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n\t-- VERIFY\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n  -- migration: 021 b\nDROP TABLE b_near;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- Migration: 021 b\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- migration 021 b\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n--- migration: 021 b\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- requires: 001\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n\n-- requires: 001\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\nSELECT 1;\n-- down\n-- flags: repeatable\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- Requires: 001\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- tolerate : 42701\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E' -- migration: 019 before\nSELECT 0;\n-- migration: 020 a\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\r\nSELECT 1;\r\n-- Down\r\nSELECT 2;\r\n');
-- identities and headers follow register()'s rules
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: -1 negative\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\u200bb\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\u00a0b\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 \u202eb\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- tolerate: ZZZZZ\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- params: ' || repeat('p', 100000) || E'\nSELECT 1;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 a\n-- params: p, secret p\nSELECT 1;');
SELECT count(*) AS after FROM fleetmigrate.migrations;
SELECT to_regclass('b_good') IS NULL AS nothing_ran;

-- comments that merely begin with a marker word are script text
SELECT * FROM fleetmigrate.register_bundle($b$-- migration: 025 comments
-- downgrade the column later
-- migrations table: see 001
-- verifying is done by 026
-- Down the road this becomes a view.
SELECT 1;
-- down
-- verify by hand afterwards
SELECT 2;
$b$);
SELECT up, down, verify FROM fleetmigrate.migrations WHERE version = '025';
DELETE FROM fleetmigrate.migrations WHERE version = '025';

-- a cycle registers (both exist), and validate() reports it (drift.sql)
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 030 a\n-- requires: 031\nSELECT 1;\n-- migration: 031 b\n-- requires: 030\nSELECT 1;');

-- register() takes the same attributes; a requirement must exist
SELECT fleetmigrate.register('040', 'single', 'SELECT 1', requires => '{001}', params => '{x}');
SELECT fleetmigrate.register('041', 'single', 'SELECT 1', requires => '{404}');
SELECT fleetmigrate.register('041', 'single', 'SELECT 1', requires => NULL);
SELECT fleetmigrate.register('041', 'single', 'SELECT 1', requires => '{NULL}');

-- a script that export could not read back is refused by name
SELECT fleetmigrate.register('050', 'marker_inside', E'SELECT 1;\n-- down\nSELECT 2;');
SELECT length(fleetmigrate.export_bundle());
DELETE FROM fleetmigrate.migrations WHERE version = '050';
SELECT fleetmigrate.register('050', 'near_marker_inside', E'SELECT 1;\n-- Down\nSELECT 2;');
SELECT length(fleetmigrate.export_bundle());
DELETE FROM fleetmigrate.migrations WHERE version = '050';

-- register_dir(): superusers and pg_read_server_files only
-- FM_FIXTURES: a copy of test/fixtures that the server can read (check.sh)
\getenv fixtures FM_FIXTURES
SELECT * FROM fleetmigrate.register_dir(:'fixtures' || '/fleetos');
SELECT * FROM fleetmigrate.register_dir(:'fixtures' || '/fleetos');
SELECT version, name, down IS NOT NULL AS has_down, verify IS NOT NULL AS has_verify
  FROM fleetmigrate.migrations WHERE version < '010' AND name <> 'create_users'
   AND name <> 'create_feedback' AND name <> 'crlf' AND name <> 'repeatable_view'
 ORDER BY version;
SELECT * FROM fleetmigrate.register_dir('test/fixtures/fleetos');
SELECT * FROM fleetmigrate.register_dir('/nonexistent/fleetmigrate');
SELECT * FROM fleetmigrate.register_dir('/');
CREATE ROLE regress_bundle_app;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_bundle_app;
GRANT EXECUTE ON FUNCTION fleetmigrate.register_dir(text) TO regress_bundle_app;
SET ROLE regress_bundle_app;
SELECT * FROM fleetmigrate.register_dir(:'fixtures' || '/fleetos');
RESET ROLE;

-- clean up
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP ROLE regress_bundle_app;
