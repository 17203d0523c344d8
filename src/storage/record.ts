/**
 * One log record: a 16-byte header (payload length, CRC32C, LSN) and the payload. The CRC covers
 * the LSN and the payload, so a record moved or torn never passes for another.
 *
 *   0  u32 BE  payload length
 *   4  u32 BE  CRC32C of bytes [8, 16 + length)
 *   8  u64 BE  LSN
 *  16  payload
 */
import { crc32c } from './crc32c.js';

export const RECORD_HEADER_BYTES = 16;
/** Largest payload one record may carry (a 10,000-row transaction fits easily). */
const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** A record around `payload` (bytes, or text encoded as UTF-8 straight into the record). */
export function encodeRecord(lsn: number, payload: Buffer | string): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (len > MAX_RECORD_PAYLOAD_BYTES) throw new Error(`record payload of ${len} bytes exceeds ${MAX_RECORD_PAYLOAD_BYTES}`);
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + len);
  buf.writeUInt32BE(len, 0);
  buf.writeUInt32BE(Math.floor(lsn / 2 ** 32), 8);
  buf.writeUInt32BE(lsn >>> 0, 12);
  if (typeof payload === 'string') buf.write(payload, RECORD_HEADER_BYTES, 'utf8');
  else payload.copy(buf, RECORD_HEADER_BYTES);
  buf.writeUInt32BE(crc32c(buf, 0, 8, buf.length), 4);
  return buf;
}

export type DecodeResult =
  | { readonly kind: 'record'; readonly lsn: number; readonly payload: Buffer; readonly next: number }
  /** Not enough bytes for the header or the payload it declares: a torn tail, if at the end. */
  | { readonly kind: 'short' }
  /** The bytes are there but do not check out. */
  | { readonly kind: 'bad'; readonly reason: string };

/** Reads the record at `offset` of `buf`. */
export function decodeRecord(buf: Buffer, offset: number): DecodeResult {
  if (buf.length - offset < RECORD_HEADER_BYTES) return { kind: 'short' };
  const len = buf.readUInt32BE(offset);
  if (len > MAX_RECORD_PAYLOAD_BYTES) return { kind: 'bad', reason: `declared length ${len} is beyond any record` };
  const end = offset + RECORD_HEADER_BYTES + len;
  if (end > buf.length) return { kind: 'short' };
  const want = buf.readUInt32BE(offset + 4);
  if (crc32c(buf, 0, offset + 8, end) !== want) return { kind: 'bad', reason: 'checksum mismatch' };
  const lsn = buf.readUInt32BE(offset + 8) * 2 ** 32 + buf.readUInt32BE(offset + 12);
  return { kind: 'record', lsn, payload: buf.subarray(offset + RECORD_HEADER_BYTES, end), next: end };
}
