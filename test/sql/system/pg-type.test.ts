/**
 * pg_type: all of PostgreSQL 15's built-in rows, allot's row types, and references between
 * catalogs that resolve (every regproc a served row names is in pg_proc, every relation's row
 * type in pg_type).
 */
import { describe, expect, it } from 'vitest';
import { rowsOf, session } from './helpers.js';
import { regOut } from '../../../src/sql/system/reg.js';

const ctx = session();
const types = rowsOf(ctx, 'pg_type');

describe('pg_type', () => {
  it("has every built-in row and allot's 24", () => {
    // SELECT count(*) FROM pg_type → 635 after allot-schema.sql (611 built in: initdb's); typtype counts
    expect(types.length).toBe(635);
    expect(types.filter((t) => (t[0] as number) < 16_384).length).toBe(611);
    const byKind = (k: string): number => types.filter((t) => t[6] === k).length;
    // SELECT typtype, count(*) FROM pg_type GROUP BY 1 → r 6, c 220, m 6, p 26, b 372, d 5
    expect([byKind('b'), byKind('c'), byKind('d'), byKind('m'), byKind('p'), byKind('r')]).toEqual([372, 220, 5, 6, 26, 6]);
  });

  it("rows are PostgreSQL's, all 32 columns", () => {
    // SELECT * FROM pg_type WHERE oid IN (23, 1009, 13234) (regprocs shown by name)
    const show = (oid: number): (string | number | boolean | null)[] | undefined =>
      types
        .find((t) => t[0] === oid)
        ?.map((v, i) => ([12, 15, 16, 17, 18, 19, 20, 21].includes(i) ? regOut('regproc', v as number, ctx) : (v as string | number | boolean | null)));
    expect(show(23)).toEqual([
      23,
      'int4',
      11,
      10,
      4,
      true,
      'b',
      'N',
      false,
      true,
      ',',
      0,
      '-',
      0,
      1007,
      'int4in',
      'int4out',
      'int4recv',
      'int4send',
      '-',
      '-',
      '-',
      'i',
      'p',
      false,
      0,
      -1,
      0,
      0,
      null,
      null,
      null,
    ]);
    expect(show(1009)).toEqual([
      1009,
      '_text',
      11,
      10,
      -1,
      false,
      'b',
      'A',
      false,
      true,
      ',',
      0,
      'array_subscript_handler',
      25,
      0,
      'array_in',
      'array_out',
      'array_recv',
      'array_send',
      '-',
      '-',
      'array_typanalyze',
      'i',
      'x',
      false,
      0,
      -1,
      0,
      100,
      null,
      null,
      null,
    ]);
    expect(show(13_234)).toEqual([
      13_234,
      'yes_or_no',
      13_207,
      10,
      -1,
      false,
      'd',
      'S',
      false,
      true,
      ',',
      0,
      '-',
      0,
      13_233,
      'domain_in',
      'varcharout',
      'domain_recv',
      'varcharsend',
      '-',
      '-',
      '-',
      'i',
      'x',
      false,
      1043,
      7,
      0,
      950,
      null,
      null,
      null,
    ]);
  });

  it('every row names functions that pg_proc has, and types that pg_type has', () => {
    const procs = new Set(rowsOf(ctx, 'pg_proc').map((p) => p[0]));
    const oids = new Set(types.map((t) => t[0]));
    for (const t of types) {
      for (const i of [12, 15, 16, 17, 18, 19, 20, 21]) if (t[i] !== 0) expect(procs.has(t[i] ?? null), `${String(t[1])} column ${i}`).toBe(true);
      for (const i of [13, 14, 25]) if (t[i] !== 0) expect(oids.has(t[i] ?? null), `${String(t[1])} column ${i}`).toBe(true);
    }
  });

  it('every relation in pg_class has its row type, and it points back', () => {
    for (const r of rowsOf(ctx, 'pg_class').filter((c) => c[16] !== 'i')) {
      const t = types.find((x) => x[0] === r[3]);
      expect(t?.[11], String(r[1])).toBe(r[0]);
    }
  });
});
