-- rollback: down scripts newest first, inside the caller's transaction,
-- behind the production guard
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE FUNCTION states() RETURNS TABLE(version text, name text, state text)
LANGUAGE sql AS $$ SELECT version, name, state FROM fleetmigrate.status $$;

SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE rb_users (id int PRIMARY KEY);
-- down
DROP TABLE rb_users;
-- migration: 002 tier
ALTER TABLE rb_users ADD COLUMN tier text NOT NULL DEFAULT 'MAGIC_LINK';
-- down
ALTER TABLE rb_users DROP COLUMN tier;
-- migration: 003 requests
CREATE TABLE rb_requests (id int PRIMARY KEY, user_id int REFERENCES rb_users);
-- down
DROP TABLE rb_requests;
-- migration: 004 no_way_back
CREATE INDEX rb_requests_user ON rb_requests (user_id);
$b$);
SELECT version, name, status FROM fleetmigrate.apply_pending();

-- The confirmation of a forced rollback in production names the database
-- and its server's system identifier, which differs on every cluster: the
-- refusals below show it as <system identifier>.
SELECT current_database() || '@' || system_identifier AS confirmation
  FROM pg_control_system() \gset
CREATE FUNCTION pg_temp.refusal(call text)
RETURNS TABLE(state text, message text, detail text, hint text, hint_confirms boolean)
LANGUAGE plpgsql AS $$
DECLARE
    sid text := (SELECT system_identifier::text FROM pg_control_system());
    token text := current_database() || '@' || sid;
BEGIN
    EXECUTE call;
    state := 'accepted';
    RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    -- the text a user pastes from the hint: this database's confirmation?
    hint_confirms := substring(hint FROM $r$confirm => '([^']*)'$r$) = token;
    message := replace(message, sid, '<system identifier>');
    detail := replace(detail, sid, '<system identifier>');
    hint := replace(hint, sid, '<system identifier>');
    RETURN NEXT;
END
$$;

-- production (the default): refused, with the way out in the hint
SHOW fleetmigrate.environment;
\x on
SELECT * FROM pg_temp.refusal('SELECT * FROM fleetmigrate.rollback()');
-- forced, but not confirmed
SELECT * FROM pg_temp.refusal('SELECT * FROM fleetmigrate.rollback(force => true)');
-- confirmed with another name, or with this database's name on another
-- server: what this is, and no text to paste
SELECT * FROM pg_temp.refusal($$SELECT * FROM fleetmigrate.rollback(force => true, confirm => 'prod')$$);
SELECT * FROM pg_temp.refusal($$SELECT * FROM fleetmigrate.rollback(force => true, confirm => current_database() || '@1')$$);
-- the database name alone, as before 1.9 (every Supabase project's database
-- is "postgres"): refused, saying what to pass now
SELECT * FROM pg_temp.refusal('SELECT * FROM fleetmigrate.rollback(force => true, confirm => current_database())');
\x off
SELECT * FROM states();

-- development: 004 has no down script; every such migration is named and
-- nothing runs
SET fleetmigrate.environment = development;
SELECT * FROM fleetmigrate.rollback(steps => 2);
SELECT fleetmigrate.register('004', 'no_way_back', 'CREATE INDEX rb_requests_user ON rb_requests (user_id)', down => 'DROP INDEX rb_requests_user');

-- two steps, newest first
SELECT version, name, status, message FROM fleetmigrate.rollback(steps => 2);
SELECT * FROM states();
SELECT to_regclass('rb_requests') IS NULL AS requests_gone;
SELECT version, name, event, reason FROM fleetmigrate.history WHERE event = 'rolled_back' ORDER BY id;

-- rolled-back migrations are pending again
SELECT version, name, status FROM fleetmigrate.apply_pending();

-- to a target: everything after it
SELECT version, name, status FROM fleetmigrate.rollback(target => '001');
SELECT * FROM states();

-- a failing down script rolls back nothing: the call fails as a whole,
-- naming the down script, statement and line
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('002', 'tier', E'ALTER TABLE rb_users ADD COLUMN tier text NOT NULL DEFAULT ''MAGIC_LINK'';',
       down => E'-- undo\nALTER TABLE rb_users DROP COLUMN no_such_column;');
SELECT * FROM fleetmigrate.rollback(target => '001');
SELECT * FROM states();

-- forced and confirmed in production: allowed, and recorded
RESET fleetmigrate.environment;
SELECT version, name, status FROM fleetmigrate.rollback(force => true, confirm => :'confirmation');
SELECT reason = format('environment production; forced, confirmed "%s"', :'confirmation') AS recorded
  FROM fleetmigrate.history WHERE event = 'rolled_back' ORDER BY id DESC LIMIT 1;
-- the database name alone is refused in development too; this database's
-- confirmation is accepted there
SET fleetmigrate.environment = development;
SELECT state, message FROM pg_temp.refusal('SELECT * FROM fleetmigrate.rollback(confirm => current_database())');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, status FROM fleetmigrate.rollback(confirm => :'confirmation');
SELECT reason FROM fleetmigrate.history WHERE event = 'rolled_back' ORDER BY id DESC LIMIT 1;

-- bad input
SET fleetmigrate.environment = development;
SELECT * FROM fleetmigrate.rollback(target => '999');
SELECT * FROM fleetmigrate.rollback(steps => 0);
SELECT * FROM fleetmigrate.rollback(steps => NULL);
SELECT * FROM fleetmigrate.rollback(force => NULL);
SET fleetmigrate.environment = testing;
-- nothing to roll back
SET client_min_messages = notice;
SELECT * FROM fleetmigrate.rollback(target => '003');
SET client_min_messages = warning;
SELECT fleetmigrate.register('002', 'tier', E'ALTER TABLE rb_users ADD COLUMN tier text NOT NULL DEFAULT ''MAGIC_LINK'';',
       down => 'ALTER TABLE rb_users DROP COLUMN tier');
SELECT version, name, status FROM fleetmigrate.rollback(steps => 10);
SELECT * FROM states();
SET client_min_messages = notice;
SELECT * FROM fleetmigrate.rollback();
SET client_min_messages = warning;
-- not from inside a migration
SELECT fleetmigrate.register('005', 'sneaky', 'SELECT * FROM fleetmigrate.rollback()');
SELECT * FROM fleetmigrate.apply_pending(target => '005');

-- roles: rollback() is not for PUBLIC
CREATE ROLE regress_rollback_nobody;
SET ROLE regress_rollback_nobody;
SELECT * FROM fleetmigrate.rollback();
RESET ROLE;
DROP ROLE regress_rollback_nobody;

DROP FUNCTION states();
DROP TABLE IF EXISTS rb_requests, rb_users;
RESET fleetmigrate.environment;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
