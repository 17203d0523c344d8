/**
 * A remote laboratory, through pg, as its staff and students would use it: a course policy
 * (book_ahead 2 h, max_bookings 2, 5 to 10 min, max_usage 30 min) and two classes sharing rigs
 * under policy-scoped rules. Every limit is hit and every refusal message checked; changes to a
 * policy apply to new bookings only; policy_usage says what remains; everything survives a
 * restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const MIN = 60_000;
const H = 60 * MIN;
/** Tuesday 2026-03-03, midnight UTC. */
const TUESDAY = Date.parse('2026-03-03T00:00:00Z');
const at = (hour: number, minute = 0): number => TUESDAY + hour * H + minute * MIN;
const clock = new ManualClock(at(8));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { clock });
});
afterAll(async () => {
  await srv.close();
});

/**
 * Two rigs under "lab"; physics (the course policy of the issue) may use rig-1 only on Tuesday
 * mornings 9-12, chemistry (no limits but a 1 h cap) any time either rig is free.
 */
async function lab(name: string): Promise<pg.Client> {
  clock.set(at(8));
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('lab', 0)`);
  await c.query(`INSERT INTO resources (id, parent_id) VALUES ('rig-1', 'lab'), ('rig-2', 'lab')`);
  await c.query(
    `INSERT INTO policies (id, name, min_duration, max_duration, book_ahead, max_bookings, max_usage)
     VALUES ('physics', 'Physics 101', 5 * 60000, 10 * 60000, 2 * 3600000, 2, 30 * 60000),
            ('chem', 'Chemistry 2', NULL, 3600000, NULL, NULL, NULL)`,
  );
  await c.query(`INSERT INTO rules (id, resource_id, start, "end", policy_id) VALUES ('physics-tuesday', 'rig-1', $1, $2, 'physics')`, [at(9), at(12)]);
  return c;
}

function book(c: pg.Client, user: string, policy: string, resource: string, start: number, minutes: number, id?: string): Promise<pg.QueryResult> {
  return c.query(
    `INSERT INTO bookings (id, resource_id, start, "end", user_id, policy_id) VALUES (COALESCE($1, 'b-' || $2 || '-' || $3), $4, $5, $6, $2, $7) RETURNING id`,
    [id ?? null, user, String(start), resource, start, start + minutes * MIN, policy],
  );
}

async function usage(c: pg.Client, user: string, policy = 'physics'): Promise<Record<string, unknown>> {
  const r = await c.query(`SELECT bookings, usage_ms, remaining_bookings, remaining_usage_ms FROM policy_usage WHERE user_id = $1 AND policy_id = $2`, [
    user,
    policy,
  ]);
  expect(r.rows).toHaveLength(1);
  return Object.fromEntries(Object.entries(r.rows[0] as Record<string, string | null>).map(([k, v]) => [k, v === null ? null : Number(v)]));
}

describe('a course policy', () => {
  it('refuses each limit by name and by how much, and changes nothing', async () => {
    const c = await lab('limits');
    let err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(9), 4));
    expect(err.code).toBe('23P01');
    expect(err.message).toBe(
      `booking "b-ann-${at(9)}" [2026-03-03T09:00:00.000Z, 2026-03-03T09:04:00.000Z) does not fit on resource "rig-2": it breaks policy "physics": shorter than min_duration: 4 min long, at least 5 min required (1 min short)`,
    );
    expect(JSON.parse(err.detail!)).toEqual({
      conflicts: [{ kind: 'policy', policy_id: 'physics', limit: 'min_duration', allowed: 5 * MIN, requested: 4 * MIN }],
      // Moving it would not change its length: no offers.
      offers: [],
    });

    err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(9), 11));
    expect(err.message).toContain('it breaks policy "physics": longer than max_duration: 11 min long, at most 10 min allowed (1 min over)');

    // Two hours ahead at most: 10:00 is fine at 08:00, 10:30 is not.
    err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(10, 30), 10));
    expect(err.message).toContain('it breaks policy "physics": too far ahead for book_ahead: starts in 2 h 30 min, at most 2 h allowed (30 min too far)');
    expect(JSON.parse(err.detail!).conflicts).toEqual([{ kind: 'policy', policy_id: 'physics', limit: 'book_ahead', allowed: 2 * H, requested: 2.5 * H }]);
    // The nearest start the policy allows is 10:00.
    expect(JSON.parse(err.detail!).offers[0]).toEqual({ resource_id: 'rig-2', start: at(10), end: at(10, 10) });

    // A booking can break several limits at once; all are named.
    err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(11), 20));
    expect(JSON.parse(err.detail!).conflicts.map((x: { limit: string }) => x.limit)).toEqual(['max_duration', 'book_ahead']);

    await book(c, 'ann', 'physics', 'rig-2', at(9), 10);
    await book(c, 'ann', 'physics', 'rig-2', at(9, 30), 10);
    err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(9, 45), 5));
    expect(err.message).toContain('it breaks policy "physics": over max_bookings: 3 bookings with this one, at most 2 allowed');
    expect(JSON.parse(err.detail!).conflicts).toEqual([{ kind: 'policy', policy_id: 'physics', limit: 'max_bookings', allowed: 2, requested: 3 }]);
    expect((await c.query(`SELECT count(*) FROM bookings`)).rows[0].count).toBe('2');
    expect(await usage(c, 'ann')).toEqual({ bookings: 2, usage_ms: 20 * MIN, remaining_bookings: 0, remaining_usage_ms: 10 * MIN });

    // Quotas are per user: bob starts from nothing under the same policy.
    await book(c, 'bob', 'physics', 'rig-2', at(9, 45), 10);
    expect(await usage(c, 'bob')).toEqual({ bookings: 1, usage_ms: 10 * MIN, remaining_bookings: 1, remaining_usage_ms: 20 * MIN });
  });

  it('caps total usage once more bookings are allowed: a changed policy applies to new bookings only', async () => {
    const c = await lab('usage');
    await book(c, 'ann', 'physics', 'rig-2', at(9), 10);
    await book(c, 'ann', 'physics', 'rig-2', at(9, 15), 10);
    await c.query(`UPDATE policies SET max_bookings = 5 WHERE id = 'physics'`);
    await book(c, 'ann', 'physics', 'rig-2', at(9, 30), 10);
    const err = await pgError(book(c, 'ann', 'physics', 'rig-2', at(9, 45), 10));
    expect(err.message).toContain('it breaks policy "physics": over max_usage: 40 min booked with this one, at most 30 min allowed (10 min over)');
    expect(await usage(c, 'ann')).toEqual({ bookings: 3, usage_ms: 30 * MIN, remaining_bookings: 2, remaining_usage_ms: 0 });

    // Tightening max_duration leaves the 10-minute bookings where they are, and they can still be
    // renamed or moved without changing their length; a new 10-minute booking is refused.
    await c.query(`UPDATE policies SET max_duration = 5 * 60000, max_usage = NULL WHERE id = 'physics'`);
    expect((await c.query(`SELECT count(*) FROM bookings WHERE user_id = 'ann'`)).rows[0].count).toBe('3');
    await c.query(`UPDATE bookings SET label = 'calibration' WHERE id = $1`, [`b-ann-${at(9)}`]);
    await c.query(`UPDATE bookings SET start = $1, "end" = $2 WHERE id = $3`, [at(9, 50), at(10), `b-ann-${at(9)}`]);
    expect((await pgError(book(c, 'bob', 'physics', 'rig-2', at(10, 30), 10))).message).toContain(
      'longer than max_duration: 10 min long, at most 5 min allowed (5 min over)',
    );
    // Lengthening one is judged by the new limit.
    expect((await pgError(c.query(`UPDATE bookings SET "end" = $1 WHERE id = $2`, [at(9, 26), `b-ann-${at(9, 15)}`]))).message).toContain(
      'longer than max_duration: 11 min long',
    );
  });

  it('counts only bookings not yet over, and live holds; a hold made a booking is counted once', async () => {
    const c = await lab('over');
    await book(c, 'ann', 'physics', 'rig-2', at(8, 10), 10);
    await book(c, 'ann', 'physics', 'rig-2', at(8, 30), 10);
    expect((await pgError(book(c, 'ann', 'physics', 'rig-2', at(9), 10))).message).toContain('over max_bookings');
    clock.set(at(8, 20));
    await book(c, 'ann', 'physics', 'rig-2', at(9), 10);
    expect(await usage(c, 'ann')).toEqual({ bookings: 2, usage_ms: 20 * MIN, remaining_bookings: 0, remaining_usage_ms: 10 * MIN });

    // A hold under the policy counts while it lives.
    clock.set(at(8, 45));
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at, user_id, policy_id) VALUES ('h', 'rig-2', $1, $2, $3, 'ann', 'physics')`, [
      at(10),
      at(10, 10),
      at(8, 50),
    ]);
    expect(await usage(c, 'ann')).toEqual({ bookings: 2, usage_ms: 20 * MIN, remaining_bookings: 0, remaining_usage_ms: 10 * MIN });
    expect((await pgError(book(c, 'ann', 'physics', 'rig-2', at(10, 30), 5))).message).toContain(
      'over max_bookings: 3 bookings with this one, at most 2 allowed',
    );
    // Confirmed, it takes the hold's place in the count rather than adding to it.
    await c.query(`INSERT INTO bookings (id, hold_id) VALUES ('from-hold', 'h')`);
    expect(await usage(c, 'ann')).toEqual({ bookings: 2, usage_ms: 20 * MIN, remaining_bookings: 0, remaining_usage_ms: 10 * MIN });
    await c.query(`DELETE FROM bookings WHERE id = 'from-hold'`);
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at, user_id, policy_id) VALUES ('h2', 'rig-2', $1, $2, $3, 'ann', 'physics')`, [
      at(10),
      at(10, 10),
      at(8, 50),
    ]);
    // Expired, even before the reaper runs, it no longer counts.
    clock.set(at(8, 50));
    expect(await usage(c, 'ann')).toEqual({ bookings: 1, usage_ms: 10 * MIN, remaining_bookings: 1, remaining_usage_ms: 20 * MIN });
  });

  it('bounds instant use: starts_within, and allow_start_in_past for bookings made a little late', async () => {
    const c = await lab('instant');
    await c.query(`INSERT INTO policies (id, starts_within, allow_start_in_past) VALUES ('walk-in', 15 * 60000, 5 * 60000)`);
    expect((await pgError(book(c, 'ann', 'walk-in', 'rig-2', at(8, 20), 30))).message).toContain(
      'it breaks policy "walk-in": too late for starts_within: starts in 20 min, must start within 15 min (5 min too late)',
    );
    expect((await pgError(book(c, 'ann', 'walk-in', 'rig-2', at(7, 50), 30))).message).toContain(
      'it breaks policy "walk-in": starts too far in the past for allow_start_in_past: 10 min ago, at most 5 min allowed (5 min too early)',
    );
    await book(c, 'ann', 'walk-in', 'rig-2', at(7, 55), 30);
    await book(c, 'bob', 'walk-in', 'rig-1', at(8, 15), 30);
  });
});

describe('two classes sharing rigs', () => {
  it('restricts physics to its rule on rig-1 while chemistry books any free time', async () => {
    const c = await lab('classes');
    const err = await pgError(book(c, 'ann', 'physics', 'rig-1', at(8, 30), 10));
    expect(err.code).toBe('23P01');
    expect(err.message).toContain('does not fit on resource "rig-1": the time is not open');
    expect(JSON.parse(err.detail!).conflicts).toEqual([{ kind: 'closed', resource_id: 'rig-1', start: at(8, 30), end: at(8, 40) }]);
    // Chemistry's bookings are not under the physics rule: rig-1 is open to them at 08:30.
    await book(c, 'carol', 'chem', 'rig-1', at(8, 30), 60);
    // Inside the rule, physics books; the rigs' capacity is shared by both classes.
    await book(c, 'ann', 'physics', 'rig-1', at(9, 30), 10);
    const taken = await pgError(book(c, 'carol', 'chem', 'rig-1', at(9, 30), 30));
    expect(JSON.parse(taken.detail!).conflicts).toEqual([
      { kind: 'booking', id: `b-ann-${at(9, 30)}`, resource_id: 'rig-1', start: at(9, 30), end: at(9, 40), label: null, group_id: null },
    ]);
    expect((await pgError(book(c, 'carol', 'chem', 'rig-2', at(12), 61))).message).toContain(
      'policy "chem": longer than max_duration: 1 h 1 min long, at most 1 h allowed (1 min over)',
    );
    // Availability under a policy shows what that class may book.
    const free = async (policy: string): Promise<number[][]> =>
      (
        await c.query(`SELECT start, "end" FROM availability WHERE resource_id = 'rig-1' AND policy_id = $1 AND start >= $2 AND "end" <= $3`, [
          policy,
          at(8),
          at(13),
        ])
      ).rows.map((r) => [Number(r.start), Number(r.end)]);
    // Physics: only inside its rule, and after carol's and ann's bookings.
    expect(await free('physics')).toEqual([[at(9, 40), at(12)]]);
    expect(await free('chem')).toEqual([
      [at(8), at(8, 30)],
      [at(9, 40), at(13)],
    ]);
  });

  it('knows policies by reference: unknown ones refused, and one still named cannot be deleted', async () => {
    const c = await lab('references');
    let err = await pgError(book(c, 'ann', 'biology', 'rig-2', at(9), 10));
    expect(err.code).toBe('23503');
    expect(err.message).toContain('policy "biology" does not exist');
    err = await pgError(c.query(`INSERT INTO rules (resource_id, start, "end", policy_id) VALUES ('rig-2', $1, $2, 'biology')`, [at(9), at(10)]));
    expect(err.code).toBe('23503');
    err = await pgError(c.query(`INSERT INTO policies (id) VALUES ('physics')`));
    expect(err.code).toBe('23505');
    err = await pgError(c.query(`INSERT INTO policies (id, min_duration, max_duration) VALUES ('odd', 600000, 300000)`));
    expect(err.code).toBe('22023');
    expect(err.message).toBe('policy "odd": min_duration (600000) is more than max_duration (300000)');
    err = await pgError(c.query(`INSERT INTO policies (id, max_bookings) VALUES ('neg', -1)`));
    expect(err.code).toBe('22023');
    expect((await c.query(`SELECT id FROM policies ORDER BY id`)).rows.map((r) => r.id)).toEqual(['chem', 'physics']);

    await book(c, 'ann', 'physics', 'rig-2', at(9), 10, 'mine');
    err = await pgError(c.query(`DELETE FROM policies WHERE id = 'physics'`));
    expect(err.code).toBe('23503');
    expect(err.message).toContain('policy "physics" is still named by ');
    expect(
      JSON.parse(err.detail!)
        .conflicts.map((x: { id: string }) => x.id)
        .sort(),
    ).toEqual(['mine', 'physics-tuesday']);
    await c.query(`DELETE FROM bookings WHERE id = 'mine'`);
    await c.query(`DELETE FROM rules WHERE id = 'physics-tuesday'`);
    expect((await c.query(`DELETE FROM policies WHERE id = 'physics' RETURNING name`)).rows).toEqual([{ name: 'Physics 101' }]);
    expect((await c.query(`UPDATE policies SET max_bookings = 1 WHERE id = 'physics'`)).rowCount).toBe(0);
  });

  it('lists usage per user and policy: zeros for the asked, only the active without a user', async () => {
    const c = await lab('usage_view');
    await book(c, 'ann', 'physics', 'rig-2', at(9), 10);
    await book(c, 'carol', 'chem', 'rig-1', at(13), 45);
    const all = await c.query(`SELECT user_id, policy_id, bookings, usage_ms FROM policy_usage ORDER BY user_id`);
    expect(all.rows).toEqual([
      { user_id: 'ann', policy_id: 'physics', bookings: '1', usage_ms: String(10 * MIN) },
      { user_id: 'carol', policy_id: 'chem', bookings: '1', usage_ms: String(45 * MIN) },
    ]);
    const ann = await c.query(`SELECT policy_id, bookings, remaining_bookings, remaining_usage_ms FROM policy_usage WHERE user_id = 'ann' ORDER BY policy_id`);
    expect(ann.rows).toEqual([
      { policy_id: 'chem', bookings: '0', remaining_bookings: null, remaining_usage_ms: null },
      { policy_id: 'physics', bookings: '1', remaining_bookings: '1', remaining_usage_ms: String(20 * MIN) },
    ]);
    const some = await c.query(`SELECT user_id FROM policy_usage WHERE user_id IN ('ann', 'dave') AND policy_id = 'physics' AND bookings = 0`);
    expect(some.rows).toEqual([{ user_id: 'dave' }]);
    expect((await pgError(c.query(`DELETE FROM policy_usage`))).code).toBe('0A000');
  });

  it('announces policy changes on allot_events', async () => {
    const c = await lab('events');
    const l = await srv.client('events');
    const events: Record<string, unknown>[] = [];
    l.on('notification', (n) => events.push(JSON.parse(n.payload!) as Record<string, unknown>));
    await l.query('LISTEN allot_events');
    await c.query(`UPDATE policies SET max_bookings = 3 WHERE id = 'physics'`);
    await c.query(`INSERT INTO policies (id, name) VALUES ('bio', 'Biology')`);
    await c.query(`DELETE FROM policies WHERE id = 'bio'`);
    await c.query(`SELECT 1`);
    await l.query('SELECT 1');
    expect(events.map((e) => [e.type, e.id, e.max_bookings])).toEqual([
      ['PolicyUpdated', 'physics', 3],
      ['PolicyCreated', 'bio', null],
      ['PolicyDeleted', 'bio', null],
    ]);
  });
});

describe('durability', () => {
  it('keeps policies, scoped rules and usage across a restart and a checkpoint', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-policies-'));
    const s1 = await startServer({ dataDir }, { clock });
    clock.set(at(8));
    const c = await s1.client('lab');
    await c.query(`INSERT INTO resources (id) VALUES ('rig')`);
    await c.query(`INSERT INTO policies (id, max_bookings, max_usage) VALUES ('p', 1, 600000)`);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", policy_id) VALUES ('r', 'rig', $1, $2, 'p')`, [at(9), at(12)]);
    await book(c, 'ann', 'p', 'rig', at(9), 10);
    await s1.server.tenantByName('lab')!.checkpoint();
    await c.query(`UPDATE policies SET max_usage = 1200000 WHERE id = 'p'`);
    const before = (await c.query(`SELECT * FROM policies`)).rows;
    await s1.close();

    const s2 = await startServer({ dataDir }, { clock });
    try {
      const c2 = await s2.client('lab');
      expect((await c2.query(`SELECT * FROM policies`)).rows).toEqual(before);
      expect(await usage(c2, 'ann', 'p')).toEqual({ bookings: 1, usage_ms: 10 * MIN, remaining_bookings: 0, remaining_usage_ms: 10 * MIN });
      expect((await pgError(book(c2, 'ann', 'p', 'rig', at(10), 10))).message).toContain('over max_bookings');
      expect((await pgError(book(c2, 'bob', 'p', 'rig', at(8), 10))).message).toContain('the time is not open');
    } finally {
      await s2.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
