#!/usr/bin/env bash
#
# migrate.sh -- CALL fleetmigrate.migrate() against psql file by file and against apply_pending()
#
# usage: test/bench/migrate.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE]
#
# For each corpus and repetition, in fresh databases (createdb from template0
# every time), rotating which side goes first:
#   psql          one "psql -X -q -1 -v ON_ERROR_STOP=1 -f FILE" per up file,
#                 in apply order (a file that the project itself runs outside
#                 a transaction, listed in the corpus' NONTX.txt, without -1)
#   apply         CREATE EXTENSION and register_dir.sh first (untimed), then
#                 timed: psql -c 'SELECT count(*) FROM fleetmigrate.apply_pending(allow_destructive => true)'
#   migrate       the same registration (untimed), then timed:
#                 psql -c 'CALL fleetmigrate.migrate(allow_destructive => true)'
# Corpora: synthetic-N (N migrations, each a CREATE TABLE and a CREATE INDEX;
# BENCH_MIGRATE_SIZE, default 1000), ory-kratos without its two CREATE INDEX
# CONCURRENTLY ups (which apply_pending() cannot run), ory-kratos whole (psql
# and migrate only: the two concurrent builds run in migrate()'s background
# worker), harness-gitness (PREAMBLE.sql first, untimed).  Every run is
# checked: migrate() must report every migration applied, and all sides must
# leave the same number of relations.
#
# Prints medians and the ratios migrate/apply (target <= 1.2) and
# migrate/psql (target < 1), and writes them between "<!-- migrate:begin -->"
# and "<!-- migrate:end -->" in BENCHMARKS.md (test/bench/bench.sh keeps that
# block when it rewrites the file).
#
# Options: as test/bench/bench.sh (--reuse-cluster, --no-build, --no-write,
# --output FILE).  Environment: BENCH_REPS (3), BENCH_MIGRATE_SIZE (1000),
# BENCH_WORK (test/bench/work), FM_CLUSTER_DIR, FM_PORT (default
# /tmp/fleetmigrate-bench-cluster, 54339).  Not part of the test suite; about
# 3 minutes on 2 cores.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-cluster}
FM_PORT=${FM_PORT:-54339}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# the sides print NOTICEs for every migration; keep the log readable
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

bench_options "$@"
for arg in "${extra_args[@]}"; do bench_unknown_option "$arg"; done

reps=${BENCH_REPS:-3}
size=${BENCH_MIGRATE_SIZE:-1000}
for v in reps size; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done
work=${BENCH_WORK:-$FM_ROOT/test/bench/work}
mkdir -p "$work"
work=$(cd "$work" && pwd)
corpora=$FM_SHARED/corpora
kratos_cic=(20260616000000000000_courier_messages_restore_list_index.postgres.autocommit.up.sql
    20260703000000000000_courier_messages_status_created_at_idx.postgres.autocommit.up.sql)

created_dbs=()
started=0
cleanup() {
    local rc=$? db
    if pg_isready -q 2>/dev/null; then
        for db in "${created_dbs[@]}"; do dropdb --if-exists "$db" 2>/dev/null || true; done
    fi
    if ((started)); then fm_stop_cluster || true; fi
    exit "$rc"
}
trap cleanup EXIT

bench_server
bench_identify
bench_machine

# Corpora: label -> folder, up files in order (one per line), files to skip
# when registering, preamble, whether apply_pending() can run it.
gen_synthetic synthetic "$size"
labels=()
declare -A c_dir=() c_files=() c_skips=() c_preamble=() c_apply=()
add_corpus() {
    local label=$1 dir=$2 apply=$3 skips=$4 files
    if [[ -f "$dir/ORDER-up.txt" ]]; then
        files=$(tr -d '\r' <"$dir/ORDER-up.txt" | grep .)
    else
        files=$(cd "$dir" && printf '%s\n' *.up.sql | LC_ALL=C sort)
    fi
    for f in $skips; do files=$(grep -vxF "$f" <<<"$files"); done
    labels+=("$label")
    c_dir[$label]=$dir
    c_files[$label]=$files
    c_skips[$label]=$skips
    c_preamble[$label]=
    [[ -f "$dir/PREAMBLE.sql" ]] && c_preamble[$label]=$dir/PREAMBLE.sql
    c_apply[$label]=$apply
}
add_corpus "synthetic-$size" "$work/synthetic-$size" 1 ""
if [[ -d "$corpora/ory-kratos" ]]; then
    add_corpus ory-kratos "$corpora/ory-kratos" 1 "${kratos_cic[*]}"
    add_corpus ory-kratos-whole "$corpora/ory-kratos" 0 ""
fi
if [[ -d "$corpora/harness-gitness" ]]; then
    # one down script is MySQL syntax; register() parses every script
    add_corpus harness-gitness "$corpora/harness-gitness" 1 "0029_create_index_job_job_group_id_down.sql"
fi

# fresh_db DB LABEL [register]: a new database with the corpus' preamble and,
# with "register", the extension and every migration registered
fresh_db() {
    local db=$1 label=$2 f skip_args=()
    createdb -T template0 "$db"
    created_dbs+=("$db")
    [[ -z "${c_preamble[$label]}" ]] || fm_psql -q -d "$db" -f "${c_preamble[$label]}" >/dev/null
    if [[ "${3:-}" == register ]]; then
        for f in ${c_skips[$label]}; do skip_args+=(--skip-file "$f"); done
        fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'
        bash "$FM_ROOT/test/scripts/register_dir.sh" "${skip_args[@]}" "${c_dir[$label]}" "$db" >/dev/null
    fi
    fm_psql -q -d "$db" -c CHECKPOINT
}

# run_side SIDE LABEL DB: time one side; sets secs and rels
run_side() {
    local side=$1 label=$2 db=$3 t0 t1 out n f one
    n=$(wc -l <<<"${c_files[$label]}")
    case $side in
        psql)
            fresh_db "$db" "$label"
            t0=$(now)
            while IFS= read -r f; do
                one=-1
                if [[ -f "${c_dir[$label]}/NONTX.txt" ]] && grep -qxF "$f" "${c_dir[$label]}/NONTX.txt"; then one=; fi
                psql -X -q $one -v ON_ERROR_STOP=1 -d "$db" -f "${c_dir[$label]}/$f" >/dev/null
            done <<<"${c_files[$label]}"
            t1=$(now)
            ;;
        apply)
            fresh_db "$db" "$label" register
            t0=$(now)
            out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c 'SELECT count(*) FROM fleetmigrate.apply_pending(allow_destructive => true)')
            t1=$(now)
            [[ "$out" == "$n" ]] || fm_die "$label: apply_pending() returned $out rows, expected $n"
            ;;
        migrate)
            fresh_db "$db" "$label" register
            t0=$(now)
            out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c 'SET client_min_messages = warning' -c 'CALL fleetmigrate.migrate(allow_destructive => true)')
            t1=$(now)
            [[ "$out" == *"|$n|succeeded" ]] || fm_die "$label: migrate() said $out, expected $n applied"
            ;;
    esac
    secs=$(seconds "$t0" "$t1")
    rels=$(count_relations "$db")
}

declare -A times=() rels_of=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(now)
run=0
for label in "${labels[@]}"; do
    sides=(psql migrate)
    [[ "${c_apply[$label]}" == 1 ]] && sides=(psql apply migrate)
    for ((rep = 0; rep < reps; rep++)); do
        for ((k = 0; k < ${#sides[@]}; k++)); do
            side=${sides[$(((k + rep) % ${#sides[@]}))]}
            run=$((run + 1))
            run_side "$side" "$label" "fm_bench_migrate_${run}"
            times[$label,$side]+="$secs "
            if [[ -n "${rels_of[$label]:-}" && "${rels_of[$label]}" != "$rels" ]]; then
                fm_die "$label: $side left $rels relations, another side ${rels_of[$label]}"
            fi
            rels_of[$label]=$rels
            fm_log "$label rep $((rep + 1)) $side: $secs s"
        done
        for db in "${created_dbs[@]}"; do dropdb --if-exists "$db"; done
        created_dbs=()
    done
done
bench_s=$(seconds "$t_start" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
table='| corpus | migrations | psql -1 -f per file (s) | apply_pending() (s) | CALL migrate() (s) | migrate / apply_pending | migrate / psql |
|---|---:|---:|---:|---:|---:|---:|'
met_apply=yes met_psql=yes
for label in "${labels[@]}"; do
    n=$(wc -l <<<"${c_files[$label]}")
    p=$(median "${times[$label,psql]}")
    m=$(median "${times[$label,migrate]}")
    a=- ra=-
    if [[ "${c_apply[$label]}" == 1 ]]; then
        a=$(median "${times[$label,apply]}")
        ra=$(ratio "$m" "$a")
        awk -v r="$ra" 'BEGIN { exit !(r <= 1.2) }' || met_apply=no
    fi
    rp=$(ratio "$m" "$p")
    awk -v r="$rp" 'BEGIN { exit !(r < 1) }' || met_psql=no
    table+=$'\n'"| $label | $n | $p | $a | $m | $ra | $rp |"
done

echo
echo "$table"
echo
echo "migrate / apply_pending <= 1.2 on every corpus: $met_apply; migrate faster than psql per file on every corpus: $met_psql"
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0
block=$(mktemp "${TMPDIR:-/tmp}/fm-migrate-block.XXXXXX")
cat >"$block" <<EOF
<!-- migrate:begin -->
## CALL migrate()

\`CALL fleetmigrate.migrate()\` (one transaction per migration, committed
after each; non-transactional migrations in a background worker) against
one \`psql -1 -f\` per up file and against \`apply_pending()\` (everything in
one transaction), on the same migrations, side by side in one run.

- Command: \`$command_line\` (from the repository root; \`BENCH_REPS=$reps
  BENCH_MIGRATE_SIZE=$size FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Commit: $commit; $library
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after; benchmark time $bench_s s
- Figures: median of $reps runs, each in a fresh database; the order of
  the sides rotates between runs. Registration is not timed. Each side pays
  one psql start and connection per timed command (the psql side one per
  file).

$table

- Targets: migrate / apply_pending ≤ 1.2 on every corpus: **$met_apply**;
  migrate faster than one \`psql -1 -f\` per file on every corpus: **$met_psql**.
- ory-kratos leaves out its two CREATE INDEX CONCURRENTLY ups, which
  apply_pending() refuses; ory-kratos-whole has them (psql runs those two
  files without -1, as ory-kratos does; migrate() runs them in its
  background worker).
- The cluster is the throwaway one from \`test/scripts/common.sh\`
  (fsync and synchronous_commit off): a commit per migration costs CPU
  here, not a disk flush. With synchronous_commit on, migrate() and the
  psql side pay one WAL flush per migration, apply_pending() one in all.
<!-- migrate:end -->
EOF
bench_write_block migrate "$block"
rm -f "$block"
