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

our @EXPORT_OK = qw(corpus_dir corpus_ups register_dir schema_dump new_node);
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

# Register every migration of folder DIR in database DB, the way
# test/scripts/register_dir.sh does (same names, order and down files): its
# --print script, run by psql in DIR against NODE, in one transaction.
# SKIP: file names to leave out (register_dir.sh --skip-file).
sub register_dir
{
	my ($node, $db, $dir, @skip) = @_;
	my $register = File::Spec->catfile(dirname(__FILE__), '..', 'scripts', 'register_dir.sh');
	my ($script, $out, $err) = ('', '', '');
	IPC::Run::run([ 'bash', $register, (map { ('--skip-file', $_) } @skip), '--print', $dir ],
		'>', \$script, '2>', \$err)
	  or die "register_dir.sh --print $dir failed: $err";
	IPC::Run::run([ 'psql', '-X', '-q', '-At', '-1', '-d', $node->connstr($db), '-f', '-' ],
		'<', \$script, '>', \$out, '2>', \$err, init => sub { chdir $dir or die "chdir $dir: $!" })
	  or die "registering $dir failed: $err";
	return;
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
