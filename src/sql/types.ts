/**
 * SQL types as allot uses them: the few PostgreSQL types its tables have, their OIDs, and
 * conversions between text (what clients send and receive) and JS values.
 */
import { AllotError, SqlState } from '../errors.js';

export const Oid = {
  bool: 16,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  unknown: 705,
  boolArray: 1000,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  varcharArray: 1015,
  int8Array: 1016,
  varchar: 1043,
  numeric: 1700,
} as const;

/** Type of a value in a row or expression, by how it is sent to clients. */
export type SqlType = 'int8' | 'int4' | 'text' | 'bool' | 'text[]' | 'numeric' | 'oid' | 'name' | 'int2' | 'unknown';

export const typeOid: Record<SqlType, number> = {
  int8: Oid.int8,
  int4: Oid.int4,
  int2: Oid.int2,
  text: Oid.text,
  bool: Oid.bool,
  'text[]': Oid.textArray,
  numeric: Oid.numeric,
  oid: Oid.oid,
  name: Oid.name,
  unknown: Oid.text,
};

export const typeSize: Record<SqlType, number> = { int8: 8, int4: 4, int2: 2, text: -1, bool: 1, 'text[]': -1, numeric: -1, oid: 4, name: 64, unknown: -1 };

/** The SQL type a client-declared parameter OID stands for (0: let the server infer it). */
export function typeOfOid(oid: number): SqlType | null {
  switch (oid) {
    case 0:
    case Oid.unknown:
      return null;
    case Oid.int8:
      return 'int8';
    case Oid.int4:
      return 'int4';
    case Oid.int2:
      return 'int2';
    case Oid.oid:
      return 'oid';
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
      return 'text';
    case Oid.bool:
      return 'bool';
    case Oid.textArray:
    case Oid.varcharArray:
      return 'text[]';
    case Oid.numeric:
      return 'numeric';
    default:
      return 'text';
  }
}

/** A value inside the executor. int8 values are JS numbers, always safe integers. */
export type Value = number | string | boolean | null | readonly (string | null)[];

/** What a parameter arrives as: text, or an array already decoded from binary. */
export type ParamValue = string | null | readonly (string | null)[];

const INT_RE = /^\s*[+-]?\d+\s*$/;

export function parseInt8(text: string, what = 'bigint'): number {
  if (!INT_RE.test(text)) throw new AllotError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${what}: "${clip(text)}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new AllotError(SqlState.numericValueOutOfRange, `value "${clip(text)}" is out of range: allot integers are limited to ±${Number.MAX_SAFE_INTEGER}`);
  }
  return n === 0 ? 0 : n; // no -0
}

const TRUE = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE = new Set(['f', 'false', 'n', 'no', 'off', '0']);

export function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  throw new AllotError(SqlState.invalidTextRepresentation, `invalid input syntax for type boolean: "${clip(text)}"`);
}

const ISO_RE = /^(\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A time: integer Unix milliseconds, or ISO-8601 text (`2026-03-01T09:00:00Z`, also with a
 * space, an offset like `+01:00`, or no zone, read as UTC). Fractions below a millisecond are
 * dropped.
 */
export function parseTime(text: string): number {
  const s = text.trim();
  if (INT_RE.test(s)) return parseInt8(s, 'bigint');
  const m = ISO_RE.exec(s);
  if (m === null) {
    throw new AllotError(SqlState.invalidDatetimeFormat, `invalid input syntax for a time: "${clip(text)}"`, {
      hint: 'Give Unix milliseconds (1772355600000) or ISO-8601 text (2026-03-01T09:00:00Z).',
    });
  }
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const ms = Number((frac + '000').slice(0, 3));
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(Number(h), Number(mi), Number(sec), ms);
  if (
    month < 1 || month > 12 || day < 1 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59 ||
    date.getUTCDate() !== day || date.getUTCMonth() !== month - 1
  ) {
    throw new AllotError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${clip(text)}"`);
  }
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return date.getTime() - offsetMin * 60_000;
}

/** Parses a one-dimensional array literal: `{a,"b c",NULL}`. */
export function parseTextArray(text: string): (string | null)[] {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) throw malformedArray(text, 'Array value must start with "{" and end with "}".');
  const out: (string | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  const skipSpace = (): void => {
    while (i < end && /\s/.test(s[i]!)) i++;
  };
  skipSpace();
  if (i === end) return out;
  for (;;) {
    skipSpace();
    if (s[i] === '"') {
      let v = '';
      i++;
      while (i < end && s[i] !== '"') {
        if (s[i] === '\\') i++;
        v += s[i] ?? '';
        i++;
      }
      if (s[i] !== '"') throw malformedArray(text, 'Unterminated quoted element.');
      i++;
      out.push(v);
    } else {
      let v = '';
      while (i < end && s[i] !== ',') {
        if (s[i] === '{' || s[i] === '}' || s[i] === '"') throw malformedArray(text, 'Only one-dimensional arrays of text are supported.');
        if (s[i] === '\\') i++;
        v += s[i] ?? '';
        i++;
      }
      v = v.trim();
      if (v.length === 0) throw malformedArray(text, 'Empty element.');
      out.push(v.toUpperCase() === 'NULL' ? null : v);
    }
    skipSpace();
    if (i === end) return out;
    if (s[i] !== ',') throw malformedArray(text, `Unexpected "${s[i]}".`);
    i++;
  }
}

function malformedArray(text: string, detail: string): AllotError {
  return new AllotError(SqlState.invalidTextRepresentation, `malformed array literal: "${clip(text)}"`, { detail });
}

/** Formats a text[] as PostgreSQL prints it. */
export function formatTextArray(xs: readonly (string | null)[]): string {
  return '{' + xs.map((x) => (x === null ? 'NULL' : needsQuotes(x) ? `"${x.replace(/[\\"]/g, (c) => '\\' + c)}"` : x)).join(',') + '}';
}

function needsQuotes(x: string): boolean {
  return x.length === 0 || /[{},"\\\s]/.test(x) || x.toUpperCase() === 'NULL';
}

/** Text form of a value, as sent in a DataRow with format 0. */
export function formatValue(v: Value): string | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return formatTextArray(v);
}

export function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
