/** The parser stays off the hot path: plans are cached by text, and literals are lifted out. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { liftLiterals, rewriteForParser, splitStatements, tokenize } from '../../src/sql/lexer.js';
import { plainDecimal, PlanCache, prepareExtended, prepareSimple } from '../../src/sql/prepare.js';

describe('plan cache', () => {
  it('plans simple statements that differ only in their literals once', () => {
    const cache = new PlanCache(100);
    const a = prepareSimple(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r1', 1000, 2000)`, cache)[0]!();
    const b = prepareSimple(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r2', 3000, 4000)`, cache)[0]!();
    expect(a.plan).toBe(b.plan);
    expect([cache.size, cache.misses, cache.hits]).toEqual([1, 1, 1]);
    expect(a.values).toEqual(['r1', 1000, 2000]);
    expect(b.values).toEqual(['r2', 3000, 4000]);
  });

  it('reads a lifted literal as its column wants it: ISO text becomes milliseconds', () => {
    const cache = new PlanCache(100);
    const s = prepareSimple(`SELECT * FROM bookings WHERE start >= '2026-03-01T00:00:00Z' LIMIT 5`, cache)[0]!();
    expect(s.values).toEqual([Date.UTC(2026, 2, 1), 5]);
  });

  it('keeps SELECT 1 and SELECT \'1\' apart, and plans ORDER BY 1 from the text as written', () => {
    const cache = new PlanCache(100);
    const n = prepareSimple(`SELECT 1`, cache)[0]!();
    const t = prepareSimple(`SELECT '1'`, cache)[0]!();
    expect(n.plan).not.toBe(t.plan);
    expect(n.plan.columns![0]!.type).toBe('int4');
    expect(t.plan.columns![0]!.type).toBe('text');
    const o = prepareSimple(`SELECT id FROM resources ORDER BY 1`, cache)[0]!();
    expect(o.values).toEqual([]);
  });

  it('caches extended-protocol statements by text, and stays within its bound', () => {
    const cache = new PlanCache(3);
    const p1 = prepareExtended('SELECT * FROM bookings WHERE id = $1', [], cache);
    expect(prepareExtended('SELECT * FROM bookings WHERE id = $1', [], cache)).toBe(p1);
    for (let i = 0; i < 10; i++) prepareExtended(`SELECT ${i} AS x`, [], cache);
    expect(cache.size).toBe(3);
  });
});

describe('lexer', () => {
  it('splits statements on top-level semicolons only', () => {
    const parts = splitStatements(`SELECT 'a;b'; SELECT "x;y" FROM t -- c;\n; SELECT $$;$$;`).map((s) => s.text);
    expect(parts).toEqual([`SELECT 'a;b'`, `SELECT "x;y" FROM t`, `SELECT $$;$$`]);
  });

  it("lifts strings and numbers but not typed literals, and decodes E'' escapes", () => {
    const sql = `SELECT E'a\\nb', interval '1 day', 42, 3.5 FROM t`;
    const { key, literals } = liftLiterals(sql, tokenize(sql));
    expect(key).toBe(`SELECT $1, interval '1 day', $2, $3 FROM t\u0000sin`);
    expect(literals).toEqual([
      { kind: 'string', text: 'a\nb' },
      { kind: 'integer', text: '42' },
      { kind: 'numeric', text: '3.5' },
    ]);
  });

  it('quotes deltat\'s bare end where it is a column, not where it ends a CASE', () => {
    const sql = `SELECT CASE WHEN x THEN 1 ELSE 2 END FROM t WHERE start >= 1 AND end <= 5`;
    expect(rewriteForParser(sql, tokenize(sql))).toBe(`SELECT CASE WHEN x THEN 1 ELSE 2 END FROM t WHERE start >= 1 AND "end" <= 5`);
  });

  it('quotes identifiers with a $ so the parser never mistakes them for a dollar quote', () => {
    const sql = `SELECT A$$ FROM t`;
    expect(rewriteForParser(sql, tokenize(sql))).toBe(`SELECT "a$$" FROM t`);
    expect(rewriteForParser('SELECT 1', tokenize('SELECT 1'))).toBeNull();
  });
});

describe('plainDecimal', () => {
  it('spells a numeric literal with an exponent as PostgreSQL prints it', () => {
    const cases: [string, string][] = [['1e3', '1000'], ['1.50e1', '15.0'], ['1e-3', '0.001'], ['12.5e-1', '1.25'], ['-2.5E2', '-250'], ['0.0e0', '0.0'], ['.5e1', '5'], ['007e2', '700'], ['1.5', '1.5'], ['1e1001', '1e1001']];
    for (const [text, want] of cases) expect(plainDecimal(text), text).toBe(want);
  });

  it('keeps the value: the same number as the literal, and digits after the point as written less the exponent', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{0,7}$/), fc.stringMatching(/^\d{0,6}$/), fc.integer({ min: -20, max: 20 }), (int, frac, exp) => {
        const text = `${int}${frac.length > 0 ? `.${frac}` : ''}e${exp}`;
        const out = plainDecimal(text);
        expect(out).toMatch(/^\d+(\.\d+)?$/);
        expect(Number(out)).toBeCloseTo(Number(text), 10 - Math.max(0, Math.floor(Math.log10(Number(text)))));
        expect(out.split('.')[1]?.length ?? 0).toBe(Math.max(0, frac.length - exp));
      }),
      { numRuns: 500 },
    );
  });
});
