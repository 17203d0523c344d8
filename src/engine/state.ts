/**
 * The engine's state and the only code that mutates it. Every mutation records its inverse
 * while a batch is open, so a failed batch (or a dry run) is undone exactly.
 */
import { IntervalTree } from './interval-tree.js';
import { ruleExtent } from './rule-series.js';
import { FOREVER } from './spans.js';
import type { Booking, Effect, Hold, Outage, Policy, Resource, Rule } from './types.js';

/** An entry in a resource's allocation index: a booking or a hold, by its own span. */
export type Entry = Booking | Hold;

export function isHold(e: Entry): e is Hold {
  return (e as Hold).expiresAt !== undefined;
}

export function entryKey(e: Entry): string {
  return (isHold(e) ? 'h:' : 'b:') + e.id;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entries that start together: bookings before holds, then by id (the order of `entryKey`). */
function compareEntries(a: Entry, b: Entry): number {
  const ha = isHold(a);
  return ha !== isHold(b) ? (ha ? 1 : -1) : compareIds(a.id, b.id);
}

const byId = (a: { readonly id: string }, b: { readonly id: string }): number => compareIds(a.id, b.id);

/** A recurring rule in a resource's index: the span its series covers. */
export interface SeriesSpan {
  readonly start: number;
  readonly end: number;
  readonly rule: Rule;
}

const bySeriesRule = (a: SeriesSpan, b: SeriesSpan): number => compareIds(a.rule.id, b.rule.id);

function seriesSpan(rule: Rule): SeriesSpan {
  return { ...ruleExtent(rule), rule };
}

/** An outage in a resource's index: an unknown end counts as forever. */
export interface OutageSpan {
  readonly start: number;
  readonly end: number;
  readonly outage: Outage;
}

function outageSpan(o: Outage): OutageSpan {
  return { start: o.start, end: o.end ?? FOREVER, outage: o };
}

export class ResourceNode {
  readonly children = new Set<string>();
  /** Bookings and holds (expired holds too, until reaped), ordered by span start. */
  readonly entries = new IntervalTree<Entry>(compareEntries);
  readonly openRules = new IntervalTree<Rule>(byId);
  /** Outages declared on this resource, by [start, end or forever). */
  readonly outages = new IntervalTree<OutageSpan>((a, b) => compareIds(a.outage.id, b.outage.id));
  readonly closeRules = new IntervalTree<Rule>(byId);
  /** Recurring rules, by the span from their first occurrence to their last (or FOREVER). */
  readonly openSeries = new IntervalTree<SeriesSpan>(bySeriesRule);
  readonly closeSeries = new IntervalTree<SeriesSpan>(bySeriesRule);
  /** Non-blocking rules without a policy, and per policy: decides which level's rules apply. */
  openRulesNoPolicy = 0;
  readonly openRulesByPolicy = new Map<string, number>();
  /** LSN of the last record that changed this resource, its entries or its rules. */
  changedAt = 0;
  constructor(public resource: Resource) {}

  /** Rules on this resource, one-off and recurring. */
  get ruleCount(): number {
    return this.openRules.size + this.closeRules.size + this.openSeries.size + this.closeSeries.size;
  }

  /** Every rule on this resource: opening, closing, then recurring ones. */
  allRules(): Rule[] {
    const out = [...this.openRules, ...this.closeRules];
    for (const s of this.openSeries) out.push(s.rule);
    for (const s of this.closeSeries) out.push(s.rule);
    return out;
  }
}

interface ExpiryItem {
  readonly start: number;
  readonly end: number;
  readonly id: string;
}

export class Store {
  private readonly nodes = new Map<string, ResourceNode>();
  /** Every resource's node by id; changed only by addResource and removeResource (peekNode's cache relies on it). */
  readonly resources: ReadonlyMap<string, ResourceNode> = this.nodes;
  /** peekNode's last question and answer; cleared whenever a resource is added or removed. */
  private lastNodeId: string | null = null;
  private lastNode: ResourceNode | undefined = undefined;
  readonly rules = new Map<string, Rule>();
  readonly bookings = new Map<string, Booking>();
  readonly holds = new Map<string, Hold>();
  readonly groups = new Map<string, Set<string>>();
  readonly outages = new Map<string, Outage>();
  readonly policies = new Map<string, Policy>();
  /** Bookings and holds by user and policy (key `user\0policy`), for quotas. */
  readonly byUserPolicy = new Map<string, Set<Entry>>();

  /** Holds by expiry instant, for the reaper and for `nextHoldExpiry`. */
  readonly holdExpiry = new IntervalTree<ExpiryItem>(byId);
  private undoLog: (() => void)[] | null = null;
  /**
   * The newest LSN any access since `resetReads` depended on: a reply built from those reads
   * may leave only once that LSN is durable. Hits depend on their resource's last change;
   * misses on the last removal anywhere; scans on the last change anywhere.
   */
  readDep = 0;
  private lastChangeAt = 0;
  private lastRemovalAt = 0;

  resetReads(): void {
    this.readDep = 0;
  }

  /** The state as loaded is what the log holds up to `lsn`: reads depend on it at most. */
  changedUpTo(lsn: number): void {
    this.lastChangeAt = lsn;
  }

  /**
   * Records that the record at `lsn` made `effects` (with `inverse`, what undoes each): the
   * resources they touched, and whether any took something away from where a read looked.
   */
  markChanged(effects: readonly Effect[], inverse: readonly Effect[], lsn: number): void {
    this.lastChangeAt = lsn;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      const before = inverse[i];
      // Creations add; everything else may take something away from where a read looked.
      const removal =
        e.type !== 'ResourceCreated' &&
        e.type !== 'RuleAdded' &&
        e.type !== 'HoldPlaced' &&
        e.type !== 'BookingConfirmed' &&
        e.type !== 'OutageStarted' &&
        e.type !== 'PolicyCreated';
      switch (e.type) {
        case 'ResourceCreated':
        case 'ResourceUpdated':
        case 'ResourceDeleted':
          this.markResource(e.resource.id, lsn);
          this.markResource(e.resource.parentId, lsn);
          if (before?.type === 'ResourceUpdated') this.markResource(before.resource.parentId, lsn);
          break;
        case 'RuleAdded':
        case 'RuleUpdated':
        case 'RuleRemoved':
          this.markResource(e.rule.resourceId, lsn);
          if (before?.type === 'RuleUpdated') this.markResource(before.rule.resourceId, lsn);
          break;
        case 'HoldPlaced':
        case 'HoldReleased':
          this.markResource(e.hold.resourceId, lsn);
          break;
        case 'BookingConfirmed':
        case 'BookingUpdated':
        case 'BookingCancelled':
          this.markResource(e.booking.resourceId, lsn);
          if (before?.type === 'BookingUpdated') this.markResource(before.booking.resourceId, lsn);
          break;
        case 'OutageStarted':
        case 'OutageUpdated':
        case 'OutageEnded':
          this.markResource(e.outage.resourceId, lsn);
          break;
        case 'PolicyCreated':
        case 'PolicyUpdated':
        case 'PolicyDeleted':
          // Reads of policies depend on lastChangeAt (they touch everything).
          break;
      }
      if (removal) this.lastRemovalAt = lsn;
    }
  }

  /** Records after `lsn` were undone (a failed log write): no read depends on them any more. */
  forgetChangesAfter(lsn: number): void {
    this.lastChangeAt = lsn;
    this.lastRemovalAt = Math.min(this.lastRemovalAt, lsn);
    for (const n of this.nodes.values()) if (n.changedAt > lsn) n.changedAt = lsn;
  }

  private markResource(id: string | null, lsn: number): void {
    if (id === null) return;
    const n = this.nodes.get(id);
    if (n !== undefined) n.changedAt = lsn;
  }

  touchNode(n: ResourceNode): void {
    if (n.changedAt > this.readDep) this.readDep = n.changedAt;
  }

  touchMiss(): void {
    if (this.lastRemovalAt > this.readDep) this.readDep = this.lastRemovalAt;
  }

  touchAll(): void {
    if (this.lastChangeAt > this.readDep) this.readDep = this.lastChangeAt;
  }

  // ---- batches ------------------------------------------------------------------------

  /** Starts recording inverses; returns a mark to roll back to. */
  begin(): void {
    if (this.undoLog !== null) throw new Error('store: batch already open');
    this.undoLog = [];
  }

  mark(): number {
    return this.undoLog!.length;
  }

  rollbackTo(mark: number): void {
    const log = this.undoLog!;
    this.undoLog = null; // inverses must not record inverses
    while (log.length > mark) log.pop()!();
    this.undoLog = log;
  }

  /** Ends the batch: keep the changes (commit) or undo them all. */
  end(keep: boolean): void {
    if (!keep) this.rollbackTo(0);
    this.undoLog = null;
  }

  get inBatch(): boolean {
    return this.undoLog !== null;
  }

  private record(inverse: () => void): void {
    if (this.undoLog !== null) this.undoLog.push(inverse);
  }

  // ---- resources ----------------------------------------------------------------------

  node(id: string): ResourceNode | undefined {
    const n = this.peekNode(id);
    if (n === undefined) this.touchMiss();
    else this.touchNode(n);
    return n;
  }

  /**
   * The resource's node, not counted as a read. The last answer is kept: placing one entry asks
   * for the same resource four or five times, and a lookup in a map of thousands of resources
   * costs a cache miss or two each time.
   */
  peekNode(id: string): ResourceNode | undefined {
    if (id === this.lastNodeId) return this.lastNode;
    const n = this.resources.get(id);
    this.lastNodeId = id;
    this.lastNode = n;
    return n;
  }

  addResource(r: Resource): void {
    if (this.resources.has(r.id)) throw new Error(`store: resource ${r.id} exists`);
    this.lastNodeId = null;
    this.nodes.set(r.id, new ResourceNode(r));
    if (r.parentId !== null) this.mustNode(r.parentId).children.add(r.id);
    this.record(() => this.removeResource(r.id));
  }

  removeResource(id: string): void {
    const n = this.mustNode(id);
    if (n.children.size > 0 || n.entries.size > 0 || n.ruleCount > 0 || n.outages.size > 0) {
      throw new Error(`store: resource ${id} is not empty`);
    }
    this.lastNodeId = null;
    this.nodes.delete(id);
    if (n.resource.parentId !== null) this.mustNode(n.resource.parentId).children.delete(id);
    this.record(() => this.addResource(n.resource));
  }

  replaceResource(r: Resource): void {
    const n = this.mustNode(r.id);
    const old = n.resource;
    if (old.parentId !== r.parentId) {
      if (old.parentId !== null) this.mustNode(old.parentId).children.delete(r.id);
      if (r.parentId !== null) this.mustNode(r.parentId).children.add(r.id);
    }
    n.resource = r;
    this.record(() => this.replaceResource(old));
  }

  mustNode(id: string): ResourceNode {
    const n = this.peekNode(id);
    if (n === undefined) throw new Error(`store: no resource ${id}`);
    this.touchNode(n);
    return n;
  }

  // ---- rules --------------------------------------------------------------------------

  addRule(rule: Rule): void {
    if (this.rules.has(rule.id)) throw new Error(`store: rule ${rule.id} exists`);
    const n = this.mustNode(rule.resourceId);
    this.rules.set(rule.id, rule);
    if (rule.recurrence !== undefined) (rule.blocking ? n.closeSeries : n.openSeries).insert(seriesSpan(rule));
    else if (rule.blocking) n.closeRules.insert(rule);
    else n.openRules.insert(rule);
    if (!rule.blocking) {
      if (rule.policyId === null) n.openRulesNoPolicy++;
      else n.openRulesByPolicy.set(rule.policyId, (n.openRulesByPolicy.get(rule.policyId) ?? 0) + 1);
    }
    this.record(() => this.removeRule(rule.id));
  }

  removeRule(id: string): Rule {
    const rule = this.rules.get(id);
    if (rule === undefined) throw new Error(`store: no rule ${id}`);
    const n = this.mustNode(rule.resourceId);
    this.rules.delete(id);
    if (rule.recurrence !== undefined) (rule.blocking ? n.closeSeries : n.openSeries).delete(seriesSpan(rule));
    else if (rule.blocking) n.closeRules.delete(rule);
    else n.openRules.delete(rule);
    if (!rule.blocking) {
      if (rule.policyId === null) n.openRulesNoPolicy--;
      else {
        const c = n.openRulesByPolicy.get(rule.policyId)! - 1;
        if (c === 0) n.openRulesByPolicy.delete(rule.policyId);
        else n.openRulesByPolicy.set(rule.policyId, c);
      }
    }
    this.record(() => this.addRule(rule));
    return rule;
  }

  // ---- policies ------------------------------------------------------------------------

  putPolicy(p: Policy): void {
    const old = this.policies.get(p.id);
    this.policies.set(p.id, p);
    this.record(() => {
      if (old === undefined) this.policies.delete(p.id);
      else this.policies.set(p.id, old);
    });
  }

  removePolicy(id: string): Policy {
    const p = this.policies.get(id);
    if (p === undefined) throw new Error(`store: no policy ${id}`);
    this.policies.delete(id);
    this.record(() => this.policies.set(id, p));
    return p;
  }

  private indexEntry(e: Entry, add: boolean): void {
    if (e.userId === null || e.policyId === null) return;
    const key = `${e.userId}\0${e.policyId}`;
    let set = this.byUserPolicy.get(key);
    if (add) {
      if (set === undefined) this.byUserPolicy.set(key, (set = new Set()));
      set.add(e);
    } else if (set !== undefined) {
      set.delete(e);
      if (set.size === 0) this.byUserPolicy.delete(key);
    }
  }

  // ---- outages -------------------------------------------------------------------------

  addOutage(o: Outage): void {
    if (this.outages.has(o.id)) throw new Error(`store: outage ${o.id} exists`);
    this.mustNode(o.resourceId).outages.insert(outageSpan(o));
    this.outages.set(o.id, o);
    this.record(() => this.removeOutage(o.id));
  }

  removeOutage(id: string): Outage {
    const o = this.outages.get(id);
    if (o === undefined) throw new Error(`store: no outage ${id}`);
    if (!this.mustNode(o.resourceId).outages.delete(outageSpan(o))) throw new Error(`store: outage ${id} not indexed`);
    this.outages.delete(id);
    this.record(() => this.addOutage(o));
    return o;
  }

  // ---- bookings -----------------------------------------------------------------------

  addBooking(b: Booking): void {
    if (this.bookings.has(b.id)) throw new Error(`store: booking ${b.id} exists`);
    this.mustNode(b.resourceId).entries.insert(b);
    this.bookings.set(b.id, b);
    this.indexEntry(b, true);
    if (b.groupId !== null) {
      let g = this.groups.get(b.groupId);
      if (g === undefined) this.groups.set(b.groupId, (g = new Set()));
      g.add(b.id);
    }
    this.record(() => this.removeBooking(b.id));
  }

  removeBooking(id: string): Booking {
    const b = this.bookings.get(id);
    if (b === undefined) throw new Error(`store: no booking ${id}`);
    if (!this.mustNode(b.resourceId).entries.delete(b)) throw new Error(`store: booking ${id} not indexed`);
    this.bookings.delete(id);
    this.indexEntry(b, false);
    if (b.groupId !== null) {
      const g = this.groups.get(b.groupId)!;
      g.delete(id);
      if (g.size === 0) this.groups.delete(b.groupId);
    }
    this.record(() => this.addBooking(b));
    return b;
  }

  // ---- holds --------------------------------------------------------------------------

  addHold(h: Hold): void {
    if (this.holds.has(h.id)) throw new Error(`store: hold ${h.id} exists`);
    this.mustNode(h.resourceId).entries.insert(h);
    this.holds.set(h.id, h);
    this.indexEntry(h, true);
    this.holdExpiry.insert({ start: h.expiresAt, end: h.expiresAt, id: h.id });
    this.record(() => this.removeHold(h.id));
  }

  removeHold(id: string): Hold {
    const h = this.holds.get(id);
    if (h === undefined) throw new Error(`store: no hold ${id}`);
    if (!this.mustNode(h.resourceId).entries.delete(h)) throw new Error(`store: hold ${id} not indexed`);
    this.holds.delete(id);
    this.indexEntry(h, false);
    this.holdExpiry.delete({ start: h.expiresAt, end: h.expiresAt, id: h.id });
    this.record(() => this.addHold(h));
    return h;
  }
}
