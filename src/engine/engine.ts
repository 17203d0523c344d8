/**
 * The engine: a pure, synchronous state machine. `execute` decides a batch of commands against
 * the current state at a given `now` and returns the effects (what changed); `replay` applies
 * effects without deciding anything. A draft is a transaction block's batch kept open across its
 * statements (`openDraft` … `keepDraft`), and can be cut back to a mark (`markDraft`,
 * `rewindDraft`: a savepoint). No I/O, no timers, no clock, no randomness.
 */
import { AllotError, SqlState } from '../errors.js';
import type { Batch } from './batch.js';
import { cancelBookings, createBooking, expireHolds, placeHold, releaseHold, releaseHoldGroup, releaseHolds, updateBookings } from './commands/entries.js';
import { applyOutages, createOutage, deleteOutage, updateOutage } from './commands/outages.js';
import { createPolicy, deletePolicy, updatePolicy } from './commands/policies.js';
import { offersFor, refusedRequest, withOffers } from './offers.js';
import { bookFromPool, bookFromPools } from './commands/pools.js';
import { createResource, deleteResource, updateResource } from './commands/resources.js';
import { createRule, deleteRule, updateRule } from './commands/rules.js';
import { Limits } from './limits.js';
import { isLive, missingCapabilities, overCapacity } from './placement.js';
import { Queries } from './queries.js';
import { isHold, Store } from './state.js';
import type { Booking, Command, CommandResult, Effect, Hold, Ms, Outage, Policy, Resource, Rule } from './types.js';
import { checkTime } from './validate.js';

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
  /** Where each statement's commands end in `commands`: a statement is decided as one. */
  readonly ends: number[] = [];
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

export class Engine extends Queries {
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

  /** What the command handlers (commands/*.ts) decide with: this engine's state and open batch. */
  private readonly batch: Batch = {
    store: this.store,
    read: this,
    emit: (e) => this.emit(e),
    record: (e, inverse) => {
      this.effects.push(e);
      this.inverse.push(inverse);
    },
  };

  constructor(opts: EngineOptions = {}) {
    super(new Store());
    this.checkInvariants = opts.checkInvariants ?? false;
  }

  // ---- batches ------------------------------------------------------------------------

  /**
   * Decides and applies the commands atomically: all succeed, or none does and it throws. They
   * are one statement, or the statements ending at each of `ends` (indexes into `commands`),
   * decided in turn: a statement's pool rows are matched together (`runStatement`).
   */
  execute(commands: readonly Command[], now: Ms, ends?: readonly number[]): ExecOutcome {
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
      const results = this.runStatements(commands, now, ends);
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
      const results = this.runStatements(commands, d.now, undefined);
      if (this.checkInvariants) this.assertInvariants(Math.max(d.now, this.latestNow));
      ok = true;
      for (const c of commands) d.commands.push(c);
      d.ends.push(d.commands.length);
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
      this.runStatements(d.commands, d.now, d.ends);
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
    while (d.ends.length > 0 && d.ends[d.ends.length - 1]! > commands) d.ends.pop();
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
  dryRun<T>(commands: readonly Command[], now: Ms, read: (outcome: ExecOutcome) => T, ends?: readonly number[]): T {
    checkTime('now', now);
    this.store.begin();
    this.effects = [];
    this.inverse = [];
    try {
      const results = this.runStatements(commands, now, ends);
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

  /**
   * The statements' results; a refusal of a new entry that fails the statement gets its offers,
   * read from the state as the statement left it (its rows before the refused one included).
   */
  private runStatements(commands: readonly Command[], now: Ms, ends: readonly number[] | undefined): CommandResult[] {
    try {
      return this.runStatementsAsIs(commands, now, ends);
    } catch (err) {
      const asked = refusedRequest(err);
      if (asked !== undefined) throw withOffers(err as AllotError, offersFor(this.store, this, asked, now));
      throw err;
    }
  }

  private runStatementsAsIs(commands: readonly Command[], now: Ms, ends: readonly number[] | undefined): CommandResult[] {
    if (ends === undefined) return this.runStatement(commands, now);
    if (ends.length === 0 ? commands.length > 0 : ends[ends.length - 1] !== commands.length)
      throw new Error('engine: statements do not end where the commands do');
    const results: CommandResult[] = [];
    let from = 0;
    for (const end of ends) {
      for (const r of this.runStatement(commands.slice(from, end), now)) results.push(r);
      from = end;
    }
    return results;
  }

  /**
   * Decides one statement's commands in order, except that two or more pool bookings that are
   * not skippable are decided together, as one matching, after the rest (`bookFromPools`).
   */
  private runStatement(commands: readonly Command[], now: Ms): CommandResult[] {
    let pools = 0;
    for (const c of commands) if (c.type === 'BookFromPool' && c.onConflictSkip !== true) pools++;
    if (pools < 2) return commands.map((c) => this.runOne(c, now));
    const results: CommandResult[] = new Array<CommandResult>(commands.length);
    const joint: number[] = [];
    commands.forEach((c, i) => {
      if (c.type === 'BookFromPool' && c.onConflictSkip !== true) joint.push(i);
      else results[i] = this.runOne(c, now);
    });
    const decided = bookFromPools(
      this.batch,
      joint.map((i) => (commands[i] as Extract<Command, { type: 'BookFromPool' }>).request),
      now,
      joint.every((i) => (commands[i] as Extract<Command, { type: 'BookFromPool' }>).offers !== false),
    );
    joint.forEach((i, k) => {
      results[i] = decided[k]!;
    });
    return results;
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
        return createResource(this.batch, cmd.resource);
      case 'UpdateResource':
        return updateResource(this.batch, cmd.id, cmd.patch, now);
      case 'DeleteResource':
        return deleteResource(this.batch, cmd.id, now);
      case 'CreateRule':
        return createRule(this.batch, cmd.rule, now);
      case 'UpdateRule':
        return updateRule(this.batch, cmd.id, cmd.patch, now);
      case 'DeleteRule':
        return deleteRule(this.batch, cmd.id, now);
      case 'PlaceHold':
        return placeHold(this.batch, cmd.hold, now, cmd.restore === true, cmd.offers !== false);
      case 'ReleaseHold':
        return releaseHold(this.batch, cmd.id, now);
      case 'ReleaseHoldGroup':
        return releaseHoldGroup(this.batch, cmd.groupId, now);
      case 'ReleaseHolds':
        return releaseHolds(this.batch, cmd.filter, now);
      case 'CreateBooking':
        return createBooking(this.batch, cmd.booking, now, cmd.restore === true, cmd.offers !== false);
      case 'UpdateBookings':
        return updateBookings(this.batch, cmd.target, cmd.patch, now, cmd.perRow);
      case 'CancelBookings':
        return cancelBookings(this.batch, cmd.target);
      case 'ExpireHolds':
        return expireHolds(this.batch, cmd.limit, now);
      case 'CreateOutage':
        return createOutage(this.batch, cmd.outage, now, cmd.restore === true);
      case 'UpdateOutage':
        return updateOutage(this.batch, cmd.id, cmd.patch, now);
      case 'DeleteOutage':
        return deleteOutage(this.batch, cmd.id);
      case 'ApplyOutages':
        return applyOutages(this.batch, cmd.limit, now);
      case 'CreatePolicy':
        return createPolicy(this.batch, cmd.policy);
      case 'UpdatePolicy':
        return updatePolicy(this.batch, cmd.id, cmd.patch);
      case 'DeletePolicy':
        return deletePolicy(this.batch, cmd.id, now);
      case 'BookFromPool':
        return bookFromPool(this.batch, cmd.request, now, cmd.offers !== false);
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

  // ---- invariants ---------------------------------------------------------------------

  /** Throws if any resource holds more live footprints at once than its capacity, or an index is off. */
  assertInvariants(now: Ms): void {
    const s = this.store;
    let entries = 0;
    for (const [id, node] of s.resources) {
      node.entries.assertValid();
      node.openRules.assertValid();
      node.closeRules.assertValid();
      node.openSeries.assertValid();
      node.closeSeries.assertValid();
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
export { isHold };
