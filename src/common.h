/*-------------------------------------------------------------------------
 *
 * common.h
 *	  Small helpers every layer uses: how messages name a migration, how a
 *	  declared parameter is spelled, and acting as the owner of
 *	  fleetmigrate's own tables.  A leaf: it uses nothing of fleetmigrate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_COMMON_H
#define FLEETMIGRATE_COMMON_H

/* What FmBeginAsRole() changed, for FmEndAsRole(). */
typedef struct FmRoleSwitch
{
	Oid			save_userid;
	int			save_sec_context;
	int			nestlevel;		/* GUC nest level; 0: search_path not pinned */
} FmRoleSwitch;

extern char *FmMigrationLabel(const char *version, const char *name);
extern const char *FmParamName(const char *declared, bool *secret);
extern void FmBeginAsRole(Oid role, FmRoleSwitch *sw);
extern void FmEndAsRole(const FmRoleSwitch *sw);

#endif							/* FLEETMIGRATE_COMMON_H */
