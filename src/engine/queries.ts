/**
 * Reads of the engine's state. Each records in the store what its answer depends on, so a
 * session's read after a write waits only for the records that could change it (see
 * Store.touchNode and friends).
 */
import { availability, availabilityWith, type AvailabilityAnswer, type SpanMaker } from './availability.js';
import { type Blocked, explainAvailability, type ExplainQuery } from './explain.js';
import { Limits } from './limits.js';
import { nextFree, type Offer, type OfferRequest } from './offers.js';
import { outageDeadline } from './outages.js';
import { isLive, missingCapabilities } from './placement.js';
import { usage } from './policies.js';
import { type Entry, isHold, type Store } from './state.js';
import type { AvailabilityQuery, Booking, Hold, Ms, Outage, Policy, Resource, Rule } from './types.js';
import { normaliseCapabilities } from './validate.js';

export class Queries {
  constructor(readonly store: Store) {}

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
    node.openSeries.overlapping(a, b, (s) => take(s.rule));
    node.closeSeries.overlapping(a, b, (s) => take(s.rule));
    return out.sort((x, y) => x.start - y.start || (x.id < y.id ? -1 : 1));
  }

  /** Every booking on a resource (not below it), in no set order. */
  bookingsOn(resourceId: string): Booking[] {
    const node = this.store.node(resourceId);
    if (node === undefined) return [];
    const out: Booking[] = [];
    for (const e of node.entries) if (!isHold(e)) out.push(e);
    return out;
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

  /** The first `count` spans from `after` on, back to back, where the request would fit (offers.ts). */
  nextFree(req: OfferRequest, after: Ms, count: number, now: Ms): Offer[] {
    return nextFree(this.store, this, req, after, count, now, Limits.nextFreeHorizonMs);
  }

  /** Every stretch of the window where a new entry could not go, with what blocks it (explain.ts). */
  explainAvailability(q: ExplainQuery, now: Ms): Blocked[] {
    return explainAvailability(this.store, q, now);
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
}
