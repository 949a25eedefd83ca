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
 *					released, pg_stat_activity shows the caller's
 *					statement again.  Callers call it on every way out (PG_FINALLY);
 *					it does nothing for a run that did not start.
 *
 *	 FmRunRefreshLint()	after a run that changed the database: the lint
 *					stored for every migration still to run is computed
 *					again, as the database is now, for the views status and
 *					summary, which read it instead of linting;
 *
 *	 FmRunPlanUpToBlocked()	for migrate() run unattended: the plan up to
 *					the first migration the checks refuse, which is reported
 *					instead of refusing the whole plan (the migrations before
 *					it need nothing it lacks, and order matters, so nothing
 *					after it runs either);
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
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "consent.h"
#include "lint.h"
#include "params.h"
#include "plan.h"
#include "progress.h"
#include "run.h"
#include "runlock.h"
#include "runner.h"

/* True while this backend runs migrations (to refuse a nested call). */

/* fleetmigrate.run_log_retention (GUC, defined in fleetmigrate.c; migrate.c) */
int			fm_run_log_retention = FM_RUN_LOG_RETENTION_DEFAULT;

/* One migration of a plan, for check_one(). */
typedef struct CheckOneArgs
{
	FmRun	   *run;
	List	   *plan;			/* the whole plan */
	FmMigration *m;				/* the migration checked */
} CheckOneArgs;

/* The first problem of a plan, for report_blocked(). */
typedef struct ReportArgs
{
	FmPlanProblem *problem;		/* a requirement or conflict; or NULL: */
	List	   *prefix;			/* the plan up to a migration out of order */
	const FmMigration *last;
} ReportArgs;

static int	plan_position(List *plan, const char *version, const char *name);
static void check_one(void *arg);
static void report_blocked(void *arg);
static void lint_again(void *arg);

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
	if (!opts->read_only)
		FmRefuseOnStandby(opts->caller);
	run->opts = *opts;
	run->run_by = GetUserNameFromId(GetUserId(), false);
	if (opts->params != NULL)
		FmParamsSetRun(opts->params, opts->caller);
	FmConsentSetRun(opts->allow_destructive, opts->allow_data_loss,
					opts->check_destructive, opts->caller);
	run->started = true;
	FmSetRunInProgress(true);
	FmProgressRunBegin(opts->caller);
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
	FmProgressRunPlanned(list_length(plan));
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
	FmSetRunInProgress(false);
	FmParamsReset();
	FmConsentReset();
	if (run->session_locked)
		FmLockRelease(FM_LOCK_CLASSID, FM_LOCK_OBJID);
	run->session_locked = false;
	run->started = false;
	/* progress reported in pg_stat_activity: the caller's statement again */
	FmProgressRunEnd(debug_query_string);
}

/* The index of migration "version name" in "plan"; -1: not in it. */
static int
plan_position(List *plan, const char *version, const char *name)
{
	ListCell   *lc;

	foreach(lc, plan)
	{
		const FmMigration *m = (const FmMigration *) lfirst(lc);

		if (strcmp(m->version, version) == 0 && strcmp(m->name, name) == 0)
			return foreach_current_index(lc);
	}
	return -1;
}

/* FmRunPlan()'s checks of one migration of the plan that need no order. */
static void
check_one(void *arg)
{
	CheckOneArgs *args = (CheckOneArgs *) arg;
	List	   *one = list_make1(args->m);

	if (args->run->opts.check_migration != NULL)
		args->run->opts.check_migration(args->plan, args->m);
	FmCheckPlanParamsIn(one, args->plan);
	FmCheckPlanDestructiveIn(one, args->plan, args->run->opts.check_destructive);
}

/* Raise the error FmRunPlan() raises for the problem that blocks a plan. */
static void
report_blocked(void *arg)
{
	ReportArgs *args = (ReportArgs *) arg;

	if (args->problem != NULL)
		FmReportPlanProblems(list_make1(args->problem));
	FmCheckPlan(args->prefix, args->last);
}

/*
 * FmRunPlanUpToBlocked
 *		FmRunPlan() for a run that keeps moving (migrate() run unattended):
 *		instead of refusing the whole plan, keep the migrations before the
 *		first one the checks refuse, and describe that one in *blocked
 *		(blocked->m NULL: none is).  A migration is blocked by a broken
 *		requirement (its own), a conflict within the plan (the earlier of
 *		the two: which one runs is for a person to decide), running out of
 *		order under out_of_order = 'error', the caller's own check, a
 *		parameter not supplied or consent to data loss not given.  Nothing
 *		after it is kept either: order matters.  What the call supplies is
 *		checked against the whole plan and its errors are raised as by
 *		FmRunPlan(): a value declared by no pending migration, an
 *		allow_data_loss entry naming none.  blocked->edata is the error the
 *		checks raise for the blocked migration.  Everything is allocated in
 *		the current memory context; run->plan is the plan kept,
 *		run->pending the whole plan read.  Call with the runner lock held,
 *		or with opts.read_only (plan()), which reads the plan without
 *		locking its rows.
 */
List *
FmRunPlanUpToBlocked(FmRun *run, const char *target, FmBlocked *blocked)
{
	MemoryContext cxt = CurrentMemoryContext;
	FmMigration last_applied;
	const FmMigration *last;
	FmPlanProblem *problem = NULL;
	List	   *plan;
	List	   *kept;
	int			stop;			/* the first blocked migration's index */
	ListCell   *lc;

	Assert(run->started);
	memset(blocked, 0, sizeof(FmBlocked));
	last = FmCatalogLastApplied(&last_applied) ? &last_applied : NULL;
	/* plan() reads without locking the rows: it runs nothing */
	plan = run->opts.read_only ? FmCatalogPendingUnlocked(target, last) :
		FmCatalogPending(target, last);
	run->pending = plan;
	stop = list_length(plan);

	/* what the call supplies must fit the plan: otherwise the call is wrong */
	FmCheckPlanParamsIn(NIL, plan);
	FmCheckPlanDestructiveIn(NIL, plan, false);

	/* requirements and conflicts: the first migration one involves */
	foreach(lc, FmCatalogPlanProblems(plan))
	{
		FmPlanProblem *p = (FmPlanProblem *) lfirst(lc);
		int			at = plan_position(plan, p->version, p->name);

		if (at < 0)
			continue;
		if (p->conflict && p->other_planned && p->other_version != NULL)
		{
			int			other = plan_position(plan, p->other_version,
											  p->other_name);

			if (other >= 0 && other < at)
				at = other;
		}
		if (at < stop)
		{
			stop = at;
			problem = p;
		}
	}

	/* out of order, where that is refused: the first such migration */
	if (last != NULL && fm_out_of_order == FM_OUT_OF_ORDER_ERROR)
	{
		foreach(lc, plan)
		{
			if (foreach_current_index(lc) >= stop)
				break;
			if (((FmMigration *) lfirst(lc))->out_of_order)
			{
				stop = foreach_current_index(lc);
				problem = NULL;
				break;
			}
		}
	}

	/* the caller's check, parameters and consent, one migration at a time */
	foreach(lc, plan)
	{
		CheckOneArgs args;

		if (foreach_current_index(lc) >= stop)
			break;
		args.run = run;
		args.plan = plan;
		args.m = (FmMigration *) lfirst(lc);
		blocked->edata = FmInSubtransaction(check_one, &args, true, cxt);
		/* a cancel, a shutdown or a timeout stops the run; it blocks nothing */
		if (blocked->edata != NULL && FmErrorIsInterrupt(blocked->edata))
			ReThrowError(blocked->edata);
		if (blocked->edata != NULL)
		{
			stop = foreach_current_index(lc);
			break;
		}
	}

	if (stop < list_length(plan))
	{
		blocked->m = (FmMigration *) list_nth(plan, stop);
		blocked->position = stop + 1;
		blocked->later = list_length(plan) - stop - 1;
		if (blocked->edata == NULL)
		{
			ReportArgs args;

			args.problem = problem;
			args.prefix = list_truncate(list_copy(plan), stop + 1);
			args.last = last;
			blocked->edata = FmInSubtransaction(report_blocked, &args, false, cxt);
			if (blocked->edata == NULL)
				elog(ERROR, "the check of migration %s %s did not fail",
					 blocked->m->version, blocked->m->name);
		}
	}

	/* the plan kept passes; this says what runs out of order */
	kept = list_truncate(list_copy(plan), stop);
	FmCheckPlan(kept, last);
	run->plan = kept;
	FmProgressRunPlanned(list_length(kept));
	return kept;
}

/* ---- a cheap status view (issue 20) --------------------------------------- */

/* Lint migration "arg" (an FmMigration) again and store the finding. */
static void
lint_again(void *arg)
{
	const FmMigration *m = (const FmMigration *) arg;
	char	   *up = FmCatalogUpScript(m);

	/* registered again since (its own lint is stored), or gone */
	if (up == NULL)
		return;
	(void) FmCatalogStoreLint(m->version, m->name, m->checksum,
							  FmLint(up, psprintf("up script of %s",
												  FmMigrationLabel(m->version, m->name))));
}

/*
 * FmRunRefreshLint
 *		Lint again, as the database is now and with the caller's
 *		search_path, the up script of every migration still to run
 *		(pending, failed or rolled back), or with "version" not NULL of
 *		migration "version name" only, and store the finding with the time
 *		(FmCatalogStoreLint()).  The views status and summary read the
 *		stored finding instead of linting on every read, so an entry point
 *		calls this once it has changed what lint sees: applied or rolled
 *		back migrations (which change the database), or made a migration
 *		one to run again (unbaseline()).  Once per call, not per migration,
 *		so a run of n migrations lints each remaining one once.
 *
 *		Each migration is linted in a subtransaction, in a memory context
 *		reset after it (one copy of its text and lint's parse trees at a
 *		time).  A script lint cannot read (a grammar that changed with a
 *		server upgrade) keeps its earlier finding, with a WARNING; a cancel
 *		is raised.  On a catalog older than 1.10 does nothing.  Connected to
 *		SPI, after FmCatalogBegin(), in a transaction.
 */
void
FmRunRefreshLint(const char *version, const char *name)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(oldcxt,
											  "fleetmigrate lint refresh",
											  ALLOCSET_DEFAULT_SIZES);
	List	   *due = FmCatalogLintDue(version, name);
	ListCell   *lc;

	foreach(lc, due)
	{
		FmMigration *m = (FmMigration *) lfirst(lc);
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = FmInSubtransaction(lint_again, m, true, oldcxt);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(cxt);
		if (edata == NULL)
			continue;
		if (FmErrorIsInterrupt(edata))
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not lint %s again: %s",
						FmMigrationLabel(m->version, m->name),
						edata->message ? edata->message : "unknown error"),
				 errdetail("The views status and summary keep its earlier lint finding, from the time in status.linted_at."),
				 errhint("See what fleetmigrate.lint() says about its up script.")));
		FreeErrorData(edata);
	}
	MemoryContextDelete(cxt);
	list_free_deep(due);
}
