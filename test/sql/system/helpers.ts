/**
 * Helpers for comparing src/sql/system/ with what PostgreSQL 15 printed for the allot-shaped
 * schema of fixtures/allot-schema.sql (fixtures/pg15-*.json, written by
 * scripts/dump-pg-catalog.ts). PostgreSQL's oids for allot's objects differ from allot's; they
 * are mapped by name.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TimeOutput } from '../../../src/sql/tables/columns.js';
import type { SystemContext } from '../../../src/sql/system/context.js';
import { regOut } from '../../../src/sql/system/reg.js';
import { findSystemTable } from '../../../src/sql/system/tables.js';
import { formatTextArray, type Value } from '../../../src/sql/types.js';

export interface FixtureTable {
  readonly names: readonly string[];
  /** PostgreSQL's type name of each column (typname: int4, _text, …). */
  readonly types: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
}

export type Fixture = Readonly<Record<string, FixtureTable>>;

const here = dirname(fileURLToPath(import.meta.url));

/** The dump of database `allot` (times as timestamptz) or `allot_ms` (times as bigint). */
export function fixture(times: TimeOutput): Fixture {
  const file = times === 'ms' ? 'pg15-allot_ms.json' : 'pg15-allot.json';
  return JSON.parse(readFileSync(join(here, 'fixtures', file), 'utf8')) as Fixture;
}

/** A session like the one the fixtures were dumped in: user postgres, default search_path. */
export function session(times: TimeOutput = 'timestamptz', settings: Record<string, string> = {}): SystemContext {
  const all = new Map(Object.entries({ search_path: '"$user", public', ...settings }));
  return {
    database: times === 'ms' ? 'allot_ms' : 'allot',
    user: 'postgres',
    databases: ['allot', 'allot_ms'],
    setting: (name) => all.get(name),
    times,
  };
}

/** The rows of a system table, as the catalog builds them. */
export function rowsOf(ctx: SystemContext, name: string, schema = 'pg_catalog'): Value[][] {
  const t = findSystemTable(schema, name);
  if (t === undefined) throw new Error(`no system table ${schema}.${name}`);
  return t.rows(ctx);
}

/** A column's position in a system table. */
export function col(name: string, column: string, schema = 'pg_catalog'): number {
  const i = findSystemTable(schema, name)?.columns.findIndex((c) => c.name === column) ?? -1;
  if (i < 0) throw new Error(`no column ${column} in ${schema}.${name}`);
  return i;
}

const OID_TYPES = new Set(['oid', 'regclass', 'regtype', 'oidvector', '_oid']);

/** A value as PostgreSQL's text output for a column of that type. */
export function pgText(v: Value, type: string, ctx: SystemContext): string | null {
  if (v === null) return null;
  if (type === 'regproc') return regOut('regproc', v as number, ctx);
  if (type === 'bool') return v === true ? 't' : 'f';
  if (Array.isArray(v)) return type === 'int2vector' || type === 'oidvector' ? v.join(' ') : formatTextArray(v);
  return String(v);
}

/** Oids PostgreSQL gave allot's objects, to allot's, by the objects' names. */
export function oidMap(fx: Fixture, ctx: SystemContext): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  const link = (
    pg: FixtureTable,
    key: (r: readonly (string | null)[]) => string,
    oidCol: string,
    mine: Value[][],
    mineKey: (r: Value[]) => string,
    mineOid: number,
  ): void => {
    const ours = new Map(mine.map((r) => [mineKey(r), String(r[mineOid])]));
    const at = pg.names.indexOf(oidCol);
    for (const r of pg.rows) {
      const o = ours.get(key(r));
      if (o !== undefined && r[at] !== null && r[at] !== undefined) map.set(r[at] ?? '', o);
    }
  };
  const classes = rowsOf(ctx, 'pg_class');
  const fxOf = (name: string): FixtureTable => {
    const t = fx[name];
    if (t === undefined) throw new Error(`no fixture ${name}`);
    return t;
  };
  link(
    fxOf('pg_class'),
    (r) => r[1] ?? '',
    'oid',
    classes,
    (r) => String(r[1]),
    0,
  );
  link(
    fxOf('pg_type'),
    (r) => r[1] ?? '',
    'oid',
    rowsOf(ctx, 'pg_type'),
    (r) => String(r[1]),
    0,
  );
  link(
    fxOf('pg_constraint'),
    (r) => r[1] ?? '',
    'oid',
    rowsOf(ctx, 'pg_constraint'),
    (r) => String(r[1]),
    0,
  );
  const relName = (oid: Value): string => String(classes.find((c) => c[0] === oid)?.[1]);
  link(
    fxOf('pg_attrdef'),
    (r) => `${r[0]}/${r[3]}`,
    'oid',
    rowsOf(ctx, 'pg_attrdef'),
    (r) => `${relName(r[1] ?? null)}/${String(r[2])}`,
    0,
  );
  link(
    fxOf('pg_rewrite'),
    (r) => r[0] ?? '',
    'oid',
    rowsOf(ctx, 'pg_rewrite'),
    (r) => relName(r[2] ?? null),
    0,
  );
  return map;
}

/** A fixture cell with PostgreSQL's oids of allot objects replaced by allot's. */
export function mapped(cell: string | null, type: string, oids: ReadonlyMap<string, string>): string | null {
  if (cell === null) return cell;
  // information_schema names NOT NULL constraints `<namespace oid>_<table oid>_<attnum>_not_null`.
  const notNull = /^(\d+)_(\d+)_(\d+)_not_null$/.exec(cell);
  if (notNull !== null) return `${notNull[1]}_${oids.get(notNull[2] ?? '') ?? notNull[2]}_${notNull[3]}_not_null`;
  if (!OID_TYPES.has(type)) return cell;
  if (type === 'oidvector')
    return cell
      .split(' ')
      .map((o) => oids.get(o) ?? o)
      .join(' ');
  if (type === '_oid')
    return formatTextArray(
      cell
        .slice(1, -1)
        .split(',')
        .map((o) => oids.get(o) ?? o),
    );
  return oids.get(cell) ?? cell;
}

/** Fixture rows as records by column name, oids mapped; columns in `skip` left out. */
export function expectedRows(t: FixtureTable, oids: ReadonlyMap<string, string>, skip: readonly string[] = []): Record<string, string | null>[] {
  return t.rows.map((r) => {
    const out: Record<string, string | null> = {};
    t.names.forEach((n, i) => {
      if (!skip.includes(n)) out[n] = mapped(r[i] ?? null, t.types[i] ?? 'text', oids);
    });
    return out;
  });
}

/** Rows of ours as records by the fixture's column names, in PostgreSQL's text form. */
export function actualRows(
  t: FixtureTable,
  rows: Value[][],
  columnNames: readonly string[],
  ctx: SystemContext,
  skip: readonly string[] = [],
): Record<string, string | null>[] {
  return rows.map((r) => {
    const out: Record<string, string | null> = {};
    t.names.forEach((n, i) => {
      const at = columnNames.indexOf(n);
      if (!skip.includes(n) && at >= 0) out[n] = pgText(r[at] ?? null, t.types[i] ?? 'text', ctx);
    });
    return out;
  });
}
