#!/usr/bin/env bash
#
# status.sh -- one read of fleetmigrate.status with a large pending
# migration: the 1.9 view (lints every migration still to run on each read)
# against the 1.10 view (reads the stored finding), side by side in one run
#
# usage: test/bench/status.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE]
#
# How to run (from the repository root):
#   test/bench/status.sh                        # build, install, throwaway cluster
#   test/bench/status.sh --no-build --no-write  # installed build, print only
#
# Two databases on one server and one library (createdb -T template0,
# dropped at the end): "before" with CREATE EXTENSION fleetmigrate VERSION
# '1.9', whose status view calls lint() on every migration still to run,
# "after" with the current version, whose view reads migrations.lint.  The
# library is the same, so the difference is the view's alone.  In each,
# untimed: a table bench_status_t (id, v), migration 001 that adds a column
# to it, and migration 002 of BENCH_STATUS_MB megabytes (50): INSERT
# statements of about 100 bytes into bench_status_t, registered (register()
# parses and lints it once, on both sides), nothing applied.
#
# Measured, BENCH_REPS times (3), the side that goes first alternating:
#   read   a new session runs SELECT * FROM fleetmigrate.status (the rows to
#          /dev/null); the time between clock_timestamp() read by the
#          statements just before and after, and the growth of the backend's
#          peak resident memory (VmHWM in /proc/self/status, read with
#          pg_read_file() by the backend itself, superuser) from just after
#          connecting to just after the read;
#   apply  (after side only, untimed on the before side, which lints
#          nothing at the end of a run) a new session runs
#          apply_pending(target => '001') and rolls it back: what a run now
#          pays at its end to lint what is left again (002 once), the cost
#          the read no longer has.
# Prints each side's median seconds and MiB, and the ratio before/after;
# writes them between "<!-- status:begin -->" and "<!-- status:end -->" in
# BENCHMARKS.md.
#
# Options: as test/bench/bench.sh (--reuse-cluster, --no-build, --no-write,
# --output FILE).  Environment: BENCH_REPS (3), BENCH_STATUS_MB (50), TMPDIR,
# FM_CLUSTER_DIR, FM_PORT (default /tmp/fleetmigrate-bench-status, 54346:
# neither the test suite's nor the other benchmarks' cluster).  Not part of
# the test suite; a few minutes, and a few GB of memory for the before side.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-status}
FM_PORT=${FM_PORT:-54346}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

bench_options "$@"
for arg in "${extra_args[@]}"; do bench_unknown_option "$arg"; done

reps=${BENCH_REPS:-3}
mb=${BENCH_STATUS_MB:-50}
for v in reps mb; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done

sides=(before after)
declare -A db=([before]=fm_bench_status_before_$$ [after]=fm_bench_status_after_$$)
declare -A version=([before]=1.9 [after]='') lint_of=()
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-status-bench.XXXXXX")
started=0 dbs_created=0
cleanup() {
    local rc=$?
    rm -rf "$work"
    if ((dbs_created)) && pg_isready -q 2>/dev/null; then
        for side in "${sides[@]}"; do dropdb --if-exists "${db[$side]}" 2>/dev/null || true; done
    fi
    if ((started)); then fm_stop_cluster || true; fi
    exit "$rc"
}
trap cleanup EXIT

bench_server
bench_identify
bench_machine
bench_require_extension

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
# statements of about 100 bytes, as many as make $mb MB
statements=$((mb * 1000000 / 100))
for side in "${sides[@]}"; do
    createdb -T template0 "${db[$side]}"
    dbs_created=1
    if [[ -n "${version[$side]}" ]]; then
        fm_psql -q -d "${db[$side]}" -c "CREATE EXTENSION fleetmigrate VERSION '${version[$side]}'"
    else
        fm_psql -q -d "${db[$side]}" -c 'CREATE EXTENSION fleetmigrate'
    fi
    fm_log "$side: registering a migration of $statements statements (${mb} MB), untimed"
    fm_psql -q -d "${db[$side]}" -v n="$statements" <<'SQL'
CREATE TABLE public.bench_status_t (id bigint PRIMARY KEY, v text);
SELECT fleetmigrate.register('001', 'add_note', 'ALTER TABLE public.bench_status_t ADD COLUMN note text') \gset
SELECT fleetmigrate.register('002', 'big_load',
       (SELECT pg_catalog.string_agg(pg_catalog.format(
                   'INSERT INTO public.bench_status_t (id, v) VALUES (%s, %L);', i,
                   pg_catalog.repeat('x', 43 - pg_catalog.length(i::text))), E'\n')
          FROM pg_catalog.generate_series(1, :n) i)) \gset
SQL
    ext=$(fm_psql -At -d "${db[$side]}" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'fleetmigrate'")
    version[$side]=$ext
    size=$(fm_psql -At -d "${db[$side]}" -c "SELECT pg_catalog.octet_length(up) FROM fleetmigrate.migrations WHERE version = '002'")
    lint=$(fm_psql -At -d "${db[$side]}" -c "SELECT string_agg(version || ' ' || coalesce(lint, '-'), ', ' ORDER BY version) FROM fleetmigrate.status")
    fm_log "$side: extension $ext, 002 is $size bytes; status.lint: $lint"
    lint_of[$side]=$lint
done
[[ "${lint_of[before]}" == "${lint_of[after]}" ]] ||
    fm_die "the two views disagree: before \"${lint_of[before]}\", after \"${lint_of[after]}\""

# one_read SIDE QUERY: "seconds|KiB" for QUERY in a new session of SIDE
one_read() {
    local side=$1 query=$2
    fm_psql -q -At -d "${db[$side]}" <<SQL
SELECT pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'VmHWM:\\s*(\\d+)')::bigint AS h0 \\gset
SELECT pg_catalog.clock_timestamp() AS t0 \\gset
$query
SELECT pg_catalog.clock_timestamp() AS t1 \\gset
SELECT pg_catalog.round(extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz), 3)
       || '|' || (pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'VmHWM:\\s*(\\d+)')::bigint - :h0);
SQL
}

read_query='SELECT * FROM fleetmigrate.status \g /dev/null'
apply_query="BEGIN;
SELECT count(*) FROM fleetmigrate.apply_pending(target => '001') \\g /dev/null
ROLLBACK;"
declare -A times=() kib=()
for ((r = 0; r < reps; r++)); do
    if ((r % 2)); then order=(after before); else order=(before after); fi
    for side in "${order[@]}"; do
        fm_psql -q -d "${db[$side]}" -c CHECKPOINT
        IFS='|' read -r s k < <(one_read "$side" "$read_query")
        times[read_$side]+="$s " kib[read_$side]+="$k "
        fm_log "rep $((r + 1)) $side: read $s s, peak memory +$k KiB"
        if [[ $side == after ]]; then
            IFS='|' read -r s k < <(one_read "$side" "$apply_query")
            times[apply_$side]+="$s " kib[apply_$side]+="$k "
            fm_log "rep $((r + 1)) $side: apply_pending(target => '001') $s s, peak memory +$k KiB"
        fi
    done
done
bench_s=$(seconds "$bench_t0" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library
pg_version=$(fm_psql -At -c 'SELECT version()')

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "-" }'; }
rb=$(median "${times[read_before]}") ra=$(median "${times[read_after]}")
mb_before=$(median "${kib[read_before]}") mb_after=$(median "${kib[read_after]}")
aa=$(median "${times[apply_after]}") ka=$(median "${kib[apply_after]}")
table="| one read of status, 002 pending (${size} bytes) | before (${version[before]} view) | after (${version[after]} view) | before / after |
|---|---:|---:|---:|
| seconds (median of $reps) | $rb | $ra | $(ratio "$rb" "$ra") |
| backend peak memory growth, MiB (median of $reps) | $(mib "$mb_before") | $(mib "$mb_after") | $(ratio "$mb_before" "$mb_after") |"
apply_line="After side, what moved to the end of a run: \`apply_pending(target => '001')\`
(001 adds a column; 002 is linted again once at the end), rolled back: $aa s,
peak memory +$(mib "$ka") MiB (median of $reps)."

echo
echo "$table"
echo
echo "$apply_line"
echo "seconds, each rep: before ${times[read_before]% }; after ${times[read_after]% }; apply ${times[apply_after]% }"
echo "KiB, each rep: before ${kib[read_before]% }; after ${kib[read_after]% }; apply ${kib[apply_after]% }"
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0
block=$work/block.md
cat >"$block" <<EOF
<!-- status:begin -->
## The status view with a large pending migration (issue 20)

One read of \`fleetmigrate.status\` with a ${mb} MB migration pending: the
1.9 view, which lints every migration still to run on each read, against
the current one, which reads the finding stored at registration and after
each run. Generated by \`test/bench/status.sh\` (this block only).

- Command: \`$command_line\` (from the repository root; \`BENCH_REPS=$reps
  BENCH_STATUS_MB=$mb FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after (the machine is shared); benchmark time $bench_s s
- Server: $pg_version

$table

$apply_line

- Method: two databases on one server and one library, one with
  \`CREATE EXTENSION fleetmigrate VERSION '1.9'\` (before), one with the
  current version (after), so only the view differs. In each, untimed:
  migration 001 (\`ALTER TABLE ... ADD COLUMN\`) and migration 002, $statements
  INSERT statements of 100 bytes, registered (registration parses and lints
  002 once on both sides); both views show the same \`lint\` (${lint_of[after]}).
  Each rep, in a new session per side (the first side alternating):
  \`SELECT * FROM fleetmigrate.status\` with the rows discarded, timed by
  \`clock_timestamp()\` just before and after; memory is the growth of the
  backend's peak resident set (\`VmHWM\` of \`/proc/self/status\`, read by the
  backend with \`pg_read_file()\`) from just after connecting to just after
  the read. Seconds, each rep: before ${times[read_before]% }; after
  ${times[read_after]% }. KiB: before ${kib[read_before]% }; after
  ${kib[read_after]% }.
- The cluster is the throwaway one from \`test/scripts/common.sh\` unless
  \`--reuse-cluster\`.
<!-- status:end -->
EOF
bench_write_block status "$block"
