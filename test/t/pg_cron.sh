#!/usr/bin/env bash
# pg_cron: fleetmigrate.schedule() creates one job that applies a newly
# registered migration on its own (CALL fleetmigrate.migrate(), recorded in
# fleetmigrate.runs as started by pg_cron); calling it again updates the
# job; a bad cron expression is refused; unschedule() removes the job.
# pg_cron lives in the database named by cron.database_name ('postgres' in
# the throwaway cluster of test/scripts/common.sh), so this test works there
# and removes what it created.  pg_cron 1.4 (Debian 12) runs jobs at minute
# boundaries: the test waits up to 90 seconds.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

db=$(psql -X -At -d postgres -c "SHOW cron.database_name")
run() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@" 2>&1
}
cleanup() {
    psql -X -q -d "$db" -c "SELECT fleetmigrate.unschedule()" >/dev/null 2>&1 || true
    psql -X -q -d "$db" -c "DROP EXTENSION IF EXISTS fleetmigrate" \
        -c "DROP SCHEMA IF EXISTS fleetmigrate" -c "DROP TABLE IF EXISTS fm_cron_t" \
        -c "DROP EXTENSION IF EXISTS pg_cron" >/dev/null 2>&1 || true
}
cleanup
trap cleanup EXIT

fail=0

run -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION fleetmigrate" >/dev/null

job=$(run -c "SELECT fleetmigrate.schedule('* * * * *')")
[[ "$job" =~ ^[0-9]+$ ]] || { echo "schedule() returned [$job]"; exit 1; }
fm_check "the job runs migrate() in this database as this role" \
    "* * * * *|CALL fleetmigrate.migrate(started_by => 'pg_cron')|$db|postgres|t" \
    "$(run -c "SELECT schedule, command, database, username, active FROM cron.job WHERE jobid = $job")"
fm_check "scheduling again updates the same job" "$job" \
    "$(run -c "SELECT fleetmigrate.schedule('*/1 * * * *')")"
fm_check "one job" "1|*/1 * * * *" \
    "$(run -c "SELECT count(*), max(schedule) FROM cron.job WHERE jobname = 'fleetmigrate'")"
out=$(run -c "SELECT fleetmigrate.schedule('every now and then')" || true)
grep -q '^ERROR:  invalid schedule "every now and then"' <<<"$out" ||
    { echo "FAIL bad cron expression: $out"; fail=1; }

run -c "SELECT fleetmigrate.register('001', 'cron_table', 'CREATE TABLE fm_cron_t (id int)')" >/dev/null
state=
for _ in $(seq 90); do
    state=$(run -c "SELECT state FROM fleetmigrate.status WHERE version = '001'")
    [[ "$state" == applied ]] && break
    sleep 1
done
fm_check "pg_cron applied the new migration on its own" applied "$state"
fm_check "the run is in fleetmigrate.runs" "pg_cron|postgres|1|succeeded" \
    "$(run -c "SELECT started_by, run_by, applied, outcome FROM fleetmigrate.runs WHERE applied > 0 ORDER BY id LIMIT 1")"
fm_check "the table exists" "t" "$(run -c "SELECT to_regclass('fm_cron_t') IS NOT NULL")"

fm_check "unschedule() removes the job" "t" "$(run -c "SELECT fleetmigrate.unschedule()")"
fm_check "no job left" "0" "$(run -c "SELECT count(*) FROM cron.job WHERE jobname = 'fleetmigrate'")"
fm_check "unschedule() again: nothing to remove" "f" "$(run -c "SELECT fleetmigrate.unschedule()")"
exit $fail
