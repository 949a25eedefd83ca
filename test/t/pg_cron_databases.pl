# pg_cron_databases.pl -- many databases on one schedule (issue 21, item 4),
# with the real pg_cron.  From the database where pg_cron lives, schedule()
# gives each tenant database a job of its own (cron.schedule_in_database),
# one per database and role; scheduling again updates it.  Three tenants
# have fleetmigrate and migrations; the second one's migration fails, and
# the other two are applied by their own scheduled runs all the same.  The
# view fleetmigrate.scheduled_databases shows, for each database, its last
# run, outcome and pending count exactly as that database recorded them,
# the failure included; a database without fleetmigrate and one whose job's
# role may no longer connect are rows with an error, and a role sees only
# its own jobs.  A database that does not answer is a row too, and a
# statement_timeout interrupts the wait for it, closing the connection.
# The clear errors: another database than pg_cron's, a database that does
# not exist, no grant on cron.schedule_in_database(), a hot standby.
# pg_cron 1.4 runs jobs at minute boundaries: everything is scheduled
# first, then the test polls.
use strict;
use warnings;

use IO::Select;
use IO::Socket::UNIX;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron_dbs');
$node->init(allows_streaming => 1);
# pg_cron reaches the server through libpq: over the node's socket
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'postgres'\n"
	  . "cron.host = '" . $node->host . "'\n"
	  . "max_worker_processes = 16\n"
	  . "log_min_messages = warning\n");
$node->start;
my $cron = 'postgres';
my $su = $node->safe_psql($cron, 'SELECT current_user');

$node->safe_psql($cron, q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION fleetmigrate;
	CREATE ROLE regress_cron_deployer LOGIN;
	GRANT USAGE ON SCHEMA fleetmigrate TO regress_cron_deployer;
	GRANT EXECUTE ON FUNCTION fleetmigrate.schedule(text, text), fleetmigrate.unschedule(text),
	                          fleetmigrate.read_scheduled_databases() TO regress_cron_deployer;
	GRANT SELECT ON fleetmigrate.scheduled_databases TO regress_cron_deployer;
	GRANT USAGE ON SCHEMA cron TO regress_cron_deployer;});
for my $db (qw(tenant_a tenant_b tenant_c tenant_d tenant_e tenant_hang))
{
	$node->safe_psql($cron, "CREATE DATABASE $db");
}
# three tenants with fleetmigrate and migrations; tenant_b's second fails
$node->safe_psql('tenant_a', q{
	CREATE EXTENSION fleetmigrate;
	SELECT fleetmigrate.register('001', 'accounts', 'CREATE TABLE accounts (id int)');
	SELECT fleetmigrate.register('002', 'accounts_name', 'ALTER TABLE accounts ADD COLUMN name text');});
$node->safe_psql('tenant_b', q{
	CREATE EXTENSION fleetmigrate;
	SELECT fleetmigrate.register('001', 'orders', 'CREATE TABLE orders (id int)');
	SELECT fleetmigrate.register('002', 'broken', 'SELECT 1 / 0');
	SELECT fleetmigrate.register('003', 'after_broken', 'CREATE TABLE after_broken (id int)');});
$node->safe_psql('tenant_c', q{
	CREATE EXTENSION fleetmigrate;
	SELECT fleetmigrate.register('001', 'events', 'CREATE TABLE events (id int)');});
# the deployer may call the scheduling functions in tenant_a, where they refuse
$node->safe_psql('tenant_a', q{
	GRANT USAGE ON SCHEMA fleetmigrate TO regress_cron_deployer;
	GRANT EXECUTE ON FUNCTION fleetmigrate.schedule(text, text), fleetmigrate.read_scheduled_databases()
	    TO regress_cron_deployer;});
# tenant_d has no fleetmigrate; tenant_e's job belongs to the deployer
$node->safe_psql('tenant_e', q{
	CREATE EXTENSION fleetmigrate;
	GRANT USAGE ON SCHEMA fleetmigrate TO regress_cron_deployer;
	GRANT EXECUTE ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text, text[])
	    TO regress_cron_deployer;
	GRANT SELECT ON fleetmigrate.runs, fleetmigrate.summary TO regress_cron_deployer;
	SELECT fleetmigrate.register('001', 'e_table', 'CREATE TABLE e_table (id int)');});
$node->safe_psql('tenant_hang', 'CREATE EXTENSION fleetmigrate');

# ---- scheduling ----------------------------------------------------------
my %job;
for my $db (qw(tenant_a tenant_b tenant_c tenant_d tenant_hang))
{
	$job{$db} = $node->safe_psql($cron,
		"SELECT fleetmigrate.schedule('*/7 * * * *', database => '$db')");
	like($job{$db}, qr/^\d+$/, "schedule() in $db returns the job id");
}
is( $node->safe_psql($cron, q{
	SELECT jobname, schedule, command, database, username, active FROM cron.job
	 WHERE database = 'tenant_a'}),
	"fleetmigrate tenant_a|*/7 * * * *|CALL fleetmigrate.migrate(started_by => 'pg_cron')|tenant_a|$su|t",
	'the job runs migrate() in that database as this role');
# again, every minute: the same jobs, updated
for my $db (qw(tenant_a tenant_b tenant_c tenant_d))
{
	is($node->safe_psql($cron, "SELECT fleetmigrate.schedule('* * * * *', database => '$db')"),
		$job{$db}, "scheduling $db again updates its job");
}
# pg_cron's own database: the job "fleetmigrate" that schedule() makes
$node->safe_psql($cron, q{SELECT fleetmigrate.register('001', 'cron_db_table', 'CREATE TABLE cron_db_table (id int)')});
$job{$cron} = $node->safe_psql($cron, q{SELECT fleetmigrate.schedule('* * * * *')});
is($node->safe_psql($cron, "SELECT fleetmigrate.schedule('* * * * *', database => '$cron')"),
	$job{$cron}, 'database => the current database is the job of schedule()');
is( $node->safe_psql($cron, q{
	SELECT string_agg(jobname || ':' || database || ':' || schedule, ',' ORDER BY database)
	  FROM cron.job}),
	'fleetmigrate:postgres:* * * * *,fleetmigrate tenant_a:tenant_a:* * * * *,'
	  . 'fleetmigrate tenant_b:tenant_b:* * * * *,fleetmigrate tenant_c:tenant_c:* * * * *,'
	  . 'fleetmigrate tenant_d:tenant_d:* * * * *,fleetmigrate tenant_hang:tenant_hang:*/7 * * * *',
	'one job per database') or diag $node->safe_psql($cron, 'SELECT * FROM cron.job');

# tenant_hang's job stays inactive: pg_cron leaves it alone
$node->safe_psql($cron, "SELECT cron.alter_job($job{tenant_hang}, active => false)");

# the deployer: refused until the administrator grants schedule_in_database()
my ($out, $err);
$node->psql($cron, q{SET ROLE regress_cron_deployer;
	SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_e')},
	stdout => \$out, stderr => \$err, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42501: permission denied for function cron\.schedule_in_database/,
	'without the grant on cron.schedule_in_database(): a clear refusal');
like($err, qr/HINT:  A superuser can allow role "regress_cron_deployer": GRANT EXECUTE ON FUNCTION cron\.schedule_in_database/,
	'... saying how to allow it');
$node->safe_psql($cron, q{GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean)
	TO regress_cron_deployer});
$job{tenant_e} = $node->safe_psql($cron, q{SET ROLE regress_cron_deployer;
	SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_e')});
like($job{tenant_e}, qr/^\d+$/, 'with the grant, the deployer schedules tenant_e');
is($node->safe_psql($cron, "SELECT username FROM cron.job WHERE jobid = $job{tenant_e}"),
	'regress_cron_deployer', 'the job runs as the deployer');
# ... who may no longer connect to it
$node->safe_psql($cron, 'REVOKE CONNECT ON DATABASE tenant_e FROM PUBLIC');

# the clear errors
my %refused = (
	'a database that does not exist' => [ $cron,
		q{SELECT fleetmigrate.schedule('* * * * *', database => 'no_such_db')},
		qr/ERROR:  3D000: database "no_such_db" does not exist/ ],
	'called from a tenant database' => [ 'tenant_a',
		q{SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_a')},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\nDETAIL:  pg_cron runs in database "postgres" \(cron.database_name\), and its jobs are created there.\nHINT:  Connect to database "postgres", install fleetmigrate there too, and call fleetmigrate.schedule\('\* \* \* \* \*', database => 'tenant_a'\)./ ],
	'schedule() called from a tenant database' => [ 'tenant_a',
		q{SELECT fleetmigrate.schedule()},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\nDETAIL:  pg_cron runs in database "postgres".*\nHINT:  Connect to database "postgres", install fleetmigrate there too, and call fleetmigrate.schedule\('\*\/5 \* \* \* \*', database => 'tenant_a'\)./ ],
	'unschedule() called from a tenant database' => [ 'tenant_a',
		q{SELECT fleetmigrate.unschedule()},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\n.*\nHINT:  Connect to database "postgres" and call fleetmigrate.unschedule\(database => 'tenant_a'\)./ ],
	'the view read in a tenant database' => [ 'tenant_a',
		q{SELECT * FROM fleetmigrate.scheduled_databases},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\n.*\nHINT:  Connect to database "postgres" and read fleetmigrate.scheduled_databases there./ ],
	'called from a tenant database by a role that may not read cron.database_name' => [ 'tenant_a',
		q{SET ROLE regress_cron_deployer; SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_a')},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\nDETAIL:  pg_cron runs in another database of this server \(cron.database_name\), and its jobs are created there.\nHINT:  Connect to that database \(a superuser can tell you which\), install fleetmigrate there too, and call fleetmigrate.schedule\('\* \* \* \* \*', database => 'tenant_a'\)./ ],
	'the view read in a tenant database by a role that may not read cron.database_name' => [ 'tenant_a',
		q{SET ROLE regress_cron_deployer; SELECT * FROM fleetmigrate.read_scheduled_databases()},
		qr/ERROR:  55000: pg_cron is not installed in database "tenant_a"\nDETAIL:  pg_cron runs in another database of this server \(cron.database_name\), and its jobs are there.\nHINT:  Connect to that database \(a superuser can tell you which\) and read fleetmigrate.scheduled_databases there./ ],
	'a bad schedule' => [ $cron,
		q{SELECT fleetmigrate.schedule('every hour', database => 'tenant_a')},
		qr/ERROR:  22023: invalid schedule "every hour"/ ],
	'a database the role may not connect to' => [ $cron,
		q{SET ROLE regress_cron_deployer; SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_e')},
		qr/ERROR:  42501: permission denied for database "tenant_e"\nDETAIL:  pg_cron runs the job as role "regress_cron_deployer", which has no CONNECT privilege on database "tenant_e"./ ]);
for my $case (sort keys %refused)
{
	my ($db, $sql, $re) = @{ $refused{$case} };
	$node->psql($db, $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, $re, "refused: $case");
}

# ---- the scheduled runs ----------------------------------------------------
# Each tenant's job runs on its own: tenant_b's failure stops nobody else.
ok($node->poll_query_until('tenant_a', q{SELECT pending = 0 AND applied = 2 FROM fleetmigrate.summary}),
	'tenant_a: both migrations applied by its scheduled run');
ok($node->poll_query_until('tenant_c', q{SELECT pending = 0 AND applied = 1 FROM fleetmigrate.summary}),
	'tenant_c: its migration applied by its scheduled run');
ok( $node->poll_query_until('tenant_b', q{
		SELECT EXISTS (SELECT 1 FROM fleetmigrate.runs WHERE started_by = 'pg_cron' AND outcome = 'failed')}),
	'tenant_b: its scheduled run failed');
is( $node->safe_psql('tenant_b', q{
	SELECT string_agg(version || ' ' || state, ',' ORDER BY version) FROM fleetmigrate.status}),
	'001 applied,002 failed,003 pending', 'tenant_b: 001 applied, stopped at 002');
# pg_cron has tried every active job at least once
ok( $node->poll_query_until($cron, q{
		SELECT count(DISTINCT d.jobid) = (SELECT count(*) FROM cron.job WHERE active)
		  FROM cron.job_run_details d
		 WHERE d.status IN ('succeeded', 'failed')}),
	'pg_cron has run every active job');
is( $node->safe_psql($cron, q{
	SELECT string_agg(database || ' ' || active, ',' ORDER BY database) FROM fleetmigrate.scheduled_databases}),
	'postgres true,tenant_a true,tenant_b true,tenant_c true,tenant_d true,tenant_e true,tenant_hang false',
	'the view shows whether each job is active');
# From here on nothing runs: no job, and no run still going.
$node->safe_psql($cron, 'SELECT cron.alter_job(jobid, active => false) FROM cron.job');
# pg_cron's launcher reloads its jobs within a second; a run it started
# before that is waited for below
sleep 2;
ok( $node->poll_query_until($cron, q{
		SELECT NOT EXISTS (SELECT 1 FROM cron.job_run_details WHERE status NOT IN ('succeeded', 'failed'))}),
	'no scheduled run is still going');

# ---- the view ----------------------------------------------------------------
# As each database recorded it: its summary and its last run, read there.
my $cols = 'database, username, extversion, applied, pending, failed, drift, last_run_id, '
  . 'last_started_by, last_outcome, last_run_at, last_applied, last_failed_version, '
  . 'last_failed_name, replace(last_error, E\'\\n\', \' \'), error';
my %row;
for my $line (split /\n/,
	$node->safe_psql($cron, "SELECT $cols FROM fleetmigrate.scheduled_databases"))
{
	my ($db) = split /\|/, $line;
	$row{$db} = $line;
}
is( join(',', sort keys %row),
	'postgres,tenant_a,tenant_b,tenant_c,tenant_d,tenant_e,tenant_hang',
	'a superuser sees every fleetmigrate job, this database included');
for my $db ($cron, qw(tenant_a tenant_b tenant_c tenant_hang))
{
	my $own = $node->safe_psql($db, qq{
		SELECT '$db', '$su', (SELECT extversion FROM pg_extension WHERE extname = 'fleetmigrate'),
		       s.applied, s.pending, s.failed, s.drift, l.id, l.started_by, l.outcome,
		       coalesce(l.last_run_at, l.finished_at, l.started_at), l.applied,
		       l.failed_version, l.failed_name, replace(l.error, E'\\n', ' '), NULL
		  FROM fleetmigrate.summary s
		  LEFT JOIN (SELECT * FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1) l ON true});
	is($row{$db}, $own, "$db: the view shows what $db recorded");
}
like($row{tenant_a}, qr/^tenant_a\|$su\|1\.11\|2\|0\|0\|0\|\d+\|pg_cron\|(succeeded|nothing_pending)\|/,
	'tenant_a: applied 2, pending 0, last run by pg_cron');
like($row{tenant_b}, qr/^tenant_b\|$su\|1\.11\|1\|1\|1\|0\|\d+\|pg_cron\|failed\|[^|]+\|1\|002\|broken\|division by zero CONTEXT: migration "002 broken", statement 1, line 1: SELECT 1 \/ 0\|$/,
	'tenant_b: the failure, its migration and its error; one pending, one failed');
like($row{tenant_c}, qr/^tenant_c\|$su\|1\.11\|1\|0\|0\|0\|\d+\|pg_cron\|/,
	'tenant_c: applied, by pg_cron');
is($row{tenant_d}, "tenant_d|$su||||||||||||||fleetmigrate is not installed in database \"tenant_d\"",
	'tenant_d: an error row, fleetmigrate is not installed there');
is($row{tenant_e},
	'tenant_e|regress_cron_deployer||||||||||||||role "regress_cron_deployer" has no CONNECT privilege on database "tenant_e"',
	'tenant_e: an error row, the job\'s role may not connect');
is($row{tenant_hang}, "tenant_hang|$su|1.11|0|0|0|0|||||||||",
	'tenant_hang: nothing run yet');
# pg_cron's own view of the same jobs: its last attempt
is( $node->safe_psql($cron, q{
	SELECT string_agg(database || ':' || cron_status, ',' ORDER BY database)
	  FROM fleetmigrate.scheduled_databases WHERE database <> 'tenant_hang'}),
	'postgres:succeeded,tenant_a:succeeded,tenant_b:failed,tenant_c:succeeded,tenant_d:failed,tenant_e:failed',
	'pg_cron\'s last status of each job');
like( $node->safe_psql($cron, q{
	SELECT cron_message FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_d'}),
	qr/schema "fleetmigrate" does not exist/, 'tenant_d: pg_cron says why its job failed');
is( $node->safe_psql($cron, q{
	SELECT schedule || ' ' || active FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_hang'}),
	'*/7 * * * * false', 'the job\'s schedule');

# the deployer sees its own job only
is( $node->safe_psql($cron, q{SET ROLE regress_cron_deployer;
	SELECT string_agg(database, ',') FROM fleetmigrate.scheduled_databases}),
	'tenant_e', 'a role sees only its own jobs');

# ---- a database that does not answer -------------------------------------------
# tenant_hang's job now points at a socket that accepts and never answers
my $hang_port = 65001;
my $hang_path = $node->host . "/.s.PGSQL.$hang_port";
my $hang = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $hang_path, Listen => 5)
  or die "cannot listen on $hang_path: $!";
$node->safe_psql($cron, "UPDATE cron.job SET nodeport = $hang_port WHERE jobid = $job{tenant_hang}");
like( $node->safe_psql($cron, q{SELECT database, error FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_hang'}),
	qr/^tenant_hang\|could not connect to database "tenant_hang" as role "$su": no answer within 10 seconds$/,
	'tenant_hang: an error row, no answer in time');
# a statement_timeout interrupts the wait; the connection is closed
my $t0 = time;
$node->psql($cron, q{SET statement_timeout = '1s';
	SELECT * FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_hang'},
	stdout => \$out, stderr => \$err);
like($err, qr/canceling statement due to statement timeout/, 'the wait is interrupted');
cmp_ok(time - $t0, '<', 9, '... before the ten seconds it would wait');
# every connection made to the silent socket was closed by the backend
my $closed = 0;
my $sel = IO::Select->new($hang);
while ($sel->can_read(0.5))
{
	my $c = $hang->accept or last;
	my $cs = IO::Select->new($c);
	my ($buf, $eof) = ('', 0);
	while ($cs->can_read(5))
	{
		my $n = sysread($c, $buf, 8192, length $buf);
		if (!$n) { $eof = 1; last; }
	}
	$closed++ if $eof;
	close $c;
}
is($closed, 2, 'the two connections to the silent socket were all closed');
close $hang;
unlink $hang_path;
is($node->safe_psql($cron, q{SELECT fleetmigrate.unschedule(database => 'tenant_hang')}), 't',
	'tenant_hang unscheduled');

# ---- a database whose answer is not what the view expects ---------------------
# A role that owns its database installs fleetmigrate there (a trusted
# extension) in a schema it created, renames that schema and puts views of
# its own in a new "fleetmigrate": the view reads them.  Wrong values are
# that database's own record; but one database must not make the view fail
# for every reader.
$node->safe_psql($cron, q{
	CREATE ROLE regress_cron_tenant_owner LOGIN;
	CREATE DATABASE tenant_own OWNER regress_cron_tenant_owner;});
$node->safe_psql('tenant_own', q{
	SET ROLE regress_cron_tenant_owner;
	CREATE SCHEMA fleetmigrate;
	CREATE EXTENSION fleetmigrate;
	ALTER SCHEMA fleetmigrate RENAME TO fleetmigrate_real;
	CREATE SCHEMA fleetmigrate;
	CREATE VIEW fleetmigrate.summary AS SELECT 'lots' AS applied, 0 AS pending, 0 AS failed, 0 AS drift;
	CREATE VIEW fleetmigrate.runs AS
	SELECT 1 AS id, 'me' AS started_by, 'succeeded' AS outcome, now() AS last_run_at,
	       now() AS finished_at, now() AS started_at, 99999999999 AS applied,
	       NULL::text AS failed_version, NULL::text AS failed_name, NULL::text AS error;});
my $own_job = $node->safe_psql($cron, q{
	SELECT cron.schedule_in_database('fleetmigrate tenant_own', '0 0 1 1 *',
	    'CALL fleetmigrate.migrate()', 'tenant_own', 'regress_cron_tenant_owner', false)});
$node->psql($cron, q{SELECT database, extversion, applied, last_applied, error
	  FROM fleetmigrate.scheduled_databases WHERE database IN ('tenant_c', 'tenant_own')},
	stdout => \$out, stderr => \$err);
is( $out,
	"tenant_c|1.11|1|1|\n"
	  . 'tenant_own|1.11|||could not read database "tenant_own": its answer is not valid: invalid input syntax for type bigint: "lots"',
	'a database whose answer does not fit the view: an error row, the others are read')
  or diag $err;
$node->safe_psql('tenant_own', q{
	SET ROLE regress_cron_tenant_owner;
	DROP VIEW fleetmigrate.summary;
	CREATE VIEW fleetmigrate.summary AS SELECT 1 AS applied, 0 AS pending, 0 AS failed, 0 AS drift;});
like( $node->safe_psql($cron, q{SELECT error FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_own'}),
	qr/^could not read database "tenant_own": its answer is not valid: value "99999999999" is out of range for type integer$/,
	'... a value out of range too');
# an answer of many megabytes is cut there, before it is sent
$node->safe_psql('tenant_own', q{
	SET ROLE regress_cron_tenant_owner;
	DROP VIEW fleetmigrate.runs;
	CREATE VIEW fleetmigrate.runs AS
	SELECT 1 AS id, 'me' AS started_by, 'failed' AS outcome, now() AS last_run_at,
	       now() AS finished_at, now() AS started_at, 0 AS applied,
	       NULL::text AS failed_version, NULL::text AS failed_name, repeat('x', 50000000) AS error;});
is( $node->safe_psql($cron, q{
	SELECT length(last_error), error IS NULL FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_own'}),
	'10000|t', '... a text of 50 MB is read as its first 10000 characters');
$node->safe_psql($cron, "SELECT cron.unschedule($own_job)");

# ---- unscheduling --------------------------------------------------------------
is($node->safe_psql($cron, q{SELECT fleetmigrate.unschedule(database => 'tenant_a')}), 't',
	'unschedule(database => ...) removes that database\'s job');
is($node->safe_psql($cron, q{SELECT fleetmigrate.unschedule(database => 'tenant_a')}), 'f',
	'... and again: nothing to remove');
$node->safe_psql($cron, 'DROP DATABASE tenant_d');
like( $node->safe_psql($cron, q{SELECT error FROM fleetmigrate.scheduled_databases WHERE database = 'tenant_d'}),
	qr/^database "tenant_d" does not exist$/, 'a dropped database\'s job: an error row');
is($node->safe_psql($cron, q{SELECT fleetmigrate.unschedule(database => 'tenant_d')}), 't',
	'the job of a dropped database can be removed');
is($node->safe_psql($cron, q{SET ROLE regress_cron_deployer; SELECT fleetmigrate.unschedule('tenant_b')}), 'f',
	'another role\'s job is not removed');
is( $node->safe_psql($cron, q{SELECT string_agg(database, ',' ORDER BY database) FROM fleetmigrate.scheduled_databases}),
	'postgres,tenant_b,tenant_c,tenant_e', 'the jobs left');
is($node->safe_psql($cron, q{SELECT fleetmigrate.unschedule(database => NULL)}), 't',
	'database => NULL is this database');
is($node->safe_psql($cron, q{SELECT count(*) FROM cron.job WHERE jobname = 'fleetmigrate'}), '0',
	'... whose job "fleetmigrate" is gone');

# ---- a hot standby -------------------------------------------------------------
$node->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('cron_standby');
$standby->init_from_backup($node, 'backup', has_streaming => 1);
$standby->start;
for my $sql (
	q{SELECT fleetmigrate.schedule()},
	q{SELECT fleetmigrate.unschedule()},
	q{SELECT fleetmigrate.schedule('* * * * *', database => 'tenant_c')},
	q{SELECT fleetmigrate.unschedule(database => 'tenant_c')})
{
	$standby->psql($cron, $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  25006: cannot apply migrations on a standby; connect to the primary\nDETAIL:  (un)?schedule\(\) changes the database, and this server is a hot standby/,
		"refused on a standby: $sql");
}
$standby->stop;

# ---- pg_cron installed but not loaded ------------------------------------------
# Without pg_cron in shared_preload_libraries, cron.host is a placeholder that
# any role may SET.  The view must connect where pg_cron would (the job's
# nodename and nodeport, written by pg_cron or a superuser), never where the
# reader says: else a role sends the server's .pgpass password to a server
# of its choosing.
$node->safe_psql($cron, 'GRANT CONNECT ON DATABASE tenant_e TO regress_cron_deployer');
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
my $evil_dir = PostgreSQL::Test::Utils::tempdir_short();
my $evil_path = "$evil_dir/.s.PGSQL." . $node->port;
my $evil = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $evil_path, Listen => 5)
  or die "cannot listen on $evil_path: $!";
$node->psql($cron, qq{SET ROLE regress_cron_deployer; SET cron.host = '$evil_dir';
	SELECT database, coalesce(error, 'read') FROM fleetmigrate.scheduled_databases},
	stdout => \$out, stderr => \$err);
is($out, 'tenant_e|read', 'pg_cron not loaded: the job is read where pg_cron would connect')
  or diag $err;
ok(!IO::Select->new($evil)->can_read(0), '... not at a cron.host the reader set');
close $evil;
unlink $evil_path;

$node->stop;
done_testing();
