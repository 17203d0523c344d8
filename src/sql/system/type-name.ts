/**
 * Type names as regtypein and to_regtype read them (PostgreSQL's parseTypeString): SQL's
 * multi-word names (`double precision`, `timestamp(3) with time zone`, `character varying(20)`),
 * schema-qualified catalog names, and array marks (`text[]`, `int4 array`). Typmods are read
 * and dropped, as regtype drops them.
 */
import { AllotError, SqlState } from '../../errors.js';
import { KEYWORD_CATEGORY, downcase } from './names.js';

/** A parsed name: the catalog name parts (or a built-in typname) and how many array marks. */
export interface ParsedTypeName {
  /** [typname] of a built-in SQL name, or the qualified name as written (lower-cased unless quoted). */
  readonly names: readonly string[];
  /** True when the name is one of SQL's (int, double precision, …): a pg_catalog typname. */
  readonly builtin: boolean;
  readonly array: boolean;
  /** The name as PostgreSQL's TypeNameToString prints it, for errors. */
  readonly display: string;
}

interface Token {
  readonly text: string;
  /** Lower-cased word of an unquoted identifier; undefined for quoted names and punctuation. */
  readonly word?: string;
  readonly quoted: boolean;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)|(\d+)|([()[\],.]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) throw syntaxError(text.slice(pos).trim()[0] ?? '');
    pos = re.lastIndex;
    if (m[1] !== undefined) out.push({ text: m[1].replaceAll('""', '"'), quoted: true });
    else if (m[2] !== undefined) out.push({ text: downcase(m[2]), word: downcase(m[2]), quoted: false });
    else out.push({ text: m[3] ?? m[4] ?? '', quoted: false });
  }
  return out;
}

/** PostgreSQL adds CONTEXT: invalid type name "…"; AllotError has no CONTEXT. */
function syntaxError(near: string): AllotError {
  return new AllotError(SqlState.syntaxError, `syntax error at or near "${near}"`);
}

function invalid(text: string): AllotError {
  return new AllotError(SqlState.syntaxError, `invalid type name "${text}"`);
}

/** Parses a type name; throws 42601 for what PostgreSQL's grammar refuses. */
export function parseTypeName(text: string): ParsedTypeName {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw invalid(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const isWord = (w: string): boolean => peek()?.word === w;
  const take = (yes: boolean): boolean => {
    if (yes) i++;
    return yes;
  };
  const accept = (w: string): boolean => take(isWord(w));
  const punct = (p: string): boolean => take(peek()?.quoted === false && peek()?.word === undefined && peek()?.text === p);
  /** `( n [, n]… )`: the typmod; integers only here. */
  const typmods = (): number[] => {
    if (!punct('(')) return [];
    const mods: number[] = [];
    for (;;) {
      const t = peek();
      if (t === undefined || !/^\d+$/.test(t.text) || t.quoted) throw syntaxError(t?.text ?? '');
      mods.push(Number(t.text));
      i++;
      if (punct(')')) return mods;
      if (!punct(',')) throw syntaxError(peek()?.text ?? '');
    }
  };
  const first = peek();
  if (first?.word === 'setof') throw invalid(text);
  const builtin = sqlName(
    tokens,
    () => i,
    (n) => (i = n),
    accept,
    typmods,
  );
  let names: string[];
  if (builtin !== undefined) {
    names = [builtin];
  } else {
    names = qualifiedName(
      tokens,
      () => i,
      (n) => (i = n),
      punct,
    );
    typmods();
  }
  let array = false;
  if (accept('array')) {
    array = true;
    if (punct('[')) {
      if (peek() !== undefined && /^\d+$/.test(peek()?.text ?? '')) i++;
      if (!punct(']')) throw syntaxError(peek()?.text ?? '');
    }
  }
  while (punct('[')) {
    array = true;
    if (peek() !== undefined && /^\d+$/.test(peek()?.text ?? '')) i++;
    if (!punct(']')) throw syntaxError(peek()?.text ?? '');
  }
  if (i < tokens.length) throw syntaxError(tokens[i]?.text ?? '');
  const display = (builtin !== undefined ? [builtin] : names).join('.') + (array ? '[]' : '');
  return { names, builtin: builtin !== undefined, array, display };
}

/** A catalog name `a[.b[.c]]`; an unquoted reserved keyword is a syntax error. */
function qualifiedName(tokens: Token[], at: () => number, to: (n: number) => void, punct: (p: string) => boolean): string[] {
  const names: string[] = [];
  for (;;) {
    const t = tokens[at()];
    if (t === undefined || (!t.quoted && t.word === undefined)) throw syntaxError(t?.text ?? '');
    if (!t.quoted && KEYWORD_CATEGORY.get(t.text) === 'R') throw syntaxError(t.text);
    names.push(t.text);
    to(at() + 1);
    if (!punct('.')) return names;
  }
}

/** SQL's own type names (gram.y's Numeric, Character, ConstDatetime, …), as pg_catalog typnames. */
function sqlName(tokens: Token[], at: () => number, to: (n: number) => void, accept: (w: string) => boolean, typmods: () => number[]): string | undefined {
  const start = at();
  const w = tokens[start]?.word;
  if (w === undefined) return undefined;
  to(start + 1);
  switch (w) {
    case 'int':
    case 'integer':
      return 'int4';
    case 'smallint':
      return 'int2';
    case 'bigint':
      return 'int8';
    case 'real':
      return 'float4';
    case 'boolean':
      return 'bool';
    case 'double':
      if (accept('precision')) return 'float8';
      to(start);
      return undefined;
    case 'float': {
      const [p] = typmods();
      if (p === undefined) return 'float8';
      if (p < 1) throw new AllotError(SqlState.invalidParameterValue, 'precision for type float must be at least 1 bit');
      if (p > 53) throw new AllotError(SqlState.invalidParameterValue, 'precision for type float must be less than 54 bits');
      return p <= 24 ? 'float4' : 'float8';
    }
    case 'dec':
    case 'decimal':
    case 'numeric':
      typmods();
      return 'numeric';
    case 'national':
      if (!accept('character') && !accept('char')) throw syntaxError(tokens[at()]?.text ?? '');
      return character(accept, typmods);
    case 'character':
    case 'char':
    case 'nchar':
      return character(accept, typmods);
    case 'varchar':
      typmods();
      return 'varchar';
    case 'bit': {
      const varying = accept('varying');
      typmods();
      return varying ? 'varbit' : 'bit';
    }
    case 'time':
    case 'timestamp': {
      typmods();
      let zone = false;
      if (accept('with')) zone = true;
      else if (!accept('without')) return w === 'time' ? 'time' : 'timestamp';
      if (!accept('time') || !accept('zone')) throw syntaxError(tokens[at()]?.text ?? '');
      return w === 'time' ? (zone ? 'timetz' : 'time') : zone ? 'timestamptz' : 'timestamp';
    }
    case 'interval':
      intervalFields(accept);
      typmods();
      return 'interval';
    default:
      to(start);
      return undefined;
  }
}

function character(accept: (w: string) => boolean, typmods: () => number[]): string {
  const varying = accept('varying');
  typmods();
  return varying ? 'varchar' : 'bpchar';
}

/** `year`, `day to second`, …: read and dropped with the typmod. */
function intervalFields(accept: (w: string) => boolean): void {
  const fields = ['year', 'month', 'day', 'hour', 'minute', 'second'];
  if (!fields.some((f) => accept(f))) return;
  if (accept('to')) fields.some((f) => accept(f));
}
