#!/usr/bin/env bash
#
# consent_corpora.sh -- which migrations of the real corpora need consent,
# with the build of a base commit ("before") and of the working tree ("after")
#
# usage: test/bench/consent_corpora.sh [--base COMMIT] [--after-only]
#
# How to run (from the repository root, with the settings of
# test/scripts/common.sh exported: FM_PG_BINDIR, FM_PORT, FM_CLUSTER_DIR):
#   test/bench/consent_corpora.sh --base deb2a26
#
# For each build (the base commit's sources, taken with git archive into a
# temporary folder, then the working tree), installed into the PostgreSQL
# tree of FM_PG_BINDIR, with the cluster restarted: for every corpus of
# $FM_SHARED/corpora (a folder with ORDER-up.txt), a fresh database, its
# PREAMBLE.sql, CREATE EXTENSION fleetmigrate, test/scripts/register_dir.sh
# (ory-kratos's two CREATE INDEX CONCURRENTLY ups left out, as in
# test/t/lint_corpora.sh); then, in apply order, each version is applied
# the way a deployment would, with apply_pending(target => version) and no
# consent.  A version the runner refuses for want of consent (its plan
# check: "N destructive statements in M migrations need consent") counts as
# needing consent; the refusal's detail, which names each statement and
# what it would remove, is kept as the reason, and the version is then
# applied with allow_data_loss naming it.  Any other error stops the script.
# So the count is what the runner itself decides, on a database that each
# earlier migration has just built (its tables hold the rows the corpus'
# own migrations put there: mostly none).
#
# Prints per build and corpus the number of versions and of those needing
# consent, then, for the working tree, every version that still needs it
# with its reason, and the versions that needed consent before and no
# longer do.  Not part of the test suite; a few minutes.
# The build of the working tree is left installed at the end.

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

base=
after_only=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --base) base=$2; shift 2 ;;
        --after-only) after_only=1; shift ;;
        *) fm_die "unknown option: $1" ;;
    esac
done
((after_only)) || [[ -n "$base" ]] || fm_die "--base COMMIT is needed (or --after-only)"

corpora=$FM_SHARED/corpora
[[ -d "$corpora" ]] || fm_die "no corpora folder at $corpora"
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-consent-corpora.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# measure LABEL: every corpus, with the build installed now; results in
# $work/LABEL.tsv (corpus, version, reason; reason empty: no consent needed)
measure() {
    local label=$1 dir corpus db skip_args f
    : >"$work/$label.tsv"
    for dir in "$corpora"/*/; do
        dir=${dir%/}
        [[ -f "$dir/ORDER-up.txt" ]] || continue
        corpus=$(basename "$dir")
        db=fm_consent_${corpus//[^A-Za-z0-9]/_}
        skip_args=()
        while IFS= read -r f; do
            [[ -n "$f" ]] && skip_args+=(--skip-file "$f")
        done < <(fm_corpus_skips "$corpus")
        dropdb --if-exists "$db"
        createdb "$db"
        if [[ -f "$dir/PREAMBLE.sql" ]]; then
            fm_psql -q -d "$db" -f "$dir/PREAMBLE.sql" >/dev/null
        fi
        fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'
        bash "$FM_ROOT/test/scripts/register_dir.sh" "${skip_args[@]}" "$dir" "$db" >/dev/null
        fm_psql -q -d "$db" <<'SQL'
CREATE TABLE consent_needed (seq int, version text, reason text);
DO $$
DECLARE
    m record;
    msg text;
    detail text;
    n int := 0;
BEGIN
    FOR m IN SELECT * FROM (SELECT DISTINCT ON (s.version) s.version, g.sort_key
                              FROM fleetmigrate.status s
                              JOIN fleetmigrate.migrations g USING (version, name)
                             ORDER BY s.version, g.sort_key) v
              ORDER BY sort_key, version COLLATE "C"
    LOOP
        n := n + 1;
        BEGIN
            PERFORM fleetmigrate.apply_pending(target => m.version);
            INSERT INTO consent_needed VALUES (n, m.version, NULL);
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
            IF msg NOT LIKE '%need% consent; nothing was applied' THEN
                RAISE;
            END IF;
            INSERT INTO consent_needed VALUES (n, m.version, detail);
            PERFORM fleetmigrate.apply_pending(target => m.version,
                                               allow_data_loss => ARRAY[m.version]);
        END;
    END LOOP;
END
$$;
SQL
        pending=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM fleetmigrate.status WHERE state <> 'applied'")
        [[ "$pending" == 0 ]] || fm_die "$label $corpus: $pending migrations not applied"
        fm_psql -At -F $'\t' -d "$db" \
            -c "SELECT '$corpus', version, replace(coalesce(reason, ''), E'\n', ' | ') FROM consent_needed ORDER BY seq" \
            >>"$work/$label.tsv"
        fm_psql -q -d postgres -c "DROP DATABASE $db"
    done
}

# install_and_restart SRC: build SRC into the PostgreSQL tree, restart
install_and_restart() {
    local src=$1
    make -s -C "$src" PG_CONFIG="$FM_PG_CONFIG" clean >/dev/null
    make -s -C "$src" PG_CONFIG="$FM_PG_CONFIG" >/dev/null
    make -s -C "$src" PG_CONFIG="$FM_PG_CONFIG" install >/dev/null
    fm_stop_cluster >/dev/null
    fm_start_cluster >/dev/null
}

if ((!after_only)); then
    mkdir "$work/base"
    git -C "$FM_ROOT" archive "$base" | tar -x -C "$work/base"
    install_and_restart "$work/base"
    measure before
fi
install_and_restart "$FM_ROOT"
measure after

echo "== versions that need consent (applied in order, no consent given; refused by the runner's plan check)"
printf '%-18s %9s %8s %8s\n' corpus versions before after
for corpus in $(cut -f1 "$work/after.tsv" | sort -u); do
    total=$(awk -F'\t' -v c="$corpus" '$1 == c' "$work/after.tsv" | wc -l)
    after=$(awk -F'\t' -v c="$corpus" '$1 == c && $3 != ""' "$work/after.tsv" | wc -l)
    before=-
    if ((!after_only)); then
        before=$(awk -F'\t' -v c="$corpus" '$1 == c && $3 != ""' "$work/before.tsv" | wc -l)
    fi
    printf '%-18s %9s %8s %8s\n' "$corpus" "$total" "$before" "$after"
done
echo
echo "== still needing consent, with the runner's reason"
awk -F'\t' '$3 != "" { printf "%s %s: %s\n", $1, $2, $3 }' "$work/after.tsv"
if ((!after_only)); then
    echo
    echo "== needed consent before, no longer"
    join -t $'\t' <(awk -F'\t' '$3 != "" { print $1 " " $2 "\t" $3 }' "$work/before.tsv" | sort) \
                  <(awk -F'\t' '$3 == "" { print $1 " " $2 "\t" }' "$work/after.tsv" | sort) |
        awk -F'\t' '{ printf "%s: %s\n", $1, $2 }'
    echo
    echo "== needing consent now, not before"
    join -t $'\t' <(awk -F'\t' '$3 == "" { print $1 " " $2 "\t" }' "$work/before.tsv" | sort) \
                  <(awk -F'\t' '$3 != "" { print $1 " " $2 "\t" $3 }' "$work/after.tsv" | sort) |
        awk -F'\t' '{ printf "%s: %s\n", $1, $3 }'
fi
