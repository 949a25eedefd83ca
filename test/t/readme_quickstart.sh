#!/usr/bin/env bash
# readme_quickstart: the README's quick start runs as pasted, twice, in a new
# database, as its owner who is no superuser (a trusted install), and its
# example migrations are ones the linter has nothing to say about.
#
# Every ```sql block of the section "## Quick start" (its subsections
# included) is taken from README.md as it stands, in order, and run with
# psql -f, which stops at the first failing statement (ON_ERROR_STOP).  The
# second paste must succeed too and change nothing: no new history event, the
# same catalog.  The same twice more in another database with each block sent
# as one query string, the way an SQL editor sends a paste.  Then the example migrations, exported from that database and
# registered in a second new one, are dry-run there before anything is
# applied: every one must be "lint: ok", as must status.lint, lint() of each
# up script and summary.worst_lint.  Last, every link of README.md to one of
# its own sections ("](#anchor)") must name a heading, with GitHub's rule for
# anchors, so that moving or renaming a section cannot leave a dead link.
set -euo pipefail
# shellcheck source=../scripts/common.sh
source "$(dirname "$0")/../scripts/common.sh"

readme=$FM_ROOT/README.md
owner=regress_readme_owner
a=fm_t_readme_a
b=fm_t_readme_b
c=fm_t_readme_c
tmp=$(mktemp -d)
chmod 0755 "$tmp"
cleanup() {
    fm_psql -q -d postgres -c "DROP DATABASE IF EXISTS $a" -c "DROP DATABASE IF EXISTS $b" \
        -c "DROP DATABASE IF EXISTS $c" -c "DROP ROLE IF EXISTS $owner" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0

# 1. the quick start's SQL, as the README has it
awk -v dir="$tmp" '/^## Quick start/ { in_section = 1; next }
     /^## /            { in_section = 0 }
     in_section && /^```sql[[:space:]]*$/ { in_block = 1; blocks++; next }
     in_section && in_block && /^```/     { in_block = 0; next }
     in_section && in_block               { print; print > (dir "/block" blocks ".sql") }
     END { if (in_block) exit 2; print "-- blocks: " blocks+0 > "/dev/stderr" }' \
    "$readme" >"$tmp/quickstart.sql" 2>"$tmp/blocks" || {
    echo "FAIL the quick start of README.md has an unclosed code block"
    exit 1
}
blocks=$(sed -n 's/^-- blocks: //p' "$tmp/blocks")
echo "quick start: $blocks SQL blocks, $(wc -l <"$tmp/quickstart.sql") lines"
if ((blocks == 0)) || ! grep -q 'CREATE EXTENSION' "$tmp/quickstart.sql" ||
    ! grep -q 'fleetmigrate.register' "$tmp/quickstart.sql" ||
    ! grep -q 'fleetmigrate.apply_pending' "$tmp/quickstart.sql"; then
    echo "FAIL no quick start found in README.md (a section \"## Quick start\" with \`\`\`sql blocks that create the extension, register and apply)"
    exit 1
fi
chmod 0644 "$tmp/quickstart.sql"

# 2. a new database, owned by a role that is no superuser
fm_psql -q -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $a;
DROP DATABASE IF EXISTS $b;
DROP DATABASE IF EXISTS $c;
DROP ROLE IF EXISTS $owner;
CREATE ROLE $owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE $a OWNER $owner;
CREATE DATABASE $b OWNER $owner;
CREATE DATABASE $c OWNER $owner;
SQL

paste_quickstart() {
    if fm_psql -U "$owner" -d "$a" -f "$tmp/quickstart.sql" >"$tmp/paste$1.out" 2>&1; then
        echo "ok   paste $1 of the quick start: every statement succeeded"
    else
        echo "FAIL paste $1 of the quick start failed:"
        sed 's/^/    /' "$tmp/paste$1.out"
        fail=1
    fi
}
state='SELECT (SELECT count(*) FROM fleetmigrate.history) || chr(32) ||
              (SELECT string_agg(concat_ws(chr(32), version, name, state, checksum), chr(44) ORDER BY version, name)
                 FROM fleetmigrate.migrations)'

paste_quickstart 1
after_first=$(fm_psql -At -U "$owner" -d "$a" -c "$state" 2>&1 || true)
paste_quickstart 2
after_second=$(fm_psql -At -U "$owner" -d "$a" -c "$state" 2>&1 || true)
fm_check "the second paste adds no history event and changes no migration" "$after_first" "$after_second"
fm_check "the owner who ran it is no superuser" "f" \
    "$(fm_psql -At -d postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$owner'")"
fm_check "after the quick start: all applied, nothing pending, failed or drifted, validate() silent" \
    "t|0|0|0|0" \
    "$(fm_psql -At -U "$owner" -d "$a" -c "SELECT applied > 0, pending, failed, drift,
                                                   (SELECT count(*) FROM fleetmigrate.validate())
                                              FROM fleetmigrate.summary" 2>&1 || true)"

# 2b. as an SQL editor sends it: each block as one query string, which the
#     server runs as one transaction (so a CALL of migrate() must be a block
#     of its own), twice
editor_ok=yes
for round in 1 2; do
    for ((i = 1; i <= blocks; i++)); do
        if ! fm_psql -U "$owner" -d "$c" -c "$(cat "$tmp/block$i.sql")" >"$tmp/editor.out" 2>&1; then
            echo "FAIL block $i of the quick start, sent as one query string (round $round):"
            sed 's/^/    /' "$tmp/editor.out"
            editor_ok=no
            fail=1
        fi
    done
done
[[ $editor_ok == yes ]] && echo "ok   each block sent as one query string, as an SQL editor does, twice"

# 3. the example migrations, pending in a new database: nothing to flag
fm_psql -At -U "$owner" -d "$a" -c "SELECT fleetmigrate.export_bundle()" >"$tmp/bundle.sql"
n=$(fm_psql -At -U "$owner" -d "$a" -c "SELECT count(*) FROM fleetmigrate.migrations")
{
    echo "SET client_min_messages = warning;"
    echo "CREATE EXTENSION fleetmigrate;"
    printf 'SELECT count(*) FROM fleetmigrate.register_bundle($fmbundle$'
    cat "$tmp/bundle.sql"
    printf '$fmbundle$);\n'
} | fm_psql -At -q -U "$owner" -d "$b" >/dev/null
fm_check "the example migrations registered in a new database" "$n" \
    "$(fm_psql -At -U "$owner" -d "$b" -c "SELECT count(*) FROM fleetmigrate.status WHERE state = 'pending'")"
fm_check "dry run of all of them: every one would apply with lint: ok" "$n would_apply, lint ok" \
    "$(fm_psql -At -U "$owner" -d "$b" -c "SELECT count(*) FILTER (WHERE status = 'would_apply') || ' would_apply, lint '
                                                   || CASE WHEN bool_and(message LIKE '%lint: ok;%') THEN 'ok'
                                                           ELSE string_agg(version || ': ' || message, '; ') END
                                              FROM fleetmigrate.apply_pending(dry_run => true)" 2>&1 || true)"
fm_check "status.lint of every pending one is ok, and so is summary.worst_lint" "ok|ok" \
    "$(fm_psql -At -U "$owner" -d "$b" -c "SELECT string_agg(DISTINCT lint, ','), (SELECT worst_lint FROM fleetmigrate.summary)
                                              FROM fleetmigrate.status" 2>&1 || true)"
fm_check "lint() of each up script finds no warning or error" "" \
    "$(fm_psql -At -U "$owner" -d "$b" -c "SELECT string_agg(m.version || ' ' || l.rule, ', ')
                                              FROM fleetmigrate.migrations m, fleetmigrate.lint(m.up) l
                                             WHERE l.severity IN ('warning', 'error')" 2>&1 || true)"

# 4. every link to a section of README.md names one of its headings
perl -CSD -e '
    use strict; use warnings;
    local $/; my $text = <>;
    my (%anchors, %seen);
    my $fence = 0;
    for my $line (split /\n/, $text) {
        if ($line =~ /^```/) { $fence = !$fence; next; }
        next if $fence;
        next unless $line =~ /^#{1,6}\s+(.*?)\s*$/;
        # GitHub: lower case; drop everything but letters, digits, spaces, - and _;
        # spaces become -; a repeated anchor gets -1, -2, ...
        (my $slug = lc $1) =~ s/[^\w\- ]//g;
        $slug =~ tr/ /-/;
        if (exists $seen{$slug}) { $anchors{$slug . "-" . ++$seen{$slug}} = 1; }
        else { $seen{$slug} = 0; $anchors{$slug} = 1; }
    }
    my %targets = map { $_ => 1 } ($text =~ /\]\(#([^)\s]*)\)/g);
    print "$_\n" for grep { !$anchors{$_} } sort keys %targets;
' "$readme" >"$tmp/links" || echo "(the link check itself failed)" >"$tmp/links"
fm_check "every link of README.md to one of its sections names a heading" "" "$(tr '\n' ' ' <"$tmp/links" | sed 's/ $//')"

exit $fail
