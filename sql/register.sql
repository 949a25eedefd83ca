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
-- a version is letters and digits with . _ - between them: '-1' would
-- sort after '999'
SELECT fleetmigrate.register('-1', 'negative', 'SELECT 1');
SELECT fleetmigrate.register('1.', 'trailing_dot', 'SELECT 1');
SELECT fleetmigrate.register('1..2', 'two_dots', 'SELECT 1');
SELECT fleetmigrate.register('v1+build', 'plus', 'SELECT 1');
SELECT fleetmigrate.register(E'010\u00e9', 'accent', 'SELECT 1');
-- names: not blank, no leading, trailing or doubled space, nothing invisible
SELECT fleetmigrate.register('010', ' ', 'SELECT 1');
SELECT fleetmigrate.register('010', ' x', 'SELECT 1');
SELECT fleetmigrate.register('010', 'x ', 'SELECT 1');
SELECT fleetmigrate.register('010', 'a  b', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\tb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u00a0b', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u200bb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u200cb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u200db', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u200eb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u202eb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u2066b', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\ufeffb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u3000b', 'SELECT 1');
SELECT fleetmigrate.register('010', E'a\u00adb', 'SELECT 1');
SELECT fleetmigrate.register('010', E'\u3164', 'SELECT 1');
-- references follow the same rules and hold no comma
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', requires => '{-1}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', requires => E'{"001 a\u200bb"}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', conflicts => '{"001 a, b"}');
-- parameter names are identifiers of at most 63 bytes, each declared once
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => ARRAY[repeat('a', 100000)]);
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => ARRAY[repeat('a', 64)]);
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => ARRAY[E'a\u200bb']);
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => '{x, "secret x"}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => '{"secret  x"}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', params => '{{a,b},{c,d}}');
-- tolerated errors are SQLSTATEs of a PostgreSQL error class
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', tolerate => '{ZZZZZ}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', tolerate => '{01000}');
SELECT fleetmigrate.register('010', 'x', 'SELECT 1', tolerate => ARRAY[repeat('4', 100000)]);

-- what may be registered: these round-trip through export_bundle()
SELECT fleetmigrate.register('1.2.10', 'dotted', 'SELECT 1');
SELECT fleetmigrate.register('2024-01-31_1', 'dashes and underscores', 'SELECT 1');
SELECT fleetmigrate.register('R9', E'caf\u00e9 \u2014 \u65e5\u672c "quoted", it''s; fine', 'SELECT 1',
                             params => ARRAY['secret ' || repeat('p', 63)], tolerate => '{42p07}');
SELECT version, name, params, tolerate FROM fleetmigrate.migrations
 WHERE version IN ('1.2.10', '2024-01-31_1', 'R9') ORDER BY version;
SELECT fleetmigrate.export_bundle() AS exported \gset
DELETE FROM fleetmigrate.migrations WHERE version IN ('1.2.10', '2024-01-31_1', 'R9');
SELECT version, name, outcome FROM fleetmigrate.register_bundle(:'exported')
 WHERE version IN ('1.2.10', '2024-01-31_1', 'R9') ORDER BY version;
SELECT fleetmigrate.export_bundle() = :'exported' AS round_trip;
DELETE FROM fleetmigrate.migrations WHERE version IN ('1.2.10', '2024-01-31_1', 'R9');

-- nothing of the refused registrations reached the catalog
SELECT version, name FROM fleetmigrate.status;

DROP TABLE accounts, sessions, sessions1;
DROP EXTENSION fleetmigrate;
