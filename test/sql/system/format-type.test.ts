/**
 * format_type against PostgreSQL 15: every pair below is what
 * `SELECT t, m, format_type(t, m) FROM (VALUES …) v(t, m)` printed (psql, database allot of
 * fixtures/allot-schema.sql, default search_path); null is the SQL NULL typmod. Then every type's
 * format_type(oid, NULL) (fixture `regtype`).
 */
import { describe, expect, it } from 'vitest';
import { formatType } from '../../../src/sql/system/format-type.js';
import { typeByName } from '../../../src/sql/system/type-catalog.js';
import { fixture, session } from './helpers.js';

const PAIRS: readonly [number, number | null, string][] = [
  [16, null, 'boolean'],
  [17, null, 'bytea'],
  [18, null, '"char"'],
  [19, null, 'name'],
  [20, null, 'bigint'],
  [21, null, 'smallint'],
  [22, null, 'int2vector'],
  [23, null, 'integer'],
  [25, null, 'text'],
  [26, null, 'oid'],
  [30, null, 'oidvector'],
  [114, null, 'json'],
  [700, null, 'real'],
  [701, null, 'double precision'],
  [1000, null, 'boolean[]'],
  [1002, null, '"char"[]'],
  [1009, null, 'text[]'],
  [1016, null, 'bigint[]'],
  [1042, null, 'character'],
  [1042, -1, 'bpchar'],
  [1042, 5, 'character(1)'],
  [1043, null, 'character varying'],
  [1043, -1, 'character varying'],
  [1043, 24, 'character varying(20)'],
  [1015, 24, 'character varying(20)[]'],
  [1082, null, 'date'],
  [1083, null, 'time without time zone'],
  [1083, 6, 'time(6) without time zone'],
  [1114, null, 'timestamp without time zone'],
  [1114, 3, 'timestamp(3) without time zone'],
  [1184, null, 'timestamp with time zone'],
  [1184, -1, 'timestamp with time zone'],
  [1184, 2, 'timestamp(2) with time zone'],
  [1186, null, 'interval'],
  [1186, -1, 'interval'],
  [1186, 470286339, 'interval day to second(3)'],
  [1186, 327679, 'interval year'],
  [1186, 201392127, 'interval hour to minute'],
  [1186, 2147418114, 'interval(2)'],
  [1266, null, 'time with time zone'],
  [1266, 3, 'time(3) with time zone'],
  [1560, null, 'bit'],
  [1560, -1, '"bit"'],
  [1560, 5, 'bit(5)'],
  [1562, null, 'bit varying'],
  [1562, 12, 'bit varying(12)'],
  [1700, null, 'numeric'],
  [1700, -1, 'numeric'],
  [1700, 655366, 'numeric(10,2)'],
  [1700, 1310724, 'numeric(20,0)'],
  [1231, 655366, 'numeric(10,2)[]'],
  [2205, null, 'regclass'],
  [2206, null, 'regtype'],
  [2249, null, 'record'],
  [2277, null, 'anyarray'],
  [3802, null, 'jsonb'],
  [13226, null, 'information_schema.sql_identifier'],
  [13224, null, 'information_schema.character_data'],
  [13225, null, 'information_schema.sql_identifier[]'],
  [23, 5, 'integer'],
  [25, 5, 'text(5)'],
  [16, 1, 'boolean'],
  [0, null, '-'],
  [99999, null, '???'],
  [600, null, 'point'],
  [1017, null, 'point[]'],
  [71, null, 'pg_type'],
  [210, null, 'pg_type[]'],
  [1034, null, 'aclitem[]'],
  [2950, null, 'uuid'],
  [3904, null, 'int4range'],
  [4451, null, 'int4multirange'],
  [3910, null, 'tstzrange'],
  [705, null, 'unknown'],
  [2278, null, 'void'],
  [24, null, 'regproc'],
  [4089, null, 'regnamespace'],
  [4096, null, 'regrole'],
  [869, null, 'inet'],
  [650, null, 'cidr'],
  [5069, null, 'xid8'],
  [3614, null, 'tsvector'],
  [1263, null, 'cstring[]'],
  [1082, 5, 'date(5)'],
];

describe('format_type', () => {
  const ctx = session();

  it.each(PAIRS)('format_type(%i, %s) = %s', (oid, typmod, expected) => {
    expect(formatType(ctx, oid, typmod)).toBe(expected);
  });

  it("names every built-in type as PostgreSQL does, and allot's row types", () => {
    const rows = fixture('timestamptz').regtype?.rows ?? [];
    expect(rows.length).toBe(635);
    const byName = new Map(rows.map(([oid, , shown]) => [Number(oid), shown]));
    for (const [oid, shown] of byName) {
      // allot's own types have allot's oids: compare those by name below.
      if (oid < 16_384) expect(formatType(ctx, oid, null), `oid ${oid}`).toBe(shown);
    }
    const bookings = typeByName(2200, 'bookings');
    expect(bookings === undefined ? undefined : formatType(ctx, bookings[0], null)).toBe('bookings');
    const array = typeByName(2200, '_bookings');
    expect(array === undefined ? undefined : formatType(ctx, array[0], null)).toBe('bookings[]');
  });

  it('qualifies a type whose schema is not on the search path', () => {
    const bookings = typeByName(2200, 'bookings')?.[0] ?? 0;
    // SET search_path = pg_catalog; SELECT format_type('public.bookings'::regtype, NULL) → public.bookings
    expect(formatType(session('timestamptz', { search_path: 'pg_catalog' }), bookings, null)).toBe('public.bookings');
    expect(formatType(session('timestamptz', { search_path: 'information_schema' }), 13_226, null)).toBe('sql_identifier');
  });
});
