/**
 * Why time is not free: for a resource and a window, every stretch where a new entry could not
 * go, each with what blocks it. The stretches together are exactly the window less
 * availability's free spans (and, with a policy, less the starts its timing limits allow).
 * Stretches may overlap: an instant can be blocked for several reasons. Pure reads of the store.
 */
import { Limits } from './limits.js';
import { applicableRules, chainOf, entriesTouching, footprint, missingCapabilities, offlineConflicts, openingLevel } from './placement.js';
import { outageMatches } from './outages.js';
import { usage } from './policies.js';
import { coverageSteps, mergeSpans, slidingMax, subtractSpans } from './spans.js';
import { isHold, type Store } from './state.js';
import type { Ms } from './types.js';
import { checkSpan, normaliseCapabilities } from './validate.js';

export type BlockReason = 'capacity' | 'capabilities' | 'offline' | 'closed' | 'blocking_rule' | 'outage' | 'booking' | 'hold' | 'policy';

export interface Blocked {
  readonly start: Ms;
  readonly end: Ms;
  readonly reason: BlockReason;
  /** What blocks it: the resource (capacity, capabilities, offline, closed: the level whose rules apply), rule, outage, entry or policy. */
  readonly id: string;
  /** body or buffer (an entry), planned or unplanned (an outage), the limit (a policy), the reason (offline), or the entries filling the capacity. */
  readonly detail: string | null;
}

export interface ExplainQuery {
  readonly resourceId: string;
  readonly start: Ms;
  readonly end: Ms;
  readonly capabilities?: readonly string[];
  readonly policyId?: string | null;
  readonly userId?: string | null;
}

export function explainAvailability(store: Store, q: ExplainQuery, now: Ms): Blocked[] {
  checkSpan('availability_explain window', q.start, q.end);
  const node = store.node(q.resourceId);
  if (node === undefined) return [];
  const r = node.resource;
  const a = q.start;
  const b = q.end;
  const caps = normaliseCapabilities(q.capabilities ?? []);
  const policyId = q.policyId ?? null;
  const out: Blocked[] = [];
  const push = (start: Ms, end: Ms, reason: BlockReason, id: string, detail: string | null): void => {
    const s = Math.max(start, a);
    const e = Math.min(end, b);
    if (s < e) out.push({ start: s, end: e, reason, id, detail });
  };
  if (r.capacity === 0) push(a, b, 'capacity', r.id, 'capacity 0');
  const missing = missingCapabilities(r, caps);
  if (missing.length > 0) push(a, b, 'capabilities', r.id, missing.join(','));
  const off = offlineConflicts(store, r.id)[0];
  if (off !== undefined && off.kind === 'offline') push(a, b, 'offline', off.resource_id, off.reason);
  // Open time: outside the opening level's open rules, and under blocking rules of any level.
  const chain = chainOf(store, r.id);
  const level = openingLevel(chain, policyId);
  if (level !== null) {
    const open = mergeSpans(applicableRules(level, false, a, b, policyId));
    for (const gap of subtractSpans([{ start: a, end: b }], open)) push(gap.start, gap.end, 'closed', level.resource.id, null);
  }
  for (const n of chain) for (const rule of applicableRules(n, true, a, b, policyId)) push(rule.start, rule.end, 'blocking_rule', rule.id, null);
  for (const n of chain) {
    n.outages.overlapping(a, b, (sp) => {
      if (outageMatches(sp.outage, caps)) push(sp.start, sp.end, 'outage', sp.outage.id, sp.outage.kind);
    });
  }
  if (r.capacity > 0) entriesBlocking(store, q.resourceId, a, b, now, push);
  if (policyId !== null) {
    const p = store.policies.get(policyId);
    if (p === undefined) push(a, b, 'policy', policyId, 'unknown policy');
    else {
      // The timing limits speak of starts: no entry may start in these stretches.
      const latest = Math.min(p.bookAheadMs ?? Infinity, p.startsWithinMs ?? Infinity);
      if (latest !== Infinity) push(now + latest + 1, b, 'policy', p.id, p.bookAheadMs !== null && p.bookAheadMs === latest ? 'book_ahead' : 'starts_within');
      if (p.allowStartInPastMs !== null) push(a, now - p.allowStartInPastMs, 'policy', p.id, 'allow_start_in_past');
      if (q.userId != null && p.maxBookings !== null && usage(store, q.userId, p.id, now).count + 1 > p.maxBookings) push(a, b, 'policy', p.id, 'max_bookings');
    }
  }
  const key = (x: Blocked): string => `${x.reason}\0${x.id}\0${x.detail ?? ''}`;
  return out.sort((x, y) => x.start - y.start || x.end - y.end || (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

/**
 * Where the entries already there leave no room. With capacity 1 an entry blocks its body and,
 * each side, both buffers' width (a new entry's footprint may not touch its own): named one by
 * one. With more, the stretches where the most footprints a new entry would meet reach the
 * capacity, naming the entries met there.
 */
function entriesBlocking(
  store: Store,
  resourceId: string,
  a: Ms,
  b: Ms,
  now: Ms,
  push: (s: Ms, e: Ms, reason: BlockReason, id: string, detail: string | null) => void,
): void {
  const node = store.mustNode(resourceId);
  const r = node.resource;
  const pad = r.bufferBeforeMs + r.bufferAfterMs;
  const live = entriesTouching(node, a - r.bufferBeforeMs - 1, b + r.bufferAfterMs + 1, now);
  if (r.capacity === 1) {
    for (const e of live) {
      const kind = isHold(e) ? 'hold' : 'booking';
      push(e.start, e.end, kind, e.id, 'body');
      if (pad > 0) {
        push(e.start - pad, e.start, kind, e.id, 'buffer');
        push(e.end, e.end + pad, kind, e.id, 'buffer');
      }
    }
    return;
  }
  const lo = a - r.bufferBeforeMs;
  const hi = b + r.bufferAfterMs + 1;
  const fps = live.map((e) => footprint(r, e.start, e.end));
  const steps = slidingMax(coverageSteps(fps, lo, hi), r.bufferBeforeMs, r.bufferAfterMs, a, b);
  for (const s of steps) {
    if (s.count < r.capacity) continue;
    // A new entry containing an instant of [s.start, s.end) has its footprint within this reach.
    const met = live.filter((_, i) => fps[i]!.start < s.end + r.bufferAfterMs && s.start - r.bufferBeforeMs < fps[i]!.end).map((e) => e.id);
    push(s.start, s.end, 'capacity', r.id, met.slice(0, Limits.maxConflictsNamed).join(','));
  }
}
