/**
 * The tables a client can name: allot's own (resources, rules, bookings, holds, outages,
 * policies), the virtual availability and policy_usage tables, and a small built-in pg_catalog / information_schema describing them,
 * enough for what drivers send on connect.
 */
import type { Booking, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';
import { Oid, type SqlType, type Value } from './types.js';

/**
 * How a column's input is read: times accept ISO-8601 text as well as milliseconds, durations
 * interval text as well as milliseconds.
 */
export type Domain = 'text' | 'time' | 'duration' | 'int' | 'bool' | 'text[]';

/** How instants and durations come out: timestamptz and interval, or bigint milliseconds. */
export type TimeOutput = 'timestamptz' | 'ms';

/** A column's type as a session sees it: instants and durations follow its time output. */
export function columnType(col: ColumnDef, times: TimeOutput): SqlType {
  if (times === 'ms') return col.type;
  if (col.domain === 'time') return 'timestamptz';
  if (col.domain === 'duration') return 'interval';
  return col.type;
}

export interface ColumnDef {
  readonly name: string;
  readonly type: SqlType;
  readonly domain: Domain;
  readonly notNull?: boolean;
  /** For a record-valued column (a set function's record through a subquery): its fields. */
  readonly fields?: readonly { readonly name: string; readonly type: SqlType }[];
}

export interface TableDef {
  readonly name: string;
  readonly schema: 'public' | 'pg_catalog' | 'information_schema';
  readonly oid: number;
  readonly columns: readonly ColumnDef[];
  /** Columns INSERT/UPDATE accept that are not part of the row (e.g. bookings.hold_id). */
  readonly writeOnly?: readonly ColumnDef[];
  /** Computed on every read, never written: a view to the catalog. */
  readonly virtual?: boolean;
}

const text = (name: string, notNull = false): ColumnDef => ({ name, type: 'text', domain: 'text', notNull });
const time = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time', notNull: true });
const int8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int', notNull: true });
const optionalTime = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time' });
const optionalInt8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int' });
const duration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration', notNull: true });
const optionalDuration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration' });
const caps: ColumnDef = { name: 'capabilities', type: 'text[]', domain: 'text[]', notNull: true };

export const Tables = {
  resources: {
    name: 'resources',
    schema: 'public',
    oid: 16_401,
    columns: [text('id', true), text('parent_id'), text('name'), int8('capacity'), duration('buffer_before'), duration('buffer_after'), caps],
  },
  rules: {
    name: 'rules',
    schema: 'public',
    oid: 16_402,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), { name: 'blocking', type: 'bool', domain: 'bool', notNull: true }, text('policy_id')],
  },
  bookings: {
    name: 'bookings',
    schema: 'public',
    oid: 16_403,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), text('label'), caps, text('user_id'), text('policy_id'), text('group_id')],
    writeOnly: [text('hold_id'), text('pool_id'), { name: 'quantity', type: 'int8', domain: 'int' }],
  },
  holds: {
    name: 'holds',
    schema: 'public',
    oid: 16_404,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), time('expires_at'), text('label'), caps, text('user_id'), text('policy_id')],
    writeOnly: [text('booking_id')],
  },
  outages: {
    name: 'outages',
    schema: 'public',
    oid: 16_406,
    columns: [
      text('id', true),
      text('resource_id', true),
      text('kind', true),
      time('start'),
      optionalTime('end'),
      optionalDuration('sliding_window'),
      caps,
      text('reason'),
      { name: 'declared_at', type: 'int8', domain: 'time', notNull: true },
    ],
  },
  policies: {
    name: 'policies',
    schema: 'public',
    oid: 16_407,
    columns: [
      text('id', true),
      text('name'),
      optionalDuration('min_duration'),
      optionalDuration('max_duration'),
      optionalDuration('book_ahead'),
      optionalInt8('max_bookings'),
      optionalDuration('max_usage'),
      optionalDuration('starts_within'),
      optionalDuration('allow_start_in_past'),
    ],
  },
  availability: {
    name: 'availability',
    schema: 'public',
    oid: 16_405,
    columns: [text('resource_id'), time('start'), time('end'), int8('free')],
    virtual: true,
  },
  allot_export: {
    name: 'allot_export',
    schema: 'public',
    oid: 16_409,
    columns: [text('line', true)],
    virtual: true,
  },
  policy_usage: {
    name: 'policy_usage',
    schema: 'public',
    oid: 16_408,
    columns: [text('user_id', true), text('policy_id', true), int8('bookings'), int8('usage_ms'), optionalInt8('remaining_bookings'), optionalInt8('remaining_usage_ms')],
    virtual: true,
  },
} as const satisfies Record<string, TableDef>;

export type AllotTable = keyof typeof Tables;
/** The tables that hold rows: every one but the computed views. */
export type StoredTable = Exclude<AllotTable, 'availability' | 'policy_usage' | 'allot_export'>;

export function resourceRow(r: Resource): Value[] {
  return [r.id, r.parentId, r.name, r.capacity, r.bufferBeforeMs, r.bufferAfterMs, r.capabilities];
}

export function ruleRow(r: Rule): Value[] {
  return [r.id, r.resourceId, r.start, r.end, r.blocking, r.policyId];
}

export function bookingRow(b: Booking): Value[] {
  return [b.id, b.resourceId, b.start, b.end, b.label, b.capabilities, b.userId, b.policyId, b.groupId];
}

export function outageRow(o: Outage): Value[] {
  return [o.id, o.resourceId, o.kind, o.start, o.end, o.slidingWindowMs, o.capabilities, o.reason, o.declaredAt];
}

export function policyRow(p: Policy): Value[] {
  return [p.id, p.name, p.minDurationMs, p.maxDurationMs, p.bookAheadMs, p.maxBookings, p.maxUsageMs, p.startsWithinMs, p.allowStartInPastMs];
}

export function holdRow(h: Hold): Value[] {
  return [h.id, h.resourceId, h.start, h.end, h.expiresAt, h.label, h.capabilities, h.userId, h.policyId];
}

// ---- the built-in system catalog ---------------------------------------------------------

const c = (name: string, type: SqlType): ColumnDef => ({
  name,
  type,
  domain: type === 'bool' ? 'bool' : type === 'text[]' ? 'text[]' : type === 'text' || type === 'name' ? 'text' : 'int',
});

const NS_PG_CATALOG = 11;
const NS_PUBLIC = 2200;
const NS_INFORMATION_SCHEMA = 13_000;

/** [oid, name, length, category, element, array] */
const TYPES: [number, string, number, string, number, number][] = [
  [Oid.bool, 'bool', 1, 'B', 0, Oid.boolArray],
  [Oid.name, 'name', 64, 'S', 0, 1003],
  [Oid.int8, 'int8', 8, 'N', 0, Oid.int8Array],
  [Oid.int2, 'int2', 2, 'N', 0, Oid.int2Array],
  [Oid.int4, 'int4', 4, 'N', 0, Oid.int4Array],
  [Oid.text, 'text', -1, 'S', 0, Oid.textArray],
  [Oid.oid, 'oid', 4, 'N', 0, 1028],
  [Oid.varchar, 'varchar', -1, 'S', 0, Oid.varcharArray],
  [Oid.numeric, 'numeric', -1, 'N', 0, 1231],
  [Oid.boolArray, '_bool', -1, 'A', Oid.bool, 0],
  [1003, '_name', -1, 'A', Oid.name, 0],
  [Oid.int2Array, '_int2', -1, 'A', Oid.int2, 0],
  [Oid.int4Array, '_int4', -1, 'A', Oid.int4, 0],
  [Oid.textArray, '_text', -1, 'A', Oid.text, 0],
  [1028, '_oid', -1, 'A', Oid.oid, 0],
  [Oid.varcharArray, '_varchar', -1, 'A', Oid.varchar, 0],
  [Oid.int8Array, '_int8', -1, 'A', Oid.int8, 0],
  [1231, '_numeric', -1, 'A', Oid.numeric, 0],
];

const ALLOT_TABLES: readonly TableDef[] = Object.values(Tables);

interface CatalogTable extends TableDef {
  rows(ctx: { database: string; user: string; settings: ReadonlyMap<string, string> }): Value[][];
}

export const CatalogTables: readonly CatalogTable[] = [
  {
    name: 'pg_type',
    schema: 'pg_catalog',
    oid: 1247,
    columns: [c('oid', 'oid'), c('typname', 'name'), c('typnamespace', 'oid'), c('typlen', 'int2'), c('typbyval', 'bool'), c('typtype', 'text'), c('typcategory', 'text'), c('typdelim', 'text'), c('typrelid', 'oid'), c('typelem', 'oid'), c('typarray', 'oid'), c('typbasetype', 'oid'), c('typnotnull', 'bool'), c('typtypmod', 'int4')],
    rows: () => TYPES.map(([oid, name, len, cat, elem, arr]) => [oid, name, NS_PG_CATALOG, len, len > 0 && len <= 8, 'b', cat, ',', 0, elem, arr, 0, false, -1]),
  },
  {
    name: 'pg_namespace',
    schema: 'pg_catalog',
    oid: 2615,
    columns: [c('oid', 'oid'), c('nspname', 'name')],
    rows: () => [
      [NS_PG_CATALOG, 'pg_catalog'],
      [NS_PUBLIC, 'public'],
      [NS_INFORMATION_SCHEMA, 'information_schema'],
    ],
  },
  {
    name: 'pg_database',
    schema: 'pg_catalog',
    oid: 1262,
    columns: [c('oid', 'oid'), c('datname', 'name')],
    rows: (ctx) => [[16_384, ctx.database]],
  },
  {
    name: 'pg_class',
    schema: 'pg_catalog',
    oid: 1259,
    columns: [c('oid', 'oid'), c('relname', 'name'), c('relnamespace', 'oid'), c('relkind', 'text')],
    rows: () => ALLOT_TABLES.map((t) => [t.oid, t.name, NS_PUBLIC, t.virtual === true ? 'v' : 'r']),
  },
  {
    name: 'pg_attribute',
    schema: 'pg_catalog',
    oid: 1249,
    columns: [c('attrelid', 'oid'), c('attname', 'name'), c('atttypid', 'oid'), c('attnum', 'int2'), c('attnotnull', 'bool')],
    rows: () => ALLOT_TABLES.flatMap((t) => t.columns.map((col, i) => [t.oid, col.name, oidOf(col.type), i + 1, col.notNull === true])),
  },
  {
    name: 'pg_settings',
    schema: 'pg_catalog',
    oid: 12_000,
    columns: [c('name', 'text'), c('setting', 'text')],
    rows: (ctx) => [...ctx.settings.entries()].sort().map(([k, v]) => [k, v]),
  },
  {
    name: 'tables',
    schema: 'information_schema',
    oid: 13_100,
    columns: [c('table_catalog', 'name'), c('table_schema', 'name'), c('table_name', 'name'), c('table_type', 'text')],
    rows: (ctx) => ALLOT_TABLES.map((t) => [ctx.database, 'public', t.name, t.virtual === true ? 'VIEW' : 'BASE TABLE']),
  },
  {
    name: 'columns',
    schema: 'information_schema',
    oid: 13_101,
    columns: [c('table_catalog', 'name'), c('table_schema', 'name'), c('table_name', 'name'), c('column_name', 'name'), c('ordinal_position', 'int4'), c('data_type', 'text'), c('is_nullable', 'text')],
    rows: (ctx) =>
      ALLOT_TABLES.flatMap((t) =>
        t.columns.map((col, i) => [ctx.database, 'public', t.name, col.name, i + 1, col.type === 'text[]' ? 'ARRAY' : col.type === 'int8' ? 'bigint' : col.type === 'bool' ? 'boolean' : 'text', col.notNull === true ? 'NO' : 'YES']),
      ),
  },
];

function oidOf(t: SqlType): number {
  switch (t) {
    case 'int8':
      return Oid.int8;
    case 'bool':
      return Oid.bool;
    case 'text[]':
      return Oid.textArray;
    default:
      return Oid.text;
  }
}

/**
 * postgres.js (default options) asks for every array type on connect with a self-join that a
 * single-table executor cannot run; it is answered from the same type list.
 */
export const ARRAY_TYPES_QUERY = {
  columns: [c('oid', 'oid'), c('typarray', 'oid')],
  rows: (): Value[][] => TYPES.filter(([, , , , , arr]) => arr !== 0).map(([oid, , , , , arr]) => [oid, arr]).sort((a, b) => (a[0] as number) - (b[0] as number)),
};

/** Whitespace-insensitive text of a statement, for matching well-known driver queries. */
export function squash(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * psql's `\dt` and `\d` (no pattern), as psql 15 sends them (other versions differ): the stored
 * tables, and for `\d` the computed ones (availability, policy_usage, allot_export) as the views
 * pg_class says they are, owned by whoever asks.
 */
function psqlRelations(withViews: boolean): { columns: readonly ColumnDef[]; rows(ctx: { user: string }): Value[][] } {
  return {
    columns: [c('Schema', 'name'), c('Name', 'name'), c('Type', 'text'), c('Owner', 'name')],
    rows: (ctx) =>
      ALLOT_TABLES.filter((t) => withViews || t.virtual !== true)
        .map((t): [string, string] => [t.name, t.virtual === true ? 'view' : 'table'])
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([name, type]) => ['public', name, type, ctx.user]),
  };
}

function psqlRelationsQuery(relkinds: string): string {
  return squash(`SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN (${relkinds})
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2`);
}

/** psql's `\l`, as psql 15 sends it: every database (tenant) of the server, in UTF-8. */
const PSQL_LIST_DATABASES = {
  query: squash(`SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       d.daticulocale as "ICU Locale",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1`),
  answer: {
    columns: [c('Name', 'name'), c('Owner', 'name'), c('Encoding', 'name'), c('Collate', 'name'), c('Ctype', 'name'), c('ICU Locale', 'text'), c('Locale Provider', 'text'), c('Access privileges', 'text')],
    rows: (ctx: KnownQueryContext): Value[][] => ctx.databases.map((name) => [name, ctx.user, 'UTF8', 'C', 'C', null, 'libc', null]),
  },
};

export interface KnownQueryContext {
  readonly user: string;
  readonly databases: readonly string[];
}

export const KNOWN_QUERIES = new Map<string, { columns: readonly ColumnDef[]; rows(ctx: KnownQueryContext): Value[][] }>([
  [
    squash(`select b.oid, b.typarray from pg_catalog.pg_type a left join pg_catalog.pg_type b on b.oid = a.typelem where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid`),
    ARRAY_TYPES_QUERY,
  ],
  [psqlRelationsQuery("'r','p',''"), psqlRelations(false)],
  [psqlRelationsQuery("'r','p','v','m','S','f',''"), psqlRelations(true)],
  [PSQL_LIST_DATABASES.query, PSQL_LIST_DATABASES.answer],
]);
