#!/usr/bin/env bash
#
# demo.sh -- install, build, start a throwaway cluster and apply the FleetOS example
#
# usage: bash test/scripts/demo.sh
#
# Installs the packages, builds and installs fleetmigrate, starts a fresh
# throwaway cluster (see common.sh), creates the database fleetmigrate_demo,
# registers test/fixtures/fleetos/ with register_dir.sh, applies everything
# pending and shows fleetmigrate.status.  The cluster stays up afterwards.
# Re-runnable: every run starts from a new cluster.
#
# Environment: FM_PORT, FM_CLUSTER_DIR (see common.sh).

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

db=fleetmigrate_demo
fixtures=$FM_ROOT/test/fixtures/fleetos

fm_install_packages
fm_build_install
fm_start_cluster

fm_log "demo: database $db"
PGOPTIONS="-c client_min_messages=warning" fm_psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
fm_psql -q -d "$db" -c 'CREATE EXTENSION fleetmigrate'

fm_log "demo: registering $fixtures"
bash "$FM_ROOT/test/scripts/register_dir.sh" "$fixtures" "$db"

fm_log "demo: SELECT * FROM fleetmigrate.apply_pending();"
fm_psql -d "$db" -c 'SELECT * FROM fleetmigrate.apply_pending();'

fm_log "demo: SELECT * FROM fleetmigrate.status;"
fm_psql -d "$db" -c 'SELECT * FROM fleetmigrate.status;'

cat <<EOF

The cluster is still running.
  connect: PGHOST=$PGHOST PGPORT=$PGPORT psql -U postgres $db
  stop:    $(fm_stop_command)
EOF
