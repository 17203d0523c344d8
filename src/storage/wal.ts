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
import { AllotError, OutcomeUnknown, SqlState } from '../errors.js';
import type { FileSystem, LogFile } from './files.js';
import { openLogs, type ClosableLog } from './open-logs.js';
import { encodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { SyncThread, type SyncedBatch, type SyncFailure } from './sync-thread.js';

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

/** The error every write that will never be on disk gets once the log failed; the tenant turns read-only. */
export class StorageFailure extends AllotError {
  constructor(readonly reason: unknown) {
    super(SqlState.ioError, `could not write to the log: ${reason instanceof Error ? reason.message : String(reason)}; this database is now read-only`, {
      hint: 'Nothing of this statement was kept. Fix the disk (space, permissions) and restart the server.',
    });
  }
}

/** A batch that failed and whose bytes could not be erased: its records' fate is unknown. */
class UnerasedBatch extends Error {
  constructor(
    readonly reason: unknown,
    readonly lastLsn: number,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
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

export class Wal implements ClosableLog {
  private queue: { lsn: number; buf: Buffer }[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private durable: number;
  /** Set at the first failure: no record is taken from then on. */
  private failure: StorageFailure | null = null;
  /** Records after the durable LSN up to this one may be on disk despite the failure. */
  private unknownUpTo = 0;
  /** The failure's consequences are drawn: every record's fate is known or declared unknown. */
  private failureSettled = false;
  /** The sync thread failed or was lost: it reports nothing more. */
  private threadStopped = false;
  private file: LogFile;
  /** The current file was closed to stay within the open-files bound; the next write reopens it. */
  private filesClosed = false;
  lastUse = 0;
  private end: number;
  private nextSize: number;
  private prepared: Promise<LogFile> | null = null;
  /** The next file is being made (its name is taken until it is done). */
  private preparing = false;
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
    /** Told once, when the failure is settled: `durableLsn` is final; `unknown` when records after it may be on disk anyway. */
    private readonly onFailure: (err: StorageFailure, unknown: boolean) => void,
    private readonly limits: { firstSegmentBytes: number; maxSegmentBytes: number } = WalLimits,
  ) {
    this.durable = lastDurableLsn;
    this.file = segment.file;
    this.end = segment.end;
    this.nextSize = Math.min(limits.maxSegmentBytes, Math.max(limits.firstSegmentBytes, segment.file.capacity * 2));
    this.submitted = lastDurableLsn;
    this.thread =
      segment.file.fd === null
        ? null
        : new SyncThread(
            (b) => this.onSynced(b),
            (f) => this.threadFailed(f),
          );
    openLogs.opened(this);
  }

  get idle(): boolean {
    if (this.filesClosed || this.switching || this.writing || this.preparing || this.queue.length > 0) return false;
    return this.failure !== null ? this.failureSettled : this.durable >= this.submitted || this.thread === null;
  }

  /** Closes the current (and any prepared) file; the next record opens the current one again. */
  closeFiles(): void {
    if (this.filesClosed) return;
    this.filesClosed = true;
    void this.file.close().catch(() => undefined);
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared !== null)
      void prepared
        .then(
          (f) => f.close(),
          () => undefined,
        )
        .catch(() => undefined);
  }

  private async reopenFiles(): Promise<void> {
    const path = this.file.path;
    this.file = await this.fs.openLogFile(path);
    this.filesClosed = false;
    openLogs.opened(this);
  }

  get durableLsn(): number {
    return this.durable;
  }

  /** Set from the first failure on (records already with the sync thread may still become durable). */
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
    openLogs.touch(this);
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
    if (this.switching || this.filesClosed || !this.fits(buf.length)) {
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
        if (this.filesClosed) await this.reopenFiles();
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
    if (this.failure !== null) this.settleFailure();
    openLogs.trim();
  }

  private threadFailed(f: SyncFailure): void {
    this.threadStopped = true;
    this.fail(f.error, f.unknownUpTo);
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
    if (this.failureSettled) return Promise.reject(this.failureFor(lsn));
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
      if (err instanceof UnerasedBatch) this.fail(err.reason, err.lastLsn);
      else this.fail(err);
    } finally {
      this.writing = false;
    }
    openLogs.trim();
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
    if (this.filesClosed) await this.reopenFiles();
    // The file must keep room for an all-zero header after the batch: that is where the log ends.
    // Every earlier batch is on disk (the loop awaits each sync), so the old file can close.
    if (!this.fits(total)) await (await this.switchFile(batch[0]!.lsn, total)).close();
    const at = this.end;
    const bufs = batch.map((r) => r.buf);
    const file = this.file;
    const lastLsn = batch[batch.length - 1]!.lsn;
    try {
      file.writeAt(bufs, at);
    } catch (err) {
      // Bytes a failed write left in the page cache must not be replayed.
      const written = (err as { bytesWritten?: number }).bytesWritten ?? total;
      if (written > 0 && !(await erase(file, at, written))) throw new UnerasedBatch(err, lastLsn);
      throw err;
    }
    this.end += total;
    const t0 = performance.now();
    const sync = file.datasync().then(
      () => {
        this.batchDone(batch.length, total, performance.now() - t0);
      },
      async (err: unknown) => {
        // What reached the disk is unknown: zero the batch and sync, so a restart cannot find it.
        this.end = at;
        if (!(await erase(file, at, total))) throw new UnerasedBatch(err, lastLsn);
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
    this.preparing = true;
    const done = (): void => {
      this.preparing = false;
      openLogs.trim();
    };
    p.then(done, done);
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

  /**
   * The log cannot take more records: those not yet written never will be. Records already with
   * the sync thread still get its verdict (a record that reaches the disk is acknowledged);
   * then the failure is settled. `unknownUpTo`: records up to it may be on disk, unsure.
   */
  private fail(err: unknown, unknownUpTo = 0): void {
    this.failure ??= err instanceof StorageFailure ? err : new StorageFailure(err);
    if (unknownUpTo > this.unknownUpTo) this.unknownUpTo = unknownUpTo;
    this.queue = [];
    this.settleFailure();
  }

  /** Once nothing is in flight: the tenant is told, and every waiter beyond the durable LSN fails. */
  private settleFailure(): void {
    const failure = this.failure;
    if (failure === null || this.failureSettled) return;
    if (this.thread !== null && !this.threadStopped && this.durable < this.submitted) return;
    this.failureSettled = true;
    const waiters = this.waiters;
    this.waiters = [];
    this.onFailure(failure, this.unknownUpTo > this.durable);
    for (const w of waiters) w.reject(this.failureFor(w.lsn));
  }

  /** What a record that is not durable gets once the failure is settled. */
  private failureFor(lsn: number): Error {
    return lsn <= this.unknownUpTo ? new OutcomeUnknown(this.failure!.reason) : this.failure!;
  }

  /** Waits for everything queued to be on disk, then closes the files. */
  async close(): Promise<void> {
    if (this.thread !== null) {
      const busy = (): boolean => (this.failure !== null ? !this.failureSettled : this.switching || this.queue.length > 0 || this.durable < this.submitted);
      while (busy()) await new Promise((r) => setImmediate(r));
      await this.thread.close();
      for (const r of this.retired) await r.file.close().catch(() => undefined);
      this.retired = [];
    }
    while (this.writing || this.queue.length > 0) {
      if (!this.writing) void this.kick();
      await new Promise((r) => setImmediate(r));
      if (this.failure !== null) break;
    }
    openLogs.closed(this);
    if (!this.filesClosed) await this.file.close().catch(() => undefined);
    this.filesClosed = true;
    if (this.prepared !== null)
      await this.prepared.then(
        (f) => f.close(),
        () => undefined,
      );
  }
}

/** Zeros over `bytes` at `at`, synced: the log ends there again. False when that failed too. */
async function erase(file: LogFile, at: number, bytes: number): Promise<boolean> {
  try {
    file.writeAt([Buffer.alloc(bytes)], at);
    await file.datasync();
    return true;
  } catch {
    return false;
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
