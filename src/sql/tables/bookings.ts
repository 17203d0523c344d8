/** allot's bookings table: booked spans of a resource, one at a time or from a pool. */
import type { Booking } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const bookingsDef: TableDef = {
  name: 'bookings',
  schema: 'public',
  oid: 16_403,
  columns: [column.text('id', true), column.text('resource_id', true), column.time('start'), column.time('end'), column.text('label'), column.caps, column.text('user_id'), column.text('policy_id'), column.text('group_id')],
  writeOnly: [column.text('hold_id'), column.text('pool_id'), { name: 'quantity', type: 'int8', domain: 'int' }],
};

export function bookingRow(b: Booking): Value[] {
  return [b.id, b.resourceId, b.start, b.end, b.label, b.capabilities, b.userId, b.policyId, b.groupId];
}
