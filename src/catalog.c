/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Every read and write of fleetmigrate's catalog tables.
 *
 * The catalog is two tables created by the install script:
 *	 - fleetmigrate.migrations: one row per registered migration, keyed by
 *	   (version, name), with its scripts, their SHA-256 checksums, facts
 *	   found by the parser at register time, and its current state;
 *	 - fleetmigrate.events: the append-only history of what happened.
 *
 * All SQL here is fixed text with values passed as $n parameters.  It runs
 * with search_path forced to "pg_catalog, pg_temp" (see FmExecute), so a
 * caller's search_path cannot substitute its own operators or functions
 * for the ones these statements mean, and a migration that changes
 * search_path cannot disturb the bookkeeping.
 *
 * Callers are connected to SPI.  SPI returns to its own procedure context
 * after every call; the wrappers here switch back to the caller's context so
 * that callers can keep per-migration allocations in a context they reset.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "order.h"
#include "parse.h"

/* Upper bounds that keep identities printable on one line. */
#define FM_MAX_VERSION_LENGTH	100
#define FM_MAX_NAME_LENGTH		200

/* The checksums of one migration's scripts; NULL where a script is absent. */
typedef struct Checksums
{
	char	   *up;
	char	   *down;
	char	   *verify;
} Checksums;

PG_FUNCTION_INFO_V1(fleetmigrate_register);

static char *sha256_hex(const char *data);
static bool same_checksum(const char *a, const char *b);
static void check_identity(const char *version, const char *name);
static char *nullable_text(HeapTuple tuple, TupleDesc desc, int column);

/*
 * FmMigrationLabel
 *		'migration "003 viral_analytics"', the way messages name a migration.
 */
char *
FmMigrationLabel(const char *version, const char *name)
{
	return psprintf("migration \"%s %s\"", version, name);
}

/*
 * Enter and leave the fixed search_path under which catalog statements are
 * prepared and run.  The GUC nest level is unwound by transaction abort if
 * an error escapes in between.
 */
static int
enter_catalog_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * FmPrepare
 *		SPI_prepare a catalog statement under the fixed search_path.
 *
 * The plan lives in the SPI procedure context, until SPI_finish().
 */
SPIPlanPtr
FmPrepare(const char *sql, int nargs, Oid *argtypes)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	int			nestlevel = enter_catalog_search_path();
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	AtEOXact_GUC(true, nestlevel);
	MemoryContextSwitchTo(oldcxt);
	return plan;
}

/*
 * FmExecute
 *		Run a prepared catalog statement under the fixed search_path and
 *		check that SPI answered "expected".  Returns SPI_processed.
 *
 * The result, if any, is in SPI_tuptable (SPI procedure context).  The
 * current memory context is preserved.
 */
uint64
FmExecute(SPIPlanPtr plan, Datum *values, const char *nulls, int expected)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	int			nestlevel = enter_catalog_search_path();
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	AtEOXact_GUC(true, nestlevel);
	MemoryContextSwitchTo(oldcxt);
	if (rc != expected)
		elog(ERROR, "catalog statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * sha256_hex
 *		SHA-256 of a NUL-terminated string as 64 lower-case hex digits, or
 *		NULL for NULL.
 */
static char *
sha256_hex(const char *data)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;

	if (data == NULL)
		return NULL;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, strlen(data)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);

	hex = palloc(PG_SHA256_DIGEST_STRING_LENGTH);
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_STRING_LENGTH - 1] = '\0';
	return hex;
}

static bool
same_checksum(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *
nullable_text(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, column, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * check_identity
 *		ERROR unless version and name are usable identities: not empty, of
 *		bounded length, printable on one line (the bundle format puts
 *		"version name" on one line), and the version without white space.
 */
static void
check_identity(const char *version, const char *name)
{
	const char *p;

	if (version[0] == '\0' || strlen(version) > FM_MAX_VERSION_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration version \"%s\"", version),
				 errdetail("A version must have between 1 and %d bytes.",
						   FM_MAX_VERSION_LENGTH)));
	for (p = version; *p; p++)
	{
		if ((unsigned char) *p <= ' ' || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid migration version \"%s\"", version),
					 errdetail("A version cannot contain white space or control characters."),
					 errhint("Put the description in the name, as in register('007', 'create_feedback_tables', ...).")));
	}

	if (name[0] == '\0' || strlen(name) > FM_MAX_NAME_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration name \"%s\"", name),
				 errdetail("A name must have between 1 and %d bytes.",
						   FM_MAX_NAME_LENGTH)));
	for (p = name; *p; p++)
	{
		if ((unsigned char) *p < ' ' || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid migration name \"%s\"", name),
					 errdetail("A name cannot contain line breaks, tabs or other control characters.")));
	}
}

/*
 * fleetmigrate.register(version, name, up, down, verify) RETURNS text
 *
 * Adds a migration to the catalog, or confirms or replaces an existing one.
 * Answers 'registered', 'unchanged' or 'updated'.  The scripts are parsed
 * first (syntax errors, transaction control and COPY to the client are
 * rejected with the statement and line).  A migration that has been applied
 * cannot be changed.  The row is locked (FOR UPDATE) so that a concurrent
 * apply_pending() and register() of the same migration serialize.
 */
Datum
fleetmigrate_register(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *name;
	char	   *up;
	char	   *down;
	char	   *verify;
	char	   *label;
	FmScriptInfo info;
	FmScriptInfo unused;
	Checksums	sums;
	const char *outcome;
	Oid			keytypes[2] = {TEXTOID, TEXTOID};
	Oid			rowtypes[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, INT4OID, BOOLOID, TEXTOID};
	Datum		values[11];
	char		nulls[11];
	SPIPlanPtr	select_plan;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migration version cannot be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migration name cannot be null")));
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	check_identity(version, name);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("up script of %s cannot be null",
						FmMigrationLabel(version, name)),
				 errhint("Pass an empty string for a migration that does nothing.")));
	up = text_to_cstring(PG_GETARG_TEXT_PP(2));
	down = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	verify = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));

	/* Parse every script before touching the catalog. */
	label = psprintf("up script of %s", FmMigrationLabel(version, name));
	FmCheckScript(up, label, &info);
	if (down != NULL)
		FmCheckScript(down, psprintf("down script of %s",
									 FmMigrationLabel(version, name)),
					  &unused);
	if (verify != NULL)
		FmCheckScript(verify, psprintf("verify script of %s",
									   FmMigrationLabel(version, name)),
					  &unused);

	sums.up = sha256_hex(up);
	sums.down = sha256_hex(down);
	sums.verify = sha256_hex(verify);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	select_plan = FmPrepare("SELECT checksum, down_checksum, verify_checksum, state"
							"  FROM fleetmigrate.migrations"
							" WHERE version = $1 AND name = $2"
							"   FOR UPDATE",
							2, keytypes);

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(up);
	values[3] = down ? CStringGetTextDatum(down) : (Datum) 0;
	values[4] = verify ? CStringGetTextDatum(verify) : (Datum) 0;
	values[5] = CStringGetTextDatum(sums.up);
	values[6] = sums.down ? CStringGetTextDatum(sums.down) : (Datum) 0;
	values[7] = sums.verify ? CStringGetTextDatum(sums.verify) : (Datum) 0;
	values[8] = Int32GetDatum(info.statements);
	values[9] = BoolGetDatum(info.transactional);
	values[10] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	memset(nulls, ' ', sizeof(nulls));
	nulls[3] = down ? ' ' : 'n';
	nulls[4] = verify ? ' ' : 'n';
	nulls[6] = down ? ' ' : 'n';
	nulls[7] = verify ? ' ' : 'n';

	if (FmExecute(select_plan, values, NULL, SPI_OK_SELECT) == 0)
	{
		/* New migration; a concurrent register() may beat us to it. */
		SPIPlanPtr	insert_plan = FmPrepare("INSERT INTO fleetmigrate.migrations"
								" (version, name, up, down, verify, checksum,"
								"  down_checksum, verify_checksum, statements,"
								"  transactional, registered_by)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
								" ON CONFLICT (version, name) DO NOTHING",
								11, rowtypes);
		if (FmExecute(insert_plan, values, nulls, SPI_OK_INSERT) == 1)
		{
			SPI_finish();
			PG_RETURN_TEXT_P(cstring_to_text("registered"));
		}
		if (FmExecute(select_plan, values, NULL, SPI_OK_SELECT) != 1)
			elog(ERROR, "registered migration vanished");
	}

	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Checksums	old;
		char	   *state;

		old.up = nullable_text(tuple, desc, 1);
		old.down = nullable_text(tuple, desc, 2);
		old.verify = nullable_text(tuple, desc, 3);
		state = nullable_text(tuple, desc, 4);

		if (same_checksum(old.up, sums.up) &&
			same_checksum(old.down, sums.down) &&
			same_checksum(old.verify, sums.verify))
			outcome = "unchanged";
		else if (strcmp(state, "applied") == 0 || strcmp(state, "baseline") == 0)
		{
			const char *what = !same_checksum(old.up, sums.up) ? "up" :
				!same_checksum(old.down, sums.down) ? "down" : "verify";

			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s has already been applied and cannot be changed",
							FmMigrationLabel(version, name)),
					 errdetail("The new %s script differs from the registered one (checksum %.12s, was %.12s).",
							   what,
							   strcmp(what, "up") == 0 ? sums.up :
							   strcmp(what, "down") == 0 ? (sums.down ? sums.down : "none") :
							   (sums.verify ? sums.verify : "none"),
							   strcmp(what, "up") == 0 ? old.up :
							   strcmp(what, "down") == 0 ? (old.down ? old.down : "none") :
							   (old.verify ? old.verify : "none")),
					 errhint("Put the change in a new migration with a later version. Applied migrations are history: editing one would make databases that ran the old text differ from new ones.")));
		}
		else
		{
			SPIPlanPtr	update_plan;

			update_plan = FmPrepare("UPDATE fleetmigrate.migrations"
									"   SET up = $3, down = $4, verify = $5,"
									"       checksum = $6, down_checksum = $7,"
									"       verify_checksum = $8, statements = $9,"
									"       transactional = $10, registered_by = $11,"
									"       registered_at = pg_catalog.now()"
									" WHERE version = $1 AND name = $2",
									11, rowtypes);
			if (FmExecute(update_plan, values, nulls, SPI_OK_UPDATE) != 1)
				elog(ERROR, "could not update migration row");
			outcome = "updated";
		}
	}

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

/*
 * FmCatalogPrepare
 *		Prepare the statements one apply run needs.
 */
void
FmCatalogPrepare(FmCatalog *cat)
{
	Oid			bytea_type[1] = {BYTEAOID};
	Oid			record_types[6] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
		FLOAT8OID, BOOLOID};

	cat->target_known = FmPrepare("SELECT 1 FROM fleetmigrate.migrations"
								  " WHERE sort_key = $1 LIMIT 1",
								  1, bytea_type);
	cat->last_applied = FmPrepare("SELECT version, name"
								  "  FROM fleetmigrate.migrations"
								  " WHERE state IN ('applied', 'baseline')"
								  " ORDER BY sort_key DESC, version COLLATE \"C\" DESC,"
								  "          name COLLATE \"C\" DESC"
								  " LIMIT 1",
								  0, NULL);
	cat->pending = FmPrepare("SELECT version, name, up, transactional"
							 "  FROM fleetmigrate.migrations"
							 " WHERE state IN ('pending', 'failed', 'rolled_back')"
							 "   AND ($1 IS NULL OR sort_key <= $1)"
							 " ORDER BY sort_key, version COLLATE \"C\","
							 "          name COLLATE \"C\""
							 "   FOR UPDATE",
							 1, bytea_type);
	cat->record_applied = FmPrepare("WITH m AS ("
									" UPDATE fleetmigrate.migrations"
									"    SET state = 'applied', applied_checksum = checksum,"
									"        applied_at = $3, applied_by = $4,"
									"        duration_ms = $5, out_of_order = $6"
									"  WHERE version = $1 AND name = $2"
									" RETURNING version, name, checksum, statements)"
									" INSERT INTO fleetmigrate.events"
									" (version, name, event, checksum, started_at,"
									"  duration_ms, performed_by, statements)"
									" SELECT version, name, 'applied', checksum, $3, $5, $4,"
									"        statements FROM m",
									6, record_types);
}

/*
 * Natural order of two migrations: version key, version text, name.
 */
static int
compare_migrations(const char *v1, const char *n1, const char *v2,
				   const char *n2)
{
	bytea	   *k1 = FmVersionKey(v1, strlen(v1));
	bytea	   *k2 = FmVersionKey(v2, strlen(v2));
	int			l1 = VARSIZE(k1) - VARHDRSZ;
	int			l2 = VARSIZE(k2) - VARHDRSZ;
	int			cmp = memcmp(VARDATA(k1), VARDATA(k2), Min(l1, l2));

	if (cmp == 0)
		cmp = (l1 > l2) - (l1 < l2);
	if (cmp == 0)
		cmp = strcmp(v1, v2);
	if (cmp == 0)
		cmp = strcmp(n1, n2);
	pfree(k1);
	pfree(k2);
	return cmp;
}

/*
 * FmCatalogPending
 *		The pending migrations up to "target" (NULL: all), in apply order,
 *		locked FOR UPDATE.  ERRORs if "target" matches no registered
 *		version.  The list is allocated in the current memory context.
 */
List *
FmCatalogPending(FmCatalog *cat, const char *target)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		key[1];
	char		nulls[1] = {'n'};
	char	   *last_version = NULL;
	char	   *last_name = NULL;
	List	   *result = NIL;
	uint64		i;

	if (target != NULL)
	{
		key[0] = PointerGetDatum(FmVersionKey(target, strlen(target)));
		nulls[0] = ' ';
		if (FmExecute(cat->target_known, key, nulls, SPI_OK_SELECT) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("target version \"%s\" is not registered", target),
					 errhint("See SELECT version, name FROM fleetmigrate.status for the registered versions.")));
	}

	if (FmExecute(cat->last_applied, NULL, NULL, SPI_OK_SELECT) == 1)
	{
		last_version = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		last_name = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}

	FmExecute(cat->pending, key, nulls, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmMigration *m = palloc(sizeof(FmMigration));
		bool		isnull;

		m->version = nullable_text(tuple, desc, 1);
		m->name = nullable_text(tuple, desc, 2);
		m->up = nullable_text(tuple, desc, 3);
		m->transactional = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		m->out_of_order = last_version != NULL &&
			compare_migrations(m->version, m->name, last_version, last_name) < 0;
		result = lappend(result, m);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogRecordApplied
 *		Mark a migration applied and append the "applied" event, in the
 *		current (sub)transaction.
 */
void
FmCatalogRecordApplied(FmCatalog *cat, const FmMigration *m,
					   TimestampTz started, double duration_ms,
					   const char *applied_by)
{
	Datum		values[6];

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = TimestampTzGetDatum(started);
	values[3] = CStringGetTextDatum(applied_by);
	values[4] = Float8GetDatum(duration_ms);
	values[5] = BoolGetDatum(m->out_of_order);
	if (FmExecute(cat->record_applied, values, NULL, SPI_OK_INSERT) != 1)
		elog(ERROR, "could not record migration %s %s as applied",
			 m->version, m->name);
}
