#!/usr/bin/env bash
#
# lint_corpora.sh -- lint() over the real-world corpora in $FM_SHARED/corpora/
#
# For every corpus (a folder with ORDER-up.txt): a fresh database, its
# PREAMBLE.sql, CREATE EXTENSION fleetmigrate, register_dir.sh; then, in
# apply order, each migration is linted as the database is just before it
# runs (so "existing table" means what the earlier migrations created) and
# applied (allow_destructive => true: these are reviewed upstream
# migrations).  Asserts:
#   - every registered migration was linted and applied;
#   - no finding of severity error outside the rules that mean data loss
#     (destructive.*) or a broken migration (structure.transaction_control):
#     statements that are safe get no error;
# Prints each corpus's findings by rule and severity (README's worked
# example).  ory-kratos's two CREATE INDEX CONCURRENTLY ups are left out,
# as in corpus.sh: they cannot run inside the transaction this test uses.
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
pg_isready -q || fm_die "no server at PGHOST=$PGHOST PGPORT=$PGPORT"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

status=0
ncorpora=0
for dir in "$corpora"/*/; do
    dir=${dir%/}
    [[ -f "$dir/ORDER-up.txt" ]] || continue
    corpus=$(basename "$dir")
    ncorpora=$((ncorpora + 1))
    db=fm_lint_${corpus//[^A-Za-z0-9]/_}
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

    # Lint each migration just before it runs, then apply it.
    fm_psql -q -d "$db" <<'SQL'
CREATE TABLE lint_findings AS
SELECT ''::text AS version, ''::text AS name, l.*
  FROM fleetmigrate.lint('') l;
DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT s.version, s.name, g.up
               FROM fleetmigrate.status s
               JOIN fleetmigrate.migrations g USING (version, name)
              ORDER BY s.repeatable, g.sort_key, s.version COLLATE "C", s.name COLLATE "C"
    LOOP
        INSERT INTO lint_findings
        SELECT m.version, m.name, l.* FROM fleetmigrate.lint(m.up) l;
        PERFORM fleetmigrate.apply_pending(target => m.version, allow_destructive => true);
    END LOOP;
END
$$;
SQL
    registered=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM fleetmigrate.status")
    applied=$(fm_psql -At -d "$db" -c "SELECT count(*) FROM fleetmigrate.status WHERE state = 'applied'")
    echo "=== $corpus: $registered migrations linted and applied ($applied applied)"
    if [[ "$registered" != "$applied" || "$registered" == 0 ]]; then
        echo "FAIL $corpus: $applied of $registered migrations applied"
        status=1
    fi

    fm_psql -d "$db" -c "
SELECT rule, severity, count(*) AS findings, count(DISTINCT version || name) AS migrations
  FROM lint_findings GROUP BY 1, 2 ORDER BY 2, 1"

    bad=$(fm_psql -At -d "$db" -c "
SELECT version || ' ' || name || ', statement ' || statement || ': ' || rule || ': ' || message
  FROM lint_findings
 WHERE severity = 'error'
   AND rule NOT LIKE 'destructive.%' AND rule <> 'structure.transaction_control'")
    if [[ -n "$bad" ]]; then
        echo "FAIL $corpus: errors outside the data-loss rules:"
        echo "$bad"
        status=1
    fi
    fm_psql -q -d postgres -c "DROP DATABASE $db"
done

if [[ $ncorpora -eq 0 ]]; then
    echo "skipped: no corpus with ORDER-up.txt in $corpora"
    exit 77
fi
exit $status
