-- bad_input: a sweep of bad inputs across every SQL function of the
-- extension and the bundle format.  Each case is one SQL text with the
-- SQLSTATE it must fail with; the runner EXECUTEs each in a subtransaction
-- of its own (rolled back even when the call is accepted) and lists label,
-- SQLSTATE and message.  The flag column is empty unless a case was
-- silently accepted (ACCEPTED), raised an internal error (INTERNAL ERROR)
-- or failed with another SQLSTATE than expected; the summary counts them.
-- migrate() commits, so its cases run at top level.  At the end the
-- catalog, the tier tables and the users table must be as before.
--
-- Left out, fixed elsewhere for issue 17: configure_user_table() with a
-- TEMP table, the audit table or one column for both timestamps;
-- assign_tier() conditions that reach $1..$3; migrations that recreate or
-- drop the extension; param() failures during a run; lint() races.
SET client_min_messages = warning;
CREATE EXTENSION fleetmigrate;
CREATE EXTENSION fleetmigrate_tiers;
SET fleetmigrate.environment = development;
\set VERBOSITY terse

-- something to point at: an applied migration and a pending one
SELECT fleetmigrate.register('001', 'first', 'CREATE TABLE bi_one (id int)',
                             'DROP TABLE bi_one', 'SELECT 1 FROM bi_one LIMIT 0');
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('002', 'second', $$CREATE TABLE bi_two (who text DEFAULT fleetmigrate.param('who'))$$,
                             'DROP TABLE bi_two', params => '{who}');
-- the users table of the tier functions, one user, and tables for
-- configure_user_table()
DROP TABLE IF EXISTS users CASCADE;
CREATE TABLE users (id uuid PRIMARY KEY, email text, auth_tier text NOT NULL DEFAULT 'MAGIC_LINK',
                    upgraded_at timestamptz, tier_changed_at timestamptz);
INSERT INTO users (id, email, auth_tier) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'AUTHENTICATED');
CREATE TABLE bi_users (id uuid PRIMARY KEY, email text, auth_tier text, upgraded_at timestamptz,
                       tier_changed_at timestamptz);
CREATE VIEW bi_users_view AS SELECT * FROM bi_users;
CREATE SEQUENCE bi_seq;

-- everything a bad input must leave alone
CREATE FUNCTION pg_temp.bi_state() RETURNS text LANGUAGE sql AS $$
SELECT md5(string_agg(t, E'\n' ORDER BY t)) FROM (
    SELECT 'm ' || m::text AS t FROM fleetmigrate.migrations m
    UNION ALL SELECT 'e ' || e::text FROM fleetmigrate.events e
    UNION ALL SELECT 't ' || t::text FROM fleetmigrate.tiers t
    UNION ALL SELECT 'c ' || c::text FROM fleetmigrate.tier_config c
    UNION ALL SELECT 'h ' || h::text FROM fleetmigrate.user_tier_history h
    UNION ALL SELECT 'u ' || u::text FROM public.users u
    UNION ALL SELECT 'r ' || c.oid::regclass::text FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace) s
$$;
-- messages as plain ASCII: anything else as <U+XXXX>, so that the listing
-- shows what an invisible character hides
CREATE FUNCTION pg_temp.visible(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
SELECT string_agg(CASE WHEN ascii(ch) BETWEEN 32 AND 126 THEN ch
                       WHEN ascii(ch) > 65535 THEN format('<U+%s>', upper(to_hex(ascii(ch))))
                       ELSE format('<U+%s>', upper(lpad(to_hex(ascii(ch)), 4, '0'))) END,
                  '' ORDER BY i)
  FROM unnest(regexp_split_to_array(t, '')) WITH ORDINALITY AS c(ch, i)
$$;
CREATE TEMP TABLE bi_before AS SELECT pg_temp.bi_state() AS state;
CREATE TEMP TABLE bi_runs_before AS SELECT count(*) AS n FROM fleetmigrate.run_log;

CREATE TEMP TABLE bad_input (
    id      integer PRIMARY KEY,
    label   text NOT NULL UNIQUE,
    toplevel boolean NOT NULL,      -- run at top level (procedures that commit)
    expect  text,                   -- the SQLSTATE it must fail with
    sql     text NOT NULL
);
INSERT INTO bad_input VALUES
(1, 'register: NULL version', false, '22004', $c$SELECT fleetmigrate.register(NULL, 'x', 'SELECT 1', NULL, NULL, '{}', '{}', '{}', false, false, '{}')$c$),
(2, 'register: NULL name', false, '22004', $c$SELECT fleetmigrate.register('090', NULL, 'SELECT 1', NULL, NULL, '{}', '{}', '{}', false, false, '{}')$c$),
(3, 'register: NULL up', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', NULL, NULL, NULL, '{}', '{}', '{}', false, false, '{}')$c$),
(4, 'register: NULL requires', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, NULL, '{}', '{}', false, false, '{}')$c$),
(5, 'register: NULL conflicts', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', NULL, '{}', false, false, '{}')$c$),
(6, 'register: NULL params', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', '{}', NULL, false, false, '{}')$c$),
(7, 'register: NULL repeatable', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', '{}', '{}', NULL, false, '{}')$c$),
(8, 'register: NULL allow_destructive', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', '{}', '{}', false, NULL, '{}')$c$),
(9, 'register: NULL tolerate', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', '{}', '{}', false, false, NULL)$c$),
(10, 'register: empty version', false, '22023', $c$SELECT fleetmigrate.register('', 'x', 'SELECT 1')$c$),
(11, 'register: blank version', false, '22023', $c$SELECT fleetmigrate.register(' ', 'x', 'SELECT 1')$c$),
(12, 'register: version -1', false, '22023', $c$SELECT fleetmigrate.register('-1', 'x', 'SELECT 1')$c$),
(13, 'register: version -001', false, '22023', $c$SELECT fleetmigrate.register('-001', 'x', 'SELECT 1')$c$),
(14, 'register: version with space', false, '22023', $c$SELECT fleetmigrate.register('1 2', 'x', 'SELECT 1')$c$),
(15, 'register: version with tab', false, '22023', $c$SELECT fleetmigrate.register(E'1\t2', 'x', 'SELECT 1')$c$),
(16, 'register: version with newline', false, '22023', $c$SELECT fleetmigrate.register(E'1\n2', 'x', 'SELECT 1')$c$),
(17, 'register: version leading dot', false, '22023', $c$SELECT fleetmigrate.register('.1', 'x', 'SELECT 1')$c$),
(18, 'register: version trailing dash', false, '22023', $c$SELECT fleetmigrate.register('1-', 'x', 'SELECT 1')$c$),
(19, 'register: version double dot', false, '22023', $c$SELECT fleetmigrate.register('1..2', 'x', 'SELECT 1')$c$),
(20, 'register: version plus', false, '22023', $c$SELECT fleetmigrate.register('1+2', 'x', 'SELECT 1')$c$),
(21, 'register: version slash', false, '22023', $c$SELECT fleetmigrate.register('1/2', 'x', 'SELECT 1')$c$),
(22, 'register: version quote', false, '22023', $c$SELECT fleetmigrate.register('1''2', 'x', 'SELECT 1')$c$),
(23, 'register: version semicolon', false, '22023', $c$SELECT fleetmigrate.register('1;', 'x', 'SELECT 1')$c$),
(24, 'register: version non-ASCII digit', false, '22023', $c$SELECT fleetmigrate.register(E'\u0661', 'x', 'SELECT 1')$c$),
(25, 'register: version accent', false, '22023', $c$SELECT fleetmigrate.register(E'1\u00e9', 'x', 'SELECT 1')$c$),
(26, 'register: version no-break space', false, '22023', $c$SELECT fleetmigrate.register(E'1\u00a0', 'x', 'SELECT 1')$c$),
(27, 'register: version zero-width space', false, '22023', $c$SELECT fleetmigrate.register(E'1\u200b', 'x', 'SELECT 1')$c$),
(28, 'register: version U+FEFF', false, '22023', $c$SELECT fleetmigrate.register(E'\ufeff1', 'x', 'SELECT 1')$c$),
(29, 'register: version RLO', false, '22023', $c$SELECT fleetmigrate.register(E'1\u202e2', 'x', 'SELECT 1')$c$),
(30, 'register: version 101 bytes', false, '22023', $c$SELECT fleetmigrate.register(repeat('1', 101), 'x', 'SELECT 1')$c$),
(31, 'register: version 100000 bytes', false, '22023', $c$SELECT fleetmigrate.register(repeat('9', 100000), 'x', 'SELECT 1')$c$),
(32, 'register: version 1 MB', false, '22023', $c$SELECT fleetmigrate.register(repeat('1', 1048576), 'x', 'SELECT 1')$c$),
(33, 'register: version underscore only', false, '22023', $c$SELECT fleetmigrate.register('_', 'x', 'SELECT 1')$c$),
(34, 'register: version dash only', false, '22023', $c$SELECT fleetmigrate.register('-', 'x', 'SELECT 1')$c$),
(35, 'register: version control char', false, '22023', $c$SELECT fleetmigrate.register(E'1\x01', 'x', 'SELECT 1')$c$),
(36, 'register: version DEL', false, '22023', $c$SELECT fleetmigrate.register(E'1\x7f', 'x', 'SELECT 1')$c$),
(37, 'register: name empty name', false, '22023', $c$SELECT fleetmigrate.register('090', '', 'SELECT 1')$c$),
(38, 'register: name blank name', false, '22023', $c$SELECT fleetmigrate.register('090', ' ', 'SELECT 1')$c$),
(39, 'register: name three spaces', false, '22023', $c$SELECT fleetmigrate.register('090', '   ', 'SELECT 1')$c$),
(40, 'register: name leading space', false, '22023', $c$SELECT fleetmigrate.register('090', ' x', 'SELECT 1')$c$),
(41, 'register: name trailing space', false, '22023', $c$SELECT fleetmigrate.register('090', 'x ', 'SELECT 1')$c$),
(42, 'register: name double space', false, '22023', $c$SELECT fleetmigrate.register('090', 'a  b', 'SELECT 1')$c$),
(43, 'register: name tab', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\tb', 'SELECT 1')$c$),
(44, 'register: name newline', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\nb', 'SELECT 1')$c$),
(45, 'register: name CR', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\rb', 'SELECT 1')$c$),
(46, 'register: name NUL-like \x01', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\x01b', 'SELECT 1')$c$),
(47, 'register: name DEL', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\x7fb', 'SELECT 1')$c$),
(48, 'register: name C1 control U+0085', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u0085b', 'SELECT 1')$c$),
(49, 'register: name no-break space', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u00a0b', 'SELECT 1')$c$),
(50, 'register: name soft hyphen', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u00adb', 'SELECT 1')$c$),
(51, 'register: name en quad U+2000', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2000b', 'SELECT 1')$c$),
(52, 'register: name hair space U+200A', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200ab', 'SELECT 1')$c$),
(53, 'register: name zero-width space', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200bb', 'SELECT 1')$c$),
(54, 'register: name ZWNJ', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200cb', 'SELECT 1')$c$),
(55, 'register: name ZWJ', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200db', 'SELECT 1')$c$),
(56, 'register: name LRM', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200eb', 'SELECT 1')$c$),
(57, 'register: name RLM', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u200fb', 'SELECT 1')$c$),
(58, 'register: name line separator U+2028', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2028b', 'SELECT 1')$c$),
(59, 'register: name paragraph separator', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2029b', 'SELECT 1')$c$),
(60, 'register: name LRE U+202A', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202ab', 'SELECT 1')$c$),
(61, 'register: name RLE U+202B', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202bb', 'SELECT 1')$c$),
(62, 'register: name PDF U+202C', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202cb', 'SELECT 1')$c$),
(63, 'register: name LRO U+202D', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202db', 'SELECT 1')$c$),
(64, 'register: name RLO U+202E', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202eb', 'SELECT 1')$c$),
(65, 'register: name narrow nbsp U+202F', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u202fb', 'SELECT 1')$c$),
(66, 'register: name word joiner U+2060', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2060b', 'SELECT 1')$c$),
(67, 'register: name LRI U+2066', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2066b', 'SELECT 1')$c$),
(68, 'register: name RLI U+2067', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2067b', 'SELECT 1')$c$),
(69, 'register: name FSI U+2068', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2068b', 'SELECT 1')$c$),
(70, 'register: name PDI U+2069', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u2069b', 'SELECT 1')$c$),
(71, 'register: name ideographic space', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u3000b', 'SELECT 1')$c$),
(72, 'register: name BOM U+FEFF', false, '22023', $c$SELECT fleetmigrate.register('090', E'\ufeffab', 'SELECT 1')$c$),
(73, 'register: name Arabic letter mark U+061C', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u061cb', 'SELECT 1')$c$),
(74, 'register: name Mongolian vowel separator', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\u180eb', 'SELECT 1')$c$),
(75, 'register: name Hangul filler U+3164', false, '22023', $c$SELECT fleetmigrate.register('090', E'\u3164', 'SELECT 1')$c$),
(76, 'register: name private use U+E000', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\ue000b', 'SELECT 1')$c$),
(77, 'register: name noncharacter U+FFFF', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\uffffb', 'SELECT 1')$c$),
(78, 'register: name tag character U+E0041', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\U000E0041b', 'SELECT 1')$c$),
(79, 'register: name variation selector U+FE0F', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\ufe0fb', 'SELECT 1')$c$),
(80, 'register: name interlinear anchor U+FFF9', false, '22023', $c$SELECT fleetmigrate.register('090', E'a\ufff9b', 'SELECT 1')$c$),
(81, 'register: name only zero-width', false, '22023', $c$SELECT fleetmigrate.register('090', E'\u200b', 'SELECT 1')$c$),
(82, 'register: name 201 bytes', false, '22023', $c$SELECT fleetmigrate.register('090', repeat('n', 201), 'SELECT 1')$c$),
(83, 'register: name 100000 bytes', false, '22023', $c$SELECT fleetmigrate.register('090', repeat('n', 100000), 'SELECT 1')$c$),
(84, 'register: name 200 bytes of 2-byte chars +1', false, '22023', $c$SELECT fleetmigrate.register('090', repeat(E'\u00e9', 100) || 'x', 'SELECT 1')$c$),
(85, 'register: up syntax error', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'SELEC 1')$c$),
(86, 'register: up unterminated quote', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT ''')$c$),
(87, 'register: up unterminated dollar quote', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT $$x')$c$),
(88, 'register: up BEGIN', false, '2D000', $c$SELECT fleetmigrate.register('090', 'x', 'BEGIN')$c$),
(89, 'register: up COMMIT', false, '2D000', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1; COMMIT')$c$),
(90, 'register: up COPY FROM STDIN', false, '0A000', $c$SELECT fleetmigrate.register('090', 'x', 'COPY t FROM STDIN')$c$),
(91, 'register: up NUL byte via chr(0)', false, '54000', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1' || chr(0))$c$),
(92, 'register: up invalid UTF-8 bytes', false, '22021', $c$SELECT fleetmigrate.register('090', 'x', convert_from('\xc328'::bytea, 'UTF8'))$c$),
(93, 'register: up 1 GB-ish repeat', false, '54000', $c$SELECT fleetmigrate.register('090', 'x', repeat('x', 1073741824))$c$),
(94, 'register: up only a semicolon run of garbage', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', ';;; )')$c$),
(95, 'register: up unterminated comment', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', '/* SELECT 1')$c$),
(96, 'register: up psql meta-command', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', '\i /etc/passwd')$c$),
(97, 'register: up nested register call text not SQL', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'fleetmigrate.register()')$c$),
(98, 'register: down syntax error', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', 'DROP TABL x')$c$),
(99, 'register: down ROLLBACK', false, '2D000', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', 'ROLLBACK')$c$),
(100, 'register: verify syntax error', false, '42601', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, 'SELECT (')$c$),
(101, 'register: verify SAVEPOINT', false, '2D000', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, 'SAVEPOINT a')$c$),
(102, 'register: requires NULL element', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{NULL}')$c$),
(103, 'register: requires empty', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{""}')$c$),
(104, 'register: requires blank', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{" "}')$c$),
(105, 'register: requires -1', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{-1}')$c$),
(106, 'register: requires itself', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{090}')$c$),
(107, 'register: requires itself by name', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{"090 x"}')$c$),
(108, 'register: requires twice', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{001,001}')$c$),
(109, 'register: requires comma', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{"001 a, b"}')$c$),
(110, 'register: requires zero-width name', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => E'{"001 a\u200bb"}')$c$),
(111, 'register: requires 2-D array', false, '2202E', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{{001},{002}}')$c$),
(112, 'register: requires 100000-byte version', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => ARRAY[repeat('1', 100000)])$c$),
(113, 'register: requires unregistered', false, '42704', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => '{404}')$c$),
(114, 'register: requires newline', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => E'{"001\nx"}')$c$),
(115, 'register: conflicts NULL element', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', conflicts => '{NULL}')$c$),
(116, 'register: conflicts itself', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', conflicts => '{090}')$c$),
(117, 'register: conflicts twice', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', conflicts => '{"001 a","001 a"}')$c$),
(118, 'register: conflicts bad version', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', conflicts => '{1+1}')$c$),
(119, 'register: conflicts comma', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', conflicts => '{"001 a,b"}')$c$),
(120, 'register: params NULL element', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{NULL}')$c$),
(121, 'register: params empty', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{""}')$c$),
(122, 'register: params upper case', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{Admin}')$c$),
(123, 'register: params leading digit', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{1x}')$c$),
(124, 'register: params dash', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{a-b}')$c$),
(125, 'register: params space', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{"a b"}')$c$),
(126, 'register: params secret only', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{secret}')$c$),
(127, 'register: params secret secret', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{"secret secret"}')$c$),
(128, 'register: params secret blank', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{"secret "}')$c$),
(129, 'register: params SECRET upper', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{"SECRET x"}')$c$),
(130, 'register: params duplicate', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{x,x}')$c$),
(131, 'register: params duplicate secret', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{x,"secret x"}')$c$),
(132, 'register: params 64 bytes', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => ARRAY[repeat('a', 64)])$c$),
(133, 'register: params 100000 bytes', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => ARRAY[repeat('a', 100000)])$c$),
(134, 'register: params zero-width', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => E'{"a\u200b"}')$c$),
(135, 'register: params non-ASCII letter', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => E'{"\u00e9"}')$c$),
(136, 'register: params 2-D', false, '2202E', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{{a},{b}}')$c$),
(137, 'register: params quote', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', params => '{"a''b"}')$c$),
(138, 'register: tolerate ZZZZZ', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{ZZZZZ}')$c$),
(139, 'register: tolerate 4 chars', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{4270}')$c$),
(140, 'register: tolerate 6 chars', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{427011}')$c$),
(141, 'register: tolerate name', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{duplicate_column}')$c$),
(142, 'register: tolerate 01000 warning', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{01000}')$c$),
(143, 'register: tolerate 00000', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{00000}')$c$),
(144, 'register: tolerate 02000 no data', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{02000}')$c$),
(145, 'register: tolerate 42501', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{42501}')$c$),
(146, 'register: tolerate 40001', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{40001}')$c$),
(147, 'register: tolerate 53100', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{53100}')$c$),
(148, 'register: tolerate 57014', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{57014}')$c$),
(149, 'register: tolerate 58030', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{58030}')$c$),
(150, 'register: tolerate XX000', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{XX000}')$c$),
(151, 'register: tolerate twice', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{42701,42701}')$c$),
(152, 'register: tolerate twice by case', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{42p07,42P07}')$c$),
(153, 'register: tolerate NULL element', false, '22004', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{NULL}')$c$),
(154, 'register: tolerate empty', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{""}')$c$),
(155, 'register: tolerate with space', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{"42 01"}')$c$),
(156, 'register: tolerate non-ASCII', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => E'{"4270\u00e9"}')$c$),
(157, 'register: tolerate 100000 bytes', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => ARRAY[repeat('4', 100000)])$c$),
(158, 'register: tolerate 2-D', false, '2202E', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', tolerate => '{{42701}}')$c$),
(159, 'register: tolerate on non-transactional', false, '22023', $c$SELECT fleetmigrate.register('090', 'x', 'VACUUM', tolerate => '{42701}')$c$),
(160, 'register: wrong type for requires', false, '22P02', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', requires => 'not an array')$c$),
(161, 'register: too many arguments', false, '42883', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', NULL, NULL, '{}', '{}', '{}', false, false, '{}', 'extra')$c$),
(162, 'register: unknown named argument', false, '42883', $c$SELECT fleetmigrate.register('090', 'x', 'SELECT 1', rollback => 'x')$c$),
(163, 'register_bundle: NULL', false, '22004', $c$SELECT * FROM fleetmigrate.register_bundle(NULL)$c$),
(164, 'register_bundle: empty', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle('')$c$),
(165, 'register_bundle: only comments', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- hello\n\n-- world\n')$c$),
(166, 'register_bundle: only blanks', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'\n\n  \n')$c$),
(167, 'register_bundle: text before first marker', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'SELECT 1;\n-- migration: 090 x\nSELECT 1;')$c$),
(168, 'register_bundle: marker without version', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration:\nSELECT 1;')$c$),
(169, 'register_bundle: marker without name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090\nSELECT 1;')$c$),
(170, 'register_bundle: marker with blank name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090   \nSELECT 1;')$c$),
(171, 'register_bundle: marker with version -1', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: -1 x\nSELECT 1;')$c$),
(172, 'register_bundle: marker with zero-width name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 a\u200bb\nSELECT 1;')$c$),
(173, 'register_bundle: marker with RLO name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 \u202eb\nSELECT 1;')$c$),
(174, 'register_bundle: marker with nbsp name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 a\u00a0b\nSELECT 1;')$c$),
(175, 'register_bundle: marker with BOM name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 \ufeffb\nSELECT 1;')$c$),
(176, 'register_bundle: marker with double-space name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 a  b\nSELECT 1;')$c$),
(177, 'register_bundle: marker version with tab then name', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090\t\tx\ty\nSELECT 1;')$c$),
(178, 'register_bundle: duplicate migration', false, '42710', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- migration: 090 x\nSELECT 2;')$c$),
(179, 'register_bundle: --  down (two spaces)', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nCREATE TABLE bi_b (id int);\n--  down\nDROP TABLE bi_b;')$c$),
(180, 'register_bundle: -- Down', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nCREATE TABLE bi_b (id int);\n-- Down\nDROP TABLE bi_b;')$c$),
(181, 'register_bundle: -- DOWN', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- DOWN\nSELECT 2;')$c$),
(182, 'register_bundle: --down', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n--down\nSELECT 2;')$c$),
(183, 'register_bundle: ---down', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n---down\nSELECT 2;')$c$),
(184, 'register_bundle: -- down:', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- down:\nSELECT 2;')$c$),
(185, 'register_bundle: indented -- down', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n -- down\nSELECT 2;')$c$),
(186, 'register_bundle: tab-indented -- verify', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n\t-- verify\nSELECT 2;')$c$),
(187, 'register_bundle: -- Verify', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- Verify\nSELECT 2;')$c$),
(188, 'register_bundle: --verify', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n--verify\nSELECT 2;')$c$),
(189, 'register_bundle: indented -- migration:', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n  -- migration: 091 y\nSELECT 2;')$c$),
(190, 'register_bundle: -- Migration:', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- Migration: 091 y\nSELECT 2;')$c$),
(191, 'register_bundle: --migration:', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n--migration: 091 y\nSELECT 2;')$c$),
(192, 'register_bundle: -- migration without colon', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- migration 091 y\nSELECT 2;')$c$),
(193, 'register_bundle: -- migration : with space', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- migration : 091 y\nSELECT 2;')$c$),
(194, 'register_bundle: indented marker before the first', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E' -- migration: 089 w\nSELECT 0;\n-- migration: 090 x\nSELECT 1;')$c$),
(195, 'register_bundle: -- requires: after body', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- requires: 001\nSELECT 2;')$c$),
(196, 'register_bundle: -- requires: after blank line', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n\n-- requires: 001\nSELECT 1;')$c$),
(197, 'register_bundle: -- params: in down script', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- down\n-- params: a\nSELECT 2;')$c$),
(198, 'register_bundle: -- flags: in verify script', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- verify\n-- flags: repeatable\nSELECT 2;')$c$),
(199, 'register_bundle: -- tolerate: after body', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- tolerate: 42701\nSELECT 2;')$c$),
(200, 'register_bundle: -- conflicts: after body', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- conflicts: 001\nSELECT 2;')$c$),
(201, 'register_bundle: -- Requires: in header', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- Requires: 001\nSELECT 1;')$c$),
(202, 'register_bundle: --requires: in header', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n--requires: 001\nSELECT 1;')$c$),
(203, 'register_bundle: -- flags : in header', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- flags : repeatable\nSELECT 1;')$c$),
(204, 'register_bundle: -- Down with CRLF', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\r\nSELECT 1;\r\n-- Down\r\nSELECT 2;\r\n')$c$),
(205, 'register_bundle: unknown flag', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- flags: fast\nSELECT 1;')$c$),
(206, 'register_bundle: empty flag', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- flags: repeatable,\nSELECT 1;')$c$),
(207, 'register_bundle: header twice', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- params: a\n-- params: b\nSELECT 1;')$c$),
(208, 'register_bundle: empty requires value', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- requires: \nSELECT 1;')$c$),
(209, 'register_bundle: requires itself', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- requires: 090 x\nSELECT 1;')$c$),
(210, 'register_bundle: requires unregistered', false, '42704', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- requires: 404\nSELECT 1;')$c$),
(211, 'register_bundle: params invalid', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- params: Admin\nSELECT 1;')$c$),
(212, 'register_bundle: params 100000 bytes', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- params: ' || repeat('p', 100000) || E'\nSELECT 1;')$c$),
(213, 'register_bundle: params duplicate via secret', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- params: p, secret p\nSELECT 1;')$c$),
(214, 'register_bundle: tolerate ZZZZZ', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- tolerate: ZZZZZ\nSELECT 1;')$c$),
(215, 'register_bundle: tolerate 42501', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\n-- tolerate: 42501\nSELECT 1;')$c$),
(216, 'register_bundle: second down', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- down\nSELECT 2;\n-- down\nSELECT 3;')$c$),
(217, 'register_bundle: second verify', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- verify\nSELECT 2;\n-- verify\nSELECT 3;')$c$),
(218, 'register_bundle: up does not parse', false, '42601', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELEC 1;')$c$),
(219, 'register_bundle: down does not parse', false, '42601', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- down\nDROP TABL x;')$c$),
(220, 'register_bundle: transaction control', false, '2D000', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nBEGIN;\nSELECT 1;\nCOMMIT;')$c$),
(221, 'register_bundle: good then bad: all or nothing', false, '42601', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 good\nCREATE TABLE bi_good (id int);\n-- migration: 091 bad\nSELEC 1;')$c$),
(222, 'register_bundle: 100000-line garbage', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(repeat(E'garbage\n', 100000))$c$),
(223, 'register_bundle: wrong type (integer)', false, '42883', $c$SELECT * FROM fleetmigrate.register_bundle(42)$c$),
(224, 'register_bundle: NUL via chr(0)', false, '54000', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;' || chr(0))$c$),
(225, 'export_bundle: an argument', false, '42883', $c$SELECT fleetmigrate.export_bundle('x')$c$),
(226, 'export_bundle: NULL argument', false, '42883', $c$SELECT fleetmigrate.export_bundle(NULL)$c$),
(227, 'register_dir: NULL', false, '22004', $c$SELECT * FROM fleetmigrate.register_dir(NULL)$c$),
(228, 'register_dir: empty path', false, '22023', $c$SELECT * FROM fleetmigrate.register_dir('')$c$),
(229, 'register_dir: relative path', false, '22023', $c$SELECT * FROM fleetmigrate.register_dir('test/fixtures/fleetos')$c$),
(230, 'register_dir: nonexistent', false, '58P01', $c$SELECT * FROM fleetmigrate.register_dir('/nonexistent/fleetmigrate')$c$),
(231, 'register_dir: a file, not a directory', false, '42809', $c$SELECT * FROM fleetmigrate.register_dir('/dev/null')$c$),
(232, 'register_dir: 5000-byte path', false, '42622', $c$SELECT * FROM fleetmigrate.register_dir('/' || repeat('a', 5000))$c$),
(233, 'register_dir: 100000-byte path', false, '42622', $c$SELECT * FROM fleetmigrate.register_dir('/' || repeat('a/', 50000))$c$),
(234, 'register_dir: 300-byte directory name', false, '42622', $c$SELECT * FROM fleetmigrate.register_dir('/tmp/' || repeat('d', 300))$c$),
(235, 'register_dir: 4096-byte path', false, '42622', $c$SELECT * FROM fleetmigrate.register_dir('/' || repeat('ab/', 1365))$c$),
(236, 'register_dir: root, no migrations', false, '22023', $c$SELECT * FROM fleetmigrate.register_dir('/')$c$),
(237, 'register_dir: newline in path', false, '58P01', $c$SELECT * FROM fleetmigrate.register_dir(E'/tmp\n')$c$),
(238, 'register_dir: wrong type', false, '42883', $c$SELECT * FROM fleetmigrate.register_dir(42)$c$),
(239, 'validate: an argument', false, '42883', $c$SELECT * FROM fleetmigrate.validate('x')$c$),
(240, 'checksum: unterminated quote', false, '42601', $c$SELECT fleetmigrate.checksum('SELECT ''x')$c$),
(241, 'checksum: two arguments', false, '42883', $c$SELECT fleetmigrate.checksum('a', 'b')$c$),
(242, 'checksum: wrong type', false, '42883', $c$SELECT fleetmigrate.checksum(42)$c$),
(243, 'version_key: wrong type', false, '42883', $c$SELECT fleetmigrate.version_key(42)$c$),
(244, 'version_key: 70000 digits', false, '54000', $c$SELECT fleetmigrate.version_key(repeat('1', 70000))$c$),
(245, 'repair: NULL version', false, '22004', $c$SELECT fleetmigrate.repair(NULL, 'first', 'why')$c$),
(246, 'repair: NULL name', false, '22004', $c$SELECT fleetmigrate.repair('001', NULL, 'why')$c$),
(247, 'repair: NULL reason', false, '22023', $c$SELECT fleetmigrate.repair('001', 'first', NULL)$c$),
(248, 'repair: empty reason', false, '22023', $c$SELECT fleetmigrate.repair('001', 'first', '')$c$),
(249, 'repair: blank reason', false, '22023', $c$SELECT fleetmigrate.repair('001', 'first', '   ')$c$),
(250, 'repair: unknown migration', false, '42704', $c$SELECT fleetmigrate.repair('404', 'nope', 'why')$c$),
(251, 'repair: empty version', false, '42704', $c$SELECT fleetmigrate.repair('', 'first', 'why')$c$),
(252, 'repair: pending migration', false, '55000', $c$SELECT fleetmigrate.repair('002', 'second', 'why')$c$),
(253, 'repair: 100000-byte version', false, '42704', $c$SELECT fleetmigrate.repair(repeat('1', 100000), 'first', 'why')$c$),
(254, 'repair: too few arguments', false, '42883', $c$SELECT fleetmigrate.repair('001')$c$),
(255, 'apply_pending: unknown target', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(target => '404')$c$),
(256, 'apply_pending: empty target', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(target => '')$c$),
(257, 'apply_pending: blank target', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(target => ' ')$c$),
(258, 'apply_pending: target -1', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(target => '-1')$c$),
(259, 'apply_pending: 100000-byte target', false, '54000', $c$SELECT * FROM fleetmigrate.apply_pending(target => repeat('9', 100000))$c$),
(260, 'apply_pending: target with NUL-like control', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(target => E'0\x01')$c$),
(261, 'apply_pending: NULL dry_run', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => NULL)$c$),
(262, 'apply_pending: NULL params', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(params => NULL)$c$),
(263, 'apply_pending: NULL allow_destructive', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(allow_destructive => NULL)$c$),
(264, 'apply_pending: NULL wait', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(wait => NULL)$c$),
(265, 'apply_pending: params array', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '[1]')$c$),
(266, 'apply_pending: params string', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '"x"')$c$),
(267, 'apply_pending: params number', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '1')$c$),
(268, 'apply_pending: params JSON null', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => 'null')$c$),
(269, 'apply_pending: params value null', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": null}')$c$),
(270, 'apply_pending: params value array', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": [1]}')$c$),
(271, 'apply_pending: params value object', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": {}}')$c$),
(272, 'apply_pending: params undeclared', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a", "typo": 1}')$c$),
(273, 'apply_pending: params missing a value', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{}')$c$),
(274, 'apply_pending: params 100000-byte key', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(params => jsonb_build_object(repeat('k', 100000), 1))$c$),
(275, 'apply_pending: dry run, params missing', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => true)$c$),
(276, 'apply_pending: dry run, params array', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => true, params => '[]')$c$),
(277, 'apply_pending: dry run, unknown target', false, '42704', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => true, target => '404')$c$),
(278, 'apply_pending: dry run, NULL params', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => true, params => NULL)$c$),
-- consent scoped to data (issue 19): allow_data_loss
(961, 'apply_pending: allow_data_loss NULL entry', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY[NULL]::text[])$c$),
(962, 'apply_pending: allow_data_loss empty entry', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY[''])$c$),
(963, 'apply_pending: allow_data_loss blank entry', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY[E' \t'])$c$),
(964, 'apply_pending: allow_data_loss 2-D with NULL', false, '22004', $c$SELECT * FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY[['002', NULL]])$c$),
(965, 'apply_pending: allow_data_loss unknown version', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a"}', allow_data_loss => ARRAY['404'])$c$),
(966, 'apply_pending: allow_data_loss misspelt name', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a"}', allow_data_loss => ARRAY['002 secnod'])$c$),
(967, 'apply_pending: allow_data_loss applied one', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a"}', allow_data_loss => ARRAY['001'])$c$),
(968, 'apply_pending: allow_data_loss other padding', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a"}', allow_data_loss => ARRAY['2'])$c$),
(969, 'apply_pending: dry run, allow_data_loss unknown', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => true, params => '{"who": "a"}', allow_data_loss => ARRAY['404'])$c$),
(970, 'apply_pending: allow_data_loss 100000-byte', false, '22023', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{"who": "a"}', allow_data_loss => ARRAY[repeat('9', 100000)])$c$),
(279, 'apply_pending: params not JSON', false, '22P02', $c$SELECT * FROM fleetmigrate.apply_pending(params => '{')$c$),
(280, 'apply_pending: wrong type for dry_run', false, '22P02', $c$SELECT * FROM fleetmigrate.apply_pending(dry_run => 'maybe')$c$),
(281, 'apply_pending: nested in a migration', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', 'SELECT * FROM fleetmigrate.apply_pending()'); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(282, 'apply_pending: nested in a dry run', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', 'SELECT * FROM fleetmigrate.apply_pending()'); PERFORM * FROM fleetmigrate.apply_pending(dry_run => false, params => '{"who": "x"}'); END $d$$c$),
(283, 'apply_pending: rollback nested in a migration', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', 'SELECT * FROM fleetmigrate.rollback()'); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(284, 'apply_pending: baseline nested in a migration', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', $$SELECT * FROM fleetmigrate.baseline('001')$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(980, 'apply_pending: unregister nested in a migration', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', $$SELECT fleetmigrate.unregister('003', 'nested')$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(981, 'apply_pending: repair nested in a migration', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'nested', $$SELECT fleetmigrate.repair('001', 'first', reason => 'x')$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(982, 'import_history: query calling a function that writes', false, '25006', $c$SELECT * FROM fleetmigrate.import_history('query', query => $q$SELECT pg_catalog.nextval('fleetmigrate.events_id_seq')::text AS version$q$)$c$),
(285, 'apply_pending: migration fails', false, '22012', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'fails', 'SELECT 1/0'); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(286, 'migrate: unknown target', true, NULL, $c$CALL fleetmigrate.migrate(target => '404')$c$),
(287, 'migrate: target -1', true, NULL, $c$CALL fleetmigrate.migrate(target => '-1')$c$),
(288, 'migrate: NULL params', true, NULL, $c$CALL fleetmigrate.migrate(params => NULL)$c$),
(289, 'migrate: params array', true, NULL, $c$CALL fleetmigrate.migrate(params => '[1]')$c$),
(290, 'migrate: params value object', true, NULL, $c$CALL fleetmigrate.migrate(params => '{"who": {}}')$c$),
(291, 'migrate: NULL allow_destructive', true, NULL, $c$CALL fleetmigrate.migrate(allow_destructive => NULL)$c$),
(292, 'migrate: NULL wait', true, NULL, $c$CALL fleetmigrate.migrate(wait => NULL)$c$),
(293, 'migrate: NULL started_by', true, NULL, $c$CALL fleetmigrate.migrate(started_by => NULL)$c$),
(294, 'migrate: unknown started_by', true, NULL, $c$CALL fleetmigrate.migrate(started_by => 'cron')$c$),
(295, 'migrate: empty started_by', true, NULL, $c$CALL fleetmigrate.migrate(started_by => '')$c$),
(971, 'migrate: allow_data_loss NULL entry', true, NULL, $c$CALL fleetmigrate.migrate(allow_data_loss => ARRAY[NULL]::text[])$c$),
(972, 'migrate: allow_data_loss unknown version', true, NULL, $c$CALL fleetmigrate.migrate(params => '{"who": "a"}', allow_data_loss => ARRAY['404'])$c$),
(296, 'migrate: params missing', true, NULL, $c$CALL fleetmigrate.migrate(params => '{}')$c$),
(297, 'migrate: undeclared param', true, NULL, $c$CALL fleetmigrate.migrate(params => '{"who": "a", "typo": 1}')$c$),
(298, 'migrate: inside a DO block with an exception handler', false, '25001', $c$CALL fleetmigrate.migrate()$c$),
(299, 'rollback: NULL steps', false, '22004', $c$SELECT * FROM fleetmigrate.rollback(steps => NULL)$c$),
(300, 'rollback: zero steps', false, '22023', $c$SELECT * FROM fleetmigrate.rollback(steps => 0)$c$),
(301, 'rollback: negative steps', false, '22023', $c$SELECT * FROM fleetmigrate.rollback(steps => -1)$c$),
(302, 'rollback: minimum integer steps', false, '22023', $c$SELECT * FROM fleetmigrate.rollback(steps => -2147483648)$c$),
(303, 'rollback: NULL force', false, '22004', $c$SELECT * FROM fleetmigrate.rollback(force => NULL)$c$),
(304, 'rollback: unknown target', false, '42704', $c$SELECT * FROM fleetmigrate.rollback(target => '404')$c$),
(305, 'rollback: empty target', false, '42704', $c$SELECT * FROM fleetmigrate.rollback(target => '')$c$),
(306, 'rollback: target -1', false, '42704', $c$SELECT * FROM fleetmigrate.rollback(target => '-1')$c$),
(307, 'rollback: 100000-byte target', false, '54000', $c$SELECT * FROM fleetmigrate.rollback(target => repeat('1', 100000))$c$),
(308, 'rollback: target and steps', false, '22023', $c$SELECT * FROM fleetmigrate.rollback(target => '001', steps => 0)$c$),
(309, 'rollback: steps overflow', false, '42883', $c$SELECT * FROM fleetmigrate.rollback(steps => 2147483648)$c$),
(310, 'rollback: wrong type for steps', false, '22P02', $c$SELECT * FROM fleetmigrate.rollback(steps => 'two')$c$),
(311, 'verify: unknown version', false, '42704', $c$SELECT * FROM fleetmigrate.verify('404')$c$),
(312, 'verify: empty version', false, '42704', $c$SELECT * FROM fleetmigrate.verify('')$c$),
(313, 'verify: version -1', false, '42704', $c$SELECT * FROM fleetmigrate.verify('-1')$c$),
(314, 'verify: 100000-byte version', false, '54000', $c$SELECT * FROM fleetmigrate.verify(repeat('1', 100000))$c$),
(315, 'verify: wrong type', false, '42883', $c$SELECT * FROM fleetmigrate.verify(42)$c$),
(316, 'verify: two arguments', false, '42883', $c$SELECT * FROM fleetmigrate.verify('001', '002')$c$),
(317, 'rehearse_rollback: NULL params', false, '22004', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => NULL)$c$),
(318, 'rehearse_rollback: params array', false, '22023', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => '[]')$c$),
(319, 'rehearse_rollback: params missing', false, '42704', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => '{}')$c$),
(320, 'rehearse_rollback: unknown target', false, '42704', $c$SELECT * FROM fleetmigrate.rehearse_rollback(target => '404', params => '{"who": "x"}')$c$),
(321, 'rehearse_rollback: empty target', false, '42704', $c$SELECT * FROM fleetmigrate.rehearse_rollback(target => '', params => '{"who": "x"}')$c$),
(322, 'rehearse_rollback: target -1', false, '42704', $c$SELECT * FROM fleetmigrate.rehearse_rollback(target => '-1', params => '{"who": "x"}')$c$),
(323, 'rehearse_rollback: params value null', false, '22023', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => '{"who": null}')$c$),
(324, 'rehearse_rollback: undeclared param', false, '42704', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => '{"who": "x", "typo": 1}')$c$),
(325, 'rehearse_rollback: params not JSON', false, '22P02', $c$SELECT * FROM fleetmigrate.rehearse_rollback(params => 'nope')$c$),
(326, 'rehearse_rollback: migration without down script', false, '55000', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'no_down', 'SELECT 1'); PERFORM * FROM fleetmigrate.rehearse_rollback(params => '{"who": "x"}'); END $d$$c$),
(327, 'param: outside a migration', false, '55000', $c$SELECT fleetmigrate.param('who')$c$),
(328, 'param: NULL outside a migration', false, '22004', $c$SELECT fleetmigrate.param(NULL)$c$),
(329, 'param: empty name', false, '55000', $c$SELECT fleetmigrate.param('')$c$),
(330, 'param: undeclared inside a migration', false, '42704', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'reads', $$SELECT fleetmigrate.param('nope')$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(331, 'param: NULL inside a migration', false, '22004', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'reads', $$SELECT fleetmigrate.param(NULL)$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(332, 'param: 100000-byte name inside a migration', false, '42704', $c$DO $d$ BEGIN PERFORM fleetmigrate.register('003', 'reads', $$SELECT fleetmigrate.param(repeat('a', 100000))$$); PERFORM * FROM fleetmigrate.apply_pending(params => '{"who": "x"}'); END $d$$c$),
(333, 'param: wrong type', false, '42883', $c$SELECT fleetmigrate.param(42)$c$),
(334, 'baseline: NULL version', false, '22004', $c$SELECT * FROM fleetmigrate.baseline(NULL)$c$),
(335, 'baseline: empty version', false, '42704', $c$SELECT * FROM fleetmigrate.baseline('')$c$),
(336, 'baseline: unknown version', false, '42704', $c$SELECT * FROM fleetmigrate.baseline('404')$c$),
(337, 'baseline: version -1', false, '42704', $c$SELECT * FROM fleetmigrate.baseline('-1')$c$),
(338, 'baseline: already applied', false, '55000', $c$SELECT * FROM fleetmigrate.baseline('001')$c$),
(339, 'baseline: 100000-byte version', false, '54000', $c$SELECT * FROM fleetmigrate.baseline(repeat('1', 100000))$c$),
(340, 'baseline: blank version', false, '42704', $c$SELECT * FROM fleetmigrate.baseline(' ')$c$),
(341, 'lint: syntax error', false, '42601', $c$SELECT * FROM fleetmigrate.lint('SELEC 1')$c$),
(342, 'lint: unterminated quote', false, '42601', $c$SELECT * FROM fleetmigrate.lint('SELECT ''')$c$),
(343, 'lint: unterminated comment', false, '42601', $c$SELECT * FROM fleetmigrate.lint('/* x')$c$),
(344, 'lint: unterminated dollar quote', false, '42601', $c$SELECT * FROM fleetmigrate.lint('SELECT $x$ 1')$c$),
(345, 'lint: garbage', false, '42601', $c$SELECT * FROM fleetmigrate.lint(')))')$c$),
(346, 'lint: invalid escape', false, '42601', $c$SELECT * FROM fleetmigrate.lint(E'SELECT U&''\\zzzz''')$c$),
(347, 'lint: wrong type', false, '42883', $c$SELECT * FROM fleetmigrate.lint(42)$c$),
(348, 'lint: two arguments', false, '42883', $c$SELECT * FROM fleetmigrate.lint('SELECT 1', 'x')$c$),
(349, 'lint: NUL via chr(0)', false, '54000', $c$SELECT * FROM fleetmigrate.lint('SELECT 1' || chr(0))$c$),
(350, 'lint: 100000 nested parentheses', false, '42601', $c$SELECT * FROM fleetmigrate.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000))$c$),
(351, 'schedule: NULL', false, '22004', $c$SELECT fleetmigrate.schedule(NULL)$c$),
(352, 'schedule: empty', false, '55000', $c$SELECT fleetmigrate.schedule('')$c$),
(353, 'schedule: not cron', false, '55000', $c$SELECT fleetmigrate.schedule('every hour')$c$),
(354, 'schedule: 100000 bytes', false, '55000', $c$SELECT fleetmigrate.schedule(repeat('*', 100000))$c$),
(355, 'schedule: default without pg_cron', false, '55000', $c$SELECT fleetmigrate.schedule()$c$),
(356, 'unschedule: without pg_cron', false, '55000', $c$SELECT fleetmigrate.unschedule()$c$),
(357, 'unschedule: an argument', false, '42883', $c$SELECT fleetmigrate.unschedule('x')$c$),
(358, 'upgrade_user_tier: NULL user', false, '22004', $c$SELECT fleetmigrate.upgrade_user_tier(NULL, 'AUTHENTICATED')$c$),
(359, 'upgrade_user_tier: NULL tier', false, '22004', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', NULL)$c$),
(360, 'upgrade_user_tier: unknown tier', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'GOLD')$c$),
(361, 'upgrade_user_tier: empty tier', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', '')$c$),
(362, 'upgrade_user_tier: lower-case tier', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'authenticated')$c$),
(363, 'upgrade_user_tier: unknown user', false, 'P0002', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-0000000000ff', 'AUTHENTICATED')$c$),
(364, 'upgrade_user_tier: downgrade', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'MAGIC_LINK')$c$),
(365, 'upgrade_user_tier: not a uuid', false, '22P02', $c$SELECT fleetmigrate.upgrade_user_tier('nope', 'AUTHENTICATED')$c$),
(366, 'upgrade_user_tier: 100000-byte tier', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', repeat('T', 100000))$c$),
(367, 'upgrade_user_tier: tier with zero-width space', false, '22023', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', E'AUTHENTICATED\u200b')$c$),
(368, 'user_has_capability: not a uuid', false, '22P02', $c$SELECT fleetmigrate.user_has_capability('x', 'view_requests')$c$),
(369, 'user_can_view_requests: not a uuid', false, '22P02', $c$SELECT fleetmigrate.user_can_view_requests('x')$c$),
(370, 'user_can_create_requests: wrong type', false, '42883', $c$SELECT fleetmigrate.user_can_create_requests(42)$c$),
(371, 'configure_user_table: NULL table', false, '22004', $c$SELECT fleetmigrate.configure_user_table(NULL)$c$),
(372, 'configure_user_table: NULL id column', false, '22004', $c$SELECT fleetmigrate.configure_user_table('bi_users', NULL)$c$),
(373, 'configure_user_table: NULL tier column', false, '22004', $c$SELECT fleetmigrate.configure_user_table('bi_users', 'id', NULL)$c$),
(374, 'configure_user_table: no such table', false, '42P01', $c$SELECT fleetmigrate.configure_user_table('bi_nope')$c$),
(375, 'configure_user_table: a view', false, '42809', $c$SELECT fleetmigrate.configure_user_table('bi_users_view')$c$),
(376, 'configure_user_table: a sequence', false, '42809', $c$SELECT fleetmigrate.configure_user_table('bi_seq')$c$),
(377, 'configure_user_table: empty table name', false, '42602', $c$SELECT fleetmigrate.configure_user_table('')$c$),
(378, 'configure_user_table: no such column', false, '42703', $c$SELECT fleetmigrate.configure_user_table('bi_users', tier_column => 'nope')$c$),
(379, 'configure_user_table: id column not uuid', false, '42804', $c$SELECT fleetmigrate.configure_user_table('bi_users', id_column => 'email')$c$),
(380, 'configure_user_table: tier column not text', false, '42804', $c$SELECT fleetmigrate.configure_user_table('bi_users', tier_column => 'upgraded_at', upgraded_at_column => NULL)$c$),
(381, 'configure_user_table: timestamp column not a timestamp', false, '42804', $c$SELECT fleetmigrate.configure_user_table('bi_users', upgraded_at_column => 'email')$c$),
(382, 'configure_user_table: system column', false, '22023', $c$SELECT fleetmigrate.configure_user_table('bi_users', upgraded_at_column => 'ctid')$c$),
(383, 'configure_user_table: empty column name', false, '42703', $c$SELECT fleetmigrate.configure_user_table('bi_users', id_column => '')$c$),
(384, 'configure_user_table: 100000-byte column name', false, '42703', $c$SELECT fleetmigrate.configure_user_table('bi_users', tier_column => repeat('c', 100000))$c$),
(385, 'configure_user_table: catalog table', false, '22023', $c$SELECT fleetmigrate.configure_user_table('pg_class')$c$),
(386, 'configure_user_table: extension catalog', false, '22023', $c$SELECT fleetmigrate.configure_user_table('fleetmigrate.migrations')$c$),
(387, 'assign_tier: NULL tier', false, '22004', $c$CALL fleetmigrate.assign_tier(NULL, 'true')$c$),
(388, 'assign_tier: NULL condition', false, '22004', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', NULL)$c$),
(389, 'assign_tier: empty condition', false, '22004', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', '')$c$),
(390, 'assign_tier: blank condition', false, '42601', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', '   ')$c$),
(391, 'assign_tier: unknown tier', false, '22023', $c$CALL fleetmigrate.assign_tier('GOLD', 'true')$c$),
(392, 'assign_tier: zero batch', false, '22023', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true', batch_size => 0)$c$),
(393, 'assign_tier: negative batch', false, '22023', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true', batch_size => -5)$c$),
(394, 'assign_tier: condition syntax error', false, '42601', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'id =')$c$),
(395, 'assign_tier: two statements', false, '42601', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true; DROP TABLE bi_users')$c$),
(396, 'assign_tier: condition not boolean', false, '42804', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', '42')$c$),
(397, 'assign_tier: condition unknown column', false, '42703', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'nope = 1')$c$),
(398, 'assign_tier: condition subquery in FROM injection', false, '42601', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true) OR (true')$c$),
(399, 'assign_tier: condition 100000 bytes', false, '42601', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', repeat('(', 100000))$c$),
(400, 'tier_users: an argument', false, '42883', $c$SELECT * FROM fleetmigrate.tier_users('x')$c$),
(401, 'builtin_tiers: an argument', false, '42883', $c$SELECT * FROM fleetmigrate.builtin_tiers(1)$c$),
(402, 'register: applied versioned made repeatable', false, '55000', $c$SELECT fleetmigrate.register('001', 'first', 'CREATE TABLE bi_one (id int)', 'DROP TABLE bi_one', 'SELECT 1 FROM bi_one LIMIT 0', repeatable => true)$c$),
(403, 'rollback: wrong confirm in development', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'development', true) AS env) s, LATERAL fleetmigrate.rollback(confirm => CASE WHEN s.env IS NOT NULL THEN 'prod' END)$c$),
(404, 'upgrade_user_tier: NULL allow_downgrade', false, '22004', $c$SELECT fleetmigrate.upgrade_user_tier('00000000-0000-0000-0000-000000000001', 'AUTHENTICATED', NULL, NULL)$c$),
(405, 'assign_tier: NULL batch_size', false, '22004', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true', batch_size => NULL)$c$),
(406, 'assign_tier: NULL allow_downgrade', false, '22004', $c$CALL fleetmigrate.assign_tier('AUTHENTICATED', 'true', allow_downgrade => NULL)$c$),
-- settings and rollback confirmation (issue 19, item 4): a confirmation names the database and its server's system identifier (925-940: this area's own range)
(925, 'rollback: forced in production, no confirm', false, '55000', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN NULL END)$c$),
(926, 'rollback: confirm by database name alone', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN current_database() END)$c$),
(927, 'rollback: database name alone in development', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'development', true) AS env) s, LATERAL fleetmigrate.rollback(confirm => CASE WHEN s.env IS NOT NULL THEN current_database() END)$c$),
(928, 'rollback: another server''s confirmation', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN current_database() || '@1' END)$c$),
(929, 'rollback: database name with a leading space', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN ' ' || current_database() END)$c$),
(930, 'rollback: empty confirm', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN '' END)$c$),
(931, 'rollback: confirm 100000 bytes', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN repeat('x', 100000) END)$c$),
(932, 'rollback: database name in upper case', false, '22023', $c$SELECT * FROM (SELECT set_config('fleetmigrate.environment', 'production', true) AS env) s, LATERAL fleetmigrate.rollback(force => true, confirm => CASE WHEN s.env IS NOT NULL THEN upper(current_database()) END)$c$),
-- adopting a database (issue 19): baseline of a list, unbaseline, import_history (901-924: this area's own range, so that merging the other areas adds rows without renumbering)
(901, 'baseline list: empty', false, '22023', $c$SELECT * FROM fleetmigrate.baseline(ARRAY[]::text[])$c$),
(902, 'baseline list: NULL', false, '22004', $c$SELECT * FROM fleetmigrate.baseline(NULL::text[])$c$),
(903, 'baseline list: NULL entry', false, '22004', $c$SELECT * FROM fleetmigrate.baseline(ARRAY[NULL]::text[])$c$),
(904, 'baseline list: unknown', false, '42704', $c$SELECT * FROM fleetmigrate.baseline(ARRAY['404'])$c$),
(905, 'baseline list: already applied', false, '55000', $c$SELECT * FROM fleetmigrate.baseline(ARRAY['001'])$c$),
(906, 'baseline list: duplicate', false, '22023', $c$SELECT * FROM fleetmigrate.baseline(ARRAY['002', '002 second'])$c$),
(907, 'baseline list: two dimensions', false, '2202E', $c$SELECT * FROM fleetmigrate.baseline(ARRAY[['002']])$c$),
(908, 'baseline list: objects missing', false, '42704', $c$SELECT * FROM fleetmigrate.baseline(ARRAY['002'])$c$),
(909, 'baseline list: 100000-byte entry', false, '42704', $c$SELECT * FROM fleetmigrate.baseline(ARRAY[repeat('1', 100000)])$c$),
(910, 'unbaseline: applied, not baselined', false, '55000', $c$SELECT fleetmigrate.unbaseline('001', 'first', 'why')$c$),
(911, 'unbaseline: pending', false, '55000', $c$SELECT fleetmigrate.unbaseline('002', 'second', 'why')$c$),
(912, 'unbaseline: unknown', false, '42704', $c$SELECT fleetmigrate.unbaseline('404', 'nope', 'why')$c$),
(913, 'unbaseline: NULL reason', false, '22023', $c$SELECT fleetmigrate.unbaseline('001', 'first', NULL)$c$),
(914, 'unbaseline: NULL name', false, '22004', $c$SELECT fleetmigrate.unbaseline('001', NULL, 'why')$c$),
(915, 'import_history: unknown tool', false, '22023', $c$SELECT * FROM fleetmigrate.import_history('liquibase')$c$),
(916, 'import_history: NULL tool', false, '22004', $c$SELECT * FROM fleetmigrate.import_history(NULL)$c$),
(917, 'import_history: no such table', false, '42P01', $c$SELECT * FROM fleetmigrate.import_history('flyway')$c$),
(918, 'import_history: query without query', false, '22004', $c$SELECT * FROM fleetmigrate.import_history('query')$c$),
(919, 'import_history: query that writes', false, '22023', $c$SELECT * FROM fleetmigrate.import_history('query', query => 'DELETE FROM users RETURNING id AS version')$c$),
(920, 'import_history: query without columns', false, '42703', $c$SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT 1 AS x')$c$),
(921, 'import_history: query not SQL', false, '42601', $c$SELECT * FROM fleetmigrate.import_history('query', query => 'hello')$c$),
(922, 'import_history: query for another tool', false, '22023', $c$SELECT * FROM fleetmigrate.import_history('sqitch', query => 'SELECT 1 AS name')$c$),
(923, 'import_history: NULL strict', false, '22004', $c$SELECT * FROM fleetmigrate.import_history('sqitch', strict => NULL)$c$),
(924, 'import_history: strict with an unknown entry', false, '55000', $c$SELECT * FROM fleetmigrate.import_history('query', query => 'SELECT ''404'' AS version', strict => true)$c$),
-- history that tells the truth (issue 19): unregister() and the bundle's
-- "-- ran" and "-- end" lines
(941, 'unregister: NULL version', false, '22004', $c$SELECT fleetmigrate.unregister(NULL, 'second')$c$),
(942, 'unregister: NULL name', false, '22004', $c$SELECT fleetmigrate.unregister('002', NULL)$c$),
(943, 'unregister: not registered', false, '42704', $c$SELECT fleetmigrate.unregister('002', 'third')$c$),
(944, 'unregister: empty version and name', false, '42704', $c$SELECT fleetmigrate.unregister('', '')$c$),
(945, 'unregister: applied', false, '55000', $c$SELECT fleetmigrate.unregister('001', 'first')$c$),
(946, 'unregister: zero-padded other spelling', false, '42704', $c$SELECT fleetmigrate.unregister('2', 'second')$c$),
(947, 'register_bundle: text after -- end', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- end\nSELECT 2;')$c$),
(948, 'register_bundle: second -- ran', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- ran\nSELECT 1;\n-- ran\nSELECT 2;')$c$),
(949, 'register_bundle: -- Ran', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- Ran\nSELECT 2;')$c$),
(950, 'register_bundle: --end', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n--end')$c$),
(951, 'register_bundle: -- ran: with a colon', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- ran:\nSELECT 2;')$c$),
(952, 'register_bundle: -- Down inside a ran section', false, '22023', $c$SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 090 x\nSELECT 1;\n-- ran\n-- Down')$c$),
-- dry runs that are safe where they are used (issue 20, item 3): plan() (1020-1039: this area's own range)
(1020, 'plan: NULL params', false, '22004', $c$SELECT * FROM fleetmigrate.plan(params => NULL)$c$),
(1021, 'plan: params not an object', false, '22023', $c$SELECT * FROM fleetmigrate.plan(params => '[1]')$c$),
(1022, 'plan: params value an object', false, '22023', $c$SELECT * FROM fleetmigrate.plan(params => '{"who": {"a": 1}}')$c$),
(1023, 'plan: parameter no migration declares', false, '42704', $c$SELECT * FROM fleetmigrate.plan(params => '{"nobody": "x"}')$c$),
(1024, 'plan: unknown target', false, '42704', $c$SELECT * FROM fleetmigrate.plan(target => '404')$c$),
(1025, 'plan: 100000-byte target', false, '54000', $c$SELECT * FROM fleetmigrate.plan(target => repeat('9', 100000))$c$),
(1026, 'plan: empty target', false, '42704', $c$SELECT * FROM fleetmigrate.plan(target => '')$c$);
SELECT count(*) AS cases FROM bad_input;

-- the sweep
CREATE TEMP TABLE bad_result (id integer PRIMARY KEY, sqlstate text, message text);
DO $sweep$
DECLARE
    c record;
    st text;
    msg text;
BEGIN
    FOR c IN SELECT * FROM bad_input WHERE NOT toplevel ORDER BY id LOOP
        BEGIN
            EXECUTE c.sql;
            -- accepted: undo it all the same, so that later cases see the same catalog
            RAISE EXCEPTION 'accepted' USING ERRCODE = 'FMOK0';
        EXCEPTION WHEN OTHERS THEN
            st := SQLSTATE;
            msg := SQLERRM;
        END;
        IF st = 'FMOK0' THEN
            st := 'none';
            msg := NULL;
        END IF;
        INSERT INTO bad_result VALUES (c.id, st, msg);
    END LOOP;
END
$sweep$;

SELECT i.id, i.label, r.sqlstate,
       CASE WHEN r.sqlstate = 'none' THEN 'ACCEPTED'
            WHEN r.sqlstate = 'XX000' THEN 'INTERNAL ERROR'
            WHEN r.sqlstate IS DISTINCT FROM i.expect THEN 'EXPECTED ' || coalesce(i.expect, '?')
            ELSE '' END AS flag,
       left(pg_temp.visible(replace(r.message, current_database(), '<db>')), 110) AS message
  FROM bad_input i JOIN bad_result r USING (id)
 ORDER BY i.id;

-- migrate() cases, at top level: each must fail with an error
SELECT unnest(ARRAY[format('SELECT %s AS id, %L AS label', id, label), sql])
  FROM bad_input WHERE toplevel ORDER BY id \gexec
-- the failed runs they recorded: nothing was applied
SELECT target, started_by, applied, outcome, sqlstate FROM fleetmigrate.runs
 WHERE id > (SELECT n FROM bi_runs_before) ORDER BY id;

-- summary: every case refused, none accepted, none internal
SELECT count(*) FILTER (WHERE r.sqlstate <> 'none') AS refused,
       count(*) FILTER (WHERE r.sqlstate = 'none') AS accepted,
       count(*) FILTER (WHERE r.sqlstate = 'XX000') AS internal,
       count(*) FILTER (WHERE r.sqlstate IS DISTINCT FROM i.expect) AS unexpected
  FROM bad_input i JOIN bad_result r USING (id);
-- and nothing changed
SELECT pg_temp.bi_state() = state AS unchanged FROM bi_before;
SELECT version, name, state FROM fleetmigrate.status;

DROP TABLE users, bi_users CASCADE;
DROP SEQUENCE bi_seq;
DROP TABLE bi_one;
DROP EXTENSION fleetmigrate_tiers, fleetmigrate;
