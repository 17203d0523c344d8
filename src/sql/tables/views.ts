/**
 * allot's computed tables, read-only and made on every read: availability and policy_usage
 * (planned in plan/availability.ts), calendar (plan/calendar.ts), next_free (plan/next-free.ts)
 * and allot_export (the whole
 * state as JSON lines).
 */
import { column, type TableDef } from './columns.js';

export const availabilityDef: TableDef = {
  name: 'availability',
  schema: 'public',
  oid: 16_405,
  columns: [column.text('resource_id'), column.time('start'), column.time('end'), column.int8('free')],
  virtual: true,
  comment: 'Computed on read: free capacity of resources or pools over a window given in WHERE.',
  columnComments: {
    resource_id: 'The resource (NULL when min_available merges resources).',
    start: 'Start of a free span.',
    end: 'End of a free span.',
    free: 'Free capacity (or free resources) over the span.',
  },
};

export const allotExportDef: TableDef = {
  name: 'allot_export',
  schema: 'public',
  oid: 16_409,
  columns: [column.text('line', true)],
  virtual: true,
  comment: 'Computed on read: the whole database as JSON lines, as allot export writes it.',
  columnComments: { line: 'One JSON line of the export.' },
};

export const calendarDef: TableDef = {
  name: 'calendar',
  schema: 'public',
  oid: 16_410,
  columns: [column.text('resource_id', true), column.time('start'), column.time('end'), column.text('ics', true)],
  virtual: true,
  comment: "Computed on read: a resource's time over a window given in WHERE, as an iCalendar (RFC 5545) VCALENDAR.",
  columnComments: {
    resource_id: 'The resource.',
    start: 'Start of the window asked for.',
    end: 'End of the window asked for.',
    ics: 'The VCALENDAR: bookings, holds, outages and rules (a recurring one with its RRULE) as events.',
  },
};

export const nextFreeDef: TableDef = {
  name: 'next_free',
  schema: 'public',
  oid: 16_411,
  columns: [column.text('resource_id'), column.text('pool_id'), column.time('start'), column.time('end')],
  virtual: true,
  comment: 'Computed on read: the next spans of a duration given in WHERE where a booking would fit, back to back.',
  columnComments: {
    resource_id: 'The resource asked about (NULL for a pool).',
    pool_id: 'The pool asked about (NULL for a resource).',
    start: 'Start of a span where the booking would fit.',
    end: 'Its end: start plus the duration asked for.',
  },
};

export const explainDef: TableDef = {
  name: 'availability_explain',
  schema: 'public',
  oid: 16_412,
  columns: [
    column.text('resource_id', true),
    column.time('start'),
    column.time('end'),
    column.text('reason', true),
    column.text('blocked_by', true),
    column.text('detail'),
  ],
  virtual: true,
  comment: 'Computed on read: every stretch of a window given in WHERE where a new entry could not go, with what blocks it.',
  columnComments: {
    resource_id: 'The resource asked about.',
    start: 'Start of the blocked stretch.',
    end: 'End of the blocked stretch.',
    reason: 'closed, blocking_rule, booking, hold, outage, capacity, capabilities, offline or policy.',
    blocked_by: 'What blocks it: the resource whose rules apply, the rule, outage, entry, resource or policy.',
    detail: 'body or buffer, planned or unplanned, the limit, the offline reason, or the entries filling the capacity.',
  },
};

export const policyUsageDef: TableDef = {
  name: 'policy_usage',
  schema: 'public',
  oid: 16_408,
  columns: [
    column.text('user_id', true),
    column.text('policy_id', true),
    column.int8('bookings'),
    column.int8('usage_ms'),
    column.optionalInt8('remaining_bookings'),
    column.optionalInt8('remaining_usage_ms'),
  ],
  virtual: true,
  comment: "Computed on read: each user's bookings and usage under each policy, and what remains.",
  columnComments: {
    user_id: 'The user.',
    policy_id: 'The policy.',
    bookings: 'Bookings and live holds not yet over.',
    usage_ms: 'Their total length, in ms.',
    remaining_bookings: 'Bookings left under max_bookings (NULL: no limit).',
    remaining_usage_ms: 'Usage left under max_usage, in ms (NULL: no limit).',
  },
};
