/**
 * The engine's data: entities, the commands that ask for a change, and the effects that
 * describe a change once decided. Times are integer Unix milliseconds; spans are half-open
 * `[start, end)`.
 */

export type Ms = number;

export interface Resource {
  readonly id: string;
  readonly parentId: string | null;
  readonly name: string | null;
  readonly capacity: number;
  readonly bufferBeforeMs: Ms;
  readonly bufferAfterMs: Ms;
  /** What the resource supports; an entry may require only these. */
  readonly capabilities: readonly string[];
  /**
   * Offline: no new entry may be placed on it or anything under it, and it shows no free time;
   * what it holds stays. Absent (resources logged before there was a status): online.
   */
  readonly status?: ResourceStatus;
  readonly statusReason?: string | null;
  /** The order a pool booking tries this resource's members in. Absent: `id_order`. */
  readonly poolStrategy?: PoolStrategy;
  /** `round_robin`: the member the pool booked last; the next booking tries those after it first. */
  readonly poolCursor?: string | null;
}

export type ResourceStatus = 'online' | 'offline';

/**
 * - id_order: members by id.
 * - fewest_bookings: by how many current and future bookings each has, fewest first, then id.
 * - round_robin: by id, starting after the member booked last (the pool's cursor), and around.
 */
export type PoolStrategy = 'id_order' | 'fewest_bookings' | 'round_robin';

export interface Rule {
  readonly id: string;
  readonly resourceId: string;
  readonly start: Ms;
  readonly end: Ms;
  /** false: opens time; true: closes it. */
  readonly blocking: boolean;
  /** When set, the rule applies only to entries made under this policy. */
  readonly policyId: string | null;
  /** When set, [start, end) is the first occurrence of a series (src/engine/recurrence.ts). */
  readonly recurrence?: RuleRecurrence;
}

/** How a rule recurs: an RFC 5545 RRULE in an IANA zone, less the occurrences skipped. */
export interface RuleRecurrence {
  readonly rrule: string;
  readonly tz: string;
  /** Starts of the occurrences skipped. */
  readonly exdates: readonly Ms[];
}

interface AllocationFields {
  readonly id: string;
  readonly resourceId: string;
  readonly start: Ms;
  readonly end: Ms;
  readonly label: string | null;
  /** What the entry requires of its resource. */
  readonly capabilities: readonly string[];
  readonly userId: string | null;
  readonly policyId: string | null;
}

export interface Booking extends AllocationFields {
  readonly groupId: string | null;
}

export interface Hold extends AllocationFields {
  /** The hold is gone for every read and check from this instant on. */
  readonly expiresAt: Ms;
  /**
   * Ties holds placed together (a series): released as one, and the booking each becomes
   * keeps it. Absent on holds logged before holds had groups: none.
   */
  readonly groupId?: string | null;
}

/**
 * A resource (and everything under it) out of service: all of it, or only for entries that
 * require one of `capabilities`.
 * - planned: known [start, end); refused while matching entries overlap it.
 * - unplanned: from `start`, end unknown (null) until resolved; matching entries overlapping
 *   [now, now + slidingWindowMs) are evicted as time moves. Over its life it evicts exactly
 *   the entries overlapping [max(start, declaredAt), min(end, now + slidingWindowMs)), so the
 *   result does not depend on when the reaper ran.
 */
export interface Outage {
  readonly id: string;
  readonly resourceId: string;
  readonly kind: 'planned' | 'unplanned';
  readonly start: Ms;
  readonly end: Ms | null;
  readonly slidingWindowMs: Ms | null;
  readonly capabilities: readonly string[];
  readonly reason: string | null;
  /** When it was declared (set by the engine): an unplanned outage evicts from then on. */
  readonly declaredAt: Ms;
}

export interface OutagePatch {
  readonly start?: Ms;
  readonly end?: Ms | null;
  readonly slidingWindowMs?: Ms | null;
  readonly capabilities?: readonly string[];
  readonly reason?: string | null;
}

/**
 * Limits on the bookings and holds made under it by each user. Null means no limit. Durations
 * and offsets are milliseconds.
 */
export interface Policy {
  readonly id: string;
  readonly name: string | null;
  readonly minDurationMs: Ms | null;
  readonly maxDurationMs: Ms | null;
  /** Start no later than now + book_ahead. */
  readonly bookAheadMs: Ms | null;
  /** Current and future entries per user. */
  readonly maxBookings: number | null;
  /** Total length of a user's current and future entries. */
  readonly maxUsageMs: Ms | null;
  /** Instant use: start no later than now + starts_within. */
  readonly startsWithinMs: Ms | null;
  /** How far before now a start may lie; null: any past start. */
  readonly allowStartInPastMs: Ms | null;
}

export type PolicyPatch = Partial<Omit<Policy, 'id'>>;

/** Fields of a resource that UPDATE may change. */
export interface ResourcePatch {
  readonly parentId?: string | null;
  readonly name?: string | null;
  readonly capacity?: number;
  readonly bufferBeforeMs?: Ms;
  readonly bufferAfterMs?: Ms;
  readonly capabilities?: readonly string[];
  readonly status?: ResourceStatus;
  readonly statusReason?: string | null;
  readonly poolStrategy?: PoolStrategy;
  readonly poolCursor?: string | null;
}

export interface RulePatch {
  readonly resourceId?: string;
  readonly start?: Ms;
  readonly end?: Ms;
  readonly blocking?: boolean;
  readonly policyId?: string | null;
  /** The recurrence's RRULE; null: the rule stops recurring. */
  readonly rrule?: string | null;
  /** The recurrence's zone and skipped starts (a recurring rule's only). */
  readonly tz?: string;
  readonly exdates?: readonly Ms[];
}

export interface BookingPatch {
  readonly resourceId?: string;
  readonly start?: Ms;
  readonly end?: Ms;
  readonly label?: string | null;
  readonly capabilities?: readonly string[];
  readonly userId?: string | null;
  readonly policyId?: string | null;
  readonly groupId?: string | null;
}

export type BookingTarget = { readonly id: string } | { readonly groupId: string } | { readonly filter: BookingFilter };

/** Bookings (or holds) by what they are: every condition given holds (start at or after, end at or before). */
export interface BookingFilter {
  readonly resourceId?: string;
  readonly userId?: string;
  readonly policyId?: string;
  readonly startFrom?: Ms;
  readonly endTo?: Ms;
}

/**
 * A request for a change. Ids are chosen before the engine sees the command (the SQL layer
 * generates ULIDs for omitted ids), so deciding a command needs no randomness.
 */
/**
 * `restore`: the command re-creates an exported entity (an import, `SET allot.restore = on`).
 * Capacity, rules and planned outages are checked as ever; what depended on the moment it was
 * first made is not judged again: policy limits, a hold's expiry (one already expired is
 * skipped), an outage's declared_at (kept) and its first evictions (the reaper makes any due).
 */
export type Command =
  | { readonly type: 'CreateResource'; readonly resource: Resource; readonly onConflictSkip?: boolean }
  | { readonly type: 'UpdateResource'; readonly id: string; readonly patch: ResourcePatch }
  | { readonly type: 'DeleteResource'; readonly id: string }
  | { readonly type: 'CreateRule'; readonly rule: Rule; readonly onConflictSkip?: boolean }
  | { readonly type: 'UpdateRule'; readonly id: string; readonly patch: RulePatch }
  | { readonly type: 'DeleteRule'; readonly id: string }
  /** `offers` false: a refusal carries no offers (`SET allot.offers = off`). */
  | { readonly type: 'PlaceHold'; readonly hold: Hold; readonly onConflictSkip?: boolean; readonly restore?: boolean; readonly offers?: boolean }
  | { readonly type: 'ReleaseHold'; readonly id: string }
  | { readonly type: 'ReleaseHoldGroup'; readonly groupId: string }
  | { readonly type: 'ReleaseHolds'; readonly filter: BookingFilter }
  | {
      readonly type: 'CreateBooking';
      readonly booking: BookingInput;
      readonly onConflictSkip?: boolean;
      readonly restore?: boolean;
      readonly offers?: boolean;
    }
  /**
   * `perRow`: fields computed from each booking as it stands, over `patch` (an UPDATE whose SET
   * reads the row: `SET "end" = "end" + interval '1 hour'`). Pure: it reads only the booking.
   */
  | { readonly type: 'UpdateBookings'; readonly target: BookingTarget; readonly patch: BookingPatch; readonly perRow?: (b: Booking) => BookingPatch }
  | { readonly type: 'CancelBookings'; readonly target: BookingTarget }
  | { readonly type: 'ExpireHolds'; readonly limit: number }
  | { readonly type: 'CreateOutage'; readonly outage: Outage; readonly onConflictSkip?: boolean; readonly restore?: boolean }
  | { readonly type: 'UpdateOutage'; readonly id: string; readonly patch: OutagePatch }
  | { readonly type: 'DeleteOutage'; readonly id: string }
  /** The reaper: evicts what unplanned outages' windows have reached and ends past outages. */
  | { readonly type: 'ApplyOutages'; readonly limit: number }
  | { readonly type: 'CreatePolicy'; readonly policy: Policy; readonly onConflictSkip?: boolean }
  | { readonly type: 'UpdatePolicy'; readonly id: string; readonly patch: PolicyPatch }
  | { readonly type: 'DeletePolicy'; readonly id: string }
  /** Books `ids.length` distinct descendants of a pool that have the capabilities and are free. */
  | { readonly type: 'BookFromPool'; readonly request: PoolRequest; readonly onConflictSkip?: boolean; readonly offers?: boolean };

export interface PoolRequest {
  /** One id per booking to make: their number is the quantity. */
  readonly ids: readonly string[];
  readonly poolId: string;
  readonly start: Ms;
  readonly end: Ms;
  readonly capabilities: readonly string[];
  readonly label: string | null;
  readonly userId: string | null;
  readonly policyId: string | null;
  readonly groupId: string | null;
}

/**
 * A booking to create. With `holdId`, fields left undefined are taken from the hold, and the
 * hold's own footprint does not count against the booking.
 */
export interface BookingInput {
  readonly id: string;
  readonly holdId?: string;
  readonly resourceId?: string;
  readonly start?: Ms;
  readonly end?: Ms;
  readonly label?: string | null;
  readonly capabilities?: readonly string[];
  readonly userId?: string | null;
  readonly policyId?: string | null;
  readonly groupId?: string | null;
}

export type HoldReleaseReason = 'released' | 'expired' | 'committed' | 'evicted';
export type BookingCancelReason = 'cancelled' | 'evicted';

/**
 * What changed. Effects are what the log stores and what listeners receive: applying the same
 * effects to the same state always gives the same state, with no decision left to make.
 */
export type Effect =
  | { readonly type: 'ResourceCreated'; readonly resource: Resource }
  | { readonly type: 'ResourceUpdated'; readonly resource: Resource }
  | { readonly type: 'ResourceDeleted'; readonly resource: Resource }
  | { readonly type: 'RuleAdded'; readonly rule: Rule }
  | { readonly type: 'RuleUpdated'; readonly rule: Rule }
  | { readonly type: 'RuleRemoved'; readonly rule: Rule }
  | { readonly type: 'HoldPlaced'; readonly hold: Hold }
  | { readonly type: 'HoldReleased'; readonly hold: Hold; readonly reason: HoldReleaseReason; readonly outageId?: string }
  | { readonly type: 'BookingConfirmed'; readonly booking: Booking }
  | { readonly type: 'BookingUpdated'; readonly booking: Booking }
  | { readonly type: 'BookingCancelled'; readonly booking: Booking; readonly reason: BookingCancelReason; readonly outageId?: string }
  | { readonly type: 'OutageStarted'; readonly outage: Outage }
  | { readonly type: 'OutageUpdated'; readonly outage: Outage }
  | { readonly type: 'OutageEnded'; readonly outage: Outage; readonly reason: 'lifted' | 'ended' }
  | { readonly type: 'PolicyCreated'; readonly policy: Policy }
  | { readonly type: 'PolicyUpdated'; readonly policy: Policy }
  | { readonly type: 'PolicyDeleted'; readonly policy: Policy };

/** What one command did, for command tags and RETURNING. */
export type CommandResult =
  | { readonly type: 'skipped' }
  | { readonly type: 'resources'; readonly rows: readonly Resource[] }
  | { readonly type: 'rules'; readonly rows: readonly Rule[] }
  | { readonly type: 'holds'; readonly rows: readonly Hold[] }
  | { readonly type: 'bookings'; readonly rows: readonly Booking[] }
  | { readonly type: 'outages'; readonly rows: readonly Outage[] }
  | { readonly type: 'policies'; readonly rows: readonly Policy[] }
  | { readonly type: 'count'; readonly count: number };

/** One conflict named in a 23P01 error's DETAIL. */
export type Conflict =
  | {
      readonly kind: 'booking' | 'hold';
      readonly id: string;
      readonly resource_id: string;
      readonly start: Ms;
      readonly end: Ms;
      readonly label: string | null;
      readonly group_id: string | null;
    }
  | { readonly kind: 'rule'; readonly id: string; readonly resource_id: string; readonly start: Ms; readonly end: Ms }
  | { readonly kind: 'closed'; readonly resource_id: string; readonly start: Ms; readonly end: Ms }
  | { readonly kind: 'capacity'; readonly resource_id: string; readonly capacity: number }
  | { readonly kind: 'offline'; readonly resource_id: string; readonly reason: string | null }
  | { readonly kind: 'outage'; readonly id: string; readonly resource_id: string; readonly start: Ms; readonly end: Ms | null }
  | {
      readonly kind: 'policy';
      readonly policy_id: string;
      readonly limit: 'min_duration' | 'max_duration' | 'book_ahead' | 'starts_within' | 'allow_start_in_past' | 'max_bookings' | 'max_usage';
      readonly allowed: number;
      readonly requested: number;
    }
  | { readonly kind: 'pool'; readonly pool_id: string; readonly wanted: number; readonly free: number; readonly candidates: number };

export interface FreeSpan {
  readonly start: Ms;
  readonly end: Ms;
  /** Remaining capacity for a new entry over this span (or, merged, how many resources are free). */
  readonly free: number;
}

export interface AvailabilityQuery {
  readonly resourceIds: readonly string[];
  readonly start: Ms;
  readonly end: Ms;
  readonly minDurationMs?: Ms;
  /** Capabilities the entry to place would require. */
  readonly capabilities?: readonly string[];
  /** Policy the entry would be made under (policy-scoped rules apply). */
  readonly policyId?: string | null;
  /** Merge the resources: spans where at least this many are free at once. */
  readonly minAvailable?: number;
}
