/**
 * Replies are produced under backpressure: a client that asks for a big result and does not read
 * it holds a bounded amount of the server's memory (the rows are encoded as the socket drains, not
 * all into its buffer at once); once it reads, it gets every row, complete and correct.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryUsedAfterGc } from '../../bench/heap.js';
import { MAX_REPLY_BACKLOG_BYTES } from '../../src/wire/connection.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const BOOKINGS = 200_000;
const CLIENTS = 6;
const MIB = 1024 * 1024;

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { checkInvariants: false });
  const c = await srv.client('big');
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1)`);
  for (let s = 0; s < BOOKINGS; s += 10_000) {
    const values = Array.from(
      { length: 10_000 },
      (_, i) => `('booking-${String(s + i).padStart(6, '0')}', 'r', ${(s + i) * 1000}, ${(s + i) * 1000 + 500}, 'a label that makes the row longer')`,
    ).join(', ');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ${values}`);
  }
}, 120_000);
afterAll(async () => {
  await srv.close();
});

/** Buffers (socket queues among them) held by this process, server and clients. */
function bufferBytes(): number {
  const m = process.memoryUsage();
  return m.arrayBuffers;
}

async function settle(): Promise<void> {
  // Let the server produce what it will, and the collector free what it can.
  let last = -1;
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    global.gc?.();
    const now = srv.server.outputQueuedBytes;
    if (now === last) return;
    last = now;
  }
}

describe(`${CLIENTS} clients that ask for ${BOOKINGS.toLocaleString('en')} rows each and do not read`, () => {
  it('hold a bounded number of bytes queued in the server, then get every row once they read', async () => {
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const c = await RawClient.connect(srv.port);
        await c.login({ database: 'big', password: srv.password });
        return c;
      }),
    );
    await settle();
    const before = bufferBytes();
    const memoryBefore = memoryUsedAfterGc();
    for (const c of clients) {
      c.send(serialize.query(`SELECT id, resource_id, start, "end", label FROM bookings`));
      c.pause();
    }
    await settle();
    const queued = srv.server.outputQueuedBytes;
    const grown = bufferBytes() - before;
    // The rows themselves wait as references to the bookings they are made of, not as rows.
    const held = memoryUsedAfterGc() - memoryBefore;
    console.log(
      `queued in the server's sockets: ${(queued / MIB).toFixed(2)} MiB; buffers grew by ${(grown / MIB).toFixed(2)} MiB; memory in use (heap and buffers, after GC) by ${(held / MIB).toFixed(2)} MiB`,
    );
    expect(held).toBeLessThan(CLIENTS * 4 * MIB);
    // Each connection stops once its socket holds its share, plus one flush of rows.
    expect(queued).toBeLessThanOrEqual(CLIENTS * (MAX_REPLY_BACKLOG_BYTES + 128 * 1024));
    expect(grown).toBeLessThan(32 * MIB);

    for (const c of clients) c.resume();
    const results = await Promise.all(clients.map((c) => c.untilReady(60_000)));
    for (const [i, rows] of results.entries()) {
      expect(clients[i]!.errors()).toEqual([]);
      expect(rows).toHaveLength(BOOKINGS);
      const ids = new Set(rows.map((r) => r[0]));
      expect(ids.size).toBe(BOOKINGS);
      const n = 123_456;
      const row = rows.find((r) => r[0] === `booking-${n}`);
      expect(row).toEqual([`booking-${n}`, 'r', String(n * 1000), String(n * 1000 + 500), 'a label that makes the row longer']);
      expect(clients[i]!.unparsedBytes).toBe(0);
    }
    // The connections are still in step.
    for (const c of clients) expect(await c.query('SELECT 1')).toEqual([['1']]);
    for (const c of clients) c.destroy();
  }, 120_000);

  it('a client that hangs up while its reply waits is let go', async () => {
    const c = await RawClient.connect(srv.port);
    await c.login({ database: 'big', password: srv.password });
    const sessions = srv.server.connectionCount;
    c.send(serialize.query(`SELECT id FROM bookings`));
    c.pause();
    await sleep(300);
    c.destroy();
    const deadline = Date.now() + 5_000;
    while (srv.server.connectionCount === sessions && Date.now() < deadline) await sleep(20);
    expect(srv.server.connectionCount).toBe(sessions - 1);
    await settle();
    expect(srv.server.outputQueuedBytes).toBe(0);
  }, 30_000);
});
