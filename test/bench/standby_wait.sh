#!/usr/bin/env bash
#
# standby_wait.sh -- fleetmigrate.wait_for_standbys: how long a run waits
#                    after its last commit until every standby has replayed
#                    it, against the standbys' own replay lag
#
# usage: test/bench/standby_wait.sh [--no-build] [--no-write] [--output FILE] [--runs N]
#
# How to run (from the repository root):
#   test/bench/standby_wait.sh                  # build, install, throwaway primary and two standbys
#   test/bench/standby_wait.sh --no-build --no-write --runs 5
#
# A throwaway primary (test/scripts/common.sh) and two streaming standbys
# made with pg_basebackup -R (cluster_name standby1, standby2; standby2 with
# recovery_min_apply_delay = DELAY ms, a standby that replays late).  In one
# database with CREATE EXTENSION fleetmigrate, RUNS times, alternating which
# goes first:
#   wait   SET fleetmigrate.wait_for_standbys = '60s'; CALL migrate() of one
#          migration (CREATE TABLE and an INSERT of 1000 rows)
#   nowait the same without the setting
# From fleetmigrate.runs.standbys of each "wait" run: each standby's
# replayed_ms (from the commit until the run saw it replayed) and its
# replay_lag_ms (pg_stat_replication.replay_lag, the walsender's own
# measure); the run's wall time, wait against nowait (psql's \timing of
# the CALL).  Medians and maxima; writes them between
# "<!-- standby_wait:begin -->" and "<!-- standby_wait:end -->" in
# BENCHMARKS.md.
#
# Environment: BENCH_STANDBY_RUNS (20), BENCH_STANDBY_DELAY (200),
# FM_CLUSTER_DIR, FM_PORT (default /tmp/fleetmigrate-bench-standby, 54348;
# the standbys listen on the next two ports).
#
# Not part of the test suite.  About a minute.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-standby}
FM_PORT=${FM_PORT:-54348}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_options "$@"
runs=${BENCH_STANDBY_RUNS:-20}
delay=${BENCH_STANDBY_DELAY:-200}
set -- "${extra_args[@]}"
while (($#)); do
    case "$1" in
        --runs) (($# >= 2)) || bench_usage; runs=$2; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --reuse-cluster) fm_die "--reuse-cluster: this benchmark makes its own standbys" ;;
        *) bench_unknown_option "$1" ;;
    esac
done
for v in runs delay; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done

user=$(fm_server_user)
db=fm_bench_standby
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-standby-bench.XXXXXX")
started=0
standby_dirs=()
cleanup() {
    local rc=$? dir
    for dir in "${standby_dirs[@]}"; do
        fm_as_server "$user" "$FM_PG_BINDIR/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
    done
    if ((started)); then fm_stop_cluster || true; fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

bench_server
bench_identify
bench_machine
bench_require_extension

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
for i in 1 2; do
    dir=$FM_CLUSTER_DIR/standby$i
    port=$((FM_PORT + i))
    fm_log "standby$i: pg_basebackup -R into $dir (port $port)"
    fm_as_server "$user" "$FM_PG_BINDIR/pg_basebackup" -h "$FM_CLUSTER_DIR" -p "$FM_PORT" -U postgres \
        -D "$dir" -R -X stream -c fast >/dev/null
    standby_dirs+=("$dir")
    {
        printf '\n# ---- standby_wait.sh ----\nport = %s\ncluster_name = %s\nhot_standby = on\n' "$port" "standby$i"
        if ((i == 2)); then
            printf 'recovery_min_apply_delay = %sms\n' "$delay"
        fi
    } | fm_as_server "$user" tee -a "$dir/postgresql.conf" >/dev/null
    fm_as_server "$user" "$FM_PG_BINDIR/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 120 start >/dev/null
done
fm_psql -q -c "CREATE DATABASE $db"
fm_psql -q -d "$db" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION fleetmigrate'
# both standbys streaming
for _ in $(seq 1 300); do
    n=$(fm_psql -At -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    [[ $n == 2 ]] && break
    sleep 0.1
done
[[ $n == 2 ]] || fm_die "the standbys did not start streaming"

# one_run MODE I: CALL migrate() of migration I; prints the CALL's ms
one_run() {
    local mode=$1 i=$2 set=''
    [[ $mode == wait ]] && set="SET fleetmigrate.wait_for_standbys = '60s';"
    fm_psql -q -At -d "$db" -c "SELECT fleetmigrate.register(lpad('$i', 5, '0'), 'run_$mode',
        'CREATE TABLE t_$i (id int, v text); INSERT INTO t_$i SELECT g, md5(g::text) FROM generate_series(1, 1000) g')" >/dev/null
    printf '%s\n' "SET client_min_messages = warning; $set" '\timing on' 'CALL fleetmigrate.migrate();' |
        fm_psql -q -At -d "$db" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}

declare -A ms=([wait]='' [nowait]='')
n_mig=0
for ((r = 1; r <= runs; r++)); do
    if ((r % 2)); then order=(wait nowait); else order=(nowait wait); fi
    for mode in "${order[@]}"; do
        n_mig=$((n_mig + 1))
        ms[$mode]+="$(one_run "$mode" "$n_mig") "
    done
done

# each standby's figures over the "wait" runs
read -r s1_med s1_max s1_lag s2_med s2_max s2_lag all_med all_max replayed_all < <(fm_psql -At -F ' ' -d "$db" -c "
    WITH e AS (
        SELECT r.id, x->>'standby' AS standby, (x->>'replayed')::boolean AS replayed,
               (x->>'replayed_ms')::float8 AS replayed_ms, (x->>'replay_lag_ms')::float8 AS lag_ms
          FROM fleetmigrate.runs r, jsonb_array_elements(r.standbys) x
         WHERE r.standbys IS NOT NULL),
    per_run AS (SELECT id, max(replayed_ms) AS all_ms FROM e GROUP BY id)
    SELECT to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY replayed_ms) FILTER (WHERE standby = 'standby1'), 'FM99990.0'),
           to_char(max(replayed_ms) FILTER (WHERE standby = 'standby1'), 'FM99990.0'),
           to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms) FILTER (WHERE standby = 'standby1'), 'FM99990.0'),
           to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY replayed_ms) FILTER (WHERE standby = 'standby2'), 'FM99990.0'),
           to_char(max(replayed_ms) FILTER (WHERE standby = 'standby2'), 'FM99990.0'),
           to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms) FILTER (WHERE standby = 'standby2'), 'FM99990.0'),
           (SELECT to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY all_ms), 'FM99990.0') FROM per_run),
           (SELECT to_char(max(all_ms), 'FM99990.0') FROM per_run),
           bool_and(replayed)
      FROM e")
waits=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM fleetmigrate.runs WHERE standbys IS NOT NULL")
wait_med=$(median "${ms[wait]}")
nowait_med=$(median "${ms[nowait]}")
ratio=$(awk -v a="$wait_med" -v b="$nowait_med" 'BEGIN { printf "%.2f", a / b }')
pg_version=$(fm_psql -At -c 'SELECT version()')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_s=$(seconds "$bench_t0" "$(now)")
bench_check_library

table="| | median wait until replayed (ms) | max (ms) | median replay_lag of the standby (ms) |
|---|---:|---:|---:|
| standby1 (replays at once) | $s1_med | $s1_max | $s1_lag |
| standby2 (recovery_min_apply_delay = ${delay}ms) | $s2_med | $s2_max | $s2_lag |
| every standby (the run's wait) | $all_med | $all_max | |"
printf '%s\n\n' "$table"
printf 'CALL migrate() of one migration, median of %s: with the wait %s ms, without %s ms (ratio %s); every standby replayed every run: %s (%s runs)\n' \
    "$runs" "$wait_med" "$nowait_med" "$ratio" "$replayed_all" "$waits"

if ((write)); then
    block=$work/block.md
    cat >"$block" <<EOF
<!-- standby_wait:begin -->
## Waiting for standbys (issue 21, item 3)

\`fleetmigrate.wait_for_standbys\`: the time from a run's last commit until
every standby has replayed it, against the standbys' own replay lag, and
what the wait adds to a run. Generated by \`test/bench/standby_wait.sh\`
(this block only).

- Command: \`$command_line\` (from the repository root;
  \`BENCH_STANDBY_RUNS=$runs BENCH_STANDBY_DELAY=$delay FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after (the machine is shared); benchmark time $bench_s s
- Server: $pg_version; a primary and two streaming standbys on the same
  machine (Unix sockets)

$table

CALL \`migrate()\` of one migration, median of $runs each, side by side
(alternating which goes first): with the wait **$wait_med ms**, without
**$nowait_med ms** (ratio **$ratio**). Every standby replayed every run:
$replayed_all ($waits runs waited).

- Method: each run registers one migration (\`CREATE TABLE\` and an
  \`INSERT\` of 1000 rows) and runs \`CALL fleetmigrate.migrate()\`, timed by
  psql's \`\\timing\`. "Wait until replayed" is \`replayed_ms\` of
  \`fleetmigrate.runs.standbys\`: from just after the run's last commit
  until the run saw the standby's replay position (the walsender's, as
  \`pg_stat_replication.replay_lsn\`) at or past it; "replay_lag" is the
  walsender's own measure at that moment (\`replay_lag_ms\`,
  \`pg_stat_replication.replay_lag\`). standby2 applies each commit
  ${delay} ms late (\`recovery_min_apply_delay\`), a standby that lags. The
  primary's \`synchronous_commit\` is \`off\` (the throwaway cluster's); the
  run's last commit asks for feedback (\`remote_apply\`), so a standby
  reports as soon as it has replayed, not after \`wal_receiver_status_interval\`.
<!-- standby_wait:end -->
EOF
    bench_write_block standby_wait "$block"
fi
