/*-------------------------------------------------------------------------
 *
 * params.c
 *	  Migration parameters: fleetmigrate.param(), and the values a run
 *	  supplies (apply_pending(params => ...), migrate(params => ...)).
 *
 * A migration declares the parameters it reads ("admin_user_id", or
 * "secret api_token" for one whose value must not be recorded).  A run
 * supplies them as one JSON object; before anything runs, every parameter
 * of every migration in the plan must be supplied, as a string, number or
 * boolean, and nothing may be supplied that no migration of the plan
 * declares.  While a migration runs, fleetmigrate.param(name) returns the
 * value of a parameter that migration declares, as text; at any other time
 * it is an error.  Values are never substituted into SQL text: a migration
 * reads them as a function result, a value like any other.  The history
 * records each migration's values, secret ones masked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "params.h"

/* What a secret parameter's value is recorded as. */
#define FM_SECRET_MASK	"********"

/* One supplied value. */
typedef struct SuppliedParam
{
	char	   *name;
	char	   *value;			/* as text */
} SuppliedParam;

/* The run's supplied values (in TopMemoryContext) and the running migration. */
static List *supplied = NIL;
static const FmMigration *running = NULL;

static const char *json_type_name(const JsonbValue *v);
static const SuppliedParam *find_supplied(const char *name);
static bool declares(const FmMigration *m, const char *name);

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

static const char *
json_type_name(const JsonbValue *v)
{
	if (v->type == jbvNull)
		return "null";
	if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
		return "an array";
	if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
		return "an object";
	return "that type";
}

/*
 * FmParamsSetRun
 *		Take the values a run supplies ("params", a JSON object; "caller"
 *		names the function for messages).  ERRORs if it is not an object
 *		of strings, numbers and booleans.
 */
void
FmParamsSetRun(Jsonb *params, const char *caller)
{
	MemoryContext oldcxt;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	FmParamsReset();
	if (!JB_ROOT_IS_OBJECT(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"params\" of %s must be a JSON object", caller),
				 errhint("Pass the values by name, as in params => '{\"admin_user_id\": \"8d0c...\"}'.")));

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		SuppliedParam *p;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (v.type != jbvString && v.type != jbvNumeric && v.type != jbvBool)
		{
			MemoryContextSwitchTo(oldcxt);
			FmParamsReset();
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"%s\" must be a string, a number or a boolean, not %s",
							key, json_type_name(&v)),
					 errhint("fleetmigrate.param() returns text; pass the value as a JSON string and cast it in the migration, as in fleetmigrate.param('%s')::uuid.",
							 key)));
		}
		p = palloc(sizeof(SuppliedParam));
		p->name = key;
		if (v.type == jbvString)
			p->value = pnstrdup(v.val.string.val, v.val.string.len);
		else if (v.type == jbvBool)
			p->value = pstrdup(v.val.boolean ? "true" : "false");
		else
			p->value = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(v.val.numeric)));
		supplied = lappend(supplied, p);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * FmParamsReset
 *		Forget the run's values; no migration is running.
 */
void
FmParamsReset(void)
{
	ListCell   *lc;

	foreach(lc, supplied)
	{
		SuppliedParam *p = lfirst(lc);

		pfree(p->name);
		pfree(p->value);
		pfree(p);
	}
	list_free(supplied);
	supplied = NIL;
	running = NULL;
}

static const SuppliedParam *
find_supplied(const char *name)
{
	ListCell   *lc;

	foreach(lc, supplied)
	{
		const SuppliedParam *p = lfirst(lc);

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* Whether migration "m" declares parameter "name". */
static bool
declares(const FmMigration *m, const char *name)
{
	ListCell   *lc;

	foreach(lc, m->params)
	{
		bool		secret;

		if (strcmp(FmParamName(lfirst(lc), &secret), name) == 0)
			return true;
	}
	return false;
}

/*
 * FmCheckPlanParams
 *		ERROR, before anything runs, if a migration of "plan" declares a
 *		parameter the run does not supply, if a supplied value is declared by
 *		no migration of the plan, or if a non-transactional migration
 *		declares parameters (its background worker cannot read them).
 */
void
FmCheckPlanParams(List *plan)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, plan)
	{
		const FmMigration *m = lfirst(lc);
		StringInfoData missing;
		const char *first_missing = NULL;
		int			nmissing = 0;

		if (m->params != NIL && !m->transactional)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s declares parameters but cannot run inside a transaction",
							FmMigrationLabel(m->version, m->name)),
					 errdetail("Its statements run in a background worker, which cannot read parameters. Nothing was applied."),
					 errhint("Move the statements that need a parameter into a migration of their own.")));
		initStringInfo(&missing);
		foreach(lc2, m->params)
		{
			bool		secret;
			const char *name = FmParamName(lfirst(lc2), &secret);

			if (find_supplied(name) != NULL)
				continue;
			appendStringInfo(&missing, "%s\"%s\"", nmissing++ > 0 ? ", " : "", name);
			if (first_missing == NULL)
				first_missing = name;
		}
		if (nmissing > 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 nmissing == 1 ?
					 errmsg("%s needs parameter %s, which was not supplied",
							FmMigrationLabel(m->version, m->name), missing.data) :
					 errmsg("%s needs parameters %s, which were not supplied",
							FmMigrationLabel(m->version, m->name), missing.data),
					 errdetail("Nothing was applied."),
					 errhint("Supply %s by name, as in fleetmigrate.apply_pending(params => '{\"%s\": \"...\"}').",
							 nmissing == 1 ? "it" : "them", first_missing)));
	}

	foreach(lc, supplied)
	{
		const SuppliedParam *p = lfirst(lc);
		bool		declared = false;

		foreach(lc2, plan)
		{
			if (declares(lfirst(lc2), p->name))
				declared = true;
		}
		if (!declared)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("parameter \"%s\" is not declared by any migration of this run",
							p->name),
					 errdetail("Nothing was applied."),
					 errhint("Check the spelling; a migration declares its parameters with params => '{%s}' in register() or \"-- params: %s\" in a bundle.",
							 p->name, p->name)));
	}
}

/*
 * FmParamsBegin, FmParamsEnd
 *		Migration "m" starts or stops running: fleetmigrate.param() answers
 *		for its parameters only in between.
 */
void
FmParamsBegin(const FmMigration *m)
{
	running = m;
}

void
FmParamsEnd(void)
{
	running = NULL;
}

/*
 * FmParamsJson
 *		The parameters of "m" with their values as a JSON object text for
 *		the history, secret ones masked; NULL if it declares none.
 */
char *
FmParamsJson(const FmMigration *m)
{
	StringInfoData buf;
	ListCell   *lc;

	if (m->params == NIL)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, m->params)
	{
		bool		secret;
		const char *name = FmParamName(lfirst(lc), &secret);
		const SuppliedParam *p = find_supplied(name);

		if (buf.len > 1)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, name);
		appendStringInfoString(&buf, ": ");
		if (p == NULL)
			appendStringInfoString(&buf, "null");
		else
			escape_json(&buf, secret ? FM_SECRET_MASK : p->value);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * fleetmigrate.param(name text) RETURNS text
 */
PG_FUNCTION_INFO_V1(fleetmigrate_param);

Datum
fleetmigrate_param(PG_FUNCTION_ARGS)
{
	char	   *name;
	const SuppliedParam *p;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parameter name cannot be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (running == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("fleetmigrate.param() can only be called while a migration runs"),
				 errdetail("Parameter \"%s\" has a value only while the migration that declares it runs in apply_pending() or migrate().",
						   name)));
	if (!declares(running, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s does not declare parameter \"%s\"",
						FmMigrationLabel(running->version, running->name), name),
				 errhint("Declare it with params => '{%s}' in register() or \"-- params: %s\" in a bundle.",
						 name, name)));
	p = find_supplied(name);
	if (p == NULL)					/* checked before the run started */
		elog(ERROR, "parameter \"%s\" was not supplied", name);
	PG_RETURN_TEXT_P(cstring_to_text(p->value));
}
