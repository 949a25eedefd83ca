-- repeatable: a migration flagged repeatable (views, functions, policies)
-- runs again whenever its up script changes, after the versioned ones, and
-- is never drift
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE FUNCTION runs_of(v text) RETURNS bigint LANGUAGE sql
AS $$ SELECT count(*) FROM fleetmigrate.history WHERE version = v AND event = 'applied' $$;

-- the seed's user_can_view_requests() kind, registered before the tables
-- it reads; it sorts first but runs last
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: R1 user_can_view_requests
-- flags: repeatable
CREATE OR REPLACE FUNCTION rep_can_view(uid int) RETURNS boolean
LANGUAGE sql STABLE AS $f$ SELECT EXISTS (SELECT 1 FROM rep_users WHERE id = uid) $f$;
-- migration: 001 users
CREATE TABLE rep_users (id int PRIMARY KEY, tier text NOT NULL DEFAULT 'MAGIC_LINK');
-- migration: 002 requests
CREATE TABLE rep_requests (id int PRIMARY KEY, user_id int REFERENCES rep_users);
$b$);
SELECT version, name, state, repeatable FROM fleetmigrate.status;
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT rep_can_view(1) AS can_view;

-- registered again unchanged, or with only white space and comments
-- changed: nothing to do
SELECT fleetmigrate.register('R1', 'user_can_view_requests', $f$
-- same body, new comment
create or replace function rep_can_view(uid int) returns boolean
language sql stable as $x$ SELECT EXISTS (SELECT 1 FROM rep_users WHERE id = uid) $x$;
$f$, repeatable => true);
SELECT * FROM fleetmigrate.apply_pending();

-- a new body: pending again (not drift), runs after a new versioned migration
SELECT fleetmigrate.register('R1', 'user_can_view_requests', $f$
CREATE OR REPLACE FUNCTION rep_can_view(uid int) RETURNS boolean
LANGUAGE sql STABLE AS $x$ SELECT EXISTS (SELECT 1 FROM rep_users WHERE id = uid AND tier <> 'MAGIC_LINK') $x$;
$f$, repeatable => true);
SELECT fleetmigrate.register('003', 'seed_user', $$INSERT INTO rep_users VALUES (1, 'AUTHENTICATED')$$);
SELECT version, name, state, checksum_ok, out_of_order FROM fleetmigrate.status;
SELECT * FROM fleetmigrate.validate();
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT rep_can_view(1) AS can_view, runs_of('R1') AS r1_runs;
SELECT version, name, state, checksum_ok FROM fleetmigrate.status WHERE repeatable;

-- changed, then changed back before it ran: applied again, nothing to run
SELECT fleetmigrate.register('R1', 'user_can_view_requests', 'SELECT 1', repeatable => true);
SELECT state FROM fleetmigrate.status WHERE version = 'R1';
SELECT fleetmigrate.register('R1', 'user_can_view_requests', $f$
CREATE OR REPLACE FUNCTION rep_can_view(uid int) RETURNS boolean
LANGUAGE sql STABLE AS $x$ SELECT EXISTS (SELECT 1 FROM rep_users WHERE id = uid AND tier <> 'MAGIC_LINK') $x$;
$f$, repeatable => true);
SELECT state FROM fleetmigrate.status WHERE version = 'R1';
SELECT * FROM fleetmigrate.apply_pending();

-- a failing new body fails like any migration, and the old one stays in
-- effect: the call rolls back entirely
SELECT fleetmigrate.register('R1', 'user_can_view_requests',
       'CREATE OR REPLACE FUNCTION rep_can_view(uid int) RETURNS boolean LANGUAGE sql AS $x$ SELECT no_such_column FROM rep_users $x$',
       repeatable => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT rep_can_view(1) AS can_view, runs_of('R1') AS r1_runs;
-- migrate() records the failure; the repeatable migration stays pending
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status WHERE repeatable;
SELECT * FROM fleetmigrate.validate();

-- a versioned migration that requires a repeatable one that has not run
-- yet is refused: repeatable migrations run last
SELECT fleetmigrate.register('R2', 'report_view', 'CREATE VIEW rep_report AS SELECT count(*) FROM rep_users', repeatable => true);
SELECT fleetmigrate.register('004', 'use_report', 'SELECT * FROM rep_report', requires => '{R2}');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version IN ('004', 'R2');

-- a target limits the versioned migrations; repeatable ones run after them
-- in every run
SELECT fleetmigrate.register('R1', 'user_can_view_requests', 'SELECT 1', repeatable => true);
SELECT fleetmigrate.register('005', 'later', 'SELECT 1');
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '003', dry_run => true);
SELECT version, name, status FROM fleetmigrate.apply_pending(dry_run => true);

-- an applied versioned migration cannot become repeatable: it would run a
-- second time
SELECT fleetmigrate.register('001', 'users', 'CREATE TABLE IF NOT EXISTS rep_users (id int PRIMARY KEY, tier text NOT NULL DEFAULT ''MAGIC_LINK'')', repeatable => true);
SELECT version, state FROM fleetmigrate.status WHERE version = '001';

-- bad input
SELECT fleetmigrate.register('R3', 'x', 'SELECT 1', repeatable => NULL);
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: R3 x\n-- flags: repeatible\nSELECT 1;');

DROP FUNCTION runs_of(text);
DROP FUNCTION rep_can_view(int);
DROP TABLE rep_requests, rep_users;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
