/*-------------------------------------------------------------------------
 *
 * order.h
 *	  Natural ordering of migration versions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FLEETMIGRATE_ORDER_H
#define FLEETMIGRATE_ORDER_H

extern bytea *FmVersionKey(const char *version, int len);

#endif							/* FLEETMIGRATE_ORDER_H */
