-- privileges: nothing for PUBLIC; a deployer role gets exactly what the README grants
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
CREATE ROLE regress_nobody;
CREATE ROLE regress_deployer;

SELECT fleetmigrate.register('001', 'create_table', 'CREATE TABLE priv_t (id int)');

-- a role that was granted nothing can neither read nor change anything
SET ROLE regress_nobody;
SELECT fleetmigrate.register('002', 'sneaky', 'SELECT 1');
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.status;
RESET ROLE;

-- even with USAGE on the schema
GRANT USAGE ON SCHEMA fleetmigrate TO regress_nobody;
SET ROLE regress_nobody;
SELECT fleetmigrate.register('002', 'sneaky', 'SELECT 1');
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM fleetmigrate.history;
INSERT INTO fleetmigrate.migrations (version, name, up, checksum, statements, registered_by)
VALUES ('002', 'sneaky', 'SELECT 1', 'x', 1, 'me');
UPDATE fleetmigrate.migrations SET state = 'applied';
DELETE FROM fleetmigrate.events;
RESET ROLE;
REVOKE USAGE ON SCHEMA fleetmigrate FROM regress_nobody;

-- the deployer grants from the README: no privilege on the tables at all
GRANT USAGE ON SCHEMA fleetmigrate TO regress_deployer;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[])
    TO regress_deployer;
GRANT SELECT ON fleetmigrate.status, fleetmigrate.history TO regress_deployer;
GRANT CREATE ON SCHEMA public TO regress_deployer;

SET ROLE regress_deployer;
SELECT fleetmigrate.register('002', 'second_table', 'CREATE TABLE priv_t2 (id int)');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, state, applied_by FROM fleetmigrate.status;
SELECT version, event, performed_by FROM fleetmigrate.history;
-- the deployer cannot rewrite history, nor touch the catalog behind the functions
DELETE FROM fleetmigrate.events;
UPDATE fleetmigrate.events SET version = 'x';
INSERT INTO fleetmigrate.events (version, name, event, started_at, performed_by)
VALUES ('003', 'forged', 'applied', now(), 'me');
UPDATE fleetmigrate.migrations SET state = 'pending';
-- a migration running as the deployer cannot either
SELECT fleetmigrate.register('003', 'sneaky', 'DELETE FROM fleetmigrate.events');
-- (with consent at the call: the statement would delete rows the deployer
-- cannot even count, see the consent test)
SELECT version, name, status FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['003']);
-- and a migration that changes role does not change who the bookkeeping records
RESET ROLE;
GRANT regress_nobody TO regress_deployer;
GRANT CREATE ON SCHEMA public TO regress_nobody;
SET ROLE regress_deployer;
SELECT fleetmigrate.register('003', 'sneaky', 'SET ROLE regress_nobody; CREATE TABLE priv_t3 (id int)');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT current_user AS role_after_apply;
SELECT version, applied_by FROM fleetmigrate.status WHERE version = '003';
RESET ROLE;
SELECT relowner::regrole AS priv_t3_owner FROM pg_class WHERE relname = 'priv_t3';
REVOKE regress_nobody FROM regress_deployer;
REVOKE CREATE ON SCHEMA public FROM regress_nobody;

-- the tables the migrations created belong to the deployer who ran them
SELECT relname, relowner::regrole FROM pg_class WHERE relname IN ('priv_t', 'priv_t2') ORDER BY 1;

DROP TABLE priv_t, priv_t2, priv_t3;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
REVOKE CREATE ON SCHEMA public FROM regress_deployer;
DROP ROLE regress_nobody, regress_deployer;
