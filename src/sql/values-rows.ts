/**
 * Long VALUES lists without the parser's quadratic cost. pgsql-ast-parser builds a list by
 * copying it once per item, so a 10,000-row INSERT took seconds and allocated gigabytes (every
 * byte of it promoted to the old generation, where it stayed until the next full collection and
 * slowed every young-generation pause after it). Rows spelled alike character for character,
 * their parameter numbers aside, with only whitespace between their tokens, are parsed once as
 * a single row and copied: the tree is the one the parser would have built for the whole text.
 * (allot's lexer and the parser's differ on comments and on `- 1` against `-1`; exact spelling
 * and no comments keep those differences out.) If the single row fails to parse, the whole text
 * is parsed, so errors keep their positions.
 */
import type { Expr, Statement } from 'pgsql-ast-parser';
import { isSpace, type Token } from './lexer.js';

/** A statement text reduced to its first VALUES row, and how to rebuild the others. */
export interface CollapsedRows {
  /** The text with the rows after the first left out. */
  readonly text: string;
  readonly rows: number;
  /** How much each row's parameter numbers exceed the row before's. */
  readonly paramStep: number;
}

/** Fewer rows than this are parsed as written: collapsing buys nothing. */
const MIN_ROWS = 4;

function isOp(t: Token | undefined, text: string): boolean {
  return t !== undefined && t.kind === 'op' && t.text === text;
}

function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'word' && words.includes(t.text.toLowerCase());
}

/** The index of the token closing the bracket opened at `open`, or -1. */
function closing(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') {
      if (--depth === 0) return k;
    }
  }
  return -1;
}

/** Two tokens spelled alike (their source text, not only their value: 'a' and E'a' differ). */
function sameSpelling(text: string, a: Token, b: Token): boolean {
  return a.kind === b.kind && a.end - a.start === b.end - b.start && text.startsWith(text.slice(a.start, a.end), b.start);
}

/** Bind carries at most 65,535 parameter values. */
const MAX_PARAM = 65_535;

/**
 * `$3`, not `$03`: the parser keeps a parameter's spelling, and copies are spelled plainly. No
 * more than the protocol allows, so numbers stay exact.
 */
function plainParam(t: Extract<Token, { kind: 'param' }>): boolean {
  return t.index <= MAX_PARAM && t.end - t.start === String(t.index).length + 1;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** Whether the gap before `a` (after `pa`) is spelled as the gap before `b` (after `pb`). */
function sameSpacing(text: string, pa: Token, a: Token, pb: Token, b: Token): boolean {
  const n = a.start - pa.end;
  return n === b.start - pb.end && (n === 0 || text.startsWith(text.slice(pa.end, a.start), pb.end));
}

/**
 * For `INSERT … VALUES (…), (…), … [ON CONFLICT …] [RETURNING …]` whose rows repeat one
 * another with their parameters numbered on (row r's `$k` is row 0's plus r times a step), the
 * text with only the first row; null for anything else. `tokens` are `text`'s own.
 */
export function collapseValuesRows(text: string, tokens: readonly Token[]): CollapsedRows | null {
  if (!isWord(tokens[0], 'insert')) return null;
  let depth = 0;
  let values = -1;
  for (let k = 0; k < tokens.length && values < 0; k++) {
    const t = tokens[k]!;
    if (t.kind === 'op') {
      if (t.text === '(' || t.text === '[') depth++;
      else if (t.text === ')' || t.text === ']') depth--;
    } else if (depth === 0 && isWord(t, 'values')) values = k;
    else if (depth === 0 && isWord(t, 'select', 'default')) return null;
  }
  if (values < 0) return null;
  const rows: [number, number][] = [];
  let k = values + 1;
  for (;;) {
    if (!isOp(tokens[k], '(')) return null;
    const end = closing(tokens, k);
    if (end < 0) return null;
    rows.push([k, end]);
    k = end + 1;
    if (!isOp(tokens[k], ',')) break;
    k++;
  }
  const after = tokens[k];
  if (after !== undefined && !isOp(after, ';') && !isWord(after, 'on', 'returning')) return null;
  if (rows.length < MIN_ROWS) return null;
  // Parameters after the rows would need renumbering in the shorter text: not worth it.
  for (let j = k; j < tokens.length; j++) if (tokens[j]!.kind === 'param') return null;
  const [first, firstEnd] = rows[0]!;
  const width = firstEnd - first;
  let lowest = Infinity;
  let perRow = 0;
  for (let i = first; i <= firstEnd; i++) {
    const t = tokens[i]!;
    if (t.kind === 'param') {
      if (!plainParam(t)) return null;
      perRow++;
      lowest = Math.min(lowest, t.index);
    }
  }
  // A parameter before the rows numbered among theirs would be renumbered with them.
  for (let j = 0; j < first; j++) {
    const t = tokens[j]!;
    if (t.kind === 'param' && t.index >= lowest) return null;
  }
  const lastEnd = rows[rows.length - 1]![1];
  // Only whitespace between the tokens of the rows: the parser reads comments its own way (it
  // lexes quotes inside them), so a row is never copied from one with a comment.
  for (let i = first; i < lastEnd; i++) if (!isBlank(text, tokens[i]!.end, tokens[i + 1]!.start)) return null;
  for (let r = 1; r < rows.length; r++) {
    const [start, end] = rows[r]!;
    if (end - start !== width) return null;
    const shift = r * perRow;
    for (let i = 0; i <= width; i++) {
      const a = tokens[first + i]!;
      const b = tokens[start + i]!;
      if (a.kind === 'param') {
        if (b.kind !== 'param' || b.index !== a.index + shift || !plainParam(b)) return null;
      } else if (!sameSpelling(text, a, b)) return null;
      // The same spacing too: the parser reads `- 1` and `-1` differently.
      if (i > 0 && !sameSpacing(text, tokens[first + i - 1]!, a, tokens[start + i - 1]!, b)) return null;
    }
  }
  return {
    text: text.slice(0, tokens[firstEnd]!.end) + text.slice(tokens[lastEnd]!.end),
    rows: rows.length,
    paramStep: perRow,
  };
}

/** A copy of `node` with every parameter `$k` made `$(k + by)`. */
function shifted<T>(node: T, by: number): T {
  if (Array.isArray(node)) return node.map((n: unknown) => shifted(n, by)) as T;
  if (node === null || typeof node !== 'object') return node;
  const src = node as Record<string, unknown>;
  if (src.type === 'parameter' && typeof src.name === 'string') return { ...src, name: `$${Number(src.name.slice(1)) + by}` } as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) out[key] = shifted(src[key], by);
  return out as T;
}

/**
 * The statement the whole text would have parsed to, from the parse of the collapsed text:
 * the first row copied `rows - 1` times with its parameters numbered on. Null when the parse
 * is not the one-row INSERT expected (the caller then parses the whole text).
 */
export function expandValuesRows(stmt: Statement, collapsed: CollapsedRows): Statement | null {
  if (stmt.type !== 'insert' || stmt.insert.type !== 'values' || stmt.insert.values.length !== 1) return null;
  const row = stmt.insert.values[0]!;
  const values: Expr[][] = [row];
  for (let r = 1; r < collapsed.rows; r++) values.push(shifted(row, r * collapsed.paramStep));
  return { ...stmt, insert: { ...stmt.insert, values } };
}
