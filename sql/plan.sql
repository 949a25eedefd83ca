-- plan: the plan-only dry run.  One row per migration a run would apply, in
-- apply order, with lint, locks from the parser, row estimates and the
-- run's checks; it executes nothing, writes nothing and takes no lock that
-- a run or the application would wait for.
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

CREATE TABLE pl_big (id int PRIMARY KEY, v text);
INSERT INTO pl_big SELECT g, 'x' FROM generate_series(1, 1000) g;
CREATE TABLE pl_stage (id int);
INSERT INTO pl_stage VALUES (1), (2);
ANALYZE pl_big, pl_stage;

SELECT fleetmigrate.register('001', 'add_n',
    E'ALTER TABLE pl_big ADD COLUMN n int;\nUPDATE pl_big SET n = id;\nALTER TABLE pl_big ALTER n SET NOT NULL;');
SELECT fleetmigrate.register('002', 'new_table',
    'CREATE TABLE pl_new (id int); CREATE INDEX pl_new_id ON pl_new (id); INSERT INTO pl_stage SELECT 3;');
SELECT fleetmigrate.register('003', 'drop_stage', 'DROP TABLE pl_stage;');
SELECT fleetmigrate.register('004', 'needs_param',
    $$INSERT INTO pl_new VALUES (fleetmigrate.param('n')::int);$$, params => '{n}');
SELECT fleetmigrate.register('005', 'concurrently',
    'CREATE INDEX CONCURRENTLY pl_new_c ON pl_new (id);');

-- every row, in apply order: 004 lacks its parameter, so it is refused
-- (with the error a run would raise) and 005 waits for it
\x on
SELECT * FROM fleetmigrate.plan();
\x off

-- with the parameter every migration would apply; up to a target
SELECT version, name, "position", status FROM fleetmigrate.plan(params => '{"n": "7"}');
SELECT version, name, status FROM fleetmigrate.plan(target => '002');

-- requirements and conflicts are refusals too, not errors: 006 requires
-- 007, which would run after it
SELECT fleetmigrate.register('007', 'later', 'SELECT 1;');
SELECT fleetmigrate.register('006', 'needs_later', 'SELECT 1;', requires => '{007}');
SELECT version, status, checks FROM fleetmigrate.plan(params => '{"n": "7"}') WHERE version >= '005';
SELECT fleetmigrate.unregister('006', 'needs_later');
SELECT fleetmigrate.unregister('007', 'later');

-- it executed nothing: no object, no history, no state change, no dead row
SELECT to_regclass('pl_new') AS pl_new, to_regclass('pl_stage') IS NOT NULL AS stage_kept;
SELECT count(*) AS pl_big_columns FROM pg_attribute WHERE attrelid = 'pl_big'::regclass AND attname = 'n';
SELECT version, state FROM fleetmigrate.status ORDER BY version;
SELECT count(*) AS events FROM fleetmigrate.history WHERE event <> 'unregistered';
SELECT count(*) AS stage_rows FROM pl_stage;

-- in a read-only transaction, holding no lock on the application's tables
-- and no advisory (runner) lock
BEGIN READ ONLY;
SELECT count(*) AS would_apply FROM fleetmigrate.plan(params => '{"n": "7"}') WHERE status = 'would_apply';
SELECT locktype, relation::regclass AS relation, mode
  FROM pg_locks
 WHERE pid = pg_backend_pid()
   AND (locktype = 'advisory' OR relation IN ('pl_big'::regclass, 'pl_stage'::regclass))
 ORDER BY 1, 2, 3;
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
COMMIT;

-- in the transaction of a run, after it: what is left to apply
BEGIN;
SELECT count(*) AS applied FROM fleetmigrate.apply_pending(target => '001', allow_data_loss => '{001}');
SELECT version, status FROM fleetmigrate.plan(params => '{"n": "7"}');
ROLLBACK;

-- what the call gets wrong is an error
\set VERBOSITY terse
SELECT * FROM fleetmigrate.plan(params => '{"nope": "1"}');
SELECT * FROM fleetmigrate.plan(target => '404');
SELECT * FROM fleetmigrate.plan(params => NULL);
\set VERBOSITY default

-- applied up to 004: only the migration apply_pending() cannot run is left
SELECT count(*) AS applied FROM fleetmigrate.apply_pending(params => '{"n": "7"}', allow_data_loss => '{001,003}', target => '004');
SELECT version, status, checks FROM fleetmigrate.plan();
CREATE INDEX CONCURRENTLY pl_new_c ON pl_new (id);
SELECT count(*) AS baselined FROM fleetmigrate.baseline(ARRAY['005'], 'index built by hand');
-- nothing pending: no rows
SELECT count(*) AS rows FROM fleetmigrate.plan();

DROP TABLE pl_big, pl_new;
DROP EXTENSION fleetmigrate;
