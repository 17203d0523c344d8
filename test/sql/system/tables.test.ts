/**
 * Every system table's columns are PostgreSQL 15's, names and types in order, against
 * `SELECT table_schema, table_name, column_name, ordinal_position, udt_name, is_nullable,
 * data_type FROM information_schema.columns WHERE table_schema IN ('pg_catalog',
 * 'information_schema') …` (fixtures/pg15-allot.json, key `columns`); and every one has rows of
 * that width, in both time modes.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_TABLES, findSystemTable } from '../../../src/sql/system/tables.js';
import type { SqlType } from '../../../src/sql/types.js';
import { fixture, session } from './helpers.js';

/** The SqlType each udt_name (a column's type, or a domain's base type) is sent as. */
const SENT_AS: Readonly<Record<string, SqlType>> = {
  bool: 'bool',
  bytea: 'bytea',
  char: 'char',
  name: 'name',
  int8: 'int8',
  int2: 'int2',
  int2vector: 'int2vector',
  int4: 'int4',
  regproc: 'regproc',
  text: 'text',
  oid: 'oid',
  xid: 'xid',
  oidvector: 'oidvector',
  pg_node_tree: 'pg_node_tree',
  float4: 'float4',
  _char: 'char[]',
  _int2: 'int2[]',
  _text: 'text[]',
  _oid: 'oid[]',
  _aclitem: 'aclitem[]',
  varchar: 'varchar',
  timestamptz: 'timestamptz',
  regtype: 'regtype',
  anyarray: 'anyarray',
  // SqlType has no inet: pg_stat_activity.client_addr is sent as text.
  inet: 'text',
};

describe('system tables', () => {
  const pg = fixture('timestamptz').columns;
  const byTable = new Map<string, { name: string; udt: string }[]>();
  for (const [schema, table, column, , udt] of pg?.rows ?? []) {
    const key = `${schema}.${table}`;
    byTable.set(key, [...(byTable.get(key) ?? []), { name: column ?? '', udt: udt ?? '' }]);
  }

  it('are the relations the fixture lists, no more, no fewer', () => {
    expect(SYSTEM_TABLES.map((t) => `${t.schema}.${t.name}`).sort()).toEqual([...byTable.keys()].sort());
    expect(SYSTEM_TABLES.length).toBe(60);
  });

  it.each(SYSTEM_TABLES.map((t) => [`${t.schema}.${t.name}`, t] as const))("%s has PostgreSQL's columns", (key, t) => {
    const expected = (byTable.get(key) ?? []).map((c) => ({ name: c.name, type: SENT_AS[c.udt] }));
    expect(t.columns.map((c) => ({ name: c.name, type: c.type }))).toEqual(expected);
  });

  it.each(['timestamptz', 'ms'] as const)('have rows as wide as their columns (times as %s)', (times) => {
    const ctx = session(times);
    for (const t of SYSTEM_TABLES) {
      for (const row of t.rows(ctx)) expect(row.length, `${t.schema}.${t.name}`).toBe(t.columns.length);
    }
  });

  it('describe domains as their base types, with the domain and its typmod', () => {
    // SELECT table_name, is_nullable FROM information_schema.columns LIMIT 0: PostgreSQL's
    // RowDescription says name (19) and varchar (1043) with typmod 7, the domains' base types.
    const columns = findSystemTable('information_schema', 'columns')?.columns ?? [];
    expect(columns.find((c) => c.name === 'table_name')).toEqual({ name: 'table_name', type: 'name', typeOid: 13_226 });
    expect(columns.find((c) => c.name === 'is_nullable')).toEqual({ name: 'is_nullable', type: 'varchar', typeOid: 13_234, typmod: 7 });
    expect(columns.find((c) => c.name === 'ordinal_position')).toEqual({ name: 'ordinal_position', type: 'int4', typeOid: 13_221 });
    const triggers = findSystemTable('information_schema', 'triggers')?.columns ?? [];
    expect(triggers.find((c) => c.name === 'created')).toEqual({ name: 'created', type: 'timestamptz', typeOid: 13_232, typmod: 2 });
  });

  it('are found unqualified in pg_catalog only, as the search path finds them', () => {
    expect(findSystemTable(undefined, 'pg_type')?.oid).toBe(1247);
    expect(findSystemTable('pg_catalog', 'pg_class')?.oid).toBe(1259);
    expect(findSystemTable(undefined, 'columns')).toBeUndefined();
    expect(findSystemTable('information_schema', 'columns')?.oid).toBe(13_295);
    expect(findSystemTable('public', 'pg_type')).toBeUndefined();
  });

  it("have no rows where allot has none, and still PostgreSQL's columns", () => {
    const ctx = session();
    for (const name of ['pg_enum', 'pg_inherits', 'pg_trigger', 'pg_policy', 'pg_sequence', 'pg_extension', 'pg_locks', 'pg_matviews']) {
      const t = findSystemTable('pg_catalog', name);
      expect(t?.rows(ctx), name).toEqual([]);
      expect(t?.columns.length, name).toBeGreaterThan(2);
    }
    expect(
      findSystemTable('pg_catalog', 'pg_trigger')
        ?.columns.map((c) => c.name)
        .slice(0, 4),
    ).toEqual(['oid', 'tgrelid', 'tgparentid', 'tgname']);
  });
});
