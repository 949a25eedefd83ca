# fleetmigrate: PGXS build.  Use the pg_config of the target server:
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

MODULE_big = fleetmigrate
OBJS = \
	src/fleetmigrate.o \
	src/common.o \
	src/progress.o \
	src/plan.o \
	src/consent.o \
	src/params.o \
	src/rollback.o \
	src/order.o \
	src/parse.o \
	src/depend.o \
	src/lint.o \
	src/locks.o \
	src/runlock.o \
	src/objects.o \
	src/catalog.o \
	src/adopt.o \
	src/runner.o \
	src/run.o \
	src/apply.o \
	src/preview.o \
	src/migrate.o \
	src/worker.o \
	src/definition.o \
	src/bundle.o \
	src/files.o \
	src/tiers.o \
	src/batchspec.o \
	src/batch.o \
	src/standbys.o \
	src/remote.o \
	src/schedule.o

EXTENSION = fleetmigrate fleetmigrate_tiers
DATA = fleetmigrate--1.0.sql fleetmigrate--1.0--1.1.sql fleetmigrate--1.1--1.2.sql \
	fleetmigrate--1.2--1.3.sql fleetmigrate--1.3--1.4.sql fleetmigrate--1.4--1.5.sql \
	fleetmigrate--1.5--1.6.sql fleetmigrate--1.6--1.7.sql \
	fleetmigrate--1.7--1.8.sql fleetmigrate--1.8--1.9.sql fleetmigrate--1.9--1.10.sql fleetmigrate--1.10--1.11.sql \
	fleetmigrate_tiers--1.9.sql
PGFILEDESC = "fleetmigrate - SQL migrations inside the database"

# libpq, for reading the databases scheduled from pg_cron's (src/remote.c),
# linked as contrib's dblink and postgres_fdw link it
PG_CPPFLAGS = -I$(libpq_srcdir)
SHLIB_LINK_INTERNAL = $(libpq)

REGRESS = install tiers_extension ordering register bundles register_dir_errors drift dependencies out_of_order baseline adopt import_history repeatable apply rollback settings verify params tolerate history_truth unregister summary status rehearse errors dry_run plan lint destructive consent privileges trusted tiers tiers_rls security_tiers security_tiers_trusted migrate unattended batch integrity bad_input privilege_matrix upgrade upgrade_checksums
REGRESS_OPTS = --inputdir=. --outputdir=.
ISOLATION = concurrent_apply tier_upgrade lock_retry plan_snapshot plan_live batch_register
ISOLATION_OPTS = --inputdir=test
# TAP tests: test/t/*.pl, each with its own PostgreSQL::Test::Cluster node
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

# sql/bundles.sql and sql/verify.sql have the server read test/fixtures
# (register_dir()).  test/scripts/check.sh points FM_FIXTURES at a copy the
# server can read; a plain "make installcheck" uses the checkout's own.
FM_FIXTURES ?= $(CURDIR)/test/fixtures
export FM_FIXTURES

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# rebuild objects when a header changes
$(OBJS): $(wildcard src/*.h)
