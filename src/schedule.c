/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  Many databases on one schedule: what the view
 *	  fleetmigrate.scheduled_databases shows, in the database where pg_cron
 *	  lives.
 *
 * fleetmigrate.schedule(schedule, database) (PL/pgSQL, in the 1.10--1.11
 * script) gives each database a pg_cron job named "fleetmigrate
 * <database>" ("fleetmigrate" for pg_cron's own database, "fleetmigrate
 * <md5>" for a long name), run as the role that scheduled it.  This file
 * reads those jobs back: from cron.job, with pg_cron's last attempt from
 * cron.job_run_details, then from each database its own record, its
 * fleetmigrate.summary and its last fleetmigrate.runs row, over a
 * connection to it (remote.c).
 *
 * Who sees what: cron.job is read as the caller, so pg_cron's row-level
 * security shows a role its own jobs, and the query keeps only the jobs
 * whose username is the current user unless the caller is a superuser
 * (who sees all).  The connection to a database is made as the job's role,
 * the role pg_cron connects as to run the job, so the reader learns only
 * what that role's own job could read there; before connecting, the
 * role's LOGIN and CONNECT privilege and the database's connection flag
 * are checked again (they may have changed since schedule()).  Host and
 * port are the job's, as pg_cron connects: cron.job.nodename and nodeport
 * (cron.host and this server's port when it was scheduled), which only
 * pg_cron and superusers write.  Never the setting cron.host as this
 * session sees it: when pg_cron is installed but not loaded, it is a
 * placeholder any role may SET, and the connection would take the server's
 * .pgpass password for the job's role to a server of the reader's choosing.
 *
 * A database that cannot be read (it was dropped, the role may not
 * connect, fleetmigrate is not installed there, it does not answer, its
 * answer is not valid for the view's columns) is a row with the reason in
 * "error", never an error of the view.  What a database answers is as its
 * job's role wants it: a role that owns its database can put views of its
 * own where fleetmigrate's are read, and even change DateStyle in the
 * middle of the query, so each row's values are converted in a
 * subtransaction (build_row()) and a data exception becomes the row's
 * error.  The
 * databases are read one after another, each within FM_REMOTE_TIMEOUT_MS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "remote.h"

/* the view's columns, in order (fleetmigrate--1.10--1.11.sql) */
enum
{
	COL_DATABASE,
	COL_USERNAME,
	COL_JOBID,
	COL_SCHEDULE,
	COL_ACTIVE,
	COL_CRON_STATUS,
	COL_CRON_MESSAGE,
	COL_CRON_START,
	COL_CRON_END,
	COL_EXTVERSION,
	COL_APPLIED,				/* the database's summary: 4 columns */
	COL_LAST_RUN_ID = COL_APPLIED + 4,	/* its last run: 8 columns */
	COL_ERROR = COL_LAST_RUN_ID + 8,
	NUM_COLUMNS
};

/* the job's columns read from cron.job, before the checks below */
#define JOB_COLUMNS (COL_CRON_END + 1)

/* One fleetmigrate job, as read from cron.job. */
typedef struct ScheduledJob
{
	char	   *values[JOB_COLUMNS];	/* the view's first columns, as text */
	char	   *host;			/* cron.job.nodename */
	int			port;			/* cron.job.nodeport */
	char	   *refusal;		/* why not to connect, or NULL */
} ScheduledJob;

/* What a database recorded, filled by read_database(). */
typedef struct DatabaseRecord
{
	char	  **values;			/* the view's columns, as text */
	const char *dbname;
} DatabaseRecord;

/*
 * The caller's fleetmigrate jobs, with pg_cron's last attempt and whether
 * the job's role may connect now.  $1: the caller is a superuser.
 */
static const char *const jobs_query =
"SELECT j.database, j.username, j.jobid, j.schedule, j.active,"
"       d.status, d.return_message, d.start_time, d.end_time, j.nodeport,"
"       CASE WHEN db.oid IS NULL"
"            THEN pg_catalog.format('database \"%s\" does not exist', j.database)"
"            WHEN r.oid IS NULL"
"            THEN pg_catalog.format('role \"%s\" does not exist', j.username)"
"            WHEN NOT r.rolcanlogin"
"            THEN pg_catalog.format('role \"%s\" cannot log in', j.username)"
"            WHEN NOT db.datallowconn"
"            THEN pg_catalog.format('database \"%s\" does not allow connections', j.database)"
"            WHEN NOT pg_catalog.has_database_privilege(r.oid, db.oid, 'CONNECT')"
"            THEN pg_catalog.format('role \"%s\" has no CONNECT privilege on database \"%s\"',"
"                                   j.username, j.database)"
"       END,"
"       j.nodename"
"  FROM cron.job j"
"  LEFT JOIN pg_catalog.pg_database db ON db.datname OPERATOR(pg_catalog.=) j.database"
"  LEFT JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) j.username"
"  LEFT JOIN LATERAL ("
"       SELECT x.status, x.return_message, x.start_time, x.end_time"
"         FROM cron.job_run_details x"
"        WHERE x.jobid OPERATOR(pg_catalog.=) j.jobid"
"        ORDER BY x.runid DESC LIMIT 1) d ON true"
" WHERE (j.jobname OPERATOR(pg_catalog.=) 'fleetmigrate'"
"        OR pg_catalog.starts_with(j.jobname::pg_catalog.text, 'fleetmigrate '))"
"   AND (j.username OPERATOR(pg_catalog.=) CURRENT_USER OR $1)"
" ORDER BY j.database COLLATE pg_catalog.\"C\", j.username COLLATE pg_catalog.\"C\", j.jobid";

/* In the scheduled database: is fleetmigrate there? */
static const char *const extension_query =
"SELECT e.extversion FROM pg_catalog.pg_extension e"
" WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate'";

/*
 * In the scheduled database: its summary and its last run.  Each value is
 * cut there, as text (numbers and times at 100 characters, texts at
 * FM_REMOTE_TEXT_MAX): what a database answers is as its job's role wants
 * it (see build_row()), and one answer of hundreds of megabytes would be
 * held three times over in this backend.
 */
#define FM_REMOTE_TEXT_MAX "10000"
#define CUT(x, n) "pg_catalog.left((" x ")::pg_catalog.text, " n ")"
static const char *const record_query =
"SELECT " CUT("s.applied", "100") ", " CUT("s.pending", "100") ","
"       " CUT("s.failed", "100") ", " CUT("s.drift", "100") ","
"       " CUT("l.id", "100") ", " CUT("l.started_by", FM_REMOTE_TEXT_MAX) ","
"       " CUT("l.outcome", FM_REMOTE_TEXT_MAX) ","
"       " CUT("COALESCE(l.last_run_at, l.finished_at, l.started_at)", "100") ","
"       " CUT("l.applied", "100") ", " CUT("l.failed_version", FM_REMOTE_TEXT_MAX) ","
"       " CUT("l.failed_name", FM_REMOTE_TEXT_MAX) ", " CUT("l.error", FM_REMOTE_TEXT_MAX)
"  FROM fleetmigrate.summary s"
"  LEFT JOIN (SELECT r.id, r.started_by, r.outcome, r.last_run_at, r.finished_at,"
"                    r.started_at, r.applied, r.failed_version, r.failed_name, r.error"
"               FROM fleetmigrate.runs r"
"              ORDER BY r.id DESC LIMIT 1) l ON true";

PG_FUNCTION_INFO_V1(fleetmigrate_read_scheduled_databases);

static List *read_jobs(void);
static char *read_database(FmRemoteSession *session, void *arg);
static HeapTuple build_row(AttInMetadata *attinmeta, char **values);
static void refuse_without_pg_cron(void);

/*
 * fleetmigrate_read_scheduled_databases
 *		fleetmigrate.read_scheduled_databases(): one row per fleetmigrate
 *		job of the caller, with what its database recorded.
 *
 * ERROR when pg_cron is not installed in this database (saying where it
 * is); every other failure is a row's "error".
 */
Datum
fleetmigrate_read_scheduled_databases(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *attinmeta;
	List	   *jobs;
	ListCell   *lc;

	refuse_without_pg_cron();
	InitMaterializedSRF(fcinfo, 0);
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	if (attinmeta->tupdesc->natts != NUM_COLUMNS)
		elog(ERROR, "read_scheduled_databases() returns %d columns, not %d",
			 attinmeta->tupdesc->natts, NUM_COLUMNS);
	jobs = read_jobs();
	foreach(lc, jobs)
	{
		ScheduledJob *job = (ScheduledJob *) lfirst(lc);
		char	   *values[NUM_COLUMNS] = {0};
		HeapTuple	tuple;

		memcpy(values, job->values, sizeof(job->values));
		if (job->refusal != NULL)
			values[COL_ERROR] = job->refusal;
		else
		{
			FmRemoteTarget target;
			DatabaseRecord record;

			target.host = job->host;
			target.port = job->port;
			target.dbname = job->values[COL_DATABASE];
			target.user = job->values[COL_USERNAME];
			record.values = values;
			record.dbname = target.dbname;
			values[COL_ERROR] = FmRemoteRead(&target, read_database, &record);
		}
		tuple = build_row(attinmeta, values);
		tuplestore_puttuple(rsinfo->setResult, tuple);
		heap_freetuple(tuple);
	}

	return (Datum) 0;
}

/*
 * read_jobs
 *		The caller's fleetmigrate jobs (every role's for a superuser), as
 *		ScheduledJob structs in the current memory context.  Reads cron.job
 *		as the caller.  Connects to and finishes SPI.
 */
static List *
read_jobs(void)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[1] = {BOOLOID};
	Datum		args[1];
	List	   *jobs = NIL;
	int			rc;

	args[0] = BoolGetDatum(superuser());
	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_with_args(jobs_query, 1, argtypes, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading cron.job failed: %s", SPI_result_code_string(rc));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(outer);
		ScheduledJob *job = palloc0(sizeof(ScheduledJob));
		bool		isnull;
		Datum		port;

		for (int c = 0; c < JOB_COLUMNS; c++)
			job->values[c] = SPI_getvalue(row, desc, c + 1);
		port = SPI_getbinval(row, desc, JOB_COLUMNS + 1, &isnull);
		job->port = isnull ? 0 : DatumGetInt32(port);
		job->refusal = SPI_getvalue(row, desc, JOB_COLUMNS + 2);
		job->host = SPI_getvalue(row, desc, JOB_COLUMNS + 3);
		if (job->refusal == NULL && job->port <= 0)
			job->refusal = pstrdup("the job has no port (cron.job.nodeport)");
		if (job->refusal == NULL && (job->host == NULL || job->host[0] == '\0'))
			job->refusal = pstrdup("the job has no host (cron.job.nodename)");
		jobs = lappend(jobs, job);
		MemoryContextSwitchTo(spi);
	}

	if ((rc = SPI_finish()) != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
	return jobs;
}

/*
 * read_database
 *		FmRemoteReader: in a scheduled database's session, its fleetmigrate
 *		version, summary and last run into the row's values.  Returns why
 *		they could not be read, or NULL.
 */
static char *
read_database(FmRemoteSession *session, void *arg)
{
	DatabaseRecord *record = (DatabaseRecord *) arg;
	char	  **row;
	bool		found;
	char	   *error;

	row = FmRemoteQueryRow(session, extension_query, 1, &found, &error);
	if (error != NULL)
		return error;
	if (!found)
		return psprintf("fleetmigrate is not installed in database \"%s\"",
						record->dbname);
	record->values[COL_EXTVERSION] = row[0];

	row = FmRemoteQueryRow(session, record_query, 12, &found, &error);
	if (error != NULL)
		return error;
	if (!found)
		return psprintf("could not read database \"%s\": fleetmigrate.summary has no row",
						record->dbname);
	for (int i = 0; i < 12; i++)
		record->values[COL_APPLIED + i] = row[i];
	return NULL;
}

/*
 * build_row
 *		The view's row from values (text, NULL for NULL), converted by each
 *		column's input function in a subtransaction: when what the database
 *		answered does not convert (a data exception, class 22), the row
 *		keeps the job's columns and says why in "error".  Other errors
 *		(out of memory, a cancel) are thrown.
 */
static HeapTuple
build_row(AttInMetadata *attinmeta, char **values)
{
	MemoryContext outer = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile HeapTuple tuple = NULL;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(outer);
	PG_TRY();
	{
		tuple = BuildTupleFromCStrings(attinmeta, values);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(outer);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(outer);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(outer);
	CurrentResourceOwner = owner;
	if (tuple != NULL)
		return tuple;

	/* the job's columns and extversion (text), and why the rest is not shown */
	for (int c = COL_APPLIED; c < COL_ERROR; c++)
		values[c] = NULL;
	values[COL_ERROR] = psprintf("could not read database \"%s\": its answer is not valid: %s",
								 values[COL_DATABASE], edata->message);
	FreeErrorData(edata);
	return BuildTupleFromCStrings(attinmeta, values);
}

/*
 * refuse_without_pg_cron
 *		ERROR unless pg_cron is installed in this database: the jobs are
 *		in its tables.  Says where pg_cron is when it is loaded: by name
 *		to those who may read cron.database_name (pg_cron makes it a
 *		superuser-only setting), as "another database" to others.
 */
static void
refuse_without_pg_cron(void)
{
	const char *cron_db;

	if (OidIsValid(get_extension_oid("pg_cron", true)))
		return;
	cron_db = GetConfigOption("cron.database_name", true, false);
	if (cron_db != NULL && strcmp(cron_db, get_database_name(MyDatabaseId)) != 0)
	{
		/* pg_cron shows the setting only to those who may read all settings */
		if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("pg_cron is not installed in database \"%s\"",
							get_database_name(MyDatabaseId)),
					 errdetail("pg_cron runs in another database of this server (cron.database_name), and its jobs are there."),
					 errhint("Connect to that database (a superuser can tell you which) and read fleetmigrate.scheduled_databases there.")));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_cron is not installed in database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errdetail("pg_cron runs in database \"%s\" (cron.database_name), and its jobs are there.",
						   cron_db),
				 errhint("Connect to database \"%s\" and read fleetmigrate.scheduled_databases there.",
						 cron_db)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("pg_cron is not installed in database \"%s\"",
					get_database_name(MyDatabaseId)),
			 errdetail("fleetmigrate.scheduled_databases lists the pg_cron jobs that fleetmigrate.schedule() created."),
			 errhint("Without pg_cron there are no scheduled databases.")));
}
