/* fleetmigrate_tiers--1.9.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION fleetmigrate_tiers" to load this file. \quit

/*
 * The FleetOS authentication tiers (src/tiers.c), an extension of their own
 * since 1.9 so that a database that does not use tiers carries none of their
 * objects.  They live in fleetmigrate's schema under the names they had
 * there (../API.md fixes them), and their C functions are in fleetmigrate's
 * library.
 *
 * Up to fleetmigrate 1.8 these objects were members of fleetmigrate (its
 * 1.0--1.1 script, comments from 1.6--1.7).  In such a database this script
 * takes them over as they are, data, grants and comments included:
 * fleetmigrate's 1.8--1.9 update refuses to drop tiers that are in use and
 * says to run CREATE EXTENSION fleetmigrate_tiers first.  Otherwise it
 * creates them as fleetmigrate 1.8 defined them.  Every reference is
 * schema-qualified, operators included.
 */

-- The objects were first defined by fleetmigrate 1.1; one older than 1.8
-- would define them again on its own update.
DO $version$
DECLARE
    v text := (SELECT e.extversion FROM pg_catalog.pg_extension e
                WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    IF pg_catalog.string_to_array(v, '.')::pg_catalog.int4[]
       OPERATOR(pg_catalog.<) '{1,8}'::pg_catalog.int4[] THEN
        RAISE EXCEPTION 'fleetmigrate_tiers needs fleetmigrate 1.8 or later, not %', v
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run ALTER EXTENSION fleetmigrate UPDATE TO ''1.8'' first (later versions of fleetmigrate no longer carry the tiers, so updating past 1.8 first would drop or refuse them).';
    END IF;
END
$version$;

-- Take over the tier objects of fleetmigrate 1.8, where they exist.  Only
-- fleetmigrate's owner (or a member of that role, or a superuser) may: the
-- objects hold its users' tiers and audit trail.
DO $adopt$
DECLARE
    obj text;
    members text[] := ARRAY[
        'TABLE fleetmigrate.tiers',
        'TABLE fleetmigrate.tier_config',
        'TABLE fleetmigrate.user_tier_history',
        'SEQUENCE fleetmigrate.user_tier_history_id_seq',
        'FUNCTION fleetmigrate.builtin_tiers()',
        'FUNCTION fleetmigrate.tiers_replace_builtin()',
        'FUNCTION fleetmigrate.tier_config_changed()',
        'FUNCTION fleetmigrate.refuse_history_change()',
        'FUNCTION fleetmigrate.configure_user_table(regclass, name, name, name, name)',
        'FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean)',
        'PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)',
        'FUNCTION fleetmigrate.tiers_support(internal)',
        'FUNCTION fleetmigrate.user_has_capability(uuid, text)',
        'FUNCTION fleetmigrate.user_can_view_requests(uuid)',
        'FUNCTION fleetmigrate.user_can_create_requests(uuid)',
        'FUNCTION fleetmigrate.tier_users()',
        'VIEW fleetmigrate.authenticated_users',
        'VIEW fleetmigrate.magic_link_users',
        'VIEW fleetmigrate.user_tier_summary'];
    fm_oid oid;
    fm_owner oid;
    fm_version text;
    caller oid := (SELECT e.extowner FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate_tiers');
    tiers_rel oid := pg_catalog.to_regclass('fleetmigrate.tiers');
BEGIN
    IF tiers_rel IS NULL THEN
        RETURN;
    END IF;
    SELECT e.oid, e.extowner, e.extversion INTO fm_oid, fm_owner, fm_version
      FROM pg_catalog.pg_extension e
     WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate';
    -- fleetmigrate 1.8's own tiers, nothing else
    IF fm_version OPERATOR(pg_catalog.<>) '1.8' OR NOT EXISTS (
            SELECT FROM pg_catalog.pg_depend d
             WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.objid OPERATOR(pg_catalog.=) tiers_rel
               AND d.refobjid OPERATOR(pg_catalog.=) fm_oid
               AND d.deptype OPERATOR(pg_catalog.=) 'e') THEN
        RAISE EXCEPTION 'relation "fleetmigrate.tiers" already exists and is not fleetmigrate''s'
            USING ERRCODE = 'duplicate_table',
                  DETAIL = pg_catalog.format('Only the tiers that fleetmigrate 1.8 installed are taken over; this database has fleetmigrate %s.', fm_version),
                  HINT = 'Drop or rename the objects named like the tier objects in schema fleetmigrate, then run CREATE EXTENSION fleetmigrate_tiers again.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.oid OPERATOR(pg_catalog.=) caller AND r.rolsuper)
       AND NOT pg_catalog.pg_has_role(caller, fm_owner, 'MEMBER') THEN
        RAISE EXCEPTION 'only the owner of extension "fleetmigrate" can take over its authentication tiers'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('The tiers of this database, with their users'' tiers and audit trail, belong to extension "fleetmigrate", owned by %s.', fm_owner::pg_catalog.regrole),
                  HINT = pg_catalog.format('Run CREATE EXTENSION fleetmigrate_tiers as %s, or as a member of that role.', fm_owner::pg_catalog.regrole);
    END IF;

    FOREACH obj IN ARRAY members LOOP
        EXECUTE 'ALTER EXTENSION fleetmigrate DROP ' OPERATOR(pg_catalog.||) obj;
        EXECUTE 'ALTER EXTENSION fleetmigrate_tiers ADD ' OPERATOR(pg_catalog.||) obj;
    END LOOP;

END
$adopt$;

-- Otherwise create them.
DO $create$
BEGIN
    IF pg_catalog.to_regclass('fleetmigrate.tiers') IS NOT NULL THEN
        RETURN;
    END IF;

    -- Tiers and what they allow
    CREATE TABLE fleetmigrate.tiers (
        tier         text PRIMARY KEY
                     CHECK (tier OPERATOR(pg_catalog.<>) ''),
        rank         integer NOT NULL,
        capabilities text[] NOT NULL DEFAULT '{}'
                     CHECK (pg_catalog.array_position(capabilities, NULL) IS NULL),
        description  text
    );

    COMMENT ON TABLE fleetmigrate.tiers IS
    'Authentication tiers: rank (moving to a lower rank is a downgrade) and capabilities such as can_view_requests and can_create_requests; edit freely';

    -- The tiers shipped with the extension (the FleetOS seed's)
    CREATE FUNCTION fleetmigrate.builtin_tiers()
    RETURNS SETOF fleetmigrate.tiers
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
VALUES ('MAGIC_LINK'::text, 0, '{can_view_requests}'::text[],
        'Reached us only through a magic link: may view requests'::text),
       ('AUTHENTICATED', 10, '{can_view_requests,can_create_requests}',
        'Has an account: may view and create requests'),
       ('ROBO_HUB', 20, '{can_view_requests,can_create_requests}',
        'Signed up through Robo-Hub: may view and create requests'),
       ('ROBO_DAPP', 20, '{can_view_requests,can_create_requests}',
        'Signed up through Robo-Dapp: may view and create requests')
$$;

    COMMENT ON FUNCTION fleetmigrate.builtin_tiers() IS
    'The tiers fleetmigrate ships in fleetmigrate.tiers, as shipped';

    INSERT INTO fleetmigrate.tiers SELECT * FROM fleetmigrate.builtin_tiers();

    -- pg_dump keeps the tiers as edited.  On restore, CREATE EXTENSION has
    -- already inserted the built-in rows; a dumped row replaces a built-in row
    -- that is still as shipped instead of failing on the primary key.
    CREATE FUNCTION fleetmigrate.tiers_replace_builtin()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'fleetmigrate_tiers_replace_builtin'
    LANGUAGE C;

    COMMENT ON FUNCTION fleetmigrate.tiers_replace_builtin() IS
    'Trigger on fleetmigrate.tiers: inserting a tier that exists as shipped replaces it (pg_dump restores edited built-in tiers this way)';

    CREATE TRIGGER tiers_replace_builtin
        BEFORE INSERT ON fleetmigrate.tiers
        FOR EACH ROW EXECUTE FUNCTION fleetmigrate.tiers_replace_builtin();


    -- Where the users' tiers live.  No row: public.users (id, auth_tier,
    -- upgraded_at, tier_changed_at), as the seed's migration 001 makes it.
    CREATE TABLE fleetmigrate.tier_config (
        singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        table_schema    name NOT NULL,
        table_name      name NOT NULL,
        id_column       name NOT NULL,
        tier_column     name NOT NULL,
        upgraded_at_column     name,
        tier_changed_at_column name,
        configured_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
        configured_by   text NOT NULL DEFAULT CURRENT_USER
    );

    COMMENT ON TABLE fleetmigrate.tier_config IS
    'Which table holds each user''s tier; empty means public.users (id, auth_tier, upgraded_at, tier_changed_at). Change it with fleetmigrate.configure_user_table()';

    CREATE FUNCTION fleetmigrate.tier_config_changed()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'fleetmigrate_tier_config_changed'
    LANGUAGE C;

    COMMENT ON FUNCTION fleetmigrate.tier_config_changed() IS
    'Trigger on fleetmigrate.tier_config: tells every session to rebuild its tier statements';

    CREATE TRIGGER tier_config_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fleetmigrate.tier_config
        FOR EACH STATEMENT EXECUTE FUNCTION fleetmigrate.tier_config_changed();


    -- The audit trail: one row per tier change, append-only
    CREATE TABLE fleetmigrate.user_tier_history (
        id                bigserial PRIMARY KEY,
        user_id           uuid NOT NULL,
        from_tier         text,
        to_tier           text NOT NULL,
        reason            text,
        changed_by        text NOT NULL,
        session_user_name text NOT NULL DEFAULT pg_catalog."session_user"(),
        changed_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
        transaction_id    xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
        CHECK (from_tier IS DISTINCT FROM to_tier)
    );

    CREATE INDEX user_tier_history_user_idx
        ON fleetmigrate.user_tier_history (user_id, id);

    COMMENT ON TABLE fleetmigrate.user_tier_history IS
    'Audit trail of tier changes, one row per change, written in the same transaction as the change; append-only';

    CREATE FUNCTION fleetmigrate.refuse_history_change()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'fleetmigrate_refuse_history_change'
    LANGUAGE C;

    COMMENT ON FUNCTION fleetmigrate.refuse_history_change() IS
    'Trigger on fleetmigrate.user_tier_history: refuses UPDATE, DELETE and TRUNCATE';

    CREATE TRIGGER user_tier_history_append_only
        BEFORE UPDATE OR DELETE ON fleetmigrate.user_tier_history
        FOR EACH ROW EXECUTE FUNCTION fleetmigrate.refuse_history_change();
    CREATE TRIGGER user_tier_history_no_truncate
        BEFORE TRUNCATE ON fleetmigrate.user_tier_history
        FOR EACH STATEMENT EXECUTE FUNCTION fleetmigrate.refuse_history_change();


    -- Configuring
    CREATE FUNCTION fleetmigrate.configure_user_table(user_table regclass,
                                                      id_column name DEFAULT 'id',
                                                      tier_column name DEFAULT 'auth_tier',
                                                      upgraded_at_column name DEFAULT 'upgraded_at',
                                                      tier_changed_at_column name DEFAULT 'tier_changed_at')
    RETURNS void
    AS 'MODULE_PATHNAME', 'fleetmigrate_configure_user_table'
    LANGUAGE C VOLATILE;

    COMMENT ON FUNCTION fleetmigrate.configure_user_table(regclass, name, name, name, name) IS
    'Name the table that holds each user''s tier: a permanent application table with a uuid id column, a text tier column, and optional timestamptz columns (NULL: none) for when the user was first upgraded and when the tier last changed, four distinct columns';

    -- Changing a user's tier
    CREATE FUNCTION fleetmigrate.upgrade_user_tier(user_id uuid, new_tier text,
                                                   reason text DEFAULT NULL,
                                                   allow_downgrade boolean DEFAULT false)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'fleetmigrate_upgrade_user_tier'
    LANGUAGE C VOLATILE;

    COMMENT ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean) IS
    'Move a user to another tier and record it in fleetmigrate.user_tier_history; false when the user is already on it. A move to a lower rank needs allow_downgrade. Reads and updates the users table as the caller (SELECT of the id, tier and upgraded-at columns, UPDATE of the tier and timestamp columns)';

    CREATE PROCEDURE fleetmigrate.assign_tier(new_tier text, condition text,
                                              reason text DEFAULT NULL,
                                              batch_size integer DEFAULT 1000,
                                              allow_downgrade boolean DEFAULT false,
                                              INOUT changed bigint DEFAULT NULL,
                                              INOUT skipped bigint DEFAULT NULL,
                                              INOUT batches integer DEFAULT NULL)
    AS 'MODULE_PATHNAME', 'fleetmigrate_assign_tier'
    LANGUAGE C;

    COMMENT ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) IS
    'Move every user matching condition (an SQL expression over the users table, without parameters) to new_tier, batch_size rows at a time, committing after each batch when called on its own; returns how many changed and how many were skipped as downgrades. Reads and updates the users table as the caller';

    -- Permission checks, cheap enough for row-level security policies
    CREATE FUNCTION fleetmigrate.tiers_support(internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'fleetmigrate_tiers_support'
    LANGUAGE C STRICT;

    COMMENT ON FUNCTION fleetmigrate.tiers_support(internal) IS
    'Planner support for the permission checks: a call whose arguments do not depend on the row is evaluated once per query';

    CREATE FUNCTION fleetmigrate.user_has_capability(user_id uuid, capability text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'fleetmigrate_user_has_capability'
    LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT fleetmigrate.tiers_support;

    COMMENT ON FUNCTION fleetmigrate.user_has_capability(uuid, text) IS
    'true when the user''s tier grants the capability; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

    CREATE FUNCTION fleetmigrate.user_can_view_requests(user_id uuid)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'fleetmigrate_user_can_view_requests'
    LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT fleetmigrate.tiers_support;

    COMMENT ON FUNCTION fleetmigrate.user_can_view_requests(uuid) IS
    'true when the user''s tier grants can_view_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

    CREATE FUNCTION fleetmigrate.user_can_create_requests(user_id uuid)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'fleetmigrate_user_can_create_requests'
    LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT fleetmigrate.tiers_support;

    COMMENT ON FUNCTION fleetmigrate.user_can_create_requests(uuid) IS
    'true when the user''s tier grants can_create_requests; false for an unknown or NULL user. Usable in row-level security policies; reads the users table as the querying role (SELECT of the id and tier columns)';

    -- Who is on which tier
    CREATE FUNCTION fleetmigrate.tier_users()
    RETURNS TABLE(user_id uuid, tier text, upgraded_at timestamptz,
                  tier_changed_at timestamptz)
    AS 'MODULE_PATHNAME', 'fleetmigrate_tier_users'
    LANGUAGE C STABLE;

    COMMENT ON FUNCTION fleetmigrate.tier_users() IS
    'Every user in the configured users table that the caller may see, with their tier and tier timestamps (NULL where not configured); reads the users table as the caller';

    CREATE VIEW fleetmigrate.authenticated_users AS
    SELECT u.user_id, u.tier, t.rank, u.upgraded_at, u.tier_changed_at
      FROM fleetmigrate.tier_users() u
      JOIN fleetmigrate.tiers t ON t.tier OPERATOR(pg_catalog.=) u.tier
     WHERE t.rank OPERATOR(pg_catalog.>) (SELECT pg_catalog.min(t0.rank) FROM fleetmigrate.tiers t0);

    COMMENT ON VIEW fleetmigrate.authenticated_users IS
    'Users on any tier above the entry tier (the lowest rank, MAGIC_LINK as shipped)';

    CREATE VIEW fleetmigrate.magic_link_users AS
    SELECT u.user_id, u.tier, u.tier_changed_at
      FROM fleetmigrate.tier_users() u
      JOIN fleetmigrate.tiers t ON t.tier OPERATOR(pg_catalog.=) u.tier
     WHERE t.rank OPERATOR(pg_catalog.=) (SELECT pg_catalog.min(t0.rank) FROM fleetmigrate.tiers t0);

    COMMENT ON VIEW fleetmigrate.magic_link_users IS
    'Users still on the entry tier (the lowest rank, MAGIC_LINK as shipped)';

    CREATE VIEW fleetmigrate.user_tier_summary AS
    SELECT c.tier,
           t.rank,
           c.user_count,
           pg_catalog.round(100.0 OPERATOR(pg_catalog.*) c.user_count
                            OPERATOR(pg_catalog./)
                            GREATEST(pg_catalog.sum(c.user_count) OVER (), 1), 2) AS percentage
      FROM (SELECT coalesce(t1.tier, u.tier) AS tier,
                   pg_catalog.count(u.user_id) AS user_count
              FROM fleetmigrate.tiers t1
              FULL JOIN fleetmigrate.tier_users() u ON u.tier OPERATOR(pg_catalog.=) t1.tier
             GROUP BY 1) c
      LEFT JOIN fleetmigrate.tiers t ON t.tier OPERATOR(pg_catalog.=) c.tier
     ORDER BY t.rank NULLS LAST, c.tier COLLATE "C";

    COMMENT ON VIEW fleetmigrate.user_tier_summary IS
    'Number and percentage of users per tier, every tier listed; a tier found in the users table but not in fleetmigrate.tiers has no rank';

    -- Privileges.  PUBLIC may check permissions (policies run as the querying
    -- role), nothing else.  Upgrading is for roles the owner grants it to.
    -- (Adopted objects keep the grants they have.)
    REVOKE ALL ON TABLE fleetmigrate.tiers, fleetmigrate.tier_config,
                        fleetmigrate.user_tier_history,
                        fleetmigrate.authenticated_users,
                        fleetmigrate.magic_link_users,
                        fleetmigrate.user_tier_summary FROM PUBLIC;
    REVOKE ALL ON SEQUENCE fleetmigrate.user_tier_history_id_seq FROM PUBLIC;
    REVOKE ALL ON FUNCTION fleetmigrate.builtin_tiers(),
                           fleetmigrate.tiers_replace_builtin(),
                           fleetmigrate.tier_config_changed(),
                           fleetmigrate.refuse_history_change(),
                           fleetmigrate.configure_user_table(regclass, name, name, name, name),
                           fleetmigrate.upgrade_user_tier(uuid, text, text, boolean),
                           fleetmigrate.tiers_support(internal),
                           fleetmigrate.tier_users() FROM PUBLIC;
    REVOKE ALL ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer) FROM PUBLIC;

    GRANT EXECUTE ON FUNCTION fleetmigrate.user_has_capability(uuid, text),
                              fleetmigrate.user_can_view_requests(uuid),
                              fleetmigrate.user_can_create_requests(uuid) TO PUBLIC;
END
$create$;

-- pg_dump keeps the tiers as edited, the configuration and the history
-- (again for adopted tables: leaving fleetmigrate dropped them from its list).
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.tiers', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.tier_config', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.user_tier_history', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.user_tier_history_id_seq', '');

-- The extension's owner (the role that ran CREATE EXTENSION
-- fleetmigrate_tiers, which the C functions act as): edits the tiers,
-- configures the users table, reads and delegates the rest; the history it
-- may read and restore, not change.  For adopted objects too, since this
-- owner may not be fleetmigrate's.  Not @extowner@: on a later ALTER
-- EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate_tiers');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.configure_user_table(regclass, name, name, name, name),'
        '                          fleetmigrate.builtin_tiers() TO %s', owner);
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.upgrade_user_tier(uuid, text, text, boolean),'
        '                          fleetmigrate.tier_users() TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON PROCEDURE fleetmigrate.assign_tier(text, text, text, integer, boolean, bigint, bigint, integer)'
        ' TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.authenticated_users, fleetmigrate.magic_link_users,'
        '                      fleetmigrate.user_tier_summary, fleetmigrate.user_tier_history'
        ' TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE fleetmigrate.tiers, fleetmigrate.tier_config TO %s', owner);
    -- INSERT: upgrades write the history as this role; pg_restore too
    EXECUTE pg_catalog.format(
        'GRANT INSERT ON TABLE fleetmigrate.user_tier_history TO %s', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT, UPDATE, USAGE ON SEQUENCE fleetmigrate.user_tier_history_id_seq TO %s', owner);
END
$grant$;

-- Taken over from fleetmigrate 1.8: pg_dump's baseline for their privileges
-- (pg_init_privs) is what the extensions granted, not what ALTER EXTENSION
-- ... ADD and the grants above found, so that the grants made since the
-- install are dumped as before: the owners', the two extension owners' and
-- PUBLIC's on the three permission checks; no column privileges.
DO $baseline$
DECLARE
    fm_owner oid;
    fm_version text;
    tiers_owner oid := (SELECT e.extowner FROM pg_catalog.pg_extension e
                         WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate_tiers');
    members oid[] := ARRAY(
        SELECT d.objid FROM pg_catalog.pg_depend d
         WHERE d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                  WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate_tiers')
           AND d.deptype OPERATOR(pg_catalog.=) 'e');
    public_checks oid[] := ARRAY['fleetmigrate.user_has_capability(uuid, text)'::pg_catalog.regprocedure,
                                 'fleetmigrate.user_can_view_requests(uuid)'::pg_catalog.regprocedure,
                                 'fleetmigrate.user_can_create_requests(uuid)'::pg_catalog.regprocedure]::oid[];
BEGIN
    SELECT e.extowner, e.extversion INTO fm_owner, fm_version
      FROM pg_catalog.pg_extension e
     WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate';
    IF fm_version OPERATOR(pg_catalog.<>) '1.8' THEN
        RETURN;
    END IF;
    DELETE FROM pg_catalog.pg_init_privs p
     WHERE p.objoid OPERATOR(pg_catalog.=) ANY (members)
       AND p.privtype OPERATOR(pg_catalog.=) 'e'
       AND p.objsubid OPERATOR(pg_catalog.>) 0;
    UPDATE pg_catalog.pg_init_privs p
       SET initprivs = ARRAY(
             SELECT a FROM pg_catalog.unnest(p.initprivs) a
              WHERE EXISTS (
                    SELECT FROM pg_catalog.aclexplode(ARRAY[a]) x
                     WHERE x.grantee OPERATOR(pg_catalog.=) ANY (ARRAY[fm_owner, tiers_owner,
                               coalesce((SELECT c.relowner FROM pg_catalog.pg_class c
                                          WHERE c.oid OPERATOR(pg_catalog.=) p.objoid),
                                        (SELECT f.proowner FROM pg_catalog.pg_proc f
                                          WHERE f.oid OPERATOR(pg_catalog.=) p.objoid))])
                        OR (x.grantee OPERATOR(pg_catalog.=) 0
                            AND p.objoid OPERATOR(pg_catalog.=) ANY (public_checks))))
     WHERE p.objoid OPERATOR(pg_catalog.=) ANY (members)
       AND p.privtype OPERATOR(pg_catalog.=) 'e'
       AND p.objsubid OPERATOR(pg_catalog.=) 0;
END
$baseline$;
