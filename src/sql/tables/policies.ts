/** allot's policies table: limits on the bookings and holds made under a policy, per user. */
import type { Policy } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const policiesDef: TableDef = {
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
};

export function policyRow(p: Policy): Value[] {
  return [p.id, p.name, p.minDurationMs, p.maxDurationMs, p.bookAheadMs, p.maxBookings, p.maxUsageMs, p.startsWithinMs, p.allowStartInPastMs];
}
