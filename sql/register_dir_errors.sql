-- register_dir_errors: register_dir() on paths and directories that cannot be
-- read as migration files.  Each is refused with a SQLSTATE of its own, never
-- an internal error (XX000: an over-long path gave one, issue 17), and links
-- that lead nowhere, FIFOs and subdirectories are skipped, not waited on.
-- The fixtures are made by the server's user (COPY TO PROGRAM) in a directory
-- of /tmp named after the server's port, and removed at the end.
CREATE EXTENSION IF NOT EXISTS fleetmigrate;
SET client_min_messages = warning;

SELECT '/tmp/fm_regress_register_dir_' || current_setting('port') AS dir \gset

-- a shell command run by the server's user
CREATE FUNCTION pg_temp.sh(command text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', command);
END
$fn$;

-- the SQLSTATE and message of register_dir(path), the fixture directory shown
-- as <dir> and long runs of "a" as <a*N>; 'ok' and the migrations otherwise
CREATE FUNCTION pg_temp.try(path text, dir text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    found text;
BEGIN
    SELECT string_agg(r.version || ' ' || r.name, ', ' ORDER BY r.version)
      INTO found FROM fleetmigrate.register_dir(path) r;
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'ok: ' || found;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' ||
           regexp_replace(replace(SQLERRM, dir, '<dir>'), 'a{100,}',
                          '<a*' || coalesce(length(substring(SQLERRM FROM 'a{100,}')), 0) || '>');
END
$fn$;

SELECT pg_temp.sh(format($$
    rm -rf %1$s && mkdir -p %1$s/ok %1$s/locked %1$s/unreadable %1$s/odd %1$s/nul %1$s/fifo &&
    printf 'CREATE TABLE rde_a (id int);' > %1$s/ok/001_a.up.sql &&
    ln -s loop %1$s/ok/loop && ln -s 002_b.up.sql %1$s/ok/002_b.up.sql.link &&
    ln -s nowhere %1$s/ok/003_dangling.up.sql &&
    ln -s self.up.sql %1$s/ok/self.up.sql &&
    mkdir %1$s/ok/004_dir.up.sql &&
    mkfifo %1$s/ok/005_fifo.up.sql &&
    printf 'x' > %1$s/file.txt &&
    ln -s loop %1$s/loop &&
    printf 'SELECT 1;' > %1$s/locked/001_a.up.sql && chmod 000 %1$s/locked &&
    printf 'SELECT 1;' > %1$s/unreadable/001_a.up.sql && chmod 000 %1$s/unreadable/001_a.up.sql &&
    printf 'SELECT 1;' > %1$s/odd/001_caf$(printf '\351').up.sql &&
    printf 'SELECT 1;\000SELECT 2;' > %1$s/nul/001_a.up.sql &&
    mkfifo %1$s/fifo/001_a.up.sql && printf '001_a.up.sql\n' > %1$s/fifo/ORDER-up.txt
$$, :'dir'));

-- paths
SELECT pg_temp.try('/' || repeat('a', 5000), :'dir') AS over_long_path;
SELECT pg_temp.try('/tmp/' || repeat('a', 300), :'dir') AS over_long_name;
SELECT pg_temp.try(:'dir' || '/missing', :'dir') AS missing;
SELECT pg_temp.try(:'dir' || '/file.txt', :'dir') AS a_file;
SELECT pg_temp.try(:'dir' || '/file.txt/sub', :'dir') AS under_a_file;
SELECT pg_temp.try(:'dir' || '/loop', :'dir') AS link_loop;
SELECT pg_temp.try('relative/path', :'dir') AS relative;
SELECT pg_temp.try('', :'dir') AS empty;

-- directories
SELECT pg_temp.try(:'dir' || '/locked', :'dir') AS locked_directory;
SELECT pg_temp.try(:'dir' || '/unreadable', :'dir') AS unreadable_file;
SELECT pg_temp.try(:'dir' || '/odd', :'dir') AS file_name_not_utf8;
SELECT pg_temp.try(:'dir' || '/nul', :'dir') AS nul_byte;
SELECT pg_temp.try(:'dir' || '/fifo', :'dir') AS fifo_listed;

-- loops, dangling links, a subdirectory and a FIFO named like up files are
-- skipped; the one regular up file registers (and is rolled back by try())
SELECT pg_temp.try(:'dir' || '/ok', :'dir') AS skipped;
SELECT count(*) AS registered FROM fleetmigrate.migrations;

-- clean up
SELECT pg_temp.sh(format('chmod -R u+rwx %1$s; rm -rf %1$s', :'dir'));
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
