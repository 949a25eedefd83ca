#!/usr/bin/env bash
#
# check.sh -- install, build, start a throwaway cluster and run every test
#
# usage: bash test/scripts/check.sh
#
# 1. make installcheck: the pg_regress suite (REGRESS) and the isolation suite
#    (ISOLATION), run as two make calls so that a failure in one does not hide
#    the other.  Each "... ok" line counts as passed, each "... FAILED" or
#    "... failed" as failed; a make that fails without reporting a failed test
#    counts as one failure.
# 2. the TAP tests test/t/*.pl (PGXS TAP_TESTS), each file one test;
# 3. test/t/*.sh in byte-wise order, each with bash: exit 0 passed, 77
#    skipped, anything else failed.
#
# The last line of output is the summary "N passed, N failed[, N skipped]";
# the exit status is non-zero when anything failed.  Logs go to
# $FM_LOG_DIR (default log/check/ in the repository).  The cluster is stopped
# at the end unless FM_KEEP_CLUSTER=1.
#
# Environment: FM_PORT, FM_CLUSTER_DIR, FM_SHARED (see common.sh),
# FM_KEEP_CLUSTER, FM_LOG_DIR, FM_TEST_TIMEOUT (seconds per test/t script,
# default 1200), FM_INSTALLCHECK_TIMEOUT (seconds per make call, default 1800).

set -uo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

started=$(date +%s)
passed=0
failed=0
skipped=0
cluster_started=0
logdir=${FM_LOG_DIR:-$FM_ROOT/log/check}
test_timeout=${FM_TEST_TIMEOUT:-1200}
installcheck_timeout=${FM_INSTALLCHECK_TIMEOUT:-1800}

finish() {
    local secs=$(($(date +%s) - started))
    # The cluster of this run (none when the set-up failed before it).
    if ((cluster_started)); then
        ((failed == 0)) || fm_server_log_tail 60
        cp "$FM_SERVER_LOG" "$logdir/server.log" 2>/dev/null
        if [[ "${FM_KEEP_CLUSTER:-0}" == 1 ]]; then
            printf 'cluster left running: PGHOST=%s PGPORT=%s psql -U postgres (stop: %s)\n' \
                "$PGHOST" "$PGPORT" "$(fm_stop_command)"
        else
            fm_stop_cluster
        fi
    fi
    printf 'logs in %s\n' "$logdir"
    printf 'total wall time: %d min %02d s\n' $((secs / 60)) $((secs % 60))
    if ((skipped > 0)); then
        printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
    else
        printf '%d passed, %d failed\n' "$passed" "$failed"
    fi
    ((failed == 0))
    exit
}

setup_failed() {
    printf 'error: set-up failed: %s\n' "$1"
    failed=$((failed + 1))
    finish
}

rm -rf "$logdir"
mkdir -p "$logdir" || fm_die "cannot create $logdir"

fm_install_packages || setup_failed "installing packages"
fm_build_install || setup_failed "make / make install"
cluster_started=1
fm_start_cluster || setup_failed "starting the cluster"
echo "== cluster up: PGHOST=$PGHOST PGPORT=$PGPORT"

# One make installcheck call.  LABEL names its log; DIFFS is where its
# pg_regress writes regression.diffs; the rest are make arguments.  Only a
# diffs file written by this call is printed.
run_installcheck() {
    local label=$1 diffs=$2 log=$logdir/installcheck-$1.log rc ok bad
    shift 2
    printf '== make installcheck (%s)\n' "$label"
    touch "$log.start"
    timeout -k 30 "$installcheck_timeout" \
        make -C "$FM_ROOT" --no-print-directory PG_CONFIG="$FM_PG_CONFIG" installcheck "$@" \
        </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    ok=$(grep -cE '\.\.\. +ok\b' "$log")
    bad=$(grep -cE '\.\.\. +(FAILED|failed)\b' "$log")
    if ((rc != 0 && bad == 0)); then
        if ((rc == 124)); then
            printf 'make installcheck (%s) timed out after %s s\n' "$label" "$installcheck_timeout"
        else
            printf 'make installcheck (%s) failed (exit %d) without a failed test line\n' "$label" "$rc"
        fi
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if ((bad > 0)) && [[ -s "$diffs" && "$diffs" -nt "$log.start" ]]; then
        printf -- '--- %s ---\n' "$diffs"
        cat "$diffs"
        printf -- '--- end of %s ---\n' "$diffs"
        cp "$diffs" "$logdir/installcheck-$label.diffs"
    fi
    rm -f "$log.start"
}

run_installcheck regress "$FM_ROOT/regression.diffs" ISOLATION= TAP_TESTS=
run_installcheck isolation "$FM_ROOT/output_iso/regression.diffs" REGRESS= TAP_TESTS=

# The TAP tests (test/t/*.pl): make installcheck with only TAP_TESTS, each
# test with its own PostgreSQL::Test::Cluster node.  initdb refuses root, so
# as root they run as the server user in a copy of the repository that user
# owns.  Each file counts once: "ok" passed, "skipped" skipped, else failed.
run_tap() {
    local log=$logdir/tap.log src=$FM_ROOT user rc t name line as_user=()
    printf '== make installcheck (tap)\n'
    if [[ $EUID -eq 0 ]]; then
        user=$(fm_server_user)
        src=$FM_CLUSTER_DIR/tap-src
        rm -rf "$src" && mkdir -p "$src" &&
            (cd "$FM_ROOT" && tar cf - --exclude=./.git --exclude=./log --exclude=./tmp_check .) |
            (cd "$src" && tar xf -) && chown -R "$user" "$src" || {
            printf 'error: cannot copy the repository to %s for the TAP tests\n' "$src"
            failed=$((failed + 1))
            return
        }
        as_user=(runuser -u "$user" --)
    fi
    timeout -k 30 "$installcheck_timeout" \
        "${as_user[@]}" env FM_SHARED="$FM_SHARED" \
        make -C "$src" --no-print-directory PG_CONFIG="$FM_PG_CONFIG" installcheck \
        REGRESS= ISOLATION= </dev/null >"$log" 2>&1
    rc=$?
    cp -r "$src/tmp_check/log" "$logdir/tap-logs" 2>/dev/null
    for t in "$FM_ROOT"/test/t/*.pl; do
        name=test/t/$(basename "$t")
        line=$(grep -E "^$name \.+ " "$log" | head -n 1)
        case $line in
            *" ok") printf 'test %s ... ok\n' "$name"; passed=$((passed + 1)) ;;
            *" skipped:"*) printf 'test %s ... skipped: %s\n' "$name" "${line#*skipped: }"; skipped=$((skipped + 1)) ;;
            *)
                printf 'test %s ... FAILED\n' "$name"
                failed=$((failed + 1))
                ;;
        esac
    done
    if ((rc != 0)); then
        printf -- '--- %s (exit %d) ---\n' "$log" "$rc"
        cat "$log"
        printf -- '--- end of %s ---\n' "$log"
    fi
}
run_tap

# The shell tests.
shopt -s nullglob
mapfile -t tests < <(printf '%s\n' "$FM_ROOT"/test/t/*.sh | LC_ALL=C sort)
for t in "${tests[@]}"; do
    [[ -n "$t" ]] || continue
    name=t/$(basename "$t")
    log=$logdir/$(basename "$t" .sh).log
    t0=$(date +%s)
    (cd "$FM_ROOT" && timeout -k 30 "$test_timeout" bash "$t") </dev/null >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - t0))
    case $rc in
        0)
            printf 'test %s ... ok (%d s)\n' "$name" "$secs"
            passed=$((passed + 1))
            ;;
        77)
            printf 'test %s ... skipped (%d s): %s\n' "$name" "$secs" "$(tail -n 1 "$log")"
            skipped=$((skipped + 1))
            ;;
        *)
            if ((rc == 124)); then
                printf 'test %s ... FAILED (timed out after %d s)\n' "$name" "$secs"
            else
                printf 'test %s ... FAILED (exit %d, %d s)\n' "$name" "$rc" "$secs"
            fi
            printf -- '--- %s ---\n' "$log"
            cat "$log"
            printf -- '--- end of %s ---\n' "$log"
            failed=$((failed + 1))
            ;;
    esac
done

finish
