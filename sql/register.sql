-- register: identity, checksums, idempotence, refusals
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
\set VERBOSITY default

SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);',
       'DROP TABLE accounts;',
       'SELECT to_regclass(''accounts'') IS NOT NULL;');

-- identical content: unchanged
SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);',
       'DROP TABLE accounts;',
       'SELECT to_regclass(''accounts'') IS NOT NULL;');

-- the checksum of each script's tokens is stored (SHA-256, 64 hex digits)
SELECT checksum = fleetmigrate.checksum(up) AND length(checksum) = 64 AS up_sum,
       down_checksum = fleetmigrate.checksum(down) AS down_sum,
       verify_checksum = fleetmigrate.checksum(verify) AS verify_sum,
       statements, transactional, registered_by = current_user AS by_me
  FROM fleetmigrate.migrations;

-- a pending migration may still change: updated
SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text);',
       'DROP TABLE accounts;');
SELECT version, name, statements, down IS NOT NULL AS has_down, verify IS NULL AS verify_dropped
  FROM fleetmigrate.migrations;

-- same version, other name: a second migration (parallel branches)
SELECT fleetmigrate.register('001', 'create_sessions', 'CREATE TABLE sessions (id bigint);');
SELECT fleetmigrate.register('1', 'create_sessions', 'CREATE TABLE sessions1 (id bigint);');
SELECT version, name FROM fleetmigrate.status;

SELECT version, name, status FROM fleetmigrate.apply_pending();

-- applied: the same text is unchanged; a changed up script is recorded
-- with a WARNING (drift: checksum_ok false, see drift.sql); registering
-- the applied text again ends it; the down script may change freely
SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text);',
       'DROP TABLE accounts;');
SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email citext NOT NULL, name text);',
       'DROP TABLE accounts;');
SELECT version, name, state, checksum_ok FROM fleetmigrate.status;
SELECT fleetmigrate.register('001', 'create_accounts',
       'CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text);',
       'DROP TABLE accounts CASCADE;');
SELECT s.version, s.name, s.state, s.checksum_ok, m.down FROM fleetmigrate.status s JOIN fleetmigrate.migrations m USING (version, name);

-- empty and comment-only migrations are real versions with no statements
SELECT fleetmigrate.register('002', 'empty', '');
SELECT fleetmigrate.register('003', 'comment_only', E'-- nothing to do yet\n/* really */');
SELECT version, name, statements FROM fleetmigrate.migrations WHERE statements = 0 ORDER BY 1;

-- syntax errors are reported against the script, with its line
SELECT fleetmigrate.register('004', 'typo', E'CREATE TABLE t4 (id int);\n\nCREATE TABEL t5 (id int);');
SELECT fleetmigrate.register('004', 'typo', 'CREATE TABLE t4 (id int);', E'DROP TABLE t4;\nDROP TABLE t4 t5;');
SELECT fleetmigrate.register('004', 'typo', 'CREATE TABLE t4 (id int);', NULL, E'SELECT (;');
-- an unterminated dollar quote
SELECT fleetmigrate.register('004', 'typo', E'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1;');

-- transaction control is refused, naming the statement and line
SELECT fleetmigrate.register('005', 'wrapped', E'BEGIN;\nCREATE TABLE t5 (id int);\nCOMMIT;');
SELECT fleetmigrate.register('005', 'wrapped', E'CREATE TABLE t5 (id int);\n\nSAVEPOINT a;');
SELECT fleetmigrate.register('005', 'wrapped', E'CREATE TABLE t5 (id int);\nROLLBACK;');
SELECT fleetmigrate.register('005', 'wrapped', 'CREATE TABLE t5 (id int)', 'START TRANSACTION; DROP TABLE t5; END;');
-- but END inside a function body is not transaction control
SELECT fleetmigrate.register('005', 'function_body', $migration$
CREATE FUNCTION five() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 5;
END;
$$;
$migration$);

-- COPY from the client cannot work inside the server
SELECT fleetmigrate.register('006', 'copy', E'CREATE TABLE t6 (id int);\nCOPY t6 FROM STDIN;');

-- statements that cannot run in a transaction are recognised by the parser
SELECT fleetmigrate.register('007', 'cic', 'CREATE INDEX CONCURRENTLY accounts_email ON accounts (email)');
SELECT fleetmigrate.register('008', 'vacuum', 'VACUUM accounts');
SELECT fleetmigrate.register('009', 'plain_index', 'CREATE INDEX accounts_email2 ON accounts (email)');
SELECT fleetmigrate.register('010', 'detach', 'ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY');
SELECT fleetmigrate.register('011', 'detach_plain', 'ALTER TABLE measurements DETACH PARTITION measurements_2020');
SELECT fleetmigrate.register('012', 'discard', 'DISCARD ALL');
SELECT fleetmigrate.register('013', 'discard_plans', 'DISCARD PLANS');
SELECT fleetmigrate.register('014', 'move_db', 'ALTER DATABASE app SET TABLESPACE fast');
SELECT fleetmigrate.register('015', 'db_setting', 'ALTER DATABASE app SET work_mem = ''64MB''');
SELECT fleetmigrate.register('016', 'reindex', 'REINDEX TABLE CONCURRENTLY accounts');
SELECT fleetmigrate.register('017', 'reindex_plain', 'REINDEX TABLE accounts');
SELECT fleetmigrate.register('018', 'drop_cic', 'DROP INDEX CONCURRENTLY accounts_email');
SELECT fleetmigrate.register('019', 'analyze', 'ANALYZE accounts');
SELECT fleetmigrate.register('020', 'alter_system', 'ALTER SYSTEM SET work_mem = ''64MB''');
SELECT version, name, transactional FROM fleetmigrate.migrations
 WHERE version BETWEEN '007' AND '020' ORDER BY 1;
DELETE FROM fleetmigrate.migrations WHERE version BETWEEN '007' AND '020';

-- a migration that was applied and then rolled back is pending again: it
-- takes a new script
UPDATE fleetmigrate.migrations SET state = 'rolled_back' WHERE version = '001' AND name = 'create_sessions';
SELECT fleetmigrate.register('001', 'create_sessions', 'CREATE TABLE sessions (id bigint, user_id bigint);');
UPDATE fleetmigrate.migrations SET state = 'applied' WHERE version = '001' AND name = 'create_sessions';

-- bad identities
SELECT fleetmigrate.register(NULL, 'x', 'SELECT 1');
SELECT fleetmigrate.register('010', NULL, 'SELECT 1');
SELECT fleetmigrate.register('010', 'x', NULL);
SELECT fleetmigrate.register('', 'x', 'SELECT 1');
SELECT fleetmigrate.register('010 x', 'y', 'SELECT 1');
SELECT fleetmigrate.register('010', '', 'SELECT 1');
SELECT fleetmigrate.register('010', E'two\nlines', 'SELECT 1');
SELECT fleetmigrate.register(repeat('1', 101), 'long', 'SELECT 1');

-- nothing of the refused registrations reached the catalog
SELECT version, name FROM fleetmigrate.status;

DROP TABLE accounts, sessions, sessions1;
DROP EXTENSION fleetmigrate;
