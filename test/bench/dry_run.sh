#!/usr/bin/env bash
#
# dry_run.sh -- the two dry runs against the real run, side by side in one
# run (issue 20, item 3): apply_pending(), apply_pending(dry_run => true)
# and plan() on the same catalog, in the same database, alternating their
# order each repetition.
#
# usage: test/bench/dry_run.sh [REPS]   (environment: DRY_RUN_CASES, DRY_RUN_KEEP)
#
# Needs a running cluster with fleetmigrate installed (PGHOST, PGPORT; as
# test/scripts/common.sh's fm_start_cluster leaves them: FM_CLUSTER_DIR,
# FM_PORT).  Cases, each in a fresh database (setup untimed):
#   noop-10000    10,000 migrations, each "SELECT 1"
#   tables-10000  a database with 10,000 tables; 2,000 migrations, each an
#                 INSERT into one of them
#   create-1000   1,000 migrations, each a CREATE TABLE with a primary key
#                 (every table's locks are held to the end of the run, so
#                 a larger N needs a higher max_locks_per_transaction)
# Every case has a first migration that reports, as a WARNING, how long
# the call took before it ran: the real run's planning time (runner lock,
# plan read and checked), which plan() is compared with.
# Timed by the server (statement start to last row), per repetition:
#   real      BEGIN; apply_pending(); ROLLBACK   (the real run, undone)
#   dry       apply_pending(dry_run => true)
#   plan      plan()
# Prints medians and the ratios dry/real and plan/planning (targets <= 2).
# Not part of the test suite.
set -euo pipefail
reps=${1:-3}
export PGHOST=${PGHOST:-${FM_CLUSTER_DIR:-/tmp/fleetmigrate-cluster}} PGPORT=${PGPORT:-${FM_PORT:-54329}} PGUSER=${PGUSER:-postgres}
bindir=${FM_PG_BINDIR:-$(dirname "$(command -v psql)")}
psql=("$bindir/psql" -X -q -At -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

setup() {  # DB CASE
    local db=$1 case=$2
    "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    "${psql[@]}" -d "$db" -c "CREATE EXTENSION fleetmigrate"
    "${psql[@]}" -d "$db" -c "SELECT fleetmigrate.register('00000', 'clock', \$b\$DO \$x\$BEGIN RAISE WARNING 'planned_ms=%', round(extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.statement_timestamp()) * 1000, 1); END\$x\$\$b\$)" >/dev/null
    case $case in
        noop-10000)
            "${psql[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle((SELECT string_agg(format(E'-- migration: %s noop_%s\nSELECT 1;\n', lpad(i::text, 5, '0'), i), '') FROM generate_series(1, 10000) i))" >/dev/null ;;
        tables-10000)
            for ((s = 0; s < 10; s++)); do
                "${psql[@]}" -d "$db" -c "DO \$\$BEGIN FOR i IN $((s * 1000 + 1))..$((s * 1000 + 1000)) LOOP EXECUTE format('CREATE TABLE x%s (id int)', i); END LOOP; END\$\$"
            done
            "${psql[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle((SELECT string_agg(format(E'-- migration: %s insert_%s\nINSERT INTO x%s VALUES (1);\n', lpad(i::text, 5, '0'), i, i * 5), '') FROM generate_series(1, 2000) i))" >/dev/null ;;
        create-1000)
            "${psql[@]}" -d "$db" -c "SELECT count(*) FROM fleetmigrate.register_bundle((SELECT string_agg(format(E'-- migration: %s create_%s\nCREATE TABLE c%s (id bigint PRIMARY KEY, v text);\n', lpad(i::text, 5, '0'), i, i), '') FROM generate_series(1, 1000) i))" >/dev/null ;;
    esac
    "${psql[@]}" -d "$db" -c "VACUUM ANALYZE" >/dev/null
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

planned_file=$(mktemp)
trap 'rm -f "$planned_file"' EXIT

# the time a statement took, measured by the server when its rows are done
# (not the client's connection and start-up)
elapsed="round(extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.statement_timestamp()) * 1000, 1)"

run() {  # DB WHAT -> seconds (the real run's planning ms in $planned_file)
    local db=$1 what=$2 out ms
    case $what in
        real) out=$("${psql[@]}" -d "$db" -c "BEGIN" -c "SELECT count(*), $elapsed FROM fleetmigrate.apply_pending()" -c "ROLLBACK" 2>&1) ;;
        dry) out=$("${psql[@]}" -d "$db" -c "SELECT count(*) FILTER (WHERE status = 'would_apply'), $elapsed FROM fleetmigrate.apply_pending(dry_run => true)" 2>&1) ;;
        plan)
            # a build before 1.10 has no plan(): "0" (printed as n/a)
            if [[ $("${psql[@]}" -d "$db" -c "SELECT to_regprocedure('fleetmigrate.plan(text,jsonb)') IS NULL") == t ]]; then
                echo 0.000; return
            fi
            out=$("${psql[@]}" -d "$db" -c "SELECT count(*) FILTER (WHERE status = 'would_apply'), $elapsed FROM fleetmigrate.plan()" 2>&1) ;;
    esac
    if [[ $what == real ]]; then
        sed -n 's/.*planned_ms=\([0-9.]*\).*/\1/p' <<<"$out" | head -n 1 >"$planned_file"
    fi
    ms=$(grep -E '^[0-9]+\|' <<<"$out" | cut -d'|' -f2)
    awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }'
}

for case in ${DRY_RUN_CASES:-noop-10000 tables-10000 create-1000}; do
    db=bench_dry_${case//-/_}
    setup "$db" "$case"
    treal=() tdry=() tplan=() tplanned=()
    for ((r = 1; r <= reps; r++)); do
        order=(real dry plan)
        ((r % 2)) || order=(plan dry real)
        for what in "${order[@]}"; do
            t=$(run "$db" "$what")
            case $what in
                real) treal+=("$t"); tplanned+=("$(awk -v m="$(cat "$planned_file")" 'BEGIN { printf "%.3f", m / 1000 }')") ;;
                dry) tdry+=("$t") ;;
                plan) tplan+=("$t") ;;
            esac
        done
    done
    mreal=$(printf '%s\n' "${treal[@]}" | median)
    mdry=$(printf '%s\n' "${tdry[@]}" | median)
    mplan=$(printf '%s\n' "${tplan[@]}" | median)
    mplanned=$(printf '%s\n' "${tplanned[@]}" | median)
    printf '%-13s real %7.3f s (of it planning %6.3f s)  dry %7.3f s  plan %7.3f s  dry/real %.2f  plan/planning %.2f\n' \
        "$case" "$mreal" "$mplanned" "$mdry" "$mplan" \
        "$(awk -v a="$mdry" -v b="$mreal" 'BEGIN { print a / b }')" \
        "$(awk -v a="$mplan" -v b="$mplanned" 'BEGIN { print a / b }')"
    printf '              real: %s; planning: %s; dry: %s; plan: %s\n' "${treal[*]}" "${tplanned[*]}" "${tdry[*]}" "${tplan[*]}"
    [[ -n ${DRY_RUN_KEEP:-} ]] || "${psql[@]}" -d postgres -c "DROP DATABASE $db"
done
