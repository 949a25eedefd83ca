# nontx_interrupt.pl -- non-transactional migrations in CALL migrate():
#   1. the trap: a concurrent index build waits for every older snapshot, so
#      a runner that keeps its own transaction open while the build runs
#      waits for itself.  Shown with plain SQL (the build cannot finish while
#      the runner's transaction is open), then migrate() while another
#      session holds an old snapshot: the caller holds no snapshot and no
#      table lock, and the build finishes as soon as that session ends;
#   2. kill -9 of the worker, kill -9 of the backend running migrate(), and
#      pg_ctl stop -m immediate while a concurrent build waits (the index
#      exists, INVALID): after restart the run is 'interrupted', the
#      statements before are done and not repeated, the next run drops and
#      rebuilds the invalid index and finishes.
# (Crashes in transactional migrations: crash.pl.)
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_node('nontx', "synchronous_commit = on\nrestart_after_crash = on\n");
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION fleetmigrate');
$node->safe_psql($db, 'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g');

# Start CALL fleetmigrate.migrate() in the background; returns the harness.
sub start_migrate
{
	my ($out, $err) = @_;
	return IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr($db), '-c', 'CALL fleetmigrate.migrate()' ],
		'>', $out, '2>', $err);
}

# Wait until the worker's concurrent build waits for an old snapshot.
sub wait_for_build
{
	$node->poll_query_until($db, q{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		                WHERE backend_type = 'fleetmigrate worker'
		                  AND wait_event_type = 'Lock' AND wait_event = 'virtualxid')})
	  or die 'the concurrent build never waited';
}

# 1a. The trap, in plain SQL: the "runner" holds a snapshot; its build, on
# another connection, cannot get past it (lock_timeout stands in for
# waiting forever).
my $runner = $node->background_psql($db);
$runner->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$runner->query_safe('SELECT 1');
my ($stdout, $stderr);
$node->psql($db, "SET lock_timeout = '2s'; CREATE INDEX CONCURRENTLY trap_idx ON big (v)",
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/canceling statement due to lock timeout/,
	'trap: a build cannot finish while its runner keeps a snapshot open');
$runner->query_safe('COMMIT');
$node->safe_psql($db, 'DROP INDEX trap_idx');

# 1b. migrate(): another session's old snapshot holds the build up; the
# caller holds no snapshot and no table lock meanwhile.
$node->safe_psql($db, q{SELECT fleetmigrate.register('1', 'index_big',
	'CREATE INDEX CONCURRENTLY big_v_idx ON big (v)')});
my $other = $node->background_psql($db);
$other->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$other->query_safe('SELECT 1');
my ($out, $err) = ('', '');
my $h = start_migrate(\$out, \$err);
wait_for_build();
is( $node->safe_psql($db, q{
	SELECT backend_xmin IS NULL AND backend_xid IS NULL
	  FROM pg_stat_activity WHERE query LIKE 'fleetmigrate: applying migration%'}),
	't', 'migrate(): the caller holds no snapshot and no transaction id while the build runs');
is( $node->safe_psql($db, q{
	SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	 WHERE a.query LIKE 'fleetmigrate: applying migration%' AND l.locktype = 'relation'}),
	'0', 'migrate(): the caller holds no table lock while the build runs');
$other->query_safe('COMMIT');
ok($h->finish, 'migrate(): the build finishes once the old snapshot is gone');
chomp $out;
is($out, '1|1|succeeded', 'migrate(): run succeeded');
is($node->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass}),
	't', 'migrate(): the index is valid');

# 2. Interrupted in the middle of a concurrent build, by kill -9 of the
# worker, kill -9 of the backend that called migrate(), and an immediate
# shutdown.
my %how = (
	kill9 => sub {
		my $pid = $node->safe_psql($db,
			q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'fleetmigrate worker'});
		kill 'KILL', $pid;
	},
	kill9_caller => sub {
		my $pid = $node->safe_psql($db, q{
			SELECT pid FROM pg_stat_activity
			 WHERE backend_type = 'client backend'
			   AND query LIKE 'fleetmigrate: applying migration%'});
		kill 'KILL', $pid;
	},
	immediate => sub { $node->stop('immediate') });
my $v = 1;
for my $way ('kill9', 'kill9_caller', 'immediate')
{
	$v++;
	$node->safe_psql($db, qq{SELECT fleetmigrate.register('$v', 'nontx_$way',
		'CREATE TABLE t_$way AS SELECT g AS id FROM generate_series(1, 1000) g;
		 CREATE INDEX CONCURRENTLY big_id_$way ON big (id);
		 INSERT INTO t_$way VALUES (0);')});
	$other = $node->background_psql($db);
	$other->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$other->query_safe('SELECT 1');
	($out, $err) = ('', '');
	$h = start_migrate(\$out, \$err);
	wait_for_build();
	$how{$way}->();
	$h->finish;
	eval { $other->quit };
	$node->start if $way eq 'immediate';
	$node->poll_query_until($db, 'SELECT pg_is_in_recovery() = false')
	  or die 'no recovery';

	is( $node->safe_psql($db, qq{SELECT state, statements_done FROM fleetmigrate.status WHERE version = '$v'}),
		'pending|1', "$way: the migration is pending with statement 1 done");
	is( $node->safe_psql($db, q{SELECT outcome FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
		'interrupted', "$way: the run is 'interrupted'");
	is( $node->safe_psql($db, qq{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_$way'::regclass}),
		'f', "$way: the interrupted build left an INVALID index");

	$node->psql($db, 'CALL fleetmigrate.migrate()', stdout => \$out, stderr => \$err);
	chomp $out;
	like($out, qr/\|1\|succeeded$/, "$way: the next run finishes");
	like($err, qr/index public\.big_id_$way is invalid, left by an interrupted CREATE INDEX CONCURRENTLY; dropping it and building it again/,
		"$way: with a NOTICE about the invalid index");
	is( $node->safe_psql($db, qq{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_$way'::regclass}),
		't', "$way: the index is valid");
	is($node->safe_psql($db, "SELECT count(*) FROM t_$way"),
		'1001', "$way: statement 1 ran once, statement 3 once");
	is($node->safe_psql($db, qq{SELECT state FROM fleetmigrate.status WHERE version = '$v'}),
		'applied', "$way: the migration is applied");
}

$node->stop;
done_testing();
