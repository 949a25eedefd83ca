#!/usr/bin/env bash
# concurrent_runners: eight sessions calling CALL fleetmigrate.migrate() and
# fleetmigrate.apply_pending() at once, over 50 rounds of new migrations,
# each migration inserting one row into a ledger: every migration is applied
# exactly once (ledger rows = migrations, no duplicate), no session fails,
# and every run in fleetmigrate.runs finished.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

db=fm_t_concurrent_runners
rounds=50
sessions=8
dropdb --if-exists "$db"
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db"; rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -c "CREATE EXTENSION fleetmigrate" \
    -c "CREATE TABLE ledger (version text PRIMARY KEY, applied_by_pid int)" >/dev/null

# Each round: register one new migration, then start all sessions at once
# (odd ones CALL migrate(), even ones apply_pending()) and wait for them.
fail=0
for ((r = 1; r <= rounds; r++)); do
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SELECT fleetmigrate.register('$(printf %03d "$r")', 'ledger_$r',
        'INSERT INTO ledger VALUES (''$(printf %03d "$r")'', pg_backend_pid())')" >/dev/null
    pids=()
    for ((s = 1; s <= sessions; s++)); do
        if ((s % 2)); then
            sql="CALL fleetmigrate.migrate()"
        else
            sql="SELECT count(*) FROM fleetmigrate.apply_pending()"
        fi
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "$sql" >>"$work/s$s.out" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail=1; done
done

if grep -h '^ERROR' "$work"/*.out; then
    echo "FAIL: a session failed"
    fail=1
fi
result=$(psql -X -At -d "$db" -c "
    SELECT (SELECT count(*) FROM ledger) || '|' ||
           (SELECT count(DISTINCT version) FROM ledger) || '|' ||
           (SELECT count(*) FROM fleetmigrate.status WHERE state = 'applied') || '|' ||
           (SELECT count(*) FROM fleetmigrate.history WHERE event = 'applied') || '|' ||
           (SELECT count(*) FROM fleetmigrate.runs WHERE outcome NOT IN ('succeeded', 'nothing_pending'))")
echo "ledger rows|distinct|applied|applied events|unfinished or failed runs: $result"
[[ "$result" == "$rounds|$rounds|$rounds|$rounds|0" ]] || { echo "FAIL: expected $rounds|$rounds|$rounds|$rounds|0"; fail=1; }
exit $fail
