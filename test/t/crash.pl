# crash.pl -- a server crash in the middle of a transactional migration run
# by CALL fleetmigrate.migrate(): kill -9 of the backend running it, and
# pg_ctl stop -m immediate.  After the restart: the migration committed
# before is applied, the interrupted one is pending with none of its work
# left, the one after is pending, fleetmigrate.runs shows the run as
# 'interrupted' with one migration applied, no lock needs clearing (the
# next run, not waiting, gets the runner lock), and that run finishes the
# work, each migration once.  (Crashes in non-transactional migrations:
# nontx_interrupt.pl.)
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_node('crash', "synchronous_commit = on\nrestart_after_crash = on\n");
my $db = 'postgres';
$node->safe_psql($db, q{
	CREATE EXTENSION fleetmigrate;
	CREATE TABLE slow (on_off boolean NOT NULL);
	INSERT INTO slow VALUES (false)});

my %crash = (
	'kill -9' => sub {
		my ($pid) = @_;
		kill 'KILL', $pid;
	},
	'immediate shutdown' => sub {
		$node->stop('immediate');
		$node->start;
	});
my $round = 0;
for my $way ('kill -9', 'immediate shutdown')
{
	$round++;
	my @v = map { "$round$_" } 1 .. 3;
	$node->safe_psql($db, qq{
		SELECT fleetmigrate.register('$v[0]', 'first', 'CREATE TABLE first_$round (id int)');
		SELECT fleetmigrate.register('$v[1]', 'slow',
			'CREATE TABLE slow_$round (id int);
			 INSERT INTO slow_$round VALUES (1);
			 SELECT pg_sleep(CASE WHEN (SELECT on_off FROM slow) THEN 300 ELSE 0 END);');
		SELECT fleetmigrate.register('$v[2]', 'last', 'CREATE TABLE last_$round (id int)');
		UPDATE slow SET on_off = true});

	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr($db), '-c', 'CALL fleetmigrate.migrate()' ],
		'>', \$out, '2>', \$err);
	$node->poll_query_until($db, qq{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		                WHERE query LIKE 'fleetmigrate: applying migration $v[1] slow%'
		                  AND wait_event = 'PgSleep')})
	  or die "$way: migration $v[1] never started";
	my $pid = $node->safe_psql($db, qq{
		SELECT pid FROM pg_stat_activity WHERE query LIKE 'fleetmigrate: applying migration $v[1] slow%'});
	$crash{$way}->($pid);
	$h->finish;
	like($err, qr/server closed the connection unexpectedly|terminating connection/,
		"$way: the run was cut off");
	$node->poll_query_until($db, 'SELECT true') or die "$way: the server did not come back";

	is( $node->safe_psql($db, qq{
		SELECT string_agg(version || ' ' || state, ',' ORDER BY version)
		  FROM fleetmigrate.status WHERE version LIKE '$round%'}),
		"$v[0] applied,$v[1] pending,$v[2] pending",
		"$way: the migration committed before is applied, the interrupted one and the next pending");
	is($node->safe_psql($db, "SELECT to_regclass('slow_$round') IS NULL"),
		't', "$way: none of the interrupted migration's work is left");
	is( $node->safe_psql($db, q{SELECT outcome, applied FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
		'interrupted|1', "$way: the run shows as interrupted, with one migration applied");
	is( $node->safe_psql($db, q{
		SELECT count(*) FROM pg_locks
		 WHERE locktype = 'advisory'
		    OR (locktype = 'object' AND classid IN (1179470151, 1179470162))}),
		'0', "$way: no lock is left behind");

	$node->safe_psql($db, 'UPDATE slow SET on_off = false');
	like($node->safe_psql($db, 'CALL fleetmigrate.migrate(wait => false)'),
		qr/\|2\|succeeded$/, "$way: the next run gets the lock and finishes the work");
	is( $node->safe_psql($db, qq{
		SELECT string_agg(version || ' ' || state, ',' ORDER BY version),
		       (SELECT count(*) FROM slow_$round)
		  FROM fleetmigrate.status WHERE version LIKE '$round%'}),
		"$v[0] applied,$v[1] applied,$v[2] applied|1",
		"$way: every migration applied, each once");
	is( $node->safe_psql($db, qq{
		SELECT count(*) FROM fleetmigrate.history
		 WHERE event = 'applied' AND version LIKE '$round%'}),
		'3', "$way: one applied event per migration");
}

$node->stop;
done_testing();
