/**
 * Pool rows of one INSERT are matched together, through pg: a row does not take the member
 * another row needed, a refusal names the row no assignment can fill, RETURNING keeps the
 * order of VALUES, ON CONFLICT DO NOTHING decides row by row, and the strategies of a pool
 * (id_order, fewest_bookings, round_robin) choose as documented, across a restart too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number): number => DAY0 + hour * H;
const clock = new ManualClock(at(8));
const dir = mkdtempSync(join(tmpdir(), 'allot-pool-match-'));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ dataDir: dir }, { clock });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pool matching', () => {
  it('finds the assignment trying rows one at a time misses, and names the role that truly cannot be filled', async () => {
    const c = await srv.client('match');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('crew', 0)`);
    await c.query(`INSERT INTO resources (id, parent_id, capabilities) VALUES ('dan', 'crew', '{camera,director}'), ('fay', 'crew', '{camera}')`);
    // One row at a time, the camera row takes dan (first by id) and no director is left.
    const both = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, label) VALUES
         ('crew', $1, $2, '{camera}', 'camera'), ('crew', $1, $2, '{director}', 'director')
       RETURNING label, resource_id`,
      [at(9), at(12)],
    );
    expect(both.command).toBe('INSERT');
    expect(both.rows).toEqual([
      { label: 'camera', resource_id: 'fay' },
      { label: 'director', resource_id: 'dan' },
    ]);
    // Now nobody is free then: the camera row is the one that cannot be filled.
    const none = await pgError(
      c.query(`INSERT INTO bookings (pool_id, start, "end", capabilities) VALUES ('crew', $1, $2, '{camera}'), ('crew', $1, $2, '{director}')`, [
        at(10),
        at(11),
      ]),
    );
    expect(none.code).toBe('23P01');
    expect(none.message).toBe('pool "crew" has 0 of 1 wanted resources free [2026-03-02T10:00:00.000Z, 2026-03-02T11:00:00.000Z) (of 2 members with "camera")');
    // Later: two cameras and a director cannot all be had from dan and fay; the director row is
    // named, with what the two cameras leave it.
    const later = await pgError(
      c.query(
        `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity) VALUES ('crew', $1, $2, '{camera}', 2), ('crew', $1, $2, '{director}', 1)`,
        [at(13), at(14)],
      ),
    );
    expect(later.code).toBe('23P01');
    expect(later.message).toContain(`pool "crew" has 0 of 1 wanted resources free`);
    expect(later.message).toContain("once the statement's rows before it are placed");
    expect(JSON.parse(later.detail!).conflicts).toEqual([{ kind: 'pool', pool_id: 'crew', wanted: 1, free: 0, candidates: 1 }]);
    expect((await c.query(`SELECT count(*)::int AS n FROM bookings WHERE start >= $1`, [at(13)])).rows).toEqual([{ n: 0 }]);
  });

  it('keeps RETURNING in the order of VALUES, and decides ON CONFLICT DO NOTHING row by row', async () => {
    const c = await srv.client('match');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('desks', 0)`);
    await c.query(
      `INSERT INTO resources (id, parent_id, capabilities) VALUES ('d1', 'desks', '{screen}'), ('d2', 'desks', '{screen,window}'), ('d3', 'desks', '{screen}')`,
    );
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('d1', $1, $2)`, [at(9), at(10)]);
    const matched = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, label) VALUES ('desks', $1, $2, '{screen}', 'any screen'), ('desks', $1, $2, '{window}', 'window')
       RETURNING label, resource_id`,
      [at(9), at(10)],
    );
    expect(matched.rows).toEqual([
      { label: 'any screen', resource_id: 'd3' },
      { label: 'window', resource_id: 'd2' },
    ]);
    // With ON CONFLICT DO NOTHING each pool row takes what it finds, in order: the window row
    // finds d2 taken by the row before and is skipped.
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('d1', $1, $2), ('d3', $1, $2)`, [at(11), at(12)]);
    const skipped = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, label) VALUES ('desks', $1, $2, '{screen}', 's'), ('desks', $1, $2, '{window}', 'w')
       ON CONFLICT DO NOTHING RETURNING label, resource_id`,
      [at(11), at(12)],
    );
    expect(skipped.rows).toEqual([{ label: 's', resource_id: 'd2' }]);
  });

  it('matches many rows of one span exactly, and refuses one booking too many at staggered times at once', async () => {
    const c = await srv.client('match');
    // 30 members, member k able to do roles k and k+1 (of 30, around): 30 rows, one per role,
    // have exactly two assignments; taking members in order finds neither for the last row.
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('ring', 0)`);
    const n = 30;
    const name = (k: number): string => `m${String(k).padStart(2, '0')}`;
    const values = Array.from({ length: n }, (_, k) => `('${name(k)}', 'ring', '{r${k},r${(k + 1) % n}}')`).join(', ');
    await c.query(`INSERT INTO resources (id, parent_id, capabilities) VALUES ${values}`);
    const rows = Array.from({ length: n }, (_, k) => `('ring', $1, $2, '{r${(k + 1) % n}}', 'r${(k + 1) % n}')`).join(', ');
    const got = await c.query(`INSERT INTO bookings (pool_id, start, "end", capabilities, label) VALUES ${rows} RETURNING label, resource_id`, [at(9), at(10)]);
    expect(got.rows).toHaveLength(n);
    const used = new Set(got.rows.map((r: { resource_id: string }) => r.resource_id));
    expect(used.size).toBe(n);
    for (const r of got.rows as { label: string; resource_id: string }[]) {
      const k = Number(r.resource_id.slice(1));
      expect([`r${k}`, `r${(k + 1) % n}`]).toContain(r.label);
    }
    // 13 bookings at staggered starts that all overlap at 12:00, from 12 members: one too many.
    // No two rows share a span, so only the instant they share shows it; it is refused at once.
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('twelve', 0)`);
    await c.query(`INSERT INTO resources (id, parent_id) VALUES ${Array.from({ length: 12 }, (_, k) => `('t${k}', 'twelve')`).join(', ')}`);
    const staggered = Array.from(
      { length: 13 },
      (_, k) => `('twelve', '2026-03-02T${String(k % 10).padStart(2, '0')}:0${Math.floor(k / 10)}:00Z', '2026-03-02T13:00:00Z')`,
    );
    const started = Date.now();
    const over = await pgError(c.query(`INSERT INTO bookings (pool_id, start, "end") VALUES ${staggered.join(', ')}`));
    expect(over.code).toBe('23P01');
    expect(over.message).toContain('pool "twelve" has 0 of 1 wanted resources free');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('tries members in the order of the pool strategy: id_order, fewest_bookings, round_robin (which survives a restart)', async () => {
    const c = await srv.client('strategy');
    await c.query(`INSERT INTO resources (id, capacity, pool_strategy) VALUES ('fair', 0, 'fewest_bookings'), ('turns', 0, 'round_robin')`);
    expect((await c.query(`SELECT id, pool_strategy, pool_cursor FROM resources WHERE id IN ('fair', 'turns') ORDER BY id`)).rows).toEqual([
      { id: 'fair', pool_strategy: 'fewest_bookings', pool_cursor: null },
      { id: 'turns', pool_strategy: 'round_robin', pool_cursor: null },
    ]);
    await c.query(
      `INSERT INTO resources (id, parent_id) VALUES ('f1', 'fair'), ('f2', 'fair'), ('f3', 'fair'), ('t1', 'turns'), ('t2', 'turns'), ('t3', 'turns')`,
    );
    // f1 has two bookings still to come and f3 one, f2 only one that is over: f2 first, then f3.
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('f1', $1, $2), ('f1', $3, $4), ('f3', $1, $2), ('f2', $5, $6)`, [
      at(20),
      at(21),
      at(22),
      at(23),
      at(1),
      at(2),
    ]);
    const fair = await c.query(`INSERT INTO bookings (pool_id, start, "end", quantity) VALUES ('fair', $1, $2, 2) RETURNING resource_id`, [at(9), at(10)]);
    expect(fair.rows).toEqual([{ resource_id: 'f2' }, { resource_id: 'f3' }]);

    const turn = async (hour: number): Promise<string> =>
      (await c.query(`INSERT INTO bookings (pool_id, start, "end") VALUES ('turns', $1, $2) RETURNING resource_id`, [at(hour), at(hour + 1)])).rows[0]
        .resource_id;
    expect([await turn(9), await turn(9), await turn(10)]).toEqual(['t1', 't2', 't3']);
    expect((await c.query(`SELECT pool_cursor FROM resources WHERE id = 'turns'`)).rows).toEqual([{ pool_cursor: 't3' }]);
    // Around again; a member that is busy is passed by, and the cursor stops where it booked.
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('t1', $1, $2)`, [at(11), at(12)]);
    expect(await turn(11)).toBe('t2');
    // The cursor is part of the state: after a restart the turn goes on from it.
    await srv.close();
    srv = await startServer({ dataDir: dir }, { clock });
    const after = await srv.client('strategy');
    expect((await after.query(`SELECT pool_cursor FROM resources WHERE id = 'turns'`)).rows).toEqual([{ pool_cursor: 't2' }]);
    const next = await after.query(`INSERT INTO bookings (pool_id, start, "end") VALUES ('turns', $1, $2) RETURNING resource_id`, [at(13), at(14)]);
    expect(next.rows).toEqual([{ resource_id: 't3' }]);
    // And from a snapshot.
    await srv.server.tenantByName('strategy')!.checkpoint();
    await srv.close();
    srv = await startServer({ dataDir: dir }, { clock });
    const later = await srv.client('strategy');
    expect((await later.query(`SELECT pool_strategy, pool_cursor FROM resources WHERE id = 'turns'`)).rows).toEqual([
      { pool_strategy: 'round_robin', pool_cursor: 't3' },
    ]);
    // Setting the cursor moves the turn; a strategy allot does not know is refused.
    await later.query(`UPDATE resources SET pool_cursor = 't1' WHERE id = 'turns'`);
    expect((await later.query(`INSERT INTO bookings (pool_id, start, "end") VALUES ('turns', $1, $2) RETURNING resource_id`, [at(15), at(16)])).rows).toEqual([
      { resource_id: 't2' },
    ]);
    const bad = await pgError(later.query(`UPDATE resources SET pool_strategy = 'random' WHERE id = 'turns'`));
    expect(bad.code).toBe('22023');
    expect(bad.message).toBe(`pool_strategy must be one of 'id_order', 'fewest_bookings', 'round_robin', not "random"`);
    const nul = await pgError(later.query(`UPDATE resources SET pool_strategy = NULL WHERE id = 'turns'`));
    expect(nul.code).toBe('23502');
  });
});
