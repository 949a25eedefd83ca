-- adopt: baselining a list of migrations, the object check that baseline(),
-- repair() and import_history() make, and unbaseline()
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- a legacy database: some of what the migrations create exists, some not
CREATE SCHEMA legacy;
CREATE TABLE public.users (id int PRIMARY KEY, email text, tier text);
CREATE INDEX users_email_idx ON public.users (email);
CREATE TYPE legacy.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN legacy.email AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE legacy.ticket_no;
CREATE VIEW public.user_emails AS SELECT id, email FROM public.users;
CREATE FUNCTION legacy.touch(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE PROCEDURE legacy.tidy() LANGUAGE sql AS 'SELECT 1';
CREATE MATERIALIZED VIEW legacy.user_count AS SELECT count(*) AS n FROM public.users;
CREATE VIEW legacy.kept_view AS SELECT 1 AS one;
CREATE TABLE public.moved (x int);

SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);
CREATE INDEX IF NOT EXISTS users_email_idx ON users (email);
CREATE OR REPLACE VIEW user_emails AS SELECT id, email FROM users;
-- migration: 002 legacy_kit
CREATE SCHEMA IF NOT EXISTS legacy;
SET LOCAL search_path = legacy, public;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE ticket_no;
CREATE FUNCTION touch(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE PROCEDURE tidy() LANGUAGE sql AS 'SELECT 1';
CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users;
-- a table made and dropped, one made and renamed: only what stays is expected
CREATE TABLE scratch (x int);
DROP TABLE scratch;
CREATE TABLE old_name (x int);
ALTER TABLE old_name RENAME TO new_name;
DROP TABLE new_name;
-- ALTER TABLE renames a view too; a table moved to another schema is there
CREATE VIEW temp_view AS SELECT 1 AS one;
ALTER TABLE temp_view RENAME TO kept_view;
CREATE TABLE moved (x int);
ALTER TABLE moved SET SCHEMA public;
-- verify
SELECT legacy.touch(1, 2);
-- migration: 002 add_tier
ALTER TABLE users ADD COLUMN tier text;
-- migration: 003 feedback
CREATE TABLE bug_reports (id int PRIMARY KEY, body text);
CREATE TABLE user_feedback (id int PRIMARY KEY, rating int);
ALTER TABLE users ADD COLUMN feedback_opt_in boolean;
CREATE FUNCTION feedback_score(user_id int) RETURNS int LANGUAGE sql AS 'SELECT 1';
-- migration: 004 dynamic
DO $$ BEGIN EXECUTE 'CREATE TABLE made_by_do (x int)'; END $$;
-- migration: 005 checked_by_verify
ALTER TABLE users ADD COLUMN nickname text;
-- verify
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM users WHERE id = 1) THEN RAISE EXCEPTION 'the admin user 1 is missing'; END IF; END $$;
-- migration: 006 needs_users
-- requires: 001
CREATE TABLE sessions (id int PRIMARY KEY);
$b$);

-- "up to" refuses a migration whose objects are missing: every one listed,
-- nothing baselined
SELECT * FROM fleetmigrate.baseline('003');
SELECT count(*) AS in_effect FROM fleetmigrate.status WHERE state <> 'pending';

-- the list form takes only what the database has
SELECT * FROM fleetmigrate.baseline(ARRAY['001', '002 legacy_kit', '002 add_tier'],
                                    reason => 'legacy schema made by hand');
SELECT version, name, state FROM fleetmigrate.status ORDER BY version, name;
SELECT version, name, event, reason FROM fleetmigrate.history ORDER BY version, name;

-- a list with one migration whose objects are missing: all or nothing
SELECT * FROM fleetmigrate.baseline(ARRAY['003 feedback', '006']);
SELECT version, state FROM fleetmigrate.status WHERE version = '006';

-- the objects exist now: 003 can be baselined
CREATE TABLE bug_reports (id int PRIMARY KEY, body text);
CREATE TABLE user_feedback (id int PRIMARY KEY, rating int);
ALTER TABLE users ADD COLUMN feedback_opt_in boolean;
-- a function of another argument count is not the one 003 creates
CREATE FUNCTION feedback_score(user_id int, extra int) RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT * FROM fleetmigrate.baseline(ARRAY['003']);
CREATE FUNCTION feedback_score(user_id int) RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT * FROM fleetmigrate.baseline(ARRAY['003']);

-- what a DO block creates is not verified: said so
SET client_min_messages = notice;
SELECT * FROM fleetmigrate.baseline(ARRAY['004 dynamic']);
SET client_min_messages = warning;

-- a verify script must pass
ALTER TABLE users ADD COLUMN nickname text;
SELECT * FROM fleetmigrate.baseline(ARRAY['005']);
INSERT INTO users (id) VALUES (1);
SELECT * FROM fleetmigrate.baseline(ARRAY['005']);

-- a set is checked against the state it leaves, in apply order: a table one
-- migration creates and a later one drops (Studley's 019) is not expected;
-- alone, the first is refused.  The first one's verify script checks a
-- state the later one changed: not run, said so.
SELECT fleetmigrate.register_bundle($b$
-- migration: 010 legacy_audit
CREATE TABLE legacy_audit (id int);
CREATE INDEX legacy_audit_id ON legacy_audit (id);
-- verify
SELECT count(*) >= 0 FROM legacy_audit;
-- migration: 011 drop_legacy_audit
DROP TABLE legacy_audit;
$b$);
SELECT * FROM fleetmigrate.baseline(ARRAY['010']);
SET client_min_messages = notice;
SELECT * FROM fleetmigrate.baseline(ARRAY['010', '011']);
SET client_min_messages = warning;

-- bad lists
SELECT * FROM fleetmigrate.baseline(ARRAY[]::text[]);
SELECT * FROM fleetmigrate.baseline(NULL::text[]);
SELECT * FROM fleetmigrate.baseline(ARRAY['006', NULL]);
SELECT * FROM fleetmigrate.baseline(ARRAY['999']);
SELECT * FROM fleetmigrate.baseline(ARRAY['006 no_such_name']);
SELECT * FROM fleetmigrate.baseline(ARRAY['']);
SELECT * FROM fleetmigrate.baseline(ARRAY['006', '006 needs_users']);
SELECT * FROM fleetmigrate.baseline(ARRAY['001']);
SELECT * FROM fleetmigrate.baseline(ARRAY['002']);
SELECT * FROM fleetmigrate.baseline(ARRAY[['006']]);

-- unbaseline: refused while a migration in effect requires it
CREATE TABLE sessions (id int PRIMARY KEY);
SELECT * FROM fleetmigrate.baseline(ARRAY['006']);
SELECT fleetmigrate.unbaseline('001', 'users', reason => 'baselined by mistake');
SELECT fleetmigrate.unbaseline('006', 'needs_users', reason => 'sessions was made by hand for a test');
SELECT fleetmigrate.unbaseline('001', 'users', reason => 'baselined by mistake');
SELECT version, name, state, applied_at IS NULL AS no_time, applied_by IS NULL AS no_user,
       checksum_ok
  FROM fleetmigrate.status WHERE version IN ('001', '006') ORDER BY version;
SELECT version, name, event, reason FROM fleetmigrate.history
 WHERE event = 'unbaselined' ORDER BY version;
SELECT applied_checksum IS NULL AS cleared FROM fleetmigrate.migrations WHERE version = '001';
-- baselined again after the undo
SELECT * FROM fleetmigrate.baseline(ARRAY['001']);

-- unbaseline: bad input
SELECT fleetmigrate.unbaseline('001', 'users', reason => NULL);
SELECT fleetmigrate.unbaseline('001', 'users', reason => '  ');
SELECT fleetmigrate.unbaseline('006', 'needs_users', reason => 'not baselined');
SELECT fleetmigrate.unbaseline('999', 'nothing', reason => 'nothing to undo');
SELECT fleetmigrate.unbaseline(NULL, 'users', reason => 'x');
DROP TABLE sessions;
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.unbaseline('006', 'needs_users', reason => 'applied, not baselined');

-- repair(): accepted only when the database has what the text creates
CREATE TABLE repair_me (id int);
SELECT fleetmigrate.register('007', 'repair_me', 'CREATE TABLE repair_me (id int)');
SELECT * FROM fleetmigrate.baseline(ARRAY['007']);
-- the registered text changes after the fact: a column the database lacks
UPDATE fleetmigrate.migrations
   SET up = 'CREATE TABLE repair_me (id int, note text)',
       checksum = fleetmigrate.checksum('CREATE TABLE repair_me (id int, note text)')
 WHERE version = '007';
SELECT fleetmigrate.repair('007', 'repair_me', reason => 'the file says note too');
SELECT count(*) AS repaired FROM fleetmigrate.history WHERE event = 'repaired';
ALTER TABLE repair_me ADD COLUMN note text;
SELECT fleetmigrate.repair('007', 'repair_me', reason => 'note was added by hand');
SELECT count(*) AS repaired FROM fleetmigrate.history WHERE event = 'repaired';
-- and only when its verify script passes, as for a baseline
CREATE TABLE repair_v (id int);
INSERT INTO repair_v VALUES (1);
SELECT fleetmigrate.register('009', 'repair_v', 'CREATE TABLE repair_v (id int); INSERT INTO repair_v VALUES (1)',
                             verify => 'SELECT count(*) = 1 FROM repair_v');
SELECT * FROM fleetmigrate.baseline(ARRAY['009']);
UPDATE fleetmigrate.migrations
   SET up = 'CREATE TABLE repair_v (id int); INSERT INTO repair_v VALUES (1), (2)',
       checksum = fleetmigrate.checksum('CREATE TABLE repair_v (id int); INSERT INTO repair_v VALUES (1), (2)'),
       verify = 'SELECT count(*) = 2 FROM repair_v'
 WHERE version = '009';
SELECT fleetmigrate.repair('009', 'repair_v', reason => 'the file inserts two rows');
INSERT INTO repair_v VALUES (2);
SELECT fleetmigrate.repair('009', 'repair_v', reason => 'the second row was added by hand');
SELECT version, event, reason FROM fleetmigrate.history WHERE event = 'repaired' ORDER BY id;

-- not from inside a migration
SELECT fleetmigrate.register('008', 'sneaky', 'SELECT fleetmigrate.unbaseline(''001'', ''users'', ''x'')');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '008';

-- roles: not for PUBLIC
CREATE ROLE regress_adopt_nobody;
SET ROLE regress_adopt_nobody;
SELECT * FROM fleetmigrate.baseline(ARRAY['001']);
SELECT fleetmigrate.unbaseline('001', 'users', reason => 'x');
RESET ROLE;
DROP ROLE regress_adopt_nobody;

DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
DROP SCHEMA legacy CASCADE;
DROP TABLE users, bug_reports, user_feedback, sessions, repair_me, repair_v, moved CASCADE;
DROP FUNCTION feedback_score(int), feedback_score(int, int);
