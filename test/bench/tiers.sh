#!/usr/bin/env bash
#
# tiers.sh -- authentication tiers (1.1): upgrade_user_tier() against PL/pgSQL,
#             the permission checks under row-level security against no RLS
#
# usage: test/bench/tiers.sh [--reuse-cluster] [--no-build] [--no-write] [--output FILE] [--keep]
#
# One database (createdb, dropped at the end) with CREATE EXTENSION
# fleetmigrate, public.users (id uuid PRIMARY KEY, email, auth_tier,
# upgraded_at, tier_changed_at: the table the extension uses when
# fleetmigrate.tier_config is empty) holding BENCH_TIERS_USERS users with
# ids md5('user' || n)::uuid and random tiers, and public.service_requests
# holding BENCH_TIERS_ROWS rows whose requester_id is one of the first
# BENCH_TIERS_REQUESTERS users, drawn at random per row (not clustered).
# fleetmigrate.tiers is edited so that MAGIC_LINK lacks can_view_requests:
# the row-dependent check then hides about a quarter of the rows.
#
# (a) Throughput of fleetmigrate.upgrade_user_tier() against
#     bench_plpgsql_upgrade(), a plain PL/pgSQL function in the benchmark
#     database with the same rules (tier must exist; SELECT ... FOR UPDATE of
#     the user joined to the old tier's rank; false when unchanged; a
#     downgrade by rank refused unless allowed; UPDATE of tier and
#     timestamps; one INSERT into public.bench_tier_history, a copy of
#     fleetmigrate.user_tier_history with the same columns, defaults, check
#     and index).  Both update the same public.users.  pgbench -n -M prepared
#     -c 2 -j 2 -T BENCH_TIERS_DURATION, one statement per transaction:
#     a random user of all BENCH_TIERS_USERS, a random one of the four tiers,
#     allow_downgrade => true (so about 3 calls in 4 change the tier).  A
#     short warm-up run per side, then BENCH_TIERS_RUNS runs per side,
#     alternating which side goes first; VACUUM (ANALYZE) public.users and a
#     CHECKPOINT before every run.  Figure: median tps.  Checked: no failed
#     transactions, and the history of both sides together forms one chain
#     per user (each row's from_tier is the previous row's to_tier, starting
#     at the user's initial tier; the last to_tier is the user's tier now).
# (b) SELECT count(*) FROM public.service_requests as role bench_tiers_self,
#     to which a policy USING (fleetmigrate.user_can_view_requests(
#     current_setting('app.user_id')::uuid)) applies (app.user_id: a user on
#     AUTHENTICATED, so every row is visible), against the same statement as
#     role bench_tiers_bypass (BYPASSRLS: the same table and plan without
#     the policy).
# (c) The same count as role bench_tiers_rows, to which a policy USING
#     (fleetmigrate.user_can_view_requests(requester_id)) applies, against
#     the same baseline.  bench_tiers_self and bench_tiers_rows hold SELECT
#     (id, auth_tier) on public.users and nothing else there: the checks
#     read it as the querying role.
#     (b) and (c): one psql session; a warm-up of every side, then
#     BENCH_TIERS_QUERY_RUNS rounds, the order of the sides reversed from
#     one round to the next; each count timed with psql's \timing (client
#     side, the statement alone).  Figure: median ms.  Every count is
#     checked against one computed by a join of users and
#     fleetmigrate.tiers; a user on MAGIC_LINK and an unknown user must see
#     no rows under (b)'s policy.  Parallel query is left at the server's
#     defaults; the plans (EXPLAIN) are recorded, with the workers launched
#     (from one untimed EXPLAIN ANALYZE).  For information: the same count
#     as role bench_tiers_once, whose policy USING ((SELECT true)) is the
#     least any policy evaluated once per query costs, and as role
#     bench_tiers_floor, whose policy USING (pg_catalog.uuid_hash(
#     requester_id) IS NOT NULL) is the least a per-row function of the
#     column costs; and every side again with
#     max_parallel_workers_per_gather = 0.
#
# Prints the results and writes them, with the plans and this method, as the
# block between "<!-- tiers:begin -->" and "<!-- tiers:end -->" of
# BENCHMARKS.md at the repository root (replaced if there, else appended;
# test/bench/bench.sh keeps the block when it rewrites the file).
#
# Options:
#   --reuse-cluster  use the running server at FM_CLUSTER_DIR / FM_PORT instead
#                    of installing packages, building and starting a
#                    throwaway cluster
#   --no-build       start a throwaway cluster, but neither install packages
#                    nor build: use the installed extension as it is
#   --no-write       print the results only; leave BENCHMARKS.md alone
#   --output FILE    write the block into FILE instead of BENCHMARKS.md
#   --keep           leave the database, its roles and the cluster as they
#                    are at the end, for inspection (the database name is
#                    printed; drop it, the roles bench_tiers_*, and stop the
#                    cluster by hand)
#
# Environment:
#   BENCH_TIERS_USERS       users in public.users (100000)
#   BENCH_TIERS_REQUESTERS  distinct requesters of the service requests (10000)
#   BENCH_TIERS_ROWS        service requests (1000000)
#   BENCH_TIERS_DURATION    seconds per pgbench run (20)
#   BENCH_TIERS_RUNS        pgbench runs per side (3)
#   BENCH_TIERS_CLIENTS     pgbench clients and threads (2)
#   BENCH_TIERS_QUERY_RUNS  timed counts per side (7)
#   FM_CLUSTER_DIR, FM_PORT the throwaway cluster (default
#                    /tmp/fleetmigrate-tiers-bench, port 54341: neither the
#                    test suite's cluster nor bench.sh's)
#
# Not part of the test suite.  About 3 minutes on 2 cores.

set -euo pipefail

FM_CLUSTER_DIR=${FM_CLUSTER_DIR:-/tmp/fleetmigrate-tiers-bench}
FM_PORT=${FM_PORT:-54341}
export FM_CLUSTER_DIR FM_PORT

# shellcheck source=test/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_options "$@"
keep=0
for arg in "${extra_args[@]}"; do
    case "$arg" in
        --keep) keep=1 ;;
        *) bench_unknown_option "$arg" ;;
    esac
done

n_users=${BENCH_TIERS_USERS:-100000}
n_requesters=${BENCH_TIERS_REQUESTERS:-10000}
n_rows=${BENCH_TIERS_ROWS:-1000000}
duration=${BENCH_TIERS_DURATION:-20}
runs=${BENCH_TIERS_RUNS:-3}
clients=${BENCH_TIERS_CLIENTS:-2}
query_runs=${BENCH_TIERS_QUERY_RUNS:-7}
for v in n_users n_requesters n_rows duration runs clients query_runs; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fm_die "$v must be a positive integer (got ${!v})"
done
((n_requesters <= n_users)) || fm_die "BENCH_TIERS_REQUESTERS ($n_requesters) exceeds BENCH_TIERS_USERS ($n_users)"
((n_requesters >= 4)) || fm_die "BENCH_TIERS_REQUESTERS must be at least 4"

pgbench=$FM_PG_BINDIR/pgbench
[[ -x "$pgbench" ]] ||
    fm_die "$pgbench not found (Debian ships it in the package postgresql-$FM_PG_VERSION)"

db=fm_tiers_bench_$$
roles=(bench_tiers_bypass bench_tiers_self bench_tiers_rows bench_tiers_floor bench_tiers_once)
work=$(mktemp -d "${TMPDIR:-/tmp}/fm-tiers-bench.XXXXXX")

# ---------------------------------------------------------------- cluster

started=0 db_created=0
cleanup() {
    local rc=$?
    rm -rf "$work"
    if ((keep)); then
        fm_log "--keep: database $db and roles ${roles[*]} left in place (PGHOST=$PGHOST PGPORT=$PGPORT)"
        exit "$rc"
    fi
    if ((db_created)) && pg_isready -q 2>/dev/null; then
        dropdb --if-exists "$db" 2>/dev/null || true
        for r in "${roles[@]}"; do
            fm_psql -q -c "DROP ROLE IF EXISTS $r" 2>/dev/null ||
                fm_log "could not drop role $r (privileges in another database?)"
        done
    fi
    if ((started)); then
        fm_stop_cluster || true
    fi
    exit "$rc"
}
trap cleanup EXIT

bench_server
fm_psql -At -c "SELECT 1 FROM pg_available_extension_versions WHERE name = 'fleetmigrate' AND version = '1.1'" |
    grep -q 1 || fm_die "extension fleetmigrate 1.1 is not installed (make -C $FM_ROOT install)"

# What is measured (as in bench.sh): the commit, and the installed library.
bench_identify

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
median() {
    tr ' ' '\n' <<<"$1" | grep . | LC_ALL=C sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
dbsql() { fm_psql -q -d "$db" "$@"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_t0=$(now)

# ---------------------------------------------------------------- set-up

fm_log "setup: database $db, $n_users users, $n_rows service requests from $n_requesters users"
createdb -T template0 "$db"
db_created=1
for r in "${roles[@]}"; do
    attr=NOLOGIN
    [[ "$r" == bench_tiers_bypass ]] && attr="NOLOGIN BYPASSRLS"
    fm_psql -q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$r') THEN
            CREATE ROLE $r $attr;
        END IF; END \$\$"
done
fm_psql -q -c 'ALTER ROLE bench_tiers_bypass BYPASSRLS' \
    -c 'ALTER ROLE bench_tiers_self NOBYPASSRLS' -c 'ALTER ROLE bench_tiers_rows NOBYPASSRLS' \
    -c 'ALTER ROLE bench_tiers_floor NOBYPASSRLS' -c 'ALTER ROLE bench_tiers_once NOBYPASSRLS'

dbsql -v n_users="$n_users" -v n_requesters="$n_requesters" -v n_rows="$n_rows" <<'SQL'
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;

-- The tier capabilities differ: MAGIC_LINK may no longer view requests.
UPDATE fleetmigrate.tiers SET capabilities = '{}' WHERE tier = 'MAGIC_LINK';

-- Users n = 1 .. n_users, id md5('user' || n)::uuid, random tiers (seeded);
-- user 1 (whose id app.user_id holds for (b)) is AUTHENTICATED, user 2
-- MAGIC_LINK.  The initial tiers stay in bench_user_seed for the checks.
SELECT setseed(0.42) AS seeded \gset
CREATE TABLE public.bench_user_seed AS
SELECT n, md5('user' || n)::uuid AS id,
       CASE n WHEN 1 THEN 'AUTHENTICATED' WHEN 2 THEN 'MAGIC_LINK'
       ELSE (ARRAY['MAGIC_LINK', 'AUTHENTICATED', 'ROBO_HUB', 'ROBO_DAPP'])[1 + floor(random() * 4)::int]
       END AS tier
  FROM generate_series(1, :n_users) n;

CREATE TABLE public.users (
    id              uuid PRIMARY KEY,
    email           text,
    auth_tier       text NOT NULL DEFAULT 'MAGIC_LINK',
    upgraded_at     timestamptz,
    tier_changed_at timestamptz
);
INSERT INTO public.users (id, email, auth_tier)
SELECT id, 'user' || n || '@example.com', tier FROM public.bench_user_seed ORDER BY n;

CREATE TABLE public.service_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requester_id uuid NOT NULL,
    title        text NOT NULL,
    status       text NOT NULL DEFAULT 'open',
    created_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.service_requests (requester_id, title, status)
SELECT md5('user' || (1 + floor(random() * :n_requesters)::int))::uuid,
       'service request ' || g, (ARRAY['open', 'assigned', 'done'])[1 + g % 3]
  FROM generate_series(1, :n_rows) g;

-- The PL/pgSQL side of (a): the same rules, its own history table of the
-- same shape (columns, defaults, check, index) as fleetmigrate's.
CREATE TABLE public.bench_tier_history (
    id                bigserial PRIMARY KEY,
    user_id           uuid NOT NULL,
    from_tier         text,
    to_tier           text NOT NULL,
    reason            text,
    changed_by        text NOT NULL,
    session_user_name text NOT NULL DEFAULT pg_catalog."session_user"(),
    changed_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    transaction_id    xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    CHECK (from_tier IS DISTINCT FROM to_tier)
);
CREATE INDEX bench_tier_history_user_idx ON public.bench_tier_history (user_id, id);

CREATE FUNCTION public.bench_plpgsql_upgrade(p_user_id uuid, p_new_tier text,
                                             p_reason text DEFAULT NULL,
                                             p_allow_downgrade boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_new_rank integer;
    v_old_tier text;
    v_old_rank integer;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'user id must not be null';
    END IF;
    IF p_new_tier IS NULL THEN
        RAISE EXCEPTION 'new tier must not be null';
    END IF;
    SELECT t.rank INTO v_new_rank FROM fleetmigrate.tiers t WHERE t.tier = p_new_tier;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tier "%"', p_new_tier;
    END IF;
    SELECT u.auth_tier, o.rank INTO v_old_tier, v_old_rank
      FROM public.users u
      LEFT JOIN fleetmigrate.tiers o ON o.tier = u.auth_tier
     WHERE u.id = p_user_id
       FOR UPDATE OF u;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user "%" does not exist', p_user_id;
    END IF;
    IF v_old_tier = p_new_tier THEN
        RETURN false;
    END IF;
    IF v_old_rank IS NOT NULL AND v_new_rank < v_old_rank
       AND NOT coalesce(p_allow_downgrade, false) THEN
        RAISE EXCEPTION 'moving user "%" from tier "%" to "%" is a downgrade',
            p_user_id, v_old_tier, p_new_tier;
    END IF;
    UPDATE public.users u
       SET auth_tier = p_new_tier,
           tier_changed_at = now(),
           upgraded_at = CASE WHEN v_old_rank IS NULL OR v_new_rank > v_old_rank
                              THEN coalesce(u.upgraded_at, now()) ELSE u.upgraded_at END
     WHERE u.id = p_user_id;
    INSERT INTO public.bench_tier_history (user_id, from_tier, to_tier, reason, changed_by)
    VALUES (p_user_id, v_old_tier, p_new_tier, p_reason, current_user);
    RETURN true;
END
$$;

-- (b) and (c): one policy per role, the same table and statement.
GRANT SELECT ON public.service_requests
    TO bench_tiers_bypass, bench_tiers_self, bench_tiers_rows, bench_tiers_floor, bench_tiers_once;
-- The permission checks read public.users as the querying role (1.7): the
-- roles whose policies call them hold SELECT on its id and tier columns,
-- nothing more (the unprivileged reader with grants).
GRANT SELECT (id, auth_tier) ON public.users TO bench_tiers_self, bench_tiers_rows;
ALTER TABLE public.service_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY view_as_current_user ON public.service_requests FOR SELECT TO bench_tiers_self
    USING (fleetmigrate.user_can_view_requests(current_setting('app.user_id')::uuid));
CREATE POLICY view_by_requester ON public.service_requests FOR SELECT TO bench_tiers_rows
    USING (fleetmigrate.user_can_view_requests(requester_id));
-- Not targets.  The least any policy evaluated once per query costs: a
-- sub-select of a constant, an initplan whose result is tested per row.
CREATE POLICY once_per_query ON public.service_requests FOR SELECT TO bench_tiers_once
    USING ((SELECT true));
-- The least a per-row function of requester_id costs (a built-in C
-- function, strict, so evaluated for every row).
CREATE POLICY floor_by_requester ON public.service_requests FOR SELECT TO bench_tiers_floor
    USING (pg_catalog.uuid_hash(requester_id) IS NOT NULL);
SQL
dbsql -c 'VACUUM (ANALYZE)' -c CHECKPOINT

self_id=$(dbsql -At -c "SELECT md5('user1')::uuid")
magic_id=$(dbsql -At -c "SELECT md5('user2')::uuid")
unknown_id=$(dbsql -At -c "SELECT md5('nobody')::uuid")

# ---------------------------------------------------------------- (b), (c)

# What each side must count, computed without the permission checks.
expected_all=$(dbsql -At -c 'SELECT count(*) FROM public.service_requests')
expected_self=$(dbsql -At -c "SELECT count(*) FROM public.service_requests
    WHERE EXISTS (SELECT FROM public.users u JOIN fleetmigrate.tiers t ON t.tier = u.auth_tier
                   WHERE u.id = '$self_id' AND 'can_view_requests' = ANY (t.capabilities))")
expected_rows=$(dbsql -At -c "SELECT count(*) FROM public.service_requests s
    JOIN public.users u ON u.id = s.requester_id
    JOIN fleetmigrate.tiers t ON t.tier = u.auth_tier
    WHERE 'can_view_requests' = ANY (t.capabilities)")
requester_mix=$(dbsql -At -c "SELECT count(DISTINCT s.requester_id) || ' distinct requesters; by tier: '
        || (SELECT string_agg(tier || ' ' || n, ', ' ORDER BY tier)
              FROM (SELECT u.auth_tier AS tier, count(*) AS n FROM public.users u
                     WHERE u.id IN (SELECT requester_id FROM public.service_requests)
                     GROUP BY 1) m)
    FROM public.service_requests s")
((expected_all == n_rows)) || fm_die "service_requests has $expected_all rows, expected $n_rows"
((expected_self == n_rows)) || fm_die "(b): user $self_id should see every row, the join says $expected_self"
((expected_rows > 0 && expected_rows < n_rows)) ||
    fm_die "(c): $expected_rows of $n_rows rows visible: the tiers' capabilities do not matter"
fm_log "(c): $expected_rows of $n_rows rows visible; $requester_mix"

# The sides: RLS off, (b), (c), each with the server's parallel settings
# and, for information, without parallel workers (*_serial).
# For information: once, a policy evaluated once per query (the least (b)
# can cost); floor, a built-in function of requester_id per row (the least
# (c) can cost).
sides=(off b once c floor off_serial b_serial once_serial c_serial floor_serial)
declare -A side_role=(
    [off]=bench_tiers_bypass [b]=bench_tiers_self [c]=bench_tiers_rows [floor]=bench_tiers_floor
    [off_serial]=bench_tiers_bypass [b_serial]=bench_tiers_self [c_serial]=bench_tiers_rows
    [floor_serial]=bench_tiers_floor [once]=bench_tiers_once [once_serial]=bench_tiers_once
)
declare -A side_expected=(
    [off]=$expected_all [b]=$expected_self [c]=$expected_rows [floor]=$expected_all
    [off_serial]=$expected_all [b_serial]=$expected_self [c_serial]=$expected_rows
    [floor_serial]=$expected_all [once]=$expected_all [once_serial]=$expected_all
)
query='SELECT count(*) FROM public.service_requests'

# Untimed checks of (b)'s policy: a user without the capability and an
# unknown user see nothing.
for id in "$magic_id" "$unknown_id"; do
    n=$(dbsql -At -c "SET app.user_id = '$id'" -c 'SET ROLE bench_tiers_self' -c "$query")
    [[ "$n" == 0 ]] || fm_die "(b): user $id (MAGIC_LINK or unknown) sees $n rows, expected 0"
done

# The plans, as the application would get them.
declare -A plan=() workers=()
for s in off b c; do
    plan[$s]=$(dbsql -At -c "SET app.user_id = '$self_id'" -c "SET ROLE ${side_role[$s]}" \
        -c "EXPLAIN (COSTS OFF) $query")
    workers[$s]=$(dbsql -At -c "SET app.user_id = '$self_id'" -c "SET ROLE ${side_role[$s]}" \
        -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $query" |
        sed -n 's/^ *\(Workers [A-Z][a-z]*: [0-9]*\)$/\1/p' | paste -sd ',' - | sed 's/,/, /g')
    [[ -n "${workers[$s]}" ]] || workers[$s]="no parallel workers"
done

# One session: warm-up (round 0), then the timed rounds; the order of the
# sides reverses from one round to the next.
script=$work/counts.sql
{
    printf '\\set ON_ERROR_STOP 1\n'
    printf "SET app.user_id = '%s';\n" "$self_id"
    for ((round = 0; round <= query_runs; round++)); do
        order=("${sides[@]}")
        if ((round % 2 == 0)); then
            order=()
            for ((k = ${#sides[@]} - 1; k >= 0; k--)); do order+=("${sides[k]}"); done
        fi
        for s in "${order[@]}"; do
            printf 'SET ROLE %s;\n' "${side_role[$s]}"
            [[ "$s" == *_serial ]] && printf 'SET max_parallel_workers_per_gather = 0;\n'
            printf '\\echo @ %s %d\n\\timing on\n%s;\n\\timing off\n' "$s" "$round" "$query"
            [[ "$s" == *_serial ]] && printf 'RESET max_parallel_workers_per_gather;\n'
            printf 'RESET ROLE;\n'
        done
    done
} >"$script"

fm_log "(b), (c): $query_runs rounds of ${#sides[@]} counts, after a warm-up round"
dbsql -At -f "$script" >"$work/counts.out"

declare -A t_count=()
while read -r s round count ms; do
    [[ "$count" == "${side_expected[$s]}" ]] ||
        fm_die "$s, round $round: count(*) = $count, expected ${side_expected[$s]}"
    if ((round > 0)); then t_count[$s]+="$ms "; fi
done < <(awk '
    /^@ / { s = $2; r = $3; c = ""; next }
    s != "" && c == "" && /^[0-9]+$/ { c = $1; next }
    s != "" && /^Time: / { print s, r, c, $2; s = "" }
' "$work/counts.out")
for s in "${sides[@]}"; do
    nr=$(wc -w <<<"${t_count[$s]:-}")
    if ((nr != query_runs)); then
        tail -n 40 "$work/counts.out" >&2
        fm_die "$s: $nr timings parsed from psql's output (end above), expected $query_runs"
    fi
    printf '%-11s %s ms\n' "$s" "${t_count[$s]}"
done

# ---------------------------------------------------------------- (a)

declare -A p_script=([fleetmigrate]=fleetmigrate.upgrade_user_tier [plpgsql]=public.bench_plpgsql_upgrade)
declare -A p_history=([fleetmigrate]=fleetmigrate.user_tier_history [plpgsql]=public.bench_tier_history)
declare -A tps=() changed_share=()

# Run NUMBER (0: warm-up) of SIDE for SECONDS; sets run_tps, run_xacts, run_changed.
# The reason of the history rows, 'tiers.sh run SEQ', numbers the pgbench
# runs in the order they ran, for the history check.
pgbench_seq=0
run_pgbench() {
    local side=$1 number=$2 secs=$3 file=$work/$1-$2.pgbench out before after failed
    pgbench_seq=$((pgbench_seq + 1))
    cat >"$file" <<EOF
\\set u random(1, $n_users)
\\set t random(1, 4)
SELECT ${p_script[$side]}(md5('user' || :u)::uuid, (ARRAY['MAGIC_LINK', 'AUTHENTICATED', 'ROBO_HUB', 'ROBO_DAPP'])[:t], 'tiers.sh run $pgbench_seq', true);
EOF
    dbsql -c 'VACUUM (ANALYZE) public.users' -c CHECKPOINT
    before=$(dbsql -At -c "SELECT count(*) FROM ${p_history[$side]}")
    out=$("$pgbench" -n -M prepared -c "$clients" -j "$clients" -T "$secs" -f "$file" "$db" 2>&1) || {
        printf '%s\n' "$out" >&2
        fm_die "pgbench failed ($side, run $number)"
    }
    after=$(dbsql -At -c "SELECT count(*) FROM ${p_history[$side]}")
    run_tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out")
    run_xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
    [[ -n "$run_tps" && -n "$run_xacts" ]] || { printf '%s\n' "$out" >&2; fm_die "could not read pgbench's output"; }
    [[ -z "$failed" || "$failed" == 0 ]] || { printf '%s\n' "$out" >&2; fm_die "$side: $failed failed transactions"; }
    run_changed=$((after - before))
    ((run_changed > 0 && run_changed <= run_xacts)) ||
        fm_die "$side run $number: $run_changed history rows for $run_xacts calls"
}

fm_log "(a): warm-up, then $runs runs of ${duration}s per side, pgbench -c $clients -j $clients"
run_pgbench fleetmigrate 0 3
run_pgbench plpgsql 0 3
for ((i = 1; i <= runs; i++)); do
    if ((i % 2)); then order=(fleetmigrate plpgsql); else order=(plpgsql fleetmigrate); fi
    for side in "${order[@]}"; do
        run_pgbench "$side" "$i" "$duration"
        tps[$side]+="$run_tps "
        changed_share[$side]+="$(awk -v c="$run_changed" -v x="$run_xacts" 'BEGIN { printf "%.3f", c / x }') "
        printf '(a) %-12s run %d/%d: %10.1f tps, %d calls, %d changed a tier\n' \
            "$side" "$i" "$runs" "$run_tps" "$run_xacts" "$run_changed"
    done
done

# Both sides' history, in order (pgbench runs never overlap and are numbered
# in the reason; within a run, history ids follow the lock order), must
# chain from each user's initial tier to the tier the user has now; a user
# without history must still be on the initial tier.
chain=$(dbsql -At -F ' ' <<'SQL'
WITH h AS (
    SELECT user_id, from_tier, to_tier, split_part(reason, ' ', 3)::int AS run, id
      FROM fleetmigrate.user_tier_history WHERE reason LIKE 'tiers.sh run %'
    UNION ALL
    SELECT user_id, from_tier, to_tier, split_part(reason, ' ', 3)::int, id
      FROM public.bench_tier_history WHERE reason LIKE 'tiers.sh run %'
), o AS (
    SELECT h.*, lag(to_tier) OVER w AS prev_to, row_number() OVER w AS k,
           count(*) OVER (PARTITION BY user_id) AS changes
      FROM h WINDOW w AS (PARTITION BY user_id ORDER BY run, id)
)
SELECT count(*),
       count(*) FILTER (WHERE from_tier IS DISTINCT FROM
                        CASE WHEN k = 1 THEN s.tier ELSE prev_to END),
       count(*) FILTER (WHERE k = changes AND to_tier IS DISTINCT FROM u.auth_tier),
       (SELECT count(*) FROM public.users u0 JOIN public.bench_user_seed s0 ON s0.id = u0.id
         WHERE u0.auth_tier IS DISTINCT FROM s0.tier
           AND NOT EXISTS (SELECT FROM h WHERE h.user_id = u0.id))
  FROM o
  JOIN public.bench_user_seed s ON s.id = o.user_id
  JOIN public.users u ON u.id = o.user_id
SQL
)
read -r chain_rows chain_broken chain_final chain_silent <<<"$chain"
((chain_broken == 0 && chain_final == 0 && chain_silent == 0)) ||
    fm_die "(a): tier history inconsistent: $chain_broken rows do not follow the previous one, $chain_final users' tiers differ from their last history row, $chain_silent users changed tier without history"
fm_log "(a): $chain_rows history rows checked: one unbroken chain per user"

bench_s=$(seconds "$bench_t0" "$(now)")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- results

pg_version=$(fm_psql -At -c 'SELECT version()')
settings=$(bench_settings fsync synchronous_commit full_page_writes shared_buffers work_mem max_parallel_workers_per_gather max_parallel_workers max_worker_processes min_parallel_table_scan_size jit)
bench_machine
bench_check_library

verdict() { if "$1" "$2" "$3"; then echo met; else echo MISSED; fi; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; }
# ns per row of a side over the baseline
per_row() { awk -v a="$1" -v b="$2" -v n="$n_rows" 'BEGIN { printf "%.0f", (a - b) * 1e6 / n }'; }
runs_of() { tr -s ' ' '\n' <<<"$1" | grep . | awk -v d="$2" '{ printf "%s%.*f", (NR > 1 ? ", " : ""), d, $1 }'; }

tps_fm=$(median "${tps[fleetmigrate]}")
tps_pl=$(median "${tps[plpgsql]}")
ratio_a=$(ratio "$tps_fm" "$tps_pl")
met_a=$(verdict ge "$ratio_a" 1.0)
declare -A med=()
for s in "${sides[@]}"; do med[$s]=$(median "${t_count[$s]}"); done
ratio_b=$(ratio "${med[b]}" "${med[off]}")
ratio_c=$(ratio "${med[c]}" "${med[off]}")
ratio_bs=$(ratio "${med[b_serial]}" "${med[off_serial]}")
ratio_cs=$(ratio "${med[c_serial]}" "${med[off_serial]}")
ratio_f=$(ratio "${med[floor]}" "${med[off]}")
ratio_o=$(ratio "${med[once]}" "${med[off]}")
ratio_os=$(ratio "${med[once_serial]}" "${med[off_serial]}")
ratio_fs=$(ratio "${med[floor_serial]}" "${med[off_serial]}")
met_b=$(verdict le "$ratio_b" 1.1)
met_c=$(verdict le "$ratio_c" 1.5)
# Run i of both sides ran back to back: the ratio of each such pair, which
# load changes over the whole benchmark do not move as much.
pair_ratios=$(paste -d' ' <(tr -s ' ' '\n' <<<"${tps[fleetmigrate]}" | grep .) \
    <(tr -s ' ' '\n' <<<"${tps[plpgsql]}" | grep .) | awk '{ printf "%.3f ", $1 / $2 }')
share_fm=$(median "${changed_share[fleetmigrate]}")
share_pl=$(median "${changed_share[plpgsql]}")

table="| measurement | fleetmigrate | baseline | ratio | target | result |
|---|---:|---:|---:|---:|---|
| (a) upgrade_user_tier() throughput, pgbench -c $clients -j $clients -T $duration, median of $runs | $(fmt "$tps_fm" 0) tps | $(fmt "$tps_pl" 0) tps (PL/pgSQL) | **$ratio_a** (fleetmigrate / PL/pgSQL) | ≥ 1.0 | $met_a |
| (b) count(*) of $n_rows rows, policy user_can_view_requests(current_setting('app.user_id')::uuid), median of $query_runs | $(fmt "${med[b]}" 1) ms | $(fmt "${med[off]}" 1) ms (RLS off) | **$ratio_b** | ≤ 1.1 | $met_b |
| (c) count(*) of $n_rows rows of $n_requesters users, policy user_can_view_requests(requester_id), median of $query_runs | $(fmt "${med[c]}" 1) ms | $(fmt "${med[off]}" 1) ms (RLS off) | **$ratio_c** | ≤ 1.5 | $met_c |"

info="| not a target | with policy | RLS off | ratio |
|---|---:|---:|---:|
| (b) without parallel workers (max_parallel_workers_per_gather = 0) | $(fmt "${med[b_serial]}" 1) ms | $(fmt "${med[off_serial]}" 1) ms | $ratio_bs |
| (c) without parallel workers | $(fmt "${med[c_serial]}" 1) ms | $(fmt "${med[off_serial]}" 1) ms | $ratio_cs |
| floor of (b): policy (SELECT true), an initplan tested per row | $(fmt "${med[once]}" 1) ms | $(fmt "${med[off]}" 1) ms | $ratio_o |
| floor of (b) without parallel workers | $(fmt "${med[once_serial]}" 1) ms | $(fmt "${med[off_serial]}" 1) ms | $ratio_os |
| floor of (c): policy uuid_hash(requester_id) IS NOT NULL, a built-in function per row | $(fmt "${med[floor]}" 1) ms | $(fmt "${med[off]}" 1) ms | $ratio_f |
| floor of (c) without parallel workers | $(fmt "${med[floor_serial]}" 1) ms | $(fmt "${med[off_serial]}" 1) ms | $ratio_fs |"

details="- (a) every run, tps: fleetmigrate $(runs_of "${tps[fleetmigrate]}" 0); PL/pgSQL $(runs_of "${tps[plpgsql]}" 0).
  Ratio of each run's pair (the two sides back to back): $(runs_of "$pair_ratios" 3); median $(median "$pair_ratios").
  Share of calls that changed a tier (history rows / calls, median): fleetmigrate $share_fm, PL/pgSQL $share_pl.
  History check: $chain_rows rows of both sides form one unbroken chain per user.
- (b), (c) every run, ms: RLS off $(runs_of "${t_count[off]}" 1); (b) $(runs_of "${t_count[b]}" 1); (c) $(runs_of "${t_count[c]}" 1); floor of (b) $(runs_of "${t_count[once]}" 1); floor of (c) $(runs_of "${t_count[floor]}" 1).
  Without parallel workers: RLS off $(runs_of "${t_count[off_serial]}" 1); (b) $(runs_of "${t_count[b_serial]}" 1); (c) $(runs_of "${t_count[c_serial]}" 1); floor of (b) $(runs_of "${t_count[once_serial]}" 1); floor of (c) $(runs_of "${t_count[floor_serial]}" 1).
- Cost of the check over the scan, per row: (b) $(per_row "${med[b]}" "${med[off]}") ns, (c) $(per_row "${med[c]}" "${med[off]}") ns
  (without parallel workers: (b) $(per_row "${med[b_serial]}" "${med[off_serial]}") ns, (c) $(per_row "${med[c_serial]}" "${med[off_serial]}") ns); wall-clock time per row of the table.
- Counts (every timed run checked): RLS off and (b) $expected_all; (c) $expected_rows
  (as computed by joining users and fleetmigrate.tiers); $requester_mix.
  Under (b)'s policy a user on MAGIC_LINK and an unknown user see 0 rows."

echo
echo "$table"
echo
echo "$info"
echo
echo "$details"
echo
for s in off b c; do
    printf -- '-- plan, %s (%s): %s\n%s\n' "$s" "${side_role[$s]}" "${workers[$s]}" "${plan[$s]}"
done
echo "benchmark time: $bench_s s; load average before $load_before, after $load_after"

((write)) || exit 0

block=$work/block.md
{
    cat <<EOF
<!-- tiers:begin -->
## Authentication tiers

\`fleetmigrate.upgrade_user_tier()\` against a plain PL/pgSQL function with the
same rules, and the permission check \`fleetmigrate.user_can_view_requests()\` in
row-level security policies against the same scan without RLS. Generated by
\`test/bench/tiers.sh\` (this block only; \`test/bench/bench.sh\` keeps it when it
rewrites the rest of the file); not part of the test suite.

- Command: \`$command_line\` (from the repository root; environment:
  \`FM_CLUSTER_DIR=$FM_CLUSTER_DIR FM_PORT=$FM_PORT\`; in effect:
  \`BENCH_TIERS_USERS=$n_users BENCH_TIERS_REQUESTERS=$n_requesters BENCH_TIERS_ROWS=$n_rows
  BENCH_TIERS_DURATION=$duration BENCH_TIERS_RUNS=$runs BENCH_TIERS_CLIENTS=$clients BENCH_TIERS_QUERY_RUNS=$query_runs\`)
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Extension: commit $commit; $library
- Machine: $(nproc) CPUs ($cpu), $mem RAM; load average before $load_before, after $load_after
- Server: $pg_version
- Server settings: $settings
- Whole benchmark: $bench_s s

$table

$info

$details

### Plans

\`EXPLAIN (COSTS OFF) $query\`, as each role; workers from one untimed
\`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)\`.

RLS off (\`${side_role[off]}\`, BYPASSRLS): ${workers[off]}

\`\`\`text
${plan[off]}
\`\`\`

(b) policy \`user_can_view_requests(current_setting('app.user_id')::uuid)\` (\`${side_role[b]}\`): ${workers[b]}

\`\`\`text
${plan[b]}
\`\`\`

(c) policy \`user_can_view_requests(requester_id)\` (\`${side_role[c]}\`): ${workers[c]}

\`\`\`text
${plan[c]}
\`\`\`

### Method

- One database (\`createdb -T template0\`, dropped afterwards), \`CREATE EXTENSION
  fleetmigrate\` as the bootstrap superuser. \`public.users (id uuid PRIMARY KEY,
  email text, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK', upgraded_at
  timestamptz, tier_changed_at timestamptz)\`, the table the extension uses
  when \`fleetmigrate.tier_config\` is empty: $n_users users, ids
  \`md5('user' || n)::uuid\`, tiers drawn at random (seeded) from the four
  shipped ones. \`fleetmigrate.tiers\` edited so that MAGIC_LINK lacks
  \`can_view_requests\` (the other three keep it).
- (a) Both sides update the same \`public.users\`. PL/pgSQL side:
  \`public.bench_plpgsql_upgrade(uuid, text, text, boolean)\`, SECURITY
  INVOKER, no SET clause: checks the tier in \`fleetmigrate.tiers\`, \`SELECT
  ... FOR UPDATE OF u\` of the user left-joined to the old tier's rank, returns
  false when unchanged, refuses a downgrade by rank unless allowed, \`UPDATE\`s
  tier, \`tier_changed_at\` and (on an upgrade) \`upgraded_at\`, and inserts one
  row into \`public.bench_tier_history\`, which has the columns, defaults,
  check and \`(user_id, id)\` index of \`fleetmigrate.user_tier_history\`
  (whose triggers fire on UPDATE, DELETE and TRUNCATE only). fleetmigrate's
  side does the same through SPI: the users table as the caller, the tiers
  and the history as the extension's owner, with search_path pinned. pgbench script of either side (\`-M prepared\`, \`-n\`, one
  statement per transaction):
  \`SELECT f(md5('user' || :u)::uuid, (ARRAY['MAGIC_LINK', 'AUTHENTICATED',
  'ROBO_HUB', 'ROBO_DAPP'])[:t], 'tiers.sh run N', true)\` (N numbers the
  pgbench runs) with
  \`:u = random(1, $n_users)\` and \`:t = random(1, 4)\`, so about 3 calls in 4
  change the tier. A 3-second warm-up per side, then $runs runs of ${duration} s
  per side, alternating which side goes first; \`VACUUM (ANALYZE) public.users\`
  and \`CHECKPOINT\` before every run. Figure: median of pgbench's tps
  (without initial connection time). Checked: no failed transaction; each
  side wrote one history row per change; both sides' history rows, in
  order, form one unbroken chain per user from the initial tier to the tier
  the user has at the end.
- (b), (c) \`public.service_requests (id bigint identity PRIMARY KEY,
  requester_id uuid, title text, status text, created_at timestamptz)\`:
  $n_rows rows, requester_id drawn at random per row from the first
  $n_requesters users (so consecutive rows belong to different users),
  VACUUM (ANALYZE) after loading. Row-level security enabled (not forced;
  the table owner is not involved) with one policy per role:
  \`bench_tiers_self\`: \`USING (fleetmigrate.user_can_view_requests(current_setting('app.user_id')::uuid))\`
  with app.user_id the id of a user on AUTHENTICATED (sees every row);
  \`bench_tiers_rows\`: \`USING (fleetmigrate.user_can_view_requests(requester_id))\`;
  for information, \`bench_tiers_once\`: \`USING ((SELECT true))\` (an initplan
  tested per row, as in (b): what any policy evaluated once per query costs
  at least) and \`bench_tiers_floor\`: \`USING (pg_catalog.uuid_hash(requester_id) IS NOT NULL)\`
  (a built-in C function of the column per row, every row visible: what
  any per-row check of requester_id costs at least).
  \`bench_tiers_self\` and \`bench_tiers_rows\` hold \`SELECT (id, auth_tier)\` on
  \`public.users\`, which the checks read as the querying role, and nothing more.
  Baseline: the same statement on the same table as \`bench_tiers_bypass\`
  (BYPASSRLS), i.e. the plan without the policy. All five are NOLOGIN roles
  entered with \`SET ROLE\` from one psql session (the connection a pool
  would keep); the extension's per-session state is warm after the
  warm-up round, its per-query cache (fn_extra) is not shared between
  statements, and parallel workers start fresh for every statement.
  One warm-up round, then $query_runs rounds of all ten sides (five with
  the server's parallel settings, five with
  \`max_parallel_workers_per_gather = 0\`), the order reversed from one round to
  the next. Each count is timed by psql's \`\\timing\` (client side, the
  statement only, no EXPLAIN ANALYZE overhead). Figure: median. Every
  timed count is compared with the count computed by joining
  \`public.users\` and \`fleetmigrate.tiers\`.
- The cluster is a throwaway one from \`test/scripts/common.sh\`: fsync,
  synchronous_commit and full_page_writes off (the numbers measure CPU
  work, not the disk). The table is larger than a quarter of shared_buffers,
  so a sequential scan reads it through a small ring of buffers from the OS
  page cache, the same for every side.
- Absolute figures vary between runs on a shared VM by several per cent;
  the ratios are what to compare.
<!-- tiers:end -->
EOF
} >"$block"

bench_write_block tiers "$block"
