/**
 * The log's sync thread: a worker that writes log records into their files and fdatasyncs
 * them. It takes as one batch everything that arrived while its last fdatasync ran, and starts
 * the next fdatasync the moment the last one returns. The event loop is not on that path: it
 * hands records over once per turn and hears back once per batch, so a busy event loop
 * (replies going out, statements coming in) no longer leaves the disk idle between batches,
 * and the writes themselves leave the event loop.
 *
 * The worker only writes where it is told (a descriptor and a position) and syncs; which file a
 * record goes to, file switching and what a failure means stay with the Wal. A process runs at
 * most MAX_SYNC_THREADS workers; beyond that many open databases, logs share them.
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
  /** Set by the worker: bytes of `data` written so far (what a failure must erase). */
  written?: number;
}

/** Main thread to worker: contiguous bytes per file, and the records they hold. */
interface Submission {
  /** Which log (a worker serves several). */
  ch: number;
  chunks: Chunk[];
  lsn: number;
  records: number;
}

/** Worker to main thread, one per batch: what became durable (or failed) for each log in it. */
type Report =
  | { ch: number; ok: SyncedBatch }
  /** `lsn`: the last record of the failed part; `erased`: whether its bytes were zeroed and synced (else their fate is unknown). */
  | { ch: number; error: { message: string; code: string | undefined }; lsn: number; erased: boolean };

/** Why a log's sync thread stopped: the error, and which records may have reached the disk. */
export interface SyncFailure {
  readonly error: Error;
  /** Records after the last durable one and up to this LSN may be on disk (their fate is unknown); 0: none. */
  readonly unknownUpTo: number;
}

// Plain JavaScript, evaluated as the worker's own script (so it runs the same from the
// TypeScript sources under test and from the build). One worker serves several logs
// (channels). A batch is everything that arrived while the last one was written and synced:
// each log's records are written, then each log's files synced. When a write or sync of a
// log's part fails, what that part may have put in the page cache is made impossible to replay
// before anything is reported: the bytes written are overwritten with zeros (the log ends at
// its first all-zero header) and synced. The report says whether that worked ("erased"): if it
// did, none of the part's records will ever be replayed; if not, their fate is unknown. The
// worker then takes nothing more for that log (the Wal fails every record not yet durable);
// the other logs in the batch are unaffected.
const WORKER_SOURCE = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { writeSync, fdatasyncSync } = require('node:fs');
const failed = new Set();
// Zeros over the first "written" bytes of each chunk, then a sync of every file touched.
function erase(l) {
  try {
    const fds = [];
    for (let i = 0; i < l.subs.length; i++) {
      const chunks = l.subs[i].chunks;
      for (let j = 0; j < chunks.length; j++) {
        const c = chunks[j];
        const n = c.written === undefined ? 0 : c.written;
        if (n === 0) continue;
        const zeros = new Uint8Array(n);
        for (let off = 0; off < n; ) off += writeSync(c.fd, zeros, off, n - off, c.pos + off);
        if (!fds.includes(c.fd)) fds.push(c.fd);
      }
    }
    for (let i = 0; i < fds.length; i++) fdatasyncSync(fds[i]);
    return true;
  } catch {
    return false;
  }
}
parentPort.on('message', (first) => {
  let batch = [first];
  while (batch.length > 0) {
    for (let m = receiveMessageOnPort(parentPort); m !== undefined; m = receiveMessageOnPort(parentPort)) batch.push(m.message);
    const t0 = performance.now();
    // Per log, in order of arrival: a worker serves a few logs, so a list is searched.
    const logs = [];
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i];
      if (failed.has(s.ch)) continue;
      let l = null;
      for (let k = 0; k < logs.length && l === null; k++) if (logs[k].ch === s.ch) l = logs[k];
      if (l === null) logs.push((l = { ch: s.ch, subs: [], fds: [], bytes: 0, records: 0, lsn: 0, error: null }));
      l.subs.push(s);
      l.records += s.records;
      l.lsn = s.lsn;
    }
    for (let k = 0; k < logs.length; k++) {
      const l = logs[k];
      try {
        for (let i = 0; i < l.subs.length; i++) {
          const chunks = l.subs[i].chunks;
          for (let j = 0; j < chunks.length; j++) {
            const c = chunks[j];
            c.written = 0;
            for (let off = 0; off < c.data.length; ) {
              off += writeSync(c.fd, c.data, off, c.data.length - off, c.pos + off);
              c.written = off;
            }
            if (!l.fds.includes(c.fd)) l.fds.push(c.fd);
            l.bytes += c.data.length;
          }
        }
      } catch (err) {
        l.error = err;
      }
    }
    for (let k = 0; k < logs.length; k++) {
      const l = logs[k];
      if (l.error !== null) continue;
      try {
        for (let i = 0; i < l.fds.length; i++) fdatasyncSync(l.fds[i]);
      } catch (err) {
        l.error = err;
      }
    }
    const ms = performance.now() - t0;
    const reports = [];
    for (let k = 0; k < logs.length; k++) {
      const l = logs[k];
      if (l.error === null) reports.push({ ch: l.ch, ok: { lsn: l.lsn, records: l.records, bytes: l.bytes, ms } });
      else {
        failed.add(l.ch);
        const erased = erase(l);
        reports.push({ ch: l.ch, error: { message: l.error.message, code: l.error.code }, lsn: l.lsn, erased });
      }
    }
    parentPort.postMessage(reports);
    batch = [];
  }
});
`;

/**
 * Sync threads a process runs at most. Each is a worker with its own V8 heap (about 8.5 MB), so
 * a server holding hundreds of databases shares a few rather than paying for one each; a
 * database's log keeps its thread for as long as it is open.
 */
export const MAX_SYNC_THREADS = 4;

/** One worker and the logs it serves. */
class SyncWorker {
  readonly worker: Worker;
  readonly logs = new Map<number, SyncThread>();
  /** Records submitted and not yet reported: the worker holds the process open while there are any. */
  private outstanding = 0;
  private terminating = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, name: 'allot-log-sync' });
    this.worker.unref();
    this.worker.on('message', (reports: Report[]) => {
      for (const r of reports) this.logs.get(r.ch)?.onReport(r);
    });
    this.worker.on('error', (err) => this.lost(err));
    this.worker.on('exit', (code) => {
      if (!this.terminating) this.lost(new Error(`the log's sync thread stopped (exit code ${code})`));
    });
  }

  submitted(records: number): void {
    if (this.outstanding === 0) this.worker.ref();
    this.outstanding += records;
  }

  reported(records: number): void {
    this.outstanding -= records;
    if (this.outstanding === 0) this.worker.unref();
  }

  /** A log stops using the worker; the last one out stops the worker. */
  async leave(ch: number, outstanding: number): Promise<void> {
    if (!this.logs.delete(ch)) return;
    if (outstanding > 0) this.reported(outstanding);
    if (this.logs.size > 0) return;
    this.retire();
    await this.worker.terminate();
  }

  /** The worker died: every log it served fails, and new logs get a new worker. */
  private lost(err: Error): void {
    this.retire();
    this.worker.unref();
    // What the worker had been given may or may not have reached the disk.
    for (const log of [...this.logs.values()]) log.failWith({ error: err, unknownUpTo: log.lastSubmittedLsn });
  }

  private retire(): void {
    this.terminating = true;
    const i = workers.indexOf(this);
    if (i >= 0) workers.splice(i, 1);
  }
}

const workers: SyncWorker[] = [];
let nextChannel = 1;

/** How many sync threads the process runs now. */
export function syncThreadCount(): number {
  return workers.length;
}

/** A worker for one more log: a new one while there are fewer than the maximum, else the least shared. */
function workerForNewLog(): SyncWorker {
  if (workers.length < MAX_SYNC_THREADS) {
    const w = new SyncWorker();
    workers.push(w);
    return w;
  }
  let best = workers[0]!;
  for (const w of workers) if (w.logs.size < best.logs.size) best = w;
  return best;
}

/**
 * One log's way to its sync thread. The records a log appends in one turn of the event loop go
 * to the worker together at the turn's end, and the worker reports once per batch.
 */
export class SyncThread {
  private readonly host: SyncWorker;
  private readonly ch = nextChannel++;
  /** Records appended in this turn of the event loop, sent together at its end. */
  private chunks: Chunk[] = [];
  private parts: Buffer[] = [];
  private partBytes = 0;
  private lastLsn = 0;
  /** The last LSN posted to the worker. */
  private sentLsn = 0;
  private records = 0;
  private scheduled = false;
  /** Submitted records the worker has not reported durable yet. */
  private outstanding = 0;
  private stopped = false;

  constructor(
    private readonly onSynced: (batch: SyncedBatch) => void,
    private readonly onFailed: (failure: SyncFailure) => void,
  ) {
    this.host = workerForNewLog();
    this.host.logs.set(this.ch, this);
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
    this.outstanding++;
    this.host.submitted(1);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  /** Stops using the thread (the worker stops once no log uses it). Call once nothing is outstanding, or after a failure. */
  async close(): Promise<void> {
    this.stopped = true;
    const outstanding = this.outstanding;
    this.outstanding = 0;
    await this.host.leave(this.ch, outstanding);
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
    const s: Submission = { ch: this.ch, chunks: this.chunks, lsn: this.lastLsn, records: this.records };
    this.chunks = [];
    this.records = 0;
    this.sentLsn = this.lastLsn;
    this.host.worker.postMessage(s);
  }

  /** The worker's report on this log's part of a batch. */
  onReport(r: Report): void {
    if ('error' in r) {
      this.failWith({ error: Object.assign(new Error(r.error.message), { code: r.error.code }), unknownUpTo: r.erased ? 0 : r.lsn });
      return;
    }
    this.outstanding -= r.ok.records;
    this.host.reported(r.ok.records);
    this.onSynced(r.ok);
  }

  failWith(failure: SyncFailure): void {
    if (this.stopped) return;
    this.stopped = true;
    // Nothing more will be reported for this log: it no longer holds the process open.
    if (this.outstanding > 0) this.host.reported(this.outstanding);
    this.outstanding = 0;
    this.onFailed(failure);
  }

  /** The last LSN posted to the worker (what a lost worker may have written). */
  get lastSubmittedLsn(): number {
    return this.sentLsn;
  }
}

const EMPTY = new Uint8Array(0);
