/**
 * Opening a tenant's directory: the newest snapshot, then every log record after it, in LSN
 * order. A torn tail (the last record of the last file short or unreadable, with nothing
 * readable after it) is cut off and logged; a bad record followed by good ones is corruption,
 * and start-up stops with a message naming the file and offset, leaving the data untouched.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Engine } from '../engine/engine.js';
import type { FileSystem } from './files.js';
import { decodeBody } from './payload.js';
import { decodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { parseSnapshotName, readSnapshot, SnapshotError } from './snapshot.js';
import { parseSegmentName } from './wal.js';

export class CorruptionError extends Error {}

export interface Recovered {
  readonly engine: Engine;
  readonly lastLsn: number;
  /** The file new records go to, and its first LSN. */
  readonly segment: { readonly name: string; readonly firstLsn: number };
  readonly stats: { snapshotLsn: number; records: number; bytes: number; truncatedBytes: number; ms: number };
  /** The latest instant any recovered decision was made at. */
  readonly lastNow: number;
}

export interface DirListing {
  readonly snapshots: { name: string; lsn: number }[];
  readonly segments: { name: string; firstLsn: number }[];
}

export async function listDir(fs: FileSystem, dir: string): Promise<DirListing> {
  const names = await fs.readdir(dir);
  const snapshots = names.flatMap((name) => {
    const lsn = parseSnapshotName(name);
    return lsn === null ? [] : [{ name, lsn }];
  });
  const segments = names.flatMap((name) => {
    const firstLsn = parseSegmentName(name);
    return firstLsn === null ? [] : [{ name, firstLsn }];
  });
  snapshots.sort((a, b) => a.lsn - b.lsn);
  segments.sort((a, b) => a.firstLsn - b.firstLsn);
  return { snapshots, segments };
}

/** Finds a readable record anywhere in buf after `from`: its presence makes damage corruption. */
function readableRecordAfter(buf: Buffer, from: number, minLsn: number): number | null {
  for (let at = from; at + RECORD_HEADER_BYTES <= buf.length; at++) {
    const r = decodeRecord(buf, at);
    if (r.kind === 'record' && r.lsn >= minLsn) return at;
  }
  return null;
}

export async function recover(fs: FileSystem, dir: string, log: Logger, opts: { checkInvariants?: boolean } = {}): Promise<Recovered> {
  const t0 = performance.now();
  await fs.mkdirp(dir);
  for (const name of await fs.readdir(dir)) if (name.endsWith('.tmp')) await fs.unlink(join(dir, name));
  const { snapshots, segments } = await listDir(fs, dir);
  const engine = new Engine({ checkInvariants: opts.checkInvariants ?? false });
  let lsn = 0;
  let lastNow = Number.MIN_SAFE_INTEGER;
  const newest = snapshots[snapshots.length - 1];
  if (newest !== undefined) {
    try {
      const state = readSnapshot(await fs.readFile(join(dir, newest.name)));
      if (state.lsn !== newest.lsn) throw new SnapshotError(`names LSN ${newest.lsn} but holds ${state.lsn}`);
      engine.load(state);
      lsn = state.lsn;
      lastNow = state.now;
    } catch (err) {
      if (err instanceof SnapshotError || err instanceof SyntaxError) {
        throw new CorruptionError(`${join(dir, newest.name)}: ${err.message}. The data is left as it is for inspection.`);
      }
      throw err;
    }
  }
  const snapshotLsn = lsn;
  let records = 0;
  let bytes = 0;
  let truncatedBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1];
    // A file whose successor starts at or before the snapshot holds nothing newer.
    if (next !== undefined && next.firstLsn <= snapshotLsn + 1) continue;
    const path = join(dir, seg.name);
    const buf = await fs.readFile(path);
    let at = 0;
    while (at < buf.length) {
      const r = decodeRecord(buf, at);
      if (r.kind === 'record') {
        if (r.lsn <= snapshotLsn) {
          at = r.next;
          continue;
        }
        if (r.lsn !== lsn + 1) {
          throw new CorruptionError(
            `${path} at byte ${at}: LSN ${r.lsn} follows ${lsn}; records are ${r.lsn <= lsn ? 'out of order' : 'missing'}. The data is left as it is for inspection.`,
          );
        }
        let body;
        try {
          body = decodeBody(r.payload);
        } catch (err) {
          throw new CorruptionError(`${path} at byte ${at}: LSN ${r.lsn} has a checksum that matches but a payload that does not parse (${(err as Error).message})`);
        }
        engine.replay(body.effects);
        if (body.now > lastNow) lastNow = body.now;
        lsn = r.lsn;
        records++;
        bytes += r.next - at;
        at = r.next;
        continue;
      }
      const isLastFile = next === undefined;
      const later = readableRecordAfter(buf, at + 1, lsn + 1);
      if (!isLastFile || later !== null) {
        const reason = r.kind === 'bad' ? r.reason : 'a short record';
        throw new CorruptionError(
          `${path} at byte ${at}: ${reason} after LSN ${lsn}, followed by ${later !== null ? `a readable record at byte ${later}` : 'another log file'}. ` +
            'This is corruption, not a torn write; the data is left as it is for inspection (allot wal verify shows the records).',
        );
      }
      truncatedBytes = buf.length - at;
      log.warn({ file: path, offset: at, bytes: truncatedBytes, reason: r.kind === 'bad' ? r.reason : 'short' }, `truncating a torn tail of ${truncatedBytes} bytes after LSN ${lsn}`);
      await fs.truncate(path, at);
      break;
    }
  }
  // Every decision was valid at its own instant, so all of them hold at the latest one.
  if (opts.checkInvariants === true) engine.assertInvariants(lastNow);
  const last = segments[segments.length - 1];
  const segment = last !== undefined && last.firstLsn <= lsn + 1 ? last : { name: '', firstLsn: lsn + 1 };
  return { engine, lastLsn: lsn, segment, lastNow, stats: { snapshotLsn, records, bytes, truncatedBytes, ms: performance.now() - t0 } };
}
