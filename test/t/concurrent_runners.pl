# concurrent_runners.pl -- eight sessions run at once, over 50 rounds of new
# migrations, each migration inserting one row into a ledger table:
#   sessions 1-3  CALL fleetmigrate.migrate()
#   sessions 4-6  SELECT * FROM fleetmigrate.apply_pending()
#   session 7     CALL fleetmigrate.migrate(wait => false)
#   session 8     SELECT * FROM fleetmigrate.apply_pending(wait => false)
# Every migration is applied exactly once (ledger rows = migrations, one
# 'applied' event each), no session fails, the only message besides
# "applied ..." is the documented skip of a run that does not wait, and
# every run in fleetmigrate.runs has finished.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rounds = 50;
my @sessions = (
	('CALL fleetmigrate.migrate()') x 3,
	('SELECT version, status FROM fleetmigrate.apply_pending()') x 3,
	'CALL fleetmigrate.migrate(wait => false)',
	'SELECT version, status FROM fleetmigrate.apply_pending(wait => false)');

my $node = new_node('concurrent', 'max_connections = 30');
my $db = 'postgres';
$node->safe_psql($db, q{
	CREATE EXTENSION fleetmigrate;
	CREATE TABLE ledger (version text PRIMARY KEY, applied_by_pid int NOT NULL)});

# Each round: register one migration, start all sessions at once, wait.
my (@failed, @unexpected);
my %skipped;
for my $r (1 .. $rounds)
{
	my $v = sprintf '%03d', $r;
	$node->safe_psql($db, qq{SELECT fleetmigrate.register('$v', 'ledger_$r',
		'INSERT INTO ledger VALUES (''$v'', pg_backend_pid())')});
	my (@h, @out, @err);
	for my $s (0 .. $#sessions)
	{
		($out[$s], $err[$s]) = ('', '');
		push @h, IPC::Run::start(
			[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
				'-c', $sessions[$s] ],
			'>', \$out[$s], '2>', \$err[$s]);
	}
	for my $s (0 .. $#sessions)
	{
		push @failed, "round $r, session " . ($s + 1) . ": $err[$s]" unless $h[$s]->finish;
		for my $line (split /\n/, $err[$s])
		{
			if ($line =~ /^NOTICE:  another fleetmigrate run is in progress; nothing was applied$/
				|| $line =~ /^DETAIL:  Process \d+ holds the runner lock\.$/)
			{
				$skipped{migrate}++ if $line =~ /^NOTICE/;
				next;
			}
			next if $line =~ /^NOTICE:  applied $v ledger_$r in \d+ ms$/;
			push @unexpected, "round $r, session " . ($s + 1) . ": $line";
		}
		$skipped{apply_pending}++ if $out[$s] =~ /^\|skipped$/m;
	}
}
is_deeply(\@failed, [], 'no session failed');
is_deeply(\@unexpected, [], 'no message other than "applied" and the documented skip');
note "runs that did not wait and were skipped: migrate() "
  . ($skipped{migrate} // 0) . ", apply_pending() " . ($skipped{apply_pending} // 0);

is( $node->safe_psql($db, 'SELECT count(*), count(DISTINCT version) FROM ledger'),
	"$rounds|$rounds", 'the ledger has one row per migration');
is( $node->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.status WHERE state = 'applied'}),
	$rounds, 'every migration is applied');
is( $node->safe_psql($db, q{
	SELECT count(*), count(DISTINCT (version, name)) FROM fleetmigrate.history WHERE event = 'applied'}),
	"$rounds|$rounds", 'one applied event per migration');
is( $node->safe_psql($db, q{
	SELECT count(*) FROM fleetmigrate.runs
	 WHERE outcome NOT IN ('succeeded', 'nothing_pending', 'skipped')}),
	'0', 'every migrate() run finished');
$node->stop;
done_testing();
