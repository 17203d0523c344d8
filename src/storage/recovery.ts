/**
 * Opening a tenant's directory: the newest snapshot, then every log record after it, in LSN
 * order. Log files are preallocated, so a file's records end at the first all-zero header.
 * A torn tail (the last record of the last file short or unreadable, with nothing readable
 * after it) is copied to a side file beside the log (`<file>.torn-<offset>`), then blanked and
 * logged; a bad record followed by good ones is corruption, and
 * start-up stops with a message naming the file and offset, leaving the data untouched.
 */
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { Engine } from '../engine/engine.js';
import type { FileSystem } from './files.js';
import { decodeBody } from './payload.js';
import { decodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { parseSnapshotName, readSnapshot, SnapshotError } from './snapshot.js';
import { parseSegmentName, PREPARED_NAME, segmentName } from './wal.js';

export class CorruptionError extends Error {}

export interface Recovered {
  readonly engine: Engine;
  readonly lastLsn: number;
  /** The file new records go to (created if there was none), and where its records end. */
  readonly segment: { readonly name: string; readonly end: number; readonly exists: boolean };
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

const ZEROS = Buffer.alloc(64 * 1024);

/** Offset just past the last non-zero byte of buf at or after `from` (from itself if none). */
export function endOfData(buf: Buffer, from: number): number {
  let end = buf.length;
  while (end > from) {
    const start = Math.max(from, end - ZEROS.length);
    if (buf.compare(ZEROS, 0, end - start, start, end) !== 0) break;
    end = start;
  }
  while (end > from && buf[end - 1] === 0) end--;
  return end;
}

function isZeroHeader(buf: Buffer, at: number): boolean {
  return at + RECORD_HEADER_BYTES <= buf.length && buf.compare(ZEROS, 0, RECORD_HEADER_BYTES, at, at + RECORD_HEADER_BYTES) === 0;
}

/** A readable record in buf[from, to) with LSN >= minLsn: its presence makes damage corruption. */
function readableRecordIn(buf: Buffer, from: number, to: number, minLsn: number): number | null {
  // Only records that end within the data count; checking them costs a CRC each.
  const data = buf.subarray(0, to);
  for (let at = from; at + RECORD_HEADER_BYTES <= to; at++) {
    const r = decodeRecord(data, at);
    if (r.kind === 'record' && r.lsn >= minLsn) return at;
  }
  return null;
}

/** Loads the snapshot at `path` (named for LSN `named`) into the empty engine: the LSN and instant it was taken at. */
async function loadSnapshot(fs: FileSystem, path: string, named: number, engine: Engine): Promise<{ lsn: number; now: number }> {
  try {
    const state = readSnapshot(await fs.readFile(path));
    if (state.lsn !== named) throw new SnapshotError(`names LSN ${named} but holds ${state.lsn}`);
    engine.load(state);
    return { lsn: state.lsn, now: state.now };
  } catch (err) {
    if (err instanceof SnapshotError || err instanceof SyntaxError) {
      throw new CorruptionError(`${path}: ${err.message}. The data is left as it is for inspection.`);
    }
    throw err;
  }
}

/** How often a long replay reports its progress. */
const PROGRESS_MS = 1000;

export async function recover(fs: FileSystem, dir: string, log: Logger, opts: { checkInvariants?: boolean; progressMs?: number } = {}): Promise<Recovered> {
  const progressMs = opts.progressMs ?? PROGRESS_MS;
  const t0 = performance.now();
  await fs.mkdirp(dir);
  for (const name of await fs.readdir(dir)) if (name.endsWith('.tmp') || name === PREPARED_NAME) await fs.unlink(join(dir, name));
  const { snapshots, segments } = await listDir(fs, dir);
  const engine = new Engine({ checkInvariants: opts.checkInvariants ?? false });
  const newest = snapshots[snapshots.length - 1];
  const loaded = newest !== undefined ? await loadSnapshot(fs, join(dir, newest.name), newest.lsn, engine) : { lsn: 0, now: Number.MIN_SAFE_INTEGER };
  let lsn = loaded.lsn;
  let lastNow = loaded.now;
  const snapshotLsn = lsn;
  let records = 0;
  let bytes = 0;
  let truncatedBytes = 0;
  let lastEnd = 0;
  // A long replay reports its progress every PROGRESS_MS: records and bytes so far.
  let lastReport = performance.now();
  if (newest !== undefined || segments.length > 0) {
    log.info(
      { snapshotLsn, files: segments.length },
      newest !== undefined ? `recovering: snapshot at LSN ${snapshotLsn} loaded, replaying the log after it` : 'recovering: replaying the log',
    );
  }
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1];
    // A file whose successor starts at or before the snapshot holds nothing newer.
    if (next !== undefined && next.firstLsn <= snapshotLsn + 1) continue;
    const path = join(dir, seg.name);
    const buf = await fs.readFile(path);
    const isLastFile = next === undefined;
    let at = 0;
    for (;;) {
      if (at >= buf.length || isZeroHeader(buf, at)) {
        // The end of this file's records; nothing but zeros may follow.
        const dataEnd = endOfData(buf, at);
        if (dataEnd > at) {
          truncatedBytes += await damaged(fs, log, path, buf, at, dataEnd, isLastFile, lsn, 'data after the end of the log');
        }
        break;
      }
      const r = decodeRecord(buf, at);
      if (r.kind !== 'record') {
        const dataEnd = endOfData(buf, at);
        truncatedBytes += await damaged(fs, log, path, buf, at, dataEnd, isLastFile, lsn, r.kind === 'bad' ? r.reason : 'a short record');
        break;
      }
      if (r.lsn <= snapshotLsn) {
        at = r.next;
        continue;
      }
      if (r.lsn !== lsn + 1) {
        throw new CorruptionError(
          `${path} at byte ${at}: LSN ${r.lsn} follows ${lsn}; records are ${r.lsn <= lsn ? 'out of order' : 'missing'}. The data is left as it is for inspection.`,
        );
      }
      let body: ReturnType<typeof decodeBody>;
      try {
        body = decodeBody(r.payload);
      } catch (err) {
        throw new CorruptionError(
          `${path} at byte ${at}: LSN ${r.lsn} has a checksum that matches but a payload that does not parse (${(err as Error).message})`,
        );
      }
      engine.replay(body.effects);
      if (body.now > lastNow) lastNow = body.now;
      lsn = r.lsn;
      records++;
      bytes += r.next - at;
      at = r.next;
      if ((records & 1023) === 0 && performance.now() - lastReport >= progressMs) {
        lastReport = performance.now();
        log.info(
          { lsn, records, bytes, file: seg.name, fileIndex: i + 1, files: segments.length },
          `recovering: ${records} records, ${(bytes / 1048576).toFixed(1)} MiB replayed (file ${i + 1} of ${segments.length})`,
        );
      }
    }
    lastEnd = at;
  }
  // Every decision was valid at its own instant, so all of them hold at the latest one.
  if (opts.checkInvariants === true) engine.assertInvariants(lastNow);
  // New records continue the last file, after its last record.
  const last = segments[segments.length - 1];
  const segment = last !== undefined ? { name: last.name, end: lastEnd, exists: true } : { name: segmentName(lsn + 1), end: 0, exists: false };
  return { engine, lastLsn: lsn, segment, lastNow, stats: { snapshotLsn, records, bytes, truncatedBytes, ms: performance.now() - t0 } };
}

/**
 * Bytes [at, dataEnd) of a log file do not read as records. At the end of the last file, with
 * no readable record among them, that is a torn write: they are blanked (and counted).
 * Anywhere else it is corruption.
 */
async function damaged(
  fs: FileSystem,
  log: Logger,
  path: string,
  buf: Buffer,
  at: number,
  dataEnd: number,
  isLastFile: boolean,
  lsn: number,
  reason: string,
): Promise<number> {
  const later = readableRecordIn(buf, at + 1, dataEnd, lsn + 1);
  if (!isLastFile || later !== null) {
    throw new CorruptionError(
      `${path} at byte ${at}: ${reason} after LSN ${lsn}, followed by ${later !== null ? `a readable record at byte ${later}` : 'another log file'}. ` +
        'This is corruption, not a torn write; the data is left as it is for inspection (allot wal verify shows the records).',
    );
  }
  const n = dataEnd - at;
  // The cut bytes are kept beside the log first: a torn write and a flipped bit in the last
  // record look the same here, and the second deserves a look.
  const kept = await keepTornTail(fs, path, at, buf.subarray(at, dataEnd));
  if (kept !== null) {
    log.warn({ file: path, offset: at, bytes: n, reason, kept }, `discarding a torn tail of ${n} bytes after LSN ${lsn}; the bytes are kept in ${kept}`);
  } else {
    log.error(
      { file: path, offset: at, bytes: n, reason, head: buf.subarray(at, Math.min(dataEnd, at + 64)).toString('hex') },
      `discarding a torn tail of ${n} bytes after LSN ${lsn}; could not keep a copy of them (the first 64 are in this line)`,
    );
  }
  const f = await fs.openLogFile(path);
  try {
    f.writeAt([Buffer.alloc(n)], at);
    await f.datasync();
  } finally {
    await f.close();
  }
  return n;
}

/** Writes a torn tail's bytes to `<log file>.torn-<offset>` (or a free variant of it); null if that fails. */
async function keepTornTail(fs: FileSystem, path: string, at: number, bytes: Buffer): Promise<string | null> {
  const dir = dirname(path);
  const taken = new Set(await fs.readdir(dir));
  let name = `${basename(path)}.torn-${at}`;
  for (let k = 2; taken.has(name); k++) name = `${basename(path)}.torn-${at}-${k}`;
  const target = join(dir, name);
  try {
    await fs.writeAtomic(
      target,
      (async function* () {
        yield bytes;
      })(),
    );
    return target;
  } catch {
    return null;
  }
}
