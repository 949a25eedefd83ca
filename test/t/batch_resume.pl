# batch_resume.pl -- batched backfills in CALL migrate() (src/batch.c):
#   1. batches commit one by one: while migrate() runs, another session sees
#      the rows of the committed batches changed, the others not, and
#      fleetmigrate.batch_progress (and status) moving;
#   2. interrupted by pg_terminate_backend(), kill -9 of the backend and an
#      immediate shutdown: the run is 'interrupted', the migration pending
#      with its committed batches kept; the next run starts after the last
#      committed batch and finishes, and no row went through the statement
#      twice (each batch adds 1 to every row it covers);
#   3. a batch that times out waiting for a row lock is rolled back and
#      tried again (lock_timeout, lock_retries), the batches before it stay
#      committed, and the run finishes once the lock is gone.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_node('batch', "synchronous_commit = on\nrestart_after_crash = on\n");
my $db = 'postgres';
my $rows = 2000;
$node->safe_psql($db, 'CREATE EXTENSION fleetmigrate');
# slow(): a per-row delay that the test switches off to let a run finish
$node->safe_psql($db, q{
	CREATE TABLE slow_on (on_ boolean NOT NULL);
	INSERT INTO slow_on VALUES (true);
	CREATE FUNCTION slow(i bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
	BEGIN
		IF (SELECT on_ FROM slow_on) THEN
			PERFORM pg_sleep(0.002);
		END IF;
		RETURN i;
	END $$;});

# Start CALL fleetmigrate.migrate() in the background; returns the harness.
sub start_migrate
{
	my ($out, $err) = @_;
	return IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr($db), '-c',
		  'CALL fleetmigrate.migrate()' ],
		'>', $out, '2>', $err);
}

# Wait until migration $v has committed at least $n batches.
sub wait_for_batches
{
	my ($v, $n) = @_;
	$node->poll_query_until($db, qq{
		SELECT coalesce((SELECT batches >= $n FROM fleetmigrate.batch_progress
		                  WHERE version = '$v'), false)})
	  or die "migration $v never committed $n batches";
}

# A fresh table t_$v of $rows rows (id 1..$rows, n = 0) and a batched
# migration $v that adds 1 to n, 100 rows per batch, slowly.
sub setup
{
	my ($v) = @_;
	$node->safe_psql($db, qq{
		UPDATE slow_on SET on_ = true;
		CREATE TABLE t_$v (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);
		INSERT INTO t_$v (id) SELECT g FROM generate_series(1, $rows) g;
		SELECT fleetmigrate.register('$v', 'backfill_$v', \$m\$-- batch: table=t_$v key=id size=100
UPDATE t_$v SET n = n + 1 WHERE slow(id) > 0\$m\$);});
}

# 1. Batches commit one by one, visible to another session.
setup('1');
my ($out, $err) = ('', '');
my $h = start_migrate(\$out, \$err);
wait_for_batches('1', 3);
my ($done, $changed, $last) = split /\|/, $node->safe_psql($db, q{
	SELECT batch_rows_done, rows_changed, last_key FROM fleetmigrate.batch_progress
	 WHERE version = '1'});
my ($seen_done, $seen_rest) = split /\|/, $node->safe_psql($db, qq{
	SELECT count(*) FILTER (WHERE n = 1 AND id <= $last),
	       count(*) FILTER (WHERE n = 0 AND id > $last)
	  FROM t_1});
ok($done >= 300 && $done < $rows && $done == $last,
	"1: mid-run, batch_progress says $done of $rows rows done, up to key $last");
is($seen_done, $last, '1: another session sees every row of the committed batches changed');
cmp_ok($seen_rest, '>=', $rows - $last - 100,
	'1: ... and the rows after them not (but for the batch that runs)');
is( $node->safe_psql($db, q{SELECT state, batch_rows_total FROM fleetmigrate.status WHERE version = '1'}),
	"pending|$rows", '1: status shows the batch counters while it runs');
like( $node->safe_psql($db, q{
	SELECT version, name, caller, batch_rows_done, batch_rows_total, statement
	  FROM fleetmigrate.progress}),
	qr/^1\|backfill_1\|migrate\(\)\|\d+\|$rows\|1$/,
	'1: the progress view shows the batch that runs, with its rows');
$node->safe_psql($db, 'UPDATE slow_on SET on_ = false');
ok($h->finish, '1: the run finishes');
like($out, qr/\|1\|succeeded$/, '1: succeeded');
like($err, qr/migration "1 backfill_1" ran in 20 batches of up to 100 rows: $rows rows of public\.t_1, $rows changed/,
	'1: the NOTICE counts batches and rows');
is($node->safe_psql($db, 'SELECT count(*) FILTER (WHERE n = 1) FROM t_1'), $rows,
	'1: every row changed once');
is( $node->safe_psql($db, q{SELECT state, batch_rows_done, batch_rows_total FROM fleetmigrate.status WHERE version = '1'}),
	"applied|$rows|$rows", '1: applied, all rows done');

# 2. Interrupted in the middle, then resumed.
my %how = (
	terminate => sub {
		$node->safe_psql($db, q{
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			 WHERE query LIKE 'fleetmigrate: applying migration%'});
	},
	kill9 => sub {
		my $pid = $node->safe_psql($db, q{
			SELECT pid FROM pg_stat_activity
			 WHERE backend_type = 'client backend'
			   AND query LIKE 'fleetmigrate: applying migration%'});
		kill 'KILL', $pid;
	},
	immediate => sub { $node->stop('immediate') });
my $v = 1;
for my $way ('terminate', 'kill9', 'immediate')
{
	$v++;
	setup($v);
	($out, $err) = ('', '');
	$h = start_migrate(\$out, \$err);
	wait_for_batches($v, 3);
	$how{$way}->();
	$h->finish;
	$node->start if $way eq 'immediate';
	$node->poll_query_until($db, 'SELECT pg_is_in_recovery() = false')
	  or die 'no recovery';

	my ($batches, $lastkey) = split /\|/, $node->safe_psql($db,
		qq{SELECT batches, last_key FROM fleetmigrate.batch_progress WHERE version = '$v'});
	is( $node->safe_psql($db, qq{SELECT state FROM fleetmigrate.status WHERE version = '$v'}),
		'pending', "$way: the migration is pending");
	is( $node->safe_psql($db, q{SELECT outcome FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
		'interrupted', "$way: the run is 'interrupted'");
	ok($batches >= 3 && $lastkey == 100 * $batches,
		"$way: $batches committed batches kept, up to key $lastkey");
	is( $node->safe_psql($db, qq{
		SELECT count(*) FILTER (WHERE n = 1 AND id <= $lastkey) = $lastkey
		   AND count(*) FILTER (WHERE n = 0 AND id > $lastkey) = $rows - $lastkey FROM t_$v}),
		't', "$way: exactly the rows of the committed batches are changed");

	$node->safe_psql($db, 'UPDATE slow_on SET on_ = false');
	$node->psql($db, 'CALL fleetmigrate.migrate()',
		stdout => \$out, stderr => \$err);
	like($out, qr/\|1\|succeeded$/, "$way: the next run finishes");
	is( $node->safe_psql($db, "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n <> 1) FROM t_$v"),
		"$rows|0", "$way: every row went through the statement exactly once");
	is( $node->safe_psql($db, qq{
		SELECT b.batches, b.batch_rows_done, b.rows_changed, b.finished_at IS NOT NULL, s.state
		  FROM fleetmigrate.batch_progress b JOIN fleetmigrate.status s USING (version, name)
		 WHERE version = '$v'}),
		"20|$rows|$rows|t|applied", "$way: 20 batches in all, applied");
}

# 3. A batch waits for a row lock: lock_timeout, retry, and on.
$v++;
setup($v);
$node->safe_psql($db, 'UPDATE slow_on SET on_ = false');
my $holder = $node->background_psql($db);
$holder->query_safe('BEGIN');
$holder->query_safe("SELECT * FROM t_$v WHERE id = 1050 FOR UPDATE");
($out, $err) = ('', '');
$h = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr($db),
	  '-c', 'SET fleetmigrate.lock_timeout = 100',
	  '-c', 'SET fleetmigrate.lock_retries = 50',
	  '-c', 'CALL fleetmigrate.migrate()' ],
	'>', \$out, '2>', \$err);
wait_for_batches($v, 10);
$node->poll_query_until($db, q{
	SELECT EXISTS (SELECT 1 FROM fleetmigrate.progress WHERE batch_rows_done = 1000)})
  or die 'batch 11 never ran';
sleep 1;
is( $node->safe_psql($db, qq{SELECT batches, last_key FROM fleetmigrate.batch_progress WHERE version = '$v'}),
	'10|1000', 'lock: the batches before the locked row are committed, the locked one waits');
$holder->query_safe('COMMIT');
$holder->quit;
ok($h->finish, 'lock: the run finishes once the lock is gone');
like($err, qr/timed out waiting for a lock/, 'lock: the batch timed out and was retried');
like($out, qr/\|1\|succeeded$/, 'lock: succeeded');
is($node->safe_psql($db, "SELECT count(*) FILTER (WHERE n = 1) FROM t_$v"), $rows,
	'lock: every row changed once');

# 4. A failing batch: fixed with register(), the next run goes on after the
# committed batches with the new text, and says so.
$v++;
setup($v);
$node->safe_psql($db, 'UPDATE slow_on SET on_ = false');
$node->safe_psql($db, qq{SELECT fleetmigrate.register('$v', 'backfill_$v', \$m\$-- batch: table=t_$v key=id size=100
UPDATE t_$v SET n = n + 1 + 0 / (id - 1050) WHERE slow(id) > 0\$m\$)});
$node->psql($db, 'CALL fleetmigrate.migrate()', stdout => \$out, stderr => \$err);
like($err, qr/division by zero/, 'fix: batch 11 fails');
is( $node->safe_psql($db, qq{SELECT s.state, b.batches, b.last_key
	  FROM fleetmigrate.status s JOIN fleetmigrate.batch_progress b USING (version, name)
	 WHERE version = '$v'}),
	'failed|10|1000', 'fix: failed, with its 10 batches before kept');
$node->safe_psql($db, qq{SELECT fleetmigrate.register('$v', 'backfill_$v', \$m\$-- batch: table=t_$v key=id size=100
UPDATE t_$v SET n = n + 1 + coalesce(0 / NULLIF(id - 1050, 0), 0) WHERE slow(id) > 0\$m\$)});
$node->psql($db, 'CALL fleetmigrate.migrate()', stdout => \$out, stderr => \$err);
like($out, qr/\|1\|succeeded$/, 'fix: the next run finishes');
like($err, qr/batched migration "$v backfill_$v" was registered again after 10 of its batches ran; it goes on after key 1000 with the up script registered now/,
	'fix: with a NOTICE that it goes on with the new text');
is($node->safe_psql($db, "SELECT count(*) FILTER (WHERE n = 1) FROM t_$v"), $rows,
	'fix: every row changed once');

$node->stop;
done_testing();
