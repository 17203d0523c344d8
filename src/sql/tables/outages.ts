/** allot's outages table: spans a resource, and everything under it, is out of service. */
import type { Outage, OutagePatch } from '../../engine/types.js';
import { unsupported } from '../../errors.js';
import type { Value } from '../types.js';
import { column, ID_COMMENT, type TableDef } from './columns.js';
import { capsOf, idOf, num, required, text, type Fields } from './fields.js';
import type { StoredTableModule } from './stored.js';

const outagesDef: TableDef = {
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
  comment: 'Spans a resource (and everything under it) is out of service.',
  columnComments: {
    id: ID_COMMENT,
    resource_id: 'The resource out of service, with everything under it.',
    kind: 'planned (with an end) or unplanned (open until resolved).',
    start: 'Start of the outage.',
    end: 'End of the outage; NULL while an unplanned one is unresolved.',
    sliding_window: 'For unplanned outages: how far ahead entries are evicted.',
    capabilities: 'Empty: the whole resource; else only entries requiring one of these.',
    reason: 'Free text.',
    declared_at: 'When the outage was declared (set by allot).',
  },
};

export function outageRow(o: Outage): Value[] {
  return [o.id, o.resourceId, o.kind, o.start, o.end, o.slidingWindowMs, o.capabilities, o.reason, o.declaredAt];
}

function patch(f: Fields): OutagePatch {
  for (const fixed of ['kind', 'resource_id', 'declared_at']) {
    if (f.has(fixed)) throw unsupported(`the ${fixed} of an outage cannot be changed`, 'Delete the outage and declare a new one.');
  }
  const caps = capsOf(f);
  return {
    ...(f.has('start') ? { start: required(num(f, 'start'), 'start') } : {}),
    ...(f.has('end') ? { end: num(f, 'end') ?? null } : {}),
    ...(f.has('sliding_window') ? { slidingWindowMs: num(f, 'sliding_window') ?? null } : {}),
    ...(caps !== undefined ? { capabilities: caps } : {}),
    ...(f.has('reason') ? { reason: text(f, 'reason') ?? null } : {}),
  };
}

export const outages: StoredTableModule<Outage, OutagePatch> = {
  def: outagesDef,
  row: outageRow,
  candidates({ engine, ids, byId, byResource }) {
    if (ids !== null) return byId((id) => engine.outage(id));
    return byResource((rid) => engine.outagesOn(rid)) ?? engine.allOutages();
  },
  insert(f, newId, skip, restore) {
    if (f.has('declared_at') && !restore)
      throw unsupported('declared_at is set by allot when an outage is declared', 'It can be given only when restoring an export (SET allot.restore = on).');
    const end = num(f, 'end') ?? null;
    const kind = text(f, 'kind') ?? (end === null ? 'unplanned' : 'planned');
    const outage: Outage = {
      id: idOf(f, newId),
      resourceId: required(text(f, 'resource_id'), 'resource_id'),
      kind: kind as Outage['kind'],
      start: required(num(f, 'start'), 'start'),
      end,
      slidingWindowMs: num(f, 'sliding_window') ?? null,
      capabilities: capsOf(f) ?? [],
      reason: text(f, 'reason') ?? null,
      declaredAt: restore ? required(num(f, 'declared_at'), 'declared_at') : 0,
    };
    return { type: 'CreateOutage', outage, onConflictSkip: skip, restore };
  },
  patch,
  update: (id, p) => ({ type: 'UpdateOutage', id, patch: p }),
  delete: (id) => ({ type: 'DeleteOutage', id }),
};
