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
 * Authentication tiers: whose privileges (issue 17, found 1).  The C
 * functions now read and write the application's users table as the
 * calling role, with no role switch, so that its triggers, policies,
 * constraints and index expressions run with the caller's privileges, never
 * the extension owner's; only fleetmigrate.tiers, tier_config and
 * user_tier_history are touched as the owner, in statements of their own.
 * No object changes: no grant changes either (the roles that call the tier
 * functions need privileges on the users table, which is the application's
 * to grant; see the README's "Upgrading from 1.6").  The comments say whose
 * privileges each function uses.
 */
COMMENT ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) IS
'Move a user to another tier and record it in fleetmigrate.user_tier_history; false when the user is already on it. A move to a lower rank needs allow_downgrade. Reads and updates the users table as the caller (SELECT of the id, tier and upgraded-at columns, UPDATE of the tier and timestamp columns)';

COMMENT ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) IS
'Move every user matching condition (an SQL expression over the users table, without parameters) to new_tier, batch_size rows at a time, committing after each batch when called on its own; returns how many changed and how many were skipped as downgrades. Reads and updates the users table as the caller';

COMMENT ON FUNCTION fleetmigrate.user_has_capability(uuid, text) IS
'true when the user''s tier grants the capability; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.user_can_view_requests(uuid) IS
'true when the user''s tier grants can_view_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.user_can_create_requests(uuid) IS
'true when the user''s tier grants can_create_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

COMMENT ON FUNCTION fleetmigrate.tier_users() IS
'Every user in the configured users table that the caller may see, with their tier and tier timestamps (NULL where not configured); reads the users table as the caller';

COMMENT ON FUNCTION fleetmigrate.configure_user_table(regclass, name, name, name, name) IS
'Name the table that holds each user''s tier: a permanent application table with a uuid id column, a text tier column, and optional timestamptz columns (NULL: none) for when the user was first upgraded and when the tier last changed, four distinct columns';
