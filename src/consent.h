/*-------------------------------------------------------------------------
 *
 * consent.h
 *	  Consent to data loss, scoped to the data that exists: measuring what
 *	  a migration's destructive statements would remove, refusing a plan
 *	  without the consent it needs, and recording what was removed
 *	  (consent.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_CONSENT_H
#define FLEETMIGRATE_CONSENT_H

#include "nodes/pg_list.h"
#include "utils/array.h"

#include "catalog.h"
#include "lint.h"
#include "parse.h"

/* FmDataLoss.amount when there is nothing to count */
#define FM_AMOUNT_ABSENT	(-1)	/* the object does not exist */
#define FM_AMOUNT_UNKNOWN	(-2)	/* the caller may not read it */
#define FM_AMOUNT_ELSEWHERE	(-3)	/* a view or foreign table: its rows
									 * are elsewhere */
#define FM_AMOUNT_OTHER_DATABASE	(-4)	/* DROP DATABASE: not countable
											 * from this one */

/*
 * Counting stops here: a larger table is reported as holding "at least" this
 * many rows, so that measuring never scans more than this.
 */
#define FM_COUNT_LIMIT	INT64CONST(1000000)

/* What one destructive statement removes, or would remove. */
typedef struct FmDataLoss
{
	const FmFinding *finding;	/* lint's finding: statement, line, rule */
	int64		amount;			/* rows (values for a column); or above */
	bool		values;			/* amount counts a column's non-null values */
	bool		at_least;		/* counting stopped at FM_COUNT_LIMIT */
	bool		mixed;			/* amount counts rows and column values */
	bool		no_data;		/* what goes holds no data: no consent is
								 * needed (FM_DATA_DEPENDENTS) */
	bool		ran;			/* the statement ran (FmConsentAfterStatement) */
	bool		needs_call;		/* only allow_data_loss can consent to it */
	bool		consented;		/* the run's consent covers it */
} FmDataLoss;

extern List *FmConsentParseList(ArrayType *entries, const char *caller);
extern void FmConsentSetRun(bool allow, List *data_loss, bool enforce,
							const char *caller);
extern void FmConsentReset(void);
extern char *FmConsentRunText(void);
extern void FmConsentSetRunText(const char *text, const char *caller);
extern void FmCheckPlanDestructive(List *plan, bool refuse);
extern void FmCheckPlanDestructiveIn(List *migrations, List *plan,
									 bool refuse);
extern char *FmConsent(const FmMigration *m, const char *up);
extern void FmConsentWatchBegin(const FmMigration *m, const char *up);
extern void FmConsentBeforeStatement(const FmStatement *stmt);
extern void FmConsentAfterStatement(const FmStatement *stmt, int rc,
									uint64 processed);
extern List *FmConsentWatchEnd(void);
extern List *FmConsentLastDestroyed(void);
extern char *FmDataLossText(List *losses, bool past);
extern char *FmDataLossJson(List *losses, const FmMigration *m);
extern char *FmConsentArgument(List *migrations);

#endif							/* FLEETMIGRATE_CONSENT_H */
