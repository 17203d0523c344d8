/**
 * The log's sync thread: a worker that writes log records into their files and fdatasyncs
 * them. It takes as one batch everything that arrived while its last fdatasync ran, and starts
 * the next fdatasync the moment the last one returns. The event loop is not on that path: it
 * hands records over once per turn and hears back once per batch, so a busy event loop
 * (replies going out, statements coming in) no longer leaves the disk idle between batches,
 * and the writes themselves leave the event loop.
 *
 * The worker only writes where it is told (a descriptor and a position) and syncs; which file a
 * record goes to, file switching and what a failure means stay with the Wal.
 */
import { Worker } from 'node:worker_threads';

/** What the worker reports after each batch is on disk. */
export interface SyncedBatch {
  /** The last LSN of the batch: every record up to it is durable. */
  readonly lsn: number;
  readonly records: number;
  readonly bytes: number;
  /** Time spent writing and syncing the batch. */
  readonly ms: number;
}

interface Chunk {
  fd: number;
  pos: number;
  data: Uint8Array;
}

/** Main thread to worker: contiguous bytes per file, and the records they hold. */
interface Submission {
  chunks: Chunk[];
  lsn: number;
  records: number;
}

type Report = { ok: SyncedBatch } | { error: { message: string; code: string | undefined } };

// Plain JavaScript, evaluated as the worker's own script (so it runs the same from the
// TypeScript sources under test and from the build). A write or sync that fails blanks what
// the batch wrote, reports the error and stops: the Wal then fails every record not yet durable.
const WORKER_SOURCE = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { writeSync, fdatasyncSync } = require('node:fs');
let failed = false;
parentPort.on('message', (first) => {
  let batch = [first];
  while (batch.length > 0 && !failed) {
    for (let m = receiveMessageOnPort(parentPort); m !== undefined; m = receiveMessageOnPort(parentPort)) batch.push(m.message);
    const t0 = performance.now();
    const fds = [];
    let bytes = 0;
    try {
      for (const s of batch) {
        for (const c of s.chunks) {
          for (let off = 0; off < c.data.length; ) off += writeSync(c.fd, c.data, off, c.data.length - off, c.pos + off);
          if (!fds.includes(c.fd)) fds.push(c.fd);
          bytes += c.data.length;
        }
      }
      for (const fd of fds) fdatasyncSync(fd);
    } catch (err) {
      failed = true;
      for (const s of batch) {
        for (const c of s.chunks) {
          try { writeSync(c.fd, new Uint8Array(c.data.length), 0, c.data.length, c.pos); } catch {}
        }
      }
      parentPort.postMessage({ error: { message: err.message, code: err.code } });
      return;
    }
    let records = 0;
    for (const s of batch) records += s.records;
    parentPort.postMessage({ ok: { lsn: batch[batch.length - 1].lsn, records, bytes, ms: performance.now() - t0 } });
    batch = [];
  }
});
`;

export class SyncThread {
  private readonly worker: Worker;
  /** Records appended in this turn of the event loop, sent together at its end. */
  private chunks: Chunk[] = [];
  private parts: Buffer[] = [];
  private partBytes = 0;
  private lastLsn = 0;
  private records = 0;
  private scheduled = false;
  /** Submitted records the worker has not reported durable yet (the worker holds the process open while there are any). */
  private outstanding = 0;
  private stopped = false;

  constructor(
    private readonly onSynced: (batch: SyncedBatch) => void,
    private readonly onFailed: (err: Error) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, name: 'allot-log-sync' });
    this.worker.unref();
    this.worker.on('message', (r: Report) => this.onReport(r));
    this.worker.on('error', (err) => this.failWith(err));
    this.worker.on('exit', (code) => {
      if (!this.stopped) this.failWith(new Error(`the log's sync thread stopped (exit code ${code})`));
    });
  }

  /** Queues `buf` (the record `lsn`) for `fd` at `pos`; it goes to the worker at the end of this turn. */
  write(fd: number, pos: number, buf: Buffer, lsn: number): void {
    if (this.stopped) return;
    const last = this.chunks.length === 0 ? null : this.chunks[this.chunks.length - 1]!;
    if (last === null || last.fd !== fd || last.pos + this.partBytes !== pos) {
      this.seal();
      this.chunks.push({ fd, pos, data: EMPTY });
    }
    this.parts.push(buf);
    this.partBytes += buf.length;
    this.lastLsn = lsn;
    this.records++;
    if (this.outstanding++ === 0) this.worker.ref();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  /** Stops the worker. Call once nothing is outstanding (or after a failure). */
  async close(): Promise<void> {
    this.stopped = true;
    await this.worker.terminate();
  }

  private seal(): void {
    if (this.chunks.length === 0 || this.parts.length === 0) return;
    // An exact-size copy: a message carries a view's whole ArrayBuffer (a pooled one is 8 KiB).
    const data = new Uint8Array(this.partBytes);
    let at = 0;
    for (const p of this.parts) {
      data.set(p, at);
      at += p.length;
    }
    this.chunks[this.chunks.length - 1]!.data = data;
    this.parts = [];
    this.partBytes = 0;
  }

  private send(): void {
    this.scheduled = false;
    if (this.stopped || this.chunks.length === 0) return;
    this.seal();
    const s: Submission = { chunks: this.chunks, lsn: this.lastLsn, records: this.records };
    this.chunks = [];
    this.records = 0;
    this.worker.postMessage(s);
  }

  private onReport(r: Report): void {
    if ('error' in r) {
      this.failWith(Object.assign(new Error(r.error.message), { code: r.error.code }));
      return;
    }
    this.outstanding -= r.ok.records;
    if (this.outstanding === 0) this.worker.unref();
    this.onSynced(r.ok);
  }

  private failWith(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.unref();
    this.onFailed(err);
  }
}

const EMPTY = new Uint8Array(0);
