/*-------------------------------------------------------------------------
 *
 * run.c
 *	  One run's lifecycle.  Every entry point that runs or changes
 *	  migrations (apply_pending(), migrate(), rollback(), rehearse_rollback(),
 *	  verify(), baseline()) goes through it, so that a check added here holds
 *	  for all of them.
 *
 *	 FmRunStart()	the run begins: a call from inside a migration is
 *					refused, the supplied parameters and the consent to data
 *					loss are taken, and nested calls are refused from now on;
 *	 FmRunLock()	the runner lock (runlock.h), for the transaction or for
 *					the session;
 *	 FmRunPlan()	the plan, read once and checked: requirements,
 *					conflicts, order, the caller's own check, parameters,
 *					consent.  The run applies exactly this list: before each
 *					migration the caller fetches its scripts with
 *					FmCatalogPlannedScripts(), which refuses one registered
 *					again since and checks the stored text against its
 *					registered checksum; what was registered after the plan
 *					was read waits for the next run;
 *	 FmRunEnd()		the run ends: session state reset, session lock
 *					released.  Callers call it on every way out (PG_FINALLY);
 *					it does nothing for a run that did not start.
 *
 * The entry points call FmRunStart() before their PG_TRY block and
 * FmRunEnd() in its PG_FINALLY.  The run's state is backend-local: one run
 * at a time per backend, which the nested-call refusal guarantees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "consent.h"
#include "params.h"
#include "plan.h"
#include "run.h"
#include "runlock.h"

/* True while this backend runs migrations (to refuse a nested call). */
static bool run_in_progress = false;

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
 * FmRunStart
 *		Begin run "run" with "opts".  ERRORs, having changed nothing, if a
 *		run is in progress or the parameters are not a JSON object of
 *		scalars.  Must be connected to SPI.
 */
void
FmRunStart(FmRun *run, const FmRunOptions *opts)
{
	memset(run, 0, sizeof(FmRun));
	FmRunRefuseNested(opts->caller);
	run->opts = *opts;
	run->run_by = GetUserNameFromId(GetUserId(), false);
	if (opts->params != NULL)
		FmParamsSetRun(opts->params, opts->caller);
	FmConsentSetRun(opts->allow_destructive, opts->allow_data_loss,
					opts->check_destructive, opts->caller);
	run->started = true;
	run_in_progress = true;
}

/*
 * FmRunLock
 *		Take the runner lock, for the session if opts.session_lock, else
 *		for the transaction.  Returns false if another session holds it and
 *		opts.wait is false.  In a transaction with a transaction snapshot we
 *		never wait (what the other run applies would stay invisible): a busy
 *		lock is a serialization failure.
 */
bool
FmRunLock(FmRun *run)
{
	bool		xact_snapshot = !run->opts.session_lock &&
		IsolationUsesXactSnapshot();
	int			holder;

	Assert(run->started);
	if (FmLockAcquire(FM_LOCK_CLASSID, FM_LOCK_OBJID, run->opts.session_lock,
					  run->opts.wait && !xact_snapshot))
	{
		run->session_locked = run->opts.session_lock;
		return true;
	}
	if (!run->opts.wait)
		return false;

	holder = FmCatalogLockHolder();
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not wait for another fleetmigrate run in a %s transaction",
					IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
			 holder != 0 ?
			 errdetail("Process %d is applying migrations. This transaction's snapshot was taken before that run can commit, so it could never see what that run applies.", holder) :
			 errdetail("Another session is applying migrations. This transaction's snapshot was taken before that run can commit, so it could never see what that run applies."),
			 errhint("Call fleetmigrate in a READ COMMITTED transaction to wait for the other run, or retry this transaction when it has finished.")));
	pg_unreachable();
}

/*
 * FmRunPlan
 *		Read the plan (the pending migrations up to "target", NULL: all, in
 *		apply order, their rows locked) and check it before anything runs:
 *		requirements, conflicts and order (FmCheckPlan()), the caller's own
 *		check of each migration, parameters (FmCheckPlanParams()), the
 *		allow_data_loss entries and, with opts.check_destructive, consent
 *		to data loss (FmCheckPlanDestructive()).  ERRORs on the first problem.  The
 *		plan, allocated in the current memory context, is kept in run->plan
 *		and returned.  Call with the runner lock held.
 */
List *
FmRunPlan(FmRun *run, const char *target)
{
	FmMigration last_applied;
	const FmMigration *last;
	List	   *plan;

	Assert(run->started);
	last = FmCatalogLastApplied(&last_applied) ? &last_applied : NULL;
	plan = FmCatalogPending(target, last);
	FmCheckPlan(plan, last);
	if (run->opts.check_migration != NULL)
	{
		ListCell   *lc;

		foreach(lc, plan)
			run->opts.check_migration(plan, lfirst(lc));
	}
	FmCheckPlanParams(plan);
	FmCheckPlanDestructive(plan, run->opts.check_destructive);
	run->plan = plan;
	return plan;
}

/*
 * FmRunEnd
 *		End run "run": nested calls are allowed again, the parameters and
 *		the consent are forgotten, a session runner lock is released.  Does
 *		nothing for a run that did not start.  Cannot ERROR.
 */
void
FmRunEnd(FmRun *run)
{
	if (!run->started)
		return;
	run_in_progress = false;
	FmParamsReset();
	FmConsentReset();
	if (run->session_locked)
		FmLockRelease(FM_LOCK_CLASSID, FM_LOCK_OBJID);
	run->session_locked = false;
	run->started = false;
}
