-- integrity: the runner against the code it runs.  Migration and verify
-- scripts can neither take the runner's locks, hold them past the run, nor
-- release them.
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
\set VERBOSITY terse

CREATE VIEW runner_locks AS
SELECT classid, objid, mode, granted, pid = pg_backend_pid() AS mine
  FROM pg_locks
 WHERE locktype = 'object' AND classid IN (1179470151, 1179470162)
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database());

-- the runner lock is not an advisory lock: a migration that releases every
-- advisory lock still runs under the runner lock, and one that takes the
-- old advisory key takes only an advisory lock of its own
SELECT fleetmigrate.register('001', 'unlock_all', $$SELECT pg_advisory_unlock_all();
DO $d$BEGIN
  IF NOT EXISTS (SELECT 1 FROM runner_locks WHERE objid = 1 AND mine AND granted) THEN
    RAISE EXCEPTION 'the runner lock was released by migration code';
  END IF;
END$d$;
SELECT pg_advisory_lock(1179470151, 1);
SELECT pg_advisory_lock(1179470162, 1);
CREATE TABLE integrity_a (id int);$$,
    verify => $$SELECT EXISTS (SELECT 1 FROM runner_locks WHERE objid = 1 AND mine AND granted)
  FROM (SELECT pg_advisory_unlock_all()) AS unlocked$$);
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status;
SELECT outcome, applied FROM fleetmigrate.runs ORDER BY id;
-- after the run no runner lock is left (the verify script released the
-- advisory locks the migration took)
SELECT count(*) AS runner_locks_left FROM runner_locks;
SELECT classid, objid, objsubid FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1, 2;
SELECT pg_advisory_unlock_all();

-- the same inside apply_pending(): the runner lock is held until the end
-- of the caller's transaction, whatever the migration does
SELECT fleetmigrate.register('002', 'unlock_all_again', $$SELECT pg_advisory_unlock_all();
CREATE TABLE integrity_b (id int);$$);
BEGIN;
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT objid, mode, granted, mine FROM runner_locks;
COMMIT;
SELECT count(*) AS runner_locks_left FROM runner_locks;

-- while migrate() runs, its run shows as running, not interrupted, even
-- when migration code released every advisory lock
SELECT fleetmigrate.register('003', 'look_at_run', $$SELECT pg_advisory_unlock_all();
CREATE TABLE integrity_c AS SELECT outcome FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;$$);
CALL fleetmigrate.migrate();
SELECT outcome FROM integrity_c;

DROP VIEW runner_locks;
DROP TABLE integrity_a, integrity_b, integrity_c;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
