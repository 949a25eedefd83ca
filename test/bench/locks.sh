#!/usr/bin/env bash
#
# locks.sh -- live traffic and a migration that must wait for a lock:
#             fleetmigrate's lock_timeout retries against plain psql
#
# usage: test/bench/locks.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE] [--duration SECS] [--warmup SECS] [--hold SECS] [--runs N] [--rate TPS] [--keep-logs]
#
# How to run (from the repository root):
#   test/bench/locks.sh                      # build, install, throwaway cluster, 4 x 60 s
#   test/bench/locks.sh --no-build --runs 3  # installed build, medians of 3 runs (~14 min)
#   test/bench/locks.sh --no-build --no-write --duration 25 --warmup 3 --hold 10
#                                            # quick look, installed build, nothing written
#
# One database (createdb -T template0, dropped at the end) with CREATE
# EXTENSION fleetmigrate.  Then four scenarios, one after the other (RUNS
# times, the order rotating; figures are medians over the runs), each
# on fresh pgbench tables (pgbench -i -s BENCH_LOCKS_SCALE, default 10:
# 1,000,000 rows in pgbench_accounts; then a CHECKPOINT; untimed), each a run of
#   pgbench -n -b simple-update -c CLIENTS -j THREADS -T DURATION -l --log-prefix=...
# and, WARMUP seconds after pgbench starts:
#   (a) baseline     nothing else.
#   (h) long tx only (information) the long transaction of (b) and (c) and
#                    no migration: what it costs the traffic by itself (it
#                    holds back the xmin horizon, so dead row versions pile
#                    up for HOLD seconds).
#   (b) fleetmigrate a session (application_name fm_locks_holder) runs
#                    BEGIN; SELECT count(*) FROM pgbench_accounts WHERE aid = 1;
#                    SELECT pg_sleep(HOLD); COMMIT;
#                    so it holds ACCESS SHARE on pgbench_accounts for HOLD
#                    seconds (checked in pg_locks); 1 s after it started,
#                    another session runs
#                    SELECT fleetmigrate.register('<version>', 'add_note',
#                        'ALTER TABLE pgbench_accounts ADD COLUMN note_<tag>_r<run>_b text');
#                    SELECT * FROM fleetmigrate.apply_pending();
#                    with fleetmigrate's default lock settings
#                    (fleetmigrate.lock_timeout = 1s, lock_retries = 10,
#                    exponential backoff with jitter: the ALTER waits at most
#                    lock_timeout in the lock queue per attempt, so the
#                    traffic queued behind it moves again between attempts;
#                    it succeeds once the long transaction has ended).
#   (c) plain psql   the same long transaction, then 1 s later the same
#                    ALTER TABLE (column note_<tag>_r<run>_c) with
#                    psql -X -c 'ALTER TABLE ...' and no lock_timeout: it
#                    queues behind the long transaction until that commits,
#                    and every pgbench transaction (they all update
#                    pgbench_accounts) queues behind it.
# The column names carry the run's tag (date and pid), so reruns against the
# same server never collide.  The migration's wall time (psql start to end,
# EPOCHREALTIME) and outcome are recorded; (b) and (c) succeed only if the
# column exists afterwards.
#
# From pgbench's per-transaction logs (one line per transaction: latency in
# µs and the completion time): transactions, failed transactions, latency
# p50, p99 and max (ms; nearest rank, over every
# transaction of the run), the longest stall (the longest interval in which
# no transaction of any client completed) and when it began (seconds after
# pgbench started), and p99 and tps in the event window (from the start of
# the long transaction, or WARMUP for (a), to HOLD + 2 s later); tps is
# pgbench's own (without the initial connection time).
# Prints a table, the ratios p99(b) / p99(a) and p99(c) / p99(a), and the
# target: p99(b) <= 1.2 x p99(a) with the migration applied, while (c)
# stalls the traffic for about HOLD seconds; for information, whether (b)'s
# longest stall stays within fleetmigrate.lock_timeout + 0.5 s, and
# p99(h) / p99(a) and p99(b) / p99(h).  Writes them between
# "<!-- locks:begin -->" and "<!-- locks:end -->" in BENCHMARKS.md
# (test/bench/bench.sh keeps that block when it rewrites the file).
#
# Options: as test/bench/bench.sh (--reuse-cluster, --no-build, --no-write,
# --output FILE), and
#   --duration SECS  seconds of each pgbench run (BENCH_LOCKS_DURATION, 60);
#                    at least WARMUP + HOLD + 6
#   --warmup SECS    seconds before the long transaction starts
#                    (BENCH_LOCKS_WARMUP, 10)
#   --hold SECS      how long the long transaction holds its lock
#                    (BENCH_LOCKS_HOLD, 20)
#   --runs N         run the four scenarios N times (BENCH_LOCKS_RUNS, 1),
#                    the order rotating from one run to the next, and report
#                    medians: on a shared 2-core VM a single run's p99 can
#                    differ by 2-3x from the next one's
#   --rate TPS       pgbench -R TPS (BENCH_LOCKS_RATE; default none: each
#                    client sends its next transaction as soon as the last
#                    one is done).  With a rate, pgbench logs each
#                    transaction's latency from its scheduled start, so a
#                    stall delays every transaction due during it and shows
#                    in p99; without, a stall delays one transaction per
#                    client (CLIENTS among hundreds of thousands) and shows
#                    only in max and the stall columns
#   --keep-logs      keep the work folder with pgbench's logs (its path is
#                    printed)
# Environment: BENCH_LOCKS_SCALE (10), BENCH_LOCKS_CLIENTS (4),
# BENCH_LOCKS_THREADS (2: this VM has 2 cores), TMPDIR (where the work folder
# goes), FM_CLUSTER_DIR, FM_PORT (default /tmp/fleetmigrate-bench-locks,
# 54343: neither the test suite's nor the other benchmarks' cluster).
#
# Not part of the test suite.  About 4.5 minutes with the defaults.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-locks}
FM_PORT=${FM_PORT:-54343}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_options "$@"
duration=${BENCH_LOCKS_DURATION:-60}
warmup=${BENCH_LOCKS_WARMUP:-10}
hold=${BENCH_LOCKS_HOLD:-20}
rate=${BENCH_LOCKS_RATE:-}
runs=${BENCH_LOCKS_RUNS:-1}
keep_logs=0
set -- "${extra_args[@]}"
while (($#)); do
    case "$1" in
        --duration) (($# >= 2)) || bench_usage; duration=$2; shift 2 ;;
        --duration=*) duration=${1#*=}; shift ;;
        --warmup) (($# >= 2)) || bench_usage; warmup=$2; shift 2 ;;
        --warmup=*) warmup=${1#*=}; shift ;;
        --hold) (($# >= 2)) || bench_usage; hold=$2; shift 2 ;;
        --hold=*) hold=${1#*=}; shift ;;
        --rate) (($# >= 2)) || bench_usage; rate=$2; shift 2 ;;
        --rate=*) rate=${1#*=}; shift ;;
        --runs) (($# >= 2)) || bench_usage; runs=$2; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --keep-logs) keep_logs=1; shift ;;
        *) bench_unknown_option "$1" ;;
    esac
done
scale=${BENCH_LOCKS_SCALE:-10}
clients=${BENCH_LOCKS_CLIENTS:-4}
threads=${BENCH_LOCKS_THREADS:-2}
for v in duration warmup hold runs scale clients threads; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done
((duration >= warmup + hold + 6)) ||
    fm_die "--duration ($duration) must be at least --warmup + --hold + 6 ($((warmup + hold + 6))): the long transaction and the migration must end within the pgbench run"
[[ -z "$rate" || "$rate" =~ ^[1-9][0-9]*$ ]] || fm_die "--rate must be a positive integer (got $rate)"
rate_args=() rate_text="no rate limit"
[[ -z "$rate" ]] || rate_args=(-R "$rate") rate_text="rate $rate tps"
((threads <= clients)) || fm_die "BENCH_LOCKS_THREADS ($threads) exceeds BENCH_LOCKS_CLIENTS ($clients)"

pgbench=$FM_PG_BINDIR/pgbench
[[ -x "$pgbench" ]] || fm_die "$pgbench not found (Debian ships it in the package postgresql-$FM_PG_VERSION)"

# NOTICEs stay in the server, except in the migration's own session (below)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

tag=$(date -u +%Y%m%d%H%M%S)_$$
db=fm_bench_locks_$$
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-locks-bench.XXXXXX")
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
        fm_log "--keep-logs: pgbench logs and session outputs in $work"
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

# ---------------------------------------------------------------- set-up

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
fm_log "setup: database $db"
createdb -T template0 "$db"
db_created=1
fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'

# The lock settings fleetmigrate runs (b) with: its defaults, unless PGOPTIONS
# or the server's configuration say otherwise.  LOAD defines the settings in
# this session; a build without them reports "n/a".
read -r fm_lock_timeout fm_lock_retries fm_lock_timeout_s < <(fm_psql -q -At -F ' ' -d "$db" -c "LOAD 'fleetmigrate'" -c \
    "SELECT coalesce(pg_catalog.current_setting('fleetmigrate.lock_timeout', true), 'n/a'),
            coalesce(pg_catalog.current_setting('fleetmigrate.lock_retries', true), 'n/a'),
            coalesce(extract(epoch FROM pg_catalog.current_setting('fleetmigrate.lock_timeout', true)::interval)::text, 'n/a')")
server_lock_timeout=$(fm_psql -At -d "$db" -c 'SHOW lock_timeout')
fm_log "fleetmigrate.lock_timeout = $fm_lock_timeout, fleetmigrate.lock_retries = $fm_lock_retries; server lock_timeout = $server_lock_timeout"
[[ "$server_lock_timeout" == 0 ]] ||
    fm_log "warning: the server's lock_timeout is $server_lock_timeout, so (c) is not a plain ALTER without one"

# ---------------------------------------------------------------- scenarios

# sleep_until T: sleep until EPOCHREALTIME reaches T (no-op if past)
sleep_until() {
    local s
    s=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; if (d > 0) printf "%.3f", d; else print 0 }')
    [[ "$s" == 0 ]] || sleep "$s"
}

# start_holder SCENARIO: the long transaction, in the background; sets
# holder_pid and holder_t0, and returns once pg_locks shows its lock
start_holder() {
    local s=$1 i held
    holder_t0=$(now)
    PGAPPNAME=fm_locks_holder psql -X -q -v ON_ERROR_STOP=1 -d "$db" >"$work/$s.holder.out" 2>&1 <<SQL &
BEGIN;
SELECT count(*) FROM pgbench_accounts WHERE aid = 1;
SELECT pg_sleep($hold);
COMMIT;
SQL
    holder_pid=$!
    bg_pids+=("$holder_pid")
    for ((i = 0; i < 100; i++)); do
        held=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM pg_catalog.pg_locks l
            JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
            WHERE a.application_name = 'fm_locks_holder' AND a.datname = current_database()
              AND l.relation = 'public.pgbench_accounts'::regclass
              AND l.mode = 'AccessShareLock' AND l.granted")
        [[ "$held" == 1 ]] && return 0
        sleep 0.05
    done
    cat "$work/$s.holder.out" >&2
    fm_die "($s) the long transaction does not hold ACCESS SHARE on pgbench_accounts after 5 s"
}

# run_migration SCENARIO ID ROUND: the ALTER TABLE of (b) through
# fleetmigrate or of (c) through plain psql, in the foreground; sets mig_s
# and mig_outcome
run_migration() {
    local s=$1 id=$2 col=note_${tag}_$2 t0 t1 rc=0 exists version msg retries
    if [[ "$s" == b ]]; then
        # increasing from one run to the next
        printf -v version '%s%03d' "${tag%%_*}" "$3"
        t0=$(now)
        # the session shows fleetmigrate's NOTICEs and WARNINGs (retries)
        PGOPTIONS="${PGOPTIONS} -c client_min_messages=notice" \
            psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -v v="$version" \
            -v ddl="ALTER TABLE pgbench_accounts ADD COLUMN $col text" \
            >"$work/$id.migration.out" 2>"$work/$id.migration.err" <<'SQL' || rc=$?
SELECT fleetmigrate.register(:'v', 'add_note', :'ddl');
SELECT * FROM fleetmigrate.apply_pending();
SQL
        t1=$(now)
    else
        t0=$(now)
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER TABLE pgbench_accounts ADD COLUMN $col text" \
            >"$work/$id.migration.out" 2>"$work/$id.migration.err" || rc=$?
        t1=$(now)
    fi
    mig_s=$(seconds "$t0" "$t1")
    exists=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM pg_catalog.pg_attribute
        WHERE attrelid = 'public.pgbench_accounts'::regclass AND attname = '$col' AND NOT attisdropped")
    if ((rc == 0)) && [[ "$exists" == 1 ]]; then
        mig_outcome=applied
        # fleetmigrate's NOTICE for each attempt that timed out: "... retry N of M ..."
        retries=$(grep -c -E 'retry [0-9]+ of [0-9]+' "$work/$id.migration.err" || true)
        ((retries == 0)) || mig_outcome+=" after $retries lock timeouts"
    else
        msg=$(grep -m 1 -E 'ERROR|FATAL' "$work/$id.migration.err" || true)
        mig_outcome="FAILED (exit $rc${msg:+: ${msg//|//}})"
    fi
}

# stats FILE...: from pgbench's per-transaction logs, with t0 (pgbench's
# start) and the event window w0..w1 (seconds after t0) set; prints
# "transactions failed p50 p99 max stall stall_at stalled window_transactions
# window_p99" (latencies in ms, times in s; stalled: the sum of all intervals
# longer than 0.1 s with no transaction completing)
stats() {
    local tx=$work/tx.tmp base
    base=${t0%.*}
    # completion time (s after t0) and latency (ms) of every transaction;
    # a failed one has "failed" (or "skipped") for its latency
    awk -v base="$base" -v frac="0.${t0#*.}" -v failed_file="$work/failed.tmp" '
        $3 ~ /^[0-9]+$/ { printf "%.6f %.3f\n", ($5 - base) + $6 / 1e6 - frac, $3 / 1000; next }
        NF { failed++ }
        END { print failed + 0 > failed_file }
    ' "$@" >"$tx"
    # nearest-rank percentiles of sorted values: "n p50 p99 max"
    # shellcheck disable=SC2016 # awk's $1
    local pct='{ v[NR] = $1 }
        function rank(q,   i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] }
        END { if (NR) printf "%d %.3f %.3f %.3f", NR, rank(0.50), rank(0.99), v[NR]; else printf "0 - - -" }'
    local all window gap n p50 p99 max wn wp99
    all=$(cut -d' ' -f2 "$tx" | LC_ALL=C sort -g | awk "$pct")
    window=$(awk -v w0="$w0" -v w1="$w1" '$1 >= w0 && $1 <= w1 { print $2 }' "$tx" | LC_ALL=C sort -g | awk "$pct")
    gap=$(cut -d' ' -f1 "$tx" | LC_ALL=C sort -g | awk '
        NR > 1 && $1 - prev > gap { gap = $1 - prev; at = prev }
        NR > 1 && $1 - prev > 0.1 { stalled += $1 - prev }
        { prev = $1 }
        END { printf "%.3f %.1f %.1f", gap, at, stalled }')
    read -r n p50 p99 max <<<"$all"
    read -r wn _ wp99 _ <<<"$window"
    printf '%s %s %s %s %s %s %s %s\n' "$n" "$(cat "$work/failed.tmp")" "$p50" "$p99" "$max" "$gap" "$wn" "$wp99"
    rm -f "$tx" "$work/failed.tmp"
}

scenarios=(a h b c)
declare -A s_name=([a]="(a) baseline" [h]="(h) long tx only" [b]="(b) fleetmigrate" [c]="(c) plain psql")
# per scenario, one value per run, space-separated
declare -A r_tx=() r_failed=() r_tps=() r_p50=() r_p99=() r_max=() r_stall=() r_stall_at=() r_stalled=()
declare -A r_wtps=() r_wp99=() r_mig=() r_outcome=()

# run_scenario S ROUND
run_scenario() {
    local s=$1 round=$2 id="r$2_$1" out n_out f_out pid tps
    # fresh pgbench tables (and so no bloat from the scenario before), then
    # a checkpoint
    fm_log "${s_name[$s]}, run $round: pgbench -i -s $scale"
    "$pgbench" -i -q -s "$scale" "$db" >"$work/$id.init.log" 2>&1 || {
        cat "$work/$id.init.log" >&2
        fm_die "pgbench -i failed"
    }
    fm_psql -q -d "$db" -c CHECKPOINT
    fm_log "${s_name[$s]}, run $round: pgbench -n -b simple-update -c $clients -j $threads -T $duration${rate:+ -R $rate}"
    # the clock of the scenario: just before pgbench starts
    t0=$(now)
    "$pgbench" -n -b simple-update -c "$clients" -j "$threads" -T "$duration" "${rate_args[@]}" \
        -l --log-prefix="$work/$id" "$db" >"$work/$id.pgbench.out" 2>&1 &
    pid=$!
    bg_pids+=("$pid")
    mig_s=- mig_outcome=-
    if [[ "$s" == a ]]; then
        ev_t0=$(awk -v t="$t0" -v w="$warmup" 'BEGIN { printf "%.6f", t + w }')
    elif [[ "$s" == h ]]; then
        sleep_until "$(awk -v t="$t0" -v w="$warmup" 'BEGIN { printf "%.6f", t + w }')"
        start_holder "$id"
        ev_t0=$holder_t0
        fm_log "${s_name[$s]}: the long transaction holds ACCESS SHARE since $(seconds "$t0" "$holder_t0") s; no migration"
        wait "$holder_pid" || { cat "$work/$id.holder.out" >&2; fm_die "($id) the long transaction failed"; }
    else
        sleep_until "$(awk -v t="$t0" -v w="$warmup" 'BEGIN { printf "%.6f", t + w }')"
        start_holder "$id"
        ev_t0=$holder_t0
        sleep_until "$(awk -v t="$holder_t0" 'BEGIN { printf "%.6f", t + 1 }')"
        fm_log "${s_name[$s]}: the long transaction holds ACCESS SHARE since $(seconds "$t0" "$holder_t0") s; the migration starts"
        run_migration "$s" "$id" "$round"
        fm_log "${s_name[$s]}: migration $mig_outcome after $mig_s s"
        if [[ -s "$work/$id.migration.err" ]]; then
            grep -v -E '^(DETAIL:  )?Process [0-9]+ ' "$work/$id.migration.err" | head -n 25 | sed 's/^/   | /' >&2
        fi
        wait "$holder_pid" || { cat "$work/$id.holder.out" >&2; fm_die "($id) the long transaction failed"; }
    fi
    wait "$pid" || { cat "$work/$id.pgbench.out" >&2; fm_die "($id) pgbench failed"; }
    bg_pids=()

    out=$(cat "$work/$id.pgbench.out")
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out")
    n_out=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    f_out=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
    [[ -n "$tps" && -n "$n_out" ]] || { printf '%s\n' "$out" >&2; fm_die "could not read pgbench's output"; }
    tps=$(awk -v t="$tps" 'BEGIN { printf "%.0f", t }')

    w0=$(seconds "$t0" "$ev_t0")
    w1=$(awk -v a="$w0" -v h="$hold" 'BEGIN { printf "%.3f", a + h + 2 }')
    local n failed p50 p99 max stall stall_at stalled wn wp99 wtps
    read -r n failed p50 p99 max stall stall_at stalled wn wp99 < <(stats "$work/$id".[0-9]*)
    [[ "$n" == "$n_out" ]] || fm_log "warning: ($id) pgbench says $n_out transactions, its logs have $n"
    [[ -z "$f_out" || "$f_out" == "$failed" ]] ||
        fm_log "warning: ($id) pgbench says $f_out failed transactions, its logs have $failed"
    wtps=$(awk -v n="$wn" -v d="$hold" 'BEGIN { printf "%.0f", n / (d + 2) }')
    r_tx[$s]+="$n " r_failed[$s]+="$failed " r_tps[$s]+="$tps " r_p50[$s]+="$p50 " r_p99[$s]+="$p99 "
    r_max[$s]+="$max " r_stall[$s]+="$stall " r_stall_at[$s]+="$stall_at " r_stalled[$s]+="$stalled "
    r_wtps[$s]+="$wtps " r_wp99[$s]+="$wp99 "
    [[ "$mig_s" == - ]] || r_mig[$s]+="$mig_s "
    [[ "$mig_outcome" == - ]] || r_outcome[$s]+="$mig_outcome"$'\n'
    printf '%-18s run %d: %8s tx  %6s tps  p50 %7s ms  p99 %7s ms  max %9s ms  longest stall %7s s at %5s s  stalled %5s s  window p99 %7s ms  migration %s s %s\n' \
        "${s_name[$s]}" "$round" "$n" "$tps" "$p50" "$p99" "$max" "$stall" "$stall_at" "$stalled" "$wp99" "$mig_s" "$mig_outcome"
}

# The order of the scenarios rotates from one run to the next.
for ((round = 1; round <= runs; round++)); do
    for ((k = 0; k < ${#scenarios[@]}; k++)); do
        run_scenario "${scenarios[$(((k + round - 1) % ${#scenarios[@]}))]}" "$round"
    done
done
bench_s=$(seconds "$bench_t0" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library
pg_version=$(fm_psql -At -c 'SELECT version()')
settings=$(bench_settings fsync synchronous_commit shared_buffers lock_timeout deadlock_timeout)

# ---------------------------------------------------------------- results

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# med0 / med1 / med3 "V1 V2 ...": the median, to 0, 1 or 3 decimals
med0() { median "$1" | awk '{ printf "%.0f", $1 }'; }
med1() { median "$1" | awk '{ printf "%.1f", $1 }'; }
med3() { median "$1"; }
# largest / smallest "V1 V2 ...": the largest or smallest value
largest() { tr ' ' '\n' <<<"$1" | grep . | LC_ALL=C sort -g | tail -n 1; }
smallest() { tr ' ' '\n' <<<"$1" | grep . | LC_ALL=C sort -g | head -n 1; }
# outcomes S: the migration outcomes of scenario S, counted ("3 × applied")
outcomes() {
    [[ -n "${r_outcome[$1]:-}" ]] || { echo -; return; }
    printf '%s' "${r_outcome[$1]}" | LC_ALL=C sort | uniq -c |
        awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "%s%s%s", sep, (n > 1 ? n " × " : ""), $0; sep = "; " }'
}

declare -A m_p99=() m_wp99=()
for s in "${scenarios[@]}"; do
    m_p99[$s]=$(med3 "${r_p99[$s]}")
    m_wp99[$s]=$(med3 "${r_wp99[$s]}")
done
ratio_b=$(ratio "${m_p99[b]}" "${m_p99[a]}")
ratio_c=$(ratio "${m_p99[c]}" "${m_p99[a]}")
wratio_b=$(ratio "${m_wp99[b]}" "${m_wp99[a]}")
wratio_c=$(ratio "${m_wp99[c]}" "${m_wp99[a]}")
ratio_bh=$(ratio "${m_p99[b]}" "${m_p99[h]}")
ratio_ha=$(ratio "${m_p99[h]}" "${m_p99[a]}")
# (b) must have applied its migration in every run
b_failed=$(printf '%s' "${r_outcome[b]:-}" | grep -vc '^applied' || true)
met_b=MISSED
if ((b_failed == 0)) && le "$ratio_b" 1.2; then met_b=met; fi
# (c) "stalls for about HOLD", in every run: its longest stall is at least
# HOLD - 2 s (the ALTER starts 1 s into the hold; a second of slack)
stall_c_expected=$(awk -v h="$hold" 'BEGIN { printf "%.1f", h - 2 }')
if ge "$(smallest "${r_stall[c]}")" "$stall_c_expected"; then shown_c=yes; else shown_c=NO; fi
# (b) information: each attempt waits at most lock_timeout in the queue, so
# no stall (in any run) should be much longer than that
stall_b_max=$(largest "${r_stall[b]}")
if [[ "$fm_lock_timeout_s" == n/a ]]; then
    stall_b="(b)'s longest stall $stall_b_max s (this build has no fleetmigrate.lock_timeout)"
else
    stall_b_bound=$(awk -v t="$fm_lock_timeout_s" 'BEGIN { printf "%.1f", t + 0.5 }')
    if le "$stall_b_max" "$stall_b_bound"; then stall_b_met=yes; else stall_b_met=NO; fi
    stall_b="(b)'s longest stall (of every run) $stall_b_max s ≤ fleetmigrate.lock_timeout + 0.5 s = $stall_b_bound s: **$stall_b_met**"
fi

if ((runs > 1)); then of_runs="median of $runs runs"; else of_runs="one run"; fi
table="| scenario ($of_runs) | transactions | failed | tps | p50 (ms) | p99 (ms) | max (ms) | longest stall (s) | stall began at (s) | stalled in all (s) | window tps | window p99 (ms) | migration (s) | migration outcome |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
per_run=''
for s in "${scenarios[@]}"; do
    mig=-
    [[ -z "${r_mig[$s]:-}" ]] || mig=$(med3 "${r_mig[$s]}")
    table+=$'\n'"| ${s_name[$s]} | $(med0 "${r_tx[$s]}") | $(med0 "${r_failed[$s]}") | $(med0 "${r_tps[$s]}") | $(med3 "${r_p50[$s]}") | ${m_p99[$s]} | $(med3 "${r_max[$s]}") | $(med3 "${r_stall[$s]}") | $(med1 "${r_stall_at[$s]}") | $(med1 "${r_stalled[$s]}") | $(med0 "${r_wtps[$s]}") | ${m_wp99[$s]} | $mig | $(outcomes "$s") |"
    per_run+="${per_run:+; }${s_name[$s]%% *} ${r_p99[$s]% }"
done
ratios="- p99(b) / p99(a) = **$ratio_b** (event window: $wratio_b); target ≤ 1.2 with the migration applied: **$met_b**
- p99(c) / p99(a) = **$ratio_c** (event window: $wratio_c); (c)'s longest stall $(med3 "${r_stall[c]}") s, (b)'s $(med3 "${r_stall[b]}") s, (a)'s $(med3 "${r_stall[a]}") s
- target: (c) stalls the traffic for about the ${hold} s of the long transaction (longest stall ≥ $stall_c_expected s in every run: **$shown_c**) while (b) keeps p99 within 1.2 × (a)
- information: $stall_b
- information: the long transaction alone (h): p99(h) / p99(a) = $ratio_ha; p99(b) / p99(h) = $ratio_bh (the migration's own effect)
- p99 (ms) of each run: $per_run"

echo
echo "$table"
echo
echo "$ratios"
if [[ "$fm_lock_timeout_s" == n/a ]]; then
    echo "(b) ran with a build without fleetmigrate.lock_timeout and lock_retries"
else
    echo "(b) ran with fleetmigrate.lock_timeout = $fm_lock_timeout, fleetmigrate.lock_retries = $fm_lock_retries"
fi
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0
block=$work/block.md
cat >"$block" <<EOF
<!-- locks:begin -->
## Live traffic and a migration waiting for a lock

pgbench's \`simple-update\` workload on \`pgbench_accounts\` while a long
transaction holds ACCESS SHARE on that table for ${hold} s, and a migration
\`ALTER TABLE pgbench_accounts ADD COLUMN ... text\` arrives 1 s after it:
(b) through \`fleetmigrate.apply_pending()\` with fleetmigrate's lock
settings, (c) through plain \`psql -c\` with no lock_timeout; (a) the same
traffic alone; (h) the traffic and the long transaction, no migration
(information: what the long transaction costs by itself). Generated by
\`test/bench/locks.sh\` (this block only).

- Command: \`$command_line\` (from the repository root; \`BENCH_LOCKS_SCALE=$scale
  BENCH_LOCKS_CLIENTS=$clients BENCH_LOCKS_THREADS=$threads FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`;
  in effect: $runs run(s), duration $duration s, warm-up $warmup s, hold $hold s, $rate_text)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library
- fleetmigrate settings in effect for (b): \`fleetmigrate.lock_timeout = $fm_lock_timeout\`,
  \`fleetmigrate.lock_retries = $fm_lock_retries\` ("n/a": the build has no such setting)
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after; benchmark time $bench_s s
- Server: $pg_version
- Server settings: $settings

$table

$ratios

- Method: one database with \`CREATE EXTENSION fleetmigrate\`; per
  scenario fresh pgbench tables (\`pgbench -i -s $scale\`), \`CHECKPOINT\`,
  then \`pgbench -n -b simple-update -c $clients -j $threads -T $duration${rate:+ -R $rate} -l\`.
  ${warmup} s after pgbench starts, (h), (b) and (c) open \`BEGIN; SELECT count(*) FROM
  pgbench_accounts WHERE aid = 1; SELECT pg_sleep($hold); COMMIT;\` (its lock
  checked in \`pg_locks\`), and 1 s later the migration: (b)
  \`SELECT fleetmigrate.register(version, 'add_note', 'ALTER TABLE ...');
  SELECT * FROM fleetmigrate.apply_pending();\` in one psql session, (c)
  \`psql -X -c 'ALTER TABLE ...'\`. Fresh column names every run.
  Migration time: the psql process, start to end. Outcome "applied": psql
  succeeded and the column exists.
- Figures from pgbench's per-transaction logs: latencies over every
  transaction of the run (nearest rank); tps is pgbench's (without the
  initial connection time); longest stall = the longest interval with no
  transaction of any client completing, and when it began (s after
  pgbench started);
  the event window runs from the start of the long transaction ((a): the
  same moment after the warm-up) for $hold + 2 s. $runs run(s) of the four
  scenarios, (a), (h), (b), (c) in the first, the order rotating from one
  run to the next; the table gives medians over the runs.
- Without a rate (\`-R\`), p99 over a whole run hides a stall: a stall
  delays only one transaction per client, a few among hundreds of
  thousands; the stall and max columns show it. With \`--rate\`, pgbench
  measures latency from each transaction's scheduled start, so every
  transaction due during a stall counts it.
- The cluster is the throwaway one from \`test/scripts/common.sh\` (fsync
  and synchronous_commit off).
<!-- locks:end -->
EOF
bench_write_block locks "$block"
