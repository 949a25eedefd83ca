-- status: the view shows the lint finding stored in the catalog instead of
-- linting every migration still to run on each read.  The finding is
-- stored at registration, after a call that applied or rolled back
-- migrations, by unbaseline() and by ALTER EXTENSION UPDATE, with the time
-- (linted_at); fleetmigrate.lint() still lints the database as it is now.
CREATE EXTENSION fleetmigrate VERSION '1.9';
SET client_min_messages = warning;
\set VERBOSITY terse
CREATE TABLE st_users (id int PRIMARY KEY, email text);
SELECT fleetmigrate.register('001', 'drop_email', 'ALTER TABLE st_users DROP COLUMN email',
                             down => 'ALTER TABLE st_users ADD COLUMN email text',
                             allow_destructive => true);

-- an index on an existing table: a warning, if lint finds the table
SELECT fleetmigrate.register('009', 'index_email', 'CREATE INDEX st_users_email ON st_users (email)');

-- a comment that 1.10 reads as a (malformed) "-- batch:" line, in a text
-- registered by 1.9 (the 1.10 library refuses it at registration, so the
-- catalog row stands in for one): the update warns about it
SELECT fleetmigrate.register('010', 'q3_cleanup', 'UPDATE st_users SET email = lower(email) WHERE email IS NOT NULL');
UPDATE fleetmigrate.migrations
   SET up = E'-- Batch: Q3 cleanup, part 2\n' || up,
       checksum = fleetmigrate.checksum(E'-- Batch: Q3 cleanup, part 2\n' || up)
 WHERE version = '010';

-- the calls of lint() counted in this transaction (track_functions), as
-- counted since the last call of the backend's that was not yet reported
CREATE FUNCTION pg_temp.lint_calls() RETURNS bigint LANGUAGE sql AS
$$SELECT COALESCE(sum(calls), 0) FROM pg_stat_xact_user_functions
   WHERE schemaname = 'fleetmigrate' AND funcname = 'lint'$$;

-- 1.9's view calls lint() on every read, once per migration still to run
BEGIN;
SET LOCAL track_functions = 'all';
SELECT pg_temp.lint_calls() AS before \gset
SELECT version, lint FROM fleetmigrate.status;
SELECT pg_temp.lint_calls() - :before AS lint_calls;
COMMIT;

-- a finding stored by an older library's rules: the update lints again
-- what is still to run, with the database's search_path (st_users is in
-- public, not in the extension's schema) and dates it; the session's
-- search_path is as it was
UPDATE fleetmigrate.migrations SET lint = 'ok';
ALTER EXTENSION fleetmigrate UPDATE TO '1.10';
SHOW search_path;
SELECT version, lint, linted_at IS NOT NULL AS dated FROM fleetmigrate.status;
SELECT fleetmigrate.unregister('009', 'index_email');
SELECT fleetmigrate.unregister('010', 'q3_cleanup');

-- 1.10's view reads the stored finding: no call of lint(), though the
-- same transaction counts a call made directly
BEGIN;
SET LOCAL track_functions = 'all';
SELECT pg_temp.lint_calls() AS before \gset
SELECT version, lint FROM fleetmigrate.status;
SELECT worst_lint FROM fleetmigrate.summary;
SELECT pg_temp.lint_calls() - :before AS lint_calls;
SELECT count(*) AS findings FROM fleetmigrate.lint('ALTER TABLE st_users DROP COLUMN email');
SELECT pg_temp.lint_calls() - :before AS lint_calls;
COMMIT;

-- the stored finding is the one of the database when it was stored: an
-- index on a table that does not exist blocks nobody
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id)');
SELECT version, state, lint, linted_at IS NOT NULL AS dated FROM fleetmigrate.status ORDER BY version;
SELECT linted_at AS linted_002 FROM fleetmigrate.status WHERE version = '002' \gset

-- a table created by hand since: the view keeps the finding stored before
-- it (linted_at says when), lint() says what it is now
CREATE TABLE st_legacy (id int);
SELECT version, lint, linted_at = :'linted_002' AS as_registered FROM fleetmigrate.status WHERE version = '002';
SELECT rule, severity FROM fleetmigrate.lint((SELECT up FROM fleetmigrate.migrations WHERE version = '002'));

-- registering it again unchanged lints nothing; with another text, that text
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id)');
SELECT lint, linted_at = :'linted_002' AS as_registered FROM fleetmigrate.status WHERE version = '002';
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id) WHERE id > 0');
SELECT lint, linted_at > :'linted_002' AS linted_again FROM fleetmigrate.status WHERE version = '002';
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id)');
SELECT linted_at AS linted_002 FROM fleetmigrate.status WHERE version = '002' \gset

-- a dry run changes nothing: nothing is linted again
SELECT linted_at AS linted_001 FROM fleetmigrate.status WHERE version = '001' \gset
SELECT version, status FROM fleetmigrate.apply_pending(dry_run => true);
SELECT version, lint,
       linted_at = CASE version WHEN '001' THEN :'linted_001'::timestamptz ELSE :'linted_002' END AS unchanged
  FROM fleetmigrate.status ORDER BY version;

-- a call that applied a migration lints what is left again, as the
-- database is then (002 was linted last when st_legacy did not exist)
DROP TABLE st_legacy;
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id) WHERE id > 0');
SELECT fleetmigrate.register('002', 'index_legacy', 'CREATE INDEX st_legacy_id ON st_legacy (id)');
SELECT version, lint FROM fleetmigrate.status WHERE version = '002';
SELECT linted_at AS linted_002 FROM fleetmigrate.status WHERE version = '002' \gset
CREATE TABLE st_legacy (id int);
SELECT version, status FROM fleetmigrate.apply_pending(target => '001');
SELECT version, state, lint, linted_at > :'linted_002' AS linted_again
  FROM fleetmigrate.status ORDER BY version;
SELECT linted_at AS linted_002 FROM fleetmigrate.status WHERE version = '002' \gset

-- as does a rollback: 001 is to run again (its column is back), and 002
-- is linted with st_legacy gone
DROP TABLE st_legacy;
SET fleetmigrate.environment = development;
SELECT version, status FROM fleetmigrate.rollback();
RESET fleetmigrate.environment;
SELECT version, state, lint, linted_at > :'linted_002' AS linted_again
  FROM fleetmigrate.status ORDER BY version;

-- CALL migrate() that fails after applying migrations: what it applied is
-- seen by the finding of the failed one (an index on the table 003 made)
SELECT fleetmigrate.unregister('002', 'index_legacy');
SELECT fleetmigrate.register('003', 'make_table', 'CREATE TABLE st_made (id int)');
SELECT fleetmigrate.register('004', 'index_made', 'CREATE INDEX st_made_id ON st_made (id); ALTER TABLE st_missing ADD COLUMN x int');
SELECT version, state, lint FROM fleetmigrate.status ORDER BY version;
CALL fleetmigrate.migrate();
SELECT version, state, lint FROM fleetmigrate.status ORDER BY version;
SELECT worst_lint FROM fleetmigrate.summary;

-- unbaseline(): a migration to run again is linted as of now
SELECT fleetmigrate.unregister('004', 'index_made');
SELECT fleetmigrate.register('005', 'index_made', 'CREATE INDEX st_made_id ON st_made (id)');
SELECT version, state, lint FROM fleetmigrate.status WHERE version = '005';
DROP TABLE st_made;
CREATE INDEX st_made_id ON st_users (id);
SELECT * FROM fleetmigrate.baseline(ARRAY['005'], reason => 'index made by hand');
SELECT version, state, lint FROM fleetmigrate.status WHERE version = '005';
SELECT fleetmigrate.unbaseline('005', 'index_made', reason => 'test');
SELECT version, state, lint FROM fleetmigrate.status WHERE version = '005';

DROP TABLE st_users;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
