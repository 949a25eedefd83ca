/*-------------------------------------------------------------------------
 *
 * remote.c
 *	  A short read-only session with another database of this cluster,
 *	  over libpq: how the view fleetmigrate.scheduled_databases reads what
 *	  each scheduled database recorded of its own runs.
 *
 * A backend cannot read another database's tables, so it connects to it,
 * as contrib's dblink and postgres_fdw do, and as pg_cron does to run a
 * job: host, port, database and role are given one by one (the database
 * name is never expanded as a connection string), with no password, so
 * the server's pg_hba.conf (and the server's own .pgpass) decide as they
 * do for pg_cron.  The caller chooses the role and checks that it may do
 * this (src/schedule.c: the reader's own jobs only).
 *
 * The session is fixed and read-only: its options set search_path to
 * pg_catalog, pg_temp, a read-only default, statement_timeout, and the
 * date and interval styles the values are read back in; the first query
 * starts a READ ONLY transaction, and the caller's queries are fixed text.
 * Values come back as text in this database's encoding (client_encoding),
 * checked before they are used.
 *
 * Waiting: the connection is non-blocking, and every wait for its socket
 * is WaitLatchOrSocket() with CHECK_FOR_INTERRUPTS(), so a cancel or
 * terminate is served at once; connecting and the queries together have
 * FM_REMOTE_TIMEOUT_MS, after which the database is reported as not
 * answering (libpq's connect_timeout does not apply to PQconnectPoll()).
 * A file descriptor is reserved with AcquireExternalFD() for the life of
 * the connection.  The connection is closed on every path: PQfinish() and
 * ReleaseExternalFD() in PG_FINALLY, so an ERROR (an interrupt, out of
 * memory) in the middle leaves nothing open.  Everything else that goes
 * wrong (cannot connect, a query fails, time is up) is not an ERROR: it is
 * returned as text, for the caller to show.
 *
 * This file uses nothing else of fleetmigrate; no version conditionals are
 * needed (PostgreSQL 16's libpq-be-fe-helpers.h does much the same, but 15
 * did not have it in its first releases).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "remote.h"

struct FmRemoteSession
{
	PGconn	   *conn;
	PGresult   *result;			/* the query's result while it is read:
								 * freed with the connection if an ERROR
								 * cuts the reading short */
	const char *dbname;
	TimestampTz deadline;		/* of the whole session */
};

/* the session's settings, as command-line options of the backend */
#define FM_REMOTE_OPTIONS \
	"-c search_path=pg_catalog,pg_temp -c default_transaction_read_only=on " \
	"-c statement_timeout=10000 -c lock_timeout=10000 " \
	"-c idle_in_transaction_session_timeout=60000 " \
	"-c DateStyle=ISO -c IntervalStyle=postgres"

static char *connect_and_read(FmRemoteSession *session, const FmRemoteTarget *target,
							  FmRemoteReader reader, void *arg);
static bool wait_socket(FmRemoteSession *session, int io);
static char *libpq_message(PGconn *conn);
static char *run_query(FmRemoteSession *session, const char *sql);

/*
 * FmRemoteRead
 *		Connect to target, run reader in the session, and close it.
 *
 * Returns NULL when the reader read the database, else why not (palloc'd
 * in the current memory context): could not connect, a query failed, it
 * did not answer in time, or the reader's own reason.  Can ERROR only for
 * interrupts and out of memory, after closing the connection.  Any
 * transaction state; no SPI needed.
 */
char *
FmRemoteRead(const FmRemoteTarget *target, FmRemoteReader reader, void *arg)
{
	/* in memory, not on the stack: PG_FINALLY reads what the try set */
	FmRemoteSession *session = palloc0(sizeof(FmRemoteSession));
	char	   *volatile error = NULL;

	session->dbname = target->dbname;
	session->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													FM_REMOTE_TIMEOUT_MS);

	/* obey fd.c's limit on file descriptors, as dblink does */
	if (!AcquireExternalFD())
		return psprintf("could not connect to database \"%s\": too many files are open on this server (max_files_per_process)",
						target->dbname);

	PG_TRY();
	{
		error = connect_and_read(session, target, reader, arg);
	}
	PG_FINALLY();
	{
		PQclear(session->result);
		session->result = NULL;
		if (session->conn != NULL)
			PQfinish(session->conn);
		session->conn = NULL;
		ReleaseExternalFD();
	}
	PG_END_TRY();
	pfree(session);

	return error;
}

/*
 * connect_and_read
 *		FmRemoteRead()'s work, inside its PG_TRY: session->conn is set as
 *		soon as libpq returns it, for the caller to close.
 */
static char *
connect_and_read(FmRemoteSession *session, const FmRemoteTarget *target,
				 FmRemoteReader reader, void *arg)
{
	char		port[16];
	const char *keywords[] = {"host", "port", "dbname", "user", "options",
		"client_encoding", "fallback_application_name", NULL};
	const char *values[8];
	PostgresPollingStatusType status;
	char	   *error;

	snprintf(port, sizeof(port), "%d", target->port);
	values[0] = target->host;
	values[1] = port;
	values[2] = target->dbname;
	values[3] = target->user;
	values[4] = FM_REMOTE_OPTIONS;
	values[5] = GetDatabaseEncodingName();
	values[6] = "fleetmigrate";
	values[7] = NULL;

	/* expand_dbname = 0: a database name is only a name */
	session->conn = PQconnectStartParams(keywords, values, 0);
	if (session->conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (PQstatus(session->conn) == CONNECTION_BAD)
		return psprintf("could not connect to database \"%s\" as role \"%s\": %s",
						target->dbname, target->user, libpq_message(session->conn));

	/* PQconnectPoll()'s protocol: wait for the socket to be writable first */
	status = PGRES_POLLING_WRITING;
	while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
	{
		if (!wait_socket(session, status == PGRES_POLLING_READING ?
						 WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE))
			return psprintf("could not connect to database \"%s\" as role \"%s\": no answer within %d seconds",
							target->dbname, target->user, FM_REMOTE_TIMEOUT_MS / 1000);
		status = PQconnectPoll(session->conn);
	}
	if (status == PGRES_POLLING_FAILED || PQstatus(session->conn) != CONNECTION_OK)
		return psprintf("could not connect to database \"%s\" as role \"%s\": %s",
						target->dbname, target->user, libpq_message(session->conn));

	if (PQsetnonblocking(session->conn, 1) != 0)
		return psprintf("could not read database \"%s\": %s",
						target->dbname, libpq_message(session->conn));

	error = run_query(session, "START TRANSACTION READ ONLY");
	if (error == NULL && PQresultStatus(session->result) != PGRES_COMMAND_OK)
		error = psprintf("could not read database \"%s\": START TRANSACTION did not succeed",
						 target->dbname);
	PQclear(session->result);
	session->result = NULL;
	if (error != NULL)
		return error;

	return reader(session, arg);
}

/*
 * FmRemoteQueryRow
 *		Run one fixed query in the session and return its first row: ncols
 *		values, each palloc'd text in this database's encoding or NULL for
 *		an SQL NULL.
 *
 * *found is false, and the result NULL, when the query returned no row.
 * On failure (the query fails, its result has another shape, no answer in
 * time, a value is not valid text) *error says why and the result is NULL.
 * sql is fixed text, never built from input.  Can ERROR only as
 * FmRemoteRead() can; the caller's FmRemoteRead() closes the session then.
 */
char **
FmRemoteQueryRow(FmRemoteSession *session, const char *sql, int ncols,
				 bool *found, char **error)
{
	PGresult   *result;
	char	  **row = NULL;

	*found = false;
	*error = run_query(session, sql);
	result = session->result;
	if (*error == NULL && PQresultStatus(result) != PGRES_TUPLES_OK)
		*error = psprintf("could not read database \"%s\": the query did not return rows",
						  session->dbname);
	else if (*error == NULL && PQnfields(result) != ncols)
		*error = psprintf("could not read database \"%s\": the query returned %d columns, not %d",
						  session->dbname, PQnfields(result), ncols);
	else if (*error == NULL && PQntuples(result) > 0)
	{
		row = palloc0(sizeof(char *) * ncols);
		for (int i = 0; i < ncols && *error == NULL; i++)
		{
			const char *value;
			int			len;

			if (PQgetisnull(result, 0, i))
				continue;
			value = PQgetvalue(result, 0, i);
			len = PQgetlength(result, 0, i);
			if (!pg_verifymbstr(value, len, true))
				*error = psprintf("could not read database \"%s\": its answer is not valid in encoding \"%s\"",
								  session->dbname, GetDatabaseEncodingName());
			else
				row[i] = pnstrdup(value, len);
		}
		if (*error == NULL)
			*found = true;
	}
	PQclear(session->result);
	session->result = NULL;

	return *found ? row : NULL;
}

/*
 * run_query
 *		Send sql and collect its result into session->result (the last
 *		one, for the caller to PQclear), waiting interruptibly.  Returns
 *		NULL, or why it failed (palloc'd); session->result is NULL then.
 *		Kept in the session, a result is freed with the connection when an
 *		interrupt ERRORs in the middle.
 */
static char *
run_query(FmRemoteSession *session, const char *sql)
{
	PGconn	   *conn = session->conn;
	PGresult  **result = &session->result;
	PGresult   *res;
	char	   *error = NULL;

	PQclear(*result);
	*result = NULL;
	if (!PQsendQuery(conn, sql))
		return psprintf("could not read database \"%s\": %s",
						session->dbname, libpq_message(conn));

	/* push the query out: non-blocking, so it may take more than one call */
	for (;;)
	{
		int			flushed = PQflush(conn);

		if (flushed == 0)
			break;
		if (flushed < 0)
			return psprintf("could not read database \"%s\": %s",
							session->dbname, libpq_message(conn));
		if (!wait_socket(session, WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
			return psprintf("could not read database \"%s\": no answer within %d seconds",
							session->dbname, FM_REMOTE_TIMEOUT_MS / 1000);
		if (!PQconsumeInput(conn))
			return psprintf("could not read database \"%s\": %s",
							session->dbname, libpq_message(conn));
	}

	/* every result until PQgetResult() says the query is done */
	for (;;)
	{
		while (PQisBusy(conn))
		{
			if (!wait_socket(session, WL_SOCKET_READABLE))
			{
				PQclear(*result);
				*result = NULL;
				return psprintf("could not read database \"%s\": no answer within %d seconds",
								session->dbname, FM_REMOTE_TIMEOUT_MS / 1000);
			}
			if (!PQconsumeInput(conn))
				break;			/* PQgetResult() reports it */
		}
		res = PQgetResult(conn);
		if (res == NULL)
			break;
		if (error == NULL && (PQresultStatus(res) == PGRES_FATAL_ERROR ||
							  PQresultStatus(res) == PGRES_BAD_RESPONSE ||
							  PQresultStatus(res) == PGRES_NONFATAL_ERROR))
		{
			const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

			error = psprintf("could not read database \"%s\": %s", session->dbname,
							 primary != NULL ? primary : libpq_message(conn));
		}
		PQclear(*result);
		*result = res;
		if (PQstatus(conn) == CONNECTION_BAD)
			break;
	}
	if (error == NULL && *result == NULL)
		error = psprintf("could not read database \"%s\": %s",
						 session->dbname, libpq_message(conn));
	if (error != NULL)
	{
		PQclear(*result);
		*result = NULL;
	}
	return error;
}

/*
 * wait_socket
 *		Wait until the session's socket is ready for io (WL_SOCKET_*), or
 *		an interrupt arrives (served here: CHECK_FOR_INTERRUPTS() may
 *		ERROR), or the session's deadline passes (returns false).
 */
static bool
wait_socket(FmRemoteSession *session, int io)
{
	for (;;)
	{
		long		timeout;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												  session->deadline);
		if (timeout <= 0)
			return false;
		if (PQsocket(session->conn) < 0)
			return true;		/* libpq has closed it: let it say why */
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | io,
							   PQsocket(session->conn), timeout, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & io)
			return true;
	}
}

/*
 * libpq_message
 *		libpq's last error of conn as one line: its lines joined with
 *		spaces, tabs and repeated spaces squeezed (palloc'd).
 */
static char *
libpq_message(PGconn *conn)
{
	const char *msg = PQerrorMessage(conn);
	char	   *out = palloc(strlen(msg) + 1);
	char	   *o = out;

	for (const char *p = msg; *p != '\0'; p++)
	{
		char		c = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;

		if (c == ' ' && (o == out || o[-1] == ' '))
			continue;
		*o++ = c;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	if (out[0] == '\0')
		return pstrdup("the connection was lost");
	return out;
}
