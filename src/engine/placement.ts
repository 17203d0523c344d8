/**
 * Where an entry may go: open time (rules up the tree), capacity (sweep over footprints) and
 * capabilities. Pure reads of the store.
 */
import { Limits } from './limits.js';
import { ruleWindows } from './rule-series.js';
import { coverageSteps, mergeSpans, subtractSpans, type MutableSpan } from './spans.js';
import { entryKey, isHold, type Entry, type ResourceNode, type Store } from './state.js';
import type { Conflict, Ms, Resource, Rule } from './types.js';

/** Holds are gone from the instant they expire, whether or not the reaper has run. */
export function isLive(e: Entry, now: Ms): boolean {
  return !isHold(e) || e.expiresAt > now;
}

export function ruleApplies(rule: Rule, policyId: string | null): boolean {
  return rule.policyId === null || rule.policyId === policyId;
}

/** The resource and its ancestors, nearest first. */
export function chainOf(store: Store, resourceId: string): ResourceNode[] {
  const chain: ResourceNode[] = [];
  let id: string | null = resourceId;
  while (id !== null) {
    const n = store.mustNode(id);
    chain.push(n);
    id = n.resource.parentId;
    if (chain.length > Limits.maxTreeDepth) throw new Error(`placement: resource tree deeper than ${Limits.maxTreeDepth} at ${resourceId}`);
  }
  return chain;
}

/** The nearest level with a non-blocking rule that applies to the policy; null: always open. */
export function openingLevel(chain: readonly ResourceNode[], policyId: string | null): ResourceNode | null {
  for (const n of chain) {
    if (n.openRulesNoPolicy > 0) return n;
    if (policyId !== null && (n.openRulesByPolicy.get(policyId) ?? 0) > 0) return n;
  }
  return null;
}

/** The rules of one kind on a resource that apply to the policy, over [a, b): recurring ones as their occurrences there. */
export function applicableRules(node: ResourceNode, blocking: boolean, a: Ms, b: Ms, policyId: string | null): Rule[] {
  const tree = blocking ? node.closeRules : node.openRules;
  const series = blocking ? node.closeSeries : node.openSeries;
  const out = tree.size === 0 ? [] : tree.collectOverlapping(a, b, []);
  if (series.size > 0) series.overlapping(a, b, (s) => ruleWindows(s.rule, a, b, out));
  let k = 0;
  for (const r of out) if (ruleApplies(r, policyId)) out[k++] = r;
  out.length = k;
  return out;
}

/** Whether the resource or any ancestor has a rule at all (most resources have none). */
function anyRules(store: Store, resourceId: string): boolean {
  let id: string | null = resourceId;
  for (let depth = 0; id !== null && depth <= Limits.maxTreeDepth; depth++) {
    const n = store.mustNode(id);
    if (n.ruleCount > 0) return true;
    id = n.resource.parentId;
  }
  return false;
}

const NO_CONFLICTS: readonly Conflict[] = Object.freeze([]);

/** Open time of a resource within [a, b) for entries under `policyId`, as a span list. */
export function openSpans(store: Store, resourceId: string, policyId: string | null, a: Ms, b: Ms): MutableSpan[] {
  const chain = chainOf(store, resourceId);
  const level = openingLevel(chain, policyId);
  let open: MutableSpan[] = level === null ? [{ start: a, end: b }] : clip(mergeSpans(applicableRules(level, false, a, b, policyId)), a, b);
  const closed: Rule[] = [];
  for (const n of chain) closed.push(...applicableRules(n, true, a, b, policyId));
  if (closed.length > 0) open = subtractSpans(open, mergeSpans(closed));
  return open;
}

function clip(spans: MutableSpan[], a: Ms, b: Ms): MutableSpan[] {
  const out: MutableSpan[] = [];
  for (const s of spans) {
    const start = Math.max(s.start, a);
    const end = Math.min(s.end, b);
    if (start < end) out.push({ start, end });
  }
  return out;
}

/** Why [start, end) is not wholly open: uncovered gaps and the blocking rules in the way. */
export function closedConflicts(store: Store, resourceId: string, policyId: string | null, start: Ms, end: Ms): readonly Conflict[] {
  if (!anyRules(store, resourceId)) return NO_CONFLICTS;
  const chain = chainOf(store, resourceId);
  const out: Conflict[] = [];
  const level = openingLevel(chain, policyId);
  if (level !== null) {
    const opened = mergeSpans(applicableRules(level, false, start, end, policyId));
    for (const gap of subtractSpans([{ start, end }], opened)) {
      out.push({ kind: 'closed', resource_id: level.resource.id, start: gap.start, end: gap.end });
    }
  }
  for (const n of chain) {
    for (const r of applicableRules(n, true, start, end, policyId)) {
      out.push({ kind: 'rule', id: r.id, resource_id: r.resourceId, start: r.start, end: r.end });
    }
  }
  return out;
}

export function footprint(r: Resource, start: Ms, end: Ms): { start: Ms; end: Ms } {
  return { start: start - r.bufferBeforeMs, end: end + r.bufferAfterMs };
}

/** Live entries on a resource whose footprints overlap [a, b). */
export function entriesTouching(node: ResourceNode, a: Ms, b: Ms, now: Ms): Entry[] {
  const r = node.resource;
  const out = node.entries.collectOverlapping(a - r.bufferAfterMs, b + r.bufferBeforeMs, []);
  let k = 0;
  for (const e of out) if (isLive(e, now)) out[k++] = e;
  out.length = k;
  return out;
}

/**
 * Entries that leave no room for one more entry over [start, end) on the resource: those whose
 * footprints cover an instant of the new footprint where `capacity` are already taken. Empty
 * when it fits. `skip` names entries (by entryKey) that do not count, such as the entry itself.
 */
export function capacityConflicts(node: ResourceNode, start: Ms, end: Ms, now: Ms, skip: ReadonlySet<string> | null): readonly Conflict[] {
  const r = node.resource;
  const fp = footprint(r, start, end);
  if (r.capacity === 0) return [{ kind: 'capacity', resource_id: r.id, capacity: 0 }];
  let others = entriesTouching(node, fp.start, fp.end, now);
  if (skip !== null) others = others.filter((e) => !skip.has(entryKey(e)));
  if (others.length < r.capacity) return NO_CONFLICTS;
  const fps = others.map((e) => footprint(r, e.start, e.end));
  const full = coverageSteps(fps, fp.start, fp.end).filter((s) => s.count >= r.capacity);
  if (full.length === 0) return [];
  const out: Conflict[] = [];
  others.forEach((e, i) => {
    const f = fps[i]!;
    if (full.some((s) => s.start < f.end && f.start < s.end)) out.push(entryConflict(e));
  });
  return out;
}

/** The resource up `resourceId`'s chain that is offline (itself first), or none. */
export function offlineConflicts(store: Store, resourceId: string): readonly Conflict[] {
  // Walked without building the chain: this runs for every placement and availability query.
  for (let id: string | null = resourceId, depth = 0; id !== null && depth <= Limits.maxTreeDepth; depth++) {
    const r: Resource = store.mustNode(id).resource;
    if (r.status === 'offline') return [{ kind: 'offline', resource_id: r.id, reason: r.statusReason ?? null }];
    id = r.parentId;
  }
  return NONE;
}

const NONE: readonly Conflict[] = [];

/** An entry in the way, with its label and group so a refusal reads without a lookup. */
export function entryConflict(e: Entry): Conflict {
  return { kind: isHold(e) ? 'hold' : 'booking', id: e.id, resource_id: e.resourceId, start: e.start, end: e.end, label: e.label, group_id: e.groupId ?? null };
}

/**
 * For a whole resource (after a capacity or buffer change): the live entries at instants where
 * more than `capacity` footprints overlap. Empty when the resource is within its capacity.
 */
export function overCapacity(node: ResourceNode, resource: Resource, now: Ms): Conflict[] {
  const live: Entry[] = [];
  for (const e of node.entries) if (isLive(e, now)) live.push(e);
  if (live.length <= resource.capacity) return [];
  const fps = live.map((e) => footprint(resource, e.start, e.end));
  // Entries iterate in start order and share the buffers, so the first footprint starts first.
  const lo = fps[0]!.start;
  let hi = lo;
  for (const f of fps) if (f.end > hi) hi = f.end;
  const over = coverageSteps(fps, lo, hi).filter((s) => s.count > resource.capacity);
  if (over.length === 0) return [];
  const out: Conflict[] = [];
  live.forEach((e, i) => {
    const f = fps[i]!;
    if (over.some((s) => s.start < f.end && f.start < s.end)) out.push(entryConflict(e));
  });
  return out;
}

/** Capabilities an entry requires that the resource does not support. */
export function missingCapabilities(resource: Resource, required: readonly string[]): string[] {
  if (required.length === 0) return [];
  const have = new Set(resource.capabilities);
  return required.filter((c) => !have.has(c));
}
