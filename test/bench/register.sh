#!/usr/bin/env bash
#
# register.sh -- register_bundle() and validate() on catalogs of 1000 and 10000 migrations
#
# usage: test/bench/register.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE]
#
# For each size N (BENCH_REGISTER_SIZES, default 1000 and 10000) a synthetic
# bundle is generated once into BENCH_WORK (register-N.bundle.sql, kept
# between runs): N migrations "-- migration: 00001 create_t00001" (versions
# zero-padded to 5 digits at every size, so every migration has the same
# text), each an up script CREATE TABLE tNNNNN (id bigint PRIMARY KEY,
# payload text); CREATE INDEX ON tNNNNN (payload); and a down script DROP
# TABLE tNNNNN;, every 10th with a "-- requires: <previous version>" header.
# For each size and repetition, in a fresh database (createdb from template0,
# CREATE EXTENSION fleetmigrate, CHECKPOINT: untimed), the order of the sizes
# alternating between repetitions:
#   register      one psql session (psql -X -q -At -v ON_ERROR_STOP=1 -f)
#                 reads the bundle into a variable (\set bundle `cat FILE`),
#                 then runs SELECT count(*) FROM
#                 fleetmigrate.register_bundle(:'bundle'); timed: the
#                 statement (clock_timestamp() read by the statements just
#                 before and after it) and the whole psql run (EPOCHREALTIME).
#   validate (a)  nothing applied: VACUUM ANALYZE of the catalog (untimed,
#                 so autovacuum does not run in the middle), then one psql
#                 session calls SELECT count(*) FROM fleetmigrate.validate()
#                 BENCH_VALIDATE_CALLS times, each call timed the same way.
#   validate (b)  every migration marked applied without running it
#                 (untimed, as the superuser: UPDATE fleetmigrate.migrations
#                 SET state = 'applied', applied_checksum = checksum,
#                 applied_at = now(), applied_by = current_user; VACUUM
#                 ANALYZE), then the same calls as (a); for information,
#                 the same calls again in a session with jit = off
#                 (fleetmigrate runs its catalog statements with jit off
#                 since validate()'s plan at 10000 migrations cost more than
#                 jit_above_cost and paid ~30 ms of compilation per call:
#                 the two columns should now agree).
# Every run is checked: register_bundle() returns N rows, the catalog holds
# N migrations, all pending, N/10 of them with a requirement; the UPDATE
# marks N; every validate() call returns no rows.
#
# Prints medians (register: of the repetitions; validate: of all calls of
# all repetitions), the ratios largest / smallest size for register and for
# both validates (target <= 1.05 x the size ratio, 10.5 for 10000 / 1000:
# the cost per migration stays flat), and validate() of the largest catalog
# beside Flyway's "over 50 seconds" to validate 4,400 scripts (flyway/flyway
# issue 4278), per script.  Writes them between "<!-- register:begin -->"
# and "<!-- register:end -->" in BENCHMARKS.md (test/bench/bench.sh keeps
# that block when it rewrites the file).
#
# Options: as test/bench/bench.sh (--reuse-cluster, --no-build, --no-write,
# --output FILE).  Environment: BENCH_REPS (3), BENCH_REGISTER_SIZES
# ("1000 10000"), BENCH_VALIDATE_CALLS (10), BENCH_WORK (test/bench/work),
# FM_CLUSTER_DIR, FM_PORT (default /tmp/fleetmigrate-bench-register, 54341:
# neither the test suite's nor the other benchmarks' cluster).  Not part of
# the test suite; about 10 seconds on 2 cores.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-bench-register}
FM_PORT=${FM_PORT:-54341}
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# no NOTICE traffic from the catalog functions
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

bench_options "$@"
for arg in "${extra_args[@]}"; do bench_unknown_option "$arg"; done

reps=${BENCH_REPS:-3}
calls=${BENCH_VALIDATE_CALLS:-10}
read -r -a sizes <<<"${BENCH_REGISTER_SIZES:-1000 10000}"
for v in reps calls; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done
((${#sizes[@]})) || fm_die "BENCH_REGISTER_SIZES is empty"
for n in "${sizes[@]}"; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || ((n > 99999)); then
        fm_die "bad size in BENCH_REGISTER_SIZES: $n (1..99999)"
    fi
done
work=${BENCH_WORK:-$FM_ROOT/test/bench/work}
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [[ "$work" =~ [\'[:space:]] ]]; then fm_die "BENCH_WORK must not contain quotes or spaces: $work"; fi

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
bench_require_extension

# ---------------------------------------------------------------- bundles

# gen_bundle N: $work/register-N.bundle.sql (kept between runs)
gen_bundle() {
    local n=$1 file=$work/register-$1.bundle.sql
    [[ -s "$file" ]] && return 0
    awk -v n="$n" 'BEGIN {
        for (i = 1; i <= n; i++) {
            v = sprintf("%05d", i)
            printf "-- migration: %s create_t%s\n", v, v
            if (i % 10 == 0) printf "-- requires: %05d\n", i - 1
            printf "CREATE TABLE t%s (id bigint PRIMARY KEY, payload text);\n", v
            printf "CREATE INDEX ON t%s (payload);\n", v
            printf "-- down\nDROP TABLE t%s;\n", v
        }
    }' >"$file.tmp"
    mv "$file.tmp" "$file"
}

# The psql scripts: "registered|ms" for register, one "problems|ms" line per
# call for validate.  The statement is timed by clock_timestamp()
# in the statements just before and after it (one round trip each way).
timed() { # timed QUERY VAR
    printf 'SELECT pg_catalog.clock_timestamp() AS t0 \\gset\n'
    printf '%s \\gset\n' "$1"
    printf "SELECT :%s, pg_catalog.round(1000 * extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'), 3);\n" "$2"
}
for n in "${sizes[@]}"; do
    gen_bundle "$n"
    fm_log "bundle: $n migrations, $(wc -c <"$work/register-$n.bundle.sql") bytes in $work/register-$n.bundle.sql"
    {
        printf "\\\\set bundle \`cat '%s'\`\n" "$work/register-$n.bundle.sql"
        timed "SELECT count(*) AS registered FROM fleetmigrate.register_bundle(:'bundle')" registered
    } >"$work/register-$n.psql"
done
for ((c = 0; c < calls; c++)); do
    timed 'SELECT count(*) AS problems FROM fleetmigrate.validate()' problems
done >"$work/validate.psql"

# ---------------------------------------------------------------- measuring

# create_extension DB: CREATE EXTENSION, retried for a while (someone may be
# installing a new build at that moment)
create_extension() {
    local db=$1 try err
    for try in 1 2 3 4 5; do
        if err=$(fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate' 2>&1); then
            return 0
        fi
        ((try < 5)) || break
        fm_log "CREATE EXTENSION failed (a build being installed?), retrying in 60 s: $err"
        sleep 60
    done
    fm_die "CREATE EXTENSION fleetmigrate failed: $err"
}

# validate_calls DB: the times of BENCH_VALIDATE_CALLS calls in one session;
# sets vtimes, vfirst
validate_calls() {
    local db=$1 label=$2 out line
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$work/validate.psql")
    vtimes='' vfirst=''
    [[ $(wc -l <<<"$out") == "$calls" ]] || fm_die "$label: validate.psql printed: $out"
    while IFS='|' read -r -a line; do
        [[ "${line[0]}" == 0 ]] || fm_die "$label: validate() returned ${line[0]} rows, expected none:
$(fm_psql -d "$db" -c 'SELECT * FROM fleetmigrate.validate() LIMIT 10')"
        vtimes+="${line[1]} "
        [[ -n "$vfirst" ]] || vfirst=${line[1]}
    done <<<"$out"
}

# run_size N DB: one repetition at size N; sets reg_ms, psql_s and the
# validate times (ms)
run_size() {
    local n=$1 db=$2 t0 t1 out got
    createdb -T template0 "$db"
    created_dbs+=("$db")
    create_extension "$db"
    fm_psql -q -d "$db" -c CHECKPOINT

    t0=$(now)
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$work/register-$n.psql")
    t1=$(now)
    psql_s=$(seconds "$t0" "$t1")
    [[ "$out" =~ ^([0-9]+)\|([0-9.]+)$ ]] || fm_die "register $n: register-$n.psql printed: $out"
    [[ "${BASH_REMATCH[1]}" == "$n" ]] ||
        fm_die "register $n: register_bundle() returned ${BASH_REMATCH[1]} rows, expected $n"
    reg_ms=${BASH_REMATCH[2]}
    got=$(fm_psql -At -d "$db" -c "SELECT count(*), count(*) FILTER (WHERE state = 'pending'),
        count(*) FILTER (WHERE pg_catalog.cardinality(requires) > 0) FROM fleetmigrate.migrations")
    [[ "$got" == "$n|$n|$((n / 10))" ]] ||
        fm_die "register $n: catalog has (rows|pending|with requirements) $got, expected $n|$n|$((n / 10))"

    fm_psql -q -d "$db" -c 'VACUUM ANALYZE fleetmigrate.migrations'
    validate_calls "$db" "validate $n, nothing applied"
    va_times=$vtimes va_first=$vfirst

    got=$(fm_psql -At -d "$db" -c "UPDATE fleetmigrate.migrations SET state = 'applied',
        applied_checksum = checksum, applied_at = now(), applied_by = current_user")
    [[ "$got" == "UPDATE $n" ]] || fm_die "marking $n migrations applied said: $got"
    fm_psql -q -d "$db" -c 'VACUUM ANALYZE fleetmigrate.migrations'
    validate_calls "$db" "validate $n, all applied"
    vb_times=$vtimes vb_first=$vfirst
    PGOPTIONS="$PGOPTIONS -c jit=off" validate_calls "$db" "validate $n, all applied, jit = off"
    vc_times=$vtimes
}

declare -A t_reg=() t_psql=() t_va=() t_vb=() t_vc=() t_va1=() t_vb1=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(now)
for ((rep = 0; rep < reps; rep++)); do
    for ((k = 0; k < ${#sizes[@]}; k++)); do
        # the order of the sizes alternates between repetitions
        if ((rep % 2)); then n=${sizes[$((${#sizes[@]} - 1 - k))]}; else n=${sizes[$k]}; fi
        run_size "$n" "fm_bench_register_${n}_$((rep + 1))"
        t_reg[$n]+="$reg_ms " t_psql[$n]+="$psql_s "
        t_va[$n]+="$va_times" t_vb[$n]+="$vb_times" t_vc[$n]+="$vc_times"
        t_va1[$n]+="$va_first " t_vb1[$n]+="$vb_first "
        fm_log "$n rep $((rep + 1)): register $reg_ms ms (psql run $psql_s s); validate (ms) nothing applied: ${va_times% }; all applied: ${vb_times% }; all applied, jit = off: ${vc_times% }"
    done
    for db in "${created_dbs[@]}"; do dropdb --if-exists "$db"; done
    created_dbs=()
done
bench_s=$(seconds "$t_start" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bench_check_library
pg_version=$(fm_psql -At -c 'SELECT version()')
settings=$(bench_settings fsync synchronous_commit shared_buffers jit jit_above_cost)

# ---------------------------------------------------------------- results

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ms() { awk -v m="$1" 'BEGIN { printf "%.1f", m }'; }
# per_migration MS N: microseconds per migration
per_migration() { awk -v m="$1" -v n="$2" 'BEGIN { printf "%.1f", 1000 * m / n }'; }

small=${sizes[0]} big=${sizes[0]}
for n in "${sizes[@]}"; do
    if ((n < small)); then small=$n; fi
    if ((n > big)); then big=$n; fi
done

table='| migrations | bundle (KiB) | register_bundle() (ms) | psql run with it (s) | register per migration (µs) | validate(), none applied (ms) | validate(), all applied (ms) | validate per migration, all applied (µs) | validate(), all applied, jit = off (ms) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
declare -A m_reg=() m_va=() m_vb=() m_vc=()
for n in $(printf '%s\n' "${sizes[@]}" | sort -nu); do
    m_reg[$n]=$(median "${t_reg[$n]}")
    m_va[$n]=$(median "${t_va[$n]}")
    m_vb[$n]=$(median "${t_vb[$n]}")
    m_vc[$n]=$(median "${t_vc[$n]}")
    kib=$(awk -v b="$(wc -c <"$work/register-$n.bundle.sql")" 'BEGIN { printf "%.0f", b / 1024 }')
    table+=$'\n'"| $n | $kib | $(ms "${m_reg[$n]}") | $(median "${t_psql[$n]}") | $(per_migration "${m_reg[$n]}" "$n") | $(ms "${m_va[$n]}") | $(ms "${m_vb[$n]}") | $(per_migration "${m_vb[$n]}" "$n") | $(ms "${m_vc[$n]}") |"
done
first_calls=
for n in $(printf '%s\n' "${sizes[@]}" | sort -nu); do
    first_calls+="${first_calls:+; }$n: $(ms "$(median "${t_va1[$n]}")") ms and $(ms "$(median "${t_vb1[$n]}")") ms"
done

scaling='' met_all=yes
if ((big > small)); then
    target=$(awk -v a="$big" -v b="$small" 'BEGIN { printf "%.1f", 1.05 * a / b }')
    scaling="| step | $big / $small | target | met |
|---|---:|---:|---|"
    for step in register va vb; do
        case $step in
            register) what='register_bundle()'; r=$(ratio "${m_reg[$big]}" "${m_reg[$small]}") ;;
            va) what='validate(), nothing applied'; r=$(ratio "${m_va[$big]}" "${m_va[$small]}") ;;
            vb) what='validate(), all applied'; r=$(ratio "${m_vb[$big]}" "${m_vb[$small]}") ;;
        esac
        met=yes
        le "$r" "$target" || met=no met_all=no
        scaling+=$'\n'"| $what | $r | ≤ $target | $met |"
    done
    scaling+=$'\n'"| validate(), all applied, jit = off (information) | $(ratio "${m_vc[$big]}" "${m_vc[$small]}") | - | - |"
fi

# Flyway: over 50 s to validate 4,400 scripts (flyway/flyway issue 4278).
flyway_per=$(awk 'BEGIN { printf "%.1f", 50 * 1000 / 4400 }')
ours_per_us=$(per_migration "${m_vb[$big]}" "$big")
factor=$(awk -v ours="${m_vb[$big]}" -v n="$big" 'BEGIN { printf "%.0f", (50000 / 4400) / (ours / n) }')
both_per_us=$(per_migration "$(awk -v r="${m_reg[$big]}" -v v="${m_vb[$big]}" 'BEGIN { print r + v }')" "$big")
factor_both=$(awk -v r="${m_reg[$big]}" -v v="${m_vb[$big]}" -v n="$big" 'BEGIN { printf "%.0f", (50000 / 4400) / ((r + v) / n) }')
flyway="validate() of $big applied migrations: $(ms "${m_vb[$big]}") ms, $ours_per_us µs per migration. Flyway: over 50 s to validate 4,400 scripts (flyway/flyway issue 4278), $flyway_per ms per script: validate() is about ${factor}× faster per script; with register_bundle() added (which parses and checksums every script, as Flyway's scan does), $both_per_us µs per migration, about ${factor_both}× faster."

echo
echo "$table"
echo
if [[ -n "$scaling" ]]; then printf '%s\n\n' "$scaling"; fi
echo "first validate() call of a session (none applied and all applied, ms): $first_calls"
echo "$flyway"
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0
sizes_text=${sizes[*]}
sizes_text=${sizes_text// /, }
block=$(mktemp "${TMPDIR:-/tmp}/fm-register-block.XXXXXX")
cat >"$block" <<EOF
<!-- register:begin -->
## Registering and validating large catalogs

\`SELECT count(*) FROM fleetmigrate.register_bundle(:'bundle')\` of a
synthetic bundle into an empty catalog, and \`SELECT count(*) FROM
fleetmigrate.validate()\` over that catalog with nothing applied and with
every migration marked applied, at N = $sizes_text migrations.

- Command: \`$command_line\` (from the repository root; \`BENCH_REPS=$reps
  BENCH_REGISTER_SIZES="${sizes[*]}" BENCH_VALIDATE_CALLS=$calls
  FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit; $library
- Machine: $cpu, $(nproc) cores, $mem; load average before $load_before,
  after $load_after; benchmark time $bench_s s
- Server: $pg_version
- Server settings: $settings
- Bundle: N migrations \`-- migration: 00001 create_t00001\` (versions
  zero-padded to 5 digits at every size), up \`CREATE TABLE t00001 (id
  bigint PRIMARY KEY, payload text); CREATE INDEX ON t00001 (payload);\`,
  down \`DROP TABLE t00001;\`, every 10th with \`-- requires:\` the
  previous version. psql reads it into a variable (\`\` \\set bundle
  \`cat FILE\` \`\`) before the timed statement.
- Figures: register, median of $reps runs, each in a fresh database
  (\`createdb -T template0\`, \`CREATE EXTENSION\`, \`CHECKPOINT\`,
  untimed), the order of the sizes alternating; validate, median of all
  $calls calls in one psql session per run. Statements are timed in the
  session, by \`clock_timestamp()\` read just before and after them;
  "psql run with it" is the whole psql process (start, connection,
  reading the bundle). "All applied": marked by \`UPDATE
  fleetmigrate.migrations SET state = 'applied', applied_checksum =
  checksum, applied_at = now(), applied_by = current_user\`, untimed;
  \`VACUUM ANALYZE\` of the catalog before each set of validate calls.
  The jit = off column: the same calls in another session with
  \`PGOPTIONS=-c jit=off\`, for information (fleetmigrate turns JIT off
  for its own catalog statements, so it should match).
- Checked every run: register_bundle() returns N rows; the catalog holds N
  pending migrations, N/10 with a requirement; every validate() call
  returns no rows.

$table

$scaling

- Cost per migration flat (each ratio ≤ 1.05 × the size ratio): **$met_all**.
- First validate() call of a session (plans the query; none applied, all
  applied): $first_calls.
- $flyway Not the same work:
  Flyway's figure includes scanning and checksumming 4,400 files on another
  machine; validate() compares the checksums register_bundle() stored.
- The cluster is the throwaway one from \`test/scripts/common.sh\` (fsync
  and synchronous_commit off).
<!-- register:end -->
EOF
bench_write_block register "$block"
rm -f "$block"
