-- lint: fleetmigrate.lint(sql) against the hand-labelled fixtures in
-- test/fixtures/lint/{blocking,compatibility,destructive,structure}.sql, then a
-- few direct calls for line numbers, messages and hints
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS fleetmigrate;

-- the database every fixture case is linted against (documented again in the
-- header of each fixture file); nothing here is ever changed by a case
CREATE SCHEMA lint_fixture;
CREATE SCHEMA other;
SET search_path = lint_fixture, public;
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email varchar(100),
    name text,
    age integer,
    score numeric(10,2),
    created timestamp,
    born date,
    happened timestamptz,
    small smallint,
    ratio real,
    status text,
    nickname varchar(20)
);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric, note text);
CREATE TABLE checked (
    id int,
    code text,
    CONSTRAINT checked_code_nn CHECK (code IS NOT NULL),
    CONSTRAINT checked_id_pos CHECK (id IS NOT NULL AND id > 0)
);
CREATE UNIQUE INDEX checked_id_key ON checked (id);
-- NOT VALID has to be added by ALTER TABLE: in CREATE TABLE it is ignored
-- and the constraint is marked valid
CREATE TABLE unchecked (id int, code text);
ALTER TABLE unchecked ADD CONSTRAINT unchecked_code_nn CHECK (code IS NOT NULL) NOT VALID;
CREATE TABLE "Mixed Case" (id int);
CREATE TABLE other.items (id int, label text);
CREATE TABLE other.stash (id int);
CREATE MATERIALIZED VIEW mv AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX mv_user_id_idx ON mv (user_id);
CREATE VIEW v AS SELECT id, user_id FROM orders;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE FUNCTION f() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 1';
CREATE FUNCTION stable_f() RETURNS integer LANGUAGE sql STABLE AS 'SELECT 2';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE SEQUENCE seq;

SELECT n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('lint_fixture', 'other')
 ORDER BY 1, 2;
SELECT conrelid::regclass AS rel, conname, pg_get_constraintdef(oid) AS def, convalidated
  FROM pg_constraint
 WHERE connamespace = 'lint_fixture'::regnamespace AND contype = 'c'
 ORDER BY 1, 2;

-- The fixture format: a case starts at a line '-- case: <label>', directly
-- followed by its '-- expect: <statement> <rule> <severity>' lines (or one
-- '-- expect: none'); the case text, those lines included, runs up to the
-- next '-- case:' line or the end of the file.  Anything before the first
-- case must be comments or blank lines.  Malformed fixtures raise an error.
CREATE FUNCTION lint_fixture.sorted_findings(findings text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(array_agg(x ORDER BY split_part(x, ' ', 1)::int, x COLLATE "C"), '{}')
      FROM unnest(findings) AS x
$fn$;

CREATE FUNCTION lint_fixture.fixture_cases(fixture text)
RETURNS TABLE (ord integer, label text, expected text[], case_sql text)
LANGUAGE plpgsql AS $fn$
DECLARE
    lines     text[] := regexp_split_to_array(fixture, E'\r?\n');
    ln        text;
    m         text[];
    labels    text[] := '{}';
    body      text[];
    in_header boolean;
    saw_none  boolean;
BEGIN
    ord := 0;
    FOR i IN 1 .. cardinality(lines) + 1 LOOP
        ln := CASE WHEN i <= cardinality(lines) THEN lines[i] END;
        IF ln IS NULL OR ln LIKE '-- case:%' THEN
            IF ord > 0 THEN
                IF cardinality(expected) = 0 AND NOT saw_none THEN
                    RAISE EXCEPTION 'fixture case "%": no "-- expect:" line', label;
                END IF;
                expected := lint_fixture.sorted_findings(expected);
                case_sql := array_to_string(body, E'\n');
                RETURN NEXT;
            END IF;
            EXIT WHEN ln IS NULL;
            ord := ord + 1;
            label := btrim(substr(ln, 9));
            IF label = '' OR label = ANY (labels) THEN
                RAISE EXCEPTION 'fixture case %: empty or duplicate label "%"', ord, label;
            END IF;
            labels := labels || label;
            expected := '{}';
            saw_none := false;
            in_header := true;
            body := ARRAY[ln];
        ELSIF ord = 0 THEN
            IF ln !~ '^\s*(--.*)?$' THEN
                RAISE EXCEPTION 'fixture: text before the first case: %', ln;
            END IF;
        ELSE
            body := body || ln;
            IF in_header AND ln LIKE '-- expect:%' THEN
                m := regexp_match(ln, '^-- expect: (?:(none)|([1-9][0-9]*) ([a-z_]+\.[a-z_]+) (error|warning|info))\s*$');
                IF m IS NULL THEN
                    RAISE EXCEPTION 'fixture case "%": malformed line: %', label, ln;
                ELSIF saw_none OR (m[1] IS NOT NULL AND cardinality(expected) > 0) THEN
                    RAISE EXCEPTION 'fixture case "%": "-- expect: none" must be the only expectation', label;
                ELSIF m[1] IS NOT NULL THEN
                    saw_none := true;
                ELSE
                    expected := expected || format('%s %s %s', m[2], m[3], m[4]);
                END IF;
            ELSE
                in_header := false;
                IF ln LIKE '-- expect:%' THEN
                    RAISE EXCEPTION 'fixture case "%": "-- expect:" line after the SQL: %', label, ln;
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$fn$;

-- lint each case on its own; actual = its (statement, rule, severity) rows
CREATE FUNCTION lint_fixture.check_fixture(p_family text, fixture text)
RETURNS TABLE (family text, ord integer, label text, expected text[], actual text[])
LANGUAGE plpgsql AS $fn$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM lint_fixture.fixture_cases(fixture) LOOP
        family := p_family;
        ord := c.ord;
        label := c.label;
        expected := c.expected;
        BEGIN
            SELECT lint_fixture.sorted_findings(array_agg(format('%s %s %s', l.statement, l.rule, l.severity)))
              INTO actual
              FROM fleetmigrate.lint(c.case_sql) AS l;
        EXCEPTION WHEN OTHERS THEN
            actual := ARRAY['ERROR: ' || SQLERRM];
        END;
        RETURN NEXT;
    END LOOP;
END
$fn$;

CREATE TABLE lint_fixture.lint_results (
    family text, ord integer, label text, expected text[], actual text[]
);

\set fixture `cat test/fixtures/lint/blocking.sql`
INSERT INTO lint_results SELECT * FROM check_fixture('blocking', :'fixture');
\set fixture `cat test/fixtures/lint/compatibility.sql`
INSERT INTO lint_results SELECT * FROM check_fixture('compatibility', :'fixture');
\set fixture `cat test/fixtures/lint/destructive.sql`
INSERT INTO lint_results SELECT * FROM check_fixture('destructive', :'fixture');
\set fixture `cat test/fixtures/lint/structure.sql`
INSERT INTO lint_results SELECT * FROM check_fixture('structure', :'fixture');
\unset fixture

-- per family: cases, expected findings, cases whose findings differ
SELECT family,
       count(*) AS cases,
       sum(cardinality(expected)) AS expected_findings,
       count(*) FILTER (WHERE expected IS DISTINCT FROM actual) AS mismatched
  FROM lint_results
 GROUP BY family
 ORDER BY family;

-- every case that differs (none when all match)
SELECT family, label, expected, actual
  FROM lint_results
 WHERE expected IS DISTINCT FROM actual
 ORDER BY family, ord;

-- line numbers: the line of a statement's first token, past comments and
-- blank lines
-- expected: (1, 4, destructive.drop_table, error)
SELECT statement, line, rule, severity FROM fleetmigrate.lint($$-- drop the old table
-- (reviewed)

DROP TABLE users;
$$) ORDER BY 1, 3;

-- two statements on line 1; a statement starting on the line a block comment
-- ends and running over two lines; a blank line and a comment line
-- expected: (2, 1, destructive.drop_table, error), (3, 3, destructive.truncate, error),
--           (4, 7, blocking.vacuum_full, warning), (4, 7, structure.non_transactional, info)
SELECT statement, line, rule, severity FROM fleetmigrate.lint($$CREATE TABLE lx_a (id int); DROP TABLE orders;
/* a block comment
   over two lines */ TRUNCATE
  users;

-- trailing comment
VACUUM FULL users;$$) ORDER BY 1, 3;

-- a dollar-quoted function body and a string over several lines count as
-- lines but hold no statement
-- expected: (2, 5, destructive.delete_all, error), (4, 9, destructive.update_all, warning)
SELECT statement, line, rule, severity FROM fleetmigrate.lint($$CREATE FUNCTION lx_fn() RETURNS void LANGUAGE sql AS $body$
  DELETE FROM users;
$body$;
-- now the real one
DELETE FROM orders;
INSERT INTO orders (id, note) VALUES (1, 'line one
line two; DROP TABLE users;
line three');
UPDATE users SET status = 'x';$$) ORDER BY 1, 3;

-- CRLF line ends count once; empty statements (;;) are not statements
-- expected: (2, 3, destructive.drop_table, error)
SELECT statement, line, rule, severity
  FROM fleetmigrate.lint(E'SELECT 1;;\r\n;\r\nDROP TABLE users;\r\n') ORDER BY 1, 3;

-- all six columns: a DROP TABLE and a CREATE INDEX finding, message and hint
SELECT * FROM fleetmigrate.lint($$DROP TABLE IF EXISTS orders;
CREATE INDEX users_name_idx ON users (name);$$) ORDER BY 1, 3;

-- objects that are not there when lint() looks: a table dropped earlier in
-- the same transaction, a schema, a type or a column that does not exist, a
-- system column.  lint() treats each as not existing (no finding, or the
-- "does not exist now" warning), never as an error.  An object dropped by
-- another session between two of lint()'s lookups cannot be staged in one
-- session: test/t/crash_soak.pl races for it.
CREATE DOMAIN lx_short AS varchar(30);
CREATE TABLE lx_t (id int, code lx_short);
BEGIN;
DROP TABLE lx_t;
-- expected: no rows
SELECT statement, rule, severity FROM fleetmigrate.lint($$
ALTER TABLE lx_t ALTER id SET NOT NULL;
ALTER TABLE lx_t ADD COLUMN x int DEFAULT random()::int;
ALTER TABLE lx_t ALTER COLUMN id TYPE bigint;
ALTER TABLE lx_t RENAME TO lx_u;
CREATE INDEX ON lx_t (id);$$) ORDER BY 1, 2;
ROLLBACK;
-- expected: 1 only the lock (a domain over varchar to text: in place);
-- 2 lossy; 3, 4 "does not exist now"; 5 a new array type; 6 no such column,
-- 7 no such schema, 8 a system column: only the lock or nothing
SELECT statement, rule, severity, message FROM fleetmigrate.lint($$
ALTER TABLE lx_t ALTER COLUMN code TYPE text;
ALTER TABLE lx_t ALTER COLUMN code TYPE varchar(10);
ALTER TABLE lx_t ALTER COLUMN id TYPE nosuch.t;
ALTER TABLE lx_t ALTER COLUMN id TYPE nosuch_t[];
ALTER TABLE lx_t ALTER COLUMN id TYPE int8[];
ALTER TABLE lx_t ALTER COLUMN nosuch TYPE bigint;
ALTER TABLE nosuch.lx_t ALTER COLUMN id TYPE bigint;
ALTER TABLE lx_t ALTER COLUMN xmin TYPE bigint;$$) ORDER BY 1, 2;
-- a type modifier the new type does not take: the server's own error
DO $$
BEGIN
    PERFORM fleetmigrate.lint('ALTER TABLE lx_t ALTER COLUMN id TYPE int4(5)');
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '% %', SQLSTATE, SQLERRM;
END $$;
DO $$
BEGIN
    PERFORM fleetmigrate.lint('ALTER TABLE lx_t ALTER COLUMN code TYPE varchar(0)');
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '% %', SQLSTATE, SQLERRM;
END $$;
DROP TABLE lx_t;
DROP DOMAIN lx_short;

RESET search_path;
-- Issue 20: whole-migration lock analysis.  The issue's migration: the
-- ALTER's lock is held through the backfill and the SET NOT NULL, so its
-- hint must not say "briefly"; each later statement names the table, its
-- estimated rows (pg_class.reltuples) and the lock, and says how to split.
CREATE TABLE lx20_big (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);
INSERT INTO lx20_big SELECT g, 'x' FROM generate_series(1, 3000) g;
ANALYZE lx20_big;
CREATE TABLE lx20_fresh (id int) WITH (autovacuum_enabled = false);
SELECT statement, rule, severity, message, hint FROM fleetmigrate.lint($$
ALTER TABLE lx20_big ADD COLUMN n int;
UPDATE lx20_big SET n = id;
ALTER TABLE lx20_big ALTER n SET NOT NULL;
$$) ORDER BY statement, rule;
-- a table never analyzed: its row count is unknown, and says so
SELECT statement, rule, message FROM fleetmigrate.lint($$
CREATE INDEX lx20_fresh_id ON lx20_fresh (id);
DELETE FROM lx20_fresh WHERE id < 0;
$$) ORDER BY statement, rule;
-- the lock alone, or followed only by quick statements: "held briefly" is true
SELECT statement, rule, hint FROM fleetmigrate.lint($$
ALTER TABLE lx20_big ADD COLUMN n int;
COMMENT ON COLUMN lx20_big.n IS 'new';
$$) ORDER BY statement, rule;

-- Issue 20: drops.  CASCADE names what goes with the object, from pg_depend;
-- a generated column computed by the function is data.
CREATE FUNCTION lx20_double(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 * 2; END';
CREATE TABLE lx20_gen (a int, b int GENERATED ALWAYS AS (lx20_double(a)) STORED);
CREATE VIEW lx20_v AS SELECT id FROM lx20_big;
CREATE VIEW lx20_v2 AS SELECT id FROM lx20_v;
SELECT statement, rule, severity, message FROM fleetmigrate.lint($$
DROP FUNCTION lx20_double(int) CASCADE;
DROP VIEW lx20_v CASCADE;
DROP VIEW lx20_v2;
DROP TABLE lx20_big CASCADE;
$$) ORDER BY statement, rule;
-- replaced: dropped and created again, with or without CASCADE of nothing
SELECT statement, rule, severity, message FROM fleetmigrate.lint($$
DROP VIEW lx20_v2;
DROP FUNCTION lx20_double(int);
CREATE VIEW lx20_v2 AS SELECT 1 AS id;
CREATE OR REPLACE FUNCTION lx20_double(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
$$) ORDER BY statement, rule;
-- replaced with CASCADE: what depends on it still goes
SELECT statement, rule, severity, message FROM fleetmigrate.lint($$
DROP VIEW lx20_v CASCADE;
CREATE VIEW lx20_v AS SELECT id FROM lx20_big;
$$) ORDER BY statement, rule;
-- DROP EXTENSION ... CASCADE of plpgsql would take the function, and with
-- it the generated column (the names are listed, data first)
SELECT statement, rule, severity,
       message LIKE 'DROP EXTENSION ... CASCADE deletes extension plpgsql and what goes with it, with data: column b of table lx20_gen, %' AS names_the_column
  FROM fleetmigrate.lint('DROP EXTENSION plpgsql CASCADE');
-- DROP SCHEMA ... CASCADE and DROP TABLE ... CASCADE name what goes, as the
-- server's own "drop cascades to" notice would (a foreign key of another
-- table, a view; not the parts of what goes, such as its indexes)
CREATE SCHEMA lx20_s;
CREATE TABLE lx20_s.a (id int PRIMARY KEY);
CREATE VIEW lx20_s.v AS SELECT id FROM lx20_s.a;
CREATE TABLE lx20_refs (a_id int REFERENCES lx20_s.a);
SELECT statement, rule, severity, message FROM fleetmigrate.lint($$
DROP SCHEMA lx20_s CASCADE;
DROP TABLE lx20_s.a CASCADE;
$$) ORDER BY statement, rule;
DROP SCHEMA lx20_s CASCADE;
DROP TABLE lx20_refs;
-- DROP OWNED names what the role owns here
CREATE ROLE regress_lx20_owner;
CREATE TABLE lx20_owned (id int);
ALTER TABLE lx20_owned OWNER TO regress_lx20_owner;
SELECT statement, rule, severity, message FROM fleetmigrate.lint('DROP OWNED BY regress_lx20_owner');
DROP TABLE lx20_owned;
DROP ROLE regress_lx20_owner;
DROP TABLE lx20_gen;
DROP FUNCTION lx20_double(int);
DROP TABLE lx20_big CASCADE;
DROP TABLE lx20_fresh;
DROP SCHEMA lint_fixture CASCADE;
DROP SCHEMA other CASCADE;
