import { isUtf8 } from 'node:buffer';
import { ProtocolError, WireSqlState } from './protocol-error.js';

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
    private readonly sqlstate: string = WireSqlState.protocolViolation,
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
  if (!isUtf8(buf.subarray(start, end))) {
    throw new ProtocolError('invalid byte sequence for encoding "UTF8"', WireSqlState.characterNotInRepertoire);
  }
  return buf.toString('utf8', start, end);
}
