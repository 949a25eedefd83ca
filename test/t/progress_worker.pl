# progress_worker.pl -- progress of a running migration, and the live-safety
# rules of the background worker (issue 20, items 4 and 5):
#   1. fleetmigrate.progress and pg_stat_activity, read from another
#      session, show the run, migration N of M, statement N of M and their
#      start times while a statement sleeps; only to a reader who may see
#      the session's query in pg_stat_activity; for apply_pending() too;
#   2. a non-transactional CREATE INDEX CONCURRENTLY while another session
#      holds ACCESS EXCLUSIVE on the table: it times out after
#      fleetmigrate.lock_timeout and is retried in the same worker (a SET of
#      an earlier statement still holds), then waits for an old snapshot
#      longer than lock_timeout without being cancelled, with the server's
#      own progress figures in the view; when the retries run out the run
#      fails once (the caller does not retry again), leaving no index;
#      fleetmigrate.statement_timeout ends the wait for old transactions;
#   3. pg_terminate_backend() of the session that called migrate() stops its
#      worker, which releases its locks; the next run rebuilds the index;
#   4. DETACH PARTITION CONCURRENTLY cancelled by lock_timeout in its wait is
#      finished with FINALIZE by the retry.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_node('progress', "log_min_messages = log\n");
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION fleetmigrate');
$node->safe_psql($db, q{
	CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 50000) g;
	CREATE ROLE regress_progress_reader;
	GRANT USAGE ON SCHEMA fleetmigrate TO regress_progress_reader});

# Run SQL (a list of -c commands) in the background; returns the harness.
sub start_psql
{
	my ($out, $err, @sql) = @_;
	return IPC::Run::start(
		[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
			map { ('-c', $_) } @sql ],
		'>', $out, '2>', $err);
}

# 1. A transactional migration whose second statement sleeps until a row of
# the table "gate" exists (no timing: the test opens the gate).
$node->safe_psql($db, q{
	CREATE TABLE gate (open boolean);
	CREATE FUNCTION wait_for_gate() RETURNS void LANGUAGE plpgsql AS $f$
	BEGIN
		WHILE NOT EXISTS (SELECT FROM gate) LOOP PERFORM pg_sleep(0.05); END LOOP;
	END $f$;
	SELECT fleetmigrate.register('1', 'slow one', $up$CREATE TABLE s1 (a int);
SELECT wait_for_gate();
CREATE TABLE s2 (a int);$up$);
	SELECT fleetmigrate.register('2', 'after it', 'CREATE TABLE s3 (a int)')});

my ($out, $err) = ('', '');
my $h = start_psql(\$out, \$err, 'CALL fleetmigrate.migrate()');
$node->poll_query_until($db, q{SELECT EXISTS (SELECT FROM fleetmigrate.progress WHERE statement = 2)})
  or die 'migrate() never reached statement 2';
# read as another session would, with another DateStyle and TimeZone
is( $node->safe_psql($db, q{
	SET DateStyle = 'SQL, DMY'; SET TimeZone = 'America/New_York';
	SELECT concat_ws('|', p.caller, p.run_id = r.id, p.version, p.name, p.migration, p.migrations,
	                 p.statement, p.statements, p.line, p.query, p.worker_pid IS NULL,
	                 p.migration_started <= p.statement_started,
	                 p.statement_started BETWEEN r.started_at AND clock_timestamp(),
	                 p.wait_event, p.server_command IS NULL, p.batch_rows_done IS NULL,
	                 p.batch_rows_total IS NULL)
	  FROM fleetmigrate.progress p JOIN fleetmigrate.runs r ON r.outcome = 'running'}),
	'migrate()|t|1|slow one|1|2|2|3|2|SELECT wait_for_gate()|t|t|t|PgSleep|t|t|t',
	'progress: run, migration 1 of 2, statement 2 of 3 (line 2), its start and text');
is( $node->safe_psql($db, q{
	SELECT split_part(query, E'\n', 1) FROM pg_stat_activity
	 WHERE query LIKE 'fleetmigrate: applying migration%'}),
	'fleetmigrate: applying migration 1 slow one',
	'pg_stat_activity: the first line names the migration');
like( $node->safe_psql($db, q{
	SELECT split_part(query, E'\n', 2) FROM pg_stat_activity
	 WHERE query LIKE 'fleetmigrate: applying migration%'}),
	qr/^migrate\(\) run \d+, migration 1 of 2 since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00, statement 2 of 3 \(line 2\) since \d{4}-\d\d-\d\d [\d:.]+\+00$/,
	'pg_stat_activity: the second line says where the run is');
is( $node->safe_psql($db, q{
	SET ROLE regress_progress_reader; SELECT count(*) FROM fleetmigrate.progress}),
	'0', 'progress: a role that may not see the session\'s query sees no row');
is( $node->safe_psql($db, q{
	GRANT pg_read_all_stats TO regress_progress_reader;
	SET ROLE regress_progress_reader; SELECT count(*) FROM fleetmigrate.progress}),
	'1', 'progress: with pg_read_all_stats it sees the row');
$node->safe_psql($db, 'INSERT INTO gate VALUES (true)');
ok($h->finish, 'migrate() finishes once the gate opens');
chomp $out;
is($out, '1|2|succeeded', 'migrate(): both applied');
is($node->safe_psql($db, 'SELECT count(*) FROM fleetmigrate.progress'), '0',
	'progress: no row once the run has ended');

# apply_pending(): no run id; the caller's statement comes back afterwards
$node->safe_psql($db, q{
	TRUNCATE gate;
	SELECT fleetmigrate.register('3', 'slow again', 'SELECT wait_for_gate()')});
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, q{SELECT status FROM fleetmigrate.apply_pending()});
$node->poll_query_until($db, q{SELECT EXISTS (SELECT FROM fleetmigrate.progress WHERE statement = 1)})
  or die 'apply_pending() never reached statement 1';
is( $node->safe_psql($db, q{
	SELECT concat_ws('|', caller, coalesce(run_id::text, 'no run'), version, migration, migrations,
	                 statement, statements) FROM fleetmigrate.progress}),
	'apply_pending()|no run|3|1|1|1|1', 'progress: apply_pending() too, without a run id');
$node->safe_psql($db, 'INSERT INTO gate VALUES (true)');
ok($h->finish, 'apply_pending() finishes');

# 2. CREATE INDEX CONCURRENTLY in the worker, under a lock and an old snapshot.
$node->safe_psql($db, q{SELECT fleetmigrate.register('4', 'index under a lock',
	$up$SET application_name = 'fm_retried_worker';
CREATE INDEX CONCURRENTLY big_id ON big (id);$up$)});
my $locker = $node->background_psql($db);
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE big IN ACCESS EXCLUSIVE MODE');
my $locker_pid = $locker->query_safe('SELECT pg_backend_pid()');
chomp $locker_pid;
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, q{SET fleetmigrate.lock_timeout = '200ms'},
	q{SET fleetmigrate.lock_retries = 1000}, 'CALL fleetmigrate.migrate()');
$node->poll_query_until($db, q{
	SELECT EXISTS (SELECT FROM pg_stat_activity
	                WHERE application_name = 'fm_retried_worker' AND state = 'active'
	                  AND query LIKE '%CREATE INDEX CONCURRENTLY%')})
  or die 'the worker never reached the index build';
# wait for the first retry's NOTICE
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
while ($err !~ /retry 1 of 1000/ && time < $deadline)
{
	$h->pump_nb;
	select(undef, undef, undef, 0.1);
}
like($err, qr/migration "4 index under a lock", statement 2 \(line 2\) timed out waiting for a lock \(lock_timeout 200 ms\); rolled back, retry 1 of 1000/,
	'worker: the build times out after fleetmigrate.lock_timeout and is retried');
like($err, qr/Process $locker_pid \(user .*\) holds AccessExclusiveLock on public\.big/,
	'worker: the retry names the session holding the lock');
is($node->safe_psql($db, q{SELECT count(*) FROM pg_class WHERE relname = 'big_id'}), '0',
	'worker: a build that timed out in the lock queue left no index');
# now an old snapshot instead of the lock: the build waits for it, longer
# than lock_timeout, and is not cancelled
$locker->query_safe('COMMIT');
$locker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$locker->query_safe('SELECT count(*) FROM big');
$node->poll_query_until($db, q{
	SELECT EXISTS (SELECT FROM fleetmigrate.progress
	                WHERE server_phase = 'waiting for old snapshots')})
  or die 'the build never waited for the old snapshot';
is( $node->safe_psql($db, qq{
	SELECT concat_ws('|', p.version, p.statement, p.statements, p.worker_pid = w.pid,
	                 w.application_name, split_part(w.query, E'\n', 1), p.wait_event, p.server_command,
	                 p.server_waiting_for_pid = $locker_pid, p.server_progress ->> 'phase')
	  FROM fleetmigrate.progress p, pg_stat_activity w
	 WHERE w.backend_type = 'fleetmigrate worker'}),
	"4|2|2|t|fm_retried_worker|fleetmigrate worker: applying migration 4 index under a lock|virtualxid|CREATE INDEX CONCURRENTLY|t|waiting for old snapshots",
	'progress: the worker, its wait and the server\'s progress figures of the build; the SET of statement 1 held through the retry');
# still the same build waiting after several lock_timeouts: never cancelled
# (a cancelled build would be retried: another NOTICE, another index)
my $index = $node->safe_psql($db, q{SELECT server_progress ->> 'index_relid' FROM fleetmigrate.progress});
$h->pump_nb;
my $notices = () = $err =~ /timed out waiting for a lock/g;
$node->safe_psql($db, 'SELECT pg_sleep(1.5)');
$h->pump_nb;
my $notices_after = () = $err =~ /timed out waiting for a lock/g;
is( $node->safe_psql($db, q{
	SELECT server_phase || '|' || (server_progress ->> 'index_relid') FROM fleetmigrate.progress}),
	"waiting for old snapshots|$index",
	'worker: the same build still waits for the old snapshot after several lock_timeouts');
is($notices_after, $notices, 'worker: the wait for old transactions is not cancelled by lock_timeout');
$locker->query_safe('COMMIT');
ok($h->finish, 'worker: migrate() finishes once the old snapshot is gone');
like($out, qr/\|1\|succeeded$/, 'worker: run succeeded');
is($node->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id'::regclass}),
	't', 'worker: the index is valid');

# retries run out: one error, no retry by the caller on top, no index
$node->safe_psql($db, q{SELECT fleetmigrate.register('5', 'index never locked',
	'CREATE INDEX CONCURRENTLY big_id_2 ON big (id)')});
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE big IN ACCESS EXCLUSIVE MODE');
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, q{SET fleetmigrate.lock_timeout = '100ms'},
	q{SET fleetmigrate.lock_retries = 1}, 'CALL fleetmigrate.migrate()');
ok(!$h->finish, 'worker: migrate() fails when the retries run out');
$locker->query_safe('COMMIT');
my @retries = $err =~ /(timed out waiting for a lock)/g;
is(scalar @retries, 1, 'worker: one retry NOTICE, the caller does not retry the migration again');
like($err, qr/ERROR:  migration "5 index never locked", statement 1 \(line 1\) could not get a lock after 2 attempts: canceling statement due to lock timeout/,
	'worker: the error says how many attempts');
is( $node->safe_psql($db, q{
	SELECT (SELECT count(*) FROM pg_class WHERE relname = 'big_id_2') || '|' || sqlstate
	  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
	'0|55P03', 'worker: no index left behind; the run failed with lock_not_available');

# fleetmigrate.statement_timeout bounds the wait for old transactions
$locker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$locker->query_safe('SELECT count(*) FROM big');
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, q{SET fleetmigrate.statement_timeout = '1s'},
	'CALL fleetmigrate.migrate()');
ok(!$h->finish, 'worker: fleetmigrate.statement_timeout ends the wait for an old snapshot');
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'worker: statement timeout, not retried');
is($node->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_2'::regclass}),
	'f', 'worker: the build cut short by statement_timeout left its index INVALID');

# 3. pg_terminate_backend() of the caller stops the worker (the old snapshot
# still open).
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, 'CALL fleetmigrate.migrate()');
$node->poll_query_until($db, q{
	SELECT EXISTS (SELECT FROM fleetmigrate.progress WHERE wait_event = 'virtualxid')})
  or die 'the build never waited';
my $worker_pid = $node->safe_psql($db, q{SELECT worker_pid FROM fleetmigrate.progress});
is($node->safe_psql($db, q{SELECT pg_terminate_backend(pid) FROM fleetmigrate.progress}), 't',
	'terminate: the caller is terminated');
$h->finish;
$node->poll_query_until($db, qq{
	SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $worker_pid)})
  or die 'the worker kept running after its caller was terminated';
pass('terminate: the worker stopped');
is($node->safe_psql($db, qq{SELECT count(*) FROM pg_locks WHERE pid = $worker_pid}), '0',
	'terminate: the worker holds no lock any more');
# an application's DDL gets its lock once the old snapshot ends, not later
$locker->query_safe('COMMIT');
is($node->safe_psql($db, q{
	SET lock_timeout = '5s'; BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; COMMIT; SELECT 'locked'}),
	'locked', 'terminate: nothing of the worker blocks the table');
is($node->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_2'::regclass}),
	'f', 'terminate: the cancelled build left its index INVALID');
like(slurp_file($node->logfile), qr/terminating background worker "fleetmigrate worker" due to administrator command|the session running fleetmigrate.migrate\(\) has gone away/,
	'terminate: the server log says why the worker stopped');
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, 'CALL fleetmigrate.migrate()');
ok($h->finish, 'terminate: the next run finishes');
like($err, qr/index public\.big_id_2 is invalid, left by an interrupted CREATE INDEX CONCURRENTLY; dropping it and building it again/,
	'terminate: the next run drops the invalid index first');
is($node->safe_psql($db, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_2'::regclass}),
	't', 'terminate: the index is valid');

# 4. DETACH PARTITION CONCURRENTLY runs under lock_timeout throughout (its last
# step takes ACCESS EXCLUSIVE on the partition): cancelled in its wait, it
# leaves the partition pending detach, and the retry finishes it with FINALIZE.
$node->safe_psql($db, q{
	CREATE TABLE ev (a int) PARTITION BY LIST (a);
	CREATE TABLE ev1 PARTITION OF ev FOR VALUES IN (1);
	CREATE TABLE ev2 PARTITION OF ev FOR VALUES IN (2);
	INSERT INTO ev VALUES (1), (2);
	SELECT fleetmigrate.register('6', 'detach', 'ALTER TABLE ev DETACH PARTITION ev2 CONCURRENTLY')});
$locker->query_safe('BEGIN');
$locker->query_safe('SELECT count(*) FROM ev');
($out, $err) = ('', '');
$h = start_psql(\$out, \$err, q{SET fleetmigrate.lock_timeout = '200ms'},
	q{SET fleetmigrate.lock_retries = 1000}, 'CALL fleetmigrate.migrate()');
my $deadline2 = time + $PostgreSQL::Test::Utils::timeout_default;
while ($err !~ /FINALIZE\n/ && time < $deadline2)
{
	$h->pump_nb;
	select(undef, undef, undef, 0.1);
}
like($err, qr/NOTICE:  partition public\.ev2 of public\.ev is pending detach, left by an interrupted DETACH PARTITION CONCURRENTLY; finishing it with DETACH PARTITION \.\.\. FINALIZE/,
	'detach: cancelled by lock_timeout in its wait, the retry finishes it with FINALIZE');
is($node->safe_psql($db, q{SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'ev2'::regclass}),
	't', 'detach: meanwhile the partition is pending detach');
$locker->query_safe('COMMIT');
ok($h->finish, 'detach: migrate() finishes once the reader is gone');
is($node->safe_psql($db, q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ev2'::regclass}),
	'0', 'detach: the partition is detached');

$locker->quit;
$node->safe_psql($db, q{REVOKE pg_read_all_stats FROM regress_progress_reader;
	REVOKE USAGE ON SCHEMA fleetmigrate FROM regress_progress_reader;
	DROP ROLE regress_progress_reader});
$node->stop;
done_testing();
