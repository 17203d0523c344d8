import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNullServer } from '../../bench/null-server.js';
import { decodeRecord } from '../../src/storage/record.js';
import { segmentName } from '../../src/storage/wal.js';
import { FaultyFs } from '../helpers/faulty-fs.js';

// The protocol ceilings of the benchmark are only worth reading if the null server really
// answers what the workload asks: a row count for writes, the given rows for a SELECT.
describe('null server (the benchmark protocol ceiling)', () => {
  let srv: Awaited<ReturnType<typeof startNullServer>>;
  let client: pg.Client;
  const rows = [
    [1767225600000, 1767226800000, 1],
    [1767228600000, 1767230000000, 1],
  ];

  beforeAll(async () => {
    srv = await startNullServer({ selectRows: { columns: ['start', 'end', 'free'], rows } });
    client = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'x', database: 'x' });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    srv.server.close();
  });

  it('answers a SELECT with its rows, through the simple and the extended protocol', async () => {
    const want = rows.map(([start, end, free]) => ({ start: String(start), end: String(end), free: String(free) }));
    const simple = await client.query('SELECT start, "end", free FROM availability');
    expect(simple.rows).toEqual(want);
    expect(simple.fields.map((f) => f.name)).toEqual(['start', 'end', 'free']);
    const extended = await client.query('SELECT start, "end", free FROM availability WHERE start >= $1', [0]);
    expect(extended.rows).toEqual(want);
    expect(extended.rowCount).toBe(2);
  });

  it('answers anything else as one row written', async () => {
    const r = await client.query('INSERT INTO bookings (resource_id, start, "end") VALUES ($1, $2, $3)', ['r1', 0, 1]);
    expect(r.rowCount).toBe(1);
    expect(r.rows).toEqual([]);
    expect((await client.query("INSERT INTO bookings VALUES ('x')")).rowCount).toBe(1);
  });
});

// The durable ceiling counts only if each insert's answer really waits for its own fdatasync.
describe('durable null server (the benchmark durable ceiling)', () => {
  let dir: string;
  let fs: FaultyFs;
  let srv: Awaited<ReturnType<typeof startNullServer>>;
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'allot-null-'));
    fs = new FaultyFs();
    srv = await startNullServer({ durableDir: join(dir, 'log'), fs });
    for (let i = 0; i < 4; i++) {
      const c = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'x', database: 'x' });
      await c.connect();
      clients.push(c);
    }
  });

  afterAll(async () => {
    fs.release();
    for (const c of clients) await c.end();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const records = async (): Promise<number[]> => {
    const buf = await readFile(join(dir, 'log', segmentName(1)));
    const lsns: number[] = [];
    for (let at = 0; ; ) {
      const r = decodeRecord(buf, at);
      if (r.kind !== 'record' || r.lsn === 0) return lsns;
      lsns.push(r.lsn);
      at = r.next;
    }
  };

  it('answers an insert only once its record is synced, and each insert is one record', async () => {
    fs.hold();
    let answered = 0;
    const inserts = clients.map((c, i) =>
      c.query('INSERT INTO bookings (resource_id, start, "end") VALUES ($1, $2, $3)', [`r${i}`, 0, 1]).then((r) => (answered++, r)),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(0);
    fs.release();
    const results = await Promise.all(inserts);
    expect(results.map((r) => r.rowCount)).toEqual([1, 1, 1, 1]);
    expect(await records()).toEqual([1, 2, 3, 4]);
    expect(fs.syncs).toBeGreaterThanOrEqual(1);
    expect(fs.syncs).toBeLessThanOrEqual(4);
  });

  it('writes one record per insert through the simple protocol as well', async () => {
    await clients[0]!.query('INSERT INTO bookings (resource_id, start, "end") VALUES (\'r\', 0, 1)');
    expect(await records()).toEqual([1, 2, 3, 4, 5]);
  });
});
