/** allot's policies table: limits on the bookings and holds made under a policy, per user. */
import type { Policy, PolicyPatch } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, ID_COMMENT, type TableDef } from './columns.js';
import { idOf, num, text, type Fields } from './fields.js';
import type { StoredTableModule } from './stored.js';

const policiesDef: TableDef = {
  name: 'policies',
  schema: 'public',
  oid: 16_407,
  columns: [
    column.text('id', true),
    column.text('name'),
    column.optionalDuration('min_duration'),
    column.optionalDuration('max_duration'),
    column.optionalDuration('book_ahead'),
    column.optionalInt8('max_bookings'),
    column.optionalDuration('max_usage'),
    column.optionalDuration('starts_within'),
    column.optionalDuration('allow_start_in_past'),
  ],
  comment: 'Limits on the bookings and holds made under a policy, per user.',
  columnComments: {
    id: ID_COMMENT,
    name: 'Display name.',
    min_duration: 'Shortest booking allowed.',
    max_duration: 'Longest booking allowed.',
    book_ahead: 'A booking starts no later than now + book_ahead.',
    max_bookings: 'Bookings and live holds per user not yet over.',
    max_usage: 'Total length of those.',
    starts_within: 'Instant use: a booking starts no later than now + starts_within.',
    allow_start_in_past: 'How far before now a booking may start.',
  },
};

export function policyRow(p: Policy): Value[] {
  return [p.id, p.name, p.minDurationMs, p.maxDurationMs, p.bookAheadMs, p.maxBookings, p.maxUsageMs, p.startsWithinMs, p.allowStartInPastMs];
}

/** New limits apply to bookings made from now on. */
function patch(f: Fields): PolicyPatch {
  const ms = (col: string, key: keyof PolicyPatch): PolicyPatch => (f.has(col) ? { [key]: num(f, col) ?? null } : {});
  return {
    ...(f.has('name') ? { name: text(f, 'name') ?? null } : {}),
    ...ms('min_duration', 'minDurationMs'),
    ...ms('max_duration', 'maxDurationMs'),
    ...ms('book_ahead', 'bookAheadMs'),
    ...ms('max_bookings', 'maxBookings'),
    ...ms('max_usage', 'maxUsageMs'),
    ...ms('starts_within', 'startsWithinMs'),
    ...ms('allow_start_in_past', 'allowStartInPastMs'),
  };
}

export const policies: StoredTableModule<Policy, PolicyPatch> = {
  def: policiesDef,
  row: policyRow,
  candidates: ({ engine, ids, byId }) => (ids !== null ? byId((id) => engine.policy(id)) : engine.allPolicies()),
  insert(f, newId, skip) {
    const policy: Policy = {
      id: idOf(f, newId),
      name: text(f, 'name') ?? null,
      minDurationMs: num(f, 'min_duration') ?? null,
      maxDurationMs: num(f, 'max_duration') ?? null,
      bookAheadMs: num(f, 'book_ahead') ?? null,
      maxBookings: num(f, 'max_bookings') ?? null,
      maxUsageMs: num(f, 'max_usage') ?? null,
      startsWithinMs: num(f, 'starts_within') ?? null,
      allowStartInPastMs: num(f, 'allow_start_in_past') ?? null,
    };
    return { type: 'CreatePolicy', policy, onConflictSkip: skip };
  },
  patch,
  update: (id, p) => ({ type: 'UpdatePolicy', id, patch: p }),
  delete: (id) => ({ type: 'DeletePolicy', id }),
};
