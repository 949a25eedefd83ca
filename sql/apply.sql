-- apply: all or nothing, idempotent, target, history
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

SELECT fleetmigrate.register('001', 'create_users', $$
CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL UNIQUE);
CREATE INDEX users_email_lower ON users (lower(email));
$$);
SELECT fleetmigrate.register('002', 'create_requests', $$
CREATE TABLE service_requests (id bigserial PRIMARY KEY, requester_id uuid REFERENCES users (id));
INSERT INTO users (email) VALUES ('first@example.com');
$$);
SELECT fleetmigrate.register('003', 'broken', $$
ALTER TABLE service_requests ADD COLUMN title text;
ALTER TABLE service_requests ADD COLUMN title text;
$$);

-- the third migration fails: nothing of the first two remains
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT to_regclass('users') AS users, to_regclass('service_requests') AS requests;
SELECT version, name, state FROM fleetmigrate.status;
SELECT count(*) AS events FROM fleetmigrate.history;

-- the failure does not poison the session: same in a savepoint
BEGIN;
SAVEPOINT before_apply;
SELECT version, name, status FROM fleetmigrate.apply_pending();
ROLLBACK TO SAVEPOINT before_apply;
SELECT to_regclass('users') AS users_after_savepoint_rollback;
COMMIT;

-- up to a target only; the target is compared naturally ('2' is '002')
SELECT version, name, status, statements FROM fleetmigrate.apply_pending(target => '2');
SELECT version, name, state, applied_by = current_user AS by_me,
       applied_at IS NOT NULL AS has_time, duration_ms >= 0 AS has_duration,
       checksum_ok
  FROM fleetmigrate.status;
SELECT count(*) AS users_rows FROM users;

-- an unknown target is an error, not "everything"
SELECT * FROM fleetmigrate.apply_pending(target => '042');

-- fix the broken migration (never applied, so it may change), apply the rest
SELECT fleetmigrate.register('003', 'broken', $$
ALTER TABLE service_requests ADD COLUMN title text;
ALTER TABLE service_requests ADD COLUMN status text NOT NULL DEFAULT 'open';
$$);
SELECT version, name, status, statements FROM fleetmigrate.apply_pending();

-- nothing pending: no rows, no change
SELECT count(*) AS events_before FROM fleetmigrate.history \gset
SELECT * FROM fleetmigrate.apply_pending();
SELECT count(*) = :events_before AS history_unchanged FROM fleetmigrate.history;

-- history: one applied event per migration, with its checksum and statement count;
-- all of one call share a transaction id
SELECT h.version, h.name, h.event, h.statements,
       h.checksum = m.checksum AS checksum_recorded,
       h.performed_by = current_user AS by_me
  FROM fleetmigrate.history h JOIN fleetmigrate.migrations m USING (version, name)
 ORDER BY h.id;
SELECT count(DISTINCT transaction_id) AS calls FROM fleetmigrate.history;

-- the history commits with the schema change, and rolls back with it
BEGIN;
SELECT fleetmigrate.register('004', 'add_index', 'CREATE INDEX requests_status ON service_requests (status)');
SELECT version, status FROM fleetmigrate.apply_pending();
ROLLBACK;
SELECT version, state FROM fleetmigrate.status WHERE version = '004';
SELECT to_regclass('requests_status') AS index_after_rollback;

-- NULL options are errors, not crashes
SELECT * FROM fleetmigrate.apply_pending(dry_run => NULL);
SELECT * FROM fleetmigrate.apply_pending(wait => NULL);
SELECT * FROM fleetmigrate.apply_pending(params => NULL);
SELECT * FROM fleetmigrate.apply_pending(allow_destructive => NULL);
SELECT * FROM fleetmigrate.apply_pending(params => '{"admin_user_id": "x"}');

-- a statement that cannot run in a transaction stops the plan before anything runs
SELECT fleetmigrate.register('005', 'fine', 'CREATE TABLE t5 (id int)');
SELECT fleetmigrate.register('006', 'cic', E'CREATE TABLE t6 (id int);\nCREATE INDEX CONCURRENTLY t6_id ON t6 (id);');
SELECT * FROM fleetmigrate.apply_pending();
SELECT to_regclass('t5') AS t5_not_created;
SELECT version, status FROM fleetmigrate.apply_pending(target => '005');
-- the hint's target skips migrations with the same version number
SELECT fleetmigrate.register('6', 'same_number', 'CREATE TABLE t6b (id int)');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '6';
-- a pending migration may be rewritten; the new text is classified again
SELECT fleetmigrate.register('006', 'cic', E'CREATE TABLE t6 (id int);\nCREATE INDEX t6_id ON t6 (id);');
SELECT version, transactional FROM fleetmigrate.status WHERE version = '006';

-- migrations run with the caller's search_path; bookkeeping does not depend on it
CREATE SCHEMA app;
SELECT fleetmigrate.register('007', 'in_app_schema', $$
CREATE TABLE widgets (id int);
SET search_path = nowhere;
$$);
SET search_path = app, public;
SELECT version, status FROM fleetmigrate.apply_pending(target => '007');
-- the migration's SET lasted until the migration ended
SHOW search_path;
RESET search_path;
SELECT to_regclass('app.widgets') AS created_in_app;
SELECT version, state FROM fleetmigrate.status WHERE version = '007';

-- a migration cannot run the runner
SELECT fleetmigrate.register('008', 'nested', 'SELECT * FROM fleetmigrate.apply_pending()');
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status WHERE version = '008';

-- rows a migration's statements return are discarded
SELECT fleetmigrate.register('008', 'nested', 'SELECT g FROM generate_series(1, 100000) g');
SELECT version, status, statements FROM fleetmigrate.apply_pending();

DROP SCHEMA app CASCADE;
DROP TABLE IF EXISTS t5, t6, service_requests, users;
DROP EXTENSION fleetmigrate;
