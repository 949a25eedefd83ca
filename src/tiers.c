/*-------------------------------------------------------------------------
 *
 * tiers.c
 *	  Progressive authentication tiers: upgrade_user_tier(), assign_tier(),
 *	  the permission checks and their planner support, tier_users(), and the
 *	  triggers on the tier tables.
 *
 * Each user's tier is a text column of the application's users table;
 * fleetmigrate.tier_config names the table and its columns (no row: the
 * FleetOS seed's public.users (id, auth_tier, upgraded_at, tier_changed_at)).
 * fleetmigrate.tiers says what each tier may do and ranks it.
 *
 * Whose privileges.  Everything done to the users table runs as the
 * calling role, with no role switch: the application's table, its
 * triggers, policies, constraints, index expressions and the functions and
 * views they use run exactly as if the caller had run the SQL itself, so
 * whoever can attach code to that table gains nothing through us.  The
 * caller therefore needs the privileges that SQL needs: SELECT on the id and
 * tier columns for the permission checks and tier_users() (and on the
 * timestamp columns for tier_users()), and for upgrade_user_tier() and
 * assign_tier() also SELECT on the upgraded-at column and UPDATE on the
 * tier and timestamp columns; row-level security applies as usual.  Only
 * the extension's own tables (fleetmigrate.tiers, tier_config,
 * user_tier_history and its sequence), whose triggers, defaults and
 * constraints only the extension's owner controls, are read and written as
 * that owner (FmBeginAsRole: restricted security context, search_path
 * "pg_catalog, pg_temp" with nothing left unqualified, so the caller's
 * pg_temp cannot be reached), and never in a statement that also touches
 * the users table: each statement is either the caller's or the owner's
 * (statement_as_owner[]).  Statements are built once per backend from the
 * configured names with quote_identifier, name every object and operator
 * with its schema, and pass values as $n parameters only.  They are
 * rebuilt when fleetmigrate.tier_config changes (its trigger sends a
 * relcache invalidation we listen for); changes to the users table itself
 * are the plan cache's business, as are role and search_path changes.
 *
 * The permission checks are called once per row in row-level security
 * policies, so they are cheap on a repeated user:
 *	 - per call site, fn_extra holds a hash from user id to tier index and
 *	   the tiers' capabilities, valid for one snapshot (an answer can change
 *	   only when another transaction commits or our own command counter
 *	   moves); a policy over a million rows looks each distinct user up once;
 *	 - a user is looked up by an index probe, or, once the lookups so far
 *	   say that a good part of the table will be asked for, the whole table
 *	   is read in one scan (load_all_now());
 *	 - lookups read the table directly (index and heap scans under the
 *	   query's snapshot, no SQL) when that gives what the caller's statement
 *	   would: a plain table whose id and tier columns the current user may
 *	   read, no row-level security for the current user, a btree index on
 *	   the id column alone; otherwise they run the prepared statements
 *	   through SPI, as the caller (whose missing privilege is then reported
 *	   as SQL reports it);
 *	 - the cache belongs to one current user: a call under another role
 *	   (SET ROLE, a SECURITY DEFINER function, ...) starts afresh;
 *	 - a call whose arguments do not depend on the row (the querying user's
 *	   own id, say) is turned by the planner support function into an
 *	   uncorrelated sub-select, which the planner runs once per query as an
 *	   initplan; the per-row test is then a parameter (a one-time filter
 *	   in a WHERE clause, "Filter: $0" in a row-level security policy).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_node.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "common.h"
#include "compat.h"
#include "parse.h"

/*
 * The statements built from the configuration.  The caller's statements
 * touch the users table and nothing of ours; the owner's touch our tables
 * and nothing of the application's (statement_as_owner[]).
 */
typedef enum TierStatement
{
	/* the caller's */
	TS_LOOKUP,					/* $1 user id -> tier */
	TS_LOAD_ALL,				/* every (user id, tier) */
	TS_LOCK_USER,				/* $1 user id -> tier, row locked */
	TS_UPDATE_USER,				/* $1 id, $2 tier, $3 first upgrade */
	TS_ASSIGN_BATCH,			/* update a batch of users -> (id, old) */
	TS_LIST_USERS,				/* tier_users() */
	/* the owner's */
	TS_TIER_RANK,				/* $1 tier -> rank */
	TS_TIER_RANKS,				/* $1 tier -> rank, tiers above, not below */
	TS_RECORD,					/* one history row */
	TS_RECORD_BATCH,			/* history rows of a batch */
	NUM_TIER_STATEMENTS
} TierStatement;

/* Which statements run as the extension's owner. */
static const bool statement_as_owner[NUM_TIER_STATEMENTS] = {
	[TS_TIER_RANK] = true,
	[TS_TIER_RANKS] = true,
	[TS_RECORD] = true,
	[TS_RECORD_BATCH] = true,
};

/* The users table as configured, and the statements built for it. */
typedef struct TierConfig
{
	bool		valid;			/* false after tier_config changed */
	Oid			owner;			/* the extension's owner */
	Oid			config_relid;	/* fleetmigrate.tier_config */
	char	   *label;			/* schema.table, for messages */
	char	   *table;			/* quoted schema.table */
	char	   *id_column;		/* quoted column names; NULL: not kept */
	char	   *tier_column;
	char	   *upgraded_at_column;
	char	   *changed_at_column;
	char	   *id_name;		/* unquoted id and tier column names */
	char	   *tier_name;
	Oid			relid;			/* the users table when configured */
	SPIPlanPtr	plans[NUM_TIER_STATEMENTS];
} TierConfig;

/* One user in a permission check's cache (simplehash entry). */
typedef struct UserTierEntry
{
	pg_uuid_t	key;			/* user id */
	char		status;			/* simplehash's */
	int16		tier;			/* index into TierCheckCache.tiers; -1: no
								 * such user, or a tier not in the table */
} UserTierEntry;

static inline uint32 uuid_hash_key(const pg_uuid_t *key);
static inline bool uuid_equal(const pg_uuid_t *a, const pg_uuid_t *b);

#define SH_PREFIX usertier
#define SH_ELEMENT_TYPE UserTierEntry
#define SH_KEY_TYPE pg_uuid_t
#define SH_KEY key
#define SH_HASH_KEY(tb, k) uuid_hash_key(&(k))
#define SH_EQUAL(tb, a, b) uuid_equal(&(a), &(b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* How a permission check reads the users table. */
typedef enum UserReadMethod
{
	READ_UNDECIDED = 0,
	READ_SPI,					/* prepared statements as the owner */
	READ_DIRECT					/* index probes and heap scans */
} UserReadMethod;

/*
 * A permission check's per-call-site state, in fn_extra (fn_mcxt: the
 * query's lifetime in a policy, the transaction's in a PL/pgSQL simple
 * expression; hence the snapshot check).
 */
typedef struct TierCheckCache
{
	MemoryContext cxt;
	/* the role the answers were read as, and the snapshot */
	bool		filled;
	Oid			userid;
	uint64		snap_completion;
	CommandId	snap_curcid;
	TransactionId snap_xmin;
	/* the tiers: name and capabilities */
	int			ntiers;
	char	  **tier_names;
	int		   *tier_name_lens;
	ArrayType **tier_caps;
	/* the capability asked last and which tiers grant it */
	char	   *capability;
	int			capability_len;
	bool	   *grants;
	/* users asked about; small, so that a probe for each row stays in cache */
	usertier_hash *users;
	int			misses;			/* single lookups so far */
	int64		lookups;		/* lookups in users (the last user's aside) */
	double		reltuples;		/* pg_class.reltuples; 0: not read yet */
	/* every user of the table, once read in one scan; NULL before */
	usertier_hash *all_users;
	/* how users are read: decided at the first single lookup */
	UserReadMethod read_method;
	Oid			relid;			/* the users table */
	Oid			index_relid;	/* its index on the id column (direct) */
	AttrNumber	id_attnum;
	AttrNumber	tier_attnum;
	MemoryContext probe_cxt;	/* reset after every direct read */
	bool		have_last;
	pg_uuid_t	last_key;
	bool		last_answer;
} TierCheckCache;

/* Identity of the last SQL-callable entry, for error context. */
typedef struct TierErrorContext
{
	const char *what;			/* "looking up user tiers" ... */
} TierErrorContext;

/* Shipped configuration: the FleetOS seed's users table. */
#define DEFAULT_SCHEMA		"public"
#define DEFAULT_TABLE		"users"
#define DEFAULT_ID			"id"
#define DEFAULT_TIER		"auth_tier"
#define DEFAULT_UPGRADED	"upgraded_at"
#define DEFAULT_CHANGED		"tier_changed_at"

/*
 * When to stop probing the users table one user at a time and read it whole
 * (see load_all_now()).  LOAD_ALL_RATIO_*: what one probe costs in rows of a
 * scan into the hash, measured with test/bench/tiers.sh: about 11 for a
 * direct index probe, 32 for a prepared statement.
 */
#define LOAD_ALL_MIN_MISSES		128
#define LOAD_ALL_RATIO_DIRECT	11
#define LOAD_ALL_RATIO_SPI		32
/* probes, in table scans, after which the table is read whatever the estimate */
#define LOAD_ALL_MAX_SCANS		4

static TierConfig config;
static bool callbacks_registered = false;

/*
 * Statements of ours executing right now.  Plans of an old configuration
 * are freed only when none is (a trigger or policy on the users table may
 * call back into us while one of our statements runs).  Reset at
 * transaction end, when none can be.
 */
static int	statements_running = 0;

PG_FUNCTION_INFO_V1(fleetmigrate_configure_user_table);
PG_FUNCTION_INFO_V1(fleetmigrate_upgrade_user_tier);
PG_FUNCTION_INFO_V1(fleetmigrate_assign_tier);
PG_FUNCTION_INFO_V1(fleetmigrate_user_has_capability);
PG_FUNCTION_INFO_V1(fleetmigrate_user_can_view_requests);
PG_FUNCTION_INFO_V1(fleetmigrate_user_can_create_requests);
PG_FUNCTION_INFO_V1(fleetmigrate_tiers_support);
PG_FUNCTION_INFO_V1(fleetmigrate_tier_users);
PG_FUNCTION_INFO_V1(fleetmigrate_tiers_replace_builtin);
PG_FUNCTION_INFO_V1(fleetmigrate_tier_config_changed);
PG_FUNCTION_INFO_V1(fleetmigrate_refuse_history_change);

static void config_invalidate(Datum arg, Oid relid);
static void tiers_xact_callback(XactEvent event, void *arg);
static Oid	extension_owner(void);
static void tier_error_callback(void *arg);
static void ensure_config(void);
static void tier_call_begin(ErrorContextCallback *cb, const TierErrorContext *ctx,
							int spi_options);
static void tier_call_end(ErrorContextCallback *cb);
static void push_error_context(ErrorContextCallback *cb,
							   const TierErrorContext *ctx);
static void load_config(void);
static void check_column(Oid relid, const char *label, const char *column,
						 const char *role, Oid typid1, Oid typid2,
						 bool configured);
static void check_user_table(Oid relid, const char *label, const char *id,
							 const char *tier, const char *upgraded,
							 const char *changed, bool configured);
static SPIPlanPtr tier_plan(TierStatement id);
static char *build_statement(TierStatement id);
static void append_timestamp_sets(StringInfo s, const char *upgrade);
static uint64 run_statement(TierStatement id, Datum *values, const char *nulls,
							bool read_only, long count, int expected);
static bool check_capability(FunctionCallInfo fcinfo, const char *capability,
							 int caplen);
static TierCheckCache *check_cache(FunctionCallInfo fcinfo);
static void fill_tiers(TierCheckCache *cache);
static UserTierEntry *lookup_users(TierCheckCache *cache, const pg_uuid_t *key);
static bool load_all_now(TierCheckCache *cache);
static usertier_hash *all_users(TierCheckCache *cache, double rows);
static void choose_read_method(TierCheckCache *cache);
static void choose_direct(TierCheckCache *cache);
static int	probe_direct(TierCheckCache *cache, const pg_uuid_t *key);
static Relation open_direct(Oid relid, char relkind);
static int	probe_spi(TierCheckCache *cache, const pg_uuid_t *key);
static void load_all_spi(TierCheckCache *cache);
static void load_all_direct(TierCheckCache *cache);
static int	tier_index(TierCheckCache *cache, Datum datum, bool isnull);
static int	tier_of_row(TierCheckCache *cache, HeapTuple row, TupleDesc desc,
						int column);
static void resolve_capability(TierCheckCache *cache, const char *capability,
							   int caplen);
static char *validate_condition(const char *condition);
static bool has_exec_param_walker(Node *node, void *context);

/*
 * uuid_hash_key
 *		Hash of a user id for the check cache.  Ids are usually random, but
 *		time-ordered ones share their leading bytes, so both halves are mixed.
 */
static inline uint32
uuid_hash_key(const pg_uuid_t *key)
{
	uint64		a;
	uint64		b;

	memcpy(&a, key->data, sizeof(a));
	memcpy(&b, key->data + sizeof(a), sizeof(b));
	return (uint32) hash_combine64(a, b) ^ (uint32) (hash_combine64(a, b) >> 32);
}

/*
 * uuid_equal
 *		Two user ids compared as two words: this runs once per row of a
 *		policy, where a call to memcmp() shows.
 */
static inline bool
uuid_equal(const pg_uuid_t *a, const pg_uuid_t *b)
{
	uint64		a1,
				a2,
				b1,
				b2;

	memcpy(&a1, a->data, sizeof(a1));
	memcpy(&a2, a->data + sizeof(a1), sizeof(a2));
	memcpy(&b1, b->data, sizeof(b1));
	memcpy(&b2, b->data + sizeof(b1), sizeof(b2));
	return ((a1 ^ b1) | (a2 ^ b2)) == 0;
}

/*
 * config_invalidate
 *		Relcache callback: fleetmigrate.tier_config changed (its trigger
 *		invalidates it), or everything was invalidated.
 */
static void
config_invalidate(Datum arg, Oid relid)
{
	/* the configuration, or the users table it names (dropped, recreated) */
	if (relid == InvalidOid || relid == config.config_relid ||
		(OidIsValid(config.relid) && relid == config.relid))
		config.valid = false;
}

/*
 * tiers_xact_callback
 *		No statement of ours runs once a transaction has ended.
 */
static void
tiers_xact_callback(XactEvent event, void *arg)
{
	statements_running = 0;
}

/*
 * extension_owner
 *		The role that created the extension holding fleetmigrate.tier_config:
 *		fleetmigrate_tiers, or fleetmigrate itself in a database whose
 *		fleetmigrate (1.1 to 1.8) still carries the tiers.  Can ERROR.
 */
static Oid
extension_owner(void)
{
	Oid			nsp = get_namespace_oid("fleetmigrate", false);
	Oid			relid = get_relname_relid("tier_config", nsp);
	Oid			extension = InvalidOid;
	Oid			owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (OidIsValid(relid))
		extension = getExtensionOfObject(RelationRelationId, relid);
	/* only a function left behind by a dropped extension gets here */
	if (!OidIsValid(extension))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"fleetmigrate_tiers\" is not installed"),
				 errhint("Run CREATE EXTENSION fleetmigrate_tiers.")));

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extension));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		elog(ERROR, "cache lookup failed for extension %u", extension);
	return owner;
}

/*
 * tier_error_callback
 *		Error context for everything that touches the users table: which
 *		table, as configured where.
 */
static void
tier_error_callback(void *arg)
{
	TierErrorContext *ctx = (TierErrorContext *) arg;

	if (config.label != NULL)
		errcontext("%s, user table \"%s\"", ctx->what, config.label);
	else
		errcontext("%s", ctx->what);
}

/*
 * check_column
 *		ERROR unless the users table has the column with one of the types.
 */
static void
check_column(Oid relid, const char *label, const char *column,
			 const char *role, Oid typid1, Oid typid2, bool configured)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			typid;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of user table \"%s\" does not exist",
						column, label),
				 configured ?
				 errdetail("fleetmigrate.tier_config names it as the %s column.", role) :
				 errdetail("It is the %s column (by default, or as given to fleetmigrate.configure_user_table()).", role),
				 errhint("Add the column, or name the right one with fleetmigrate.configure_user_table().")));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("system column \"%s\" cannot be the %s column", column, role)));
	typid = getBaseType(get_atttype(relid, attnum));
	if (typid != typid1 && typid != typid2)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of user table \"%s\" has type %s",
						column, label, format_type_be(typid)),
				 errdetail("The %s column must be of type %s%s%s.", role,
						   format_type_be(typid1),
						   OidIsValid(typid2) ? " or " : "",
						   OidIsValid(typid2) ? format_type_be(typid2) : ""),
				 errhint("Name the right column with fleetmigrate.configure_user_table().")));
}

/*
 * check_user_table
 *		ERROR unless relid is a permanent table of the application (not a
 *		temporary table, none of ours, no system catalog) with the named
 *		columns, four distinct ones, of the right types (upgraded and
 *		changed may be NULL: not kept).  "configured":
 *		the names come from fleetmigrate.tier_config (or its defaults), not
 *		from a configure_user_table() call, which the messages tell apart.
 */
static void
check_user_table(Oid relid, const char *label, const char *id,
				 const char *tier, const char *upgraded, const char *changed,
				 bool configured)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
	{
		if (configured)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("user table \"%s\" is not a table", label),
					 errhint("Name a table with fleetmigrate.configure_user_table().")));
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", label),
				 errdetail("The tier functions update users' tiers, so the user table must be a table.")));
	}
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("user table \"%s\" is a temporary table",
						get_rel_name(relid)),
				 errdetail("A temporary table belongs to one session; the tier functions serve every session."),
				 errhint("Name a permanent table with fleetmigrate.configure_user_table().")));
	{
		Oid			nsp = get_rel_namespace(relid);
		Oid			ours = get_namespace_oid("fleetmigrate", true);

		if (nsp == ours || IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
			strcmp(get_namespace_name(nsp), "information_schema") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" cannot be the user table", label),
					 errdetail("Tables of fleetmigrate (such as its tier history) and of the system catalogs cannot hold the users' tiers."),
					 errhint("Name the application's users table with fleetmigrate.configure_user_table().")));
	}
	{
		const char *names[4] = {id, tier, upgraded, changed};
		static const char *const roles[4] = {"user id", "tier", "upgraded at",
		"tier changed at"};

		for (int i = 0; i < 4; i++)
			for (int j = i + 1; j < 4; j++)
				if (names[i] != NULL && names[j] != NULL &&
					strcmp(names[i], names[j]) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("column \"%s\" cannot be both the %s column and the %s column",
									names[i], roles[i], roles[j]),
							 errdetail("Each of the user id, tier, upgraded at and tier changed at columns must be a column of its own."),
							 errhint("Pass NULL for a timestamp column the table does not keep.")));
	}
	check_column(relid, label, id, "user id", UUIDOID, InvalidOid, configured);
	check_column(relid, label, tier, "tier", TEXTOID, VARCHAROID, configured);
	if (upgraded != NULL)
		check_column(relid, label, upgraded, "upgraded at",
					 TIMESTAMPTZOID, TIMESTAMPOID, configured);
	if (changed != NULL)
		check_column(relid, label, changed, "tier changed at",
					 TIMESTAMPTZOID, TIMESTAMPOID, configured);
}

/*
 * load_config
 *		Read fleetmigrate.tier_config, check the table and its columns, and
 *		forget the statements built for an earlier configuration.  Caller is
 *		connected to SPI.  Can ERROR; the configuration stays invalid then.
 */
static void
load_config(void)
{
	MemoryContext oldcxt;
	Oid			nsp = get_namespace_oid("fleetmigrate", false);
	Oid			owner = extension_owner();
	FmRoleSwitch sw;
	int			rc;
	char	   *schema = DEFAULT_SCHEMA;
	char	   *table = DEFAULT_TABLE;
	char	   *id = DEFAULT_ID;
	char	   *tier = DEFAULT_TIER;
	char	   *upgraded = DEFAULT_UPGRADED;
	char	   *changed = DEFAULT_CHANGED;
	char	   *label;
	Oid			relnsp;
	Oid			relid;
	bool		configured;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(config_invalidate, (Datum) 0);
		RegisterXactCallback(tiers_xact_callback, NULL);
		callbacks_registered = true;
	}

	/* statements of the earlier configuration (see statements_running) */
	for (int i = 0; i < NUM_TIER_STATEMENTS; i++)
	{
		if (config.plans[i] != NULL && statements_running == 0)
			SPI_freeplan(config.plans[i]);
		config.plans[i] = NULL;
	}
	config.owner = owner;
	config.config_relid = get_relname_relid("tier_config", nsp);
	if (!OidIsValid(config.config_relid))
		elog(ERROR, "fleetmigrate.tier_config is missing");

	FmBeginAsRole(config.owner, &sw);
	rc = SPI_execute("SELECT table_schema, table_name, id_column, tier_column,"
					 "       upgraded_at_column, tier_changed_at_column"
					 "  FROM fleetmigrate.tier_config", true, 0);
	FmEndAsRole(&sw);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read fleetmigrate.tier_config: %s",
			 SPI_result_code_string(rc));
	configured = SPI_processed > 0;
	if (configured)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		schema = SPI_getvalue(tuple, desc, 1);
		table = SPI_getvalue(tuple, desc, 2);
		id = SPI_getvalue(tuple, desc, 3);
		tier = SPI_getvalue(tuple, desc, 4);
		upgraded = SPI_getvalue(tuple, desc, 5);
		changed = SPI_getvalue(tuple, desc, 6);
	}

	label = psprintf("%s.%s", schema, table);
	relnsp = get_namespace_oid(schema, true);
	relid = OidIsValid(relnsp) ? get_relname_relid(table, relnsp) : InvalidOid;
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("user table \"%s\" does not exist", label),
				 errdetail("The tier functions keep each user's tier in the table named by fleetmigrate.tier_config%s.",
						   configured ? "" : ", by default public.users"),
				 errhint("Create the table, or name the table that holds your users' tiers with fleetmigrate.configure_user_table().")));
	check_user_table(relid, label, id, tier, upgraded, changed, configured);

	oldcxt = MemoryContextSwitchTo(CacheMemoryContext);
	if (config.label)
		pfree(config.label);
	if (config.table)
		pfree(config.table);
	if (config.id_name)
		pfree(config.id_name);
	if (config.tier_name)
		pfree(config.tier_name);
	config.label = pstrdup(label);
	config.table = pstrdup(quote_qualified_identifier(schema, table));
	config.id_column = pstrdup(quote_identifier(id));
	config.tier_column = pstrdup(quote_identifier(tier));
	config.upgraded_at_column = upgraded ? pstrdup(quote_identifier(upgraded)) : NULL;
	config.changed_at_column = changed ? pstrdup(quote_identifier(changed)) : NULL;
	config.id_name = pstrdup(id);
	config.tier_name = pstrdup(tier);
	MemoryContextSwitchTo(oldcxt);
	config.relid = relid;
	config.valid = true;
}

/*
 * append_timestamp_sets
 *		The SET items for the configured timestamp columns of an update to
 *		the users table aliased u: tier changed now, and first upgraded now
 *		if "upgrade" (an SQL condition) holds and it never was.
 */
static void
append_timestamp_sets(StringInfo s, const char *upgrade)
{
	if (config.changed_at_column)
		appendStringInfo(s, ", %s = pg_catalog.now()", config.changed_at_column);
	if (config.upgraded_at_column)
		appendStringInfo(s,
						 ", %s = CASE WHEN %s THEN coalesce(u.%s, pg_catalog.now())"
						 " ELSE u.%s END",
						 config.upgraded_at_column, upgrade,
						 config.upgraded_at_column, config.upgraded_at_column);
}

/*
 * build_statement
 *		The text of one statement for the current configuration, palloc'd.
 *		Names are quoted, objects and operators schema-qualified, values
 *		are parameters.
 */
static char *
build_statement(TierStatement id)
{
	StringInfoData s;
	const char *t = config.table;
	const char *idc = config.id_column;
	const char *tc = config.tier_column;

	initStringInfo(&s);
	switch (id)
	{
		case TS_LOOKUP:
			appendStringInfo(&s,
							 "SELECT u.%s::pg_catalog.text FROM %s u"
							 " WHERE u.%s OPERATOR(pg_catalog.=) $1",
							 tc, t, idc);
			break;
		case TS_LOAD_ALL:
			appendStringInfo(&s,
							 "SELECT u.%s, u.%s::pg_catalog.text FROM %s u",
							 idc, tc, t);
			break;
		case TS_LOCK_USER:
			appendStringInfo(&s,
							 "SELECT u.%s::pg_catalog.text FROM %s u"
							 " WHERE u.%s OPERATOR(pg_catalog.=) $1"
							 "   FOR UPDATE OF u",
							 tc, t, idc);
			break;
		case TS_UPDATE_USER:
			/* $1 id, $2 new tier, $3 an upgrade (set upgraded_at once) */
			appendStringInfo(&s, "UPDATE %s u SET %s = $2", t, tc);
			append_timestamp_sets(&s, "$3");
			appendStringInfo(&s, " WHERE u.%s OPERATOR(pg_catalog.=) $1", idc);
			break;
		case TS_ASSIGN_BATCH:

			/*
			 * $1 ids, $2 new tier, $3 the tiers ranked above it (moving
			 * down from them is a downgrade), $4 the tiers not ranked below
			 * it (moving from them is no upgrade), $5 allow downgrade.
			 * Returns the users changed and their old tiers.
			 */
			appendStringInfo(&s,
							 "WITH o AS ("
							 " SELECT u.%s AS id, u.%s::pg_catalog.text AS old"
							 "   FROM %s u"
							 "  WHERE u.%s OPERATOR(pg_catalog.=) ANY ($1)"
							 "    AND (u.%s IS NULL OR u.%s::pg_catalog.text OPERATOR(pg_catalog.<>) $2)"
							 "    FOR UPDATE OF u)"
							 " UPDATE %s u SET %s = $2",
							 idc, tc, t, idc, tc, tc, t, tc);
			append_timestamp_sets(&s, "NOT coalesce(o.old OPERATOR(pg_catalog.=) ANY ($4), false)");
			appendStringInfo(&s,
							 " FROM o WHERE u.%s OPERATOR(pg_catalog.=) o.id"
							 "   AND ($5 OR NOT coalesce(o.old OPERATOR(pg_catalog.=) ANY ($3), false))"
							 " RETURNING o.id, o.old",
							 idc);
			break;
		case TS_TIER_RANKS:
			appendStringInfoString(&s,
								   "SELECT n.rank,"
								   " (SELECT pg_catalog.array_agg(t.tier) FROM fleetmigrate.tiers t"
								   "   WHERE t.rank OPERATOR(pg_catalog.>) n.rank),"
								   " (SELECT pg_catalog.array_agg(t.tier) FROM fleetmigrate.tiers t"
								   "   WHERE t.rank OPERATOR(pg_catalog.>=) n.rank)"
								   " FROM fleetmigrate.tiers n WHERE n.tier OPERATOR(pg_catalog.=) $1");
			break;
		case TS_RECORD:
			/* $1 id, $2 old tier, $3 new tier, $4 reason, $5 by */
			appendStringInfoString(&s,
								   "INSERT INTO fleetmigrate.user_tier_history"
								   " (user_id, from_tier, to_tier, reason, changed_by)"
								   " VALUES ($1, $2, $3, $4, $5)");
			break;
		case TS_RECORD_BATCH:
			/* $1 ids, $2 old tiers, $3 new tier, $4 reason, $5 by */
			appendStringInfoString(&s,
								   "INSERT INTO fleetmigrate.user_tier_history"
								   " (user_id, from_tier, to_tier, reason, changed_by)"
								   " SELECT h.id, h.old, $3, $4, $5"
								   "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2))"
								   "        AS h(id, old)");
			break;
		case TS_TIER_RANK:
			appendStringInfoString(&s,
								   "SELECT t.rank FROM fleetmigrate.tiers t"
								   " WHERE t.tier OPERATOR(pg_catalog.=) $1");
			break;
		case TS_LIST_USERS:
			appendStringInfo(&s, "SELECT u.%s, u.%s::pg_catalog.text, ", idc, tc);
			appendStringInfo(&s, "%s%s::pg_catalog.timestamptz, %s%s::pg_catalog.timestamptz",
							 config.upgraded_at_column ? "u." : "",
							 config.upgraded_at_column ? config.upgraded_at_column : "NULL",
							 config.changed_at_column ? "u." : "",
							 config.changed_at_column ? config.changed_at_column : "NULL");
			appendStringInfo(&s, " FROM %s u", t);
			break;
		case NUM_TIER_STATEMENTS:
			elog(ERROR, "invalid tier statement");
	}
	return s.data;
}

/*
 * tier_plan
 *		The prepared plan of one statement, preparing it as needed.  Caller
 *		is connected to SPI, the configuration is loaded, and an owner's
 *		statement is prepared as the owner (FmBeginAsRole).  Can ERROR.
 */
static SPIPlanPtr
tier_plan(TierStatement id)
{
	static const Oid argtypes[NUM_TIER_STATEMENTS][6] = {
		[TS_LOOKUP] = {UUIDOID},
		[TS_LOAD_ALL] = {InvalidOid},
		[TS_LOCK_USER] = {UUIDOID},
		[TS_UPDATE_USER] = {UUIDOID, TEXTOID, BOOLOID},
		[TS_ASSIGN_BATCH] = {UUIDARRAYOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, BOOLOID},
		[TS_LIST_USERS] = {InvalidOid},
		[TS_TIER_RANK] = {TEXTOID},
		[TS_TIER_RANKS] = {TEXTOID},
		[TS_RECORD] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
		[TS_RECORD_BATCH] = {UUIDARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID},
	};
	static const int nargs[NUM_TIER_STATEMENTS] = {
		[TS_LOOKUP] = 1,
		[TS_LOAD_ALL] = 0,
		[TS_LOCK_USER] = 1,
		[TS_UPDATE_USER] = 3,
		[TS_ASSIGN_BATCH] = 5,
		[TS_LIST_USERS] = 0,
		[TS_TIER_RANK] = 1,
		[TS_TIER_RANKS] = 1,
		[TS_RECORD] = 5,
		[TS_RECORD_BATCH] = 5,
	};

	if (config.plans[id] == NULL)
	{
		char	   *sql = build_statement(id);
		SPIPlanPtr	plan = SPI_prepare(sql, nargs[id], (Oid *) argtypes[id]);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		config.plans[id] = plan;
		pfree(sql);
	}
	return config.plans[id];
}

/*
 * run_statement
 *		Execute one statement and check the SPI result: an owner's statement
 *		(statement_as_owner[]) as the extension's owner, any other as the
 *		calling role, with no role switch.  Caller is connected to SPI; the
 *		configuration is loaded.  Returns SPI_processed, rows in
 *		SPI_tuptable.  Can ERROR.
 */
static uint64
run_statement(TierStatement id, Datum *values, const char *nulls,
			  bool read_only, long count, int expected)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	FmRoleSwitch sw;
	int			rc;

	if (statement_as_owner[id])
		FmBeginAsRole(config.owner, &sw);
	statements_running++;
	rc = SPI_execute_plan(tier_plan(id), values, nulls, read_only, count);
	statements_running--;
	if (statement_as_owner[id])
		FmEndAsRole(&sw);
	MemoryContextSwitchTo(oldcxt);
	if (rc != expected)
		elog(ERROR, "tier statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * ensure_config
 *		Load the configuration if it changed.  Caller is connected to SPI.
 */
static void
ensure_config(void)
{
	if (!config.valid)
		load_config();
}

/*
 * tier_call_begin
 *		Start of every entry point that touches the users table: connect to
 *		SPI (with spi_options), push the error context naming what it does,
 *		load the configuration if it changed.  tier_call_end() undoes it.
 */
static void
tier_call_begin(ErrorContextCallback *cb, const TierErrorContext *ctx,
				int spi_options)
{
	if (SPI_connect_ext(spi_options) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	push_error_context(cb, ctx);
	ensure_config();
}

/*
 * push_error_context
 *		Name what we are doing in any error's context; pop by restoring
 *		error_context_stack to cb->previous.
 */
static void
push_error_context(ErrorContextCallback *cb, const TierErrorContext *ctx)
{
	cb->callback = tier_error_callback;
	cb->arg = unconstify(TierErrorContext *, ctx);
	cb->previous = error_context_stack;
	error_context_stack = cb;
}

static void
tier_call_end(ErrorContextCallback *cb)
{
	error_context_stack = cb->previous;
	SPI_finish();
}

/*
 * configure_user_table(user_table regclass, id_column name, tier_column
 *		name, upgraded_at_column name, tier_changed_at_column name)
 *
 * Checks the table and its columns, then replaces the row of
 * fleetmigrate.tier_config.  The check is repeated whenever the
 * configuration is loaded.
 */
Datum
fleetmigrate_configure_user_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *label;
	char	   *schema;
	char	   *table;
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	Oid			argtypes[6] = {NAMEOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID};
	FmRoleSwitch sw;
	int			rc;

	FmRefuseOnStandby("configure_user_table()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user table, id column and tier column must not be null")));
	relid = PG_GETARG_OID(0);
	schema = get_namespace_name(get_rel_namespace(relid));
	table = get_rel_name(relid);
	if (schema == NULL || table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	label = psprintf("%s.%s", schema, table);
	check_user_table(relid, label, NameStr(*PG_GETARG_NAME(1)),
					 NameStr(*PG_GETARG_NAME(2)),
					 PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)),
					 PG_ARGISNULL(4) ? NULL : NameStr(*PG_GETARG_NAME(4)),
					 false);

	values[0] = DirectFunctionCall1(namein, CStringGetDatum(schema));
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(table));
	for (int i = 1; i <= 4; i++)
	{
		values[i + 1] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i + 1] = PG_ARGISNULL(i) ? 'n' : ' ';
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	config.owner = extension_owner();
	FmBeginAsRole(config.owner, &sw);
	rc = SPI_execute_with_args("INSERT INTO fleetmigrate.tier_config AS c"
							   " (table_schema, table_name, id_column, tier_column,"
							   "  upgraded_at_column, tier_changed_at_column,"
							   "  configured_by)"
							   " VALUES ($1, $2, $3, $4, $5, $6, CURRENT_USER)"
							   " ON CONFLICT (singleton) DO UPDATE"
							   " SET table_schema = excluded.table_schema,"
							   "     table_name = excluded.table_name,"
							   "     id_column = excluded.id_column,"
							   "     tier_column = excluded.tier_column,"
							   "     upgraded_at_column = excluded.upgraded_at_column,"
							   "     tier_changed_at_column = excluded.tier_changed_at_column,"
							   "     configured_at = pg_catalog.now(),"
							   "     configured_by = excluded.configured_by",
							   6, argtypes, values, nulls, false, 0);
	FmEndAsRole(&sw);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write fleetmigrate.tier_config: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * upgrade_user_tier(user_id uuid, new_tier text, reason text,
 *		allow_downgrade boolean) RETURNS boolean
 *
 * Reads the new tier's rank (as the owner), locks the user's row (FOR
 * UPDATE, as the caller: a concurrent upgrade of the same user waits, then
 * sees this one's result) and reads the old tier's rank (as the owner);
 * then either returns false (already on the tier), refuses (unknown tier or
 * user, a downgrade not allowed), or updates the row (as the caller) and
 * writes one history row (as the owner), in the caller's transaction.
 */
Datum
fleetmigrate_upgrade_user_tier(PG_FUNCTION_ARGS)
{
	text	   *new_tier_t;
	char	   *new_tier;
	char	   *old_tier;
	char	   *user_id;
	char	   *caller;
	bool		isnull;
	bool		old_rank_null = true;
	int32		old_rank = 0;
	int32		new_rank;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	TierErrorContext ctx = {"upgrading a user's tier"};
	ErrorContextCallback errcallback;

	FmRefuseOnStandby("upgrade_user_tier()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user id must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("new tier must not be null")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"allow_downgrade\" of upgrade_user_tier() cannot be null")));
	new_tier_t = PG_GETARG_TEXT_PP(1);
	new_tier = text_to_cstring(new_tier_t);
	user_id = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)));
	caller = GetUserNameFromId(GetUserId(), false);

	tier_call_begin(&errcallback, &ctx, 0);

	/* the new tier's rank (ours) */
	values[0] = PointerGetDatum(new_tier_t);
	if (run_statement(TS_TIER_RANK, values, NULL, true, 1, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown tier \"%s\"", new_tier),
				 errhint("The tiers are the rows of fleetmigrate.tiers: SELECT tier FROM fleetmigrate.tiers ORDER BY rank;")));
	new_rank = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));

	/* the user's row, locked (the caller's) */
	values[0] = PG_GETARG_DATUM(0);
	if (run_statement(TS_LOCK_USER, values, NULL, false, 0, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user \"%s\" does not exist", user_id),
				 errdetail("No row of user table \"%s\" has %s = '%s'.", config.label,
						   config.id_column, user_id)));
	old_tier = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	if (old_tier != NULL && strcmp(old_tier, new_tier) == 0)
	{
		tier_call_end(&errcallback);
		PG_RETURN_BOOL(false);
	}

	/* the old tier's rank (ours); none for a tier not in the table */
	if (old_tier != NULL)
	{
		values[0] = CStringGetTextDatum(old_tier);
		if (run_statement(TS_TIER_RANK, values, NULL, true, 1, SPI_OK_SELECT) > 0)
			old_rank = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1,
												   &old_rank_null));
	}
	if (!old_rank_null && new_rank < old_rank &&
		(PG_ARGISNULL(3) || !PG_GETARG_BOOL(3)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("moving user \"%s\" from tier \"%s\" to \"%s\" is a downgrade",
						user_id, old_tier, new_tier),
				 errdetail("Tier \"%s\" has rank %d, below rank %d of \"%s\".",
						   new_tier, new_rank, old_rank, old_tier),
				 errhint("Pass allow_downgrade => true to move a user down.")));

	/* the change (the caller's) */
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PointerGetDatum(new_tier_t);
	values[2] = BoolGetDatum(old_rank_null || new_rank > old_rank);
	if (run_statement(TS_UPDATE_USER, values, nulls, false, 0, SPI_OK_UPDATE) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not update the tier of user \"%s\"", user_id),
				 errdetail("The UPDATE of user table \"%s\" changed no row: a BEFORE UPDATE trigger skipped it, or a row-level security policy hid it from role \"%s\".",
						   config.label, caller),
				 errhint("Check the triggers and the UPDATE policies of the user table.")));

	/* its record (ours) */
	values[0] = PG_GETARG_DATUM(0);
	values[1] = old_tier ? CStringGetTextDatum(old_tier) : (Datum) 0;
	nulls[1] = old_tier ? ' ' : 'n';
	values[2] = PointerGetDatum(new_tier_t);
	values[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';
	values[4] = CStringGetTextDatum(caller);
	run_statement(TS_RECORD, values, nulls, false, 0, SPI_OK_INSERT);

	tier_call_end(&errcallback);
	PG_RETURN_BOOL(true);
}

/*
 * refuse_param_ref
 *		Parser hook for validate_condition(): any $n in the condition.
 */
static Node *
refuse_param_ref(ParseState *pstate, ParamRef *pref)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_PARAMETER),
			 errmsg("condition of assign_tier() cannot refer to parameter $%d",
					pref->number),
			 errdetail("The condition is an SQL expression over the user table; it has no parameters."),
			 errhint("Write the values into the condition as literals.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * refuse_params_setup
 *		ParserSetupHook installing refuse_param_ref().
 */
static void
refuse_params_setup(ParseState *pstate, void *arg)
{
	pstate->p_paramref_hook = refuse_param_ref;
}

/*
 * validate_condition
 *		assign_tier()'s condition must be exactly one SQL expression, so that
 *		it can be placed in parentheses in a WHERE clause and mean nothing
 *		else, and must not refer to parameters ($n), which in the batch query
 *		would be ours.  The second is checked by the parser itself (whatever
 *		the spelling: $1, $01, ...), by preparing the condition alone, as
 *		the caller, in the same surroundings the batch query gives it.
 *		Returns the text to embed.  Caller is connected to SPI; the
 *		configuration is loaded.  Can ERROR with the parser's message and
 *		position.
 */
static char *
validate_condition(const char *condition)
{
	List	   *raw = FmParseExpression(condition, "condition of assign_tier()");

	if (list_length(raw) == 1 &&
		IsA(linitial(raw), RawStmt) &&
		IsA(((RawStmt *) linitial(raw))->stmt, SelectStmt))
	{
		SelectStmt *select = (SelectStmt *) ((RawStmt *) linitial(raw))->stmt;

		if (list_length(select->targetList) == 1 &&
			((ResTarget *) linitial(select->targetList))->name == NULL &&
			select->distinctClause == NIL && select->intoClause == NULL &&
			select->fromClause == NIL && select->whereClause == NULL &&
			select->groupClause == NIL && select->havingClause == NULL &&
			select->windowClause == NIL && select->valuesLists == NIL &&
			select->sortClause == NIL && select->limitOffset == NULL &&
			select->limitCount == NULL && select->lockingClause == NIL &&
			select->withClause == NULL && select->op == SETOP_NONE)
		{
			char	   *embedded = psprintf("(\n%s\n)", condition);
			char	   *probe = psprintf("SELECT 1 FROM %s u WHERE %s",
										 config.table, embedded);
			SPIPlanPtr	plan = SPI_prepare_params(probe, refuse_params_setup,
												  NULL, 0);

			if (plan == NULL)
				elog(ERROR, "SPI_prepare_params failed for the condition: %s",
					 SPI_result_code_string(SPI_result));
			SPI_freeplan(plan);
			pfree(probe);
			return embedded;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("condition must be a single SQL expression"),
			 errdetail("The condition is used as a WHERE clause over the user table, such as: lower(signup_source) = 'fleetos'."),
			 errhint("Remove the clauses around the expression (FROM, ORDER BY, LIMIT, a column alias ...).")));
	return NULL;				/* keep compiler quiet */
}

/*
 * assign_tier(new_tier text, condition text, reason text, batch_size
 *		integer, allow_downgrade boolean, INOUT changed bigint, INOUT
 *		skipped bigint, INOUT batches integer)
 *
 * Moves every user matching condition to new_tier, batch_size users at a
 * time in user id order.  Each batch is chosen, then locked and changed in
 * one statement, both as the caller (the condition is the caller's SQL);
 * then the changes are recorded in the history as the owner, in a statement
 * of their own.  A user the batch would move down is skipped unless
 * allow_downgrade.
 * Called by CALL outside a transaction block, it commits after each batch,
 * so no more than one batch of users is locked at a time; otherwise (inside
 * BEGIN, a function or apply_pending()) it stays in the caller's
 * transaction.
 */
Datum
fleetmigrate_assign_tier(PG_FUNCTION_ARGS)
{
	bool		nonatomic;
	text	   *new_tier_t;
	char	   *condition;
	int32		batch_size;
	bool		allow_downgrade;
	ArrayType  *above;
	ArrayType  *not_below;
	char	   *caller;
	char	   *condition_sql;
	StringInfoData select_sql;
	SPIPlanPtr	select_plan;
	Oid			select_types[3] = {TEXTOID, UUIDOID, INT4OID};
	int64		changed = 0;
	int64		skipped = 0;
	int32		batches = 0;
	pg_uuid_t	last = {{0}};
	bool		have_last = false;
	TupleDesc	tupdesc;
	Datum		result[3];
	bool		result_nulls[3] = {false, false, false};
	static const TierErrorContext assigning = {"assigning tiers"};
	static const TierErrorContext choosing = {"choosing users by the condition of assign_tier()"};
	ErrorContextCallback errcallback;

	FmRefuseOnStandby("assign_tier()");
	nonatomic = fcinfo->context &&
		IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("new tier must not be null")));
	if (PG_ARGISNULL(1) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("condition must not be null or empty"),
				 errhint("To move every user, pass the condition 'true'.")));
	new_tier_t = PG_GETARG_TEXT_PP(0);
	condition = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" of assign_tier() cannot be null",
						PG_ARGISNULL(3) ? "batch_size" : "allow_downgrade")));
	batch_size = PG_GETARG_INT32(3);
	allow_downgrade = PG_GETARG_BOOL(4);
	if (batch_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size must be at least 1")));
	caller = GetUserNameFromId(GetUserId(), false);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	tier_call_begin(&errcallback, &assigning, nonatomic ? SPI_OPT_NONATOMIC : 0);

	/* the tier, its rank, the tiers above it and those not below (ours) */
	{
		Datum		arg = PointerGetDatum(new_tier_t);
		HeapTuple	tuple;
		TupleDesc	desc;
		bool		isnull;
		Datum		d;

		if (run_statement(TS_TIER_RANKS, &arg, NULL, true, 1, SPI_OK_SELECT) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown tier \"%s\"", text_to_cstring(new_tier_t)),
					 errhint("The tiers are the rows of fleetmigrate.tiers: SELECT tier FROM fleetmigrate.tiers ORDER BY rank;")));
		tuple = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		above = isnull ? NULL : DatumGetArrayTypePCopy(d);
		d = SPI_getbinval(tuple, desc, 3, &isnull);
		not_below = isnull ? NULL : DatumGetArrayTypePCopy(d);
	}

	/* the caller's batch query: the condition, as the caller */
	errcallback.arg = unconstify(TierErrorContext *, &choosing);
	condition_sql = validate_condition(condition);
	initStringInfo(&select_sql);
	appendStringInfo(&select_sql,
					 "SELECT u.%s FROM %s u"
					 " WHERE (u.%s IS NULL OR u.%s::pg_catalog.text OPERATOR(pg_catalog.<>) $1)"
					 "   AND ($2 IS NULL OR u.%s OPERATOR(pg_catalog.>) $2)"
					 "   AND %s"
					 " ORDER BY u.%s LIMIT $3",
					 config.id_column, config.table,
					 config.tier_column, config.tier_column,
					 config.id_column, condition_sql,
					 config.id_column);
	select_plan = SPI_prepare(select_sql.data, 3, select_types);
	if (select_plan == NULL)
		elog(ERROR, "SPI_prepare failed for the batch query: %s",
			 SPI_result_code_string(SPI_result));

	for (;;)
	{
		Datum		values[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
		Datum	   *ids;
		ArrayType  *idarray;
		uint64		n;
		uint64		moved;
		SPITupleTable *batch;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		errcallback.arg = unconstify(TierErrorContext *, &choosing);
		values[0] = PointerGetDatum(new_tier_t);
		values[1] = have_last ? UUIDPGetDatum(&last) : (Datum) 0;
		nulls[1] = have_last ? ' ' : 'n';
		values[2] = Int32GetDatum(batch_size);
		rc = SPI_execute_plan(select_plan, values, nulls, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "batch query failed: %s", SPI_result_code_string(rc));
		n = SPI_processed;
		batch = SPI_tuptable;
		if (n == 0)
			break;

		ids = palloc(n * sizeof(Datum));
		for (uint64 i = 0; i < n; i++)
		{
			bool		isnull;

			ids[i] = SPI_getbinval(batch->vals[i], batch->tupdesc, 1, &isnull);
			if (isnull)
				ids[i] = UUIDPGetDatum(palloc0(sizeof(pg_uuid_t)));
		}
		memcpy(&last, DatumGetUUIDP(ids[n - 1]), sizeof(last));
		have_last = true;
		idarray = construct_array(ids, (int) n, UUIDOID, UUID_LEN, false,
								  TYPALIGN_CHAR);
		SPI_freetuptable(batch);

		/* the change (the caller's) */
		errcallback.arg = unconstify(TierErrorContext *, &assigning);
		values[0] = PointerGetDatum(idarray);
		values[1] = PointerGetDatum(new_tier_t);
		nulls[1] = ' ';
		values[2] = above ? PointerGetDatum(above) : (Datum) 0;
		nulls[2] = above ? ' ' : 'n';
		values[3] = not_below ? PointerGetDatum(not_below) : (Datum) 0;
		nulls[3] = not_below ? ' ' : 'n';
		values[4] = BoolGetDatum(allow_downgrade);
		moved = run_statement(TS_ASSIGN_BATCH, values, nulls, false, 0,
							  SPI_OK_UPDATE_RETURNING);

		/* its record (ours) */
		if (moved > 0)
		{
			Datum	   *old_tiers = palloc(moved * sizeof(Datum));
			bool	   *old_nulls = palloc(moved * sizeof(bool));
			int			dims[1] = {(int) moved};
			int			lbs[1] = {1};

			for (uint64 i = 0; i < moved; i++)
			{
				bool		isnull;

				ids[i] = SPI_getbinval(SPI_tuptable->vals[i],
									   SPI_tuptable->tupdesc, 1, &isnull);
				old_tiers[i] = SPI_getbinval(SPI_tuptable->vals[i],
											 SPI_tuptable->tupdesc, 2,
											 &old_nulls[i]);
			}
			values[0] = PointerGetDatum(construct_array(ids, (int) moved,
														UUIDOID, UUID_LEN,
														false, TYPALIGN_CHAR));
			nulls[0] = ' ';
			values[1] = PointerGetDatum(construct_md_array(old_tiers, old_nulls,
														   1, dims, lbs,
														   TEXTOID, -1, false,
														   TYPALIGN_INT));
			nulls[1] = ' ';
			values[2] = PointerGetDatum(new_tier_t);
			nulls[2] = ' ';
			values[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
			nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';
			values[4] = CStringGetTextDatum(caller);
			nulls[4] = ' ';
			if (run_statement(TS_RECORD_BATCH, values, nulls, false, 0,
							  SPI_OK_INSERT) != moved)
				elog(ERROR, "recorded a different number of tier changes than made");
		}
		changed += moved;
		skipped += n - moved;
		batches++;
		pfree(ids);

		if (nonatomic)
			SPI_commit();
		if (n < (uint64) batch_size)
			break;
	}

	tier_call_end(&errcallback);

	result[0] = Int64GetDatum(changed);
	result[1] = Int64GetDatum(skipped);
	result[2] = Int32GetDatum(batches);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result,
													  result_nulls)));
}

/*
 * check_cache
 *		The permission check's cache for this call site, reset when the
 *		snapshot moved on or the current user changed: what a role may read
 *		of the users table is that role's, never another's.
 */
static TierCheckCache *
check_cache(FunctionCallInfo fcinfo)
{
	TierCheckCache *cache = (TierCheckCache *) fcinfo->flinfo->fn_extra;
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
									   sizeof(TierCheckCache));
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
										   "fleetmigrate permission check",
										   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->filled &&
		(snap == NULL || cache->userid != GetUserId() ||
		 snap->snapXactCompletionCount != cache->snap_completion ||
		 snap->curcid != cache->snap_curcid ||
		 snap->xmin != cache->snap_xmin))
	{
		MemoryContextReset(cache->cxt);
		cache->filled = false;
		cache->capability = NULL;
		cache->users = NULL;
		cache->have_last = false;
		cache->misses = 0;
		cache->lookups = 0;
		cache->reltuples = 0;
		cache->all_users = NULL;
		cache->read_method = READ_UNDECIDED;
		cache->probe_cxt = NULL;
	}
	if (!cache->filled)
	{
		fill_tiers(cache);
		cache->users = usertier_create(cache->cxt, 64, NULL);
		cache->userid = GetUserId();
		if (snap != NULL)
		{
			cache->snap_completion = snap->snapXactCompletionCount;
			cache->snap_curcid = snap->curcid;
			cache->snap_xmin = snap->xmin;
		}
		cache->filled = true;
	}
	return cache;
}

/*
 * fill_tiers
 *		Read the tiers and their capabilities into the cache.
 */
static void
fill_tiers(TierCheckCache *cache)
{
	MemoryContext oldcxt;
	TierErrorContext ctx = {"checking a user's permission"};
	ErrorContextCallback errcallback;
	FmRoleSwitch sw;
	int			rc;

	tier_call_begin(&errcallback, &ctx, 0);
	FmBeginAsRole(config.owner, &sw);
	rc = SPI_execute("SELECT tier, capabilities FROM fleetmigrate.tiers",
					 true, 0);
	FmEndAsRole(&sw);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read fleetmigrate.tiers: %s",
			 SPI_result_code_string(rc));

	oldcxt = MemoryContextSwitchTo(cache->cxt);
	cache->ntiers = (int) SPI_processed;
	cache->tier_names = palloc(Max(1, cache->ntiers) * sizeof(char *));
	cache->tier_name_lens = palloc(Max(1, cache->ntiers) * sizeof(int));
	cache->tier_caps = palloc(Max(1, cache->ntiers) * sizeof(ArrayType *));
	cache->grants = palloc0(Max(1, cache->ntiers) * sizeof(bool));
	for (int i = 0; i < cache->ntiers; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		caps;

		cache->tier_names[i] = SPI_getvalue(tuple, SPI_tuptable->tupdesc, 1);
		cache->tier_name_lens[i] = strlen(cache->tier_names[i]);
		caps = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull);
		cache->tier_caps[i] = DatumGetArrayTypePCopy(caps);
	}
	MemoryContextSwitchTo(oldcxt);
	tier_call_end(&errcallback);
}

/*
 * tier_index
 *		Index in the cache of a tier name (a text or varchar datum), -1 when
 *		NULL or not a tier.  No text conversion: called once per user when
 *		the whole users table is read.
 */
static int
tier_index(TierCheckCache *cache, Datum datum, bool isnull)
{
	text	   *tier;
	const char *data;
	int			len;

	if (isnull)
		return -1;
	tier = (text *) PG_DETOAST_DATUM_PACKED(datum);
	data = VARDATA_ANY(tier);
	len = VARSIZE_ANY_EXHDR(tier);
	for (int i = 0; i < cache->ntiers; i++)
		if (cache->tier_name_lens[i] == len &&
			memcmp(cache->tier_names[i], data, len) == 0)
			return i;
	return -1;
}

/*
 * tier_of_row
 *		tier_index() of column "column" of a row SPI returned.
 */
static int
tier_of_row(TierCheckCache *cache, HeapTuple row, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		datum = SPI_getbinval(row, desc, column, &isnull);

	return tier_index(cache, datum, isnull);
}

/*
 * resolve_capability
 *		Which tiers grant the capability.
 */
static void
resolve_capability(TierCheckCache *cache, const char *capability, int caplen)
{
	/* the common case: the same capability as on the last row */
	if (cache->capability != NULL && cache->capability_len == caplen &&
		(cache->capability == capability ||
		 memcmp(cache->capability, capability, caplen) == 0))
		return;
	for (int i = 0; i < cache->ntiers; i++)
	{
		ArrayType  *caps = cache->tier_caps[i];
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		cache->grants[i] = false;
		deconstruct_array(caps, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		for (int j = 0; j < n; j++)
			if (!nulls[j] &&
				VARSIZE_ANY_EXHDR(DatumGetPointer(elems[j])) == caplen &&
				memcmp(VARDATA_ANY(DatumGetPointer(elems[j])), capability, caplen) == 0)
				cache->grants[i] = true;
	}
	cache->capability = MemoryContextAlloc(cache->cxt, caplen + 1);
	memcpy(cache->capability, capability, caplen);
	cache->capability[caplen] = '\0';
	cache->capability_len = caplen;
	cache->have_last = false;
}

/*
 * lookup_users
 *		Put the user in the cache: one index probe, or, once enough distinct
 *		users were probed and the table is small compared to that, every
 *		user in one scan.  Returns the user's entry.
 */
static UserTierEntry *
lookup_users(TierCheckCache *cache, const pg_uuid_t *key)
{
	TierErrorContext ctx = {"looking up a user's tier"};
	ErrorContextCallback errcallback;
	bool		found;
	UserTierEntry *entry;
	int			index = -1;

	if (cache->all_users == NULL)
	{
		bool		direct;

		if (cache->read_method == READ_UNDECIDED)
		{
			tier_call_begin(&errcallback, &ctx, 0);
			choose_read_method(cache);
			tier_call_end(&errcallback);
		}
		/* direct reads need no SPI: a probe costs a third of a statement */
		direct = cache->read_method == READ_DIRECT;
		if (direct)
			push_error_context(&errcallback, &ctx);
		else
			tier_call_begin(&errcallback, &ctx, 0);
		if (load_all_now(cache))
		{
			ctx.what = "reading every user's tier";
			elog(DEBUG1, "fleetmigrate: permission check reads all of \"%s\" after %d single lookups",
				 config.label, cache->misses);
			if (direct)
				load_all_direct(cache);
			else
				load_all_spi(cache);
		}
		else
		{
			index = direct ? probe_direct(cache, key) : probe_spi(cache, key);
			cache->misses++;
		}
		if (direct)
			error_context_stack = errcallback.previous;
		else
			tier_call_end(&errcallback);
	}

	if (cache->all_users != NULL)
	{
		UserTierEntry *known = usertier_lookup(cache->all_users, *key);

		index = known ? known->tier : -1;
	}
	entry = usertier_insert(cache->users, *key, &found);
	entry->tier = index;
	return entry;
}

/*
 * probe_spi
 *		The tier index of one user, by the prepared statement; -1 for no
 *		such user.  Caller is connected to SPI.
 */
static int
probe_spi(TierCheckCache *cache, const pg_uuid_t *key)
{
	Datum		value = UUIDPGetDatum(unconstify(pg_uuid_t *, key));

	if (run_statement(TS_LOOKUP, &value, NULL, true, 1, SPI_OK_SELECT) == 0)
		return -1;
	return tier_of_row(cache, SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * load_all_spi
 *		Every user of the table into the cache, by the prepared statement.
 *		Caller is connected to SPI.
 */
static void
load_all_spi(TierCheckCache *cache)
{
	usertier_hash *users;

	run_statement(TS_LOAD_ALL, NULL, NULL, true, 0, SPI_OK_SELECT);
	users = all_users(cache, SPI_processed);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		id = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
		UserTierEntry *entry;
		bool		found;

		if (isnull)
			continue;
		entry = usertier_insert(users, *DatumGetUUIDP(id), &found);
		entry->tier = tier_of_row(cache, row, SPI_tuptable->tupdesc, 2);
	}
}

/*
 * all_users
 *		The hash for every user of the table, created empty with room for
 *		"rows" users when missing.
 */
static usertier_hash *
all_users(TierCheckCache *cache, double rows)
{
	if (cache->all_users == NULL)
		cache->all_users = usertier_create(cache->cxt,
										   (uint32) Min(rows * 1.25 + 64,
														(double) PG_UINT32_MAX / 2),
										   NULL);
	return cache->all_users;
}

/*
 * choose_read_method
 *		Whether the users table can be read directly, by index probes and
 *		heap scans under the active snapshot, with the result the prepared
 *		statements (run as the caller) would give: a plain table whose id
 *		and tier columns the current user may SELECT (the table privilege,
 *		or both column privileges, as ExecCheckRTPerms() asks), to which
 *		row-level security does not apply for the current user, with a
 *		valid btree index on the id column alone.  Anything else, and a
 *		missing snapshot, goes through SPI, which reports a missing
 *		privilege as SQL does.  Decided again for every snapshot and every
 *		change of the current user (check_cache()), as privileges change
 *		between statements.
 *		Caller is connected to SPI (the configuration is loaded).
 */
static void
choose_read_method(TierCheckCache *cache)
{
	Oid			relid = config.relid;

	cache->read_method = READ_SPI;
	cache->relid = relid;
	cache->index_relid = InvalidOid;
	choose_direct(cache);
	elog(DEBUG1, "fleetmigrate: permission check reads \"%s\" %s",
		 config.label,
		 cache->read_method == READ_DIRECT ? "directly" : "with SQL statements");
}

/*
 * choose_direct
 *		choose_read_method()'s conditions for direct reads.
 */
static void
choose_direct(TierCheckCache *cache)
{
	Oid			relid = cache->relid;
	Oid			userid = GetUserId();
	Oid			uuid_family;
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;

	if (!ActiveSnapshotSet())
		return;

	/*
	 * Lock the table as a query reading it would, then check that it is
	 * still there: it may have been dropped since the configuration was
	 * loaded.  Then it is read with SQL, which finds what the name means now.
	 */
	LockRelationOid(relid, AccessShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		UnlockRelationOid(relid, AccessShareLock);
		return;
	}
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return;
	cache->id_attnum = get_attnum(relid, config.id_name);
	cache->tier_attnum = get_attnum(relid, config.tier_name);
	if (cache->id_attnum <= 0 || cache->tier_attnum <= 0)
		return;
	if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK &&
		(pg_attribute_aclcheck(relid, cache->id_attnum, userid,
							   ACL_SELECT) != ACLCHECK_OK ||
		 pg_attribute_aclcheck(relid, cache->tier_attnum, userid,
							   ACL_SELECT) != ACLCHECK_OK))
		return;
	/* RLS_NONE_ENV: none for this role (the cache is this role's) */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return;

	uuid_family = get_opclass_family(GetDefaultOpClass(UUIDOID, BTREE_AM_OID));
	rel = table_open(relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID,
											ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;
		bool		usable;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		usable = index->indisvalid && index->indisready && index->indislive &&
			index->indnkeyatts == 1 &&
			index->indkey.values[0] == cache->id_attnum &&
			heap_attisnull(tuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL);
		if (usable)
		{
			bool		isnull;
			oidvector  *indclass;

			indclass = (oidvector *)
				DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple,
												Anum_pg_index_indclass, &isnull));
			usable = !isnull &&
				get_opclass_family(indclass->values[0]) == uuid_family;
		}
		ReleaseSysCache(tuple);
		if (usable)
		{
			cache->index_relid = lfirst_oid(lc);
			break;
		}
	}
	list_free(indexes);
	table_close(rel, NoLock);
	if (!OidIsValid(cache->index_relid))
		return;

	cache->probe_cxt = AllocSetContextCreate(cache->cxt,
											 "fleetmigrate user lookup",
											 ALLOCSET_DEFAULT_SIZES);
	cache->read_method = READ_DIRECT;
}

/*
 * open_direct
 *		Open the users table or its id index for a direct read, with
 *		AccessShareLock.  choose_direct() locked the table, but an index can
 *		be dropped concurrently under that lock, and a cached plan may run in
 *		a later transaction: a relation that is gone is a clear error, as it
 *		would be for a query, not an internal one.
 */
static Relation
open_direct(Oid relid, char relkind)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);

	if (rel == NULL || rel->rd_rel->relkind != relkind)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the %s of user table \"%s\" was dropped while the permission check read it",
						relkind == RELKIND_INDEX ? "id index" : "table itself",
						config.label),
				 errhint("Run the query again.")));
	return rel;
}

/*
 * probe_direct
 *		The tier index of one user, read through the id index under the
 *		active snapshot; -1 for no such user.
 */
static int
probe_direct(TierCheckCache *cache, const pg_uuid_t *key)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cache->probe_cxt);
	Relation	rel = open_direct(cache->relid, RELKIND_RELATION);
	Relation	index = open_direct(cache->index_relid, RELKIND_INDEX);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData skey;
	int			tier = -1;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_UUID_EQ,
				UUIDPGetDatum(unconstify(pg_uuid_t *, key)));
	scan = FmIndexBeginScan(rel, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		datum = slot_getattr(slot, cache->tier_attnum, &isnull);

		tier = tier_index(cache, datum, isnull);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(cache->probe_cxt);
	return tier;
}

/*
 * load_all_direct
 *		Every user of the table into the cache, in one heap scan under the
 *		active snapshot.
 */
static void
load_all_direct(TierCheckCache *cache)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cache->probe_cxt);
	Relation	rel = open_direct(cache->relid, RELKIND_RELATION);
	TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	AttrNumber	natts = Max(cache->id_attnum, cache->tier_attnum);
	usertier_hash *users = all_users(cache,
									 Max(RelationGetForm(rel)->reltuples, 0));

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		UserTierEntry *entry;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, natts);
		if (slot->tts_isnull[cache->id_attnum - 1])
			continue;
		entry = usertier_insert(users,
								*DatumGetUUIDP(slot->tts_values[cache->id_attnum - 1]),
								&found);
		entry->tier = tier_index(cache, slot->tts_values[cache->tier_attnum - 1],
								 slot->tts_isnull[cache->tier_attnum - 1]);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(cache->probe_cxt);
}

/*
 * load_all_now
 *		Whether to read the whole users table instead of probing one more
 *		user.  Reading it costs about as much as "ratio" probes per row, so
 *		it pays when more than rows / ratio distinct users are still to come.
 *		How many are to come is estimated from the lookups so far: n lookups
 *		(repeats of the previous row's user aside) found m distinct users;
 *		if users come in random order, m = D (1 - exp(-n / D)) of D users
 *		asked for in all, solved for D, counting at least one repeat (no
 *		repeat at all says only that D is large).  Once probes have cost
 *		LOAD_ALL_MAX_SCANS reads, the table is read whatever the estimate,
 *		for orders the estimate misjudges.  The table's size is
 *		pg_class.reltuples (as of the last VACUUM or ANALYZE; never counted:
 *		never read whole).
 */
static bool
load_all_now(TierCheckCache *cache)
{
	double		m = cache->misses;
	double		n;
	double		rows;
	double		distinct;
	int			ratio;

	if (cache->misses < LOAD_ALL_MIN_MISSES)
		return false;
	if (cache->reltuples == 0)
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(cache->relid));

		cache->reltuples = -1;
		if (HeapTupleIsValid(tuple))
		{
			cache->reltuples = Max(((Form_pg_class) GETSTRUCT(tuple))->reltuples, -1);
			ReleaseSysCache(tuple);
		}
	}
	rows = cache->reltuples;
	if (rows < 0)
		return false;
	ratio = cache->read_method == READ_DIRECT ?
		LOAD_ALL_RATIO_DIRECT : LOAD_ALL_RATIO_SPI;
	if (m * ratio >= rows * LOAD_ALL_MAX_SCANS)
		return true;

	/*
	 * Fixed-point iteration from below, starting at the small-sample answer
	 * m^2 / 2(n - m); it climbs slowly only when D is far above m, which is
	 * then the answer anyway.
	 */
	n = Max(cache->lookups, m + 1);
	distinct = Max(m, m * m / (2 * (n - m)));
	for (int i = 0; i < 32; i++)
	{
		double		next = m / (1.0 - exp(-n / distinct));

		if (next - distinct < 0.5)
			break;
		distinct = next;
	}
	return (distinct - m) * ratio > rows;
}

/*
 * check_capability
 *		The permission checks' common body: false for a NULL or unknown
 *		user, a tier missing from fleetmigrate.tiers or a NULL capability.
 */
static bool
check_capability(FunctionCallInfo fcinfo, const char *capability, int caplen)
{
	TierCheckCache *cache;
	pg_uuid_t  *key;
	UserTierEntry *entry;
	bool		answer;

	if (PG_ARGISNULL(0) || capability == NULL)
		return false;
	key = PG_GETARG_UUID_P(0);
	cache = check_cache(fcinfo);
	resolve_capability(cache, capability, caplen);
	if (cache->have_last && uuid_equal(key, &cache->last_key))
		return cache->last_answer;

	cache->lookups++;
	entry = usertier_lookup(cache->users, *key);
	if (entry == NULL)
		entry = lookup_users(cache, key);
	answer = entry->tier >= 0 && cache->grants[entry->tier];
	memcpy(cache->last_key.data, key->data, UUID_LEN);
	cache->last_answer = answer;
	cache->have_last = true;
	return answer;
}

Datum
fleetmigrate_user_has_capability(PG_FUNCTION_ARGS)
{
	text	   *capability;

	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	capability = PG_GETARG_TEXT_PP(1);
	PG_RETURN_BOOL(check_capability(fcinfo, VARDATA_ANY(capability),
									VARSIZE_ANY_EXHDR(capability)));
}

Datum
fleetmigrate_user_can_view_requests(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(check_capability(fcinfo, "can_view_requests",
									sizeof("can_view_requests") - 1));
}

Datum
fleetmigrate_user_can_create_requests(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(check_capability(fcinfo, "can_create_requests",
									sizeof("can_create_requests") - 1));
}

/*
 * has_exec_param_walker
 *		Whether an expression holds a PARAM_EXEC or PARAM_SUBLINK Param,
 *		which would not survive being moved into a sub-select.
 */
static bool
has_exec_param_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, has_exec_param_walker, context);
}

/*
 * tiers_support(internal) RETURNS internal
 *
 * Planner support for the permission checks (SupportRequestSimplify).  A
 * call whose arguments do not depend on the current row, such as
 * user_can_view_requests(auth.uid()) in a policy, is replaced by the
 * sub-select (SELECT user_can_view_requests(auth.uid())), which the planner
 * turns into an initplan evaluated once per query.  The functions are
 * STABLE, so one evaluation per query is what they promise anyway.
 *
 * Only in a query that reads a relation (elsewhere the call runs once
 * anyway, and the sub-select's own planning must not rewrite again), only with
 * arguments free of the query's columns, aggregates, window functions,
 * volatile functions, sets and executor parameters.  References to outer
 * queries move one level further out.  The query is marked as having
 * sub-links so that the planner expands the new one.
 */
Datum
fleetmigrate_tiers_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	PlannerInfo *root;
	FuncExpr   *call;
	Node	   *args;
	Query	   *sub;
	SubLink    *sublink;
	ListCell   *lc;
	bool		has_rows = false;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	root = req->root;
	if (root == NULL || root->parse == NULL ||
		root->parse->commandType == CMD_UTILITY)
		PG_RETURN_POINTER(NULL);

	/*
	 * A query without a FROM list has only RTE_RESULT entries by now
	 * (replace_empty_jointree()); so has the sub-select built below.
	 */
	foreach(lc, root->parse->rtable)
	{
		if (lfirst_node(RangeTblEntry, lc)->rtekind != RTE_RESULT)
		{
			has_rows = true;
			break;
		}
	}
	if (!has_rows)
		PG_RETURN_POINTER(NULL);

	args = (Node *) req->fcall->args;
	if (contain_vars_of_level(args, 0) ||
		contain_agg_clause(args) ||
		contain_window_function(args) ||
		contain_volatile_functions(args) ||
		expression_returns_set(args) ||
		has_exec_param_walker(args, NULL))
		PG_RETURN_POINTER(NULL);

	call = copyObject(req->fcall);
	IncrementVarSublevelsUp((Node *) call, 1, 0);

	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->jointree = makeFromExpr(NIL, NULL);
	sub->targetList = list_make1(makeTargetEntry((Expr *) call, 1,
												 pstrdup("allowed"), false));
	sub->hasSubLinks = checkExprHasSubLink((Node *) call);

	sublink = makeNode(SubLink);
	sublink->subLinkType = EXPR_SUBLINK;
	sublink->subLinkId = 0;
	sublink->testexpr = NULL;
	sublink->operName = NIL;
	sublink->subselect = (Node *) sub;
	sublink->location = req->fcall->location;

	root->parse->hasSubLinks = true;
	PG_RETURN_POINTER(sublink);
}

/*
 * tier_users() RETURNS TABLE(user_id uuid, tier text, upgraded_at
 *		timestamptz, tier_changed_at timestamptz)
 *
 * Every row of the users table, read as the owner.
 */
Datum
fleetmigrate_tier_users(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TierErrorContext ctx = {"listing users' tiers"};
	ErrorContextCallback errcallback;

	InitMaterializedSRF(fcinfo, 0);
	tier_call_begin(&errcallback, &ctx, 0);
	run_statement(TS_LIST_USERS, NULL, NULL, true, 0, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[4];
		bool		nulls[4];

		for (int c = 0; c < 4; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	tier_call_end(&errcallback);
	return (Datum) 0;
}

/*
 * tiers_replace_builtin() trigger, BEFORE INSERT FOR EACH ROW on
 * fleetmigrate.tiers
 *
 * A row for a tier that exists exactly as shipped replaces that row: this
 * is how pg_dump's data for the table lands after CREATE EXTENSION inserted
 * the built-in rows.  Any other duplicate fails on the primary key.
 */
Datum
fleetmigrate_tiers_replace_builtin(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	newtuple;
	TupleDesc	desc;
	Datum		values[4];
	char		nulls[4];
	Oid			argtypes[4] = {TEXTOID, INT4OID, TEXTARRAYOID, TEXTOID};
	int			rc;
	bool		replaced;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "tiers_replace_builtin must be a BEFORE INSERT FOR EACH ROW trigger");
	newtuple = trigdata->tg_trigtuple;
	desc = trigdata->tg_relation->rd_att;
	for (int i = 0; i < 4; i++)
	{
		bool		isnull;

		values[i] = SPI_getbinval(newtuple, desc, i + 1, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("UPDATE fleetmigrate.tiers t"
							   "   SET rank = $2, capabilities = $3, description = $4"
							   "  FROM fleetmigrate.builtin_tiers() b"
							   " WHERE t.tier OPERATOR(pg_catalog.=) $1"
							   "   AND b.tier OPERATOR(pg_catalog.=) t.tier"
							   "   AND b.rank OPERATOR(pg_catalog.=) t.rank"
							   "   AND b.capabilities OPERATOR(pg_catalog.=) t.capabilities"
							   "   AND (b.description OPERATOR(pg_catalog.=) t.description"
							   "        OR (b.description IS NULL AND t.description IS NULL))",
							   4, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "could not update fleetmigrate.tiers: %s",
			 SPI_result_code_string(rc));
	replaced = SPI_processed > 0;
	SPI_finish();

	return replaced ? PointerGetDatum(NULL) : PointerGetDatum(newtuple);
}

/*
 * tier_config_changed() trigger, AFTER ... FOR EACH STATEMENT on
 * fleetmigrate.tier_config: every session rebuilds its statements.
 */
Datum
fleetmigrate_tier_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "tier_config_changed must be called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/*
 * refuse_history_change() trigger, BEFORE UPDATE OR DELETE FOR EACH ROW and
 * BEFORE TRUNCATE on fleetmigrate.user_tier_history: the audit trail is
 * append-only.
 */
Datum
fleetmigrate_refuse_history_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "refuse_history_change must be called as a trigger");
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "updated";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "deleted";
	else
		what = "truncated";
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("fleetmigrate.user_tier_history is append-only"),
			 errdetail("Rows of the tier audit trail cannot be %s.", what),
			 errhint("A tier change is undone by another change: fleetmigrate.upgrade_user_tier(user_id, tier, reason, allow_downgrade => true).")));
	return PointerGetDatum(NULL);
}
