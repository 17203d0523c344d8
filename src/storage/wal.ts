/**
 * The write-ahead log of one tenant, with group commit: while one fdatasync is in flight, new
 * records queue; the next batch goes out with one write and one fdatasync. No timer, no fixed
 * batch size. A record's waiters are released only once it is on disk, in LSN order.
 *
 * Files: `wal-<first LSN, 20 digits>.log`. A checkpoint asks the log to start a new file after
 * a given LSN, so older files can be dropped once the snapshot covering them is durable.
 */
import { join } from 'node:path';
import { AllotError, SqlState } from '../errors.js';
import type { AppendFile, FileSystem } from './files.js';
import { encodeRecord } from './record.js';

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

export class Wal {
  private queue: { lsn: number; buf: Buffer }[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private durable: number;
  private failure: StorageFailure | null = null;
  private rollAt: number | null = null;
  private bytesSinceRoll = 0;
  readonly stats: WalStats = { batches: 0, records: 0, bytes: 0, syncMs: 0 };

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private segment: AppendFile,
    lastDurableLsn: number,
    private readonly onFailure: (err: StorageFailure) => void,
  ) {
    this.durable = lastDurableLsn;
  }

  get durableLsn(): number {
    return this.durable;
  }

  get failed(): StorageFailure | null {
    return this.failure;
  }

  /** Bytes appended since the last checkpoint began. */
  get bytesSinceCheckpoint(): number {
    return this.bytesSinceRoll;
  }

  /** Queues a record; resolves once it is on disk, rejects with StorageFailure if it cannot be. */
  append(lsn: number, payload: Buffer): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const buf = encodeRecord(lsn, payload);
    this.queue.push({ lsn, buf });
    this.bytesSinceRoll += buf.length;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
    void this.kick();
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

  /** Starts a new file for the records after `lsn` (a checkpoint's cut). */
  rollAfter(lsn: number): void {
    this.rollAt = lsn;
    this.bytesSinceRoll = 0;
    void this.kick();
  }

  private async kick(): Promise<void> {
    if (this.writing || this.failure !== null) return;
    this.writing = true;
    try {
      for (;;) {
        if (this.rollAt !== null && this.durable >= this.rollAt && (this.queue.length === 0 || this.queue[0]!.lsn > this.rollAt)) {
          await this.roll(this.rollAt + 1);
          this.rollAt = null;
        }
        if (this.queue.length === 0) break;
        // One batch: everything queued, but never across a roll point.
        let n = this.queue.length;
        if (this.rollAt !== null) {
          const cut = this.rollAt;
          const k = this.queue.findIndex((r) => r.lsn > cut);
          if (k >= 0) n = k;
        }
        const batch = this.queue.splice(0, n);
        await this.writeBatch(batch);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(batch: { lsn: number; buf: Buffer }[]): Promise<void> {
    const before = this.segment.size;
    try {
      await this.segment.append(batch.map((r) => r.buf));
      const t0 = performance.now();
      await this.segment.datasync();
      this.stats.syncMs += performance.now() - t0;
    } catch (err) {
      // What reached the file is unknown: cut it back so a restart sees no half batch.
      await this.segment.truncate(before).catch(() => undefined);
      throw err;
    }
    this.stats.batches++;
    this.stats.records += batch.length;
    for (const r of batch) this.stats.bytes += r.buf.length;
    this.durable = batch[batch.length - 1]!.lsn;
    let k = 0;
    while (k < this.waiters.length && this.waiters[k]!.lsn <= this.durable) this.waiters[k++]!.resolve();
    this.waiters.splice(0, k);
  }

  private async roll(firstLsn: number): Promise<void> {
    const old = this.segment;
    this.segment = await this.fs.openAppend(join(this.dir, segmentName(firstLsn)));
    await this.fs.fsyncDir(this.dir);
    await old.close();
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

  /** Waits for everything queued to be on disk, then closes the file. */
  async close(): Promise<void> {
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1]!.lsn : this.durable;
    await (this.waitDurable(last) ?? Promise.resolve()).catch(() => undefined);
    while (this.writing) await new Promise((r) => setImmediate(r));
    await this.segment.close().catch(() => undefined);
  }
}
