import { SqlState, type SqlStateCode } from '../errors.js';
import { isUtf8 } from 'node:buffer';
import { ProtocolError } from './protocol-error.js';

/**
 * Reads one message body (or binary value); every read checks bounds and throws ProtocolError naming
 * what was read. pg-protocol's BufferReader trusts its input, which a server cannot.
 */
export class BodyReader {
  private pos = 0;

  /** `what` names the input in errors: 'Bind message' gives 'malformed Bind message'. */
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
    private readonly sqlstate: SqlStateCode = SqlState.protocolViolation,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const n = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return n;
  }

  /** Counts on the wire are int16 but PostgreSQL reads them unsigned (pq_getmsgint). */
  uint16(): number {
    this.need(2);
    const n = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return n;
  }

  int32(): number {
    this.need(4);
    const n = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return n;
  }

  uint32(): number {
    this.need(4);
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return n;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw this.malformed();
    const s = utf8(this.buf, this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const view = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** Trailing bytes mean the sender and we disagree on the layout: refuse, as pq_getmsgend does. */
  end(): void {
    if (this.pos !== this.buf.length) throw this.malformed();
  }

  malformed(): ProtocolError {
    return new ProtocolError(`malformed ${this.what}`, this.sqlstate);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw this.malformed();
  }
}

/** Up to this length, an all-ASCII string is recognised by a plain scan. */
const SHORT_ASCII_BYTES = 64;

/** Decodes UTF-8, refusing invalid sequences as PostgreSQL does rather than inventing U+FFFD. */
export function utf8(buf: Buffer, start = 0, end = buf.length): string {
  // Names (statements, portals) are short and ASCII, and come three to a prepared statement's
  // run: checked here without the view isUtf8 needs, which costs more than the check.
  if (end - start <= SHORT_ASCII_BYTES) {
    let i = start;
    while (i < end && buf[i]! < 0x80) i++;
    if (i === end) return start === end ? '' : buf.toString('latin1', start, end);
  }
  if (!isUtf8(buf.subarray(start, end))) throw invalidUtf8(buf, firstInvalidUtf8(buf, start, end), end);
  return buf.toString('utf8', start, end);
}

/**
 * A text value as PostgreSQL holds one: UTF-8 without NUL (a text-format parameter, or the
 * bytes of a binary text one).
 */
export function utf8Text(buf: Buffer): string {
  const n = buf.length;
  if (n <= SHORT_ASCII_BYTES) {
    // Most parameters: short, ASCII, one scan that also finds a NUL.
    let i = 0;
    let b = 0;
    while (i < n && (b = buf[i]!) < 0x80 && b !== 0) i++;
    if (i === n) return n === 0 ? '' : buf.toString('latin1', 0, n);
  }
  const nul = buf.indexOf(0);
  if (nul >= 0 && (nul === 0 || isUtf8(buf.subarray(0, nul)))) throw invalidUtf8(buf, nul, n);
  return utf8(buf);
}

/**
 * PostgreSQL's report_invalid_encoding: the bytes of the sequence that starts at `at`, as long
 * as its first byte says it is (up to the end of the input), in hex.
 */
function invalidUtf8(buf: Buffer, at: number, end: number): ProtocolError {
  const lead = buf[at]!;
  const length = (lead & 0xe0) === 0xc0 ? 2 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf8) === 0xf0 ? 4 : 1;
  const bytes: string[] = [];
  for (let i = at; i < Math.min(at + length, end); i++) bytes.push(`0x${buf[i]!.toString(16).padStart(2, '0')}`);
  return new ProtocolError(`invalid byte sequence for encoding "UTF8": ${bytes.join(' ')}`, SqlState.characterNotInRepertoire);
}

/** Where the first sequence that is not UTF-8 starts (overlong forms and surrogates included). */
function firstInvalidUtf8(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const more = (c & 0xe0) === 0xc0 ? 1 : (c & 0xf0) === 0xe0 ? 2 : (c & 0xf8) === 0xf0 ? 3 : 0;
    if (more === 0 || i + more >= end) return i;
    let cp = c & (0x3f >> more);
    for (let k = 1; k <= more; k++) {
      const d = buf[i + k]!;
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    const min = more === 1 ? 0x80 : more === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += more + 1;
  }
  // isUtf8 said no, so something above must have: keep the message well formed regardless.
  return start;
}
