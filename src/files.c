/*-------------------------------------------------------------------------
 *
 * files.c
 *	  Reading a directory of migration files on the server.
 *
 * FmReadMigrationDir() turns a directory such as
 *
 *		000_core_schema.up.sql
 *		000_core_schema.down.sql
 *		000_core_schema.verify.sql
 *		0021_alter_table_webhook_add_internal_up.sql
 *		0157.up.sql
 *
 * into one FmDefinition per up file, in apply order.  The rules are those
 * of test/scripts/register_dir.sh, which loads the same directories from
 * the client side; the two must stay in step:
 *	 - up files are named STEM.up.sql or STEM_up.sql.  They are applied in
 *	   the order of the lines of ORDER-up.txt when the directory has that
 *	   file (empty lines are skipped, a trailing carriage return is
 *	   stripped; up files it does not list are ignored), else in byte-wise
 *	   order of their names;
 *	 - the version is the leading run of ASCII digits of STEM, the name what
 *	   follows the "_" after it, or the version again when nothing does:
 *	   "0021_alter_table_webhook_add_internal" and "0157" above;
 *	 - the down file is STEM.down.sql or STEM_down.sql.  Failing that, when
 *	   no other up has the same version and exactly one down file's stem
 *	   starts with that version, and no up claims that down by its exact
 *	   stem, that one (ory/kratos pairs "X.postgres.up.sql" with
 *	   "X.down.sql" this way);
 *	 - the verify file is STEM.verify.sql.
 * Down and verify files that pair with no up are ignored.
 *
 * Only regular files directly in the directory count, as for the server's
 * pg_ls_logdir() and friends: subdirectories, names starting with a dot and
 * anything else are skipped, and a symbolic link counts as what it points
 * to.  Where the script differs, it is the script that is loose: its listing
 * skips symbolic links (yet follows them for ORDER-up.txt entries and verify
 * files), it refuses a dotfile named like an up file instead of skipping it,
 * it takes STEM_down.sql when STEM.down.sql also exists, and it passes two
 * up files of the same version and name (001_a.up.sql and 001_a_up.sql) on
 * to register().  Here the last two are errors.
 *
 * Files are opened through fd.c, so an error closes them, and read byte for
 * byte: the contents must be valid in the database encoding, which also
 * excludes NUL bytes.  Every failure of the file system is reported with a
 * SQLSTATE of its own, never as an internal error: errcode_for_file_access()
 * calls what it does not know (a name too long, a loop of symbolic links)
 * internal errors, so file_errcode() below names those first.  A path longer
 * than the server's MAXPGPATH is refused before it is used.  Nothing is registered and no privilege is checked
 * here; the SQL-callable caller does both.  Everything is allocated in
 * CurrentMemoryContext.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "definition.h"

/* The optional file that fixes the apply order. */
#define FM_ORDER_FILE		"ORDER-up.txt"

/*
 * Largest file we read: its contents must fit in a text value, and with a
 * terminating NUL in a palloc'd string.
 */
#define FM_MAX_FILE_SIZE	(MaxAllocSize - VARHDRSZ)

/* The names a directory can hold, for hints. */
#define FM_FILE_NAMES_HINT \
	"Migration files are named NNN_name.up.sql or NNN_name_up.sql, each with an optional NNN_name.down.sql or NNN_name_down.sql and an optional NNN_name.verify.sql."

/* One up file and the files paired with it. */
typedef struct UpFile
{
	const char *file;			/* up file name */
	char	   *stem;			/* name without ".up.sql" or "_up.sql" */
	char	   *version;		/* leading digits of stem */
	char	   *name;			/* rest of stem after "_", or version */
	bool		listed_before;	/* ORDER-up.txt lists this file earlier */
	bool		version_unique; /* no other up has this version */
	const char *down;			/* down file name, or NULL */
	const char *verify;			/* verify file name, or NULL */
} UpFile;

/* One down file. */
typedef struct DownFile
{
	const char *file;			/* down file name */
	char	   *stem;			/* name without ".down.sql" or "_down.sql" */
	char	   *version;		/* leading digits of stem, maybe "" */
	bool		claimed;		/* an up has exactly this stem */
} DownFile;

/* Error context while checking the encoding of a file. */
typedef struct FileErrorContext
{
	const char *path;
} FileErrorContext;

static int	file_errcode(int err);
static int	compare_names(const void *a, const void *b);
static int	compare_ups_by_file(const void *a, const void *b);
static int	compare_ups_by_identity(const void *a, const void *b);
static int	compare_downs_by_stem(const void *a, const void *b);
static int	compare_downs_by_version(const void *a, const void *b);
static bool has_file(char **files, int nfiles, const char *file);
static char *stem_of(const char *file, const char *suffix1,
					 const char *suffix2);
static int	leading_digits(const char *s);
static void check_file_name_encoding(const char *dir, const char *file);
static void split_up_stem(UpFile *up);
static void mark_repeated_ups(UpFile *ups, int nups);
static void check_up_identities(UpFile *ups, int nups);
static void pair_down_files(UpFile *ups, int nups, char **files, int nfiles);
static UpFile *plan_migrations(const char *dir, char **files, int nfiles,
							   char **order, int norder, int *nups);
static void file_error_callback(void *arg);
static char *read_file_contents(const char *dir, const char *file);
static char **list_directory(const char *dir, int *nfiles);
static char **split_order_file(char *contents, int *nlines);

/*
 * file_errcode
 *		The SQLSTATE for a failed file system call that set errno to "err":
 *		errcode_for_file_access()'s, except for the errors it would call
 *		internal.  Takes errno as an argument so that the caller can keep it
 *		for %m.
 */
static int
file_errcode(int err)
{
	switch (err)
	{
		case EPERM:
		case EACCES:
		case EROFS:
			return ERRCODE_INSUFFICIENT_PRIVILEGE;
		case ENOENT:
		case ELOOP:				/* symbolic links that lead nowhere */
			return ERRCODE_UNDEFINED_FILE;
		case ENAMETOOLONG:
			return ERRCODE_NAME_TOO_LONG;
		case ENOTDIR:
		case EISDIR:
			return ERRCODE_WRONG_OBJECT_TYPE;
		case ENFILE:
		case EMFILE:
		case ENOMEM:
			return ERRCODE_INSUFFICIENT_RESOURCES;
		default:
			return ERRCODE_IO_ERROR;
	}
}

/*
 * qsort/bsearch comparator for an array of file names: byte-wise, as
 * "LC_ALL=C sort" orders them.
 */
static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * qsort comparator for an array of pointers into one array of UpFile: by
 * file name, then position.
 */
static int
compare_ups_by_file(const void *a, const void *b)
{
	const UpFile *ua = *(const UpFile *const *) a;
	const UpFile *ub = *(const UpFile *const *) b;
	int			cmp;

	cmp = strcmp(ua->file, ub->file);
	if (cmp == 0)
		cmp = (ua > ub) - (ua < ub);
	return cmp;
}

/* qsort comparator for an array of UpFile pointers: by version, name, file. */
static int
compare_ups_by_identity(const void *a, const void *b)
{
	const UpFile *ua = *(const UpFile *const *) a;
	const UpFile *ub = *(const UpFile *const *) b;
	int			cmp;

	cmp = strcmp(ua->version, ub->version);
	if (cmp == 0)
		cmp = strcmp(ua->name, ub->name);
	if (cmp == 0)
		cmp = strcmp(ua->file, ub->file);
	return cmp;
}

/* qsort comparator for an array of DownFile pointers: by stem, then file. */
static int
compare_downs_by_stem(const void *a, const void *b)
{
	const DownFile *da = *(const DownFile *const *) a;
	const DownFile *db = *(const DownFile *const *) b;
	int			cmp;

	cmp = strcmp(da->stem, db->stem);
	if (cmp == 0)
		cmp = strcmp(da->file, db->file);
	return cmp;
}

/* qsort comparator for an array of DownFile pointers: by version, file. */
static int
compare_downs_by_version(const void *a, const void *b)
{
	const DownFile *da = *(const DownFile *const *) a;
	const DownFile *db = *(const DownFile *const *) b;
	int			cmp;

	cmp = strcmp(da->version, db->version);
	if (cmp == 0)
		cmp = strcmp(da->file, db->file);
	return cmp;
}

/*
 * has_file
 *		Whether "file" is among the "nfiles" names of "files", which are
 *		sorted with compare_names.
 */
static bool
has_file(char **files, int nfiles, const char *file)
{
	return bsearch(&file, files, nfiles, sizeof(char *),
				   compare_names) != NULL;
}

/*
 * stem_of
 *		"file" without "suffix1" or "suffix2" (NULL: none), palloc'd; NULL
 *		if it ends with neither.  The stem can be empty.
 */
static char *
stem_of(const char *file, const char *suffix1, const char *suffix2)
{
	size_t		len = strlen(file);
	const char *suffixes[2] = {suffix1, suffix2};
	int			i;

	for (i = 0; i < lengthof(suffixes); i++)
	{
		size_t		slen;

		if (suffixes[i] == NULL)
			continue;
		slen = strlen(suffixes[i]);
		if (len >= slen && strcmp(file + len - slen, suffixes[i]) == 0)
			return pnstrdup(file, len - slen);
	}
	return NULL;
}

/* Length of the leading run of ASCII digits of "s". */
static int
leading_digits(const char *s)
{
	int			n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * check_file_name_encoding
 *		ERROR unless the name of "file", found in directory "dir", is valid
 *		in the database encoding: it becomes part of a text value.
 */
static void
check_file_name_encoding(const char *dir, const char *file)
{
	int			len = strlen(file);
	int			valid;

	if (pg_verify_mbstr(GetDatabaseEncoding(), file, len, true))
		return;

	valid = pg_encoding_verifymbstr(GetDatabaseEncoding(), file, len);
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("name of a file in directory \"%s\" is not valid in encoding \"%s\"",
					dir, GetDatabaseEncodingName()),
			 valid > 0 ?
			 errdetail("The name begins with \"%.*s\" followed by an invalid byte sequence.",
					   valid, file) : 0));
}

/*
 * split_up_stem
 *		Set up->version and up->name from up->stem; ERROR if the stem does
 *		not start with a version.
 */
static void
split_up_stem(UpFile *up)
{
	int			ndigits = leading_digits(up->stem);
	char		after = up->stem[ndigits];

	if (ndigits == 0 || (after != '\0' && after != '_'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot take a migration version from file name \"%s\"",
						up->file),
				 errdetail("The name of an up file must start with the version, a run of digits, followed by \"_\" and the migration name or directly by \".up.sql\" or \"_up.sql\".")));

	up->version = pnstrdup(up->stem, ndigits);
	if (after == '_' && up->stem[ndigits + 1] != '\0')
		up->name = pstrdup(up->stem + ndigits + 1);
	else
		up->name = pstrdup(up->version);
}

/*
 * mark_repeated_ups
 *		Set listed_before on each up whose file an earlier one already names.
 */
static void
mark_repeated_ups(UpFile *ups, int nups)
{
	UpFile	  **sorted = palloc(nups * sizeof(UpFile *));
	int			i;

	for (i = 0; i < nups; i++)
		sorted[i] = &ups[i];

	qsort(sorted, nups, sizeof(UpFile *), compare_ups_by_file);
	for (i = 1; i < nups; i++)
		sorted[i]->listed_before =
			strcmp(sorted[i - 1]->file, sorted[i]->file) == 0;

	pfree(sorted);
}

/*
 * check_up_identities
 *		ERROR if two up files define the same migration; set version_unique
 *		on each up.
 */
static void
check_up_identities(UpFile *ups, int nups)
{
	UpFile	  **sorted = palloc(nups * sizeof(UpFile *));
	int			i;

	for (i = 0; i < nups; i++)
		sorted[i] = &ups[i];

	qsort(sorted, nups, sizeof(UpFile *), compare_ups_by_identity);
	for (i = 0; i < nups; i++)
	{
		UpFile	   *up = sorted[i];
		bool		same_as_prev = false;
		bool		same_as_next = false;

		if (i > 0)
			same_as_prev = strcmp(sorted[i - 1]->version, up->version) == 0;
		if (i + 1 < nups)
		{
			UpFile	   *next = sorted[i + 1];

			same_as_next = strcmp(next->version, up->version) == 0;
			if (same_as_next && strcmp(next->name, up->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("migration \"%s %s\" is defined by both \"%s\" and \"%s\"",
								up->version, up->name, up->file, next->file),
						 errhint("Remove or rename one of the two files.")));
		}
		up->version_unique = !same_as_prev && !same_as_next;
	}

	pfree(sorted);
}

/*
 * pair_down_files
 *		Set the down and verify file of each up from the sorted names of the
 *		directory's regular files.  ERROR if an up has two down files.
 */
static void
pair_down_files(UpFile *ups, int nups, char **files, int nfiles)
{
	DownFile   *downs = palloc(nfiles * sizeof(DownFile));
	DownFile  **by_stem = palloc(nfiles * sizeof(DownFile *));
	DownFile  **by_version = palloc(nfiles * sizeof(DownFile *));
	int			ndowns = 0;
	int			i;

	for (i = 0; i < nfiles; i++)
	{
		char	   *stem = stem_of(files[i], ".down.sql", "_down.sql");

		if (stem == NULL)
			continue;
		downs[ndowns].file = files[i];
		downs[ndowns].stem = stem;
		downs[ndowns].version = pnstrdup(stem, leading_digits(stem));
		downs[ndowns].claimed = false;
		by_stem[ndowns] = &downs[ndowns];
		by_version[ndowns] = &downs[ndowns];
		ndowns++;
	}
	qsort(by_stem, ndowns, sizeof(DownFile *), compare_downs_by_stem);
	qsort(by_version, ndowns, sizeof(DownFile *), compare_downs_by_version);

	/* First the exact stems, which also claim their down files. */
	for (i = 0; i < nups; i++)
	{
		int			lo = 0;
		int			hi = ndowns;

		/* the first down whose stem is not below the up's */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (strcmp(by_stem[mid]->stem, ups[i].stem) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == ndowns || strcmp(by_stem[lo]->stem, ups[i].stem) != 0)
			continue;
		if (lo + 1 < ndowns && strcmp(by_stem[lo + 1]->stem, ups[i].stem) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("up file \"%s\" has two down files, \"%s\" and \"%s\"",
							ups[i].file, by_stem[lo]->file,
							by_stem[lo + 1]->file),
					 errhint("Remove or rename one of the two down files.")));
		ups[i].down = by_stem[lo]->file;
		by_stem[lo]->claimed = true;
	}

	/*
	 * Then, for an up without one whose version no other up has, the only
	 * down file of that version, unless another up claimed it.
	 */
	for (i = 0; i < nups; i++)
	{
		int			lo = 0;
		int			hi = ndowns;

		if (ups[i].down != NULL || !ups[i].version_unique)
			continue;
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (strcmp(by_version[mid]->version, ups[i].version) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < ndowns &&
			strcmp(by_version[lo]->version, ups[i].version) == 0 &&
			(lo + 1 == ndowns ||
			 strcmp(by_version[lo + 1]->version, ups[i].version) != 0) &&
			!by_version[lo]->claimed)
			ups[i].down = by_version[lo]->file;
	}

	for (i = 0; i < nups; i++)
	{
		char	   *verify = psprintf("%s.verify.sql", ups[i].stem);

		if (has_file(files, nfiles, verify))
			ups[i].verify = verify;
		else
			pfree(verify);
	}
}

/*
 * plan_migrations
 *		The up files in apply order, each with its version, name, down and
 *		verify file, from the sorted names of the regular files of directory
 *		"dir" and, when "order" is not NULL, the "norder" non-empty lines of
 *		its ORDER-up.txt.  Sets *nups.  ERRORs on a name or pairing that
 *		breaks the rules, including when there is no up file.
 */
static UpFile *
plan_migrations(const char *dir, char **files, int nfiles,
				char **order, int norder, int *nups)
{
	int			maxups = order != NULL ? norder : nfiles;
	UpFile	   *ups = palloc0(maxups * sizeof(UpFile));
	int			n = 0;
	int			i;

	if (order != NULL)
	{
		/* First that every listed file exists, as the script does. */
		for (i = 0; i < norder; i++)
		{
			if (!has_file(files, nfiles, order[i]))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FILE),
						 errmsg("file \"%s\" listed in \"%s\" does not exist",
								order[i], FM_ORDER_FILE),
						 errdetail("Only regular files directly in directory \"%s\" whose names do not start with a dot can be listed.",
								   dir)));
		}
		for (i = 0; i < norder; i++)
		{
			/* a NULL stem is reported below */
			ups[n].file = order[i];
			ups[n].stem = stem_of(order[i], ".up.sql", "_up.sql");
			n++;
		}
		mark_repeated_ups(ups, n);
	}
	else
	{
		for (i = 0; i < nfiles; i++)
		{
			char	   *stem = stem_of(files[i], ".up.sql", "_up.sql");

			if (stem == NULL)
				continue;
			ups[n].file = files[i];
			ups[n].stem = stem;
			n++;
		}
	}

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no migration files in directory \"%s\"", dir),
				 order != NULL ?
				 errdetail("File \"%s\" lists no files.", FM_ORDER_FILE) : 0,
				 errhint(FM_FILE_NAMES_HINT)));

	for (i = 0; i < n; i++)
	{
		if (ups[i].listed_before)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file \"%s\" is listed twice in \"%s\"",
							ups[i].file, FM_ORDER_FILE)));
		if (ups[i].stem == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file \"%s\" listed in \"%s\" is not an up file",
							ups[i].file, FM_ORDER_FILE),
					 errhint(FM_FILE_NAMES_HINT)));
		check_file_name_encoding(dir, ups[i].file);
		split_up_stem(&ups[i]);
	}
	check_up_identities(ups, n);
	pair_down_files(ups, n, files, nfiles);

	*nups = n;
	return ups;
}

/*
 * Error context callback while checking the contents of a file.
 */
static void
file_error_callback(void *arg)
{
	FileErrorContext *ctx = (FileErrorContext *) arg;

	errcontext("file \"%s\"", ctx->path);
}

/*
 * read_file_contents
 *		The contents of "file" in directory "dir", byte for byte, as a
 *		palloc'd NUL-terminated string.  ERRORs if the file cannot be read,
 *		is too large for a text value, or is not valid in the database
 *		encoding (which includes holding a NUL byte).
 */
static char *
read_file_contents(const char *dir, const char *file)
{
	char	   *path = psprintf("%s/%s", dir, file);
	int			fd;
	struct stat st;
	Size		size;
	Size		done = 0;
	char	   *buf;
	FileErrorContext ctx;
	ErrorContextCallback errcallback;

	/*
	 * O_NONBLOCK: a file swapped for a FIFO since the directory was listed
	 * must not make us wait for a writer; it is refused below.
	 */
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (fd < 0)
	{
		int			code = file_errcode(errno);

		ereport(ERROR,
				(errcode(code),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	}
	if (fstat(fd, &st) < 0)
	{
		int			code = file_errcode(errno);

		ereport(ERROR,
				(errcode(code),
				 errmsg("could not stat file \"%s\": %m", path)));
	}
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path)));
	if (st.st_size > (off_t) FM_MAX_FILE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file \"%s\" is too large", path),
				 errdetail("A migration file can have at most %zu bytes; this one has %lld.",
						   (size_t) FM_MAX_FILE_SIZE,
						   (long long) st.st_size)));

	size = (Size) st.st_size;
	buf = palloc(size + 1);
	while (done < size)
	{
		ssize_t		nread;

		CHECK_FOR_INTERRUPTS();
		nread = read(fd, buf + done, size - done);
		if (nread < 0)
		{
			int			code;

			if (errno == EINTR || errno == EAGAIN)
				continue;
			code = file_errcode(errno);
			ereport(ERROR,
					(errcode(code),
					 errmsg("could not read file \"%s\": %m", path)));
		}
		if (nread == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("could not read file \"%s\": read %zu of %zu",
							path, (size_t) done, (size_t) size)));
		done += nread;
	}
	buf[size] = '\0';

	if (CloseTransientFile(fd) != 0)
	{
		int			code = file_errcode(errno);

		ereport(ERROR,
				(errcode(code),
				 errmsg("could not close file \"%s\": %m", path)));
	}

	ctx.path = path;
	errcallback.callback = file_error_callback;
	errcallback.arg = &ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	(void) pg_verify_mbstr(GetDatabaseEncoding(), buf, (int) size, false);

	error_context_stack = errcallback.previous;

	pfree(path);
	return buf;
}

/*
 * list_directory
 *		The names of the regular files directly in "dir" whose names do not
 *		start with a dot, palloc'd and sorted with compare_names; sets
 *		*nfiles.  Symbolic links count as what they point to; a file that
 *		disappears while we look, or a link that leads nowhere (dangling,
 *		or a loop), is skipped.  ERRORs if "dir" cannot be read.
 */
static char **
list_directory(const char *dir, int *nfiles)
{
	DIR		   *dirdesc;
	int			allocated = 64;
	int			n = 0;
	char	  **files = palloc(allocated * sizeof(char *));

	dirdesc = AllocateDir(dir);
	if (dirdesc == NULL)
	{
		int			code = file_errcode(errno);

		ereport(ERROR,
				(errcode(code),
				 errmsg("could not open directory \"%s\": %m", dir)));
	}
	for (;;)
	{
		struct dirent *de;
		char	   *path;
		struct stat st;

		CHECK_FOR_INTERRUPTS();

		/* ReadDir() would call some failures internal errors */
		errno = 0;
		de = readdir(dirdesc);
		if (de == NULL)
		{
			if (errno != 0)
			{
				int			code = file_errcode(errno);

				ereport(ERROR,
						(errcode(code),
						 errmsg("could not read directory \"%s\": %m", dir)));
			}
			break;
		}

		/* ".", ".." and hidden files */
		if (de->d_name[0] == '.')
			continue;

		path = psprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0)
		{
			int			code;

			/* gone, or a symbolic link that leads nowhere: not a file */
			if (errno == ENOENT || errno == ELOOP)
			{
				pfree(path);
				continue;
			}
			code = file_errcode(errno);
			ereport(ERROR,
					(errcode(code),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		pfree(path);
		if (!S_ISREG(st.st_mode))
			continue;

		if (n == allocated)
		{
			allocated *= 2;
			files = repalloc(files, allocated * sizeof(char *));
		}
		files[n++] = pstrdup(de->d_name);
	}
	FreeDir(dirdesc);

	qsort(files, n, sizeof(char *), compare_names);
	*nfiles = n;
	return files;
}

/*
 * split_order_file
 *		The non-empty lines of the contents of ORDER-up.txt, each without
 *		its line break and one trailing carriage return.  Overwrites
 *		"contents"; the lines point into it.  Sets *nlines.
 */
static char **
split_order_file(char *contents, int *nlines)
{
	int			allocated = 64;
	int			n = 0;
	char	  **lines = palloc(allocated * sizeof(char *));
	char	   *line = contents;

	while (*line != '\0')
	{
		char	   *end = strchr(line, '\n');
		char	   *next;
		size_t		len;

		if (end != NULL)
		{
			*end = '\0';
			next = end + 1;
		}
		else
			next = line + strlen(line);

		len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > 0)
		{
			if (n == allocated)
			{
				allocated *= 2;
				lines = repalloc(lines, allocated * sizeof(char *));
			}
			lines[n++] = line;
		}
		line = next;
	}

	*nlines = n;
	return lines;
}

/*
 * FmReadMigrationDir
 *		Read the migration files of directory "path" on the server (an
 *		absolute path) and return a List of FmDefinition *, in apply order:
 *		version, name, up, down and verify script (NULL when absent) and
 *		origin "file NAME.up.sql"; requires, conflicts and params are NIL
 *		and the flags false.  See the file header for the rules.
 *
 * Registers nothing and checks no privilege: the caller must have checked
 * that its user may read server files.  ERRORs on an unreadable directory
 * or file, a name or pairing that breaks the rules, a directory without up
 * files, and contents not valid in the database encoding.  Everything is
 * allocated in CurrentMemoryContext; no file or directory stays open.
 */
List *
FmReadMigrationDir(const char *path)
{
	char	   *dir;
	char	  **files;
	int			nfiles;
	char	  **order = NULL;
	int			norder = 0;
	UpFile	   *ups;
	int			nups;
	List	   *result = NIL;
	int			i;

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not an absolute path",
						path)));
	if (strlen(path) >= MAXPGPATH)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("migration directory path is too long"),
				 errdetail("The path has %zu bytes; the server takes paths of at most %d bytes.",
						   strlen(path), MAXPGPATH - 1)));

	dir = pstrdup(path);
	canonicalize_path(dir);

	files = list_directory(dir, &nfiles);
	if (has_file(files, nfiles, FM_ORDER_FILE))
		order = split_order_file(read_file_contents(dir, FM_ORDER_FILE),
								 &norder);

	ups = plan_migrations(dir, files, nfiles, order, norder, &nups);

	for (i = 0; i < nups; i++)
	{
		FmDefinition *def = palloc0(sizeof(FmDefinition));

		def->version = ups[i].version;
		def->name = ups[i].name;
		def->up = read_file_contents(dir, ups[i].file);
		def->down = ups[i].down != NULL ?
			read_file_contents(dir, ups[i].down) : NULL;
		def->verify = ups[i].verify != NULL ?
			read_file_contents(dir, ups[i].verify) : NULL;
		def->requires = NIL;
		def->conflicts = NIL;
		def->params = NIL;
		def->repeatable = false;
		def->allow_destructive = false;
		def->origin = psprintf("file %s", ups[i].file);
		result = lappend(result, def);
	}

	return result;
}
