/**
 * Committed effects as LISTEN/NOTIFY events (docs/sql.md, "LISTEN and NOTIFY"): one JSON
 * object with `type`, the entity's fields (named as the table's columns) and `lsn`, sent on
 * `allot_events` and on `resource_<id>` of the entity's resource and every ancestor.
 */
import type { Booking, Effect, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';

export const ALL_EVENTS_CHANNEL = 'allot_events';

export function resourceChannel(resourceId: string): string {
  return `resource_${resourceId}`;
}

function resourceFields(r: Resource): Record<string, unknown> {
  return {
    id: r.id,
    parent_id: r.parentId,
    name: r.name,
    capacity: r.capacity,
    buffer_before: r.bufferBeforeMs,
    buffer_after: r.bufferAfterMs,
    capabilities: r.capabilities,
    status: r.status ?? 'online',
    status_reason: r.statusReason ?? null,
    pool_strategy: r.poolStrategy ?? 'id_order',
    pool_cursor: r.poolCursor ?? null,
  };
}

function ruleFields(r: Rule): Record<string, unknown> {
  return {
    id: r.id,
    resource_id: r.resourceId,
    start: r.start,
    end: r.end,
    blocking: r.blocking,
    policy_id: r.policyId,
    rrule: r.recurrence?.rrule ?? null,
    tz: r.recurrence?.tz ?? null,
    exdates: r.recurrence?.exdates ?? null,
  };
}

function holdFields(h: Hold): Record<string, unknown> {
  return {
    id: h.id,
    resource_id: h.resourceId,
    start: h.start,
    end: h.end,
    expires_at: h.expiresAt,
    label: h.label,
    capabilities: h.capabilities,
    user_id: h.userId,
    policy_id: h.policyId,
    group_id: h.groupId ?? null,
  };
}

function bookingFields(b: Booking): Record<string, unknown> {
  return {
    id: b.id,
    resource_id: b.resourceId,
    start: b.start,
    end: b.end,
    label: b.label,
    capabilities: b.capabilities,
    user_id: b.userId,
    policy_id: b.policyId,
    group_id: b.groupId,
  };
}

function outageFields(o: Outage): Record<string, unknown> {
  return {
    id: o.id,
    resource_id: o.resourceId,
    kind: o.kind,
    start: o.start,
    end: o.end,
    sliding_window: o.slidingWindowMs,
    capabilities: o.capabilities,
    reason: o.reason,
    declared_at: o.declaredAt,
  };
}

function policyFields(p: Policy): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    min_duration: p.minDurationMs,
    max_duration: p.maxDurationMs,
    book_ahead: p.bookAheadMs,
    max_bookings: p.maxBookings,
    max_usage: p.maxUsageMs,
    starts_within: p.startsWithinMs,
    allow_start_in_past: p.allowStartInPastMs,
  };
}

/** The event payload of an effect, and the resource whose channel (and ancestors') it goes to. */
export function eventOf(e: Effect, lsn: number): { payload: string; resourceId: string | null; isResource: boolean } {
  let fields: Record<string, unknown>;
  let resourceId: string | null;
  let isResource = false;
  switch (e.type) {
    case 'ResourceCreated':
    case 'ResourceUpdated':
    case 'ResourceDeleted':
      fields = resourceFields(e.resource);
      resourceId = e.resource.id;
      isResource = true;
      break;
    case 'RuleAdded':
    case 'RuleUpdated':
    case 'RuleRemoved':
      fields = ruleFields(e.rule);
      resourceId = e.rule.resourceId;
      break;
    case 'HoldPlaced':
      fields = holdFields(e.hold);
      resourceId = e.hold.resourceId;
      break;
    case 'HoldReleased':
      fields = { ...holdFields(e.hold), reason: e.reason, ...(e.outageId !== undefined ? { outage_id: e.outageId } : {}) };
      resourceId = e.hold.resourceId;
      break;
    case 'BookingConfirmed':
    case 'BookingUpdated':
      fields = bookingFields(e.booking);
      resourceId = e.booking.resourceId;
      break;
    case 'BookingCancelled':
      fields = { ...bookingFields(e.booking), reason: e.reason, ...(e.outageId !== undefined ? { outage_id: e.outageId } : {}) };
      resourceId = e.booking.resourceId;
      break;
    case 'OutageStarted':
    case 'OutageUpdated':
      fields = outageFields(e.outage);
      resourceId = e.outage.resourceId;
      break;
    case 'OutageEnded':
      // The outage's own `reason` is a column; why it ended is `ended_by`.
      fields = { ...outageFields(e.outage), ended_by: e.reason };
      resourceId = e.outage.resourceId;
      break;
    case 'PolicyCreated':
    case 'PolicyUpdated':
    case 'PolicyDeleted':
      // Policies belong to no resource: they are heard on allot_events only.
      fields = policyFields(e.policy);
      resourceId = null;
      break;
    default: {
      const never: never = e;
      throw new Error(`events: unknown effect ${JSON.stringify(never)}`);
    }
  }
  return { payload: JSON.stringify({ type: e.type, ...fields, lsn }), resourceId, isResource };
}
