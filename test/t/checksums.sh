#!/usr/bin/env bash
#
# checksums.sh -- a script's checksum is the same on every supported version
#
# fleetmigrate.checksum() of every .sql file of test/fixtures and of both
# corpora in $FM_SHARED/corpora must equal the list in
# test/expected/checksums.txt, which was computed once.  The version matrix
# (test/scripts/matrix.sh) runs this test on PostgreSQL 15, 17 and 18, so
# the three versions agree with each other: an applied migration does not
# look edited after a major upgrade.
#
# The files are read by psql (\copy), not by the server.  A missing corpus
# is a skip (as for a checkout without ../shared); a checksum that differs
# from the list, a file missing from the list or a list entry with no file is
# a failure.  FM_UPDATE_CHECKSUMS=1 rewrites the list instead (after a
# deliberate change of the checksum rule, with an update script that
# recomputes stored checksums).
#
# Exit 0 passed, 77 skipped, anything else failed.

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

expected=$FM_ROOT/test/expected/checksums.txt
corpora=$FM_SHARED/corpora
db=fm_checksums
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -d "$corpora/ory-kratos" || ! -d "$corpora/harness-gitness" ]]; then
    echo "skipped: the corpora ory-kratos and harness-gitness are not in $corpora (../shared is not beside the checkout)"
    exit 77
fi

# name <tab> base64 of the file, for \copy
{
    (cd "$FM_ROOT/test" && find fixtures -name '*.sql' -type f)
    (cd "$FM_SHARED" && find corpora/ory-kratos corpora/harness-gitness -name '*.sql' -type f)
} | LC_ALL=C sort | while IFS= read -r name; do
    case $name in
        fixtures/*) file=$FM_ROOT/test/$name ;;
        *) file=$FM_SHARED/$name ;;
    esac
    printf '%s\t%s\n' "$name" "$(base64 -w 0 "$file")"
done >"$work/files.tsv"
nfiles=$(wc -l <"$work/files.tsv")

PGOPTIONS="-c client_min_messages=warning" fm_psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
fm_psql -q -d "$db" -At >"$work/actual.txt" <<EOF
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;
CREATE TEMP TABLE files (name text, content text);
\\copy files FROM '$work/files.tsv'
SELECT name || ' ' || fleetmigrate.checksum(convert_from(decode(content, 'base64'), 'UTF8'))
  FROM files ORDER BY name COLLATE "C";
EOF
fm_psql -q -d postgres -c "DROP DATABASE $db"

version=$(fm_psql -At -d postgres -c 'SHOW server_version_num')
if [[ "${FM_UPDATE_CHECKSUMS:-0}" == 1 ]]; then
    cp "$work/actual.txt" "$expected"
    echo "wrote $expected: $nfiles files (server_version_num $version)"
    exit 0
fi

fail=0
fm_check "files checked" "$nfiles" "$(wc -l <"$work/actual.txt")"
if ! diff -u "$expected" "$work/actual.txt" >"$work/diff"; then
    echo "FAIL checksums differ from $expected on server_version_num $version:"
    head -n 60 "$work/diff"
    fail=1
else
    echo "ok   $nfiles checksums equal $expected (server_version_num $version)"
fi
exit "$fail"
