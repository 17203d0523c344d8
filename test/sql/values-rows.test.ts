/** Long VALUES lists are parsed once per row shape: the tree must be the parser's own. */
import fc from 'fast-check';
import { parse } from 'pgsql-ast-parser';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/sql/lexer.js';
import { parseOne, parseStatement } from '../../src/sql/prepare.js';
import { collapseValuesRows } from '../../src/sql/values-rows.js';

/** Pieces of one row; `?` is a parameter, numbered as the row is written out. */
const ITEMS = [
  '?',
  '? * - 1',
  '? - 1',
  '? || ?',
  "'r' || ?",
  '? * 60000',
  '? * 60000 + 3600000',
  'now()',
  'DEFAULT',
  'NULL',
  "'x'",
  "E'x'",
  '42',
  '?::int8',
  'ARRAY[?, ?]',
  '(? + 1)',
  "timestamptz '2026-01-01'",
  'lower(?)',
  '-?',
];
/**
 * What a single row may be changed to: besides the items, pieces the parser reads otherwise
 * than allot's lexer (spacing around a minus, comments, a quote inside a comment).
 */
const CHANGES = [...ITEMS, '? * -1', '? * - 1', '? -1', '? /* c */', '? -- x\r + 1\n', "? /* it's */", '? ->> 1', '? -> > 1', '?  +  1'];
const TAILS = [
  '',
  ' ON CONFLICT DO NOTHING',
  ' RETURNING id',
  ' ON CONFLICT (id) DO UPDATE SET label = excluded.label RETURNING id, label',
  ';',
  ' RETURNING a \\',
  ' RETURNING',
];

/** The tree, or the error's message: the two ways must agree on failures too. */
function outcome(parse: () => unknown): unknown {
  try {
    return { tree: parse() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** A change to one row: in row `row`, item `item` (modulo the row's length) becomes `to`. */
type Change = { row: number; item: number; to: string } | null;

/**
 * A change to one row's spelling that allot's lexer does not see but the parser may: comments
 * (one ended by a carriage return, one holding a quote), and spacing.
 */
const TWEAKS = {
  comment: (row: string) => `${row} /* c */`,
  dashdash: (row: string) => `${row} -- x\r + 1\n`,
  quoteInComment: (row: string) => `${row} /* it's */`,
  widen: (row: string) => row.replace(' ', '  '),
  narrow: (row: string) => (row.includes('- ') ? row.replace('- ', '-') : row.replace(', ', ',')),
} as const;
/** `row` -1 tweaks every row alike. */
type Tweak = { row: number; how: keyof typeof TWEAKS } | null;

/**
 * `rows` copies of the row, parameters numbered on from `first`; `skew` breaks one number,
 * `change` one item, `tweak` one row's spelling.
 */
function statement(items: string[], rows: number, first: number, tail: string, skew: number | null, change: Change = null, tweak: Tweak = null): string {
  let n = first;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const mine = change?.row === r ? items.map((it, i) => (i === change.item % items.length ? change.to : it)) : items;
    const row = mine.map((it) => it.replace(/\?/g, () => `$${n++ + (skew === r ? 1 : 0)}`)).join(', ');
    out.push(`(${tweak !== null && (tweak.row === r || tweak.row < 0) ? TWEAKS[tweak.how](row) : row})`);
  }
  return `INSERT INTO bookings (${items.map((_, i) => `c${i}`).join(', ')}) VALUES ${out.join(',\n ')}${tail}`;
}

describe('VALUES rows parsed once', () => {
  it('gives the tree the parser gives for the whole text, whether or not the rows collapse', () => {
    let collapsed = 0;
    let whole = 0;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...CHANGES), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...TAILS),
        fc.option(fc.integer({ min: 1, max: 11 }), { freq: 2 }),
        fc.option(fc.record({ row: fc.integer({ min: 1, max: 11 }), item: fc.nat(4), to: fc.constantFrom(...CHANGES) }), { freq: 2 }),
        fc.option(fc.record({ row: fc.integer({ min: -1, max: 11 }), how: fc.constantFrom(...(Object.keys(TWEAKS) as (keyof typeof TWEAKS)[])) }), { freq: 2 }),
        (items, rows, first, tail, skew, change, tweak) => {
          const sql = statement(items, rows, first, tail, skew, change, tweak);
          if (collapseValuesRows(sql, tokenize(sql)) === null) whole++;
          else collapsed++;
          expect(
            outcome(() => parseStatement(sql)),
            sql,
          ).toEqual(outcome(() => parseOne(sql)));
        },
      ),
      { numRuns: 800 },
    );
    expect(collapsed).toBeGreaterThan(60); // about 130 of 800 on average
    expect(whole).toBeGreaterThan(300);
  });

  it('collapses rows that repeat with parameters numbered on, and only those', () => {
    const reduce = (sql: string) => collapseValuesRows(sql, tokenize(sql));
    expect(reduce(`INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8) ON CONFLICT DO NOTHING`)).toEqual({
      text: 'INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      rows: 4,
      paramStep: 2,
    });
    expect(reduce(`INSERT INTO t (a) VALUES (now()), (now()), (now()), (now())`)).toEqual({ text: 'INSERT INTO t (a) VALUES (now())', rows: 4, paramStep: 0 });
    for (const sql of [
      `INSERT INTO t (a) VALUES ($1), ($2), ($3)`, // too few to bother
      `INSERT INTO t (a) VALUES ($1), ($2), ($4), ($5)`, // numbering skips
      `INSERT INTO t (a) VALUES ($1), ($02), ($3), ($4)`, // a number spelled with a zero
      `INSERT INTO t (a) VALUES ($1 * -1), ($2 * - 1), ($3 * -1), ($4 * -1)`, // spaced otherwise
      `INSERT INTO t (a) VALUES ($1 /* c */), ($2 /* c */), ($3 /* c */), ($4 /* c */)`, // comments, even alike
      `INSERT INTO t (a) VALUES ($1), ($2), ($3), ($4 -- c\r\n)`,
      `INSERT INTO t (a) VALUES ($70000), ($70001), ($70002), ($70003)`, // beyond what Bind can carry
      `INSERT INTO t (a) VALUES ($1), ($2), ($3), ($4 + 1)`, // a row differs
      `INSERT INTO t (a) VALUES ('a'), ('a'), ('a'), (E'a')`, // same value, spelled otherwise
      `INSERT INTO t (a) VALUES ($2), ($3), ($4), ($5) RETURNING $1`, // a parameter after the rows
      `INSERT INTO t (a) SELECT * FROM (VALUES ($1), ($2), ($3), ($4)) v`,
      `INSERT INTO t (a, b) VALUES ($1, $5), ($2, $6), ($3, $7), ($4, $8)`, // columns numbered down the rows
      `SELECT * FROM (VALUES ($1), ($2), ($3), ($4)) v`,
    ]) {
      expect(reduce(sql), sql).toBeNull();
    }
  });

  it('parses 10,000 rows alike in linear time (the parser alone is quadratic: seconds and gigabytes)', () => {
    const sql = statement(['?', '? * 60000', '? * 60000 + 3600000'], 10_000, 1, ' ON CONFLICT DO NOTHING', null);
    const stmt = parseStatement(sql);
    expect(stmt.type === 'insert' && stmt.insert.type === 'values' && stmt.insert.values.length).toBe(10_000);
    const rows = stmt.type === 'insert' && stmt.insert.type === 'values' ? stmt.insert.values : [];
    const alone = parse(`INSERT INTO t (a, b, c) VALUES ($29998, $29999 * 60000, $30000 * 60000 + 3600000)`)[0]!;
    expect(rows[9_999]).toEqual(alone.type === 'insert' && alone.insert.type === 'values' ? alone.insert.values[0] : null);
  });
});
