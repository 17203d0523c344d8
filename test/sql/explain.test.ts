/**
 * availability_explain through pg: every stretch of a window where a booking could not go, with
 * what blocks it (closed time naming the level whose rules apply, a blocking rule, an entry's
 * body and buffers, an outage, full capacity naming the entries, offline, a policy), and the
 * stretches together are exactly the window less availability's free spans.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const MIN = 60_000;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number, min = 0): number => DAY0 + hour * H + min * MIN;
const clock = new ManualClock(at(6));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'ms' }, { clock });
});
afterAll(async () => {
  await srv.close();
});

type Row = { start: string; end: string; reason: string; blocked_by: string; detail: string | null };
const brief = (rows: Row[]): [number, number, string, string, string | null][] =>
  rows.map((r) => [Number(r.start), Number(r.end), r.reason, r.blocked_by, r.detail]);

describe('availability_explain', () => {
  it('names what blocks each stretch, and together they are the window less the free time', async () => {
    const c = await srv.client('explain');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('site', 0)`);
    await c.query(`INSERT INTO resources (id, parent_id, buffer_after) VALUES ('room', 'site', 15 * 60000)`);
    await c.query(`INSERT INTO rules (resource_id, start, "end") VALUES ('site', $1, $2)`, [at(8), at(18)]);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", blocking) VALUES ('lunch', 'room', $1, $2, true)`, [at(12), at(13)]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('standup', 'room', $1, $2)`, [at(9), at(9, 30)]);
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('cart', 'room', $1, $2, $3)`, [at(14), at(15), at(7)]);
    await c.query(`INSERT INTO outages (id, resource_id, kind, start, "end") VALUES ('paint', 'room', 'planned', $1, $2)`, [at(16), at(17)]);
    const q = `SELECT start, "end", reason, blocked_by, detail FROM availability_explain WHERE resource_id = 'room' AND start >= $1 AND "end" <= $2`;
    const rows = (await c.query<Row>(q, [at(7), at(19)])).rows;
    expect(brief(rows)).toEqual([
      [at(7), at(8), 'closed', 'site', null],
      [at(8, 45), at(9), 'booking', 'standup', 'buffer'],
      [at(9), at(9, 30), 'booking', 'standup', 'body'],
      [at(9, 30), at(9, 45), 'booking', 'standup', 'buffer'],
      [at(12), at(13), 'blocking_rule', 'lunch', null],
      [at(13, 45), at(14), 'hold', 'cart', 'buffer'],
      [at(14), at(15), 'hold', 'cart', 'body'],
      [at(15), at(15, 15), 'hold', 'cart', 'buffer'],
      [at(16), at(17), 'outage', 'paint', 'planned'],
      [at(18), at(19), 'closed', 'site', null],
    ]);
    // The complement of availability, exactly.
    const free = (await c.query(`SELECT start, "end" FROM availability WHERE resource_id = 'room' AND start >= $1 AND "end" <= $2`, [at(7), at(19)])).rows;
    const spans = [...rows.map((r) => [Number(r.start), Number(r.end)]), ...free.map((r) => [Number(r.start), Number(r.end)])].sort((x, y) => x[0]! - y[0]!);
    let t = at(7);
    for (const [s, e] of spans) {
      expect(s).toBeLessThanOrEqual(t);
      t = Math.max(t, e!);
    }
    expect(t).toBe(at(19));
    // Once the hold expires it blocks nothing.
    clock.set(at(7, 30));
    expect(brief((await c.query<Row>(q, [at(13), at(16)])).rows)).toEqual([]);
    clock.set(at(6));
  });

  it('names the entries filling a capacity, an offline resource, and a policy for a user', async () => {
    const c = await srv.client('explain-more');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('desks', 2), ('lab', 1)`);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end", user_id, policy_id) VALUES ('d1', 'desks', $1, $2, NULL, NULL), ('d2', 'desks', $3, $4, NULL, NULL)`,
      [at(9), at(11), at(10), at(12)],
    );
    const q = (where: string, args: unknown[]) =>
      c.query<Row>(`SELECT start, "end", reason, blocked_by, detail FROM availability_explain WHERE ${where}`, args);
    expect(brief((await q(`resource_id = 'desks' AND start >= $1 AND "end" <= $2`, [at(8), at(13)])).rows)).toEqual([
      [at(10), at(11), 'capacity', 'desks', 'd1,d2'],
    ]);
    await c.query(`UPDATE resources SET status = 'offline', status_reason = 'move' WHERE id = 'lab'`);
    expect(brief((await q(`resource_id = 'lab' AND start >= $1 AND "end" <= $2`, [at(8), at(9)])).rows)).toEqual([[at(8), at(9), 'offline', 'lab', 'move']]);
    await c.query(`UPDATE resources SET status = 'online' WHERE id = 'lab'`);
    await c.query(`INSERT INTO policies (id, book_ahead, max_bookings) VALUES ('p', 2 * 3600000, 1)`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end", user_id, policy_id) VALUES ('lab', $1, $2, 'ann', 'p')`, [at(7), at(7, 30)]);
    const pol = (await q(`resource_id = 'lab' AND start >= $1 AND "end" <= $2 AND policy_id = 'p' AND user_id = $3`, [at(9), at(10), 'ann'])).rows;
    // Ann has her one booking: nothing more for her. And starts after 08:00 + 2 h are too far ahead.
    expect(brief(pol)).toEqual([
      [at(9), at(10), 'policy', 'p', 'book_ahead'],
      [at(9), at(10), 'policy', 'p', 'max_bookings'],
    ]);
  });

  it('refuses what it cannot answer', async () => {
    const c = await srv.client('explain-bad');
    expect((await pgError(c.query(`SELECT * FROM availability_explain WHERE start >= 0 AND "end" <= 10`))).code).toBe('0A000');
    expect((await pgError(c.query(`SELECT * FROM availability_explain WHERE resource_id = 'x'`))).code).toBe('0A000');
    expect((await pgError(c.query(`DELETE FROM availability_explain`))).code).toBe('0A000');
    expect((await c.query(`SELECT * FROM availability_explain WHERE resource_id = 'nosuch' AND start >= 0 AND "end" <= 10`)).rows).toEqual([]);
  });
});
