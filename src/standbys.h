/*-------------------------------------------------------------------------
 *
 * standbys.h
 *	  Waiting until every connected standby has replayed a run's commits
 *	  (fleetmigrate.wait_for_standbys), and counting them for lint
 *	  (standbys.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_STANDBYS_H
#define FLEETMIGRATE_STANDBYS_H

/* fleetmigrate.wait_for_standbys, in ms: 0 (the default) does not wait */
extern int	fm_wait_for_standbys;

extern int	FmStandbysConnected(void);
extern void FmStandbysRequestFeedback(void);
extern bool FmStandbysWaitNow(const char *what, char **json);
extern void FmStandbysRaiseTimeout(const char *what);
extern void FmStandbysWaitAtCommit(void);

#endif							/* FLEETMIGRATE_STANDBYS_H */
