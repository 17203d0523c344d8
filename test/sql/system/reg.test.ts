/**
 * The reg* types against PostgreSQL 15: text out for every relation, type and function the
 * catalog has (fixture keys regclass, regtype, regproc: `SELECT oid, oid::regclass::text …`),
 * text in for the same names (round trip), and the errors and edge cases psql printed for
 * `SELECT '…'::regclass` and the like in database allot.
 */
import { describe, expect, it } from 'vitest';
import { regIn, regInOrNull, regOut } from '../../../src/sql/system/reg.js';
import { relationByName } from '../../../src/sql/system/relations.js';
import { fixture, oidMap, session } from './helpers.js';

const ctx = session();
const fx = fixture('timestamptz');
const oids = oidMap(fx, ctx);
const ours = (pgOid: string | null | undefined): number => Number(oids.get(pgOid ?? '') ?? pgOid);

/** What regIn throws: [SQLSTATE, message]. */
function error(f: () => unknown): [string, string] | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    const err = e as { sqlstate?: string; message: string };
    return [err.sqlstate ?? '?', err.message];
  }
}

describe('regclass', () => {
  it('shows every relation as PostgreSQL does, and reads the name back', () => {
    const rows = fx.regclass?.rows ?? [];
    expect(rows.length).toBe(78);
    for (const [oid, shown] of rows) {
      expect(regOut('regclass', ours(oid), ctx)).toBe(shown);
      expect(regIn('regclass', shown ?? '', ctx)).toBe(ours(oid));
    }
  });

  it('reads names as PostgreSQL does', () => {
    const bookings = relationByName('timestamptz', 2200, 'bookings')?.oid;
    expect(regIn('regclass', ' bookings ', ctx)).toBe(bookings);
    expect(regIn('regclass', 'BOOKINGS', ctx)).toBe(bookings);
    expect(regIn('regclass', 'public.bookings', ctx)).toBe(bookings);
    expect(regIn('regclass', 'allot.public.bookings', ctx)).toBe(bookings);
    expect(regIn('regclass', 'pg_type', ctx)).toBe(1247);
    expect(regIn('regclass', 'information_schema.columns', ctx)).toBe(13_295);
    expect(regIn('regclass', '12345', ctx)).toBe(12_345);
    expect(regIn('regclass', '-', ctx)).toBe(0);
  });

  it('raises what PostgreSQL raises', () => {
    expect(error(() => regIn('regclass', 'nosuch', ctx))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    expect(error(() => regIn('regclass', 'Nosuch', ctx))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    expect(error(() => regIn('regclass', 'public.nosuch', ctx))).toEqual(['42P01', 'relation "public.nosuch" does not exist']);
    expect(error(() => regIn('regclass', 'pg_catalog.bookings', ctx))).toEqual(['42P01', 'relation "pg_catalog.bookings" does not exist']);
    expect(error(() => regIn('regclass', 'public.pg_type', ctx))).toEqual(['42P01', 'relation "public.pg_type" does not exist']);
    expect(error(() => regIn('regclass', '123abc', ctx))).toEqual(['42P01', 'relation "123abc" does not exist']);
    expect(error(() => regIn('regclass', 'nosch.x', ctx))).toEqual(['3F000', 'schema "nosch" does not exist']);
    expect(error(() => regIn('regclass', '"PUBLIC".bookings', ctx))).toEqual(['3F000', 'schema "PUBLIC" does not exist']);
    expect(error(() => regIn('regclass', 'a.b.c.d', ctx))).toEqual(['42601', 'improper relation name (too many dotted names): a.b.c.d']);
    expect(error(() => regIn('regclass', 'other.public.bookings', ctx))).toEqual([
      '0A000',
      'cross-database references are not implemented: "other.public.bookings"',
    ]);
    expect(error(() => regIn('regclass', 'public.', ctx))).toEqual(['42602', 'invalid name syntax']);
    expect(error(() => regIn('regclass', '', ctx))).toEqual(['42602', 'invalid name syntax']);
    expect(regInOrNull('regclass', 'nosuch', ctx)).toBeNull();
    expect(regInOrNull('regclass', 'nosch.x', ctx)).toBeNull();
  });

  it('shows 0 as - and an unknown oid as the number', () => {
    // SELECT 0::regclass, 99999::regclass → - | 99999
    expect(regOut('regclass', 0, ctx)).toBe('-');
    expect(regOut('regclass', 99_999, ctx)).toBe('99999');
  });

  it('qualifies a relation whose schema is off the search path', () => {
    // SET search_path = pg_catalog; SELECT 'public.bookings'::regclass → public.bookings
    const bookings = relationByName('timestamptz', 2200, 'bookings')?.oid ?? 0;
    expect(regOut('regclass', bookings, session('timestamptz', { search_path: 'pg_catalog' }))).toBe('public.bookings');
    // SET search_path = information_schema; SELECT 'information_schema.columns'::regclass → columns
    expect(regOut('regclass', 13_295, session('timestamptz', { search_path: 'information_schema' }))).toBe('columns');
    // SET search_path = ''; SELECT 'bookings'::regclass → relation "bookings" does not exist
    expect(error(() => regIn('regclass', 'bookings', session('timestamptz', { search_path: '""' })))).toEqual(['42P01', 'relation "bookings" does not exist']);
  });
});

describe('regtype', () => {
  it('shows every type as PostgreSQL does, and reads that back', () => {
    const rows = fx.regtype?.rows ?? [];
    expect(rows.length).toBe(635);
    for (const [oid, shown] of rows) {
      expect(regOut('regtype', ours(oid), ctx), `oid ${oid}`).toBe(shown);
      expect(regIn('regtype', shown ?? '', ctx), shown ?? '').toBe(ours(oid));
    }
  });

  it("reads SQL's type names", () => {
    // SELECT 'character varying'::regtype, 'char'::regtype, '"char"'::regtype, … (psql)
    const cases: [string, string][] = [
      ['character varying', 'character varying'],
      ['char', 'character'],
      ['"char"', '"char"'],
      ['float(3)', 'real'],
      ['float(30)', 'double precision'],
      ['double precision', 'double precision'],
      ['timestamptz', 'timestamp with time zone'],
      ['timestamp(3) with time zone', 'timestamp with time zone'],
      ['interval day to second', 'interval'],
      ['dec', 'numeric'],
      ['bit varying', 'bit varying'],
      ['national character', 'character'],
      ['int4[][]', 'integer[]'],
      ['pg_catalog.int4', 'integer'],
      ['_int4', 'integer[]'],
      ['bookings', 'bookings'],
      ['int4[3]', 'integer[]'],
      ['time', 'time without time zone'],
      ['timestamp', 'timestamp without time zone'],
      ['bool', 'boolean'],
      ['boolean', 'boolean'],
      ['real', 'real'],
      ['numeric(10,2)', 'numeric'],
      ['char varying', 'character varying'],
      ['nchar', 'character'],
      ['bit', 'bit'],
      ['varbit', 'bit varying'],
      ['text array', 'text[]'],
      ['int4 array[2]', 'integer[]'],
      ['varchar', 'character varying'],
      ['information_schema.sql_identifier[]', 'information_schema.sql_identifier[]'],
      ['interval(3)', 'interval'],
      ['smallint', 'smallint'],
      ['json', 'json'],
      ['public.bookings', 'bookings'],
      ['time with time zone', 'time with time zone'],
      ['int', 'integer'],
      ['integer', 'integer'],
      ['float', 'double precision'],
      ['decimal', 'numeric'],
      ['character', 'character'],
      ['bit(3)', 'bit'],
      ['"timestamp"', 'timestamp without time zone'],
      ['varchar(20)[]', 'character varying[]'],
      ['PG_CATALOG.INT4', 'integer'],
      ['Int8[]', 'bigint[]'],
      ['timestamp without time zone', 'timestamp without time zone'],
      ['interval year', 'interval'],
      ['interval minute to second(3)', 'interval'],
      ['national char varying', 'character varying'],
    ];
    for (const [input, shown] of cases) expect(regOut('regtype', regIn('regtype', input, ctx), ctx), input).toBe(shown);
  });

  it('raises what PostgreSQL raises', () => {
    expect(error(() => regIn('regtype', 'foo', ctx))).toEqual(['42704', 'type "foo" does not exist']);
    expect(error(() => regIn('regtype', 'foo[]', ctx))).toEqual(['42704', 'type "foo[]" does not exist']);
    expect(error(() => regIn('regtype', 'public.foo', ctx))).toEqual(['42704', 'type "public.foo" does not exist']);
    expect(error(() => regIn('regtype', '"int"', ctx))).toEqual(['42704', 'type "int" does not exist']);
    expect(error(() => regIn('regtype', 'double', ctx))).toEqual(['42704', 'type "double" does not exist']);
    expect(error(() => regIn('regtype', 'sql_identifier', ctx))).toEqual(['42704', 'type "sql_identifier" does not exist']);
    expect(error(() => regIn('regtype', 'nosch.foo', ctx))).toEqual(['3F000', 'schema "nosch" does not exist']);
    expect(error(() => regIn('regtype', 'int(4)', ctx))).toEqual(['42601', 'syntax error at or near "("']);
    expect(error(() => regIn('regtype', 'int4 x', ctx))).toEqual(['42601', 'syntax error at or near "x"']);
    expect(error(() => regIn('regtype', 'varchar(x)', ctx))).toEqual(['42601', 'syntax error at or near "x"']);
    expect(error(() => regIn('regtype', 'any', ctx))).toEqual(['42601', 'syntax error at or near "any"']);
    expect(error(() => regIn('regtype', 'setof int4', ctx))).toEqual(['42601', 'invalid type name "setof int4"']);
    expect(error(() => regIn('regtype', '', ctx))).toEqual(['42601', 'invalid type name ""']);
    expect(error(() => regIn('regtype', 'float(0)', ctx))).toEqual(['22023', 'precision for type float must be at least 1 bit']);
    expect(error(() => regIn('regtype', 'float(54)', ctx))).toEqual(['22023', 'precision for type float must be less than 54 bits']);
    expect(regInOrNull('regtype', 'nosuch', ctx)).toBeNull();
    // SELECT 99999::regtype, 0::regtype → 99999 | -
    expect(regOut('regtype', 99_999, ctx)).toBe('99999');
    expect(regOut('regtype', 0, ctx)).toBe('-');
  });
});

describe('regproc', () => {
  it('shows every served function as PostgreSQL does; a unique name reads back', () => {
    const rows = fx.regproc?.rows ?? [];
    expect(rows.length).toBeGreaterThan(100);
    for (const [oid, shown] of rows) {
      expect(regOut('regproc', Number(oid), ctx), `oid ${oid}`).toBe(shown);
      if (!(shown ?? '').includes('.')) expect(regIn('regproc', shown ?? '', ctx)).toBe(Number(oid));
    }
  });

  it('reads names and oids; raises for none and for several', () => {
    // SELECT 'format_type'::regproc, 'pg_catalog.format_type'::regproc, 'array_in'::regproc, 1242::regproc
    expect(regOut('regproc', regIn('regproc', 'format_type', ctx), ctx)).toBe('format_type');
    expect(regOut('regproc', regIn('regproc', 'pg_catalog.format_type', ctx), ctx)).toBe('format_type');
    expect(regIn('regproc', 'array_in', ctx)).toBe(750);
    expect(regOut('regproc', 1242, ctx)).toBe('boolin');
    expect(regOut('regproc', 0, ctx)).toBe('-');
    expect(regOut('regproc', 99_999, ctx)).toBe('99999');
    expect(error(() => regIn('regproc', 'nosuch', ctx))).toEqual(['42883', 'function "nosuch" does not exist']);
    expect(error(() => regIn('regproc', 'generate_series', ctx))).toEqual(['42725', 'more than one function named "generate_series"']);
    expect(error(() => regIn('regproc', 'generate_series(int4,int4)', ctx))).toEqual(['42883', 'function "generate_series(int4,int4)" does not exist']);
    expect(regInOrNull('regproc', 'nosuch', ctx)).toBeNull();
  });
});

describe('regnamespace and regrole', () => {
  it('read and show names as PostgreSQL does', () => {
    // SELECT 'public'::regnamespace::oid, 2200::regnamespace, 9999::regnamespace → 2200 | public | 9999
    expect(regIn('regnamespace', 'public', ctx)).toBe(2200);
    expect(regOut('regnamespace', 2200, ctx)).toBe('public');
    expect(regOut('regnamespace', 9999, ctx)).toBe('9999');
    expect(error(() => regIn('regnamespace', 'nosuch', ctx))).toEqual(['3F000', 'schema "nosuch" does not exist']);
    // SELECT 'postgres'::regrole, 10::regrole, 'pg_monitor'::regrole::oid, 9999::regrole → postgres | postgres | 3373 | 9999
    expect(regIn('regrole', 'postgres', ctx)).toBe(10);
    expect(regOut('regrole', 10, ctx)).toBe('postgres');
    expect(regIn('regrole', 'pg_monitor', ctx)).toBe(3373);
    expect(regOut('regrole', 9999, ctx)).toBe('9999');
    expect(regIn('regrole', 'pg_database_owner', ctx)).toBe(6171);
    expect(error(() => regIn('regrole', 'nosuch', ctx))).toEqual(['42704', 'role "nosuch" does not exist']);
    expect(error(() => regIn('regrole', 'public', ctx))).toEqual(['42704', 'role "public" does not exist']);
  });

  it('name the session user, whoever it is, as the bootstrap superuser', () => {
    const alice = { ...ctx, user: 'Alice' };
    expect(regIn('regrole', '"Alice"', alice)).toBe(10);
    expect(regOut('regrole', 10, alice)).toBe('"Alice"');
  });
});
