# shellcheck shell=bash
#
# common.sh -- shared set-up for the README's two commands and the shell tests
#
# Sourced by test/scripts/demo.sh, test/scripts/check.sh, test/scripts/register_dir.sh
# and test/t/*.sh.  Sourcing only defines functions and exports the environment
# below; nothing is installed or started until a function is called.  Safe to
# source more than once and under "set -euo pipefail".
#
# Functions:
#   fm_install_packages  apt-get install the build and test dependencies
#                        (skipped entirely when dpkg says they are all there)
#   fm_build_install     make, then make install, with FM_PG_CONFIG
#   fm_start_cluster     (re)create and start a throwaway cluster
#   fm_stop_cluster      stop it (the data stay until the next start)
#   fm_server_log_tail   print the end of the server log
#   fm_psql              psql -X -v ON_ERROR_STOP=1 with the exported settings
#
# The throwaway cluster: data in $FM_CLUSTER_DIR/data, socket and server log in
# $FM_CLUSTER_DIR, no TCP (listen_addresses = ''), trust authentication.  The
# server never runs as root: when these scripts run as root it runs as the OS
# user "postgres" (created by Debian's package) or, failing that, "fleetmigrate".
# Clients (psql, pg_regress, pg_dump) run as the invoking user.  No trap is
# registered here: the caller decides when the cluster stops.

if [[ -n "${FM_COMMON_SOURCED:-}" ]]; then
    return 0
fi
FM_COMMON_SOURCED=1

# The PostgreSQL major version: the distribution's own (Debian 12 ships 15,
# Debian 13 ships 17, Debian testing 18), or FM_PG_VERSION, or the version of
# FM_PG_BINDIR when that is given.
fm_distribution_pg_version() {
    local codename=
    if [[ -r /etc/os-release ]]; then
        codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    fi
    case $codename in
        bookworm) echo 15; return 0 ;;
        trixie) echo 17; return 0 ;;
        forky) echo 18; return 0 ;;
    esac
    # another Debian release: the version its "postgresql" package depends on
    apt-cache depends postgresql 2>/dev/null |
        sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1
}

if [[ -z "${FM_PG_VERSION:-}" && -n "${FM_PG_BINDIR:-}" && -x "$FM_PG_BINDIR/pg_config" ]]; then
    FM_PG_VERSION=$("$FM_PG_BINDIR/pg_config" --version | sed -n 's/^PostgreSQL \([0-9][0-9]*\).*/\1/p')
fi
FM_PG_VERSION=${FM_PG_VERSION:-$(fm_distribution_pg_version)}
if [[ -z "$FM_PG_VERSION" ]]; then
    printf 'error: cannot tell which PostgreSQL version this distribution ships; set FM_PG_VERSION (15, 17 or 18)\n' >&2
    return 1 2>/dev/null || exit 1
fi
FM_PG_BINDIR=${FM_PG_BINDIR:-/usr/lib/postgresql/$FM_PG_VERSION/bin}
FM_PG_CONFIG=$FM_PG_BINDIR/pg_config

# The repository root is two levels above this file; the shared folder sits
# beside the repository unless the environment says otherwise.
FM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FM_SHARED=${FM_SHARED:-$FM_ROOT/../shared}
if [[ -d "$FM_SHARED" ]]; then
    FM_SHARED=$(cd "$FM_SHARED" && pwd)
fi
FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-cluster}
FM_PORT=${FM_PORT:-54329}
FM_DATA_DIR=$FM_CLUSTER_DIR/data
FM_SERVER_LOG=$FM_CLUSTER_DIR/server.log

case ":$PATH:" in
    ":$FM_PG_BINDIR:"*) ;;
    *) PATH=$FM_PG_BINDIR:$PATH ;;
esac
# runuser and useradd live in /usr/sbin, which a CI shell may not have.
case ":$PATH:" in
    *:/usr/sbin:*) ;;
    *) PATH=$PATH:/usr/sbin:/sbin ;;
esac

PGHOST=$FM_CLUSTER_DIR
PGPORT=$FM_PORT
PGUSER=postgres
PGDATABASE=postgres
export PATH PGHOST PGPORT PGUSER PGDATABASE
export FM_ROOT FM_SHARED FM_CLUSTER_DIR FM_PORT FM_DATA_DIR FM_SERVER_LOG FM_PG_CONFIG FM_PG_VERSION FM_PG_BINDIR

# Packages a fresh Debian 12 or 13 needs.  The contrib modules the tests use
# (pg_trgm, btree_gin, citext, uuid-ossp) ship inside postgresql-NN; libpq-dev
# has the libpq header and library the module links (src/remote.c).
FM_PACKAGES=(
    gcc make libc6-dev
    "postgresql-$FM_PG_VERSION" "postgresql-server-dev-$FM_PG_VERSION"
    libpq-dev
    "postgresql-$FM_PG_VERSION-cron"
    perl libipc-run-perl ca-certificates util-linux procps
)
# Installed too when FM_WITH_ANALYSIS=1 (check.sh sets it when it runs
# test/t/static_analysis.sh).
FM_ANALYSIS_PACKAGES=(cppcheck clang-tidy)

fm_log() {
    printf '== %s\n' "$*" >&2
}

fm_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
fm_as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        printf 'error: "%s" needs root: run this script as root or install and configure sudo\n' "$*" >&2
        return 1
    fi
}

# Fail early, with one clear message, when root is needed and unavailable.
fm_check_root_access() {
    [[ $EUID -eq 0 ]] && return 0
    if ! command -v sudo >/dev/null 2>&1; then
        printf 'error: not running as root and sudo is not installed; run as root or as a sudo user\n' >&2
        return 1
    fi
    if ! sudo -n true 2>/dev/null && [[ ! -t 0 ]]; then
        printf 'error: sudo needs a password but there is no terminal to ask for it\n' >&2
        return 1
    fi
}

fm_missing_packages() {
    local pkg status pkgs=("${FM_PACKAGES[@]}")
    [[ "${FM_WITH_ANALYSIS:-0}" == 1 ]] && pkgs+=("${FM_ANALYSIS_PACKAGES[@]}")
    for pkg in "${pkgs[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
        [[ "$status" == ii* ]] || printf '%s\n' "$pkg"
    done
}

fm_install_packages() {
    local missing
    missing=$(fm_missing_packages)
    if [[ -z "$missing" ]]; then
        fm_log "packages: all present"
        return 0
    fi
    # shellcheck disable=SC2086
    fm_log "packages: installing" $missing
    fm_check_root_access || return 1

    # Installing postgresql-NN would create and start a cluster "NN/main" on
    # port 5432.  We never use it, so ask postgresql-common not to create it
    # (only when the server package is not installed yet).
    if ! dpkg-query -W -f='${db:Status-Abbrev}' "postgresql-$FM_PG_VERSION" 2>/dev/null | grep -q '^ii'; then
        fm_as_root mkdir -p /etc/postgresql-common/createcluster.d || return 1
        printf '# written by fleetmigrate test/scripts/common.sh\ncreate_main_cluster = false\n' |
            fm_as_root tee /etc/postgresql-common/createcluster.d/fleetmigrate.conf >/dev/null || return 1
    fi

    # apt's output goes to a log, shown when something fails.
    local log=${TMPDIR:-/tmp}/fleetmigrate-apt.log
    fm_log "packages: apt-get update && apt-get install (log: $log)"
    fm_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >"$log" 2>&1 || {
        tail -n 40 "$log" >&2
        printf 'error: apt-get update failed (log: %s)\n' "$log" >&2
        return 1
    }
    # shellcheck disable=SC2086
    fm_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $missing </dev/null >>"$log" 2>&1 || {
        tail -n 40 "$log" >&2
        printf 'error: apt-get install failed (log: %s)\n' "$log" >&2
        return 1
    }
    missing=$(fm_missing_packages)
    if [[ -n "$missing" ]]; then
        printf 'error: still missing after apt-get install: %s\n' "$missing" >&2
        return 1
    fi
    [[ -x "$FM_PG_CONFIG" ]] || {
        printf 'error: %s not found after installing packages\n' "$FM_PG_CONFIG" >&2
        return 1
    }
}

# make, then make install.  -s keeps the output to what matters (compiler
# warnings and errors still show).  PG_CONFIG is passed explicitly because sudo
# resets PATH.
fm_build_install() {
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    fm_log "build: make -C $FM_ROOT"
    make -s -j"$jobs" -C "$FM_ROOT" PG_CONFIG="$FM_PG_CONFIG" || {
        printf 'error: make failed\n' >&2
        return 1
    }
    fm_log "build: make -C $FM_ROOT install"
    if [[ $EUID -ne 0 ]]; then
        fm_check_root_access || return 1
    fi
    fm_as_root make -s -C "$FM_ROOT" PG_CONFIG="$FM_PG_CONFIG" install >/dev/null || {
        printf 'error: make install failed\n' >&2
        return 1
    }
}

# The OS user the server runs as.
fm_server_user() {
    if [[ $EUID -ne 0 ]]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        echo fleetmigrate
    fi
}

# Run a server-side command (initdb, pg_ctl) as the server user, from "/" so
# that an unreadable current directory does not matter.
fm_as_server() {
    local user=$1
    shift
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u "$user" -- "$@")
    else
        (cd / && "$@")
    fi
}

# Stop whatever runs in $FM_DATA_DIR, as the owner of that directory.
fm_stop_cluster() {
    local owner
    [[ -f "$FM_DATA_DIR/postmaster.pid" ]] || return 0
    owner=$(stat -c %U "$FM_DATA_DIR")
    fm_log "cluster: stopping $FM_DATA_DIR"
    fm_as_server "$owner" "$FM_PG_BINDIR/pg_ctl" -D "$FM_DATA_DIR" -m "${1:-fast}" -w stop >/dev/null
}

fm_server_log_tail() {
    local lines=${1:-50}
    if [[ -r "$FM_SERVER_LOG" ]]; then
        printf -- '--- last %s lines of %s ---\n' "$lines" "$FM_SERVER_LOG"
        tail -n "$lines" "$FM_SERVER_LOG"
        printf -- '--- end of server log ---\n'
    fi
}

fm_start_cluster() {
    local user marker=$FM_CLUSTER_DIR/.fleetmigrate-cluster
    user=$(fm_server_user)

    case "$FM_CLUSTER_DIR" in
        /*) ;;
        *) printf 'error: FM_CLUSTER_DIR must be an absolute path: %s\n' "$FM_CLUSTER_DIR" >&2; return 1 ;;
    esac
    if [[ "$FM_CLUSTER_DIR" =~ [\'[:space:]] ]]; then
        printf 'error: FM_CLUSTER_DIR must not contain quotes or spaces: %s\n' "$FM_CLUSTER_DIR" >&2
        return 1
    fi
    # The socket path (dir + "/.s.PGSQL.<port>") must fit in sun_path.
    if (( ${#FM_CLUSTER_DIR} + 20 > 107 )); then
        printf 'error: FM_CLUSTER_DIR is too long for a unix socket path: %s\n' "$FM_CLUSTER_DIR" >&2
        return 1
    fi

    # A previous throwaway cluster of ours: stop it and wipe it.  Anything else
    # in that place is left alone.
    if [[ -e "$FM_CLUSTER_DIR" ]]; then
        if [[ -f "$marker" ]]; then
            fm_stop_cluster immediate || {
                printf 'error: could not stop the previous cluster in %s\n' "$FM_DATA_DIR" >&2
                return 1
            }
            rm -rf "$FM_CLUSTER_DIR" || {
                printf 'error: could not remove %s (created by another user?)\n' "$FM_CLUSTER_DIR" >&2
                return 1
            }
        elif [[ -n "$(ls -A "$FM_CLUSTER_DIR" 2>/dev/null)" ]]; then
            printf 'error: %s exists, is not empty and was not made by these scripts; set FM_CLUSTER_DIR elsewhere\n' \
                "$FM_CLUSTER_DIR" >&2
            return 1
        fi
    fi

    if [[ $EUID -eq 0 ]] && ! id "$user" >/dev/null 2>&1; then
        fm_log "cluster: creating OS user $user to run the server"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$user" || return 1
    fi

    mkdir -p "$FM_CLUSTER_DIR" || return 1
    touch "$marker" || return 1
    chmod 0755 "$FM_CLUSTER_DIR" || return 1
    if [[ $EUID -eq 0 ]]; then
        chown "$user:" "$FM_CLUSTER_DIR" "$marker" || return 1
        if ! runuser -u "$user" -- test -w "$FM_CLUSTER_DIR"; then
            printf 'error: OS user %s cannot write %s (is a parent directory private?)\n' \
                "$user" "$FM_CLUSTER_DIR" >&2
            return 1
        fi
    fi

    fm_log "cluster: initdb $FM_DATA_DIR (server runs as $user, port $FM_PORT)"
    if ! fm_as_server "$user" "$FM_PG_BINDIR/initdb" -D "$FM_DATA_DIR" -U postgres --auth=trust \
        -E UTF8 --locale=C --no-instructions >"$FM_CLUSTER_DIR/initdb.log" 2>&1; then
        cat "$FM_CLUSTER_DIR/initdb.log" >&2
        printf 'error: initdb failed\n' >&2
        return 1
    fi

    cat >>"$FM_DATA_DIR/postgresql.conf" <<EOF || return 1

# ---- fleetmigrate throwaway test cluster (test/scripts/common.sh) ----
port = $FM_PORT
listen_addresses = ''
unix_socket_directories = '$FM_CLUSTER_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# pg_cron reaches the server through libpq; there is no TCP here
cron.host = '$FM_CLUSTER_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
max_prepared_transactions = 10
max_worker_processes = 16
log_min_messages = warning
EOF

    fm_log "cluster: starting (log: $FM_SERVER_LOG)"
    if ! fm_as_server "$user" "$FM_PG_BINDIR/pg_ctl" -D "$FM_DATA_DIR" -l "$FM_SERVER_LOG" \
        -w -t 120 start >/dev/null; then
        fm_server_log_tail 40 >&2
        printf 'error: the server did not start\n' >&2
        return 1
    fi
    if ! "$FM_PG_BINDIR/pg_isready" -q; then
        fm_server_log_tail 40 >&2
        printf 'error: server started but does not accept connections on %s port %s\n' \
            "$PGHOST" "$PGPORT" >&2
        return 1
    fi
}

# fm_copy_for_server SRC DEST: a copy of the folder SRC at DEST that the
# server's OS user can read.  The checkout (and ../shared beside it) may sit
# in a home the server cannot enter, so nothing the server reads is read in
# place.  DEST is replaced.
fm_copy_for_server() {
    local src=$1 dest=$2
    rm -rf "$dest" && mkdir -p "$dest" && cp -R "$src/." "$dest" && chmod -R a+rX "$dest" || {
        printf 'error: cannot copy %s to %s for the server\n' "$src" "$dest" >&2
        return 1
    }
}

# How a human stops the cluster (printed by demo.sh).
fm_stop_command() {
    local user
    user=$(fm_server_user)
    if [[ $EUID -eq 0 ]]; then
        printf 'runuser -u %s -- %s/pg_ctl -D %s stop' "$user" "$FM_PG_BINDIR" "$FM_DATA_DIR"
    else
        printf '%s/pg_ctl -D %s stop' "$FM_PG_BINDIR" "$FM_DATA_DIR"
    fi
}

fm_psql() {
    "$FM_PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 "$@"
}

# fm_check DESCRIPTION EXPECTED ACTUAL: for test/t scripts.  Prints
# "ok   DESCRIPTION", or "FAIL ..." with both values and sets the caller's
# variable fail to 1.
fm_check() {
    if [[ "$2" != "$3" ]]; then
        printf 'FAIL %s: expected [%s], got [%s]\n' "$1" "$2" "$3"
        fail=1
    else
        printf 'ok   %s\n' "$1"
    fi
}

# fm_corpus_skips CORPUS: for test/t scripts, the files of a corpus in
# $FM_SHARED/corpora that registering it leaves out, one per line.
# ory-kratos: the ups that plain psql and apply_pending() can only run
# outside a transaction.  harness-gitness: one down script is MySQL syntax
# (DROP INDEX ... ON jobs); register() rejects a script that does not parse,
# whichever script it is, so that migration is registered without its down.
fm_corpus_skips() {
    case "$1" in
        ory-kratos)
            echo 20260616000000000000_courier_messages_restore_list_index.postgres.autocommit.up.sql
            echo 20260703000000000000_courier_messages_status_created_at_idx.postgres.autocommit.up.sql
            ;;
        harness-gitness)
            echo 0029_create_index_job_job_group_id_down.sql
            ;;
    esac
}
