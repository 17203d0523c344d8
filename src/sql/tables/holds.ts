/** allot's holds table: tentative bookings that lapse at expires_at unless they become bookings. */
import type { Hold } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const holdsDef: TableDef = {
  name: 'holds',
  schema: 'public',
  oid: 16_404,
  columns: [column.text('id', true), column.text('resource_id', true), column.time('start'), column.time('end'), column.time('expires_at'), column.text('label'), column.caps, column.text('user_id'), column.text('policy_id')],
  writeOnly: [column.text('booking_id')],
};

export function holdRow(h: Hold): Value[] {
  return [h.id, h.resourceId, h.start, h.end, h.expiresAt, h.label, h.capabilities, h.userId, h.policyId];
}
