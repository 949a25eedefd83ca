/* fleetmigrate--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.3'" to load this file. \quit

/*
 * Non-transactional migrations: CALL fleetmigrate.migrate() runs their
 * statements one at a time, each as a top-level statement in a background
 * worker (src/worker.c), and records progress per statement so that an
 * interrupted migration resumes where it stopped.  As in the earlier
 * scripts every reference is schema-qualified, operators included.
 */

-- Progress of a non-transactional migration: how many statements of its up
-- script have completed, and which statement that runs outside a
-- transaction (CREATE INDEX CONCURRENTLY, ...) was last started.  Both are
-- reset when the migration is recorded as applied.
ALTER TABLE fleetmigrate.migrations
    ADD COLUMN statements_done integer NOT NULL DEFAULT 0,
    ADD COLUMN statement_started integer;

CREATE OR REPLACE VIEW fleetmigrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.applied_at,
       m.applied_by,
       m.duration_ms,
       CASE WHEN m.applied_checksum IS NULL THEN NULL
            ELSE m.applied_checksum OPERATOR(pg_catalog.=) m.checksum END AS checksum_ok,
       m.out_of_order,
       m.statements,
       m.transactional,
       m.checksum,
       m.registered_at,
       m.statements_done
  FROM fleetmigrate.migrations m
 ORDER BY m.sort_key, m.version COLLATE "C", m.name COLLATE "C";
