#!/usr/bin/env bash
# static_analysis.sh -- cppcheck and clang-tidy over src/, against the server
# headers of FM_PG_CONFIG (test/scripts/common.sh: the distribution's
# PostgreSQL unless told otherwise).  Prints findings and exits non-zero if any.
#
# cppcheck checks one preprocessor configuration (--max-configs=1): the
# others come from the server's headers (WIN32, assert builds, ...), not from
# our code, and checking twelve of them took seven minutes of the suite.
#
# Suppressed, after reading each one:
#  - findings inside the server's own headers (pg_config --includedir-server);
#  - cppcheck redundantAssignment on ExecErrorContext.statement in runner.c:
#    the error context callback reads it, which cppcheck cannot see;
#  - clang-tidy bugprone-implicit-widening-of-multiplication-result: raised by
#    the server's ALLOCSET_DEFAULT_SIZES macro, not by our arithmetic;
#  - newer tools' style checks (cppcheck 2.11 and later, Debian 13:
#    constVariable, constVariablePointer, constParameterPointer,
#    constParameterCallback: const on locals and callback parameters, which
#    the server's code does not use; normalCheckLevelMaxBranches, a note that
#    the analysis was bounded; clang-tidy 16 to 19:
#    bugprone-multi-level-implicit-pointer-conversion (palloc() and qsort()
#    results assigned to T **, the server's idiom),
#    bugprone-assignment-in-if-condition and bugprone-switch-missing-default-case
#    (server style: "if ((x = f()) != NULL)", switches on a node tag with a
#    return after them));
#  - clang-tidy bugprone-reserved-identifier, -macro-parentheses,
#    -easily-swappable-parameters, -narrowing-conversions, -branch-clone:
#    style rules that fight the server's own conventions (PG_FUNCTION_ARGS,
#    Datum conversions).
set -euo pipefail
# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
root=$FM_ROOT
inc=$("$FM_PG_CONFIG" --includedir-server)
# libpq-fe.h, for src/remote.c
inc_client=$("$FM_PG_CONFIG" --includedir)
cd "$root"
status=0

out=$(cppcheck --quiet --enable=warning,performance,portability,style --std=c99 \
    -I"$inc" -I"$inc_client" --suppress=missingIncludeSystem --suppress="*:$inc/*" \
    --suppress=redundantAssignment:src/runner.c --suppress=toomanyconfigs --max-configs=1 \
    --suppress=constVariable --suppress=constVariablePointer --suppress=constParameterPointer \
    --suppress=constParameterCallback --suppress=normalCheckLevelMaxBranches \
    --inline-suppr src/*.c 2>&1 || true)
if [[ -n "$out" ]]; then
    printf 'cppcheck:\n%s\n' "$out"
    status=1
fi

out=$(clang-tidy src/*.c \
    --checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-macro-parentheses,-bugprone-narrowing-conversions,-bugprone-branch-clone,-bugprone-implicit-widening-of-multiplication-result,-clang-analyzer-security.insecureAPI.*,-bugprone-multi-level-implicit-pointer-conversion,-bugprone-assignment-in-if-condition,-bugprone-switch-missing-default-case' \
    -- -I"$inc" -I"$inc_client" -D_GNU_SOURCE 2>/dev/null | grep -E '^/.*(warning|error):' | grep -v "^$inc" || true)
if [[ -n "$out" ]]; then
    printf 'clang-tidy:\n%s\n' "$out"
    status=1
fi
[[ $status -eq 0 ]] && echo "static analysis: no findings"
exit $status
