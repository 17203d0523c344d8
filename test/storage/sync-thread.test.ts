/** The log's sync thread on a real disk: batching, positions, files, and a real write error. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SYNC_THREADS, SyncThread, syncThreadCount, type SyncedBatch, type SyncFailure } from '../../src/storage/sync-thread.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function tempFile(bytes: number): { path: string; fd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'allot-sync-'));
  const path = join(dir, 'f.log');
  writeFileSync(path, Buffer.alloc(bytes));
  const fd = openSync(path, 'r+');
  cleanup.push(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, fd };
}

/** A sync thread whose reports arrive as promises, in order. */
function thread(): { t: SyncThread; synced: SyncedBatch[]; next: () => Promise<SyncedBatch>; failed: Promise<SyncFailure> } {
  const synced: SyncedBatch[] = [];
  let wake: (() => void) | null = null;
  let fail: (f: SyncFailure) => void = () => undefined;
  const failed = new Promise<SyncFailure>((r) => (fail = r));
  const t = new SyncThread(
    (b) => {
      synced.push(b);
      wake?.();
    },
    (e) => fail(e),
  );
  cleanup.push(() => void t.close());
  let seen = 0;
  const next = async (): Promise<SyncedBatch> => {
    while (synced.length <= seen) await new Promise<void>((r) => (wake = r));
    return synced[seen++]!;
  };
  return { t, synced, next, failed };
}

const rec = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('the log sync thread', () => {
  it('writes what one turn of the event loop appended with a single fdatasync, at the positions given', async () => {
    const f = tempFile(64 * 1024);
    const { t, next, synced } = thread();
    let pos = 0;
    for (let lsn = 1; lsn <= 100; lsn++) {
      t.write(f.fd, pos, rec(37, lsn), lsn);
      pos += 37;
    }
    const b = await next();
    expect(b).toMatchObject({ lsn: 100, records: 100, bytes: 3700 });
    expect(synced).toHaveLength(1);
    const bytes = readFileSync(f.path);
    for (let lsn = 1; lsn <= 100; lsn++) expect(bytes.subarray((lsn - 1) * 37, lsn * 37)).toEqual(rec(37, lsn));
    expect(bytes.subarray(3700).every((x) => x === 0)).toBe(true);
  });

  it('reports later turns as later batches, in LSN order, and writes gaps and a second file where told', async () => {
    const a = tempFile(4096);
    const b = tempFile(4096);
    const { t, next } = thread();
    t.write(a.fd, 0, rec(10, 1), 1);
    expect(await next()).toMatchObject({ lsn: 1, records: 1 });
    // Not contiguous with the last write, then a second file: three chunks in one batch.
    t.write(a.fd, 100, rec(5, 2), 2);
    t.write(a.fd, 105, rec(5, 3), 3);
    t.write(b.fd, 0, rec(8, 4), 4);
    expect(await next()).toMatchObject({ lsn: 4, records: 3, bytes: 18 });
    const fa = readFileSync(a.path);
    expect(fa.subarray(0, 10)).toEqual(rec(10, 1));
    expect(fa.subarray(10, 100).every((x) => x === 0)).toBe(true);
    expect(fa.subarray(100, 110)).toEqual(Buffer.concat([rec(5, 2), rec(5, 3)]));
    expect(readFileSync(b.path).subarray(0, 8)).toEqual(rec(8, 4));
  });

  it('reports a real write error (ENOSPC from /dev/full) and acknowledges nothing after it', async () => {
    const ok = tempFile(4096);
    const full = openSync('/dev/full', 'w');
    cleanup.push(() => closeSync(full));
    const { t, next, synced, failed } = thread();
    t.write(ok.fd, 0, rec(10, 1), 1);
    await next();
    t.write(full, 0, rec(10, 2), 2);
    const f = await failed;
    expect((f.error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // Nothing was written, so nothing needed erasing: every record's fate is known.
    expect(f.unknownUpTo).toBe(0);
    t.write(ok.fd, 10, rec(10, 3), 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(synced.map((b) => b.lsn)).toEqual([1]);
    expect(
      readFileSync(ok.path)
        .subarray(10, 20)
        .every((x) => x === 0),
    ).toBe(true);
  });

  it('erases what a failed batch wrote before the failure, syncs the zeros, and says the records are known not to be on disk', async () => {
    const ok = tempFile(4096);
    const full = openSync('/dev/full', 'w');
    cleanup.push(() => closeSync(full));
    const { t, next, synced, failed } = thread();
    t.write(ok.fd, 0, rec(10, 1), 1);
    await next();
    // One turn, so one batch: the first chunk reaches the file, the second fails.
    t.write(ok.fd, 10, rec(10, 2), 2);
    t.write(full, 0, rec(10, 3), 3);
    const f = await failed;
    expect((f.error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(f.unknownUpTo).toBe(0);
    expect(synced.map((b) => b.lsn)).toEqual([1]);
    const bytes = readFileSync(ok.path);
    expect(bytes.subarray(0, 10)).toEqual(rec(10, 1));
    expect(bytes.subarray(10).every((x) => x === 0)).toBe(true);
  });

  it('runs at most MAX_SYNC_THREADS workers however many logs are open, and stops them with the last log', async () => {
    expect(syncThreadCount()).toBe(0);
    const logs = Array.from({ length: MAX_SYNC_THREADS * 2 + 1 }, () => ({ f: tempFile(4096), ...thread() }));
    expect(syncThreadCount()).toBe(MAX_SYNC_THREADS);
    // Every log writes in the same turn, so shared workers get several logs in one batch.
    logs.forEach((l, i) => l.t.write(l.f.fd, 0, rec(20, i + 1), 1));
    const first = await Promise.all(logs.map((l) => l.next()));
    expect(first.map((b) => [b.lsn, b.records, b.bytes])).toEqual(logs.map(() => [1, 1, 20]));
    logs.forEach((l, i) => l.t.write(l.f.fd, 20, rec(20, 100 + i), 2));
    expect((await Promise.all(logs.map((l) => l.next()))).map((b) => b.lsn)).toEqual(logs.map(() => 2));
    logs.forEach((l, i) => expect(readFileSync(l.f.path).subarray(0, 40)).toEqual(Buffer.concat([rec(20, i + 1), rec(20, 100 + i)])));
    for (const l of logs.slice(1)) await l.t.close();
    expect(syncThreadCount()).toBe(1);
    await logs[0]!.t.close();
    expect(syncThreadCount()).toBe(0);
  });

  it('fails only the log whose write failed when logs share a worker', async () => {
    // MAX_SYNC_THREADS logs fill the workers; the next one shares the first log's worker.
    const fillers = Array.from({ length: MAX_SYNC_THREADS }, () => ({ f: tempFile(4096), ...thread() }));
    const shared = { f: tempFile(4096), ...thread() };
    expect(syncThreadCount()).toBe(MAX_SYNC_THREADS);
    const full = openSync('/dev/full', 'w');
    cleanup.push(() => closeSync(full));
    const bad = fillers[0]!;
    bad.t.write(full, 0, rec(10, 1), 1);
    shared.t.write(shared.f.fd, 0, rec(10, 2), 1);
    expect(((await bad.failed).error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(await shared.next()).toMatchObject({ lsn: 1, records: 1, bytes: 10 });
    // The failed log takes nothing more; the other goes on through the same worker.
    bad.t.write(bad.f.fd, 0, rec(10, 3), 2);
    shared.t.write(shared.f.fd, 10, rec(10, 4), 2);
    expect(await shared.next()).toMatchObject({ lsn: 2, records: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(bad.synced).toEqual([]);
    expect(readFileSync(bad.f.path).every((x) => x === 0)).toBe(true);
    expect(readFileSync(shared.f.path).subarray(0, 20)).toEqual(Buffer.concat([rec(10, 2), rec(10, 4)]));
  });
});
