# standby_wait.pl -- fleetmigrate.wait_for_standbys (issue 21, item 3): a
# run that applied migrations ends only when every connected standby has
# replayed its last commit, so a query on a standby right after the run
# returns sees the new schema (the standbys replay 300 ms late:
# recovery_min_apply_delay).  migrate() waits after its last commit and
# records each standby in fleetmigrate.runs.standbys; apply_pending() waits
# when the caller's transaction commits.  A standby whose replay is paused
# makes the wait time out: migrate() raises an error after recording the
# run (the migrations stay applied), apply_pending() warns (its
# transaction has committed); a cancel ends apply_pending()'s wait with a
# warning; a standby that disconnects during the wait makes it warn.
# Migrations a savepoint kept are waited for; pg_receivewal, streaming
# throughout, is neither waited for nor counted.  With a synchronous
# standby configured the caller's synchronous_commit stands.  Lint warns
# about work under an ACCESS EXCLUSIVE lock, which the standbys replay
# (blocking.standby_replay, REINDEX included), only where standbys stream.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'postgres';
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf',
	"max_worker_processes = 16\nlog_min_messages = warning\n");
$primary->start;
$primary->safe_psql($db, q{
	CREATE EXTENSION fleetmigrate;
	CREATE TABLE big (id int PRIMARY KEY, n int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 1000) g;
	ANALYZE big;});
$primary->backup('backup');
my @standbys;
for my $name ('s1', 's2')
{
	my $s = PostgreSQL::Test::Cluster->new($name);
	$s->init_from_backup($primary, 'backup', has_streaming => 1);
	# each commit is replayed 300 ms late: a run that did not wait would
	# return before the standbys have its tables
	$s->append_conf('postgresql.conf', "recovery_min_apply_delay = 300ms\n");
	$s->start;
	$primary->wait_for_catchup($s);
	push @standbys, $s;
}
my ($s1, $s2) = @standbys;
# pg_receivewal streams too, through the test, but it only stores WAL: it
# reports where it wrote, never a replay position, and is no standby to
# wait for or to warn about
my $walstore = PostgreSQL::Test::Utils::tempdir;
my $receivewal;
{
	local $ENV{PGAPPNAME} = 'pg_receivewal';
	$receivewal = IPC::Run::start(
		[ 'pg_receivewal', '-D', $walstore, '-h', $primary->host, '-p', $primary->port,
		  '--no-loop', '--status-interval=1' ],
		'>', \my $receivewal_out, '2>', \my $receivewal_err);
}
ok( $primary->poll_query_until($db, q{SELECT write_lsn IS NOT NULL FROM pg_stat_replication
	WHERE application_name = 'pg_receivewal' AND state = 'streaming'}),
	'pg_receivewal streams and has reported a write position');
is( $primary->safe_psql($db, q{SELECT string_agg(application_name, ',' ORDER BY application_name COLLATE "C")
	FROM pg_stat_replication WHERE state = 'streaming'}),
	'pg_receivewal,s1,s2', 'two standbys and pg_receivewal stream from the primary');

# psql on the primary; returns exit code, stdout, stderr
sub on_primary
{
	my ($sql) = @_;
	my ($out, $err);
	my $rc = $primary->psql($db, $sql, stdout => \$out, stderr => \$err);
	return ($rc, $out, $err);
}

# the tables a migration created, on each standby, at once (no catch-up)
sub on_standbys_now
{
	my ($table) = @_;
	return join ',', map {
		$_->safe_psql($db, "SELECT to_regclass('$table') IS NOT NULL")
	} @standbys;
}

# Off by default: no wait and nothing recorded.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('001', 'off', 'CREATE TABLE t_off (id int)')});
my ($rc, $out, $err) = on_primary(q{CALL fleetmigrate.migrate()});
is($rc, 0, 'migrate() without the setting');
unlike($err, qr/standby/, 'says nothing about standbys');
is($primary->safe_psql($db, q{SELECT standbys IS NULL FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
	't', 'records no standbys');

# migrate(): every standby has replayed the run when CALL returns.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('002', 'migrate_waits', 'CREATE TABLE t_migrate (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '60s'; CALL fleetmigrate.migrate()});
is($rc, 0, 'migrate() with wait_for_standbys');
like($err, qr/NOTICE:  every connected standby replayed the run within \d+ ms\nDETAIL:  standby "s1" \(process \d+\) replayed it in \d+ ms \((replay lag \d+ ms|replay lag not known)\), standby "s2" \(process \d+\) replayed it in \d+ ms \([^)]*\)\.(\n|\z)/,
	'it reports each standby (not pg_receivewal)');
is(on_standbys_now('t_migrate'), 't,t', 'both standbys have the new table as soon as migrate() returns');
is( $primary->safe_psql($db, q{
	SELECT outcome, jsonb_array_length(standbys),
	       (SELECT string_agg(e->>'standby' || ':' || (e->>'replayed'), ',' ORDER BY e->>'standby')
	          FROM jsonb_array_elements(standbys) e),
	       (SELECT bool_and((e->>'replayed_ms')::float8 >= 250) FROM jsonb_array_elements(standbys) e)
	  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
	'succeeded|2|s1:true,s2:true|t', 'the run records each standby and how long it waited from the commit (about the 300 ms delay)');

# apply_pending(): the wait is at the caller's commit.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('003', 'apply_waits', 'CREATE TABLE t_apply (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '60s'; SELECT version, status FROM fleetmigrate.apply_pending()});
is($rc, 0, 'apply_pending() with wait_for_standbys');
is($out, '003|applied', 'it applied the migration');
like($err, qr/NOTICE:  every connected standby replayed the migrations within \d+ ms/, 'it reports the standbys');
is(on_standbys_now('t_apply'), 't,t', 'both standbys have the new table as soon as the statement returns');

# in an explicit transaction: the wait is at COMMIT, not before
($rc, $out, $err) = on_primary(q{
	SET fleetmigrate.wait_for_standbys = '60s';
	BEGIN;
	SELECT fleetmigrate.register('004', 'in_transaction', 'CREATE TABLE t_tx (id int)');
	SELECT version, status FROM fleetmigrate.apply_pending();
	SELECT 'before commit';
	COMMIT;
	SELECT 'after commit';});
like($err, qr/NOTICE:  every connected standby replayed the migrations/, 'a transaction block waits too');
is(on_standbys_now('t_tx'), 't,t', 'the standbys have it after COMMIT');
# migrations kept by a released savepoint are waited for, even when a later
# savepoint is rolled back; so are those of a first call when a second call
# is rolled back to a savepoint
($rc, $out, $err) = on_primary(q{
	SET fleetmigrate.wait_for_standbys = '60s';
	BEGIN;
	SELECT fleetmigrate.register('004a', 'released', 'CREATE TABLE t_released (id int)');
	SAVEPOINT a;
	SELECT version, status FROM fleetmigrate.apply_pending();
	RELEASE a;
	SAVEPOINT b;
	ROLLBACK TO b;
	COMMIT;});
like($err, qr/NOTICE:  every connected standby replayed the migrations/,
	'a released savepoint\'s migrations are waited for after a later rollback to a savepoint');
is(on_standbys_now('t_released'), 't,t', 'the standbys have them after COMMIT');
($rc, $out, $err) = on_primary(q{
	SET fleetmigrate.wait_for_standbys = '60s';
	BEGIN;
	SELECT fleetmigrate.register('004b', 'first_call', 'CREATE TABLE t_first_call (id int)');
	SELECT version, status FROM fleetmigrate.apply_pending();
	SELECT fleetmigrate.register('004c', 'second_call', 'CREATE TABLE t_second_call (id int)');
	SAVEPOINT s;
	SELECT version, status FROM fleetmigrate.apply_pending();
	ROLLBACK TO s;
	SELECT fleetmigrate.unregister('004c', 'second_call', 'rolled back in the test');
	COMMIT;});
like($err, qr/NOTICE:  every connected standby replayed the migrations/,
	'a first call\'s migrations are waited for when a second call is rolled back to a savepoint');
is(on_standbys_now('t_first_call'), 't,t', 'the standbys have them after COMMIT');
# a rolled-back transaction waits for nothing
($rc, $out, $err) = on_primary(q{
	SET fleetmigrate.wait_for_standbys = '60s';
	BEGIN;
	SELECT fleetmigrate.register('005', 'rolled_back', 'CREATE TABLE t_rb (id int)');
	SELECT count(*) FROM fleetmigrate.apply_pending();
	ROLLBACK;});
unlike($err, qr/standby/, 'a rolled-back apply_pending() does not wait');

# A standby that does not replay: the wait times out.
$s2->safe_psql($db, q{SELECT pg_wal_replay_pause()});
$primary->safe_psql($db, q{SELECT fleetmigrate.register('005', 'paused', 'CREATE TABLE t_paused (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '1s'; CALL fleetmigrate.migrate()});
isnt($rc, 0, 'migrate() fails when a standby does not replay in time');
like($err, qr/ERROR:  timed out after 1000 ms waiting for standbys to replay the run\nDETAIL:  The migrations are applied and committed on the primary; standby "s1" \(process \d+\) replayed it in \d+ ms \([^)]*\), standby "s2" \(process \d+\) is \d+ bytes behind \([^)]*\)\.\nHINT:  Nothing needs to run again\./,
	'the error says which standby is behind and by how much');
is($primary->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '005'}),
	'applied', 'the migration stays applied');
is( $primary->safe_psql($db, q{
	SELECT outcome, (SELECT string_agg(e->>'standby' || ':' || (e->>'replayed') || ':' || (e ? 'behind_bytes'), ','
	                   ORDER BY e->>'standby') FROM jsonb_array_elements(standbys) e)
	  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1}),
	'succeeded|s1:true:false,s2:false:true', 'the run is recorded with the standby that is behind');
# a run with nothing to apply does not wait
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '1s'; CALL fleetmigrate.migrate()});
is($rc, 0, 'a run with nothing pending does not wait');
unlike($err, qr/standby/, 'and says nothing about standbys');

# apply_pending() cannot fail after its commit: it warns.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('006', 'paused_apply', 'CREATE TABLE t_paused_apply (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '1s'; SELECT version, status FROM fleetmigrate.apply_pending()});
is($rc, 0, 'apply_pending() succeeds');
like($err, qr/WARNING:  timed out after 1000 ms waiting for standbys to replay the migrations\nDETAIL:  The migrations are applied and committed on the primary; standby "s1" .*standby "s2" \(process \d+\) is \d+ bytes behind/,
	'and warns which standby is behind');
is($primary->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '006'}),
	'applied', 'the migration is applied');

# A cancel during apply_pending()'s wait ends the wait, not the commit.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007', 'canceled', 'CREATE TABLE t_canceled (id int)')});
my ($bout, $berr) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr($db), '-c',
	  q{SET fleetmigrate.wait_for_standbys = '300s'}, '-c',
	  q{SELECT version, status FROM fleetmigrate.apply_pending()} ],
	'>', \$bout, '2>', \$berr);
ok( $primary->poll_query_until($db, q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'}),
	'apply_pending() waits for the standby at commit');
$primary->safe_psql($db, q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'});
$h->finish;
is($h->result(0), 0, 'the canceled wait is not an error');
like($berr, qr/WARNING:  canceled the wait for standbys to replay the migrations\nDETAIL:  The migrations are applied and committed on the primary; .*standby "s2" \(process \d+\) is \d+ bytes behind/,
	'it warns that the wait was canceled');
is($primary->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '007'}),
	'applied', 'the migration is committed');

# A statement_timeout during migrate()'s wait is the server's error; the
# migrations stay applied and the run records no standbys.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007c', 'statement_timeout', 'CREATE TABLE t_statement_timeout (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '300s'; SET statement_timeout = '3s'; CALL fleetmigrate.migrate()});
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'statement_timeout ends migrate()\'s wait with its error');
is( $primary->safe_psql($db, q{
	SELECT s.state || ':' || (SELECT outcome || ':' || (standbys IS NULL) FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1)
	  FROM fleetmigrate.status s WHERE version = '007c'}),
	'applied:succeeded:true', 'the migration stays applied, the run succeeded and records no standbys');
# apply_pending()'s wait at commit is not limited by statement_timeout (the
# server stops that timer before the commit), only by the setting.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007e', 'not_statement_timeout', 'CREATE TABLE t_not_statement_timeout (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '3s'; SET statement_timeout = '1s';
	SELECT version, status FROM fleetmigrate.apply_pending()});
is($rc, 0, 'statement_timeout does not end apply_pending()\'s wait');
like($err, qr/WARNING:  timed out after 3000 ms waiting for standbys to replay the migrations/,
	'the wait ran its own time');
# A client that goes away ends the wait at commit: nobody is left to read
# the answer.  The commit stands.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007f', 'client_gone', 'CREATE TABLE t_client_gone (id int)')});
$h = IPC::Run::start(
	[ 'psql', '-X', '-d', $primary->connstr($db), '-c', q{SET fleetmigrate.wait_for_standbys = '300s'},
	  '-c', q{SELECT version, status FROM fleetmigrate.apply_pending()} ],
	'>', \$bout, '2>', \$berr);
ok( $primary->poll_query_until($db, q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'}),
	'apply_pending() waits at commit');
$h->kill_kill;
ok( $primary->poll_query_until($db, q{SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'}),
	'a client that went away ends its session\'s wait');
is($primary->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '007f'}),
	'applied', 'and its migration is committed');
# pg_terminate_backend() during apply_pending()'s wait at commit ends the
# session; the commit stands.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007d', 'terminated', 'CREATE TABLE t_terminated (id int)')});
($bout, $berr) = ('', '');
$h = IPC::Run::start(
	[ 'psql', '-X', '-d', $primary->connstr($db), '-c', q{SET fleetmigrate.wait_for_standbys = '300s'},
	  '-c', q{SELECT version, status FROM fleetmigrate.apply_pending()}, '-c', q{SELECT 'still there'} ],
	'>', \$bout, '2>', \$berr);
ok( $primary->poll_query_until($db, q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'}),
	'apply_pending() waits at commit');
$primary->safe_psql($db, q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	 WHERE wait_event_type = 'Extension' AND query LIKE '%apply_pending%'});
$h->finish;
like($berr, qr/WARNING:  canceled the wait for standbys to replay the migrations.*FATAL:  terminating connection due to administrator command/s,
	'the terminated session warns that the wait ended, then ends');
unlike($bout, qr/still there/, 'the session does not go on');
is($primary->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '007d'}),
	'applied', 'the terminated session\'s migration is committed');

# A standby that disconnects during the wait is not waited for, and the run
# does not say that every standby replayed it: it warns.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('007b', 'disconnected', 'CREATE TABLE t_disconnected (id int)')});
($bout, $berr) = ('', '');
$h = IPC::Run::start(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr($db), '-c',
	  q{SET fleetmigrate.wait_for_standbys = '300s'}, '-c', q{CALL fleetmigrate.migrate()} ],
	'>', \$bout, '2>', \$berr);
ok( $primary->poll_query_until($db, q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE wait_event_type = 'Extension' AND query LIKE '%migrate%'}),
	'migrate() waits for the paused standby');
$s2->stop('immediate');
$h->finish;
is($h->result(0), 0, 'a standby that disconnects ends the wait for it');
like($berr, qr/WARNING:  a standby disconnected before it replayed the run\nDETAIL:  The migrations are applied and committed on the primary; standby "s1" \(process \d+\) replayed it in \d+ ms \([^)]*\), standby "s2" \(process \d+\) disconnected before it replayed it\./,
	'it warns that the standby disconnected before it replayed the run');
unlike($berr, qr/every connected standby replayed/, 'it does not say that every standby replayed it');
is( $primary->safe_psql($db, q{
	SELECT e->>'replayed', e->>'disconnected', (e->>'behind_bytes')::bigint > 0
	  FROM fleetmigrate.runs r, jsonb_array_elements(r.standbys) e
	 WHERE r.id = (SELECT max(id) FROM fleetmigrate.runs) AND e->>'standby' = 's2'}),
	'false|true|t', 'the run records it as disconnected, behind by what it had not replayed when last seen');
$s2->start;

# The paused standby replays everything once resumed.
$s2->safe_psql($db, q{SELECT pg_wal_replay_resume()});
$primary->wait_for_catchup($s2);
is($s2->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.status WHERE state = 'applied'}),
	$primary->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.status WHERE state = 'applied'}),
	'the resumed standby has every migration');

# Lint: work under ACCESS EXCLUSIVE on an existing table, replayed on the standbys.
sub rules
{
	my ($node, $sql) = @_;
	return $node->safe_psql($db, qq{
		SELECT coalesce(string_agg(statement || ':' || rule, ',' ORDER BY statement, rule), '')
		  FROM fleetmigrate.lint(\$s\$$sql\$s\$) WHERE rule = 'blocking.standby_replay'});
}
is(rules($primary, 'ALTER TABLE big ALTER COLUMN n TYPE bigint'), '1:blocking.standby_replay',
	'a rewrite under ACCESS EXCLUSIVE');
like( $primary->safe_psql($db, q{
	SELECT message || ' / ' || hint FROM fleetmigrate.lint('ALTER TABLE big ALTER COLUMN n TYPE bigint')
	 WHERE rule = 'blocking.standby_replay'}),
	qr/^the rewrite of public\.big \(about 1000 rows by pg_class\.reltuples\) runs under an ACCESS EXCLUSIVE lock, which the 2 connected standbys replay \/ On a hot standby, .*max_standby_streaming_delay \(30s on this server\)/,
	'it names the table, its size, the standbys and max_standby_streaming_delay');
is(rules($primary, 'LOCK TABLE big IN ACCESS EXCLUSIVE MODE; UPDATE big SET n = n + 1 WHERE id > 0'),
	'2:blocking.standby_replay', 'an UPDATE under an earlier statement\'s ACCESS EXCLUSIVE lock');
is(rules($primary, 'ALTER TABLE big ADD CONSTRAINT n_positive CHECK (n > 0)'),
	'1:blocking.standby_replay', 'a constraint check under ACCESS EXCLUSIVE');
is(rules($primary, 'VACUUM FULL big'), '1:blocking.standby_replay', 'VACUUM FULL');
# REINDEX locks each index ACCESS EXCLUSIVE, and planning a query on the
# table opens them all: on a standby every query on the table waits
is(rules($primary, 'REINDEX TABLE big'), '1:blocking.standby_replay', 'REINDEX');
is(rules($primary, 'REINDEX TABLE CONCURRENTLY big'), '', 'not REINDEX CONCURRENTLY');
like( $primary->safe_psql($db, q{
	SELECT hint FROM fleetmigrate.lint('REINDEX TABLE big') WHERE rule = 'blocking.standby_replay'}),
	qr/make the lock brief: REINDEX \.\.\. CONCURRENTLY, which takes no such lock\.$/,
	'its hint for REINDEX is REINDEX CONCURRENTLY, not a backfill');
is(rules($primary, 'UPDATE big SET n = n + 1 WHERE id > 0'), '', 'not an UPDATE on its own (ROW EXCLUSIVE)');
is(rules($primary, 'CREATE INDEX CONCURRENTLY big_n ON big (n)'), '', 'not a concurrent index build');
is(rules($primary, 'ALTER TABLE big ADD COLUMN note text'), '', 'not a brief ACCESS EXCLUSIVE lock');
is(rules($primary, 'CREATE TABLE fresh (n int); ALTER TABLE fresh ALTER COLUMN n TYPE bigint'), '',
	'not a table the migration creates');
is(rules($s1, 'ALTER TABLE big ALTER COLUMN n TYPE bigint'), '', 'not where no standby streams (on s1)');

# Without standbys the setting says there is nothing to wait for.
$_->stop for @standbys;
$primary->safe_psql($db, q{SELECT fleetmigrate.register('008', 'alone', 'CREATE TABLE t_alone (id int)')});
($rc, $out, $err) = on_primary(q{SET fleetmigrate.wait_for_standbys = '60s'; CALL fleetmigrate.migrate()});
is($rc, 0, 'migrate() with no standby');
like($err, qr/NOTICE:  no standby is connected; nothing to wait for/, 'says there is nothing to wait for');
is(rules($primary, 'ALTER TABLE big ALTER COLUMN n TYPE bigint'), '', 'lint: no standby, no warning');

# With a synchronous standby configured, the wait leaves the caller's
# synchronous_commit alone: here the synchronous standby is down and the
# session chose synchronous_commit = local to go on without it.
$primary->safe_psql($db, q{SELECT fleetmigrate.register('009', 'sync_local', 'CREATE TABLE t_sync_local (id int)')});
$primary->append_conf('postgresql.conf', "synchronous_standby_names = 's1'\n");
$primary->reload;
my $timed_out = 0;
($rc, $out, $err) = on_primary(
	q{SET synchronous_commit = local; SET fleetmigrate.wait_for_standbys = '1s';
	  SELECT version, status FROM fleetmigrate.apply_pending()},
	timeout => 60, timed_out => \$timed_out);
ok(!$timed_out, 'synchronous_commit = local stands: the commit does not wait for the synchronous standby');
is($out, '009|applied', 'apply_pending() applied the migration');
like($err, qr/NOTICE:  no standby is connected; nothing to wait for/, 'and found no standby to wait for');
$primary->safe_psql($db, q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'})
	if $timed_out;
$receivewal->kill_kill;

done_testing();
