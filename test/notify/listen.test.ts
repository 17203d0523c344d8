/**
 * LISTEN and NOTIFY through real clients: channel names fold as PostgreSQL folds identifiers
 * (LISTEN Foo is the channel foo, LISTEN "Foo" the channel Foo, pg_notify takes its name as
 * written), resource channels match whatever the case and come back as the listener spelled
 * them (postgres.js, which quotes the names it listens on, drops anything else), and a listener
 * that stops reading is cut off once 16 MiB of notifications wait for it, though far fewer than
 * 10,000 do, while one that reads on the same channel misses nothing.
 */
import type pg from 'pg';
import postgres from 'postgres';
import type { DatabaseError, NotificationResponseMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PENDING_NOTIFICATIONS, MAX_SOCKET_BACKLOG_BYTES } from '../../src/wire/connection.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { checkInvariants: false });
});
afterAll(async () => {
  await srv.close();
});

/** A pg client on `database` that notes what it hears, as `channel:payload`. */
async function listener(database: string, ...channels: string[]): Promise<{ c: pg.Client; heard: string[] }> {
  const c = await srv.client(database);
  const heard: string[] = [];
  c.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`));
  for (const ch of channels) await c.query(`LISTEN ${ch}`);
  return { c, heard };
}

describe('channel names', () => {
  it('fold as PostgreSQL folds: LISTEN Foo is foo, LISTEN "Foo" is Foo, pg_notify takes the name as written', async () => {
    const w = await srv.client('fold');
    const unquoted = await listener('fold', 'Foo');
    const quoted = await listener('fold', '"Foo"');
    await w.query(`NOTIFY FOO, 'unquoted'`);
    await w.query(`NOTIFY "Foo", 'quoted'`);
    await w.query(`SELECT pg_notify('foo', 'fn lower')`);
    await w.query(`SELECT pg_notify('Foo', 'fn as written')`);
    await w.query(`SELECT pg_notify('FOO', 'fn upper')`);
    await w.query(`NOTIFY foo, 'end'; NOTIFY "Foo", 'end'`);
    await expect.poll(() => unquoted.heard.at(-1)).toBe('foo:end');
    await expect.poll(() => quoted.heard.at(-1)).toBe('Foo:end');
    expect(unquoted.heard).toEqual(['foo:unquoted', 'foo:fn lower', 'foo:end']);
    expect(quoted.heard).toEqual(['Foo:quoted', 'Foo:fn as written', 'Foo:end']);
  });

  it('make LISTEN Foo and LISTEN "Foo" two channels of one session, and UNLISTEN FOO ends only foo', async () => {
    const w = await srv.client('fold-one');
    const l = await listener('fold-one', 'Foo', '"Foo"');
    await w.query(`NOTIFY foo, '1'; NOTIFY "Foo", '2'`);
    await l.c.query('UNLISTEN FOO');
    await w.query(`NOTIFY foo, '3'; NOTIFY "Foo", '4'`);
    await expect.poll(() => l.heard.at(-1)).toBe('Foo:4');
    expect(l.heard).toEqual(['foo:1', 'Foo:2', 'Foo:4']);
  });

  it('of resources match whatever the case, and come back as the listener spelled them: postgres.js hears them', async () => {
    const w = await srv.client('fold-resource');
    await w.query(`INSERT INTO resources (id) VALUES ('Room-1')`);
    const folded = await listener('fold-resource', '"resource_room-1"');
    const sql = postgres(srv.url('fold-resource'), { onnotice: () => undefined });
    try {
      const pgjs: string[] = [];
      const exact: string[] = [];
      await sql.listen('resource_Room-1', (payload) => pgjs.push((JSON.parse(payload) as { id: string }).id));
      await sql.listen('Foo', (payload) => exact.push(payload));
      await w.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'Room-1', 0, 10)`);
      await sql.notify('foo', 'not Foo');
      await sql.notify('Foo', 'Foo');
      await expect.poll(() => exact).toEqual(['Foo']);
      await expect.poll(() => pgjs).toEqual(['b1']);
      await expect.poll(() => folded.heard.map((h) => h.split(':')[0])).toEqual(['resource_room-1']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('a listener that stops reading', () => {
  /** One NOTIFY of a 7,999-byte payload (the largest there is) that starts with its number. */
  const big = (n: number): string => `NOTIFY big, '${String(n).padEnd(7_999, '.')}'`;
  const BATCH = 100;

  it(`is cut off once ${MAX_SOCKET_BACKLOG_BYTES / 2 ** 20} MiB wait for it, long before ${MAX_PENDING_NOTIFICATIONS.toLocaleString('en')} notifications do; one reading on the same channel gets them all`, async () => {
    const w = await srv.client('slow-bytes');
    const slow = await RawClient.connect(srv.port);
    await slow.login({ database: 'slow-bytes', password: srv.password });
    await slow.query('LISTEN big');
    // Delivered to after the slow one, so after it is cut off in the middle of a delivery.
    const reader = await srv.client('slow-bytes');
    let read = 0;
    reader.on('notification', () => read++);
    await reader.query('LISTEN big');
    const hub = (await srv.server.tenant('slow-bytes')).hub;
    expect(hub.listenerCount).toBe(2);
    const readyAt = slow.received.length;
    slow.pause();

    // 800 KB a query, until the server lets go of the slow listener's session (or 8,000 are sent).
    const sessions = srv.server.connectionCount;
    let sent = 0;
    while (srv.server.connectionCount === sessions && sent < 8_000) {
      await w.query(Array.from({ length: BATCH }, (_, i) => big(sent + i)).join('; '));
      sent += BATCH;
    }
    expect(srv.server.connectionCount, 'the slow listener was not cut off').toBe(sessions - 1);
    expect(sent).toBeLessThan(MAX_PENDING_NOTIFICATIONS);
    // Cut off after at least 16 MiB of them: the kernel's buffers hold some of what was sent.
    expect(sent * 8_000).toBeGreaterThan(MAX_SOCKET_BACKLOG_BYTES);
    expect(hub.listenerCount).toBe(1);

    slow.resume();
    await slow.untilClosed(20_000);
    expect(slow.unparsedBytes, 'the stream ended mid-message').toBe(0);
    const after = slow.received.slice(readyAt);
    const last = after.at(-1) as DatabaseError;
    expect([last.name, last.severity, last.code]).toEqual(['error', 'FATAL', '54000']);
    const numbers = (after.slice(0, -1) as NotificationResponseMessage[]).map((m) => (m.name === 'notification' ? Number.parseInt(m.payload, 10) : -1));
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i));
    expect(numbers.length).toBeLessThan(sent);

    await expect.poll(() => read, { timeout: 20_000 }).toBe(sent);
  }, 60_000);
});
