# crash_soak.pl -- the functions anyone may call (EXECUTE granted to PUBLIC)
# that read the catalog, run against concurrent DDL on the objects they name.
#
# For $seconds seconds two pgbench clients drop, create, alter and rename
# tables, columns, indexes, a constraint, a materialized view, an enum, a
# domain over it, a function, a schema and the tier checks' users table,
# while four pgbench clients run lint() on statements naming those objects
# (every lint rule that consults the catalog), one runs checksum(),
# version_key() and param() outside a migration, and one the tier permission
# checks.  lint() and the readers run as a role with no grants at all.
# Issue 17: lint() looked relations up without a lock and segfaulted the
# server when one was dropped between lookup and naming, and gave "cache
# lookup failed for attribute" (XX000) on a column type change.
#
# Asserted: no server process crashed (nothing in the log, the postmaster
# still up with the same pid), no internal error (SQLSTATE XX000) reached any
# client, lint() never raised any error at all, and every group of clients
# did real work, the tier permission checks included (their direct reads
# lock the users table and check that it is still there).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use FmTest qw(new_node);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The length of the soak, in seconds: the CI's budget for this test.
my $seconds = $ENV{FM_SOAK_SECONDS} // 60;

# A crash stops the server rather than restarting it, so that it cannot go
# unnoticed; every error is logged with its SQLSTATE and the client's name.
my $node = new_node('crash_soak',
	"restart_after_crash = off\n"
	  . "log_line_prefix = '%m [%p] %a %e '\n"
	  . "log_min_error_statement = error\n");
my $db = 'postgres';
$node->safe_psql($db, q{
	CREATE EXTENSION fleetmigrate;
	CREATE EXTENSION fleetmigrate_tiers;
	CREATE ROLE soak_reader LOGIN;
	CREATE TYPE soak_mood AS ENUM ('calm', 'busy');
	CREATE DOMAIN soak_dom AS soak_mood;
	CREATE FUNCTION soak_f() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
	CREATE SCHEMA soak_s;
	GRANT USAGE ON SCHEMA soak_s TO PUBLIC;
	CREATE TABLE soak_s.u (c int PRIMARY KEY);
	CREATE TABLE soak_t (c int, d text, e soak_dom);
	CREATE INDEX soak_t_c ON soak_t (c);
	CREATE MATERIALIZED VIEW soak_mv AS SELECT count(*) AS n FROM soak_t;
	CREATE TABLE users (id uuid PRIMARY KEY, email text,
		auth_tier text NOT NULL DEFAULT 'MAGIC_LINK', upgraded_at timestamptz,
		tier_changed_at timestamptz);
	INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-000000000001')});
my $postmaster_pid = postmaster_pid();

my $dir = $PostgreSQL::Test::Utils::tmp_check;

# pgbench script files: name => contents
my %scripts;

# DDL, client 1: the table, its columns, index, constraint, name and the
# materialized view on it.  Client 2 only adds a column to it.
$scripts{ddl_tables} = <<'EOF';
DROP TABLE IF EXISTS soak_t, soak_t2 CASCADE;
CREATE TABLE soak_t (c int, d text);
CREATE INDEX soak_t_c ON soak_t (c);
CREATE MATERIALIZED VIEW soak_mv AS SELECT count(*) AS n FROM soak_t;
ALTER TABLE soak_t ADD CONSTRAINT soak_t_c_nn CHECK (c IS NOT NULL);
ALTER TABLE soak_t ALTER COLUMN c SET NOT NULL;
ALTER TABLE soak_t RENAME COLUMN d TO d2;
ALTER TABLE soak_t ALTER COLUMN c TYPE bigint;
ALTER TABLE soak_t DROP COLUMN d2;
ALTER TABLE soak_t ADD COLUMN d text;
DROP INDEX soak_t_c;
ALTER TABLE soak_t RENAME TO soak_t2;
ALTER TABLE soak_t2 RENAME TO soak_t;
ALTER TABLE soak_t ALTER COLUMN c TYPE int;
EOF

# DDL, client 2: the types, the function, the schema and the users table.
$scripts{ddl_types} = <<'EOF';
DROP TYPE IF EXISTS soak_mood CASCADE;
CREATE TYPE soak_mood AS ENUM ('calm', 'busy');
CREATE DOMAIN soak_dom AS soak_mood;
ALTER TABLE IF EXISTS soak_t ADD COLUMN IF NOT EXISTS e soak_dom;
DROP FUNCTION IF EXISTS soak_f();
CREATE FUNCTION soak_f() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
DROP SCHEMA IF EXISTS soak_s CASCADE;
BEGIN;
CREATE SCHEMA soak_s;
GRANT USAGE ON SCHEMA soak_s TO PUBLIC;
CREATE TABLE soak_s.u (c int PRIMARY KEY);
COMMIT;
DROP TABLE IF EXISTS users;
CREATE TABLE users (id uuid PRIMARY KEY, email text, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK', upgraded_at timestamptz, tier_changed_at timestamptz);
INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-000000000001');
ALTER TABLE users RENAME COLUMN auth_tier TO tier;
ALTER TABLE users RENAME COLUMN tier TO auth_tier;
EOF

# lint(): the three statements that crashed the server, then every rule that
# looks at the catalog, on each name the DDL clients use.
my @lint_statements = (
	'ALTER TABLE %s ALTER c SET NOT NULL',
	'ALTER TABLE %s ADD COLUMN x int DEFAULT random()::int',
	'ALTER TABLE %s ALTER COLUMN c TYPE bigint',
	'ALTER TABLE %s ALTER COLUMN c TYPE smallint USING c::smallint',
	'ALTER TABLE %s ALTER COLUMN c TYPE soak_mood',
	'ALTER TABLE %s ALTER COLUMN c TYPE soak_dom',
	'ALTER TABLE %s ALTER COLUMN c TYPE soak_mood[]',
	'ALTER TABLE %s ALTER COLUMN c TYPE soak_s.nothing',
	'ALTER TABLE %s ALTER COLUMN e TYPE text',
	'ALTER TABLE %s ALTER COLUMN e TYPE soak_mood',
	'ALTER TABLE %s ALTER COLUMN d TYPE varchar(10)',
	'ALTER TABLE %s ADD COLUMN y int DEFAULT soak_f()',
	'ALTER TABLE %s ADD COLUMN z int DEFAULT soak_s.soak_f()',
	'ALTER TABLE %s ADD COLUMN w int NOT NULL CHECK (w > 0) REFERENCES soak_s.u (c)',
	'ALTER TABLE %s ADD CONSTRAINT k CHECK (c > 0)',
	'ALTER TABLE %s ADD PRIMARY KEY (c)',
	'ALTER TABLE %s ADD FOREIGN KEY (c) REFERENCES soak_s.u (c)',
	'ALTER TABLE %s ADD CONSTRAINT k2 CHECK (c IS NOT NULL) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT k2; ALTER TABLE %s ALTER c SET NOT NULL',
	'ALTER TABLE %s SET TABLESPACE pg_default',
	'ALTER TABLE %s SET LOGGED',
	'ALTER TABLE %s ADD COLUMN v int',
	'ALTER TABLE %s DROP COLUMN d',
	'ALTER TABLE %s RENAME TO soak_x',
	'ALTER TABLE %s RENAME COLUMN c TO c2',
	'ALTER TABLE %s SET SCHEMA soak_s',
	'CREATE INDEX ON %s (c)',
	'CREATE TRIGGER tr BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION soak_f()',
	'DROP TRIGGER tr ON %s',
	'DROP POLICY p ON %s',
	'LOCK TABLE %s IN ACCESS EXCLUSIVE MODE',
	'VACUUM FULL %s',
	'CLUSTER %s USING soak_t_c',
	'REINDEX TABLE %s',
	'TRUNCATE %s',
	'DELETE FROM %s',
	'DROP TABLE %s');
my @lint_names = ('soak_t', 'soak_t2', 'public.soak_t', 'soak_s.u', 'users');
my @lint_once = (
	'DROP INDEX soak_t_c',
	'DROP INDEX public.soak_t_c',
	'REFRESH MATERIALIZED VIEW soak_mv',
	'REFRESH MATERIALIZED VIEW CONCURRENTLY soak_mv',
	'DROP TYPE soak_mood',
	'DROP DOMAIN soak_dom CASCADE',
	'DROP FUNCTION soak_f()',
	'DROP SCHEMA soak_s CASCADE',
	'CREATE TABLE soak_n (c int REFERENCES soak_t (c), d int REFERENCES soak_s.u (c))');

# One lint() call per statement group, each its own pgbench script, so that a
# call is short and the clients pick among them at random.
my $n = 0;
for my $name (@lint_names)
{
	my $sql = join '; ', map { my $s = $_; $s =~ s/%s/$name/g; $s } @lint_statements;
	$scripts{ 'lint_' . $n++ } = lint_call($sql);
}
$scripts{ 'lint_' . $n++ } = lint_call(join '; ', @lint_once);

# The other PUBLIC functions that read the catalog.  Their proper errors (no
# users table, no tier column, param() outside a migration) are expected and
# swallowed; an internal error is raised again and ends the client.
$scripts{read} = <<'EOF';
DO $$
BEGIN
  PERFORM fleetmigrate.param('soak');
EXCEPTION WHEN OTHERS THEN
  IF SQLSTATE = 'XX000' THEN RAISE; END IF;
END $$;
SELECT fleetmigrate.checksum('ALTER TABLE soak_t ALTER COLUMN c TYPE bigint; DROP TABLE soak_t');
SELECT fleetmigrate.version_key('1.10.2');
EOF

# The tier permission checks read the users table that client 2 drops,
# creates and renames a column of.
$scripts{tiers} = <<'EOF';
DO $$
BEGIN
  PERFORM fleetmigrate.user_can_view_requests('00000000-0000-0000-0000-000000000001');
  PERFORM fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001');
  PERFORM fleetmigrate.user_has_capability('00000000-0000-0000-0000-000000000001', 'can_view_requests');
EXCEPTION WHEN OTHERS THEN
  IF SQLSTATE = 'XX000' THEN RAISE; END IF;
END $$;
EOF

for my $name (keys %scripts)
{
	open my $fh, '>', "$dir/soak_$name.sql" or die "cannot write $dir/soak_$name.sql: $!";
	print $fh $scripts{$name};
	close $fh;
}

# Start every group at once; -T bounds each, and a client that fails is
# ended by pgbench (deadlocks between the two DDL clients are retried).
my %groups = (
	ddl_tables => [ '-c', '1', '--max-tries=10', '-f', "$dir/soak_ddl_tables.sql" ],
	ddl_types => [ '-c', '1', '--max-tries=10', '-f', "$dir/soak_ddl_types.sql" ],
	lint => [ '-c', '4', '-j', '2', '-U', 'soak_reader',
		map { ('-f', "$dir/soak_$_.sql") } sort grep { /^lint_/ } keys %scripts ],
	read => [ '-c', '1', '-U', 'soak_reader', '-f', "$dir/soak_read.sql" ],
	tiers => [ '-c', '1', '-U', 'soak_reader', '-f', "$dir/soak_tiers.sql" ]);
my %run;
for my $group (sort keys %groups)
{
	my %r = (out => '', err => '');
	local $ENV{PGAPPNAME} = "soak_$group";
	$r{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-T', $seconds, @{ $groups{$group} }, $node->connstr($db) ],
		'>', \$r{out}, '2>', \$r{err});
	$run{$group} = \%r;
}
for my $group (sort keys %run)
{
	$run{$group}{h}->finish;
	$run{$group}{rc} = $run{$group}{h}->result(0);
	($run{$group}{done}) = $run{$group}{out} =~ /number of transactions actually processed: (\d+)/;
	$run{$group}{done} //= 0;
	note "$group: exit $run{$group}{rc}, $run{$group}{done} transactions";
	note "$group stderr: $run{$group}{err}" if $run{$group}{err} ne '';
}

# No crash: nothing in the log, and the same postmaster still serves.
my @log = split /\n/, slurp_file($node->logfile);
my @crashes = grep {
	/terminated by signal|was terminated by|server process .* exited with exit code [^0]|terminating any other active server processes/
} @log;
is(scalar(@crashes), 0, 'no server process crashed') or diag join "\n", @crashes;
is($node->psql($db, 'SELECT 1'), 0, 'the server still accepts connections');
is(postmaster_pid(), $postmaster_pid, 'the postmaster is the one that started');

# No internal error reached a client.
for my $group (sort keys %run)
{
	my @internal = grep { / soak_$group XX000 / } @log;
	is(scalar(@internal), 0, "$group: no internal error (SQLSTATE XX000)")
	  or diag join "\n", @internal[ 0 .. ($#internal < 4 ? $#internal : 4) ];
	unlike($run{$group}{err}, qr/cache lookup failed|could not open relation with OID|XX000/,
		"$group: no internal error reached the clients");
}

# lint() never failed at all, and every group did real work.
is($run{lint}{rc}, 0, 'lint: no client was ended by an error');
is(scalar(grep { / soak_lint [0-9A-Z]{5} (ERROR|FATAL|PANIC):/ } @log), 0,
	'lint: no error logged for a lint client');
is($run{read}{rc}, 0, 'readers: no client was ended by an error');
for my $group (sort keys %run)
{
	cmp_ok($run{$group}{done}, '>', 20, "$group: the clients did real work");
}

$node->stop('fast', fail_ok => 1);
done_testing();

# A pgbench script calling lint() on "sql", as one dollar-quoted literal.
sub lint_call
{
	my ($sql) = @_;
	return "SELECT count(*) FROM fleetmigrate.lint(\$soak\$$sql\$soak\$);\n";
}

# The postmaster's pid, from postmaster.pid.
sub postmaster_pid
{
	my $file = $node->data_dir . '/postmaster.pid';
	return 'none' unless -f $file;
	my ($pid) = split /\n/, slurp_file($file);
	return $pid;
}
