/*-------------------------------------------------------------------------
 *
 * bundle.c
 *	  Many migrations in one text: register_bundle(), export_bundle(), and
 *	  register_dir(), which registers a directory of files the same way.
 *
 * The format (marker lines begin at column 1; a line may end in \r\n):
 *
 *	 -- migration: 007 create_feedback_tables
 *	 -- requires: 001, 002 create_users
 *	 -- conflicts: 006 old_feedback
 *	 -- params: admin_user_id
 *	 -- flags: repeatable, allow_destructive
 *	 -- tolerate: 42701, 42P07
 *	 CREATE TABLE bug_reports (...);
 *	 -- down
 *	 DROP TABLE bug_reports;
 *	 -- verify
 *	 SELECT 1 FROM bug_reports LIMIT 0;
 *
 * "-- migration: VERSION NAME" starts a migration (the version is the first
 * word, the name the rest of the line).  Header lines may follow it
 * directly, each kind once, with comma-separated values.  The up script is
 * every line up to the next marker; "-- down" and "-- verify" (alone on
 * their line) start the down and verify scripts, and "-- ran" the up text
 * that ran (export_bundle() writes it for an applied migration whose
 * registered text differs; it is read into FmDefinition.ran and never
 * registered).  A script is its lines joined by their line ends, without
 * the line end before the next marker, so export_bundle() writes each
 * script followed by one newline.  Before the first migration only blank
 * lines and "--" comments may appear.
 *
 * What stands between two migrations belongs to neither (kept_end()): where
 * a "-- migration:" marker or the end of the bundle closes a script, a
 * block of comment lines that a blank line separates from the script's
 * last line is the next migration's preamble and is dropped with those
 * blank lines, and at the end of the bundle blank lines are dropped too
 * (psql's -At output adds a newline).  "-- end" closes a script as it is;
 * only blank lines and comments may follow it up to the next marker.
 * export_bundle() writes "-- end" after a migration's last script when the
 * next marker or the end of the bundle would drop lines of it, so
 * registering its output, with or without psql's newline, reproduces every
 * script byte for byte.
 *
 * A line that looks like a marker but is not one where it stands is an
 * error, never script text: otherwise a down script, or the next
 * migration, would silently become part of the up script.  A line looks
 * like a marker when, ignoring leading blanks, it is two or more dashes,
 * optional blanks and one of the words of the format (migration, down,
 * verify, ran, end, requires, conflicts, params, flags, tolerate) in any case,
 * followed by nothing but blanks, or by a colon; or "migration" followed
 * by a word that starts with a digit.  So "--  down", "-- Down", "--down",
 * " -- migration: 002 x" and a "-- requires:" line below the first script
 * line are refused, while "-- downgrade later" or "-- migrations table"
 * are comments like any other.  export_bundle() refuses a script holding
 * such a line, since its output could not be registered again.
 *
 * Registering is all or nothing: the SQL function's statement fails as a
 * whole on the first error, which names the bundle line.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "definition.h"

#define MARKER_MIGRATION	"-- migration:"
#define HEADER_REQUIRES		"-- requires:"
#define HEADER_CONFLICTS	"-- conflicts:"
#define HEADER_PARAMS		"-- params:"
#define HEADER_FLAGS		"-- flags:"
#define HEADER_TOLERATE		"-- tolerate:"

/* What kind of line a bundle line is. */
typedef enum LineKind
{
	LINE_TEXT,
	LINE_MIGRATION,
	LINE_DOWN,
	LINE_VERIFY,
	LINE_RAN,
	LINE_END
} LineKind;

/* The script being collected: where its first line starts, line count. */
typedef struct Section
{
	char	  **target;			/* where the finished text goes */
	const char *start;			/* first line */
	const char *end;			/* end of the last line (before its \n) */
	int			lines;
} Section;

/*
 * What ends a script: a
 * "-- migration:" marker (CLOSED_BY_MARKER) or the end of the bundle
 * (CLOSED_BY_END) drop the lines kept_end() does not keep; "-- down",
 * "-- verify", "-- ran" and "-- end" (CLOSED_BY_LINE) keep every line.
 */
typedef enum Closed
{
	CLOSED_BY_LINE,
	CLOSED_BY_MARKER,
	CLOSED_BY_END
} Closed;

PG_FUNCTION_INFO_V1(fleetmigrate_register_bundle);
PG_FUNCTION_INFO_V1(fleetmigrate_export_bundle);
PG_FUNCTION_INFO_V1(fleetmigrate_register_dir);

static LineKind line_kind(const char *line, int len);
static const char *marker_like(const char *line, int len);
static void refuse_marker_like(const char *line, int len, int lineno,
							   const char *marker, const FmDefinition *def,
							   const char *script);
static bool has_prefix(const char *line, int len, const char *prefix);
static const char *header_of(const char *line, int len);
static char *trimmed(const char *start, const char *end);
static List *header_values(const char *line, int len, int prefix_len,
						   int lineno, const char *header);
static bool is_blank(const char *s, const char *e);
static bool is_comment(const char *s, const char *e);
static const char *kept_end(const char *start, const char *end, bool at_end);
static void check_exportable(const FmDefinition *def, const char *what,
							 const char *script, bool first_is_body);
static void append_list(StringInfo out, const char *header, List *items);
static void register_all(FunctionCallInfo fcinfo, List *definitions);

/* Does the line (without its line end) begin with "prefix"? */
static bool
has_prefix(const char *line, int len, const char *prefix)
{
	int			plen = strlen(prefix);

	return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* The header a line starts with (HEADER_REQUIRES, ...), or NULL. */
static const char *
header_of(const char *line, int len)
{
	static const char *const headers[] = {
		HEADER_REQUIRES, HEADER_CONFLICTS, HEADER_PARAMS, HEADER_FLAGS,
		HEADER_TOLERATE
	};

	for (int i = 0; i < lengthof(headers); i++)
	{
		if (has_prefix(line, len, headers[i]))
			return headers[i];
	}
	return NULL;
}

/*
 * line_kind
 *		A marker line, or text.  "-- down" and "-- verify" may carry
 *		trailing white space (and the \r of a \r\n line end).
 */
static LineKind
line_kind(const char *line, int len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
					   line[len - 1] == '\r'))
		len--;
	if (has_prefix(line, len, MARKER_MIGRATION))
		return LINE_MIGRATION;
	if (len == 7 && memcmp(line, "-- down", 7) == 0)
		return LINE_DOWN;
	if (len == 9 && memcmp(line, "-- verify", 9) == 0)
		return LINE_VERIFY;
	if (len == 6 && memcmp(line, "-- ran", 6) == 0)
		return LINE_RAN;
	if (len == 6 && memcmp(line, "-- end", 6) == 0)
		return LINE_END;
	return LINE_TEXT;
}

/*
 * marker_like
 *		The marker a line looks like (see the file header), spelled as it
 *		must be written, or NULL for a line that looks like no marker.
 */
static const char *
marker_like(const char *line, int len)
{
	static const char *const words[][2] = {
		{"migration", MARKER_MIGRATION " VERSION NAME"},
		{"down", "-- down"},
		{"verify", "-- verify"},
		{"ran", "-- ran"},
		{"end", "-- end"},
		{"requires", HEADER_REQUIRES},
		{"conflicts", HEADER_CONFLICTS},
		{"params", HEADER_PARAMS},
		{"flags", HEADER_FLAGS},
		{"tolerate", HEADER_TOLERATE}
	};
	const char *p = line;
	const char *end = line + len;

	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* two or more dashes */
	for (int dashes = 0; dashes < 2; dashes++)
	{
		if (p >= end || *p != '-')
			return NULL;
		p++;
	}
	while (p < end && *p == '-')
		p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (int i = 0; i < lengthof(words); i++)
	{
		int			wlen = strlen(words[i][0]);
		const char *q = p + wlen;

		if (end - p < wlen || pg_strncasecmp(p, words[i][0], wlen) != 0)
			continue;
		if (q < end && *q != ' ' && *q != '\t' && *q != ':')
			continue;			/* a longer word: "downgrade", "migrations" */
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end || *q == ':' ||
			(i == 0 && *q >= '0' && *q <= '9'))
			return words[i][1];
	}
	return NULL;
}

/*
 * refuse_marker_like
 *		ERROR for a line that looks like "marker" but is not one where it
 *		stands; "def" and "script" say where the line would have gone
 *		(NULL before the first migration).
 */
static void
refuse_marker_like(const char *line, int len, int lineno, const char *marker,
				   const FmDefinition *def, const char *script)
{
	char	   *text = pnstrdup(line, len);

	if (len > 0 && text[len - 1] == '\r')
		text[len - 1] = '\0';
	if (marker[strlen(marker) - 1] == ':' && has_prefix(line, len, marker))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header line \"%s\" at bundle line %d is not directly below a migration marker",
						marker, lineno),
				 def ? errdetail("Header lines come right after the \"-- migration:\" line, before any blank or script line; read as script text, the line would become part of the %s script of %s.",
								 script, FmMigrationLabel(def->version, def->name)) :
				 errdetail("Header lines come right after the \"-- migration:\" line."),
				 errhint("Move the line up, directly below \"-- migration: ...\", or reword the comment so that it does not begin with \"%s\".",
						 marker)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed bundle marker at bundle line %d", lineno),
			 def ? errdetail("The line is \"%s\". It looks like a marker, but is not spelled as one; read as script text, it would become part of the %s script of %s.",
							 text, script, FmMigrationLabel(def->version, def->name)) :
			 errdetail("The line is \"%s\". It looks like a marker, but is not spelled as one.",
					   text),
			 errhint("Write the marker exactly as \"%s\", in lower case, from column 1, with one space after the dashes. To keep the line as a comment, reword it.",
					 marker)));
}

/* A copy of [start, end) without leading and trailing blanks. */
static char *
trimmed(const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return pnstrdup(start, end - start);
}

/*
 * header_values
 *		The comma-separated values of a header line, trimmed; ERROR for an
 *		empty one.
 */
static List *
header_values(const char *line, int len, int prefix_len, int lineno,
			  const char *header)
{
	const char *p = line + prefix_len;
	const char *end = line + len;
	List	   *result = NIL;

	for (;;)
	{
		const char *comma = memchr(p, ',', end - p);
		char	   *value = trimmed(p, comma ? comma : end);

		if (value[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty value in the \"%s\" line at bundle line %d",
							header, lineno),
					 errhint("Separate the values with commas, as in \"%s 001, 002 create_users\".",
							 header)));
		result = lappend(result, value);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return result;
}

/* Is [s, e) blank (spaces, tabs, a \r)?  A "--" comment? */
static bool
is_blank(const char *s, const char *e)
{
	for (; s < e; s++)
	{
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return false;
	}
	return true;
}

static bool
is_comment(const char *s, const char *e)
{
	size_t		len = e - s;
	size_t		i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i + 2 <= len && s[i] == '-' && s[i + 1] == '-';
}

/*
 * kept_end
 *		Where the script in [start, end) ends when it is closed by a
 *		"-- migration:" marker or, with "at_end", by the end of the bundle
 *		(see the file header): blank lines at the end of the bundle belong
 *		to no script, nor does a block of comment lines that a blank line
 *		separates from the script above it.  Returns "end" when every line
 *		is kept; "start" when none is.
 */
static const char *
kept_end(const char *start, const char *end, bool at_end)
{
	int			n = 0;
	int			cap = 16;
	const char **ls = palloc(sizeof(char *) * cap);
	const char **le = palloc(sizeof(char *) * cap);
	const char *p = start;
	const char *result;
	int			code;

	for (;;)
	{
		const char *nl = memchr(p, '\n', end - p);

		if (n == cap)
		{
			cap *= 2;
			ls = repalloc(ls, sizeof(char *) * cap);
			le = repalloc(le, sizeof(char *) * cap);
		}
		ls[n] = p;
		le[n] = nl ? nl : end;
		n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (at_end)
	{
		while (n > 0 && is_blank(ls[n - 1], le[n - 1]))
			n--;
	}
	/* the last script line, then the blank and comment lines after it */
	code = n - 1;
	while (code >= 0 && (is_blank(ls[code], le[code]) ||
						 is_comment(ls[code], le[code])))
		code--;
	if (code + 1 < n && is_blank(ls[code + 1], le[code + 1]))
	{
		for (int i = code + 1; i < n; i++)
		{
			if (is_comment(ls[i], le[i]))
			{
				n = code + 1;
				break;
			}
		}
	}
	result = n == 0 ? start : le[n - 1];
	pfree(ls);
	pfree(le);
	return result;
}

/* Store the collected lines of a script (see Closed). */
static void
finish_section(Section *section, Closed closed)
{
	if (section->target == NULL)
		return;
	if (section->lines > 0 && closed != CLOSED_BY_LINE)
		section->end = kept_end(section->start, section->end,
								closed == CLOSED_BY_END);
	if (section->lines == 0 || section->end == section->start)
		*section->target = pstrdup("");
	else
		*section->target = pnstrdup(section->start,
									section->end - section->start);
	section->target = NULL;
}

/* Order of (version, name), then bundle order: for check_duplicates(). */
static int
compare_identities(const ListCell *a, const ListCell *b)
{
	const FmDefinition *da = lfirst(a);
	const FmDefinition *db = lfirst(b);
	int			cmp = strcmp(da->version, db->version);

	if (cmp == 0)
		cmp = strcmp(da->name, db->name);
	if (cmp == 0)
		cmp = da->lineno - db->lineno;
	return cmp;
}

/*
 * check_duplicates
 *		ERROR if two migrations of a bundle have the same version and name,
 *		naming the pair whose second one comes first in the bundle.  Sorts
 *		a copy, so that a bundle of many migrations is checked in
 *		O(n log n), not by comparing each with every earlier one.
 */
static void
check_duplicates(List *definitions)
{
	List	   *sorted = list_copy(definitions);
	const FmDefinition *first = NULL;
	const FmDefinition *second = NULL;

	list_sort(sorted, compare_identities);
	for (int i = 1; i < list_length(sorted); i++)
	{
		const FmDefinition *prev = list_nth(sorted, i - 1);
		const FmDefinition *def = list_nth(sorted, i);

		if (strcmp(prev->version, def->version) == 0 &&
			strcmp(prev->name, def->name) == 0 &&
			(second == NULL || def->lineno < second->lineno))
		{
			first = prev;
			second = def;
		}
	}
	list_free(sorted);
	if (second != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s appears twice in the bundle, at %s and at %s",
						FmMigrationLabel(second->version, second->name),
						first->origin, second->origin)));
}

/*
 * FmParseBundle
 *		The migrations of a bundle, in bundle order.  ERRORs name the line.
 */
List *
FmParseBundle(const char *bundle)
{
	List	   *result = NIL;
	FmDefinition *def = NULL;
	Section		section = {NULL, NULL, NULL, 0};
	bool		in_headers = false;
	bool		after_end = false;	/* below "-- end": no script open */
	const char *line = bundle;
	int			lineno = 0;

	while (*line != '\0')
	{
		const char *nl = strchr(line, '\n');
		int			len = nl ? nl - line : strlen(line);
		LineKind	kind = line_kind(line, len);

		lineno++;
		if (kind == LINE_MIGRATION)
		{
			const char *p = line + strlen(MARKER_MIGRATION);
			const char *end = line + len;
			const char *word;

			finish_section(&section, CLOSED_BY_MARKER);
			after_end = false;
			def = palloc0(sizeof(FmDefinition));
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			word = p;
			while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			def->version = pnstrdup(word, p - word);
			def->name = trimmed(p, end);
			if (def->version[0] == '\0' || def->name[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("migration marker without %s at bundle line %d",
								def->version[0] == '\0' ? "a version" : "a name",
								lineno),
						 errhint("Write the version and the name after the marker, as in \"-- migration: 007 create_feedback_tables\".")));
			def->origin = psprintf("bundle line %d", lineno);
			def->lineno = lineno;
			result = lappend(result, def);
			in_headers = true;
			section.target = &def->up;
			section.lines = 0;
		}
		else if (def == NULL)
		{
			/* before the first migration: blank lines and comments only */
			char	   *text = trimmed(line, line + len);
			const char *marker = marker_like(line, len);

			if (marker != NULL)
				refuse_marker_like(line, len, lineno, marker, NULL, NULL);
			if (text[0] != '\0' && strncmp(text, "--", 2) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("text before the first migration marker at bundle line %d",
								lineno),
						 errdetail("Each migration starts with a line \"-- migration: VERSION NAME\"; only blank lines and comments may come before the first one."),
						 errhint("Add a marker line such as \"-- migration: 001 first\" above line %d.",
								 lineno)));
		}
		else if (in_headers && header_of(line, len) != NULL)
		{
			const char *header = header_of(line, len);
			List	  **target = NULL;

			if (strcmp(header, HEADER_REQUIRES) == 0)
				target = &def->requires;
			else if (strcmp(header, HEADER_CONFLICTS) == 0)
				target = &def->conflicts;
			else if (strcmp(header, HEADER_PARAMS) == 0)
				target = &def->params;
			else if (strcmp(header, HEADER_TOLERATE) == 0)
				target = &def->tolerate;

			if (target != NULL)
			{
				if (*target != NIL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("second \"%s\" line for %s at bundle line %d",
									header,
									FmMigrationLabel(def->version, def->name),
									lineno),
							 errhint("Put all the values on one line, separated by commas.")));
				*target = header_values(line, len, strlen(header), lineno, header);
			}
			else
			{
				ListCell   *lc;

				foreach(lc, header_values(line, len, strlen(header), lineno, header))
				{
					const char *flag = lfirst(lc);

					if (strcmp(flag, "repeatable") == 0)
						def->repeatable = true;
					else if (strcmp(flag, "allow_destructive") == 0)
						def->allow_destructive = true;
					else
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("unknown flag \"%s\" at bundle line %d",
										flag, lineno),
								 errhint("The flags are repeatable and allow_destructive.")));
				}
			}
		}
		else if (kind == LINE_END)
		{
			/* closes the script as it is; nothing follows until a marker */
			finish_section(&section, CLOSED_BY_LINE);
			in_headers = false;
			after_end = true;
		}
		else if (kind == LINE_DOWN || kind == LINE_VERIFY || kind == LINE_RAN)
		{
			char	  **target = kind == LINE_DOWN ? &def->down :
				kind == LINE_VERIFY ? &def->verify : &def->ran;

			finish_section(&section, CLOSED_BY_LINE);
			in_headers = false;
			after_end = false;
			if (*target != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("second \"-- %s\" line for %s at bundle line %d",
								kind == LINE_DOWN ? "down" :
								kind == LINE_VERIFY ? "verify" : "ran",
								FmMigrationLabel(def->version, def->name),
								lineno),
						 errhint("A migration has one down script, one verify script and one \"-- ran\" section; start the next migration with \"-- migration: VERSION NAME\".")));
			section.target = target;
			section.lines = 0;
		}
		else
		{
			const char *marker = marker_like(line, len);

			if (marker != NULL)
				refuse_marker_like(line, len, lineno, marker,
								   after_end ? NULL : def,
								   section.target == &def->up ? "up" :
								   section.target == &def->down ? "down" :
								   section.target == &def->ran ? "ran" :
								   "verify");
			in_headers = false;
			if (after_end)
			{
				char	   *text = trimmed(line, line + len);

				if (text[0] != '\0' && strncmp(text, "--", 2) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("text after \"-- end\" at bundle line %d", lineno),
							 errdetail("\"-- end\" closes the script above it; only blank lines and comments may follow it, up to the next \"-- migration:\", \"-- down\", \"-- verify\" or \"-- ran\" line."),
							 errhint("Remove the \"-- end\" line above line %d, or start a new migration with \"-- migration: VERSION NAME\".",
									 lineno)));
			}
			else
			{
				if (section.lines == 0)
					section.start = line;
				section.end = line + len;
				section.lines++;
			}
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	finish_section(&section, CLOSED_BY_END);

	if (result == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bundle contains no migrations"),
				 errhint("Start each migration with a line \"-- migration: VERSION NAME\", as export_bundle() writes them.")));
	check_duplicates(result);
	return result;
}

/*
 * check_exportable
 *		ERROR if a script could not be read back as it is: a line of it
 *		would be taken for a marker (or, at the start of an up script, a
 *		header line), or would be refused as looking like one.
 */
static void
check_exportable(const FmDefinition *def, const char *what,
				 const char *script, bool first_is_body)
{
	const char *line = script;
	int			lineno = 0;

	while (true)
	{
		const char *nl = strchr(line, '\n');
		int			len = nl ? nl - line : strlen(line);
		bool		header = lineno == 0 && first_is_body &&
			header_of(line, len) != NULL;

		lineno++;
		if (line_kind(line, len) != LINE_TEXT || header ||
			marker_like(line, len) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot export %s: line %d of its %s script would read as a bundle marker",
							FmMigrationLabel(def->version, def->name),
							lineno, what),
					 errdetail("The line is \"%s\".", pnstrdup(line, len)),
					 errhint("Register the migration again with that line reworded so that it does not read as a marker, for example \"-- (down) ...\" instead of \"-- down\".")));
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

static void
append_list(StringInfo out, const char *header, List *items)
{
	ListCell   *lc;

	if (items == NIL)
		return;
	appendStringInfoString(out, header);
	foreach(lc, items)
		appendStringInfo(out, "%s%s", foreach_current_index(lc) == 0 ? " " : ", ",
						 (char *) lfirst(lc));
	appendStringInfoChar(out, '\n');
}

/*
 * FmExportBundle
 *		The bundle text of "definitions", in their order.
 */
char *
FmExportBundle(List *definitions)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, definitions)
	{
		FmDefinition *def = lfirst(lc);
		const char *last;		/* the migration's last script */

		check_exportable(def, "up", def->up, true);
		appendStringInfo(&out, "%s %s %s\n", MARKER_MIGRATION, def->version,
						 def->name);
		append_list(&out, HEADER_REQUIRES, def->requires);
		append_list(&out, HEADER_CONFLICTS, def->conflicts);
		append_list(&out, HEADER_PARAMS, def->params);
		append_list(&out, HEADER_TOLERATE, def->tolerate);
		if (def->repeatable || def->allow_destructive)
			appendStringInfo(&out, "%s %s%s%s\n", HEADER_FLAGS,
							 def->repeatable ? "repeatable" : "",
							 def->repeatable && def->allow_destructive ? ", " : "",
							 def->allow_destructive ? "allow_destructive" : "");
		appendStringInfo(&out, "%s\n", def->up);
		last = def->up;
		if (def->down != NULL)
		{
			check_exportable(def, "down", def->down, false);
			appendStringInfo(&out, "-- down\n%s\n", def->down);
			last = def->down;
		}
		if (def->verify != NULL)
		{
			check_exportable(def, "verify", def->verify, false);
			appendStringInfo(&out, "-- verify\n%s\n", def->verify);
			last = def->verify;
		}
		if (def->ran != NULL)
		{
			check_exportable(def, "ran", def->ran, false);
			appendStringInfo(&out, "-- ran\n%s\n", def->ran);
			last = def->ran;
		}

		/*
		 * The next marker, or the end of the bundle, would drop lines of
		 * the last script (kept_end()): close it with "-- end" instead.
		 */
		if (kept_end(last, last + strlen(last),
					 lnext(definitions, lc) == NULL) != last + strlen(last))
			appendStringInfoString(&out, "-- end\n");
	}
	return out.data;
}

/*
 * register_all
 *		Register "definitions" in order and return one row per migration:
 *		version, name, outcome.  All or nothing: an error fails the call.
 */
static void
register_all(FunctionCallInfo fcinfo, List *definitions)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	MemoryContext cxt;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	/* each migration's parse trees and datums go away after it */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "fleetmigrate register",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	foreach(lc, definitions)
	{
		FmDefinition *def = lfirst(lc);
		const char *outcome = FmRegisterDefinition(def);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(def->version);
		values[1] = CStringGetTextDatum(def->name);
		values[2] = CStringGetTextDatum(outcome);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(cxt);
	}
	MemoryContextSwitchTo(oldcxt);
	FmCatalogCheckRequirements(definitions);
	SPI_finish();
}

/*
 * fleetmigrate.register_bundle(bundle text)
 *		RETURNS TABLE(version text, name text, outcome text)
 */
Datum
fleetmigrate_register_bundle(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bundle cannot be null")));
	register_all(fcinfo, FmParseBundle(text_to_cstring(PG_GETARG_TEXT_PP(0))));
	return (Datum) 0;
}

/*
 * fleetmigrate.export_bundle() RETURNS text
 */
Datum
fleetmigrate_export_bundle(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *bundle;
	text	   *result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	FmCatalogBegin();
	bundle = FmExportBundle(FmCatalogDefinitions());
	/* the result outlives SPI's memory */
	MemoryContextSwitchTo(caller);
	result = cstring_to_text(bundle);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/*
 * fleetmigrate.register_dir(path text)
 *		RETURNS TABLE(version text, name text, outcome text)
 *
 * The server reads the files, so the caller must be allowed to read server
 * files: a superuser or a member of pg_read_server_files, as for COPY FROM
 * a file.  A NULL path is an error (the function is CALLED ON NULL INPUT
 * from 1.7 on); FmReadMigrationDir() gives every file system failure, an
 * over-long path included, an SQLSTATE of its own.
 */
Datum
fleetmigrate_register_dir(PG_FUNCTION_ARGS)
{
	char	   *path;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migration directory cannot be null")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read migration files from the server"),
				 errdetail("Only superusers and members of pg_read_server_files may use register_dir()."),
				 errhint("Use register_bundle() with the files' contents instead, for example pasted into the SQL editor, or load them with psql as the README shows.")));
	register_all(fcinfo, FmReadMigrationDir(path));
	return (Datum) 0;
}
