#!/usr/bin/env bash
#
# tiers_compare.sh -- the permission checks of two builds of the extension,
#                     side by side in one cluster, interleaved query by query
#
# usage: test/bench/tiers_compare.sh BEFORE.so AFTER.so [ROUNDS]
#
# Builds the data and roles of test/bench/tiers.sh (run with --no-build
# --no-write --keep and a short pgbench part), copies its database twice,
# and points the C functions of one copy at BEFORE.so (installed as
# fleetmigrate_before.so; pg_proc.probin rewritten) and of the other at
# AFTER.so (installed as fleetmigrate.so).  Both copies hold the same pages,
# so neither side reads a table the other side's set-up left behind.  Then
# ROUNDS rounds (15), after a warm-up round, each connecting to both copies
# in turn (the order reversed every round) and timing, as each role, one
# SELECT count(*) FROM public.service_requests after an untimed one: RLS off
# (bench_tiers_bypass), (b) (bench_tiers_self) and (c) (bench_tiers_rows),
# as in tiers.sh; the policy roles hold SELECT (id, auth_tier) on
# public.users and nothing more.  Prints the medians and the ratios to RLS
# off of each side.  Replaces the installed fleetmigrate.so with AFTER.so
# and leaves it there.  Used for the 1.7 privilege change (BENCHMARKS.md,
# tier block).  Not part of the test suite.  About 4 minutes on 2 cores.
#
# Environment: FM_PG_BINDIR, FM_CLUSTER_DIR, FM_PORT as for tiers.sh.

set -euo pipefail

before_so=${1:?usage: $0 BEFORE.so AFTER.so [ROUNDS]}
after_so=${2:?usage: $0 BEFORE.so AFTER.so [ROUNDS]}
rounds=${3:-15}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-tiers-bench}
FM_PORT=${FM_PORT:-54341}
export FM_CLUSTER_DIR FM_PORT
# shellcheck source=test/scripts/common.sh
source "$here/../scripts/common.sh"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || fm_die "ROUNDS must be a positive integer (got $rounds)"

lib=$("$FM_PG_CONFIG" --pkglibdir)
fm_as_root cp "$after_so" "$lib/fleetmigrate.so"
fm_as_root cp "$before_so" "$lib/fleetmigrate_before.so"
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-tiers-compare.XXXXXX")

BENCH_TIERS_DURATION=2 BENCH_TIERS_RUNS=1 BENCH_TIERS_QUERY_RUNS=1 \
    "$here/tiers.sh" --no-build --no-write --keep >"$work/setup.log" 2>&1 ||
    { tail -n 20 "$work/setup.log" >&2; fm_die "tiers.sh set-up failed"; }
db=$(sed -n 's/.*--keep: database \([^ ]*\) .*/\1/p' "$work/setup.log")
[[ -n "$db" ]] || fm_die "no database name in tiers.sh's output"
cleanup() {
    fm_psql -q -c "DROP DATABASE IF EXISTS fm_tiers_before" -c "DROP DATABASE IF EXISTS fm_tiers_after" \
        -c "DROP DATABASE IF EXISTS $db" || true
    for r in bench_tiers_bypass bench_tiers_self bench_tiers_rows bench_tiers_floor bench_tiers_once; do
        fm_psql -q -c "DROP ROLE IF EXISTS $r" || true
    done
    fm_stop_cluster || true
    fm_as_root rm -f "$lib/fleetmigrate_before.so"
    rm -rf "$work"
}
trap cleanup EXIT

fm_psql -q -c "CREATE DATABASE fm_tiers_before TEMPLATE $db" -c "CREATE DATABASE fm_tiers_after TEMPLATE $db"
fm_psql -q -d fm_tiers_before \
    -c "UPDATE pg_catalog.pg_proc SET probin = '\$libdir/fleetmigrate_before' WHERE probin = '\$libdir/fleetmigrate'"
self=$(fm_psql -At -d "$db" -c "SELECT md5('user1')::uuid")

{
    for ((r = 0; r <= rounds; r++)); do
        if ((r % 2)); then order="before after"; else order="after before"; fi
        for side in $order; do
            printf '\\c fm_tiers_%s\nSET app.user_id = %s;\n' "$side" "'$self'"
            for role in bench_tiers_bypass bench_tiers_self bench_tiers_rows; do
                printf 'SET ROLE %s;\nSELECT count(*) FROM public.service_requests;\n' "$role"
                printf '\\echo @ %s %s %d\n\\timing on\nSELECT count(*) FROM public.service_requests;\n\\timing off\nRESET ROLE;\n' \
                    "$side" "$role" "$r"
            done
        done
    done
} >"$work/compare.sql"
fm_psql -At -f "$work/compare.sql" >"$work/compare.out"
awk '/^@ / { s = $2; role = $3; r = $4; next }
     s != "" && /^Time: / { if (r > 0) print s, role, $2; s = "" }' "$work/compare.out" >"$work/times"

for side in before after; do
    awk -v side="$side" '
        function median(list,   n, v, i, j, t) {
            n = split(list, v, " ")
            for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        $1 == side { t[$2] = t[$2] " " $3 }
        END {
            off = median(t["bench_tiers_bypass"]); b = median(t["bench_tiers_self"]); c = median(t["bench_tiers_rows"])
            printf "%s: RLS off %.1f ms, (b) %.1f ms, ratio %.3f; (c) %.1f ms, ratio %.3f\n", side, off, b, b / off, c, c / off
        }' "$work/times"
done
printf 'every count, ms (side role time):\n'
cat "$work/times"
