-- import_history: adopting another tool's history, each entry checked as
-- baseline() checks it.  Each tool's table is made here with the layout the
-- tool itself creates, and rows like the ones it writes.
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- Studley's migrations (the seed guide): 007 and 010 twice each
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 initialize_database
CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);
CREATE TABLE IF NOT EXISTS sessions (id int PRIMARY KEY, user_id int);
-- migration: 007 create_feedback_tables
CREATE TABLE IF NOT EXISTS bug_reports (id int PRIMARY KEY, body text);
-- migration: 007 create_user_feedback
CREATE TABLE IF NOT EXISTS user_feedback (id int PRIMARY KEY, rating int);
-- migration: 010 create_user_system_tables
CREATE TABLE IF NOT EXISTS user_profiles (user_id int PRIMARY KEY);
-- verify
SELECT user_id FROM user_profiles LIMIT 0;
-- migration: 010 create_user_profiles
CREATE TABLE IF NOT EXISTS profiles (id int PRIMARY KEY);
-- migration: 013 create_ai_workspace_tables
CREATE TABLE IF NOT EXISTS ai_chat_sessions (id int PRIMARY KEY);
$b$);

-- the legacy database, made from the SQL editor: 010 create_user_profiles
-- and 013 never ran
CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE TABLE sessions (id int PRIMARY KEY, user_id int);
CREATE TABLE bug_reports (id int PRIMARY KEY, body text);
CREATE TABLE user_feedback (id int PRIMARY KEY, rating int);
CREATE TABLE user_profiles (user_id int PRIMARY KEY);

-- Studley's own tracking table (the guide's "Create a migrations tracking
-- table"): one row per file run by hand, and one row too many, for the
-- 010 file that was pasted into the tracking table but never run
CREATE TABLE migration_history (
    id serial PRIMARY KEY,
    filename text NOT NULL UNIQUE,
    executed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO migration_history (filename) VALUES
    ('001_initialize_database.sql'),
    ('007_create_feedback_tables.sql'),
    ('007_create_user_feedback.sql'),
    ('010_create_user_system_tables.sql'),
    ('010_create_user_profiles.sql'),
    ('011_add_credits.sql');

-- tool 'query': the team's own table, read with the team's own query
BEGIN;
SELECT * FROM fleetmigrate.import_history('query', query => $q$
    SELECT split_part(filename, '_', 1) AS version,
           regexp_replace(filename, '^[0-9]+_|\.sql$', '', 'g') AS name
      FROM migration_history ORDER BY id
$q$, reason => 'Studley legacy database');
SELECT version, name, state FROM fleetmigrate.status;
SELECT version, name, event, reason FROM fleetmigrate.history ORDER BY version, name;
-- a second import finds them applied
SELECT version, name, outcome FROM fleetmigrate.import_history('query', query => $q$
    SELECT split_part(filename, '_', 1) AS version,
           regexp_replace(filename, '^[0-9]+_|\.sql$', '', 'g') AS name
      FROM migration_history WHERE filename LIKE '00%' ORDER BY id
$q$);
-- an imported migration can be undone like a baseline
SELECT fleetmigrate.unbaseline('007', 'create_user_feedback', reason => 'imported by mistake');
SELECT version, name, state FROM fleetmigrate.status WHERE version = '007';
-- validate() knows imported migrations: one deleted from the catalog by
-- hand is reported, an unbaselined one is not
DELETE FROM fleetmigrate.migrations WHERE version IN ('001', '007');
SELECT version, name, problem FROM fleetmigrate.validate();
ROLLBACK;

-- strict => true: all or nothing
SELECT * FROM fleetmigrate.import_history('query', query => $q$
    SELECT split_part(filename, '_', 1) AS version,
           regexp_replace(filename, '^[0-9]+_|\.sql$', '', 'g') AS name
      FROM migration_history ORDER BY id
$q$, strict => true);
SELECT count(*) AS in_effect FROM fleetmigrate.status WHERE state <> 'pending';

-- the query: one SELECT, read-only, with a version or a name column
SELECT * FROM fleetmigrate.import_history('query', query => 'DELETE FROM migration_history');
SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT 1; SELECT 2');
SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT filename FROM migration_history');
SELECT * FROM fleetmigrate.import_history('query', query => 'WITH d AS (DELETE FROM migration_history RETURNING filename) SELECT filename AS name FROM d');
SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT filename AS name INTO stolen FROM migration_history');
SELECT * FROM fleetmigrate.import_history('query', query => 'SELEC version');
SELECT * FROM fleetmigrate.import_history('query');
SELECT count(*) AS rows_kept FROM migration_history;

-- supabase: version, name and statements; a migration fleetmigrate does not
-- have is registered from its statements, then checked and imported
CREATE SCHEMA supabase_migrations;
CREATE TABLE supabase_migrations.schema_migrations (
    version text NOT NULL PRIMARY KEY,
    statements text[],
    name text
);
INSERT INTO supabase_migrations.schema_migrations VALUES
    ('001', ARRAY['CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text)',
                  'CREATE TABLE IF NOT EXISTS sessions (id int PRIMARY KEY, user_id int)'],
     'initialize_database'),
    ('20240301120000', ARRAY['CREATE TABLE notes (id int PRIMARY KEY, body text)',
                             'CREATE INDEX notes_body_idx ON notes (body)'],
     'notes'),
    ('20240302120000', ARRAY['CREATE TABLE reminders (id int PRIMARY KEY);'],
     'reminders');
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE INDEX notes_body_idx ON notes (body);
BEGIN;
SELECT * FROM fleetmigrate.import_history('supabase');
SELECT version, name, state FROM fleetmigrate.status WHERE version LIKE '2024%';
SELECT up FROM fleetmigrate.migrations WHERE version = '20240301120000';
ROLLBACK;

-- flyway: versions without zero padding, descriptions with spaces, a
-- baseline marker, a failed row and a repeatable migration
CREATE TABLE flyway_schema_history (
    installed_rank integer NOT NULL PRIMARY KEY,
    version varchar(50),
    description varchar(200) NOT NULL,
    type varchar(20) NOT NULL,
    script varchar(1000) NOT NULL,
    checksum integer,
    installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(),
    execution_time integer NOT NULL,
    success boolean NOT NULL
);
INSERT INTO flyway_schema_history VALUES
    (1, '0', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', now(), 0, true),
    (2, '1', 'initialize database', 'SQL', 'V1__initialize_database.sql', 12345, 'app', now(), 20, true),
    (3, '7', 'create feedback tables', 'SQL', 'V7__create_feedback_tables.sql', 23456, 'app', now(), 9, true),
    (4, '10', 'create user profiles', 'SQL', 'V10__create_user_profiles.sql', 34567, 'app', now(), 4, false),
    (5, NULL, 'views', 'SQL', 'R__views.sql', 45678, 'app', now(), 3, true);
BEGIN;
SELECT * FROM fleetmigrate.import_history('flyway');
ROLLBACK;
DROP TABLE flyway_schema_history;

-- dbmate: only versions
CREATE SCHEMA dbmate;
CREATE TABLE dbmate.schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO dbmate.schema_migrations VALUES ('001'), ('013');
BEGIN;
SET LOCAL search_path = dbmate, public;
SELECT * FROM fleetmigrate.import_history('dbmate');
ROLLBACK;

-- golang-migrate: one row, the last version it ran, and whether that run
-- broke off part way (dirty)
CREATE SCHEMA gomigrate;
CREATE TABLE gomigrate.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO gomigrate.schema_migrations VALUES (10, false);
BEGIN;
SET LOCAL search_path = gomigrate, public;
SELECT * FROM fleetmigrate.import_history('golang-migrate');
ROLLBACK;
UPDATE gomigrate.schema_migrations SET dirty = true;
BEGIN;
SET LOCAL search_path = gomigrate, public;
SELECT * FROM fleetmigrate.import_history('golang-migrate');
ROLLBACK;
-- a table made by hand with a NULL version: skipped, nothing to match
CREATE SCHEMA gonull;
CREATE TABLE gonull.schema_migrations (version bigint, dirty boolean);
INSERT INTO gonull.schema_migrations VALUES (NULL, false);
BEGIN;
SET LOCAL search_path = gonull, public;
SELECT * FROM fleetmigrate.import_history('golang-migrate');
ROLLBACK;
DROP SCHEMA gonull CASCADE;
-- an entry of a query with neither a version nor a name: skipped
SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT NULL::text AS version, NULL::text AS name');

-- node-pg-migrate: names are file names, "<timestamp>_<name>"
CREATE TABLE pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO pgmigrations (name, run_on) VALUES
    ('001_initialize-database', '2024-01-01'),
    ('007_create-user-feedback', '2024-01-02'),
    ('007_something-else', '2024-01-03');
BEGIN;
SELECT * FROM fleetmigrate.import_history('node-pg-migrate');
ROLLBACK;
DROP TABLE pgmigrations;

-- sqitch: changes have names only; the registry holds what is deployed
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.changes (
    change_id text PRIMARY KEY,
    script_hash text,
    change text NOT NULL,
    project text NOT NULL,
    note text NOT NULL DEFAULT '',
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    committer_name text NOT NULL,
    committer_email text NOT NULL,
    planned_at timestamptz NOT NULL,
    planner_name text NOT NULL,
    planner_email text NOT NULL
);
INSERT INTO sqitch.changes VALUES
    ('a1', 'h1', 'create_feedback_tables', 'studley', '', '2024-01-01', 'Ann', 'ann@example.com', '2024-01-01', 'Ann', 'ann@example.com'),
    ('a2', 'h2', 'create_ai_workspace_tables', 'studley', '', '2024-01-02', 'Ann', 'ann@example.com', '2024-01-02', 'Ann', 'ann@example.com');
BEGIN;
SELECT * FROM fleetmigrate.import_history('sqitch');
ROLLBACK;

-- prisma: unfinished and rolled-back rows did not apply; a migration
-- rolled back and then run again has two rows
CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY,
    checksum varchar(64) NOT NULL,
    finished_at timestamptz,
    migration_name varchar(255) NOT NULL,
    logs text,
    rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(),
    applied_steps_count integer NOT NULL DEFAULT 0
);
INSERT INTO _prisma_migrations VALUES
    ('p1', 'c1', '2024-01-01 10:00:01', '001_initialize_database', NULL, NULL, '2024-01-01 10:00', 1),
    ('p2', 'c2', NULL, '007_create_feedback_tables', 'syntax error', '2024-01-02 11:00', '2024-01-02 10:00', 0),
    ('p3', 'c2', '2024-01-03 10:00:01', '007_create_feedback_tables', NULL, NULL, '2024-01-03 10:00', 1),
    ('p4', 'c3', NULL, '010_create_user_profiles', NULL, NULL, '2024-01-04 10:00', 0);
BEGIN;
SELECT * FROM fleetmigrate.import_history('prisma');
SELECT version, name, state FROM fleetmigrate.status WHERE state <> 'pending';
ROLLBACK;
DROP TABLE _prisma_migrations;

-- bad input
SELECT * FROM fleetmigrate.import_history('liquibase');
SELECT * FROM fleetmigrate.import_history(NULL);
SELECT * FROM fleetmigrate.import_history('flyway');
SELECT * FROM fleetmigrate.import_history('dbmate', query => 'SELECT 1 AS version');
SELECT * FROM fleetmigrate.import_history('dbmate', strict => NULL);

-- the source is read as the caller: a role that may import but not read
-- the team's table gets "permission denied"
CREATE ROLE regress_importer;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_importer;
GRANT EXECUTE ON FUNCTION fleetmigrate.import_history(text, text, boolean, text) TO regress_importer;
SET ROLE regress_importer;
SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT filename AS name FROM public.migration_history');
RESET ROLE;
-- and PUBLIC may not import
CREATE ROLE regress_import_nobody;
SET ROLE regress_import_nobody;
SELECT * FROM fleetmigrate.import_history('sqitch');
RESET ROLE;
REVOKE ALL ON SCHEMA fleetmigrate FROM regress_importer;
REVOKE ALL ON FUNCTION fleetmigrate.import_history(text, text, boolean, text) FROM regress_importer;
DROP ROLE regress_importer, regress_import_nobody;

-- the entries are checked together, in the history's order: a table one
-- migration created and a later one dropped is not expected of the first
SELECT fleetmigrate.register_bundle($b$
-- migration: 090 audit_log
CREATE TABLE audit_log (id int);
-- migration: 091 drop_audit_log
DROP TABLE audit_log;
$b$);
SELECT * FROM fleetmigrate.import_history('query', query => $q$
    SELECT v AS version FROM (VALUES ('090'), ('091')) h(v) ORDER BY v
$q$);

-- not from inside a migration
SELECT fleetmigrate.register('099', 'sneaky', 'SELECT * FROM fleetmigrate.import_history(''sqitch'')');
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '099');
DELETE FROM fleetmigrate.migrations WHERE version = '099';

DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
DROP SCHEMA supabase_migrations, dbmate, gomigrate, sqitch CASCADE;
DROP TABLE users, sessions, bug_reports, user_feedback, user_profiles, notes, migration_history;
