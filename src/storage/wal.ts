/**
 * The write-ahead log of one tenant, with group commit: while one fdatasync is in flight, new
 * records queue; the next batch goes out with one write and one fdatasync. No timer, no fixed
 * batch size. A record's waiters are released only once it is on disk, in LSN order.
 *
 * Files: `wal-<first LSN, 20 digits>.log`, preallocated and zero-filled; the log ends at the
 * first all-zero record header. A batch never spans two files. The next file is prepared in
 * the background while the current one fills; files grow from 1 MiB to 16 MiB, so an idle
 * database holds little disk.
 */
import { join } from 'node:path';
import { AllotError, SqlState } from '../errors.js';
import type { FileSystem, LogFile } from './files.js';
import { encodeRecord, RECORD_HEADER_BYTES } from './record.js';

export const WalLimits = {
  firstSegmentBytes: 1 << 20,
  maxSegmentBytes: 16 << 20,
} as const;

/** The next log file while it is being zero-filled; renamed to its LSN name when first used. */
export const PREPARED_NAME = 'wal-next.prealloc';

export function segmentName(firstLsn: number): string {
  return `wal-${String(firstLsn).padStart(20, '0')}.log`;
}

export function parseSegmentName(name: string): number | null {
  const m = /^wal-(\d{20})\.log$/.exec(name);
  return m === null ? null : Number(m[1]);
}

/** The error every write waiting on a failed batch gets; the tenant turns read-only. */
export class StorageFailure extends AllotError {
  constructor(readonly reason: unknown) {
    super(SqlState.ioError, `could not write to the log: ${reason instanceof Error ? reason.message : String(reason)}; this database is now read-only`, {
      hint: 'Nothing of this statement was kept. Fix the disk (space, permissions) and restart the server.',
    });
  }
}

interface Waiter {
  readonly lsn: number;
  resolve(): void;
  reject(err: Error): void;
}

export interface WalStats {
  batches: number;
  records: number;
  bytes: number;
  /** Total fdatasync time, for averages. */
  syncMs: number;
}

/** The file being written: where its records end, and the LSN its name carries. */
export interface OpenSegment {
  readonly file: LogFile;
  readonly end: number;
}

export class Wal {
  private queue: { lsn: number; buf: Buffer }[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private durable: number;
  private failure: StorageFailure | null = null;
  private file: LogFile;
  private end: number;
  private nextSize: number;
  private prepared: Promise<LogFile> | null = null;
  private bytesSinceMark = 0;
  readonly stats: WalStats = { batches: 0, records: 0, bytes: 0, syncMs: 0 };
  /** Told of every batch made durable: its records and its fdatasync time (for metrics). */
  onBatch: ((records: number, syncMs: number) => void) | null = null;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    segment: OpenSegment,
    lastDurableLsn: number,
    private readonly onFailure: (err: StorageFailure) => void,
    private readonly limits: { firstSegmentBytes: number; maxSegmentBytes: number } = WalLimits,
  ) {
    this.durable = lastDurableLsn;
    this.file = segment.file;
    this.end = segment.end;
    this.nextSize = Math.min(limits.maxSegmentBytes, Math.max(limits.firstSegmentBytes, segment.file.capacity * 2));
  }

  get durableLsn(): number {
    return this.durable;
  }

  get failed(): StorageFailure | null {
    return this.failure;
  }

  /** Bytes appended since `markCheckpoint`. */
  get bytesSinceCheckpoint(): number {
    return this.bytesSinceMark;
  }

  markCheckpoint(): void {
    this.bytesSinceMark = 0;
  }

  /** The file records currently go to (a checkpoint must not delete it). */
  get currentFile(): string {
    return this.file.path;
  }

  /** Queues a record; resolves once it is on disk, rejects with StorageFailure if it cannot be. */
  append(lsn: number, payload: Buffer | string): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const buf = encodeRecord(lsn, payload);
    this.queue.push({ lsn, buf });
    this.bytesSinceMark += buf.length;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
    if (!this.writing) void this.kick();
    return p;
  }

  /** Null when `lsn` is already durable (no waiting at all), else a promise for it. */
  waitDurable(lsn: number): Promise<void> | null {
    if (lsn <= this.durable) return null;
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      // Waiters are kept in LSN order; reads may ask for an earlier LSN than the last appended.
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.lsn > lsn) i--;
      this.waiters.splice(i, 0, { lsn, resolve, reject });
    });
  }

  /**
   * The writer loop. When a batch is on disk, the next one (what queued meanwhile) is written
   * and its fdatasync started before the finished batch's waiters are released: the disk works
   * on the next batch while the event loop sends the replies of the last.
   */
  private async kick(): Promise<void> {
    if (this.writing || this.failure !== null) return;
    this.writing = true;
    let done: number | null = null; // LSN up to which records are durable but not yet released
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const { sync } = await this.writeBatch(batch);
        if (done !== null) this.release(done);
        done = null;
        await sync;
        done = batch[batch.length - 1]!.lsn;
        this.durable = done;
      }
      if (done !== null) this.release(done);
    } catch (err) {
      // Batches before the failed one are on disk: their writers get their answers.
      if (done !== null) this.release(done);
      this.fail(err);
    } finally {
      this.writing = false;
    }
  }

  private release(lsn: number): void {
    let k = 0;
    while (k < this.waiters.length && this.waiters[k]!.lsn <= lsn) this.waiters[k++]!.resolve();
    this.waiters.splice(0, k);
  }

  /** Writes a batch into the page cache and starts its fdatasync (returned, not awaited). */
  private async writeBatch(batch: { lsn: number; buf: Buffer }[]): Promise<{ sync: Promise<void> }> {
    let total = 0;
    for (const r of batch) total += r.buf.length;
    // The file must keep room for an all-zero header after the batch: that is where the log ends.
    if (this.end + total + RECORD_HEADER_BYTES > this.file.capacity) await this.switchFile(batch[0]!.lsn, total);
    const at = this.end;
    const bufs = batch.map((r) => r.buf);
    this.file.writeAt(bufs, at);
    this.end += total;
    const t0 = performance.now();
    const file = this.file;
    const sync = file.datasync().then(
      () => {
        const ms = performance.now() - t0;
        this.stats.syncMs += ms;
        this.stats.batches++;
        this.stats.records += batch.length;
        this.stats.bytes += total;
        this.onBatch?.(batch.length, ms);
        if (this.prepared === null && this.end * 2 > this.file.capacity) this.prepareNext();
      },
      (err: unknown) => {
        // What reached the disk is unknown: blank the batch so a restart does not find it.
        this.end = at;
        try {
          file.writeAt([Buffer.alloc(total)], at);
        } catch {
          // The disk is failing; recovery will treat what is there as a torn tail.
        }
        throw err;
      },
    );
    // Returned in an object, so the caller can release earlier waiters before awaiting it.
    sync.catch(() => undefined);
    return { sync };
  }

  /** Starts zero-filling the next file while this one fills. */
  private prepareNext(): void {
    const size = this.nextSize;
    const p = this.fs.createLogFile(join(this.dir, PREPARED_NAME), size);
    // Unhandled here; awaited (and its error surfaced) when the file is needed.
    p.catch(() => undefined);
    this.prepared = p;
  }

  private async switchFile(firstLsn: number, needed: number): Promise<void> {
    const want = needed + RECORD_HEADER_BYTES;
    // A file that failed to prepare (a full disk) fails this batch: the database turns read-only.
    let next: LogFile | null = this.prepared === null ? null : await this.prepared;
    this.prepared = null;
    if (next !== null && next.capacity < want) {
      await next.close();
      next = null;
    }
    next ??= await this.fs.createLogFile(join(this.dir, PREPARED_NAME), Math.max(this.nextSize, want));
    const path = join(this.dir, segmentName(firstLsn));
    await this.fs.rename(next.path, path);
    await this.fs.fsyncDir(this.dir);
    await this.file.close();
    this.file = withPath(next, path);
    this.end = 0;
    this.nextSize = Math.min(this.limits.maxSegmentBytes, this.nextSize * 2);
  }

  private fail(err: unknown): void {
    const failure = err instanceof StorageFailure ? err : new StorageFailure(err);
    this.failure = failure;
    this.queue = [];
    const waiters = this.waiters;
    this.waiters = [];
    this.onFailure(failure);
    for (const w of waiters) w.reject(failure);
  }

  /** Waits for everything queued to be on disk, then closes the files. */
  async close(): Promise<void> {
    while (this.writing || this.queue.length > 0) {
      if (!this.writing) void this.kick();
      await new Promise((r) => setImmediate(r));
      if (this.failure !== null) break;
    }
    await this.file.close().catch(() => undefined);
    if (this.prepared !== null) await this.prepared.then((f) => f.close(), () => undefined);
  }
}

/** The same open file under its new name after a rename. */
function withPath(f: LogFile, path: string): LogFile {
  return {
    path,
    capacity: f.capacity,
    writeAt: (b, p) => f.writeAt(b, p),
    datasync: () => f.datasync(),
    close: () => f.close(),
  };
}
