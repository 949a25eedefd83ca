-- summary: status at a glance, one row: applied, pending, failed, drift,
-- the last migration applied, and the worst lint finding among the
-- migrations still to run (stored at registration, not linted on read)
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- an empty catalog: zeros, nothing applied, no lint
SELECT * FROM fleetmigrate.summary;

SELECT fleetmigrate.register('001', 'create_accounts', 'CREATE TABLE sm_accounts (id int PRIMARY KEY, email text)');
SELECT fleetmigrate.register('002', 'add_index', 'CREATE INDEX sm_email_idx ON sm_accounts (email)');
SELECT fleetmigrate.register('003', 'drop_email', 'ALTER TABLE sm_accounts DROP COLUMN email', allow_destructive => true);
-- the stored finding of each migration
SELECT version, lint FROM fleetmigrate.migrations ORDER BY version;
SELECT applied, pending, failed, drift, last_version, last_name, last_applied_at IS NULL AS never, worst_lint
  FROM fleetmigrate.summary;

SELECT count(*) FROM fleetmigrate.apply_pending(target => '001');
SELECT applied, pending, failed, drift, last_version, last_name,
       last_applied_at = (SELECT applied_at FROM fleetmigrate.status WHERE version = '001') AS at_001,
       worst_lint
  FROM fleetmigrate.summary;

-- a failure; drift (an applied migration registered with another text)
SELECT fleetmigrate.register('004', 'broken', 'ALTER TABLE sm_missing ADD COLUMN x int');
SELECT count(*) FROM fleetmigrate.apply_pending(target => '002');
CALL fleetmigrate.migrate();
SELECT fleetmigrate.register('001', 'create_accounts', 'CREATE TABLE sm_accounts (id bigint PRIMARY KEY, email text)');
SELECT applied, pending, failed, drift, last_version, last_name, worst_lint FROM fleetmigrate.summary;
-- the drift is the same count validate() reports
SELECT count(*) FROM fleetmigrate.validate() WHERE problem = 'changed_after_apply';

-- with nothing left to run, no lint
DELETE FROM fleetmigrate.migrations WHERE version IN ('003', '004');
SELECT fleetmigrate.register('001', 'create_accounts', 'CREATE TABLE sm_accounts (id int PRIMARY KEY, email text)');
SELECT applied, pending, failed, drift, last_version, worst_lint FROM fleetmigrate.summary;

-- the view reads the stored finding: a role that may read the summary
-- needs nothing else
CREATE ROLE regress_summary_reader;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_summary_reader;
SET ROLE regress_summary_reader;
SELECT applied FROM fleetmigrate.summary;
RESET ROLE;
GRANT SELECT ON fleetmigrate.summary TO regress_summary_reader;
SET ROLE regress_summary_reader;
SELECT applied, pending, failed, drift FROM fleetmigrate.summary;
RESET ROLE;
REVOKE ALL ON fleetmigrate.summary FROM regress_summary_reader;
REVOKE ALL ON SCHEMA fleetmigrate FROM regress_summary_reader;
DROP ROLE regress_summary_reader;

DROP TABLE sm_accounts;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
