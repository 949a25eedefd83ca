# standby.pl -- fleetmigrate on a streaming hot standby (issue 21, item 1).
# The catalog and the history reach the standby through WAL, as every
# table's rows do: they match the primary's once it has replayed.  Every
# function that changes state refuses there with SQLSTATE 25006 and "cannot
# apply migrations on a standby; connect to the primary"; the views, lint(),
# validate() and plan() work there, read-only.
use strict;
use warnings;

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
	CREATE EXTENSION fleetmigrate_tiers;
	CREATE TABLE public.users (id uuid PRIMARY KEY, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK',
	                           upgraded_at timestamptz, tier_changed_at timestamptz);
	INSERT INTO public.users (id) VALUES ('00000000-0000-0000-0000-000000000001');
	SELECT fleetmigrate.register('001', 'first', 'CREATE TABLE first_t (id int)', down => 'DROP TABLE first_t');
	SELECT fleetmigrate.register('002', 'second', 'CREATE TABLE second_t (id int)');
	SELECT count(*) FROM fleetmigrate.apply_pending(target => '001');});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# after the backup: a run of migrate(), a tier upgrade, one more pending
$primary->safe_psql($db, q{
	CALL fleetmigrate.migrate();
	SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', 'standby test');
	SELECT fleetmigrate.register('003', 'third', 'ALTER TABLE second_t ADD COLUMN n int');});
$primary->wait_for_catchup($standby);

is($standby->safe_psql($db, 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# the catalog and the history as the primary has them
for my $q (
	'SELECT version, name, state, checksum, applied_checksum, applied_by FROM fleetmigrate.migrations ORDER BY 1, 2',
	'SELECT id, version, name, event, checksum, performed_by FROM fleetmigrate.events ORDER BY id',
	'SELECT id, started_by, applied, outcome FROM fleetmigrate.run_log ORDER BY id',
	'SELECT id, user_id, from_tier, to_tier FROM fleetmigrate.user_tier_history ORDER BY id')
{
	my $p = $primary->safe_psql($db, $q);
	isnt($p, '', "primary has rows: $q");
	is($standby->safe_psql($db, $q), $p, "standby matches the primary: $q");
}

# read-only there
is($standby->safe_psql($db, q{SELECT string_agg(version || ' ' || state, ', ' ORDER BY version) FROM fleetmigrate.status}),
	'001 applied, 002 applied, 003 pending', 'status works on the standby');
is($standby->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.history}), '2', 'history works');
is($standby->safe_psql($db, q{SELECT applied, pending FROM fleetmigrate.summary}), '2|1', 'summary works');
is($standby->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.runs}), '1', 'runs works');
is($standby->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.progress}), '0', 'progress works');
is($standby->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.validate()}), '0', 'validate() works');
is($standby->safe_psql($db, q{SELECT count(*) > 0 FROM fleetmigrate.lint('DROP TABLE second_t')}), 't',
	'lint() works');
is($standby->safe_psql($db, q{SELECT version, status FROM fleetmigrate.plan()}), '003|would_apply',
	'plan() works');
is($standby->safe_psql($db, q{SELECT fleetmigrate.user_can_create_requests('00000000-0000-0000-0000-000000000001')}),
	't', 'the permission checks work');

# everything that changes state refuses, with its own SQLSTATE and message
for my $sql (
	q{SELECT fleetmigrate.register('004', 'fourth', 'SELECT 1')},
	q{SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 004 fourth\nSELECT 1')},
	q{SELECT fleetmigrate.unregister('003', 'third', 'not needed')},
	q{SELECT fleetmigrate.repair('001', 'first', 'reason')},
	q{SELECT * FROM fleetmigrate.baseline('003')},
	q{SELECT * FROM fleetmigrate.baseline(ARRAY['003'])},
	q{SELECT fleetmigrate.unbaseline('001', 'first', 'reason')},
	q{SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT ''003'' AS version')},
	q{SELECT * FROM fleetmigrate.apply_pending()},
	q{SELECT * FROM fleetmigrate.apply_pending(dry_run => true)},
	q{CALL fleetmigrate.migrate()},
	q{SELECT * FROM fleetmigrate.rollback(force => true)},
	q{SELECT * FROM fleetmigrate.rehearse_rollback()},
	q{SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'ROBO_HUB')},
	q{SELECT fleetmigrate.configure_user_table('public.users')},
	q{CALL fleetmigrate.assign_tier('ROBO_HUB', 'true')})
{
	my ($ret, $out, $err) = $standby->psql($db, "\\set VERBOSITY verbose\n$sql");
	like($err, qr/ERROR:  25006: cannot apply migrations on a standby; connect to the primary/,
		"refused on the standby: $sql");
}

# and the primary goes on: the standby follows
$primary->safe_psql($db, q{SELECT count(*) FROM fleetmigrate.apply_pending()});
$primary->wait_for_catchup($standby);
is($standby->safe_psql($db, q{SELECT state FROM fleetmigrate.status WHERE version = '003'}), 'applied',
	'what the primary applies next reaches the standby');

$standby->stop;
$primary->stop;
done_testing();
