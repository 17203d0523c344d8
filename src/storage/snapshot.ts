/**
 * Snapshots: the whole state of a tenant at one LSN, so recovery replays only the log after it.
 * JSON lines: a header, one line per entity (resources parents first, then policies, rules,
 * bookings, holds, outages: each after what it names), and a trailer with the count and a CRC32C of everything before it. Written in chunks
 * between which the event loop runs, from arrays captured at one instant (entities are
 * immutable, so the capture is a copy of references).
 */
import type { CapturedState } from '../engine/engine.js';
import type { Booking, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';
import { crc32c } from './crc32c.js';

export const SNAPSHOT_VERSION = 1;
/** Entities serialised between two yields to the event loop. */
const CHUNK_ENTITIES = 500;

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
  const emit = (text: string): Buffer => {
    const b = Buffer.from(text);
    crc = crc32c(b, crc);
    return b;
  };
  yield emit(JSON.stringify({ allot_snapshot: SNAPSHOT_VERSION, lsn: state.lsn, now: state.now }) + '\n');
  const sections: [string, readonly unknown[]][] = [
    ['r', state.resources],
    ['p', state.policies],
    ['u', state.rules],
    ['b', state.bookings],
    ['h', state.holds],
    ['o', state.outages],
  ];
  for (const [key, items] of sections) {
    for (let i = 0; i < items.length; i += CHUNK_ENTITIES) {
      let text = '';
      for (const item of items.slice(i, i + CHUNK_ENTITIES)) text += `{"${key}":${JSON.stringify(item)}}\n`;
      count += Math.min(CHUNK_ENTITIES, items.length - i);
      yield emit(text);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  yield Buffer.from(JSON.stringify({ end: true, count, crc }) + '\n');
}

export class SnapshotError extends Error {}

/** Reads and verifies a snapshot file's contents. */
export function readSnapshot(buf: Buffer): SnapshotState {
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
  const header = JSON.parse(lines[0]!) as { allot_snapshot?: number; lsn?: number; now?: number };
  if (header.allot_snapshot !== SNAPSHOT_VERSION || typeof header.lsn !== 'number' || typeof header.now !== 'number') {
    throw new SnapshotError('snapshot header is not allot version 1');
  }
  const state = {
    lsn: header.lsn,
    now: header.now,
    resources: [] as Resource[],
    policies: [] as Policy[],
    rules: [] as Rule[],
    bookings: [] as Booking[],
    holds: [] as Hold[],
    outages: [] as Outage[],
  };
  for (let i = 1; i < lines.length; i++) {
    const o = JSON.parse(lines[i]!) as { r?: Resource; p?: Policy; u?: Rule; b?: Booking; h?: Hold; o?: Outage };
    if (o.r !== undefined) state.resources.push(o.r);
    else if (o.p !== undefined) state.policies.push(o.p);
    else if (o.u !== undefined) state.rules.push(o.u);
    else if (o.b !== undefined) state.bookings.push(o.b);
    else if (o.h !== undefined) state.holds.push(o.h);
    else if (o.o !== undefined) state.outages.push(o.o);
    else throw new SnapshotError(`snapshot line ${i + 1} is not an entity`);
  }
  if (lines.length - 1 !== trailer.count) throw new SnapshotError(`snapshot holds ${lines.length - 1} entities, its trailer says ${trailer.count}`);
  return state;
}
