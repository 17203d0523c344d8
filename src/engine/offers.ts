/**
 * Where a refused entry would fit instead: offers on refusal, and `next_free`. Both read the
 * starts where an entry of the same length fits (open time, outages, status, capacity and
 * buffers, as availability reads them, and the policy's timing limits), on a resource, or for
 * a pool row on enough members at once. Pure reads of the store.
 */
import { AllotError, SqlState } from '../errors.js';
import { availability } from './availability.js';
import { iso } from './conflicts.js';
import { Limits } from './limits.js';
import { policyConflicts } from './policies.js';
import type { Queries } from './queries.js';
import type { Store } from './state.js';
import type { Ms, Policy } from './types.js';

/** What a refused entry asked for: the same, elsewhere in time, is what an offer is. */
export interface OfferRequest {
  /** A resource, or a pool whose `quantity` members must all be free. */
  readonly resourceId?: string;
  readonly poolId?: string;
  readonly quantity: number;
  readonly start: Ms;
  readonly end: Ms;
  readonly capabilities: readonly string[];
  readonly userId: string | null;
  readonly policyId: string | null;
}

export interface Offer {
  readonly resource_id?: string;
  readonly pool_id?: string;
  readonly start: Ms;
  readonly end: Ms;
}

/**
 * Refusals of new entries that may get offers, with what each asked for: marked where the entry
 * is refused, read where the statement fails (most refusals, skipped rows, never get there).
 */
const refused = new WeakMap<AllotError, OfferRequest>();

/** Marks a refusal (23P01) as one a failed statement adds offers to. */
export function refusalOf(err: AllotError, req: OfferRequest): AllotError {
  refused.set(err, req);
  return err;
}

/**
 * Runs `f`; a refusal (23P01) it throws is marked with what `ask` says was asked for, unless
 * offers are off or it is marked already (by a check nearer the entry).
 */
export function refusing<T>(offers: boolean, ask: () => OfferRequest, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (offers && err instanceof AllotError && err.sqlstate === SqlState.exclusionViolation && !refused.has(err)) refused.set(err, ask());
    throw err;
  }
}

/** What a refusal marked by `refusalOf` asked for. */
export function refusedRequest(err: unknown): OfferRequest | undefined {
  return err instanceof AllotError ? refused.get(err) : undefined;
}

/** The same refusal with `offers` in its DETAIL, next to the conflicts, and in its HINT as times. */
export function withOffers(err: AllotError, offers: readonly Offer[]): AllotError {
  // The DETAIL is the conflicts' JSON object: the offers go in before its closing brace.
  const base = err.detail !== undefined && err.detail.endsWith('}') ? err.detail : '{}';
  const detail = `${base.slice(0, -1)}${base.length > 2 ? ',' : ''}"offers":${JSON.stringify(offers)}}`;
  const spans = offers.map((o) => `[${iso(o.start)}, ${iso(o.end)})`);
  const said = spans.length <= 1 ? spans.join('') : `${spans.slice(0, -1).join(', ')} or ${spans[spans.length - 1]}`;
  const hint = spans.length > 0 ? `It would fit at ${said}.` : err.hint;
  return new AllotError(err.sqlstate, err.message, { detail, ...(hint !== undefined ? { hint } : {}) });
}

/** Closed ranges [lo, hi] of starts, ordered and apart. */
type Starts = [Ms, Ms][];

/**
 * Up to `count` offers nearest the request's start (ties: the earlier), no two overlapping,
 * with starts within `Limits.offerHorizonMs` before or after it. None when what is in the way
 * is the policy's quota or duration limits, which moving does not change.
 */
export function offersFor(store: Store, read: Queries, req: OfferRequest, now: Ms, count = 3): Offer[] {
  const len = req.end - req.start;
  if (!fitsWindow(len) || quotaBlocks(store, req, now)) return [];
  const horizon = Limits.offerHorizonMs;
  // The nearest offers are found in a small window most of the time: look within r of the start
  // asked for, and widen only while fewer than `count` turn up. Every offer found within r is
  // one the whole horizon would give (anything outside is farther), so this only saves work.
  for (let r = Math.min(horizon, Math.max(4 * len, 3_600_000)); ; r = Math.min(horizon, 4 * r)) {
    const out = nearest(store, read, req, now, count, r);
    if (out.length === count || r === horizon) return out;
  }
}

/** The greedy choice among starts within `r` of the start asked for. */
function nearest(store: Store, read: Queries, req: OfferRequest, now: Ms, count: number, r: Ms): Offer[] {
  const len = req.end - req.start;
  const from = Math.max(Limits.minTimeMs, req.start - r);
  const to = Math.min(Limits.maxTimeMs - len, req.start + r);
  if (from > to) return [];
  let free = startsWhereFits(store, read, req, from, to, now);
  const out: Offer[] = [];
  while (out.length < count && free.length > 0) {
    let best: Ms | null = null;
    for (const [lo, hi] of free) {
      const s = Math.min(Math.max(req.start, lo), hi);
      if (best === null || Math.abs(s - req.start) < Math.abs(best - req.start) || (Math.abs(s - req.start) === Math.abs(best - req.start) && s < best))
        best = s;
    }
    out.push(offer(req, best!, len));
    // The next may not overlap it: starts in (best - len, best + len) are out.
    free = without(free, best! - len + 1, best! + len - 1);
  }
  return out;
}

/**
 * The first `count` starts at or after `after` where the entry fits, back to back (each at or
 * after the end of the one before), looking at most `horizon` ahead.
 */
export function nextFree(store: Store, read: Queries, req: OfferRequest, after: Ms, count: number, now: Ms, horizon: Ms): Offer[] {
  const len = req.end - req.start;
  const out: Offer[] = [];
  if (count <= 0 || !fitsWindow(len) || quotaBlocks(store, req, now)) return out;
  const last = Math.min(Limits.maxTimeMs - len, after + horizon);
  // A week at a time: most answers are near, and a long window over a busy resource costs.
  let at = after;
  for (let from = after; from <= last && out.length < count; from += NEXT_FREE_STEP) {
    const to = Math.min(last, from + NEXT_FREE_STEP - 1);
    for (const [lo, hi] of startsWhereFits(store, read, req, from, to, now)) {
      let s = Math.max(lo, at);
      while (s <= hi && out.length < count) {
        out.push(offer(req, s, len));
        at = s + len;
        s = at;
      }
      if (out.length === count) break;
    }
  }
  return out;
}

const NEXT_FREE_STEP = 7 * 86_400_000;

function offer(req: OfferRequest, start: Ms, len: Ms): Offer {
  return req.poolId !== undefined ? { pool_id: req.poolId, start, end: start + len } : { resource_id: req.resourceId!, start, end: start + len };
}

/** Whether what moving cannot change (a quota, a duration, an unknown policy) refuses the request anyway. */
function quotaBlocks(store: Store, req: OfferRequest, now: Ms): boolean {
  const policy = policyOf(store, req);
  // An unknown policy refuses everything (23503): nothing fits under it.
  if (policy === undefined) return req.policyId !== null;
  return policyConflicts(store, policy, req, now, req.quantity).some(
    (c) => c.kind === 'policy' && (c.limit === 'min_duration' || c.limit === 'max_duration' || c.limit === 'max_bookings' || c.limit === 'max_usage'),
  );
}

function policyOf(store: Store, req: OfferRequest): Policy | undefined {
  return req.policyId === null ? undefined : store.policies.get(req.policyId);
}

/** Starts s in [from, to] where [s, s + len) fits, as closed ranges. */
function startsWhereFits(store: Store, read: Queries, req: OfferRequest, from: Ms, to: Ms, now: Ms): Starts {
  const len = req.end - req.start;
  const policy = policyOf(store, req);
  // The policy's timing limits bound the start.
  let lo = from;
  let hi = to;
  if (policy !== undefined) {
    if (policy.bookAheadMs !== null) hi = Math.min(hi, now + policy.bookAheadMs);
    if (policy.startsWithinMs !== null) hi = Math.min(hi, now + policy.startsWithinMs);
    if (policy.allowStartInPastMs !== null) lo = Math.max(lo, now - policy.allowStartInPastMs);
  }
  if (lo > hi) return [];
  const ids = req.poolId !== undefined ? read.poolMembers(req.poolId, req.capabilities).map((r) => r.id) : [req.resourceId!];
  if (ids.length < req.quantity) return [];
  const per: Starts[] = [];
  for (const id of ids) {
    const answer = availability(store, { resourceIds: [id], start: lo, end: hi + len, capabilities: req.capabilities, policyId: req.policyId }, now);
    const spans = answer.merged ? answer.spans : answer.perResource[0]!.spans;
    const starts: Starts = [];
    let runStart: Ms | null = null;
    let runEnd = 0;
    for (const sp of spans) {
      if (runStart !== null && sp.start === runEnd) runEnd = sp.end;
      else {
        if (runStart !== null && runEnd - runStart >= len) starts.push([runStart, runEnd - len]);
        runStart = sp.start;
        runEnd = sp.end;
      }
    }
    if (runStart !== null && runEnd - runStart >= len) starts.push([runStart, runEnd - len]);
    per.push(starts);
  }
  return req.quantity === 1 && per.length === 1 ? per[0]! : coveredBy(per, req.quantity);
}

/** Starts in at least `k` of the lists. */
function coveredBy(lists: readonly Starts[], k: number): Starts {
  const events: [Ms, number][] = [];
  for (const l of lists) for (const [lo, hi] of l) events.push([lo, 1], [hi + 1, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Starts = [];
  let n = 0;
  let open: Ms | null = null;
  for (let i = 0; i < events.length; ) {
    const t = events[i]![0];
    while (i < events.length && events[i]![0] === t) n += events[i++]![1];
    if (n >= k && open === null) open = t;
    else if (n < k && open !== null) {
      out.push([open, t - 1]);
      open = null;
    }
  }
  return out;
}

/** The ranges less [a, b]. */
function without(ranges: Starts, a: Ms, b: Ms): Starts {
  const out: Starts = [];
  for (const [lo, hi] of ranges) {
    if (hi < a || lo > b) out.push([lo, hi]);
    else {
      if (lo < a) out.push([lo, a - 1]);
      if (hi > b) out.push([b + 1, hi]);
    }
  }
  return out;
}

/** Whether the windows read for an entry of `len` stay within availability's limit. */
function fitsWindow(len: Ms): boolean {
  return len > 0 && len + 2 * Math.max(Limits.offerHorizonMs, NEXT_FREE_STEP) <= Limits.maxWindowMs;
}
