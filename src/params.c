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
#include "miscadmin.h"
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
	bool		secret;			/* a migration of the run declares it secret */
} SuppliedParam;

/* The run's supplied values (in TopMemoryContext) and the running migration. */
static List *supplied = NIL;
static const FmMigration *running = NULL;
static Oid	run_user = InvalidOid;	/* the role that started the run */
static const char *run_caller = NULL;	/* "migrate()", for hints */

static const char *json_type_name(const JsonbValue *v);
static SuppliedParam *find_supplied(const char *name);
static char *mask_text(const char *text);
static bool declares(const FmMigration *m, const char *name);
static char *example_call(const char *name);

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
	run_user = GetUserId();
	run_caller = caller;
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
		p->secret = false;
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
 * example_call
 *		The call of the run's function that supplies parameter "name", for
 *		a hint: CALL fleetmigrate.migrate(params => '{"name": "..."}') when
 *		migrate() runs, apply_pending()'s form otherwise.
 */
static char *
example_call(const char *name)
{
	const char *caller = run_caller ? run_caller : "apply_pending()";
	int			len = strlen(caller);

	/* "migrate()" -> "migrate" */
	if (len > 2 && strcmp(caller + len - 2, "()") == 0)
		len -= 2;
	return psprintf("%sfleetmigrate.%.*s(params => '{\"%s\": \"...\"}')",
					strcmp(caller, "migrate()") == 0 ? "CALL " : "",
					len, caller, name);
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

static SuppliedParam *
find_supplied(const char *name)
{
	ListCell   *lc;

	foreach(lc, supplied)
	{
		SuppliedParam *p = lfirst(lc);

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
 *		Values that a migration of the plan declares secret are masked by
 *		FmParamsMaskError() from then on.
 */
void
FmCheckPlanParams(List *plan)
{
	FmCheckPlanParamsIn(plan, plan);
}

/*
 * FmCheckPlanParamsIn
 *		FmCheckPlanParams() for some migrations of a plan: the parameters
 *		of each of "migrations" (a part of "plan", NIL: none) are checked,
 *		and the supplied values against the whole of "plan".  migrate()
 *		checks one migration at a time this way to find the first it cannot
 *		apply (run.c).
 */
void
FmCheckPlanParamsIn(List *migrations, List *plan)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, migrations)
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
			SuppliedParam *p = find_supplied(name);

			if (p != NULL)
			{
				p->secret |= secret;
				continue;
			}
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
					 errhint("Supply %s by name, as in %s.",
							 nmissing == 1 ? "it" : "them", example_call(first_missing))));
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
 * mask_text
 *		"text" with every occurrence of a secret value replaced by the mask;
 *		"text" itself (not a copy) when it holds none.  NULL for NULL.
 */
static char *
mask_text(const char *text)
{
	StringInfoData buf;
	const char *p;
	bool		found = false;

	if (text == NULL)
		return NULL;
	initStringInfo(&buf);
	p = text;
	while (*p)
	{
		const SuppliedParam *match = NULL;
		ListCell   *lc;

		/* the longest secret that starts here */
		foreach(lc, supplied)
		{
			const SuppliedParam *sp = lfirst(lc);
			size_t		len = strlen(sp->value);

			if (sp->secret && len > 0 && strncmp(p, sp->value, len) == 0 &&
				(match == NULL || len > strlen(match->value)))
				match = sp;
		}
		if (match != NULL)
		{
			appendStringInfoString(&buf, FM_SECRET_MASK);
			p += strlen(match->value);
			found = true;
		}
		else
			appendStringInfoChar(&buf, *p++);
	}
	if (!found)
	{
		pfree(buf.data);
		return (char *) text;
	}
	return buf.data;
}

/*
 * FmParamsMaskError
 *		Replace every secret value of the run in the texts of "edata"
 *		(message, detail, hint, context, internal query) by the mask, so
 *		that an error that quotes a secret reaches neither the client, the
 *		server log, the history nor the run log.  Allocates in the current
 *		memory context.
 */
void
FmParamsMaskError(ErrorData *edata)
{
	ListCell   *lc;
	bool		any = false;

	foreach(lc, supplied)
		any |= ((const SuppliedParam *) lfirst(lc))->secret;
	if (!any || edata == NULL)
		return;
	edata->message = mask_text(edata->message);
	edata->detail = mask_text(edata->detail);
	edata->detail_log = mask_text(edata->detail_log);
	edata->hint = mask_text(edata->hint);
	edata->context = mask_text(edata->context);
	edata->internalquery = mask_text(edata->internalquery);
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
	/*
	 * Only to the role that started the run: not to a SECURITY DEFINER
	 * function of another role that the migration's statements happen to
	 * call (a trigger, a default, a view), which would otherwise read a
	 * secret with its owner's privileges.
	 */
	if (GetUserId() != run_user)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("fleetmigrate.param() answers only to the role that started the run"),
				 errdetail("It was called as role \"%s\" while %s, started by role \"%s\", ran.",
						   GetUserNameFromId(GetUserId(), false),
						   FmMigrationLabel(running->version, running->name),
						   GetUserNameFromId(run_user, false)),
				 errhint("Call fleetmigrate.param() in the migration itself, not from a function that runs with another role's privileges, nor after SET ROLE.")));
	if (!declares(running, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s does not declare parameter \"%s\"",
						FmMigrationLabel(running->version, running->name), name),
				 errhint("Declare it with params => '{%s}' in register() or \"-- params: %s\" in a bundle.",
						 name, name)));
	p = find_supplied(name);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("parameter \"%s\" of %s was not supplied",
						name, FmMigrationLabel(running->version, running->name)),
				 errhint("Supply it by name, as in %s.", example_call(name))));
	PG_RETURN_TEXT_P(cstring_to_text(p->value));
}
