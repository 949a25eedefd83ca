#!/usr/bin/env bash
# crash: the backend running CALL fleetmigrate.migrate() is killed with
# kill -9 in the middle of a migration.  After the server's crash restart:
# the migrations committed before are applied, the interrupted one is
# pending with none of its work left, fleetmigrate.runs shows the run as
# interrupted, no lock needs clearing, and the next run finishes the work.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

db=fm_t_crash
dropdb --if-exists "$db"
createdb "$db"
trap 'dropdb --if-exists "$db" 2>/dev/null || true' EXIT
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

fail=0

run -c "CREATE EXTENSION fleetmigrate" \
    -c "SELECT fleetmigrate.register('001', 'first', 'CREATE TABLE crash_first (id int)')" \
    -c "SELECT fleetmigrate.register('002', 'slow', \$\$CREATE TABLE crash_slow (id int);
INSERT INTO crash_slow VALUES (1);
SELECT pg_sleep(CASE WHEN current_setting('fm_test.slow', true) = 'on' THEN 60 ELSE 0 END);\$\$)" \
    -c "SELECT fleetmigrate.register('003', 'last', 'CREATE TABLE crash_last (id int)')" >/dev/null

# The throwaway cluster runs with synchronous_commit = off; the runner's
# session turns it on, so that a commit before the crash is a commit.
PGOPTIONS="-c synchronous_commit=on -c fm_test.slow=on" \
    psql -X -q -d "$db" -c "CALL fleetmigrate.migrate()" >/dev/null 2>&1 &
caller=$!
pid=
for _ in $(seq 100); do
    pid=$(run -c "SELECT pid FROM pg_stat_activity
                   WHERE query LIKE 'fleetmigrate: applying migration 002 slow%'")
    [[ -n "$pid" ]] && break
    sleep 0.1
done
[[ -n "$pid" ]] || { echo "FAIL: migration 002 never started"; exit 1; }
kill -9 "$pid"
wait "$caller" || true
for _ in $(seq 120); do
    pg_isready -q && run -c "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.5
done

fm_check "committed before the crash: applied; interrupted: pending; after: pending" \
    "001 applied,002 pending,003 pending" \
    "$(run -c "SELECT string_agg(version || ' ' || state, ',' ORDER BY version) FROM fleetmigrate.status")"
fm_check "none of the interrupted migration's work is left" "f" \
    "$(run -c "SELECT to_regclass('crash_slow') IS NOT NULL")"
fm_check "the run shows as interrupted" "interrupted|1" \
    "$(run -c "SELECT outcome, applied FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1")"

# No lock to clear: the next run (not waiting) gets the lock and finishes.
fm_check "the next run finishes the work" "2|succeeded" \
    "$(run -c "CALL fleetmigrate.migrate(wait => false)" | cut -d'|' -f2,3)"
fm_check "everything applied once" "001 applied,002 applied,003 applied|1" \
    "$(run -c "SELECT string_agg(version || ' ' || state, ',' ORDER BY version),
                      (SELECT count(*) FROM crash_slow) FROM fleetmigrate.status")"
exit $fail
