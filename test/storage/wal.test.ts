/** The log on a real disk: records, group commit, recovery, torn tails, corruption, failures. */
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/storage/crc32c.js';
import { nodeFileSystem, type FileSystem, type LogFile } from '../../src/storage/files.js';
import { decodeRecord, encodeRecord } from '../../src/storage/record.js';
import { CorruptionError, endOfData } from '../../src/storage/recovery.js';
import { verifyDir } from '../../src/storage/verify.js';
import { MAX_SYNC_THREADS, syncThreadCount } from '../../src/storage/sync-thread.js';
import { openLogs } from '../../src/storage/open-logs.js';
import { segmentName, Wal } from '../../src/storage/wal.js';
import { dump } from '../helpers/dump.js';
import { errnoError, FaultyFs } from '../helpers/faulty-fs.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'allot-wal-'));
  dirs.push(d);
  return d;
}
const servers: TestServer[] = [];
async function serve(dataDir: string, opts: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const s = await startServer({ dataDir }, opts);
  servers.push(s);
  return s;
}
/** Closes a server a test started, before the test ends (to restart on the same directory). */
async function stop(s: TestServer): Promise<void> {
  await s.close();
  servers.splice(servers.indexOf(s), 1);
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('wal-'))
    .sort();
}

describe('records', () => {
  it('checks with CRC32C (the standard test vector) and refuses a flipped bit', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const rec = encodeRecord(7, Buffer.from('{"now":1,"effects":[]}'));
    const ok = decodeRecord(rec, 0);
    expect(ok).toMatchObject({ kind: 'record', lsn: 7 });
    for (let i = 4; i < rec.length; i++) {
      const bad = Buffer.from(rec);
      bad[i]! ^= 0x10;
      expect(decodeRecord(bad, 0).kind).not.toBe('record');
    }
    expect(decodeRecord(rec.subarray(0, rec.length - 1), 0).kind).toBe('short');
  });
});

describe('restart', () => {
  it('rebuilds the same state field for field, across checkpoints', async () => {
    const dir = tempDir();
    const a = await serve(dir, { checkpointBytes: 2048 });
    const c = await a.client('shop');
    await c.query(
      `INSERT INTO resources (id, capacity, buffer_before, buffer_after, capabilities) VALUES ('site', 0, 0, 0, '{}'), ('r1', 2, 60000, 0, '{a,b}')`,
    );
    await c.query(`UPDATE resources SET parent_id = 'site' WHERE id = 'r1'`);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", policy_id) VALUES ('open', 'r1', 0, 100000000, NULL)`);
    await c.query(`INSERT INTO policies (id, name, max_bookings, max_usage) VALUES ('p', 'course', 100, 86400000)`);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", policy_id) VALUES ('course', 'r1', 0, 50000000, 'p')`);
    // In the future, so the reaper leaves it in place.
    await c.query(`INSERT INTO outages (id, resource_id, start, "end", reason) VALUES ('service', 'site', $1, $2, 'yearly')`, [
      Date.now() + 86_400_000,
      Date.now() + 90_000_000,
    ]);
    for (let i = 0; i < 60; i++) {
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label, capabilities, group_id) VALUES ($1, 'r1', $2, $3, $4, '{a}', $5)`, [
        `b${i}`,
        i * 200_000,
        i * 200_000 + 100_000,
        `label ${i}`,
        i % 3 === 0 ? 'g' : null,
      ]);
    }
    await c.query(`UPDATE bookings SET label = 'moved', user_id = 'ann', policy_id = 'p' WHERE group_id = 'g'`);
    await c.query(`DELETE FROM bookings WHERE id IN ('b1', 'b2')`);
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'r1', 99000000, 99100000, $1)`, [Date.now() + 3_600_000]);
    const before = await dump(c);
    await a.server.tenantByName('shop')!.checkpoint();
    expect(readdirSync(join(dir, 'shop')).some((n) => n.startsWith('snapshot-'))).toBe(true);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('after', 'r1', 50000000, 50001000)`);
    const withAfter = await dump(c);
    expect(withAfter).not.toEqual(before);
    await stop(a);

    const b = await serve(dir);
    const c2 = await b.client('shop');
    expect(await dump(c2)).toEqual(withAfter);
  });

  it('drops old log files at a checkpoint, so start-up replays only what came after', async () => {
    const dir = tempDir();
    const a = await serve(dir, { checkpointBytes: 4096, walSegmentBytes: { first: 4096, max: 8192 } });
    const c = await a.client('db');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1000)`);
    for (let i = 0; i < 200; i++) await c.query(`INSERT INTO bookings (resource_id, start, "end", label) VALUES ('r', $1, $2, $3)`, [i, i + 1, 'x'.repeat(50)]);
    // Let any checkpoint the writes started finish.
    await a.server.tenantByName('db')!.checkpoint();
    const files = readdirSync(join(dir, 'db'));
    expect(files.filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    // 200 records of ~250 bytes filled about eight 8 KiB files; the checkpoint left one or two.
    expect(segments(join(dir, 'db')).length).toBeLessThanOrEqual(2);
    await stop(a);
    const b = await serve(dir);
    expect((await (await b.client('db')).query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '200' }]);
  });
});

describe('a torn tail', () => {
  it('is cut off at start-up, leaving exactly a prefix of the acknowledged writes', async () => {
    const dir = tempDir();
    const a = await serve(dir);
    const c = await a.client('t');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 100)`);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', $2, $3)`, [`b${String(i).padStart(2, '0')}`, i, i + 1]);
      ids.push(`b${String(i).padStart(2, '0')}`);
    }
    await stop(a);
    const seg = join(dir, 't', segments(join(dir, 't'))[0]!);
    const full = readFileSync(seg);
    // The file is preallocated: cut within the records, not the zeros after them.
    const used = endOfData(full, 0);
    // A cut exactly between two records tears nothing: the cuts here all fall inside one.
    const boundaries = new Set<number>();
    for (let at = 0, r = decodeRecord(full, 0); r.kind === 'record'; r = decodeRecord(full, at)) boundaries.add((at = r.next));
    const randomCuts: number[] = [];
    while (randomCuts.length < 4) {
      const cut = Math.floor(used * (0.2 + 0.75 * Math.random()));
      if (!boundaries.has(cut)) randomCuts.push(cut);
    }
    for (const cut of [used - 1, used - 17, ...randomCuts]) {
      writeFileSync(seg, full.subarray(0, cut));
      const b = await serve(dir);
      const rows = (await (await b.client('t')).query('SELECT id FROM bookings ORDER BY id')).rows.map((r) => r.id as string);
      expect(rows).toEqual(ids.slice(0, rows.length));
      expect(rows.length).toBeLessThan(ids.length);
      expect(statSync(seg).size).toBeLessThanOrEqual(cut);
      // The cut bytes are kept beside the log, so a flipped bit is not erased unseen.
      const kept = readdirSync(join(dir, 't')).filter((n) => n.startsWith(`${basename(seg)}.torn-`));
      expect(kept).toHaveLength(1);
      const at = Number(/\.torn-(\d+)$/.exec(kept[0]!)![1]);
      const tail = readFileSync(join(dir, 't', kept[0]!));
      expect(Buffer.concat([readFileSync(seg).subarray(0, at), tail])).toEqual(full.subarray(0, at + tail.length));
      // Only zeros were left out: the tail's end is where the data ends.
      expect(full.subarray(at + tail.length, cut).every((x) => x === 0)).toBe(true);
      const report = await verifyDir(nodeFileSystem, join(dir, 't'));
      expect(report.problems).toBe(0);
      expect(report.lines.filter((l) => l.startsWith(`${kept[0]!}: `) && l.includes('torn tail'))).toHaveLength(1);
      rmSync(join(dir, 't', kept[0]!));
      await stop(b);
    }
  });
});

describe('a bad record followed by good ones', () => {
  it('stops start-up with a message naming the file and offset, and leaves the data untouched', async () => {
    const dir = tempDir();
    const a = await serve(dir);
    const c = await a.client('bad');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 100)`);
    for (let i = 0; i < 20; i++) await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', $1, $2)`, [i, i + 1]);
    await stop(a);
    const seg = join(dir, 'bad', segments(join(dir, 'bad'))[0]!);
    const bytes = readFileSync(seg);
    bytes[Math.floor(endOfData(bytes, 0) / 2)]! ^= 0x01;
    writeFileSync(seg, bytes);
    const err = await startServer({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as Error).message).toMatch(/wal-\d{20}\.log at byte \d+: checksum mismatch .* followed by a readable record/);
    expect(readFileSync(seg)).toEqual(bytes);
    const report = await verifyDir(nodeFileSystem, join(dir, 'bad'));
    expect(report.problems).toBeGreaterThan(0);
    expect(report.lines.join('\n')).toMatch(/checksum mismatch at byte \d+/);
  });
});

describe('a failing disk', () => {
  it('fails the batch on an fsync error with 58030, undoes it, and turns the database read-only', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const a = await serve(dir, { fs });
    const c = await a.client('sick');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('kept', 'r', 0, 10)`);
    // One failed fdatasync: the log zeroes the batch and syncs that, so the answer is sure.
    fs.failSyncs(1, errnoError('EIO', 'i/o error'));
    const err = await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('lost', 'r', 20, 30)`));
    expect(err.code).toBe('58030');
    expect((await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('later', 'r', 40, 50)`))).code).toBe('58030');
    // Reads keep working and never show the write that failed.
    expect((await c.query('SELECT id FROM bookings ORDER BY id')).rows).toEqual([{ id: 'kept' }]);
    // The slot the failed write wanted is free again in memory.
    expect((await c.query(`SELECT start FROM availability WHERE resource_id = 'r' AND start >= 0 AND "end" <= 40`)).rows.map((r) => r.start)).toEqual(['10']);
    await stop(a);
    const b = await serve(dir);
    expect((await (await b.client('sick')).query('SELECT id FROM bookings ORDER BY id')).rows).toEqual([{ id: 'kept' }]);
  });

  it('closes the connection without an answer when it cannot make sure a failed write is gone', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const a = await serve(dir, { fs });
    const c = await a.client('unsure');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('kept', 'r', 0, 10)`);
    // Every fdatasync fails: the zeros over the failed batch cannot be made durable either.
    fs.syncError = errnoError('EIO', 'i/o error');
    const err = await pgError(within(5000, c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('unsure', 'r', 20, 30)`)));
    // No SQLSTATE: the connection ended without an answer, as after a PostgreSQL PANIC.
    expect(err.code).toBeUndefined();
    expect(err.message).toMatch(/terminated|ended|closed|ECONNRESET/i);
    // The database answers nothing from memory that the disk may contradict.
    const d = await a.client('unsure');
    const after = await pgError(d.query('SELECT id FROM bookings'));
    expect(after.code).toBe('58030');
    expect(after.message).toMatch(/restart/);
    fs.syncError = null;
    await stop(a);
    // After a restart the disk decides: the kept booking, and the unsure one or not.
    const b = await serve(dir);
    const ids = (await (await b.client('unsure')).query('SELECT id FROM bookings ORDER BY id')).rows.map((r) => r.id);
    expect([['kept'], ['kept', 'unsure']]).toContainEqual(ids);
  });

  it('does the same when the disk is full (ENOSPC)', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const a = await serve(dir, { fs });
    const c = await a.client('full');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    fs.writeError = errnoError('ENOSPC', 'no space left on device');
    const err = await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('x', 'r', 0, 10)`));
    expect(err.code).toBe('58030');
    expect(err.message).toMatch(/ENOSPC/);
    expect((await c.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '0' }]);
    // A database that cannot even create its log says why.
    const err2 = await pgError(a.client('new_db'));
    expect(err2.code).toBe('58030');
    expect(err2.message).toMatch(/could not open database "new_db": ENOSPC/);
  });
});

describe('a failing disk under the sync thread', () => {
  it('fails on a real write error (ENOSPC from /dev/full) with 58030, keeps nothing of it, and turns read-only', async () => {
    const dir = tempDir();
    // The real file system, except that log writes can be pointed at /dev/full.
    const devFull = openSync('/dev/full', 'w');
    let failing = false;
    const wrap = (f: LogFile): LogFile => ({
      path: f.path,
      get fd() {
        return failing ? devFull : f.fd;
      },
      capacity: f.capacity,
      writeAt: (b, p) => f.writeAt(b, p),
      datasync: () => f.datasync(),
      close: () => f.close(),
    });
    const fs: FileSystem = {
      ...nodeFileSystem,
      createLogFile: async (p, n) => wrap(await nodeFileSystem.createLogFile(p, n)),
      openLogFile: async (p) => wrap(await nodeFileSystem.openLogFile(p)),
    };
    try {
      const a = await serve(dir, { fs });
      const c = await a.client('sick');
      await c.query(`INSERT INTO resources (id) VALUES ('r')`);
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('kept', 'r', 0, 10)`);
      failing = true;
      const err = await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('lost', 'r', 20, 30)`));
      expect(err.code).toBe('58030');
      expect(err.message).toMatch(/no space left on device/);
      failing = false;
      expect((await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('later', 'r', 40, 50)`))).code).toBe('58030');
      expect((await c.query('SELECT id FROM bookings ORDER BY id')).rows).toEqual([{ id: 'kept' }]);
      await stop(a);
      const b = await serve(dir);
      expect((await (await b.client('sick')).query('SELECT id FROM bookings ORDER BY id')).rows).toEqual([{ id: 'kept' }]);
    } finally {
      closeSync(devFull);
    }
  });

  it('groups concurrent records into few fdatasyncs, across many small log files', async () => {
    const dir = tempDir();
    const a = await serve(dir, { walSegmentBytes: { first: 4096, max: 4096 } });
    const clients = await Promise.all(Array.from({ length: 8 }, () => a.client('gc')));
    await clients[0]!.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1000)`);
    const before = { ...a.server.tenantByName('gc')!.walStats! };
    await Promise.all(
      clients.flatMap((c, k) =>
        Array.from({ length: 25 }, (_, i) =>
          c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', $2, $3)`, [`b${k}-${i}`, k * 100 + i, k * 100 + i + 1]),
        ),
      ),
    );
    const after = a.server.tenantByName('gc')!.walStats!;
    expect(after.records - before.records).toBe(200);
    expect(after.batches - before.batches).toBeLessThan(200);
    expect(segments(join(dir, 'gc')).length).toBeGreaterThan(3);
    await stop(a);
    const b = await serve(dir);
    expect((await (await b.client('gc')).query('SELECT count(*)::text AS n FROM bookings')).rows).toEqual([{ n: '200' }]);
  });
});

describe('a full disk at a log file switch', () => {
  it('acknowledges every record that reached the disk and never replays one answered with an error', async () => {
    // Real files and the real sync thread; only making the next log file fails, as on a full disk.
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      let filesLeft = 4;
      const fs: FileSystem = {
        ...nodeFileSystem,
        createLogFile: async (p, n) => {
          if (filesLeft-- <= 0) throw errnoError('ENOSPC', 'no space left on device');
          return nodeFileSystem.createLogFile(p, n);
        },
      };
      const a = await serve(dir, { fs, walSegmentBytes: { first: 4096, max: 4096 } });
      const clients = await Promise.all(Array.from({ length: 8 }, () => a.client('full')));
      await clients[0]!.query(`INSERT INTO resources (id, capacity) VALUES ('r', 100000)`);
      const answers = new Map<string, string>();
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = 0; i < 200; i++) {
            const id = `b${k}-${i}`;
            try {
              await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', $2, $3)`, [id, k * 1000 + i, k * 1000 + i + 1]);
              answers.set(id, 'ok');
            } catch (err) {
              answers.set(id, (err as { code: string }).code);
            }
          }
        }),
      );
      const codes = new Set(answers.values());
      expect(codes).toEqual(new Set(['ok', '58030']));
      await stop(a);
      const b = await serve(dir);
      const there = new Set((await (await b.client('full')).query('SELECT id FROM bookings')).rows.map((r) => r.id as string));
      const ghosts = [...answers].filter(([id, code]) => code !== 'ok' && there.has(id)).map(([id]) => id);
      const lost = [...answers].filter(([id, code]) => code === 'ok' && !there.has(id)).map(([id]) => id);
      expect({ round, ghosts, lost }).toEqual({ round, ghosts: [], lost: [] });
      await stop(b);
    }
  });
});

describe('the sync thread across file switches', () => {
  it('keeps every record, in order, when batches finish while the next file is being switched to', async () => {
    const dir = tempDir();
    const file = await nodeFileSystem.createLogFile(join(dir, segmentName(1)), 64 * 1024);
    let failure: Error | null = null;
    const wal = new Wal(nodeFileSystem, dir, { file, end: 0 }, 0, (e) => (failure = e), { firstSegmentBytes: 64 * 1024, maxSegmentBytes: 64 * 1024 });
    // Records of 20 KiB with up to 64 in flight: three to a file, so files switch while
    // earlier batches are still being reported durable.
    let pending: Promise<void>[] = [];
    for (let lsn = 1; lsn <= 200; lsn++) {
      pending.push(wal.append(lsn, Buffer.alloc(20 * 1024, lsn % 251)));
      if (pending.length >= 64) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await wal.close();
    expect(failure).toBeNull();
    const lsns: number[] = [];
    for (const name of segments(dir)) {
      const buf = readFileSync(join(dir, name));
      for (let at = 0; at < endOfData(buf, 0); ) {
        const r = decodeRecord(buf, at);
        if (r.kind !== 'record') throw new Error(`${name} at ${at}: ${r.kind}`);
        expect(r.payload.every((x) => x === r.lsn % 251)).toBe(true);
        lsns.push(r.lsn);
        at = r.next;
      }
    }
    expect(lsns).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // No half-made file left behind by two preparations racing for the same name.
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the bound on open log files', () => {
  it('closes idle logs beyond it and reopens them on their next record, losing and reordering nothing', async () => {
    const limit = openLogs.limit;
    openLogs.limit = 2;
    try {
      const logs = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const dir = tempDir();
          const file = await nodeFileSystem.createLogFile(join(dir, segmentName(1)), 8 * 1024);
          return { dir, wal: new Wal(nodeFileSystem, dir, { file, end: 0 }, 0, () => undefined, { firstSegmentBytes: 8 * 1024, maxSegmentBytes: 8 * 1024 }) };
        }),
      );
      expect(openLogs.size).toBeLessThanOrEqual(2);
      // Rounds of records to every log at once, so logs reopen while others are in flight,
      // and files switch (records of 1 KiB, files of 8 KiB).
      for (let lsn = 1; lsn <= 30; lsn++) {
        await Promise.all(logs.map((l, k) => l.wal.append(lsn, Buffer.alloc(1000, (lsn * 7 + k) % 251))));
        // Busy logs may exceed the bound; once idle (next file prepared too) they are within it.
        for (let wait = 0; openLogs.size > 2 && wait < 100; wait++) await new Promise((r) => setTimeout(r, 10));
        expect(openLogs.size).toBeLessThanOrEqual(2);
      }
      for (const l of logs) await l.wal.close();
      expect(openLogs.size).toBe(0);
      logs.forEach((l, k) => {
        const lsns: number[] = [];
        for (const name of segments(l.dir)) {
          const buf = readFileSync(join(l.dir, name));
          for (let at = 0; at < endOfData(buf, 0); ) {
            const r = decodeRecord(buf, at);
            if (r.kind !== 'record') throw new Error(`${name} at ${at}: ${r.kind}`);
            expect(r.payload.every((x) => x === (r.lsn * 7 + k) % 251)).toBe(true);
            lsns.push(r.lsn);
            at = r.next;
          }
        }
        expect(lsns).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      });
    } finally {
      openLogs.limit = limit;
    }
  });
});

describe('group commit and visibility', () => {
  it('writes many concurrent records with few fdatasyncs', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const a = await serve(dir, { fs });
    const clients = await Promise.all(Array.from({ length: 8 }, () => a.client('gc')));
    await clients[0]!.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1000)`);
    const syncsBefore = fs.syncs;
    fs.hold();
    const writes = clients.flatMap((c, k) =>
      Array.from({ length: 5 }, (_, i) => c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', $1, $2)`, [k * 100 + i, k * 100 + i + 1])),
    );
    await new Promise((r) => setTimeout(r, 100));
    fs.release();
    await Promise.all(writes);
    // 40 records: the first sync was held, so everything else queued behind it.
    expect(fs.syncs - syncsBefore).toBeLessThan(20);
    const stats = a.server.tenantByName('gc')!.walStats!;
    expect(stats.records / stats.batches).toBeGreaterThan(1);
  });

  it('answers reads that depend only on durable state at once, and holds those that depend on a pending write', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const a = await serve(dir, { fs });
    const w = await a.client('vis');
    const r = await a.client('vis');
    await w.query(`INSERT INTO resources (id) VALUES ('busy'), ('quiet')`);
    fs.hold();
    let writeDone = false;
    const write = w.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('pending', 'busy', 0, 10)`).then(() => (writeDone = true));
    await new Promise((res) => setTimeout(res, 50));
    // Nothing pending touches 'quiet': no waiting.
    expect((await within(2000, r.query(`SELECT count(*) FROM bookings WHERE resource_id = 'quiet'`))).rows).toEqual([{ count: '0' }]);
    expect((await within(2000, r.query(`SELECT * FROM availability WHERE resource_id = 'quiet' AND start >= 0 AND "end" <= 10`))).rowCount).toBe(1);
    // A read (and a conflict) on 'busy' saw the pending booking: they wait for it to be durable.
    let readDone = false;
    const read = r.query(`SELECT id FROM bookings WHERE resource_id = 'busy'`).then((res) => {
      readDone = true;
      return res.rows;
    });
    const c3 = await a.client('vis');
    let conflictDone = false;
    const conflict = pgError(c3.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('busy', 5, 15)`)).then((e) => {
      conflictDone = true;
      return e;
    });
    await new Promise((res) => setTimeout(res, 100));
    expect([writeDone, readDone, conflictDone]).toEqual([false, false, false]);
    fs.release();
    expect(await read).toEqual([{ id: 'pending' }]);
    expect((await conflict).code).toBe('23P01');
    await write;
  });
});

describe('the sync threads of many databases', () => {
  it(`shares ${MAX_SYNC_THREADS} threads among 10 databases writing at once, and keeps every database's writes`, async () => {
    const dir = tempDir();
    const a = await serve(dir);
    const names = Array.from({ length: 10 }, (_, i) => `db${i}`);
    const clients = await Promise.all(names.flatMap((n) => [a.client(n), a.client(n)]));
    await Promise.all(names.map((_, i) => clients[2 * i]!.query(`INSERT INTO resources (id) VALUES ('r')`)));
    expect(syncThreadCount()).toBe(MAX_SYNC_THREADS);
    // Two clients a database, 20 bookings each, all at once.
    await Promise.all(
      clients.flatMap((c, k) =>
        Array.from({ length: 20 }, (_, i) =>
          c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', $2, $3)`, [
            `b${k % 2}-${i}`,
            (k % 2) * 100 + i,
            (k % 2) * 100 + i + 1,
          ]),
        ),
      ),
    );
    expect(syncThreadCount()).toBe(MAX_SYNC_THREADS);
    await stop(a);
    expect(syncThreadCount()).toBe(0);
    const b = await serve(dir);
    for (const n of names) {
      const c = await b.client(n);
      expect((await c.query('SELECT count(*) AS n FROM bookings')).rows).toEqual([{ n: '40' }]);
    }
  });
});
