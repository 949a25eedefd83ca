-- upgrade_checksums: ALTER EXTENSION ... UPDATE from 1.7 (through 1.8) recomputes the
-- stored checksums once, by the rule that is the same on every supported
-- PostgreSQL version, and the history keeps matching the catalog
CREATE EXTENSION fleetmigrate VERSION '1.7';
SET client_min_messages = warning;

SELECT fleetmigrate.register('001', 'same', 'CREATE TABLE uc_a (id int)', 'DROP TABLE uc_a');
SELECT fleetmigrate.register('002', 'drifted', 'CREATE TABLE uc_b (id int)');
SELECT fleetmigrate.register('003', 'pending', 'CREATE TABLE uc_c (id int)', 'DROP TABLE uc_c');
SELECT version, status FROM fleetmigrate.apply_pending(target => '001');
SELECT version, status FROM fleetmigrate.rollback(force => true,
       confirm => (SELECT current_database() || '@' || system_identifier FROM pg_control_system()));
SELECT version, status FROM fleetmigrate.apply_pending(target => '002');

-- What 1.7 stored were hashes of this server's grammar token numbers; they
-- differ per major version, so stand-ins take their place: old-<script>.
-- 002 drifted: it ran a text registered again since (old-ran-before).
UPDATE fleetmigrate.migrations
   SET checksum = 'old-up-' || version,
       down_checksum = CASE WHEN down IS NOT NULL THEN 'old-down-' || version END,
       applied_checksum = CASE version WHEN '001' THEN 'old-up-001'
                                       WHEN '002' THEN 'old-ran-before' END;
UPDATE fleetmigrate.events
   SET checksum = CASE WHEN event = 'rolled_back' THEN 'old-down-' || version
                       WHEN version = '002' THEN 'old-ran-before'
                       ELSE 'old-up-' || version END;

ALTER EXTENSION fleetmigrate UPDATE;

-- every stored script's checksum is the new rule's
SELECT version,
       checksum = fleetmigrate.checksum(up) AS up_ok,
       down_checksum IS NOT DISTINCT FROM fleetmigrate.checksum(down) AS down_ok,
       verify_checksum IS NOT DISTINCT FROM fleetmigrate.checksum(verify) AS verify_ok
  FROM fleetmigrate.migrations ORDER BY version;
-- 001 still matches what ran; 002 still reports its drift; 003 is pending
SELECT version, state, checksum_ok FROM fleetmigrate.status ORDER BY version;
SELECT version, applied_checksum FROM fleetmigrate.migrations WHERE version = '002';
-- the history: events of a stored script carry its new checksum (applied,
-- and rolled back with the down script's); 002's event recorded a text no
-- longer stored and keeps its checksum
SELECT e.version, e.event,
       CASE WHEN e.checksum = fleetmigrate.checksum(m.up) THEN 'new up checksum'
            WHEN e.checksum = fleetmigrate.checksum(m.down) THEN 'new down checksum'
            ELSE e.checksum END AS checksum
  FROM fleetmigrate.events e JOIN fleetmigrate.migrations m USING (version, name)
 ORDER BY e.id;
-- and the runner goes on from there
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT count(*) AS problems FROM fleetmigrate.validate() WHERE version <> '002';

DROP TABLE uc_a, uc_b, uc_c;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
