/**
 * The engine: a pure, synchronous state machine. `execute` decides a batch of commands against
 * the current state at a given `now` and returns the effects (what changed); `replay` applies
 * effects without deciding anything. A draft is a transaction block's batch kept open across its
 * statements (`openDraft` … `keepDraft`), and can be cut back to a mark (`markDraft`,
 * `rewindDraft`: a savepoint). No I/O, no timers, no clock, no randomness.
 */
import { AllotError, SqlState } from '../errors.js';
import { availability, availabilityWith, type AvailabilityAnswer, type SpanMaker } from './availability.js';
import { conflictDetail, describeConflicts, iso, placementError, policyReasons, quoteList } from './conflicts.js';
import { Limits } from './limits.js';
import {
  capacityConflicts,
  chainOf,
  closedConflicts,
  entryConflict,
  isLive,
  missingCapabilities,
  overCapacity,
} from './placement.js';
import { closedRange, evictionZone, matchingEntries, outageConflicts, outageDeadline, underPlannedOutagesAbove } from './outages.js';
import { policyConflicts, quotaConflicts, usage } from './policies.js';
import { isHold, Store, type Entry, type ResourceNode } from './state.js';
import type {
  AvailabilityQuery,
  Booking,
  BookingInput,
  BookingPatch,
  BookingTarget,
  Command,
  CommandResult,
  Conflict,
  Effect,
  Hold,
  Ms,
  Outage,
  OutagePatch,
  Policy,
  PolicyPatch,
  PoolRequest,
  Resource,
  ResourcePatch,
  Rule,
  RulePatch,
} from './types.js';
import {
  checkCapabilities,
  checkId,
  checkInteger,
  checkLabel,
  checkOptionalId,
  checkSpan,
  checkTime,
  normaliseCapabilities,
} from './validate.js';

export interface ExecOutcome {
  readonly effects: readonly Effect[];
  readonly results: readonly CommandResult[];
  /** Effects that undo `effects` when replayed in reverse order (a log write that failed). */
  readonly inverse: readonly Effect[];
}

export interface EngineOptions {
  /** Re-verify capacity and tree invariants after every batch (tests turn this on). */
  readonly checkInvariants?: boolean;
}

/** The whole state, each kind in an order it can be loaded in. */
export interface CapturedState {
  readonly resources: readonly Resource[];
  readonly policies: readonly Policy[];
  readonly rules: readonly Rule[];
  readonly bookings: readonly Booking[];
  readonly holds: readonly Hold[];
  readonly outages: readonly Outage[];
}

/**
 * A transaction block's writes: every statement's commands, decided at one instant (`now`, the
 * block's), and the effects its client was shown. While the block runs they stay applied in the
 * engine as one open batch, so each statement decides only its own commands on top; anything
 * else that needs the engine takes the draft out first (`closeDraft`), and the block puts it
 * back (`reopenDraft`) before its next statement. Only the engine changes it.
 */
export interface Draft {
  readonly now: Ms;
  readonly commands: readonly Command[];
  /** What the client was shown, in order; what COMMIT logs. */
  readonly effects: readonly Effect[];
  /** Undoes `effects` on the state the draft was last decided (or put back) on. */
  readonly inverse: readonly Effect[];
  /** Rows the commands write, against `Limits.maxBatchCommands`. */
  readonly rows: number;
}

class DraftState implements Draft {
  readonly commands: Command[] = [];
  readonly effects: Effect[] = [];
  inverse: Effect[] = [];
  rows = 0;
  /** The engine's state version when the draft was last in the engine. */
  version = -1;
  /** Counts the times the draft was put in the engine: a store mark is good only within one. */
  entries = 0;
  constructor(readonly now: Ms) {}
}

/**
 * A point of a draft between two of its statements, to go back to (a savepoint): how many of
 * its commands and effects were there, and where the store's undo log stood if it was in.
 */
export interface DraftMark {
  readonly draft: Draft;
  readonly commands: number;
  readonly effects: number;
  readonly rows: number;
}

class DraftMarkState implements DraftMark {
  constructor(
    readonly draft: DraftState,
    readonly commands: number,
    readonly effects: number,
    readonly rows: number,
    /** The store's undo-log length at the mark, or -1 if the draft was out. */
    readonly undo: number,
    /** `draft.entries` at the mark: the undo-log position means something only while it holds. */
    readonly entry: number,
  ) {}
}

function own(d: Draft): DraftState {
  if (!(d instanceof DraftState)) throw new Error('engine: a draft not made by the engine');
  return d;
}

function ownMark(m: DraftMark, d: DraftState): DraftMarkState {
  if (!(m instanceof DraftMarkState) || m.draft !== d) throw new Error('engine: a mark not made on this draft');
  return m;
}

/** What one statement of a draft did. */
export interface DraftStatement {
  readonly results: readonly CommandResult[];
  readonly effects: readonly Effect[];
}

/** Rows the commands write: a pool booking one per member it books. */
function rowsOf(commands: readonly Command[]): number {
  let rows = 0;
  for (const c of commands) rows += c.type === 'BookFromPool' ? c.request.ids.length : 1;
  return rows;
}

export class Engine {
  readonly store = new Store();
  private effects: Effect[] = [];
  private inverse: Effect[] = [];
  private readonly checkInvariants: boolean;
  /** The draft applied in the store now, if any: its batch is the one open. */
  private open: DraftState | null = null;
  /**
   * Counts changes kept in the state (a batch executed, a draft kept, effects replayed). A draft
   * taken out is put back by replaying its effects only while this has not moved: on any other
   * state they might not even apply.
   */
  private version = 0;
  /**
   * The latest instant any kept batch was decided at. A block decides at its own instant, which
   * may be earlier; the state is valid at every instant from this one on (an entry live then was
   * live at any earlier instant too), so invariants are checked there.
   */
  private latestNow: Ms = -Infinity;

  constructor(opts: EngineOptions = {}) {
    this.checkInvariants = opts.checkInvariants ?? false;
  }

  // ---- batches ------------------------------------------------------------------------

  /** Decides and applies the commands atomically: all succeed, or none does and it throws. */
  execute(commands: readonly Command[], now: Ms): ExecOutcome {
    const rows = rowsOf(commands);
    if (rows > Limits.maxBatchCommands) {
      throw new AllotError(SqlState.programLimitExceeded, `a batch of ${rows} rows is over the limit of ${Limits.maxBatchCommands}`);
    }
    checkTime('now', now);
    this.store.begin();
    this.effects = [];
    this.inverse = [];
    let keep = false;
    try {
      const results = commands.map((c) => this.runOne(c, now));
      if (this.checkInvariants) this.assertInvariants(Math.max(now, this.latestNow));
      const outcome = { effects: this.effects, results, inverse: this.inverse };
      keep = true;
      this.kept(outcome.effects.length, now);
      return outcome;
    } finally {
      this.store.end(keep);
      if (!keep) {
        this.effects = [];
        this.inverse = [];
      }
    }
  }

  private kept(effects: number, now: Ms): void {
    if (effects > 0) this.version++;
    if (now > this.latestNow) this.latestNow = now;
  }

  // ---- drafts -------------------------------------------------------------------------

  /** The draft applied in the engine now, if any. */
  get drafted(): Draft | null {
    return this.open;
  }

  /** Opens an empty draft deciding at `now`; nothing else may run in the engine until it is out. */
  openDraft(now: Ms): Draft {
    checkTime('now', now);
    this.store.begin();
    const d = new DraftState(now);
    this.enter(d);
    return d;
  }

  /**
   * Decides one statement's commands on top of the draft, all or none: a refusal undoes only
   * this statement's part and throws. A draft holds at most `Limits.maxBatchCommands` rows, the
   * limit of the one record COMMIT makes.
   */
  draft(draft: Draft, commands: readonly Command[]): DraftStatement {
    const d = this.assertOpen(draft);
    const rows = d.rows + rowsOf(commands);
    if (rows > Limits.maxBatchCommands) {
      throw new AllotError(SqlState.programLimitExceeded, `a transaction of ${rows} rows is over the limit of ${Limits.maxBatchCommands}`, {
        hint: `Write at most ${Limits.maxBatchCommands} rows a transaction; this one is aborted.`,
      });
    }
    const mark = this.store.mark();
    const before = d.effects.length;
    let ok = false;
    try {
      const results = commands.map((c) => this.runOne(c, d.now));
      if (this.checkInvariants) this.assertInvariants(Math.max(d.now, this.latestNow));
      ok = true;
      for (const c of commands) d.commands.push(c);
      d.rows = rows;
      return { results, effects: d.effects.slice(before) };
    } finally {
      if (!ok) {
        this.store.rollbackTo(mark);
        d.effects.length = before;
        d.inverse.length = before;
      }
    }
  }

  /**
   * Takes the draft in the engine out, if one is (only `d`, when given): the state is exactly as
   * before it was opened. The draft keeps its commands and effects, to be put back.
   */
  closeDraft(d?: Draft): void {
    const open = this.open;
    if (open === null || (d !== undefined && open !== d)) return;
    this.store.end(false);
    this.leave();
  }

  /**
   * Puts a draft that was taken out back. On the state it was last in the engine with, its
   * effects are applied again, deciding nothing. On any other, its commands are decided again at
   * its instant: it is back only if that gives exactly the effects it had (true); if they differ
   * it stays out (false), and a refusal throws.
   */
  reopenDraft(draft: Draft): boolean {
    const d = own(draft);
    if (this.open === d) throw new Error('engine: reopening a draft that is in');
    this.store.begin();
    if (d.version === this.version) {
      try {
        for (const e of d.effects) this.apply(e);
      } catch (err) {
        this.store.end(false);
        throw err;
      }
      this.enter(d);
      return true;
    }
    const inverse: Effect[] = [];
    this.effects = [];
    this.inverse = inverse;
    let back = false;
    try {
      for (const c of d.commands) this.runOne(c, d.now);
      if (!sameEffects(this.effects, d.effects)) return false;
      if (this.checkInvariants) this.assertInvariants(Math.max(d.now, this.latestNow));
      d.inverse = inverse;
      this.enter(d);
      back = true;
      return true;
    } finally {
      if (!back) {
        this.store.end(false);
        this.leave();
      }
    }
  }

  /** Marks where the draft stands now, in the engine or out, for `rewindDraft`. */
  markDraft(draft: Draft): DraftMark {
    const d = own(draft);
    const undo = this.open === d ? this.store.mark() : -1;
    return new DraftMarkState(d, d.commands.length, d.effects.length, d.rows, undo, d.entries);
  }

  /**
   * Takes the draft back to `mark` (null: to its start), forgetting every command and effect
   * after it: a ROLLBACK TO SAVEPOINT. In the engine since the mark was made, the store undoes
   * what came after it and the draft stays in; otherwise the draft is taken out (if in), cut
   * short, and put back later by `reopenDraft` like any draft: its kept effects replayed on the
   * state they were decided on, or its kept commands decided again at its instant on any other.
   */
  rewindDraft(draft: Draft, mark: DraftMark | null): void {
    const d = own(draft);
    const m = mark === null ? null : ownMark(mark, d);
    const commands = m?.commands ?? 0;
    const effects = m?.effects ?? 0;
    if (commands > d.commands.length || effects > d.effects.length) throw new Error('engine: rewinding a draft to a mark past its end');
    if (this.open === d && (m === null || (m.undo >= 0 && m.entry === d.entries))) {
      this.store.rollbackTo(m?.undo ?? 0);
    } else this.closeDraft(d);
    d.commands.length = commands;
    d.effects.length = effects;
    d.inverse.length = effects;
    d.rows = m?.rows ?? 0;
    if (this.open === d && this.checkInvariants) this.assertInvariants(Math.max(d.now, this.latestNow));
  }

  /**
   * Keeps the draft's writes in the state: a block's COMMIT, as one batch decided at its
   * instant. Its statements had their results; the commit has none of its own.
   */
  keepDraft(draft: Draft): ExecOutcome {
    const d = this.assertOpen(draft);
    this.store.end(true);
    this.leave();
    this.kept(d.effects.length, d.now);
    return { effects: d.effects, results: [], inverse: d.inverse };
  }

  private enter(d: DraftState): void {
    this.open = d;
    d.version = this.version;
    d.entries++;
    this.effects = d.effects;
    this.inverse = d.inverse;
  }

  private leave(): void {
    this.open = null;
    this.effects = [];
    this.inverse = [];
  }

  private assertOpen(d: Draft): DraftState {
    if (this.open !== d) throw new Error(this.open === null ? 'engine: the draft is not in the engine' : "engine: another block's draft is in the engine");
    if (!this.store.inBatch) throw new Error('engine: a draft is in without its batch');
    return this.open;
  }

  /**
   * Decides the commands, hands the outcome to `read` while the state includes them, then
   * undoes everything: whether commands would be accepted, changing nothing.
   */
  dryRun<T>(commands: readonly Command[], now: Ms, read: (outcome: ExecOutcome) => T): T {
    checkTime('now', now);
    this.store.begin();
    this.effects = [];
    this.inverse = [];
    try {
      const results = commands.map((c) => this.runOne(c, now));
      return read({ effects: this.effects, results, inverse: this.inverse });
    } finally {
      this.store.end(false);
      this.effects = [];
      this.inverse = [];
    }
  }

  /** Applies logged effects, deciding nothing: the same effects rebuild the same state. */
  replay(effects: readonly Effect[]): void {
    // Inside an open batch they would join it (and a draft's undo would take them away).
    if (this.store.inBatch) throw new Error('engine: replay while a batch is open');
    for (const e of effects) this.apply(e);
    if (effects.length > 0) this.version++;
  }

  /**
   * The whole state as arrays (resources parents first), for a snapshot. Entities are
   * immutable, so the arrays stay a consistent picture while the state moves on.
   */
  capture(): CapturedState {
    const s = this.store;
    const resources: Resource[] = [];
    const queue: string[] = [];
    for (const n of s.resources.values()) if (n.resource.parentId === null) queue.push(n.resource.id);
    for (let i = 0; i < queue.length; i++) {
      const n = s.mustNode(queue[i]!);
      resources.push(n.resource);
      for (const c of n.children) queue.push(c);
    }
    return {
      resources,
      policies: [...s.policies.values()],
      rules: [...s.rules.values()],
      bookings: [...s.bookings.values()],
      holds: [...s.holds.values()],
      outages: [...s.outages.values()],
    };
  }

  /** Loads a captured state into an empty engine. */
  load(state: CapturedState): void {
    if (this.store.resources.size > 0) throw new Error('engine: load into a non-empty engine');
    if (this.store.inBatch) throw new Error('engine: load while a batch is open');
    this.version++;
    for (const r of state.resources) this.store.addResource(r);
    for (const p of state.policies) this.store.putPolicy(p);
    for (const r of state.rules) this.store.addRule(r);
    for (const b of state.bookings) this.store.addBooking(b);
    for (const h of state.holds) this.store.addHold(h);
    for (const o of state.outages) this.store.addOutage(o);
  }

  private runOne(cmd: Command, now: Ms): CommandResult {
    const skippable = 'onConflictSkip' in cmd && cmd.onConflictSkip === true;
    if (!skippable) return this.decide(cmd, now);
    const mark = this.store.mark();
    const effectCount = this.effects.length;
    try {
      return this.decide(cmd, now);
    } catch (err) {
      if (err instanceof AllotError && (err.sqlstate === SqlState.uniqueViolation || err.sqlstate === SqlState.exclusionViolation)) {
        this.store.rollbackTo(mark);
        this.effects.length = effectCount;
        this.inverse.length = effectCount;
        return { type: 'skipped' };
      }
      throw err;
    }
  }

  private decide(cmd: Command, now: Ms): CommandResult {
    switch (cmd.type) {
      case 'CreateResource':
        return this.createResource(cmd.resource);
      case 'UpdateResource':
        return this.updateResource(cmd.id, cmd.patch, now);
      case 'DeleteResource':
        return this.deleteResource(cmd.id, now);
      case 'CreateRule':
        return this.createRule(cmd.rule, now);
      case 'UpdateRule':
        return this.updateRule(cmd.id, cmd.patch, now);
      case 'DeleteRule':
        return this.deleteRule(cmd.id, now);
      case 'PlaceHold':
        return this.placeHold(cmd.hold, now, cmd.restore === true);
      case 'ReleaseHold':
        return this.releaseHold(cmd.id, now);
      case 'CreateBooking':
        return this.createBooking(cmd.booking, now, cmd.restore === true);
      case 'UpdateBookings':
        return this.updateBookings(cmd.target, cmd.patch, now);
      case 'CancelBookings':
        return this.cancelBookings(cmd.target);
      case 'ExpireHolds':
        return this.expireHolds(cmd.limit, now);
      case 'CreateOutage':
        return this.createOutage(cmd.outage, now, cmd.restore === true);
      case 'UpdateOutage':
        return this.updateOutage(cmd.id, cmd.patch, now);
      case 'DeleteOutage':
        return this.deleteOutage(cmd.id);
      case 'ApplyOutages':
        return this.applyOutages(cmd.limit, now);
      case 'CreatePolicy':
        return this.createPolicy(cmd.policy);
      case 'UpdatePolicy':
        return this.updatePolicy(cmd.id, cmd.patch);
      case 'DeletePolicy':
        return this.deletePolicy(cmd.id, now);
      case 'BookFromPool':
        return this.bookFromPool(cmd.request, now);
      default: {
        const never: never = cmd;
        throw new Error(`engine: unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  private emit(e: Effect): void {
    this.inverse.push(this.inverseOf(e));
    this.apply(e);
    this.effects.push(e);
  }

  /** The effect that undoes `e`, read from the state before `e` is applied. */
  private inverseOf(e: Effect): Effect {
    const s = this.store;
    switch (e.type) {
      case 'ResourceCreated':
        return { type: 'ResourceDeleted', resource: e.resource };
      case 'ResourceUpdated':
        return { type: 'ResourceUpdated', resource: s.mustNode(e.resource.id).resource };
      case 'ResourceDeleted':
        return { type: 'ResourceCreated', resource: e.resource };
      case 'RuleAdded':
        return { type: 'RuleRemoved', rule: e.rule };
      case 'RuleUpdated':
        return { type: 'RuleUpdated', rule: s.rules.get(e.rule.id)! };
      case 'RuleRemoved':
        return { type: 'RuleAdded', rule: e.rule };
      case 'HoldPlaced':
        return { type: 'HoldReleased', hold: e.hold, reason: 'released' };
      case 'HoldReleased':
        return { type: 'HoldPlaced', hold: e.hold };
      case 'BookingConfirmed':
        return { type: 'BookingCancelled', booking: e.booking, reason: 'cancelled' };
      case 'BookingUpdated':
        return { type: 'BookingUpdated', booking: s.bookings.get(e.booking.id)! };
      case 'BookingCancelled':
        return { type: 'BookingConfirmed', booking: e.booking };
      case 'OutageStarted':
        return { type: 'OutageEnded', outage: e.outage, reason: 'lifted' };
      case 'OutageUpdated':
        return { type: 'OutageUpdated', outage: s.outages.get(e.outage.id)! };
      case 'OutageEnded':
        return { type: 'OutageStarted', outage: e.outage };
      case 'PolicyCreated':
        return { type: 'PolicyDeleted', policy: e.policy };
      case 'PolicyUpdated':
        return { type: 'PolicyUpdated', policy: s.policies.get(e.policy.id)! };
      case 'PolicyDeleted':
        return { type: 'PolicyCreated', policy: e.policy };
    }
  }

  private apply(e: Effect): void {
    const s = this.store;
    switch (e.type) {
      case 'ResourceCreated':
        return s.addResource(e.resource);
      case 'ResourceUpdated':
        return s.replaceResource(e.resource);
      case 'ResourceDeleted':
        return s.removeResource(e.resource.id);
      case 'RuleAdded':
        return s.addRule(e.rule);
      case 'RuleUpdated':
        s.removeRule(e.rule.id);
        return s.addRule(e.rule);
      case 'RuleRemoved':
        s.removeRule(e.rule.id);
        return;
      case 'HoldPlaced':
        return s.addHold(e.hold);
      case 'HoldReleased':
        s.removeHold(e.hold.id);
        return;
      case 'BookingConfirmed':
        return s.addBooking(e.booking);
      case 'BookingUpdated':
        s.removeBooking(e.booking.id);
        return s.addBooking(e.booking);
      case 'BookingCancelled':
        s.removeBooking(e.booking.id);
        return;
      case 'OutageStarted':
        return s.addOutage(e.outage);
      case 'OutageUpdated':
        s.removeOutage(e.outage.id);
        return s.addOutage(e.outage);
      case 'OutageEnded':
        s.removeOutage(e.outage.id);
        return;
      case 'PolicyCreated':
      case 'PolicyUpdated':
        return s.putPolicy(e.policy);
      case 'PolicyDeleted':
        s.removePolicy(e.policy.id);
        return;
      default: {
        const never: never = e;
        throw new Error(`engine: unknown effect ${JSON.stringify(never)}`);
      }
    }
  }

  // ---- reads --------------------------------------------------------------------------

  resource(id: string): Resource | undefined {
    return this.store.node(id)?.resource;
  }

  /** A live hold (expired holds are gone for every read). */
  hold(id: string, now: Ms): Hold | undefined {
    const h = this.entity(this.store.holds, id);
    return h !== undefined && h.expiresAt > now ? h : undefined;
  }

  booking(id: string): Booking | undefined {
    return this.entity(this.store.bookings, id);
  }

  rule(id: string): Rule | undefined {
    return this.entity(this.store.rules, id);
  }

  /** A lookup by id that records what the answer depends on. */
  private entity<T extends { resourceId: string }>(map: ReadonlyMap<string, T>, id: string): T | undefined {
    const e = map.get(id);
    if (e === undefined) this.store.touchMiss();
    else this.store.node(e.resourceId);
    return e;
  }

  allResources(): Resource[] {
    this.store.touchAll();
    return [...this.store.resources.values()].map((n) => n.resource);
  }

  allRules(): Rule[] {
    this.store.touchAll();
    return [...this.store.rules.values()];
  }

  allBookings(): Booking[] {
    this.store.touchAll();
    return [...this.store.bookings.values()];
  }

  liveHolds(now: Ms): Hold[] {
    this.store.touchAll();
    return [...this.store.holds.values()].filter((h) => h.expiresAt > now);
  }

  children(id: string): Resource[] {
    const node = this.store.node(id);
    if (node === undefined) return [];
    // A child's creation or deletion marks its parent changed.
    return [...node.children].map((c) => this.store.resources.get(c)!.resource);
  }

  /**
   * The members of a pool a booking may be given, in the order they are tried: every resource
   * below it (not itself) with capacity and every required capability, by id.
   */
  poolMembers(poolId: string, capabilities: readonly string[]): Resource[] {
    const root = this.store.node(poolId);
    if (root === undefined) return [];
    const need = normaliseCapabilities(capabilities);
    const out: Resource[] = [];
    const queue = [...root.children];
    for (let i = 0; i < queue.length; i++) {
      // Reading each node ties the answer to its changes (a new child marks its parent).
      const node = this.store.node(queue[i]!)!;
      for (const c of node.children) queue.push(c);
      if (node.resource.capacity > 0 && missingCapabilities(node.resource, need).length === 0) out.push(node.resource);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Rules on a resource overlapping [a, b), in start order. */
  rulesOn(resourceId: string, a: Ms, b: Ms): Rule[] {
    const node = this.store.node(resourceId);
    if (node === undefined) return [];
    const out: Rule[] = [];
    const take = (r: Rule): void => {
      out.push(r);
    };
    node.openRules.overlapping(a, b, take);
    node.closeRules.overlapping(a, b, take);
    return out.sort((x, y) => x.start - y.start || (x.id < y.id ? -1 : 1));
  }

  /** Live bookings and holds on a resource whose spans overlap [a, b), in start order. */
  entriesOn(resourceId: string, a: Ms, b: Ms, now: Ms): Entry[] {
    const node = this.store.node(resourceId);
    if (node === undefined) return [];
    const out: Entry[] = [];
    node.entries.overlapping(a, b, (e) => {
      if (isLive(e, now)) out.push(e);
    });
    return out;
  }

  groupMembers(groupId: string): Booking[] {
    // A member removed by a pending record would be missing from the answer.
    this.store.touchMiss();
    const ids = this.store.groups.get(groupId);
    if (ids === undefined) return [];
    return [...ids].sort().map((id) => this.booking(id)!);
  }

  availability(q: AvailabilityQuery, now: Ms): AvailabilityAnswer {
    return availability(this.store, q, now);
  }

  /** The same answer with each span made by `make` (the SQL layer's rows). */
  availabilityWith<R>(q: AvailabilityQuery, now: Ms, make: SpanMaker<R>): AvailabilityAnswer<R> {
    return availabilityWith(this.store, q, now, make);
  }

  /** The earliest expiry of a hold still in the state (expired or not), for the reaper. */
  nextHoldExpiry(): Ms | null {
    return this.store.holdExpiry.first()?.start ?? null;
  }

  /** When outages next need the reaper (an end passing, a window reaching an entry), if ever. */
  nextOutageDeadline(now: Ms): Ms | null {
    let next: Ms | null = null;
    for (const o of this.store.outages.values()) {
      const d = outageDeadline(this.store, o, now);
      if (d !== null && (next === null || d < next)) next = d;
    }
    return next;
  }

  policy(id: string): Policy | undefined {
    const p = this.store.policies.get(id);
    // Policies are not tied to a resource: any change to them may matter.
    this.store.touchAll();
    return p;
  }

  allPolicies(): Policy[] {
    this.store.touchAll();
    return [...this.store.policies.values()];
  }

  /** A user's live and future bookings and holds under a policy. */
  usage(userId: string, policyId: string, now: Ms): { count: number; usageMs: Ms } {
    this.store.touchAll();
    return usage(this.store, userId, policyId, now);
  }

  /** Every (user, policy) pair with entries, in no particular order. */
  usageKeys(): { userId: string; policyId: string }[] {
    this.store.touchAll();
    return [...this.store.byUserPolicy.keys()].map((k) => {
      const i = k.indexOf('\0');
      return { userId: k.slice(0, i), policyId: k.slice(i + 1) };
    });
  }

  outage(id: string): Outage | undefined {
    return this.entity(this.store.outages, id);
  }

  allOutages(): Outage[] {
    this.store.touchAll();
    return [...this.store.outages.values()];
  }

  /** Outages declared on a resource, in start order. */
  outagesOn(resourceId: string): Outage[] {
    const node = this.store.node(resourceId);
    if (node === undefined) return [];
    return [...node.outages].map((sp) => sp.outage);
  }

  // ---- resources ----------------------------------------------------------------------

  private createResource(input: Resource): CommandResult {
    const r: Resource = { ...input, capabilities: normaliseCapabilities(input.capabilities) };
    checkResourceFields(r);
    if (this.store.resources.has(r.id)) {
      throw new AllotError(SqlState.uniqueViolation, `resource "${r.id}" already exists`, { detail: `Key (id)=(${r.id}) already exists.` });
    }
    if (r.parentId !== null) {
      if (!this.store.resources.has(r.parentId)) throw unknown('resource', r.parentId, 'parent_id');
      const depth = chainOf(this.store, r.parentId).length + 1;
      if (depth > Limits.maxTreeDepth) {
        throw new AllotError(SqlState.programLimitExceeded, `resource "${r.id}" would be ${depth} levels deep; the limit is ${Limits.maxTreeDepth}`);
      }
    }
    if (this.store.resources.size >= Limits.maxResourcesPerTenant) {
      throw new AllotError(SqlState.programLimitExceeded, `this database already has ${Limits.maxResourcesPerTenant} resources, the limit`);
    }
    this.emit({ type: 'ResourceCreated', resource: r });
    return { type: 'resources', rows: [r] };
  }

  private updateResource(id: string, patch: ResourcePatch, now: Ms): CommandResult {
    const node = this.store.node(id);
    if (node === undefined) return { type: 'resources', rows: [] };
    const old = node.resource;
    const next: Resource = {
      id,
      parentId: patch.parentId !== undefined ? patch.parentId : old.parentId,
      name: patch.name !== undefined ? patch.name : old.name,
      capacity: patch.capacity ?? old.capacity,
      bufferBeforeMs: patch.bufferBeforeMs ?? old.bufferBeforeMs,
      bufferAfterMs: patch.bufferAfterMs ?? old.bufferAfterMs,
      capabilities: normaliseCapabilities(patch.capabilities ?? old.capabilities),
    };
    checkResourceFields(next);
    const reparented = next.parentId !== old.parentId;
    if (reparented && next.parentId !== null) this.checkNewParent(id, next.parentId);
    this.emit({ type: 'ResourceUpdated', resource: next });

    if (next.capacity < old.capacity || next.bufferBeforeMs > old.bufferBeforeMs || next.bufferAfterMs > old.bufferAfterMs) {
      const over = overCapacity(node, next, now);
      if (over.length > 0) {
        throw new AllotError(
          SqlState.exclusionViolation,
          `resource "${id}" cannot take capacity ${next.capacity} with buffers ${next.bufferBeforeMs}/${next.bufferAfterMs} ms: ${describeConflicts(over)} would overlap beyond it`,
          { detail: conflictDetail(over) },
        );
      }
    }
    const dropped = old.capabilities.filter((c) => !next.capabilities.includes(c));
    if (dropped.length > 0) {
      const needing: Conflict[] = [];
      for (const e of node.entries) {
        if (isLive(e, now) && e.capabilities.some((c) => dropped.includes(c))) needing.push(entryConflict(e));
      }
      if (needing.length > 0) {
        throw new AllotError(
          SqlState.checkViolation,
          `resource "${id}" cannot drop capabilities ${dropped.join(', ')}: ${describeConflicts(needing)} require them`,
          { detail: conflictDetail(needing) },
        );
      }
    }
    if (reparented) {
      const what = `moving resource "${id}" under ${next.parentId === null ? 'no parent' : `"${next.parentId}"`}`;
      this.checkStranded(id, null, 'all', now, what);
      // A planned outage refuses matching entries over it, whether they are booked there or brought there.
      const covered = underPlannedOutagesAbove(this.store, id, now).map(entryConflict);
      if (covered.length > 0) {
        throw new AllotError(SqlState.exclusionViolation, `${what} would put ${describeConflicts(covered)} under a planned outage`, { detail: conflictDetail(covered) });
      }
    }
    return { type: 'resources', rows: [next] };
  }

  private checkNewParent(id: string, parentId: string): void {
    if (!this.store.resources.has(parentId)) throw unknown('resource', parentId, 'parent_id');
    const chain = chainOf(this.store, parentId);
    if (chain.some((n) => n.resource.id === id)) {
      throw new AllotError(SqlState.invalidParameterValue, `resource "${id}" cannot be placed under "${parentId}": that would make it its own ancestor`);
    }
    const depth = chain.length + this.subtreeHeight(id);
    if (depth > Limits.maxTreeDepth) {
      throw new AllotError(SqlState.programLimitExceeded, `moving resource "${id}" under "${parentId}" would make the tree ${depth} levels deep; the limit is ${Limits.maxTreeDepth}`);
    }
  }

  private subtreeHeight(id: string): number {
    const n = this.store.mustNode(id);
    let h = 0;
    for (const c of n.children) h = Math.max(h, this.subtreeHeight(c));
    return h + 1;
  }

  private deleteResource(id: string, now: Ms): CommandResult {
    const node = this.store.node(id);
    if (node === undefined) return { type: 'resources', rows: [] };
    if (node.children.size > 0) {
      const kids = [...node.children].sort();
      throw new AllotError(SqlState.foreignKeyViolation, `resource "${id}" still has child resources: ${quoteList(kids)}`, {
        detail: { children: kids.slice(0, Limits.maxConflictsNamed), more: Math.max(0, kids.length - Limits.maxConflictsNamed) },
      });
    }
    const live: Conflict[] = [];
    const expired: Hold[] = [];
    for (const e of node.entries) {
      if (isLive(e, now)) live.push(entryConflict(e));
      else expired.push(e as Hold);
    }
    if (live.length > 0) {
      throw new AllotError(SqlState.foreignKeyViolation, `resource "${id}" still has ${describeConflicts(live)}`, { detail: conflictDetail(live) });
    }
    for (const h of expired) this.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
    for (const r of [...node.openRules, ...node.closeRules]) this.emit({ type: 'RuleRemoved', rule: r });
    for (const sp of [...node.outages]) this.emit({ type: 'OutageEnded', outage: sp.outage, reason: 'lifted' });
    this.emit({ type: 'ResourceDeleted', resource: node.resource });
    return { type: 'resources', rows: [node.resource] };
  }

  // ---- rules --------------------------------------------------------------------------

  private createRule(rule: Rule, now: Ms): CommandResult {
    checkRuleFields(rule);
    if (this.store.rules.has(rule.id)) {
      throw new AllotError(SqlState.uniqueViolation, `rule "${rule.id}" already exists`, { detail: `Key (id)=(${rule.id}) already exists.` });
    }
    const node = this.store.node(rule.resourceId);
    if (node === undefined) throw unknown('resource', rule.resourceId, 'resource_id');
    if (rule.policyId !== null && !this.store.policies.has(rule.policyId)) throw unknown('policy', rule.policyId, 'policy_id');
    if (node.openRules.size + node.closeRules.size >= Limits.maxRulesPerResource) {
      throw new AllotError(SqlState.programLimitExceeded, `resource "${rule.resourceId}" already has ${Limits.maxRulesPerResource} rules, the limit`);
    }
    this.emit({ type: 'RuleAdded', rule });
    this.checkRuleChange(rule, now, `rule "${rule.id}"`);
    return { type: 'rules', rows: [rule] };
  }

  private updateRule(id: string, patch: RulePatch, now: Ms): CommandResult {
    const old = this.store.rules.get(id);
    if (old === undefined) return { type: 'rules', rows: [] };
    const next: Rule = {
      id,
      resourceId: patch.resourceId ?? old.resourceId,
      start: patch.start ?? old.start,
      end: patch.end ?? old.end,
      blocking: patch.blocking ?? old.blocking,
      policyId: patch.policyId !== undefined ? patch.policyId : old.policyId,
    };
    checkRuleFields(next);
    if (!this.store.resources.has(next.resourceId)) throw unknown('resource', next.resourceId, 'resource_id');
    if (next.policyId !== null && !this.store.policies.has(next.policyId)) throw unknown('policy', next.policyId, 'policy_id');
    this.emit({ type: 'RuleUpdated', rule: next });
    const what = `changing rule "${id}"`;
    if (!old.blocking) this.checkRuleChange(old, now, what);
    this.checkRuleChange(next, now, what);
    return { type: 'rules', rows: [next] };
  }

  private deleteRule(id: string, now: Ms): CommandResult {
    const old = this.store.rules.get(id);
    if (old === undefined) return { type: 'rules', rows: [] };
    this.emit({ type: 'RuleRemoved', rule: old });
    if (!old.blocking) this.checkRuleChange(old, now, `removing rule "${id}"`);
    return { type: 'rules', rows: [old] };
  }

  /**
   * After a rule was added, changed or removed: no live entry it could affect may be left
   * outside open time. A blocking rule affects entries overlapping it; a non-blocking one can
   * change which level's rules apply, so every entry below it under its policy is checked.
   */
  private checkRuleChange(rule: Rule, now: Ms, what: string): void {
    const scope = rule.blocking ? { start: rule.start, end: rule.end } : 'all';
    this.checkStranded(rule.resourceId, rule.policyId, scope, now, what);
  }

  /** Refuses (23P01) if any live entry at or below `rootId` now lies outside open time. */
  private checkStranded(rootId: string, policyId: string | null, scope: 'all' | { start: Ms; end: Ms }, now: Ms, what: string): void {
    const stranded: Conflict[] = [];
    const visit = (node: ResourceNode): void => {
      const check = (e: Entry): void => {
        if (!isLive(e, now)) return;
        if (policyId !== null && e.policyId !== policyId) return;
        if (closedConflicts(this.store, e.resourceId, e.policyId, e.start, e.end).length > 0) stranded.push(entryConflict(e));
      };
      if (scope === 'all') for (const e of node.entries) check(e);
      else node.entries.overlapping(scope.start, scope.end, check);
      for (const c of node.children) visit(this.store.mustNode(c));
    };
    visit(this.store.mustNode(rootId));
    if (stranded.length > 0) {
      throw new AllotError(SqlState.exclusionViolation, `${what} would leave ${describeConflicts(stranded)} outside open time`, {
        detail: conflictDetail(stranded),
      });
    }
  }

  // ---- holds --------------------------------------------------------------------------

  private placeHold(input: Hold, now: Ms, restore: boolean): CommandResult {
    const hold: Hold = { ...input, resourceId: this.sharedResourceId(input.resourceId), capabilities: normaliseCapabilities(input.capabilities) };
    checkEntryFields('hold', hold);
    checkTime('expires_at', hold.expiresAt);
    // Restored after its expiry, a hold would be gone at once: there is nothing to restore.
    if (restore && hold.expiresAt <= now) return { type: 'skipped' };
    if (hold.expiresAt <= now) {
      throw new AllotError(SqlState.invalidParameterValue, `hold "${hold.id}" would expire at ${iso(hold.expiresAt)}, which is not after now (${iso(now)})`);
    }
    const existing = this.store.holds.get(hold.id);
    if (existing !== undefined) {
      if (isLive(existing, now)) {
        throw new AllotError(SqlState.uniqueViolation, `hold "${hold.id}" already exists`, { detail: `Key (id)=(${hold.id}) already exists.` });
      }
      this.emit({ type: 'HoldReleased', hold: existing, reason: 'expired' });
    }
    this.checkPlacement('hold', hold, now, undefined, restore);
    this.emit({ type: 'HoldPlaced', hold });
    return { type: 'holds', rows: [hold] };
  }

  private releaseHold(id: string, now: Ms): CommandResult {
    const h = this.hold(id, now);
    if (h === undefined) return { type: 'holds', rows: [] };
    this.emit({ type: 'HoldReleased', hold: h, reason: 'released' });
    return { type: 'holds', rows: [h] };
  }

  private expireHolds(limit: number, now: Ms): CommandResult {
    checkInteger('expire limit', limit, 1, Limits.maxBatchCommands);
    const due: Hold[] = [];
    this.store.holdExpiry.startingBefore(now + 1, (x) => {
      due.push(this.store.holds.get(x.id)!);
      return due.length < limit;
    });
    for (const h of due) this.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
    return { type: 'count', count: due.length };
  }

  // ---- bookings -----------------------------------------------------------------------

  private createBooking(input: BookingInput, now: Ms, restore: boolean): CommandResult {
    checkId('booking id', input.id);
    let hold: Hold | undefined;
    if (input.holdId !== undefined) {
      hold = this.hold(input.holdId, now);
      if (hold === undefined) throw unknown('hold', input.holdId, 'hold_id', ' (holds vanish when they expire)');
    }
    const resourceId = input.resourceId ?? hold?.resourceId;
    const start = input.start ?? hold?.start;
    const end = input.end ?? hold?.end;
    if (resourceId === undefined) throw notNull('resource_id');
    if (start === undefined) throw notNull('start');
    if (end === undefined) throw notNull('end');
    const booking: Booking = {
      id: input.id,
      resourceId: this.sharedResourceId(resourceId),
      start,
      end,
      label: input.label !== undefined ? input.label : (hold?.label ?? null),
      capabilities: normaliseCapabilities(input.capabilities ?? hold?.capabilities ?? []),
      userId: input.userId !== undefined ? input.userId : (hold?.userId ?? null),
      policyId: input.policyId !== undefined ? input.policyId : (hold?.policyId ?? null),
      groupId: input.groupId ?? null,
    };
    checkEntryFields('booking', booking);
    checkOptionalId('group_id', booking.groupId);
    if (this.store.bookings.has(booking.id)) {
      throw new AllotError(SqlState.uniqueViolation, `booking "${booking.id}" already exists`, { detail: `Key (id)=(${booking.id}) already exists.` });
    }
    if (hold !== undefined) this.emit({ type: 'HoldReleased', hold, reason: 'committed' });
    this.checkPlacement('booking', booking, now, hold, restore);
    this.emit({ type: 'BookingConfirmed', booking });
    return { type: 'bookings', rows: [booking] };
  }

  /**
   * The resource's own id string when it exists: an entry then shares it instead of keeping the
   * copy its statement built (a booking's share of memory, in every one of them).
   */
  private sharedResourceId(id: string): string {
    return this.store.peekNode(id)?.resource.id ?? id;
  }

  private targetBookings(target: BookingTarget): Booking[] {
    if ('id' in target) {
      const b = this.store.bookings.get(target.id);
      return b === undefined ? [] : [b];
    }
    return this.groupMembers(target.groupId);
  }

  /**
   * Moves or edits bookings, all or nothing. The old versions are taken out first, so a
   * booking never collides with itself, and members of a group are checked against each
   * other's new places.
   */
  private updateBookings(target: BookingTarget, patch: BookingPatch, now: Ms): CommandResult {
    const olds = this.targetBookings(target);
    if (olds.length === 0) return { type: 'bookings', rows: [] };
    const news: Booking[] = olds.map((o) => ({
      id: o.id,
      resourceId: patch.resourceId === undefined ? o.resourceId : this.sharedResourceId(patch.resourceId),
      start: patch.start ?? o.start,
      end: patch.end ?? o.end,
      label: patch.label !== undefined ? patch.label : o.label,
      capabilities: normaliseCapabilities(patch.capabilities ?? o.capabilities),
      userId: patch.userId !== undefined ? patch.userId : o.userId,
      policyId: patch.policyId !== undefined ? patch.policyId : o.policyId,
      groupId: patch.groupId !== undefined ? patch.groupId : o.groupId,
    }));
    for (const b of news) {
      checkEntryFields('booking', b);
      checkOptionalId('group_id', b.groupId);
    }
    for (const o of olds) this.store.removeBooking(o.id);
    news.forEach((b, i) => {
      this.checkPlacement('booking', b, now, olds[i]);
      this.store.addBooking(b);
      this.effects.push({ type: 'BookingUpdated', booking: b });
      this.inverse.push({ type: 'BookingUpdated', booking: olds[i]! });
    });
    if (news.length > 1) this.checkGroupQuotas(olds, news, now);
    return { type: 'bookings', rows: news };
  }

  /** Quotas of every user and policy whose usage a group move may have grown, on the result. */
  private checkGroupQuotas(olds: readonly Booking[], news: readonly Booking[], now: Ms): void {
    const pairs = new Map<string, { first: Booking; countsNew: boolean }>();
    news.forEach((b, i) => {
      if (b.userId === null || b.policyId === null) return;
      const o = olds[i]!;
      const counted = o.userId === b.userId && o.policyId === b.policyId && o.end > now;
      if (counted && o.end - o.start >= b.end - b.start) return;
      const key = `${b.userId}\0${b.policyId}`;
      const seen = pairs.get(key);
      if (seen === undefined) pairs.set(key, { first: b, countsNew: !counted });
      else if (!counted) seen.countsNew = true;
    });
    for (const { first, countsNew } of pairs.values()) {
      const limits = quotaConflicts(this.store, this.store.policies.get(first.policyId!)!, first.userId!, now, countsNew);
      if (limits.length > 0) throw placementError('booking', first, this.store.mustNode(first.resourceId).resource, limits);
    }
  }

  private cancelBookings(target: BookingTarget): CommandResult {
    const olds = this.targetBookings(target);
    for (const b of olds) this.emit({ type: 'BookingCancelled', booking: b, reason: 'cancelled' });
    return { type: 'bookings', rows: olds };
  }

  // ---- outages -------------------------------------------------------------------------

  private createOutage(input: Outage, now: Ms, restore: boolean): CommandResult {
    const o: Outage = { ...input, capabilities: normaliseCapabilities(input.capabilities), declaredAt: restore ? input.declaredAt : now };
    checkOutageFields(o);
    checkTime('declared_at', o.declaredAt);
    if (this.store.outages.has(o.id)) {
      throw new AllotError(SqlState.uniqueViolation, `outage "${o.id}" already exists`, { detail: `Key (id)=(${o.id}) already exists.` });
    }
    const node = this.store.node(o.resourceId);
    if (node === undefined) throw unknown('resource', o.resourceId, 'resource_id');
    if (node.outages.size >= Limits.maxOutagesPerResource) {
      throw new AllotError(SqlState.programLimitExceeded, `resource "${o.resourceId}" already has ${Limits.maxOutagesPerResource} outages, the limit`);
    }
    if (o.kind === 'planned') this.refuseOverlapping(o, now, `planned outage "${o.id}"`);
    this.emit({ type: 'OutageStarted', outage: o });
    if (!restore) this.evict(o, now, Infinity);
    return { type: 'outages', rows: [o] };
  }

  private updateOutage(id: string, patch: OutagePatch, now: Ms): CommandResult {
    const old = this.store.outages.get(id);
    if (old === undefined) return { type: 'outages', rows: [] };
    const next: Outage = {
      ...old,
      start: patch.start ?? old.start,
      end: patch.end !== undefined ? patch.end : old.end,
      slidingWindowMs: patch.slidingWindowMs !== undefined ? patch.slidingWindowMs : old.slidingWindowMs,
      capabilities: normaliseCapabilities(patch.capabilities ?? old.capabilities),
      reason: patch.reason !== undefined ? patch.reason : old.reason,
    };
    checkOutageFields(next);
    this.emit({ type: 'OutageUpdated', outage: next });
    if (next.kind === 'planned') this.refuseOverlapping(next, now, `changing planned outage "${id}"`);
    this.evict(next, now, Infinity);
    return { type: 'outages', rows: [next] };
  }

  private deleteOutage(id: string): CommandResult {
    const o = this.store.outages.get(id);
    if (o === undefined) return { type: 'outages', rows: [] };
    this.emit({ type: 'OutageEnded', outage: o, reason: 'lifted' });
    return { type: 'outages', rows: [o] };
  }

  /** A planned outage may not be placed over entries it matches: refuses, naming them all. */
  private refuseOverlapping(o: Outage, now: Ms, what: string): void {
    const range = closedRange(o, now, false)!;
    const inTheWay = matchingEntries(this.store, o, range.start, range.end, now);
    if (inTheWay.length > 0) {
      const named = inTheWay.map(entryConflict);
      throw new AllotError(SqlState.exclusionViolation, `${what} overlaps ${describeConflicts(named)}: move or cancel them first`, { detail: conflictDetail(named) });
    }
  }

  /** Evicts, up to `limit`, the entries an unplanned outage's window covers at `now`. */
  private evict(o: Outage, now: Ms, limit: number): number {
    const zone = evictionZone(o, now);
    if (zone === null || limit <= 0) return 0;
    const due = matchingEntries(this.store, o, zone.start, zone.end, now).slice(0, limit === Infinity ? undefined : limit);
    for (const e of due) {
      if (isHold(e)) this.emit({ type: 'HoldReleased', hold: e, reason: 'evicted', outageId: o.id });
      else this.emit({ type: 'BookingCancelled', booking: e, reason: 'evicted', outageId: o.id });
    }
    return due.length;
  }

  /** The reaper's turn: outages whose end has passed are over; windows evict what they reached. */
  private applyOutages(limit: number, now: Ms): CommandResult {
    checkInteger('outage limit', limit, 1, Limits.maxBatchCommands);
    let done = 0;
    for (const o of [...this.store.outages.values()]) {
      if (done >= limit) break;
      // Whatever its window reached before the end is evicted first.
      done += this.evict(o, now, limit - done);
      if (done >= limit) break;
      if (o.end !== null && o.end <= now) {
        this.emit({ type: 'OutageEnded', outage: o, reason: 'ended' });
        done++;
      }
    }
    return { type: 'count', count: done };
  }

  // ---- policies -------------------------------------------------------------------------

  private createPolicy(p: Policy): CommandResult {
    checkPolicyFields(p);
    if (this.store.policies.has(p.id)) {
      throw new AllotError(SqlState.uniqueViolation, `policy "${p.id}" already exists`, { detail: `Key (id)=(${p.id}) already exists.` });
    }
    this.emit({ type: 'PolicyCreated', policy: p });
    return { type: 'policies', rows: [p] };
  }

  /** New limits apply to new bookings; existing ones stay. */
  private updatePolicy(id: string, patch: PolicyPatch): CommandResult {
    const old = this.store.policies.get(id);
    if (old === undefined) return { type: 'policies', rows: [] };
    const next: Policy = { ...old, ...patch, id };
    checkPolicyFields(next);
    this.emit({ type: 'PolicyUpdated', policy: next });
    return { type: 'policies', rows: [next] };
  }

  private deletePolicy(id: string, now: Ms): CommandResult {
    const p = this.store.policies.get(id);
    if (p === undefined) return { type: 'policies', rows: [] };
    const naming: Conflict[] = [];
    const expired: Hold[] = [];
    for (const b of this.store.bookings.values()) if (b.policyId === id) naming.push(entryConflict(b));
    for (const h of this.store.holds.values()) {
      if (h.policyId !== id) continue;
      if (isLive(h, now)) naming.push(entryConflict(h));
      else expired.push(h);
    }
    for (const r of this.store.rules.values()) if (r.policyId === id) naming.push({ kind: 'rule', id: r.id, resource_id: r.resourceId, start: r.start, end: r.end });
    if (naming.length > 0) {
      throw new AllotError(SqlState.foreignKeyViolation, `policy "${id}" is still named by ${describeConflicts(naming)}`, { detail: conflictDetail(naming) });
    }
    for (const h of expired) this.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
    this.emit({ type: 'PolicyDeleted', policy: p });
    return { type: 'policies', rows: [p] };
  }

  // ---- pools ----------------------------------------------------------------------------

  /**
   * Books `ids.length` distinct descendants of the pool that have every required capability
   * and where a booking fits (rules, outages, policy, capacity), trying them in order of id:
   * the choice is deterministic. All or nothing.
   */
  private bookFromPool(req: PoolRequest, now: Ms): CommandResult {
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
    if (!this.store.resources.has(req.poolId)) throw unknown('resource', req.poolId, 'pool_id');
    const given = new Set<string>();
    for (const id of req.ids) {
      if (this.store.bookings.has(id) || given.has(id)) throw new AllotError(SqlState.uniqueViolation, `booking "${id}" already exists`, { detail: `Key (id)=(${id}) already exists.` });
      given.add(id);
    }
    // Limits of the policy hold for every candidate alike: refuse for them, not for the pool.
    if (req.policyId !== null) {
      const policy = this.store.policies.get(req.policyId);
      if (policy === undefined) throw unknown('policy', req.policyId, 'policy_id');
      const limits = policyConflicts(this.store, policy, req, now, wanted);
      if (limits.length > 0) {
        throw new AllotError(
          SqlState.exclusionViolation,
          `cannot book ${wanted} from pool "${req.poolId}" [${iso(req.start)}, ${iso(req.end)}): ${policyReasons(limits).join('; ')}`,
          { detail: conflictDetail(limits) },
        );
      }
    }
    const capabilities = normaliseCapabilities(req.capabilities);
    const candidates = this.poolMembers(req.poolId, capabilities);
    const made: Booking[] = [];
    for (const member of candidates) {
      if (made.length === wanted) break;
      const booking: Booking = {
        id: req.ids[made.length]!,
        resourceId: member.id,
        start: req.start,
        end: req.end,
        label: req.label,
        capabilities,
        userId: req.userId,
        policyId: req.policyId,
        groupId: req.groupId,
      };
      try {
        this.checkPlacement('booking', booking, now);
      } catch (err) {
        if (err instanceof AllotError && (err.sqlstate === SqlState.exclusionViolation || err.sqlstate === SqlState.checkViolation)) continue;
        throw err;
      }
      this.emit({ type: 'BookingConfirmed', booking });
      made.push(booking);
    }
    if (made.length < wanted) {
      throw new AllotError(
        SqlState.exclusionViolation,
        `pool "${req.poolId}" has ${made.length} of ${wanted} wanted resources free [${iso(req.start)}, ${iso(req.end)}) (of ${candidates.length} ${candidates.length === 1 ? 'member' : 'members'}${capabilities.length > 0 ? ` with ${quoteList(capabilities)}` : ''})`,
        { detail: conflictDetail([{ kind: 'pool', pool_id: req.poolId, wanted, free: made.length, candidates: candidates.length }]) },
      );
    }
    return { type: 'bookings', rows: made };
  }

  // ---- placement ----------------------------------------------------------------------

  /**
   * Refuses an entry that needs a missing capability (23514) or does not fit (23P01). A moved
   * entry (or a hold becoming a booking: `before` is what it was) may sit beyond an unplanned
   * outage's window; a new one may not sit anywhere in it. Its policy judges it as new, or for a
   * move only on what the move changes.
   */
  private checkPlacement(kind: 'booking' | 'hold', e: Booking | Hold, now: Ms, before?: Booking | Hold, restore = false): void {
    const moving = before !== undefined;
    const node = this.store.node(e.resourceId);
    if (node === undefined) throw unknown('resource', e.resourceId, 'resource_id');
    if (node.entries.size >= Limits.maxAllocationsPerResource) {
      throw new AllotError(SqlState.programLimitExceeded, `resource "${e.resourceId}" already holds ${Limits.maxAllocationsPerResource} entries, the limit`);
    }
    const missing = missingCapabilities(node.resource, e.capabilities);
    if (missing.length > 0) {
      throw new AllotError(
        SqlState.checkViolation,
        `${kind} "${e.id}" requires ${missing.length === 1 ? 'capability' : 'capabilities'} ${quoteList(missing)}, which resource "${e.resourceId}" does not have`,
        { detail: { missing, resource_id: e.resourceId, resource_capabilities: node.resource.capabilities } },
      );
    }
    let policy: Policy | undefined;
    if (e.policyId !== null) {
      policy = this.store.policies.get(e.policyId);
      if (policy === undefined) throw unknown('policy', e.policyId, 'policy_id');
    }
    const closed = closedConflicts(this.store, e.resourceId, e.policyId, e.start, e.end);
    const out = this.store.outages.size === 0 ? [] : outageConflicts(this.store, e, now, moving);
    const limits = policy === undefined || restore ? [] : policyConflicts(this.store, policy, e, now, 1, before);
    const taken = capacityConflicts(node, e.start, e.end, now, null);
    if (closed.length > 0 || out.length > 0 || limits.length > 0 || taken.length > 0) {
      throw placementError(kind, e, node.resource, [...closed, ...out, ...limits, ...taken]);
    }
  }

  // ---- invariants ---------------------------------------------------------------------

  /** Throws if any resource holds more live footprints at once than its capacity, or an index is off. */
  assertInvariants(now: Ms): void {
    const s = this.store;
    let entries = 0;
    for (const [id, node] of s.resources) {
      node.entries.assertValid();
      node.openRules.assertValid();
      node.closeRules.assertValid();
      node.outages.assertValid();
      entries += node.entries.size;
      const over = overCapacity(node, node.resource, now);
      if (over.length > 0) throw new Error(`invariant: resource ${id} over capacity: ${JSON.stringify(over)}`);
      for (const e of node.entries) {
        if (!(e.start < e.end)) throw new Error(`invariant: malformed span on ${e.id}`);
        if (e.resourceId !== id) throw new Error(`invariant: ${e.id} indexed under ${id}`);
        if (isLive(e, now) && missingCapabilities(node.resource, e.capabilities).length > 0) {
          throw new Error(`invariant: ${e.id} requires capabilities ${id} lacks`);
        }
      }
      if (node.resource.parentId !== null && !s.resources.get(node.resource.parentId)?.children.has(id)) {
        throw new Error(`invariant: ${id} missing from its parent's children`);
      }
    }
    if (entries !== s.bookings.size + s.holds.size) throw new Error('invariant: entry count differs from bookings + holds');
    if (s.holdExpiry.size !== s.holds.size) throw new Error('invariant: hold expiry index differs from holds');
    s.holdExpiry.assertValid();
  }
}

/** Whether two lists of effects are the same, field by field. */
function sameEffects(a: readonly Effect[], b: readonly Effect[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
  return true;
}

/** Deep equality of plain data (what effects are made of); an undefined field counts as absent. */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (x[k] !== undefined && !sameData(x[k], y[k])) return false;
  for (const k in y) if (y[k] !== undefined && x[k] === undefined) return false;
  return true;
}

function checkResourceFields(r: Resource): void {
  checkId('resource id', r.id);
  checkOptionalId('parent_id', r.parentId);
  if (r.parentId === r.id) throw new AllotError(SqlState.invalidParameterValue, `resource "${r.id}" cannot be its own parent`);
  checkLabel('name', r.name);
  checkInteger('capacity', r.capacity, 0, Limits.maxCapacity);
  checkInteger('buffer_before', r.bufferBeforeMs, 0, Limits.maxBufferMs);
  checkInteger('buffer_after', r.bufferAfterMs, 0, Limits.maxBufferMs);
  checkCapabilities('resource', r.capabilities, r.id);
}

function checkRuleFields(r: Rule): void {
  checkId('rule id', r.id);
  checkId('resource_id', r.resourceId);
  checkSpan('rule', r.start, r.end, r.id);
  checkOptionalId('policy_id', r.policyId);
}

function checkPolicyFields(p: Policy): void {
  checkId('policy id', p.id);
  checkLabel('name', p.name);
  const ms: [string, number | null][] = [
    ['min_duration', p.minDurationMs],
    ['max_duration', p.maxDurationMs],
    ['book_ahead', p.bookAheadMs],
    ['max_usage', p.maxUsageMs],
    ['starts_within', p.startsWithinMs],
    ['allow_start_in_past', p.allowStartInPastMs],
  ];
  for (const [name, v] of ms) if (v !== null) checkInteger(name, v, 0, Limits.maxPolicyMs);
  if (p.maxBookings !== null) checkInteger('max_bookings', p.maxBookings, 0, Limits.maxAllocationsPerResource);
  if (p.minDurationMs !== null && p.maxDurationMs !== null && p.minDurationMs > p.maxDurationMs) {
    throw new AllotError(SqlState.invalidParameterValue, `policy "${p.id}": min_duration (${p.minDurationMs}) is more than max_duration (${p.maxDurationMs})`);
  }
}

function checkOutageFields(o: Outage): void {
  checkId('outage id', o.id);
  checkId('resource_id', o.resourceId);
  if (o.kind !== 'planned' && o.kind !== 'unplanned') {
    throw new AllotError(SqlState.invalidParameterValue, `outage kind must be 'planned' or 'unplanned', got '${String(o.kind)}'`);
  }
  checkTime('outage start', o.start);
  if (o.end !== null) checkSpan('outage', o.start, o.end, o.id);
  if (o.kind === 'planned') {
    if (o.end === null) throw notNull('end', ' (a planned outage needs its end; an outage of unknown end is unplanned)');
    if (o.slidingWindowMs !== null) throw new AllotError(SqlState.invalidParameterValue, 'sliding_window applies only to unplanned outages');
  } else {
    if (o.slidingWindowMs === null) throw notNull('sliding_window', ' (an unplanned outage evicts what lies within it)');
    checkInteger('sliding_window', o.slidingWindowMs, 0, Limits.maxWindowMs);
  }
  checkCapabilities('outage', o.capabilities, o.id);
  checkLabel('reason', o.reason);
}

function checkEntryFields(kind: 'booking' | 'hold', e: Booking | Hold): void {
  checkId(kind === 'booking' ? 'booking id' : 'hold id', e.id);
  checkId('resource_id', e.resourceId);
  checkSpan(kind, e.start, e.end, e.id);
  checkLabel('label', e.label);
  checkCapabilities(kind, e.capabilities, e.id);
  checkOptionalId('user_id', e.userId);
  checkOptionalId('policy_id', e.policyId);
}

function unknown(what: string, id: string, column: string, note = ''): AllotError {
  return new AllotError(SqlState.foreignKeyViolation, `${what} "${id}" does not exist${note}`, {
    detail: `Key (${column})=(${id}) is not present in table "${what === 'policy' ? 'policies' : `${what}s`}".`,
  });
}

function notNull(column: string, why = ''): AllotError {
  return new AllotError(SqlState.notNullViolation, `null value in column "${column}" violates not-null constraint${why}`);
}

export { isHold };
