/**
 * next_free and offers through pg: the next spans where a booking of a length fits, back to
 * back, on a resource or from a pool; the policy's timing limits; NULL asks for nothing; bad
 * input is refused clearly; and a refused hold names where it would fit, as a clock moves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const MIN = 60_000;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number, min = 0): number => DAY0 + hour * H + min * MIN;
const clock = new ManualClock(at(8));
const dir = mkdtempSync(join(tmpdir(), 'allot-next-free-'));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ dataDir: dir, times: 'ms' }, { clock });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('next_free', () => {
  it('gives the next spans of a length where a booking fits, back to back, on a resource or from a pool', async () => {
    const c = await srv.client('next');
    await c.query(`INSERT INTO resources (id, buffer_after) VALUES ('room', 15 * 60000)`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', $1, $2), ('room', $3, $4)`, [at(9), at(10), at(11), at(12)]);
    // From 08:30: 08:30-09:00 is too short, 10:15-11:00 too (the buffer), so 12:15 on.
    const rows = await c.query(`SELECT * FROM next_free WHERE resource_id = 'room' AND duration = $1 AND after = $2 LIMIT 3`, [H, at(8, 30)]);
    expect(rows.rows).toEqual([
      { resource_id: 'room', pool_id: null, start: String(at(12, 15)), end: String(at(13, 15)) },
      { resource_id: 'room', pool_id: null, start: String(at(13, 15)), end: String(at(14, 15)) },
      { resource_id: 'room', pool_id: null, start: String(at(14, 15)), end: String(at(15, 15)) },
    ]);
    // Each span is one a booking really gets.
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', $1, $2)`, [at(12, 15), at(13, 15)]);
    // OFFSET counts in, and other conditions filter the rows made.
    const later = await c.query(`SELECT start FROM next_free WHERE resource_id = 'room' AND duration = $1 AND after = $2 AND start >= $3 LIMIT 2`, [
      H,
      at(8),
      at(15),
    ]);
    expect(later.rows.map((r) => Number(r.start))).toEqual([]);
    const offset = await c.query(`SELECT start FROM next_free WHERE resource_id = 'room' AND duration = $1 AND after = $2 LIMIT 2 OFFSET 1`, [H, at(8)]);
    expect(offset.rows.map((r) => Number(r.start))).toEqual([at(14, 30), at(15, 30)]);

    await c.query(`INSERT INTO resources (id, capacity) VALUES ('crew', 0)`);
    await c.query(`INSERT INTO resources (id, parent_id, capabilities) VALUES ('a', 'crew', '{cam}'), ('b', 'crew', '{cam}'), ('c', 'crew', '{}')`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('a', $1, $2)`, [at(9), at(10)]);
    const two = await c.query(
      `SELECT pool_id, start, "end" FROM next_free WHERE pool_id = 'crew' AND duration = $1 AND after = $2 AND quantity = 2 AND capabilities = '{cam}' LIMIT 2`,
      [H, at(8, 30)],
    );
    expect(two.rows).toEqual([
      { pool_id: 'crew', start: String(at(10)), end: String(at(11)) },
      { pool_id: 'crew', start: String(at(11)), end: String(at(12)) },
    ]);
    // A pool booking of that span gets its members.
    const got = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", quantity, capabilities) VALUES ('crew', $1, $2, 2, '{cam}') RETURNING resource_id`,
      [at(10), at(11)],
    );
    expect(got.rows.map((r) => r.resource_id)).toEqual(['a', 'b']);
  });

  it("keeps to the policy's timing limits, moves with the clock, and asks for nothing with NULL", async () => {
    const c = await srv.client('next-policy');
    await c.query(`INSERT INTO resources (id) VALUES ('rig')`);
    await c.query(`INSERT INTO policies (id, book_ahead) VALUES ('soon', 2 * 3600000)`);
    const q = `SELECT start FROM next_free WHERE resource_id = 'rig' AND duration = $1 AND after = now() AND policy_id = 'soon' LIMIT 5`;
    // Two hours ahead at most, 45-minute spans: 08:00, 08:45 and 09:30 start in time.
    expect((await c.query(q, [45 * MIN])).rows.map((r) => Number(r.start))).toEqual([at(8), at(8, 45), at(9, 30)]);
    clock.set(at(9));
    expect((await c.query(q, [45 * MIN])).rows.map((r) => Number(r.start))).toEqual([at(9), at(9, 45), at(10, 30)]);
    expect((await c.query(`SELECT * FROM next_free WHERE resource_id = $1 AND duration = 60000 AND after = 0`, [null])).rows).toEqual([]);
    expect((await c.query(`SELECT * FROM next_free WHERE resource_id = 'nosuch' AND duration = 60000 AND after = 0`)).rows).toEqual([]);
    // Without LIMIT: ten.
    expect((await c.query(`SELECT count(*)::int AS n FROM next_free WHERE resource_id = 'rig' AND duration = 60000 AND after = $1`, [at(12)])).rows).toEqual([
      { n: 10 },
    ]);
  });

  it('refuses what it cannot answer with a clear error', async () => {
    const c = await srv.client('next-bad');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    const err = async (sql: string): Promise<[string, string]> => {
      const e = await pgError(c.query(sql));
      return [e.code!, e.message];
    };
    expect(await err(`SELECT * FROM next_free WHERE resource_id = 'r' AND after = 0`)).toEqual(['0A000', 'next_free needs duration = …']);
    expect(await err(`SELECT * FROM next_free WHERE duration = 1 AND after = 0`)).toEqual([
      '0A000',
      'next_free needs resource_id = … or pool_id = … (one of them)',
    ]);
    expect((await err(`SELECT * FROM next_free WHERE resource_id = 'r' AND duration = 0 AND after = 0`))[0]).toBe('22023');
    expect(await err(`SELECT * FROM next_free WHERE resource_id = 'r' AND duration = 1 AND after = 0 AND quantity = 2`)).toEqual([
      '22023',
      'next_free takes quantity only with pool_id',
    ]);
    expect((await err(`SELECT * FROM next_free WHERE resource_id = 'r' AND duration = 1 AND after = 0 LIMIT 5000`))[0]).toBe('54000');
    expect((await err(`SELECT * FROM next_free WHERE resource_id = 'r' AND duration > 1 AND after = 0`))[0]).toBe('0A000');
    expect((await err(`DELETE FROM next_free`))[0]).toBe('0A000');
  });
});

describe('offers on refusal', () => {
  it('a refused hold names where it would fit, nearest first, and offers are not reservations', async () => {
    clock.set(at(8));
    const c = await srv.client('offers');
    await c.query(`INSERT INTO resources (id) VALUES ('desk')`);
    await c.query(`INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('desk', $1, $2, $3)`, [at(10), at(11), at(9)]);
    const e = await pgError(c.query(`INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('desk', $1, $2, $3)`, [at(10, 30), at(11, 30), at(9)]));
    expect(e.code).toBe('23P01');
    const offers = JSON.parse(e.detail!).offers;
    expect(offers).toEqual([
      { resource_id: 'desk', start: at(11), end: at(12) },
      { resource_id: 'desk', start: at(9), end: at(10) },
      { resource_id: 'desk', start: at(12), end: at(13) },
    ]);
    expect(e.hint).toBe(
      'It would fit at [2026-03-02T11:00:00.000Z, 2026-03-02T12:00:00.000Z), [2026-03-02T09:00:00.000Z, 2026-03-02T10:00:00.000Z) or [2026-03-02T12:00:00.000Z, 2026-03-02T13:00:00.000Z).',
    );
    // Someone else takes the first offer; once the first hold expires, its hour is offered.
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('desk', $1, $2)`, [at(11), at(12)]);
    clock.set(at(9, 30));
    const e2 = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('desk', $1, $2)`, [at(11, 30), at(12, 30)]));
    expect(JSON.parse(e2.detail!).offers).toEqual([
      { resource_id: 'desk', start: at(12), end: at(13) },
      { resource_id: 'desk', start: at(10), end: at(11) },
      { resource_id: 'desk', start: at(13), end: at(14) },
    ]);
    // In a transaction block too: the refused statement names where it would fit.
    await c.query('BEGIN');
    const inBlock = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('desk', $1, $2)`, [at(11, 30), at(12, 30)]));
    expect(JSON.parse(inBlock.detail!).offers[0]).toEqual({ resource_id: 'desk', start: at(12), end: at(13) });
    await c.query('ROLLBACK');
  });
});
