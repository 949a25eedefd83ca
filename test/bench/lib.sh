# shellcheck shell=bash disable=SC2034  # the variables are the callers'
# lib.sh -- what every benchmark script in test/bench shares
#
# Sourced after test/scripts/common.sh.  Uses and sets, in the caller:
#   reuse, build, write, output, command_line, extra_args  (bench_options)
#   started                                                 (bench_server)
#   commit, libdir, lib_sum_before, library                 (bench_identify)
#   cpu, mem                                                (bench_machine)

# bench_usage: the "# usage:" line of the running script, then exit 2
bench_usage() {
    sed -n 's/^# usage: /usage: /p' "$0" >&2
    exit 2
}

# bench_options ARGS...: the options every benchmark takes (--reuse-cluster,
# --no-build, --no-write, --output FILE, -h); what it does not know is left
# in extra_args for the script
bench_options() {
    reuse=0 build=1 write=1
    output=$FM_ROOT/BENCHMARKS.md
    command_line="test/bench/$(basename "$0")${*:+ $*}"
    extra_args=()
    while (($#)); do
        case "$1" in
            --reuse-cluster) reuse=1; shift ;;
            --no-build) build=0; shift ;;
            --no-write) write=0; shift ;;
            --output) (($# >= 2)) || bench_usage; output=$2; shift 2 ;;
            -h|--help) bench_usage ;;
            *) extra_args+=("$1"); shift ;;
        esac
    done
}

# bench_unknown_option ARG: complain about ARG and exit 2
bench_unknown_option() {
    printf '%s: unknown argument %s\n' "$(basename "$0")" "$1" >&2
    bench_usage
}

# bench_server: with --reuse-cluster, the running server; otherwise (after
# installing packages and building, unless --no-build) a throwaway cluster,
# and started=1
bench_server() {
    if ((reuse)); then
        pg_isready -q || fm_die "--reuse-cluster: no server at PGHOST=$PGHOST PGPORT=$PGPORT"
        return
    fi
    if ((build)); then
        fm_install_packages
        fm_build_install
    fi
    fm_start_cluster
    started=1
}

# bench_identify: what is measured -- the commit, and the library every new
# backend loads (the installed one; others may reinstall it while a
# benchmark runs: bench_library_changed tells)
bench_identify() {
    commit=$(git -C "$FM_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n "$(git -C "$FM_ROOT" status --porcelain -- src '*.sql' '*.control' Makefile 2>/dev/null)" ]]; then
        commit="$commit (with uncommitted changes in the extension's sources)"
    fi
    libdir=$("$FM_PG_CONFIG" --pkglibdir)
    lib_sum_before=$(bench_lib_checksum)
    library="installed fleetmigrate.so of $(date -u -r "$libdir/fleetmigrate.so" '+%Y-%m-%d %H:%M UTC')"
    if cmp -s "$libdir/fleetmigrate.so" "$FM_ROOT/fleetmigrate.so"; then
        library+=", identical to the repository's build"
    else
        library+=", NOT the repository's build ($FM_ROOT/fleetmigrate.so differs or is missing)"
    fi
}

bench_lib_checksum() {
    md5sum <"$libdir/fleetmigrate.so" | cut -d' ' -f1
}

# bench_check_library: at the end of a run, a warning in library (and the
# log) if the installed library changed since bench_identify
bench_check_library() {
    if [[ "$(bench_lib_checksum)" != "$lib_sum_before" ]]; then
        library+="; WARNING: the installed library changed during the run, so the figures mix two builds"
        fm_log "warning: the installed fleetmigrate.so changed during the run"
    fi
}

# bench_require_extension: stop unless the server has fleetmigrate installed
bench_require_extension() {
    fm_psql -At -c "SELECT 1 FROM pg_available_extensions WHERE name = 'fleetmigrate'" | grep -q 1 ||
        fm_die "extension fleetmigrate is not installed (make -C $FM_ROOT install)"
}

# bench_settings NAME...: "name = value, ..." for those server settings, by
# name, for the report
bench_settings() {
    local names
    names=$(printf "'%s', " "$@")
    fm_psql -At -c "SELECT string_agg(name || ' = ' || pg_catalog.current_setting(name), ', ' ORDER BY name)
    FROM pg_catalog.pg_settings
    WHERE name IN (${names%, })"
}

# bench_machine: cpu and mem, for the report
bench_machine() {
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
}

# gen_synthetic KIND N: a synthetic corpus of N migrations in $work/KIND-N
# (kept between runs):
# KIND "synthetic", a table and an index each; "noop", SELECT 1 each.
gen_synthetic() {
    local kind=$1 n=$2 dir=$work/$1-$2 i id
    if [[ -f "$dir/.complete" ]]; then
        return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    for ((i = 1; i <= n; i++)); do
        printf -v id '%05d' "$i"
        if [[ "$kind" == synthetic ]]; then
            printf 'CREATE TABLE t%s (id bigint PRIMARY KEY, v text, created_at timestamptz DEFAULT now());\nCREATE INDEX t%s_v ON t%s (v);\n' \
                "$id" "$id" "$id" >"$dir/${id}_create_t${id}.up.sql"
        else
            printf 'SELECT 1;\n' >"$dir/${id}_noop_${id}.up.sql"
        fi
    done
    touch "$dir/.complete"
}

# now, seconds T0 T1: wall clock, and the seconds between two readings
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# count_relations DB: relations the migrations created in DB (outside the
# system schemas and fleetmigrate's)
count_relations() {
    fm_psql -At -d "$1" -c "SELECT count(*) FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'fleetmigrate')
          AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
}

# median "V1 V2 ...": the median, to 3 decimals
median() {
    tr ' ' '\n' <<<"$1" | grep . | LC_ALL=C sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_write_block NAME FILE: replace the block between "<!-- NAME:begin -->"
# and "<!-- NAME:end -->" of $output with FILE (which holds those two lines),
# or append FILE; the rest of $output as it was
bench_write_block() {
    local name=$1 block=$2 new
    local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
    new=$(mktemp "${TMPDIR:-/tmp}/fm-bench-output.XXXXXX")
    if [[ -f "$output" ]] && grep -qxF "$begin" "$output"; then
        grep -qxF "$end" "$output" || fm_die "$output has \"$begin\" but no \"$end\"; fix it by hand"
        awk -v block="$block" -v b="$begin" -v e="$end" '
            $0 == b { while ((getline line < block) > 0) print line; skip = 1; next }
            skip && $0 == e { skip = 0; next }
            !skip { print }
        ' "$output" >"$new"
    elif [[ -f "$output" ]]; then
        { cat "$output"; printf '\n'; cat "$block"; } >"$new"
    else
        { printf '# Benchmarks\n\n'; cat "$block"; } >"$new"
    fi
    cat "$new" >"$output"
    rm -f "$new"
    fm_log "wrote the $name block of $output"
}
