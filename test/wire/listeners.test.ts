/**
 * A listener that falls too far behind is told so before it is cut off: the notifications still
 * queued for it are dropped, whole, to make room for a FATAL 54000 that reaches it after the ones
 * already sent; the stream never ends mid-message, even when the client reads only later.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serialize } from 'pg-protocol';
import type { DatabaseError, NotificationResponseMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PENDING_NOTIFICATIONS } from '../../src/wire/connection.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { checkInvariants: false });
});
afterAll(async () => {
  await srv.close();
});

const ROWS_PER_STATEMENT = 5_000;

describe('a listener that stops reading', () => {
  it('gets every notification sent before the cut, whole and in order, then FATAL 54000, even when it reads only seconds later', async () => {
    const writer = await srv.client('loud');
    await writer.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1)`);
    const listener = await RawClient.connect(srv.port);
    await listener.login({ database: 'loud', password: srv.password });
    await listener.query('LISTEN allot_events');
    const sessions = srv.server.connectionCount;
    const readyAt = listener.received.length;
    listener.pause();

    let sent = 0;
    for (let n = 0; n < 40 && srv.server.connectionCount === sessions; n++) {
      const values = Array.from({ length: ROWS_PER_STATEMENT }, (_, i) => `('b${sent + i}', 'r', ${sent + i}, ${sent + i + 1})`).join(', ');
      await writer.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values}`);
      sent += ROWS_PER_STATEMENT;
    }
    // The server has let go of the listener's session.
    expect(srv.server.connectionCount).toBe(sessions - 1);
    expect(sent).toBeGreaterThan(MAX_PENDING_NOTIFICATIONS);

    // A client busy elsewhere for a while, then reading everything.
    await sleep(2_500);
    listener.resume();
    await listener.untilClosed(20_000);

    expect(listener.unparsedBytes, 'the stream ended mid-message').toBe(0);
    const after = listener.received.slice(readyAt);
    const last = after.at(-1) as DatabaseError;
    expect(last.name).toBe('error');
    expect([last.severity, last.code]).toEqual(['FATAL', '54000']);
    expect(last.message).toMatch(/fell too far behind/);
    const notes = after.slice(0, -1) as NotificationResponseMessage[];
    expect(notes.every((m) => m.name === 'notification')).toBe(true);
    // What arrived is a prefix of what was sent: nothing lost in the middle, nothing torn.
    const ids = notes.map((m) => (JSON.parse(m.payload) as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `b${i}`));
    expect(ids.length).toBeLessThan(sent);

    // Others carry on.
    expect((await writer.query(`SELECT count(*) AS n FROM bookings`)).rows).toEqual([{ n: String(sent) }]);
  }, 60_000);

  it('while idle, a listener that reads gets everything, however many', async () => {
    const writer = await srv.client('calm');
    await writer.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1)`);
    const listener = await RawClient.connect(srv.port);
    await listener.login({ database: 'calm', password: srv.password });
    await listener.query('LISTEN allot_events');
    const total = 3 * ROWS_PER_STATEMENT;
    for (let s = 0; s < total; s += ROWS_PER_STATEMENT) {
      const values = Array.from({ length: ROWS_PER_STATEMENT }, (_, i) => `('c${s + i}', 'r', ${s + i}, ${s + i + 1})`).join(', ');
      await writer.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values}`);
    }
    const deadline = Date.now() + 10_000;
    while (listener.received.filter((m) => m.name === 'notification').length < total && Date.now() < deadline) await sleep(20);
    expect(listener.received.filter((m) => m.name === 'notification')).toHaveLength(total);
    expect(listener.errors()).toEqual([]);
    listener.send(serialize.end());
    listener.destroy();
  }, 60_000);
});
