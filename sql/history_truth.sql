-- history_truth: the history keeps the up text that ran, and the errors a
-- migration tolerated; export_bundle() shows the text that ran beside the
-- text registered now when they differ; a tolerated "column already
-- exists" is an error when the existing column is not the one asked for
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- the text that ran stays in the history when the migration is registered
-- again with another text
SELECT fleetmigrate.register('001', 'create_items', 'CREATE TABLE ht_items (id int)');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('001', 'create_items', 'CREATE TABLE ht_items (id bigint, note text)');
SELECT m.up AS registered_now, h.script AS ran
  FROM fleetmigrate.migrations m
  JOIN fleetmigrate.history h USING (version, name)
 WHERE h.event = 'applied';
-- the export shows both: the registered text, then the text that ran
SELECT fleetmigrate.export_bundle();
-- registering the export changes nothing (the "-- ran" section is never
-- registered), and exporting again gives the same text
SELECT fleetmigrate.export_bundle() AS exported \gset
SELECT * FROM fleetmigrate.register_bundle(:'exported');
SELECT fleetmigrate.export_bundle() = :'exported' AS round_trip;
-- the text that ran is not registered from a bundle: a new migration takes
-- its up script, and its "-- ran" section is ignored
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 002 create_tags
CREATE TABLE ht_tags (id int);
-- ran
CREATE TABLE ht_tags (id int, label text);
$b$);
SELECT up FROM fleetmigrate.migrations WHERE version = '002';
-- once applied, the text that ran is the registered one: no "-- ran"
SELECT count(*) FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.export_bundle() LIKE '%-- migration: 002 create_tags
CREATE TABLE ht_tags (id int);
' AS without_ran,
       (SELECT count(*) FROM regexp_matches(fleetmigrate.export_bundle(), '-- ran', 'g')) AS ran_sections;
-- a rolled-back migration has nothing in effect: no "-- ran" section
SELECT fleetmigrate.register('003', 'seed', 'INSERT INTO ht_tags VALUES (1)', 'DELETE FROM ht_tags');
SELECT count(*) FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('003', 'seed', 'INSERT INTO ht_tags VALUES (2)', 'DELETE FROM ht_tags');
SELECT strpos(fleetmigrate.export_bundle(), E'-- ran\nINSERT INTO ht_tags VALUES (1)\n') > 0 AS ran_before_rollback;
SET fleetmigrate.environment = 'development';
SELECT version, status FROM fleetmigrate.rollback();
SELECT strpos(fleetmigrate.export_bundle(), E'-- ran\nINSERT INTO ht_tags VALUES (1)\n') > 0 AS ran_after_rollback;
DELETE FROM fleetmigrate.migrations WHERE version = '003';

-- a failed run keeps the text that failed, with where it failed
SELECT fleetmigrate.register('004', 'broken', E'CREATE TABLE ht_ok (id int);\nALTER TABLE ht_missing ADD COLUMN x int;');
CALL fleetmigrate.migrate();
SELECT event, statement, line, sqlstate, script FROM fleetmigrate.history WHERE version = '004';
DELETE FROM fleetmigrate.migrations WHERE version = '004';

-- tolerated errors are recorded with statement, line, SQLSTATE and message
CREATE TABLE ht_users (id int PRIMARY KEY, auth_tier text, tier_rank integer NOT NULL DEFAULT 0,
                       code varchar(20), seq integer NOT NULL);
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 005 progressive_auth
-- tolerate: 42701, 42P07
ALTER TABLE ht_users ADD COLUMN auth_tier text;
ALTER TABLE ht_users ADD COLUMN upgraded_at timestamptz;

CREATE TABLE ht_users (id int);
ALTER TABLE ht_users ADD COLUMN seq serial;
$b$);
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT jsonb_pretty(tolerated) FROM fleetmigrate.history WHERE version = '005' AND event = 'applied';
-- a migration that tolerates nothing records no list
SELECT tolerated IS NULL AS none_tolerated FROM fleetmigrate.history WHERE version = '001';

-- "column already exists" is not skipped when the column differs: another
-- type, another nullability, another type modifier
SELECT fleetmigrate.register('006', 'rank_as_text', 'ALTER TABLE ht_users ADD COLUMN tier_rank text NOT NULL', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('006', 'rank_as_text', 'ALTER TABLE ht_users ADD COLUMN tier_rank integer', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('006', 'rank_as_text', 'ALTER TABLE ht_users ADD COLUMN auth_tier text NOT NULL', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('006', 'rank_as_text', 'ALTER TABLE ht_users ADD COLUMN code varchar(30)', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
-- a statement that adds a missing column besides one that exists would
-- leave the missing one out if it were skipped
SELECT fleetmigrate.register('006', 'rank_as_text', 'ALTER TABLE ht_users ADD COLUMN auth_tier text, ADD COLUMN score int', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
-- migrate() records the failure, with the statement
CALL fleetmigrate.migrate();
SELECT event, statement, line, sqlstate FROM fleetmigrate.history WHERE version = '006';
-- the same column as asked for (a primary key and an identity are NOT
-- NULL) is skipped
ALTER TABLE ht_users ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY;
SELECT fleetmigrate.register('006', 'rank_as_text', E'ALTER TABLE ht_users ADD COLUMN tier_rank int4 NOT NULL DEFAULT 1;\nALTER TABLE ht_users ADD COLUMN id integer PRIMARY KEY;\nALTER TABLE ht_users ADD COLUMN ident int8 GENERATED BY DEFAULT AS IDENTITY;', tolerate => '{42701}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT t->>'statement' AS statement, t->>'sqlstate' AS sqlstate, t->>'message' AS message
  FROM fleetmigrate.history, jsonb_array_elements(tolerated) t
 WHERE version = '006' AND event = 'applied';

-- the export round trip: a comment between two migrations belongs to
-- neither; blank lines at the end of a bundle to no script; "-- end"
-- closes a script that ends in lines the next marker would drop
DROP EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate;
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 010 one
CREATE TABLE ht_one (id int);
-- verify
SELECT 1 FROM ht_one;

-- The next migration came from the other branch.
-- migration: 011 two
CREATE TABLE ht_two (id int);
-- keep this comment: it is attached to the script

-- migration: 012 three
CREATE TABLE ht_three (id int);

-- trailing notes of the bundle


$b$);
SELECT version, up, verify FROM fleetmigrate.migrations ORDER BY version;
-- scripts that end in a blank line, or in a comment after a blank line,
-- are exported with "-- end" and come back the same
SELECT fleetmigrate.register('013', 'ends_with_newline', E'CREATE TABLE ht_four (id int);\n');
SELECT fleetmigrate.register('014', 'ends_with_comment', E'CREATE TABLE ht_five (id int);\n\n-- TODO: index', E'DROP TABLE ht_five;\n\n-- a note\n');
SELECT fleetmigrate.export_bundle();
SELECT fleetmigrate.export_bundle() AS exported \gset
DROP EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate;
-- as psql -At writes it, with one more newline at the end
SELECT count(*) FROM fleetmigrate.register_bundle(:'exported' || E'\n');
SELECT fleetmigrate.export_bundle() = :'exported' AS round_trip;
SELECT version, up = E'CREATE TABLE ht_four (id int);\n' OR version <> '013' AS same
  FROM fleetmigrate.migrations ORDER BY version;
-- what follows "-- end" may only be blank lines and comments
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 x\nSELECT 1;\n-- end\n-- a comment\n\nSELECT 2;');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 020 x\nSELECT 1;\n-- end\n-- down\nSELECT 3;');
SELECT down FROM fleetmigrate.migrations WHERE version = '020';
-- markers spelled otherwise are refused, never script text
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 021 y\nSELECT 1;\n-- Ran');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 021 y\nSELECT 1;\n--end');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 021 y\nSELECT 1;\n-- ran\nSELECT 2;\n-- ran\nSELECT 3;');
-- a comment that only mentions the words stays a comment
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 021 y\nSELECT 1;\n-- ran into trouble here\n-- end of the story');
SELECT up FROM fleetmigrate.migrations WHERE version = '021';

DROP TABLE ht_items, ht_tags, ht_users;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
