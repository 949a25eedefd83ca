/* fleetmigrate--1.6--1.7.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.7'" to load this file. \quit

/*
 * Soundness (issue 17): the privilege model of the authentication tiers,
 * a run that applies exactly the plan it checked, the runner's integrity
 * against migration code, and stricter input checks.  As in the earlier
 * scripts every reference is schema-qualified, operators included.
 */

/*
 * Registration rules and the bundle format (src/definition.c,
 * src/bundle.c): register_dir(NULL) is an error rather than an empty
 * result.
 */
ALTER FUNCTION fleetmigrate.register_dir(text) CALLED ON NULL INPUT;
