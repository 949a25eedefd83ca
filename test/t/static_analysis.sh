#!/usr/bin/env bash
# static_analysis: cppcheck and clang-tidy find nothing new in src/
# (see test/scripts/static_analysis.sh).  check.sh installs both tools, so
# a missing one is a failure, not a skip.
set -euo pipefail
for tool in cppcheck clang-tidy; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL $tool is not installed (test/scripts/check.sh installs it with FM_WITH_ANALYSIS=1)"
        exit 1
    fi
done
exec bash "$(dirname "$0")/../scripts/static_analysis.sh"
