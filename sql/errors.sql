-- errors: which migration, statement and line failed, with the server's
-- original SQLSTATE, message, detail and hint
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
\set SHOW_CONTEXT always

-- what a client receives, field by field (stable across server builds)
CREATE FUNCTION error_fields(sql text) RETURNS TABLE (field text, value text)
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text; ctx text;
BEGIN
    EXECUTE sql;
    RETURN QUERY VALUES ('no error', NULL::text);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN QUERY VALUES ('sqlstate', st), ('message', msg), ('detail', det), ('hint', hnt),
        ('context', regexp_replace(ctx, '\nPL/pgSQL function error_fields.*$', ''));
END
$$;

CREATE TABLE accounts (id int PRIMARY KEY, email text);
INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'a@example.com');

SELECT fleetmigrate.register('001', 'fine', 'CREATE TABLE t1 (id int);');
SELECT fleetmigrate.register('002', 'unique_email', $$
-- make email unique
ALTER TABLE accounts ADD COLUMN created_at timestamptz;

/* this fails: the data has duplicates */
ALTER TABLE accounts
    ADD CONSTRAINT accounts_email_key UNIQUE (email);
$$);

-- 23505 with the server's detail; context names 002, statement 2, line 6
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM error_fields('SELECT * FROM fleetmigrate.apply_pending()');

-- an error with a position inside the statement
SELECT fleetmigrate.register('002', 'unique_email', $$
CREATE VIEW account_emails AS
    SELECT id,
           emial
      FROM accounts;
$$);
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM error_fields('SELECT * FROM fleetmigrate.apply_pending()');

-- an error raised by PL/pgSQL keeps its own SQLSTATE, detail and hint
SELECT fleetmigrate.register('002', 'unique_email', $$
SELECT 1;
SELECT 2;
DO $do$
BEGIN
    RAISE EXCEPTION 'custom failure' USING ERRCODE = 'P0099',
        DETAIL = 'Some detail.', HINT = 'Some hint.';
END
$do$;
$$);
SELECT * FROM fleetmigrate.apply_pending();
SELECT * FROM error_fields('SELECT * FROM fleetmigrate.apply_pending()');

-- long statements are shortened in the context line
SELECT fleetmigrate.register('002', 'unique_email',
       'INSERT INTO accounts (id, email) VALUES ' ||
       (SELECT string_agg(format('(%s, %L)', g, 'user' || g || '@example.com'), ', ')
          FROM generate_series(1, 50) g) || ';');
SELECT * FROM fleetmigrate.apply_pending();

\set VERBOSITY terse
-- nothing was applied by any of the failures
SELECT version, state FROM fleetmigrate.status;
SELECT count(*) FROM fleetmigrate.history;
SELECT to_regclass('t1') AS t1;

DROP FUNCTION error_fields(text);
DROP TABLE accounts;
DROP EXTENSION fleetmigrate;
