/** allot's outages table: spans a resource, and everything under it, is out of service. */
import type { Outage } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const outagesDef: TableDef = {
  name: 'outages',
  schema: 'public',
  oid: 16_406,
  columns: [
    column.text('id', true),
    column.text('resource_id', true),
    column.text('kind', true),
    column.time('start'),
    column.optionalTime('end'),
    column.optionalDuration('sliding_window'),
    column.caps,
    column.text('reason'),
    { name: 'declared_at', type: 'int8', domain: 'time', notNull: true },
  ],
};

export function outageRow(o: Outage): Value[] {
  return [o.id, o.resourceId, o.kind, o.start, o.end, o.slidingWindowMs, o.capabilities, o.reason, o.declaredAt];
}
