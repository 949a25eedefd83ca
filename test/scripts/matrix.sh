#!/usr/bin/env bash
#
# matrix.sh -- the tests against another Debian release's own PostgreSQL, in a
#              throwaway root
#
# usage: bash test/scripts/matrix.sh SUITE
#
#   SUITE   a Debian suite: trixie (Debian 13, PostgreSQL 17), forky (Debian
#           testing, PostgreSQL 18), bookworm (Debian 12, PostgreSQL 15)
#
# Makes (or reuses) a minimal root of SUITE with debootstrap, copies the
# checkout to /root/fleetmigrate inside it (a 0700 home, as on a fresh machine
# set up by root) and ../shared/corpora to /root/shared/corpora, then runs
# test/scripts/check.sh there as root: it installs that release's PostgreSQL
# and tools from Debian's mirror, builds, starts a cluster as the OS user
# postgres and runs the tests.  By default those are pg_regress, the
# isolation specs and test/t/checksums.sh; FM_MATRIX_SUITES=all runs the
# whole suite (but the matrix itself), as on a fresh machine of that release.  With FM_MATRIX_USER=NAME the tests run instead as NAME, a sudo
# user with a 0700 home, from /home/NAME/fleetmigrate.
#
# Every "test ..." line of the run is printed with the suite in front, and the
# last line is the run's own summary "N passed, N failed[, N skipped]"; the
# exit status is non-zero when anything failed.  Needs root (or sudo): it
# runs debootstrap, mount and chroot.
#
# Environment: FM_MATRIX_DIR (where the roots live, default
# /var/tmp/fleetmigrate-matrix; a root is reused while its packages are
# there), FM_MATRIX_FRESH=1 (make the root again), FM_MATRIX_SUITES,
# FM_MATRIX_USER, FM_MIRROR (default http://deb.debian.org/debian), FM_LOG_DIR
# (where to copy the run's logs), FM_SHARED (see common.sh).

set -uo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

suite=${1:-}
[[ $suite =~ ^[a-z]+$ ]] || fm_die "usage: bash test/scripts/matrix.sh SUITE (trixie, forky, bookworm)"
if [[ $EUID -ne 0 ]]; then
    fm_check_root_access || exit 1
    exec sudo --preserve-env=FM_MATRIX_DIR,FM_MATRIX_FRESH,FM_MATRIX_SUITES,FM_MATRIX_USER,FM_MIRROR,FM_LOG_DIR,FM_SHARED \
        bash "$0" "$@"
fi

matrix_dir=${FM_MATRIX_DIR:-/var/tmp/fleetmigrate-matrix}
root=$matrix_dir/$suite
mirror=${FM_MIRROR:-http://deb.debian.org/debian}
user=${FM_MATRIX_USER:-}
if [[ -n "$user" && ! $user =~ ^[a-z][a-z0-9_-]*$ ]]; then
    fm_die "FM_MATRIX_USER must be a plain user name: $user"
fi
if [[ "${FM_MATRIX_SUITES:-}" == all ]]; then
    # everything but a matrix inside the matrix
    inner_env=(FM_SUITES="regress isolation tap shell")
else
    inner_env=(FM_SUITES="regress isolation shell" FM_SHELL_TESTS=checksums.sh)
fi

report_failure() {
    printf 'test %s/set-up ... FAILED: %s\n' "$suite" "$1"
    printf '0 passed, 1 failed\n'
    exit 1
}

unmount_root() {
    local m
    for m in "$root/dev" "$root/proc"; do
        if mountpoint -q "$m" 2>/dev/null; then
            umount -R -l "$m" 2>/dev/null || true
        fi
    done
}

# The root: debootstrap once, then reused while it is marked ready.
make_root() {
    local script=
    unmount_root
    rm -rf "$root" || return 1
    mkdir -p "$matrix_dir" || return 1
    # A host whose debootstrap predates SUITE (Debian 12 does not know
    # forky) builds it with the script for the testing suite, sid's.
    if [[ ! -e /usr/share/debootstrap/scripts/$suite ]]; then
        script=/usr/share/debootstrap/scripts/sid
    fi
    fm_log "matrix: debootstrap --variant=minbase $suite $root"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" ${script:+"$script"} \
        >"$matrix_dir/$suite-debootstrap.log" 2>&1 || {
        tail -n 20 "$matrix_dir/$suite-debootstrap.log"
        return 1
    }
    # Testing's Release file on the mirror is sometimes past its Valid-Until
    # date; this root is for tests and thrown away.
    printf 'Acquire::Check-Valid-Until "false";\n' >"$root/etc/apt/apt.conf.d/99fleetmigrate-matrix"
    # No service starts inside the root (postgresql's own cluster included).
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    touch "$root/.fleetmigrate-matrix-root"
}

# The only reason to skip lies outside the machine: Debian's mirror cannot
# be reached (to make the root, or to install packages into it).
mirror_reachable() {
    local host=${mirror#*://} port=80
    [[ $mirror == https://* ]] && port=443
    host=${host%%/*}
    timeout 20 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}
if ! mirror_reachable; then
    printf 'test %s/set-up ... skipped: Debian'"'"'s mirror %s is not reachable from this machine\n' "$suite" "$mirror"
    printf '0 passed, 0 failed, 1 skipped\n'
    exit 0
fi

if [[ "${FM_MATRIX_FRESH:-0}" == 1 || ! -e "$root/.fleetmigrate-matrix-root" ]]; then
    if ! command -v debootstrap >/dev/null; then
        fm_log "matrix: installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap </dev/null >/dev/null 2>&1 ||
            report_failure "cannot install debootstrap"
    fi
    make_root || report_failure "debootstrap $suite failed"
fi

trap unmount_root EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc" || report_failure "cannot mount $root/proc"
if ! mountpoint -q "$root/dev"; then
    mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" || report_failure "cannot mount $root/dev"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null

# The checkout and the corpora, where a fresh machine would have them.
if [[ -n "$user" ]]; then
    home=/home/$user
    if ! chroot "$root" id "$user" >/dev/null 2>&1; then
        chroot "$root" useradd --create-home --shell /bin/bash "$user" || report_failure "cannot create user $user"
    fi
    # sudo, without a password, as a sudo user set up by an administrator
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo </dev/null >/dev/null 2>&1 ||
        { chroot "$root" apt-get update -q >/dev/null 2>&1 &&
            chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo </dev/null >/dev/null 2>&1; } ||
        report_failure "cannot install sudo"
    printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$user" >"$root/etc/sudoers.d/fleetmigrate-matrix"
    chmod 0440 "$root/etc/sudoers.d/fleetmigrate-matrix"
else
    home=/root
fi
chmod 0700 "$root$home"
rm -rf "$root$home/fleetmigrate" "$root$home/shared"
mkdir -p "$root$home/fleetmigrate"
(cd "$FM_ROOT" && tar cf - --exclude=./.git --exclude=./log --exclude=./tmp_check \
    --exclude=./results --exclude=./output_iso --exclude='*.o' --exclude='*.so' --exclude='*.bc' .) |
    (cd "$root$home/fleetmigrate" && tar xf -) || report_failure "cannot copy the checkout"
if [[ -d "$FM_SHARED/corpora" ]]; then
    mkdir -p "$root$home/shared"
    cp -R "$FM_SHARED/corpora" "$root$home/shared/" || report_failure "cannot copy the corpora"
fi
if [[ -n "$user" ]]; then
    chroot "$root" chown -R "$user:" "$home/fleetmigrate" "$home/shared" 2>/dev/null
    as_user=(runuser -u "$user" --)
else
    as_user=()
fi

fm_log "matrix: check.sh in $root as ${user:-root} (${FM_MATRIX_SUITES:-regress, isolation, checksums})"
out=$matrix_dir/$suite-check.out
chroot "$root" "${as_user[@]}" env -i HOME="$home" USER="${user:-root}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${inner_env[@]}" FM_PORT=54339 \
    bash "$home/fleetmigrate/test/scripts/check.sh" </dev/null >"$out" 2>&1
rc=$?

if [[ -n "${FM_LOG_DIR:-}" ]]; then
    rm -rf "$FM_LOG_DIR" && mkdir -p "$FM_LOG_DIR" &&
        cp -R "$root$home/fleetmigrate/log/check/." "$FM_LOG_DIR/" 2>/dev/null
    cp "$out" "$FM_LOG_DIR/check.out"
fi

# Everything it printed, each test's line as "test SUITE/name ... ok" (or
# FAILED; pg_regress 16 and later print "ok N - name"); its summary line last.
summary=$(tail -n 1 "$out")
sed -E -e '$d' \
    -e "s|^ok +[0-9]+ +[-+] +([^ ]+).*|test $suite/\\1 ... ok|" \
    -e "s|^not ok +[0-9]+ +[-+] +([^ ]+).*|test $suite/\\1 ... FAILED|" \
    -e "s|^test |test $suite/|" -e "s|^test $suite/$suite/|test $suite/|" "$out"
if [[ $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed ]]; then
    printf '%s\n' "$summary"
else
    printf '%s\n' "$summary"
    report_failure "check.sh in the $suite root ended without a summary line (exit $rc)"
fi
exit "$rc"
