/*-------------------------------------------------------------------------
 *
 * common.h
 *	  Small helpers every layer uses: how messages name a migration, how a
 *	  declared parameter is spelled, acting as the owner of fleetmigrate's
 *	  own tables, and whether a run is in progress in this backend.  A leaf: it uses nothing of fleetmigrate.
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
extern void FmSetRunInProgress(bool in_progress);
extern void FmRunRefuseNested(const char *caller);
extern void FmRefuseOnStandby(const char *caller);

#endif							/* FLEETMIGRATE_COMMON_H */
