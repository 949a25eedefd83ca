#!/usr/bin/env bash
#
# register_dir.sh -- register a folder of migration files with fleetmigrate.register()
#
# usage: register_dir.sh [--skip-file NAME]... [--print] DIR [DB]
#
# Registers every up file of DIR, in the order of DIR/ORDER-up.txt when that
# file exists, else in byte-wise order of the file names (*.up.sql, *_up.sql).
# DB defaults to $PGDATABASE.  One psql process, one transaction: the whole
# load is all-or-nothing.  File contents never become part of SQL text: each
# body is read into a psql variable (\set up `cat 'file'`) and passed as
# :'up', which psql quotes.  (psql's backquote strips one trailing newline from
# every body alike.)
#
# Names.  From the up file name, without ".up.sql" or "_up.sql":
#   version = the leading run of digits, name = what follows the "_" after it,
#   or the version itself when nothing follows.
#     000_core_schema.up.sql                             -> 000, core_schema
#     20150100000001000000_networks.postgres.up.sql      -> 20150100000001000000, networks.postgres
#     0021_alter_table_webhook_add_internal_up.sql       -> 0021, alter_table_webhook_add_internal
#     0157.up.sql                                        -> 0157, 0157
#
# Down and verify files.  A down file pairs with the up of the same stem
# (STEM.down.sql or STEM_down.sql).  Failing that, when the up's version is
# unique among the ups and exactly one down file carries that version, that
# one (kratos pairs by version: "X.postgres.up.sql" with "X.down.sql"; harness'
# misspelled 0026 down).  A verify file must have the same stem
# (STEM.verify.sql).  A missing one is passed as NULL.
#
# --skip-file NAME   leave out the up (and with it its down) or the down called
#                    NAME; repeatable
# --print            print the psql script instead of running it
#
# Prints one line: how many migrations were registered and the outcomes.

set -euo pipefail

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    sed -n 's/^# usage: /usage: /p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

declare -A skip=()
print_only=0
args=()
while (($#)); do
    case "$1" in
        --skip-file) (($# >= 2)) || usage; skip[$2]=1; shift 2 ;;
        --skip-file=*) skip[${1#*=}]=1; shift ;;
        --print) print_only=1; shift ;;
        -h|--help) usage ;;
        --) shift; args+=("$@"); break ;;
        -*) printf 'register_dir.sh: unknown option %s\n' "$1" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
((${#args[@]} >= 1 && ${#args[@]} <= 2)) || usage
dir=${args[0]}
db=${args[1]:-${PGDATABASE:-postgres}}
[[ -d "$dir" ]] || fm_die "not a directory: $dir"
dir=$(cd "$dir" && pwd)

# File names go into the script (quoted, relative to DIR, where psql runs);
# refuse anything that could end the quoting or start a psql variable.
safe_name() {
    [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fm_die "unsupported file name: '$1'"
}

stem_of() {
    local f=$1
    case "$f" in
        *.up.sql) printf '%s' "${f%.up.sql}" ;;
        *_up.sql) printf '%s' "${f%_up.sql}" ;;
        *) return 1 ;;
    esac
}

# The up files, in apply order.
ups=()
if [[ -f "$dir/ORDER-up.txt" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line%$'\r'}
        [[ -n "$line" ]] || continue
        [[ -f "$dir/$line" ]] || fm_die "ORDER-up.txt names a missing file: $line"
        ups+=("$line")
    done <"$dir/ORDER-up.txt"
else
    while IFS= read -r line; do
        ups+=("$line")
    done < <(cd "$dir" && find . -maxdepth 1 -type f \( -name '*.up.sql' -o -name '*_up.sql' \) \
        -printf '%f\n' | LC_ALL=C sort)
fi
((${#ups[@]} > 0)) || fm_die "no up files in $dir"

# Down files: by stem, and by version for the fallback.
declare -A down_by_stem=() downs_by_version=()
while IFS= read -r f; do
    [[ -n "${skip[$f]:-}" ]] && continue
    case "$f" in
        *.down.sql) s=${f%.down.sql} ;;
        *_down.sql) s=${f%_down.sql} ;;
        *) continue ;;
    esac
    down_by_stem[$s]=$f
    if [[ "$s" =~ ^([0-9]+) ]]; then
        downs_by_version[${BASH_REMATCH[1]}]+="$f "
    fi
done < <(cd "$dir" && find . -maxdepth 1 -type f \( -name '*.down.sql' -o -name '*_down.sql' \) \
    -printf '%f\n' | LC_ALL=C sort)

# Versions and names of all ups (skipped ones included: they still make a
# version ambiguous for the down fallback).
declare -A up_version_count=() seen_up=()
versions=() names=() stems=()
for f in "${ups[@]}"; do
    safe_name "$f"
    [[ -z "${seen_up[$f]:-}" ]] || fm_die "up file listed twice: $f"
    seen_up[$f]=1
    s=$(stem_of "$f") || fm_die "not an up file name (*.up.sql, *_up.sql): $f"
    [[ "$s" =~ ^([0-9]+)(_(.*))?$ ]] || fm_die "cannot take a version from the file name: $f"
    v=${BASH_REMATCH[1]}
    n=${BASH_REMATCH[3]:-$v}
    versions+=("$v")
    names+=("$n")
    stems+=("$s")
    up_version_count[$v]=$((${up_version_count[$v]:-0} + 1))
done

# Stems taken by an exact match are not available to the fallback.
declare -A claimed=()
for s in "${stems[@]}"; do
    [[ -n "${down_by_stem[$s]:-}" ]] && claimed[${down_by_stem[$s]}]=1
done

script=$(mktemp)
trap 'rm -f "$script"' EXIT

count=0 with_down=0 with_verify=0
# The backquotes are psql's, not the shell's.
# shellcheck disable=SC2016
{
    echo '\set ON_ERROR_STOP 1'
    for i in "${!ups[@]}"; do
        f=${ups[$i]} s=${stems[$i]} v=${versions[$i]} n=${names[$i]}
        [[ -n "${skip[$f]:-}" ]] && continue

        down=${down_by_stem[$s]:-}
        if [[ -z "$down" && ${up_version_count[$v]} -eq 1 ]]; then
            read -r -a cand <<<"${downs_by_version[$v]:-}"
            if ((${#cand[@]} == 1)) && [[ -z "${claimed[${cand[0]}]:-}" ]]; then
                down=${cand[0]}
            fi
        fi
        verify=
        [[ -f "$dir/$s.verify.sql" && -z "${skip[$s.verify.sql]:-}" ]] && verify=$s.verify.sql

        printf '\\set v %s\n' "'$v'"
        printf '\\set n %s\n' "'$n'"
        printf '\\set up `cat %s`\n' "'$f'"
        dexpr=NULL vexpr=NULL
        if [[ -n "$down" ]]; then
            safe_name "$down"
            printf '\\set down `cat %s`\n' "'$down'"
            dexpr=":'down'"
            with_down=$((with_down + 1))
        fi
        if [[ -n "$verify" ]]; then
            safe_name "$verify"
            printf '\\set verify `cat %s`\n' "'$verify'"
            vexpr=":'verify'"
            with_verify=$((with_verify + 1))
        fi
        printf "SELECT fleetmigrate.register(:'v', :'n', :'up', %s, %s);\n" "$dexpr" "$vexpr"
        echo '\unset up'
        echo '\unset down'
        echo '\unset verify'
        count=$((count + 1))
    done
} >"$script"

if ((print_only)); then
    cat "$script"
    exit 0
fi

# Run from DIR so that the quoted names in the script are relative paths.
out=$(cd "$dir" && fm_psql -q -At -1 -d "$db" -f - <"$script") || {
    printf 'register_dir.sh: registering %s failed; nothing was registered\n' "$dir" >&2
    exit 1
}
outcomes=$(printf '%s\n' "$out" | LC_ALL=C sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
printf 'register_dir.sh: %s: %d migrations (%d with down, %d with verify): %s\n' \
    "$(basename "$dir")" "$count" "$with_down" "$with_verify" "$outcomes"
