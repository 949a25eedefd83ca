/*-------------------------------------------------------------------------
 *
 * common.c
 *	  Small helpers every layer uses (common.h).  A leaf: it uses nothing
 *	  of fleetmigrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "common.h"

/*
 * FmMigrationLabel
 *		'migration "003 viral_analytics"', the way messages name a migration.
 *		palloc'd in the current memory context.
 */
char *
FmMigrationLabel(const char *version, const char *name)
{
	return psprintf("migration \"%s %s\"", version, name);
}

/*
 * FmParamName
 *		The name of a declared parameter ("name" or "secret name"); sets
 *		*secret.
 */
const char *
FmParamName(const char *declared, bool *secret)
{
	*secret = strncmp(declared, "secret ", 7) == 0;
	return *secret ? declared + 7 : declared;
}

/*
 * FmBeginAsRole
 *		Become "role" in a restricted security context and, outside parallel
 *		mode (where settings cannot change), pin search_path to
 *		"pg_catalog, pg_temp".  Undo with FmEndAsRole(sw); an error in
 *		between is cleaned up by (sub)transaction abort, which restores the
 *		user id and the GUC nest level.
 */
void
FmBeginAsRole(Oid role, FmRoleSwitch *sw)
{
	GetUserIdAndSecContext(&sw->save_userid, &sw->save_sec_context);
	SetUserIdAndSecContext(role,
						   sw->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	sw->nestlevel = 0;
	if (!IsInParallelMode())
	{
		sw->nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
}

void
FmEndAsRole(const FmRoleSwitch *sw)
{
	if (sw->nestlevel > 0)
		AtEOXact_GUC(true, sw->nestlevel);
	SetUserIdAndSecContext(sw->save_userid, sw->save_sec_context);
}

/*
 * Whether a run (from its start to its end, as run.c marks it) is in
 * progress in this backend.  Kept here, at the bottom, so that an entry
 * point of any layer can refuse to be called from inside a migration.
 */
static bool run_in_progress = false;

void
FmSetRunInProgress(bool in_progress)
{
	run_in_progress = in_progress;
}

/*
 * FmRunRefuseNested
 *		ERROR if a run is in progress in this backend: "caller" was called
 *		from inside a migration (or a verify or down script).
 */
void
FmRunRefuseNested(const char *caller)
{
	if (run_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s cannot be called from inside a migration", caller)));
}

/*
 * FmRefuseOnStandby
 *		ERROR if this server is a hot standby: "caller" changes the
 *		database, which only the primary can do (its catalog and history
 *		reach the standby through WAL).
 */
void
FmRefuseOnStandby(const char *caller)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot apply migrations on a standby; connect to the primary"),
				 errdetail("%s changes the database, and this server is a hot standby: it only replays what the primary writes.",
						   caller),
				 errhint("Run it on the primary. Here fleetmigrate.status, history, summary, runs, progress, validate(), lint() and plan() work, read-only.")));
}
