/**
 * Dumps the parts of a real PostgreSQL 15 system catalog that allot's src/sql/system/ serves as
 * data, and the fixtures its tests compare against.
 *
 *   # a throwaway server (as a non-root user), e.g.
 *   runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D /tmp/pg15/data -U postgres --locale=C.UTF-8 -E UTF8
 *   runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg15/data -l /tmp/pg15/log \
 *     -o "-p 55615 -k /tmp/pg15 -c listen_addresses=127.0.0.1" start
 *   PGHOST=127.0.0.1 PGPORT=55615 PGUSER=postgres npx tsx scripts/dump-pg-catalog.ts
 *
 * It (re)creates the databases `allot` and `allot_ms` from test/sql/system/fixtures/allot-schema.sql
 * (with psql, instants and durations as timestamptz/interval, then as bigint), then writes
 *   src/sql/system/data/*.ts       the built-in rows (pg_type, pg_proc, keywords, …), committed data
 *   test/sql/system/fixtures/pg15-*.json  what PostgreSQL shows for allot-shaped tables
 * Built-in rows are those with oids below 16384 (FirstNormalObjectId). Do not edit the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DEFAULT_SETTINGS } from '../src/sql/settings.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'src/sql/system/data');
const FIXTURES = join(ROOT, 'test/sql/system/fixtures');
const SCHEMA = join(FIXTURES, 'allot-schema.sql');

/** The relations src/sql/system/tables.ts implements, by schema. */
const RELATIONS: Record<'pg_catalog' | 'information_schema', readonly string[]> = {
  pg_catalog: [
    'pg_am',
    'pg_attrdef',
    'pg_attribute',
    'pg_auth_members',
    'pg_authid',
    'pg_class',
    'pg_collation',
    'pg_constraint',
    'pg_database',
    'pg_depend',
    'pg_description',
    'pg_enum',
    'pg_event_trigger',
    'pg_extension',
    'pg_foreign_table',
    'pg_index',
    'pg_indexes',
    'pg_inherits',
    'pg_language',
    'pg_locks',
    'pg_matviews',
    'pg_namespace',
    'pg_opclass',
    'pg_partitioned_table',
    'pg_policy',
    'pg_proc',
    'pg_publication',
    'pg_publication_namespace',
    'pg_publication_rel',
    'pg_range',
    'pg_rewrite',
    'pg_roles',
    'pg_sequence',
    'pg_sequences',
    'pg_settings',
    'pg_shdepend',
    'pg_shdescription',
    'pg_stat_activity',
    'pg_statistic_ext',
    'pg_tables',
    'pg_tablespace',
    'pg_trigger',
    'pg_type',
    'pg_user',
    'pg_views',
  ],
  information_schema: [
    'character_sets',
    'check_constraints',
    'columns',
    'constraint_column_usage',
    'element_types',
    'key_column_usage',
    'parameters',
    'referential_constraints',
    'routines',
    'schemata',
    'sequences',
    'table_constraints',
    'tables',
    'triggers',
    'views',
  ],
};

/**
 * Functions whose pg_proc rows are served (all overloads): src/sql/system/functions.ts's, and the
 * evaluator's own (src/sql/… : generate_series, unnest, now, …), besides every function a served
 * row names (type input/output, range and access-method support).
 */
const PROCS = [
  // src/sql/system/functions.ts
  '_pg_expandarray',
  'array_length',
  'array_lower',
  'array_ndims',
  'array_to_string',
  'array_upper',
  'cardinality',
  'col_description',
  'current_schema',
  'current_schemas',
  'format_type',
  'generate_subscripts',
  'has_any_column_privilege',
  'has_column_privilege',
  'has_database_privilege',
  'has_function_privilege',
  'has_schema_privilege',
  'has_sequence_privilege',
  'has_table_privilege',
  'has_tablespace_privilege',
  'has_type_privilege',
  'inet_client_addr',
  'inet_client_port',
  'inet_server_addr',
  'inet_server_port',
  'obj_description',
  'pg_backend_pid',
  'pg_char_to_encoding',
  'pg_collation_is_visible',
  'pg_current_xact_id',
  'pg_database_size',
  'pg_encoding_to_char',
  'pg_function_is_visible',
  'pg_get_constraintdef',
  'pg_get_expr',
  'pg_get_function_arguments',
  'pg_get_function_identity_arguments',
  'pg_get_function_result',
  'pg_get_indexdef',
  'pg_get_keywords',
  'pg_get_partkeydef',
  'pg_get_ruledef',
  'pg_get_serial_sequence',
  'pg_get_statisticsobjdef_columns',
  'pg_get_triggerdef',
  'pg_get_userbyid',
  'pg_get_viewdef',
  'pg_has_role',
  'pg_indexes_size',
  'pg_is_in_recovery',
  'pg_is_other_temp_schema',
  'pg_my_temp_schema',
  'pg_postmaster_start_time',
  'pg_relation_size',
  'pg_size_pretty',
  'pg_table_is_visible',
  'pg_table_size',
  'pg_tablespace_location',
  'pg_total_relation_size',
  'pg_type_is_visible',
  'quote_ident',
  'quote_literal',
  'quote_nullable',
  'shobj_description',
  'to_regclass',
  'to_regnamespace',
  'to_regproc',
  'to_regrole',
  'to_regtype',
  'txid_current',
  // the evaluator's
  'current_database',
  'current_setting',
  'current_user',
  'generate_series',
  'now',
  'set_config',
  'unnest',
  'version',
];

type Row = readonly (string | null)[];

async function main(): Promise<void> {
  for (const [db, ms] of [
    ['allot', '0'],
    ['allot_ms', '1'],
  ] as const) {
    psql('postgres', ['-c', `DROP DATABASE IF EXISTS ${db}`, '-c', `CREATE DATABASE ${db}`]);
    psql(db, ['-v', `ms=${ms}`, '-f', SCHEMA]);
  }
  const client = new pg.Client({ database: 'allot', types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  mkdirSync(DATA, { recursive: true });
  await dumpTypes(client);
  await dumpProcs(client);
  await dumpRelations(client);
  await dumpMisc(client);
  await client.end();
  for (const db of ['allot', 'allot_ms']) {
    const c = new pg.Client({ database: db, types: { getTypeParser: () => (v: string) => v } });
    await c.connect();
    await dumpFixtures(c, db);
    await c.end();
  }
}

function psql(db: string, args: string[]): void {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function rows(c: pg.Client, sql: string): Promise<{ names: string[]; types: string[]; rows: Row[] }> {
  const r = await c.query({ text: sql, rowMode: 'array' });
  const typeNames = new Map<number, string>();
  for (const f of r.fields) {
    if (!typeNames.has(f.dataTypeID)) {
      const t = await c.query({ text: 'SELECT typname FROM pg_type WHERE oid = $1', values: [f.dataTypeID], rowMode: 'array' });
      typeNames.set(f.dataTypeID, String((t.rows[0] as string[])[0]));
    }
  }
  return { names: r.fields.map((f) => f.name), types: r.fields.map((f) => typeNames.get(f.dataTypeID) ?? 'text'), rows: r.rows as Row[] };
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'oid', 'xid', 'regproc', 'float4', 'float8', 'regclass', 'regtype', 'regnamespace', 'regrole']);

/** A text value as allot's Value: numbers for numeric types, booleans, arrays of element text. */
function jsValue(text: string | null, type: string): unknown {
  if (text === null) return null;
  if (NUMERIC.has(type)) return Number(text);
  if (type === 'bool') return text === 't';
  if (type === 'int2vector' || type === 'oidvector') return text === '' ? [] : text.split(' ');
  if (type.startsWith('_')) return parseArray(text);
  return text;
}

/** A one-dimensional array literal's elements (the catalog has no nested arrays). */
function parseArray(text: string): (string | null)[] {
  const inner = text.slice(1, -1);
  const out: (string | null)[] = [];
  let i = 0;
  while (i < inner.length) {
    let v = '';
    let quoted = false;
    if (inner[i] === '"') {
      quoted = true;
      i++;
      while (inner[i] !== '"') {
        if (inner[i] === '\\') i++;
        v += inner[i];
        i++;
      }
      i++;
    } else {
      while (i < inner.length && inner[i] !== ',') v += inner[i++];
    }
    out.push(!quoted && v === 'NULL' ? null : v);
    i++; // the comma
  }
  return out;
}

function tuples(r: { types: string[]; rows: Row[] }): unknown[][] {
  return r.rows.map((row) => row.map((v, i) => jsValue(v, r.types[i] ?? 'text')));
}

function literal(v: unknown): string {
  return JSON.stringify(v);
}

function writeData(file: string, header: string, body: string): void {
  const text = `/**\n * ${header}\n * Generated by scripts/dump-pg-catalog.ts from PostgreSQL 15; do not edit.\n */\n${body}`;
  writeFileSync(join(DATA, file), text);
  console.log(`wrote src/sql/system/data/${file} (${text.length} bytes)`);
}

function tupleList(name: string, type: string, items: readonly unknown[]): string {
  return `export const ${name}: ReadonlyArray<${type}> = [\n${items.map((t) => `  ${literal(t)},`).join('\n')}\n];\n`;
}

async function dumpTypes(c: pg.Client): Promise<void> {
  const r = await rows(
    c,
    `SELECT oid, typname, typnamespace, typowner, typlen, typbyval, typtype, typcategory, typispreferred,
      typisdefined, typdelim, typrelid, typsubscript::oid, typelem, typarray, typinput::oid, typoutput::oid, typreceive::oid,
      typsend::oid, typmodin::oid, typmodout::oid, typanalyze::oid, typalign, typstorage, typnotnull, typbasetype, typtypmod,
      typndims, typcollation, typdefaultbin, typdefault, typacl
    FROM pg_type WHERE oid < 16384 ORDER BY oid`,
  );
  const type = `readonly [oid: number, typname: string, typnamespace: number, typowner: number, typlen: number, typbyval: boolean,
  typtype: string, typcategory: string, typispreferred: boolean, typisdefined: boolean, typdelim: string, typrelid: number,
  typsubscript: number, typelem: number, typarray: number, typinput: number, typoutput: number, typreceive: number,
  typsend: number, typmodin: number, typmodout: number, typanalyze: number, typalign: string, typstorage: string,
  typnotnull: boolean, typbasetype: number, typtypmod: number, typndims: number, typcollation: number,
  typdefaultbin: string | null, typdefault: string | null, typacl: readonly string[] | null]`;
  const desc = await rows(c, `SELECT objoid, description FROM pg_description WHERE classoid = 'pg_type'::regclass AND objoid < 16384 ORDER BY 1`);
  writeData(
    'pg-type.ts',
    "Every built-in row of pg_type (all 32 columns, in order; regproc columns as oids), and the built-in types' comments.",
    `/** One pg_type row. */\nexport type PgTypeRow = ${type};\n\n` +
      tupleList('PG_TYPE_ROWS', 'PgTypeRow', tuples(r)) +
      '\n/** pg_description of built-in types: [type oid, comment]. */\n' +
      tupleList('PG_TYPE_COMMENTS', 'readonly [number, string]', tuples(desc)),
  );
}

async function dumpProcs(c: pg.Client): Promise<void> {
  const names = PROCS.map((n) => `'${n}'`).join(',');
  // Every overload of a name served, so that regproc sees whether a name is unique.
  const where = `p.oid < 16384 AND (p.proname IN (${names}) OR p.proname IN (SELECT proname FROM pg_proc WHERE oid IN (
      SELECT unnest(ARRAY[typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze, typsubscript])::oid FROM pg_type
      UNION SELECT rngcanonical::oid FROM pg_range UNION SELECT rngsubdiff::oid FROM pg_range UNION SELECT amhandler::oid FROM pg_am)))`;
  const r = await rows(
    c,
    `SELECT p.oid, proname, pronamespace, proowner, prolang, procost, prorows, provariadic, prosupport::oid,
      prokind, prosecdef, proleakproof, proisstrict, proretset, provolatile, proparallel, pronargs, pronargdefaults, prorettype,
      proargtypes, proallargtypes, proargmodes, proargnames, proargdefaults, protrftypes, prosrc, probin, prosqlbody, proconfig, proacl
    FROM pg_proc p WHERE ${where} ORDER BY p.oid`,
  );
  const type = `readonly [oid: number, proname: string, pronamespace: number, proowner: number, prolang: number, procost: number,
  prorows: number, provariadic: number, prosupport: number, prokind: string, prosecdef: boolean, proleakproof: boolean,
  proisstrict: boolean, proretset: boolean, provolatile: string, proparallel: string, pronargs: number, pronargdefaults: number,
  prorettype: number, proargtypes: readonly string[], proallargtypes: readonly string[] | null, proargmodes: readonly string[] | null,
  proargnames: readonly (string | null)[] | null, proargdefaults: string | null, protrftypes: readonly string[] | null, prosrc: string,
  probin: string | null, prosqlbody: string | null, proconfig: readonly string[] | null, proacl: readonly string[] | null]`;
  const desc = await rows(
    c,
    `SELECT p.oid, d.description FROM pg_proc p JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass WHERE ${where} ORDER BY 1`,
  );
  const args = await rows(c, `SELECT p.oid, pg_get_function_arguments(p.oid) FROM pg_proc p WHERE ${where} AND pronargdefaults > 0 ORDER BY 1`);
  writeData(
    'pg-proc.ts',
    "The pg_proc rows allot serves (all 30 columns): its system functions, the evaluator's, and those the served rows name.",
    `/** One pg_proc row (prosupport as an oid). */\nexport type PgProcRow = ${type};\n\n` +
      tupleList('PG_PROC_ROWS', 'PgProcRow', tuples(r)) +
      '\n/** pg_description of those functions: [oid, comment]. */\n' +
      tupleList('PG_PROC_COMMENTS', 'readonly [number, string]', tuples(desc)) +
      '\n/** pg_get_function_arguments of those with defaults (their defaults are node trees allot does not deparse). */\n' +
      tupleList('PG_PROC_ARGUMENTS', 'readonly [number, string]', tuples(args)),
  );
}

async function dumpRelations(c: pg.Client): Promise<void> {
  const out: unknown[] = [];
  const views: unknown[] = [];
  for (const [schema, names] of Object.entries(RELATIONS)) {
    for (const name of names) {
      const rel = await rows(
        c,
        `SELECT c.oid, c.relkind, c.reltype, c.relisshared, c.relacl, c.relhasrules
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${schema}' AND c.relname = '${name}'`,
      );
      const [oid, relkind, reltype, shared, acl, hasRules] = tuples(rel)[0] ?? [];
      if (oid === undefined) throw new Error(`no relation ${schema}.${name}`);
      const cols = await rows(
        c,
        `SELECT attname, atttypid, attnotnull, attndims, attcollation FROM pg_attribute
        WHERE attrelid = ${oid} AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      );
      const aclText = (acl as string[] | null)?.map((a) => a.replaceAll('postgres', '%')) ?? null;
      out.push([schema, name, oid, relkind, reltype, shared, hasRules, aclText, tuples(cols)]);
      if (relkind === 'v') {
        const def = await rows(c, `SELECT pg_get_viewdef(${oid}), nullif(pg_get_viewdef(${oid}, true), pg_get_viewdef(${oid}))`);
        views.push([oid, def.rows[0]?.[0], def.rows[0]?.[1]]);
      }
    }
  }
  const type = `readonly [schema: 'pg_catalog' | 'information_schema', name: string, oid: number, relkind: string, reltype: number,
  relisshared: boolean, relhasrules: boolean, relacl: readonly string[] | null, columns: readonly RelationColumn[]]`;
  writeData(
    'pg-relations.ts',
    "The system tables and views allot implements, as pg_class and pg_attribute have them: relacl with % for the owner;\n * columns [attname, atttypid (a domain's own oid), attnotnull, attndims, attcollation]; and the views' definitions.",
    `/** One column of a system relation. */\nexport type RelationColumn = readonly [name: string, typeOid: number, notNull: boolean, ndims: number, collation: number];\n` +
      `/** One system relation. */\nexport type RelationRow = ${type};\n\n` +
      tupleList('PG_RELATIONS', 'RelationRow', out) +
      '\n/** pg_get_viewdef of the system views: [oid, definition, pretty definition if it differs]. */\n' +
      tupleList('PG_VIEW_DEFINITIONS', 'readonly [number, string, string | null]', views),
  );
}

async function dumpMisc(c: pg.Client): Promise<void> {
  const q = async (sql: string): Promise<unknown[][]> => tuples(await rows(c, sql));
  const sections: [string, string, string, unknown[][]][] = [
    [
      'PG_NAMESPACES',
      'pg_namespace: [oid, nspname, nspowner, nspacl (% for the owner)]',
      'readonly [number, string, number, readonly string[] | null]',
      (await q(`SELECT oid, nspname, nspowner, nspacl FROM pg_namespace WHERE oid < 16384 ORDER BY oid`)).map(ownerPlaceholder(3)),
    ],
    [
      'PG_AMS',
      'pg_am: [oid, amname, amhandler (oid), amtype]',
      'readonly [number, string, number, string]',
      await q(`SELECT oid, amname, amhandler::oid, amtype FROM pg_am ORDER BY oid`),
    ],
    [
      'PG_COLLATIONS',
      'pg_collation: the standard collations (default, C, POSIX, ucs_basic; no ICU or OS locales)',
      'readonly [number, string, number, number, string, boolean, number, string | null, string | null, string | null, string | null]',
      await q(`SELECT * FROM pg_collation WHERE collname IN ('default', 'C', 'POSIX', 'ucs_basic') ORDER BY oid`),
    ],
    [
      'PG_RANGES',
      'pg_range (regprocs as oids)',
      'readonly [number, number, number, number, number, number, number]',
      await q(`SELECT rngtypid, rngsubtype, rngmultitypid, rngcollation, rngsubopc, rngcanonical::oid, rngsubdiff::oid FROM pg_range ORDER BY 1`),
    ],
    [
      'PG_LANGUAGES',
      "pg_language without the plpgsql extension's (allot runs no PL/pgSQL)",
      'readonly [number, string, number, boolean, boolean, number, number, number, readonly string[] | null]',
      await q(`SELECT * FROM pg_language WHERE oid < 13000 ORDER BY oid`),
    ],
    ['PG_TABLESPACES', 'pg_tablespace: [oid, spcname]', 'readonly [number, string]', await q(`SELECT oid, spcname FROM pg_tablespace ORDER BY oid`)],
    [
      'PG_PREDEFINED_ROLES',
      'pg_authid of the predefined roles (the bootstrap superuser, oid 10, is the session user)',
      'readonly [number, string, boolean, boolean, boolean, boolean, boolean, boolean, boolean, number, string | null, string | null]',
      await q(`SELECT * FROM pg_authid WHERE oid <> 10 ORDER BY oid`),
    ],
    [
      'PG_KEYWORDS',
      'pg_get_keywords(): [word, catcode, barelabel]',
      'readonly [string, string, boolean]',
      await q(`SELECT word, catcode, barelabel FROM pg_get_keywords() ORDER BY word`),
    ],
    [
      'PG_SETTINGS_META',
      'pg_settings of the parameters allot knows: [name, unit, category, short_desc, extra_desc, context, vartype, min_val, max_val, enumvals]',
      'readonly [string, string | null, string, string, string | null, string, string, string | null, string | null, readonly string[] | null]',
      await q(
        `SELECT name, unit, category, short_desc, extra_desc, context, vartype, min_val, max_val, enumvals FROM pg_settings WHERE lower(name) IN (${[...DEFAULT_SETTINGS.keys()].map((n) => `'${n}'`).join(',')}) ORDER BY name`,
      ),
    ],
    [
      'PG_OTHER_COMMENTS',
      'pg_description of built-in namespaces, access methods, languages and collations: [objoid, classoid, comment]',
      'readonly [number, number, string]',
      await q(`SELECT objoid, classoid, description FROM pg_description WHERE classoid IN ('pg_namespace'::regclass, 'pg_am'::regclass, 'pg_language'::regclass, 'pg_collation'::regclass)
        AND objoid IN (SELECT oid FROM pg_namespace UNION ALL SELECT oid FROM pg_am UNION ALL SELECT oid FROM pg_language WHERE oid < 13000 UNION ALL SELECT oid FROM pg_collation WHERE collname IN ('default', 'C', 'POSIX', 'ucs_basic')) ORDER BY 2, 1`),
    ],
  ];
  writeData(
    'pg-misc.ts',
    'Small built-in catalogs: namespaces, access methods, collations, ranges, languages, tablespaces, roles, keywords, settings.',
    sections.map(([name, doc, type, items]) => `/** ${doc}. */\n${tupleList(name, type, items)}`).join('\n'),
  );
}

function ownerPlaceholder(col: number): (row: unknown[]) => unknown[] {
  return (row) => row.map((v, i) => (i === col && Array.isArray(v) ? v.map((a: string) => a.replaceAll('postgres', '%')) : v));
}

/** What PostgreSQL shows for the allot-shaped tables, for test/sql/system/ to compare. */
async function dumpFixtures(c: pg.Client, db: string): Promise<void> {
  const out: Record<string, { names: string[]; types: string[]; rows: Row[] }> = {};
  for (const [key, sql] of Object.entries(FIXTURE_QUERIES)) {
    // The second database differs only in its tables' column types: the built-in rows once.
    if (db === 'allot' || PER_SCHEMA.has(key)) out[key] = await rows(c, sql);
  }
  const pretty = JSON.stringify(out, null, 1)
    .replace(/\n\s+(?=[^\s[{])/g, ' ')
    .replace(/\n\s+\]/g, ']');
  writeFileSync(join(FIXTURES, `pg15-${db}.json`), `${pretty}\n`);
  console.log(`wrote test/sql/system/fixtures/pg15-${db}.json`);
}

/** The fixtures that depend on the allot tables' column types (dumped for both time modes). */
const PER_SCHEMA = new Set([
  'pg_class',
  'pg_type',
  'pg_attribute',
  'pg_attrdef',
  'pg_index',
  'pg_constraint',
  'pg_rewrite',
  'pg_depend',
  'pg_tables',
  'pg_views',
  'pg_indexes',
  'is_tables',
  'is_columns',
  'is_views',
  'is_table_constraints',
  'is_key_column_usage',
  'is_constraint_column_usage',
  'is_check_constraints',
  'is_element_types',
]);

const ALLOT = `(SELECT c.oid FROM pg_class c WHERE c.relnamespace = 2200)`;

/**
 * Oids are those PostgreSQL gave; the tests map them to allot's by name (relname, typname,
 * conname, and for pg_attrdef and pg_rewrite the relation).
 */
const FIXTURE_QUERIES: Record<string, string> = {
  columns: `SELECT table_schema, table_name, column_name, ordinal_position, udt_name, is_nullable, data_type FROM information_schema.columns
    WHERE (table_schema = 'pg_catalog' AND table_name IN (${RELATIONS.pg_catalog.map((n) => `'${n}'`).join(',')}))
       OR (table_schema = 'information_schema' AND table_name IN (${RELATIONS.information_schema.map((n) => `'${n}'`).join(',')}))
    ORDER BY table_schema, table_name, ordinal_position`,
  pg_class: `SELECT c.*, c.oid FROM pg_class c WHERE c.oid IN ${ALLOT} ORDER BY relname`,
  pg_type: `SELECT t.*, t.oid FROM pg_type t WHERE t.typnamespace = 2200 ORDER BY typname`,
  pg_attribute: `SELECT a.attrelid::regclass::text AS rel, a.* FROM pg_attribute a WHERE attrelid IN ${ALLOT} ORDER BY 1, attnum`,
  pg_attrdef: `SELECT d.adrelid::regclass::text AS rel, d.*, pg_get_expr(adbin, adrelid) AS expr FROM pg_attrdef d ORDER BY 1, adnum`,
  pg_index: `SELECT i.indexrelid::regclass::text AS rel, i.* FROM pg_index i WHERE indrelid IN ${ALLOT} ORDER BY 1`,
  pg_constraint: `SELECT c.*, c.oid FROM pg_constraint c WHERE conrelid IN ${ALLOT} ORDER BY conname`,
  pg_rewrite: `SELECT r.ev_class::regclass::text AS rel, r.oid, r.rulename, r.ev_class, r.ev_type, r.ev_enabled, r.is_instead, r.ev_qual FROM pg_rewrite r WHERE ev_class IN ${ALLOT} ORDER BY 1`,
  pg_depend: `SELECT d.* FROM pg_depend d WHERE (objid >= 16384 OR refobjid >= 16384)
    AND objid NOT IN (SELECT oid FROM pg_class WHERE relnamespace = 99) ORDER BY objid, refobjid, refobjsubid, deptype`,
  pg_tables: `SELECT * FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
  pg_views: `SELECT * FROM pg_views WHERE schemaname = 'public' ORDER BY viewname`,
  pg_indexes: `SELECT * FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
  is_tables: `SELECT * FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  is_columns: `SELECT * FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  is_views: `SELECT * FROM information_schema.views WHERE table_schema = 'public' ORDER BY table_name`,
  is_table_constraints: `SELECT * FROM information_schema.table_constraints WHERE table_schema = 'public' ORDER BY table_name, constraint_type, constraint_name`,
  is_key_column_usage: `SELECT * FROM information_schema.key_column_usage WHERE table_schema = 'public' ORDER BY table_name, constraint_name`,
  is_constraint_column_usage: `SELECT * FROM information_schema.constraint_column_usage WHERE table_schema = 'public' ORDER BY table_name, constraint_name`,
  is_check_constraints: `SELECT * FROM information_schema.check_constraints WHERE constraint_schema = 'public' ORDER BY constraint_name`,
  is_element_types: `SELECT * FROM information_schema.element_types WHERE object_schema = 'public' ORDER BY object_name, collection_type_identifier`,
  is_schemata: `SELECT * FROM information_schema.schemata ORDER BY schema_name`,
  is_character_sets: `SELECT * FROM information_schema.character_sets`,
  is_system_tables: `SELECT * FROM information_schema.tables WHERE table_schema IN ('pg_catalog', 'information_schema')
    AND table_name IN (${[...RELATIONS.pg_catalog, ...RELATIONS.information_schema].map((n) => `'${n}'`).join(',')}) ORDER BY table_schema, table_name`,
  is_system_columns: `SELECT * FROM information_schema.columns WHERE (table_schema, table_name) IN (('pg_catalog', 'pg_class'), ('pg_catalog', 'pg_settings'), ('information_schema', 'tables')) ORDER BY table_schema, table_name, ordinal_position`,
  functions: `SELECT p.oid, pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
    FROM pg_proc p WHERE p.proname IN (${PROCS.map((n) => `'${n}'`).join(',')}) ORDER BY p.oid`,
  is_system_element_types: `SELECT * FROM information_schema.element_types WHERE object_schema = 'pg_catalog'
    AND object_name IN ('pg_class', 'pg_index', 'pg_attribute', 'pg_proc') ORDER BY object_name, collection_type_identifier`,
  pg_namespace: `SELECT * FROM pg_namespace WHERE oid < 16384 ORDER BY oid`,
  pg_database: `SELECT * FROM pg_database WHERE datname IN ('allot', 'allot_ms') ORDER BY datname`,
  pg_authid: `SELECT * FROM pg_authid ORDER BY oid`,
  pg_roles: `SELECT * FROM pg_roles ORDER BY oid`,
  pg_user: `SELECT * FROM pg_user`,
  pg_tablespace: `SELECT * FROM pg_tablespace ORDER BY oid`,
  regclass: `SELECT c.oid, c.oid::regclass::text AS regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relnamespace = 2200 AND c.relkind <> 't'
       OR (n.nspname, c.relname) IN (${Object.entries(RELATIONS)
         .flatMap(([ns, names]) => names.map((n) => `('${ns}', '${n}')`))
         .join(',')})
    ORDER BY 1`,
  regtype: `SELECT oid, oid::regtype::text AS regtype, format_type(oid, NULL) FROM pg_type WHERE oid < 16384 OR typnamespace = 2200 ORDER BY 1`,
  regproc: `SELECT oid, oid::regproc::text AS regproc FROM pg_proc WHERE oid < 16384 AND proname IN (${PROCS.map((n) => `'${n}'`).join(',')}) ORDER BY oid`,
};

await main();
