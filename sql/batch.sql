-- batch: batched backfills (src/batchspec.c, src/batch.c).  A migration
-- with a "-- batch:" line runs its one UPDATE or DELETE under CALL
-- migrate() one range of keys per transaction, with its progress in
-- fleetmigrate.batch_progress and status.  Interruptions and concurrent
-- sessions are in test/t/batch_resume.pl; bad inputs in bad_input.
-- NOTICEs are off: "applied ... in N ms" varies; the outcome is queried.
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
\set VERBOSITY default
DROP TABLE IF EXISTS bt_orders, bt_customers, bt_tags, bt_nokey;
CREATE TABLE bt_customers (id int PRIMARY KEY, region text NOT NULL);
INSERT INTO bt_customers SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END
  FROM generate_series(1, 10) g;
CREATE TABLE bt_orders (id bigint PRIMARY KEY, customer_id int NOT NULL, region text,
                        note text);
INSERT INTO bt_orders SELECT g, 1 + g % 10, NULL, 'order ' || g FROM generate_series(1, 95) g;
-- a text key with a unique index, and a table with no usable key
CREATE TABLE bt_tags (tag text NOT NULL UNIQUE, uses int NOT NULL DEFAULT 0);
INSERT INTO bt_tags SELECT 't' || lpad(g::text, 3, '0'), g FROM generate_series(1, 30) g;
CREATE TABLE bt_nokey (id int, v int);
INSERT INTO bt_nokey SELECT g, g FROM generate_series(1, 10) g;

-- 1. an UPDATE ... FROM with an alias and a comment at the end of its
-- condition, in batches of 20 by the primary key
SELECT fleetmigrate.register('001', 'backfill_region', $$
-- batch: table=bt_orders size=20
UPDATE bt_orders o SET region = c.region
  FROM bt_customers c
 WHERE c.id = o.customer_id AND o.region IS NULL -- only the missing ones
$$);
-- apply_pending() refuses it and applies nothing, dry run included
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT count(*) AS filled FROM bt_orders WHERE region IS NOT NULL;
-- migrate() runs it in 5 batches
CALL fleetmigrate.migrate();
SELECT count(*) FILTER (WHERE o.region = c.region) AS right_region, count(*) AS orders
  FROM bt_orders o JOIN bt_customers c ON c.id = o.customer_id;
SELECT version, name, state, statements_done, batch_rows_done, batch_rows_total
  FROM fleetmigrate.status;
SELECT version, name, run_id = (SELECT max(id) FROM fleetmigrate.runs) AS this_run,
       relation, key_column, last_key, batch_size, batches, batch_rows_done,
       batch_rows_total, rows_changed, finished_at >= started_at AS finished
  FROM fleetmigrate.batch_progress;
SELECT version, name, event, statements FROM fleetmigrate.history ORDER BY id;

-- 2. a DELETE by a text key given with key=
SELECT fleetmigrate.register('002', 'purge_tags', $$-- batch: key=tag size=7
DELETE FROM bt_tags WHERE uses % 3 = 0$$);
CALL fleetmigrate.migrate();
SELECT count(*) AS tags, min(tag), max(tag) FROM bt_tags;
SELECT key_column, last_key, batches, batch_rows_done, rows_changed
  FROM fleetmigrate.batch_progress WHERE version = '002';

-- 3. refused before the first batch: no usable key, a nullable key, a
-- volatile condition; the migration is failed, nothing changed
SELECT fleetmigrate.register('003', 'no_key', $$-- batch: size=5
UPDATE bt_nokey SET v = v + 1 WHERE v > 0$$);
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('003', 'no_key');
SELECT fleetmigrate.register('003', 'not_unique', $$-- batch: key=v
UPDATE bt_nokey SET v = v + 1 WHERE v > 0$$);
CREATE UNIQUE INDEX bt_nokey_id ON bt_nokey (id);
SELECT fleetmigrate.register('004', 'nullable', $$-- batch: key=id
UPDATE bt_nokey SET v = v + 1 WHERE v > 0$$);
SELECT fleetmigrate.unregister('003', 'not_unique');
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('004', 'nullable');
SELECT fleetmigrate.register('004', 'volatile', $$-- batch: key=id size=3
UPDATE bt_orders SET note = 'x' WHERE random() < 2$$);
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('004', 'volatile');
SELECT sum(v) AS v_unchanged FROM bt_nokey;
SELECT count(*) AS notes_unchanged FROM bt_orders WHERE note LIKE 'order %';

-- 4. a failing batch: the batches before it stay committed; fixed with
-- register(), the next run goes on after them with the new text
SELECT fleetmigrate.register('004', 'divide', $$-- batch: key=id size=10
UPDATE bt_orders SET note = 'n' || (100 / (42 - id)) WHERE id > 0$$);
CALL fleetmigrate.migrate();
SELECT version, name, state, batch_rows_done, batch_rows_total FROM fleetmigrate.status
 WHERE version = '004';
SELECT last_key, batches, rows_changed FROM fleetmigrate.batch_progress WHERE version = '004';
SELECT count(*) FILTER (WHERE note LIKE 'n%') AS done, count(*) FILTER (WHERE note LIKE 'order %') AS left
  FROM bt_orders;
SELECT version, event, sqlstate, statement, line, split_part(error, E'\n', 1) AS error
  FROM fleetmigrate.history WHERE version = '004';
-- committed batches are in the database: it cannot be unregistered
SELECT fleetmigrate.unregister('004', 'divide');
SELECT fleetmigrate.register('004', 'divide', $$-- batch: key=id size=10
UPDATE bt_orders SET note = 'n' || (100 / NULLIF(42 - id, 0)) WHERE id > 0$$);
CALL fleetmigrate.migrate();
SELECT count(*) FILTER (WHERE note LIKE 'n%') AS done, count(*) FILTER (WHERE note LIKE 'order %') AS left
  FROM bt_orders;
SELECT state, batch_rows_done, batch_rows_total FROM fleetmigrate.status WHERE version = '004';

-- 5. registered again with another key after batches ran: refused
SELECT fleetmigrate.register('005', 'walk', $$-- batch: key=id size=50
UPDATE bt_orders SET note = note || '!' WHERE id > 0 AND 1 / (id - 60) IS NOT NULL$$);
CALL fleetmigrate.migrate();
ALTER TABLE bt_orders ADD COLUMN code int;
UPDATE bt_orders SET code = id;
ALTER TABLE bt_orders ALTER code SET NOT NULL, ADD UNIQUE (code);
SELECT fleetmigrate.register('005', 'walk', $$-- batch: key=code size=50
UPDATE bt_orders SET note = note || '!' WHERE id > 0$$);
CALL fleetmigrate.migrate();
-- the owner deletes the progress row: it starts over at the lowest key
DELETE FROM fleetmigrate.batch_progress WHERE version = '005';
CALL fleetmigrate.migrate();
SELECT count(*) FILTER (WHERE note LIKE '%!!') AS twice, count(*) FILTER (WHERE note LIKE '%!') AS once
  FROM bt_orders;

-- 6. privileges: the statement runs as the caller; the progress is the
-- catalog's, not readable without a grant
CREATE ROLE regress_batch_deployer;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_batch_deployer;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]),
      fleetmigrate.unregister(text, text, text) TO regress_batch_deployer;
GRANT EXECUTE ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[])
   TO regress_batch_deployer;
GRANT SELECT ON bt_orders TO regress_batch_deployer;
SET ROLE regress_batch_deployer;
SELECT fleetmigrate.register('006', 'not_mine', $$-- batch: key=id
UPDATE bt_orders SET note = 'mine' WHERE id > 0$$);
CALL fleetmigrate.migrate();
SELECT * FROM fleetmigrate.batch_progress;
RESET ROLE;
SELECT count(*) AS notes_mine FROM bt_orders WHERE note = 'mine';
SELECT version, state, batch_rows_done FROM fleetmigrate.status WHERE version = '006';
SELECT fleetmigrate.unregister('006', 'not_mine');
-- unregistering takes the progress row with it
SELECT count(*) AS progress_rows FROM fleetmigrate.batch_progress WHERE version = '006';

-- 7. a bundle: the line reads like a header and survives the export
SELECT * FROM fleetmigrate.register_bundle($b$-- migration: 007 bundled
-- requires: 001
-- batch: key=id size=1000
UPDATE bt_orders SET region = upper(region) WHERE region IS NOT NULL
$b$);
SELECT split_part(split_part(fleetmigrate.export_bundle(), '-- migration: 007 bundled', 2), E'\n', 3) AS line;
CALL fleetmigrate.migrate();
SELECT count(*) FILTER (WHERE region IN ('EU', 'US')) AS upper_regions FROM bt_orders;

-- 8. fleetmigrate.statement_timeout bounds each batch's statement: the
-- slow second batch is cancelled, the first stays committed
SELECT fleetmigrate.register('008', 'slow', $$-- batch: key=id size=50
UPDATE bt_orders SET note = 'slow' || CASE WHEN id > 50 THEN pg_sleep(0.02)::text ELSE '' END
 WHERE id > 0$$);
SET fleetmigrate.statement_timeout = 200;
CALL fleetmigrate.migrate();
RESET fleetmigrate.statement_timeout;
SELECT s.state, b.batches, b.last_key, h.sqlstate
  FROM fleetmigrate.status s JOIN fleetmigrate.batch_progress b USING (version, name),
       LATERAL (SELECT sqlstate FROM fleetmigrate.history e
                 WHERE e.version = s.version ORDER BY id DESC LIMIT 1) h
 WHERE s.version = '008';
CALL fleetmigrate.migrate();
SELECT s.state, b.batches, b.batch_rows_done, (SELECT count(*) FROM bt_orders WHERE note = 'slow') AS slow
  FROM fleetmigrate.status s JOIN fleetmigrate.batch_progress b USING (version, name)
 WHERE s.version = '008';

-- 9. a date key: the last key done is kept in ISO form, so a run with
-- another DateStyle resumes at the right place
CREATE TABLE bt_days (d date PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_days (d) SELECT date '2026-01-01' + g FROM generate_series(0, 40) g;
SELECT fleetmigrate.register('009', 'days', $$-- batch: key=d size=10
UPDATE bt_days SET v = v + 1 + 0 / (extract(day FROM d)::int - 25) WHERE v >= 0$$);
SET datestyle = 'SQL, DMY';
CALL fleetmigrate.migrate();
SELECT last_key, batches FROM fleetmigrate.batch_progress WHERE version = '009';
SELECT fleetmigrate.register('009', 'days', $$-- batch: key=d size=10
UPDATE bt_days SET v = v + 1 WHERE v >= 0$$);
SET datestyle = 'SQL, MDY';
CALL fleetmigrate.migrate();
RESET datestyle;
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) AS days FROM bt_days;

-- 10. what a batch could get wrong is refused before the first batch: an
-- UPDATE that sets the key (rows would be met again), a table with rules;
-- param() in the condition is the same in every batch and is accepted
CREATE TABLE bt_keys (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_keys (id) SELECT generate_series(1, 20);
SELECT fleetmigrate.register('010', 'rekey', $$-- batch: key=id size=5
UPDATE bt_keys SET id = id + 100 WHERE id > 0$$);
CALL fleetmigrate.migrate();
SELECT min(id), max(id) FROM bt_keys;
SELECT fleetmigrate.unregister('010', 'rekey');
CREATE TABLE bt_ruled (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_ruled (id) SELECT generate_series(1, 20);
CREATE RULE bt_ruled_log AS ON UPDATE TO bt_ruled DO INSTEAD NOTHING;
SELECT fleetmigrate.register('010', 'ruled', $$-- batch: size=5
UPDATE bt_ruled SET v = 1 WHERE v = 0$$);
CALL fleetmigrate.migrate();
SELECT fleetmigrate.unregister('010', 'ruled');
SELECT fleetmigrate.register('010', 'param', $$-- batch: size=5
UPDATE bt_keys SET v = fleetmigrate.param('v')::int WHERE v <> fleetmigrate.param('v')::int$$,
                             params => '{v}');
CALL fleetmigrate.migrate(params => '{"v": "7"}');
SELECT count(*) FILTER (WHERE v = 7) AS set, count(*) AS keys FROM bt_keys;

-- 11. consent to the data a batched DELETE removes, as for any migration:
-- registration consent covers only what is absent or empty when it runs;
-- what it removed is recorded in the history, the run and the NOTICE
SELECT fleetmigrate.register('011', 'make_old', $$CREATE TABLE bt_old (id int PRIMARY KEY);
INSERT INTO bt_old SELECT generate_series(1, 30)$$);
SELECT fleetmigrate.register('012', 'empty_old', $$-- batch: size=10
DELETE FROM bt_old$$, allow_destructive => true);
-- apply_pending() refuses the plan before anything runs, naming the target
SELECT * FROM fleetmigrate.apply_pending();
SELECT to_regclass('bt_old') IS NULL AS nothing_ran;
-- plan() says how it runs
SELECT version, status, checks FROM fleetmigrate.plan() WHERE version = '012';
CALL fleetmigrate.migrate();
SELECT count(*) AS old_rows FROM bt_old;
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['012']);
SELECT count(*) AS old_rows FROM bt_old;
SELECT version, event, destroyed FROM fleetmigrate.history WHERE version = '012' ORDER BY id;
SELECT outcome, destroyed FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;

DROP TABLE bt_orders, bt_customers, bt_tags, bt_nokey, bt_days, bt_keys, bt_ruled, bt_old;
REVOKE USAGE ON SCHEMA fleetmigrate FROM regress_batch_deployer;
DROP EXTENSION fleetmigrate;
DROP ROLE regress_batch_deployer;
