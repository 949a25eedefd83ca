#!/usr/bin/env bash
#
# lint.sh -- fleetmigrate.lint() throughput on the real corpora
#
# usage: test/bench/lint.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE]
#
# How to run (from the repository root):
#   test/bench/lint.sh                        # build, install, throwaway cluster
#   test/bench/lint.sh --no-build --no-write  # installed build, print only
#
# Corpora: every folder of $FM_SHARED/corpora (shared/corpora beside the
# repository) that has up migrations -- the files listed in its ORDER-up.txt,
# in that order, or else its *.up.sql and *_up.sql files in byte-wise order
# (as test/scripts/register_dir.sh reads them); every up file, the empty ones
# and ory-kratos' CREATE INDEX CONCURRENTLY ones included (lint only reads).
# BENCH_LINT_CORPORA="name ..." picks some of them.
#
# One database (createdb -T template0, dropped at the end), CREATE EXTENSION
# fleetmigrate, then, untimed:
#   - every up file loaded into a table bench_lint_files (corpus, seq, file,
#     body): the files are base64-encoded into one data file, read with
#     psql's \copy and decoded, so each body is exactly the file's bytes
#     (UTF-8);
#   - statements per file: each body registered with
#     fleetmigrate.register(version, 'corpus:file', body) (registering parses
#     the script with the server's parser, as lint does, and stores the
#     number of statements; nothing is applied) and read back from
#     fleetmigrate.status.statements;
#   - findings by severity and by rule, from one call of lint() per file.
# Timed, per corpus, in one psql session: one warm-up pass, then BENCH_REPS
# runs of BENCH_LINT_PASSES passes, a pass being
#   SELECT count(*) FROM bench_lint_files f, LATERAL fleetmigrate.lint(f.body) l
#    WHERE f.corpus = '<corpus>'
# (one lint() call per up file, all in one statement: the time is lint's
# plus a scan of a few hundred rows, no client round trip per file); each
# run timed by clock_timestamp() read by the statements just before and
# after its passes (a pass of a corpus takes only milliseconds), divided by
# the number of passes.
# Every run must return the same number of findings as the untimed count.
#
# Prints, per corpus: files, statements, KiB, median seconds of a run,
# statements per second, files per second, findings by severity; writes them
# between "<!-- lint:begin -->" and "<!-- lint:end -->" in BENCHMARKS.md
# (test/bench/bench.sh keeps that block when it rewrites the file).
#
# Options: as test/bench/bench.sh (--reuse-cluster, --no-build, --no-write,
# --output FILE).  Environment: BENCH_REPS (5), BENCH_LINT_PASSES (50),
# BENCH_LINT_CORPORA (all),
# TMPDIR (where the work folder goes), FM_CLUSTER_DIR, FM_PORT (default
# /tmp/fleetmigrate-bench-lint, 54345: neither the test suite's nor the
# other benchmarks' cluster).  Not part of the test suite; under a minute.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-lint}
FM_PORT=${FM_PORT:-54345}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# no NOTICE traffic from register()
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

bench_options "$@"
for arg in "${extra_args[@]}"; do bench_unknown_option "$arg"; done

reps=${BENCH_REPS:-5}
passes=${BENCH_LINT_PASSES:-50}
for v in reps passes; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done
corpora_dir=$FM_SHARED/corpora
[[ -d "$corpora_dir" ]] || fm_die "no corpora folder at $corpora_dir"

db=fm_bench_lint_$$
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-lint-bench.XXXXXX")
started=0 db_created=0
cleanup() {
    local rc=$?
    rm -rf "$work"
    if ((db_created)) && pg_isready -q 2>/dev/null; then
        dropdb --if-exists "$db" 2>/dev/null || true
    fi
    if ((started)); then fm_stop_cluster || true; fi
    exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- corpora

# up_files DIR: the up files of DIR in apply order, one per line
up_files() {
    local dir=$1 f
    if [[ -f "$dir/ORDER-up.txt" ]]; then
        while IFS= read -r f || [[ -n "$f" ]]; do
            f=${f%$'\r'}
            [[ -n "$f" ]] || continue
            [[ -f "$dir/$f" ]] || fm_die "$dir/ORDER-up.txt names a missing file: $f"
            printf '%s\n' "$f"
        done <"$dir/ORDER-up.txt"
    else
        (cd "$dir" && find . -maxdepth 1 -type f \( -name '*.up.sql' -o -name '*_up.sql' \) \
            -printf '%f\n' | LC_ALL=C sort)
    fi
}

labels=()
declare -A c_files=() c_bytes=()
if [[ -n "${BENCH_LINT_CORPORA:-}" ]]; then
    read -r -a wanted <<<"$BENCH_LINT_CORPORA"
else
    wanted=()
    for dir in "$corpora_dir"/*/; do wanted+=("$(basename "$dir")"); done
fi
# the data file: corpus, seq, file name, base64 of the body (tab-separated)
data=$work/files.tsv
: >"$data"
for corpus in "${wanted[@]}"; do
    dir=$corpora_dir/$corpus
    [[ -d "$dir" ]] || fm_die "BENCH_LINT_CORPORA: no corpus $corpus in $corpora_dir"
    [[ "$corpus" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fm_die "unsupported corpus name: $corpus"
    files=$(up_files "$dir")
    if [[ -z "$files" ]]; then
        fm_log "$corpus: no up migrations, left out"
        continue
    fi
    seq=0 bytes=0
    while IFS= read -r f; do
        [[ "$f" != *$'\t'* ]] || fm_die "$corpus: a tab in a file name: $f"
        seq=$((seq + 1))
        bytes=$((bytes + $(wc -c <"$dir/$f")))
        printf '%s\t%d\t%s\t%s\n' "$corpus" "$seq" "$f" "$(base64 -w 0 "$dir/$f")" >>"$data"
    done <<<"$files"
    labels+=("$corpus")
    c_files[$corpus]=$seq
    c_bytes[$corpus]=$bytes
    fm_log "$corpus: $seq up files, $bytes bytes"
done
((${#labels[@]})) || fm_die "no corpus with up migrations in $corpora_dir"

# ---------------------------------------------------------------- set-up

bench_server
bench_identify
bench_machine
bench_require_extension

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)
createdb -T template0 "$db"
db_created=1
fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'
[[ "$(fm_psql -At -d "$db" -c "SELECT pg_catalog.to_regprocedure('fleetmigrate.lint(text)') IS NOT NULL")" == t ]] ||
    fm_die "the installed fleetmigrate ($(fm_psql -At -d "$db" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'fleetmigrate'")) has no fleetmigrate.lint(text)"

fm_log "loading ${#labels[@]} corpora into $db, registering every up file to count its statements"
fm_psql -q -d "$db" <<SQL
CREATE TABLE public.bench_lint_files (
    corpus     text NOT NULL,
    seq        integer NOT NULL,
    file       text NOT NULL,
    body       text NOT NULL,
    statements integer,
    PRIMARY KEY (corpus, seq)
);
CREATE TEMP TABLE bench_lint_load (corpus text, seq integer, file text, b64 text);
\\copy bench_lint_load FROM '$data'
INSERT INTO public.bench_lint_files (corpus, seq, file, body)
SELECT corpus, seq, file, pg_catalog.convert_from(pg_catalog.decode(b64, 'base64'), 'UTF8')
  FROM bench_lint_load;
-- versions: corpus number * 100000 + position, so no two corpora share one
CREATE TEMP TABLE bench_lint_versions AS
SELECT f.corpus, f.seq,
       pg_catalog.lpad((c.n * 100000 + f.seq)::text, 8, '0') AS version,
       f.corpus || ':' || f.file AS name
  FROM public.bench_lint_files f
  JOIN (SELECT corpus, row_number() OVER (ORDER BY corpus) AS n
          FROM public.bench_lint_files GROUP BY corpus) c USING (corpus);
SELECT count(fleetmigrate.register(v.version, v.name, f.body)) AS registered
  FROM public.bench_lint_files f JOIN bench_lint_versions v USING (corpus, seq) \\gset
UPDATE public.bench_lint_files f SET statements = s.statements
  FROM bench_lint_versions v, fleetmigrate.status s
 WHERE v.corpus = f.corpus AND v.seq = f.seq AND s.version = v.version AND s.name = v.name;
VACUUM ANALYZE public.bench_lint_files;
SQL

declare -A c_statements=() c_findings=() c_severity=() c_rules=()
for corpus in "${labels[@]}"; do
    IFS='|' read -r n stmts missing < <(fm_psql -At -d "$db" -v c="$corpus" <<'SQL'
SELECT count(*), coalesce(sum(statements), 0), count(*) FILTER (WHERE statements IS NULL)
  FROM public.bench_lint_files WHERE corpus = :'c';
SQL
    )
    [[ "$n" == "${c_files[$corpus]}" ]] || fm_die "$corpus: $n files loaded, expected ${c_files[$corpus]}"
    [[ "$missing" == 0 ]] || fm_die "$corpus: $missing files have no statement count (not registered?)"
    # the bodies must be the files' exact bytes
    loaded_bytes=$(fm_psql -At -d "$db" -v c="$corpus" <<'SQL'
SELECT coalesce(sum(pg_catalog.octet_length(body)), 0) FROM public.bench_lint_files WHERE corpus = :'c';
SQL
    )
    [[ "$loaded_bytes" == "${c_bytes[$corpus]}" ]] ||
        fm_die "$corpus: $loaded_bytes bytes loaded, the files have ${c_bytes[$corpus]}"
    c_statements[$corpus]=$stmts
    # findings, untimed: by severity and by rule
    c_severity[$corpus]=$(fm_psql -At -d "$db" -v c="$corpus" <<'SQL'
SELECT coalesce(pg_catalog.string_agg(severity || ' ' || n, ', ' ORDER BY severity), 'none')
  FROM (SELECT l.severity, count(*) AS n
          FROM public.bench_lint_files f, LATERAL fleetmigrate.lint(f.body) l
         WHERE f.corpus = :'c' GROUP BY l.severity) s;
SQL
    )
    c_rules[$corpus]=$(fm_psql -At -d "$db" -v c="$corpus" <<'SQL'
SELECT coalesce(pg_catalog.string_agg(rule || ' (' || severity || ') ' || n, ', ' ORDER BY n DESC, rule), 'none')
  FROM (SELECT l.rule, l.severity, count(*) AS n
          FROM public.bench_lint_files f, LATERAL fleetmigrate.lint(f.body) l
         WHERE f.corpus = :'c' GROUP BY l.rule, l.severity) s;
SQL
    )
    c_findings[$corpus]=$(fm_psql -At -d "$db" -v c="$corpus" <<'SQL'
SELECT count(*) FROM public.bench_lint_files f, LATERAL fleetmigrate.lint(f.body) l WHERE f.corpus = :'c';
SQL
    )
    fm_log "$corpus: $n files, $stmts statements; findings: ${c_severity[$corpus]}"
done

# ---------------------------------------------------------------- measuring

# The psql script of one corpus: a warm-up, then BENCH_REPS timed runs of
# BENCH_LINT_PASSES passes each, each run printing "findings|ms per pass".
lint_query="SELECT count(*) AS findings FROM public.bench_lint_files f, LATERAL fleetmigrate.lint(f.body) l WHERE f.corpus = :'c'"
{
    printf '%s \\gset\n' "$lint_query"
    for ((r = 0; r < reps; r++)); do
        printf 'SELECT pg_catalog.clock_timestamp() AS t0 \\gset\n'
        for ((p = 0; p < passes; p++)); do
            printf '%s \\gset\n' "$lint_query"
        done
        printf "SELECT :findings, pg_catalog.round(1000 * extract(epoch FROM pg_catalog.clock_timestamp() - :'t0') / %d, 3);\n" "$passes"
    done
} >"$work/lint.psql"

declare -A c_ms=() c_times=()
for corpus in "${labels[@]}"; do
    fm_psql -q -d "$db" -c CHECKPOINT
    out=$(fm_psql -q -At -d "$db" -v c="$corpus" -f "$work/lint.psql")
    [[ $(wc -l <<<"$out") == "$reps" ]] || fm_die "$corpus: lint.psql printed: $out"
    times=''
    while IFS='|' read -r findings ms; do
        [[ "$findings" == "${c_findings[$corpus]}" ]] ||
            fm_die "$corpus: a timed run found $findings findings, the untimed count was ${c_findings[$corpus]}"
        times+="$ms "
    done <<<"$out"
    c_times[$corpus]=$times
    c_ms[$corpus]=$(median "$times")
    fm_log "$corpus: lint of ${c_files[$corpus]} files, ms per pass in each run: ${times% }"
done
bench_s=$(seconds "$bench_t0" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library
pg_version=$(fm_psql -At -c 'SELECT version()')
ext_version=$(fm_psql -At -d "$db" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'fleetmigrate'")

# ---------------------------------------------------------------- results

per_s() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", 1000 * n / ms; else print "-" }'; }
table='| corpus | up files | statements | KiB | seconds per pass (median of '"$reps"' runs) | statements/s | files/s | findings | findings by severity |
|---|---:|---:|---:|---:|---:|---:|---:|---|'
tot_files=0 tot_stmts=0 tot_bytes=0 tot_ms=0 tot_findings=0
rules='' runs=''
for corpus in "${labels[@]}"; do
    secs=$(awk -v ms="${c_ms[$corpus]}" 'BEGIN { printf "%.4f", ms / 1000 }')
    kib=$(awk -v b="${c_bytes[$corpus]}" 'BEGIN { printf "%.0f", b / 1024 }')
    table+=$'\n'"| $corpus | ${c_files[$corpus]} | ${c_statements[$corpus]} | $kib | $secs | $(per_s "${c_statements[$corpus]}" "${c_ms[$corpus]}") | $(per_s "${c_files[$corpus]}" "${c_ms[$corpus]}") | ${c_findings[$corpus]} | ${c_severity[$corpus]} |"
    rules+="- $corpus: ${c_rules[$corpus]}"$'\n'
    runs+="${runs:+; }$corpus: ${c_times[$corpus]% }"
    tot_files=$((tot_files + ${c_files[$corpus]}))
    tot_stmts=$((tot_stmts + ${c_statements[$corpus]}))
    tot_bytes=$((tot_bytes + ${c_bytes[$corpus]}))
    tot_findings=$((tot_findings + ${c_findings[$corpus]}))
    tot_ms=$(awk -v a="$tot_ms" -v b="${c_ms[$corpus]}" 'BEGIN { printf "%.3f", a + b }')
done
if ((${#labels[@]} > 1)); then
    table+=$'\n'"| all | $tot_files | $tot_stmts | $(awk -v b="$tot_bytes" 'BEGIN { printf "%.0f", b / 1024 }') | $(awk -v ms="$tot_ms" 'BEGIN { printf "%.4f", ms / 1000 }') | $(per_s "$tot_stmts" "$tot_ms") | $(per_s "$tot_files" "$tot_ms") | $tot_findings | |"
fi

echo
echo "$table"
echo
echo "findings by rule:"
printf '%s' "$rules"
echo "ms per pass, each run: $runs"
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0
block=$work/block.md
cat >"$block" <<EOF
<!-- lint:begin -->
## lint() throughput

\`fleetmigrate.lint()\` on every up migration of the real corpora, one call
per file. Generated by \`test/bench/lint.sh\` (this block only).

- Command: \`$command_line\` (from the repository root; \`BENCH_REPS=$reps
  BENCH_LINT_PASSES=$passes BENCH_LINT_CORPORA="${labels[*]}" FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library; extension version $ext_version
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after; benchmark time $bench_s s
- Server: $pg_version

$table

Findings by rule (severity), count:

$rules
- Method: the up files (ORDER-up.txt of each corpus, all of them) loaded
  into a table, untimed (base64 through \`\\copy\`, so each body is the
  file's bytes). Statements per file: each body registered with
  \`fleetmigrate.register()\` (nothing applied), \`fleetmigrate.status.statements\`.
  A pass: \`SELECT count(*) FROM bench_lint_files f, LATERAL
  fleetmigrate.lint(f.body) l WHERE f.corpus = ...\`, one statement, one
  lint() call per file. One untimed warm-up pass, then $reps runs of
  $passes passes in one session, each run timed by \`clock_timestamp()\`
  just before and after; seconds per pass = the median run / $passes
  (ms per pass, each run: $runs). Every pass returned the same number of
  findings.
- The cluster is the throwaway one from \`test/scripts/common.sh\`.
<!-- lint:end -->
EOF
bench_write_block lint "$block"
