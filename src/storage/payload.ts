/**
 * What a log record carries: the instant it was decided at and the effects it made.
 *
 * Two encodings, told apart by the first byte:
 * - `{`: JSON text, for every kind of effect;
 * - 0x01: bookings confirmed, nothing else, the record nearly every booking statement writes,
 *   in a compact binary form (a third the bytes of the JSON, and no JSON.stringify):
 *
 *     u8 0x01 | f64 BE now | u32 BE count | count × booking
 *     booking: f64 BE start | f64 BE end | str id | str resource_id | nstr label | nstr user_id
 *              | nstr policy_id | nstr group_id | u8 n | n × str capability
 *     str: u16 BE byte length, UTF-8; nstr: the same, or 0xFFFF for null
 *
 * Records of either form can follow each other in one log; start-up reads both.
 */
import type { Booking, Effect } from '../engine/types.js';

export interface RecordBody {
  readonly now: number;
  readonly effects: readonly Effect[];
}

const BOOKINGS = 0x01;
const NULL_STRING = 0xffff;
/** Strings longer than this many bytes (none within the engine's limits) make a JSON record. */
const MAX_STRING_BYTES = 0xfffe;
const MAX_CAPABILITIES = 0xff;
/** Strings up to this many units are tried as ASCII first. */
const SHORT_ASCII = 64;

const scratch = Buffer.allocUnsafe(64 * 1024);

/** The record payload; the log writes it into the record's buffer. */
export function encodeBody(body: RecordBody): Buffer | string {
  return encodeBookings(body) ?? JSON.stringify(body);
}

/** The binary form when every effect is a confirmed booking that fits it, else null. */
function encodeBookings(body: RecordBody): Buffer | null {
  const effects = body.effects;
  if (effects.length === 0 || !Number.isSafeInteger(body.now)) return null;
  let bound = 13;
  for (const e of effects) {
    if (e.type !== 'BookingConfirmed') return null;
    const n = bookingBound(e.booking);
    if (n < 0) return null;
    bound += n;
  }
  // One buffer serves every ordinary record; a rare huge one gets its own, not kept.
  const buf = bound <= scratch.length ? scratch : Buffer.allocUnsafe(bound);
  buf[0] = BOOKINGS;
  buf.writeDoubleBE(body.now, 1);
  buf.writeUInt32BE(effects.length, 9);
  let at = 13;
  for (const e of effects) {
    at = writeBooking(buf, at, (e as Extract<Effect, { type: 'BookingConfirmed' }>).booking);
    if (at < 0) return null;
  }
  return Buffer.from(buf.subarray(0, at));
}

/**
 * At least the bytes writeBooking needs for b (UTF-8 takes at most 3 bytes per UTF-16 unit),
 * or -1 when b has too many capabilities for the form.
 */
export function bookingBound(b: Booking): number {
  if (b.capabilities.length > MAX_CAPABILITIES) return -1;
  let bound =
    16 + 13 + 3 * (b.id.length + b.resourceId.length + (b.label?.length ?? 0) + (b.userId?.length ?? 0) + (b.policyId?.length ?? 0) + (b.groupId?.length ?? 0));
  for (const c of b.capabilities) bound += 2 + 3 * c.length;
  return bound;
}

/**
 * Writes one booking in the binary form at `at`, into a buffer with bookingBound(b) bytes
 * free there; returns the new end, or -1 when it does not fit the form (a string, or too many
 * capabilities).
 */
export function writeBooking(buf: Buffer, at: number, b: Booking): number {
  if (b.capabilities.length > MAX_CAPABILITIES) return -1;
  buf.writeDoubleBE(b.start, at);
  buf.writeDoubleBE(b.end, at + 8);
  at += 16;
  at = writeString(buf, at, b.id);
  at = writeString(buf, at, b.resourceId);
  at = writeString(buf, at, b.label);
  at = writeString(buf, at, b.userId);
  at = writeString(buf, at, b.policyId);
  at = writeString(buf, at, b.groupId);
  if (at < 0) return at;
  buf[at++] = b.capabilities.length;
  for (const c of b.capabilities) {
    at = writeString(buf, at, c);
    if (at < 0) return at;
  }
  return at;
}

/** ES2024's String.prototype.isWellFormed, which Node 20 has. */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Writes a string (or null) at `at`; returns the new end, or -1 once a string does not fit the
 * form: too long, or holding a lone surrogate, which UTF-8 cannot carry and JSON can.
 */
function writeString(buf: Buffer, at: number, s: string | null): number {
  if (at < 0) return at;
  if (s === null) {
    buf.writeUInt16BE(NULL_STRING, at);
    return at + 2;
  }
  // Ids and names are short and ASCII: copied a unit a byte, cheaper than the call into C++
  // that buf.write makes (one booking statement writes two or more such strings).
  const length = s.length;
  if (length <= SHORT_ASCII) {
    let i = 0;
    while (i < length) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + 2 + i] = c;
      i++;
    }
    if (i === length) {
      buf.writeUInt16BE(length, at);
      return at + 2 + length;
    }
  }
  if (!wellFormed(s)) return -1;
  const n = buf.write(s, at + 2, 'utf8');
  if (n > MAX_STRING_BYTES) return -1;
  buf.writeUInt16BE(n, at);
  return at + 2 + n;
}

export function decodeBody(payload: Buffer): RecordBody {
  if (payload.length > 0 && payload[0] === BOOKINGS) return decodeBookings(payload);
  const v = JSON.parse(payload.toString('utf8')) as RecordBody;
  if (typeof v !== 'object' || v === null || typeof v.now !== 'number' || !Array.isArray(v.effects)) {
    throw new Error('record payload is not a {now, effects} object');
  }
  return v;
}

function decodeBookings(buf: Buffer): RecordBody {
  const r = new BookingReader(buf, 'binary record payload');
  r.need(13);
  const now = buf.readDoubleBE(1);
  const count = buf.readUInt32BE(9);
  r.at = 13;
  const effects: Effect[] = [];
  for (let i = 0; i < count; i++) effects.push({ type: 'BookingConfirmed', booking: r.booking() });
  if (r.at !== buf.length) throw new Error(`binary record payload has ${buf.length - r.at} bytes after its last booking`);
  return { now, effects };
}

/** Reads bookings in the binary form from `at` on; throws a plain Error naming `what` on a short read. */
export class BookingReader {
  at = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`${this.what} ends early, at byte ${this.at} of ${this.buf.length}`);
  }

  booking(): Booking {
    const buf = this.buf;
    this.need(16);
    const start = buf.readDoubleBE(this.at);
    const end = buf.readDoubleBE(this.at + 8);
    this.at += 16;
    const id = this.text('id');
    const resourceId = this.text('resource_id');
    const label = this.str();
    const userId = this.str();
    const policyId = this.str();
    const groupId = this.str();
    this.need(1);
    const n = buf[this.at++]!;
    const capabilities: string[] = [];
    for (let k = 0; k < n; k++) capabilities.push(this.text('capability'));
    return { id, resourceId, start, end, label, capabilities, userId, policyId, groupId };
  }

  private str(): string | null {
    this.need(2);
    const n = this.buf.readUInt16BE(this.at);
    this.at += 2;
    if (n === NULL_STRING) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  private text(field: string): string {
    const s = this.str();
    if (s === null) throw new Error(`${this.what}: booking ${field} is null`);
    return s;
  }
}
