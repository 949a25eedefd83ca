#!/usr/bin/env bash
#
# backfill.sh -- readers under pgbench while a big table is backfilled:
#                the single-migration form against batched backfills
#
# usage: test/bench/backfill.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE] [--rows N] [--batch-size N] [--keep-logs]
#
# How to run (from the repository root):
#   test/bench/backfill.sh                     # build, install, throwaway cluster, 3,000,000 rows
#   test/bench/backfill.sh --no-build --no-write --rows 300000
#                                              # quick look, installed build, nothing written
#
# One database (createdb -T template0, dropped at the end) with CREATE
# EXTENSION fleetmigrate and a table big (id bigint PRIMARY KEY, v int),
# ROWS rows, VACUUM ANALYZE, CHECKPOINT (untimed).  Then, one after the other,
# each while pgbench reads (a custom script: one row of big by a random
# id, "SELECT v FROM big WHERE id = :id", -c CLIENTS -j THREADS -l):
#   (s) single     one migration, run by CALL fleetmigrate.migrate()
#                  (with allow_data_loss: the UPDATE has no WHERE):
#                    ALTER TABLE big ADD COLUMN s_n int;
#                    UPDATE big SET s_n = v;
#                    ALTER TABLE big ALTER s_n SET NOT NULL;
#                  the ALTER's ACCESS EXCLUSIVE lock is held until the
#                  migration commits, through the UPDATE of every row;
#   (b) batched    the same change as five migrations, run by one CALL
#                  fleetmigrate.migrate():
#                    ALTER TABLE big ADD COLUMN b_n int;
#                    -- batch: key=id size=BATCH
#                    UPDATE big SET b_n = v WHERE b_n IS NULL;
#                    ALTER TABLE big ADD CONSTRAINT big_b_n_nn CHECK (b_n IS NOT NULL) NOT VALID;
#                    ALTER TABLE big VALIDATE CONSTRAINT big_b_n_nn;
#                    ALTER TABLE big ALTER b_n SET NOT NULL;
#                  (SET NOT NULL uses the validated CHECK and scans nothing).
# Between them VACUUM big and a CHECKPOINT (untimed).  pgbench starts
# WARMUP (3) s before the migration and is stopped (SIGTERM) 3 s after it
# (the log lines it had not written yet are after the window).
# From pgbench's per-transaction logs: reads, and the latency max, p99.9,
# p99 and p50 of the reads that ended from the migration's start to 1 s
# after its end (the window), and over the run; the migration's wall time.
# Prints a table and the target: (b)'s worst read <= fleetmigrate.lock_timeout,
# against (s)'s; writes them between "<!-- backfill:begin -->" and
# "<!-- backfill:end -->" in BENCHMARKS.md.
#
# Environment: BENCH_BACKFILL_ROWS (3000000), BENCH_BACKFILL_BATCH (10000),
# BENCH_BACKFILL_CLIENTS (4), BENCH_BACKFILL_THREADS (2), TMPDIR,
# FM_CLUSTER_DIR, FM_PORT (default /tmp/fleetmigrate-bench-backfill, 54347).
#
# Not part of the test suite.  With 3,000,000 rows on a shared 2-core VM,
# several minutes.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-backfill}
FM_PORT=${FM_PORT:-54347}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_options "$@"
rows=${BENCH_BACKFILL_ROWS:-3000000}
batch=${BENCH_BACKFILL_BATCH:-10000}
keep_logs=0
set -- "${extra_args[@]}"
while (($#)); do
    case "$1" in
        --rows) (($# >= 2)) || bench_usage; rows=$2; shift 2 ;;
        --rows=*) rows=${1#*=}; shift ;;
        --batch-size) (($# >= 2)) || bench_usage; batch=$2; shift 2 ;;
        --batch-size=*) batch=${1#*=}; shift ;;
        --keep-logs) keep_logs=1; shift ;;
        *) bench_unknown_option "$1" ;;
    esac
done
clients=${BENCH_BACKFILL_CLIENTS:-4}
threads=${BENCH_BACKFILL_THREADS:-2}
warmup=3
for v in rows batch clients threads; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done

pgbench=$FM_PG_BINDIR/pgbench
[[ -x "$pgbench" ]] || fm_die "$pgbench not found"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

db=fm_bench_backfill_$$
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-backfill-bench.XXXXXX")
chmod 755 "$work"
bg_pids=()
started=0 db_created=0
cleanup() {
    local rc=$? pid
    for pid in "${bg_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if ((db_created)) && pg_isready -q 2>/dev/null; then
        dropdb --if-exists "$db" 2>/dev/null || true
    fi
    if ((started)); then fm_stop_cluster || true; fi
    if ((keep_logs)); then
        fm_log "--keep-logs: pgbench logs in $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT

bench_server
bench_identify
bench_machine
bench_require_extension

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
fm_log "setup: database $db, table big with $rows rows"
createdb -T template0 "$db"
db_created=1
fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'
fm_psql -q -d "$db" -c "CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL)" \
    -c "INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, $rows) g" \
    -c "VACUUM ANALYZE big" -c "CHECKPOINT"
read -r fm_lock_timeout fm_lock_timeout_ms < <(fm_psql -q -At -F ' ' -d "$db" -c "LOAD 'fleetmigrate'" -c \
    "SELECT pg_catalog.current_setting('fleetmigrate.lock_timeout'),
            (extract(epoch FROM pg_catalog.current_setting('fleetmigrate.lock_timeout')::interval) * 1000)::bigint")
printf '\\set id random(1, %s)\nSELECT v FROM big WHERE id = :id;\n' "$rows" >"$work/read.sql"

# run_scenario TAG: pgbench reads while the scenario's migration runs;
# sets m_secs, m_outcome, window_start, window_end (epoch seconds)
run_scenario() {
    local tag=$1 t0 t1 pid out=$work/$tag.migrate.out
    (cd "$work" && exec "$pgbench" -n -f read.sql -c "$clients" -j "$threads" -T 100000 \
        -l --log-prefix="$tag" -d "$db" >"$work/$tag.pgbench.out" 2>&1) &
    pid=$!
    bg_pids+=("$pid")
    sleep "$warmup"
    t0=$(now)
    if [[ $tag == single ]]; then
        fm_psql -d "$db" -c "SELECT fleetmigrate.register('100', 'single_backfill', \$m\$
ALTER TABLE big ADD COLUMN s_n int;
UPDATE big SET s_n = v;
ALTER TABLE big ALTER s_n SET NOT NULL;
\$m\$)" >/dev/null
        if fm_psql -d "$db" -c "CALL fleetmigrate.migrate(allow_data_loss => ARRAY['100'])" >"$out" 2>&1; then
            m_outcome=applied
        else
            m_outcome=failed
        fi
    else
        fm_psql -d "$db" -c "SELECT * FROM fleetmigrate.register_bundle(\$b\$-- migration: 200 add_b_n
ALTER TABLE big ADD COLUMN b_n int;
-- migration: 201 backfill_b_n
-- batch: key=id size=$batch
UPDATE big SET b_n = v WHERE b_n IS NULL;
-- migration: 202 check_b_n
ALTER TABLE big ADD CONSTRAINT big_b_n_nn CHECK (b_n IS NOT NULL) NOT VALID;
-- migration: 203 validate_b_n
ALTER TABLE big VALIDATE CONSTRAINT big_b_n_nn;
-- migration: 204 b_n_not_null
ALTER TABLE big ALTER b_n SET NOT NULL;
\$b\$)" >/dev/null
        if fm_psql -d "$db" -c "CALL fleetmigrate.migrate()" >"$out" 2>&1; then
            m_outcome=applied
        else
            m_outcome=failed
        fi
    fi
    t1=$(now)
    m_secs=$(seconds "$t0" "$t1")
    window_start=$t0
    window_end=$(awk -v t="$t1" 'BEGIN { printf "%.6f", t + 1 }')
    sleep 3
    # TERM: a background job of a script ignores INT
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ $m_outcome == applied ]] || { cat "$out" >&2; fm_die "scenario $tag: the migration failed"; }
}

# stats TAG: "reads max p99.9 p99 p50" in ms, of the window, then of the run
stats() {
    local tag=$1
    cat "$work/$tag".[0-9]* 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && NF >= 6 { printf "%s.%06d %d\n", $5, $6, $3 }' >"$work/$tag.lat"
    awk -v a="$window_start" -v b="$window_end" '$1 >= a && $1 <= b { print $2 }' "$work/$tag.lat" |
        LC_ALL=C sort -n | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "0 - - - -"; exit }
            printf "%d %.3f %.3f %.3f %.3f\n", NR, v[NR] / 1000,
                v[int(NR * 0.999 + 0.999)] / 1000, v[int(NR * 0.99 + 0.999)] / 1000, v[int(NR * 0.5 + 0.999)] / 1000 }'
}

declare -A result secs
for tag in single batched; do
    fm_log "scenario $tag"
    run_scenario "$tag"
    secs[$tag]=$m_secs
    result[$tag]=$(stats "$tag")
    fm_log "  migration $m_secs s; window: reads max p99.9 p99 p50 (ms) = ${result[$tag]}"
    fm_psql -q -d "$db" -c 'VACUUM big' -c 'CHECKPOINT'
done
batches=$(fm_psql -At -d "$db" -c "SELECT batches || ' batches, ' || rows_changed || ' rows changed' FROM fleetmigrate.batch_progress WHERE version = '201'")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library
total=$(seconds "$bench_t0" "$(now)")
server=$(fm_psql -At -c 'SELECT version()')
settings=$(bench_settings fsync synchronous_commit shared_buffers max_wal_size)

read -r s_n s_max s_p999 s_p99 s_p50 <<<"${result[single]}"
read -r b_n b_max b_p999 b_p99 b_p50 <<<"${result[batched]}"
met=$(awk -v m="$b_max" -v t="$fm_lock_timeout_ms" 'BEGIN { print (m <= t) ? "met" : "NOT met" }')

block=$work/block.md
cat >"$block" <<EOF
<!-- backfill:begin -->
## Batched backfills under live reads (issue 20)

Readers (\`pgbench\`, one row of \`big\` by a random id, $clients clients) while a
$rows-row table gets a new column that is filled and made NOT NULL:
(s) the single-migration form (ALTER, UPDATE of every row, SET NOT NULL
in one migration), (b) the same change as an ALTER, a
[batched backfill](README.md#batched-backfills) of $batch rows per batch, and
a CHECK NOT VALID, its VALIDATE and the SET NOT NULL that uses it; both
run by \`CALL fleetmigrate.migrate()\`. Generated by \`test/bench/backfill.sh\`
(this block only).

- Command: \`$command_line\` (from the repository root; \`FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library
- fleetmigrate.lock_timeout = $fm_lock_timeout (the defaults of lock_retries and statement_timeout)
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before, after $load_after; benchmark time $total s
- Server: $server
- Server settings: $settings

| form | migration (s) | reads in the window | worst read (ms) | p99.9 (ms) | p99 (ms) | p50 (ms) |
|---|---:|---:|---:|---:|---:|---:|
| (s) single migration | ${secs[single]} | $s_n | $s_max | $s_p999 | $s_p99 | $s_p50 |
| (b) batched ($batches) | ${secs[batched]} | $b_n | $b_max | $b_p999 | $b_p99 | $b_p50 |

- Target: a reader's worst wait with the batched form ≤ fleetmigrate.lock_timeout
  ($fm_lock_timeout_ms ms): **$met** ($b_max ms; the single form: $s_max ms).
- The window runs from the migration's start to 1 s after its end; the
  figures are the latencies of the reads that ended in it (nearest rank),
  from pgbench's per-transaction logs. One run of each, one after the
  other, with VACUUM and CHECKPOINT between: on a shared VM a second run
  can differ.
<!-- backfill:end -->
EOF
cat "$block"
if ((write)); then
    bench_write_block backfill "$block"
fi
