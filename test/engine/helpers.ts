import { Engine } from '../../src/engine/engine.js';
import type { Booking, BookingInput, Command, Hold, Policy, PoolRequest, Resource, Rule } from '../../src/engine/types.js';
import { AllotError } from '../../src/errors.js';

export const H = 3_600_000;
export const MIN = 60_000;
/** 2026-03-01T00:00:00Z */
export const T0 = Date.UTC(2026, 2, 1);
/** An instant on the first day, by hour. */
export const at = (hour: number): number => T0 + hour * H;

export function resource(id: string, opts: Partial<Resource> = {}): Command {
  return {
    type: 'CreateResource',
    resource: { id, parentId: null, name: null, capacity: 1, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [], ...opts },
  };
}

export function rule(id: string, resourceId: string, start: number, end: number, opts: Partial<Rule> = {}): Command {
  return { type: 'CreateRule', rule: { id, resourceId, start, end, blocking: false, policyId: null, ...opts } };
}

export function book(id: string, resourceId: string, start: number, end: number, opts: Partial<BookingInput> & { onConflictSkip?: boolean } = {}): Command {
  const { onConflictSkip, ...rest } = opts;
  return { type: 'CreateBooking', booking: { id, resourceId, start, end, ...rest }, ...(onConflictSkip ? { onConflictSkip } : {}) };
}

export function policy(id: string, limits: Partial<Omit<Policy, 'id'>> = {}): Command {
  return {
    type: 'CreatePolicy',
    policy: {
      id,
      name: null,
      minDurationMs: null,
      maxDurationMs: null,
      bookAheadMs: null,
      maxBookings: null,
      maxUsageMs: null,
      startsWithinMs: null,
      allowStartInPastMs: null,
      ...limits,
    },
  };
}

export function fromPool(ids: string[], poolId: string, start: number, end: number, opts: Partial<PoolRequest> = {}): Command {
  return { type: 'BookFromPool', request: { ids, poolId, start, end, capabilities: [], label: null, userId: null, policyId: null, groupId: null, ...opts } };
}

export function hold(id: string, resourceId: string, start: number, end: number, expiresAt: number, opts: Partial<Hold> = {}): Command {
  return {
    type: 'PlaceHold',
    hold: { id, resourceId, start, end, expiresAt, label: null, capabilities: [], userId: null, policyId: null, ...opts },
  };
}

export function newEngine(): Engine {
  return new Engine({ checkInvariants: true });
}

/** Runs commands at `now` and returns the error they raise, or fails if they succeed. */
export function refusal(engine: Engine, cmds: Command[], now = T0): AllotError {
  try {
    engine.execute(cmds, now);
  } catch (e) {
    if (e instanceof AllotError) return e;
    throw e;
  }
  throw new Error(`expected a refusal, but ${JSON.stringify(cmds)} succeeded`);
}

export function conflictIds(err: AllotError): string[] {
  const d = JSON.parse(err.detail ?? '{}') as { conflicts?: { id?: string; kind: string }[] };
  return (d.conflicts ?? []).map((c) => c.id ?? c.kind).sort();
}

export function bookingsOf(engine: Engine): Booking[] {
  return [...engine.store.bookings.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}
