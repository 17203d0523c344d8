import { AllotError, SqlState } from '../errors.js';
import type { OutColumn } from '../sql/plan/index.js';
import { MAX_NUMBER_TEXT_BYTES, type ColumnText } from '../sql/casts.js';
import { formatValue, typeOid, typeSize, type Value } from '../sql/types.js';

/**
 * Building what the server sends. Every message function appends to one OutBuffer so a whole reply
 * leaves in a single socket write (see DEPENDENCIES.md: Nagle plus delayed ACK otherwise).
 */

export const OutBufferLimits = {
  /** Capacity a fresh buffer starts with; most replies fit. */
  initialBytes: 16 * 1024,
  /** Largest capacity kept across take(); a buffer grown past it is dropped once taken. */
  retainBytes: 1024 * 1024,
  /** Largest reply one buffer will hold: past it, writing throws 54000 instead of exhausting memory. */
  maxBytes: 256 * 1024 * 1024,
} as const;

/** Below this length, reserve 3 bytes per UTF-16 unit instead of scanning a string twice. */
const UTF8_EXACT_LENGTH_FROM = 4096;
/** Counts on the wire are int16. */
const MAX_INT16 = 0x7fff;
const MAX_INT32 = 0x7fffffff;
const NO_FRAME = -1;

export class OutBuffer {
  private buf: Buffer;
  private pos = 0;
  private frameStart = NO_FRAME;
  /** The text of a row's mapped columns between textRow's two passes. */
  private readonly mapped: (string | null)[] = [];

  constructor(
    private readonly initialBytes: number = OutBufferLimits.initialBytes,
    private readonly maxBytes: number = OutBufferLimits.maxBytes,
  ) {
    // Message lengths are int32, so no buffer may outgrow what one can say.
    if (!Number.isInteger(initialBytes) || !Number.isInteger(maxBytes) || initialBytes < 1 || initialBytes > maxBytes || maxBytes > MAX_INT32) {
      throw new RangeError(`OutBuffer needs 1 <= initialBytes (${initialBytes}) <= maxBytes (${maxBytes}) <= ${MAX_INT32}`);
    }
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /**
   * Everything written, as a Buffer nothing will overwrite. A reply filling half the capacity or
   * more takes the buffer itself (no copy) and a fresh one starts; a smaller one is copied out so
   * the capacity is reused.
   */
  take(): Buffer {
    if (this.frameStart !== NO_FRAME) throw new Error('OutBuffer.take() inside an open message');
    const n = this.pos;
    this.pos = 0;
    if (n * 2 >= this.buf.length) {
      const whole = this.buf.subarray(0, n);
      this.buf = Buffer.allocUnsafe(this.initialBytes);
      return whole;
    }
    const copy = Buffer.allocUnsafe(n);
    this.buf.copy(copy, 0, 0, n);
    if (this.buf.length > OutBufferLimits.retainBytes) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return copy;
  }

  /**
   * Drops what was written after `length` (a value of `this.length` noted earlier), including a
   * half-written message left by a throw.
   */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.pos) throw new RangeError(`cannot truncate ${this.pos} bytes to ${length}`);
    this.pos = length;
    if (this.frameStart >= length) this.frameStart = NO_FRAME;
  }

  byte(n: number): this {
    this.ensure(1);
    this.buf.writeUInt8(n, this.pos);
    this.pos += 1;
    return this;
  }

  int16(n: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(n, this.pos);
    this.pos += 2;
    return this;
  }

  int32(n: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4;
    return this;
  }

  /** OIDs are unsigned 32-bit. */
  uint32(n: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
    return this;
  }

  /** A NUL-terminated UTF-8 string; an embedded NUL would end it early and shift the frame. */
  cstring(s: string): this {
    if (s.includes('\0')) {
      throw new AllotError(SqlState.characterNotInRepertoire, 'a NUL character cannot be sent in a protocol string');
    }
    this.utf8(s);
    return this.byte(0);
  }

  /** A string's UTF-8 bytes, unterminated. */
  utf8(s: string): this {
    this.ensureUtf8(0, s);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** A string's UTF-8 bytes after their int32 length, encoding the string once. */
  int32PrefixedUtf8(s: string): this {
    // Short ASCII text (ids, instants, labels) is copied char by char: cheaper than the call
    // into Buffer.write, which costs more than the copy for a few dozen bytes.
    const n = s.length;
    if (n <= SHORT_TEXT_CHARS) {
      this.ensure(4 + n);
      const buf = this.buf;
      const at = this.pos + 4;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[at + i] = c;
      }
      if (i === n) {
        buf.writeInt32BE(n, this.pos);
        this.pos = at + n;
        return this;
      }
    }
    this.ensureUtf8(4, s);
    const written = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(written, this.pos);
    this.pos += 4 + written;
    return this;
  }

  /**
   * A safe integer as its decimal text, after an int32 length: what a DataRow carries for an
   * int8 in text format, written without making a string first.
   */
  int32PrefixedDecimal(n: number): this {
    // Near the size limit, the exact length: the bound must not refuse a value that fits.
    this.ensure(4 + (this.pos + 4 + MAX_DECIMAL_BYTES <= this.maxBytes ? MAX_DECIMAL_BYTES : String(n).length));
    this.pos = writePrefixedDecimal(this.buf, this.pos, n);
    return this;
  }

  /**
   * A whole DataRow of text values (strings, safe integers, nulls) in one pass: room for the row
   * is made once and every value written at a local offset, as a SELECT sends thousands of them.
   * A column with a text form of its own (`text[k]`) is made text on the way, an instant's
   * written straight into the row. Returns false, writing nothing, for a row holding any other
   * value.
   */
  textRow(row: readonly Value[], text?: readonly (ColumnText | null)[] | null): boolean {
    const n = row.length;
    if (n > MAX_INT16) throw new AllotError(SqlState.programLimitExceeded, `${n} columns exceed the protocol limit of ${MAX_INT16}`);
    if (this.frameStart !== NO_FRAME) throw new Error('OutBuffer.textRow() inside an open message');
    const mapped = this.mapped;
    let bound = 7;
    for (let i = 0; i < n; i++) {
      let v = row[i];
      const f = v === null || text == null ? null : text[i];
      if (f != null) {
        if (f.writeNumber !== undefined && typeof v === 'number') {
          bound += MAX_NUMBER_TEXT_BYTES;
          continue;
        }
        v = mapped[i] = f.textOf(v!);
      }
      if (v === null) bound += 4;
      else if (typeof v === 'number') {
        if (!Number.isSafeInteger(v)) throw new RangeError(`dataRow: ${v} is not a safe integer`);
        bound += 4 + MAX_DECIMAL_BYTES;
      } else if (typeof v === 'string') bound += 4 + (v.length < UTF8_EXACT_LENGTH_FROM ? v.length * 3 : Buffer.byteLength(v));
      else return false;
    }
    // Near the size limit the estimate could refuse a row that fits: the value-by-value path
    // measures exactly.
    if (this.pos + bound > this.maxBytes) return false;
    this.ensure(bound);
    const buf = this.buf;
    const frame = this.pos;
    buf[frame] = 0x44; // 'D'
    buf[frame + 5] = n >>> 8;
    buf[frame + 6] = n & 0xff;
    let at = frame + 7;
    for (let i = 0; i < n; i++) {
      const raw = row[i] as string | number | null;
      const f = raw === null || text == null ? null : text[i];
      let v = raw;
      if (f != null) {
        if (f.writeNumber !== undefined && typeof raw === 'number') {
          at = f.writeNumber(buf, at, raw);
          continue;
        }
        v = mapped[i]!;
      }
      if (typeof v === 'number') at = writePrefixedDecimal(buf, at, v);
      else if (v === null) {
        buf[at] = buf[at + 1] = buf[at + 2] = buf[at + 3] = 0xff; // length -1
        at += 4;
      } else {
        const written = buf.write(v, at + 4, 'utf8');
        writeLength(buf, at, written);
        at += 4 + written;
      }
    }
    writeLength(buf, frame + 1, at - frame - 1);
    this.pos = at;
    return true;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Starts a message: its type byte and a length that end() fills in. */
  begin(code: string): this {
    if (this.frameStart !== NO_FRAME) throw new Error(`OutBuffer.begin('${code}') inside an open message`);
    this.ensure(5);
    this.frameStart = this.pos;
    this.buf[this.pos] = code.charCodeAt(0);
    this.pos += 5;
    return this;
  }

  end(): this {
    if (this.frameStart === NO_FRAME) throw new Error('OutBuffer.end() without begin()');
    writeLength(this.buf, this.frameStart + 1, this.pos - this.frameStart - 1);
    this.frameStart = NO_FRAME;
    return this;
  }

  /**
   * Room for `extra` bytes and a string's UTF-8: 3 bytes per UTF-16 unit saves scanning short
   * strings twice, but must not trip the limit when the exact size would fit.
   */
  private ensureUtf8(extra: number, s: string): void {
    const bound = s.length < UTF8_EXACT_LENGTH_FROM ? s.length * 3 : Buffer.byteLength(s);
    this.ensure(extra + (this.pos + extra + bound <= this.maxBytes ? bound : Buffer.byteLength(s)));
  }

  private ensure(n: number): void {
    const needed = this.pos + n;
    if (needed <= this.buf.length) return;
    if (needed > this.maxBytes) {
      throw new AllotError(SqlState.programLimitExceeded, `reply of ${needed} bytes exceeds the limit of ${this.maxBytes}`);
    }
    const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(needed, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

// ---------------------------------------------------------------------------------------------
// Authentication and startup.

/** "00" to "99" as ASCII: digits go out two at a time. */
const DIGIT_PAIRS = (() => {
  const t = new Uint8Array(200);
  for (let i = 0; i < 100; i++) {
    t[2 * i] = 48 + Math.floor(i / 10);
    t[2 * i + 1] = 48 + (i % 10);
  }
  return t;
})();

/** A safe integer's decimal text: a sign and 16 digits at most. */
const MAX_DECIMAL_BYTES = 17;

/** A safe integer's decimal text after its int32 length, at `at` (room made); returns the new end. */
function writePrefixedDecimal(buf: Buffer, lengthAt: number, n: number): number {
  let at = lengthAt + 4;
  let v = n;
  if (v < 0) {
    buf[at++] = 45; // '-'
    v = -v;
  }
  // Two halves of at most 8 digits each keep the arithmetic in small integers.
  if (v < 1e8) at = writeDigits(buf, at, v);
  else {
    const hi = Math.floor(v / 1e8);
    at = writeDigits(buf, at, hi);
    at = writeEightDigits(buf, at, v - hi * 1e8);
  }
  writeLength(buf, lengthAt, at - lengthAt - 4);
  return at;
}

/** Writes the decimal digits of 0 <= v < 1e8 at `at`, no leading zeros; returns the new end. */
function writeDigits(buf: Buffer, at: number, v: number): number {
  let x = v | 0;
  const len = x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : 8;
  let i = at + len;
  while (x >= 100) {
    const q = (x / 100) | 0;
    const r = (x - q * 100) << 1;
    buf[--i] = DIGIT_PAIRS[r + 1]!;
    buf[--i] = DIGIT_PAIRS[r]!;
    x = q;
  }
  if (x >= 10) {
    buf[--i] = DIGIT_PAIRS[(x << 1) + 1]!;
    buf[--i] = DIGIT_PAIRS[x << 1]!;
  } else buf[--i] = 48 + x;
  return at + len;
}

/** Writes 0 <= v < 1e8 as exactly eight digits (zero-padded) at `at`; returns the new end. */
function writeEightDigits(buf: Buffer, at: number, v: number): number {
  const x = v | 0;
  const hi = (x / 10000) | 0;
  const lo = x - hi * 10000;
  const a = (hi / 100) | 0;
  const b = hi - a * 100;
  const c = (lo / 100) | 0;
  const d = lo - c * 100;
  buf[at] = DIGIT_PAIRS[a << 1]!;
  buf[at + 1] = DIGIT_PAIRS[(a << 1) + 1]!;
  buf[at + 2] = DIGIT_PAIRS[b << 1]!;
  buf[at + 3] = DIGIT_PAIRS[(b << 1) + 1]!;
  buf[at + 4] = DIGIT_PAIRS[c << 1]!;
  buf[at + 5] = DIGIT_PAIRS[(c << 1) + 1]!;
  buf[at + 6] = DIGIT_PAIRS[d << 1]!;
  buf[at + 7] = DIGIT_PAIRS[(d << 1) + 1]!;
  return at + 8;
}

/** A non-negative int32 big-endian at `at` (the caller made room), without Buffer's range checks. */
function writeLength(buf: Buffer, at: number, n: number): void {
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 0xff;
  buf[at + 2] = (n >>> 8) & 0xff;
  buf[at + 3] = n & 0xff;
}

const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

export function authenticationOk(out: OutBuffer): void {
  out.begin('R').int32(AuthCode.Ok).end();
}

export function authenticationCleartextPassword(out: OutBuffer): void {
  out.begin('R').int32(AuthCode.CleartextPassword).end();
}

export function authenticationSASL(out: OutBuffer, mechanisms: readonly string[]): void {
  out.begin('R').int32(AuthCode.SASL);
  for (const m of mechanisms) out.cstring(m);
  out.byte(0).end();
}

export function authenticationSASLContinue(out: OutBuffer, data: string): void {
  out.begin('R').int32(AuthCode.SASLContinue).utf8(data).end();
}

export function authenticationSASLFinal(out: OutBuffer, data: string): void {
  out.begin('R').int32(AuthCode.SASLFinal).utf8(data).end();
}

export function parameterStatus(out: OutBuffer, name: string, value: string): void {
  out.begin('S').cstring(name).cstring(value).end();
}

export function backendKeyData(out: OutBuffer, pid: number, secret: number): void {
  out.begin('K').int32(pid).int32(secret).end();
}

/** Answers SSLRequest/GSSENCRequest: a single unframed byte. */
export function sslResponse(out: OutBuffer, answer: 'N' | 'S'): void {
  out.byte(answer.charCodeAt(0));
}

/** Protocol minor versions and `_pq_.` options we do not support, sent before authentication. */
export function negotiateProtocolVersion(out: OutBuffer, newestMinor: number, unrecognized: readonly string[]): void {
  out.begin('v').int32(newestMinor).int32(unrecognized.length);
  for (const option of unrecognized) out.cstring(option);
  out.end();
}

export function readyForQuery(out: OutBuffer, status: 'I' | 'T' | 'E'): void {
  out.begin('Z').byte(status.charCodeAt(0)).end();
}

// ---------------------------------------------------------------------------------------------
// Results.

export type FieldDescription = {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeSize: number;
  typeMod: number;
  format: 0 | 1;
};

/** Row description entries for a plan's columns, in the result formats a Bind asked for. */
export function describeColumns(columns: readonly OutColumn[], formats: readonly number[]): FieldDescription[] {
  return columns.map((c, i) => {
    const f = formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
    return {
      name: c.name,
      tableOid: c.tableOid,
      columnAttr: c.columnAttr,
      typeOid: c.typeOid ?? typeOid[c.type],
      typeSize: c.typeOid !== undefined ? -1 : typeSize[c.type],
      typeMod: c.typmod ?? -1,
      format: f === 1 ? 1 : 0,
    };
  });
}

export function rowDescription(out: OutBuffer, fields: readonly FieldDescription[]): void {
  out.begin('T').int16(count16(fields.length, 'columns'));
  for (const f of fields) {
    out.cstring(f.name).uint32(f.tableOid).int16(f.columnAttr).uint32(f.typeOid).int16(f.typeSize).int32(f.typeMod).int16(f.format);
  }
  out.end();
}

/** Text up to this many characters is written by hand when it is ASCII (see int32PrefixedUtf8). */
const SHORT_TEXT_CHARS = 64;

/** Strings go out as UTF-8, safe integers as decimal text, Buffers as they are, null as length -1. */
export function dataRow(out: OutBuffer, values: readonly (Buffer | string | number | null)[]): void {
  out.begin('D').int16(count16(values.length, 'columns'));
  for (const v of values) {
    if (v === null || typeof v === 'string' || typeof v === 'number') dataValue(out, v);
    else out.int32(v.length).bytes(v);
  }
  out.end();
}

/**
 * A DataRow in text format straight from a result row: integers as decimal digits, strings
 * as UTF-8, null as length -1, a column with a text form of its own (`text[k]`: instants,
 * intervals) in that form, anything else (booleans, arrays) in PostgreSQL's text form.
 */
export function textDataRow(out: OutBuffer, row: readonly Value[], text?: readonly (ColumnText | null)[] | null): void {
  if (out.textRow(row, text)) return;
  out.begin('D').int16(count16(row.length, 'columns'));
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    const f = v === null ? undefined : text?.[i];
    if (f != null) dataValue(out, f.textOf(v));
    else dataValue(out, v === null || typeof v === 'string' || typeof v === 'number' ? v : formatValue(v));
  }
  out.end();
}

/** One text-format column value of a DataRow. */
function dataValue(out: OutBuffer, v: string | number | null): void {
  if (v === null) out.int32(-1);
  else if (typeof v === 'string') out.int32PrefixedUtf8(v);
  else {
    if (!Number.isSafeInteger(v)) throw new RangeError(`dataRow: ${v} is not a safe integer`);
    out.int32PrefixedDecimal(v);
  }
}

export function commandComplete(out: OutBuffer, tag: string): void {
  out.begin('C').cstring(tag).end();
}

export function emptyQueryResponse(out: OutBuffer): void {
  out.begin('I').end();
}

export function parameterDescription(out: OutBuffer, oids: readonly number[]): void {
  out.begin('t').int16(count16(oids.length, 'parameters'));
  for (const oid of oids) out.uint32(oid);
  out.end();
}

export function parseComplete(out: OutBuffer): void {
  out.begin('1').end();
}

export function bindComplete(out: OutBuffer): void {
  out.begin('2').end();
}

export function closeComplete(out: OutBuffer): void {
  out.begin('3').end();
}

export function noData(out: OutBuffer): void {
  out.begin('n').end();
}

export function portalSuspended(out: OutBuffer): void {
  out.begin('s').end();
}

/** CopyOutResponse ('H'): text format, every column text (CopyInResponse is in copy.ts). */
export function copyOutResponse(out: OutBuffer, columns: number): void {
  copyResponse(out, 'H', columns);
}

function copyResponse(out: OutBuffer, code: 'G' | 'H', columns: number): void {
  out.begin(code).byte(0).int16(count16(columns, 'columns'));
  for (let i = 0; i < columns; i++) out.int16(0);
  out.end();
}

/** One CopyData message holding a line of text. */
export function copyData(out: OutBuffer, line: string): void {
  out.begin('d').utf8(line).end();
}

export function copyDone(out: OutBuffer): void {
  out.begin('c').end();
}

export function notificationResponse(out: OutBuffer, pid: number, channel: string, payload: string): void {
  out.begin('A').int32(pid).cstring(channel).cstring(payload).end();
}

// ---------------------------------------------------------------------------------------------
// Errors and notices.

export type ErrorFields = {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** 1-based character position in the query text. */
  position?: number;
};

export function errorResponse(out: OutBuffer, fields: ErrorFields): void {
  noticeOrError(out, 'E', fields);
}

export function noticeResponse(out: OutBuffer, fields: ErrorFields): void {
  noticeOrError(out, 'N', fields);
}

function noticeOrError(out: OutBuffer, code: 'E' | 'N', f: ErrorFields): void {
  out.begin(code);
  field(out, 'S', f.severity);
  field(out, 'V', f.severity);
  field(out, 'C', f.code);
  field(out, 'M', f.message);
  if (f.detail !== undefined) field(out, 'D', f.detail);
  if (f.hint !== undefined) field(out, 'H', f.hint);
  if (f.position !== undefined) field(out, 'P', String(f.position));
  out.byte(0).end();
}

/** An error must always be deliverable, so a NUL in its text (echoed input) is replaced, not thrown. */
function field(out: OutBuffer, type: string, value: string): void {
  out.byte(type.charCodeAt(0)).cstring(value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value);
}

// ---------------------------------------------------------------------------------------------

function count16(n: number, what: string): number {
  if (n > MAX_INT16) throw new AllotError(SqlState.programLimitExceeded, `${n} ${what} exceed the protocol limit of ${MAX_INT16}`);
  return n;
}
