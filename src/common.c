/*-------------------------------------------------------------------------
 *
 * common.c
 *	  Small helpers every layer uses (common.h).  A leaf: it uses nothing
 *	  of fleetmigrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
