-- ordering: natural version order, duplicates and zero padding
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- the sort key alone
SELECT v
  FROM unnest(ARRAY['10', '9', '010a', '1', '007', '7', '2.10', '2.9', 'a1',
                    '1a', '0', '00', '20240101_1', '20231231_99', 'v2', 'v10']) AS v
 ORDER BY fleetmigrate.version_key(v), v COLLATE "C";

SELECT fleetmigrate.version_key('7') = fleetmigrate.version_key('007') AS padding_ignored,
       fleetmigrate.version_key('9') < fleetmigrate.version_key('10') AS nine_before_ten,
       fleetmigrate.version_key('10') < fleetmigrate.version_key('010a') AS ten_before_010a,
       fleetmigrate.version_key(NULL) IS NULL AS strict;

-- registered out of order, applied in natural order; each migration records
-- the position at which it ran, so the log shows the real order of execution
CREATE TABLE apply_log (seq serial, what text);
SELECT fleetmigrate.register(v, n, format('INSERT INTO apply_log (what) VALUES (%L)', v || ' ' || n))
  FROM (VALUES ('10', 'ten'), ('9', 'nine'), ('007', 'create_user_feedback'),
               ('007', 'create_feedback_tables'), ('7', 'unpadded'), ('010a', 'ten_a'),
               ('1', 'one'), ('0002', 'two')) AS t(v, n)
 ORDER BY random();

SELECT version, name, state FROM fleetmigrate.status;

SELECT version, name, status, statements FROM fleetmigrate.apply_pending();
SELECT seq, what FROM apply_log ORDER BY seq;

-- the same order in the history
SELECT version, name, event FROM fleetmigrate.history ORDER BY id;

-- a target is a version number: '7', '007' and '0007' all include both '007' and '7'
DROP TABLE apply_log;
DROP EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate;
CREATE TABLE apply_log (seq serial, what text);
SELECT fleetmigrate.register(v, n, format('INSERT INTO apply_log (what) VALUES (%L)', v || ' ' || n))
  FROM (VALUES ('6', 'six'), ('007', 'padded'), ('7', 'unpadded'), ('8', 'eight')) AS t(v, n);
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '0007', dry_run => true);
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '7');
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '07');

-- a migration registered later with a lower version runs next, flagged out of order
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('6', 'late_merge', 'INSERT INTO apply_log (what) VALUES (''6 late_merge'')');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, state, out_of_order FROM fleetmigrate.status WHERE out_of_order OR version IN ('6', '8');

DROP TABLE apply_log;
DROP EXTENSION fleetmigrate;
