/**
 * The typed client against a real server: every kind of entity, refusals with their conflicts,
 * pools, availability, policy usage, transactions (with a 40001 retry), and a LISTEN
 * subscription that survives a server restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllotClient, AllotClientError, type AllotEvent } from '../../src/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const DAY = Date.parse('2099-03-02T00:00:00Z');
const at = (hour: number): number => DAY + hour * H;

let srv: TestServer;
const clients: AllotClient[] = [];
beforeAll(async () => {
  // The server's default (instants as timestamptz): the client asks for milliseconds itself.
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.close();
});

function client(database: string): AllotClient {
  const c = new AllotClient(srv.url(database));
  clients.push(c);
  return c;
}

async function refusal(p: Promise<unknown>): Promise<AllotClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AllotClientError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('AllotClient', () => {
  it('creates, reads, updates and deletes resources and rules, with times as ms', async () => {
    const allot = client('crud');
    const site = await allot.resources.create({ id: 'site', capacity: 0 });
    expect(site).toEqual({
      id: 'site',
      parentId: null,
      name: null,
      capacity: 0,
      bufferBeforeMs: 0,
      bufferAfterMs: 0,
      capabilities: [],
      status: 'online',
      statusReason: null,
      poolStrategy: 'id_order',
      poolCursor: null,
    });
    const room = await allot.resources.create({ parentId: 'site', name: 'Room', bufferAfterMs: 900_000, capabilities: ['video'] });
    expect(room.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(await allot.resources.list({ parentId: 'site' })).toEqual([room]);
    expect(await allot.resources.update(room.id, { capacity: 2 })).toMatchObject({ capacity: 2, bufferAfterMs: 900_000 });
    expect(await allot.resources.update('nope', { capacity: 2 })).toBeNull();
    expect(await allot.resources.get('nope')).toBeNull();

    const rule = await allot.rules.create({ id: 'open', resourceId: room.id, start: new Date(at(9)), end: '2099-03-02T17:00:00Z' });
    expect(rule).toEqual({ id: 'open', resourceId: room.id, start: at(9), end: at(17), blocking: false, policyId: null });
    expect(await allot.rules.update('open', { end: at(18) })).toMatchObject({ end: at(18) });
    expect(await allot.rules.list(room.id)).toHaveLength(1);
    expect(await allot.rules.delete('open')).toBe(true);
    expect(await allot.rules.delete('open')).toBe(false);

    const err = await refusal(allot.resources.delete('site'));
    expect(err.code).toBe('23503');
    expect(await allot.resources.delete(room.id)).toBe(true);
  });

  it('books, refuses with the conflicts named, moves, and cancels', async () => {
    const allot = client('bookings');
    await allot.resources.create({ id: 'room' });
    const b = await allot.bookings.create({ id: 'b1', resourceId: 'room', start: at(9), end: at(10), label: 'standup', userId: 'ann' });
    expect(b).toEqual({
      id: 'b1',
      resourceId: 'room',
      start: at(9),
      end: at(10),
      label: 'standup',
      capabilities: [],
      userId: 'ann',
      policyId: null,
      groupId: null,
    });
    const err = await refusal(allot.bookings.create({ resourceId: 'room', start: at(9) + H / 2, end: at(11) }));
    expect(err.code).toBe('23P01');
    expect(err.conflicts).toEqual([{ kind: 'booking', id: 'b1', resource_id: 'room', start: at(9), end: at(10), label: 'standup', group_id: null }]);
    expect(err.message).toContain('capacity 1 is taken by booking "b1"');

    const many = await allot.bookings.createMany(
      [
        { id: 'b2', resourceId: 'room', start: at(10), end: at(11) },
        { resourceId: 'room', start: at(10) + H / 2, end: at(12) },
        { resourceId: 'room', start: at(12), end: at(13), groupId: 'g' },
      ],
      { skipConflicts: true },
    );
    expect(many.map((x) => [x.start, x.end])).toEqual([
      [at(10), at(11)],
      [at(12), at(13)],
    ]);
    expect(
      (
        await refusal(
          allot.bookings.createMany([
            { id: 'b9', resourceId: 'room', start: at(14), end: at(15) },
            { id: 'b9', resourceId: 'room', start: at(16), end: at(17) },
          ]),
        )
      ).code,
    ).toBe('23505');

    expect(await allot.bookings.update('b2', { start: at(14), end: at(15) })).toMatchObject({ start: at(14), end: at(15) });
    expect(await allot.bookings.update('nope', { label: 'x' })).toBeNull();
    expect(await allot.bookings.updateGroup('g', { end: at(13) + H / 2 })).toHaveLength(1);
    expect((await allot.bookings.list({ resourceId: 'room', from: at(12), to: at(16) })).map((x) => x.id)).toEqual([many[1]!.id, 'b2']);
    expect(await allot.bookings.list({ groupId: 'g' })).toHaveLength(1);
    expect(await allot.bookings.cancelGroup('g')).toBe(1);
    expect(await allot.bookings.cancel('b2')).toBe(true);
    expect(await allot.bookings.get('b2')).toBeNull();
  });

  it('places holds and confirms them, declares outages, and keeps policies', async () => {
    const allot = client('more');
    await allot.resources.create({ id: 'rig', capabilities: ['laser'] });
    const h = await allot.holds.place({ id: 'h', resourceId: 'rig', start: at(9), end: at(10), expiresAt: Date.now() + 60_000, capabilities: ['laser'] });
    expect(h).toMatchObject({ id: 'h', capabilities: ['laser'] });
    expect(await allot.holds.list('rig')).toEqual([h]);
    const booked = await allot.bookings.confirmHold('h', { id: 'from-hold', label: 'confirmed' });
    expect(booked).toMatchObject({ id: 'from-hold', resourceId: 'rig', start: at(9), end: at(10), label: 'confirmed', capabilities: ['laser'] });
    expect(await allot.holds.get('h')).toBeNull();
    await allot.holds.place({ id: 'h2', resourceId: 'rig', start: at(11), end: at(12), expiresAt: Date.now() + 60_000 });
    expect(await allot.holds.release('h2')).toBe(true);

    const o = await allot.outages.declare({ id: 'service', resourceId: 'rig', start: at(13), end: at(14), reason: 'service' });
    expect(o).toMatchObject({ kind: 'planned', start: at(13), end: at(14), slidingWindowMs: null });
    expect((await refusal(allot.bookings.create({ resourceId: 'rig', start: at(13), end: at(15) }))).conflicts[0]).toMatchObject({
      kind: 'outage',
      id: 'service',
    });
    const leak = await allot.outages.declare({ resourceId: 'rig', start: at(20), slidingWindowMs: 60_000 });
    expect(leak).toMatchObject({ kind: 'unplanned', end: null, slidingWindowMs: 60_000 });
    expect(await allot.outages.resolve(leak.id, at(21))).toMatchObject({ end: at(21) });
    expect(await allot.outages.list('rig')).toHaveLength(2);
    expect(await allot.outages.lift('service')).toBe(true);

    const p = await allot.policies.create({ id: 'lab', maxDurationMs: H, maxBookings: 1 });
    expect(p).toEqual({
      id: 'lab',
      name: null,
      minDurationMs: null,
      maxDurationMs: H,
      bookAheadMs: null,
      maxBookings: 1,
      maxUsageMs: null,
      startsWithinMs: null,
      allowStartInPastMs: null,
    });
    await allot.bookings.create({ resourceId: 'rig', start: at(15), end: at(16), userId: 'ann', policyId: 'lab' });
    const over = await refusal(allot.bookings.create({ resourceId: 'rig', start: at(16), end: at(18), userId: 'ann', policyId: 'lab' }));
    expect(over.conflicts.map((c) => (c.kind === 'policy' ? c.limit : c.kind))).toEqual(['max_duration', 'max_bookings']);
    expect(await allot.policies.usage('ann', 'lab')).toEqual([
      { userId: 'ann', policyId: 'lab', bookings: 1, usageMs: H, remainingBookings: 0, remainingUsageMs: null },
    ]);
    expect(await allot.policies.update('lab', { maxBookings: 3 })).toMatchObject({ maxBookings: 3 });
    expect(await allot.policies.list()).toHaveLength(1);
  });

  it('books from pools and answers availability in each form', async () => {
    const allot = client('pools');
    await allot.resources.create({ id: 'crew', capacity: 0 });
    for (const [id, caps] of [
      ['ava', ['director']],
      ['ben', ['camera']],
      ['cat', ['camera']],
    ] as const) {
      await allot.resources.create({ id, parentId: 'crew', capabilities: [...caps] });
    }
    const got = await allot.bookings.fromPool({ poolId: 'crew', start: at(9), end: at(17), capabilities: ['camera'], quantity: 2, groupId: 'shoot' });
    expect(got.map((b) => b.resourceId)).toEqual(['ben', 'cat']);
    const short = await refusal(allot.bookings.fromPool({ poolId: 'crew', start: at(10), end: at(11), capabilities: ['camera'] }));
    expect(short.conflicts).toEqual([{ kind: 'pool', pool_id: 'crew', wanted: 1, free: 0, candidates: 2 }]);

    expect(await allot.availability({ resourceId: 'ava', start: at(8), end: at(18) })).toEqual([{ resourceId: 'ava', start: at(8), end: at(18), free: 1 }]);
    expect(await allot.availability({ resourceIds: ['ben', 'cat'], start: at(8), end: at(18), minAvailable: 2 })).toEqual([
      { resourceId: null, start: at(8), end: at(9), free: 2 },
      { resourceId: null, start: at(17), end: at(18), free: 2 },
    ]);
    expect(
      (await allot.availability({ poolId: 'crew', capabilities: ['camera'], start: at(8), end: at(18), minDurationMs: 2 * H })).map((f) => f.resourceId),
    ).toEqual([]);
    expect((await allot.availability({ poolId: 'crew', capabilities: ['director'], start: at(8), end: at(18) })).map((f) => f.resourceId)).toEqual(['ava']);
  });

  it('runs transactions: committed, rolled back on a throw, and retried when COMMIT says 40001', async () => {
    const allot = client('tx');
    await allot.resources.create({ id: 'room' });
    const made = await allot.transaction(async (tx) => {
      await tx.bookings.create({ id: 't1', resourceId: 'room', start: at(9), end: at(10) });
      return tx.bookings.create({ id: 't2', resourceId: 'room', start: at(10), end: at(11) });
    });
    expect(made.id).toBe('t2');
    await expect(
      allot.transaction(async (tx) => {
        await tx.bookings.create({ id: 't3', resourceId: 'room', start: at(12), end: at(13) });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await allot.bookings.get('t3')).toBeNull();

    // Another session takes the slot between the block's write and its COMMIT, once: the first
    // attempt fails at COMMIT with 40001, the retry sees the slot taken and books the next one.
    const other = client('tx');
    let attempts = 0;
    const final = await allot.transaction(async (tx) => {
      attempts++;
      const taken = (await tx.bookings.list({ resourceId: 'room', from: at(14), to: at(15) })).length > 0;
      const b = await tx.bookings.create({ resourceId: 'room', start: taken ? at(15) : at(14), end: taken ? at(16) : at(15), label: `attempt ${attempts}` });
      if (attempts === 1) await other.bookings.create({ id: 'rival', resourceId: 'room', start: at(14), end: at(15) });
      return b;
    });
    expect(attempts).toBe(2);
    expect(final).toMatchObject({ start: at(15), label: 'attempt 2' });
  });
});

describe('subscriptions', () => {
  it('deliver typed events, and listen again by themselves after the server restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-client-sub-'));
    let a = await startServer({ dataDir, times: 'timestamptz' });
    const port = a.port;
    const url = a.url('live');
    const allot = new AllotClient(url);
    try {
      await allot.resources.create({ id: 'room' });
      const events: AllotEvent[] = [];
      let reconnects = 0;
      const errors: Error[] = [];
      const sub = allot.subscribe({ resourceId: 'room' }, (e) => events.push(e), {
        onReconnect: () => reconnects++,
        onError: (e) => errors.push(e),
        maxBackoffMs: 200,
      });
      await sub.ready;
      await allot.bookings.create({ id: 'before', resourceId: 'room', start: at(9), end: at(10) });
      const until = async (cond: () => boolean): Promise<void> => {
        const t0 = Date.now();
        while (!cond()) {
          if (Date.now() - t0 > 10_000) throw new Error('timed out');
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await until(() => events.length === 1);
      expect(events[0]).toMatchObject({ type: 'BookingConfirmed', id: 'before', resource_id: 'room', start: at(9), end: at(10) });
      expect(typeof events[0]!.lsn).toBe('number');

      await a.close();
      a = await startServer({ dataDir, port });
      await until(() => reconnects === 1);
      expect(errors.length).toBeGreaterThan(0);
      // The pool drops its dead connections and opens new ones.
      await allot.bookings
        .create({ id: 'after', resourceId: 'room', start: at(11), end: at(12) })
        .catch(() => allot.bookings.create({ id: 'after', resourceId: 'room', start: at(11), end: at(12) }));
      await until(() => events.length === 2);
      expect(events[1]).toMatchObject({ type: 'BookingConfirmed', id: 'after' });
      await sub.close();
    } finally {
      await allot.close();
      await a.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
