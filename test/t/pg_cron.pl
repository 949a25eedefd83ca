# pg_cron.pl -- fleetmigrate.schedule() with the real pg_cron: one job that
# runs CALL fleetmigrate.migrate() in this database as the calling role;
# scheduling again updates that job; a bad cron expression is refused; the
# job applies a newly registered migration on its own, recorded in
# fleetmigrate.runs as started by pg_cron; a run with nothing pending
# leaves a row too, and the idle runs after it are counted in that row; a
# migration that needs a parameter blocks the run after the migrations
# before it were applied, and is recorded once; unschedule() removes the job.  pg_cron 1.4 (Debian 12)
# runs jobs at minute boundaries, so the test waits several minutes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
# pg_cron reaches the server through libpq: over the node's socket
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'postgres'\n"
	  . "cron.host = '" . $node->host . "'\n"
	  . "log_min_messages = warning\n");
$node->start;
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION pg_cron; CREATE EXTENSION fleetmigrate');

my $job = $node->safe_psql($db, q{SELECT fleetmigrate.schedule('* * * * *')});
like($job, qr/^\d+$/, 'schedule() returns the job id');
is( $node->safe_psql($db, qq{
	SELECT schedule, command, database, username, active FROM cron.job WHERE jobid = $job}),
	"* * * * *|CALL fleetmigrate.migrate(started_by => 'pg_cron')|$db|"
	  . $node->safe_psql($db, 'SELECT current_user') . '|t',
	'the job runs migrate() in this database as this role');
is($node->safe_psql($db, q{SELECT fleetmigrate.schedule('*/1 * * * *')}),
	$job, 'scheduling again updates the same job');
is( $node->safe_psql($db, q{
	SELECT count(*), max(schedule) FROM cron.job WHERE jobname = 'fleetmigrate'}),
	'1|*/1 * * * *', 'one job, with the new schedule');
my ($stdout, $stderr);
$node->psql($db, q{SELECT fleetmigrate.schedule('every now and then')},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  invalid schedule "every now and then"/,
	'a bad cron expression is refused');

$node->safe_psql($db, q{SELECT fleetmigrate.register('001', 'cron_table',
	'CREATE TABLE fm_cron_t (id int)')});
ok( $node->poll_query_until($db, q{
		SELECT state = 'applied' FROM fleetmigrate.status WHERE version = '001'},
		't'),
	'pg_cron applied the new migration on its own');
is( $node->safe_psql($db, q{
	SELECT started_by, run_by = current_user, applied, outcome
	  FROM fleetmigrate.runs WHERE applied > 0 ORDER BY id LIMIT 1}),
	'pg_cron|t|1|succeeded', 'the run is in fleetmigrate.runs, started by pg_cron');
is($node->safe_psql($db, q{SELECT to_regclass('fm_cron_t') IS NOT NULL}),
	't', 'the migration ran');

# The next minute's run has nothing to do; it leaves a row all the same.
ok( $node->poll_query_until($db, q{
		SELECT EXISTS (SELECT 1 FROM fleetmigrate.runs
		                WHERE started_by = 'pg_cron' AND outcome = 'nothing_pending')},
		't'),
	'a scheduled run with nothing pending leaves a row');

# Idle runs share one row: the next minute's run is counted in it.
ok( $node->poll_query_until($db, q{
		SELECT run_count >= 2 FROM fleetmigrate.runs
		 WHERE started_by = 'pg_cron' AND outcome = 'nothing_pending'
		 ORDER BY id DESC LIMIT 1},
		't'),
	'the next idle run is counted in the same row');
is( $node->safe_psql($db, q{
	SELECT count(*) FROM fleetmigrate.runs
	 WHERE started_by = 'pg_cron' AND outcome = 'nothing_pending'}),
	'1', 'one row for the stretch of idle runs');

# A migration that needs a parameter a scheduled run cannot supply: the one
# before it is applied, it is reported blocked, once, and the one after it
# waits.
$node->safe_psql($db, q{BEGIN;
	SELECT fleetmigrate.register('002', 'plain', 'CREATE TABLE fm_cron_u (id int)');
	SELECT fleetmigrate.register('003', 'needs_admin',
		'SELECT fleetmigrate.param(''admin_user_id'')', params => '{admin_user_id}');
	SELECT fleetmigrate.register('004', 'after', 'SELECT 1');
	COMMIT});
ok( $node->poll_query_until($db, q{
		SELECT EXISTS (SELECT 1 FROM fleetmigrate.runs
		                WHERE started_by = 'pg_cron' AND outcome = 'blocked')},
		't'),
	'a scheduled run stops at the blocked migration');
is( $node->safe_psql($db, q{
	SELECT applied, failed_version, failed_name, sqlstate FROM fleetmigrate.runs
	 WHERE outcome = 'blocked'}),
	'1|003|needs_admin|42704',
	'it applied the migration before it and names the blocked one');
ok( $node->poll_query_until($db, q{
		SELECT run_count >= 2 FROM fleetmigrate.runs WHERE outcome = 'blocked'},
		't'),
	'the next run finds it blocked again');
is( $node->safe_psql($db, q{
	SELECT count(*) FILTER (WHERE outcome = 'blocked'),
	       count(*) FILTER (WHERE outcome = 'failed')
	  FROM fleetmigrate.runs}),
	'1|0', 'the blocked state is recorded once, and no failure');
is( $node->safe_psql($db, q{
	SELECT string_agg(version || ' ' || state, ',' ORDER BY version)
	  FROM fleetmigrate.status WHERE version >= '002'}),
	'002 applied,003 pending,004 pending', 'nothing after it ran');

is($node->safe_psql($db, 'SELECT fleetmigrate.unschedule()'), 't', 'unschedule() removes the job');
is($node->safe_psql($db, q{SELECT count(*) FROM cron.job WHERE jobname = 'fleetmigrate'}),
	'0', 'no job left');
is($node->safe_psql($db, 'SELECT fleetmigrate.unschedule()'), 'f',
	'unschedule() again: nothing to remove');

$node->stop;
done_testing();
