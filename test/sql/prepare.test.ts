/** The parser stays off the hot path: plans are cached by text, and literals are lifted out. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { liftLiterals, liftSingleStatement, rewriteForParser, splitStatements, tokenize } from '../../src/sql/lexer.js';
import { plainDecimal, PlanCache, prepareExtended, prepareSimple } from '../../src/sql/prepare.js';

describe('plan cache', () => {
  it('plans simple statements that differ only in their literals once', () => {
    const cache = new PlanCache(100);
    const a = prepareSimple(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r1', 1000, 2000)`, cache)[0]!();
    const b = prepareSimple(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r2', 3000, 4000)`, cache)[0]!();
    expect(a.plan).toBe(b.plan);
    // The second took the one-pass reading: no lookup by the general key at all.
    expect([cache.size, cache.misses, cache.hits]).toEqual([1, 1, 0]);
    expect(a.values).toEqual(['r1', 1000, 2000]);
    expect(b.values).toEqual(['r2', 3000, 4000]);
    expect(b.text).toBe(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r2', 3000, 4000)`);
  });

  it('gives a statement the general path rewrites its plan through the general path every time', () => {
    const cache = new PlanCache(100);
    // deltat's bare `end` is quoted before parsing: the one-pass reading does not apply.
    for (const v of [5, 6, 7]) {
      const s = prepareSimple(`SELECT id FROM bookings WHERE end <= ${v}`, cache)[0]!();
      expect(s.values).toEqual([v]);
    }
    expect([cache.size, cache.misses, cache.hits]).toEqual([1, 1, 2]);
  });

  it('reads the values of a statement that takes the short way from its own text, errors included', () => {
    const cache = new PlanCache(100);
    const shape = (start: string): string => `SELECT id FROM bookings WHERE resource_id = 'r''1' AND start >= ${start};`;
    expect(prepareSimple(shape('10'), cache)[0]!().values).toEqual(["r'1", 10]);
    expect(prepareSimple(shape('20'), cache)[0]!().values).toEqual(["r'1", 20]);
    expect(cache.misses).toBe(1);
    // The plan wants a timestamp: a string literal is read as one, and a bad one is refused
    // when the statement runs, as on the general path.
    const s = `SELECT id FROM bookings WHERE start >= 'x'`;
    const first = prepareSimple(s, cache)[0]!;
    expect(() => first()).toThrow(/timestamp|time/);
    const text = `SELECT id FROM bookings WHERE start >= '2026-03-01T00:00:00Z'`;
    expect(prepareSimple(text, cache)[0]!().values).toEqual([Date.UTC(2026, 2, 1)]);
    const bad = prepareSimple(`SELECT id FROM bookings WHERE start >= 'not a time'`, cache)[0]!;
    expect(() => bad()).toThrow(/timestamp|time/);
  });

  it('reads a lifted literal as its column wants it: ISO text becomes milliseconds', () => {
    const cache = new PlanCache(100);
    const s = prepareSimple(`SELECT * FROM bookings WHERE start >= '2026-03-01T00:00:00Z' LIMIT 5`, cache)[0]!();
    expect(s.values).toEqual([Date.UTC(2026, 2, 1), 5]);
  });

  it("keeps SELECT 1 and SELECT '1' apart, and plans ORDER BY 1 from the text as written", () => {
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

  it('ends a -- comment at a carriage return too, as PostgreSQL does', () => {
    expect(tokenize('SELECT 1 -- c\r+ 2').map((t) => ('text' in t ? t.text : t.index))).toEqual(['SELECT', '1', '+', '2']);
    expect(splitStatements('SELECT 1 -- c\r; SELECT 2').map((s) => s.text)).toEqual(['SELECT 1', 'SELECT 2']);
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

  it("quotes deltat's bare end where it is a column, not where it ends a CASE", () => {
    const sql = `SELECT CASE WHEN x THEN 1 ELSE 2 END FROM t WHERE start >= 1 AND end <= 5`;
    expect(rewriteForParser(sql, tokenize(sql))).toBe(`SELECT CASE WHEN x THEN 1 ELSE 2 END FROM t WHERE start >= 1 AND "end" <= 5`);
  });

  it('quotes identifiers with a $ so the parser never mistakes them for a dollar quote', () => {
    const sql = `SELECT A$$ FROM t`;
    expect(rewriteForParser(sql, tokenize(sql))).toBe(`SELECT "a$$" FROM t`);
    expect(rewriteForParser('SELECT 1', tokenize('SELECT 1'))).toBeNull();
  });
});

/** Pieces of SQL text, the awkward ones included, for statements made at random. */
const PIECES = [
  'SELECT',
  'id',
  'FROM',
  'bookings',
  'WHERE',
  'start',
  '>=',
  'AND',
  'r1',
  '_x',
  'é',
  'Ab$c',
  'end',
  'END',
  'limit',
  'LIMIT',
  'all',
  'interval',
  'numeric',
  "'a'",
  "''",
  "'it''s'",
  "'a;b'",
  "'--'",
  "E'x'",
  "e'\\n'",
  "B'101'",
  "x'1f'",
  "N'n'",
  "U&'u'",
  "'unterminated",
  '"end"',
  '"a""b"',
  '"q;"',
  '"open',
  '1',
  '42',
  '007',
  '2147483647',
  '2147483648',
  '1.5',
  '1.',
  '.5',
  '1e5',
  '1E+3',
  '2e-1',
  '1e',
  '1.5e',
  '12ab',
  '(',
  ')',
  ',',
  '.',
  '::',
  '||',
  '->',
  '<=',
  '<>',
  '!=',
  '+',
  '-',
  '*',
  '/',
  '=',
  '[',
  ']',
  '&',
  '%',
  '\u0000',
  ';',
  '--c\n',
  '/* c */',
  '$1',
  '$$d$$',
  '$',
  '$tag$x$tag$',
];

describe('liftSingleStatement', () => {
  const general = (sql: string) => {
    let parts: ReturnType<typeof splitStatements>;
    try {
      parts = splitStatements(sql);
    } catch {
      return null;
    }
    if (parts.length !== 1) return null;
    const [{ text, tokens }] = parts as [(typeof parts)[0]];
    return { text, rewritten: rewriteForParser(text, tokens), ...liftLiterals(text, tokens) };
  };

  it("reads pgbench's statements, and psql's with their semicolon", () => {
    const sql = `INSERT INTO bookings (resource_id, start, "end") VALUES ('r' || 1234, 5460 * 60000, 5460 * 60000 + 3600000) ON CONFLICT DO NOTHING;\n`;
    const one = liftSingleStatement(sql);
    expect(one).toEqual({ text: sql.slice(0, -2), key: general(sql)!.key, literals: general(sql)!.literals });
    expect(one!.key).toBe(`INSERT INTO bookings (resource_id, start, "end") VALUES ($1 || $2, $3 * $4, $5 * $6 + $7) ON CONFLICT DO NOTHING\u0000siiiiii`);
  });

  it('agrees with tokenize, splitStatements and liftLiterals whenever it answers', () => {
    let answered = 0;
    let declined = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom('', ' ', '  ', '\n', '\t')), { maxLength: 14 }),
        fc.constantFrom('', ' ', '\n '),
        (parts, lead) => {
          const sql = lead + parts.map(([p, ws]) => p + ws).join('');
          const one = liftSingleStatement(sql);
          if (one === null) {
            declined++;
            return;
          }
          answered++;
          const g = general(sql);
          expect(g, sql).not.toBeNull();
          expect(g!.rewritten, sql).toBeNull();
          expect({ text: one.text, key: one.key, literals: one.literals }, sql).toEqual({ text: g!.text, key: g!.key, literals: g!.literals });
        },
      ),
      { numRuns: 3000 },
    );
    // Both ways were taken often enough for the comparison to mean something.
    expect(answered).toBeGreaterThan(300);
    expect(declined).toBeGreaterThan(300);
  });

  it('declines what it does not read: several statements, comments, dollar signs, prefixed strings, typed literals', () => {
    for (const sql of [
      'SELECT 1; SELECT 2',
      'SELECT 1 -- c',
      'SELECT /* c */ 1',
      'SELECT $1',
      'SELECT $$a$$',
      "SELECT E'a'",
      "SELECT interval '1 day'",
      'SELECT 1 LIMIT ALL',
      'SELECT "end" FROM t WHERE end > 1',
      "SELECT 'open",
      '',
      ' ; ',
    ]) {
      expect(liftSingleStatement(sql), sql).toBeNull();
    }
  });
});

describe('plainDecimal', () => {
  it('spells a numeric literal with an exponent as PostgreSQL prints it', () => {
    const cases: [string, string][] = [
      ['1e3', '1000'],
      ['1.50e1', '15.0'],
      ['1e-3', '0.001'],
      ['12.5e-1', '1.25'],
      ['-2.5E2', '-250'],
      ['0.0e0', '0.0'],
      ['.5e1', '5'],
      ['007e2', '700'],
      ['1.5', '1.5'],
      ['1e1001', '1e1001'],
    ];
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
