/**
 * allot's own tables (resources, rules, bookings, holds, outages, policies) and the computed
 * ones (availability, policy_usage, allot_export): their columns and how a row is shown. The
 * PostgreSQL system catalog that describes them is in system/.
 */
import type { Booking, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';
import type { SqlType, Value } from './types.js';

/**
 * How a column's input is read: times accept ISO-8601 text as well as milliseconds, durations
 * interval text as well as milliseconds.
 */
export type Domain = 'text' | 'time' | 'duration' | 'int' | 'bool' | 'text[]';

/** How instants and durations come out: timestamptz and interval, or bigint milliseconds. */
export type TimeOutput = 'timestamptz' | 'ms';

/** A column's type as a session sees it: instants and durations follow its time output. */
export function columnType(col: ColumnDef, times: TimeOutput): SqlType {
  if (times === 'ms') return col.type;
  if (col.domain === 'time') return 'timestamptz';
  if (col.domain === 'duration') return 'interval';
  return col.type;
}

export interface ColumnDef {
  readonly name: string;
  readonly type: SqlType;
  readonly domain: Domain;
  readonly notNull?: boolean;
  /** For a record-valued column (a set function's record through a subquery): its fields. */
  readonly fields?: readonly { readonly name: string; readonly type: SqlType }[];
}

export interface TableDef {
  readonly name: string;
  readonly schema: 'public' | 'pg_catalog' | 'information_schema';
  readonly oid: number;
  readonly columns: readonly ColumnDef[];
  /** Columns INSERT/UPDATE accept that are not part of the row (e.g. bookings.hold_id). */
  readonly writeOnly?: readonly ColumnDef[];
  /** Computed on every read, never written: a view to the catalog. */
  readonly virtual?: boolean;
}

const text = (name: string, notNull = false): ColumnDef => ({ name, type: 'text', domain: 'text', notNull });
const time = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time', notNull: true });
const int8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int', notNull: true });
const optionalTime = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time' });
const optionalInt8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int' });
const duration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration', notNull: true });
const optionalDuration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration' });
const caps: ColumnDef = { name: 'capabilities', type: 'text[]', domain: 'text[]', notNull: true };

export const Tables = {
  resources: {
    name: 'resources',
    schema: 'public',
    oid: 16_401,
    columns: [text('id', true), text('parent_id'), text('name'), int8('capacity'), duration('buffer_before'), duration('buffer_after'), caps],
  },
  rules: {
    name: 'rules',
    schema: 'public',
    oid: 16_402,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), { name: 'blocking', type: 'bool', domain: 'bool', notNull: true }, text('policy_id')],
  },
  bookings: {
    name: 'bookings',
    schema: 'public',
    oid: 16_403,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), text('label'), caps, text('user_id'), text('policy_id'), text('group_id')],
    writeOnly: [text('hold_id'), text('pool_id'), { name: 'quantity', type: 'int8', domain: 'int' }],
  },
  holds: {
    name: 'holds',
    schema: 'public',
    oid: 16_404,
    columns: [text('id', true), text('resource_id', true), time('start'), time('end'), time('expires_at'), text('label'), caps, text('user_id'), text('policy_id')],
    writeOnly: [text('booking_id')],
  },
  outages: {
    name: 'outages',
    schema: 'public',
    oid: 16_406,
    columns: [
      text('id', true),
      text('resource_id', true),
      text('kind', true),
      time('start'),
      optionalTime('end'),
      optionalDuration('sliding_window'),
      caps,
      text('reason'),
      { name: 'declared_at', type: 'int8', domain: 'time', notNull: true },
    ],
  },
  policies: {
    name: 'policies',
    schema: 'public',
    oid: 16_407,
    columns: [
      text('id', true),
      text('name'),
      optionalDuration('min_duration'),
      optionalDuration('max_duration'),
      optionalDuration('book_ahead'),
      optionalInt8('max_bookings'),
      optionalDuration('max_usage'),
      optionalDuration('starts_within'),
      optionalDuration('allow_start_in_past'),
    ],
  },
  availability: {
    name: 'availability',
    schema: 'public',
    oid: 16_405,
    columns: [text('resource_id'), time('start'), time('end'), int8('free')],
    virtual: true,
  },
  allot_export: {
    name: 'allot_export',
    schema: 'public',
    oid: 16_409,
    columns: [text('line', true)],
    virtual: true,
  },
  policy_usage: {
    name: 'policy_usage',
    schema: 'public',
    oid: 16_408,
    columns: [text('user_id', true), text('policy_id', true), int8('bookings'), int8('usage_ms'), optionalInt8('remaining_bookings'), optionalInt8('remaining_usage_ms')],
    virtual: true,
  },
} as const satisfies Record<string, TableDef>;

export type AllotTable = keyof typeof Tables;
/** The tables that hold rows: every one but the computed views. */
export type StoredTable = Exclude<AllotTable, 'availability' | 'policy_usage' | 'allot_export'>;

export function resourceRow(r: Resource): Value[] {
  return [r.id, r.parentId, r.name, r.capacity, r.bufferBeforeMs, r.bufferAfterMs, r.capabilities];
}

export function ruleRow(r: Rule): Value[] {
  return [r.id, r.resourceId, r.start, r.end, r.blocking, r.policyId];
}

export function bookingRow(b: Booking): Value[] {
  return [b.id, b.resourceId, b.start, b.end, b.label, b.capabilities, b.userId, b.policyId, b.groupId];
}

export function outageRow(o: Outage): Value[] {
  return [o.id, o.resourceId, o.kind, o.start, o.end, o.slidingWindowMs, o.capabilities, o.reason, o.declaredAt];
}

export function policyRow(p: Policy): Value[] {
  return [p.id, p.name, p.minDurationMs, p.maxDurationMs, p.bookAheadMs, p.maxBookings, p.maxUsageMs, p.startsWithinMs, p.allowStartInPastMs];
}

export function holdRow(h: Hold): Value[] {
  return [h.id, h.resourceId, h.start, h.end, h.expiresAt, h.label, h.capabilities, h.userId, h.policyId];
}
