#!/usr/bin/env bash
#
# bench.sh -- apply_pending() against "psql -1 -f" on the same SQL, side by side
#
# usage: test/bench/bench.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE]
#
# For each corpus -- synthetic N = 1000 and N = 10000 (each migration a
# CREATE TABLE and a CREATE INDEX), ory-kratos and harness-gitness from
# $FM_SHARED/corpora -- and for each repetition, in fresh databases (createdb
# from template0 every time), alternating which side goes first:
#   psql          the up files in apply order concatenated into one file, run
#                 with: psql -X -q -1 -v ON_ERROR_STOP=1 -f concatenated.sql
#   fleetmigrate  CREATE EXTENSION and register_dir.sh first (not timed in the
#                 ratio; its time is reported for information), then timed:
#                 psql -X -q -At -c 'SELECT count(*) FROM fleetmigrate.apply_pending()'
# Both sides pay for one psql start and one connection; each timed command
# runs in one transaction.  harness-gitness: PREAMBLE.sql runs first on both
# sides, untimed.  ory-kratos: the two ups with CREATE INDEX CONCURRENTLY
# (and their downs) are left out of both sides, as test/t/corpus.sh does.
# Every run is checked: apply_pending() must return one row per migration,
# fleetmigrate.status must show all of them applied, and both sides must
# leave the same number of relations outside the system schemas.
#
# Prints a table of medians and ratios (fleetmigrate / psql) and the scaling
# ratio apply_pending(10000) / apply_pending(1000), and writes them with the
# method to BENCHMARKS.md at the repository root, keeping the blocks that
# test/bench/tiers.sh, migrate.sh, register.sh, locks.sh, lint.sh and backfill.sh write
# there ("<!-- NAME:begin -->" .. "<!-- NAME:end -->", NAME tiers, migrate,
# register, locks, lint, backfill).
#
# Options:
#   --reuse-cluster  use the running server at FM_CLUSTER_DIR / FM_PORT instead
#                    of installing packages, building and starting a
#                    throwaway cluster (its max_locks_per_transaction must be
#                    large enough for one transaction creating 10000 tables)
#   --no-build       start a throwaway cluster, but neither install packages
#                    nor build: use the installed extension as it is
#   --no-write       print the results only; leave BENCHMARKS.md alone
#   --output FILE    write the report to FILE instead of BENCHMARKS.md
#
# Environment:
#   BENCH_REPS       repetitions for the 1000-migration and real corpora (3)
#   BENCH_REPS_10K   repetitions for synthetic sizes of 10000 and more (3)
#   BENCH_SIZES      synthetic sizes (default "1000 10000"; the scaling ratio
#                    compares the largest with the smallest)
#   BENCH_NOOP_SIZES sizes of the no-op corpora (default "1000 10000"; "" to
#                    leave them out): N migrations "SELECT 1;", measured the
#                    same way, reported apart; they isolate fleetmigrate's own
#                    per-migration cost from the cost of the DDL
#   BENCH_CORPORA    real corpora to run (default "ory-kratos harness-gitness")
#   BENCH_WORK       work folder for generated files (test/bench/work)
#   FM_CLUSTER_DIR, FM_PORT  the throwaway cluster (default
#                    /tmp/fleetmigrate-bench-cluster, port 54339: not the
#                    test suite's cluster)
#
# Not part of the test suite.  About 5 minutes on 2 cores.

set -euo pipefail

# Our own throwaway cluster by default, so that a benchmark never wipes the
# cluster the test suite uses.
FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-cluster}
FM_PORT=${FM_PORT:-54339}
export FM_CLUSTER_DIR FM_PORT

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_options "$@"
((${#extra_args[@]} == 0)) || bench_unknown_option "${extra_args[0]}"

reps=${BENCH_REPS:-3}
reps_big=${BENCH_REPS_10K:-3}
read -r -a sizes <<<"${BENCH_SIZES:-1000 10000}"
read -r -a noop_sizes <<<"${BENCH_NOOP_SIZES-1000 10000}"
read -r -a corpora <<<"${BENCH_CORPORA-ory-kratos harness-gitness}"
work=${BENCH_WORK:-$FM_ROOT/test/bench/work}
[[ "$reps" =~ ^[1-9][0-9]*$ && "$reps_big" =~ ^[1-9][0-9]*$ ]] ||
    fm_die "BENCH_REPS and BENCH_REPS_10K must be positive integers"
for n in "${sizes[@]}" "${noop_sizes[@]}"; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || ((n > 99999)); then
        fm_die "bad synthetic size: $n (1..99999)"
    fi
done

# Both sides: NOTICEs stay in the server (the corpora and apply_pending()
# are chatty), so neither pays for terminal output.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
# Every run's databases: fm_bench_<pid>_<run>_{psql,fm}, dropped at the end.
db_prefix=fm_bench_$$
created_dbs=()

# ---------------------------------------------------------------- cluster

# Each synthetic migration takes about 5 relation locks (table, toast table,
# toast index, primary key, index), all held until the one commit.
# The lock table has max_locks_per_transaction slots per connection slot
# (max_connections = 50 in common.sh's cluster, plus a few).
max_n=0
for n in "${sizes[@]}"; do
    if ((n > max_n)); then max_n=$n; fi
done
locks_needed=$((max_n * 6 / 50))
if ((locks_needed < 64)); then locks_needed=64; fi

# Drop the databases of this run.  Only after all measurements: on a
# journal-less ext4 (this VM's root), creating tens of thousands of files
# within minutes of deleting tens of thousands makes every inode allocation
# skip over the recently deleted ones (the kernel's recently_deleted()),
# which doubled the time of later runs when each run dropped its databases.
drop_databases() {
    local db
    for db in "${created_dbs[@]}"; do
        dropdb --if-exists "$db" 2>/dev/null || true
    done
    created_dbs=()
}

started=0
cleanup() {
    local rc=$?
    if pg_isready -q 2>/dev/null; then
        drop_databases
    fi
    if ((started)); then
        fm_stop_cluster || true
    fi
    exit "$rc"
}
trap cleanup EXIT

bench_server
if ((started)); then
    # One transaction creates up to max_n tables: the shared lock table must
    # hold all their locks (default 64 per connection slot is too few).
    if ((locks_needed > 64)); then
        printf '# bench.sh: one transaction creates %d tables\nmax_locks_per_transaction = %d\n' \
            "$max_n" "$locks_needed" >>"$FM_DATA_DIR/postgresql.conf"
        fm_log "cluster: restart with max_locks_per_transaction = $locks_needed"
        fm_as_server "$(stat -c %U "$FM_DATA_DIR")" "$FM_PG_BINDIR/pg_ctl" -D "$FM_DATA_DIR" \
            -l "$FM_SERVER_LOG" -w -t 120 restart >/dev/null
    fi
fi
have_locks=$(fm_psql -At -c 'SHOW max_locks_per_transaction')
((have_locks >= locks_needed)) ||
    fm_die "max_locks_per_transaction is $have_locks; $max_n migrations in one transaction need about $locks_needed"
bench_require_extension

# ---------------------------------------------------------------- corpora

mkdir -p "$work"
work=$(cd "$work" && pwd)

# Concatenate FILES (relative to the current folder) in order, each line
# ending in a newline.  After a file whose last character that is neither
# blank nor in a -- comment is not ";", add ";" on a line of its own, or its
# last statement would run into the next file's first (harness 0076 ends
# like that).  Empty and comment-only files add nothing.  One awk process,
# whatever the number of files.
concatenate() {
    awk '
        function finish() { if (last != "" && last != ";") print ";"; last = "" }
        FNR == 1 && NR > 1 { finish() }
        {
            print
            line = $0
            sub(/--.*/, "", line)
            gsub(/[ \t\r]+/, "", line)
            if (line != "") last = substr(line, length(line))
        }
        END { finish() }
    ' "$@"
}

# Labels, folders, up-file lists and skip options of every corpus to run.
# c_kind: synthetic, noop or corpus.
labels=()
declare -A c_kind=() c_dir=() c_n=() c_preamble=() c_concat=() c_skips=()

for kind in synthetic noop; do
    if [[ "$kind" == synthetic ]]; then kind_sizes=("${sizes[@]}"); else kind_sizes=("${noop_sizes[@]}"); fi
    for n in "${kind_sizes[@]}"; do
        fm_log "$kind: $n migrations in $work/$kind-$n"
        gen_synthetic "$kind" "$n"
        label="$kind $n"
        [[ "$kind" == noop ]] && label="no-op $n"
        labels+=("$label")
        c_kind[$label]=$kind
        c_dir[$label]=$work/$kind-$n
        c_preamble[$label]=
        c_skips[$label]=
    done
done

for corpus in "${corpora[@]}"; do
    dir=$FM_SHARED/corpora/$corpus
    [[ -f "$dir/ORDER-up.txt" ]] || fm_die "no corpus at $dir (see $FM_SHARED/corpora/README.md)"
    skips=()
    case "$corpus" in
        ory-kratos)
            # The four files of NONTX.txt that use CREATE/DROP INDEX
            # CONCURRENTLY: they cannot run in one transaction (README).
            skips=(
                20260616000000000000_courier_messages_restore_list_index.postgres.autocommit.up.sql
                20260616000000000000_courier_messages_restore_list_index.postgres.autocommit.down.sql
                20260703000000000000_courier_messages_status_created_at_idx.postgres.autocommit.up.sql
                20260703000000000000_courier_messages_status_created_at_idx.postgres.autocommit.down.sql
            )
            for f in "${skips[@]}"; do
                grep -qxF "$f" "$dir/NONTX.txt" || fm_die "$corpus: $f is not in NONTX.txt"
            done
            ;;
        harness-gitness)
            # A MySQL down script that register() rejects (test/t/corpus.sh
            # leaves it out too); it plays no part in applying ups.
            skips=(0029_create_index_job_job_group_id_down.sql)
            ;;
    esac
    for f in "${skips[@]}"; do
        [[ -f "$dir/$f" ]] || fm_die "$corpus: file to leave out does not exist: $f"
    done
    labels+=("$corpus")
    c_kind[$corpus]=corpus
    c_dir[$corpus]=$dir
    c_preamble[$corpus]=
    [[ -f "$dir/PREAMBLE.sql" ]] && c_preamble[$corpus]=$dir/PREAMBLE.sql
    c_skips[$corpus]="${skips[*]}"
done

# The concatenation of every corpus, in apply order.
for label in "${labels[@]}"; do
    dir=${c_dir[$label]}
    tag=${label// /-}
    declare -A skip=()
    # shellcheck disable=SC2086 # file names without blanks
    for f in ${c_skips[$label]}; do skip[$f]=1; done
    ups=()
    if [[ -f "$dir/ORDER-up.txt" ]]; then
        while IFS= read -r f || [[ -n "$f" ]]; do
            f=${f%$'\r'}
            [[ -n "$f" && -z "${skip[$f]:-}" ]] && ups+=("$f")
        done <"$dir/ORDER-up.txt"
    else
        while IFS= read -r f; do ups+=("$f"); done < <(cd "$dir" && find . -maxdepth 1 -type f \
            \( -name '*.up.sql' -o -name '*_up.sql' \) -printf '%f\n' | LC_ALL=C sort)
    fi
    unset skip
    c_n[$label]=${#ups[@]}
    c_concat[$label]=$work/$tag.concat.sql
    (cd "$dir" && concatenate "${ups[@]}") >"${c_concat[$label]}"
    fm_log "$label: ${#ups[@]} up migrations, $(wc -c <"${c_concat[$label]}") bytes concatenated"
done

# ---------------------------------------------------------------- measuring


fresh_db() {
    local db=$1 preamble=$2
    createdb -T template0 "$db"
    created_dbs+=("$db")
    if [[ -n "$preamble" ]]; then
        fm_psql -q -d "$db" -f "$preamble" >/dev/null
    fi
}

# Sets psql_s and psql_rels.
run_psql_side() {
    local label=$1 t0 t1 db_psql=${db_prefix}_${run}_psql
    fresh_db "$db_psql" "${c_preamble[$label]}"
    fm_psql -q -d "$db_psql" -c CHECKPOINT
    t0=$(now)
    psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db_psql" -f "${c_concat[$label]}" >/dev/null
    t1=$(now)
    psql_s=$(seconds "$t0" "$t1")
    psql_rels=$(count_relations "$db_psql")
}

# Sets fm_s, reg_s and fm_rels.
run_fm_side() {
    local label=$1
    local n=${c_n[$label]} t0 t1 out registered states f db_fm=${db_prefix}_${run}_fm
    local skip_args=()
    # shellcheck disable=SC2086 # file names without blanks
    for f in ${c_skips[$label]}; do skip_args+=(--skip-file "$f"); done
    fresh_db "$db_fm" "${c_preamble[$label]}"
    fm_psql -q -d "$db_fm" -c 'CREATE EXTENSION fleetmigrate'
    t0=$(now)
    bash "$FM_ROOT/test/scripts/register_dir.sh" "${skip_args[@]}" "${c_dir[$label]}" "$db_fm" >/dev/null
    t1=$(now)
    reg_s=$(seconds "$t0" "$t1")
    registered=$(fm_psql -At -d "$db_fm" -c 'SELECT count(*) FROM fleetmigrate.status')
    [[ "$registered" == "$n" ]] || fm_die "$label: $registered migrations registered, expected $n"
    fm_psql -q -d "$db_fm" -c CHECKPOINT
    t0=$(now)
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db_fm" -c 'SELECT count(*) FROM fleetmigrate.apply_pending()')
    t1=$(now)
    fm_s=$(seconds "$t0" "$t1")
    [[ "$out" == "$n" ]] || fm_die "$label: apply_pending() returned $out rows, expected $n"
    states=$(fm_psql -At -d "$db_fm" -c \
        "SELECT string_agg(state || ' ' || c, ', ') FROM
           (SELECT state, count(*) AS c FROM fleetmigrate.status GROUP BY state ORDER BY state) s")
    [[ "$states" == "applied $n" ]] || fm_die "$label: fleetmigrate.status says: $states (expected applied $n)"
    fm_rels=$(count_relations "$db_fm")
}


# What is measured: the commit, and the library every new backend loads (the
# installed one; others may reinstall it while this runs, which is checked
# at the end).
bench_identify

declare -A t_psql=() t_fm=() t_reg=() rels=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
run=0
for label in "${labels[@]}"; do
    r=$reps
    if [[ "${c_kind[$label]}" != corpus ]] && ((${c_n[$label]} >= 10000)); then
        r=$reps_big
    fi
    for ((i = 1; i <= r; i++)); do
        # Alternate which side goes first, over the whole run.
        run=$((run + 1))
        if ((run % 2)); then
            run_psql_side "$label"
            run_fm_side "$label"
            order="psql first"
        else
            run_fm_side "$label"
            run_psql_side "$label"
            order="fleetmigrate first"
        fi
        if [[ "${c_kind[$label]}" != noop ]] && ((psql_rels == 0)); then
            fm_die "$label: the psql side created no relations; nothing was measured"
        fi
        [[ "$psql_rels" == "$fm_rels" ]] ||
            fm_die "$label: psql created $psql_rels relations, fleetmigrate $fm_rels"
        rels[$label]=$psql_rels
        t_psql[$label]+="$psql_s "
        t_fm[$label]+="$fm_s "
        t_reg[$label]+="$reg_s "
        printf '%-16s run %d/%d (%s): psql %7.3f s  apply_pending %7.3f s  register %7.3f s  (%d relations)\n' \
            "$label" "$i" "$r" "$order" "$psql_s" "$fm_s" "$reg_s" "$psql_rels"
    done
done
bench_s=$(seconds "$bench_t0" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
fm_log "dropping the ${#created_dbs[@]} databases of the runs"
drop_databases

# ---------------------------------------------------------------- results

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# extremes N...: print the smallest and the largest of the numbers
extremes() {
    local lo=$1 hi=$1 n
    for n in "$@"; do
        if ((n < lo)); then lo=$n; fi
        if ((n > hi)); then hi=$n; fi
    done
    echo "$lo $hi"
}

pg_version=$(fm_psql -At -c 'SELECT version()')
settings=$(bench_settings fsync synchronous_commit full_page_writes shared_buffers max_locks_per_transaction wal_level)
bench_machine
bench_check_library

table="| corpus | migrations | relations created | runs | psql -1 -f median (s) | apply_pending() median (s) | ratio fleetmigrate / psql | register_dir.sh median (s, untimed in ratio) |
|---|---:|---:|---:|---:|---:|---:|---:|"
noop_table="| corpus | migrations | runs | psql -1 -f median (s) | apply_pending() median (s) | ratio fleetmigrate / psql | apply_pending() per migration (ms) |
|---|---:|---:|---:|---:|---:|---:|"
all_met=1
big='' small='' scale_fm='' scale_met='' scale_target=''
for label in "${labels[@]}"; do
    mp=$(median "${t_psql[$label]}")
    mf=$(median "${t_fm[$label]}")
    mr=$(median "${t_reg[$label]}")
    rt=$(ratio "$mf" "$mp")
    nruns=$(wc -w <<<"${t_psql[$label]}")
    if [[ "${c_kind[$label]}" == noop ]]; then
        per=$(awk -v t="$mf" -v n="${c_n[$label]}" 'BEGIN { printf "%.4f", 1000 * t / n }')
        noop_table+=$'\n'"| $label | ${c_n[$label]} | $nruns | $mp | $mf | $rt | $per |"
        continue
    fi
    le "$rt" 1.0 || all_met=0
    table+=$'\n'"| $label | ${c_n[$label]} | ${rels[$label]} | $nruns | $mp | $mf | **$rt** | $mr |"
done

# The no-op corpora: fleetmigrate's own marginal cost per migration.
noop_scaling=
if ((${#noop_sizes[@]} >= 2)); then
    read -r nsmall nbig < <(extremes "${noop_sizes[@]}")
    if ((nbig > nsmall)); then
        n_small=$(median "${t_fm[no-op $nsmall]}")
        n_big=$(median "${t_fm[no-op $nbig]}")
        noop_scaling="apply_pending() of no-op migrations, $nbig / $nsmall: **$(ratio "$n_big" "$n_small")**; marginal cost $(awk -v a="$n_small" -v b="$n_big" -v m="$nsmall" -v n="$nbig" 'BEGIN { printf "%.4f", 1000 * (b - a) / (n - m) }') ms per migration between $nsmall and $nbig (includes one psql start and connection per call, about the same at both sizes)."
    fi
fi

# Scaling: largest / smallest synthetic size.
scaling=
if ((${#sizes[@]} >= 2)); then
    read -r small big < <(extremes "${sizes[@]}")
    if ((big > small)); then
        f_small=$(median "${t_fm[synthetic $small]}")
        f_big=$(median "${t_fm[synthetic $big]}")
        p_small=$(median "${t_psql[synthetic $small]}")
        p_big=$(median "${t_psql[synthetic $big]}")
        scale_fm=$(ratio "$f_big" "$f_small")
        scale_psql=$(ratio "$p_big" "$p_small")
        scale_target=$(awk -v a="$big" -v b="$small" 'BEGIN { printf "%.1f", 1.05 * a / b }')
        per_small=$(awk -v t="$f_small" -v n="$small" 'BEGIN { printf "%.3f", 1000 * t / n }')
        per_big=$(awk -v t="$f_big" -v n="$big" 'BEGIN { printf "%.3f", 1000 * t / n }')
        pper_small=$(awk -v t="$p_small" -v n="$small" 'BEGIN { printf "%.3f", 1000 * t / n }')
        pper_big=$(awk -v t="$p_big" -v n="$big" 'BEGIN { printf "%.3f", 1000 * t / n }')
        if le "$scale_fm" "$scale_target"; then scale_met=met; else scale_met=MISSED; fi
        scaling="apply_pending() time, synthetic $big / synthetic $small: **$scale_fm** (target ≤ $scale_target: $scale_met).
Per migration: $per_small ms at $small, $per_big ms at $big.
For comparison, psql -1 -f on the same SQL: $scale_psql ($pper_small ms and $pper_big ms per migration)."
        if [[ "$scale_met" == MISSED ]] && ! le "$scale_psql" "$scale_target"; then
            scaling+="
Plain psql misses the same bound on the same SQL: executing $big CREATE TABLE + CREATE INDEX
in one transaction costs more per statement than $small do, whoever sends them. Whether
fleetmigrate's own per-migration cost grows is what the no-op rows below show."
        fi
    fi
fi
if ((all_met)); then ratio_met="met for every corpus"; else ratio_met="MISSED for at least one corpus (see the table)"; fi

echo
echo "$table"
echo
if [[ -n "$scaling" ]]; then printf '%s\n\n' "$scaling"; fi
if ((${#noop_sizes[@]})); then printf '%s\n\n' "$noop_table"; fi
if [[ -n "$noop_scaling" ]]; then printf '%s\n\n' "$noop_scaling"; fi
echo "ratio target ≤ 1.0: $ratio_met"
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0

# The blocks of test/bench/tiers.sh, test/bench/migrate.sh,
# test/bench/register.sh, test/bench/locks.sh and test/bench/lint.sh, kept
# at the end of the rewritten file.
tiers_block=
if [[ -f "$output" ]]; then
    tiers_block=$(sed -n '/^<!-- \(tiers\|migrate\|register\|locks\|lint\|backfill\):begin -->$/,/^<!-- \(tiers\|migrate\|register\|locks\|lint\|backfill\):end -->$/p' "$output")
fi

{
    cat <<EOF
# Benchmarks

\`apply_pending()\` against plain \`psql -1 -f\` on the same SQL. Generated by
\`test/bench/bench.sh\`; not part of the test suite. Rerun it to refresh this file.

## Last run

- Command: \`$command_line\` (from the repository root; environment:
  \`FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`; in effect:
  \`BENCH_REPS=$reps BENCH_REPS_10K=$reps_big BENCH_SIZES="${sizes[*]}" BENCH_NOOP_SIZES="${noop_sizes[*]}"
  BENCH_CORPORA="${corpora[*]}"\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Extension: commit $commit; $library
- Machine: $(nproc) CPUs ($cpu), $mem RAM; load average before $load_before, after $load_after
- Server: $pg_version
- Server settings: $settings
- Whole benchmark: $bench_s s

$table

Ratio = apply_pending() median / psql median (below 1: fleetmigrate is faster).

## Targets

| target | result |
|---|---|
| fleetmigrate / psql ≤ 1.0 for every corpus | $ratio_met |
| per-migration overhead flat: apply_pending() time at ${big:-10000} / at ${small:-1000} ≤ ${scale_target:-10.5} | ${scale_fm:-not measured} ${scale_met:+($scale_met)} |

$scaling

## fleetmigrate's own cost per migration (no-op migrations, not a target)

Each migration is \`SELECT 1;\`, so apply_pending() time is almost only fleetmigrate's work:
reading the pending list, splitting each script with the parser, running it through SPI,
recording it (UPDATE of its catalog row + INSERT of a history event), one result row.

${noop_table}

${noop_scaling}

## Method

- Corpora: synthetic N (N files \`NNNNN_create_tNNNNN.up.sql\`, each
  \`CREATE TABLE tN (id bigint PRIMARY KEY, v text, created_at timestamptz DEFAULT now());
  CREATE INDEX tN_v ON tN (v);\`), and the real corpora of \`shared/corpora\`
  (\`ORDER-up.txt\` order). ory-kratos without the two ups using
  \`CREATE INDEX CONCURRENTLY\` (they cannot run in a transaction; as in
  \`test/t/corpus.sh\`); harness-gitness with \`PREAMBLE.sql\` run first on
  both sides, untimed.
- psql side: the up files concatenated in apply order (a newline after each,
  and a \`;\` after a file whose last statement has none: harness 0076), run as
  \`psql -X -q -1 -v ON_ERROR_STOP=1 -f concatenated.sql\`.
- fleetmigrate side: \`CREATE EXTENSION fleetmigrate\` and
  \`test/scripts/register_dir.sh\` first (registration is not in the ratio;
  its time is in the last column), then timed
  \`psql -X -q -At -c 'SELECT count(*) FROM fleetmigrate.apply_pending()'\`.
  Each run checks that apply_pending() returned one row per migration, that
  \`fleetmigrate.status\` shows all of them applied, and that both sides
  created the same number of relations.
- Both timed commands are one psql process, one connection, one transaction,
  timed with bash's \`EPOCHREALTIME\` around the command. Both run with
  \`PGOPTIONS=-c client_min_messages=warning\` (no NOTICE traffic).
- Every run gets fresh databases (\`createdb -T template0\`) and a
  \`CHECKPOINT\` just before the timed command. The databases are dropped
  only after the last measurement: on this VM's journal-less ext4, creating
  tens of thousands of files within a few minutes of deleting tens of
  thousands (a dropped 10000-table database) makes each inode allocation
  skip over the recently deleted inodes (kernel \`recently_deleted()\`, seen
  with \`perf\`), which doubled later 10000-migration runs on both sides.
  For the same reason, start the benchmark a few minutes after anything
  that deleted many files (such as a previous run). The two sides alternate
  which goes first from one run to the next. Figures are medians of $reps runs
  ($reps_big for 10000 migrations).
- The cluster is a throwaway one from \`test/scripts/common.sh\`: fsync,
  synchronous_commit and full_page_writes off (numbers measure CPU work, not
  the disk), and max_locks_per_transaction raised so that one transaction can
  create 10000 tables.
- Absolute times vary between runs on a shared VM by several per cent; the
  ratios are what to compare.
EOF
    if [[ -n "$tiers_block" ]]; then
        printf '\n%s\n' "$tiers_block"
    fi
} >"$output"
fm_log "wrote $output"
