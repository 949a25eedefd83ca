/*-------------------------------------------------------------------------
 *
 * remote.h
 *	  A short read-only session with another database of this cluster,
 *	  over libpq, the way pg_cron connects to run a job (src/remote.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_REMOTE_H
#define FLEETMIGRATE_REMOTE_H

/* Where to connect: all four are given, nothing comes from a conninfo. */
typedef struct FmRemoteTarget
{
	const char *host;			/* host name or socket directory (cron.job.nodename) */
	int			port;
	const char *dbname;			/* never expanded as a connection string */
	const char *user;
} FmRemoteTarget;

/* One session, open while an FmRemoteReader runs. */
typedef struct FmRemoteSession FmRemoteSession;

/*
 * What to do in the session: fixed queries through FmRemoteQueryRow().
 * Returns NULL, or why the database could not be read (palloc'd).
 */
typedef char *(*FmRemoteReader) (FmRemoteSession *session, void *arg);

/* the whole session, in milliseconds: connecting and every query */
#define FM_REMOTE_TIMEOUT_MS 10000

extern char *FmRemoteRead(const FmRemoteTarget *target, FmRemoteReader reader,
						  void *arg);
extern char **FmRemoteQueryRow(FmRemoteSession *session, const char *sql,
							   int ncols, bool *found, char **error);

#endif							/* FLEETMIGRATE_REMOTE_H */
