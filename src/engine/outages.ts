/**
 * Outages (docs/sql.md, "outages"): which entries an outage matches, where it closes time for
 * new entries and for moves, what an unplanned outage's sliding window evicts, and when it
 * next will.
 */
import { Limits } from './limits.js';
import { FOREVER } from './spans.js';
import { isHold, type Entry, type ResourceNode, type Store } from './state.js';
import type { Conflict, Ms, Outage } from './types.js';

/** An outage applies to an entry that requires one of its capabilities, or to all when it lists none. */
export function outageMatches(o: Outage, required: readonly string[]): boolean {
  if (o.capabilities.length === 0) return true;
  for (const c of required) if (o.capabilities.includes(c)) return true;
  return false;
}

/**
 * What an unplanned outage has evicted by `now`: entries overlapping
 * [max(start, declaredAt), min(end, now + window)). Empty for planned ones.
 */
export function evictionZone(o: Outage, now: Ms): { start: Ms; end: Ms } | null {
  if (o.kind !== 'unplanned') return null;
  const start = Math.max(o.start, o.declaredAt);
  const end = Math.min(o.end ?? FOREVER, now + (o.slidingWindowMs ?? 0));
  return start < end ? { start, end } : null;
}

/**
 * Where an outage refuses entries. A new entry may not overlap [start, end), the end of an
 * unresolved outage being forever. A moved entry is held to the same for a planned outage,
 * but for an unplanned one only to its eviction zone: it may move to beyond the window.
 */
export function closedRange(o: Outage, now: Ms, moving: boolean): { start: Ms; end: Ms } | null {
  if (o.kind === 'planned' || !moving) return { start: o.start, end: o.end ?? FOREVER };
  return evictionZone(o, now);
}

/** Outages on the resource or an ancestor that refuse this entry's span. */
export function outageConflicts(
  store: Store,
  e: { readonly resourceId: string; readonly start: Ms; readonly end: Ms; readonly capabilities: readonly string[] },
  now: Ms,
  moving: boolean,
): Conflict[] {
  const out: Conflict[] = [];
  let id: string | null = e.resourceId;
  for (let depth = 0; id !== null && depth <= Limits.maxTreeDepth; depth++) {
    const node = store.mustNode(id);
    if (node.outages.size > 0) {
      node.outages.overlapping(e.start, e.end, (span) => {
        const o = span.outage;
        if (!outageMatches(o, e.capabilities)) return;
        const closed = closedRange(o, now, moving);
        if (closed !== null && closed.start < e.end && e.start < closed.end) out.push(outageConflict(o));
      });
    }
    id = node.resource.parentId;
  }
  return out;
}

function outageConflict(o: Outage): Conflict {
  return { kind: 'outage', id: o.id, resource_id: o.resourceId, start: o.start, end: o.end };
}

/** The resource and all its descendants, the resource first. */
export function subtree(store: Store, rootId: string): ResourceNode[] {
  const out = [store.mustNode(rootId)];
  for (let i = 0; i < out.length; i++) for (const c of out[i]!.children) out.push(store.mustNode(c));
  return out;
}

/** Live entries under the outage's resource that it matches and whose spans overlap [a, b). */
export function matchingEntries(store: Store, o: Outage, a: Ms, b: Ms, now: Ms): Entry[] {
  return matchingIn(subtree(store, o.resourceId), o, a, b, now);
}

/** Live entries on `nodes` that `o` matches and whose spans overlap [a, b). */
function matchingIn(nodes: readonly ResourceNode[], o: Outage, a: Ms, b: Ms, now: Ms): Entry[] {
  const out: Entry[] = [];
  for (const node of nodes) {
    node.entries.overlapping(a, b, (e) => {
      if ((!isHold(e) || e.expiresAt > now) && outageMatches(o, e.capabilities)) out.push(e);
    });
  }
  return out;
}

/**
 * Live entries under `rootId` that a planned outage on one of its ancestors matches and
 * overlaps, each once: what a resource moved there would bring under a planned outage.
 */
export function underPlannedOutagesAbove(store: Store, rootId: string, now: Ms): Entry[] {
  const nodes = subtree(store, rootId);
  const found = new Set<Entry>();
  for (let id = store.mustNode(rootId).resource.parentId; id !== null; ) {
    const above = store.mustNode(id);
    above.outages.overlapping(-Infinity, Infinity, (sp) => {
      if (sp.outage.kind !== 'planned') return;
      const range = closedRange(sp.outage, now, false)!;
      for (const e of matchingIn(nodes, sp.outage, range.start, range.end, now)) found.add(e);
    });
    id = above.resource.parentId;
  }
  return [...found];
}

/**
 * When an outage next needs the reaper: when its end passes, or, for an unplanned one, when its
 * window reaches the next matching entry beyond it (the window [now, now + W) covers an entry
 * starting at s once now > s - W).
 */
export function outageDeadline(store: Store, o: Outage, now: Ms): Ms | null {
  if (o.end !== null && o.end <= now) return now; // ended: due at once
  const zone = evictionZone(o, now);
  // Entries already inside the window (after a restart, or a chunk not yet done): due at once.
  if (zone !== null && matchingEntries(store, o, zone.start, zone.end, now).length > 0) return now;
  let next: Ms | null = o.end;
  if (o.kind === 'unplanned') {
    const horizon = now + (o.slidingWindowMs ?? 0);
    let first: Ms | null = null;
    for (const node of subtree(store, o.resourceId)) {
      node.entries.startingFrom(horizon, (e) => {
        if (isHold(e) && e.expiresAt <= now) return true;
        if (!outageMatches(o, e.capabilities)) return true;
        if (first === null || e.start < first) first = e.start;
        return false;
      });
    }
    if (first !== null && (o.end === null || first < o.end)) {
      const due = Math.max(now, first - (o.slidingWindowMs ?? 0) + 1);
      if (next === null || due < next) next = due;
    }
  }
  return next;
}
