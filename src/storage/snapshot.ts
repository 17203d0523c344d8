/**
 * Snapshots: the whole state of a tenant at one LSN, so recovery replays only the log after it.
 * Entities come in an order they can be loaded in: resources parents first, then policies,
 * rules, bookings, holds, outages, each after what it names. Written in chunks between which
 * the event loop runs, from arrays captured at one instant (entities are immutable, so the
 * capture is a copy of references).
 *
 * Version 2, written now:
 *
 *     {"allot_snapshot":2,"lsn":N,"now":T}\n          the header, one line of JSON
 *     block*                                          u8 kind | u32 BE length | length bytes
 *       kind 'j': JSON lines, one entity a line: {"r":resource}, {"p":…}, {"u":rule},
 *                 {"b":booking}, {"h":hold}, {"o":outage}
 *       kind 'b': bookings: u32 BE count | count × booking in the log's binary form (payload.ts)
 *     'e' | u32 BE entity count | u32 BE CRC32C of every byte before it     the trailer
 *
 * Bookings, nearly all of a large state, go in binary blocks: no JSON.stringify or JSON.parse,
 * and a third the bytes. A booking the binary form cannot carry (a lone surrogate in a label)
 * goes in a JSON block of its own, in its place.
 *
 * Version 1 (read, no longer written) was JSON lines throughout: the header, one line per
 * entity, and a trailer line {"end":true,"count":N,"crc":C}.
 */
import type { CapturedState } from '../engine/engine.js';
import type { Booking, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';
import { crc32c } from './crc32c.js';
import { BookingReader, bookingBound, writeBooking } from './payload.js';

const SNAPSHOT_VERSION = 2;
/** JSON entities serialised between two yields to the event loop. */
const CHUNK_ENTITIES = 500;
/** Bookings in one binary block, written between two yields (about as long as CHUNK_ENTITIES in JSON). */
const CHUNK_BOOKINGS = 2000;
const JSON_BLOCK = 0x6a; // 'j'
const BOOKING_BLOCK = 0x62; // 'b'
const TRAILER = 0x65; // 'e'
const BLOCK_HEAD = 5;
const TRAILER_BYTES = 9;

interface MutableState {
  lsn: number;
  now: number;
  resources: Resource[];
  policies: Policy[];
  rules: Rule[];
  bookings: Booking[];
  holds: Hold[];
  outages: Outage[];
}

export interface SnapshotState extends CapturedState {
  readonly lsn: number;
  /** When it was captured: no decision in it is later. */
  readonly now: number;
}

export function snapshotName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(20, '0')}.snap`;
}

export function parseSnapshotName(name: string): number | null {
  const m = /^snapshot-(\d{20})\.snap$/.exec(name);
  return m === null ? null : Number(m[1]);
}

/** The snapshot's bytes, a chunk at a time, yielding to the event loop between chunks. */
export async function* snapshotChunks(state: SnapshotState): AsyncGenerator<Buffer> {
  let crc = 0;
  let count = 0;
  const emit = (b: Buffer): Buffer => {
    crc = crc32c(b, crc);
    return b;
  };
  const pause = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
  yield emit(Buffer.from(`${JSON.stringify({ allot_snapshot: SNAPSHOT_VERSION, lsn: state.lsn, now: state.now })}\n`));
  const sections: [string, readonly unknown[]][] = [
    ['r', state.resources],
    ['p', state.policies],
    ['u', state.rules],
    ['b', state.bookings],
    ['h', state.holds],
    ['o', state.outages],
  ];
  for (const [key, items] of sections) {
    if (key === 'b') {
      for (let i = 0; i < items.length; i += CHUNK_BOOKINGS) {
        for (const block of bookingBlocks(state.bookings, i, Math.min(i + CHUNK_BOOKINGS, items.length))) yield emit(block);
        count += Math.min(CHUNK_BOOKINGS, items.length - i);
        await pause();
      }
      continue;
    }
    for (let i = 0; i < items.length; i += CHUNK_ENTITIES) {
      let text = '';
      for (const item of items.slice(i, i + CHUNK_ENTITIES)) text += entityLine(key, item);
      count += Math.min(CHUNK_ENTITIES, items.length - i);
      yield emit(jsonBlock(text));
      await pause();
    }
  }
  const trailer = Buffer.allocUnsafe(TRAILER_BYTES);
  trailer[0] = TRAILER;
  trailer.writeUInt32BE(count, 1);
  trailer.writeUInt32BE(crc, 5);
  yield trailer;
}

const entityLine = (key: string, item: unknown): string => `{"${key}":${JSON.stringify(item)}}\n`;

function jsonBlock(text: string): Buffer {
  const n = Buffer.byteLength(text);
  const b = Buffer.allocUnsafe(BLOCK_HEAD + n);
  b[0] = JSON_BLOCK;
  b.writeUInt32BE(n, 1);
  b.write(text, BLOCK_HEAD, 'utf8');
  return b;
}

/** bookings[from, to) as binary blocks; one the binary form cannot carry as a JSON block in its place. */
function bookingBlocks(bookings: readonly Booking[], from: number, to: number): Buffer[] {
  const blocks: Buffer[] = [];
  let bound = 0;
  // A booking that goes to JSON instead leaves at least the room the next block's head takes.
  for (let i = from; i < to; i++) bound += Math.max(BLOCK_HEAD + 4, bookingBound(bookings[i]!));
  const buf = Buffer.allocUnsafe(BLOCK_HEAD + 4 + bound);
  let blockStart = 0;
  let at = BLOCK_HEAD + 4;
  let n = 0;
  const close = (): void => {
    if (n === 0) return;
    buf[blockStart] = BOOKING_BLOCK;
    buf.writeUInt32BE(at - blockStart - BLOCK_HEAD, blockStart + 1);
    buf.writeUInt32BE(n, blockStart + BLOCK_HEAD);
    blocks.push(buf.subarray(blockStart, at));
    blockStart = at;
    at += BLOCK_HEAD + 4;
    n = 0;
  };
  for (let i = from; i < to; i++) {
    const b = bookings[i]!;
    const end = writeBooking(buf, at, b);
    if (end >= 0) {
      at = end;
      n++;
      continue;
    }
    close();
    blocks.push(jsonBlock(entityLine('b', b)));
  }
  close();
  return blocks;
}

export class SnapshotError extends Error {}

/** Reads and verifies a snapshot file's contents, of either version. */
export function readSnapshot(buf: Buffer): SnapshotState {
  const headerEnd = buf.indexOf(10);
  if (headerEnd < 0) throw new SnapshotError('snapshot is truncated');
  let header: { allot_snapshot?: number; lsn?: number; now?: number };
  try {
    header = JSON.parse(buf.toString('utf8', 0, headerEnd)) as typeof header;
  } catch {
    throw new SnapshotError('snapshot header is unreadable');
  }
  if (typeof header !== 'object' || header === null || typeof header.lsn !== 'number' || typeof header.now !== 'number') {
    throw new SnapshotError('snapshot header is not an allot snapshot header');
  }
  const state: MutableState = { lsn: header.lsn, now: header.now, resources: [], policies: [], rules: [], bookings: [], holds: [], outages: [] };
  if (header.allot_snapshot === 1) readVersion1(buf, state);
  else if (header.allot_snapshot === 2) readVersion2(buf, headerEnd + 1, state);
  else throw new SnapshotError(`snapshot version ${String(header.allot_snapshot)} is not one this server reads (1 or 2)`);
  return state;
}

function readVersion2(buf: Buffer, from: number, state: MutableState): void {
  const end = buf.length - TRAILER_BYTES;
  if (end < from || buf[end] !== TRAILER) throw new SnapshotError('snapshot is truncated: no trailer');
  if (crc32c(buf, 0, 0, end) !== buf.readUInt32BE(end + 5)) throw new SnapshotError('snapshot checksum mismatch');
  const count = buf.readUInt32BE(end + 1);
  let entities = 0;
  let at = from;
  while (at < end) {
    if (at + BLOCK_HEAD > end) throw new SnapshotError(`snapshot block at byte ${at} is cut short`);
    const kind = buf[at]!;
    const length = buf.readUInt32BE(at + 1);
    const bodyEnd = at + BLOCK_HEAD + length;
    if (bodyEnd > end) throw new SnapshotError(`snapshot block at byte ${at} runs past the trailer`);
    if (kind === JSON_BLOCK) {
      const lines = buf.toString('utf8', at + BLOCK_HEAD, bodyEnd).split('\n');
      if (lines.pop() !== '') throw new SnapshotError(`snapshot block at byte ${at} does not end its last line`);
      for (const line of lines) addEntity(state, JSON.parse(line), `in the block at byte ${at}`);
      entities += lines.length;
    } else if (kind === BOOKING_BLOCK) {
      const r = new BookingReader(buf.subarray(0, bodyEnd), `snapshot block at byte ${at}`);
      r.at = at + BLOCK_HEAD;
      try {
        r.need(4);
        const n = buf.readUInt32BE(r.at);
        r.at += 4;
        for (let i = 0; i < n; i++) state.bookings.push(r.booking());
        entities += n;
      } catch (err) {
        throw new SnapshotError((err as Error).message);
      }
      if (r.at !== bodyEnd) throw new SnapshotError(`snapshot block at byte ${at} has ${bodyEnd - r.at} bytes after its last booking`);
    } else {
      throw new SnapshotError(`snapshot block at byte ${at} is of unknown kind 0x${kind.toString(16)}`);
    }
    at = bodyEnd;
  }
  if (entities !== count) throw new SnapshotError(`snapshot holds ${entities} entities, its trailer says ${count}`);
}

function readVersion1(buf: Buffer, state: MutableState): void {
  const lastNl = buf.lastIndexOf(10, buf.length - 2);
  if (buf.length === 0 || buf[buf.length - 1] !== 10 || lastNl < 0) throw new SnapshotError('snapshot is truncated');
  let trailer: { end?: boolean; count?: number; crc?: number };
  try {
    trailer = JSON.parse(buf.subarray(lastNl + 1).toString('utf8')) as typeof trailer;
  } catch {
    throw new SnapshotError('snapshot trailer is unreadable');
  }
  if (trailer.end !== true) throw new SnapshotError('snapshot has no trailer');
  if (crc32c(buf, 0, 0, lastNl + 1) !== trailer.crc) throw new SnapshotError('snapshot checksum mismatch');
  const lines = buf.subarray(0, lastNl).toString('utf8').split('\n');
  for (let i = 1; i < lines.length; i++) addEntity(state, JSON.parse(lines[i]!), `on line ${i + 1}`);
  if (lines.length - 1 !== trailer.count) throw new SnapshotError(`snapshot holds ${lines.length - 1} entities, its trailer says ${trailer.count}`);
}

function addEntity(state: MutableState, v: unknown, where: string): void {
  const o = v as { r?: Resource; p?: Policy; u?: Rule; b?: Booking; h?: Hold; o?: Outage } | null;
  if (typeof o !== 'object' || o === null) throw new SnapshotError(`snapshot entity ${where} is not an object`);
  if (o.r !== undefined) state.resources.push(o.r);
  else if (o.p !== undefined) state.policies.push(o.p);
  else if (o.u !== undefined) state.rules.push(o.u);
  else if (o.b !== undefined) state.bookings.push(o.b);
  else if (o.h !== undefined) state.holds.push(o.h);
  else if (o.o !== undefined) state.outages.push(o.o);
  else throw new SnapshotError(`snapshot entity ${where} is not an entity`);
}
