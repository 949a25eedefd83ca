# failover.pl -- the primary fails in the middle of a run and its streaming
# standby is promoted (issue 21, item 2).  A primary and a standby
# (PostgreSQL::Test::Cluster); for each point below the primary is stopped
# with pg_ctl stop -m immediate while a run is at that point, the standby is
# promoted, its state is checked, the run is made again there, and then:
# every migration applied exactly once (its table exists, its history has
# one 'applied' event, its ten rows are in the ledger table once: none lost,
# none doubled), no INVALID index, and fleetmigrate.runs says what happened.
# The promoted node is the primary of the next point, with a new standby
# cloned from it (pg_basebackup), so one initdb serves the whole matrix.
#
# The points:
#  1. CALL migrate(), inside a transactional migration: its first statement
#     done, a later one running (pg_sleep while the session sets
#     fmtest.hold);
#  2. CALL migrate(), between two migrations: the first committed, nothing
#     of the next begun.  Between migrations the run starts a transaction and
#     reads the next migration's catalog row FOR UPDATE (the scripts as the
#     run checked them, FmCatalogPlannedScripts() in migrate.c) before
#     anything of it runs; a test session holds that row locked, so the run
#     waits there (the first migration gets going only once the row is
#     locked: it waits for an advisory lock the test holds, and
#     fleetmigrate.lock_timeout = 0 lets it wait);
#  3. CALL migrate(), during a non-transactional migration's CREATE INDEX
#     CONCURRENTLY (an old snapshot held by another session keeps the build
#     waiting): its earlier statements committed, the index INVALID;
#  4. apply_pending(), inside its second migration (one transaction: nothing
#     of it survives, and it keeps no run log);
#  5. apply_pending() returned 'applied' rows in a transaction not yet
#     committed (BEGIN; SELECT * FROM apply_pending(); ... no COMMIT);
#  6. CALL migrate(), in the middle of a batched backfill (UPDATE acct SET
#     n = n + 1 WHERE id > 0, 100 rows a batch): five batches committed,
#     the sixth waiting for a row a test session holds locked
#     (fleetmigrate.lock_timeout = 0); afterwards every row has n = 1;
#  7. synchronous replication (synchronous_standby_names naming the standby,
#     synchronous_commit = remote_apply): the primary is stopped right after
#     migrate() committed a migration (the run is inside the next one),
#     without waiting for the standby; the migration is applied on the
#     promoted node.  That the commit waits for the standby is shown first:
#     with the standby's replay paused the run waits in SyncRep and nothing
#     is recorded as applied on the primary;
#  8. the same with apply_pending(): stopped right after its transaction
#     committed, both its migrations are applied on the promoted node.
# Points 1 to 6 use asynchronous replication and wait until the standby has
# replayed what the primary wrote before stopping it (the commits an
# asynchronous standby never received are lost with the primary whatever
# runs; points 7 and 8 use the configuration that loses none).
# apply_pending() refuses non-transactional migrations, so the concurrent
# build is a point of migrate() only.  The last line of output gives the
# matrix: points tried, migrations checked, lost, doubled.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'postgres';
my $hold = q{SELECT pg_sleep(CASE WHEN current_setting('fmtest.hold', true) = 'on' THEN 600 ELSE 0 END)};
my ($points, $lost, $doubled, $checked) = (0, 0, 0, 0);

my $primary = PostgreSQL::Test::Cluster->new('primary0');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf',
	"max_worker_processes = 16\nlog_min_messages = warning\n");
$primary->start;
$primary->safe_psql($db, q{
	CREATE EXTENSION fleetmigrate;
	CREATE TABLE ledger (version text NOT NULL, n int NOT NULL);
	CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
	INSERT INTO acct (id) SELECT generate_series(1, 1000);
	CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g});

# A standby of PRIMARY, streaming, caught up.
my $generation = 0;
sub new_standby
{
	my ($from) = @_;
	$generation++;
	$from->backup("backup$generation");
	my $standby = PostgreSQL::Test::Cluster->new("standby$generation");
	$standby->init_from_backup($from, "backup$generation", has_streaming => 1);
	$standby->start;
	$from->wait_for_catchup($standby);
	return $standby;
}
my $standby = new_standby($primary);

# An ordinary migration's up script: its table and ten rows of the ledger,
# then EXTRA (such as $hold, which sleeps while the session sets fmtest.hold).
sub up_script
{
	my ($v, $extra) = @_;
	return "CREATE TABLE obj_$v (id int);\n"
	  . "INSERT INTO ledger SELECT '$v', g FROM generate_series(1, 10) g;\n"
	  . ($extra // '');
}

sub register
{
	my ($node, $v, $name, $up) = @_;
	$node->safe_psql($db, "SELECT fleetmigrate.register('$v', '$name', \$fm\$$up\$fm\$)");
}

# psql running SQL (one -c each) against NODE in the background.
sub start_psql
{
	my ($node, $out, $err, @sql) = @_;
	$$out = '';
	$$err = '';
	return IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), map { ('-c', $_) } @sql ],
		'>', $out, '2>', $err);
}

sub poll
{
	my ($node, $sql, $what) = @_;
	$node->poll_query_until($db, $sql) or die "$what: timed out";
}

# The session applying migration V (of migrate() or apply_pending()), once it
# waits for WAIT_EVENT: its pid.
sub wait_for_run
{
	my ($node, $v, $wait_event) = @_;
	my $where = qq{query LIKE 'fleetmigrate: applying migration $v' || E'\\n%' AND wait_event = '$wait_event'};
	poll($node, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $where)",
		"migration $v waiting for $wait_event");
	return $node->safe_psql($db, "SELECT pid FROM pg_stat_activity WHERE $where");
}

# Stop the primary of POINT with -m immediate (after its standby replayed
# what it wrote, unless NO_CATCHUP), end the run's psql, promote the standby.
sub fail_over
{
	my ($point, $h, $err, $no_catchup, @sessions) = @_;
	$primary->wait_for_catchup($standby) unless $no_catchup;
	$primary->stop('immediate');
	if ($h)
	{
		$h->finish;
		like($$err, qr/server closed the connection unexpectedly|terminating connection/,
			"$point: the run was cut off");
	}
	eval { $_->quit } for @sessions;
	$standby->promote;
	poll($standby, 'SELECT NOT pg_is_in_recovery()', "$point: promotion");
	$points++;
}

# "version state statements_done" of VERSIONS on NODE, comma-separated.
sub states
{
	my ($node, @v) = @_;
	my $in = join ', ', map { "'$_'" } @v;
	return $node->safe_psql($db, qq{
		SELECT string_agg(version || ' ' || state || ' ' || statements_done, ',' ORDER BY version)
		  FROM fleetmigrate.status WHERE version IN ($in)});
}

sub last_run
{
	my ($node) = @_;
	return $node->safe_psql($db,
		'SELECT outcome, applied FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1');
}

# "outcome applied" of the last N runs, oldest first.
sub runs_tail
{
	my ($node, $n) = @_;
	return $node->safe_psql($db, qq{
		SELECT string_agg(outcome || ' ' || applied, ',' ORDER BY id)
		  FROM (SELECT id, outcome, applied FROM fleetmigrate.runs ORDER BY id DESC LIMIT $n) r});
}

# After the run again on the promoted node: each of VERSIONS applied once.
# (Points 7 and 8 count as lost, besides, a migration the old primary had
# reported as applied that the promoted node does not have before it runs.)
sub check_once
{
	my ($node, $point, @versions) = @_;
	for my $v (@versions)
	{
		my $row = $node->safe_psql($db, qq{
			SELECT (SELECT state FROM fleetmigrate.status WHERE version = '$v'),
			       (SELECT count(*) FROM fleetmigrate.history WHERE version = '$v' AND event = 'applied'),
			       (SELECT count(*) FROM pg_class WHERE relname = 'obj_$v'),
			       (SELECT count(*) FROM ledger WHERE version = '$v'),
			       (SELECT count(DISTINCT n) FROM ledger WHERE version = '$v')});
		my ($state, $events, $objects, $rows, $distinct) = split /\|/, $row;
		$checked++;
		$lost++ if $state ne 'applied' || $events == 0 || $objects == 0 || $distinct < 10;
		$doubled++ if $events > 1 || $objects > 1 || $rows > 10;
		is($row, 'applied|1|1|10|10',
			"$point: $v applied once: one 'applied' event, its table, its ten rows once");
	}
	is($node->safe_psql($db, 'SELECT count(*) FROM pg_index WHERE NOT indisvalid'),
		'0', "$point: no INVALID index");
	is($node->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.runs WHERE outcome = 'running'}),
		'0', "$point: no run shown as running");
}

sub next_pair
{
	$primary = $standby;
	$standby = new_standby($primary);
}

my ($out, $err, $h);

# 1. migrate(), inside a transactional migration
{
	my $p = 'migrate, inside a migration';
	register($primary, '101', 'first', up_script('101'));
	register($primary, '102', 'held', up_script('102', "$hold;\nSELECT 1;\n"));
	register($primary, '103', 'last', up_script('103'));
	$h = start_psql($primary, \$out, \$err, q{SET fmtest.hold = 'on'}, 'CALL fleetmigrate.migrate()');
	wait_for_run($primary, '102 held', 'PgSleep');
	is(states($primary, '101', '102'), '101 applied 0,102 pending 0',
		"$p: on the primary, 101 is applied and 102 is running");
	$primary->wait_for_catchup($standby);
	is(last_run($standby), 'running|1',
		"$p: on the standby, before the failover, the run is shown as the primary records it");
	fail_over($p, $h, \$err);

	is(states($standby, '101', '102', '103'), '101 applied 0,102 pending 0,103 pending 0',
		"$p: promoted: the committed migration is applied, the interrupted one and the next pending");
	is($standby->safe_psql($db, q{SELECT to_regclass('obj_102') IS NULL AND NOT EXISTS (SELECT FROM ledger WHERE version = '102')}),
		't', "$p: promoted: none of the interrupted migration's work is there");
	is(last_run($standby), 'interrupted|1', "$p: promoted: the run shows as interrupted, one migration applied");
	like($standby->safe_psql($db, 'CALL fleetmigrate.migrate()'), qr/\|2\|succeeded$/,
		"$p: the run on the promoted node applies the other two");
	is(runs_tail($standby, 2), 'interrupted 1,succeeded 2',
		"$p: the run log: the interrupted run, then the one that finished");
	check_once($standby, $p, '101', '102', '103');
	next_pair();
}

# 2. migrate(), between two migrations
{
	my $p = 'migrate, between migrations';
	register($primary, '201', 'gate', up_script('201', "SELECT pg_advisory_xact_lock(2101);\n"));
	register($primary, '202', 'next', up_script('202'));
	register($primary, '203', 'last', up_script('203'));
	my $gate = $primary->background_psql($db);
	$gate->query_safe('BEGIN');
	$gate->query_safe('SELECT pg_advisory_xact_lock(2101)');
	$h = start_psql($primary, \$out, \$err, 'SET fleetmigrate.lock_timeout = 0', 'CALL fleetmigrate.migrate()');
	my $pid = wait_for_run($primary, '201 gate', 'advisory');
	# the run checked its plan and committed: it holds no lock on 202's row
	my $row = $primary->background_psql($db);
	$row->query_safe('BEGIN');
	is($row->query_safe(q{SELECT version FROM fleetmigrate.migrations WHERE version = '202' FOR UPDATE NOWAIT}),
		'202', "$p: a session locks 202's catalog row while 201 runs");
	$gate->query_safe('COMMIT');
	poll($primary, qq{
		SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $pid AND locktype = 'transactionid' AND NOT granted)
		   AND (SELECT state FROM fleetmigrate.status WHERE version = '201') = 'applied'},
		"$p: the run waiting for 202's row");
	is(states($primary, '201', '202'), '201 applied 0,202 pending 0',
		"$p: on the primary, 201 is committed and 202 not begun");
	fail_over($p, $h, \$err, 0, $gate, $row);

	is(states($standby, '201', '202', '203'), '201 applied 0,202 pending 0,203 pending 0',
		"$p: promoted: 201 applied, 202 and 203 pending");
	is($standby->safe_psql($db, q{SELECT to_regclass('obj_202') IS NULL AND NOT EXISTS (SELECT FROM ledger WHERE version = '202')}),
		't', "$p: promoted: nothing of 202 is there");
	is(last_run($standby), 'interrupted|1', "$p: promoted: the run shows as interrupted, one migration applied");
	like($standby->safe_psql($db, 'CALL fleetmigrate.migrate()'), qr/\|2\|succeeded$/,
		"$p: the run on the promoted node applies the other two");
	is(runs_tail($standby, 2), 'interrupted 1,succeeded 2',
		"$p: the run log: the interrupted run, then the one that finished");
	check_once($standby, $p, '201', '202', '203');
	next_pair();
}

# 3. migrate(), during a non-transactional migration's concurrent index build
{
	my $p = 'migrate, during CREATE INDEX CONCURRENTLY';
	register($primary, '301', 'first', up_script('301'));
	register($primary, '302', 'index', up_script('302',
		"CREATE INDEX CONCURRENTLY big_id_302 ON big (id);\nINSERT INTO obj_302 VALUES (1);\n"));
	is($primary->safe_psql($db, q{SELECT transactional FROM fleetmigrate.status WHERE version = '302'}),
		'f', "$p: 302 is non-transactional");
	my $old = $primary->background_psql($db);
	$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$old->query_safe('SELECT 1');
	$h = start_psql($primary, \$out, \$err, 'CALL fleetmigrate.migrate()');
	poll($primary, q{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		                WHERE backend_type = 'fleetmigrate worker'
		                  AND wait_event_type = 'Lock' AND wait_event = 'virtualxid')},
		"$p: the concurrent build waiting");
	is(states($primary, '301', '302'), '301 applied 0,302 pending 2',
		"$p: on the primary, 301 applied, 302 part way (two statements done)");
	fail_over($p, $h, \$err, 0, $old);

	is(states($standby, '301', '302'), '301 applied 0,302 pending 2',
		"$p: promoted: 301 applied, 302 pending with its two statements done");
	is($standby->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_302'::regclass}),
		'f', "$p: promoted: the interrupted build left an INVALID index");
	is(last_run($standby), 'interrupted|1', "$p: promoted: the run shows as interrupted, one migration applied");
	$standby->psql($db, 'CALL fleetmigrate.migrate()', stdout => \$out, stderr => \$err);
	like($out, qr/^\d+\|1\|succeeded$/, "$p: the run on the promoted node finishes 302");
	like($err, qr/index public\.big_id_302 is invalid, left by an interrupted CREATE INDEX CONCURRENTLY; dropping it and building it again/,
		"$p: with a NOTICE about the invalid index");
	is($standby->safe_psql($db, 'SELECT count(*) FROM obj_302'), '1',
		"$p: the statement after the build ran once");
	is(runs_tail($standby, 2), 'interrupted 1,succeeded 1',
		"$p: the run log: the interrupted run, then the one that finished");
	check_once($standby, $p, '301', '302');
	next_pair();
}

# 4. apply_pending(), inside its second migration
{
	my $p = 'apply_pending, inside a migration';
	register($primary, '401', 'first', up_script('401'));
	register($primary, '402', 'held', up_script('402', "$hold;\n"));
	my $runs = $primary->safe_psql($db, 'SELECT count(*) FROM fleetmigrate.run_log');
	$h = start_psql($primary, \$out, \$err, q{SET fmtest.hold = 'on'},
		'SELECT version, status FROM fleetmigrate.apply_pending()');
	wait_for_run($primary, '402 held', 'PgSleep');
	fail_over($p, $h, \$err);

	is(states($standby, '401', '402'), '401 pending 0,402 pending 0',
		"$p: promoted: both pending (apply_pending() is one transaction)");
	is($standby->safe_psql($db, q{
		SELECT count(*) FROM pg_class WHERE relname IN ('obj_401', 'obj_402')}) . '|'
		. $standby->safe_psql($db, q{SELECT count(*) FROM ledger WHERE version IN ('401', '402')}) . '|'
		. $standby->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.history WHERE version IN ('401', '402')}),
		'0|0|0', "$p: promoted: no table, no rows, no history of either");
	is($standby->safe_psql($db, 'SELECT count(*) FROM fleetmigrate.run_log'), $runs,
		"$p: promoted: the run log has nothing of it (apply_pending() keeps none)");
	is($standby->safe_psql($db, 'SELECT string_agg(version || status, \',\' ORDER BY version) FROM fleetmigrate.apply_pending()'),
		'401applied,402applied', "$p: apply_pending() on the promoted node applies both");
	check_once($standby, $p, '401', '402');
	next_pair();
}

# 5. apply_pending() returned, its transaction not committed
{
	my $p = 'apply_pending, before COMMIT';
	register($primary, '501', 'first', up_script('501'));
	register($primary, '502', 'second', up_script('502'));
	my $tx = $primary->background_psql($db);
	$tx->query_safe('SET client_min_messages = warning');
	$tx->query_safe('BEGIN');
	is($tx->query_safe(q{SELECT string_agg(version || status, ',' ORDER BY version) FROM fleetmigrate.apply_pending()}),
		'501applied,502applied', "$p: apply_pending() returned both applied");
	is(states($primary, '501', '502'), '501 pending 0,502 pending 0',
		"$p: on the primary, not committed: pending for everyone else");
	fail_over($p, undef, undef, 0, $tx);

	is(states($standby, '501', '502'), '501 pending 0,502 pending 0', "$p: promoted: both pending");
	is($standby->safe_psql($db, q{SELECT count(*) FROM ledger WHERE version IN ('501', '502')}),
		'0', "$p: promoted: none of their rows");
	like($standby->safe_psql($db, 'CALL fleetmigrate.migrate()'), qr/\|2\|succeeded$/,
		"$p: a run on the promoted node applies both");
	check_once($standby, $p, '501', '502');
	next_pair();
}

# The standby synchronous, commits waiting until it has replayed them.  (Not
# in the standby's own configuration: ALTER SYSTEM is not replicated, so the
# promoted node commits without waiting for a standby it does not have.)
sub make_synchronous
{
	my ($p) = @_;
	my $name = $standby->name;
	$primary->safe_psql($db, qq{
		ALTER SYSTEM SET synchronous_standby_names = '"$name"';
		ALTER SYSTEM SET synchronous_commit = 'remote_apply';
		SELECT pg_reload_conf()});
	poll($primary, qq{SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = '$name'},
		"$p: the standby synchronous");
}

# 6. migrate(), in the middle of a batched backfill
{
	my $p = 'migrate, during a batched backfill';
	register($primary, '601', 'first', up_script('601'));
	register($primary, '602', 'backfill', "-- batch: table=acct key=id size=100\nUPDATE acct SET n = n + 1 WHERE id > 0");
	my $row = $primary->background_psql($db);
	$row->query_safe('BEGIN');
	$row->query_safe('SELECT id FROM acct WHERE id = 550 FOR UPDATE');
	$h = start_psql($primary, \$out, \$err, 'SET fleetmigrate.lock_timeout = 0', 'CALL fleetmigrate.migrate()');
	# five batches committed, the sixth waiting for row 550
	poll($primary, q{
		SELECT batches = 5 AND EXISTS (SELECT 1 FROM pg_stat_activity
		                                WHERE query LIKE 'fleetmigrate: applying migration 602 backfill%'
		                                  AND wait_event = 'transactionid')
		  FROM fleetmigrate.batch_progress WHERE version = '602'},
		"$p: the sixth batch waiting");
	fail_over($p, $h, \$err, 0, $row);

	is(states($standby, '601', '602'), '601 applied 0,602 pending 0', "$p: promoted: 601 applied, 602 pending");
	is($standby->safe_psql($db, q{
		SELECT (SELECT batches FROM fleetmigrate.batch_progress WHERE version = '602'),
		       (SELECT string_agg(n || ':' || c, ',' ORDER BY n)
		          FROM (SELECT n, count(*) AS c FROM acct GROUP BY n) g)}),
		'5|0:500,1:500', "$p: promoted: its five committed batches there, with their progress");
	is(last_run($standby), 'interrupted|1', "$p: promoted: the run shows as interrupted, one migration applied");
	like($standby->safe_psql($db, 'CALL fleetmigrate.migrate()'), qr/\|1\|succeeded$/,
		"$p: the run on the promoted node finishes the backfill");
	is(runs_tail($standby, 2), 'interrupted 1,succeeded 1',
		"$p: the run log: the interrupted run, then the one that finished");
	my $rows = $standby->safe_psql($db, q{
		SELECT (SELECT state FROM fleetmigrate.status WHERE version = '602'),
		       (SELECT count(*) FROM fleetmigrate.history WHERE version = '602' AND event = 'applied'),
		       (SELECT count(*) FILTER (WHERE n = 0) FROM acct),
		       (SELECT count(*) FILTER (WHERE n > 1) FROM acct)});
	my ($state, $events, $missed, $twice) = split /\|/, $rows;
	$checked++;
	$lost++ if $state ne 'applied' || $events == 0 || $missed > 0;
	$doubled++ if $events > 1 || $twice > 0;
	is($rows, 'applied|1|0|0', "$p: 602 applied once: every row updated once, no batch twice");
	check_once($standby, $p, '601');
	next_pair();
}

# 7. synchronous replication: what the primary committed is on the standby
{
	my $p = 'synchronous standby';
	make_synchronous($p);
	register($primary, '701', 'first', up_script('701'));
	register($primary, '702', 'held', up_script('702', "$hold;\n"));

	# while the standby does not replay, no commit of the run returns
	$standby->safe_psql($db, 'SELECT pg_wal_replay_pause()');
	poll($standby, q{SELECT pg_get_wal_replay_pause_state() = 'paused'}, "$p: replay paused");
	$h = start_psql($primary, \$out, \$err, q{SET fmtest.hold = 'on'}, 'CALL fleetmigrate.migrate()');
	poll($primary, q{SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep')},
		"$p: the run waiting for the standby");
	is(states($primary, '701'), '701 pending 0',
		"$p: replay paused: the run waits for the standby, 701 is not applied on the primary");
	$standby->safe_psql($db, 'SELECT pg_wal_replay_resume()');

	# right after 701's commit returned: stop, without waiting for anything
	wait_for_run($primary, '702 held', 'PgSleep');
	is(states($primary, '701'), '701 applied 0', "$p: on the primary, 701 is applied");
	fail_over($p, $h, \$err, 1);

	my $promoted = states($standby, '701', '702');
	$lost++ unless $promoted =~ /^701 applied/;
	is($promoted, '701 applied 0,702 pending 0', "$p: promoted: 701 is applied there, 702 pending");
	is($standby->safe_psql($db, q{
		SELECT (SELECT count(*) FROM ledger WHERE version = '701'),
		       (SELECT count(*) FROM fleetmigrate.history WHERE version = '701' AND event = 'applied'),
		       to_regclass('obj_701') IS NOT NULL}),
		'10|1|t', "$p: promoted: 701's table, rows and history");
	is(last_run($standby), 'interrupted|1', "$p: promoted: the run shows as interrupted, one migration applied");
	like($standby->safe_psql($db, 'CALL fleetmigrate.migrate()'), qr/\|1\|succeeded$/,
		"$p: the run on the promoted node applies 702");
	is(runs_tail($standby, 2), 'interrupted 1,succeeded 1',
		"$p: the run log: the interrupted run, then the one that finished");
	check_once($standby, $p, '701', '702');
	next_pair();
}

# 8. synchronous replication, apply_pending(): stopped as soon as it committed
{
	my $p = 'synchronous standby, apply_pending';
	make_synchronous($p);
	register($primary, '801', 'first', up_script('801'));
	register($primary, '802', 'second', up_script('802'));
	$standby->safe_psql($db, 'SELECT pg_wal_replay_pause()');
	poll($standby, q{SELECT pg_get_wal_replay_pause_state() = 'paused'}, "$p: replay paused");
	$h = start_psql($primary, \$out, \$err,
		q{SELECT string_agg(version || status, ',' ORDER BY version) FROM fleetmigrate.apply_pending()});
	poll($primary, q{SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep')},
		"$p: the commit waiting for the standby");
	is(states($primary, '801', '802'), '801 pending 0,802 pending 0',
		"$p: replay paused: the commit waits, nothing applied for anyone else on the primary");
	$standby->safe_psql($db, 'SELECT pg_wal_replay_resume()');
	$h->finish;
	is($out, "801applied,802applied\n", "$p: apply_pending() committed both");
	fail_over($p, undef, undef, 1);

	my $promoted = states($standby, '801', '802');
	$lost += grep { !/ applied / } split /,/, $promoted;
	is($promoted, '801 applied 0,802 applied 0', "$p: promoted: both applied there");
	is($standby->safe_psql($db, 'SELECT count(*) FROM fleetmigrate.apply_pending()'), '0',
		"$p: apply_pending() on the promoted node finds nothing pending");
	check_once($standby, $p, '801', '802');
}

is($points, 8, 'every point tried');
is($lost, 0, 'no migration lost');
is($doubled, 0, 'no migration doubled');
diag("failover matrix: $points points tried, $checked migrations checked, $lost lost, $doubled doubled");

$standby->stop;
done_testing();
