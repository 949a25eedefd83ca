/*-------------------------------------------------------------------------
 *
 * runner.h
 *	  Executing a migration's scripts and recording the result (runner.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_RUNNER_H
#define FLEETMIGRATE_RUNNER_H

#include "catalog.h"
#include "parse.h"

/* Where a migration failed: statement number and line (0: none). */
typedef struct FmFailedAt
{
	int			statement;
	int			line;
} FmFailedAt;

/* What FmExecErrorCallback() needs to say where a migration is. */
typedef struct FmExecErrorContext
{
	const FmMigration *migration;
	const char *script;			/* the script that runs */
	const char *what;			/* "down", "verify"; NULL: the up script */
	const FmStatement *statement;	/* NULL outside a statement */
	List	   *tolerated;		/* set by FmRunScript(): char *, a JSON object
								 * for each error the up script tolerated */
} FmExecErrorContext;

extern void FmExecErrorCallback(void *arg);
extern int	FmRunScript(FmExecErrorContext *ctx, MemoryContext cxt, bool verify,
						FmFailedAt *failed_at);
extern bool FmVerifyMigration(const FmMigration *m, const char *script,
							  MemoryContext cxt);
extern int	FmRunMigration(const FmMigration *m, char *const scripts[3],
						   const char *applied_by, MemoryContext cxt,
						   double *duration_ms, FmFailedAt *failed_at);
extern char *FmErrorText(ErrorData *edata, bool with_sqlstate);
extern bool FmErrorIsInterrupt(const ErrorData *edata);
extern ErrorData *FmInSubtransaction(void (*fn) (void *arg), void *arg,
									 bool keep, MemoryContext errcxt);

#endif							/* FLEETMIGRATE_RUNNER_H */
