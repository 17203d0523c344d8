/**
 * allot's computed tables, read-only and made on every read: availability and policy_usage
 * (planned in plan/availability.ts) and allot_export (the whole state as JSON lines).
 */
import { column, type TableDef } from './columns.js';

export const availabilityDef: TableDef = {
  name: 'availability',
  schema: 'public',
  oid: 16_405,
  columns: [column.text('resource_id'), column.time('start'), column.time('end'), column.int8('free')],
  virtual: true,
};

export const allotExportDef: TableDef = {
  name: 'allot_export',
  schema: 'public',
  oid: 16_409,
  columns: [column.text('line', true)],
  virtual: true,
};

export const policyUsageDef: TableDef = {
  name: 'policy_usage',
  schema: 'public',
  oid: 16_408,
  columns: [column.text('user_id', true), column.text('policy_id', true), column.int8('bookings'), column.int8('usage_ms'), column.optionalInt8('remaining_bookings'), column.optionalInt8('remaining_usage_ms')],
  virtual: true,
};
