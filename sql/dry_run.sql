-- dry_run: executes everything, rolls it back, reports rows and errors as rows
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

SELECT fleetmigrate.register('001', 'create_items', 'CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2);');
SELECT fleetmigrate.register('002', 'use_items', 'INSERT INTO items SELECT id + 10 FROM items;');

SELECT version, name, status, statements, duration_ms >= 0 AS timed, message
  FROM fleetmigrate.apply_pending(dry_run => true);
-- nothing remains
SELECT to_regclass('items') AS items;
SELECT version, state FROM fleetmigrate.status;
SELECT count(*) AS events FROM fleetmigrate.history;

-- a failing migration is a row, not an exception, and still nothing remains
SELECT fleetmigrate.register('003', 'fails', E'CREATE TABLE more_items (id int);\nINSERT INTO items VALUES (1);');
SELECT fleetmigrate.register('004', 'after_failure', 'CREATE TABLE never (id int);');
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(dry_run => true);
SELECT to_regclass('items') AS items, to_regclass('more_items') AS more_items;

-- dry run up to a target
SELECT version, status FROM fleetmigrate.apply_pending(target => '002', dry_run => true);

-- a dry run inside a transaction leaves the transaction usable
BEGIN;
SELECT count(*) FROM fleetmigrate.apply_pending(dry_run => true);
SELECT 1 AS still_usable;
COMMIT;

-- the real run afterwards applies the same plan
SELECT version, status FROM fleetmigrate.apply_pending(target => '002');
SELECT count(*) AS items FROM items;

-- the locks of a run of several migrations: a lock an earlier migration
-- took is not repeated, a stronger one is, a rewrite is told against the
-- table's file before the migration, and a table created by the run counts
-- as existing for the migrations after the one that created it
DROP EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate;
CREATE TABLE dr_t (id int, v int);
CREATE TABLE "dr_T2" (id int);
SELECT fleetmigrate.register('010', 'read_t', 'SELECT count(*) FROM dr_t;');
SELECT fleetmigrate.register('011', 'rewrite_t', 'ALTER TABLE dr_t ALTER v TYPE bigint;');
SELECT fleetmigrate.register('012', 'create_new', 'CREATE TABLE dr_new (id int);');
SELECT fleetmigrate.register('013', 'alter_new', 'ALTER TABLE dr_new ADD COLUMN w int;');
SELECT fleetmigrate.register('014', 'write_all', 'INSERT INTO dr_t VALUES (1); INSERT INTO "dr_T2" VALUES (1); LOCK dr_new IN ACCESS SHARE MODE;');
SELECT version, name, status, message FROM fleetmigrate.apply_pending(dry_run => true, target => '014');
SELECT to_regclass('dr_new') AS dr_new;

DROP TABLE items, dr_t, "dr_T2";
DROP EXTENSION fleetmigrate;
