/** allot's resources table: things that can be booked, in a tree. */
import type { PoolStrategy, Resource, ResourcePatch, ResourceStatus } from '../../engine/types.js';
import type { Value } from '../types.js';
import { column, ID_COMMENT, type TableDef } from './columns.js';
import { capsOf, idOf, notNullIfGiven, num, required, text, type Fields } from './fields.js';
import type { Lookup, StoredTableModule } from './stored.js';

const resourcesDef: TableDef = {
  name: 'resources',
  schema: 'public',
  oid: 16_401,
  columns: [
    column.text('id', true),
    column.text('parent_id'),
    column.text('name'),
    column.int8('capacity'),
    column.duration('buffer_before'),
    column.duration('buffer_after'),
    column.caps,
    column.text('status', true),
    column.text('status_reason'),
    column.text('pool_strategy', true),
    column.text('pool_cursor'),
  ],
  comment: 'Things that can be booked, in a tree: capacity, buffers and capabilities.',
  columnComments: {
    id: ID_COMMENT,
    parent_id: 'The resource above this one in the tree.',
    name: 'Display name.',
    capacity: 'Entries that may overlap at any instant; 0 makes a grouping node.',
    buffer_before: 'Padding kept free before every entry.',
    buffer_after: 'Padding kept free after every entry.',
    capabilities: 'What the resource supports.',
    status: 'online, or offline: no new entries on it or under it, and no free time; what it holds stays.',
    status_reason: 'Why it is offline (free text).',
    pool_strategy: 'The order a pool booking tries the members below: id_order, fewest_bookings or round_robin.',
    pool_cursor: 'round_robin: the member booked last; the next pool booking tries those after it first.',
  },
};

export function resourceRow(r: Resource): Value[] {
  return [
    r.id,
    r.parentId,
    r.name,
    r.capacity,
    r.bufferBeforeMs,
    r.bufferAfterMs,
    r.capabilities,
    r.status ?? 'online',
    r.statusReason ?? null,
    r.poolStrategy ?? 'id_order',
    r.poolCursor ?? null,
  ];
}

function candidates({ engine, hints, env, ids, byId }: Lookup): readonly Resource[] {
  if (ids !== null) return byId((id) => engine.resource(id));
  if (hints.parentId !== null) {
    const pid = hints.parentId.eval([], env);
    return typeof pid === 'string' ? engine.children(pid) : [];
  }
  return engine.allResources();
}

function patch(f: Fields): ResourcePatch {
  const caps = capsOf(f);
  return {
    ...(f.has('parent_id') ? { parentId: text(f, 'parent_id') ?? null } : {}),
    ...(f.has('name') ? { name: text(f, 'name') ?? null } : {}),
    ...(f.has('capacity') ? { capacity: required(num(f, 'capacity'), 'capacity') } : {}),
    ...(f.has('buffer_before') ? { bufferBeforeMs: num(f, 'buffer_before') ?? 0 } : {}),
    ...(f.has('buffer_after') ? { bufferAfterMs: num(f, 'buffer_after') ?? 0 } : {}),
    ...(caps !== undefined ? { capabilities: caps } : {}),
    ...(f.has('status') ? { status: required(text(f, 'status'), 'status') as ResourceStatus } : {}),
    ...(f.has('status_reason') ? { statusReason: text(f, 'status_reason') ?? null } : {}),
    ...(f.has('pool_strategy') ? { poolStrategy: required(text(f, 'pool_strategy'), 'pool_strategy') as PoolStrategy } : {}),
    ...(f.has('pool_cursor') ? { poolCursor: text(f, 'pool_cursor') ?? null } : {}),
  };
}

export const resources: StoredTableModule<Resource, ResourcePatch> = {
  def: resourcesDef,
  row: resourceRow,
  candidates,
  insert(f, newId, skip) {
    const resource: Resource = {
      id: idOf(f, newId),
      parentId: text(f, 'parent_id') ?? null,
      name: text(f, 'name') ?? null,
      capacity: notNullIfGiven(num(f, 'capacity'), 'capacity') ?? 1,
      // NULL buffers mean none, as in deltat.
      bufferBeforeMs: num(f, 'buffer_before') ?? 0,
      bufferAfterMs: num(f, 'buffer_after') ?? 0,
      capabilities: capsOf(f) ?? [],
      status: (notNullIfGiven(text(f, 'status'), 'status') ?? 'online') as ResourceStatus,
      statusReason: text(f, 'status_reason') ?? null,
      poolStrategy: (notNullIfGiven(text(f, 'pool_strategy'), 'pool_strategy') ?? 'id_order') as PoolStrategy,
      poolCursor: text(f, 'pool_cursor') ?? null,
    };
    return { type: 'CreateResource', resource, onConflictSkip: skip };
  },
  patch,
  update: (id, p) => ({ type: 'UpdateResource', id, patch: p }),
  delete: (id) => ({ type: 'DeleteResource', id }),
};
