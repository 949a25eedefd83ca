-- drift: checksums over tokens, validate(), repair()
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;

-- white space, comments, keyword case and quoting of plain identifiers do
-- not change a checksum; anything else does, strings included
SELECT fleetmigrate.checksum('CREATE TABLE t (id int);') =
       fleetmigrate.checksum(E'-- the table\ncreate   table "t"(\n  id INT /* key */ ) ;\n') AS cosmetic_same,
       fleetmigrate.checksum('CREATE TABLE t (id int);') =
       fleetmigrate.checksum('CREATE TABLE t (id bigint);') AS type_same,
       fleetmigrate.checksum('CREATE TABLE "T" (id int);') =
       fleetmigrate.checksum('CREATE TABLE t (id int);') AS quoted_case_same,
       fleetmigrate.checksum($$SELECT 'a  b'$$) = fleetmigrate.checksum($$SELECT 'a b'$$) AS string_same,
       fleetmigrate.checksum('SELECT 1') = fleetmigrate.checksum('SELECT 1;;') AS semicolon_same;
-- quotes count where they change the meaning: a keyword other than an
-- unreserved one ("user" is a column, user is current_user; "char" and char
-- are different types), also one that is a keyword only in later versions
-- (system_user, json); an unreserved keyword quoted means the same ("path")
SELECT fleetmigrate.checksum('SELECT "user" FROM t') =
       fleetmigrate.checksum('SELECT user FROM t') AS user_same,
       fleetmigrate.checksum('CREATE TABLE t (c "char")') =
       fleetmigrate.checksum('CREATE TABLE t (c char)') AS char_same,
       fleetmigrate.checksum('SELECT "system_user", "json" FROM t') =
       fleetmigrate.checksum('SELECT system_user, json FROM t') AS later_keywords_same,
       fleetmigrate.checksum('SELECT "path", "format", "_x$1" FROM t') =
       fleetmigrate.checksum('SELECT path, FORMAT, _X$1 FROM t') AS unreserved_same;
-- the rendering is the same on every supported version (test/t/checksums.sh
-- checks whole corpora): a fixed value
SELECT fleetmigrate.checksum($$CREATE TABLE "Users" (id int8 PRIMARY KEY, name text DEFAULT E'it\'s', b bit(3) DEFAULT B'101', x bytea DEFAULT '\x1f'::bytea, j jsonb CHECK (j ? 'k' AND j->>'k' <> ''), n numeric DEFAULT 1.5e3, c "char");
CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $f$ SELECT $1 + 1 $f$;$$) AS fixed_checksum;

-- nothing registered: nothing to report
SELECT * FROM fleetmigrate.validate();

SELECT count(*) FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE d_users (id int);
-- migration: 002 posts
-- requires: 001
CREATE TABLE d_posts (id int);
-- migration: 004 gone
CREATE TABLE d_gone (id int);
-- migration: 005 later
CREATE TABLE d_later (id int);
$b$);
SELECT count(*) FROM fleetmigrate.apply_pending();

-- a comment-only edit of an applied migration is no drift
SELECT fleetmigrate.register('001', 'users', E'-- users\nCREATE TABLE d_users (id int); -- same\n');
SELECT * FROM fleetmigrate.validate();

-- a real edit is: recorded with a WARNING, shown by validate() and status
SET client_min_messages = notice;
SELECT fleetmigrate.register('002', 'posts', 'CREATE TABLE d_posts (id int, body text);', requires => '{001}');
SET client_min_messages = warning;
SELECT version, name, checksum_ok FROM fleetmigrate.status;
SELECT version, name, problem FROM fleetmigrate.validate();

-- late-merged, unmet and conflicting migrations, a requirement cycle, a
-- migration whose registration was deleted
SELECT count(*) FROM fleetmigrate.register_bundle($b$
-- migration: 003 late_merge
CREATE TABLE d_late (id int);
-- migration: 006 needs_later
-- requires: 007
SELECT 1;
-- migration: 007 needed
SELECT 1;
-- migration: 008 cycle_a
-- requires: 009
SELECT 1;
-- migration: 009 cycle_b
-- requires: 008 cycle_a
SELECT 1;
-- migration: 010 rival
-- conflicts: 005, 011 other_branch
SELECT 1;
$b$);
DELETE FROM fleetmigrate.migrations WHERE version = '004';
SELECT version, name, problem, replace(detail, current_user, 'CURRENT_USER') AS detail
  FROM fleetmigrate.validate();

-- repair(): a reason is required; it accepts the registered script
SELECT fleetmigrate.repair('002', 'posts', NULL);
SELECT fleetmigrate.repair('002', 'posts', '  ');
-- the database must have what the accepted text creates (adopt.sql has more)
SELECT fleetmigrate.repair('002', 'posts', 'the column was added by hand on every database');
ALTER TABLE d_posts ADD COLUMN body text;
SELECT fleetmigrate.repair('002', 'posts', 'the column was added by hand on every database');
SELECT fleetmigrate.repair('002', 'posts', 'again');
SELECT fleetmigrate.repair('003', 'late_merge', 'not applied');
SELECT fleetmigrate.repair('404', 'nothing', 'not registered');
SELECT fleetmigrate.repair(NULL, 'posts', 'x');
SELECT version, name, checksum_ok FROM fleetmigrate.status WHERE version = '002';
SELECT version, event, performed_by = current_user AS by_me, reason,
       checksum = (SELECT checksum FROM fleetmigrate.migrations WHERE version = '002') AS new_checksum
  FROM fleetmigrate.history WHERE event = 'repaired';
SELECT version, problem FROM fleetmigrate.validate() WHERE version = '002';

-- clean up
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP TABLE d_users, d_posts, d_gone, d_later;
