/*-------------------------------------------------------------------------
 *
 * common.h
 *	  Small helpers every layer uses: how messages name a migration, and
 *	  how a declared parameter is spelled.  A leaf: it uses nothing of
 *	  fleetmigrate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_COMMON_H
#define FLEETMIGRATE_COMMON_H

extern char *FmMigrationLabel(const char *version, const char *name);
extern const char *FmParamName(const char *declared, bool *secret);

#endif							/* FLEETMIGRATE_COMMON_H */
