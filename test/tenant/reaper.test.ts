/**
 * The reaper of a tenant in memory, on a clock the test moves: a hold goes when the clock reaches
 * its expiry and not a millisecond before; an unplanned outage's window evicts what it reaches
 * and the outage ends when its end passes; a burst is worked through in chunks of at most
 * 1,000 (REAPER_CHUNK), one logged record each, with other work let in between; its timer
 * fires at the deadline by itself; and once the tenant is closed it does nothing at all.
 * What it did is read as a listener hears it: the events on allot_events.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Command } from '../../src/engine/types.js';
import { createLogger } from '../../src/log.js';
import { ALL_EVENTS_CHANNEL } from '../../src/notify/events.js';
import { Tenant } from '../../src/tenant/tenant.js';
import { at, book, H, hold, MIN, resource } from '../engine/helpers.js';
import { ManualClock } from '../helpers/clock.js';

/** What REAPER_CHUNK (src/tenant/reaper.ts) allows one record. */
const CHUNK = 1_000;

interface Heard {
  readonly type: string;
  readonly id: string;
  readonly lsn: number;
  readonly reason?: string;
  readonly ended_by?: string;
  readonly outage_id?: string;
}

const tenants: Tenant[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(tenants.splice(0).map((t) => t.close()));
});

/** A tenant in memory at 00:00 of the test day, with resource r (capacity 1,000,000), and what it publishes. */
async function tenantWith(commands: readonly Command[] = []): Promise<{ tenant: Tenant; clock: ManualClock; heard: Heard[] }> {
  const clock = new ManualClock(at(0));
  const tenant = Tenant.inMemory({ name: 'reaped', clock, log: createLogger('silent'), checkInvariants: true });
  tenants.push(tenant);
  const heard: Heard[] = [];
  tenant.hub.listen({ deliver: (_channel, payload) => heard.push(JSON.parse(payload) as Heard) }, ALL_EVENTS_CHANNEL);
  await tenant.commit([resource('r', { capacity: 1_000_000 }), ...commands]);
  heard.length = 0;
  return { tenant, clock, heard };
}

function outage(id: string, start: number, windowMs: number, end: number | null = null): Command {
  return {
    type: 'CreateOutage',
    outage: { id, resourceId: 'r', kind: 'unplanned', start, end, slidingWindowMs: windowMs, capabilities: [], reason: null, declaredAt: start },
  };
}

const ids = (hs: readonly Heard[]): string[] => hs.map((h) => h.id).sort();

/** Lets an in-memory tenant finish what a fired timer started (its commits wait on no disk). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('holds', () => {
  it('releases a hold once the clock reaches its expiry, and not a millisecond before', async () => {
    const { tenant, clock, heard } = await tenantWith([hold('h', 'r', at(10), at(11), at(9)), hold('later', 'r', at(12), at(13), at(9) + 1)]);
    const lsn = tenant.lastLsn;
    clock.set(at(9) - 1);
    expect(await tenant.reaper.runDue()).toBe(0);
    expect(heard).toEqual([]);
    expect(tenant.lastLsn).toBe(lsn);
    clock.set(at(9));
    expect(await tenant.reaper.runDue()).toBe(1);
    expect(heard.map((h) => [h.type, h.id, h.reason])).toEqual([['HoldReleased', 'h', 'expired']]);
    expect(tenant.lastLsn).toBe(lsn + 1);
    expect(tenant.engine.capture().holds.map((h) => h.id)).toEqual(['later']);
  });
});

describe('unplanned outages', () => {
  it('evict what the sliding window reaches as the clock moves, nothing beyond it, and end once their end passes', async () => {
    const { tenant, clock, heard } = await tenantWith([
      book('b10', 'r', at(10), at(11)),
      book('b12', 'r', at(12), at(13)),
      hold('h14', 'r', at(14), at(15), at(20)),
      book('b16', 'r', at(16) + 30 * MIN, at(17) + 30 * MIN),
    ]);
    // Down from 08:00, seeing an hour ahead: nothing is within [08:00, 09:00) yet.
    clock.set(at(8));
    await tenant.commit([outage('flood', at(8), H)]);
    expect(heard.map((h) => h.type)).toEqual(['OutageStarted']);
    heard.length = 0;
    // At 09:00 the window is [09:00, 10:00): b10 starts at its end, untouched.
    clock.set(at(9));
    expect(await tenant.reaper.runDue()).toBe(0);
    clock.set(at(9) + 1);
    expect(await tenant.reaper.runDue()).toBe(1);
    expect(heard.map((h) => [h.type, h.id, h.reason, h.outage_id])).toEqual([['BookingCancelled', 'b10', 'evicted', 'flood']]);
    // By 13:30 the window, [13:30, 14:30), has reached b12 and h14 (an outage evicts from its start on).
    clock.set(at(13) + 30 * MIN);
    expect(await tenant.reaper.runDue()).toBe(2);
    expect(ids(heard.slice(1))).toEqual(['b12', 'h14']);
    expect(heard.slice(1).map((h) => [h.type, h.reason])).toEqual(expect.arrayContaining([['HoldReleased', 'evicted']]));
    // Resolved at 16:00: the window stops there, so b16 (from 16:30) stays, and the outage ends at 16:00.
    await tenant.commit([{ type: 'UpdateOutage', id: 'flood', patch: { end: at(16) } }]);
    heard.length = 0;
    clock.set(at(16) - 1);
    expect(await tenant.reaper.runDue()).toBe(0);
    expect(tenant.engine.capture().outages.map((o) => o.id)).toEqual(['flood']);
    clock.set(at(16));
    expect(await tenant.reaper.runDue()).toBe(1);
    expect(heard.map((h) => [h.type, h.id, h.ended_by])).toEqual([['OutageEnded', 'flood', 'ended']]);
    expect(tenant.engine.capture().outages).toEqual([]);
    expect(tenant.engine.capture().bookings.map((b) => b.id)).toEqual(['b16']);
  });
});

describe('a burst', () => {
  /** Runs the reaper to the end, noting after each turn of the event loop how many `left()` says remain. */
  async function runWatching(tenant: Tenant, left: () => number): Promise<{ done: number; seen: number[] }> {
    const seen: number[] = [];
    let running = true;
    const watch = (): void => {
      if (!running) return;
      seen.push(left());
      setImmediate(watch);
    };
    setImmediate(watch);
    const done = await tenant.reaper.runDue();
    running = false;
    return { done, seen };
  }

  /** How many events each record carried, in LSN order. */
  function perRecord(heard: readonly Heard[]): number[] {
    const by = new Map<number, number>();
    for (const h of heard) by.set(h.lsn, (by.get(h.lsn) ?? 0) + 1);
    return [...by.keys()].sort((a, b) => a - b).map((lsn) => by.get(lsn)!);
  }

  it(`releases 2,500 holds due at once in records of at most ${CHUNK}, letting other work run between them`, async () => {
    const holds = Array.from({ length: 2_500 }, (_, i) => hold(`h${i}`, 'r', at(10) + i * MIN, at(10) + (i + 1) * MIN, at(9)));
    const { tenant, clock, heard } = await tenantWith(holds);
    const lsn = tenant.lastLsn;
    clock.set(at(9));
    const { done, seen } = await runWatching(tenant, () => tenant.engine.capture().holds.length);
    expect(done).toBe(2_500);
    expect(perRecord(heard)).toEqual([1_000, 1_000, 500]);
    expect(tenant.lastLsn).toBe(lsn + 3);
    // Between chunks the event loop served other work, which saw the burst part done.
    expect(seen).toEqual(expect.arrayContaining([1_500, 500]));
    expect(tenant.engine.capture().holds).toEqual([]);
  });

  it(`evicts 2,500 entries an outage's window reaches at once in records of at most ${CHUNK}`, async () => {
    const bookings = Array.from({ length: 2_500 }, (_, i) => book(`b${i}`, 'r', at(12) + i * MIN, at(12) + (i + 1) * MIN));
    const { tenant, clock, heard } = await tenantWith(bookings);
    clock.set(at(8));
    await tenant.commit([outage('fire', at(8), H)]);
    heard.length = 0;
    // From 14:00 + 2,500 minutes on, the window [now, now + 1 h) has passed every booking.
    clock.set(at(14) + 2_500 * MIN);
    const { done, seen } = await runWatching(tenant, () => tenant.engine.capture().bookings.length);
    expect(done).toBe(2_500);
    expect(perRecord(heard)).toEqual([1_000, 1_000, 500]);
    expect(seen).toEqual(expect.arrayContaining([1_500, 500]));
    expect(heard.every((h) => h.type === 'BookingCancelled' && h.reason === 'evicted' && h.outage_id === 'fire')).toBe(true);
  });
});

describe('the timer', () => {
  it('runs the reaper by itself when the earliest deadline comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { clock, heard } = await tenantWith([hold('h', 'r', at(10), at(11), at(2))]);
    // The timer was set for 02:00 when the hold was placed at 00:00.
    clock.set(at(2) - 1);
    await vi.advanceTimersByTimeAsync(2 * H - 1);
    await settle();
    expect(heard).toEqual([]);
    clock.set(at(2));
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(heard.map((h) => [h.type, h.id, h.reason])).toEqual([['HoldReleased', 'h', 'expired']]);
  });

  it('does nothing once its tenant is closed: neither a call nor the timer releases anything', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { tenant, clock, heard } = await tenantWith([hold('h', 'r', at(10), at(11), at(2))]);
    const lsn = tenant.lastLsn;
    await tenant.close();
    clock.set(at(3));
    await vi.advanceTimersByTimeAsync(3 * H);
    await settle();
    expect(await tenant.reaper.runDue()).toBe(0);
    expect(heard).toEqual([]);
    expect(tenant.lastLsn).toBe(lsn);
    expect(tenant.engine.capture().holds.map((h) => h.id)).toEqual(['h']);
  });
});
