# FmTest.pm -- helpers shared by fleetmigrate's TAP tests (test/t/*.pl)
#
# The tests run under PGXS "make installcheck" with TAP_TESTS (see the
# Makefile), each with its own PostgreSQL::Test::Cluster node and the
# installed fleetmigrate.
package FmTest;

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT_OK = qw(corpus_dir corpus_ups register_file schema_dump new_node);
use Exporter 'import';

# The folder of corpus NAME: $FM_SHARED/corpora/NAME, with FM_SHARED
# defaulting to the "shared" folder beside the repository.  undef if absent.
sub corpus_dir
{
	my ($name) = @_;
	my $shared = $ENV{FM_SHARED}
	  // File::Spec->catdir(dirname(__FILE__), '..', '..', '..', 'shared');
	my $dir = File::Spec->catdir($shared, 'corpora', $name);
	return -f "$dir/ORDER-up.txt" ? $dir : undef;
}

# The up files of a corpus in its order, and the set of files its NONTX.txt
# names (run outside a transaction by the project itself).
sub corpus_ups
{
	my ($dir) = @_;
	my @ups = grep { /\S/ } split /\r?\n/, slurp_file("$dir/ORDER-up.txt");
	my %nontx;
	if (-f "$dir/NONTX.txt")
	{
		$nontx{$_} = 1 for grep { /\S/ } split /\r?\n/, slurp_file("$dir/NONTX.txt");
	}
	return (\@ups, \%nontx);
}

# Register one up file: version = leading digits of the file name, name =
# what follows the "_" (as test/scripts/register_dir.sh does).  The body
# travels as a psql variable, never as SQL text.  Returns the version.
sub register_file
{
	my ($node, $db, $dir, $file) = @_;
	my ($version, $name) = $file =~ /^(\d+)(?:_(.*?))?(?:\.up\.sql|_up\.sql)$/
	  or die "cannot name migration file $file";
	$name = $version if !defined $name || $name eq '';
	my $body = slurp_file("$dir/$file");
	$node->safe_psql($db,
		"SELECT fleetmigrate.register(:'v', :'n', :'up')",
		extra_params => [ '-v', "v=$version", '-v', "n=$name", '-v', "up=$body" ]);
	return $version;
}

# Schema-only dump of DB, as SQL, without fleetmigrate's schema and the TOC
# entries of the extension itself, and without the per-dump \restrict keys.
sub schema_dump
{
	my ($node, $db) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/$db.dump";
	my ($list, $out, $err);
	IPC::Run::run([ 'pg_dump', '--schema-only', '--no-owner', '--no-privileges',
			'-N', 'fleetmigrate', '-Fc', '-f', $file, '-d', $node->connstr($db) ],
		'2>', \$err)
	  or die "pg_dump $db failed: $err";
	IPC::Run::run([ 'pg_restore', '-l', $file ], '>', \$list, '2>', \$err)
	  or die "pg_restore -l failed: $err";
	$list = join '', grep { !/^\d+; \d+ \d+ (EXTENSION - fleetmigrate|COMMENT - EXTENSION fleetmigrate)( |$)/ }
	  split /^/, $list;
	open my $fh, '>', "$file.list" or die "cannot write $file.list: $!";
	print $fh $list;
	close $fh;
	IPC::Run::run([ 'pg_restore', '--no-owner', '--no-privileges', '-L', "$file.list",
			'-f', '-', $file ], '>', \$out, '2>', \$err)
	  or die "pg_restore failed: $err";
	return join "\n", grep { !/^\\(un)?restrict / } split /\n/, $out;
}

# A started node with room for background workers and quick crash restarts.
sub new_node
{
	my ($name, $extra_conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "max_worker_processes = 16\n"
		  . "log_min_messages = warning\n" . ($extra_conf // ''));
	$node->start;
	return $node;
}

1;
