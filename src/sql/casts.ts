/**
 * Types by name (what `::type` and CAST name), conversions between them, and each type's text
 * output as PostgreSQL writes it. Instants are Unix milliseconds and durations milliseconds
 * inside allot; they become text in the session's TimeZone only on the way out.
 */
import { AllotError, SqlState } from '../errors.js';
import type { TimeOutput } from './tables/columns.js';
import type { SessionView } from './expr.js';
import { regIn, regOut, type RegType } from './system/reg.js';
import type { SystemContext } from './system/context.js';
import {
  formatInterval,
  formatTimestamp,
  formatTimestamptz,
  writeTimestamptzText,
  formatDate,
  parseInterval,
  parseTimestamptz,
  parseTimestamp,
  parseDate,
} from './time.js';
import { clip, formatTextArray, formatValue, parseBool, parseInt8, parseTextArray, type SqlType, type Value } from './types.js';

/** Type names a cast may use, lower case, to the type they are. */
const TYPE_NAMES: ReadonlyMap<string, SqlType> = new Map<string, SqlType>([
  ['int8', 'int8'],
  ['bigint', 'int8'],
  ['int', 'int4'],
  ['int4', 'int4'],
  ['integer', 'int4'],
  ['int2', 'int2'],
  ['smallint', 'int2'],
  ['text', 'text'],
  ['varchar', 'varchar'],
  ['character varying', 'varchar'],
  ['bpchar', 'varchar'],
  ['character', 'varchar'],
  ['name', 'name'],
  ['bool', 'bool'],
  ['boolean', 'bool'],
  ['oid', 'oid'],
  ['regclass', 'regclass'],
  ['regtype', 'regtype'],
  ['regproc', 'regproc'],
  ['regprocedure', 'regproc'],
  ['regnamespace', 'regnamespace'],
  ['regrole', 'regrole'],
  ['xid', 'xid'],
  ['float4', 'float4'],
  ['real', 'float4'],
  ['float8', 'float8'],
  ['double precision', 'float8'],
  ['float', 'float8'],
  ['numeric', 'numeric'],
  ['decimal', 'numeric'],
  ['timestamptz', 'timestamptz'],
  ['timestamp with time zone', 'timestamptz'],
  ['timestamp', 'timestamp'],
  ['timestamp without time zone', 'timestamp'],
  ['date', 'date'],
  ['interval', 'interval'],
  ['json', 'json'],
  ['jsonb', 'jsonb'],
  ['bytea', 'bytea'],
  ['pg_node_tree', 'pg_node_tree'],
  ['int2vector', 'int2vector'],
  ['oidvector', 'oidvector'],
]);

const ARRAY_OF: ReadonlyMap<SqlType, SqlType> = new Map<SqlType, SqlType>([
  ['text', 'text[]'],
  ['varchar', 'text[]'],
  ['name', 'name[]'],
  ['bool', 'bool[]'],
  ['int2', 'int2[]'],
  ['int4', 'int4[]'],
  ['int8', 'int8[]'],
  ['oid', 'oid[]'],
  ['char', 'char[]'],
  ['timestamptz', 'timestamptz[]'],
]);

/** The type a cast's target names (`"char"` is the one-byte type, `char` a string). */
export function castTarget(to: { name?: string; kind?: string; arrayOf?: { name?: string; doubleQuoted?: boolean }; doubleQuoted?: boolean }): SqlType {
  if (to.kind === 'array') {
    const element = castTarget(to.arrayOf ?? {});
    const t = ARRAY_OF.get(element);
    if (t === undefined) throw new AllotError(SqlState.featureNotSupported, `arrays of ${element} are not supported by allot`);
    return t;
  }
  const name = (to.name ?? '').toLowerCase();
  if (name === 'char' && to.doubleQuoted === true) return 'char';
  if (name === 'char') return 'varchar';
  const t = TYPE_NAMES.get(name);
  if (t === undefined) throw new AllotError(SqlState.undefinedObject, `type "${name}" does not exist`);
  return t;
}

/** How the session shows times: its TimeZone and whether instants are timestamptz. */
export function timeZoneOf(session: SessionView): string {
  return session.setting('timezone') ?? 'UTC';
}

export function timesOf(session: SessionView): TimeOutput {
  return session.setting('allot.times') === 'ms' ? 'ms' : 'timestamptz';
}

/** What the system catalog's functions need of a session. */
export function systemContext(session: SessionView): SystemContext {
  return {
    database: session.database,
    user: session.user,
    databases: session.databases(),
    setting: (name) => session.setting(name),
    times: timesOf(session),
    backendPid: session.pid,
  };
}

function isReg(t: SqlType): t is RegType {
  return t === 'regclass' || t === 'regtype' || t === 'regproc' || t === 'regnamespace' || t === 'regrole';
}

/** A value of type `type` as PostgreSQL writes it in text format. */
export function textOut(v: Value, type: SqlType, session: SessionView): string | null {
  if (v === null) return null;
  if (typeof v === 'number') {
    switch (type) {
      case 'timestamptz':
        return formatTimestamptz(v, timeZoneOf(session));
      case 'timestamp':
        return formatTimestamp(v);
      case 'date':
        return formatDate(v);
      case 'interval':
        return formatInterval(v);
      case 'regclass':
      case 'regtype':
      case 'regproc':
      case 'regnamespace':
      case 'regrole':
        return regOut(type, v, systemContext(session));
      case 'float4':
      case 'float8':
        return floatText(v);
      default:
        return String(v);
    }
  }
  if (Array.isArray(v)) {
    if (type === 'timestamptz[]') {
      const zone = timeZoneOf(session);
      return formatTextArray(v.map((x) => (x === null ? null : formatTimestamptz(Number(x), zone))));
    }
    if (type === 'record') return `(${v.map(recordFieldText).join(',')})`;
    if (type === 'int2vector' || type === 'oidvector') return v.join(' ');
  }
  return formatValue(v);
}

/** A field of a record's text: quoted where it holds what would split or end it. */
function recordFieldText(x: string | null): string {
  if (x === null) return '';
  return x === '' || /[(),"\\\s]/.test(x) ? `"${x.replace(/["\\]/g, (c: string) => c + c)}"` : x;
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return String(v);
}

/** Zones whose InstantText is kept. */
const MAX_CACHED_ZONES = 8;

/** A column's text in one session: what a DataRow carries for each of its values. */
export interface ColumnText {
  /** The text of `v`, null for NULL. */
  textOf(v: Value): string | null;
  /**
   * For a column whose numbers have a short text (instants): writes the int32 length and the
   * text of `v` into `buf` at `at`, at most MAX_NUMBER_TEXT_BYTES in all, and returns the end.
   */
  writeNumber?(buf: Buffer, at: number, v: number): number;
}

/** The most bytes ColumnText.writeNumber writes, its length included. */
export const MAX_NUMBER_TEXT_BYTES = 48;

/** The text of instants in one zone, written without a string in between. */
class InstantText implements ColumnText {
  constructor(private readonly zone: string) {}

  textOf(v: Value): string | null {
    if (typeof v !== 'number') return v === null ? null : formatValue(v);
    return formatTimestamptz(v, this.zone);
  }

  writeNumber(buf: Buffer, at: number, v: number): number {
    return writeTimestamptzText(buf, at, v, this.zone);
  }
}

const INSTANT_TEXT = new Map<string, InstantText>();

/** textOut of one type in one session. */
class SessionText implements ColumnText {
  constructor(
    private readonly type: SqlType,
    private readonly session: SessionView,
  ) {}

  textOf(v: Value): string | null {
    return this.type === 'interval' && typeof v === 'number' ? formatInterval(v) : textOut(v, this.type, this.session);
  }
}

/**
 * textOut for one column of a result: the session's zone read once, and instants written as
 * bytes straight into the DataRow (a week's availability sends hundreds).
 */
export function textOutFor(type: SqlType, session: SessionView): ColumnText {
  if (type !== 'timestamptz') return new SessionText(type, session);
  const zone = timeZoneOf(session);
  let t = INSTANT_TEXT.get(zone);
  if (t === undefined) {
    if (INSTANT_TEXT.size >= MAX_CACHED_ZONES) INSTANT_TEXT.clear();
    t = new InstantText(zone);
    INSTANT_TEXT.set(zone, t);
  }
  return t;
}

/** Whether a column of this type needs textOut (else formatValue writes it right). */
export function needsTextOut(type: SqlType): boolean {
  return (
    type === 'timestamptz' ||
    type === 'timestamp' ||
    type === 'date' ||
    type === 'interval' ||
    isReg(type) ||
    type === 'float4' ||
    type === 'float8' ||
    type === 'record' ||
    type === 'int2vector' ||
    type === 'timestamptz[]' ||
    type === 'oidvector'
  );
}

const INT_RANGE: Partial<Record<SqlType, [number, number, string]>> = {
  int4: [-2_147_483_648, 2_147_483_647, 'integer'],
  int2: [-32_768, 32_767, 'smallint'],
  oid: [0, 4_294_967_295, 'OID'],
};

function checkRange(n: number, to: SqlType): number {
  const r = INT_RANGE[to];
  if (r !== undefined && (n < r[0] || n > r[1])) throw new AllotError(SqlState.numericValueOutOfRange, `${r[2]} out of range`);
  return n;
}

function toInteger(v: Value, to: SqlType): number {
  if (typeof v === 'number') return checkRange(Number.isInteger(v) ? v : Math.round(v), to);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return checkRange(parseInt8(v, INT_RANGE[to]?.[2] ?? 'bigint'), to);
  throw cannotCast(v, to);
}

function toFloat(v: Value, to: SqlType): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'nan') return NaN;
    if (s === 'infinity' || s === '+infinity' || s === 'inf') return Infinity;
    if (s === '-infinity' || s === '-inf') return -Infinity;
    const n = Number(s);
    if (s !== '' && Number.isFinite(n)) return n;
    throw new AllotError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${to === 'float4' ? 'real' : 'double precision'}: "${clip(v)}"`);
  }
  throw cannotCast(v, to);
}

function cannotCast(v: Value, to: SqlType): AllotError {
  return new AllotError(SqlState.cannotCoerce, `cannot cast ${clip(String(formatValue(v)))} to ${to}`);
}

/** Converts a value of type `from` to type `to`, as a cast does. */
export function castValue(v: Value, from: SqlType, to: SqlType, session: SessionView, now?: number): Value {
  if (v === null) return null;
  switch (to) {
    case 'int8':
    case 'int4':
    case 'int2':
    case 'oid':
    case 'xid':
      return toInteger(v, to);
    case 'float4':
    case 'float8':
      return toFloat(v, to);
    case 'numeric':
      return typeof v === 'string' ? String(toFloat(v, 'float8') === Number(v.trim()) ? v.trim() : toFloat(v, 'float8')) : String(formatValue(v));
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' && (from === 'int4' || from === 'int8' || from === 'int2')) return v !== 0;
      return parseBool(String(formatValue(v)));
    case 'text':
    case 'varchar':
    case 'name':
    case 'json':
    case 'jsonb':
    case 'pg_node_tree':
    case 'bytea':
      return textOut(v, from, session);
    case 'char': {
      const s = textOut(v, from, session) ?? '';
      return [...s].slice(0, 1).join('');
    }
    case 'regclass':
    case 'regtype':
    case 'regproc':
    case 'regnamespace':
    case 'regrole':
      if (typeof v === 'number') return v;
      return regIn(to, String(formatValue(v)), systemContext(session));
    case 'timestamptz':
      if (typeof v === 'number') return v;
      return parseTimestamptz(String(formatValue(v)), timeZoneOf(session), now);
    case 'timestamp':
      if (typeof v === 'number') return v;
      return parseTimestamp(String(formatValue(v)), now);
    case 'date':
      if (typeof v === 'number') return from === 'timestamptz' ? parseDate(textOut(v, from, session)!.slice(0, 10)) : v;
      return parseDate(String(formatValue(v)), now, timeZoneOf(session));
    case 'interval':
      if (typeof v === 'number') return v;
      return parseInterval(String(formatValue(v)));
    case 'timestamptz[]': {
      if (from === 'timestamptz[]' && Array.isArray(v)) return v;
      const items = Array.isArray(v) ? v : typeof v === 'string' ? parseTextArray(v) : null;
      if (items === null) throw cannotCast(v, to);
      const zone = timeZoneOf(session);
      return items.map((x) => (x === null ? null : String(/^\s*[+-]?\d+\s*$/.test(x) && from === 'int8[]' ? Number(x) : parseTimestamptz(x, zone, now))));
    }
    default:
      if (to.endsWith('[]') || to === 'int2vector' || to === 'oidvector') {
        if (Array.isArray(v)) return v;
        if (typeof v === 'string')
          return to === 'int2vector' || to === 'oidvector'
            ? v
                .trim()
                .split(/\s+/)
                .filter((x) => x !== '')
            : parseTextArray(v);
      }
      throw cannotCast(v, to);
  }
}
