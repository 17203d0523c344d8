/**
 * A small SQL lexer: enough to split a simple-protocol string into statements, to lift
 * literals out as parameters (so statements that differ only in their values share one plan),
 * and to read the utility statements pgsql-ast-parser does not know (LISTEN, SHOW, …).
 */
import { AllotError, SqlState } from '../errors.js';

export type Token =
  | { readonly kind: 'word'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'quoted'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'string'; readonly text: string; readonly start: number; readonly end: number; readonly liftable: boolean }
  | { readonly kind: 'number'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'param'; readonly index: number; readonly start: number; readonly end: number }
  | { readonly kind: 'op'; readonly text: string; readonly start: number; readonly end: number };

const isIdentStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
const isIdentPart = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

/** Where the number starting at `i` ends: digits, an optional fraction, an optional exponent. */
function numberEnd(sql: string, i: number): number {
  const n = sql.length;
  let j = i;
  while (j < n && isDigit(sql.charCodeAt(j))) j++;
  if (sql.charCodeAt(j) === 46) {
    j++;
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
  }
  if (
    (sql.charCodeAt(j) === 101 || sql.charCodeAt(j) === 69) &&
    (isDigit(sql.charCodeAt(j + 1)) || ((sql[j + 1] === '+' || sql[j + 1] === '-') && isDigit(sql.charCodeAt(j + 2))))
  ) {
    j += 2;
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
  }
  return j;
}

/** A numeric literal's kind as PostgreSQL types it: int4 if it fits, else int8; numeric with a point or exponent. */
function numberKind(text: string): LiftedLiteral['kind'] {
  for (let k = 0; k < text.length; k++) if (!isDigit(text.charCodeAt(k))) return 'numeric';
  return Number(text) <= 2_147_483_647 ? 'integer' : 'bigint';
}

function unterminated(what: string, at: number): AllotError {
  return new AllotError(SqlState.syntaxError, `unterminated ${what} at character ${at + 1}`);
}

/**
 * Tokenises one or more statements. Comments and whitespace are dropped; `;` is an op token.
 * String tokens carry their decoded value.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      while (i < n && sql.charCodeAt(i) !== 10 && sql.charCodeAt(i) !== 13) i++;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const start = i;
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw unterminated('/* comment', start);
    } else if (c === 39) {
      const [text, end] = readQuoted(sql, i, 39, false);
      out.push({ kind: 'string', text, start: i, end, liftable: true });
      i = end;
    } else if ((c === 69 || c === 101) && sql.charCodeAt(i + 1) === 39) {
      const [text, end] = readQuoted(sql, i + 1, 39, true);
      out.push({ kind: 'string', text, start: i, end, liftable: true });
      i = end;
    } else if ((c === 66 || c === 98 || c === 88 || c === 120 || c === 85 || c === 117 || c === 78 || c === 110) && sql.charCodeAt(i + 1) === 39) {
      // B'…', X'…', U&'…' forms and N'…': kept in place, never lifted.
      const [text, end] = readQuoted(sql, i + 1, 39, false);
      out.push({ kind: 'string', text, start: i, end, liftable: false });
      i = end;
    } else if (c === 34) {
      const [text, end] = readQuoted(sql, i, 34, false);
      out.push({ kind: 'quoted', text, start: i, end });
      i = end;
    } else if (c === 36 && isDigit(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      out.push({ kind: 'param', index: Number(sql.slice(i + 1, j)), start: i, end: j });
      i = j;
    } else if (c === 36) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m === null) {
        out.push({ kind: 'op', text: '$', start: i, end: i + 1 });
        i++;
        continue;
      }
      const tag = m[0];
      const close = sql.indexOf(tag, i + tag.length);
      if (close < 0) throw unterminated('dollar-quoted string', i);
      out.push({ kind: 'string', text: sql.slice(i + tag.length, close), start: i, end: close + tag.length, liftable: true });
      i = close + tag.length;
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      const j = numberEnd(sql, i);
      out.push({ kind: 'number', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      out.push({ kind: 'word', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const len = ['::', '<=', '>=', '<>', '!=', '||', '->'].includes(two) ? 2 : 1;
      out.push({ kind: 'op', text: sql.slice(i, i + len), start: i, end: i + len });
      i += len;
    }
  }
  return out;
}

function readQuoted(sql: string, at: number, quote: number, escapes: boolean): [string, number] {
  let i = at + 1;
  let text = '';
  let from = i;
  for (;;) {
    if (i >= sql.length) throw unterminated(quote === 34 ? 'quoted identifier' : 'quoted string', at);
    const c = sql.charCodeAt(i);
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        text += sql.slice(from, i + 1);
        i += 2;
        from = i;
        continue;
      }
      text += sql.slice(from, i);
      return [text, i + 1];
    }
    if (escapes && c === 92) {
      text += sql.slice(from, i);
      const e = sql[i + 1];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'", '"': '"' };
      if (e !== undefined && map[e] !== undefined) {
        text += map[e];
        i += 2;
      } else if (e === 'x') {
        const m = /^[0-9A-Fa-f]{1,2}/.exec(sql.slice(i + 2, i + 4))?.[0] ?? '';
        text += String.fromCharCode(parseInt(m || '0', 16));
        i += 2 + m.length;
      } else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = sql.slice(i + 2, i + 2 + len);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) throw new AllotError(SqlState.syntaxError, 'invalid Unicode escape in string');
        text += String.fromCodePoint(parseInt(hex, 16));
        i += 2 + len;
      } else if (e !== undefined && e >= '0' && e <= '7') {
        const m = /^[0-7]{1,3}/.exec(sql.slice(i + 1, i + 4))![0];
        text += String.fromCharCode(parseInt(m, 8));
        i += 1 + m.length;
      } else {
        text += e ?? '';
        i += 2;
      }
      from = i;
      continue;
    }
    i++;
  }
}

/** Splits a simple-protocol string into statements (without their `;`), dropping empty ones. */
export function splitStatements(sql: string, tokens: readonly Token[] = tokenize(sql)): { text: string; tokens: Token[] }[] {
  const out: { text: string; tokens: Token[] }[] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'op' && t.text === ';') {
      if (cur.length > 0) out.push({ text: sql.slice(cur[0]!.start, cur[cur.length - 1]!.end), tokens: cur });
      cur = [];
    } else cur.push(t);
  }
  if (cur.length > 0) out.push({ text: sql.slice(cur[0]!.start, cur[cur.length - 1]!.end), tokens: cur });
  return out;
}

/** A constant lifted out of statement text, in the order of its new parameter number. */
export interface LiftedLiteral {
  /** integer: fits int4, as PostgreSQL types `1`; bigint: a larger integer. */
  readonly kind: 'string' | 'integer' | 'bigint' | 'numeric';
  readonly text: string;
}

/** Words after which a string literal is a typed literal (`interval '1 day'`): never lifted. */
const TYPE_WORDS = new Set([
  'interval',
  'timestamp',
  'timestamptz',
  'date',
  'time',
  'timetz',
  'json',
  'jsonb',
  'uuid',
  'bytea',
  'numeric',
  'inet',
  'cidr',
  'bit',
  'varbit',
  'point',
]);

/**
 * Rewrites a statement with its string and numeric constants replaced by `$n` parameters
 * numbered after any it already has, so statements that differ only in their values share a
 * plan. The key records each lifted constant's kind, since `SELECT 1` and `SELECT '1'` differ.
 */
export function liftLiterals(text: string, tokens: readonly Token[]): { key: string; literals: LiftedLiteral[] } {
  let maxParam = 0;
  for (const t of tokens) if (t.kind === 'param' && t.index > maxParam) maxParam = t.index;
  const base = tokens.length > 0 ? tokens[0]!.start : 0;
  const literals: LiftedLiteral[] = [];
  let key = '';
  let from = base;
  let kinds = '';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const prev = tokens[k - 1];
    let lifted: LiftedLiteral | null = null;
    if (t.kind === 'string' && t.liftable && !(prev?.kind === 'word' && TYPE_WORDS.has(prev.text.toLowerCase()))) lifted = { kind: 'string', text: t.text };
    else if (t.kind === 'number') lifted = { kind: numberKind(t.text), text: t.text };
    if (lifted === null) continue;
    key += `${text.slice(from - base, t.start - base)}$${maxParam + literals.length + 1}`;
    from = t.end;
    literals.push(lifted);
    const kind = lifted.kind;
    kinds += kind[0];
  }
  key += text.slice(from - base);
  return { key: kinds.length > 0 ? `${key}\u0000${kinds}` : key, literals };
}

const BEFORE_COLUMN = new Set(['(', ',', 'and', 'or', 'where', 'set', 'by', 'select', 'not', 'returning', '.']);

/**
 * Rewrites what pgsql-ast-parser reads badly, or returns null when there is nothing to do:
 *
 * - deltat's SQL writes the column `end` unquoted (`AND end <= 5`), which PostgreSQL's grammar
 *   rejects as the keyword END. It is quoted where it stands as a column: right after `(`, `,`,
 *   AND, OR, WHERE, SET, BY, SELECT, NOT, RETURNING or `.`; the END of a CASE never follows
 *   those.
 * - An identifier with a `$` in it (`a$$`) is legal SQL, but the parser takes the `$$` for the
 *   start of a dollar quote and backtracks exponentially over what follows: 150 bytes held the
 *   server for seconds. Such identifiers are quoted (folded to lower case, as PostgreSQL does).
 */
export function rewriteForParser(text: string, tokens: readonly Token[]): string | null {
  const fields = rewriteFieldAccess(text, tokens);
  if (fields !== null) return rewriteForParser(fields, tokenize(fields)) ?? fields;
  const base = tokens.length > 0 ? tokens[0]!.start : 0;
  let out = '';
  let from = 0;
  // For each open parenthesis: whether it is CAST's, where AS is followed by a type, not an alias.
  const parens: boolean[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'op' && t.text === '(') parens.push(k > 0 && isWord(tokens[k - 1], 'cast'));
    else if (t.kind === 'op' && t.text === ')') parens.pop();
    if (t.kind !== 'word') continue;
    let replacement: string | null = null;
    let upTo = t.end;
    const next = tokens[k + 1];
    const lower = t.text.toLowerCase();
    if (t.text.includes('$')) replacement = `"${lower}"`;
    // An alias may be any word, keywords too (`AS default`), which the parser refuses: quoted.
    else if (lower === 'as' && next?.kind === 'word' && parens[parens.length - 1] !== true) {
      replacement = `${t.text} "${next.text.toLowerCase()}"`;
      upTo = next.end;
      k++;
    }
    // COLLATE: allot compares text by code point whatever the collation; dropped with its name.
    else if (lower === 'collate' && k > 0 && (next?.kind === 'word' || next?.kind === 'quoted')) {
      let j = k + 1;
      while (isOp(tokens[j + 1], '.') && (tokens[j + 2]?.kind === 'word' || tokens[j + 2]?.kind === 'quoted')) j += 2;
      replacement = '';
      upTo = tokens[j]!.end;
      k = j;
    }
    // LIMIT ALL is no limit at all; the parser does not know the spelling.
    else if (t.text.toLowerCase() === 'limit' && next?.kind === 'word' && next.text.toLowerCase() === 'all') {
      replacement = '';
      upTo = next.end;
      k++;
    } else if (k > 0 && t.text.toLowerCase() === 'end') {
      const prev = tokens[k - 1]!;
      const prevText = prev.kind === 'word' || prev.kind === 'op' ? prev.text.toLowerCase() : '';
      if (BEFORE_COLUMN.has(prevText)) replacement = '"end"';
    }
    if (replacement === null) continue;
    out += text.slice(from, t.start - base) + replacement;
    from = upTo - base;
  }
  return from === 0 ? null : out + text.slice(from);
}

/**
 * `(expr).field`, a field of a record (`(information_schema._pg_expandarray(indkey)).n`), which
 * the parser does not read: becomes `__field((expr), 'field')`. Null when there is none.
 */
function rewriteFieldAccess(text: string, tokens: readonly Token[]): string | null {
  const base = tokens.length > 0 ? tokens[0]!.start : 0;
  const open: number[] = [];
  const edits: { at: number; end: number; text: string }[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (isOp(t, '(')) open.push(k);
    else if (isOp(t, ')')) {
      const o = open.pop();
      const field = tokens[k + 2];
      if (o === undefined || !isOp(tokens[k + 1], '.') || (field?.kind !== 'word' && field?.kind !== 'quoted')) continue;
      // A parenthesised expression, not a call's argument list (`f(x).y` is not SQL).
      const before = tokens[o - 1];
      if (before !== undefined && (before.kind === 'word' || before.kind === 'quoted') && !KEYWORDS_BEFORE_PAREN.has(before.text.toLowerCase())) continue;
      const name = field.kind === 'word' ? field.text.toLowerCase() : field.text;
      edits.push({ at: tokens[o]!.start - base, end: tokens[o]!.start - base, text: '__field(' });
      edits.push({ at: t.end - base, end: field.end - base, text: `, '${name.replace(/'/g, "''")}')` });
    }
  }
  if (edits.length === 0) return null;
  edits.sort((a, b) => a.at - b.at || (a.end === a.at ? -1 : 1));
  let out = '';
  let from = 0;
  for (const e of edits) {
    out += text.slice(from, e.at) + e.text;
    from = e.end;
  }
  return out + text.slice(from);
}

/** Words after which `(` opens an expression, not a call. */
const KEYWORDS_BEFORE_PAREN: ReadonlySet<string> = new Set([
  'select',
  'where',
  'and',
  'or',
  'not',
  'on',
  'when',
  'then',
  'else',
  'in',
  'by',
  'as',
  'is',
  'from',
  'having',
  'distinct',
  'return',
  'returning',
  'set',
  'values',
  'case',
]);

function isWord(t: Token | undefined, w: string): boolean {
  return t?.kind === 'word' && t.text.toLowerCase() === w;
}

function isOp(t: Token | undefined, op: string): boolean {
  return t?.kind === 'op' && t.text === op;
}

/** readQuoted without escapes, or null for a quote left open (the general path reports it). */
function readQuotedOrNull(sql: string, at: number, quote: number): [string, number] | null {
  try {
    return readQuoted(sql, at, quote, false);
  } catch {
    return null;
  }
}

/** One statement's text with its literals lifted, as liftLiterals gives it. */
export interface LiftedStatement {
  /** The statement without surrounding whitespace or its `;`. */
  readonly text: string;
  readonly key: string;
  readonly literals: LiftedLiteral[];
}

/**
 * What tokenize, splitStatements and liftLiterals give for a string holding one plain statement,
 * in one pass and without token objects: the simple protocol's hot path (a driver or pgbench
 * sending `INSERT … VALUES ('r1', 1000, 2000)` with the values in the text). Returns null for
 * anything it does not cover, and the caller takes the general path: several statements,
 * comments, `$` anywhere, prefixed strings (E'…', B'…', X'…', N'…'), a string after a type
 * name, unterminated quotes, and the words the parser rewrite touches (`end`, `limit`).
 */
export function liftSingleStatement(sql: string): LiftedStatement | null {
  if (sql.indexOf('$') >= 0) return null;
  const n = sql.length;
  const literals: LiftedLiteral[] = [];
  let first = -1; // start of the first token
  let last = -1; // end of the last token
  let key = '';
  let kinds = '';
  let from = -1; // where the next verbatim piece of the key starts
  let prevWord: string | null = null; // the previous token, when it was a word
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 59) {
      // `;`: only a last one, followed by nothing but whitespace.
      for (let j = i + 1; j < n; j++) if (!isSpace(sql.charCodeAt(j))) return null;
      break;
    }
    if ((c === 45 && sql.charCodeAt(i + 1) === 45) || (c === 47 && sql.charCodeAt(i + 1) === 42)) return null;
    if (first < 0) first = from = i;
    let end: number;
    let lifted: LiftedLiteral | null = null;
    let word: string | null = null;
    if (c === 39) {
      if (prevWord !== null && TYPE_WORDS.has(prevWord.toLowerCase())) return null;
      const quoted = readQuotedOrNull(sql, i, 39);
      if (quoted === null) return null;
      end = quoted[1];
      lifted = { kind: 'string', text: quoted[0] };
    } else if (c === 34) {
      const quoted = readQuotedOrNull(sql, i, 34);
      if (quoted === null) return null;
      end = quoted[1];
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      end = numberEnd(sql, i);
      const text = sql.slice(i, end);
      lifted = { kind: numberKind(text), text };
    } else if (isIdentStart(c)) {
      // E'…', B'…', X'…', U'…', N'…': prefixed strings.
      if (
        sql.charCodeAt(i + 1) === 39 &&
        (c === 69 || c === 101 || c === 66 || c === 98 || c === 88 || c === 120 || c === 85 || c === 117 || c === 78 || c === 110)
      )
        return null;
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      end = j;
      word = sql.slice(i, j);
      if (word.length === 3 || word.length === 5) {
        const w = word.toLowerCase();
        if (w === 'end' || w === 'limit') return null;
      }
    } else {
      end = i + 1;
    }
    if (lifted !== null) {
      key += `${sql.slice(from, i)}$${literals.length + 1}`;
      from = end;
      literals.push(lifted);
      kinds += lifted.kind[0];
    }
    prevWord = word;
    last = end;
    i = end;
  }
  if (first < 0) return null;
  key += sql.slice(from, last);
  return { text: sql.slice(first, last), key: kinds.length > 0 ? `${key}\u0000${kinds}` : key, literals };
}
