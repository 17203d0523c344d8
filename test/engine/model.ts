/**
 * A brute-force model of DESIGN §3, written from the spec and sharing no code with the engine:
 * time is a small integer line and every question is answered unit by unit. It is slow and
 * obviously right; the property tests require the engine to agree with it.
 */
import { Limits } from '../../src/engine/limits.js';
import type { Booking, BookingTarget, Command, Conflict, FreeSpan, Hold, Outage, Policy, PoolRequest, Resource, Rule } from '../../src/engine/types.js';

export interface ModelState {
  resources: Map<string, Resource>;
  rules: Map<string, Rule>;
  bookings: Map<string, Booking>;
  holds: Map<string, Hold>;
  outages: Map<string, Outage>;
  policies: Map<string, Policy>;
}

export class ModelError extends Error {
  /** A refused new entry: where it asked to go, and whether it fits at another start. */
  offerFor?: OfferAsk;
  /** Where it would fit instead, once the statement failed with it. */
  offers?: ModelOffer[];
  constructor(
    readonly sqlstate: string,
    readonly conflicts: Conflict[] = [],
  ) {
    super(sqlstate);
  }
}

export interface ModelOffer {
  resource_id?: string;
  pool_id?: string;
  start: number;
  end: number;
}

interface OfferAsk {
  where: { resource_id: string } | { pool_id: string };
  start: number;
  end: number;
  offers: boolean;
  fits: (s: ModelState, start: number) => boolean;
}

/** Marks a 23P01 from `f` as a refused new entry. */
function asking<T>(ask: Omit<OfferAsk, 'fits'>, fits: OfferAsk['fits'], f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelError && e.sqlstate === '23P01' && e.offerFor === undefined) e.offerFor = { ...ask, fits };
    throw e;
  }
}

/**
 * Every start within the horizon, unit by unit: the nearest (the earlier of two as near) where
 * the entry fits, then the nearest not overlapping the ones chosen, up to three.
 */
function modelOffers(s: ModelState, ask: OfferAsk): ModelOffer[] {
  const len = ask.end - ask.start;
  const h = Limits.offerHorizonMs;
  if (h > 1_000) throw new Error('model: set Limits.offerHorizonMs to a small time line before asking the model for offers');
  const fit: number[] = [];
  for (let t = ask.start - h; t <= ask.start + h; t++) if (ask.fits(s, t)) fit.push(t);
  const out: ModelOffer[] = [];
  while (out.length < 3) {
    const ok = fit.filter((t) => out.every((o) => t + len <= o.start || t >= o.end));
    if (ok.length === 0) break;
    ok.sort((a, b) => Math.abs(a - ask.start) - Math.abs(b - ask.start) || a - b);
    out.push({ ...ask.where, start: ok[0]!, end: ok[0]! + len });
  }
  return out;
}

const MAX_ID = 255;
const MAX_LABEL = 1024;
const MAX_DEPTH = 32;
const MAX_CAPS = 64;
const MAX_CAP_LEN = 255;
const MAX_CAPACITY = 1_000_000;
const MAX_BUFFER = 30 * 86_400_000;
const MIN_T = -62_135_596_800_000;
const MAX_T = 253_402_300_799_999;

export function emptyModel(): ModelState {
  return { resources: new Map(), rules: new Map(), bookings: new Map(), holds: new Map(), outages: new Map(), policies: new Map() };
}

function clone(s: ModelState): ModelState {
  return {
    resources: new Map(s.resources),
    rules: new Map(s.rules),
    bookings: new Map(s.bookings),
    holds: new Map(s.holds),
    outages: new Map(s.outages),
    policies: new Map(s.policies),
  };
}

type Entry = Booking | Hold;
const isHold = (e: Entry): e is Hold => 'expiresAt' in e;

// ---- the rules of §3, one unit of time at a time ------------------------------------------

function live(s: ModelState, now: number): Entry[] {
  return [...s.bookings.values(), ...[...s.holds.values()].filter((h) => h.expiresAt > now)];
}

function chain(s: ModelState, id: string): Resource[] {
  const out: Resource[] = [];
  for (let r = s.resources.get(id); r !== undefined; r = r.parentId === null ? undefined : s.resources.get(r.parentId)) out.push(r);
  return out;
}

const applies = (rule: Rule, policy: string | null): boolean => rule.policyId === null || rule.policyId === policy;

/** The resource whose non-blocking rules decide, or undefined: always open. */
function openingLevel(s: ModelState, id: string, policy: string | null): Resource | undefined {
  const rules = [...s.rules.values()];
  return chain(s, id).find((r) => rules.some((x) => x.resourceId === r.id && !x.blocking && applies(x, policy)));
}

function openByRules(s: ModelState, id: string, policy: string | null, u: number): boolean {
  const level = openingLevel(s, id, policy);
  return level === undefined || [...s.rules.values()].some((x) => x.resourceId === level.id && !x.blocking && applies(x, policy) && x.start <= u && u < x.end);
}

function blockedAt(s: ModelState, id: string, policy: string | null, u: number): boolean {
  const ids = new Set(chain(s, id).map((r) => r.id));
  return [...s.rules.values()].some((x) => ids.has(x.resourceId) && x.blocking && applies(x, policy) && x.start <= u && u < x.end);
}

/** Footprint of an entry on its resource: [start - before, end + after). */
function covers(r: Resource, e: Entry, u: number): boolean {
  return e.start - r.bufferBeforeMs <= u && u < e.end + r.bufferAfterMs;
}

function countAt(s: ModelState, r: Resource, u: number, now: number): number {
  return live(s, now).filter((e) => e.resourceId === r.id && covers(r, e, u)).length;
}

function entryConflict(e: Entry): Conflict {
  return { kind: isHold(e) ? 'hold' : 'booking', id: e.id, resource_id: e.resourceId, start: e.start, end: e.end, label: e.label, group_id: e.groupId ?? null };
}

/** Closed time in [start, end): runs not opened at the deciding level, then blocking rules. */
function closedConflicts(s: ModelState, id: string, policy: string | null, start: number, end: number): Conflict[] {
  const out: Conflict[] = [];
  const level = openingLevel(s, id, policy);
  if (level !== undefined) {
    let runStart: number | null = null;
    for (let u = start; u <= end; u++) {
      const gap = u < end && !openByRules(s, id, policy, u);
      if (gap && runStart === null) runStart = u;
      if (!gap && runStart !== null) {
        out.push({ kind: 'closed', resource_id: level.id, start: runStart, end: u });
        runStart = null;
      }
    }
  }
  const rules: Rule[] = [];
  for (const r of chain(s, id)) {
    for (const x of s.rules.values()) {
      if (x.resourceId === r.id && x.blocking && applies(x, policy) && x.start < end && start < x.end) rules.push(x);
    }
  }
  for (const r of chain(s, id)) {
    rules
      .filter((x) => x.resourceId === r.id)
      .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))
      .forEach((x) => out.push({ kind: 'rule', id: x.id, resource_id: x.resourceId, start: x.start, end: x.end }));
  }
  return out;
}

function capacityConflicts(s: ModelState, r: Resource, e: Entry, now: number): Conflict[] {
  if (r.capacity === 0) return [{ kind: 'capacity', resource_id: r.id, capacity: 0 }];
  const full: number[] = [];
  for (let u = e.start - r.bufferBeforeMs; u < e.end + r.bufferAfterMs; u++) if (countAt(s, r, u, now) >= r.capacity) full.push(u);
  return live(s, now)
    .filter((o) => o.resourceId === r.id && full.some((u) => covers(r, o, u)))
    .sort(byStartThenKey)
    .map(entryConflict);
}

function byStartThenKey(a: Entry, b: Entry): number {
  const ka = (isHold(a) ? 'h:' : 'b:') + a.id;
  const kb = (isHold(b) ? 'h:' : 'b:') + b.id;
  return a.start - b.start || (ka < kb ? -1 : ka > kb ? 1 : 0);
}

// ---- outages, as §3 words them ----------------------------------------------------------------

const FOREVER = Number.MAX_SAFE_INTEGER;

/** Whether an outage concerns an entry requiring `required`: all entries, or those needing one of its capabilities. */
function concerns(o: Outage, required: readonly string[]): boolean {
  return o.capabilities.length === 0 || required.some((c) => o.capabilities.includes(c));
}

/** Unit u is inside what an unplanned outage has evicted by `now`. */
function inZone(o: Outage, u: number, now: number): boolean {
  return o.kind === 'unplanned' && u >= Math.max(o.start, o.declaredAt) && u < Math.min(o.end ?? FOREVER, now + (o.slidingWindowMs ?? 0));
}

/** Unit u is refused to an entry by the outage: new entries anywhere in it, moved ones only in the zone of an unplanned one. */
function refuses(o: Outage, u: number, now: number, moving: boolean): boolean {
  if (o.kind === 'planned' || !moving) return u >= o.start && u < (o.end ?? FOREVER);
  return inZone(o, u, now);
}

function outagesAbove(s: ModelState, rid: string): Outage[] {
  const ids = new Set(chain(s, rid).map((r) => r.id));
  return [...s.outages.values()].filter((o) => ids.has(o.resourceId));
}

/** The resource and its descendants. */
function below(s: ModelState, rid: string): Set<string> {
  const out = new Set([rid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of s.resources.values()) if (r.parentId !== null && out.has(r.parentId) && !out.has(r.id)) out.add(r.id), (grew = true);
  }
  return out;
}

function outageConflictsOf(s: ModelState, e: Entry, now: number, moving: boolean): Conflict[] {
  const out: Conflict[] = [];
  for (const o of outagesAbove(s, e.resourceId)) {
    if (!concerns(o, e.capabilities)) continue;
    let hit = false;
    for (let u = e.start; u < e.end && !hit; u++) hit = refuses(o, u, now, moving);
    if (hit) out.push({ kind: 'outage', id: o.id, resource_id: o.resourceId, start: o.start, end: o.end });
  }
  return out;
}

/** Live entries under the outage it concerns that have a unit where `pred` holds. */
function concerned(s: ModelState, o: Outage, now: number, pred: (u: number) => boolean): Entry[] {
  const under = below(s, o.resourceId);
  return live(s, now).filter((e) => {
    if (!under.has(e.resourceId) || !concerns(o, e.capabilities)) return false;
    for (let u = e.start; u < e.end; u++) if (pred(u)) return true;
    return false;
  });
}

function evictFor(s: ModelState, o: Outage, now: number): number {
  const gone = concerned(s, o, now, (u) => inZone(o, u, now));
  for (const e of gone) {
    if (isHold(e)) s.holds.delete(e.id);
    else s.bookings.delete(e.id);
  }
  return gone.length;
}

function outageFields(o: Outage): void {
  id(o.id);
  id(o.resourceId);
  if (o.kind !== 'planned' && o.kind !== 'unplanned') throw new ModelError('22023');
  time(o.start);
  if (o.end !== null) span(o.start, o.end);
  if (o.kind === 'planned') {
    if (o.end === null) throw new ModelError('23502');
    if (o.slidingWindowMs !== null) throw new ModelError('22023');
  } else {
    if (o.slidingWindowMs === null) throw new ModelError('23502');
    int(o.slidingWindowMs, 0, 2 * 366 * 86_400_000);
  }
  caps(o.capabilities);
  label(o.reason);
}

/** Live entries a planned outage matches over its whole span. */
function coveredBy(s: ModelState, o: Outage, now: number): Entry[] {
  return concerned(s, o, now, (u) => u >= o.start && u < (o.end ?? FOREVER));
}

function refuseCovered(s: ModelState, o: Outage, now: number): void {
  const inTheWay = coveredBy(s, o, now);
  if (inTheWay.length > 0) throw new ModelError('23P01', inTheWay.map(entryConflict));
}

// ---- policies, as §3 words them -------------------------------------------------------------

/**
 * Every limit of the entry's policy it would break: durations, how far ahead or behind, and the
 * user's quotas, counting `quantity` such entries. A move (or a hold made a booking; `before` is
 * what it was) is judged only on what it changes: its start for the timing limits, its length for
 * the duration limits, growth for the quotas; a new user or policy, or a booking brought back from
 * the past, counts as new.
 */
function policyBreaches(s: ModelState, p: Policy, e: Entry, now: number, quantity = 1, before?: Entry): Conflict[] {
  const out: Conflict[] = [];
  const b = (limit: Extract<Conflict, { kind: 'policy' }>['limit'], allowed: number, requested: number): void => {
    out.push({ kind: 'policy', policy_id: p.id, limit, allowed, requested });
  };
  const len = e.end - e.start;
  const sameOwner = before !== undefined && before.userId === e.userId && before.policyId === e.policyId;
  if (!sameOwner || before.end - before.start !== len) {
    if (p.minDurationMs !== null && len < p.minDurationMs) b('min_duration', p.minDurationMs, len);
    if (p.maxDurationMs !== null && len > p.maxDurationMs) b('max_duration', p.maxDurationMs, len);
  }
  if (!sameOwner || before.start !== e.start) {
    if (p.bookAheadMs !== null && e.start - now > p.bookAheadMs) b('book_ahead', p.bookAheadMs, e.start - now);
    if (p.startsWithinMs !== null && e.start - now > p.startsWithinMs) b('starts_within', p.startsWithinMs, e.start - now);
    if (p.allowStartInPastMs !== null && now - e.start > p.allowStartInPastMs) b('allow_start_in_past', p.allowStartInPastMs, now - e.start);
  }
  const counted = sameOwner && before.end > now;
  if (e.userId !== null && (!counted || before.end - before.start < len)) {
    const mine = live(s, now).filter((x) => x.userId === e.userId && x.policyId === p.id && x.end > now);
    if (!counted && p.maxBookings !== null && mine.length + quantity > p.maxBookings) b('max_bookings', p.maxBookings, mine.length + quantity);
    const used = mine.reduce((n, x) => n + (x.end - x.start), 0) + quantity * len;
    if (p.maxUsageMs !== null && used > p.maxUsageMs) b('max_usage', p.maxUsageMs, used);
  }
  return out;
}

/** After a group moved: the quotas of every user and policy it may have grown, on the result. */
function groupQuotas(s: ModelState, olds: Booking[], news: Booking[], now: number): void {
  const seen: { first: Booking; countsNew: boolean }[] = [];
  news.forEach((b, i) => {
    const o = olds[i]!;
    if (b.userId === null || b.policyId === null) return;
    const counted = o.userId === b.userId && o.policyId === b.policyId && o.end > now;
    if (counted && o.end - o.start >= b.end - b.start) return;
    const pair = seen.find((x) => x.first.userId === b.userId && x.first.policyId === b.policyId);
    if (pair === undefined) seen.push({ first: b, countsNew: !counted });
    else if (!counted) pair.countsNew = true;
  });
  for (const { first, countsNew } of seen) {
    const p = s.policies.get(first.policyId!)!;
    const mine = live(s, now).filter((x) => x.userId === first.userId && x.policyId === p.id && x.end > now);
    const used = mine.reduce((n, x) => n + (x.end - x.start), 0);
    const out: Conflict[] = [];
    if (countsNew && p.maxBookings !== null && mine.length > p.maxBookings)
      out.push({ kind: 'policy', policy_id: p.id, limit: 'max_bookings', allowed: p.maxBookings, requested: mine.length });
    if (p.maxUsageMs !== null && used > p.maxUsageMs) out.push({ kind: 'policy', policy_id: p.id, limit: 'max_usage', allowed: p.maxUsageMs, requested: used });
    if (out.length > 0) throw new ModelError('23P01', out);
  }
}

function policyFields(p: Policy): void {
  id(p.id);
  label(p.name);
  for (const v of [p.minDurationMs, p.maxDurationMs, p.bookAheadMs, p.maxUsageMs, p.startsWithinMs, p.allowStartInPastMs]) {
    if (v !== null) int(v, 0, 100 * 366 * 86_400_000);
  }
  if (p.maxBookings !== null) int(p.maxBookings, 0, 1_000_000);
  if (p.minDurationMs !== null && p.maxDurationMs !== null && p.minDurationMs > p.maxDurationMs) throw new ModelError('22023');
}

// ---- value checks, in the order the spec's errors are reported ------------------------------

function id(v: string): void {
  if (v.length === 0) throw new ModelError('22023');
  if (v.length > MAX_ID) throw new ModelError('22001');
}
const optId = (v: string | null): void => (v === null ? undefined : id(v));
function label(v: string | null): void {
  if (v !== null && v.length > MAX_LABEL) throw new ModelError('22001');
}
function caps(v: readonly string[]): void {
  if (v.length > MAX_CAPS) throw new ModelError('54000');
  for (const c of v) {
    if (c.length === 0) throw new ModelError('22023');
    if (c.length > MAX_CAP_LEN) throw new ModelError('22001');
  }
}
function time(t: number): void {
  if (!Number.isSafeInteger(t)) throw new ModelError('22023');
  if (t < MIN_T || t > MAX_T) throw new ModelError('22008');
}
function span(a: number, b: number): void {
  time(a);
  time(b);
  if (!(a < b)) throw new ModelError('22023');
}
function int(v: number, lo: number, hi: number): void {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new ModelError('22023');
}
const dedupe = (c: readonly string[]): readonly string[] => [...new Set(c)];

function resourceFields(r: Resource): void {
  id(r.id);
  optId(r.parentId);
  if (r.parentId === r.id) throw new ModelError('22023');
  label(r.name);
  int(r.capacity, 0, MAX_CAPACITY);
  int(r.bufferBeforeMs, 0, MAX_BUFFER);
  int(r.bufferAfterMs, 0, MAX_BUFFER);
  caps(r.capabilities);
  if (r.status !== undefined && r.status !== 'online' && r.status !== 'offline') throw new ModelError('22023');
  label(r.statusReason ?? null);
  if (r.poolStrategy !== undefined && !['id_order', 'fewest_bookings', 'round_robin'].includes(r.poolStrategy)) throw new ModelError('22023');
  optId(r.poolCursor ?? null);
}

/** Offline, the resource or an ancestor (the nearest first): new entries may not go there. */
function offlineOf(s: ModelState, id: string): Conflict[] {
  const r = chain(s, id).find((x) => x.status === 'offline');
  return r === undefined ? [] : [{ kind: 'offline', resource_id: r.id, reason: r.statusReason ?? null }];
}

function entryFields(e: Entry): void {
  id(e.id);
  id(e.resourceId);
  span(e.start, e.end);
  label(e.label);
  caps(e.capabilities);
  optId(e.userId);
  optId(e.policyId);
}

// ---- commands -------------------------------------------------------------------------------

function place(s: ModelState, e: Entry, now: number, before?: Entry): void {
  const moving = before !== undefined;
  const r = s.resources.get(e.resourceId);
  if (r === undefined) throw new ModelError('23503');
  if (e.capabilities.some((c) => !r.capabilities.includes(c))) throw new ModelError('23514');
  const p = e.policyId === null ? undefined : s.policies.get(e.policyId);
  if (e.policyId !== null && p === undefined) throw new ModelError('23503');
  const stays = before !== undefined && before.resourceId === e.resourceId && before.start === e.start && before.end === e.end;
  const conflicts = [
    ...(stays ? [] : offlineOf(s, r.id)),
    ...closedConflicts(s, r.id, e.policyId, e.start, e.end),
    ...outageConflictsOf(s, e, now, moving),
    ...(p === undefined ? [] : policyBreaches(s, p, e, now, 1, before)),
    ...capacityConflicts(s, r, e, now),
  ];
  if (conflicts.length > 0) throw new ModelError('23P01', conflicts);
}

/**
 * Every live entry must lie in open time; returns those a change `reaches` that do not. Only
 * what the change reaches is judged: at a block's instant, before another session's commit, the
 * state may hold an entry that was gone when that commit was checked (a hold live again at the
 * earlier instant), and a change that cannot move its open time is not refused for it.
 */
function stranded(s: ModelState, now: number, reaches: (e: Entry) => boolean): Conflict[] {
  return live(s, now)
    .filter((e) => reaches(e) && closedConflicts(s, e.resourceId, e.policyId, e.start, e.end).length > 0)
    .map(entryConflict);
}

/**
 * The entries whose open time a rule decides: at or below its resource, under its policy if it
 * has one; a blocking rule only those overlapping it (a non-blocking one can change which level's
 * rules apply, so all of them). Removing a blocking rule only opens time: it reaches none.
 */
function reachedBy(s: ModelState, x: Rule): (e: Entry) => boolean {
  const under = below(s, x.resourceId);
  return (e) => under.has(e.resourceId) && applies(x, e.policyId) && (!x.blocking || (e.start < x.end && x.start < e.end));
}

function overCapacity(s: ModelState, r: Resource, now: number): Conflict[] {
  const mine = live(s, now).filter((e) => e.resourceId === r.id);
  const over = new Set<number>();
  for (const e of mine) for (let u = e.start - r.bufferBeforeMs; u < e.end + r.bufferAfterMs; u++) if (countAt(s, r, u, now) > r.capacity) over.add(u);
  return mine
    .filter((e) => [...over].some((u) => covers(r, e, u)))
    .sort(byStartThenKey)
    .map(entryConflict);
}

function sameConflicts(a: Conflict[]): Conflict[] {
  return [...a].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

export type ModelResult = { type: 'skipped' } | { type: 'rows'; ids: string[] } | { type: 'count'; count: number };

function run(s: ModelState, c: Command, now: number): ModelResult {
  switch (c.type) {
    case 'CreateResource': {
      const r = { ...c.resource, capabilities: dedupe(c.resource.capabilities) };
      resourceFields(r);
      if (s.resources.has(r.id)) throw new ModelError('23505');
      if (r.parentId !== null) {
        if (!s.resources.has(r.parentId)) throw new ModelError('23503');
        if (chain(s, r.parentId).length + 1 > MAX_DEPTH) throw new ModelError('54000');
      }
      s.resources.set(r.id, r);
      return { type: 'rows', ids: [r.id] };
    }
    case 'UpdateResource': {
      const old = s.resources.get(c.id);
      if (old === undefined) return { type: 'rows', ids: [] };
      const p = c.patch;
      const next: Resource = {
        id: c.id,
        parentId: p.parentId !== undefined ? p.parentId : old.parentId,
        name: p.name !== undefined ? p.name : old.name,
        capacity: p.capacity ?? old.capacity,
        bufferBeforeMs: p.bufferBeforeMs ?? old.bufferBeforeMs,
        bufferAfterMs: p.bufferAfterMs ?? old.bufferAfterMs,
        capabilities: dedupe(p.capabilities ?? old.capabilities),
        status: p.status ?? old.status ?? 'online',
        statusReason: p.statusReason !== undefined ? p.statusReason : (old.statusReason ?? null),
        poolStrategy: p.poolStrategy ?? old.poolStrategy ?? 'id_order',
        poolCursor: p.poolCursor !== undefined ? p.poolCursor : (old.poolCursor ?? null),
      };
      resourceFields(next);
      if (next.parentId !== old.parentId && next.parentId !== null) {
        if (!s.resources.has(next.parentId)) throw new ModelError('23503');
        if (chain(s, next.parentId).some((r) => r.id === c.id)) throw new ModelError('22023');
        const height = (rid: string): number => 1 + Math.max(0, ...[...s.resources.values()].filter((r) => r.parentId === rid).map((r) => height(r.id)));
        if (chain(s, next.parentId).length + height(c.id) > MAX_DEPTH) throw new ModelError('54000');
      }
      s.resources.set(c.id, next);
      // Only a change that leaves less room can put entries beyond capacity.
      const tighter = next.capacity < old.capacity || next.bufferBeforeMs > old.bufferBeforeMs || next.bufferAfterMs > old.bufferAfterMs;
      const over = tighter ? overCapacity(s, next, now) : [];
      if (over.length > 0) throw new ModelError('23P01', over);
      const dropped = old.capabilities.filter((x) => !next.capabilities.includes(x));
      const needing = live(s, now).filter((e) => e.resourceId === c.id && e.capabilities.some((x) => dropped.includes(x)));
      if (needing.length > 0) throw new ModelError('23514', needing.map(entryConflict));
      if (next.parentId !== old.parentId) {
        // Only a move changes open time, and only for what is moved.
        const moved = below(s, c.id);
        const lost = stranded(s, now, (e) => moved.has(e.resourceId));
        if (lost.length > 0) throw new ModelError('23P01', lost);
        // No planned outage above it may cover a moved matching entry, however the entry came under it.
        const covered = new Set<Entry>();
        for (const o of outagesAbove(s, c.id)) {
          if (o.kind === 'planned' && !moved.has(o.resourceId)) for (const e of coveredBy(s, o, now)) if (moved.has(e.resourceId)) covered.add(e);
        }
        if (covered.size > 0) throw new ModelError('23P01', [...covered].map(entryConflict));
      }
      return { type: 'rows', ids: [c.id] };
    }
    case 'DeleteResource': {
      const r = s.resources.get(c.id);
      if (r === undefined) return { type: 'rows', ids: [] };
      if ([...s.resources.values()].some((x) => x.parentId === c.id)) throw new ModelError('23503');
      const mine = live(s, now).filter((e) => e.resourceId === c.id);
      if (mine.length > 0) throw new ModelError('23503', mine.map(entryConflict));
      for (const h of [...s.holds.values()]) if (h.resourceId === c.id) s.holds.delete(h.id);
      for (const x of [...s.rules.values()]) if (x.resourceId === c.id) s.rules.delete(x.id);
      for (const o of [...s.outages.values()]) if (o.resourceId === c.id) s.outages.delete(o.id);
      s.resources.delete(c.id);
      return { type: 'rows', ids: [c.id] };
    }
    case 'CreateRule': {
      const x = c.rule;
      id(x.id);
      id(x.resourceId);
      span(x.start, x.end);
      optId(x.policyId);
      if (s.rules.has(x.id)) throw new ModelError('23505');
      if (!s.resources.has(x.resourceId)) throw new ModelError('23503');
      if (x.policyId !== null && !s.policies.has(x.policyId)) throw new ModelError('23503');
      s.rules.set(x.id, x);
      const lost = stranded(s, now, reachedBy(s, x));
      if (lost.length > 0) throw new ModelError('23P01', lost);
      return { type: 'rows', ids: [x.id] };
    }
    case 'UpdateRule': {
      const old = s.rules.get(c.id);
      if (old === undefined) return { type: 'rows', ids: [] };
      const p = c.patch;
      const next: Rule = {
        id: c.id,
        resourceId: p.resourceId ?? old.resourceId,
        start: p.start ?? old.start,
        end: p.end ?? old.end,
        blocking: p.blocking ?? old.blocking,
        policyId: p.policyId !== undefined ? p.policyId : old.policyId,
      };
      id(next.id);
      id(next.resourceId);
      span(next.start, next.end);
      optId(next.policyId);
      if (!s.resources.has(next.resourceId)) throw new ModelError('23503');
      if (next.policyId !== null && !s.policies.has(next.policyId)) throw new ModelError('23503');
      s.rules.set(c.id, next);
      const reachedOld = reachedBy(s, old);
      const reachedNext = reachedBy(s, next);
      const lost = stranded(s, now, (e) => (!old.blocking && reachedOld(e)) || reachedNext(e));
      if (lost.length > 0) throw new ModelError('23P01', lost);
      return { type: 'rows', ids: [c.id] };
    }
    case 'DeleteRule': {
      const old = s.rules.get(c.id);
      if (old === undefined) return { type: 'rows', ids: [] };
      s.rules.delete(c.id);
      const lost = stranded(s, now, old.blocking ? () => false : reachedBy(s, old));
      if (lost.length > 0) throw new ModelError('23P01', lost);
      return { type: 'rows', ids: [c.id] };
    }
    case 'PlaceHold': {
      const h = { ...c.hold, capabilities: dedupe(c.hold.capabilities) };
      entryFields(h);
      time(h.expiresAt);
      if (h.expiresAt <= now) throw new ModelError('22023');
      const old = s.holds.get(h.id);
      if (old !== undefined && old.expiresAt > now) throw new ModelError('23505');
      s.holds.delete(h.id);
      asking(
        { where: { resource_id: h.resourceId }, start: h.start, end: h.end, offers: c.offers !== false && c.restore !== true },
        (st, t) => fits(() => place(clone(st), { ...h, start: t, end: t + h.end - h.start }, now)),
        () => place(s, h, now),
      );
      s.holds.set(h.id, h);
      return { type: 'rows', ids: [h.id] };
    }
    case 'ReleaseHold': {
      const h = s.holds.get(c.id);
      if (h === undefined || h.expiresAt <= now) return { type: 'rows', ids: [] };
      s.holds.delete(c.id);
      return { type: 'rows', ids: [c.id] };
    }
    case 'ReleaseHoldGroup': {
      const ids = [...s.holds.values()].filter((h) => h.expiresAt > now && h.groupId === c.groupId).map((h) => h.id);
      for (const x of ids) s.holds.delete(x);
      return { type: 'rows', ids: ids.sort() };
    }
    case 'ReleaseHolds': {
      const f = c.filter;
      const ids = [...s.holds.values()]
        .filter(
          (h) =>
            h.expiresAt > now &&
            (f.resourceId === undefined || h.resourceId === f.resourceId) &&
            (f.userId === undefined || h.userId === f.userId) &&
            (f.policyId === undefined || h.policyId === f.policyId) &&
            (f.startFrom === undefined || h.start >= f.startFrom) &&
            (f.endTo === undefined || h.end <= f.endTo),
        )
        .map((h) => h.id);
      for (const x of ids) s.holds.delete(x);
      return { type: 'rows', ids: ids.sort() };
    }
    case 'CreateBooking': {
      const i = c.booking;
      id(i.id);
      let hold: Hold | undefined;
      if (i.holdId !== undefined) {
        hold = s.holds.get(i.holdId);
        if (hold === undefined || hold.expiresAt <= now) throw new ModelError('23503');
      }
      const resourceId = i.resourceId ?? hold?.resourceId;
      const start = i.start ?? hold?.start;
      const end = i.end ?? hold?.end;
      if (resourceId === undefined || start === undefined || end === undefined) throw new ModelError('23502');
      const b: Booking = {
        id: i.id,
        resourceId,
        start,
        end,
        label: i.label !== undefined ? i.label : (hold?.label ?? null),
        capabilities: dedupe(i.capabilities ?? hold?.capabilities ?? []),
        userId: i.userId !== undefined ? i.userId : (hold?.userId ?? null),
        policyId: i.policyId !== undefined ? i.policyId : (hold?.policyId ?? null),
        groupId: i.groupId ?? hold?.groupId ?? null,
      };
      entryFields(b);
      optId(b.groupId);
      if (s.bookings.has(b.id)) throw new ModelError('23505');
      if (hold !== undefined) s.holds.delete(hold.id);
      if (hold === undefined)
        asking(
          { where: { resource_id: b.resourceId }, start: b.start, end: b.end, offers: c.offers !== false && c.restore !== true },
          (st, t) => fits(() => place(clone(st), { ...b, start: t, end: t + b.end - b.start }, now)),
          () => place(s, b, now),
        );
      else place(s, b, now, hold);
      s.bookings.set(b.id, b);
      return { type: 'rows', ids: [b.id] };
    }
    case 'UpdateBookings': {
      const olds = targets(s, c.target);
      const news: Booking[] = olds.map((o) => {
        const p = c.perRow === undefined ? c.patch : { ...c.patch, ...c.perRow(o) };
        return {
          id: o.id,
          resourceId: p.resourceId ?? o.resourceId,
          start: p.start ?? o.start,
          end: p.end ?? o.end,
          label: p.label !== undefined ? p.label : o.label,
          capabilities: dedupe(p.capabilities ?? o.capabilities),
          userId: p.userId !== undefined ? p.userId : o.userId,
          policyId: p.policyId !== undefined ? p.policyId : o.policyId,
          groupId: p.groupId !== undefined ? p.groupId : o.groupId,
        };
      });
      for (const b of news) {
        entryFields(b);
        optId(b.groupId);
      }
      for (const o of olds) s.bookings.delete(o.id);
      news.forEach((b, i) => {
        place(s, b, now, olds[i]);
        s.bookings.set(b.id, b);
      });
      if (news.length > 1) groupQuotas(s, olds, news, now);
      return { type: 'rows', ids: news.map((b) => b.id) };
    }
    case 'CancelBookings': {
      const olds = targets(s, c.target);
      for (const o of olds) s.bookings.delete(o.id);
      return { type: 'rows', ids: olds.map((b) => b.id) };
    }
    case 'CreateOutage': {
      const o: Outage = { ...c.outage, capabilities: dedupe(c.outage.capabilities), declaredAt: now };
      outageFields(o);
      if (s.outages.has(o.id)) throw new ModelError('23505');
      if (!s.resources.has(o.resourceId)) throw new ModelError('23503');
      if (o.kind === 'planned') refuseCovered(s, o, now);
      s.outages.set(o.id, o);
      evictFor(s, o, now);
      return { type: 'rows', ids: [o.id] };
    }
    case 'UpdateOutage': {
      const old = s.outages.get(c.id);
      if (old === undefined) return { type: 'rows', ids: [] };
      const p = c.patch;
      const o: Outage = {
        ...old,
        start: p.start ?? old.start,
        end: p.end !== undefined ? p.end : old.end,
        slidingWindowMs: p.slidingWindowMs !== undefined ? p.slidingWindowMs : old.slidingWindowMs,
        capabilities: dedupe(p.capabilities ?? old.capabilities),
        reason: p.reason !== undefined ? p.reason : old.reason,
      };
      outageFields(o);
      s.outages.set(o.id, o);
      if (o.kind === 'planned') refuseCovered(s, o, now);
      evictFor(s, o, now);
      return { type: 'rows', ids: [o.id] };
    }
    case 'DeleteOutage': {
      if (!s.outages.has(c.id)) return { type: 'rows', ids: [] };
      s.outages.delete(c.id);
      return { type: 'rows', ids: [c.id] };
    }
    case 'ApplyOutages': {
      int(c.limit, 1, 10_000);
      let n = 0;
      for (const o of [...s.outages.values()]) {
        n += evictFor(s, o, now);
        if (o.end !== null && o.end <= now) {
          s.outages.delete(o.id);
          n++;
        }
      }
      return { type: 'count', count: n };
    }
    case 'CreatePolicy': {
      policyFields(c.policy);
      if (s.policies.has(c.policy.id)) throw new ModelError('23505');
      s.policies.set(c.policy.id, c.policy);
      return { type: 'rows', ids: [c.policy.id] };
    }
    case 'UpdatePolicy': {
      const old = s.policies.get(c.id);
      if (old === undefined) return { type: 'rows', ids: [] };
      const p = { ...old, ...c.patch, id: c.id };
      policyFields(p);
      s.policies.set(c.id, p);
      return { type: 'rows', ids: [c.id] };
    }
    case 'DeletePolicy': {
      if (!s.policies.has(c.id)) return { type: 'rows', ids: [] };
      const naming: Conflict[] = [
        ...live(s, now)
          .filter((e) => e.policyId === c.id)
          .map(entryConflict),
        ...[...s.rules.values()]
          .filter((r) => r.policyId === c.id)
          .map((r): Conflict => ({ kind: 'rule', id: r.id, resource_id: r.resourceId, start: r.start, end: r.end })),
      ];
      if (naming.length > 0) throw new ModelError('23503', naming);
      for (const h of [...s.holds.values()]) if (h.policyId === c.id) s.holds.delete(h.id);
      s.policies.delete(c.id);
      return { type: 'rows', ids: [c.id] };
    }
    case 'BookFromPool':
      return poolRows(s, [c.request], now, c.offers !== false)[0]!;
    case 'ExpireHolds': {
      int(c.limit, 1, 10_000);
      const due = [...s.holds.values()]
        .filter((h) => h.expiresAt <= now)
        .sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1))
        .slice(0, c.limit);
      for (const h of due) s.holds.delete(h.id);
      return { type: 'count', count: due.length };
    }
  }
}

// ---- pools: every assignment, in order ---------------------------------------------------------

interface PoolRow {
  q: PoolRequest;
  need: readonly string[];
  members: string[];
  fits: string[];
}

/** The members a pool tries, in its strategy's order. */
function poolOrder(s: ModelState, poolId: string, need: readonly string[], now: number): string[] {
  const pool = s.resources.get(poolId)!;
  const members = [...below(s, poolId)]
    .filter((r) => r !== poolId)
    .filter((rid) => {
      const r = s.resources.get(rid)!;
      return r.capacity > 0 && need.every((x) => r.capabilities.includes(x));
    })
    .sort();
  const strategy = pool.poolStrategy ?? 'id_order';
  if (strategy === 'fewest_bookings') {
    const n = (rid: string): number => [...s.bookings.values()].filter((b) => b.resourceId === rid && b.end > now).length;
    return members.sort((a, b) => n(a) - n(b) || (a < b ? -1 : 1));
  }
  const cursor = pool.poolCursor ?? null;
  if (strategy === 'round_robin' && cursor !== null) return [...members.filter((m) => m > cursor), ...members.filter((m) => m <= cursor)];
  return members;
}

function poolBooking(q: PoolRequest, need: readonly string[], id: string, resourceId: string): Booking {
  return { id, resourceId, start: q.start, end: q.end, label: q.label, capabilities: need, userId: q.userId, policyId: q.policyId, groupId: q.groupId };
}

function poolPolicy(s: ModelState, q: PoolRequest, now: number): void {
  if (q.policyId === null) return;
  const p = s.policies.get(q.policyId);
  if (p === undefined) throw new ModelError('23503');
  const probe = poolBooking(q, [], q.ids[0]!, q.poolId);
  const breaches = policyBreaches(s, p, probe, now, q.ids.length);
  if (breaches.length > 0) throw new ModelError('23P01', breaches);
}

/** Every choice of `k` of `xs` in order (lexicographic by position). */
function* choose<T>(xs: readonly T[], k: number, from = 0): Generator<T[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= xs.length - k; i++) for (const rest of choose(xs, k - 1, i + 1)) yield [xs[i]!, ...rest];
}

/** Every assignment of rows[0 .. upto) that capacity allows, in order: a list of members per row. */
function* assignments(s: ModelState, rows: readonly PoolRow[], upto: number, now: number): Generator<string[][]> {
  function* go(i: number, state: ModelState, acc: string[][]): Generator<string[][]> {
    if (i === upto) {
      yield acc;
      return;
    }
    const row = rows[i]!;
    for (const pick of choose(row.fits, row.q.ids.length)) {
      const next = clone(state);
      let ok = true;
      pick.forEach((m, k) => {
        if (!ok) return;
        const b = poolBooking(row.q, row.need, `~${i}:${k}`, m);
        if (capacityConflicts(next, next.resources.get(m)!, b, now).length > 0) ok = false;
        else next.bookings.set(b.id, b);
      });
      if (ok) yield* go(i + 1, next, [...acc, pick]);
    }
  }
  yield* go(0, s, []);
}

function first<T>(g: Generator<T>): T | undefined {
  for (const x of g) return x;
  return undefined;
}

/**
 * A statement's pool rows, decided together: the first assignment in order of all of them. A
 * refusal names the first row no assignment of the rows before it leaves room for, with the
 * most members any of those leaves it.
 */
function poolRows(s: ModelState, reqs: readonly PoolRequest[], now: number, offers = true): ModelResult[] {
  const given = new Set<string>();
  const ask = (q: PoolRequest) =>
    [
      { where: { pool_id: q.poolId }, start: q.start, end: q.end, offers },
      (st: ModelState, t: number) => fits(() => poolRows(clone(st), [{ ...q, start: t, end: t + q.end - q.start }], now, false)),
    ] as const;
  const rows: PoolRow[] = reqs.map((q) => {
    int(q.ids.length, 1, 10_000);
    for (const i of q.ids) id(i);
    id(q.poolId);
    span(q.start, q.end);
    label(q.label);
    caps(q.capabilities);
    optId(q.userId);
    optId(q.policyId);
    optId(q.groupId);
    if (!s.resources.has(q.poolId)) throw new ModelError('23503');
    for (const i of q.ids) {
      if (s.bookings.has(i) || given.has(i)) throw new ModelError('23505');
      given.add(i);
    }
    asking(...ask(q), () => poolPolicy(s, q, now));
    const need = dedupe(q.capabilities);
    const members = poolOrder(s, q.poolId, need, now);
    const fits = members.filter((m) => {
      try {
        place(clone(s), poolBooking(q, need, q.ids[0]!, m), now);
        return true;
      } catch (e) {
        if (e instanceof ModelError && (e.sqlstate === '23P01' || e.sqlstate === '23514')) return false;
        throw e;
      }
    });
    return { q, need, members, fits };
  });
  const found = first(assignments(s, rows, rows.length, now));
  if (found === undefined) {
    let k = 0;
    while (first(assignments(s, rows, k + 1, now)) !== undefined) k++;
    const row = rows[k]!;
    let free = 0;
    for (const a of assignments(s, rows, k, now)) {
      const state = clone(s);
      a.forEach((pick, i) => pick.forEach((m, j) => state.bookings.set(`~${i}:${j}`, poolBooking(rows[i]!.q, rows[i]!.need, `~${i}:${j}`, m))));
      const n = row.fits.filter((m) => capacityConflicts(state, state.resources.get(m)!, poolBooking(row.q, row.need, '~', m), now).length === 0).length;
      free = Math.max(free, Math.min(n, row.q.ids.length));
    }
    return asking(...ask(row.q), (): never => {
      throw new ModelError('23P01', [{ kind: 'pool', pool_id: row.q.poolId, wanted: row.q.ids.length, free, candidates: row.members.length }]);
    });
  }
  const cursors = new Map<string, string>();
  const out = rows.map((row, i): ModelResult => {
    if (i > 0) asking(...ask(row.q), () => poolPolicy(s, row.q, now));
    const pick = found[i]!;
    pick.forEach((m, k) => {
      const b = poolBooking(row.q, row.need, row.q.ids[k]!, m);
      place(s, b, now);
      s.bookings.set(b.id, b);
    });
    cursors.set(row.q.poolId, pick[pick.length - 1]!);
    return { type: 'rows', ids: row.q.ids.slice() };
  });
  for (const [poolId, last] of cursors) {
    const pool = s.resources.get(poolId)!;
    if (pool.poolStrategy === 'round_robin') s.resources.set(poolId, { ...pool, poolCursor: last });
  }
  return out;
}

function targets(s: ModelState, t: BookingTarget): Booking[] {
  if ('id' in t) {
    const b = s.bookings.get(t.id);
    return b === undefined ? [] : [b];
  }
  const f = 'filter' in t ? t.filter : null;
  const keep = (b: Booking): boolean =>
    f === null
      ? b.groupId === (t as { groupId: string }).groupId
      : (f.resourceId === undefined || b.resourceId === f.resourceId) &&
        (f.userId === undefined || b.userId === f.userId) &&
        (f.policyId === undefined || b.policyId === f.policyId) &&
        (f.startFrom === undefined || b.start >= f.startFrom) &&
        (f.endTo === undefined || b.end <= f.endTo);
  return [...s.bookings.values()].filter(keep).sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Runs a batch: all or nothing. Returns the new state and results, or the first error. The
 * commands are one statement, or the statements ending at each of `ends`.
 */
export function modelExecute(
  s: ModelState,
  cmds: readonly Command[],
  now: number,
  ends?: readonly number[],
): { ok: true; state: ModelState; results: ModelResult[] } | { ok: false; error: ModelError } {
  let state = s;
  const all: ModelResult[] = [];
  let from = 0;
  for (const end of ends ?? [cmds.length]) {
    const one = modelStatement(state, cmds.slice(from, end), now);
    if (!one.ok) return one;
    state = one.state;
    all.push(...one.results);
    from = end;
  }
  return { ok: true, state, results: all };
}

function modelStatement(
  s: ModelState,
  cmds: readonly Command[],
  now: number,
): { ok: true; state: ModelState; results: ModelResult[] } | { ok: false; error: ModelError } {
  const next = clone(s);
  const results: ModelResult[] = [];
  // Two or more pool rows that are not skippable are decided together, after the rest.
  const joint: number[] = [];
  cmds.forEach((c, i) => {
    if (c.type === 'BookFromPool' && c.onConflictSkip !== true) joint.push(i);
  });
  const together = joint.length >= 2;
  try {
    for (const [i, c] of cmds.entries()) {
      if (together && joint.includes(i)) continue;
      const skippable = 'onConflictSkip' in c && c.onConflictSkip === true;
      const before = clone(next);
      try {
        results.push(run(next, c, now));
      } catch (e) {
        if (skippable && e instanceof ModelError && (e.sqlstate === '23505' || e.sqlstate === '23P01')) {
          restore(next, before);
          results.push({ type: 'skipped' });
        } else throw e;
      }
    }
    if (together) {
      const decided = poolRows(
        next,
        joint.map((i) => (cmds[i] as Extract<Command, { type: 'BookFromPool' }>).request),
        now,
        joint.every((i) => (cmds[i] as Extract<Command, { type: 'BookFromPool' }>).offers !== false),
      );
      const ordered: ModelResult[] = [];
      let other = 0;
      let pool = 0;
      for (let i = 0; i < cmds.length; i++) ordered.push(joint.includes(i) ? decided[pool++]! : results[other++]!);
      results.length = 0;
      results.push(...ordered);
    }
  } catch (e) {
    if (e instanceof ModelError) {
      const error = new ModelError(e.sqlstate, sameConflicts(e.conflicts));
      if (e.offerFor?.offers === true) error.offers = modelOffers(next, e.offerFor);
      return { ok: false, error };
    }
    throw e;
  }
  return { ok: true, state: next, results };
}

function restore(into: ModelState, from: ModelState): void {
  into.resources = from.resources;
  into.rules = from.rules;
  into.bookings = from.bookings;
  into.holds = from.holds;
  into.outages = from.outages;
  into.policies = from.policies;
}

export { sameConflicts };

// ---- availability ---------------------------------------------------------------------------

/** How much capacity a new entry whose span contains t would find left; 0 where it cannot go. */
function freeAt(s: ModelState, rid: string, t: number, now: number, policy: string | null, required: readonly string[]): number {
  const r = s.resources.get(rid);
  if (r === undefined || r.capacity === 0) return 0;
  if (required.some((c) => !r.capabilities.includes(c))) return 0;
  if (offlineOf(s, rid).length > 0) return 0;
  if (!openByRules(s, rid, policy, t) || blockedAt(s, rid, policy, t)) return 0;
  if (outagesAbove(s, rid).some((o) => concerns(o, required) && t >= o.start && t < (o.end ?? FOREVER))) return 0;
  let worst = 0;
  for (let u = t - r.bufferBeforeMs; u <= t + r.bufferAfterMs; u++) worst = Math.max(worst, countAt(s, r, u, now));
  return Math.max(0, r.capacity - worst);
}

function segments(values: number[], start: number): FreeSpan[] {
  const out: FreeSpan[] = [];
  values.forEach((v, i) => {
    if (v <= 0) return;
    const t = start + i;
    const last = out[out.length - 1];
    if (last !== undefined && last.end === t && last.free === v) out[out.length - 1] = { ...last, end: t + 1 };
    else out.push({ start: t, end: t + 1, free: v });
  });
  return out;
}

function keepLong(values: number[], minDuration: number): number[] {
  const out = [...values];
  let i = 0;
  while (i < out.length) {
    if (out[i]! <= 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < out.length && out[j]! > 0) j++;
    if (j - i < minDuration) for (let k = i; k < j; k++) out[k] = 0;
    i = j;
  }
  return out;
}

export function modelAvailability(
  s: ModelState,
  q: { resourceIds: string[]; start: number; end: number; minDurationMs?: number; capabilities?: string[]; policyId?: string | null; minAvailable?: number },
  now: number,
): { merged: false; perResource: { resourceId: string; spans: FreeSpan[] }[] } | { merged: true; spans: FreeSpan[] } {
  const ids = [...new Set(q.resourceIds)];
  const units = (rid: string): number[] => {
    const v: number[] = [];
    for (let t = q.start; t < q.end; t++) v.push(freeAt(s, rid, t, now, q.policyId ?? null, q.capabilities ?? []));
    return v;
  };
  const minD = q.minDurationMs ?? 0;
  if (q.minAvailable === undefined) {
    return { merged: false, perResource: ids.map((rid) => ({ resourceId: rid, spans: segments(keepLong(units(rid), minD), q.start) })) };
  }
  const per = ids.map(units);
  const counts: number[] = [];
  for (let i = 0; i < q.end - q.start; i++) {
    const n = per.filter((v) => v[i]! > 0).length;
    counts.push(n >= q.minAvailable ? n : 0);
  }
  return { merged: true, spans: segments(keepLong(counts, minD), q.start) };
}

function fits(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof ModelError) return false;
    throw e;
  }
}

/**
 * next_free by brute force: from `after`, every start in turn; one that fits is taken and the
 * next may start at its end. At most `horizon` past `after`.
 */
export function modelNextFree(
  s: ModelState,
  ask: {
    resourceId?: string;
    poolId?: string;
    quantity: number;
    length: number;
    capabilities: readonly string[];
    policyId: string | null;
    userId: string | null;
  },
  after: number,
  count: number,
  now: number,
  horizon: number,
): ModelOffer[] {
  const out: ModelOffer[] = [];
  const at = (t: number): boolean =>
    ask.poolId !== undefined
      ? fits(() =>
          poolRows(
            clone(s),
            [
              {
                ids: Array.from({ length: ask.quantity }, (_, k) => `~next${k}`),
                poolId: ask.poolId!,
                start: t,
                end: t + ask.length,
                capabilities: ask.capabilities,
                label: null,
                userId: ask.userId,
                policyId: ask.policyId,
                groupId: null,
              },
            ],
            now,
            false,
          ),
        )
      : fits(() =>
          place(
            clone(s),
            {
              id: '~next',
              resourceId: ask.resourceId!,
              start: t,
              end: t + ask.length,
              label: null,
              capabilities: dedupe(ask.capabilities),
              userId: ask.userId,
              policyId: ask.policyId,
              groupId: null,
            },
            now,
          ),
        );
  for (let t = after; t <= after + horizon && out.length < count; ) {
    if (at(t)) {
      out.push({ ...(ask.poolId !== undefined ? { pool_id: ask.poolId } : { resource_id: ask.resourceId! }), start: t, end: t + ask.length });
      t += ask.length;
    } else t++;
  }
  return out;
}
