-- out_of_order: a late-merged migration that sorts before an applied one
-- runs with a NOTICE (fleetmigrate.out_of_order = allow, the default) or is
-- refused (error)
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
SHOW fleetmigrate.out_of_order;

SELECT fleetmigrate.register('001', 'users', 'CREATE TABLE ooo_users (id int)');
SELECT fleetmigrate.register('003', 'orders', 'CREATE TABLE ooo_orders (id int)');
SELECT version, name, status FROM fleetmigrate.apply_pending();
-- two branches merged late: 002a and 002b sort before 003
SELECT fleetmigrate.register('002a', 'user_email', 'ALTER TABLE ooo_users ADD COLUMN email text');
SELECT fleetmigrate.register('002b', 'user_phone', 'ALTER TABLE ooo_users ADD COLUMN phone text');
SELECT fleetmigrate.register('004', 'items', 'CREATE TABLE ooo_items (id int)');
SELECT version, name, problem, detail FROM fleetmigrate.validate();

-- error: refused before anything runs, naming them
SET fleetmigrate.out_of_order = error;
SELECT * FROM fleetmigrate.apply_pending();
CALL fleetmigrate.migrate();
SELECT version, name, state FROM fleetmigrate.status;
-- one of them
SELECT * FROM fleetmigrate.apply_pending(target => '002a');
-- ALTER DATABASE / ALTER ROLE ... SET work the same; bad values are refused
SET fleetmigrate.out_of_order = sometimes;
SET fleetmigrate.out_of_order = NULL;
-- the prefix is reserved: a misspelt setting is an error, not ignored
SET fleetmigrate.out_of_ordr = error;

-- allow (the default): a NOTICE each, and status says so
RESET fleetmigrate.out_of_order;
SET client_min_messages = notice;
SELECT version, name, status FROM fleetmigrate.apply_pending(dry_run => true);
SET client_min_messages = warning;
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT version, name, state, out_of_order FROM fleetmigrate.status;
SELECT * FROM fleetmigrate.validate();

DROP TABLE ooo_users, ooo_orders, ooo_items;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
