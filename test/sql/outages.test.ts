/**
 * Outages and the reaper through pg, with a clock the test moves: planned outages refused and
 * accepted, capability scopes, unplanned outages evicting as their window slides, moves inside
 * and beyond the window, resolving and lifting, events, restarts mid-outage, and a burst of
 * 100,000 expiring holds.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number): number => DAY0 + hour * H;
const clock = new ManualClock(at(8));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { clock });
});
afterAll(async () => {
  await srv.close();
});

async function db(name: string): Promise<pg.Client> {
  clock.set(at(8));
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id, capabilities) VALUES ('studio', '{}'), ('cam', '{4k,night}')`);
  await c.query(`UPDATE resources SET parent_id = 'studio' WHERE id = 'cam'`);
  return c;
}

async function ids(c: pg.Client, table = 'bookings'): Promise<string[]> {
  return (await c.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id as string);
}

async function reap(name: string): Promise<number> {
  return srv.server.tenantByName(name)!.reaper.runDue();
}

describe('planned outages', () => {
  it('are refused while entries they cover exist, naming each with its resource, and accepted once cleared', async () => {
    const c = await db('planned');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'cam', $1, $2), ('b2', 'studio', $3, $4)`, [
      at(10),
      at(11),
      at(12),
      at(13),
    ]);
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h1', 'cam', $1, $2, $3)`, [at(14), at(15), at(20)]);
    const err = await pgError(
      c.query(`INSERT INTO outages (id, resource_id, start, "end", reason) VALUES ('repair', 'studio', $1, $2, 'roof')`, [at(9), at(16)]),
    );
    expect(err.code).toBe('23P01');
    expect(JSON.parse(err.detail!).conflicts).toEqual([
      { kind: 'booking', id: 'b2', resource_id: 'studio', start: at(12), end: at(13), label: null, group_id: null },
      { kind: 'booking', id: 'b1', resource_id: 'cam', start: at(10), end: at(11), label: null, group_id: null },
      { kind: 'hold', id: 'h1', resource_id: 'cam', start: at(14), end: at(15), label: null, group_id: null },
    ]);
    await c.query(`DELETE FROM bookings WHERE id IN ('b1', 'b2')`);
    await c.query(`DELETE FROM holds WHERE id = 'h1'`);
    const r = await c.query(
      `INSERT INTO outages (id, resource_id, start, "end", reason) VALUES ('repair', 'studio', $1, $2, 'roof') RETURNING kind, sliding_window`,
      [at(9), at(16)],
    );
    expect(r.rows).toEqual([{ kind: 'planned', sliding_window: null }]);
    // No new entry may overlap it, below the resource either; availability shows it closed.
    expect((await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('cam', $1, $2)`, [at(15), at(17)]))).code).toBe('23P01');
    const free = await c.query(`SELECT start, "end" FROM availability WHERE resource_id = 'cam' AND start >= $1 AND "end" <= $2`, [at(8), at(18)]);
    expect(free.rows.map((x) => [Number(x.start), Number(x.end)])).toEqual([
      [at(8), at(9)],
      [at(16), at(18)],
    ]);
  });

  it('can have its span changed, under the same check', async () => {
    const c = await db('planned_update');
    await c.query(`INSERT INTO outages (id, resource_id, start, "end") VALUES ('o', 'cam', $1, $2)`, [at(9), at(10)]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b', 'cam', $1, $2)`, [at(11), at(12)]);
    expect((await pgError(c.query(`UPDATE outages SET "end" = $1 WHERE id = 'o'`, [at(12)]))).code).toBe('23P01');
    await c.query(`UPDATE outages SET start = $1, "end" = $2 WHERE id = 'o'`, [at(13), at(14)]);
    expect((await c.query(`SELECT start, "end" FROM outages`)).rows).toEqual([{ start: String(at(13)), end: String(at(14)) }]);
  });

  it('refuse a resource moved under them with entries they would cover, and take one whose entries lie clear', async () => {
    const c = await db('planned_move');
    await c.query(`INSERT INTO resources (id) VALUES ('van'), ('truck')`);
    await c.query(`INSERT INTO outages (id, resource_id, start, "end") VALUES ('o', 'studio', $1, $2)`, [at(9), at(12)]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b', 'van', $1, $2), ('later', 'truck', $3, $4)`, [
      at(10),
      at(11),
      at(12),
      at(13),
    ]);
    const err = await pgError(c.query(`UPDATE resources SET parent_id = 'studio' WHERE id = 'van'`));
    expect(err.code).toBe('23P01');
    expect(err.message).toBe(
      `moving resource "van" under "studio" would put booking "b" [${new Date(at(10)).toISOString()}, ${new Date(at(11)).toISOString()}) under a planned outage`,
    );
    expect(JSON.parse(err.detail!).conflicts).toEqual([
      { kind: 'booking', id: 'b', resource_id: 'van', start: at(10), end: at(11), label: null, group_id: null },
    ]);
    expect((await c.query(`SELECT parent_id FROM resources WHERE id = 'van'`)).rows).toEqual([{ parent_id: null }]);
    await c.query(`UPDATE resources SET parent_id = 'studio' WHERE id = 'truck'`);
    expect((await c.query(`SELECT parent_id FROM resources WHERE id = 'truck'`)).rows).toEqual([{ parent_id: 'studio' }]);
  });

  it('scoped to capabilities leave entries that need none of them alone', async () => {
    const c = await db('scoped');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", capabilities) VALUES ('plain', 'cam', $1, $2, '{}'), ('hd', 'cam', $3, $4, '{4k}')`, [
      at(10),
      at(11),
      at(12),
      at(13),
    ]);
    // The night-vision unit is out: only entries requiring night are affected.
    await c.query(`INSERT INTO outages (id, resource_id, start, "end", capabilities) VALUES ('ir', 'cam', $1, $2, '{night}')`, [at(9), at(18)]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", capabilities) VALUES ('more-4k', 'cam', $1, $2, '{4k}')`, [at(14), at(15)]);
    const err = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end", capabilities) VALUES ('cam', $1, $2, '{night}')`, [at(16), at(17)]));
    expect(err.code).toBe('23P01');
    expect(err.message).toContain('out of service');
    const night = await c.query(
      `SELECT start, "end" FROM availability WHERE resource_id = 'cam' AND start >= $1 AND "end" <= $2 AND capabilities = '{night}'`,
      [at(8), at(20)],
    );
    expect(night.rows.map((x) => [Number(x.start), Number(x.end)])).toEqual([
      [at(8), at(9)],
      [at(18), at(20)],
    ]);
  });
});

describe('unplanned outages', () => {
  it('evict what their window covers at once and more as it slides; entries beyond it stay', async () => {
    const c = await db('unplanned');
    const l = await srv.client('unplanned');
    const events: Record<string, unknown>[] = [];
    l.on('notification', (n) => events.push(JSON.parse(n.payload!) as Record<string, unknown>));
    await l.query('LISTEN allot_events');
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('now', 'cam', $1, $2), ('soon', 'studio', $3, $4), ('later', 'cam', $5, $6), ('tomorrow', 'cam', $7, $8)`,
      [at(7), at(9), at(9), at(10), at(11), at(12), at(32), at(33)],
    );
    // Broken at 8:00, window of two hours: 'now' (running) and 'soon' (9-10) go; the rest stays.
    await c.query(`INSERT INTO outages (id, resource_id, kind, start, sliding_window, reason) VALUES ('fire', 'studio', 'unplanned', $1, $2, 'smoke')`, [
      at(8),
      2 * H,
    ]);
    expect(await ids(c)).toEqual(['later', 'tomorrow']);
    // No new entry from the outage's start on, however far ahead.
    expect((await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('cam', $1, $2)`, [at(40), at(41)]))).code).toBe('23P01');
    // At 9:30 the window reaches 11:30: 'later' (11-12) goes.
    clock.set(at(9) + H / 2);
    expect(await reap('unplanned')).toBe(1);
    expect(await ids(c)).toEqual(['tomorrow']);
    // A move into the window is refused; beyond it is allowed.
    expect((await pgError(c.query(`UPDATE bookings SET start = $1, "end" = $2 WHERE id = 'tomorrow'`, [at(10), at(11)]))).code).toBe('23P01');
    await c.query(`UPDATE bookings SET start = $1, "end" = $2 WHERE id = 'tomorrow'`, [at(20), at(21)]);
    // Resolved: fixed at 14:00. The window stops there: nothing after 14:00 is touched.
    await c.query(`UPDATE outages SET "end" = $1 WHERE id = 'fire'`, [at(14)]);
    clock.set(at(13));
    await reap('unplanned');
    expect(await ids(c)).toEqual(['tomorrow']);
    // After the end passes, the reaper ends the outage; booking that time is fine again.
    clock.set(at(14));
    await reap('unplanned');
    expect((await c.query('SELECT count(*) FROM outages')).rows).toEqual([{ count: '0' }]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('fine', 'cam', $1, $2)`, [at(15), at(16)]);
    await l.query('SELECT 1');
    const seen = events.map((e) => [e.type, e.id, e.type === 'OutageEnded' ? e.ended_by : (e.reason ?? null), e.outage_id ?? null]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['OutageStarted', 'fire', 'smoke', null],
        ['BookingCancelled', 'now', 'evicted', 'fire'],
        ['BookingCancelled', 'soon', 'evicted', 'fire'],
        ['BookingCancelled', 'later', 'evicted', 'fire'],
        ['BookingUpdated', 'tomorrow', null, null],
        ['OutageUpdated', 'fire', 'smoke', null],
        ['OutageEnded', 'fire', 'ended', null],
        ['BookingConfirmed', 'fine', null, null],
      ]),
    );
  });

  it('can be lifted, and evict holds too', async () => {
    const c = await db('lifted');
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at, capabilities) VALUES ('cart', 'cam', $1, $2, $3, '{4k}')`, [
      at(8) + H / 2,
      at(9),
      at(12),
    ]);
    await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window, capabilities) VALUES ('lens', 'cam', $1, $2, '{4k}')`, [at(8), H]);
    expect(await ids(c, 'holds')).toEqual([]);
    expect((await c.query(`DELETE FROM outages WHERE id = 'lens'`)).rowCount).toBe(1);
    await c.query(`INSERT INTO bookings (resource_id, start, "end", capabilities) VALUES ('cam', $1, $2, '{4k}')`, [at(9), at(10)]);
  });

  it('take up where they were after a restart: nothing evicted twice, nothing missed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-outage-restart-'));
    const ck = new ManualClock(at(8));
    try {
      const a = await startServer({ dataDir }, { clock: ck });
      const c = await a.client('r');
      await c.query(`INSERT INTO resources (id) VALUES ('room')`);
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b9', 'room', $1, $2), ('b12', 'room', $3, $4), ('b20', 'room', $5, $6)`, [
        at(9),
        at(10),
        at(12),
        at(13),
        at(20),
        at(21),
      ]);
      await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('down', 'room', $1, $2)`, [at(8), 2 * H]);
      expect(await ids(c)).toEqual(['b12', 'b20']);
      await a.close();
      // The server is down while the window slides past 12:00; at 11:00 + 2 h it covers b12.
      ck.set(at(11) + 1);
      const b = await startServer({ dataDir }, { clock: ck });
      const tenant = await b.server.tenant('r');
      await tenant.reaper.runDue();
      const c2 = await b.client('r');
      expect(await ids(c2)).toEqual(['b20']);
      const evictions = (await c2.query('SELECT count(*) FROM outages')).rows;
      expect(evictions).toEqual([{ count: '1' }]);
      await b.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the reaper', () => {
  it('releases 100,000 holds due at once in chunks, never stalling queries for more than a few tens of ms', async () => {
    // A server of its own, without the per-batch invariant checks of test servers: they would
    // be what the stopwatch measures.
    const ck = new ManualClock(at(8));
    const fast = await startServer({}, { clock: ck, checkInvariants: false });
    const c = await fast.client('burst');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('big', 200000)`);
    // Set up straight through the tenant: parsing 100,000 rows of VALUES would take longer than the test.
    const tenant = fast.server.tenantByName('burst')!;
    for (let k = 0; k < 10; k++) {
      await tenant.commit(
        Array.from({ length: 10_000 }, (_, i) => ({
          type: 'PlaceHold' as const,
          hold: {
            id: `h${k}-${i}`,
            resourceId: 'big',
            start: at(30) + k * 10_000 + i,
            end: at(30) + k * 10_000 + i + 1,
            expiresAt: at(9),
            label: null,
            capabilities: [],
            userId: null,
            policyId: null,
          },
        })),
      );
    }
    expect((await c.query('SELECT count(*) FROM holds')).rows).toEqual([{ count: '100000' }]);
    ck.set(at(9));
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const released = await tenant.reaper.runDue();
    h.disable();
    expect(released).toBe(100_000);
    expect((await c.query('SELECT count(*) FROM holds')).rows).toEqual([{ count: '0' }]);
    // The longest the event loop was held up while the reaper worked (a chunk is 1,000 holds).
    expect(h.max / 1e6).toBeLessThan(60);
    await fast.close();
  });

  it('arms its timer for the earliest deadline', async () => {
    const c = await db('timer');
    await c.query(`INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('cam', $1, $2, $3), ('cam', $4, $5, $6)`, [
      at(10),
      at(11),
      at(8) + 5 * H,
      at(12),
      at(13),
      at(8) + 2 * H,
    ]);
    expect(srv.server.tenantByName('timer')!.reaper.nextDeadline()).toBe(at(8) + 2 * H);
    // A planned outage ending at 9:00 comes due first: the reaper ends it then.
    await c.query(`INSERT INTO outages (id, resource_id, start, "end") VALUES ('o', 'studio', $1, $2)`, [at(7), at(8) + H]);
    expect(srv.server.tenantByName('timer')!.reaper.nextDeadline()).toBe(at(8) + H);
  });
});
