/**
 * Running allot for real: graceful shutdown (statements in flight finish, everyone is told,
 * the log is flushed; a second signal exits at once), the logs (connection ids, slow
 * statements, recovery progress, shutdown) and the Prometheus endpoint.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { serialize } from 'pg-protocol';
import type { DatabaseError } from 'pg-protocol/dist/messages.js';
import { afterAll, describe, expect, it } from 'vitest';
import { handleSignals } from '../../src/cli/signals.js';
import { ALLOT_VERSION } from '../../src/version.js';
import { startChild } from '../helpers/child-server.js';
import { FaultyFs } from '../helpers/faulty-fs.js';
import { RawClient } from '../helpers/raw-client.js';
import { pgError, startServer } from '../helpers/server.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'allot-ops-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A logger whose lines land in an array. */
function captured(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', base: { service: 'allot' } }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** The error a pg client is told of while idle (a FATAL from the server). */
function nextError(c: pg.Client): Promise<{ code?: string; message: string }> {
  return new Promise((resolve) => c.once('error', (err: Error & { code?: string }) => resolve(err)));
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** The bookings a server restarted on `dataDir` holds in database "shop". */
async function bookingsAfterRestart(dataDir: string): Promise<{ id: string }[]> {
  const again = await startServer({ dataDir });
  try {
    const c = await again.client('shop');
    return (await c.query(`SELECT id FROM bookings`)).rows as { id: string }[];
  } finally {
    await again.close();
  }
}
describe('graceful shutdown', () => {
  it('lets a statement in flight finish, tells idle clients and listeners, flushes the log, then stops', async () => {
    const dataDir = tempDir();
    const fs = new FaultyFs();
    const { log, lines } = captured();
    const srv = await startServer({ dataDir }, { fs, log });
    const writer = await srv.client('shop');
    await writer.query(`INSERT INTO resources (id) VALUES ('room')`);
    const idle = await srv.client('shop');
    const listener = await srv.client('shop');
    await listener.query('LISTEN allot_events');
    const notices: string[] = [];
    idle.on('notice', (n) => notices.push(n.message ?? ''));
    const idleError = nextError(idle);
    const listenerError = nextError(listener);
    const writerError = nextError(writer);

    // The booking waits for its fdatasync while the server is asked to stop.
    fs.hold();
    const insert = writer.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('in-flight', 'room', 0, 1000)`);
    const tenant = srv.server.tenantByName('shop')!;
    await until(() => tenant.lastLsn > tenant.durableLsn);
    const closing = srv.server.close();
    expect((await idleError).code).toBe('57P01');
    expect((await listenerError).code).toBe('57P01');
    expect(notices).toContain('the server is shutting down; reconnect once it is back');
    // No new connections meanwhile.
    const late = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'x', password: srv.password, database: 'shop' });
    await expect(late.connect()).rejects.toThrow(/ECONNREFUSED|terminat/);
    // The statement in flight is answered once durable, and only then is its connection closed.
    let answered = false;
    void insert.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(answered).toBe(false);
    fs.release();
    expect((await insert).rowCount).toBe(1);
    expect((await writerError).code).toBe('57P01');
    await closing;
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['shutting down: closing connections once their statements finish', 'database closed', 'allot stopped']),
    );

    expect(await bookingsAfterRestart(dataDir)).toEqual([{ id: 'in-flight' }]);
  });

  it('over the extended protocol: a statement in flight is answered with its own result and ReadyForQuery, then the connection ends with 57P01', async () => {
    const dataDir = tempDir();
    const fs = new FaultyFs();
    const srv = await startServer({ dataDir }, { fs });
    const writer = await srv.client('shop');
    await writer.query(`INSERT INTO resources (id) VALUES ('room')`);
    const writerError = nextError(writer);
    fs.hold();
    // Parameters: pg sends Parse, Bind, Describe, Execute, Sync.
    const insert = writer.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'room', 0, 1000) RETURNING id`, ['in-flight']);
    const tenant = srv.server.tenantByName('shop')!;
    await until(() => tenant.lastLsn > tenant.durableLsn);
    const closing = srv.server.close();
    await new Promise((r) => setTimeout(r, 20));
    fs.release();
    expect((await insert).rows).toEqual([{ id: 'in-flight' }]);
    expect((await writerError).code).toBe('57P01');
    await closing;
    expect(await bookingsAfterRestart(dataDir)).toEqual([{ id: 'in-flight' }]);
  });

  it('answers a Sync that arrives after the shutdown began, refuses an Execute that had not started (ERROR 57P01, not run), then ends with 57P01', async () => {
    const dataDir = tempDir();
    const fs = new FaultyFs();
    const srv = await startServer({ dataDir }, { fs });
    const setup = await srv.client('shop');
    await setup.query(`INSERT INTO resources (id) VALUES ('room')`);
    await setup.end();
    const raw = await RawClient.connect(srv.port);
    await raw.login({ database: 'shop', password: srv.password });
    const sql = `INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'room', $2, $3)`;
    const start = raw.received.length;
    fs.hold();
    raw.send(Buffer.concat([serialize.parse({ text: sql }), serialize.bind({ values: ['a', '0', '1000'] }), serialize.execute({})]));
    const tenant = srv.server.tenantByName('shop')!;
    await until(() => tenant.lastLsn > tenant.durableLsn);
    const closing = srv.server.close();
    await new Promise((r) => setTimeout(r, 20));
    // Sent after the shutdown began: not started yet, so refused.
    raw.send(Buffer.concat([serialize.parse({ text: sql }), serialize.bind({ values: ['b', '2000', '3000'] }), serialize.execute({})]));
    fs.release();
    await new Promise((r) => setTimeout(r, 100));
    raw.send(serialize.sync());
    await raw.untilClosed();
    await closing;
    const got = raw.received.slice(start).map((m) => (m.name === 'error' ? `${(m as DatabaseError).severity} ${(m as DatabaseError).code}` : m.name));
    expect(got).toEqual([
      'parseComplete',
      'bindComplete',
      'commandComplete',
      'parseComplete',
      'bindComplete',
      'ERROR 57P01',
      'readyForQuery',
      'notice',
      'FATAL 57P01',
    ]);
    expect(await bookingsAfterRestart(dataDir)).toEqual([{ id: 'a' }]);
  });

  it("closes without an answer a connection whose statement ran but whose Sync never comes (an error would be read as the statement's)", async () => {
    const fs = new FaultyFs();
    const { log, lines } = captured();
    const srv = await startServer({}, { fs, log });
    const raw = await RawClient.connect(srv.port);
    await raw.login({ database: 'shop', password: srv.password });
    const start = raw.received.length;
    raw.send(
      Buffer.concat([serialize.parse({ text: `INSERT INTO resources (id) VALUES ('x')` }), serialize.bind({}), serialize.execute({}), serialize.flush()]),
    );
    await raw.next('commandComplete');
    const t0 = Date.now();
    await srv.server.close();
    await raw.untilClosed();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(raw.received.slice(start).map((m) => m.name)).toEqual(['parseComplete', 'bindComplete', 'commandComplete']);
    expect(lines.map((l) => l.msg)).toContain('shutting down: no Sync came for statements already answered; closing without an answer');
  }, 20_000);

  it('as a process: SIGTERM stops cleanly, exit 0', async () => {
    const child = await startChild(tempDir(), 'pw');
    expect(await child.kill('SIGTERM')).toBe(0);
    expect(child.stderr()).toContain('"msg":"allot stopped"');
  });

  it('exits at once, with 1, on a second signal while the first is still finishing a statement', async () => {
    const fs = new FaultyFs();
    const { log, lines } = captured();
    const srv = await startServer({}, { fs, log });
    const signals = new EventEmitter();
    const exits: number[] = [];
    handleSignals(
      srv.server,
      log,
      (code) => exits.push(code),
      (s, fn) => void signals.on(s, fn),
    );
    const c = await srv.client('shop');
    c.on('error', () => undefined);
    await c.query(`INSERT INTO resources (id) VALUES ('room')`);
    fs.hold();
    const held = c.query(`INSERT INTO resources (id) VALUES ('held')`).catch(() => undefined);
    const tenant = srv.server.tenantByName('shop')!;
    await until(() => tenant.lastLsn > tenant.durableLsn);
    signals.emit('SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    expect(exits).toEqual([]);
    signals.emit('SIGINT');
    expect(exits).toEqual([1]);
    expect(lines.map((l) => l.msg)).toContain('second signal: exiting at once');
    fs.release();
    await held;
    await srv.server.close();
    // The first signal's graceful stop completes on its own: exit 0 follows.
    await until(() => exits.length === 2);
    expect(exits).toEqual([1, 0]);
    await srv.close();
  });
});

describe('logs', () => {
  it('name each connection, log slow statements with their text, and say when a connection ends', async () => {
    const fs = new FaultyFs();
    const { log, lines } = captured();
    const srv = await startServer({ logSlowMs: 25 }, { fs, log });
    try {
      const c = await srv.client('shop', { application_name: 'front-desk' });
      const pid = (c as unknown as { processID: number }).processID;
      await c.query(`INSERT INTO resources (id) VALUES ('room')`);
      fs.hold();
      const slow = c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('slow', 'room', 0, 1000)`);
      await new Promise((r) => setTimeout(r, 60));
      fs.release();
      await slow;
      await c.end();
      await until(() => lines.some((l) => l.msg === 'connection closed'));
      const auth = lines.find((l) => l.msg === 'connection authenticated')!;
      expect(auth).toMatchObject({ conn: pid, user: 'tester', database: 'shop', app: 'front-desk', remote: '127.0.0.1' });
      const slowLine = lines.find((l) => l.msg === 'slow statement')!;
      expect(slowLine).toMatchObject({
        level: 40,
        conn: pid,
        database: 'shop',
        sql: `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('slow', 'room', 0, 1000)`,
      });
      expect(slowLine.ms as number).toBeGreaterThanOrEqual(25);
      // Only that one was slow.
      expect(lines.filter((l) => l.msg === 'slow statement')).toHaveLength(1);
      expect(lines.find((l) => l.msg === 'connection closed')).toMatchObject({ conn: pid, statements: 2 });
    } finally {
      await srv.close();
    }
  });

  it('report recovery as it goes, with records and bytes replayed', async () => {
    const dataDir = tempDir();
    const a = await startServer({ dataDir });
    const c = await a.client('big');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 100000)`);
    for (let i = 0; i < 30; i++) {
      const values = Array.from({ length: 100 }, (_, k) => `('r', ${i * 100 + k}, ${i * 100 + k + 1})`).join(', ');
      await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ${values}`);
    }
    // 3,000 single-row records on top, so progress (every 1,024 records here) shows.
    for (let i = 0; i < 3000; i++) await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', $1, $2)`, [10_000 + i, 10_001 + i]);
    await a.close();
    const { log, lines } = captured();
    const b = await startServer({ dataDir }, { log, recoveryProgressMs: 0 });
    await b.close();
    const msgs = lines.filter((l) => l.tenant === 'big').map((l) => l.msg as string);
    expect(msgs[0]).toBe('recovering: replaying the log');
    const progress = lines.filter((l) => typeof l.msg === 'string' && /^recovering: \d+ records/.test(l.msg));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ records: 1024, file: expect.stringMatching(/^wal-\d{20}\.log$/) });
    expect((progress[1]!.bytes as number) > (progress[0]!.bytes as number)).toBe(true);
    expect(lines.find((l) => l.msg === 'database recovered')).toMatchObject({ tenant: 'big', records: 3031 });
    // The listening line says what is running.
    expect(lines.find((l) => l.msg === 'allot is listening')).toMatchObject({ version: ALLOT_VERSION, databases: 1 });
    // One tenant field per line, not two.
    expect(lines.every((l) => !JSON.stringify(l).includes('"tenant":"big","tenant"'))).toBe(true);
  });
});

describe('metrics', () => {
  it('are off by default, and served in Prometheus text format on ALLOT_METRICS_PORT', async () => {
    const plain = await startServer();
    expect(plain.server.metricsPort).toBeNull();
    await plain.close();

    const srv = await startServer({ metricsPort: 0, metricsBind: '127.0.0.1' });
    try {
      const c = await srv.client('m');
      const l = await srv.client('m');
      await l.query('LISTEN allot_events');
      await c.query(`INSERT INTO resources (id) VALUES ('room')`);
      await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', 0, 10), ('room', 10, 20)`);
      await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', 5, 15)`));
      await c.query(`INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('room', 30, 40, $1)`, [Date.now() + 60_000]);
      await c.query(`SELECT * FROM bookings`);
      const res = await fetch(`http://127.0.0.1:${srv.server.metricsPort}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      const value = (line: string): number => {
        const m = new RegExp(`^${line.replace(/[{}"=]/g, (x) => `\\${x}`)} (\\S+)$`, 'm').exec(text);
        if (m === null) throw new Error(`no ${line} in\n${text}`);
        return Number(m[1]);
      };
      expect(value('allot_connections')).toBe(2);
      expect(value('allot_connections_total')).toBe(2);
      expect(value('allot_statements_total{kind="insert"}')).toBe(4);
      expect(value('allot_statements_total{kind="select"}')).toBe(1);
      expect(value('allot_statements_total{kind="listen"}')).toBe(1);
      expect(value('allot_errors_total{sqlstate="23P01"}')).toBe(1);
      expect(value('allot_bookings{database="m"}')).toBe(2);
      expect(value('allot_holds{database="m"}')).toBe(1);
      expect(value('allot_listeners{database="m"}')).toBe(1);
      expect(value('allot_read_only{database="m"}')).toBe(0);
      expect(value('allot_commit_batch_records_count')).toBe(3);
      expect(value('allot_commit_batch_records_sum')).toBe(3);
      expect(value('allot_fsync_seconds_count')).toBe(3);
      expect(text).toContain('# HELP allot_fsync_seconds Time of one log fdatasync.');
      expect((await fetch(`http://127.0.0.1:${srv.server.metricsPort}/other`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});

describe('version', () => {
  it('is the one package.json says', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(ALLOT_VERSION).toBe(pkg.version);
  });
});
