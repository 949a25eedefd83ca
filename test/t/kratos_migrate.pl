# kratos_migrate.pl -- the whole ory-kratos corpus, CREATE INDEX CONCURRENTLY
# files included, applied with CALL fleetmigrate.migrate():
#   a  plain psql, file by file (psql -1 -f; the files in NONTX.txt without -1)
#   b  CALL migrate(): every migration applied, schema equal to a
#   c  the same with a pgbench write load on courier_messages, the table the
#      concurrent builds index, running throughout: every index valid and
#      bt_index_check(heapallindexed) clean afterwards, schema equal to a
# The corpus drops tables and columns: its runs consent (allow_destructive).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(corpus_dir corpus_ups register_dir schema_dump new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = corpus_dir('ory-kratos');
plan skip_all => 'no ory-kratos corpus in FM_SHARED/corpora' unless $dir;
my ($ups, $nontx) = corpus_ups($dir);

my $node = new_node('kratos');

# a: plain psql, one run per file
$node->safe_psql('postgres', 'CREATE DATABASE a');
my @failed;
for my $f (@$ups)
{
	my @one = $nontx->{$f} ? () : ('-1');
	my $err = '';
	IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @one,
			'-d', $node->connstr('a'), '-f', "$dir/$f" ], '>', \my $out, '2>', \$err)
	  or push @failed, "$f: $err";
}
is(join("\n", @failed), '', 'a: plain psql runs every up file, ' . scalar(@$ups) . ' files');
my $schema_a = schema_dump($node, 'a');
like($schema_a, qr/CREATE INDEX courier_messages_status_created_at_idx /,
	'a: the concurrent builds are in the plain schema');

# Register the corpus in database DB; returns the versions in order.
sub setup_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION fleetmigrate');
	register_dir($node, $db, $dir);
	return [ split /\n/, $node->safe_psql($db, 'SELECT version FROM fleetmigrate.status') ];
}

# b: CALL migrate()
my $versions = setup_db('b');
my $n = scalar @$versions;
is( $node->safe_psql('b',
		"SELECT string_agg(version, ',' ORDER BY version) FROM fleetmigrate.status WHERE NOT transactional"),
	'20260616000000000000,20260703000000000000',
	'b: register marks the two CREATE INDEX CONCURRENTLY ups non-transactional');
is($node->safe_psql('b', 'CALL fleetmigrate.migrate(allow_destructive => true)'),
	"1|$n|succeeded", "b: migrate() applies all $n migrations");
is($node->safe_psql('b',
		"SELECT state, count(*) FROM fleetmigrate.status GROUP BY state"),
	"applied|$n", 'b: every migration is applied');
is($node->safe_psql('b', 'SELECT count(*) FROM pg_index WHERE NOT indisvalid'),
	'0', 'b: no invalid index');
is(schema_dump($node, 'b'), $schema_a, 'b: schema equal to plain psql');

# c: the same under a write load on courier_messages
$versions = setup_db('c');
my ($first_nontx) = grep { $_ eq '20260616000000000000' } @$versions;
my ($before) = reverse grep { $_ lt $first_nontx } @$versions;
my ($run, $applied, $outcome) = split /\|/,
  $node->safe_psql('c', "CALL fleetmigrate.migrate(target => '$before', allow_destructive => true)");
is($outcome, 'succeeded', 'c: migrate() up to the first concurrent build');
$node->safe_psql('c', q{
	INSERT INTO courier_messages (id, type, status, body, subject, recipient, created_at, updated_at)
	SELECT gen_random_uuid(), 1, g % 5, 'body ' || g, 'subject', 'r' || g || '@example.com',
	       now() - g * interval '1 second', now()
	  FROM generate_series(1, 50000) g});

my $script = "$PostgreSQL::Test::Utils::tmp_check/courier_load.sql";
open my $fh, '>', $script or die "cannot write $script: $!";
print $fh <<'EOF';
\set s random(0, 4)
INSERT INTO courier_messages (id, type, status, body, subject, recipient, created_at, updated_at)
VALUES (gen_random_uuid(), 1, :s, 'load', 'subject', 'load@example.com', now(), now());
UPDATE courier_messages SET status = :s, updated_at = now()
 WHERE id = (SELECT id FROM courier_messages WHERE status = (:s + 1) % 5 LIMIT 1);
EOF
close $fh;
my $bench_log = "$PostgreSQL::Test::Utils::tmp_check/pgbench.log";
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-T', '600', '-f', $script, $node->connstr('c') ],
	'>', $bench_log, '2>&1');
$node->poll_query_until('c',
	"SELECT count(*) > 50100 FROM courier_messages")
  or die 'pgbench does not write';
my $rows_before = $node->safe_psql('c', 'SELECT count(*) FROM courier_messages');
($run, $applied, $outcome) = split /\|/, $node->safe_psql('c', 'CALL fleetmigrate.migrate(allow_destructive => true)');
my $rows_after = $node->safe_psql('c', 'SELECT count(*) FROM courier_messages');
$bench->signal('INT');
$bench->finish;
my $bench_out = slurp_file($bench_log);
note "pgbench: $bench_out";
is($outcome, 'succeeded', 'c: migrate() applies the rest under load');
cmp_ok($rows_after, '>', $rows_before, 'c: the load wrote while migrate() ran');
unlike($bench_out, qr/ERROR/, 'c: the load saw no errors');
is($node->safe_psql('c',
		"SELECT state, count(*) FROM fleetmigrate.status GROUP BY state"),
	"applied|$n", 'c: every migration is applied');
is($node->safe_psql('c', 'SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready'),
	'0', 'c: every index is valid');
$node->safe_psql('c', 'CREATE EXTENSION amcheck');
is( $node->safe_psql('c', q{
	SELECT count(bt_index_check(i.indexrelid, true))
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_am am ON am.oid = c.relam
	 WHERE i.indrelid = 'courier_messages'::regclass AND am.amname = 'btree'}),
	'7', 'c: bt_index_check (heapallindexed) passes on the 7 indexes of courier_messages');
$node->safe_psql('c', 'DROP EXTENSION amcheck');
is(schema_dump($node, 'c'), $schema_a, 'c: schema equal to plain psql');

$node->stop;
done_testing();
