#!/usr/bin/env bash
# static_analysis: cppcheck and clang-tidy find nothing new in src/
# (skipped when the tools are not installed; see test/scripts/static_analysis.sh)
set -euo pipefail
if ! command -v cppcheck >/dev/null || ! command -v clang-tidy >/dev/null; then
    echo "cppcheck or clang-tidy not installed: skipped"
    exit 77
fi
exec bash "$(dirname "$0")/../scripts/static_analysis.sh"
