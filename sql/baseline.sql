-- baseline: adopt a database whose schema predates fleetmigrate by marking
-- the migrations it already has as applied, without running them
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- the schema exists already (created by hand, from the SQL editor)
CREATE TABLE base_users (id int PRIMARY KEY);
CREATE TABLE base_requests (id int PRIMARY KEY, user_id int REFERENCES base_users);
CREATE INDEX base_requests_user_idx ON base_requests (user_id);
COMMENT ON INDEX base_requests_user_idx IS 'made by hand';

SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE base_users (id int PRIMARY KEY);
-- migration: 002 requests
CREATE TABLE base_requests (id int PRIMARY KEY, user_id int REFERENCES base_users);
-- migration: 002 requests_index
CREATE INDEX base_requests_user_idx ON base_requests (user_id);
-- migration: 003 tiers
-- requires: 001
ALTER TABLE base_users ADD COLUMN tier text NOT NULL DEFAULT 'MAGIC_LINK';
$b$);

-- applying everything would fail on the first migration
SELECT version, name, status FROM fleetmigrate.apply_pending(dry_run => true);

-- the database has 001 and 002 already ('2' is the same version as '002'):
-- both 002 migrations are baselined
SELECT * FROM fleetmigrate.baseline('2', reason => 'schema created by hand before fleetmigrate');
SELECT version, name, state, applied_by = current_user AS by_me,
       applied_at IS NOT NULL AS has_time, duration_ms, checksum_ok
  FROM fleetmigrate.status;
SELECT h.version, h.name, h.event, h.performed_by = current_user AS by_me, h.reason,
       h.checksum = fleetmigrate.checksum(m.up) AS checksum_of_registered
  FROM fleetmigrate.history h JOIN fleetmigrate.migrations m USING (version, name);
SELECT obj_description('base_requests_user_idx'::regclass) AS still_the_hand_made_index;

-- only what was not baselined runs; it is not out of order
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, state, out_of_order FROM fleetmigrate.status;
SELECT * FROM fleetmigrate.validate();

-- refused when any of them is already in effect, changing nothing
SELECT * FROM fleetmigrate.baseline('003');
SELECT * FROM fleetmigrate.baseline('001');
SELECT count(*) AS baseline_events FROM fleetmigrate.history WHERE event = 'baseline';

-- bad input
SELECT * FROM fleetmigrate.baseline('999');
SELECT * FROM fleetmigrate.baseline(NULL);
SELECT * FROM fleetmigrate.baseline('');
SELECT * FROM fleetmigrate.baseline('0 1');

-- a later migration may be applied already: baselining earlier ones that
-- are pending is allowed (a late merge adopted by hand); its objects must
-- exist (adopt.sql has more of that check)
SELECT fleetmigrate.register('000', 'schemas', 'CREATE SCHEMA IF NOT EXISTS base_app');
SELECT * FROM fleetmigrate.baseline('000', reason => 'the schema was made by the provider');
CREATE SCHEMA base_app;
SELECT * FROM fleetmigrate.baseline('000', reason => 'the schema was made by the provider');
SELECT version, state FROM fleetmigrate.status WHERE version = '000';

-- not from inside a migration
SELECT fleetmigrate.register('004', 'sneaky', 'SELECT * FROM fleetmigrate.baseline(''004'')');
SELECT * FROM fleetmigrate.apply_pending();
DELETE FROM fleetmigrate.migrations WHERE version = '004';

-- roles: baseline() is not for PUBLIC
CREATE ROLE regress_baseline_nobody;
SET ROLE regress_baseline_nobody;
SELECT * FROM fleetmigrate.baseline('003');
RESET ROLE;
DROP ROLE regress_baseline_nobody;

DROP TABLE base_requests, base_users;
DROP SCHEMA base_app;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
