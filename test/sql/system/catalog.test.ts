/**
 * allot's objects in the system catalog, row by row against PostgreSQL 15: fixtures/pg15-*.json
 * hold what PostgreSQL printed for `SELECT * FROM pg_class WHERE relnamespace = 2200` and the
 * like (the queries are scripts/dump-pg-catalog.ts's FIXTURE_QUERIES) after
 * fixtures/allot-schema.sql, once with instants as timestamptz and durations as interval, once
 * with both as bigint. A column left out of a comparison says why.
 */
import { describe, expect, it } from 'vitest';
import type { TimeOutput } from '../../../src/sql/tables/columns.js';
import { SYSTEM_FUNCTIONS } from '../../../src/sql/system/functions.js';
import { findSystemTable } from '../../../src/sql/system/tables.js';
import type { Value } from '../../../src/sql/types.js';
import { actualRows, expectedRows, fixture, oidMap, rowsOf, session, type FixtureTable } from './helpers.js';

const sorted = <T>(xs: T[]): T[] => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** Our rows of `table` (filtered) against the fixture `key`, both as PostgreSQL's text. */
function compare(times: TimeOutput, key: string, table: string, opts: { schema?: string; filter?: (r: Value[]) => boolean; skip?: string[] } = {}): void {
  const ctx = session(times);
  const fx = fixture(times);
  const t: FixtureTable | undefined = fx[key];
  if (t === undefined) throw new Error(`no fixture ${key}`);
  const schema = opts.schema ?? 'pg_catalog';
  const names = findSystemTable(schema, table)?.columns.map((c) => c.name) ?? [];
  const skip = ['rel', ...(opts.skip ?? [])];
  const ours = rowsOf(ctx, table, schema).filter(opts.filter ?? (() => true));
  const expected = expectedRows(t, oidMap(fx, ctx), skip);
  expect(expected.length).toBeGreaterThan(0);
  expect(sorted(actualRows(t, ours, names, ctx, skip))).toEqual(sorted(expected));
}

const PUBLIC = 2200;

function relName(ctx: ReturnType<typeof session>, oid: Value): string {
  return String(rowsOf(ctx, 'pg_class').find((r) => r[0] === oid)?.[1]);
}
const isAllotOid = (oid: Value): boolean => typeof oid === 'number' && oid >= 16_384;

describe.each(['timestamptz', 'ms'] as const)('allot tables in pg_catalog (times as %s)', (times) => {
  it('pg_class: tables, views and primary-key indexes', () => {
    compare(times, 'pg_class', 'pg_class', {
      filter: (r) => r[2] === PUBLIC,
      // allot has no TOAST tables (PostgreSQL makes one per table with text columns), no
      // transaction ids (relfrozenxid is FirstNormalTransactionId) and no pages.
      skip: ['reltoastrelid', 'relfrozenxid', 'relpages'],
    });
  });

  it("pg_type: each relation's row type and array type", () => {
    compare(times, 'pg_type', 'pg_type', { filter: (r) => r[2] === PUBLIC });
  });

  it('pg_attribute: every column, system columns included', () => {
    compare(times, 'pg_attribute', 'pg_attribute', { filter: (r) => isAllotOid(r[0] ?? null) });
  });

  it('pg_attrdef: the defaults allot fills in, and pg_get_expr of them', () => {
    // adbin's node trees are PostgreSQL's with -1 for the locations in the CREATE TABLE text.
    compare(times, 'pg_attrdef', 'pg_attrdef', { skip: ['adbin', 'expr'] });
    const ctx = session(times);
    const shown = rowsOf(ctx, 'pg_attrdef').map((r) => [
      relName(ctx, r[1] ?? null),
      String(r[2]),
      SYSTEM_FUNCTIONS.get('pg_get_expr')?.call([r[3] ?? null, r[1] ?? null], ctx),
    ]);
    const pg = fixture(times).pg_attrdef?.rows.map((r) => [r[0], r[3], r[5]]);
    expect(sorted(shown)).toEqual(sorted(pg ?? []));
  });

  it('pg_index and pg_constraint: the primary keys', () => {
    compare(times, 'pg_index', 'pg_index', { filter: (r) => isAllotOid(r[1] ?? null) });
    compare(times, 'pg_constraint', 'pg_constraint', { filter: (r) => isAllotOid(r[7] ?? null) });
  });

  it("pg_rewrite: the views' ON SELECT rules", () => {
    compare(times, 'pg_rewrite', 'pg_rewrite', { skip: ['ev_action'] });
  });

  it('pg_depend: what PostgreSQL records for the CREATE TABLEs (TOAST tables aside)', () => {
    compare(times, 'pg_depend', 'pg_depend');
  });

  it('pg_tables, pg_views and pg_indexes', () => {
    const inPublic = (r: Value[]): boolean => r[0] === 'public';
    compare(times, 'pg_tables', 'pg_tables', { filter: inPublic });
    compare(times, 'pg_views', 'pg_views', { filter: inPublic });
    compare(times, 'pg_indexes', 'pg_indexes', { filter: inPublic });
  });
});

describe.each(['timestamptz', 'ms'] as const)('allot tables in information_schema (times as %s)', (times) => {
  const inPublic =
    (at: number) =>
    (r: Value[]): boolean =>
      r[at] === 'public';
  const is = (key: string, table: string, at: number): void => compare(times, key, table, { schema: 'information_schema', filter: inPublic(at) });

  it('tables and views', () => {
    is('is_tables', 'tables', 1);
    is('is_views', 'views', 1);
  });

  it('columns: every column of every table, all 44 attributes', () => {
    is('is_columns', 'columns', 1);
  });

  it('table_constraints, check_constraints (the NOT NULLs), key_column_usage, constraint_column_usage', () => {
    is('is_table_constraints', 'table_constraints', 1);
    is('is_check_constraints', 'check_constraints', 1);
    is('is_key_column_usage', 'key_column_usage', 1);
    is('is_constraint_column_usage', 'constraint_column_usage', 1);
  });

  it('element_types of the text[] columns', () => {
    is('is_element_types', 'element_types', 1);
  });
});

describe('built-in rows against PostgreSQL', () => {
  it('information_schema.schemata and character_sets', () => {
    compare('timestamptz', 'is_schemata', 'schemata', { schema: 'information_schema' });
    compare('timestamptz', 'is_character_sets', 'character_sets', { schema: 'information_schema' });
  });

  it('information_schema.tables lists the system relations allot implements as PostgreSQL does', () => {
    compare('timestamptz', 'is_system_tables', 'tables', { schema: 'information_schema', filter: (r) => r[1] !== 'public' });
  });

  it('information_schema.columns of pg_class, pg_settings and information_schema.tables', () => {
    const pick = new Set(['pg_catalog.pg_class', 'pg_catalog.pg_settings', 'information_schema.tables']);
    compare('timestamptz', 'is_system_columns', 'columns', { schema: 'information_schema', filter: (r) => pick.has(`${String(r[1])}.${String(r[2])}`) });
  });

  it('information_schema.element_types of catalog columns (aclitem[], int2vector, oidvector, text[])', () => {
    const pick = new Set(['pg_class', 'pg_index', 'pg_attribute', 'pg_proc']);
    compare('timestamptz', 'is_system_element_types', 'element_types', {
      schema: 'information_schema',
      filter: (r) => r[1] === 'pg_catalog' && pick.has(String(r[2])),
    });
  });

  it("pg_namespace, with the owner's name in the acls", () => {
    compare('timestamptz', 'pg_namespace', 'pg_namespace');
  });

  it("pg_database: every column of the session's databases", () => {
    // The oids of databases are allot's (from the name); datfrozenxid as relfrozenxid.
    compare('timestamptz', 'pg_database', 'pg_database', { skip: ['oid', 'datfrozenxid'] });
  });

  it('pg_authid, pg_roles and pg_user: the session user is the bootstrap superuser', () => {
    compare('timestamptz', 'pg_authid', 'pg_authid');
    compare('timestamptz', 'pg_roles', 'pg_roles');
    compare('timestamptz', 'pg_user', 'pg_user');
  });

  it('pg_tablespace', () => {
    compare('timestamptz', 'pg_tablespace', 'pg_tablespace');
  });
});
