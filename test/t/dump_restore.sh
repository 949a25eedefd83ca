#!/usr/bin/env bash
#
# dump_restore.sh -- the catalog and the history survive pg_dump / pg_restore
#
# Twice: as the superuser, and as a database owner who is not a superuser
# (hosted Postgres: the owner installs the trusted extension, dumps and
# restores its own database).  Registers and applies the FleetOS fixtures,
# dumps the database with pg_dump -Fc, restores it into a new database with
# pg_restore --exit-on-error and checks that
#   - fleetmigrate.status and fleetmigrate.history are identical,
#   - apply_pending() in the restored database has nothing to do,
#   - one more migration registers and applies there, and its history row
#     follows the restored ones (the id sequence was dumped too);
#   - the tiers as edited (a changed built-in tier, a new one), the users
#     table configuration and the tier audit trail are identical, and one
#     more upgrade there is audited after the restored rows.
#
# Needs a running server (PGHOST, PGPORT, ... as exported by common.sh).

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

pg_isready -q || fm_die "no server at PGHOST=$PGHOST PGPORT=$PGPORT (start one with common.sh's fm_start_cluster)"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

src=fm_dump_src
dst=fm_dump_dst
fixtures=$FM_ROOT/test/fixtures/fleetos
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status_sql='SELECT version, name, state, applied_at, applied_by, checksum_ok
              FROM fleetmigrate.status ORDER BY 1, 2'
history_sql='SELECT id, version, name, event, started_at, performed_by, checksum
               FROM fleetmigrate.history ORDER BY id'
tiers_sql='SELECT tier, rank, capabilities, description FROM fleetmigrate.tiers ORDER BY tier'
tier_config_sql='SELECT table_schema, table_name, id_column, tier_column, upgraded_at_column,
                        tier_changed_at_column, configured_at, configured_by
                   FROM fleetmigrate.tier_config'
tier_history_sql='SELECT id, user_id, from_tier, to_tier, reason, changed_by, changed_at
                    FROM fleetmigrate.user_tier_history ORDER BY id'
probe_user=00000000-0000-0000-0000-00000000d001

fail() {
    echo "FAIL: $*"
    exit 1
}

# scenario ROLE: the whole round trip, run by ROLE
scenario() {
    local PGUSER=$1
    export PGUSER
    echo "=== as $PGUSER"
    dropdb --if-exists "$src"
    dropdb --if-exists "$dst"
    createdb "$src"
    fm_psql -q -d "$src" -c 'CREATE EXTENSION fleetmigrate' -c 'CREATE EXTENSION fleetmigrate_tiers'
    bash "$FM_ROOT/test/scripts/register_dir.sh" "$fixtures" "$src"
    nfix=$(find "$fixtures" -maxdepth 1 -name '*.up.sql' | wc -l)
    applied=$(fm_psql -At -d "$src" -c "SELECT count(*) FROM fleetmigrate.apply_pending() WHERE status = 'applied'")
    [[ "$applied" == "$nfix" ]] || fail "apply_pending() applied $applied migrations in $src, expected $nfix"

    # The tiers: a built-in tier edited, a new one, the users table named
    # explicitly, one upgrade with its audit row.
    fm_psql -q -v ON_ERROR_STOP=1 -d "$src" \
        -c "UPDATE fleetmigrate.tiers SET capabilities = '{}' WHERE tier = 'MAGIC_LINK'" \
        -c "INSERT INTO fleetmigrate.tiers VALUES ('PARTNER', 30, '{can_view_requests}', 'A partner')" \
        -c "SELECT fleetmigrate.configure_user_table('public.users')" \
        -c "INSERT INTO public.users (id, email) VALUES ('$probe_user', 'dump@example.com')" \
        -c "SELECT fleetmigrate.upgrade_user_tier('$probe_user', 'AUTHENTICATED', 'dump test')" \
        >/dev/null || fail "setting up the tiers in $src failed"
    for what in tiers tier_config tier_history; do
        sql_var=${what}_sql
        fm_psql -At -d "$src" -c "${!sql_var}" >"$work/$what-src"
    done
    grep -q '^MAGIC_LINK|0|{}|' "$work/tiers-src" || fail "the edited MAGIC_LINK tier is not in $src"
    [[ $(wc -l <"$work/tier_history-src") == 1 ]] || fail "expected one tier audit row in $src"

    fm_psql -At -d "$src" -c "$status_sql" >"$work/status-src"
    fm_psql -At -d "$src" -c "$history_sql" >"$work/history-src"
    nstatus=$(wc -l <"$work/status-src")
    nhistory=$(wc -l <"$work/history-src")
    ((nstatus == nfix)) || fail "fleetmigrate.status has $nstatus rows, expected $nfix"
    ((nhistory >= nfix)) || fail "fleetmigrate.history has $nhistory rows, expected at least $nfix"
    echo "source: $nstatus migrations, $nhistory history events"

    pg_dump -Fc -f "$work/src.dump" "$src"
    createdb "$dst"
    pg_restore --exit-on-error -d "$dst" "$work/src.dump" || fail "pg_restore into $dst failed"
    echo "pg_dump -Fc $src | pg_restore --exit-on-error -d $dst: done"

    fm_psql -At -d "$dst" -c "$status_sql" >"$work/status-dst"
    fm_psql -At -d "$dst" -c "$history_sql" >"$work/history-dst"
    if ! diff -u --label "$src status" --label "$dst status" "$work/status-src" "$work/status-dst"; then
        fail "fleetmigrate.status differs after restore"
    fi
    if ! diff -u --label "$src history" --label "$dst history" "$work/history-src" "$work/history-dst"; then
        fail "fleetmigrate.history differs after restore"
    fi
    echo "restored: status ($nstatus rows) and history ($nhistory rows) identical"
    for what in tiers tier_config tier_history; do
        sql_var=${what}_sql
        fm_psql -At -d "$dst" -c "${!sql_var}" >"$work/$what-dst"
        if ! diff -u --label "$src $what" --label "$dst $what" "$work/$what-src" "$work/$what-dst"; then
            fail "fleetmigrate $what differs after restore"
        fi
    done
    echo "restored: tiers, tier_config and user_tier_history identical"
    upgraded=$(fm_psql -At -d "$dst" -c "SELECT fleetmigrate.upgrade_user_tier('$probe_user', 'ROBO_HUB', 'after restore')") ||
        fail "upgrade_user_tier() in the restored database raised an error"
    [[ "$upgraded" == t ]] || fail "upgrade_user_tier() in the restored database returned '$upgraded'"
    rows=$(fm_psql -At -d "$dst" -c "SELECT count(*), bool_and(id <= (SELECT max(id) FROM fleetmigrate.user_tier_history WHERE reason = 'after restore')) FROM fleetmigrate.user_tier_history")
    [[ "$rows" == "2|t" ]] || fail "tier audit trail after one more upgrade: '$rows', expected 2 rows, the new one last"
    echo "restored: one more upgrade is audited after the restored row"

    again=$(fm_psql -At -d "$dst" -c 'SELECT count(*) FROM fleetmigrate.apply_pending()')
    [[ "$again" == 0 ]] || fail "apply_pending() in the restored database returned $again rows, expected 0"
    echo "restored: apply_pending() returns no rows"

    # One more migration in the restored database.  Without the dumped sequence
    # its history row would collide with a restored id.
    maxid=$(fm_psql -At -d "$dst" -c 'SELECT max(id) FROM fleetmigrate.history')
    outcome=$(fm_psql -At -d "$dst" -c "SELECT fleetmigrate.register('999', 'dump_restore_probe',
        'CREATE TABLE public.fm_dump_restore_probe (id integer);',
        'DROP TABLE public.fm_dump_restore_probe;')") ||
        fail "register() of a new migration in the restored database raised an error"
    [[ "$outcome" == registered ]] || fail "register() in the restored database returned '$outcome'"
    probe=$(fm_psql -At -d "$dst" -c 'SELECT version, name, status FROM fleetmigrate.apply_pending()') ||
        fail "apply_pending() of a new migration in the restored database raised an error"
    [[ "$probe" == "999|dump_restore_probe|applied" ]] ||
        fail "apply_pending() of the new migration returned '$probe'"
    after=$(fm_psql -At -d "$dst" -c "SELECT count(*), max(id) FROM fleetmigrate.history")
    expected="$((nhistory + 1))|"
    [[ "$after" == "$expected"* ]] || fail "history after the new migration: '$after', expected $((nhistory + 1)) rows"
    newid=${after#*|}
    ((newid > maxid)) || fail "new history id $newid is not after the restored ones (max $maxid)"
    table=$(fm_psql -At -d "$dst" -c "SELECT to_regclass('public.fm_dump_restore_probe') IS NOT NULL")
    [[ "$table" == t ]] || fail "the new migration's table does not exist"
    state=$(fm_psql -At -d "$dst" -c \
        "SELECT state FROM fleetmigrate.status WHERE version = '999' AND name = 'dump_restore_probe'")
    [[ "$state" == applied ]] || fail "status of the new migration is '$state'"
    echo "restored: a new migration registers and applies (history id $newid after $maxid)"

    dropdb "$src"
    dropdb "$dst"
}

owner=fm_dump_owner
fm_psql -q -d postgres -c "DROP ROLE IF EXISTS $owner" -c "CREATE ROLE $owner LOGIN CREATEDB"
scenario postgres
scenario "$owner"
PGUSER=postgres fm_psql -q -d postgres -c "DROP ROLE $owner"
echo "dump_restore.sh: ok"
