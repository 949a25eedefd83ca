/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of a running migration, reported in pg_stat_activity and
 *	  read back by the view fleetmigrate.progress.
 *
 * Where the state lives: in this backend's memory, and in the text it
 * reports with pgstat_report_activity(), which every session reads in
 * pg_stat_activity.query.  Nothing is written to a table (a migration's
 * transaction is not visible to others until it commits, and a rolled
 * back one would undo the write), no lock is taken and no shared memory is
 * needed (the module is not preloaded).  Whoever may see a session's query
 * in pg_stat_activity (its own role, pg_read_all_stats) sees its progress,
 * and nobody else: the view reads pg_stat_activity as the caller.
 *
 * The text has three parts, one per line:
 *	 fleetmigrate: applying migration 003 viral_analytics
 *	 migrate() run 42, migration 2 of 5 since 2026-06-17 09:55:00.081234+00,
 *	   statement 3 of 7 (line 12) since 2026-06-17 09:55:01.5+00,
 *	   in background worker 4242, rows 20000 of 3000000
 *	 CREATE INDEX CONCURRENTLY ...
 * The second line is one line (wrapped here); its parts after the
 * migration's are there only when known.  Version and name end the first
 * line: a name holds no line break (definition.c), so the view's pattern
 * (fleetmigrate--1.9--1.10.sql) can take everything up to it.  Times are in
 * UTC, with the offset, whatever the session's TimeZone or DateStyle.
 * "rows D of T" are a batched backfill's counters (FmProgressBatch()).
 *
 * A run calls FmProgressRunBegin() before its first migration and
 * FmProgressRunEnd() after the last; the runner calls
 * FmProgressMigrationBegin() for each migration (a retry after a lock
 * timeout is the same migration, at the same position) and
 * FmProgressStatement() before each statement of an up script.  A
 * background worker gets the caller's state (FmProgressGet(), FmProgressSet())
 * and reports its own statements in the same form, its first line beginning
 * "fleetmigrate worker:" (the view shows the caller's row).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "progress.h"

static FmProgressState state = {
	.batch_rows_done = -1,
	.batch_rows_total = -1
};
static char *statement_text = NULL;	/* in TopMemoryContext */
static bool in_worker = false;	/* a background worker (FmProgressSet()) */

static void append_time(StringInfo buf, TimestampTz t);
static void report(void);

/* "t" in UTC, ISO 8601 with the offset, independent of DateStyle. */
static void
append_time(StringInfo buf, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(buf, "?");
		return;
	}
	appendStringInfo(buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
					 tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* Report the state in pg_stat_activity (see the header comment). */
static void
report(void)
{
	StringInfoData buf;

	if (state.version[0] == '\0')
		return;
	initStringInfo(&buf);
	appendStringInfo(&buf, "fleetmigrate%s: applying migration %s %s\n",
					 in_worker ? " worker" : "", state.version, state.name);
	if (state.caller[0] != '\0')
	{
		appendStringInfoString(&buf, state.caller);
		if (state.run_id > 0)
			appendStringInfo(&buf, " run " INT64_FORMAT, state.run_id);
		appendStringInfoString(&buf, ", ");
	}
	appendStringInfo(&buf, "migration %d", Max(state.migration, 1));
	if (state.migrations > 0)
		appendStringInfo(&buf, " of %d", state.migrations);
	appendStringInfoString(&buf, " since ");
	append_time(&buf, state.migration_started);
	if (state.statement > 0)
	{
		appendStringInfo(&buf, ", statement %d", state.statement);
		if (state.statements > 0)
			appendStringInfo(&buf, " of %d", state.statements);
		appendStringInfo(&buf, " (line %d) since ", state.line);
		append_time(&buf, state.statement_started);
	}
	if (state.worker_pid > 0)
		appendStringInfo(&buf, ", in background worker %d", state.worker_pid);
	if (state.batch_rows_done >= 0)
	{
		appendStringInfo(&buf, ", rows " INT64_FORMAT, state.batch_rows_done);
		if (state.batch_rows_total >= 0)
			appendStringInfo(&buf, " of " INT64_FORMAT, state.batch_rows_total);
	}
	if (statement_text != NULL)
		appendStringInfo(&buf, "\n%s", statement_text);
	pgstat_report_activity(STATE_RUNNING, buf.data);
	pfree(buf.data);
}

/*
 * FmProgressRunBegin
 *		A run by "caller" ("migrate()", ...; at most 31 bytes) begins.
 *		Reports nothing yet.
 */
void
FmProgressRunBegin(const char *caller)
{
	memset(&state, 0, sizeof(state));
	strlcpy(state.caller, caller, sizeof(state.caller));
	state.batch_rows_done = -1;
	state.batch_rows_total = -1;
	if (statement_text != NULL)
		pfree(statement_text);
	statement_text = NULL;
}

/* The run's id in fleetmigrate.runs. */
void
FmProgressRunId(int64 run_id)
{
	state.run_id = run_id;
}

/* The run's plan has "migrations" migrations. */
void
FmProgressRunPlanned(int migrations)
{
	state.migrations = migrations;
}

/*
 * FmProgressRunEnd
 *		The run ends: forget it, and report "restore" (the caller's own
 *		statement; NULL: leave pg_stat_activity as it is).
 */
void
FmProgressRunEnd(const char *restore)
{
	FmProgressRunBegin("");
	if (restore != NULL)
		pgstat_report_activity(STATE_RUNNING, restore);
}

/*
 * FmProgressMigrationBegin
 *		Migration "version name" starts (or starts again after a lock
 *		timeout: then it keeps its position and its start time).
 */
void
FmProgressMigrationBegin(const char *version, const char *name)
{
	if (strcmp(state.version, version) != 0 || strcmp(state.name, name) != 0)
	{
		strlcpy(state.version, version, sizeof(state.version));
		strlcpy(state.name, name, sizeof(state.name));
		state.migration++;
		state.migration_started = GetCurrentTimestamp();
	}
	state.statement = 0;
	state.statements = 0;
	state.line = 0;
	state.worker_pid = 0;
	state.batch_rows_done = -1;
	state.batch_rows_total = -1;
	if (statement_text != NULL)
		pfree(statement_text);
	statement_text = NULL;
	report();
}

/*
 * FmProgressStatement
 *		Statement "statement" of "statements" (0: unknown) of the running
 *		migration's up script, at "line", started at "started" (0: now),
 *		with text "sql" (NULL: none shown).
 */
void
FmProgressStatement(int statement, int statements, int line,
					TimestampTz started, const char *sql)
{
	state.statement = statement;
	state.statements = statements;
	state.line = line;
	state.statement_started = started != 0 ? started : GetCurrentTimestamp();
	state.batch_rows_done = -1;
	state.batch_rows_total = -1;
	if (statement_text != NULL)
		pfree(statement_text);
	statement_text = NULL;
	if (sql != NULL)
	{
		/* no more than pg_stat_activity keeps, however long the statement */
		int			len = (int) strnlen(sql, pgstat_track_activity_query_size);

		len = pg_mbcliplen(sql, len, len);
		statement_text = MemoryContextAlloc(TopMemoryContext, len + 1);
		memcpy(statement_text, sql, len);
		statement_text[len] = '\0';
	}
	report();
}

/* The running migration runs in background worker "worker_pid". */
void
FmProgressWorker(int worker_pid)
{
	state.worker_pid = worker_pid;
	report();
}

/*
 * FmProgressBatch
 *		A batched backfill of the running statement has done "rows_done"
 *		rows of "rows_total" (-1: unknown).  Shown in the view's
 *		batch_rows_done and batch_rows_total.
 */
void
FmProgressBatch(int64 rows_done, int64 rows_total)
{
	state.batch_rows_done = rows_done;
	state.batch_rows_total = rows_total;
	report();
}

/* A copy of this backend's state, for a background worker. */
void
FmProgressGet(FmProgressState *out)
{
	*out = state;
}

/* Take the state of the session a background worker works for. */
void
FmProgressSet(const FmProgressState *in)
{
	state = *in;
	state.worker_pid = 0;
	in_worker = true;
	if (statement_text != NULL)
		pfree(statement_text);
	statement_text = NULL;
}
