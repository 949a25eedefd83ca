-- Consent scoped to data (issue 19): consent given at registration
-- (allow_destructive, "-- flags: allow_destructive") and the call's
-- allow_destructive => true cover only objects that are absent or empty when
-- the statement runs; data that exists is removed only when the call names
-- the migration in allow_data_loss.  Refusals say which objects hold how
-- much; what every destructive statement removed is in the result rows, the
-- history (destroyed) and the run log.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS fleetmigrate;

CREATE TABLE cs_empty (id int);
CREATE TABLE legacy_orders (id int PRIMARY KEY, total numeric);
INSERT INTO legacy_orders SELECT g, g * 10 FROM generate_series(1, 500) g;

-- registration consent, an empty table and an absent one: applied, and named
SELECT fleetmigrate.register('001', 'drop_empty', $m$
DROP TABLE cs_empty;
DROP TABLE IF EXISTS cs_never_was;
$m$, allow_destructive => true);
SELECT version, name, status, message FROM fleetmigrate.apply_pending();
SELECT version, destroyed FROM fleetmigrate.history WHERE version = '001';

-- the seed's case: a bundle written for a fresh database, in one that has
-- 500 rows in legacy_orders
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 019 drop_legacy
-- flags: allow_destructive
CREATE TABLE cs_note (id int);
DROP TABLE legacy_orders;
$b$);
SELECT * FROM fleetmigrate.apply_pending();
SELECT count(*) AS legacy_rows FROM legacy_orders;
-- the call's allow_destructive => true is no more than the registration's
SELECT * FROM fleetmigrate.apply_pending(allow_destructive => true);

-- the dry run reports the same as rows
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT version, status, message
  FROM fleetmigrate.apply_pending(dry_run => true, allow_data_loss => ARRAY['019']);

-- an entry that names no migration of the plan is an error, not a no-op
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['019 drop_legcy']);
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['001']);
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['019', '020']);
SELECT * FROM fleetmigrate.apply_pending(target => '018', allow_data_loss => ARRAY['019']);
SELECT * FROM fleetmigrate.apply_pending(dry_run => true, allow_data_loss => ARRAY['19 drop_legacy']);
-- bad entries
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY[NULL]::text[]);
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['  ']);
-- NULL and an empty list consent to nothing
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => NULL);
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => '{}');
SELECT count(*) AS legacy_rows FROM legacy_orders;

-- consent at the call, naming the migration: applied, and what went is named
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['019 drop_legacy']);
SELECT version, event, consent, destroyed FROM fleetmigrate.history WHERE version = '019';
SELECT to_regclass('legacy_orders') AS legacy_orders;

-- a column's values, a DELETE's processed rows, a TRUNCATE; row security
-- does not hide rows from the count
CREATE TABLE cs_users (id int PRIMARY KEY, nickname text);
INSERT INTO cs_users VALUES (1, 'a'), (2, NULL), (3, 'c');
CREATE TABLE cs_log (id int);
INSERT INTO cs_log SELECT generate_series(1, 4);
ALTER TABLE cs_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE cs_log FORCE ROW LEVEL SECURITY;
CREATE TABLE cs_events (id int) PARTITION BY RANGE (id);
CREATE TABLE cs_events_1 PARTITION OF cs_events FOR VALUES FROM (0) TO (10);
CREATE TABLE cs_events_2 PARTITION OF cs_events FOR VALUES FROM (10) TO (20);
INSERT INTO cs_events VALUES (1), (2), (15);
SELECT count(*) AS log_rows_the_owner_sees FROM cs_log;
SELECT fleetmigrate.register('020', 'cleanup', $m$
ALTER TABLE cs_users DROP COLUMN nickname;
ALTER TABLE cs_log DISABLE ROW LEVEL SECURITY;
DELETE FROM cs_log;
TRUNCATE cs_events;
$m$, allow_destructive => true);
-- a view the same script creates is not destructive to drop; one that
-- exists holds no rows: no consent is needed (022, issue 20)
SELECT fleetmigrate.register('021', 'drop_view', $m$
CREATE VIEW cs_v AS SELECT 1 AS one;
DROP VIEW cs_v;
$m$);
CREATE VIEW cs_v2 AS SELECT 1 AS one;
SELECT fleetmigrate.register('022', 'drop_view_again', 'DROP VIEW cs_v2');

-- migrate() refuses the same way, and records the refused run
CALL fleetmigrate.migrate();
SELECT outcome, applied, failed_version, destroyed FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['021']);
-- consent at the call: the run and the history name what went
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['020 cleanup']);
SELECT outcome, applied, jsonb_pretty(destroyed) AS destroyed
  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT version, destroyed FROM fleetmigrate.history WHERE version IN ('020', '022') ORDER BY id;
SELECT count(*) AS events_rows FROM cs_events;

-- data that a migration of the same run puts there needs the same consent,
-- checked again just before the statement runs: the whole call fails
CREATE TABLE cs_staging (id int);
SELECT fleetmigrate.register('023', 'fill_staging', 'INSERT INTO cs_staging VALUES (1), (2)');
SELECT fleetmigrate.register('024', 'drop_staging', 'DROP TABLE cs_staging', allow_destructive => true);
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status WHERE version IN ('023', '024') ORDER BY version;
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['024']);

-- DROP TYPE ... CASCADE takes the columns of that type with it
CREATE TYPE cs_mood AS ENUM ('ok', 'sad');
CREATE TABLE cs_people (id int, mood cs_mood, moods cs_mood[]);
INSERT INTO cs_people VALUES (1, 'ok', '{sad}'), (2, NULL, NULL);
SELECT fleetmigrate.register('025', 'drop_mood', 'DROP TYPE cs_mood CASCADE', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
-- DROP SCHEMA ... CASCADE counts the rows of its tables
CREATE SCHEMA cs_old;
CREATE TABLE cs_old.a (id int);
INSERT INTO cs_old.a VALUES (1), (2), (3);
SELECT fleetmigrate.register('026', 'drop_old', 'DROP SCHEMA cs_old CASCADE', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['025']);
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['025', '026 drop_old']);

-- a DELETE through a view removes rows elsewhere: they count as data
CREATE TABLE cs_base (id int);
INSERT INTO cs_base VALUES (1), (2);
CREATE VIEW cs_base_v AS SELECT id FROM cs_base;
SELECT fleetmigrate.register('026a', 'empty_through_view', 'DELETE FROM cs_base_v', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['026a']);
SELECT count(*) AS base_rows FROM cs_base;

-- a role that may not read a table cannot have its rows counted: that counts
-- as data
CREATE ROLE regress_consent_runner;
GRANT CREATE ON SCHEMA public TO regress_consent_runner;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[])
   TO regress_consent_runner;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_consent_runner;
CREATE TABLE cs_secret (id int);
INSERT INTO cs_secret VALUES (1);
ALTER TABLE cs_secret OWNER TO regress_consent_runner;
REVOKE SELECT ON cs_secret FROM regress_consent_runner;
SET ROLE regress_consent_runner;
SELECT fleetmigrate.register('027', 'drop_secret', 'DROP TABLE cs_secret', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, status FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['027']);
RESET ROLE;

-- nor can rows a row-level security policy hides from it: the refusal does
-- not tell it how many there are (here 3, all hidden), and it counts as data
CREATE TABLE cs_hidden (id int, owner name DEFAULT current_user);
INSERT INTO cs_hidden (id) SELECT generate_series(1, 3);
ALTER TABLE cs_hidden OWNER TO regress_consent_runner;
ALTER TABLE cs_hidden ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY cs_hidden_own ON cs_hidden USING (owner = current_user);
SET ROLE regress_consent_runner;
SELECT count(*) AS rows_it_sees FROM cs_hidden;
SELECT fleetmigrate.register('028', 'drop_hidden', 'DROP TABLE cs_hidden', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, status FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['028']);
RESET ROLE;

-- Issue 20: a view or function dropped and created again in the same
-- migration is replaced, and one dropped on its own holds no data: neither
-- needs consent.  CASCADE needs it when what goes holds data, and so does the
-- destruction that used to pass: a DELETE inside a WITH query, MERGE ...
-- THEN DELETE, EXPLAIN ANALYZE of a DELETE, DROP OWNED, DROP EXTENSION ...
-- CASCADE, DROP DATABASE.
CREATE TABLE cs_orders (id int, total int);
INSERT INTO cs_orders VALUES (1, 10), (2, 20);
CREATE VIEW cs_totals AS SELECT sum(total) AS total FROM cs_orders;
CREATE FUNCTION cs_twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
SELECT fleetmigrate.register('030', 'replace_view', $m$
DROP VIEW cs_totals;
CREATE VIEW cs_totals AS SELECT sum(total) AS total, count(*) AS n FROM cs_orders;
DROP FUNCTION cs_twice(int);
CREATE FUNCTION cs_twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $1';
$m$);
SELECT version, lint FROM fleetmigrate.status WHERE version = '030';
SELECT version, name, status, message FROM fleetmigrate.apply_pending();
SELECT * FROM cs_totals;
SELECT version, consent, destroyed FROM fleetmigrate.history WHERE version = '030';

CREATE FUNCTION cs_thrice(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 * 3; END';
CREATE TABLE cs_gen (a int, b int GENERATED ALWAYS AS (cs_twice(a)) STORED,
                     c int GENERATED ALWAYS AS (cs_thrice(a)) STORED);
INSERT INTO cs_gen (a) VALUES (1), (2), (NULL);
CREATE ROLE regress_cs_owner;
CREATE TABLE cs_owned (id int);
INSERT INTO cs_owned VALUES (1);
ALTER TABLE cs_owned OWNER TO regress_cs_owner;
SELECT fleetmigrate.register('031', 'drop_twice', 'DROP FUNCTION cs_twice(int) CASCADE', allow_destructive => true);
SELECT fleetmigrate.register('032', 'cte_delete', 'WITH d AS (DELETE FROM cs_orders RETURNING id) SELECT count(*) FROM d');
SELECT fleetmigrate.register('033', 'merge_delete', $m$
INSERT INTO cs_orders VALUES (3, 30);
MERGE INTO cs_orders o USING (SELECT 3 AS id) s ON o.id = s.id WHEN MATCHED THEN DELETE;
$m$);
SELECT fleetmigrate.register('034', 'explain_delete', $m$
INSERT INTO cs_orders VALUES (4, 40);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) DELETE FROM cs_orders;
$m$);
SELECT fleetmigrate.register('035', 'drop_owned', 'DROP OWNED BY regress_cs_owner');
SELECT fleetmigrate.register('036', 'drop_plpgsql', 'DROP EXTENSION plpgsql CASCADE');
-- refused before anything runs; every statement is named with what it removes
SELECT * FROM fleetmigrate.apply_pending();
SELECT count(*) AS orders_rows FROM cs_orders;
SELECT fleetmigrate.unregister('036', 'drop_plpgsql');
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true) WHERE version = '031';
-- named in the call: applied, and each removal is recorded (the DELETE of a
-- WITH query with what was there just before it ran)
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['031', '032', '033', '034', '035']);
SELECT version, destroyed FROM fleetmigrate.history WHERE version BETWEEN '031' AND '035' ORDER BY version;
SELECT count(*) AS orders_rows FROM cs_orders;
SELECT attname FROM pg_attribute WHERE attrelid = 'cs_gen'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT to_regclass('cs_owned') AS cs_owned;
DROP ROLE regress_cs_owner;
-- DROP DATABASE: migrate() refuses it too (a database that exists could not
-- be counted from here: only allow_data_loss consents to it)
SELECT fleetmigrate.register('037', 'drop_db', 'DROP DATABASE IF EXISTS regress_cs_no_such_db');
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('037', 'drop_db');
DROP VIEW cs_totals;
DROP TABLE cs_orders, cs_gen;
DROP FUNCTION cs_thrice(int);

-- a non-transactional migration (its statements run one by one in a
-- background worker) gets the same check when each statement runs, and what
-- it removed is recorded: here the data appeared after the plan was checked
SELECT fleetmigrate.register('040', 'make_nt_old', $m$CREATE TABLE cs_nt_old (id int PRIMARY KEY);
INSERT INTO cs_nt_old SELECT generate_series(1, 12)$m$);
SELECT fleetmigrate.register('041', 'nt_cleanup', $m$CREATE INDEX CONCURRENTLY cs_nt_old_idx ON cs_nt_old (id);
DELETE FROM cs_nt_old;
DROP TABLE cs_nt_old$m$, allow_destructive => true);
CALL fleetmigrate.migrate();
SELECT count(*) AS rows_kept FROM cs_nt_old;
SELECT state, statements_done FROM fleetmigrate.status WHERE version = '041';
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['041']);
SELECT to_regclass('cs_nt_old') IS NULL AS dropped;
SELECT version, event, destroyed FROM fleetmigrate.history WHERE version = '041' ORDER BY id;
SELECT outcome, destroyed FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;

-- a materialized view's rows go with it: counted as a table's
CREATE TABLE cs_src AS SELECT generate_series(1, 30) AS g;
CREATE MATERIALIZED VIEW cs_mv AS SELECT g FROM cs_src;
SELECT fleetmigrate.register('042', 'drop_mv', 'DROP MATERIALIZED VIEW cs_mv', allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, status FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['042']);
SELECT destroyed FROM fleetmigrate.history WHERE version = '042';
DROP TABLE cs_src;

-- the new arguments and columns
SELECT pg_get_function_arguments('fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[])'::regprocedure);
SELECT pg_get_function_arguments('fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[])'::regprocedure);
-- positional calls of the old signatures still work
SELECT * FROM fleetmigrate.apply_pending(NULL, false, '{}', false, true);
CALL fleetmigrate.migrate(NULL, '{}', false, true, 'manual', NULL, NULL, NULL);
CALL fleetmigrate.migrate(allow_data_loss => ARRAY[NULL]::text[]);

DROP VIEW cs_base_v;
DROP TABLE cs_users, cs_log, cs_events, cs_note, cs_people, cs_base;
DROP OWNED BY regress_consent_runner;
DROP ROLE regress_consent_runner;
DROP EXTENSION fleetmigrate;
