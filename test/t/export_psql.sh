#!/usr/bin/env bash
# export_psql: the export round trip on the path users take.  The bundle is
# written with psql -At -c "SELECT fleetmigrate.export_bundle()" > file,
# which adds a newline at the end, and that file's text, byte for byte, is
# registered again; exporting again gives the file's text.  Scripts that
# end in a newline or in a comment after a blank line, a comment between
# two migrations, and the "-- ran" section of an applied migration whose
# registered text changed are all in it.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

a=fm_t_export_a
b=fm_t_export_b
tmp=$(mktemp -d)
cleanup() {
    fm_psql -q -d postgres -c "DROP DATABASE IF EXISTS $a" -c "DROP DATABASE IF EXISTS $b" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fm_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $a" -c "DROP DATABASE IF EXISTS $b" \
    -c "CREATE DATABASE $a" -c "CREATE DATABASE $b" >/dev/null
fail=0

# export DB FILE: the way the README says
export_to() {
    fm_psql -At -d "$1" -c "SELECT fleetmigrate.export_bundle()" >"$2"
}
# register DB FILE: the file's text exactly, as pasted into an editor
register_from() {
    { printf 'SELECT string_agg(outcome, %s ORDER BY version, name) FROM fleetmigrate.register_bundle($fmbundle$' "','"
      cat "$2"
      printf '$fmbundle$)\n'; } | fm_psql -At -q -d "$1"
}
sums='SELECT string_agg(concat_ws(chr(32), version, name, checksum, down_checksum, verify_checksum,
                                  md5(up), md5(down), md5(verify)), chr(10) ORDER BY version, name)
        FROM fleetmigrate.migrations'

fm_psql -q -d "$a" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 users
CREATE TABLE ex_users (id int PRIMARY KEY);
-- down
DROP TABLE ex_users;
-- verify
SELECT 1 FROM ex_users LIMIT 0;

-- 002 came from the other branch; this comment belongs to no script.
-- migration: 002 profiles
CREATE TABLE ex_profiles (id int REFERENCES ex_users);
$b$);
SELECT fleetmigrate.register('003', 'ends_with_newline', E'CREATE TABLE ex_three (id int);\n');
SELECT fleetmigrate.register('004', 'ends_with_comment', E'CREATE TABLE ex_four (id int);\n\n-- TODO: an index', E'DROP TABLE ex_four;\n\n-- keep the data?\n');
SQL

# 1. a catalog of pending migrations, exported, registered into an empty
#    catalog, exported again: the same bytes, the same scripts
export_to "$a" "$tmp/a.sql"
fm_check "the file ends with psql's newline after the bundle's" "$(printf '\n\n' | od -c)" "$(tail -c 2 "$tmp/a.sql" | od -c)"
if grep -q 'belongs to no script' "$tmp/a.sql"; then
    echo "FAIL the comment between two migrations was kept in a script"
    fail=1
else
    echo "ok   the comment between two migrations is in no script"
fi
fm_psql -q -d "$b" -c "CREATE EXTENSION fleetmigrate" >/dev/null
fm_check "register_bundle() of the file" "registered,registered,registered,registered" "$(register_from "$b" "$tmp/a.sql")"
export_to "$b" "$tmp/b.sql"
if cmp -s "$tmp/a.sql" "$tmp/b.sql"; then
    echo "ok   export, register the file, export: byte-identical"
else
    echo "FAIL export, register the file, export differ:"
    diff "$tmp/a.sql" "$tmp/b.sql" || true
    fail=1
fi
fm_check "the same scripts and checksums" "$(fm_psql -At -d "$a" -c "$sums")" "$(fm_psql -At -d "$b" -c "$sums")"
fm_check "003 keeps its newline" "t" \
    "$(fm_psql -At -d "$b" -c "SELECT up = E'CREATE TABLE ex_three (id int);\n' FROM fleetmigrate.migrations WHERE version = '003'")"

# 2. an applied migration registered again with another text: the export
#    has a "-- ran" section; registering the file changes nothing
fm_psql -q -d "$a" >/dev/null <<'SQL'
SET client_min_messages = error;
SELECT count(*) FROM fleetmigrate.apply_pending(target => '001');
SELECT fleetmigrate.register('001', 'users', 'CREATE TABLE ex_users (id bigint PRIMARY KEY)',
                             'DROP TABLE ex_users', 'SELECT 1 FROM ex_users LIMIT 0');
SQL
export_to "$a" "$tmp/ran.sql"
fm_check "the export shows the text that ran" "1" "$(grep -c -x -- '-- ran' "$tmp/ran.sql")"
fm_check "the text that ran follows it" "CREATE TABLE ex_users (id int PRIMARY KEY);" \
    "$(grep -A1 -x -- '-- ran' "$tmp/ran.sql" | tail -n 1)"
fm_check "registering the file changes nothing" "unchanged,unchanged,unchanged,unchanged" \
    "$(register_from "$a" "$tmp/ran.sql" 2>/dev/null)"
export_to "$a" "$tmp/ran2.sql"
if cmp -s "$tmp/ran.sql" "$tmp/ran2.sql"; then
    echo "ok   with a -- ran section: byte-identical"
else
    echo "FAIL with a -- ran section, the exports differ:"
    diff "$tmp/ran.sql" "$tmp/ran2.sql" || true
    fail=1
fi
fm_check "the registered text is still the new one" "CREATE TABLE ex_users (id bigint PRIMARY KEY)" \
    "$(fm_psql -At -d "$a" -c "SELECT up FROM fleetmigrate.migrations WHERE version = '001'")"
exit $fail
