# bundle_roundtrip.pl -- export_bundle() and register_bundle() on the real
# corpora in ../shared/corpora: each corpus registered file by file (the
# psql way of test/scripts/register_dir.sh), exported, registered into an
# empty catalog and exported again: byte-identical, with the same
# checksums.  register_dir() reads the same folder on the server to the same
# checksums (ory-kratos), or, for harness-gitness with its MySQL down
# script, refuses the whole folder and registers nothing.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(corpus_dir register_dir new_node);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my %skip = ('harness-gitness' => ['0029_create_index_job_job_group_id_down.sql']);
my @corpora = grep { defined corpus_dir($_) } ('ory-kratos', 'harness-gitness');
plan skip_all => 'no corpora in ../shared/corpora' unless @corpora;

my $node = new_node('bundle');
my $sums = q{SELECT string_agg(concat_ws(' ', version, name, checksum, down_checksum,
                                         verify_checksum), E'\n' ORDER BY version, name)
               FROM fleetmigrate.migrations};
for my $corpus (@corpora)
{
	my $dir = corpus_dir($corpus);
	my ($a, $b, $c) = map { "${_}_" . ($corpus =~ s/-/_/gr) } qw(files bundle dir);
	$node->safe_psql('postgres', "CREATE DATABASE $_") for ($a, $b, $c);
	$node->safe_psql($_, 'CREATE EXTENSION fleetmigrate') for ($a, $b, $c);

	register_dir($node, $a, $dir, @{ $skip{$corpus} // [] });
	my $exported = $node->safe_psql($a, 'SELECT fleetmigrate.export_bundle()');
	my $count = $node->safe_psql($a, 'SELECT count(*) FROM fleetmigrate.migrations');
	ok($count > 100, "$corpus: $count migrations registered");
	unlike($exported, qr/\$fmbundle\$/, "$corpus: the export can be dollar-quoted");
	is( $node->safe_psql($b, qq{
		SELECT count(*) FROM fleetmigrate.register_bundle(\$fmbundle\$$exported\$fmbundle\$)
		 WHERE outcome = 'registered'}),
		$count, "$corpus: register_bundle() of the export registers every migration");
	my $again = $node->safe_psql($b, 'SELECT fleetmigrate.export_bundle()');
	ok($again eq $exported, "$corpus: export, register, export is byte-identical");
	is($node->safe_psql($b, $sums), $node->safe_psql($a, $sums),
		"$corpus: the same checksums");

	my ($out, $err) = ('', '');
	$node->psql($c, "SELECT count(*) FROM fleetmigrate.register_dir('$dir')",
		stdout => \$out, stderr => \$err);
	if (!$skip{$corpus})
	{
		is($out, $count, "$corpus: register_dir() registers every migration");
		is($node->safe_psql($c, $sums), $node->safe_psql($a, $sums),
			"$corpus: register_dir() gives the checksums of the psql way");
	}
	else
	{
		like($err, qr/syntax error/, "$corpus: register_dir() refuses the folder with the MySQL down script");
		is($node->safe_psql($c, 'SELECT count(*) FROM fleetmigrate.migrations'), '0',
			"$corpus: and registers nothing");
	}
}

$node->stop;
done_testing();
