#!/usr/bin/env bash
# notices: apply_pending() sends one NOTICE per applied migration,
# "applied VERSION NAME in N ms", as it goes, and none when nothing is pending.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

db=fm_t_notices
dropdb --if-exists "$db"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT

run() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@" 2>&1
}

run -c "CREATE EXTENSION fleetmigrate" \
    -c "SELECT fleetmigrate.register('001', 'core_schema', 'CREATE TABLE users (id int)')" \
    -c "SELECT fleetmigrate.register('003', 'viral_analytics', 'CREATE TABLE viral_events (id int); SELECT pg_sleep(0.05)')" >/dev/null

out=$(run -c "SELECT count(*) FROM fleetmigrate.apply_pending()")
printf '%s\n' "$out"
notices=$(grep '^NOTICE:' <<<"$out" || true)

fail=0
[[ $(grep -c . <<<"$notices") -eq 2 ]] || { echo "expected 2 notices"; fail=1; }
grep -Eq '^NOTICE:  applied 001 core_schema in [0-9]+ ms$' <<<"$notices" ||
    { echo "no notice for 001"; fail=1; }
line=$(grep -E '^NOTICE:  applied 003 viral_analytics in [0-9]+ ms$' <<<"$notices" || true)
[[ -n "$line" ]] || { echo "no notice for 003"; fail=1; }
# the migration slept 50 ms: the reported time must include it
ms=$(sed -E 's/.* in ([0-9]+) ms$/\1/' <<<"$line")
[[ -n "$ms" && "$ms" -ge 50 ]] || { echo "duration $ms ms does not include the 50 ms sleep"; fail=1; }
# the notice for 001 comes before the one for 003
[[ $(head -n1 <<<"$notices") == *"001 core_schema"* ]] || { echo "notices out of order"; fail=1; }

out=$(run -c "SELECT count(*) FROM fleetmigrate.apply_pending()")
if grep -q '^NOTICE:' <<<"$out"; then
    echo "a call with nothing pending sent notices: $out"
    fail=1
fi
exit $fail
