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
 * All SQL here is fixed text with values passed as $n parameters, prepared
 * once per backend.  It runs as the owner of the catalog tables with
 * search_path forced to "pg_catalog, pg_temp" (see execute_statement): the
 * SQL functions' EXECUTE privilege is the only access control a caller
 * needs, nobody but the owner writes the tables directly, a caller's
 * search_path cannot substitute its own operators for the ones these
 * statements mean, and a migration that changed search_path or the current
 * role cannot disturb the bookkeeping.
 *
 * Callers are connected to SPI.  SPI returns to its own procedure context
 * after every call; the wrappers here switch back to the caller's context so
 * that callers can keep per-migration allocations in a context they reset.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compat.h"
#include "definition.h"
#include "lint.h"
#include "order.h"
#include "parse.h"
#include "runlock.h"

/* The checksums of one migration's scripts; NULL where a script is absent. */
typedef struct Checksums
{
	char	   *up;
	char	   *down;
	char	   *verify;
} Checksums;

PG_FUNCTION_INFO_V1(fleetmigrate_register);

static bool run_log_has(const char *column);
static char *sha256_hex(const char *data);
static bool same_checksum(const char *a, const char *b);
static char *nullable_text(HeapTuple tuple, TupleDesc desc, int column);
static Datum text_array(List *items);
static List *text_array_items(Datum array);
static bool same_items(List *a, List *b);
static void register_error_callback(void *arg);
static Datum target_key(const char *version, const char *what);
static void store_lint(const FmDefinition *def);

/* The migrations a baseline or an import may take (FmCatalogAdoptable()). */
#define ADOPT_SELECT \
	"SELECT version, name, state, up, verify, sort_key, repeatable," \
	"       " IN_EFFECT("migrations") \
	"  FROM fleetmigrate.migrations"
#define ADOPT_ORDER \
	" ORDER BY sort_key, version COLLATE \"C\", name COLLATE \"C\" FOR UPDATE"

/*
 * The catalog statements.  Each is prepared once per backend and kept
 * (SPI_keepplan), so the plan cache revalidates it when the catalog tables
 * change, for example when the extension is dropped and created again.
 */
typedef enum CatalogStatement
{
	STMT_REGISTER_SELECT,
	STMT_REGISTER_INSERT,
	STMT_REGISTER_UPDATE,
	STMT_TARGET_KNOWN,
	STMT_LAST_APPLIED,
	STMT_PENDING,
	STMT_SCRIPTS,
	STMT_PLANNED_SCRIPTS,
	STMT_PLANNED_SCRIPTS_LOCK,
	STMT_RECORD_APPLIED,
	STMT_LOCK_HOLDER,
	STMT_RECORD_FAILED,
	STMT_RUN_START,
	STMT_RUN_PROGRESS,
	STMT_RUN_FINISH,
	STMT_PROGRESS_READ,
	STMT_PROGRESS_WRITE,
	STMT_DEFINITIONS,
	STMT_UNREGISTERED_REQUIREMENT,
	STMT_VALIDATE,
	STMT_REPAIR,
	STMT_STATE,
	STMT_PLAN_PROBLEMS,
	STMT_MENTIONING,
	/* adopting a database (baseline(), unbaseline(), import_history()) */
	STMT_ADOPT_REF,
	STMT_ADOPT_UPTO,
	STMT_ADOPT_VERSION,
	STMT_ADOPT_NAME,
	STMT_ADOPT_MARK,
	STMT_UNBASELINE,
	STMT_DEPENDENTS,
	STMT_REPAIR_UP,
	STMT_ROLLBACK_LAST,
	STMT_ROLLBACK_AFTER,
	STMT_RECORD_ROLLED_BACK,
	STMT_VERIFIABLE,
	STMT_TABLE_FILES,
	STMT_SCHEMA,
	/* history that tells the truth (1.9): on a catalog of 1.9 or later */
	STMT_RECORD_APPLIED_TEXT,
	STMT_RECORD_FAILED_TEXT,
	STMT_DEFINITIONS_RAN,
	STMT_STORE_LINT,
	STMT_UNREGISTER_ROW,
	STMT_UNREGISTER_REQUIRED,
	STMT_UNREGISTER,
	/* plan() (1.10) */
	STMT_PENDING_UNLOCKED,
	NUM_CATALOG_STATEMENTS
} CatalogStatement;

static List *read_pending(CatalogStatement id, const char *target,
						  const FmMigration *last);

#define MAX_STATEMENT_ARGS 19

typedef struct CatalogStatementDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[MAX_STATEMENT_ARGS];
} CatalogStatementDef;

/* Argument lists of register's statements: the catalog row. */
#define REGISTER_ROW_TYPES {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, \
		TEXTOID, TEXTOID, TEXTOID, INT4OID, BOOLOID, TEXTOID, \
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLOID, BOOLOID, \
		INT4OID, INT4OID, TEXTARRAYOID}

/*
 * The pending migrations up to target $1 (NULL: all), in apply order:
 * versioned ones, then repeatable ones, which a target does not limit.
 */
#define PENDING_SELECT \
	"SELECT version, name, sort_key, transactional, repeatable, params, tolerate," \
	"       allow_destructive, checksum, verify_checksum" \
	"  FROM fleetmigrate.migrations" \
	" WHERE state IN ('pending', 'failed', 'rolled_back')" \
	"   AND ($1 IS NULL OR sort_key <= $1 OR repeatable)" \
	" ORDER BY repeatable, sort_key, version COLLATE \"C\", name COLLATE \"C\""

/*
 * "a sorts before b" for two migrations given as (sort_key, version, name)
 * expressions: the runner's apply order (FmCompareMigrations()).
 */
#define SORTS_BEFORE(ak, av, an, bk, bv, bn) \
	"(" ak " < " bk " OR (" ak " = " bk " AND (" av " COLLATE \"C\" < " bv \
	" OR (" av " = " bv " AND " an " COLLATE \"C\" < " bn "))))"

/*
 * Applied versioned migrations with their down scripts, newest first (the
 * order rollback() undoes them): by when they were applied, then against
 * apply order.
 */
#define ROLLBACK_SELECT(cond) \
	"SELECT version, name, down, sort_key" \
	"  FROM fleetmigrate.migrations" \
	" WHERE state IN ('applied', 'baseline') AND NOT repeatable" cond \
	" ORDER BY applied_at DESC NULLS LAST, sort_key DESC," \
	"          version COLLATE \"C\" DESC, name COLLATE \"C\" DESC"

/*
 * Whether a migration's effect is in the database: applied or baselined,
 * or repeatable and applied before its up script changed (then it is
 * pending, to run again).
 */
#define IN_EFFECT(t) \
	"(" t ".state IN ('applied', 'baseline') OR (" t ".repeatable" \
	" AND " t ".applied_checksum IS NOT NULL AND " t ".state IN ('pending', 'failed')))"

/* The migration a reference "version" or "version name" points at. */
#define REFERENCE_MATCHES(t, ref) \
	t ".version = pg_catalog.split_part(" ref ", ' ', 1)" \
	" AND (pg_catalog.strpos(" ref ", ' ') = 0" \
	"      OR " t ".name = pg_catalog.substr(" ref ", pg_catalog.strpos(" ref ", ' ') + 1))"

/*
 * A migration of a run's plan as the run checked it (FmCatalogPlannedScripts()):
 * its scripts, if it is still pending with the checksums, flags, parameters
 * and tolerated errors the plan has.
 */
#define PLANNED_SCRIPTS_SELECT \
	"SELECT up, down, verify, checksum, verify_checksum" \
	"  FROM fleetmigrate.migrations" \
	" WHERE version = $1 AND name = $2" \
	"   AND state IN ('pending', 'failed', 'rolled_back')" \
	"   AND checksum IS NOT DISTINCT FROM $3" \
	"   AND verify_checksum IS NOT DISTINCT FROM $4" \
	"   AND transactional = $5 AND repeatable = $6" \
	"   AND allow_destructive = $7" \
	"   AND params IS NOT DISTINCT FROM $8" \
	"   AND tolerate IS NOT DISTINCT FROM $9"
#define PLANNED_SCRIPTS_TYPES {TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, \
		BOOLOID, BOOLOID, TEXTARRAYOID, TEXTARRAYOID}

static const CatalogStatementDef statement_defs[NUM_CATALOG_STATEMENTS] = {
	[STMT_REGISTER_SELECT] = {
		"SELECT checksum, down_checksum, verify_checksum, state, up,"
		"       statements_done, statement_started, down, verify,"
		"       requires, conflicts, params, repeatable, allow_destructive,"
		"       applied_checksum, tolerate, transactional"
		"  FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2"
		"   FOR UPDATE",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_REGISTER_INSERT] = {
		"INSERT INTO fleetmigrate.migrations"
		" (version, name, up, down, verify, checksum, down_checksum,"
		"  verify_checksum, statements, transactional, registered_by,"
		"  requires, conflicts, params, repeatable, allow_destructive, tolerate)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
		"         $12, $13, $14, $15, $16, $19)"
		" ON CONFLICT (version, name) DO NOTHING",
		19, REGISTER_ROW_TYPES
	},
	[STMT_REGISTER_UPDATE] = {
		"UPDATE fleetmigrate.migrations"
		"   SET up = $3, down = $4, verify = $5, checksum = $6,"
		"       down_checksum = $7, verify_checksum = $8, statements = $9,"
		"       transactional = $10, registered_by = $11,"
		"       requires = $12, conflicts = $13, params = $14,"
		"       repeatable = $15, allow_destructive = $16, tolerate = $19,"
		"       registered_at = pg_catalog.now(),"
		"       statements_done = $17, statement_started = $18,"
		/* a repeatable migration is pending while its up script is not the applied one */
		"       state = CASE"
		"           WHEN NOT $15 OR applied_checksum IS NULL"
		"                OR state NOT IN ('applied', 'baseline', 'pending', 'failed')"
		"           THEN state"
		"           WHEN applied_checksum = $6 AND state IN ('pending', 'failed')"
		"           THEN 'applied'"
		"           WHEN applied_checksum <> $6 AND state IN ('applied', 'baseline')"
		"           THEN 'pending'"
		"           ELSE state END"
		" WHERE version = $1 AND name = $2",
		19, REGISTER_ROW_TYPES
	},
	[STMT_TARGET_KNOWN] = {
		"SELECT 1 FROM fleetmigrate.migrations WHERE sort_key = $1 LIMIT 1",
		1, {BYTEAOID}
	},
	[STMT_LAST_APPLIED] = {
		"SELECT version, name FROM fleetmigrate.migrations"
		" WHERE state IN ('applied', 'baseline') AND NOT repeatable"
		" ORDER BY sort_key DESC, version COLLATE \"C\" DESC, name COLLATE \"C\" DESC"
		" LIMIT 1",
		0, {InvalidOid}
	},
	[STMT_PENDING] = {
		PENDING_SELECT " FOR UPDATE",
		1, {BYTEAOID}
	},
	[STMT_SCRIPTS] = {
		"SELECT up, down, verify FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_PLANNED_SCRIPTS] = {
		PLANNED_SCRIPTS_SELECT,
		9, PLANNED_SCRIPTS_TYPES
	},
	[STMT_PLANNED_SCRIPTS_LOCK] = {
		PLANNED_SCRIPTS_SELECT "   FOR UPDATE",
		9, PLANNED_SCRIPTS_TYPES
	},
	[STMT_RECORD_APPLIED] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations"
		"    SET state = 'applied', applied_checksum = $9,"
		"        applied_at = $3, applied_by = $4,"
		"        duration_ms = $5, out_of_order = $6,"
		"        statements_done = 0, statement_started = NULL"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, duration_ms,"
		"  performed_by, statements, params, consent)"
		" SELECT version, name, 'applied', $9, $3, $5, $4, statements,"
		"        $7::pg_catalog.jsonb, $8"
		"   FROM m",
		9, {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_LOCK_HOLDER] = {
		"SELECT l.pid FROM pg_catalog.pg_locks l"
		" WHERE l.locktype = 'object' AND l.granted"
		"   AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d"
		"                      WHERE d.datname = pg_catalog.current_database())"
		"   AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 0"
		" LIMIT 1",
		2, {OIDOID, OIDOID}
	},
	[STMT_RECORD_FAILED] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations SET state = 'failed'"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, checksum, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, duration_ms,"
		"  performed_by, statements, sqlstate, error, statement, line)"
		" SELECT version, name, 'failed', checksum, $3, $5, $4, statements,"
		"        $6, $7, $8, $9"
		"   FROM m",
		9, {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, TEXTOID,
		TEXTOID, INT4OID, INT4OID}
	},
	[STMT_RUN_START] = {
		"INSERT INTO fleetmigrate.run_log (run_by, started_by, target)"
		" VALUES ($1, $2, $3) RETURNING id",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_RUN_PROGRESS] = {
		"UPDATE fleetmigrate.run_log SET applied = $2 WHERE id = $1",
		2, {INT8OID, INT4OID}
	},
	[STMT_RUN_FINISH] = {
		"UPDATE fleetmigrate.run_log"
		"   SET finished_at = pg_catalog.clock_timestamp(), outcome = $2,"
		"       applied = $3, failed_version = $4, failed_name = $5,"
		"       sqlstate = $6, error = $7"
		" WHERE id = $1",
		7, {INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_PROGRESS_READ] = {
		"SELECT up, checksum, statements_done, statement_started"
		"  FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2"
		"   AND state IN ('pending', 'failed', 'rolled_back')",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_PROGRESS_WRITE] = {
		"UPDATE fleetmigrate.migrations"
		"   SET statements_done = $3, statement_started = $4"
		" WHERE version = $1 AND name = $2 AND checksum = $5"
		"   AND state IN ('pending', 'failed', 'rolled_back')",
		5, {TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID}
	},
	[STMT_DEFINITIONS] = {
		"SELECT version, name, up, down, verify, requires, conflicts, params,"
		"       repeatable, allow_destructive, tolerate"
		"  FROM fleetmigrate.migrations"
		" ORDER BY sort_key, version COLLATE \"C\", name COLLATE \"C\"",
		0, {InvalidOid}
	},
	[STMT_UNREGISTERED_REQUIREMENT] = {
		"SELECT m.version, m.name, r.ref"
		"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS d(version, name)"
		"  JOIN fleetmigrate.migrations m"
		"    ON m.version = d.version AND m.name = d.name,"
		"       LATERAL pg_catalog.unnest(m.requires) AS r(ref)"
		" WHERE NOT EXISTS (SELECT 1 FROM fleetmigrate.migrations t"
		"                    WHERE " REFERENCE_MATCHES("t", "r.ref") ")"
		" LIMIT 1",
		2, {TEXTARRAYOID, TEXTARRAYOID}
	},
	[STMT_VALIDATE] = {
		"WITH m AS ("
		" SELECT version, name, sort_key, state, checksum, applied_checksum,"
		"        applied_by, requires, conflicts, repeatable,"
		"        " IN_EFFECT("migrations") " AS is_applied"
		"   FROM fleetmigrate.migrations),"
		" last AS ("
		" SELECT version, name, sort_key FROM m WHERE is_applied AND NOT repeatable"
		"  ORDER BY sort_key DESC, version COLLATE \"C\" DESC, name COLLATE \"C\" DESC"
		"  LIMIT 1),"
		" refs AS ("
		" SELECT m.version, m.name, m.sort_key, m.is_applied, k.kind, r.ref,"
		"        t.version AS tversion, t.name AS tname, t.sort_key AS tkey,"
		"        t.is_applied AS tapplied, m.repeatable, t.repeatable AS trepeatable"
		"   FROM m,"
		"        LATERAL (VALUES ('requires', m.requires),"
		"                        ('conflicts', m.conflicts)) AS k(kind, refs),"
		"        LATERAL pg_catalog.unnest(k.refs) AS r(ref)"
		"        LEFT JOIN m t ON " REFERENCE_MATCHES("t", "r.ref") "),"
		" problems AS ("
		" SELECT sort_key, version, name, 1 AS o, 'changed_after_apply' AS problem,"
		"        pg_catalog.format('The up script registered now (checksum %s) differs from the one %s applied (checksum %s).',"
		"                          pg_catalog.left(checksum, 12), applied_by,"
		"                          COALESCE(pg_catalog.left(applied_checksum, 12), 'none')) AS detail"
		"   FROM m"
		"  WHERE is_applied AND NOT repeatable"
		"    AND applied_checksum IS DISTINCT FROM checksum"
		" UNION ALL"
		" SELECT fleetmigrate.version_key(e.version), e.version, e.name, 2,"
		"        'missing_from_catalog',"
		"        pg_catalog.format('The history says %s %s it, but it is no longer registered.',"
		"                          e.performed_by,"
		"                          CASE e.event WHEN 'baseline' THEN 'baselined' ELSE e.event END)"
		"   FROM (SELECT DISTINCT ON (version, name) version, name, event, performed_by"
		"           FROM fleetmigrate.events"
		"          WHERE event IN ('applied', 'rolled_back', 'baseline', 'repaired',"
		"                          'imported', 'unbaselined')"
		"          ORDER BY version, name, id DESC) e"
		"  WHERE e.event NOT IN ('rolled_back', 'unbaselined')"
		"    AND NOT EXISTS (SELECT 1 FROM fleetmigrate.migrations x"
		"                     WHERE x.version = e.version AND x.name = e.name)"
		" UNION ALL"
		" SELECT m.sort_key, m.version, m.name, 3, 'out_of_order',"
		"        pg_catalog.format('It sorts before %s %s, which is already applied, so it will run out of order.',"
		"                          last.version, last.name)"
		"   FROM m, last"
		"  WHERE NOT m.is_applied AND NOT m.repeatable"
		"    AND " SORTS_BEFORE("m.sort_key", "m.version", "m.name",
								"last.sort_key", "last.version", "last.name")
		" UNION ALL"
		" SELECT sort_key, version, name, 4, 'unmet_requirement',"
		"        CASE WHEN tversion IS NULL"
		"             THEN pg_catalog.format('It requires %s, which is not registered.', ref)"
		"             WHEN is_applied"
		"             THEN pg_catalog.format('It is applied, but it requires %s %s, which is not.', tversion, tname)"
		"             ELSE pg_catalog.format('It requires %s %s, which would run after it.', tversion, tname)"
		"        END"
		"   FROM refs"
		"  WHERE kind = 'requires'"
		"    AND (tversion IS NULL"
		"         OR (NOT tapplied"
		"             AND (is_applied OR (trepeatable AND NOT repeatable)"
		"                  OR (trepeatable = repeatable AND "
		SORTS_BEFORE("sort_key", "version", "name", "tkey", "tversion", "tname") "))))"
		" UNION ALL"
		" SELECT sort_key, version, name, 5, 'conflict',"
		"        pg_catalog.format('It conflicts with %s %s, which is %s.', tversion, tname,"
		"                          CASE WHEN tapplied THEN 'applied' ELSE 'registered to run' END)"
		"   FROM refs"
		"  WHERE kind = 'conflicts' AND tversion IS NOT NULL)"
		"SELECT version, name, problem, detail FROM problems"
		" ORDER BY sort_key, version COLLATE \"C\", name COLLATE \"C\", o, detail COLLATE \"C\"",
		0, {InvalidOid}
	},
	[STMT_REPAIR] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations SET applied_checksum = checksum"
		"  WHERE version = $1 AND name = $2"
		"    AND state IN ('applied', 'baseline')"
		"    AND applied_checksum IS DISTINCT FROM checksum"
		" RETURNING version, name, checksum, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, performed_by,"
		"  statements, reason)"
		" SELECT version, name, 'repaired', checksum, pg_catalog.now(), $3,"
		"        statements, $4"
		"   FROM m",
		4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_STATE] = {
		"SELECT state FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_PLAN_PROBLEMS] = {
		"WITH plan AS ("
		" SELECT p.version, p.name, p.pos"
		"   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2))"
		"        WITH ORDINALITY AS p(version, name, pos)),"
		" refs AS ("
		" SELECT plan.pos, plan.version, plan.name, k.kind, r.ref"
		"   FROM plan"
		"   JOIN fleetmigrate.migrations m"
		"     ON m.version = plan.version AND m.name = plan.name,"
		"        LATERAL (VALUES (1, m.requires), (2, m.conflicts)) AS k(kind, refs),"
		"        LATERAL pg_catalog.unnest(k.refs) AS r(ref))"
		"SELECT refs.version, refs.name, refs.kind, refs.ref, t.version, t.name,"
		"       " IN_EFFECT("t") ", tp.pos IS NOT NULL, t.repeatable"
		"  FROM refs"
		"  LEFT JOIN fleetmigrate.migrations t ON " REFERENCE_MATCHES("t", "refs.ref")
		"  LEFT JOIN plan tp ON tp.version = t.version AND tp.name = t.name"
		" WHERE (refs.kind = 1"
		"        AND (t.version IS NULL"
		"             OR (NOT " IN_EFFECT("t") " AND (tp.pos IS NULL OR tp.pos > refs.pos))))"
		"    OR (refs.kind = 2 AND t.version IS NOT NULL"
		"        AND (" IN_EFFECT("t") " OR tp.pos IS NOT NULL))"
		" ORDER BY refs.pos, refs.kind, t.sort_key, t.version COLLATE \"C\", t.name COLLATE \"C\"",
		2, {TEXTARRAYOID, TEXTARRAYOID}
	},
	[STMT_ROLLBACK_LAST] = {
		ROLLBACK_SELECT("") " LIMIT $1 FOR UPDATE",
		1, {INT4OID}
	},
	[STMT_ROLLBACK_AFTER] = {
		ROLLBACK_SELECT(" AND sort_key > $1") " FOR UPDATE",
		1, {BYTEAOID}
	},
	[STMT_RECORD_ROLLED_BACK] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations"
		"    SET state = 'rolled_back', applied_checksum = NULL,"
		"        applied_at = NULL, applied_by = NULL, duration_ms = NULL,"
		"        out_of_order = false"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, down_checksum)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, duration_ms,"
		"  performed_by, statements, reason)"
		" SELECT version, name, 'rolled_back', down_checksum, $3, $4, $5, $6, $7"
		"   FROM m",
		7, {TEXTOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID, TEXTOID, INT4OID, TEXTOID}
	},
	[STMT_VERIFIABLE] = {
		"SELECT version, name, verify, sort_key, repeatable"
		"  FROM fleetmigrate.migrations"
		" WHERE state IN ('applied', 'baseline')"
		"   AND ($1 IS NULL OR sort_key = $1)"
		" ORDER BY repeatable, sort_key, version COLLATE \"C\", name COLLATE \"C\"",
		1, {BYTEAOID}
	},
	[STMT_TABLE_FILES] = {
		"SELECT c.oid, c.relfilenode FROM pg_catalog.pg_class c"
		" WHERE c.relkind IN ('r', 'm') AND c.oid >= 16384"
		"   AND c.relnamespace <> (SELECT ns.oid FROM pg_catalog.pg_namespace ns WHERE ns.nspname = 'fleetmigrate')"
		" ORDER BY c.oid",
		0, {InvalidOid}
	},
	[STMT_SCHEMA] = {
		"WITH n AS ("
		" SELECT oid, nspname FROM pg_catalog.pg_namespace"
		"  WHERE oid >= 16384 AND nspname <> 'fleetmigrate'"
		"    AND nspname !~ '^pg_(temp|toast_temp)_'"
		"  UNION ALL"
		" SELECT oid, nspname FROM pg_catalog.pg_namespace WHERE nspname = 'public'),"
		" r AS ("
		" SELECT c.oid, c.relkind FROM pg_catalog.pg_class c JOIN n ON n.oid = c.relnamespace"
		"  WHERE c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f'))"
		"SELECT line FROM ("
		" SELECT 'schema ' || pg_catalog.quote_ident(nspname) FROM n"
		" UNION ALL"
		" SELECT CASE r.relkind WHEN 'r' THEN 'table ' WHEN 'v' THEN 'view '"
		"        WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '"
		"        WHEN 'p' THEN 'partitioned table ' ELSE 'foreign table ' END"
		"        || r.oid::pg_catalog.regclass::pg_catalog.text"
		"        || CASE WHEN r.relkind IN ('v', 'm')"
		"                THEN ' as ' || pg_catalog.md5(pg_catalog.pg_get_viewdef(r.oid)) ELSE '' END"
		"   FROM r"
		" UNION ALL"
		" SELECT 'column ' || a.attrelid::pg_catalog.regclass::pg_catalog.text || '.'"
		"        || pg_catalog.quote_ident(a.attname) || ' '"
		"        || pg_catalog.format_type(a.atttypid, a.atttypmod)"
		"        || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
		"        || COALESCE(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')"
		"   FROM pg_catalog.pg_attribute a JOIN r ON r.oid = a.attrelid"
		"   LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
		"  WHERE a.attnum > 0 AND NOT a.attisdropped"
		" UNION ALL"
		" SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)"
		"   FROM pg_catalog.pg_index i JOIN r ON r.oid = i.indrelid"
		" UNION ALL"
		" SELECT 'constraint ' || pg_catalog.quote_ident(k.conname) || ' on '"
		"        || k.conrelid::pg_catalog.regclass::pg_catalog.text || ': '"
		"        || pg_catalog.pg_get_constraintdef(k.oid)"
		"   FROM pg_catalog.pg_constraint k JOIN r ON r.oid = k.conrelid"
		" UNION ALL"
		" SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid)"
		"   FROM pg_catalog.pg_trigger t JOIN r ON r.oid = t.tgrelid"
		"  WHERE NOT t.tgisinternal"
		" UNION ALL"
		" SELECT 'policy ' || pg_catalog.quote_ident(p.polname) || ' on '"
		"        || p.polrelid::pg_catalog.regclass::pg_catalog.text"
		"   FROM pg_catalog.pg_policy p JOIN r ON r.oid = p.polrelid"
		" UNION ALL"
		" SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END"
		"        || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)"
		"        || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ') '"
		"        || COALESCE(pg_catalog.pg_get_function_result(p.oid), '') || ' '"
		"        || pg_catalog.md5(p.prosrc)"
		"   FROM pg_catalog.pg_proc p JOIN n ON n.oid = p.pronamespace"
		"  WHERE p.prokind IN ('f', 'p')"
		" UNION ALL"
		" SELECT 'type ' || t.oid::pg_catalog.regtype::pg_catalog.text"
		"        || COALESCE(' enum (' || (SELECT pg_catalog.string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)"
		"                                   FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || ')', '')"
		"   FROM pg_catalog.pg_type t JOIN n ON n.oid = t.typnamespace"
		"  WHERE t.typtype IN ('e', 'd')"
		") s(line)"
		" ORDER BY line COLLATE \"C\"",
		0, {InvalidOid}
	},
	[STMT_RECORD_APPLIED_TEXT] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations"
		"    SET state = 'applied', applied_checksum = $9,"
		"        applied_at = $3, applied_by = $4,"
		"        duration_ms = $5, out_of_order = $6,"
		"        statements_done = 0, statement_started = NULL"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, duration_ms,"
		"  performed_by, statements, params, consent, script, tolerated)"
		" SELECT version, name, 'applied', $9, $3, $5, $4, statements,"
		"        $7::pg_catalog.jsonb, $8, $10, $11::pg_catalog.jsonb"
		"   FROM m",
		11, {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID}
	},
	[STMT_RECORD_FAILED_TEXT] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations SET state = 'failed'"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, checksum, statements, up)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, duration_ms,"
		"  performed_by, statements, sqlstate, error, statement, line, script)"
		" SELECT version, name, 'failed', checksum, $3, $5, $4, statements,"
		"        $6, $7, $8, $9, up"
		"   FROM m",
		9, {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, TEXTOID,
		TEXTOID, INT4OID, INT4OID}
	},
	[STMT_DEFINITIONS_RAN] = {
		"SELECT m.version, m.name, m.up, m.down, m.verify, m.requires,"
		"       m.conflicts, m.params, m.repeatable, m.allow_destructive,"
		"       m.tolerate,"
		/*
		 * the up text that ran, where the migration is in effect by an
		 * 'applied' event (not a baseline or an import after it) and the
		 * text registered now differs
		 */
		"       CASE WHEN " IN_EFFECT("m") " THEN NULLIF("
		"        (SELECT e.script FROM fleetmigrate.events e"
		"          WHERE e.version = m.version AND e.name = m.name"
		"            AND e.event IN ('applied', 'rolled_back', 'baseline',"
		"                            'unbaselined', 'imported')"
		"          ORDER BY e.id DESC LIMIT 1), m.up) END"
		"  FROM fleetmigrate.migrations m"
		" ORDER BY m.sort_key, m.version COLLATE \"C\", m.name COLLATE \"C\"",
		0, {InvalidOid}
	},
	[STMT_STORE_LINT] = {
		"UPDATE fleetmigrate.migrations SET lint = $3"
		" WHERE version = $1 AND name = $2",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_UNREGISTER_ROW] = {
		"SELECT state, statements_done, statement_started,"
		"       " IN_EFFECT("migrations")
		"  FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2"
		"   FOR UPDATE",
		2, {TEXTOID, TEXTOID}
	},
	/* a requirement of another migration that only this one meets */
	[STMT_UNREGISTER_REQUIRED] = {
		"SELECT o.version, o.name, r.ref"
		"  FROM fleetmigrate.migrations o,"
		"       LATERAL pg_catalog.unnest(o.requires) AS r(ref)"
		" WHERE NOT (o.version = $1 AND o.name = $2)"
		"   AND pg_catalog.split_part(r.ref, ' ', 1) = $1"
		"   AND (pg_catalog.strpos(r.ref, ' ') = 0"
		"        OR pg_catalog.substr(r.ref, pg_catalog.strpos(r.ref, ' ') + 1) = $2)"
		"   AND NOT EXISTS (SELECT 1 FROM fleetmigrate.migrations t"
		"                    WHERE NOT (t.version = $1 AND t.name = $2)"
		"                      AND " REFERENCE_MATCHES("t", "r.ref") ")"
		" ORDER BY o.sort_key, o.version COLLATE \"C\", o.name COLLATE \"C\""
		" LIMIT 1",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_UNREGISTER] = {
		"WITH m AS ("
		" DELETE FROM fleetmigrate.migrations"
		"  WHERE version = $1 AND name = $2"
		" RETURNING version, name, checksum, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, performed_by,"
		"  statements, reason)"
		" SELECT version, name, 'unregistered', checksum, pg_catalog.now(), $3,"
		"        statements, $4"
		"   FROM m",
		4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_PENDING_UNLOCKED] = {
		PENDING_SELECT,
		1, {BYTEAOID}
	},
	[STMT_MENTIONING] = {
		"SELECT version, name, up, " IN_EFFECT("migrations") ", repeatable, sort_key"
		"  FROM fleetmigrate.migrations"
		" WHERE pg_catalog.strpos(pg_catalog.lower(up), pg_catalog.lower($1)) > 0"
		" ORDER BY sort_key, version COLLATE \"C\", name COLLATE \"C\"",
		1, {TEXTOID}
	},
	/* adopting a database: the migrations a baseline or an import takes */
	[STMT_ADOPT_REF] = {
		ADOPT_SELECT " WHERE " REFERENCE_MATCHES("migrations", "$1") ADOPT_ORDER,
		1, {TEXTOID}
	},
	[STMT_ADOPT_UPTO] = {
		ADOPT_SELECT " WHERE sort_key <= $1" ADOPT_ORDER,
		1, {BYTEAOID}
	},
	[STMT_ADOPT_VERSION] = {
		ADOPT_SELECT " WHERE pg_catalog.ltrim(version, '0') = pg_catalog.ltrim($1, '0')"
		ADOPT_ORDER,
		1, {TEXTOID}
	},
	[STMT_ADOPT_NAME] = {
		ADOPT_SELECT " WHERE pg_catalog.lower(pg_catalog.translate(name, '- ', '__'))"
		"             = pg_catalog.lower(pg_catalog.translate($1, '- ', '__'))"
		ADOPT_ORDER,
		1, {TEXTOID}
	},
	[STMT_ADOPT_MARK] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations"
		"    SET state = 'baseline', applied_checksum = checksum,"
		"        applied_at = pg_catalog.now(), applied_by = $3,"
		"        duration_ms = NULL, out_of_order = false,"
		"        statements_done = 0, statement_started = NULL"
		"  WHERE version = $1 AND name = $2 AND NOT " IN_EFFECT("migrations")
		" RETURNING version, name, checksum, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, performed_by,"
		"  statements, reason)"
		" SELECT version, name, $5, checksum, pg_catalog.now(), $3,"
		"        statements, $4"
		"   FROM m",
		5, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_UNBASELINE] = {
		"WITH m AS ("
		" UPDATE fleetmigrate.migrations"
		"    SET state = 'pending', applied_checksum = NULL,"
		"        applied_at = NULL, applied_by = NULL, duration_ms = NULL,"
		"        out_of_order = false, statements_done = 0,"
		"        statement_started = NULL"
		"  WHERE version = $1 AND name = $2 AND state = 'baseline'"
		" RETURNING version, name, checksum, statements)"
		" INSERT INTO fleetmigrate.events"
		" (version, name, event, checksum, started_at, performed_by,"
		"  statements, reason)"
		" SELECT version, name, 'unbaselined', checksum, pg_catalog.now(), $3,"
		"        statements, $4"
		"   FROM m",
		4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_DEPENDENTS] = {
		"SELECT d.version, d.name FROM fleetmigrate.migrations d"
		" WHERE " IN_EFFECT("d")
		"   AND NOT (d.version = $1 AND d.name = $2)"
		"   AND EXISTS (SELECT FROM pg_catalog.unnest(d.requires) AS r(ref)"
		"                WHERE pg_catalog.split_part(r.ref, ' ', 1) = $1"
		"                  AND (pg_catalog.strpos(r.ref, ' ') = 0"
		"                       OR pg_catalog.substr(r.ref, pg_catalog.strpos(r.ref, ' ') + 1) = $2))"
		" ORDER BY d.sort_key, d.version COLLATE \"C\", d.name COLLATE \"C\"",
		2, {TEXTOID, TEXTOID}
	},
	[STMT_REPAIR_UP] = {
		"SELECT up, verify FROM fleetmigrate.migrations"
		" WHERE version = $1 AND name = $2"
		"   AND state IN ('applied', 'baseline')"
		"   AND applied_checksum IS DISTINCT FROM checksum"
		"   FOR UPDATE",
		2, {TEXTOID, TEXTOID}
	},
};

static SPIPlanPtr statement_plans[NUM_CATALOG_STATEMENTS];

/* Owner of the catalog tables, looked up by FmCatalogBegin(). */
static Oid	catalog_owner = InvalidOid;

/* The catalog table, as FmCatalogBegin() found it. */
static Oid	migrations_relid = InvalidOid;

/*
 * Whether the catalog keeps the text that ran (events.script, 1.9): the
 * library also serves a catalog of 1.6 to 1.8 until ALTER EXTENSION UPDATE,
 * which then records events as those versions did.  Set by FmCatalogBegin().
 */
static bool catalog_keeps_text = false;

/*
 * FmCatalogBegin
 *		Look up the catalog's owner.  Every SQL entry point calls this, while
 *		connected to SPI, before its first catalog statement.
 */
void
FmCatalogBegin(void)
{
	Oid			nsp = get_namespace_oid("fleetmigrate", true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid("migrations", nsp) : InvalidOid;
	HeapTuple	tuple = OidIsValid(rel) ?
		SearchSysCache1(RELOID, ObjectIdGetDatum(rel)) : NULL;

	/* renamed or dropped under the extension (a schema owner can) */
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the fleetmigrate catalog table fleetmigrate.migrations does not exist"),
				 errdetail("The extension's schema or its catalog table was renamed or dropped."),
				 errhint("Rename it back, or drop the extension and create it again (its history is lost unless you restore it from a dump).")));
	catalog_owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	migrations_relid = rel;

	/* the newest column: the library needs the catalog it was built for */
	if (get_attnum(get_relname_relid("events", nsp), "consent") == InvalidAttrNumber)
		FmCatalogTooOld();
	catalog_keeps_text =
		get_attnum(get_relname_relid("events", nsp), "script") != InvalidAttrNumber;
}

/*
 * FmCatalogCheckIntact
 *		ERROR if the extension's catalog is no longer the one
 *		FmCatalogBegin() found: a statement of migration "version name"
 *		dropped or recreated the extension.  The runner calls this after every statement
 *		it runs, so that the statement is rolled back with the migration
 *		instead of the run failing later on a catalog that is gone.
 */
void
FmCatalogCheckIntact(const char *version, const char *name)
{
	Oid			nsp = get_namespace_oid("fleetmigrate", true);

	/* two syscache lookups: this runs after every statement */
	if (OidIsValid(nsp) &&
		get_relname_relid("migrations", nsp) == migrations_relid)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s %s the fleetmigrate extension",
					FmMigrationLabel(version, name),
					OidIsValid(get_extension_oid("fleetmigrate", true)) ?
					"recreated" : "dropped"),
			 errdetail("A migration cannot drop, recreate or move the extension that runs it and records it. Its statements were rolled back."),
			 errhint("Drop or recreate the extension outside a migration, and remove the statement from the migration.")));
}

/*
 * FmCatalogTooOld
 *		ERROR: this database's catalog predates the library.
 */
void
FmCatalogTooOld(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the fleetmigrate catalog is older than the fleetmigrate library"),
			 errdetail("A newer version of fleetmigrate was installed on the server, but its catalog in this database has not been updated."),
			 errhint("Run ALTER EXTENSION fleetmigrate UPDATE.")));
}

/*
 * execute_statement
 *		Run one catalog statement and check that SPI answered "expected".
 *		Returns SPI_processed; the rows are in SPI_tuptable.
 *
 * The statement runs as the owner of the catalog tables, in a restricted
 * security context, with search_path "pg_catalog, pg_temp": callers need no
 * privileges on the tables (EXECUTE on the SQL function is the access
 * control), a caller's search_path cannot substitute its own operators, and
 * a migration that changed search_path or the role cannot disturb the
 * bookkeeping.  JIT is off: the generic plans are planned with it off, so a
 * plan whose row estimates run high (validate()'s over unnested arrays)
 * does not pay for compilation on every call.  An error in between is cleaned up by (sub)transaction
 * abort, which restores the user id and the GUC nest level.  The current
 * memory context is preserved.
 */
static uint64
execute_statement(CatalogStatement id, Datum *values, const char *nulls,
				  int expected)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	const CatalogStatementDef *def = &statement_defs[id];
	FmRoleSwitch sw;
	int			rc;

	Assert(OidIsValid(catalog_owner));
	FmBeginAsRole(catalog_owner, &sw);
	/* bookkeeping never gains from JIT; validate()'s estimates would buy it */
	if (sw.nestlevel > 0)
		(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);

	if (statement_plans[id] == NULL)
	{
		/*
		 * A generic plan: the statements are simple, and a custom plan
		 * would be planned again at every call.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(def->sql, def->nargs,
											  (Oid *) def->argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 def->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		statement_plans[id] = plan;
	}

	rc = SPI_execute_plan(statement_plans[id], values, nulls, false, 0);

	FmEndAsRole(&sw);
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
 * keep_progress
 *		A non-transactional migration that stopped part way has run
 *		statements 1 to *done (and perhaps started statement *started)
 *		outside any transaction.  When its up script is replaced, keep that
 *		progress for the leading statements whose text is unchanged, so the
 *		next run resumes after them.  ERROR when the new script changes a
 *		statement that already ran, since nothing undid it: a partly-run
 *		migration keeps its identity.
 */
static void
keep_progress(const char *version, const char *name, const char *old_up,
			  const char *new_up, int *done, int *started)
{
	char	   *label;
	List	   *old_stmts;
	List	   *new_stmts;
	int			limit = Max(*done, *started);
	int			same = 0;

	if (limit == 0)
		return;
	label = psprintf("up script of %s", FmMigrationLabel(version, name));
	old_stmts = FmSplitScript(old_up, label);
	new_stmts = FmSplitScript(new_up, label);
	while (same < limit && same < list_length(old_stmts) &&
		   same < list_length(new_stmts) &&
		   strcmp(FmStatementText(old_up, list_nth(old_stmts, same)),
				  FmStatementText(new_up, list_nth(new_stmts, same))) == 0)
		same++;

	if (same < *done)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s has already run %d of its statements, and the new up script changes statement %d",
						FmMigrationLabel(version, name), *done, same + 1),
				 *done == 1 ?
				 errdetail("Statement 1 ran outside a transaction and was not undone, so it cannot be changed. Nothing was changed.") :
				 errdetail("Statements 1 to %d ran outside a transaction and were not undone, so they cannot be changed. Nothing was changed.",
						   *done),
				 errhint("Keep statements 1 to %d as they ran and change only the statements after them; put other changes in a new migration.",
						 *done)));
	*done = Min(*done, same);
	if (*started > same)
		*started = 0;
}

/*
 * FmScriptChecksum
 *		The checksum of a script: SHA-256 of its token stream
 *		(FmNormalizeScript), so that white space and comments are not
 *		drift; NULL for NULL.
 */
char *
FmScriptChecksum(const char *script)
{
	StringInfoData buf;
	char	   *sum;

	if (script == NULL)
		return NULL;
	initStringInfo(&buf);
	FmNormalizeScript(script, &buf);
	sum = sha256_hex(buf.data);
	pfree(buf.data);
	return sum;
}

/*
 * fleetmigrate.checksum(script text) RETURNS text
 *		The checksum register() would record for "script".
 */
PG_FUNCTION_INFO_V1(fleetmigrate_checksum);

Datum
fleetmigrate_checksum(PG_FUNCTION_ARGS)
{
	char	   *script = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(FmScriptChecksum(script)));
}

/* A text[] of a List of C strings, and back (NULL elements refused). */
static Datum
text_array(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, items)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

static List *
text_array_items(Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array elements cannot be null")));
		result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

static bool
same_items(List *a, List *b)
{
	if (list_length(a) != list_length(b))
		return false;
	for (int i = 0; i < list_length(a); i++)
	{
		if (strcmp(list_nth(a, i), list_nth(b, i)) != 0)
			return false;
	}
	return true;
}

/* Error context of FmRegisterDefinition: where the migration came from. */
static void
register_error_callback(void *arg)
{
	const FmDefinition *def = (const FmDefinition *) arg;

	if (def->origin != NULL)
		errcontext("registering %s from %s",
				   FmMigrationLabel(def->version, def->name), def->origin);
}

/*
 * FmRegisterDefinition
 *		Add a migration to the catalog, or confirm or replace an existing
 *		one; returns "registered", "unchanged" or "updated".  Callers are
 *		connected to SPI and have called FmCatalogBegin().
 *
 * The scripts are parsed first (syntax errors, transaction control and
 * COPY to the client are rejected with the statement and line).  A
 * migration that has not been applied takes whatever is registered.  For
 * one that has (or was baselined), an edit of white space or comments is
 * "unchanged" and keeps the text that ran; any other change of its up
 * script is recorded, WARNed about and reported by validate() until
 * repair() accepts it or the applied text is registered again (a
 * repeatable migration instead runs again); a change of its down or verify
 * script is simply recorded.  The row is locked (FOR UPDATE) so that a
 * concurrent apply_pending() and register() of the same migration are
 * serialized.
 */
const char *
FmRegisterDefinition(const FmDefinition *def)
{
	ErrorContextCallback errcallback;
	FmScriptInfo info;
	FmDefinition *checked;
	Checksums	sums;
	List	   *requires;
	List	   *conflicts;
	List	   *tolerate;
	const char *outcome;
	Datum		values[MAX_STATEMENT_ARGS];
	char		nulls[MAX_STATEMENT_ARGS];
	const char *version = def->version;
	const char *name = def->name;

	FmRefuseOnStandby("register()");
	errcallback.callback = register_error_callback;
	errcallback.arg = (void *) def;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	checked = FmCheckDefinition(def, &info);
	requires = checked->requires;
	conflicts = checked->conflicts;
	tolerate = checked->tolerate;

	sums.up = FmScriptChecksum(def->up);
	sums.down = FmScriptChecksum(def->down);
	sums.verify = FmScriptChecksum(def->verify);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(def->up);
	values[3] = def->down ? CStringGetTextDatum(def->down) : (Datum) 0;
	values[4] = def->verify ? CStringGetTextDatum(def->verify) : (Datum) 0;
	values[5] = CStringGetTextDatum(sums.up);
	values[6] = sums.down ? CStringGetTextDatum(sums.down) : (Datum) 0;
	values[7] = sums.verify ? CStringGetTextDatum(sums.verify) : (Datum) 0;
	values[8] = Int32GetDatum(info.statements);
	values[9] = BoolGetDatum(info.transactional);
	values[10] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[11] = text_array(requires);
	values[12] = text_array(conflicts);
	values[13] = text_array(def->params);
	values[14] = BoolGetDatum(def->repeatable);
	values[15] = BoolGetDatum(def->allow_destructive);
	values[16] = Int32GetDatum(0);
	values[17] = Int32GetDatum(0);
	values[18] = text_array(tolerate);
	nulls[3] = def->down ? ' ' : 'n';
	nulls[4] = def->verify ? ' ' : 'n';
	nulls[6] = def->down ? ' ' : 'n';
	nulls[7] = def->verify ? ' ' : 'n';

	/*
	 * A batched migration whose batches a run is doing now: its next
	 * batch would stop that run; register it when the run is over.  Asked
	 * before the row lock below, which a batch in progress holds.
	 */
	if (FmCatalogBatchesKept())
	{
		FmMigration m = {.version = def->version, .name = def->name};
		FmBatchState bs;
		int			holder;

		if (FmCatalogBatchRead(&m, &bs) && !bs.finished &&
			(holder = FmCatalogLockHolder()) != 0 && holder != MyProcPid)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot register %s again while a run does its batches",
							FmMigrationLabel(def->version, def->name)),
					 errdetail("Process %d is running fleetmigrate.migrate(), and %d batch%s of this migration %s done.",
							   holder, bs.batches, bs.batches == 1 ? "" : "es",
							   bs.batches == 1 ? "is" : "are"),
					 errhint("Register it again when that run is over (see fleetmigrate.progress); the next run goes on after the last batch done, with the new text.")));
	}

	if (execute_statement(STMT_REGISTER_SELECT, values, NULL, SPI_OK_SELECT) == 0)
	{
		/* New migration; a concurrent register() may beat us to it. */
		if (execute_statement(STMT_REGISTER_INSERT, values, nulls,
							  SPI_OK_INSERT) == 1)
		{
			store_lint(def);
			error_context_stack = errcallback.previous;
			return "registered";
		}
		if (execute_statement(STMT_REGISTER_SELECT, values, NULL,
							  SPI_OK_SELECT) != 1)
			elog(ERROR, "registered migration vanished");
	}

	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Checksums	old;
		char	   *state;
		char	   *old_up;
		char	   *old_down;
		char	   *old_verify;
		char	   *applied_checksum;
		bool		same_attributes;
		bool		applied;
		int			done;
		int			started;
		bool		isnull;

		old.up = nullable_text(tuple, desc, 1);
		old.down = nullable_text(tuple, desc, 2);
		old.verify = nullable_text(tuple, desc, 3);
		state = nullable_text(tuple, desc, 4);
		old_up = nullable_text(tuple, desc, 5);
		done = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
		started = DatumGetInt32(SPI_getbinval(tuple, desc, 7, &isnull));
		if (isnull)
			started = 0;
		old_down = nullable_text(tuple, desc, 8);
		old_verify = nullable_text(tuple, desc, 9);
		same_attributes =
			same_items(requires, text_array_items(SPI_getbinval(tuple, desc, 10, &isnull))) &&
			same_items(conflicts, text_array_items(SPI_getbinval(tuple, desc, 11, &isnull))) &&
			same_items(def->params, text_array_items(SPI_getbinval(tuple, desc, 12, &isnull))) &&
			def->repeatable == DatumGetBool(SPI_getbinval(tuple, desc, 13, &isnull)) &&
			def->allow_destructive == DatumGetBool(SPI_getbinval(tuple, desc, 14, &isnull)) &&
			same_items(tolerate, text_array_items(SPI_getbinval(tuple, desc, 16, &isnull)));
		applied_checksum = nullable_text(tuple, desc, 15);
		applied = strcmp(state, "applied") == 0 || strcmp(state, "baseline") == 0;

		if (same_attributes && strcmp(old_up, def->up) == 0 &&
			same_checksum(old_down, def->down) &&
			same_checksum(old_verify, def->verify))
			outcome = "unchanged";
		else if (applied && same_attributes &&
				 same_checksum(old.up, sums.up) &&
				 same_checksum(old.down, sums.down) &&
				 same_checksum(old.verify, sums.verify))
			outcome = "unchanged";	/* white space and comments only */
		else
		{
			bool		was_repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 13, &isnull));
			bool		was_transactional = DatumGetBool(SPI_getbinval(tuple, desc, 17, &isnull));


			/* an applied versioned migration must never run a second time */
			if (applied && !was_repeatable && def->repeatable)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("%s has been applied as a versioned migration and cannot become repeatable",
								FmMigrationLabel(version, name)),
						 errdetail("A repeatable migration runs again whenever its up script changes, so this one would run a second time. Nothing was changed."),
						 errhint("Register the repeatable script as a new migration, with a version and name of its own.")));
			/* a partly-run non-transactional migration keeps its identity */
			if ((done > 0 || started > 0) &&
				was_transactional != info.transactional)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("%s has run %d of its statements outside a transaction; its new up script %s",
								FmMigrationLabel(version, name), Max(done, started),
								info.transactional ?
								"would run in one transaction, statements that already ran included" :
								"changes how it runs"),
						 errdetail("Statements that ran outside a transaction were not undone, so the migration must go on as it started. Nothing was changed."),
						 errhint("Keep the statements that already ran, and let CALL fleetmigrate.migrate() finish the migration; put further changes in a new migration.")));
			if (!applied)
				keep_progress(version, name, old_up, def->up, &done, &started);
			else if (!def->repeatable && !same_checksum(applied_checksum, sums.up) &&
					 !same_checksum(old.up, sums.up))
				ereport(WARNING,
						(errmsg("%s has already been applied; its new up script will not run",
								FmMigrationLabel(version, name)),
						 errdetail("The database ran the up script with checksum %.12s; the one registered now has checksum %.12s. fleetmigrate.validate() reports the difference until it is resolved.",
								   applied_checksum ? applied_checksum : "none", sums.up),
						 errhint("Put the change in a new migration and register the applied text again, or, if the database already matches the new text, accept it with fleetmigrate.repair('%s', '%s', reason => '...').",
								 version, name)));
			values[16] = Int32GetDatum(done);
			values[17] = Int32GetDatum(started);
			nulls[17] = started > 0 ? ' ' : 'n';
			if (execute_statement(STMT_REGISTER_UPDATE, values, nulls,
								  SPI_OK_UPDATE) != 1)
				elog(ERROR, "could not update migration row");
			store_lint(def);
			outcome = "updated";
		}
	}

	error_context_stack = errcallback.previous;
	return outcome;
}

/*
 * fleetmigrate.register(version, name, up, down, verify, requires,
 *		conflicts, params, repeatable, allow_destructive) RETURNS text
 *
 * One migration: see FmRegisterDefinition().
 */
Datum
fleetmigrate_register(PG_FUNCTION_ARGS)
{
	FmDefinition *def;
	const char *outcome;

	/* the SQL definition of an older catalog passes fewer arguments */
	if (PG_NARGS() != FM_REGISTER_NARGS)
		FmCatalogTooOld();
	def = FmDefinitionFromArgs(fcinfo);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	outcome = FmRegisterDefinition(def);
	FmCatalogCheckRequirements(list_make1(def));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

/*
 * FmCompareVersionKeys
 *		memcmp order of two sort keys, a prefix first.
 */
int
FmCompareVersionKeys(const bytea *a, const bytea *b)
{
	int			la = VARSIZE_ANY_EXHDR(a);
	int			lb = VARSIZE_ANY_EXHDR(b);
	int			cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));

	if (cmp == 0)
		cmp = (la > lb) - (la < lb);
	return cmp;
}

/*
 * Apply order of two migrations: version key, version text, name.
 */
int
FmCompareMigrations(const bytea *k1, const char *v1, const char *n1,
					const bytea *k2, const char *v2, const char *n2)
{
	int			cmp = FmCompareVersionKeys(k1, k2);

	if (cmp == 0)
		cmp = strcmp(v1, v2);
	if (cmp == 0)
		cmp = strcmp(n1, n2);
	return cmp;
}

/*
 * FmCatalogLastApplied
 *		The applied (or baselined) migration that sorts last, in *last
 *		(version, name and sort key, palloc'd in the current context; the
 *		other fields false).  Returns false, leaving *last alone, when
 *		nothing is applied.  A runner reads it once: while it holds the
 *		runner lock, only it applies migrations.
 */
bool
FmCatalogLastApplied(FmMigration *last)
{
	MemoryContext cxt = CurrentMemoryContext;
	HeapTuple	tuple;
	TupleDesc	desc;

	if (execute_statement(STMT_LAST_APPLIED, NULL, NULL, SPI_OK_SELECT) == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return false;
	}
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(cxt);
	last->version = nullable_text(tuple, desc, 1);
	last->name = nullable_text(tuple, desc, 2);
	last->sort_key = FmVersionKey(last->version, strlen(last->version));
	last->transactional = false;
	last->repeatable = false;
	last->out_of_order = false;
	last->params = NIL;
	last->tolerate = NIL;
	last->allow_destructive = false;
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * FmCatalogPending
 *		The pending migrations up to "target" (NULL: all), in apply order,
 *		their rows locked FOR UPDATE.  "target" includes every version whose
 *		number is at most the target's: '7', '007' and '0007' are the same
 *		target and include both a '7' and a '007'.  Repeatable migrations
 *		come last, whatever the target.  ERRORs if "target" matches no
 *		registered version.  A versioned migration that sorts before
 *		"last" (from FmCatalogLastApplied(); NULL: nothing applied) is out
 *		of order.  The list, with each migration's checksums, is allocated
 *		in the current memory context; a run fetches the scripts one at a
 *		time later (FmCatalogPlannedScripts()).
 */
List *
FmCatalogPending(const char *target, const FmMigration *last)
{
	return read_pending(STMT_PENDING, target, last);
}

/* FmCatalogPending() with statement "id": locking the rows or not. */
static List *
read_pending(CatalogStatement id, const char *target, const FmMigration *last)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		key[1] = {(Datum) 0};
	char		nulls[1] = {'n'};
	List	   *result = NIL;
	uint64		i;

	if (target != NULL)
	{
		key[0] = target_key(target, "target");
		nulls[0] = ' ';
	}

	execute_statement(id, key, nulls, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmMigration *m = palloc(sizeof(FmMigration));
		bool		isnull;

		m->version = nullable_text(tuple, desc, 1);
		m->name = nullable_text(tuple, desc, 2);
		m->sort_key = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, 3, &isnull));
		m->transactional = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		m->repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
		m->params = text_array_items(SPI_getbinval(tuple, desc, 6, &isnull));
		m->tolerate = text_array_items(SPI_getbinval(tuple, desc, 7, &isnull));
		m->allow_destructive = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
		m->checksum = nullable_text(tuple, desc, 9);
		m->verify_checksum = nullable_text(tuple, desc, 10);
		m->out_of_order = last != NULL && !m->repeatable &&
			FmCompareMigrations(m->sort_key, m->version, m->name,
								last->sort_key, last->version, last->name) < 0;
		result = lappend(result, m);
	}
	SPI_freetuptable(SPI_tuptable);
	MemoryContextSwitchTo(cxt);
	return result;
}

/*
 * FmCatalogScripts
 *		The up, down and verify scripts of a migration, in scripts[] by
 *		FmScriptKind, palloc'd in the current context; NULL for one it does
 *		not have.
 */
void
FmCatalogScripts(const FmMigration *m, char *scripts[3])
{
	Datum		values[2];

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	if (execute_statement(STMT_SCRIPTS, values, NULL, SPI_OK_SELECT) != 1)
		elog(ERROR, "migration %s %s vanished from the catalog",
			 m->version, m->name);
	for (int i = 0; i < 3; i++)
		scripts[i] = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								   i + 1);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * FmCatalogScript
 *		One script of a migration (FmCatalogScripts()).
 */
char *
FmCatalogScript(const FmMigration *m, FmScriptKind kind)
{
	char	   *scripts[3];

	FmCatalogScripts(m, scripts);
	return scripts[kind];
}

/*
 * FmCheckScriptChecksum
 *		ERROR unless "script", the "what" script (up, verify) of migration
 *		"version name" as stored in the catalog, has "checksum", the checksum
 *		register() recorded for it: someone changed the catalog by hand.
 */
void
FmCheckScriptChecksum(const char *version, const char *name, const char *what,
					  const char *script, const char *checksum)
{
	if (same_checksum(FmScriptChecksum(script), checksum))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the %s script of %s does not match its registered checksum",
					what, FmMigrationLabel(version, name)),
			 errdetail("The script stored in fleetmigrate.migrations was changed without register(), which records a script's checksum. Nothing of it was run."),
			 errhint("Register the migration again with register() or register_bundle(), so that the text to run is checked and recorded.")));
}

/*
 * FmCatalogPlannedScripts
 *		The up, down and verify scripts of migration "m" of a run's plan
 *		(from FmCatalogPending()), as FmCatalogScripts() gives them, and,
 *		with "lock", its catalog row locked FOR UPDATE (a run whose
 *		transaction read the plan holds that lock already).  Returns false, and sets no
 *		script, if the migration is no longer what the run checked: gone,
 *		no longer pending, registered again with another up or verify
 *		script, or with other flags, parameters or tolerated errors.
 *		ERRORs if a stored up or verify script does not match the checksum
 *		recorded when it was registered (the catalog was edited by hand).
 */
bool
FmCatalogPlannedScripts(const FmMigration *m, bool lock, char *scripts[3])
{
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	tuple;
	TupleDesc	desc;
	char	   *checksum;
	char	   *verify_checksum;

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = m->checksum ? CStringGetTextDatum(m->checksum) : (Datum) 0;
	nulls[2] = m->checksum ? ' ' : 'n';
	values[3] = m->verify_checksum ? CStringGetTextDatum(m->verify_checksum) : (Datum) 0;
	nulls[3] = m->verify_checksum ? ' ' : 'n';
	values[4] = BoolGetDatum(m->transactional);
	values[5] = BoolGetDatum(m->repeatable);
	values[6] = BoolGetDatum(m->allow_destructive);
	values[7] = text_array(m->params);
	values[8] = text_array(m->tolerate);
	if (execute_statement(lock ? STMT_PLANNED_SCRIPTS_LOCK : STMT_PLANNED_SCRIPTS,
						  values, nulls, SPI_OK_SELECT) == 0)
		return false;

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	for (int i = 0; i < 3; i++)
		scripts[i] = nullable_text(tuple, desc, i + 1);
	checksum = nullable_text(tuple, desc, 4);
	verify_checksum = nullable_text(tuple, desc, 5);
	SPI_freetuptable(SPI_tuptable);

	FmCheckScriptChecksum(m->version, m->name, "up", scripts[FM_SCRIPT_UP],
						  checksum);
	FmCheckScriptChecksum(m->version, m->name, "verify",
						  scripts[FM_SCRIPT_VERIFY], verify_checksum);
	return true;
}

/*
 * FmCatalogRecordApplied
 *		Mark a migration applied and append the "applied" event, in the
 *		current (sub)transaction.  The applied checksum is m->checksum, the
 *		checksum of the up script the run checked and ran
 *		(FmCatalogPlannedScripts()), whatever was registered since.
 *		"params" is the JSON text of its parameters (NULL: none), "script"
 *		the up text that ran, kept in the event because register() may
 *		replace the catalog's, and "tolerated" the JSON array of the errors
 *		it tolerated (NULL: none).
 */
void
FmCatalogRecordApplied(const FmMigration *m, TimestampTz started,
					   double duration_ms, const char *applied_by,
					   const char *consent, const char *params,
					   const char *script, const char *tolerated)
{
	Datum		values[11];
	char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = TimestampTzGetDatum(started);
	values[3] = CStringGetTextDatum(applied_by);
	values[4] = Float8GetDatum(duration_ms);
	values[5] = BoolGetDatum(m->out_of_order);
	values[6] = params ? CStringGetTextDatum(params) : (Datum) 0;
	nulls[6] = params ? ' ' : 'n';
	values[7] = consent ? CStringGetTextDatum(consent) : (Datum) 0;
	nulls[7] = consent ? ' ' : 'n';
	Assert(m->checksum != NULL);
	values[8] = CStringGetTextDatum(m->checksum);
	values[9] = script ? CStringGetTextDatum(script) : (Datum) 0;
	nulls[9] = script ? ' ' : 'n';
	values[10] = tolerated ? CStringGetTextDatum(tolerated) : (Datum) 0;
	nulls[10] = tolerated ? ' ' : 'n';
	if (execute_statement(catalog_keeps_text ? STMT_RECORD_APPLIED_TEXT :
						  STMT_RECORD_APPLIED, values, nulls, SPI_OK_INSERT) != 1)
		elog(ERROR, "could not record migration %s %s as applied",
			 m->version, m->name);
}

/*
 * FmCatalogProgressRead
 *		The up script, checksum and progress of a migration that is still to
 *		be applied, palloc'd in the current context.  ERRORs if it is no
 *		longer pending (another run applied it).
 */
void
FmCatalogProgressRead(const FmMigration *m, FmProgress *progress)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[2];
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	if (execute_statement(STMT_PROGRESS_READ, values, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is no longer pending",
						FmMigrationLabel(m->version, m->name))));
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(cxt);
	progress->up = nullable_text(tuple, desc, 1);
	progress->checksum = nullable_text(tuple, desc, 2);
	progress->done = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
	progress->started = DatumGetInt32(SPI_getbinval(tuple, desc, 4, &isnull));
	if (isnull)
		progress->started = 0;
	SPI_freetuptable(SPI_tuptable);
}

/*
 * FmCatalogProgressWrite
 *		Record progress->done and progress->started (0: none) in the current
 *		transaction.  ERRORs if the migration was re-registered with another
 *		script since FmCatalogProgressRead() or applied by someone else.
 */
void
FmCatalogProgressWrite(const FmMigration *m, const FmProgress *progress)
{
	Datum		values[5];
	char		nulls[5] = "     ";

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = Int32GetDatum(progress->done);
	values[3] = Int32GetDatum(progress->started);
	values[4] = CStringGetTextDatum(progress->checksum);
	if (progress->started <= 0)
		nulls[3] = 'n';
	if (execute_statement(STMT_PROGRESS_WRITE, values, nulls, SPI_OK_UPDATE) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s changed while it was running",
						FmMigrationLabel(m->version, m->name)),
				 errdetail("It was registered again with another up script, or applied by another run."),
				 errhint("Run CALL fleetmigrate.migrate() again: it continues with the script registered now.")));
}

/*
 * FmCatalogLockHolder
 *		The process holding the runner lock, or 0 if it is gone by now.
 */
int
FmCatalogLockHolder(void)
{
	Datum		values[2];
	int			result = 0;

	values[0] = ObjectIdGetDatum(FM_LOCK_CLASSID);
	values[1] = ObjectIdGetDatum(FM_LOCK_OBJID);
	if (execute_statement(STMT_LOCK_HOLDER, values, NULL, SPI_OK_SELECT) == 1)
	{
		bool		isnull;
		Datum		pid = SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetInt32(pid);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogRecordFailed
 *		Mark a migration failed and add a 'failed' event with the error and
 *		where it happened (statement and line; 0: none).
 */
void
FmCatalogRecordFailed(const FmMigration *m, TimestampTz started,
					  double duration_ms, const char *performed_by,
					  int sqlerrcode, const char *error,
					  int statement, int line)
{
	Datum		values[9];
	char		nulls[9] = "         ";

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = TimestampTzGetDatum(started);
	values[3] = CStringGetTextDatum(performed_by);
	values[4] = Float8GetDatum(duration_ms);
	values[5] = CStringGetTextDatum(unpack_sql_state(sqlerrcode));
	values[6] = CStringGetTextDatum(error);
	values[7] = Int32GetDatum(statement);
	values[8] = Int32GetDatum(line);
	if (statement <= 0)
		nulls[7] = nulls[8] = 'n';
	/* the text that failed is the one registered: the run checked it */
	if (execute_statement(catalog_keeps_text ? STMT_RECORD_FAILED_TEXT :
						  STMT_RECORD_FAILED, values, nulls, SPI_OK_INSERT) != 1)
		elog(ERROR, "could not record migration %s %s as failed",
			 m->version, m->name);
}

/*
 * FmCatalogRunStart
 *		Add a run to the run log; returns its id.
 */
int64
FmCatalogRunStart(const char *run_by, const char *started_by,
				  const char *target)
{
	Datum		values[3];
	char		nulls[3] = "   ";
	bool		isnull;

	values[0] = CStringGetTextDatum(run_by);
	values[1] = CStringGetTextDatum(started_by);
	values[2] = target ? CStringGetTextDatum(target) : (Datum) 0;
	if (target == NULL)
		nulls[2] = 'n';
	if (execute_statement(STMT_RUN_START, values, nulls,
						  SPI_OK_INSERT_RETURNING) != 1)
		elog(ERROR, "could not add a run to fleetmigrate.run_log");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * FmCatalogRunProgress
 *		The number of migrations a run has applied so far.
 */
void
FmCatalogRunProgress(int64 run_id, int applied)
{
	Datum		values[2];

	values[0] = Int64GetDatum(run_id);
	values[1] = Int32GetDatum(applied);
	execute_statement(STMT_RUN_PROGRESS, values, NULL, SPI_OK_UPDATE);
}

/*
 * FmCatalogRunFinish
 *		The end of a run: its outcome, and for a failure which migration and
 *		what error (NULLs otherwise).
 */
void
FmCatalogRunFinish(int64 run_id, const char *outcome, int applied,
				   const FmMigration *failed, int sqlerrcode, const char *error)
{
	Datum		values[7];
	char		nulls[7] = "       ";

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(outcome);
	values[2] = Int32GetDatum(applied);
	if (failed != NULL)
	{
		values[3] = CStringGetTextDatum(failed->version);
		values[4] = CStringGetTextDatum(failed->name);
	}
	else
		nulls[3] = nulls[4] = 'n';
	if (error != NULL)
	{
		values[5] = CStringGetTextDatum(unpack_sql_state(sqlerrcode));
		values[6] = CStringGetTextDatum(error);
	}
	else
		nulls[5] = nulls[6] = 'n';
	execute_statement(STMT_RUN_FINISH, values, nulls, SPI_OK_UPDATE);
}

/*
 * FmCatalogDefinitions
 *		Every registered migration, in apply order, as FmDefinitions
 *		palloc'd in the current context.
 */
List *
FmCatalogDefinitions(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;

	execute_statement(catalog_keeps_text ? STMT_DEFINITIONS_RAN :
					  STMT_DEFINITIONS, NULL, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmDefinition *def = palloc0(sizeof(FmDefinition));
		bool		isnull;

		def->version = nullable_text(tuple, desc, 1);
		def->name = nullable_text(tuple, desc, 2);
		def->up = nullable_text(tuple, desc, 3);
		def->down = nullable_text(tuple, desc, 4);
		def->verify = nullable_text(tuple, desc, 5);
		def->requires = text_array_items(SPI_getbinval(tuple, desc, 6, &isnull));
		def->conflicts = text_array_items(SPI_getbinval(tuple, desc, 7, &isnull));
		def->params = text_array_items(SPI_getbinval(tuple, desc, 8, &isnull));
		def->repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 9, &isnull));
		def->allow_destructive = DatumGetBool(SPI_getbinval(tuple, desc, 10, &isnull));
		def->tolerate = text_array_items(SPI_getbinval(tuple, desc, 11, &isnull));
		if (desc->natts >= 12)
			def->ran = nullable_text(tuple, desc, 12);
		result = lappend(result, def);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogCheckRequirements
 *		ERROR if a requirement of one of "definitions" (just registered)
 *		names no registered migration.  Conflicts may name anything: the
 *		migration they guard against may never come.
 */
void
FmCatalogCheckRequirements(List *definitions)
{
	List	   *versions = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	Datum		values[2];

	foreach(lc, definitions)
	{
		FmDefinition *def = lfirst(lc);

		if (def->requires == NIL)
			continue;
		versions = lappend(versions, def->version);
		names = lappend(names, def->name);
	}
	if (versions == NIL)
		return;
	values[0] = text_array(versions);
	values[1] = text_array(names);
	if (execute_statement(STMT_UNREGISTERED_REQUIREMENT, values, NULL,
						  SPI_OK_SELECT) == 1)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s requires \"%s\", which is not registered",
						FmMigrationLabel(nullable_text(tuple, desc, 1),
										 nullable_text(tuple, desc, 2)),
						nullable_text(tuple, desc, 3)),
				 errhint("Register the required migration first, or both in one bundle. A requirement is a version, as in '001', or a version and a name, as in '001 create_users'.")));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * fleetmigrate.validate()
 *		RETURNS TABLE(version text, name text, problem text, detail text)
 */
PG_FUNCTION_INFO_V1(fleetmigrate_validate);

Datum
fleetmigrate_validate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	execute_statement(STMT_VALIDATE, NULL, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[4];
		bool		nulls[4];

		for (int col = 0; col < 4; col++)
			values[col] = SPI_getbinval(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, col + 1,
										&nulls[col]);
		/* tuplestore_putvalues copies the values */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * FmCatalogRepairScripts
 *		Whether migration "version" "name" is in effect with a registered up
 *		script that differs from the one that ran, which repair() would
 *		accept; if so its up and verify (NULL: none) scripts, the row locked
 *		(FOR UPDATE) to the end of the transaction.  Allocated in the
 *		current memory context.
 */
bool
FmCatalogRepairScripts(const char *version, const char *name, char **up,
					   char **verify)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[2];

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	if (execute_statement(STMT_REPAIR_UP, values, NULL, SPI_OK_SELECT) != 1)
		return false;
	MemoryContextSwitchTo(cxt);
	*up = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*verify = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * FmCatalogRepair
 *		Accept the registered up script of applied migration "version"
 *		"name" as what ran: its applied checksum becomes the registered one,
 *		with a 'repaired' event by "by" for "reason".  Returns false when
 *		there was nothing to accept; ERRORs if it is not registered or not
 *		in effect.
 */
bool
FmCatalogRepair(const char *version, const char *name, const char *by,
				const char *reason)
{
	Datum		values[4];
	char	   *state = NULL;

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(by);
	values[3] = CStringGetTextDatum(reason);
	if (execute_statement(STMT_REPAIR, values, NULL, SPI_OK_INSERT) > 0)
		return true;

	if (execute_statement(STMT_STATE, values, NULL, SPI_OK_SELECT) == 1)
		state = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s is not registered", FmMigrationLabel(version, name)),
				 errhint("See SELECT version, name FROM fleetmigrate.status for the registered migrations.")));
	if (strcmp(state, "applied") != 0 && strcmp(state, "baseline") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s has not been applied", FmMigrationLabel(version, name)),
				 errdetail("Its state is \"%s\". repair() is for applied migrations whose registered up script differs from the one that ran.",
						   state),
				 errhint("A migration that has not been applied takes a new script with register().")));
	return false;
}

/*
 * FmCatalogPlanProblems
 *		The requirements and conflicts that "plan" (FmMigration *, in the
 *		order they would run) breaks: a requirement neither in effect nor
 *		earlier in the plan (or not registered at all), a conflict in effect
 *		or in the plan.  Returns a list of FmPlanProblem in plan order,
 *		allocated in the current memory context; NIL when there is none.
 */
List *
FmCatalogPlanProblems(List *plan)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *versions = NIL;
	List	   *names = NIL;
	List	   *result = NIL;
	Datum		values[2];
	ListCell   *lc;

	if (plan == NIL)
		return NIL;
	foreach(lc, plan)
	{
		FmMigration *m = (FmMigration *) lfirst(lc);

		versions = lappend(versions, m->version);
		names = lappend(names, m->name);
	}
	values[0] = text_array(versions);
	values[1] = text_array(names);
	execute_statement(STMT_PLAN_PROBLEMS, values, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmPlanProblem *p = palloc0(sizeof(FmPlanProblem));
		bool		isnull;

		p->version = nullable_text(tuple, desc, 1);
		p->name = nullable_text(tuple, desc, 2);
		p->conflict = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull)) == 2;
		p->ref = nullable_text(tuple, desc, 4);
		p->other_version = nullable_text(tuple, desc, 5);
		p->other_name = nullable_text(tuple, desc, 6);
		if (p->other_version != NULL)
		{
			p->other_in_effect = DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull));
			p->other_planned = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
			p->other_repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 9, &isnull));
		}
		result = lappend(result, p);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogMentioning
 *		Every registered migration whose up script contains "word" (case
 *		folded), in apply order, with its script: the candidates a caller
 *		then checks with the parser.  Allocated in the current context.
 */
List *
FmCatalogMentioning(const char *word)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[1];
	List	   *result = NIL;

	values[0] = CStringGetTextDatum(word);
	execute_statement(STMT_MENTIONING, values, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmScript   *script = palloc0(sizeof(FmScript));
		bool		isnull;

		script->m.version = nullable_text(tuple, desc, 1);
		script->m.name = nullable_text(tuple, desc, 2);
		script->script = nullable_text(tuple, desc, 3);
		script->in_effect = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		script->m.repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
		script->m.sort_key = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, 6, &isnull));
		result = lappend(result, script);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * scripts_of
 *		The rows of the last catalog statement (version, name, script,
 *		sort_key[, repeatable]) as a list of FmScript in the current
 *		context.
 */
static List *
scripts_of(void)
{
	List	   *result = NIL;
	TupleDesc	desc = SPI_tuptable->tupdesc;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		FmScript   *script = palloc0(sizeof(FmScript));
		bool		isnull;

		script->m.version = nullable_text(tuple, desc, 1);
		script->m.name = nullable_text(tuple, desc, 2);
		script->script = nullable_text(tuple, desc, 3);
		script->m.sort_key = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, 4, &isnull));
		if (desc->natts >= 5)
			script->m.repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
		script->m.transactional = true;
		script->in_effect = true;
		result = lappend(result, script);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * target_key
 *		The version key of "version", which must match a registered
 *		migration ("what" names the argument for the message).
 */
static Datum
target_key(const char *version, const char *what)
{
	Datum		key = PointerGetDatum(FmVersionKey(version, strlen(version)));

	if (execute_statement(STMT_TARGET_KNOWN, &key, NULL, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s version \"%s\" is not registered", what, version),
				 errhint("See SELECT version, name FROM fleetmigrate.status for the registered versions.")));
	SPI_freetuptable(SPI_tuptable);
	return key;
}

/*
 * FmCatalogRollbackSet
 *		The applied versioned migrations rollback() would undo, newest
 *		first, each with its down script (NULL: none), rows locked: every one
 *		that sorts after "target" if it is not NULL (ERROR if it matches no
 *		registered version), else the last "steps".
 */
List *
FmCatalogRollbackSet(const char *target, int steps)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		value;

	if (target != NULL)
	{
		value = target_key(target, "rollback target");
		execute_statement(STMT_ROLLBACK_AFTER, &value, NULL, SPI_OK_SELECT);
	}
	else
	{
		value = Int32GetDatum(steps);
		execute_statement(STMT_ROLLBACK_LAST, &value, NULL, SPI_OK_SELECT);
	}
	MemoryContextSwitchTo(cxt);
	return scripts_of();
}

/*
 * FmCatalogRecordRolledBack
 *		Migration "m" was rolled back: it is pending again ('rolled_back'),
 *		and a 'rolled_back' event records who, when, how long and why.
 */
void
FmCatalogRecordRolledBack(const FmMigration *m, TimestampTz started,
						  double duration_ms, const char *by, int statements,
						  const char *reason)
{
	Datum		values[7];

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = TimestampTzGetDatum(started);
	values[3] = Float8GetDatum(duration_ms);
	values[4] = CStringGetTextDatum(by);
	values[5] = Int32GetDatum(statements);
	values[6] = CStringGetTextDatum(reason);
	if (execute_statement(STMT_RECORD_ROLLED_BACK, values, NULL, SPI_OK_INSERT) != 1)
		elog(ERROR, "could not record migration %s %s as rolled back",
			 m->version, m->name);
}

/*
 * FmCatalogVerifiable
 *		The applied (or baselined) migrations, all or those of "version"
 *		(ERROR if it matches no registered version), in apply order, each
 *		with its verify script (NULL: none).
 */
List *
FmCatalogVerifiable(const char *version)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		value = (Datum) 0;
	char		nulls[1] = {'n'};

	if (version != NULL)
	{
		value = target_key(version, "migration");
		nulls[0] = ' ';
	}
	execute_statement(STMT_VERIFIABLE, &value, nulls, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	return scripts_of();
}

/*
 * FmCatalogTableFiles
 *		The relfilenode of every user table and materialized view, as an
 *		array of FmRelFile sorted by relation OID; sets *n.
 */
FmRelFile *
FmCatalogTableFiles(int *n)
{
	MemoryContext cxt = CurrentMemoryContext;
	FmRelFile  *files;

	execute_statement(STMT_TABLE_FILES, NULL, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	*n = (int) SPI_processed;
	files = palloc(sizeof(FmRelFile) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		files[i].relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 1, &isnull));
		files[i].filenode = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	return files;
}

/*
 * FmCatalogMyRelationLocks
 *		The relation locks this backend holds in this database on relations
 *		that are not the system's, as (relation, modes held), one entry per
 *		lock-manager entry (a relation may have two); sets *n.  Read from the
 *		lock manager (GetLockStatusData()), without a query and without
 *		looking the relations up: a dry run asks after every migration and
 *		looks up only the relations whose modes are new
 *		(FmCatalogUserTable()).  Allocated in the current memory context.
 */
FmRelLock *
FmCatalogMyRelationLocks(int *n)
{
	LockData   *data = GetLockStatusData();
	FmRelLock  *result = palloc(sizeof(FmRelLock) * (data->nelements + 1));

	*n = 0;
	for (int i = 0; i < data->nelements; i++)
	{
		const LockInstanceData *instance = &data->locks[i];
		const LOCKTAG *tag = &instance->locktag;

		if (instance->pid != MyProcPid || instance->holdMask == 0 ||
			tag->locktag_type != LOCKTAG_RELATION ||
			tag->locktag_lockmethodid != DEFAULT_LOCKMETHOD ||
			tag->locktag_field1 != MyDatabaseId ||
			(Oid) tag->locktag_field2 < FirstNormalObjectId)
			continue;
		result[*n].relid = (Oid) tag->locktag_field2;
		result[*n].modes = instance->holdMask;
		(*n)++;
	}
	return result;
}

/*
 * FmCatalogUserTable
 *		Whether "relid" is a user table or materialized view (not one of
 *		fleetmigrate's own); if so, sets *name to its schema-qualified name
 *		(as regclass prints it with search_path pg_catalog, pg_temp) and
 *		*filenode to its file now.  A relation dropped in this transaction
 *		is not.  Takes no lock.
 */
bool
FmCatalogUserTable(Oid relid, char **name, Oid *filenode)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		result;

	if (!HeapTupleIsValid(tuple))
		return false;
	form = (Form_pg_class) GETSTRUCT(tuple);
	result = (form->relkind == RELKIND_RELATION ||
			  form->relkind == RELKIND_MATVIEW) &&
		form->relnamespace != get_namespace_oid("fleetmigrate", true);
	if (result)
	{
		*name = isTempNamespace(form->relnamespace) ?
			pstrdup(quote_identifier(NameStr(form->relname))) :
			quote_qualified_identifier(get_namespace_name(form->relnamespace),
									   NameStr(form->relname));
		*filenode = form->relfilenode;
	}
	ReleaseSysCache(tuple);
	return result;
}

/*
 * FmCatalogSchema
 *		The user schema as sorted text lines (schemas, relations, columns,
 *		indexes, constraints, triggers, policies, functions, enum and domain
 *		types; view and function bodies as MD5), names schema-qualified:
 *		two snapshots compare equal when the schema is the same.
 */
List *
FmCatalogSchema(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;

	execute_statement(STMT_SCHEMA, NULL, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
		result = lappend(result, nullable_text(SPI_tuptable->vals[i],
											   SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogAdoptable
 *		The registered migrations a baseline or an import may take, in apply
 *		order, locked (FOR UPDATE) until the end of the transaction:
 *		FM_ADOPT_REF those a reference "version" or "version name" matches,
 *		FM_ADOPT_UPTO those up to version "arg", FM_ADOPT_VERSION those of
 *		version "arg" (leading zeros aside), FM_ADOPT_NAME those named "arg"
 *		(case, "-" and " " against "_" aside).  Each with its state, up and
 *		verify scripts.  Allocated in the current memory context.
 */
List *
FmCatalogAdoptable(FmAdoptWhich which, const char *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	static const CatalogStatement ids[] = {
		[FM_ADOPT_REF] = STMT_ADOPT_REF,
		[FM_ADOPT_UPTO] = STMT_ADOPT_UPTO,
		[FM_ADOPT_VERSION] = STMT_ADOPT_VERSION,
		[FM_ADOPT_NAME] = STMT_ADOPT_NAME,
	};
	Datum		values[1];
	List	   *result = NIL;

	if (which == FM_ADOPT_UPTO)
		values[0] = PointerGetDatum(FmVersionKey(arg, strlen(arg)));
	else
		values[0] = CStringGetTextDatum(arg);
	execute_statement(ids[which], values, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		FmAdoptable *a = palloc0(sizeof(FmAdoptable));
		bool		isnull;

		a->m.version = nullable_text(tuple, desc, 1);
		a->m.name = nullable_text(tuple, desc, 2);
		a->state = nullable_text(tuple, desc, 3);
		a->up = nullable_text(tuple, desc, 4);
		a->verify = nullable_text(tuple, desc, 5);
		a->m.sort_key = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, 6, &isnull));
		a->m.repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull));
		a->in_effect = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
		a->m.transactional = true;
		result = lappend(result, a);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogMarkAdopted
 *		Mark migration "m" as in effect without running it (state
 *		'baseline'), with an "event" event ('baseline' or 'imported') by
 *		"by" for "reason" (NULL: none).  Returns false, changing nothing, if
 *		it is in effect already.
 */
bool
FmCatalogMarkAdopted(const FmMigration *m, const char *by, const char *reason,
					 const char *event)
{
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = CStringGetTextDatum(by);
	values[3] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[3] = reason ? ' ' : 'n';
	values[4] = CStringGetTextDatum(event);
	return execute_statement(STMT_ADOPT_MARK, values, nulls, SPI_OK_INSERT) == 1;
}

/*
 * FmCatalogUnbaseline
 *		Undo the baseline of "version name": pending again, its applied
 *		checksum, time and user cleared, an 'unbaselined' event by "by" for
 *		"reason".  Returns false, changing nothing, if it is not baselined.
 */
bool
FmCatalogUnbaseline(const char *version, const char *name, const char *by,
					const char *reason)
{
	Datum		values[4];

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(by);
	values[3] = CStringGetTextDatum(reason);
	return execute_statement(STMT_UNBASELINE, values, NULL, SPI_OK_INSERT) == 1;
}

/*
 * FmCatalogState
 *		The state of "version name"; NULL if it is not registered.
 */
char *
FmCatalogState(const char *version, const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[2];
	char	   *state = NULL;

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	if (execute_statement(STMT_STATE, values, NULL, SPI_OK_SELECT) == 1)
	{
		MemoryContextSwitchTo(cxt);
		state = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	}
	return state;
}

/*
 * FmCatalogDependents
 *		The migrations in effect that require "version name" (by version, or
 *		by version and name), as "version name" strings in apply order.
 */
List *
FmCatalogDependents(const char *version, const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[2];
	List	   *result = NIL;

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	execute_statement(STMT_DEPENDENTS, values, NULL, SPI_OK_SELECT);
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
		result = lappend(result,
						 psprintf("%s %s",
								  nullable_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
								  nullable_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)));
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/* ---- history that tells the truth (1.9) ---------------------------------- */

/*
 * store_lint
 *		Store the most severe lint finding of def's up script ("error",
 *		"warning", "info" or "ok") in its catalog row, which
 *		FmRegisterDefinition() has just written: the views
 *		fleetmigrate.status and summary read it instead of linting on
 *		every read.
 *		Lint looks at the database as it is now, so the value is the
 *		finding at registration, until a run lints it again
 *		(FmCatalogStoreLint(), called after a run).
 */
static void
store_lint(const FmDefinition *def)
{
	if (!catalog_keeps_text)
		return;					/* a catalog older than 1.9 has no lint column */
	if (!FmCatalogStoreLint(def->version, def->name, NULL,
							FmLint(def->up, psprintf("up script of %s",
													 FmMigrationLabel(def->version, def->name)))))
		elog(ERROR, "could not store the lint finding of %s",
			 FmMigrationLabel(def->version, def->name));
}

/*
 * fleetmigrate.unregister(version text, name text, reason text DEFAULT NULL)
 *		RETURNS text
 *
 * Remove a migration that never ran from the catalog and record an
 * 'unregistered' event: one that is pending, failed (its transaction was
 * rolled back) or rolled back (its down script undid it).  Refused with
 * 55000 for one whose effect is in the database (applied, baselined, a
 * repeatable one applied before its text changed) or that ran statements
 * outside a transaction (statements_done or statement_started), and with
 * 2BP01 when another registered migration requires it and nothing else
 * meets that requirement.  The row is locked FOR UPDATE first, so a run
 * that has it in its plan finishes before the checks.
 */
PG_FUNCTION_INFO_V1(fleetmigrate_unregister);

Datum
fleetmigrate_unregister(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *name;
	char	   *label;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	HeapTuple	tuple;
	TupleDesc	desc;
	char	   *state;
	int			done;
	int			started;
	bool		in_effect;
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be null", PG_ARGISNULL(0) ? "version" : "name"),
				 errhint("Name the migration by its version and name, as fleetmigrate.status lists them.")));
	FmRunRefuseNested("unregister()");
	FmRefuseOnStandby("unregister()");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	label = FmMigrationLabel(version, name);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	if (execute_statement(STMT_UNREGISTER_ROW, values, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s is not registered", label),
				 errhint("fleetmigrate.status lists the registered migrations, with their versions and names as they must be written.")));
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	state = nullable_text(tuple, desc, 1);
	done = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));
	started = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
	if (isnull)
		started = 0;
	in_effect = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));

	if (strcmp(state, "baseline") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister %s: it is baselined", label),
				 errdetail("A baselined migration is recorded as being in effect in this database; unregister() removes only a migration that never ran."),
				 errhint("Undo the baseline first with fleetmigrate.unbaseline('%s', '%s', reason => '...'), then unregister it.",
						 version, name)));
	if (in_effect)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister %s: it has been applied", label),
				 errdetail("Its effects are in the database and the history records the run; unregister() removes only a migration that never ran."),
				 errhint("Roll it back first with fleetmigrate.rollback() if it has a down script, or keep it registered and put further changes in a new migration.")));
	if (done > 0 || started > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister %s: it has run %d of its statements outside a transaction",
						label, Max(done, started)),
				 errdetail("Statements that ran outside a transaction were not undone, so part of the migration is in the database."),
				 errhint("Let CALL fleetmigrate.migrate() finish it, then roll it back if it is not wanted.")));
	SPI_freetuptable(SPI_tuptable);
	/* batched backfills (issue 20): committed batches stay in the database */
	if (FmCatalogBatchesKept())
	{
		FmMigration bm;
		FmBatchState bs;

		memset(&bm, 0, sizeof(bm));
		bm.version = version;
		bm.name = name;
		if (FmCatalogBatchRead(&bm, &bs) && !bs.finished && bs.batches > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot unregister %s: %d of its batches have committed",
							label, bs.batches),
					 errdetail("They changed %lld rows of table %s, up to key %s, and nothing undid them.",
							   (long long) bs.rows_changed, bs.relation,
							   bs.last_key ? bs.last_key : "(none)"),
					 errhint("Let CALL fleetmigrate.migrate() finish it, then roll it back if it is not wanted.")));
	}

	if (execute_statement(STMT_UNREGISTER_REQUIRED, values, NULL, SPI_OK_SELECT) == 1)
	{
		char	   *rversion = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *rname = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		char	   *ref = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot unregister %s: %s requires it", label,
						FmMigrationLabel(rversion, rname)),
				 errdetail("Its requirement \"%s\" would name no registered migration.", ref),
				 errhint("Unregister migration \"%s %s\" first, or register it again without that requirement.",
						 rversion, rname)));
	}
	SPI_freetuptable(SPI_tuptable);

	values[2] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (PG_ARGISNULL(2))
	{
		values[3] = (Datum) 0;
		nulls[3] = 'n';
	}
	else
		values[3] = PointerGetDatum(PG_GETARG_TEXT_PP(2));
	if (execute_statement(STMT_UNREGISTER, values, nulls, SPI_OK_INSERT) != 1)
		elog(ERROR, "could not unregister %s", label);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text("unregistered"));
}

/* ---- consent scoped to data (issue 19): what destructive statements removed ---- */

/*
 * execute_as_owner
 *		Run one fixed statement, with nulls-free arguments, on the catalog as
 *		its owner (as execute_statement() does), expecting "expected";
 *		returns the number of rows processed.  For the statements of the
 *		destroyed data and the run log below, which run rarely and are not
 *		kept prepared.
 */
static uint64
execute_as_owner(const char *sql, int nargs, Oid *argtypes, Datum *values,
				 int expected)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	FmRoleSwitch sw;
	int			rc;

	Assert(OidIsValid(catalog_owner));
	FmBeginAsRole(catalog_owner, &sw);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0);
	FmEndAsRole(&sw);
	MemoryContextSwitchTo(oldcxt);
	if (rc != expected)
		elog(ERROR, "catalog statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * FmCatalogRecordDestroyed
 *		Add "destroyed", the JSON array of what migration "m"'s destructive
 *		statements removed (consent.c), to its "applied" event just
 *		recorded (FmCatalogRecordApplied()), in the current transaction.
 */
void
FmCatalogRecordDestroyed(const FmMigration *m, const char *destroyed)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = CStringGetTextDatum(destroyed);
	(void) execute_as_owner("UPDATE fleetmigrate.events"
					  "   SET destroyed = $3::pg_catalog.jsonb"
					  " WHERE id OPERATOR(pg_catalog.=) ("
					  "       SELECT pg_catalog.max(e.id) FROM fleetmigrate.events e"
					  "        WHERE e.version OPERATOR(pg_catalog.=) $1"
					  "          AND e.name OPERATOR(pg_catalog.=) $2"
					  "          AND e.event OPERATOR(pg_catalog.=) 'applied')",
					  3, argtypes, values, SPI_OK_UPDATE);
}

/*
 * FmCatalogRunDestroyed
 *		Append "destroyed", a JSON array of what a migration of run
 *		"run_id" removed (with its version and name), to the run's record.
 */
void
FmCatalogRunDestroyed(int64 run_id, const char *destroyed)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(destroyed);
	(void) execute_as_owner("UPDATE fleetmigrate.run_log"
					  "   SET destroyed = COALESCE(destroyed, '[]'::pg_catalog.jsonb)"
					  "       OPERATOR(pg_catalog.||) $2::pg_catalog.jsonb"
					  " WHERE id OPERATOR(pg_catalog.=) $1",
					  2, argtypes, values, SPI_OK_UPDATE);
}

/* ---- unattended runs that keep moving (issue 19): a bounded run log ---- */

/*
 * FmCatalogRunLogSummarizes
 *		Whether this database's run log can summarize runs (run_count and
 *		last_run_at, outcome 'blocked': a catalog of 1.9 or later).  Call
 *		after FmCatalogBegin().
 */
bool
FmCatalogRunLogSummarizes(void)
{
	return run_log_has("run_count");
}

/* Whether this database's run log has "column" (its catalog's version). */
static bool
run_log_has(const char *column)
{
	Oid			nsp = get_namespace_oid("fleetmigrate", true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid("run_log", nsp) : InvalidOid;

	return OidIsValid(rel) && get_attnum(rel, column) != InvalidAttrNumber;
}

/*
 * FmCatalogRunPrune
 *		Delete the run log's records of runs that ended (or were
 *		interrupted) more than "seconds" ago, counting from the last run a
 *		summarized record stands for; never run "run_id", never a run that
 *		is still going.  The history (fleetmigrate.events) is not touched.
 *		Returns the number of records deleted.
 */
uint64
FmCatalogRunPrune(int64 run_id, int seconds)
{
	Oid			argtypes[2] = {INT8OID, FLOAT8OID};
	Datum		values[2];

	values[0] = Int64GetDatum(run_id);
	values[1] = Float8GetDatum((double) seconds);
	return execute_as_owner("DELETE FROM fleetmigrate.run_log d"
						   " USING fleetmigrate.runs r"
						   " WHERE r.id OPERATOR(pg_catalog.=) d.id"
						   "   AND d.id OPERATOR(pg_catalog.<>) $1"
						   "   AND r.outcome OPERATOR(pg_catalog.<>) 'running'"
						   "   AND COALESCE(r.last_run_at, r.finished_at, r.started_at)"
						   "       OPERATOR(pg_catalog.<) (pg_catalog.now()"
						   "       OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $2))",
						   2, argtypes, values, SPI_OK_DELETE);
}

/*
 * FmCatalogRunSummarize
 *		Run "run_id" has finished having applied nothing, with nothing
 *		pending or blocked.  If the run log's latest record before it
 *		says the same (same outcome, role, way of starting and target; for
 *		'blocked' the same migration blocked with the same SQLSTATE and
 *		message), that record stands for this run too: its run_count goes
 *		up, its last_run_at and error become this run's, and this run's own
 *		record is deleted.  Returns the id of the record that stands for
 *		the run: the earlier one, or "run_id".
 */
int64
FmCatalogRunSummarize(int64 run_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;

	values[0] = Int64GetDatum(run_id);
	if (execute_as_owner("WITH cur AS ("
						"  SELECT c.* FROM fleetmigrate.run_log c"
						"   WHERE c.id OPERATOR(pg_catalog.=) $1"
						"     AND c.applied OPERATOR(pg_catalog.=) 0"
						"     AND c.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['nothing_pending', 'blocked'])),"
						" prev AS ("
						"  SELECT p.id FROM fleetmigrate.run_log p, cur"
						"   WHERE p.id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(q.id)"
						"                        FROM fleetmigrate.run_log q"
						"                       WHERE q.id OPERATOR(pg_catalog.<) cur.id)"
						"     AND p.outcome OPERATOR(pg_catalog.=) cur.outcome"
						"     AND p.run_by OPERATOR(pg_catalog.=) cur.run_by"
						"     AND p.started_by OPERATOR(pg_catalog.=) cur.started_by"
						"     AND p.target IS NOT DISTINCT FROM cur.target"
						"     AND p.failed_version IS NOT DISTINCT FROM cur.failed_version"
						"     AND p.failed_name IS NOT DISTINCT FROM cur.failed_name"
						"     AND p.sqlstate IS NOT DISTINCT FROM cur.sqlstate"
						"     AND pg_catalog.split_part(p.error, E'\\n', 1)"
						"         IS NOT DISTINCT FROM pg_catalog.split_part(cur.error, E'\\n', 1)"
						"     FOR UPDATE OF p),"
						" merged AS ("
						"  UPDATE fleetmigrate.run_log r"
						"     SET run_count = r.run_count OPERATOR(pg_catalog.+) 1,"
						"         last_run_at = cur.finished_at,"
						"         error = cur.error"
						"    FROM prev, cur"
						"   WHERE r.id OPERATOR(pg_catalog.=) prev.id"
						"  RETURNING r.id),"
						" gone AS ("
						"  DELETE FROM fleetmigrate.run_log g USING merged"
						"   WHERE g.id OPERATOR(pg_catalog.=) $1"
						"  RETURNING g.id)"
						" SELECT merged.id FROM merged, gone",
						1, argtypes, values, SPI_OK_SELECT) != 1)
		return run_id;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* ---- a cheap status view (issue 20): stored lint, dated and refreshed ---- */

/*
 * FmCatalogStoreLint
 *		Store the most severe of "findings", FmLint() of the up script of
 *		migration "version name" with checksum "checksum" ("error",
 *		"warning", "info" or "ok"), in its catalog row, and on a catalog of
 *		1.10 or later the moment it was computed (linted_at).  The views
 *		status and summary read it instead of linting on every read.
 *		"checksum" NULL: the row FmRegisterDefinition() has just written;
 *		otherwise the row is written only if its up script still has that
 *		checksum (a register() since has stored the lint of its own text).
 *		Returns whether the row was written.  On a catalog older than 1.9,
 *		which has no lint column, does nothing and returns false.
 */
bool
FmCatalogStoreLint(const char *version, const char *name,
				   const char *checksum, List *findings)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			worst = -1;
	ListCell   *lc;

	if (!catalog_keeps_text)
		return false;
	foreach(lc, findings)
	{
		const FmFinding *f = lfirst(lc);

		worst = Max(worst, (int) f->severity);
	}
	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(worst < 0 ? "ok" :
									FmSeverityName((FmSeverity) worst));
	values[3] = checksum ? CStringGetTextDatum(checksum) : (Datum) 0;
	nulls[3] = checksum ? ' ' : 'n';
	/* a catalog of 1.9 has no linted_at yet */
	if (get_attnum(migrations_relid, "linted_at") == InvalidAttrNumber)
		return execute_statement(STMT_STORE_LINT, values, NULL, SPI_OK_UPDATE) == 1;

	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		MemoryContext oldcxt = CurrentMemoryContext;
		FmRoleSwitch sw;
		int			rc;

		FmBeginAsRole(catalog_owner, &sw);
		rc = SPI_execute_with_args("UPDATE fleetmigrate.migrations"
								   "   SET lint = $3,"
								   "       linted_at = pg_catalog.clock_timestamp()"
								   " WHERE version OPERATOR(pg_catalog.=) $1"
								   "   AND name OPERATOR(pg_catalog.=) $2"
								   "   AND ($4 IS NULL OR checksum OPERATOR(pg_catalog.=) $4)",
								   4, argtypes, values, nulls, false, 0);
		FmEndAsRole(&sw);
		MemoryContextSwitchTo(oldcxt);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "catalog statement failed: %s", SPI_result_code_string(rc));
	}
	return SPI_processed == 1;
}

/*
 * FmCatalogLintDue
 *		The migrations whose stored lint the views show (pending, failed or
 *		rolled back), in apply order, each an FmMigration with version, name
 *		and checksum set; "version" not NULL: only migration "version
 *		name", if it is one of them, as the calling statement has just
 *		left them (not read-only: the caller's own changes are seen).
 *		Allocated in the current memory context; NIL on a catalog older
 *		than 1.10, whose views do not read a refreshed finding.
 */
List *
FmCatalogLintDue(const char *version, const char *name)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	List	   *result = NIL;
	FmRoleSwitch sw;
	MemoryContext cxt = CurrentMemoryContext;
	int			rc;

	/* before 1.10 the views do not read a refreshed value: nothing is due */
	if (get_attnum(migrations_relid, "linted_at") == InvalidAttrNumber)
		return NIL;
	values[0] = version ? CStringGetTextDatum(version) : (Datum) 0;
	values[1] = name ? CStringGetTextDatum(name) : (Datum) 0;
	nulls[0] = version ? ' ' : 'n';
	nulls[1] = name ? ' ' : 'n';
	FmBeginAsRole(catalog_owner, &sw);
	rc = SPI_execute_with_args("SELECT version, name, checksum"
							   "  FROM fleetmigrate.migrations"
							   " WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back'])"
							   "   AND ($1 IS NULL OR (version OPERATOR(pg_catalog.=) $1"
							   "                       AND name OPERATOR(pg_catalog.=) $2))"
							   " ORDER BY repeatable, sort_key, version COLLATE \"C\", name COLLATE \"C\"",
							   2, argtypes, values, nulls, false, 0);
	FmEndAsRole(&sw);
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "catalog statement failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		FmMigration *m = palloc0(sizeof(FmMigration));

		m->version = nullable_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		m->name = nullable_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		m->checksum = nullable_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		result = lappend(result, m);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * FmCatalogUpScript
 *		The up script of migration "m" as registered now, if its checksum
 *		is still m->checksum; NULL otherwise (registered again, or gone).
 *		Allocated in the current memory context, which gets one copy of the
 *		text (SPI's copy of the row is freed).
 */
char *
FmCatalogUpScript(const FmMigration *m)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char	   *up = NULL;

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = CStringGetTextDatum(m->checksum);
	if (execute_as_owner("SELECT up FROM fleetmigrate.migrations"
						 " WHERE version OPERATOR(pg_catalog.=) $1"
						 "   AND name OPERATOR(pg_catalog.=) $2"
						 "   AND checksum OPERATOR(pg_catalog.=) $3",
						 3, argtypes, values, SPI_OK_SELECT) == 1)
		up = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return up;
}

/*
 * FmCatalogPendingUnlocked
 *		FmCatalogPending() without locking the rows, for plan(): it reads
 *		the plan a run would apply but runs nothing, so it must neither
 *		write (a row lock does) nor wait for a run, nor make one wait.
 */
List *
FmCatalogPendingUnlocked(const char *target, const FmMigration *last)
{
	return read_pending(STMT_PENDING_UNLOCKED, target, last);
}

/*
 * FmCatalogUpScriptIfAny
 *		The up script of migration "m", or NULL if it is no longer
 *		registered: plan() reads its plan without locking the rows, so a
 *		migration may be unregistered between the two reads.
 */
char *
FmCatalogUpScriptIfAny(const FmMigration *m)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		values[2];
	char	   *up = NULL;

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	if (execute_statement(STMT_SCRIPTS, values, NULL, SPI_OK_SELECT) == 1)
	{
		MemoryContextSwitchTo(cxt);
		up = nullable_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	}
	SPI_freetuptable(SPI_tuptable);
	return up;
}

/* ---- batched backfills (issue 20): how far a batched migration got ---- */

/*
 * FmCatalogBatchesKept
 *		Whether this database's catalog keeps batch progress
 *		(fleetmigrate.batch_progress, 1.10).  Call after FmCatalogBegin().
 */
bool
FmCatalogBatchesKept(void)
{
	Oid			nsp = get_namespace_oid("fleetmigrate", true);

	return OidIsValid(nsp) &&
		OidIsValid(get_relname_relid("batch_progress", nsp));
}

/*
 * FmCatalogBatchRead
 *		The progress of batched migration "m", palloc'd in the current
 *		context; false if it has none (no batch has started).
 */
bool
FmCatalogBatchRead(const FmMigration *m, FmBatchState *state)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	if (execute_as_owner("SELECT b.run_id, b.checksum, b.relation, b.key_column,"
						 "       b.last_key, b.batch_size, b.batches, b.batch_rows_done,"
						 "       b.batch_rows_total, b.rows_changed,"
						 "       b.finished_at IS NOT NULL"
						 "  FROM fleetmigrate.batch_progress b"
						 " WHERE b.version OPERATOR(pg_catalog.=) $1"
						 "   AND b.name OPERATOR(pg_catalog.=) $2",
						 2, argtypes, values, SPI_OK_SELECT) != 1)
		return false;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(cxt);
	state->run_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	if (isnull)
		state->run_id = 0;
	state->checksum = nullable_text(tuple, desc, 2);
	state->relation = nullable_text(tuple, desc, 3);
	state->key_column = nullable_text(tuple, desc, 4);
	state->last_key = nullable_text(tuple, desc, 5);
	state->batch_size = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
	state->batches = DatumGetInt32(SPI_getbinval(tuple, desc, 7, &isnull));
	state->rows_done = DatumGetInt64(SPI_getbinval(tuple, desc, 8, &isnull));
	state->rows_total = DatumGetInt64(SPI_getbinval(tuple, desc, 9, &isnull));
	state->rows_changed = DatumGetInt64(SPI_getbinval(tuple, desc, 10, &isnull));
	state->finished = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * FmCatalogBatchWrite
 *		Record the progress of batched migration "m" in the current
 *		transaction: the batch just done, or ("restart") its start, which
 *		replaces whatever an earlier apply left (started_at is now).
 *		finished_at is set when state->finished.
 */
void
FmCatalogBatchWrite(const FmMigration *m, const FmBatchState *state,
					bool restart)
{
	Oid			argtypes[15] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID,
		TEXTOID, BOOLOID, TEXTOID, INT4OID, INT4OID, INT8OID, INT8OID,
	INT8OID, BOOLOID, BOOLOID};
	Datum		values[15];

	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = Int64GetDatum(state->run_id);
	values[3] = CStringGetTextDatum(state->checksum);
	values[4] = CStringGetTextDatum(state->relation);
	values[5] = CStringGetTextDatum(state->key_column);
	values[6] = BoolGetDatum(state->last_key != NULL);
	values[7] = CStringGetTextDatum(state->last_key ? state->last_key : "");
	values[8] = Int32GetDatum(state->batch_size);
	values[9] = Int32GetDatum(state->batches);
	values[10] = Int64GetDatum(state->rows_done);
	values[11] = Int64GetDatum(state->rows_total);
	values[12] = Int64GetDatum(state->rows_changed);
	values[13] = BoolGetDatum(state->finished);
	values[14] = BoolGetDatum(restart);
	(void) execute_as_owner("INSERT INTO fleetmigrate.batch_progress AS b"
							" (version, name, run_id, checksum, relation, key_column,"
							"  last_key, batch_size, batches, batch_rows_done,"
							"  batch_rows_total, rows_changed, finished_at)"
							" VALUES ($1, $2, NULLIF($3, 0), $4, $5, $6,"
							"  CASE WHEN $7 THEN $8 END, $9, $10, $11, $12, $13,"
							"  CASE WHEN $14 THEN pg_catalog.now() END)"
							" ON CONFLICT (version, name) DO UPDATE"
							" SET run_id = EXCLUDED.run_id, checksum = EXCLUDED.checksum,"
							"     relation = EXCLUDED.relation,"
							"     key_column = EXCLUDED.key_column,"
							"     last_key = EXCLUDED.last_key,"
							"     batch_size = EXCLUDED.batch_size,"
							"     batches = EXCLUDED.batches,"
							"     batch_rows_done = EXCLUDED.batch_rows_done,"
							"     batch_rows_total = EXCLUDED.batch_rows_total,"
							"     rows_changed = EXCLUDED.rows_changed,"
							"     started_at = CASE WHEN $15 THEN pg_catalog.now()"
							"                  ELSE b.started_at END,"
							"     updated_at = pg_catalog.now(),"
							"     finished_at = EXCLUDED.finished_at",
							15, argtypes, values, SPI_OK_INSERT);
}

/* ---- standbys (issue 21) ------------------------------------------------- */

/*
 * FmCatalogRunStandbys
 *		Record "standbys", a JSON array of each standby the run of "run_id"
 *		waited for and how far it got (standbys.c), in the run's record.  A
 *		catalog older than 1.11 has no place for it.
 */
void
FmCatalogRunStandbys(int64 run_id, const char *standbys)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	if (!run_log_has("standbys"))
		return;
	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(standbys);
	(void) execute_as_owner("UPDATE fleetmigrate.run_log"
					  "   SET standbys = $2::pg_catalog.jsonb"
					  " WHERE id OPERATOR(pg_catalog.=) $1",
					  2, argtypes, values, SPI_OK_UPDATE);
}
