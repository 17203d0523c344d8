/**
 * A statement whose fate the server cannot know (OutcomeUnknown: its log record may or may not
 * be on disk) gets no answer at all: no ErrorResponse (that would say "not committed"), no
 * CommandComplete (that would say "on disk"). The connection is closed, and the server logs why.
 * The tenant's commit is stubbed to throw it, through a real socket, on every statement path:
 * a simple query, the extended protocol, COMMIT of a block, and the end of a simple query's
 * implicit block.
 */
import pg from 'pg';
import pino from 'pino';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutcomeUnknown } from '../../src/errors.js';
import type { Tenant } from '../../src/tenant/tenant.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });

let srv: TestServer;
let tenant: Tenant;
let realCommit: Tenant['commit'];
beforeAll(async () => {
  srv = await startServer({}, { log });
  const c = await srv.client('unknown');
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 100)`);
  tenant = srv.server.tenantByName('unknown')!;
  realCommit = tenant.commit.bind(tenant);
});
afterAll(async () => {
  tenant.commit = realCommit;
  await srv.close();
});

/** Every commit from now on fails with OutcomeUnknown (after doing nothing). */
function commitsAreUnknown(): void {
  tenant.commit = () => Promise.reject(new OutcomeUnknown(new Error('EIO: i/o error, fdatasync')));
}

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  await c.login({ database: 'unknown', password: srv.password });
  return c;
}

/** Sends `bytes` and waits for the server to hang up; returns what came after them. */
async function sendAndClose(c: RawClient, bytes: Buffer): Promise<string[]> {
  const start = c.received.length;
  c.send(bytes);
  await c.untilClosed();
  return c.received.slice(start).map((m) => m.name);
}

const logged = (): number => lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('statement outcome unknown')).length;

describe('a statement whose outcome is unknown', () => {
  it('over the simple protocol: no answer, the connection is closed, the server logs it', async () => {
    const c = await login();
    // A statement before it is answered as ever.
    expect(await c.query(`SELECT id FROM resources`)).toEqual([['r']]);
    const before = logged();
    commitsAreUnknown();
    const after = await sendAndClose(c, serialize.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('u1', 'r', 0, 10)`));
    expect(after).toEqual([]);
    expect(c.errors()).toEqual([]);
    expect(logged()).toBe(before + 1);
    tenant.commit = realCommit;
  });

  it('over the extended protocol (pg with parameters): pg sees a broken connection, not an error with a SQLSTATE', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'u', password: srv.password, database: 'unknown' });
    c.on('error', () => undefined);
    await c.connect();
    commitsAreUnknown();
    const err = (await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', 0, 10)`, ['u2']).then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; message: string } | null;
    tenant.commit = realCommit;
    expect(err).not.toBe(null);
    expect(err!.code).toBe(undefined);
    expect(err!.message).toMatch(/terminated|ECONNRESET|closed/i);
    await c.end().catch(() => undefined);
  });

  it('a raw Parse/Bind/Execute/Sync: nothing after BindComplete', async () => {
    const c = await login();
    commitsAreUnknown();
    const after = await sendAndClose(
      c,
      Buffer.concat([
        serialize.parse({ text: `INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', 0, 10)` }),
        serialize.bind({ values: ['u3'] }),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    tenant.commit = realCommit;
    // ParseComplete and BindComplete were not flushed before the Execute either: nothing at all.
    expect(after.filter((n) => n === 'commandComplete' || n === 'error' || n === 'readyForQuery')).toEqual([]);
  });

  it('at COMMIT of a transaction block', async () => {
    const c = await login();
    await c.query('BEGIN');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('u4', 'r', 0, 10)`);
    expect(c.errors()).toEqual([]);
    commitsAreUnknown();
    const after = await sendAndClose(c, serialize.query('COMMIT'));
    tenant.commit = realCommit;
    expect(after).toEqual([]);
    expect(c.errors()).toEqual([]);
  });

  it("at the end of a simple query's implicit block: not even the first statement's CommandComplete", async () => {
    const c = await login();
    commitsAreUnknown();
    const after = await sendAndClose(
      c,
      serialize.query(
        `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('u5', 'r', 0, 10); INSERT INTO bookings (id, resource_id, start, "end") VALUES ('u6', 'r', 10, 20)`,
      ),
    );
    tenant.commit = realCommit;
    expect(after).toEqual([]);
    expect(c.errors()).toEqual([]);
  });

  it('leaves the server serving other connections', async () => {
    const c = await srv.client('unknown');
    expect((await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('ok', 'r', 100, 110) RETURNING id`)).rows).toEqual([{ id: 'ok' }]);
    // None of the unknown ones happened here (the stub did nothing), and the server says so in its log.
    expect((await c.query(`SELECT id FROM bookings ORDER BY id`)).rows).toEqual([{ id: 'ok' }]);
    expect(srv.server.connectionCount).toBe(2);
  });
});
