/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reads and writes of fleetmigrate's catalog tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_CATALOG_H
#define FLEETMIGRATE_CATALOG_H

#include "datatype/timestamp.h"
#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "storage/lock.h"
#include "utils/tuplestore.h"

#include "common.h"
#include "compat.h"
#include "definition.h"

/* A pending migration as the runner needs it. */
typedef struct FmMigration
{
	char	   *version;
	char	   *name;
	bytea	   *sort_key;		/* FmVersionKey(version) */
	bool		transactional;
	bool		repeatable;		/* runs again whenever its up script changes */
	bool		out_of_order;	/* an applied migration sorts after it */
	List	   *params;			/* char *: declared parameters ("name", "secret name") */
	List	   *tolerate;		/* char *: SQLSTATEs a statement may fail with */
	bool		allow_destructive;	/* registered with consent to lose data */
	char	   *checksum;		/* of the up script, as planned; NULL: unknown */
	char	   *verify_checksum;	/* of the verify script, as planned */
} FmMigration;

/* The scripts of a migration, in the catalog's column order. */
typedef enum FmScriptKind
{
	FM_SCRIPT_UP,
	FM_SCRIPT_DOWN,
	FM_SCRIPT_VERIFY
} FmScriptKind;

/* A non-transactional migration's script and how far it got. */
typedef struct FmProgress
{
	char	   *up;				/* up script */
	char	   *checksum;		/* its checksum, to detect a re-register */
	int			done;			/* statements completed */
	int			started;		/* top-level statement last started; 0: none */
} FmProgress;

/* A requirement or conflict that a plan breaks (FmCatalogPlanProblems()). */
typedef struct FmPlanProblem
{
	char	   *version;		/* the migration in the plan */
	char	   *name;
	bool		conflict;		/* false: a requirement */
	char	   *ref;			/* as declared: "version" or "version name" */
	char	   *other_version;	/* what ref matches; NULL: nothing registered */
	char	   *other_name;
	bool		other_in_effect;	/* applied, baselined (IN_EFFECT) */
	bool		other_planned;	/* in the same plan */
	bool		other_repeatable;
} FmPlanProblem;

/* A registered migration with one of its scripts (NULL: it has none). */
typedef struct FmScript
{
	FmMigration m;				/* version, name, sort_key, repeatable */
	char	   *script;
	bool		in_effect;
	char	   *planned[3];		/* rehearse_rollback(): the scripts as planned */
} FmScript;

/* A table's file (FmCatalogTableFiles()): changes when it is rewritten. */
typedef struct FmRelFile
{
	Oid			relid;
	Oid			filenode;
} FmRelFile;

/* A relation this backend holds locks on (FmCatalogMyRelationLocks()). */
typedef struct FmRelLock
{
	Oid			relid;
	LOCKMASK	modes;			/* LOCKBIT_ON(mode) for each mode held */
} FmRelLock;

/* A migration a baseline or an import may take (FmCatalogAdoptable()). */
typedef struct FmAdoptable
{
	FmMigration m;				/* version, name, sort_key, repeatable */
	char	   *state;
	char	   *up;
	char	   *verify;			/* NULL: none */
	bool		in_effect;		/* applied or baselined (IN_EFFECT) */
} FmAdoptable;

/* Which migrations FmCatalogAdoptable() finds. */
typedef enum FmAdoptWhich
{
	FM_ADOPT_REF,				/* a reference: "version" or "version name" */
	FM_ADOPT_UPTO,				/* every one up to a version */
	FM_ADOPT_VERSION,			/* those of a version, leading zeros aside */
	FM_ADOPT_NAME				/* those of a name, "-" and " " as "_" */
} FmAdoptWhich;

extern void FmCatalogBegin(void);
pg_noreturn extern void FmCatalogTooOld(void);
extern void FmCatalogCheckIntact(const char *version, const char *name);
extern const char *FmRegisterDefinition(const FmDefinition *def);
extern List *FmCatalogDefinitions(void);
extern void FmCatalogCheckRequirements(List *definitions);
extern bool FmCatalogLastApplied(FmMigration *last);
extern List *FmCatalogPending(const char *target,
							   const FmMigration *last);
extern void FmCatalogScripts(const FmMigration *m, char *scripts[3]);
extern char *FmCatalogScript(const FmMigration *m, FmScriptKind kind);
extern bool FmCatalogPlannedScripts(const FmMigration *m, bool lock,
									char *scripts[3]);
extern char *FmScriptChecksum(const char *script);
extern void FmCheckScriptChecksum(const char *version, const char *name,
								  const char *what, const char *script,
								  const char *checksum);
extern List *FmCatalogPlanProblems(List *plan);
extern List *FmCatalogMentioning(const char *word);
extern List *FmCatalogRollbackSet(const char *target, int steps);
extern void FmCatalogRecordRolledBack(const FmMigration *m, TimestampTz started,
									  double duration_ms, const char *by,
									  int statements, const char *reason);
extern List *FmCatalogVerifiable(const char *version);
extern FmRelFile *FmCatalogTableFiles(int *n);
extern FmRelLock *FmCatalogMyRelationLocks(int *n);
extern bool FmCatalogUserTable(Oid relid, char **name, Oid *filenode);
extern List *FmCatalogSchema(void);
extern void FmCatalogRecordApplied(const FmMigration *m, TimestampTz started,
								   double duration_ms, const char *applied_by,
								   const char *consent, const char *params,
								   const char *script, const char *tolerated);
extern void FmCatalogRecordFailed(const FmMigration *m, TimestampTz started,
								  double duration_ms, const char *performed_by,
								  int sqlerrcode, const char *error,
								  int statement, int line);
extern int64 FmCatalogRunStart(const char *run_by, const char *started_by,
							   const char *target);
extern void FmCatalogRunProgress(int64 run_id, int applied);
extern void FmCatalogRunFinish(int64 run_id, const char *outcome, int applied,
							   const FmMigration *failed, int sqlerrcode,
							   const char *error);
extern void FmCatalogProgressRead(const FmMigration *m, FmProgress *progress);
extern void FmCatalogProgressWrite(const FmMigration *m,
								   const FmProgress *progress);
extern int	FmCatalogLockHolder(void);
extern int	FmCompareVersionKeys(const bytea *a, const bytea *b);
extern int	FmCompareMigrations(const bytea *k1, const char *v1, const char *n1,
								const bytea *k2, const char *v2, const char *n2);
extern List *FmCatalogAdoptable(FmAdoptWhich which, const char *arg);
extern bool FmCatalogMarkAdopted(const FmMigration *m, const char *by,
								 const char *reason, const char *event);
extern bool FmCatalogUnbaseline(const char *version, const char *name,
								const char *by, const char *reason);
extern char *FmCatalogState(const char *version, const char *name);
extern bool FmCatalogRepairScripts(const char *version, const char *name,
								   char **up, char **verify);
extern bool FmCatalogRepair(const char *version, const char *name,
							const char *by, const char *reason);
extern List *FmCatalogDependents(const char *version, const char *name);

/* consent scoped to data (issue 19) */
extern void FmCatalogRecordDestroyed(const FmMigration *m, const char *destroyed);
extern void FmCatalogRunDestroyed(int64 run_id, const char *destroyed);
extern void FmCatalogRunStandbys(int64 run_id, const char *standbys);

/* unattended runs that keep moving (issue 19): a bounded run log */
extern bool FmCatalogRunLogSummarizes(void);
extern uint64 FmCatalogRunPrune(int64 run_id, int seconds);
extern int64 FmCatalogRunSummarize(int64 run_id);

/* a cheap status view (issue 20): stored lint, dated and refreshed */
extern bool FmCatalogStoreLint(const char *version, const char *name,
							   const char *checksum, List *findings);
extern List *FmCatalogLintDue(const char *version, const char *name);
extern char *FmCatalogUpScript(const FmMigration *m);
/* plan() (1.10) */
extern List *FmCatalogPendingUnlocked(const char *target,
									  const FmMigration *last);
extern char *FmCatalogUpScriptIfAny(const FmMigration *m);
/* batched backfills (issue 20): how far a batched migration got */
typedef struct FmBatchState
{
	int64		run_id;			/* the run of the last batch; 0: none */
	char	   *checksum;		/* of the up script of the last batch */
	char	   *relation;		/* the table, schema-qualified */
	char	   *key_column;
	char	   *last_key;		/* as text; NULL: no batch done */
	int			batch_size;
	int			batches;		/* batches committed */
	int64		rows_done;		/* rows of the table the batches covered */
	int64		rows_total;		/* estimated rows of the table */
	int64		rows_changed;	/* rows the statement changed */
	bool		finished;		/* the last batch is done */
} FmBatchState;

extern bool FmCatalogBatchesKept(void);
extern bool FmCatalogBatchRead(const FmMigration *m, FmBatchState *state);
extern void FmCatalogBatchWrite(const FmMigration *m, const FmBatchState *state,
								bool restart);

#endif							/* FLEETMIGRATE_CATALOG_H */
