/** allot's resources table: things that can be booked, in a tree. */
import type { Resource } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const resourcesDef: TableDef = {
  name: 'resources',
  schema: 'public',
  oid: 16_401,
  columns: [column.text('id', true), column.text('parent_id'), column.text('name'), column.int8('capacity'), column.duration('buffer_before'), column.duration('buffer_after'), column.caps],
};

export function resourceRow(r: Resource): Value[] {
  return [r.id, r.parentId, r.name, r.capacity, r.bufferBeforeMs, r.bufferAfterMs, r.capabilities];
}
