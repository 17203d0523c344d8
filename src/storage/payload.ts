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
    const b = e.booking;
    if (b.capabilities.length > MAX_CAPABILITIES) return null;
    bound += 16 + 13 + 3 * (b.id.length + b.resourceId.length + (b.label?.length ?? 0) + (b.userId?.length ?? 0) + (b.policyId?.length ?? 0) + (b.groupId?.length ?? 0));
    for (const c of b.capabilities) bound += 2 + 3 * c.length;
  }
  // One buffer serves every ordinary record; a rare huge one gets its own, not kept.
  const buf = bound <= scratch.length ? scratch : Buffer.allocUnsafe(bound);
  buf[0] = BOOKINGS;
  buf.writeDoubleBE(body.now, 1);
  buf.writeUInt32BE(effects.length, 9);
  let at = 13;
  for (const e of effects) {
    const b = (e as Extract<Effect, { type: 'BookingConfirmed' }>).booking;
    buf.writeDoubleBE(b.start, at);
    buf.writeDoubleBE(b.end, at + 8);
    at += 16;
    at = writeString(buf, at, b.id);
    at = writeString(buf, at, b.resourceId);
    at = writeString(buf, at, b.label);
    at = writeString(buf, at, b.userId);
    at = writeString(buf, at, b.policyId);
    at = writeString(buf, at, b.groupId);
    if (at < 0) return null;
    buf[at++] = b.capabilities.length;
    for (const c of b.capabilities) {
      at = writeString(buf, at, c);
      if (at < 0) return null;
    }
  }
  return Buffer.from(buf.subarray(0, at));
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
  let at = 0;
  const need = (n: number): void => {
    if (at + n > buf.length) throw new Error(`binary record payload ends early, at byte ${at} of ${buf.length}`);
  };
  const str = (): string | null => {
    need(2);
    const n = buf.readUInt16BE(at);
    at += 2;
    if (n === NULL_STRING) return null;
    need(n);
    const s = buf.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const text = (field: string): string => {
    const s = str();
    if (s === null) throw new Error(`binary record payload: booking ${field} is null`);
    return s;
  };
  need(13);
  const now = buf.readDoubleBE(1);
  const count = buf.readUInt32BE(9);
  at = 13;
  const effects: Effect[] = [];
  for (let i = 0; i < count; i++) {
    need(16);
    const start = buf.readDoubleBE(at);
    const end = buf.readDoubleBE(at + 8);
    at += 16;
    const id = text('id');
    const resourceId = text('resource_id');
    const label = str();
    const userId = str();
    const policyId = str();
    const groupId = str();
    need(1);
    const n = buf[at++]!;
    const capabilities: string[] = [];
    for (let k = 0; k < n; k++) capabilities.push(text('capability'));
    const booking: Booking = { id, resourceId, start, end, label, capabilities, userId, policyId, groupId };
    effects.push({ type: 'BookingConfirmed', booking });
  }
  if (at !== buf.length) throw new Error(`binary record payload has ${buf.length - at} bytes after its last booking`);
  return { now, effects };
}
