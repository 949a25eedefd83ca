/*-------------------------------------------------------------------------
 *
 * definition.h
 *	  A migration as it is registered: from register()'s arguments, a
 *	  bundle (bundle.c) or a directory of files (files.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_DEFINITION_H
#define FLEETMIGRATE_DEFINITION_H

#include "fmgr.h"
#include "nodes/pg_list.h"

#include "parse.h"

/* Number of arguments of fleetmigrate.register() in the current catalog. */
#define FM_REGISTER_NARGS	11

typedef struct FmDefinition
{
	char	   *version;
	char	   *name;
	char	   *up;				/* required */
	char	   *down;			/* NULL: none */
	char	   *verify;			/* NULL: none */
	List	   *requires;		/* char *: "version" or "version name" */
	List	   *conflicts;		/* char *: likewise */
	List	   *params;			/* char *: parameter names */
	List	   *tolerate;		/* char *: SQLSTATEs a statement may fail with */
	bool		repeatable;		/* run again whenever its up script changes */
	bool		allow_destructive;	/* consent to destructive statements */
	/*
	 * The up text that ran, where it differs from "up": export_bundle()
	 * writes it in a "-- ran" section, which register_bundle() reads into
	 * this field and never registers.  NULL: none.
	 */
	char	   *ran;
	/* where it came from, for messages: "bundle line 12", "file 001_a.up.sql" */
	char	   *origin;
	int			lineno;			/* bundle line of its marker; 0: not from a bundle */
} FmDefinition;

/* definition.c: registration rules */
extern FmDefinition *FmCheckDefinition(const FmDefinition *def,
									   FmScriptInfo *info);
extern FmDefinition *FmDefinitionFromArgs(FunctionCallInfo fcinfo);

/* bundle.c */
extern List *FmParseBundle(const char *bundle);
extern char *FmExportBundle(List *definitions);

/* files.c */
extern List *FmReadMigrationDir(const char *path);

#endif							/* FLEETMIGRATE_DEFINITION_H */
