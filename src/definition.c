/*-------------------------------------------------------------------------
 *
 * definition.c
 *	  Registration rules: the checks a migration definition must pass
 *	  before the catalog stores it, whether it came from register()'s
 *	  arguments, a bundle (bundle.c) or a directory of files (files.c).
 *
 * The rules are chosen so that whatever is stored can be shown to a person
 * without hiding anything and written out by export_bundle() in a form
 * that register_bundle() reads back as the same migration:
 *	 - a version is ASCII letters and digits, with a single ".", "_" or
 *	   "-" between two of them (so "-1" is not a version: it would sort
 *	   after "999");
 *	 - a name is printable text: no control characters, no invisible or
 *	   bidirectional formatting characters, no space other than U+0020,
 *	   and no leading, trailing or doubled space;
 *	 - a reference ("version" or "version name") follows the same rules
 *	   and holds no comma, which separates values in a bundle header;
 *	 - a parameter name is a lower-case ASCII identifier of at most
 *	   NAMEDATALEN - 1 bytes;
 *	 - a tolerated error is a SQLSTATE of one of PostgreSQL's error
 *	   classes.
 *
 * Nothing here reads or writes the catalog; FmCheckDefinition() parses the
 * scripts with parse.c and is otherwise pure.  Every check ERRORs with
 * SQLSTATE 22023 (or 22004 for a NULL) and changes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "batchspec.h"
#include "common.h"
#include "definition.h"
#include "parse.h"

/* Upper bounds that keep identities printable on one line. */
#define FM_MAX_VERSION_LENGTH	100
#define FM_MAX_NAME_LENGTH		200
/* Parameter names are identifiers: the server's limit for a name. */
#define FM_MAX_PARAM_LENGTH		(NAMEDATALEN - 1)
/* How much of an over-long value a message shows. */
#define FM_SHOWN_BYTES			40

/* A range of code points a name may not hold, and what they are. */
typedef struct CharRange
{
	pg_wchar	first;
	pg_wchar	last;
	const char *what;
} CharRange;

/*
 * Characters that are invisible, change the direction or the shape of the
 * text around them, or look like a plain space: Unicode's control (Cc),
 * format (Cf), line and paragraph separators (Zl, Zp) and space separators
 * (Zs) other than U+0020, plus the fillers that render as blank, private
 * use characters and noncharacters.
 */
static const CharRange forbidden_chars[] = {
	{0x0000, 0x001F, "a control character"},
	{0x007F, 0x009F, "a control character"},
	{0x00A0, 0x00A0, "a no-break space"},
	{0x00AD, 0x00AD, "a soft hyphen"},
	{0x034F, 0x034F, "a combining grapheme joiner"},
	{0x0600, 0x0605, "a format character"},
	{0x061C, 0x061C, "a bidirectional control character"},
	{0x06DD, 0x06DD, "a format character"},
	{0x070F, 0x070F, "a format character"},
	{0x0890, 0x0891, "a format character"},
	{0x08E2, 0x08E2, "a format character"},
	{0x115F, 0x1160, "a blank filler"},
	{0x1680, 0x1680, "a space other than U+0020"},
	{0x17B4, 0x17B5, "an invisible vowel"},
	{0x180B, 0x180F, "a variation selector"},
	{0x2000, 0x200A, "a space other than U+0020"},
	{0x200B, 0x200B, "a zero-width space"},
	{0x200C, 0x200D, "a zero-width joiner or non-joiner"},
	{0x200E, 0x200F, "a bidirectional control character"},
	{0x2028, 0x2029, "a line or paragraph separator"},
	{0x202A, 0x202E, "a bidirectional control character"},
	{0x202F, 0x202F, "a no-break space"},
	{0x205F, 0x205F, "a space other than U+0020"},
	{0x2060, 0x2065, "an invisible format character"},
	{0x2066, 0x2069, "a bidirectional control character"},
	{0x206A, 0x206F, "a format character"},
	{0x2800, 0x2800, "a blank braille pattern"},
	{0x3000, 0x3000, "a space other than U+0020"},
	{0x3164, 0x3164, "a blank filler"},
	{0xE000, 0xF8FF, "a private use character"},
	{0xFDD0, 0xFDEF, "a noncharacter"},
	{0xFE00, 0xFE0F, "a variation selector"},
	{0xFEFF, 0xFEFF, "a zero-width no-break space (byte order mark)"},
	{0xFFA0, 0xFFA0, "a blank filler"},
	{0xFFF9, 0xFFFB, "an interlinear annotation character"},
	{0xFFFE, 0xFFFF, "a noncharacter"},
	{0x110BD, 0x110BD, "a format character"},
	{0x110CD, 0x110CD, "a format character"},
	{0x13430, 0x1343F, "a format character"},
	{0x1BCA0, 0x1BCA3, "a format character"},
	{0x1D173, 0x1D17A, "a format character"},
	{0xE0000, 0xE0FFF, "a tag or variation selector"},
	{0xF0000, 0x10FFFF, "a private use character or noncharacter"}
};

/*
 * The classes of PostgreSQL's SQLSTATEs (Appendix A of its manual) whose
 * errors a statement can fail with: 00 (success), 01 (warning) and 02 (no
 * data) are not errors.
 */
static const char *const error_classes[] = {
	"03", "08", "09", "0A", "0B", "0F", "0L", "0P", "0Z", "20", "21", "22",
	"23", "24", "25", "26", "27", "28", "2B", "2D", "2F", "34", "38", "39",
	"3B", "3D", "3F", "40", "42", "44", "53", "54", "55", "57", "58", "72",
	"F0", "HV", "P0", "XX"
};

static char *shown(const char *value);
static void check_version(const char *version, const char *what,
						  const char *where);
static void check_name(const char *name, const char *what, const char *where);
static List *check_references(const FmDefinition *def, List *refs,
							  const char *what);
static void check_params(const FmDefinition *def);
static List *check_tolerate(const FmDefinition *def, const FmScriptInfo *info);
static void check_batch(const FmDefinition *def);
static List *array_items(FunctionCallInfo fcinfo, int argno,
						 const char *argname);

/*
 * shown
 *		A value as a message quotes it: whole when short, else its first
 *		FM_SHOWN_BYTES bytes (cut at a character boundary) and "...".
 */
static char *
shown(const char *value)
{
	int			len = strlen(value);

	if (len <= FM_SHOWN_BYTES)
		return pstrdup(value);
	return psprintf("%s...",
					pnstrdup(value, pg_mbcliplen(value, len, FM_SHOWN_BYTES)));
}

/*
 * check_version
 *		ERROR unless "version" is a version: 1 to FM_MAX_VERSION_LENGTH
 *		bytes of ASCII letters and digits, with one ".", "_" or "-" between
 *		two of them.  "what" and "where" name it for
 *		messages: "migration version" and "", or "version" and " in the
 *		requires of migration ...".
 */
static void
check_version(const char *version, const char *what, const char *where)
{
	size_t		len = strlen(version);
	const char *p;

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%s cannot be empty", what, where)));
	if (len > FM_MAX_VERSION_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%s is too long", what, where),
				 errdetail("A version can have at most %d bytes; this one has %zu.",
						   FM_MAX_VERSION_LENGTH, len)));
	for (p = version; *p; p++)
	{
		bool		alnum = (*p >= '0' && *p <= '9') ||
			(*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		bool		separator = *p == '.' || *p == '_' || *p == '-';

		bool		after_alnum = p > version &&
			((p[-1] >= '0' && p[-1] <= '9') ||
			 (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));

		if (!alnum && !(separator && after_alnum && p[1] != '\0'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s \"%s\"%s", what, version, where),
					 errdetail("A version consists of ASCII letters and digits, with a single \".\", \"_\" or \"-\" between two of them, so that it begins and ends with a letter or a digit."),
					 errhint("Put the description in the name, as in register('007', 'create_feedback_tables', ...).")));
	}
}

/*
 * check_name
 *		ERROR unless "name" is a name: 1 to FM_MAX_NAME_LENGTH bytes of
 *		printable text, words separated by single spaces (U+0020), with none
 *		of forbidden_chars.  The database encoding is converted to UTF-8 to
 *		look at code points; in a SQL_ASCII database, bytes that are not
 *		UTF-8 are taken as they are.
 */
static void
check_name(const char *name, const char *what, const char *where)
{
	size_t		len = strlen(name);
	const unsigned char *utf8;
	const unsigned char *p;
	const unsigned char *end;
	bool		is_utf8;
	int			position = 0;

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%s cannot be empty", what, where)));
	if (len > FM_MAX_NAME_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%s is too long", what, where),
				 errdetail("A name can have at most %d bytes; this one has %zu.",
						   FM_MAX_NAME_LENGTH, len)));
	if (name[0] == ' ' || name[len - 1] == ' ' || strstr(name, "  ") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"%s", what, shown(name), where),
				 errdetail("A name cannot begin or end with a space or hold two spaces in a row."),
				 errhint("Separate the words of a name with single spaces or underscores.")));

	utf8 = (const unsigned char *) pg_server_to_any(name, len, PG_UTF8);
	end = utf8 + strlen((const char *) utf8);
	is_utf8 = pg_verify_mbstr(PG_UTF8, (const char *) utf8, end - utf8, true);
	for (p = utf8; p < end; p += is_utf8 ? pg_utf_mblen(p) : 1)
	{
		pg_wchar	c = is_utf8 ? utf8_to_unicode(p) : *p;

		position++;
		if (!is_utf8 && c >= 0x80)
			continue;
		for (int i = 0; i < lengthof(forbidden_chars); i++)
		{
			if (c >= forbidden_chars[i].first && c <= forbidden_chars[i].last)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid %s \"%s\"%s", what, shown(name), where),
						 errdetail("Character %d of the name is U+%04X, %s.",
								   position, (unsigned int) c,
								   forbidden_chars[i].what),
						 errhint("A name holds printable characters and single spaces (U+0020) only, so that everyone reading it sees all of it.")));
		}
	}
}

/*
 * check_references
 *		Requirements and conflicts are "version" or "version name": trimmed,
 *		a valid version and name, no comma, not the migration itself, none
 *		twice.  Returns the trimmed list.
 */
static List *
check_references(const FmDefinition *def, List *refs, const char *what)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, refs)
	{
		char	   *ref = pstrdup((char *) lfirst(lc));
		char	   *end = ref + strlen(ref);
		char	   *space;
		char	   *rversion;
		char	   *rname = NULL;
		char	   *where = psprintf(" in the %s of %s", what, FmMigrationLabel(def->version, def->name));

		while (*ref == ' ' || *ref == '\t')
			ref++;
		while (end > ref && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*ref == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty %s reference in %s", what, FmMigrationLabel(def->version, def->name)),
					 errhint("Refer to another migration by its version, as in '001', or by version and name, as in '001 create_users'.")));
		if (strchr(ref, ',') != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid reference \"%s\"%s", shown(ref), where),
					 errdetail("A reference cannot contain a comma: a bundle's \"-- %s:\" line separates references with commas.",
							   what),
					 errhint("Give each migration as a separate array element, and refer to a migration whose name has a comma by its version alone.")));
		rversion = pstrdup(ref);
		space = strpbrk(rversion, " \t");
		if (space != NULL)
		{
			*space = '\0';
			rname = space + 1;
			while (*rname == ' ' || *rname == '\t')
				rname++;
		}
		check_version(rversion, "version", where);
		if (rname != NULL)
			check_name(rname, "name", where);
		if (strcmp(rversion, def->version) == 0 &&
			(rname == NULL || strcmp(rname, def->name) == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot refer to itself in its %s",
							FmMigrationLabel(def->version, def->name), what)));
		ref = rname ? psprintf("%s %s", rversion, rname) : rversion;
		{
			ListCell   *lc2;

			foreach(lc2, result)
			{
				if (strcmp(lfirst(lc2), ref) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("%s names \"%s\" twice in its %s",
									FmMigrationLabel(def->version, def->name), ref, what)));
			}
		}
		result = lappend(result, ref);
	}
	return result;
}

/*
 * check_params
 *		Declared parameter names are identifiers ([a-z_][a-z0-9_]*, ASCII,
 *		at most FM_MAX_PARAM_LENGTH bytes, not "secret"), after "secret "
 *		for a parameter whose value is not recorded; none twice.
 */
static void
check_params(const FmDefinition *def)
{
	ListCell   *lc;
	bool		secret;

	foreach(lc, def->params)
	{
		const char *param = FmParamName(lfirst(lc), &secret);
		const char *p;
		ListCell   *lc2;

		if (strlen(param) > FM_MAX_PARAM_LENGTH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter name \"%s\" in %s is too long",
							shown(param), FmMigrationLabel(def->version, def->name)),
					 errdetail("A parameter name can have at most %d bytes; this one has %zu.",
							   FM_MAX_PARAM_LENGTH, strlen(param))));
		for (p = param; *p; p++)
		{
			if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
				  (p > param && *p >= '0' && *p <= '9')))
				break;
		}
		if (strcmp(param, "secret") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid parameter name \"%s\" in %s", param,
							FmMigrationLabel(def->version, def->name)),
					 errdetail("\"secret\" marks a secret parameter, as in \"secret api_token\"; it cannot be a parameter name itself.")));
		if (*param == '\0' || *p != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid parameter name \"%s\" in %s", param,
							FmMigrationLabel(def->version, def->name)),
					 errdetail("A parameter name consists of lower-case ASCII letters, digits and underscores, and does not begin with a digit. \"secret\" and a space before it mark a parameter whose value the history does not record.")));
		foreach(lc2, def->params)
		{
			if (lfirst(lc2) == lfirst(lc))
				break;
			if (strcmp(FmParamName(lfirst(lc2), &secret), param) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s declares parameter \"%s\" twice",
								FmMigrationLabel(def->version, def->name), param)));
		}
	}
}

/*
 * check_tolerate
 *		Tolerated errors are SQLSTATEs (five digits or upper-case letters,
 *		lower case accepted) of one of PostgreSQL's error classes, none
 *		twice, never one that must not be ignored: insufficient_privilege
 *		(42501), or a class where skipping would hide trouble outside the
 *		statement (transaction rollback 40, insufficient resources 53,
 *		operator intervention 57, system error 58, internal error XX).  The
 *		up script must run in a transaction (each statement gets a
 *		subtransaction).  Returns the codes in upper case.
 */
static List *
check_tolerate(const FmDefinition *def, const FmScriptInfo *info)
{
	static const char *const never_classes[][2] = {
		{"40", "transaction rollback: deadlocks and serialization failures"},
		{"53", "insufficient resources"},
		{"57", "operator intervention: cancellation and shutdown"},
		{"58", "system error"},
		{"XX", "internal error"}
	};
	List	   *result = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, def->tolerate)
	{
		char	   *code = pstrdup(lfirst(lc));
		bool		valid = strlen(code) == 5;
		bool		known_class = false;

		for (char *p = code; *p; p++)
		{
			*p = pg_toupper((unsigned char) *p);
			if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
				valid = false;
		}
		if (!valid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SQLSTATE \"%s\" in the tolerated errors of %s",
							shown(lfirst(lc)), FmMigrationLabel(def->version, def->name)),
					 errhint("Give five-character codes, as in '42701' (duplicate_column) or '42P07' (duplicate_table).")));
		for (int i = 0; i < lengthof(error_classes); i++)
		{
			if (strncmp(code, error_classes[i], 2) == 0)
				known_class = true;
		}
		if (!known_class)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SQLSTATE \"%s\" in the tolerated errors of %s",
							code, FmMigrationLabel(def->version, def->name)),
					 errdetail("Class \"%.2s\" is not one of PostgreSQL's error classes.",
							   code),
					 errhint("Give codes from Appendix A of the PostgreSQL manual, as in '42701' (duplicate_column) or '42P07' (duplicate_table).")));
		if (strcmp(code, "42501") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot tolerate insufficient_privilege (42501)",
							FmMigrationLabel(def->version, def->name)),
					 errdetail("A statement that the role may not run must fail the migration, never be skipped.")));
		for (int i = 0; i < lengthof(never_classes); i++)
		{
			if (strncmp(code, never_classes[i][0], 2) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s cannot tolerate SQLSTATE %s",
								FmMigrationLabel(def->version, def->name), code),
						 errdetail("Errors of class %s (%s) are never skipped.",
								   never_classes[i][0], never_classes[i][1])));
		}
		foreach(lc2, result)
		{
			if (strcmp(lfirst(lc2), code) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s names SQLSTATE %s twice in its tolerated errors",
								FmMigrationLabel(def->version, def->name), code)));
		}
		result = lappend(result, code);
	}
	if (result != NIL && !info->transactional)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot tolerate errors: it cannot run inside a transaction",
						FmMigrationLabel(def->version, def->name)),
				 errdetail("A tolerated error is skipped by rolling its statement's subtransaction back, and a statement that cannot run in a transaction has none.")));
	return result;
}

/*
 * check_batch
 *		A batched migration (batchspec.c): its "-- batch:" line and its one
 *		UPDATE or DELETE follow the rules (ERROR otherwise), it is neither
 *		repeatable nor tolerates errors, and, when its table exists, a
 *		WARNING if the key is not usable yet (an earlier pending migration
 *		may create the index; the run refuses it).
 */
static void
check_batch(const FmDefinition *def)
{
	char	   *label = psprintf("up script of %s",
								 FmMigrationLabel(def->version, def->name));
	FmBatchSpec *spec = FmBatchSpecParse(def->up, label);
	FmBatchTarget target;

	if (spec == NULL)
		return;
	if (def->repeatable || def->tolerate != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batched %s cannot be %s",
						FmMigrationLabel(def->version, def->name),
						def->repeatable ? "repeatable" : "tolerant of errors"),
				 errdetail("A batched migration runs once, batch after batch, and each batch's error stops it where it is."),
				 errhint("Remove the \"-- batch:\" line, or the flag.")));
	if (FmBatchResolve(spec, true, &target) && target.problem != NULL)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s cannot run in batches yet: %s",
						FmMigrationLabel(def->version, def->name), target.problem),
				 target.problem_detail ?
				 errdetail_internal("%s", target.problem_detail) : 0,
				 target.problem_hint ? errhint("%s", target.problem_hint) : 0));
}

/*
 * FmCheckDefinition
 *		ERROR unless "def" may be registered: its identity, references,
 *		parameters and tolerated errors follow the rules above, and its
 *		scripts parse (FmCheckScript(): syntax errors, transaction control,
 *		COPY to the client).  Fills *info with the facts about the up
 *		script and returns a palloc'd copy of "def" whose requires and
 *		conflicts are trimmed and whose tolerated errors are in upper case,
 *		as the catalog stores them.  Reads and writes nothing.
 */
FmDefinition *
FmCheckDefinition(const FmDefinition *def, FmScriptInfo *info)
{
	FmDefinition *checked = palloc(sizeof(FmDefinition));
	FmScriptInfo unused;

	*checked = *def;
	check_version(def->version, "migration version", "");
	check_name(def->name, "migration name", "");
	if (def->up == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("up script of %s cannot be null", FmMigrationLabel(def->version, def->name)),
				 errhint("Pass an empty string for a migration that does nothing.")));
	checked->requires = check_references(def, def->requires, "requires");
	checked->conflicts = check_references(def, def->conflicts, "conflicts");
	check_params(def);

	FmCheckScript(def->up, psprintf("up script of %s", FmMigrationLabel(def->version, def->name)), info);
	if (def->down != NULL)
		FmCheckScript(def->down, psprintf("down script of %s", FmMigrationLabel(def->version, def->name)),
					  &unused);
	if (def->verify != NULL)
		FmCheckScript(def->verify, psprintf("verify script of %s", FmMigrationLabel(def->version, def->name)),
					  &unused);
	checked->tolerate = check_tolerate(def, info);
	check_batch(def);
	return checked;
}

/*
 * array_items
 *		The elements of a one-dimensional text[] argument; ERROR for NULL
 *		elements or more than one dimension.
 */
static List *
array_items(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(argno);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"%s\" of register() must be a one-dimensional array",
						argname)));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" of register() cannot contain null elements",
							argname)));
		result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/*
 * FmDefinitionFromArgs
 *		The definition given by register()'s FM_REGISTER_NARGS arguments
 *		(version, name, up, down, verify, requires, conflicts, params,
 *		repeatable, allow_destructive, tolerate).  ERRORs for a NULL where
 *		one is not allowed; the rest is FmCheckDefinition()'s.
 */
FmDefinition *
FmDefinitionFromArgs(FunctionCallInfo fcinfo)
{
	static const char *const argnames[FM_REGISTER_NARGS] = {
		"version", "name", "up", "down", "verify", "requires", "conflicts",
		"params", "repeatable", "allow_destructive", "tolerate"
	};
	FmDefinition *def = palloc0(sizeof(FmDefinition));

	Assert(PG_NARGS() == FM_REGISTER_NARGS);
	for (int i = 0; i < FM_REGISTER_NARGS; i++)
	{
		/* down and verify may be NULL; up gets a hint of its own */
		if (PG_ARGISNULL(i) && i != 2 && i != 3 && i != 4)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 i < 2 ? errmsg("migration %s cannot be null", argnames[i]) :
					 errmsg("argument \"%s\" of register() cannot be null",
							argnames[i])));
	}
	def->version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	def->name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	def->up = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	def->down = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	def->verify = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	def->requires = array_items(fcinfo, 5, argnames[5]);
	def->conflicts = array_items(fcinfo, 6, argnames[6]);
	def->params = array_items(fcinfo, 7, argnames[7]);
	def->repeatable = PG_GETARG_BOOL(8);
	def->allow_destructive = PG_GETARG_BOOL(9);
	def->tolerate = array_items(fcinfo, 10, argnames[10]);
	return def;
}
