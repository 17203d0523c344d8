/**
 * Policies (docs/sql.md, "policies"): the limits a booking or hold made under a policy must
 * keep. Duration and timing limits need only the entry; quotas count the user's live and
 * future entries under the same policy.
 */
import { isHold, type Entry, type Store } from './state.js';
import type { Conflict, Ms, Policy } from './types.js';

type Limit = Extract<Conflict, { kind: 'policy' }>['limit'];

function breach(p: Policy, limit: Limit, allowed: number, requested: number): Conflict {
  return { kind: 'policy', policy_id: p.id, limit, allowed, requested };
}

/** What a policy looks at in an entry. */
export interface PolicySubject {
  readonly userId: string | null;
  readonly policyId: string | null;
  readonly start: Ms;
  readonly end: Ms;
}

/**
 * Every limit of `p` that `quantity` entries like `e` would break, were they placed now. `e`
 * itself must not be in the store (a moved booking is taken out first; a converted hold is gone
 * already).
 *
 * With `before` (the booking being moved, or the hold being made a booking) only what the change
 * touches is judged again, so a policy tightened later never locks an existing booking: timing
 * limits when the start moves, duration limits when the length changes, quotas when the usage
 * grows. A change of user or policy is judged as new, and so are the quotas of a booking
 * brought back from the past.
 */
export function policyConflicts(store: Store, p: Policy, e: PolicySubject, now: Ms, quantity = 1, before?: PolicySubject): Conflict[] {
  const same = before !== undefined && before.userId === e.userId && before.policyId === e.policyId;
  const length = e.end - e.start;
  const timing = !same || before.start !== e.start;
  const sizing = !same || before.end - before.start !== length;
  // A booking already over no longer counted against the quotas: moved back, it counts anew.
  const counted = same && before.end > now;
  const growing = !counted || before.end - before.start < length;
  const out: Conflict[] = [];
  if (sizing && p.minDurationMs !== null && length < p.minDurationMs) out.push(breach(p, 'min_duration', p.minDurationMs, length));
  if (sizing && p.maxDurationMs !== null && length > p.maxDurationMs) out.push(breach(p, 'max_duration', p.maxDurationMs, length));
  const ahead = e.start - now;
  if (timing && p.bookAheadMs !== null && ahead > p.bookAheadMs) out.push(breach(p, 'book_ahead', p.bookAheadMs, ahead));
  if (timing && p.startsWithinMs !== null && ahead > p.startsWithinMs) out.push(breach(p, 'starts_within', p.startsWithinMs, ahead));
  if (timing && p.allowStartInPastMs !== null && -ahead > p.allowStartInPastMs) out.push(breach(p, 'allow_start_in_past', p.allowStartInPastMs, -ahead));
  if (growing && e.userId !== null && (p.maxBookings !== null || p.maxUsageMs !== null)) {
    const { count, usageMs } = usage(store, e.userId, p.id, now);
    // A move keeps the count; only a new entry (or a new owner) adds one.
    if (!counted && p.maxBookings !== null && count + quantity > p.maxBookings) out.push(breach(p, 'max_bookings', p.maxBookings, count + quantity));
    if (p.maxUsageMs !== null && usageMs + quantity * length > p.maxUsageMs) out.push(breach(p, 'max_usage', p.maxUsageMs, usageMs + quantity * length));
  }
  return out;
}

/**
 * Quotas judged on the store as it stands, once every member of a moved group is in its new
 * place: checked one by one, a member only sees the members moved before it.
 */
export function quotaConflicts(store: Store, p: Policy, userId: string, now: Ms, countsNew: boolean): Conflict[] {
  const out: Conflict[] = [];
  const { count, usageMs } = usage(store, userId, p.id, now);
  if (countsNew && p.maxBookings !== null && count > p.maxBookings) out.push(breach(p, 'max_bookings', p.maxBookings, count));
  if (p.maxUsageMs !== null && usageMs > p.maxUsageMs) out.push(breach(p, 'max_usage', p.maxUsageMs, usageMs));
  return out;
}

/** A user's live and future bookings and holds under a policy: how many, and their total length. */
export function usage(store: Store, userId: string, policyId: string, now: Ms): { count: number; usageMs: Ms } {
  const set = store.byUserPolicy.get(`${userId}\0${policyId}`);
  let count = 0;
  let usageMs = 0;
  if (set !== undefined) {
    for (const x of set) {
      if (!countsAt(x, now)) continue;
      count++;
      usageMs += x.end - x.start;
    }
  }
  return { count, usageMs };
}

/** An entry counts against quotas while it is live and not yet over. */
function countsAt(e: Entry, now: Ms): boolean {
  return e.end > now && (!isHold(e) || e.expiresAt > now);
}

const UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1_000, 's'],
];

/** 5400000 → "1 h 30 min". */
function humanMs(ms: number): string {
  if (ms === 0) return '0 ms';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest} ms`);
  return sign + parts.join(' ');
}

/** "max_usage: 40 min booked, 30 min allowed (10 min over)" */
export function describeBreach(c: Extract<Conflict, { kind: 'policy' }>): string {
  const over = Math.abs(c.requested - c.allowed);
  switch (c.limit) {
    case 'min_duration':
      return `shorter than min_duration: ${humanMs(c.requested)} long, at least ${humanMs(c.allowed)} required (${humanMs(over)} short)`;
    case 'max_duration':
      return `longer than max_duration: ${humanMs(c.requested)} long, at most ${humanMs(c.allowed)} allowed (${humanMs(over)} over)`;
    case 'book_ahead':
      return `too far ahead for book_ahead: starts in ${humanMs(c.requested)}, at most ${humanMs(c.allowed)} allowed (${humanMs(over)} too far)`;
    case 'starts_within':
      return `too late for starts_within: starts in ${humanMs(c.requested)}, must start within ${humanMs(c.allowed)} (${humanMs(over)} too late)`;
    case 'allow_start_in_past':
      return `starts too far in the past for allow_start_in_past: ${humanMs(c.requested)} ago, at most ${humanMs(c.allowed)} allowed (${humanMs(over)} too early)`;
    case 'max_bookings':
      return `over max_bookings: ${c.requested} bookings with this one, at most ${c.allowed} allowed`;
    case 'max_usage':
      return `over max_usage: ${humanMs(c.requested)} booked with this one, at most ${humanMs(c.allowed)} allowed (${humanMs(over)} over)`;
  }
}
