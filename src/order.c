/*-------------------------------------------------------------------------
 *
 * order.c
 *	  Natural ordering of migration versions.
 *
 * Migrations are applied in the order of their version compared
 * "naturally": runs of digits compare as numbers (so "9" < "10" < "010a"),
 * everything else byte by byte.  Numbers that differ only in zero padding
 * ("7" and "007") compare equal; the catalog then breaks the tie on the
 * version text and the name, both in the "C" collation.
 *
 * Rather than a comparison function we compute a sort key, a bytea whose
 * plain byte-wise order is the natural order.  The catalog stores it in a
 * generated column with a btree index, so "what is pending, in order" is an
 * index scan whatever the size of the catalog.
 *
 * Key format: the version is cut into digit runs and single other bytes.
 *	 - a digit run becomes 0x01, the length of the number without leading
 *	   zeros as two big-endian bytes, then those digits ("0" for zero);
 *	 - any other byte b becomes 0x02, b.
 * A shorter number sorts before a longer one, equal lengths compare digit by
 * digit, a number sorts before a letter at the same position, and a version
 * that is a prefix of another sorts first, all by plain memcmp.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "compat.h"
#include "order.h"

#define FM_KEY_NUMBER	0x01
#define FM_KEY_OTHER	0x02

PG_FUNCTION_INFO_V1(fleetmigrate_version_key);

/*
 * FmVersionKey
 *		Build the natural sort key of a version string.
 *
 * The result is palloc'd in the current memory context.  Never ERRORs
 * except on out-of-memory or a number of more than 65535 digits.
 */
bytea *
FmVersionKey(const char *version, int len)
{
	bytea	   *result;
	char	   *out;
	int			i = 0;

	/* worst case: every byte is a one-digit number and takes four bytes */
	if ((Size) len > (MaxAllocSize - VARHDRSZ - 4) / 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("version is too long to compute its sort key")));
	result = palloc(VARHDRSZ + 4 * (Size) len + 4);
	out = VARDATA(result);

	while (i < len)
	{
		if (version[i] >= '0' && version[i] <= '9')
		{
			int			start;
			int			ndigits;

			while (i < len && version[i] == '0')
				i++;
			start = i;
			while (i < len && version[i] >= '0' && version[i] <= '9')
				i++;
			ndigits = i - start;
			if (ndigits > 0xFFFF)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("version number has too many digits")));
			*out++ = FM_KEY_NUMBER;
			if (ndigits == 0)
			{
				/* all zeros: the number zero */
				*out++ = 0;
				*out++ = 1;
				*out++ = '0';
			}
			else
			{
				*out++ = (char) ((ndigits >> 8) & 0xFF);
				*out++ = (char) (ndigits & 0xFF);
				memcpy(out, version + start, ndigits);
				out += ndigits;
			}
		}
		else
		{
			*out++ = FM_KEY_OTHER;
			*out++ = version[i++];
		}
	}

	SET_VARSIZE(result, out - (char *) result);
	return result;
}

/*
 * fleetmigrate.version_key(text) RETURNS bytea
 *		SQL access to FmVersionKey; IMMUTABLE, used by the catalog's
 *		generated sort_key column.
 */
Datum
fleetmigrate_version_key(PG_FUNCTION_ARGS)
{
	text	   *version = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BYTEA_P(FmVersionKey(VARDATA_ANY(version),
								   VARSIZE_ANY_EXHDR(version)));
}
