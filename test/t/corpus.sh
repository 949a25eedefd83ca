#!/usr/bin/env bash
#
# corpus.sh -- real-world corpora: fleetmigrate must build the same schema as plain psql
#
# For every corpus in $FM_SHARED/corpora/ (a folder with ORDER-up.txt):
#   A  fresh database; plain psql runs PREAMBLE.sql (when the corpus has one)
#      and every up file in ORDER-up.txt order, in one "psql -1" run;
#   B  fresh database; PREAMBLE.sql with psql, CREATE EXTENSION fleetmigrate,
#      register_dir.sh, then apply_pending() must apply every registered up,
#      fleetmigrate.status must show them all applied, and a second
#      apply_pending() must return no rows;
#   then the schema-only dumps of A and B (without schema fleetmigrate and the
#   extension itself) must be identical.
# ory-kratos: the two ups with CREATE INDEX CONCURRENTLY (and so their downs)
# are left out of both sides: they cannot run inside one transaction.
#
# Needs a running server (PGHOST, PGPORT, ... as exported by common.sh).
# Exit 0 passed, 77 no corpora found, anything else failed.

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

corpora=$FM_SHARED/corpora
if [[ ! -d "$corpora" ]]; then
    echo "skipped: no corpora folder at $corpora"
    exit 77
fi
pg_isready -q || fm_die "no server at PGHOST=$PGHOST PGPORT=$PGPORT (start one with common.sh's fm_start_cluster)"
# The corpora are chatty (IF EXISTS, truncated identifiers); keep warnings.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Schema-only dump of DB without schema fleetmigrate and without the TOC
# entries of the extension itself, to FILE.  The \restrict lines carry a
# random key per dump and are dropped.
dump_schema() {
    local db=$1 out=$2
    pg_dump --schema-only --no-owner --no-privileges -N fleetmigrate -Fc -f "$out.dump" "$db"
    pg_restore -l "$out.dump" |
        grep -v -E '^[0-9]+; [0-9]+ [0-9]+ (EXTENSION - fleetmigrate|COMMENT - EXTENSION fleetmigrate)( |$)' \
            >"$out.list"
    pg_restore --no-owner --no-privileges -L "$out.list" -f - "$out.dump" |
        grep -v -E '^\\(un)?restrict ' >"$out"
}

elapsed() {
    local t0=$1 t1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'
}

status=0
ncorpora=0
for dir in "$corpora"/*/; do
    dir=${dir%/}
    [[ -f "$dir/ORDER-up.txt" ]] || continue
    corpus=$(basename "$dir")
    ncorpora=$((ncorpora + 1))
    tag=${corpus//[^A-Za-z0-9]/_}
    db_a=fm_corpus_${tag}_psql
    db_b=fm_corpus_${tag}_fm

    # files left out (fm_corpus_skips in common.sh says why)
    declare -A skip=()
    skip_args=()
    while IFS= read -r f; do
        [[ -n "$f" ]] || continue
        grep -qxF "$f" "$dir/ORDER-up.txt" || [[ -f "$dir/$f" && "$f" == *down.sql ]] ||
            fm_die "$corpus: file to leave out is neither in ORDER-up.txt nor a down file: $f"
        skip[$f]=1
        skip_args+=(--skip-file "$f")
    done < <(fm_corpus_skips "$corpus")

    ups=()
    while IFS= read -r f || [[ -n "$f" ]]; do
        f=${f%$'\r'}
        [[ -n "$f" && -z "${skip[$f]:-}" ]] && ups+=("$f")
    done <"$dir/ORDER-up.txt"
    nups=${#ups[@]}
    unset skip

    echo "=== $corpus: $nups ups ($((${#skip_args[@]} / 2)) files left out)"

    # A: plain psql, one transaction, each file read with \i from the
    # corpus folder (a file's last statement ends with the file, as with -f).
    dropdb --if-exists "$db_a"
    dropdb --if-exists "$db_b"
    createdb "$db_a"
    {
        [[ -f "$dir/PREAMBLE.sql" ]] && echo '\i PREAMBLE.sql'
        printf '\\i %s\n' "${ups[@]}"
    } >"$work/$tag-plain.psql"
    t0=$(date +%s.%N)
    (cd "$dir" && fm_psql -q -1 -d "$db_a" -f "$work/$tag-plain.psql" >/dev/null)
    echo "A plain psql: $nups ups in one transaction: $(elapsed "$t0")"

    # B: fleetmigrate.
    createdb "$db_b"
    if [[ -f "$dir/PREAMBLE.sql" ]]; then
        fm_psql -q -d "$db_b" -f "$dir/PREAMBLE.sql" >/dev/null
    fi
    fm_psql -q -d "$db_b" -c 'CREATE EXTENSION fleetmigrate'
    t0=$(date +%s.%N)
    if ! bash "$FM_ROOT/test/scripts/register_dir.sh" "${skip_args[@]}" "$dir" "$db_b"; then
        echo "FAIL $corpus: register_dir.sh failed"
        status=1
        continue
    fi
    echo "B register: $(elapsed "$t0")"

    registered=$(fm_psql -At -d "$db_b" -c 'SELECT count(*) FROM fleetmigrate.status')
    if [[ "$registered" != "$nups" ]]; then
        echo "FAIL $corpus: fleetmigrate.status has $registered migrations, expected $nups"
        status=1
    fi

    t0=$(date +%s.%N)
    if ! applied=$(fm_psql -At -d "$db_b" -c 'SELECT count(*) FROM fleetmigrate.apply_pending(allow_destructive => true)'); then
        echo "FAIL $corpus: apply_pending() failed"
        status=1
        continue
    fi
    echo "B apply_pending(): $applied rows: $(elapsed "$t0")"
    if [[ "$applied" != "$nups" ]]; then
        echo "FAIL $corpus: apply_pending() returned $applied rows, expected $nups"
        status=1
    fi

    states=$(fm_psql -At -d "$db_b" -c \
        "SELECT state || ' ' || count(*) FROM fleetmigrate.status GROUP BY state ORDER BY state")
    echo "B status: ${states//$'\n'/, }"
    if [[ "$states" != "applied $nups" ]]; then
        echo "FAIL $corpus: expected all $nups migrations applied in fleetmigrate.status"
        fm_psql -d "$db_b" -c "SELECT version, name, state FROM fleetmigrate.status WHERE state <> 'applied'" |
            head -n 40
        status=1
    fi

    again=$(fm_psql -At -d "$db_b" -c 'SELECT count(*) FROM fleetmigrate.apply_pending(allow_destructive => true)')
    echo "B second apply_pending(): $again rows"
    if [[ "$again" != 0 ]]; then
        echo "FAIL $corpus: a second apply_pending() returned $again rows, expected 0"
        status=1
    fi

    # Compare the schemas.
    dump_schema "$db_a" "$work/$tag-a.sql"
    dump_schema "$db_b" "$work/$tag-b.sql"
    tables=$(fm_psql -At -d "$db_a" -c \
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
    indexes=$(fm_psql -At -d "$db_a" -c \
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('i', 'I')")
    lines=$(wc -l <"$work/$tag-a.sql")
    if ((tables == 0)) || ! grep -q '^CREATE TABLE ' "$work/$tag-a.sql"; then
        echo "FAIL $corpus: the plain psql database has no tables; nothing to compare"
        status=1
    fi
    if diff -u --label "$db_a (plain psql)" --label "$db_b (fleetmigrate)" \
        "$work/$tag-a.sql" "$work/$tag-b.sql" >"$work/$tag.diff"; then
        echo "dump A vs B: identical ($lines lines; $tables tables, $indexes indexes in public)"
    else
        echo "FAIL $corpus: schema dumps differ ($(grep -c '^[-+][^-+]' "$work/$tag.diff") lines):"
        head -n 200 "$work/$tag.diff"
        status=1
    fi

    if ((status == 0)); then
        dropdb "$db_a"
        dropdb "$db_b"
    fi
done

if ((ncorpora == 0)); then
    echo "skipped: no corpus with ORDER-up.txt in $corpora"
    exit 77
fi
if ((status != 0)); then
    echo "corpus.sh: FAILED (databases kept for inspection)"
    exit 1
fi
echo "corpus.sh: $ncorpora corpora: plain psql and fleetmigrate give identical schemas"
