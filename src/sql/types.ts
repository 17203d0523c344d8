/**
 * SQL types as allot uses them: the few PostgreSQL types its tables have, their OIDs, and
 * conversions between text (what clients send and receive) and JS values.
 */
import { AllotError, SqlState } from '../errors.js';
import { parseTimestamptz } from './time.js';

export const Oid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int2vector: 22,
  int4: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  xid: 28,
  oidvector: 30,
  json: 114,
  pgNodeTree: 194,
  float4: 700,
  float8: 701,
  unknown: 705,
  boolArray: 1000,
  charArray: 1002,
  nameArray: 1003,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  varcharArray: 1015,
  int8Array: 1016,
  oidArray: 1028,
  aclitemArray: 1034,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  timestamptzArray: 1185,
  interval: 1186,
  numeric: 1700,
  regclass: 2205,
  regtype: 2206,
  record: 2249,
  anyarray: 2277,
  void: 2278,
  jsonb: 3802,
  regnamespace: 4089,
  regrole: 4096,
} as const;

/**
 * Type of a value in a row or expression, by how it is sent to clients. Values of array types
 * are arrays of their elements' text (a timestamptz[] of milliseconds' text, shown in the session's
 * TimeZone); reg* types are oids (numbers) shown by name.
 */
export type SqlType =
  | 'int8'
  | 'int4'
  | 'int2'
  | 'text'
  | 'bool'
  | 'text[]'
  | 'numeric'
  | 'oid'
  | 'name'
  | 'unknown'
  | 'char'
  | 'varchar'
  | 'bytea'
  | 'float4'
  | 'float8'
  | 'int2vector'
  | 'oidvector'
  | 'regproc'
  | 'regclass'
  | 'regtype'
  | 'regnamespace'
  | 'regrole'
  | 'xid'
  | 'pg_node_tree'
  | 'json'
  | 'jsonb'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'record'
  | 'void'
  | 'anyarray'
  | 'bool[]'
  | 'char[]'
  | 'name[]'
  | 'int2[]'
  | 'int4[]'
  | 'int8[]'
  | 'timestamptz[]'
  | 'oid[]'
  | 'aclitem[]';

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
  char: Oid.char,
  varchar: Oid.varchar,
  bytea: Oid.bytea,
  float4: Oid.float4,
  float8: Oid.float8,
  int2vector: Oid.int2vector,
  oidvector: Oid.oidvector,
  regproc: Oid.regproc,
  regclass: Oid.regclass,
  regtype: Oid.regtype,
  regnamespace: Oid.regnamespace,
  regrole: Oid.regrole,
  xid: Oid.xid,
  pg_node_tree: Oid.pgNodeTree,
  json: Oid.json,
  jsonb: Oid.jsonb,
  date: Oid.date,
  timestamp: Oid.timestamp,
  timestamptz: Oid.timestamptz,
  interval: Oid.interval,
  record: Oid.record,
  void: Oid.void,
  anyarray: Oid.anyarray,
  'bool[]': Oid.boolArray,
  'char[]': Oid.charArray,
  'name[]': Oid.nameArray,
  'int2[]': Oid.int2Array,
  'int4[]': Oid.int4Array,
  'int8[]': Oid.int8Array,
  'timestamptz[]': Oid.timestamptzArray,
  'oid[]': Oid.oidArray,
  'aclitem[]': Oid.aclitemArray,
};

/** pg_type.typlen of each type: bytes of a fixed-size value, -1 for variable size. */
export const typeSize: Record<SqlType, number> = {
  int8: 8,
  int4: 4,
  int2: 2,
  text: -1,
  bool: 1,
  'text[]': -1,
  numeric: -1,
  oid: 4,
  name: 64,
  unknown: -1,
  char: 1,
  varchar: -1,
  bytea: -1,
  float4: 4,
  float8: 8,
  int2vector: -1,
  oidvector: -1,
  regproc: 4,
  regclass: 4,
  regtype: 4,
  regnamespace: 4,
  regrole: 4,
  xid: 4,
  pg_node_tree: -1,
  json: -1,
  jsonb: -1,
  date: 4,
  timestamp: 8,
  timestamptz: 8,
  interval: 16,
  record: -1,
  void: 4,
  anyarray: -1,
  'bool[]': -1,
  'char[]': -1,
  'name[]': -1,
  'int2[]': -1,
  'int4[]': -1,
  'int8[]': -1,
  'timestamptz[]': -1,
  'oid[]': -1,
  'aclitem[]': -1,
};

/** The element type of an array type, or undefined for a scalar. */
export function elementType(t: SqlType): SqlType | undefined {
  switch (t) {
    case 'text[]':
      return 'text';
    case 'bool[]':
      return 'bool';
    case 'char[]':
      return 'char';
    case 'name[]':
      return 'name';
    case 'int2[]':
      return 'int2';
    case 'int4[]':
      return 'int4';
    case 'int8[]':
      return 'int8';
    case 'timestamptz[]':
      return 'timestamptz';
    case 'oid[]':
      return 'oid';
    case 'aclitem[]':
      return 'text';
    case 'int2vector':
      return 'int2';
    case 'oidvector':
      return 'oid';
    default:
      return undefined;
  }
}

/** The SQL type a client-declared parameter OID stands for (0: let the server infer it). */
export function typeOfOid(oid: number): SqlType | null {
  if (oid === 0 || oid === Oid.unknown) return null;
  if (oid === Oid.varcharArray) return 'text[]';
  if (oid === Oid.bpchar) return 'varchar';
  return TYPE_BY_OID.get(oid) ?? 'text';
}

const TYPE_BY_OID: ReadonlyMap<number, SqlType> = new Map(
  (Object.entries(typeOid) as [SqlType, number][]).filter(([t]) => t !== 'unknown').map(([t, oid]) => [oid, t]),
);

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

/**
 * A time: integer Unix milliseconds, or timestamptz text as PostgreSQL reads it
 * (`2026-03-01T09:00:00Z`, `2026-03-01 10:00+01`, `2026-03-01 09:00 Europe/Berlin`); a wall
 * clock without an offset is read in `zone` (the session's TimeZone). `now` reads 'now', 'today'.
 * Fractions below a millisecond are dropped.
 */
export function parseTime(text: string, zone = 'UTC', now?: number): number {
  const s = text.trim();
  if (INT_RE.test(s)) return parseInt8(s, 'bigint');
  try {
    return parseTimestamptz(s, zone, now);
  } catch (e) {
    if (e instanceof AllotError && e.sqlstate === SqlState.invalidDatetimeFormat) {
      throw new AllotError(e.sqlstate, e.message, { hint: 'Give Unix milliseconds (1772355600000) or a timestamp (2026-03-01 09:00:00+00).' });
    }
    throw e;
  }
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
  return `{${xs.map((x) => (x === null ? 'NULL' : needsQuotes(x) ? `"${x.replace(/[\\"]/g, (c) => `\\${c}`)}"` : x)).join(',')}}`;
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
