/**
 * Durability benchmarks, against the real server as a child process on a real disk:
 *  - write throughput with 1, 8 and 32 clients, and records per fdatasync;
 *  - read latency p50/p99 with no writers and with 8 busy writers;
 *  - recovery time and memory for 1,000,000 bookings over 10,000 resources.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Engine } from '../src/engine/engine.js';
import type { Command } from '../src/engine/types.js';
import { nodeFileSystem } from '../src/storage/files.js';
import { encodeBody } from '../src/storage/payload.js';
import { recover } from '../src/storage/recovery.js';
import { snapshotChunks, snapshotName } from '../src/storage/snapshot.js';
import { segmentName, Wal, WalLimits } from '../src/storage/wal.js';
import { startBenchServer } from './child.js';
import { memoryUsedAfterGc } from './heap.js';

const PASSWORD = 'bench';

async function clients(port: number, n: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'bench', password: PASSWORD, database: 'bench' });
      await c.connect();
      return c;
    }),
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface WriteResult {
  readonly clients: number;
  readonly tps: number;
  readonly recordsPerSync: number;
  readonly avgSyncMs: number;
}

export interface ReadLatency {
  readonly writers: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly reads: number;
}

export interface RecoveryResult {
  readonly bookings: number;
  readonly resources: number;
  readonly from: string;
  readonly seconds: number;
  readonly heapMiB: number;
  readonly rssMiB: number;
}

async function writeLoop(c: pg.Client, until: number, resources: number, counter: { n: number }): Promise<void> {
  while (Date.now() < until) {
    const r = Math.floor(Math.random() * resources);
    const s = Math.floor(Math.random() * 1e9);
    await c.query('INSERT INTO bookings (resource_id, start, "end") VALUES ($1, $2, $3)', [`r${r}`, s, s + 60_000]);
    counter.n++;
  }
}

export async function writeThroughput(opts: { seconds: number }): Promise<WriteResult[]> {
  const out: WriteResult[] = [];
  for (const n of [1, 8, 32]) {
    const dir = mkdtempSync(join(tmpdir(), 'allot-bench-w-'));
    const server = await startBenchServer(dir, PASSWORD);
    const cs = await clients(server.port, n);
    await cs[0]!.query(`INSERT INTO resources (id, capacity) VALUES ${Array.from({ length: 1000 }, (_, i) => `('r${i}', 1000000)`).join(',')}`);
    const counter = { n: 0 };
    const t0 = Date.now();
    await Promise.all(cs.map((c) => writeLoop(c, t0 + opts.seconds * 1000, 1000, counter)));
    const elapsed = (Date.now() - t0) / 1000;
    await Promise.all(cs.map((c) => c.end()));
    const log = await server.stop();
    const closed = /"recordsPerSync":([\d.]+),"avgSyncMs":([\d.]+)/.exec(log);
    out.push({ clients: n, tps: Math.round(counter.n / elapsed), recordsPerSync: Number(closed?.[1] ?? 0), avgSyncMs: Number(closed?.[2] ?? 0) });
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * pgbench booking load from its own process, so the reader's latency measures the server and
 * not a client process busy with eight write loops.
 */
function pgbenchWriters(port: number, clientsN: number, seconds: number, dir: string): Promise<void> {
  const script = join(dir, 'writers.sql');
  writeFileSync(
    script,
    [
      '\\set r random(0, 999)',
      '\\set s random(0, 1000000000)',
      `INSERT INTO bookings (resource_id, start, "end") VALUES ('r' || :r, :s, :s + 60000);`,
      '',
    ].join('\n'),
  );
  return new Promise((resolve, reject) => {
    const p = spawn(
      'pgbench',
      [
        '-n',
        '-M',
        'prepared',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'bench',
        '-c',
        String(clientsN),
        '-j',
        '2',
        '-T',
        String(seconds),
        '-f',
        script,
        'bench',
      ],
      {
        env: { ...process.env, PGPASSWORD: PASSWORD },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pgbench failed (${code}): ${err}`))));
  });
}

export async function readLatency(opts: { seconds: number }): Promise<ReadLatency[]> {
  const dir = mkdtempSync(join(tmpdir(), 'allot-bench-r-'));
  const server = await startBenchServer(dir, PASSWORD);
  const [reader] = await clients(server.port, 1);
  await reader!.query(`INSERT INTO resources (id, capacity) VALUES ('quiet', 1)${Array.from({ length: 1000 }, (_, i) => `, ('r${i}', 1000000)`).join('')}`);
  for (let i = 0; i < 100; i++)
    await reader!.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('quiet', $1, $2)`, [i * 3_600_000, i * 3_600_000 + 1_800_000]);
  const out: ReadLatency[] = [];
  for (const busy of [0, 8]) {
    const load = busy > 0 ? pgbenchWriters(server.port, busy, opts.seconds + 1, dir) : Promise.resolve();
    if (busy > 0) await new Promise((r) => setTimeout(r, 500));
    const until = Date.now() + opts.seconds * 1000;
    const lat: number[] = [];
    while (Date.now() < until) {
      const t = performance.now();
      await reader!.query(`SELECT * FROM availability WHERE resource_id = 'quiet' AND start >= $1 AND "end" <= $2`, [0, 7 * 86_400_000]);
      lat.push(performance.now() - t);
    }
    await load;
    lat.sort((a, b) => a - b);
    out.push({ writers: busy, p50Ms: Number(percentile(lat, 50).toFixed(3)), p99Ms: Number(percentile(lat, 99).toFixed(3)), reads: lat.length });
  }
  await reader!.end();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Builds a database of `bookings` over `resources` on disk, as log records or as a snapshot, then recovers it. */
export async function recovery(opts: { bookings: number; resources: number }): Promise<RecoveryResult[]> {
  const out: RecoveryResult[] = [];
  const T0 = Date.UTC(2026, 0, 1);
  for (const from of ['log', 'snapshot'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'allot-bench-rec-'));
    const engine = new Engine();
    engine.execute(
      Array.from(
        { length: opts.resources },
        (_, i): Command => ({
          type: 'CreateResource',
          resource: { id: `r${i}`, parentId: null, name: null, capacity: 1, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [] },
        }),
      ),
      T0,
    );
    const file = await nodeFileSystem.createLogFile(join(dir, segmentName(1)), WalLimits.firstSegmentBytes);
    const wal = new Wal(nodeFileSystem, dir, { file, end: 0 }, 0, (e) => {
      throw e;
    });
    let lsn = 0;
    const resEffects = engine.capture().resources.map((resource) => ({ type: 'ResourceCreated' as const, resource }));
    let pending = [wal.append(++lsn, encodeBody({ now: T0, effects: resEffects }))];
    // 1,000 bookings a record, as big multi-row inserts would log them.
    for (let done = 0; done < opts.bookings; done += 1000) {
      const batch: Command[] = [];
      for (let j = done; j < Math.min(opts.bookings, done + 1000); j++) {
        const r = j % opts.resources;
        const k = Math.floor(j / opts.resources);
        batch.push({ type: 'CreateBooking', booking: { id: `b${j}`, resourceId: `r${r}`, start: T0 + k * 3_600_000, end: T0 + k * 3_600_000 + 1_800_000 } });
      }
      const o = engine.execute(batch, T0);
      pending.push(wal.append(++lsn, encodeBody({ now: T0, effects: o.effects })));
      if (pending.length > 64) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await wal.close();
    if (from === 'snapshot') {
      await nodeFileSystem.writeAtomic(join(dir, snapshotName(lsn)), snapshotChunks({ lsn, now: T0, ...engine.capture() }));
    }
    const heap0 = memoryUsedAfterGc();
    const t = performance.now();
    const rec = await recover(nodeFileSystem, dir, pino({ level: 'silent' }));
    const seconds = (performance.now() - t) / 1000;
    const heapMiB = (memoryUsedAfterGc() - heap0) / 2 ** 20;
    // Read after the measure, so the recovered state is certainly still reachable during it.
    if (rec.engine.store.bookings.size !== opts.bookings) throw new Error('recovery lost bookings');
    out.push({
      bookings: opts.bookings,
      resources: opts.resources,
      from,
      seconds: Number(seconds.toFixed(2)),
      heapMiB: Math.round(heapMiB),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
