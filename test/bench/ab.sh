#!/usr/bin/env bash
#
# ab.sh -- two builds of fleetmigrate side by side, in one run: the time of
# apply_pending() and CALL migrate() on synthetic migrations and of lint()
# over a corpus, alternating between the two servers each repetition.
#
# usage: test/bench/ab.sh PORT_A PORT_B [REPS]
#
# PORT_A and PORT_B are two running clusters (sockets in FM_CLUSTER_DIR_A and
# FM_CLUSTER_DIR_B), each with its own build of the extension installed and
# max_locks_per_transaction high enough for a 1000-migration transaction.
# Each repetition, in a fresh database on each side (the order alternates):
#   apply-1000   apply_pending() of 1000 migrations, each CREATE TABLE with a
#                primary key and CREATE INDEX (registration untimed)
#   migrate-1000 CALL migrate() of the same
#   noop-1000    apply_pending() of 1000 migrations that are SELECT 1
#   register-1000 register_bundle() of the 1000 migrations of apply-1000
#   lint-kratos  lint() of every ory-kratos up file, 200 times
# Prints each side's median and the ratio B/A.  AB_CASES chooses the cases.
# Not part of the test suite.
set -euo pipefail
a=$1 b=$2 reps=${3:-3}
shared=${FM_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
declare -A host=([$a]=$FM_CLUSTER_DIR_A [$b]=$FM_CLUSTER_DIR_B)
kratos=$(cat "$shared"/corpora/ory-kratos/*.up.sql 2>/dev/null | grep -v -i "concurrently" || true)

bundle() {  # N KIND
    local n=$1 kind=$2
    if [[ $kind == noop ]]; then
        echo "SELECT string_agg(format(E'-- migration: %s noop_%s\nSELECT 1;\n', lpad(i::text, 5, '0'), i), '') FROM generate_series(1, $n) i"
    else
        echo "SELECT string_agg(format(E'-- migration: %s create_t%s\nCREATE TABLE t%s (id bigint PRIMARY KEY, v text);\nCREATE INDEX t%s_v ON t%s (v);\n', lpad(i::text, 5, '0'), i, i, i, i), '') FROM generate_series(1, $n) i"
    fi
}

run_case() {  # PORT CASE -> seconds
    local port=$1 case=$2 db=ab_$RANDOM$RANDOM s e
    local p=(psql -X -q -At -v ON_ERROR_STOP=1 -h "${host[$port]}" -p "$port" -U postgres)
    "${p[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    "${p[@]}" -d "$db" -c "SET client_min_messages = warning; CREATE EXTENSION fleetmigrate" >/dev/null
    case $case in
        apply-1000|migrate-1000) "${p[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle(($(bundle 1000 create)))" >/dev/null ;;
        noop-1000) "${p[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle(($(bundle 1000 noop)))" >/dev/null ;;
    esac
    s=$(date +%s.%N)
    case $case in
        register-1000) "${p[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle(($(bundle 1000 create)))" >/dev/null ;;
        apply-1000|noop-1000) "${p[@]}" -d "$db" -c "SET client_min_messages = warning; SELECT count(*) FROM fleetmigrate.apply_pending(allow_destructive => true)" >/dev/null ;;
        migrate-1000) "${p[@]}" -d "$db" -c "SET client_min_messages = warning" -c "CALL fleetmigrate.migrate(allow_destructive => true)" >/dev/null ;;
        lint-kratos) printf '%s\n' "SET client_min_messages = warning; SELECT count(*) FROM generate_series(1, 200), LATERAL fleetmigrate.lint(:'s');" |
                         "${p[@]}" -d "$db" -v s="$kratos" >/dev/null ;;
    esac
    e=$(date +%s.%N)
    "${p[@]}" -d postgres -c "DROP DATABASE $db" >/dev/null
    echo "$e - $s" | bc
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for case in ${AB_CASES:-apply-1000 migrate-1000 noop-1000 register-1000 lint-kratos}; do
    ta=() tb=()
    for ((r = 1; r <= reps; r++)); do
        if ((r % 2)); then
            ta+=("$(run_case "$a" "$case")"); tb+=("$(run_case "$b" "$case")")
        else
            tb+=("$(run_case "$b" "$case")"); ta+=("$(run_case "$a" "$case")")
        fi
    done
    ma=$(printf '%s\n' "${ta[@]}" | median)
    mb=$(printf '%s\n' "${tb[@]}" | median)
    printf '%-13s A %7.3f s  B %7.3f s  B/A %.2f   (A: %s; B: %s)\n' "$case" "$ma" "$mb" \
        "$(echo "$mb / $ma" | bc -l)" "${ta[*]}" "${tb[*]}"
done
