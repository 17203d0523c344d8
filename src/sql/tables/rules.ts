/** allot's rules table: windows that open (or, blocking, close) a resource's time. */
import type { Rule, RulePatch } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, ID_COMMENT, type TableDef } from './columns.js';
import { idOf, num, required, text, type Fields } from './fields.js';
import type { StoredTableModule } from './stored.js';

const rulesDef: TableDef = {
  name: 'rules',
  schema: 'public',
  oid: 16_402,
  columns: [
    column.text('id', true),
    column.text('resource_id', true),
    column.time('start'),
    column.time('end'),
    { name: 'blocking', type: 'bool', domain: 'bool', notNull: true },
    column.text('policy_id'),
  ],
  comment: "Windows that open (or, blocking, close) a resource's time.",
  columnComments: {
    id: ID_COMMENT,
    resource_id: 'The resource whose time the rule opens or closes.',
    start: 'Start of the window (inclusive).',
    end: 'End of the window (exclusive).',
    blocking: 'false opens the window, true closes it.',
    policy_id: 'Applies only to entries made under this policy.',
  },
};

export function ruleRow(r: Rule): Value[] {
  return [r.id, r.resourceId, r.start, r.end, r.blocking, r.policyId];
}

function patch(f: Fields): RulePatch {
  return {
    ...(f.has('resource_id') ? { resourceId: required(text(f, 'resource_id'), 'resource_id') } : {}),
    ...(f.has('start') ? { start: required(num(f, 'start'), 'start') } : {}),
    ...(f.has('end') ? { end: required(num(f, 'end'), 'end') } : {}),
    ...(f.has('blocking') ? { blocking: required(f.get('blocking') as boolean | null, 'blocking') } : {}),
    ...(f.has('policy_id') ? { policyId: text(f, 'policy_id') ?? null } : {}),
  };
}

export const rules: StoredTableModule<Rule, RulePatch> = {
  def: rulesDef,
  row: ruleRow,
  candidates({ engine, ids, lo, hi, byId, byResource }) {
    if (ids !== null) return byId((id) => engine.rule(id));
    return byResource((rid) => engine.rulesOn(rid, lo, hi)) ?? engine.allRules();
  },
  insert(f, newId, skip) {
    const blocking = f.get('blocking');
    const rule: Rule = {
      id: idOf(f, newId),
      resourceId: required(text(f, 'resource_id'), 'resource_id'),
      start: required(num(f, 'start'), 'start'),
      end: required(num(f, 'end'), 'end'),
      blocking: blocking === undefined ? false : required(blocking as boolean | null, 'blocking'),
      policyId: text(f, 'policy_id') ?? null,
    };
    return { type: 'CreateRule', rule, onConflictSkip: skip };
  },
  patch,
  update: (id, p) => ({ type: 'UpdateRule', id, patch: p }),
  delete: (id) => ({ type: 'DeleteRule', id }),
};
