/** allot's rules table: windows that open (or, blocking, close) a resource's time. */
import type { Rule } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, type TableDef } from './columns.js';

export const rulesDef: TableDef = {
  name: 'rules',
  schema: 'public',
  oid: 16_402,
  columns: [column.text('id', true), column.text('resource_id', true), column.time('start'), column.time('end'), { name: 'blocking', type: 'bool', domain: 'bool', notNull: true }, column.text('policy_id')],
};

export function ruleRow(r: Rule): Value[] {
  return [r.id, r.resourceId, r.start, r.end, r.blocking, r.policyId];
}
