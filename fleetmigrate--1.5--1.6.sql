/* fleetmigrate--1.5--1.6.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.6'" to load this file. \quit

/*
 * Live-database safety: lint() classifies a script's statements with the
 * server's parser (src/lint.c); runs refuse destructive migrations without
 * consent, which the history records; the lock settings are configuration
 * parameters (src/fleetmigrate.c).  As in the earlier scripts every
 * reference is schema-qualified, operators included.
 */

-- How a destructive migration was consented to (NULL: it needed none)
ALTER TABLE fleetmigrate.events ADD COLUMN consent text;

CREATE FUNCTION fleetmigrate.lint(sql text)
RETURNS TABLE(statement integer, line integer, rule text, severity text,
              message text, hint text)
AS 'MODULE_PATHNAME', 'fleetmigrate_lint'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION fleetmigrate.lint(text) IS
'Classify every statement of a script with the server''s parser: destructive, blocking (lock levels on existing tables), compatibility and structure findings, one row each, with severity, message and hint. Nothing is executed';

-- lint() reads the catalog and changes nothing
GRANT EXECUTE ON FUNCTION fleetmigrate.lint(text) TO PUBLIC;

-- The worst lint finding of each migration that is still to run
CREATE OR REPLACE VIEW fleetmigrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.applied_at,
       m.applied_by,
       m.duration_ms,
       CASE WHEN m.applied_checksum IS NULL
                 OR m.state OPERATOR(pg_catalog.<>) ALL (ARRAY['applied', 'baseline'])
            THEN NULL
            ELSE m.applied_checksum OPERATOR(pg_catalog.=) m.checksum END AS checksum_ok,
       m.out_of_order,
       m.statements,
       m.transactional,
       m.checksum,
       m.registered_at,
       m.statements_done,
       m.repeatable,
       m.requires,
       m.conflicts,
       CASE WHEN m.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'failed', 'rolled_back'])
            THEN (SELECT CASE pg_catalog.max(CASE l.severity
                                                 WHEN 'error' THEN 3
                                                 WHEN 'warning' THEN 2
                                                 ELSE 1 END)
                              WHEN 3 THEN 'error'
                              WHEN 2 THEN 'warning'
                              WHEN 1 THEN 'info'
                              ELSE 'ok' END
                    FROM fleetmigrate.lint(m.up) l) END AS lint,
       m.allow_destructive
  FROM fleetmigrate.migrations m
 ORDER BY m.repeatable, m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

CREATE OR REPLACE VIEW fleetmigrate.history AS
SELECT e.id,
       e.version,
       e.name,
       e.event,
       e.started_at,
       e.duration_ms,
       e.performed_by,
       e.session_user_name,
       e.transaction_id,
       e.checksum,
       e.statements,
       e.params,
       e.sqlstate,
       e.error,
       e.statement,
       e.line,
       e.reason,
       e.consent
  FROM fleetmigrate.events e
 ORDER BY e.id;
