#!/usr/bin/env bash
# layers: src/ is laid out in layers.  No two modules include each other's
# headers in a circle, and no two C files call each other's functions in a
# circle (test/scripts/layers.pl).  The check itself is checked first: it
# must find a cycle planted in a copy of src/.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0

# the check finds a cycle when there is one
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root"/src/*.[ch] "$tmp"/
printf '#include "apply.h"\n' >>"$tmp/common.h"
printf '\n#include "run.h"\n' >>"$tmp/common.c"
: >"$tmp/apply.h"
if perl "$root/test/scripts/layers.pl" "$tmp" >"$tmp/out" || ! grep -q '^include cycle: .*apply.*common' "$tmp/out"; then
    echo "FAIL the check missed an include cycle planted in a copy of src/"
    fail=1
else
    echo "ok   the check finds a planted include cycle: $(head -n 1 "$tmp/out")"
fi
cp "$root"/src/*.[ch] "$tmp"/
rm -f "$tmp/apply.h"
printf '\nvoid\nfm_planted(void)\n{\n\tFmMigrationLabel(NULL, NULL);\n}\n' >>"$tmp/apply.c"
printf '\nvoid\nfm_planted_too(void)\n{\n\tfm_planted();\n}\n' >>"$tmp/common.c"
if perl "$root/test/scripts/layers.pl" "$tmp" >"$tmp/out" || ! grep -q '^call cycle: .*apply.*common' "$tmp/out"; then
    echo "FAIL the check missed a call cycle planted in a copy of src/"
    cat "$tmp/out"
    fail=1
else
    echo "ok   the check finds a planted call cycle: $(grep '^call cycle' "$tmp/out")"
fi

# src/ itself
if out=$(perl "$root/test/scripts/layers.pl" "$root/src"); then
    echo "ok   src/: $out"
else
    printf 'FAIL src/ has cycles:\n%s\n' "$out"
    fail=1
fi
exit $fail
