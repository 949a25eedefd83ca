/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Non-transactional migrations: their statements run one at a time, each
 *	  as a top-level statement, in a dynamic background worker.
 *
 * PostgreSQL refuses some statements inside a transaction block or a
 * function (CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM, ...; see
 * FmStatementNeedsTopLevel()).  register() marks a migration holding one as
 * non-transactional.  CALL fleetmigrate.migrate() commits, then starts a
 * worker for it and waits; the worker connects to the same database as the
 * caller's session user, takes the caller's role and search_path, and runs
 * the statements the way the server runs a simple query: parse, analyse,
 * plan, run in a portal as a top-level statement, commit.  Settings a
 * statement changes (SET lock_timeout, ...) last until the migration ends,
 * as in a psql session.
 *
 * While it waits, the caller holds no snapshot and no transaction-level
 * lock: a concurrent index build waits for every transaction with an older
 * snapshot and would otherwise wait for its own runner forever.
 *
 * Progress is recorded per statement in the catalog (statements_done):
 * in the statement's own transaction for an ordinary statement, in the
 * transaction that follows for one that commits internally.  Before such a
 * statement the worker records that it started it (statement_started), so
 * that after an interruption the next run knows that statement may have
 * finished, or left an INVALID index behind:
 *	 - CREATE INDEX CONCURRENTLY whose index exists but is INVALID (an
 *	   interrupted build): the index is dropped concurrently and built again,
 *	   with a NOTICE;
 *	 - its index exists and is valid, and the statement was started before:
 *	   it completed, and counts as done;
 *	 - DROP INDEX CONCURRENTLY of an index that no longer exists, started
 *	   before: it completed, and counts as done.
 *
 * Live safety, as for a transactional migration (locks.c): the worker runs
 * with the caller's fleetmigrate.lock_timeout as its lock_timeout, its
 * fleetmigrate.statement_timeout as statement_timeout, and retries a
 * statement that timed out waiting for a lock fleetmigrate.lock_retries
 * times, with backoff and the blockers named, in the same worker (so the
 * SETs of earlier statements still hold).  Every statement may be retried:
 * an ordinary one was rolled back; a statement with wait phases is never
 * cancelled in them (below).  The caller does not retry the migration again.
 *
 * Statements with wait phases (CREATE INDEX CONCURRENTLY, REINDEX ...
 * CONCURRENTLY, DROP INDEX CONCURRENTLY) wait, after taking their SHARE
 * UPDATE EXCLUSIVE lock, for the transactions that hold older snapshots or
 * conflicting locks (virtualxid locks).  lock_timeout applies to those waits too, but they hold up no
 * application query (that lock mode conflicts with no read or write), and a
 * build cancelled in them leaves an INVALID index after the work was done.
 * So the worker first takes the statement's SHARE UPDATE EXCLUSIVE locks
 * itself, as session locks, under lock_timeout (a timeout there changed
 * nothing, and is retried), then runs the statement with lock_timeout 0:
 * its own requests for those locks are granted at once, and its waits for
 * old transactions are bounded by statement_timeout only.  The session
 * locks are released when the statement ends.  (REINDEX SCHEMA, DATABASE
 * or SYSTEM CONCURRENTLY take their locks table by table: they run with
 * lock_timeout 0 throughout, which holds up no application query either.)
 * DETACH PARTITION CONCURRENTLY is not among them: its last step takes
 * ACCESS EXCLUSIVE on the partition, which does hold up queries, so it runs
 * under lock_timeout throughout; one cancelled after its first transaction
 * leaves the partition pending detach, and the retry (or the next run)
 * finishes it with DETACH PARTITION ... FINALIZE instead (plan_retry()).
 *
 * The worker stops when the session that called migrate() goes away: that
 * session terminates it when it exits, even on FATAL (terminated with
 * pg_terminate_backend(), its client gone), and a watchdog in the worker
 * checks once a second that the caller's PGPROC still belongs to it
 * (procLatch.owner_pid, cleared when a backend exits) and otherwise cancels
 * the running statement; the worker then exits, and its locks go with it.
 *
 * Progress (progress.h): the caller and the worker report the run, the
 * migration, statement N of M and their start times in pg_stat_activity,
 * the caller with the worker's process id, which the view
 * fleetmigrate.progress follows to the server's own progress views.
 *
 * The worker sends its NOTICEs and its error through a shm_mq, as a client
 * connection would (pq_redirect_to_shm_mq()); the caller raises them again.
 * Before each statement it sends an 'S' message (statement number, line,
 * statements, start time), and at the end a 'D' message.  Only one worker runs in a database at a
 * time: it holds a session lock (runlock.h), so that a worker left behind by a
 * caller that went away finishes before another starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ps_status.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compat.h"
#include "consent.h"
#include "locks.h"
#include "parse.h"
#include "plan.h"
#include "progress.h"
#include "runlock.h"
#include "runner.h"
#include "worker.h"

#define FM_WORKER_MAGIC		0x464D5752	/* "FMWR" */
#define FM_WORKER_QUEUE_SIZE	65536

/* shm_toc keys */
#define KEY_ARGS			1
#define KEY_VERSION			2
#define KEY_NAME			3
#define KEY_SEARCH_PATH		4
#define KEY_QUEUE			5
#define KEY_CHECKSUM		6
#define KEY_CONSENT			7

/* What the worker needs to know, besides the strings. */
typedef struct FmWorkerArgs
{
	Oid			database;
	Oid			session_user;	/* connects as this role ... */
	Oid			current_user;	/* ... then SET ROLE to this one */
	int			leader_pid;		/* the session that called migrate() */
	int			lock_timeout;	/* its fleetmigrate.lock_timeout, ms */
	int			lock_retries;	/* its fleetmigrate.lock_retries */
	int			statement_timeout;	/* its fleetmigrate.statement_timeout, ms */
	FmProgressState progress;	/* where its run is */
} FmWorkerArgs;

/* How often the worker checks that its caller is still there, in ms. */
#define FM_WATCHDOG_INTERVAL	1000

/* What to do about a top-level statement before running it. */
typedef enum RetryAction
{
	RETRY_RUN,					/* run it */
	RETRY_SKIP,					/* it completed before an interruption */
	RETRY_DROP_FIRST,			/* drop an INVALID index, then run it */
	RETRY_INSTEAD				/* run another statement instead (FINALIZE) */
} RetryAction;


static void worker_error_callback(void *arg);
static shm_mq_handle *worker_mqh = NULL;

/* The worker's watchdog: the caller's PGPROC and pid, and what it found. */
static PGPROC *leader_proc = NULL;
static int	leader_pid = 0;
static volatile sig_atomic_t leader_gone = false;
static int	current_statement = 0;

/* What the last worker's destructive statements removed (caller side). */
static char *destroyed_json = NULL;		/* for the history */
static char *destroyed_run_json = NULL; /* for the run log */
static char *destroyed_text = NULL;		/* for the NOTICE */

static bool send_message(char msgtype, StringInfo payload);
static void send_statement_start(const FmStatement *stmt, int statements,
								 TimestampTz started);
static void set_session_option(const char *name, const char *value);
static void begin_catalog_access(void);
static void end_catalog_access(void);
static void run_top_level(const char *sql, MemoryContext cxt,
						  QueryCompletion *completion);
static void leader_watchdog(void);
static bool wait_phase_locks(Node *tree, List **relids);
static void lock_for_session(List *relids, bool lock);
static RetryAction plan_retry(const FmStatement *stmt, bool started_before,
							  char **drop_sql);
static void run_statement(FmMigration *m, FmProgress *progress,
						  const FmStatement *stmt, const char *sql,
						  bool started_before, MemoryContext stmt_cxt);
static int	detach_state(Oid part, Oid parent);
static void run_statements(const FmWorkerArgs *args, const char *checksum,
						   const char *consent, const char *version,
						   const char *name, const char *search_path);
static void receive_messages(shm_mq_handle *mqh, const FmMigration *m,
							 const char *up,
							 FmFailedAt *failed_at, ErrorData **error,
							 bool *finished, int *statements);

/*
 * worker_error_callback
 *		The core's error context (migration, statement, line), with an error
 *		position moved from the client's query, which the worker does not
 *		have, to the statement.
 */
static void
worker_error_callback(void *arg)
{
	FmExecErrorContext *ctx = (FmExecErrorContext *) arg;
	int			position = geterrposition();

	if (position > 0 && ctx->statement != NULL)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery(FmStatementText(ctx->script, ctx->statement));
	}
	FmExecErrorCallback(arg);
}

/*
 * send_message
 *		One message to the caller, framed like those pq_redirect_to_shm_mq()
 *		sends (type byte, then payload).  False if the caller has detached.
 */
static bool
send_message(char msgtype, StringInfo payload)
{
	StringInfoData buf;
	shm_mq_result result;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, msgtype);
	if (payload != NULL)
		appendBinaryStringInfo(&buf, payload->data, payload->len);
	result = shm_mq_send(worker_mqh, buf.len, buf.data, false, true);
	pfree(buf.data);
	return result == SHM_MQ_SUCCESS;
}

/*
 * send_statement_start
 *		Tell the caller which statement of "statements" runs now, since
 *		"started".  ERRORs if the caller has gone: nothing would report the
 *		outcome, so stop between statements.
 */
static void
send_statement_start(const FmStatement *stmt, int statements,
					 TimestampTz started)
{
	StringInfoData buf;

	initStringInfo(&buf);
	pq_sendint32(&buf, stmt->number);
	pq_sendint32(&buf, stmt->line);
	pq_sendint32(&buf, statements);
	pq_sendint64(&buf, started);
	if (!send_message('S', &buf))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the session running fleetmigrate.migrate() has gone away"),
				 errdetail("The background worker stops before statement %d; the next run continues there.",
						   stmt->number)));
	pfree(buf.data);
}

/*
 * set_session_option
 *		SET name = value for the rest of the worker's session.
 */
static void
set_session_option(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
}

/*
 * begin_catalog_access, end_catalog_access
 *		Around the worker's catalog statements: SPI, under a snapshot of
 *		their own (a worker has no portal to provide one).
 */
static void
begin_catalog_access(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end_catalog_access(void)
{
	PopActiveSnapshot();
	SPI_finish();
}

/*
 * run_top_level
 *		Run one statement as the server runs a simple query's statement: a
 *		top-level statement in the unnamed portal, results discarded.  Must
 *		be called in a transaction that is not a transaction block; the
 *		statement may commit and start transactions internally.  Parse and
 *		plan trees live in "cxt", which survives that.
 */
static void
run_top_level(const char *sql, MemoryContext cxt, QueryCompletion *completion)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	List	   *raw = pg_parse_query(sql);
	RawStmt    *rawstmt;
	CommandTag	tag;
	List	   *querytrees;
	List	   *plans;
	bool		snapshot_set = false;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;

	if (list_length(raw) != 1)
		elog(ERROR, "expected one statement, found %d", list_length(raw));
	rawstmt = linitial_node(RawStmt, raw);
	tag = CreateCommandTag(rawstmt->stmt);
	set_ps_display(GetCommandTagName(tag));

	if (analyze_requires_snapshot(rawstmt))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(rawstmt, sql, NULL, 0,
													NULL);
	plans = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();
	CHECK_FOR_INTERRUPTS();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, tag, plans, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	receiver = CreateDestReceiver(DestNone);
	(void) FmPortalRun(portal, FETCH_ALL, true, receiver, receiver, &qc);
	if (completion != NULL)
		*completion = qc;
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * leader_watchdog
 *		Timeout handler, every FM_WATCHDOG_INTERVAL ms: if the caller's
 *		PGPROC no longer belongs to it (a backend's latch is disowned when it
 *		exits, and a new backend owns it with its own pid), cancel what runs.
 *		Runs in a signal handler: reads one int of shared memory, sets flags.
 */
static void
leader_watchdog(void)
{
	if (leader_proc != NULL && leader_proc->procLatch.owner_pid != leader_pid)
	{
		leader_gone = true;
		QueryCancelPending = true;
		InterruptPending = true;
		/* handle_sig_alarm() sets our latch */
	}
}

/* Append the index "rv" names and its table to *relids, if it exists. */
static void
add_index_and_table(RangeVar *rv, List **relids)
{
	Oid			indexid = RangeVarGetRelid(rv, NoLock, true);
	Oid			tableid;

	if (!OidIsValid(indexid) || get_rel_relkind(indexid) != RELKIND_INDEX)
		return;
	tableid = IndexGetRelation(indexid, true);
	if (OidIsValid(tableid))
		*relids = lappend_oid(*relids, tableid);
	*relids = lappend_oid(*relids, indexid);
}

/*
 * wait_phase_locks
 *		Whether statement "tree" has wait phases that hold up no
 *		application query (see the header comment).
 *		If so, *relids gets the relations it takes SHARE UPDATE EXCLUSIVE
 *		locks on first, tables before indexes, those that exist (a missing
 *		one fails in the statement itself); none for REINDEX SCHEMA,
 *		DATABASE or SYSTEM.  Call in a transaction, with the worker's
 *		search_path.
 */
static bool
wait_phase_locks(Node *tree, List **relids)
{
	*relids = NIL;
	if (IsA(tree, IndexStmt) && ((IndexStmt *) tree)->concurrent)
	{
		Oid			relid = RangeVarGetRelid(((IndexStmt *) tree)->relation,
											 NoLock, true);

		if (OidIsValid(relid))
			*relids = list_make1_oid(relid);
		return true;
	}
	if (IsA(tree, DropStmt) && ((DropStmt *) tree)->concurrent &&
		((DropStmt *) tree)->removeType == OBJECT_INDEX)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) tree)->objects)
			add_index_and_table(makeRangeVarFromNameList(lfirst(lc)), relids);
		return true;
	}
	if (IsA(tree, ReindexStmt) &&
		FmOptionIsTrue(((ReindexStmt *) tree)->params, "concurrently"))
	{
		ReindexStmt *rs = (ReindexStmt *) tree;

		if (rs->kind == REINDEX_OBJECT_INDEX)
			add_index_and_table(rs->relation, relids);
		else if (rs->kind == REINDEX_OBJECT_TABLE)
		{
			Oid			relid = RangeVarGetRelid(rs->relation, NoLock, true);

			if (OidIsValid(relid))
				*relids = list_make1_oid(relid);
		}
		return true;
	}
	return false;
}

/*
 * lock_for_session
 *		Take ("lock") or release the SHARE UPDATE EXCLUSIVE session locks on
 *		"relids".  Taking waits at most lock_timeout (ERROR
 *		lock_not_available).  An aborted transaction releases session locks
 *		too (ProcReleaseLocks()), so release only after a commit.
 */
static void
lock_for_session(List *relids, bool lock)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		LockRelId	id;

		id.relId = lfirst_oid(lc);
		id.dbId = IsSharedRelation(id.relId) ? InvalidOid : MyDatabaseId;
		if (lock)
			LockRelationIdForSession(&id, ShareUpdateExclusiveLock);
		else
			UnlockRelationIdForSession(&id, ShareUpdateExclusiveLock);
	}
}

/*
 * detach_state
 *		Whether relation "part" is a partition of "parent": -1 no, 0 yes,
 *		1 yes, with a detach pending (an interrupted DETACH PARTITION
 *		CONCURRENTLY).  Call connected to SPI, with a snapshot.
 */
static int
detach_state(Oid part, Oid parent)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	int			state = -1;
	int			rc;

	values[0] = ObjectIdGetDatum(part);
	values[1] = ObjectIdGetDatum(parent);
	rc = SPI_execute_with_args("SELECT i.inhdetachpending FROM pg_catalog.pg_inherits i"
							   " WHERE i.inhrelid OPERATOR(pg_catalog.=) $1"
							   "   AND i.inhparent OPERATOR(pg_catalog.=) $2",
							   2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		pending = SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull);

		state = !isnull && DatumGetBool(pending) ? 1 : 0;
	}
	SPI_freetuptable(SPI_tuptable);
	return state;
}

/*
 * plan_retry
 *		Decide about a statement that commits internally, in a transaction
 *		of its own.  "started_before": an earlier run started this very
 *		statement and was interrupted.  For RETRY_DROP_FIRST, *drop_sql is
 *		the DROP INDEX CONCURRENTLY to run first; for RETRY_INSTEAD, the
 *		statement to run instead of this one.  Call connected to SPI.
 */
static RetryAction
plan_retry(const FmStatement *stmt, bool started_before, char **drop_sql)
{
	Node	   *tree = stmt->parsetree;

	if (IsA(tree, IndexStmt) && ((IndexStmt *) tree)->concurrent &&
		((IndexStmt *) tree)->idxname != NULL)
	{
		IndexStmt  *is = (IndexStmt *) tree;
		Oid			relid = RangeVarGetRelid(is->relation, NoLock, true);
		Oid			nsp;
		Oid			indexid;
		HeapTuple	tuple;
		Form_pg_index index;
		bool		valid;

		if (!OidIsValid(relid))
			return RETRY_RUN;
		nsp = get_rel_namespace(relid);
		indexid = get_relname_relid(is->idxname, nsp);
		if (!OidIsValid(indexid))
			return RETRY_RUN;
		tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
		if (!HeapTupleIsValid(tuple))
			return RETRY_RUN;	/* a table or view of that name: let it fail */
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indrelid != relid)
		{
			ReleaseSysCache(tuple);
			return RETRY_RUN;
		}
		valid = index->indisvalid;
		ReleaseSysCache(tuple);

		if (!valid)
		{
			char	   *qualified = quote_qualified_identifier(get_namespace_name(nsp),
															   is->idxname);

			ereport(NOTICE,
					(errmsg("index %s is invalid, left by an interrupted CREATE INDEX CONCURRENTLY; dropping it and building it again",
							qualified)));
			*drop_sql = psprintf("DROP INDEX CONCURRENTLY %s", qualified);
			return RETRY_DROP_FIRST;
		}
		if (started_before)
		{
			ereport(NOTICE,
					(errmsg("index \"%s\" already exists and is valid: statement %d completed before the previous run was interrupted",
							is->idxname, stmt->number)));
			return RETRY_SKIP;
		}
		return RETRY_RUN;
	}

	if (IsA(tree, AlterTableStmt))
	{
		AlterTableStmt *at = (AlterTableStmt *) tree;
		ListCell   *lc;

		foreach(lc, at->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			PartitionCmd *pc = (PartitionCmd *) cmd->def;
			Oid			parent;
			Oid			part;
			int			state;

			if (cmd->subtype != AT_DetachPartition || !pc->concurrent)
				continue;
			parent = RangeVarGetRelid(at->relation, NoLock, true);
			part = RangeVarGetRelid(pc->name, NoLock, true);
			if (!OidIsValid(parent) || !OidIsValid(part))
				return RETRY_RUN;	/* let it fail */
			state = detach_state(part, parent);
			if (state > 0)
			{
				char	   *qparent = quote_qualified_identifier(get_namespace_name(get_rel_namespace(parent)),
																 get_rel_name(parent));
				char	   *qpart = quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
															   get_rel_name(part));

				ereport(NOTICE,
						(errmsg("partition %s of %s is pending detach, left by an interrupted DETACH PARTITION CONCURRENTLY; finishing it with DETACH PARTITION ... FINALIZE",
								qpart, qparent)));
				*drop_sql = psprintf("ALTER TABLE %s DETACH PARTITION %s FINALIZE",
									 qparent, qpart);
				return RETRY_INSTEAD;
			}
			if (state < 0 && started_before)
			{
				ereport(NOTICE,
						(errmsg("\"%s\" is no longer a partition of \"%s\": statement %d completed before the previous run was interrupted",
								get_rel_name(part), get_rel_name(parent),
								stmt->number)));
				return RETRY_SKIP;
			}
			return RETRY_RUN;
		}
	}

	if (started_before && IsA(tree, DropStmt) &&
		((DropStmt *) tree)->concurrent &&
		((DropStmt *) tree)->removeType == OBJECT_INDEX &&
		!((DropStmt *) tree)->missing_ok &&
		list_length(((DropStmt *) tree)->objects) == 1)
	{
		List	   *names = linitial(((DropStmt *) tree)->objects);
		RangeVar   *rv = makeRangeVarFromNameList(names);

		if (!OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
		{
			ereport(NOTICE,
					(errmsg("index \"%s\" no longer exists: statement %d completed before the previous run was interrupted",
							NameListToString(names), stmt->number)));
			return RETRY_SKIP;
		}
	}
	return RETRY_RUN;
}

/*
 * run_statement
 *		One attempt at statement "stmt" (text "sql") of migration "m"
 *		("started_before": an earlier run started it and was interrupted), with
 *		its progress recorded in "progress" and the catalog: in its own
 *		transaction for an ordinary statement; for one that commits
 *		internally, first recorded as started (and an INVALID index it left
 *		before dropped), then run, its wait-phase locks taken first
 *		(wait_phase_locks()), then recorded as done.  Called outside a
 *		transaction; ERRORs with the transaction open.
 */
static void
run_statement(FmMigration *m, FmProgress *progress, const FmStatement *stmt,
			  const char *sql, bool started_before, MemoryContext stmt_cxt)
{
	int			n = stmt->number;
	RetryAction action = RETRY_RUN;
	char	   *drop_sql = NULL;
	List	   *relids = NIL;
	bool		wait_phases = false;
	char	   *saved_lock_timeout = NULL;
	QueryCompletion qc;

	SetCurrentStatementStartTimestamp();
	if (FmStatementNeedsTopLevel(stmt->parsetree))
	{
		/* say that it started, before it commits anything */
		StartTransactionCommand();
		begin_catalog_access();
		MemoryContextSwitchTo(stmt_cxt);
		action = plan_retry(stmt, started_before, &drop_sql);
		progress->started = n;
		FmCatalogProgressWrite(m, progress);
		end_catalog_access();
		CommitTransactionCommand();
		if (action == RETRY_DROP_FIRST)
		{
			StartTransactionCommand();
			run_top_level(drop_sql, stmt_cxt, NULL);
			CommitTransactionCommand();
		}
	}

	StartTransactionCommand();
	MemoryContextSwitchTo(stmt_cxt);
	if (action != RETRY_SKIP)
	{
		if (action == RETRY_INSTEAD)
			sql = drop_sql;
		wait_phases = action != RETRY_INSTEAD &&
			wait_phase_locks(stmt->parsetree, &relids);
		if (wait_phases)
		{
			/* lock_timeout for the lock queue only, not the wait phases */
			lock_for_session(relids, true);
			saved_lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));
			set_session_option("lock_timeout", "0");
		}
		/* consent to what it removes, measured now (consent.c) */
		if (action != RETRY_INSTEAD)
		{
			begin_catalog_access();
			MemoryContextSwitchTo(stmt_cxt);
			FmConsentBeforeStatement(stmt);
			end_catalog_access();
			MemoryContextSwitchTo(stmt_cxt);
		}
		if (StatementTimeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
		run_top_level(sql, stmt_cxt, &qc);
		disable_timeout(STATEMENT_TIMEOUT, false);
		CommandCounterIncrement();
		if (action != RETRY_INSTEAD)
			FmConsentAfterStatement(stmt,
									qc.commandTag == CMDTAG_DELETE ? SPI_OK_DELETE :
									qc.commandTag == CMDTAG_UPDATE ? SPI_OK_UPDATE : 0,
									qc.nprocessed);
	}
	begin_catalog_access();
	MemoryContextSwitchTo(stmt_cxt);
	if (saved_lock_timeout != NULL)
		set_session_option("lock_timeout", saved_lock_timeout);
	progress->done = n;
	progress->started = 0;
	FmCatalogProgressWrite(m, progress);
	end_catalog_access();
	CommitTransactionCommand();
	if (wait_phases)
		lock_for_session(relids, false);
}

/*
 * run_statements
 *		The worker's job: the migration's statements from the first one not
 *		done, each in its own transaction(s), with progress recorded.
 */
static void
run_statements(const FmWorkerArgs *args, const char *checksum,
			   const char *consent, const char *version,
			   const char *name, const char *search_path)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "fleetmigrate worker",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext stmt_cxt = AllocSetContextCreate(cxt,
												   "fleetmigrate statement",
												   ALLOCSET_DEFAULT_SIZES);
	FmMigration m;
	FmProgress	progress;
	FmExecErrorContext ctx;
	ErrorContextCallback errcallback;
	List	   *stmts;
	int			n;

	memset(&m, 0, sizeof(m));
	m.version = MemoryContextStrdup(cxt, version);
	m.name = MemoryContextStrdup(cxt, name);
	m.transactional = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (args->current_user != args->session_user)
		set_session_option("role", GetUserNameFromId(args->current_user, false));
	set_session_option("search_path", search_path);
	/* the caller's live-safety settings (locks.c) */
	set_session_option("fleetmigrate.lock_timeout",
					   psprintf("%dms", args->lock_timeout));
	set_session_option("fleetmigrate.lock_retries",
					   psprintf("%d", args->lock_retries));
	set_session_option("fleetmigrate.statement_timeout",
					   psprintf("%dms", args->statement_timeout));
	set_session_option("lock_timeout", psprintf("%dms", args->lock_timeout));
	if (args->statement_timeout > 0)
		set_session_option("statement_timeout",
						   psprintf("%dms", args->statement_timeout));
	FmProgressSet(&args->progress);
	(void) FmLockAcquire(FM_LOCK_CLASSID, FM_WORKER_OBJID, true, true);

	begin_catalog_access();
	FmCatalogBegin();
	MemoryContextSwitchTo(cxt);
	FmCatalogProgressRead(&m, &progress);
	/* the script the run checked, as registered (FmCatalogPlannedScripts()) */
	if (progress.checksum == NULL || strcmp(progress.checksum, checksum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was registered again after this run checked its plan",
						FmMigrationLabel(m.version, m.name)),
				 errdetail("Its up script changed while the run was starting its background worker. Nothing of the new script was run."),
				 errhint("Run again: the next run checks the new script first.")));
	FmCheckScriptChecksum(m.version, m.name, "up", progress.up,
						  progress.checksum);
	stmts = FmSplitScript(progress.up,
						  psprintf("up script of %s",
								   FmMigrationLabel(m.version, m.name)));
	/* the run's consent, checked and recorded statement by statement */
	FmConsentSetRunText(consent, "migrate()");
	FmConsentWatchBegin(&m, progress.up);
	end_catalog_access();
	CommitTransactionCommand();

	ctx.migration = &m;
	ctx.script = progress.up;
	ctx.what = NULL;
	ctx.statement = NULL;
	errcallback.callback = worker_error_callback;
	errcallback.arg = &ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (n = progress.done + 1; n <= list_length(stmts); n++)
	{
		FmStatement *stmt = (FmStatement *) list_nth(stmts, n - 1);
		TimestampTz started = GetCurrentTimestamp();
		char	   *sql;
		bool		started_before;

		MemoryContextSwitchTo(stmt_cxt);
		ctx.statement = stmt;
		current_statement = n;
		send_statement_start(stmt, list_length(stmts), started);
		sql = FmStatementText(progress.up, stmt);
		debug_query_string = sql;
		FmProgressStatement(n, list_length(stmts), stmt->line, started, sql);

		/*
		 * A lock timeout rolled the statement back: it runs again.  Whether
		 * an earlier run started it is decided once, before the first
		 * attempt: a retry that finds what it left behind knows so anyway.
		 */
		started_before = progress.started == n;
		for (int attempt = 1;; attempt++)
		{
			ErrorData  *edata = NULL;
			long		delay;
			char	   *lock_timeout = pstrdup(GetConfigOption("lock_timeout",
															   false, false));

			PG_TRY();
			{
				run_statement(&m, &progress, stmt, sql, started_before, stmt_cxt);
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(cxt);
				edata = CopyErrorData();
				FlushErrorState();
				AbortCurrentTransaction();
			}
			PG_END_TRY();
			if (edata == NULL)
				break;
			if (leader_gone || edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
				ReThrowError(edata);

			/*
			 * The NOTICE naming the blockers, or the final error; then the
			 * backoff, outside a transaction: no snapshot held meanwhile.
			 */
			StartTransactionCommand();
			set_session_option("lock_timeout", lock_timeout);
			begin_catalog_access();
			delay = FmLockRetryDelay(&m, progress.up, n, attempt, edata);
			end_catalog_access();
			CommitTransactionCommand();
			if (delay < 0)
				ReThrowError(edata);
			FreeErrorData(edata);
			FmLockRetrySleep(&m, delay);
			MemoryContextSwitchTo(stmt_cxt);
			FmProgressStatement(n, list_length(stmts), stmt->line, started, sql);
		}
		MemoryContextReset(stmt_cxt);
	}

	error_context_stack = errcallback.previous;
	debug_query_string = NULL;
	FmProgressRunEnd(NULL);
	pgstat_report_activity(STATE_IDLE, NULL);
	FmLockRelease(FM_LOCK_CLASSID, FM_WORKER_OBJID);
	/* what its destructive statements removed, for the caller to record */
	{
		List	   *destroyed;

		MemoryContextSwitchTo(cxt);
		destroyed = FmConsentWatchEnd();
		if (destroyed != NIL)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			pq_sendstring(&buf, FmDataLossJson(destroyed, NULL));
			pq_sendstring(&buf, FmDataLossJson(destroyed, &m));
			pq_sendstring(&buf, FmDataLossText(destroyed, true));
			(void) send_message('R', &buf);
		}
	}
	if (!send_message('D', NULL))
		elog(LOG, "fleetmigrate worker: the caller went away before the end of %s",
			 FmMigrationLabel(m.version, m.name));
}

/*
 * fleetmigrate_worker_main
 *		Entry point of the background worker.
 */
void
fleetmigrate_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	FmWorkerArgs *args;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	char	   *version;
	char	   *name;
	TimeoutId	watchdog;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "fleetmigrate worker");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the fleetmigrate worker's shared memory segment")));
	dsm_pin_mapping(seg);
	toc = shm_toc_attach(FM_WORKER_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bad magic number in the fleetmigrate worker's shared memory segment")));
	args = shm_toc_lookup(toc, KEY_ARGS, false);
	mq = shm_toc_lookup(toc, KEY_QUEUE, false);
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
	worker_mqh = mqh;

	BackgroundWorkerInitializeConnectionByOid(args->database,
											  args->session_user, 0);
	version = shm_toc_lookup(toc, KEY_VERSION, false);
	name = shm_toc_lookup(toc, KEY_NAME, false);

	/* the watchdog: stop when the caller goes away (header comment) */
	leader_pid = args->leader_pid;
	leader_proc = BackendPidGetProc(leader_pid);
	if (leader_proc == NULL)
		ereport(FATAL,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the session running fleetmigrate.migrate() has gone away"),
				 errdetail("Process %d ended before its background worker started %s.",
						   leader_pid, FmMigrationLabel(version, name))));
	watchdog = RegisterTimeout(USER_TIMEOUT, leader_watchdog);
	enable_timeout_every(watchdog,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 FM_WATCHDOG_INTERVAL),
						 FM_WATCHDOG_INTERVAL);

	PG_TRY();
	{
		run_statements(args,
					   shm_toc_lookup(toc, KEY_CHECKSUM, false),
					   shm_toc_lookup(toc, KEY_CONSENT, false),
					   version, name,
					   shm_toc_lookup(toc, KEY_SEARCH_PATH, false));
	}
	PG_CATCH();
	{
		if (leader_gone)
		{
			/* nobody to tell but the server log; exiting releases the locks */
			FlushErrorState();
			ereport(FATAL,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("the session running fleetmigrate.migrate() has gone away"),
					 current_statement > 0 ?
					 errdetail("Process %d ended; its background worker cancelled statement %d of %s. The next run continues with the first statement not done.",
							   leader_pid, current_statement,
							   FmMigrationLabel(version, name)) :
					 errdetail("Process %d ended; its background worker stops before %s.",
							   leader_pid, FmMigrationLabel(version, name))));
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	disable_timeout(watchdog, false);
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * receive_messages
 *		The caller's side: relay the worker's NOTICEs, follow its statements
 *		in *failed_at and pg_stat_activity, keep its error in *error, until
 *		it detaches.  *finished says whether it sent its final message.
 */
static void
receive_messages(shm_mq_handle *mqh, const FmMigration *m, const char *up,
				 FmFailedAt *failed_at, ErrorData **error, bool *finished,
				 int *statements)
{
	List	   *stmts = FmSplitScript(up,
									  psprintf("up script of %s",
											   FmMigrationLabel(m->version, m->name)));

	for (;;)
	{
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		char		msgtype;

		if (shm_mq_receive(mqh, &nbytes, &data, false) != SHM_MQ_SUCCESS)
			return;				/* the worker has detached */

		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		msgtype = pq_getmsgbyte(&msg);
		switch (msgtype)
		{
			case 'S':
				{
					int			total;
					TimestampTz started;

					failed_at->statement = pq_getmsgint(&msg, 4);
					failed_at->line = pq_getmsgint(&msg, 4);
					total = pq_getmsgint(&msg, 4);
					started = pq_getmsgint64(&msg);
					(*statements)++;
					FmProgressStatement(failed_at->statement, total,
										failed_at->line, started,
										failed_at->statement >= 1 &&
										failed_at->statement <= list_length(stmts) ?
										FmStatementText(up, list_nth(stmts, failed_at->statement - 1)) :
										NULL);
					break;
				}
			case 'R':
				destroyed_json = pstrdup(pq_getmsgstring(&msg));
				destroyed_run_json = pstrdup(pq_getmsgstring(&msg));
				destroyed_text = pstrdup(pq_getmsgstring(&msg));
				break;
			case 'D':
				*finished = true;
				break;
			case 'N':
			case 'E':
				{
					ErrorData  *edata = palloc0(sizeof(ErrorData));

					pq_parse_errornotice(&msg, edata);
					if (msgtype == 'N')
						ThrowErrorData(edata);	/* NOTICE, WARNING, ... as sent */
					else if (*error == NULL)
					{
						/* raised again here, as the caller's own error */
						edata->elevel = ERROR;
						edata->output_to_client = true;
						edata->output_to_server = log_min_messages <= ERROR;
						*error = edata;
					}
					break;
				}
			default:
				break;			/* protocol messages we do not need */
		}
		pfree(msg.data);
	}
}

/* PG_ENSURE_ERROR_CLEANUP callback: stop the worker (handle in "arg"). */
static void
terminate_worker(int code, Datum arg)
{
	TerminateBackgroundWorker((BackgroundWorkerHandle *) DatumGetPointer(arg));
}

/*
 * FmRunMigrationInWorker
 *		FmRunMigration() for a non-transactional migration: run its
 *		statements (from the first one not done) in a background worker,
 *		then record it as applied in the current transaction.  The caller
 *		must hold no snapshot.  ERRORs with the worker's error, and sets
 *		*failed_at, as FmRunMigration() does.
 */
int
FmRunMigrationInWorker(const FmMigration *m, char *const scripts[3],
					   const char *applied_by, MemoryContext cxt,
					   double *duration_ms, FmFailedAt *failed_at)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	TimestampTz started = GetCurrentTimestamp();
	const char *search_path = GetConfigOption("search_path", false, false);
	char	   *consent = FmConsentRunText();
	instr_time	start;
	instr_time	elapsed;
	shm_toc_estimator e;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	FmWorkerArgs *args;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	ErrorData  *error = NULL;
	bool		finished = false;
	int			statements = 0;
	pid_t		pid;

	failed_at->statement = 0;
	failed_at->line = 0;
	INSTR_TIME_SET_CURRENT(start);
	FmProgressMigrationBegin(m->version, m->name);
	destroyed_json = destroyed_run_json = destroyed_text = NULL;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(FmWorkerArgs));
	shm_toc_estimate_chunk(&e, strlen(m->version) + 1);
	shm_toc_estimate_chunk(&e, strlen(m->name) + 1);
	shm_toc_estimate_chunk(&e, strlen(search_path) + 1);
	shm_toc_estimate_chunk(&e, strlen(m->checksum) + 1);
	shm_toc_estimate_chunk(&e, strlen(consent) + 1);
	shm_toc_estimate_chunk(&e, FM_WORKER_QUEUE_SIZE);
	shm_toc_estimate_keys(&e, 7);
	size = shm_toc_estimate(&e);

	seg = dsm_create(size, 0);
	toc = shm_toc_create(FM_WORKER_MAGIC, dsm_segment_address(seg), size);
	args = shm_toc_allocate(toc, sizeof(FmWorkerArgs));
	args->database = MyDatabaseId;
	args->session_user = GetSessionUserId();
	args->current_user = GetUserId();
	args->leader_pid = MyProcPid;
	args->lock_timeout = fm_lock_timeout;
	args->lock_retries = fm_lock_retries;
	args->statement_timeout = fm_statement_timeout;
	FmProgressGet(&args->progress);
	shm_toc_insert(toc, KEY_ARGS, args);
	shm_toc_insert(toc, KEY_VERSION,
				   strcpy(shm_toc_allocate(toc, strlen(m->version) + 1), m->version));
	shm_toc_insert(toc, KEY_NAME,
				   strcpy(shm_toc_allocate(toc, strlen(m->name) + 1), m->name));
	shm_toc_insert(toc, KEY_SEARCH_PATH,
				   strcpy(shm_toc_allocate(toc, strlen(search_path) + 1), search_path));
	shm_toc_insert(toc, KEY_CHECKSUM,
				   strcpy(shm_toc_allocate(toc, strlen(m->checksum) + 1), m->checksum));
	shm_toc_insert(toc, KEY_CONSENT,
				   strcpy(shm_toc_allocate(toc, strlen(consent) + 1), consent));
	mq = shm_mq_create(shm_toc_allocate(toc, FM_WORKER_QUEUE_SIZE),
					   FM_WORKER_QUEUE_SIZE);
	shm_toc_insert(toc, KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "fleetmigrate", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "fleetmigrate_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "fleetmigrate worker for PID %d",
			 MyProcPid);
	strlcpy(worker.bgw_type, "fleetmigrate worker", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a background worker for %s",
						FmMigrationLabel(m->version, m->name)),
				 errdetail("A non-transactional migration runs its statements in a background worker, and all %d worker slots are in use.",
						   max_worker_processes),
				 errhint("Try again later, or raise max_worker_processes (it needs a restart).")));
	shm_mq_set_handle(mqh, handle);

	/*
	 * Cancelled, or the session ends (also by FATAL: terminated, client
	 * gone): stop the worker too, at once.
	 */
	PG_ENSURE_ERROR_CLEANUP(terminate_worker, PointerGetDatum(handle));
	{
		if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_POSTMASTER_DIED)
			ereport(ERROR,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("postmaster exited while starting a background worker")));
		FmProgressWorker(pid);
		receive_messages(mqh, m, scripts[FM_SCRIPT_UP], failed_at, &error,
						 &finished, &statements);
	}
	PG_END_ENSURE_ERROR_CLEANUP(terminate_worker, PointerGetDatum(handle));
	(void) WaitForBackgroundWorkerShutdown(handle);
	FmProgressWorker(0);
	dsm_detach(seg);

	if (error != NULL)
		ReThrowError(error);
	if (!finished)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the background worker running %s exited unexpectedly",
						FmMigrationLabel(m->version, m->name)),
				 failed_at->statement > 0 ?
				 errdetail("It was running statement %d (line %d). Statements before it are recorded as done.",
						   failed_at->statement, failed_at->line) : 0,
				 errhint("See the server log. The next run continues with the first statement not done.")));
	failed_at->statement = 0;
	failed_at->line = 0;

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	*duration_ms = INSTR_TIME_GET_MILLISEC(elapsed);
	(void) FmVerifyMigration(m, scripts[FM_SCRIPT_VERIFY], cxt);
	FmCatalogRecordApplied(m, started, *duration_ms, applied_by,
						   FmConsent(m, scripts[FM_SCRIPT_UP]), NULL,
						   scripts[FM_SCRIPT_UP], NULL);
	if (destroyed_json != NULL)
		FmCatalogRecordDestroyed(m, destroyed_json);
	MemoryContextSwitchTo(oldcxt);
	return statements;
}

/*
 * FmWorkerDestroyed
 *		What the destructive statements of the migration the last
 *		FmRunMigrationInWorker() ran removed: the JSON of the run log's
 *		destroyed column and the sentence of the NOTICE; NULL: nothing.
 */
void
FmWorkerDestroyed(const char **run_json, const char **text)
{
	*run_json = destroyed_run_json;
	*text = destroyed_text;
}
