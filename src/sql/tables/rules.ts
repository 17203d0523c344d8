/** allot's rules table: windows that open (or, blocking, close) a resource's time. */
import type { Rule, RulePatch, RuleRecurrence } from '../../engine/types.js';
import { AllotError, SqlState } from '../../errors.js';
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
    column.text('rrule'),
    column.text('tz'),
    column.times('exdates'),
  ],
  comment: "Windows that open (or, blocking, close) a resource's time.",
  columnComments: {
    id: ID_COMMENT,
    resource_id: 'The resource whose time the rule opens or closes.',
    start: 'Start of the window (inclusive).',
    end: 'End of the window (exclusive).',
    blocking: 'false opens the window, true closes it.',
    policy_id: 'Applies only to entries made under this policy.',
    rrule: 'RFC 5545 RRULE: the window is the first occurrence of a series; null: one window.',
    tz: 'IANA zone whose local time each occurrence keeps (UTC when omitted); null on a one-off rule.',
    exdates: 'Starts of the occurrences the series skips; null on a one-off rule.',
  },
};

export function ruleRow(r: Rule): Value[] {
  return [
    r.id,
    r.resourceId,
    r.start,
    r.end,
    r.blocking,
    r.policyId,
    r.recurrence?.rrule ?? null,
    r.recurrence?.tz ?? null,
    r.recurrence === undefined ? null : r.recurrence.exdates.map(String),
  ];
}

function patch(f: Fields): RulePatch {
  return {
    ...(f.has('resource_id') ? { resourceId: required(text(f, 'resource_id'), 'resource_id') } : {}),
    ...(f.has('start') ? { start: required(num(f, 'start'), 'start') } : {}),
    ...(f.has('end') ? { end: required(num(f, 'end'), 'end') } : {}),
    ...(f.has('blocking') ? { blocking: required(f.get('blocking') as boolean | null, 'blocking') } : {}),
    ...(f.has('policy_id') ? { policyId: text(f, 'policy_id') ?? null } : {}),
    ...(f.has('rrule') ? { rrule: text(f, 'rrule') ?? null } : {}),
    ...tzPatch(f),
    ...(f.has('exdates') ? { exdates: exdatesOf(f) ?? [] } : {}),
  };
}

/** SET tz: a zone, or NULL for UTC; with SET rrule = NULL (no recurrence left), a NULL tz changes nothing. */
function tzPatch(f: Fields): Pick<RulePatch, 'tz'> {
  if (!f.has('tz')) return {};
  const tz = text(f, 'tz') ?? null;
  if (tz !== null) return { tz };
  return f.has('rrule') && (text(f, 'rrule') ?? null) === null ? {} : { tz: 'UTC' };
}

/** The exdates column's instants (NULL elements are refused), or undefined when it is NULL. */
function exdatesOf(f: Fields): number[] | undefined {
  const v = f.get('exdates') as readonly (string | null)[] | null | undefined;
  if (v === null || v === undefined) return undefined;
  return v.map((x) => {
    if (x === null) throw new AllotError(SqlState.nullValueNotAllowed, 'exdates may not hold NULL');
    return Number(x);
  });
}

/** A new rule's recurrence: its rrule in its zone (UTC when none is given), or none with neither. */
function recurrenceOf(f: Fields): RuleRecurrence | undefined {
  const rrule = text(f, 'rrule') ?? null;
  const tz = text(f, 'tz') ?? null;
  const exdates = exdatesOf(f);
  if (rrule === null) {
    if (tz !== null || exdates !== undefined) {
      throw new AllotError(SqlState.invalidParameterValue, `${tz !== null ? 'tz' : 'exdates'} applies only to a recurring rule: set rrule too`);
    }
    return undefined;
  }
  return { rrule, tz: tz ?? 'UTC', exdates: exdates ?? [] };
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
    const recurrence = recurrenceOf(f);
    return { type: 'CreateRule', rule: recurrence === undefined ? rule : { ...rule, recurrence }, onConflictSkip: skip };
  },
  patch,
  update: (id, p) => ({ type: 'UpdateRule', id, patch: p }),
  delete: (id) => ({ type: 'DeleteRule', id }),
};
