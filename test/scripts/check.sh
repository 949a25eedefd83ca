#!/usr/bin/env bash
#
# check.sh -- install, build, start a throwaway cluster and run every test
#
# usage: bash test/scripts/check.sh
#
# 1. make installcheck: the pg_regress suite (REGRESS) and the isolation suite
#    (ISOLATION), run as two make calls so that a failure in one does not hide
#    the other.  Each "... ok" line (or "ok N - name", as pg_regress 16 and
#    later print it) counts as passed, each "... FAILED" or "... failed" (or
#    "not ok N - name") as failed; a make that fails without reporting a
#    failed test counts as one failure.
# 2. the TAP tests test/t/*.pl (PGXS TAP_TESTS), each file one test;
# 3. test/t/*.sh in byte-wise order, each with bash: exit 0 passed, 77
#    skipped, anything else failed;
# 4. the version matrix (test/scripts/matrix.sh): pg_regress, the isolation
#    specs and the checksum test against the PostgreSQL of Debian 13 (17) and
#    Debian testing (18), each in a throwaway root made with debootstrap.
#
# What the server reads (test/fixtures, ../shared/corpora) is copied into the
# cluster's folder first: the checkout may sit in a home the server's OS user
# cannot enter.
#
# The last line of output is the summary "N passed, N failed[, N skipped]";
# the exit status is non-zero when anything failed.  Logs go to
# $FM_LOG_DIR (default log/check/ in the repository).  The cluster is stopped
# at the end unless FM_KEEP_CLUSTER=1.
#
# Environment: FM_PORT, FM_CLUSTER_DIR, FM_SHARED, FM_PG_VERSION (see
# common.sh), FM_KEEP_CLUSTER, FM_LOG_DIR, FM_TEST_TIMEOUT (seconds per test/t
# script, default 1200), FM_INSTALLCHECK_TIMEOUT (seconds per make call,
# default 1800), FM_SUITES (which of "regress isolation tap shell matrix" to
# run, default all), FM_SHELL_TESTS (which test/t/*.sh, by file name, default
# all), FM_MATRIX (the Debian suites of the matrix, default "trixie forky").

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
suites=" ${FM_SUITES:-regress isolation tap shell matrix} "
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

# cppcheck and clang-tidy when static analysis is among the tests
if [[ $suites == *" shell "* ]] &&
    [[ -z "${FM_SHELL_TESTS:-}" || " $FM_SHELL_TESTS " == *" static_analysis.sh "* ]]; then
    export FM_WITH_ANALYSIS=1
fi
# debootstrap for the version matrix
if [[ $suites == *" matrix "* ]]; then
    FM_PACKAGES+=(debootstrap)
fi
fm_install_packages || setup_failed "installing packages"
fm_build_install || setup_failed "make / make install"
cluster_started=1
fm_start_cluster || setup_failed "starting the cluster"
echo "== cluster up: PGHOST=$PGHOST PGPORT=$PGPORT (PostgreSQL $FM_PG_VERSION)"

# Copies of what the server reads, where it can read them.
FM_FIXTURES=$FM_CLUSTER_DIR/fixtures
export FM_FIXTURES
fm_copy_for_server "$FM_ROOT/test/fixtures" "$FM_FIXTURES" || setup_failed "copying test/fixtures"
server_shared=$FM_SHARED
if [[ -d "$FM_SHARED/corpora" ]]; then
    server_shared=$FM_CLUSTER_DIR/shared
    fm_copy_for_server "$FM_SHARED/corpora" "$server_shared/corpora" || setup_failed "copying the corpora"
fi

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
    # pg_regress 15 prints "test name ... ok"; 16 and later print TAP
    # ("ok 1 - name", "not ok 2 - name")
    ok=$(grep -cE '\.\.\. +ok\b|^ok [0-9]+ +[-+] ' "$log")
    bad=$(grep -cE '\.\.\. +(FAILED|failed)\b|^not ok [0-9]+ +[-+] ' "$log")
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

[[ $suites == *" regress "* ]] &&
    run_installcheck regress "$FM_ROOT/regression.diffs" ISOLATION= TAP_TESTS=
[[ $suites == *" isolation "* ]] &&
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
        "${as_user[@]}" env FM_SHARED="$server_shared" \
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
[[ $suites == *" tap "* ]] && run_tap

# The shell tests.
shopt -s nullglob
mapfile -t tests < <(printf '%s\n' "$FM_ROOT"/test/t/*.sh | LC_ALL=C sort)
[[ $suites == *" shell "* ]] || tests=()
for t in "${tests[@]}"; do
    [[ -n "$t" ]] || continue
    if [[ -n "${FM_SHELL_TESTS:-}" && " $FM_SHELL_TESTS " != *" $(basename "$t") "* ]]; then
        continue
    fi
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

# The version matrix: each Debian suite's own PostgreSQL, in a throwaway root.
# matrix.sh prints "test ... ok" lines and a summary line of its own.
run_matrix() {
    local suite=$1 log=$logdir/matrix-$1.log rc summary n_pass n_fail n_skip
    printf '== version matrix: Debian %s (log: %s)\n' "$suite" "$log"
    FM_LOG_DIR=$logdir/matrix-$suite timeout -k 30 "$installcheck_timeout" \
        bash "$FM_ROOT/test/scripts/matrix.sh" "$suite" </dev/null >"$log" 2>&1
    rc=$?
    grep -E '^test ' "$log"
    summary=$(tail -n 1 "$log")
    if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
        n_pass=${BASH_REMATCH[1]} n_fail=${BASH_REMATCH[2]} n_skip=${BASH_REMATCH[4]:-0}
    else
        n_pass=0 n_fail=0 n_skip=0
    fi
    if ((rc != 0 && n_fail == 0)); then
        printf 'test matrix/%s ... FAILED (exit %d before its tests reported)\n' "$suite" "$rc"
        n_fail=1
    fi
    passed=$((passed + n_pass))
    failed=$((failed + n_fail))
    skipped=$((skipped + n_skip))
    if ((n_fail > 0)); then
        printf -- '--- %s ---\n' "$log"
        tail -n 200 "$log"
        printf -- '--- end of %s ---\n' "$log"
    fi
}
if [[ $suites == *" matrix "* ]]; then
    for suite in ${FM_MATRIX:-trixie forky}; do
        run_matrix "$suite"
    done
fi

finish
