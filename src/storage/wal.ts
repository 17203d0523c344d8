/**
 * The write-ahead log of one tenant, with group commit: while one fdatasync is in flight, new
 * records queue; the next batch goes out with one write and one fdatasync. No timer, no fixed
 * batch size. A record's waiters are released only once it is on disk, in LSN order.
 *
 * Files: `wal-<first LSN, 20 digits>.log`, preallocated and zero-filled; the log ends at the
 * first all-zero record header. A batch never spans two files. The next file is prepared in
 * the background while the current one fills; files grow from 1 MiB to 16 MiB, so an idle
 * database holds little disk.
 *
 * On real files the batches are formed, written and synced by the log's sync thread
 * (sync-thread.ts), which starts the next fdatasync as soon as the last returns; where a file
 * has no descriptor (the test doubles that inject disk faults) the event loop does it itself,
 * with the same batching rule.
 */
import { join } from 'node:path';
import { AllotError, SqlState } from '../errors.js';
import type { FileSystem, LogFile } from './files.js';
import { encodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { SyncThread, type SyncedBatch } from './sync-thread.js';

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
  /** Null where files have no descriptor: batches are then written from the event loop. */
  private readonly thread: SyncThread | null;
  /** The sync thread's mode: a file switch is under way, and records queue until it is done. */
  private switching = false;
  /** The last LSN handed to the sync thread. */
  private submitted: number;
  /** Files switched away from, closed once the sync thread is done with their records. */
  private retired: { file: LogFile; lastLsn: number }[] = [];
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
    this.submitted = lastDurableLsn;
    this.thread = segment.file.fd === null ? null : new SyncThread((b) => this.onSynced(b), (err) => this.fail(err));
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
    this.bytesSinceMark += buf.length;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
    if (this.thread !== null) {
      this.submit(lsn, buf);
    } else {
      this.queue.push({ lsn, buf });
      if (!this.writing) void this.kick();
    }
    return p;
  }

  // ---- with the sync thread ---------------------------------------------------------------

  /** Hands a record to the sync thread, or queues it while the current file is switched. */
  private submit(lsn: number, buf: Buffer): void {
    if (this.switching || !this.fits(buf.length)) {
      this.queue.push({ lsn, buf });
      if (!this.switching) void this.switchForThread();
      return;
    }
    this.handOver(lsn, buf);
  }

  /** Gives the sync thread a record that fits in the current file, at the file's end. */
  private handOver(lsn: number, buf: Buffer): void {
    this.thread!.write(this.file.fd!, this.end, buf, lsn);
    this.end += buf.length;
    this.submitted = lsn;
  }

  /** Whether `bytes` more fit in the current file, keeping room for the all-zero header that ends the log. */
  private fits(bytes: number): boolean {
    return this.end + bytes + RECORD_HEADER_BYTES <= this.file.capacity;
  }

  /** Moves to the next file, then hands over what queued meanwhile (switching again if it fills). */
  private async switchForThread(): Promise<void> {
    this.switching = true;
    try {
      while (this.queue.length > 0 && this.failure === null) {
        const first = this.queue[0]!;
        if (!this.fits(first.buf.length)) {
          const old = await this.switchFile(first.lsn, first.buf.length);
          if (this.file.fd === null) throw new Error(`log file ${this.file.path} has no descriptor for the sync thread`);
          // The sync thread may still be writing the old file's last batch.
          if (this.submitted <= this.durable) await old.close();
          else this.retired.push({ file: old, lastLsn: this.submitted });
        }
        let i = 0;
        for (const q = this.queue; i < q.length && this.fits(q[i]!.buf.length); i++) this.handOver(q[i]!.lsn, q[i]!.buf);
        this.queue.splice(0, i);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.switching = false;
    }
  }

  private onSynced(b: SyncedBatch): void {
    this.durable = b.lsn;
    this.batchDone(b.records, b.bytes, b.ms);
    this.release(b.lsn);
    if (this.retired.length > 0) {
      const done = this.retired.filter((r) => r.lastLsn <= b.lsn);
      this.retired = this.retired.filter((r) => r.lastLsn > b.lsn);
      for (const r of done) void r.file.close().catch(() => undefined);
    }
  }

  /** A batch is on disk (either way of writing): statistics, metrics, and the next file's preparation once this one is half full. */
  private batchDone(records: number, bytes: number, ms: number): void {
    this.stats.syncMs += ms;
    this.stats.batches++;
    this.stats.records += records;
    this.stats.bytes += bytes;
    this.onBatch?.(records, ms);
    // Not while a switch is under way: it takes the prepared file, or makes one under the same name.
    if (this.prepared === null && !this.switching && this.end * 2 > this.file.capacity) this.prepareNext();
  }

  // ---- from the event loop ------------------------------------------------------------------

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
    // Every earlier batch is on disk (the loop awaits each sync), so the old file can close.
    if (!this.fits(total)) await (await this.switchFile(batch[0]!.lsn, total)).close();
    const at = this.end;
    const bufs = batch.map((r) => r.buf);
    this.file.writeAt(bufs, at);
    this.end += total;
    const t0 = performance.now();
    const file = this.file;
    const sync = file.datasync().then(
      () => {
        this.batchDone(batch.length, total, performance.now() - t0);
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

  /** Makes the next file current (prepared, named by `firstLsn`, its directory synced); returns the old one, still open. */
  private async switchFile(firstLsn: number, needed: number): Promise<LogFile> {
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
    const old = this.file;
    this.file = withPath(next, path);
    this.end = 0;
    this.nextSize = Math.min(this.limits.maxSegmentBytes, this.nextSize * 2);
    return old;
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
    if (this.thread !== null) {
      while (this.failure === null && (this.switching || this.queue.length > 0 || this.durable < this.submitted)) await new Promise((r) => setImmediate(r));
      await this.thread.close();
      for (const r of this.retired) await r.file.close().catch(() => undefined);
      this.retired = [];
    }
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
    get fd() {
      return f.fd;
    },
    capacity: f.capacity,
    writeAt: (b, p) => f.writeAt(b, p),
    datasync: () => f.datasync(),
    close: () => f.close(),
  };
}
