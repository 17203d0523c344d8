/**
 * Booking from pools. A statement's pool rows are decided together, as one matching: each row
 * wants `ids.length` distinct members of its pool where its booking fits, and members are shared
 * between rows only as far as their capacity goes. The answer is the first assignment in order
 * (rows in the statement's order, each row's members in its pool's strategy order), so the same
 * state and statement always give the same bookings, and a statement the one-by-one choice could
 * place is placed exactly as it would have been.
 */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, iso, policyReasons, quoteList } from '../conflicts.js';
import { Limits } from '../limits.js';
import { entriesTouching, footprint, isLive } from '../placement.js';
import { refusalOf, refusing, type OfferRequest } from '../offers.js';
import { policyConflicts } from '../policies.js';
import type { Span } from '../interval-tree.js';
import { coverageSteps } from '../spans.js';
import { isHold, type ResourceNode } from '../state.js';
import type { Booking, CommandResult, Ms, PoolRequest, PoolStrategy, Resource } from '../types.js';
import { checkCapabilities, checkId, checkInteger, checkLabel, checkOptionalId, checkSpan, normaliseCapabilities, unknown } from '../validate.js';
import { checkPlacement } from './entries.js';

/** One pool row, ready to match: the members where its booking fits by itself, in order. */
interface Row {
  readonly req: PoolRequest;
  readonly capabilities: readonly string[];
  /** Members with the capabilities (capacity above 0), in the pool's order. */
  readonly members: readonly Resource[];
  /**
   * Those of them where the booking fits as the state stands, found as far as asked for
   * (`fitAt`): a row of one booking from a pool of thousands checks only the members it tries.
   */
  readonly fits: Fit[];
  /** How far `fits` was found; shared by the statement's rows that ask for the same. */
  readonly src: FitSource;
}

/**
 * The members' checks for rows asking the same of the same pool (span, capabilities, user and
 * policy): one list, found once, however many rows share it.
 */
interface FitSource {
  /** Index in `members` of the next one to check. */
  tried: number;
  /** Trying members in order: before this index every fit has no room left for the span. */
  full: number;
  /** Checks a member, adding it to `fits` if the booking fits there. */
  readonly check: (member: Resource) => void;
}

/** The row's `j`th fit, checking members as far as needed; undefined when there are fewer. */
function fitAt(row: Row, j: number): Fit | undefined {
  const src = row.src;
  while (row.fits.length <= j && src.tried < row.members.length) src.check(row.members[src.tried++]!);
  return row.fits[j];
}

/** Every member checked; each check costs `CHECK_STEPS` of the search's steps. */
function allFits(row: Row, steps: { left: number }): readonly Fit[] {
  const src = row.src;
  while (src.tried < row.members.length) {
    spend(steps, CHECK_STEPS);
    src.check(row.members[src.tried++]!);
  }
  return row.fits;
}

/** A member's placement check, in steps: about as long as this many of the search's own. */
const CHECK_STEPS = 8;

/** A member a row's booking fits on, with what already takes room on it there. */
interface Fit {
  readonly member: Resource;
  readonly node: ResourceNode;
  /** The booking's footprint on the member (its buffers added). */
  readonly fp: Span;
  /** Footprints of the live entries already overlapping it. */
  readonly taken: readonly Span[];
}

/** Decides one pool row alone: exactly what `bookFromPools` decides for a statement of one. */
export function bookFromPool(batch: Batch, req: PoolRequest, now: Ms, offers = true): CommandResult {
  return bookFromPools(batch, [req], now, offers)[0]!;
}

/**
 * Books every row's members, all or nothing: the first assignment in order that fits them all,
 * found by trying members in order and, when that leaves a row short, by a search that cannot
 * miss one (bounded by `Limits.poolSearchSteps`; past it the statement is refused with 54000).
 * A refusal names the first row that no assignment of the rows before it leaves room for, and
 * the most members any such assignment leaves it.
 */
export function bookFromPools(batch: Batch, reqs: readonly PoolRequest[], now: Ms, offers = true): CommandResult[] {
  const given = new Set<string>();
  const shared = new Map<string, Row>();
  const rows = reqs.map((req) =>
    refusing(
      offers,
      () => askOf(req),
      () => prepare(batch, req, now, given, shared),
    ),
  );
  let picks = greedy(rows);
  if (picks === null) {
    const steps = { left: Limits.poolSearchSteps };
    for (const row of rows) allFits(row, steps);
    picks = matchAll(rows, steps, offers);
  }
  const cursors = new Map<string, string>();
  const results = rows.map((row, i): CommandResult => {
    const req = row.req;
    // Quotas count every booking the statement makes: the rows before have theirs now.
    if (i > 0)
      refusing(
        offers,
        () => askOf(req),
        () => policyCheck(batch, req, now),
      );
    const made: Booking[] = [];
    picks[i]!.forEach((f, k) => {
      const booking: Booking = { ...template(req, row.capabilities), id: req.ids[k]!, resourceId: row.fits[f]!.member.id };
      checkPlacement(batch, 'booking', booking, now);
      batch.emit({ type: 'BookingConfirmed', booking });
      made.push(booking);
    });
    if (made.length > 0) cursors.set(req.poolId, made[made.length - 1]!.resourceId);
    return { type: 'bookings', rows: made };
  });
  // A round-robin pool starts its next statement after the member it booked last.
  for (const [poolId, last] of cursors) {
    const pool = batch.store.mustNode(poolId).resource;
    if (pool.poolStrategy === 'round_robin' && pool.poolCursor !== last) batch.emit({ type: 'ResourceUpdated', resource: { ...pool, poolCursor: last } });
  }
  return results;
}

function prepare(batch: Batch, req: PoolRequest, now: Ms, given: Set<string>, shared: Map<string, Row>): Row {
  const wanted = req.ids.length;
  checkInteger('quantity', wanted, 1, Limits.maxBatchCommands);
  for (const id of req.ids) checkId('booking id', id);
  checkId('pool_id', req.poolId);
  checkSpan('booking', req.start, req.end);
  checkLabel('label', req.label);
  checkCapabilities('booking', req.capabilities);
  checkOptionalId('user_id', req.userId);
  checkOptionalId('policy_id', req.policyId);
  checkOptionalId('group_id', req.groupId);
  const pool = batch.store.node(req.poolId);
  if (pool === undefined) throw unknown('resource', req.poolId, 'pool_id');
  for (const id of req.ids) {
    if (batch.store.bookings.has(id) || given.has(id))
      throw new AllotError(SqlState.uniqueViolation, `booking "${id}" already exists`, { detail: `Key (id)=(${id}) already exists.` });
    given.add(id);
  }
  policyCheck(batch, req, now);
  const capabilities = normaliseCapabilities(req.capabilities);
  const key = JSON.stringify([req.poolId, req.start, req.end, capabilities, req.userId, req.policyId]);
  const same = shared.get(key);
  if (same !== undefined) return { req, capabilities, members: same.members, fits: same.fits, src: same.src };
  const members = ordered(batch, pool.resource, batch.read.poolMembers(req.poolId, capabilities), now);
  const fits: Fit[] = [];
  const check = (member: Resource): void => {
    const probe: Booking = { ...template(req, capabilities), id: req.ids[0]!, resourceId: member.id };
    try {
      checkPlacement(batch, 'booking', probe, now);
    } catch (err) {
      if (err instanceof AllotError && (err.sqlstate === SqlState.exclusionViolation || err.sqlstate === SqlState.checkViolation)) return;
      throw err;
    }
    const node = batch.store.mustNode(member.id);
    const fp = footprint(member, req.start, req.end);
    const taken = entriesTouching(node, fp.start, fp.end, now).map((e) => footprint(member, e.start, e.end));
    fits.push({ member, node, fp, taken });
  };
  const row: Row = { req, capabilities, members, fits, src: { tried: 0, full: 0, check } };
  shared.set(key, row);
  return row;
}

function template(req: PoolRequest, capabilities: readonly string[]): Omit<Booking, 'id' | 'resourceId'> {
  return { start: req.start, end: req.end, label: req.label, capabilities, userId: req.userId, policyId: req.policyId, groupId: req.groupId };
}

/** Limits of the policy hold for every member alike: refuse for them, not for the pool. */
function policyCheck(batch: Batch, req: PoolRequest, now: Ms): void {
  if (req.policyId === null) return;
  const policy = batch.store.policies.get(req.policyId);
  if (policy === undefined) throw unknown('policy', req.policyId, 'policy_id');
  const wanted = req.ids.length;
  const limits = policyConflicts(batch.store, policy, req, now, wanted);
  if (limits.length > 0) {
    throw new AllotError(
      SqlState.exclusionViolation,
      `cannot book ${wanted} from pool "${req.poolId}" [${iso(req.start)}, ${iso(req.end)}): ${policyReasons(limits).join('; ')}`,
      { detail: conflictDetail(limits) },
    );
  }
}

/**
 * The members in the order the pool tries them: by id (`id_order`, the default); by fewest
 * current and future bookings, then id (`fewest_bookings`); or by id starting after the pool's
 * cursor, the member it booked last, and around (`round_robin`).
 */
function ordered(batch: Batch, pool: Resource, members: Resource[], now: Ms): Resource[] {
  const strategy: PoolStrategy = pool.poolStrategy ?? 'id_order';
  if (strategy === 'fewest_bookings') {
    const count = new Map<string, number>();
    for (const m of members) count.set(m.id, currentBookings(batch.store.mustNode(m.id), now));
    return members.sort((a, b) => count.get(a.id)! - count.get(b.id)! || (a.id < b.id ? -1 : 1));
  }
  if (strategy === 'round_robin' && pool.poolCursor != null) {
    const cursor = pool.poolCursor;
    const after = members.findIndex((m) => m.id > cursor);
    return after <= 0 ? members : [...members.slice(after), ...members.slice(0, after)];
  }
  return members;
}

/** Bookings on a resource that have not ended. */
function currentBookings(node: ResourceNode, now: Ms): number {
  let n = 0;
  for (const e of node.entries.collectOverlapping(now, Number.MAX_SAFE_INTEGER, [])) if (!isHold(e) && isLive(e, now)) n++;
  return n;
}

// ---- matching -------------------------------------------------------------------------------

/** What the statement's own bookings take on each member so far: their spans. */
type Placed = Map<string, Span[]>;

/** Room left on a member for one more booking of the row's span: capacity less the peak load. */
function room(f: Fit, placed: Placed, steps: { left: number } | null): number {
  const cap = f.member.capacity;
  const mine = placed.get(f.member.id);
  let extra: Span[] | null = null;
  if (mine !== undefined) {
    for (const s of mine) {
      const fp = footprint(f.member, s.start, s.end);
      if (fp.start < f.fp.end && f.fp.start < fp.end) (extra ??= []).push(fp);
    }
  }
  const n = f.taken.length + (extra?.length ?? 0);
  if (steps !== null) spend(steps, 1 + n);
  if (n === 0) return cap;
  const all = extra === null ? f.taken : [...f.taken, ...extra];
  let peak = 0;
  for (const s of coverageSteps(all, f.fp.start, f.fp.end)) if (s.count > peak) peak = s.count;
  return cap - peak;
}

function spend(steps: { left: number }, n: number): void {
  steps.left -= n;
  if (steps.left < 0) {
    throw new AllotError(
      SqlState.programLimitExceeded,
      `matching the statement's pool rows took more than ${Limits.poolSearchSteps} steps, the limit; nothing was booked`,
      { hint: 'Book fewer pool rows in one statement, or give some of them their resource_id.' },
    );
  }
}

function place(placed: Placed, id: string, s: Span): void {
  const mine = placed.get(id);
  if (mine === undefined) placed.set(id, [s]);
  else mine.push(s);
}

function unplace(placed: Placed, id: string): void {
  placed.get(id)!.pop();
}

/** Members in order, each row in turn: the first assignment, if trying in order finds one. */
function greedy(rows: readonly Row[]): number[][] | null {
  const placed: Placed = new Map();
  const picks: number[][] = [];
  for (const row of rows) {
    const mine: number[] = [];
    const want = row.req.ids.length;
    // Fits before `full` have no room left: rows of the same span skip them (room only shrinks).
    for (let j = row.src.full; mine.length < want; j++) {
      const f = fitAt(row, j);
      if (f === undefined) break;
      if (room(f, placed, null) <= 0) {
        if (j === row.src.full) row.src.full++;
        continue;
      }
      place(placed, f.member.id, row.req);
      mine.push(j);
    }
    if (mine.length < want) return null;
    picks.push(mine);
  }
  return picks;
}

/**
 * The first assignment of every row, or the refusal. Rows that share no member at overlapping
 * times cannot affect each other, so each set of rows that can is solved on its own.
 */
function matchAll(rows: readonly Row[], steps: { left: number }, offers: boolean): number[][] {
  const picks: number[][] = rows.map(() => []);
  let worst: { row: number; free: number } | null = null;
  for (const part of components(rows, steps)) {
    const sub = part.map((i) => rows[i]!);
    const found = search(sub, sub.length, steps);
    if (found !== null) {
      part.forEach((i, k) => {
        picks[i] = found[k]!;
      });
      continue;
    }
    // The first row of this set that no assignment of the ones before it leaves room for.
    let k = 0;
    while (search(sub, k + 1, steps) !== null) k++;
    if (worst === null || part[k]! < worst.row) worst = { row: part[k]!, free: mostFree(sub, k, steps) };
  }
  if (worst === null) return picks;
  const row = rows[worst.row]!;
  const req = row.req;
  const wanted = req.ids.length;
  const n = row.members.length;
  const caps = row.capabilities;
  const err = new AllotError(
    SqlState.exclusionViolation,
    `pool "${req.poolId}" has ${worst.free} of ${wanted} wanted resources free [${iso(req.start)}, ${iso(req.end)}) (of ${n} ${n === 1 ? 'member' : 'members'}${caps.length > 0 ? ` with ${quoteList(caps)}` : ''})` +
      (worst.row > 0 ? " once the statement's rows before it are placed" : ''),
    { detail: conflictDetail([{ kind: 'pool', pool_id: req.poolId, wanted, free: worst.free, candidates: n }]) },
  );
  throw offers ? refusalOf(err, askOf(req)) : err;
}

/** What a pool row asked for, for the offers its refusal carries. */
function askOf(req: PoolRequest): OfferRequest {
  return {
    poolId: req.poolId,
    quantity: req.ids.length,
    start: req.start,
    end: req.end,
    capabilities: normaliseCapabilities(req.capabilities),
    userId: req.userId,
    policyId: req.policyId,
  };
}

/** Rows linked by a member they could share at overlapping times, as lists of row indexes. */
function components(rows: readonly Row[], steps: { left: number }): number[][] {
  const parent = rows.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const byMember = new Map<string, { row: number; fp: Span }[]>();
  rows.forEach((row, i) => {
    spend(steps, 1 + row.fits.length);
    for (const f of row.fits) {
      const list = byMember.get(f.member.id);
      if (list === undefined) byMember.set(f.member.id, [{ row: i, fp: f.fp }]);
      else list.push({ row: i, fp: f.fp });
    }
  });
  for (const list of byMember.values()) {
    list.sort((a, b) => a.fp.start - b.fp.start);
    let reach = -Infinity;
    let last = -1;
    for (const x of list) {
      if (last >= 0 && x.fp.start < reach) parent[find(x.row)] = find(last);
      if (x.fp.end > reach) {
        reach = x.fp.end;
        last = x.row;
      }
    }
  }
  const parts = new Map<number, number[]>();
  rows.forEach((_, i) => {
    const r = find(i);
    const part = parts.get(r);
    if (part === undefined) parts.set(r, [i]);
    else part.push(i);
  });
  return [...parts.values()];
}

/**
 * The first assignment of rows[0 .. upto) in order, or null if there is none: a depth-first
 * walk over each booking's member, cut wherever the bookings left cannot all be matched even
 * counting only rows of one span at a time (for a set of rows of one span, exactly when).
 */
function search(rows: readonly Row[], upto: number, steps: { left: number }): number[][] | null {
  const slots: number[] = [];
  for (let i = 0; i < upto; i++) for (let k = 0; k < rows[i]!.req.ids.length; k++) slots.push(i);
  const chosen = new Int32Array(slots.length).fill(-1);
  const placed: Placed = new Map();
  if (!stillMatchable(rows, upto, slots, 0, chosen, placed, steps)) return null;
  let t = 0;
  let from = 0;
  while (t < slots.length) {
    const i = slots[t]!;
    const row = rows[i]!;
    const left = slotsLeftInRow(slots, t);
    let took = -1;
    for (let j = from; j <= row.fits.length - left; j++) {
      const f = row.fits[j]!;
      if (room(f, placed, steps) <= 0) continue;
      place(placed, f.member.id, row.req);
      chosen[t] = j;
      if (stillMatchable(rows, upto, slots, t + 1, chosen, placed, steps)) {
        took = j;
        break;
      }
      unplace(placed, f.member.id);
      chosen[t] = -1;
    }
    if (took >= 0) {
      t++;
      from = t < slots.length && slots[t] === i ? took + 1 : 0;
      continue;
    }
    if (t === 0) return null;
    t--;
    const back = chosen[t]!;
    unplace(placed, rows[slots[t]!]!.fits[back]!.member.id);
    chosen[t] = -1;
    from = back + 1;
  }
  const picks: number[][] = [];
  for (let i = 0; i < upto; i++) picks.push([]);
  slots.forEach((i, t) => {
    picks[i]!.push(chosen[t]!);
  });
  return picks;
}

function slotsLeftInRow(slots: readonly number[], t: number): number {
  let n = 0;
  for (let u = t; u < slots.length && slots[u] === slots[t]; u++) n++;
  return n;
}

/** A row still to match: how many bookings it wants yet, from which of its fits. */
interface Open {
  readonly row: Row;
  readonly need: number;
  readonly fits: readonly Fit[];
}

/**
 * Whether the bookings from slot `t` on could still be matched, as far as two necessary
 * conditions tell (for rows of one span the first is also sufficient):
 * - rows of one span: a flow from rows (wanting their bookings left) to members, each taking
 *   as many more of that span as its room allows;
 * - rows whose spans share an instant (each row's start): the same, a member taking as many
 *   as it has room for at that instant, since all of them overlap there on every member.
 * A partly placed row may take only members after its last.
 */
function stillMatchable(
  rows: readonly Row[],
  upto: number,
  slots: readonly number[],
  t: number,
  chosen: Int32Array,
  placed: Placed,
  steps: { left: number },
): boolean {
  if (t >= slots.length) return true;
  const open: Open[] = [];
  for (let i = slots[t]!; i < upto; i++) {
    const row = rows[i]!;
    let need = row.req.ids.length;
    let from = 0;
    if (i === slots[t]) {
      const done = t - slots.indexOf(i);
      need -= done;
      if (done > 0) from = chosen[t - 1]! + 1;
    }
    spend(steps, 1 + (row.fits.length >> 3));
    open.push({ row, need, fits: from === 0 ? row.fits : row.fits.slice(from) });
  }
  const spans = new Map<string, Open[]>();
  for (const o of open) {
    const key = `${o.row.req.start}:${o.row.req.end}`;
    const list = spans.get(key);
    if (list === undefined) spans.set(key, [o]);
    else list.push(o);
  }
  for (const list of spans.values()) if (!flowMeets(list, (f) => room(f, placed, steps), steps)) return false;
  if (spans.size === 1) return true;
  const instants = [...new Set(open.map((o) => o.row.req.start))];
  for (const at of instants) {
    const list = open.filter((o) => o.row.req.start <= at && at < o.row.req.end);
    if (list.length < 2) continue;
    if (!flowMeets(list, (f) => roomAt(f, at, placed, steps), steps)) return false;
  }
  return true;
}

/** Room left on a member at one instant of the row's span. */
function roomAt(f: Fit, at: Ms, placed: Placed, steps: { left: number }): number {
  let load = 0;
  for (const s of f.taken) if (s.start <= at && at < s.end) load++;
  const mine = placed.get(f.member.id);
  if (mine !== undefined) {
    for (const s of mine) {
      const fp = footprint(f.member, s.start, s.end);
      if (fp.start <= at && at < fp.end) load++;
    }
  }
  spend(steps, 1 + f.taken.length + (mine?.length ?? 0));
  return f.member.capacity - load;
}

/**
 * Whether the rows can each have `need` distinct members of their fits, a member taking at
 * most its room (the first row's view of it): augmenting paths, one booking at a time.
 */
function flowMeets(list: readonly Open[], roomOf: (f: Fit) => number, steps: { left: number }): boolean {
  const cap = new Map<string, number>();
  const edges: string[][] = list.map((r) => {
    spend(steps, 1 + r.fits.length);
    const ids: string[] = [];
    for (const f of r.fits) {
      const id = f.member.id;
      if (!cap.has(id)) cap.set(id, Math.max(0, roomOf(f)));
      if (cap.get(id)! > 0) ids.push(id);
    }
    return ids;
  });
  // assigned: member -> rows using it (one unit each); uses: row -> members it holds.
  const assigned = new Map<string, number[]>();
  const uses = list.map(() => new Set<string>());
  const augment = (r: number, seen: Set<string>): boolean => {
    for (const m of edges[r]!) {
      if (uses[r]!.has(m) || seen.has(m)) continue;
      seen.add(m);
      spend(steps, 1);
      const holders = assigned.get(m) ?? [];
      if (holders.length < cap.get(m)!) {
        holders.push(r);
        assigned.set(m, holders);
        uses[r]!.add(m);
        return true;
      }
      for (let h = 0; h < holders.length; h++) {
        const other = holders[h]!;
        if (augment(other, seen)) {
          // `other` found another member: it gives this one up to r.
          uses[other]!.delete(m);
          holders[h] = r;
          uses[r]!.add(m);
          return true;
        }
      }
    }
    return false;
  };
  for (let r = 0; r < list.length; r++) {
    if (edges[r]!.length < list[r]!.need) return false;
    for (let k = 0; k < list[r]!.need; k++) if (!augment(r, new Set())) return false;
  }
  return true;
}

/**
 * For a refusal: the most members row `k` can have under any assignment of the rows before it
 * (which has one). A walk over those assignments, cut where the members left for row `k` cannot
 * beat the best so far.
 */
function mostFree(rows: readonly Row[], k: number, steps: { left: number }): number {
  const row = rows[k]!;
  const want = row.req.ids.length;
  const placed: Placed = new Map();
  const count = (): number => {
    let n = 0;
    for (const f of row.fits) if (room(f, placed, steps) > 0) n++;
    return Math.min(n, want);
  };
  const slots: number[] = [];
  for (let i = 0; i < k; i++) for (let s = 0; s < rows[i]!.req.ids.length; s++) slots.push(i);
  let best = -1;
  const walk = (t: number, from: number): void => {
    if (best >= want - 1) return;
    const bound = count();
    if (bound <= best) return;
    if (t === slots.length) {
      best = bound;
      return;
    }
    const i = slots[t]!;
    const r = rows[i]!;
    const left = slotsLeftInRow(slots, t);
    for (let j = from; j <= r.fits.length - left; j++) {
      const f = r.fits[j]!;
      if (room(f, placed, steps) <= 0) continue;
      place(placed, f.member.id, r.req);
      walk(t + 1, t + 1 < slots.length && slots[t + 1] === i ? j + 1 : 0);
      unplace(placed, f.member.id);
      if (best >= want - 1) return;
    }
  };
  walk(0, 0);
  return Math.max(best, 0);
}
