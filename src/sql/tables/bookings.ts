/** allot's bookings table: booked spans of a resource, one at a time or from a pool. */
import { Limits } from '../../engine/limits.js';
import type { Booking, BookingInput, BookingPatch, Command } from '../../engine/types.js';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import type { Value } from '../types.js';
import { column, ENTRY_COMMENTS, type TableDef } from './columns.js';
import { capsOf, idOf, notNullIfGiven, num, required, text, type Fields } from './fields.js';
import { SERIES_COLUMNS } from './series.js';
import type { Lookup, StoredTableModule } from './stored.js';

const bookingsDef: TableDef = {
  name: 'bookings',
  schema: 'public',
  oid: 16_403,
  columns: [
    column.text('id', true),
    column.text('resource_id', true),
    column.time('start'),
    column.time('end'),
    column.text('label'),
    column.caps,
    column.text('user_id'),
    column.text('policy_id'),
    column.text('group_id'),
  ],
  writeOnly: [column.text('hold_id'), column.text('pool_id'), { name: 'quantity', type: 'int8', domain: 'int' }, ...SERIES_COLUMNS],
  comment: 'Booked spans of a resource; allot refuses any that would not fit.',
  columnComments: { ...ENTRY_COMMENTS, group_id: 'Ties bookings made together: they move or cancel as one.' },
};

export function bookingRow(b: Booking): Value[] {
  return [b.id, b.resourceId, b.start, b.end, b.label, b.capabilities, b.userId, b.policyId, b.groupId];
}

function candidates({ engine, now, hints, env, ids, lo, hi, byId, byResource }: Lookup): readonly Booking[] {
  if (ids !== null) return byId((id) => engine.booking(id));
  if (hints.groupId !== null) {
    const g = hints.groupId.eval([], env);
    return typeof g === 'string' ? engine.groupMembers(g) : [];
  }
  const per = byResource((rid) => engine.entriesOn(rid, lo, hi, now).filter((e): e is Booking => !('expiresAt' in e)));
  return per ?? engine.allBookings();
}

function insert(f: Fields, newId: () => string, skip: boolean, restore: boolean): Command {
  if (f.has('pool_id') || f.has('quantity')) return poolCommand(f, newId, skip);
  const holdId = text(f, 'hold_id');
  const hasHold = holdId !== undefined && holdId !== null;
  const given = <T>(v: T | null | undefined, col: string): T | undefined => (hasHold ? notNullIfGiven(v, col) : required(v, col));
  const label = text(f, 'label');
  const caps = capsOf(f);
  const userId = text(f, 'user_id');
  const policyId = text(f, 'policy_id');
  const resourceId = given(text(f, 'resource_id'), 'resource_id');
  const start = given(num(f, 'start'), 'start');
  const end = given(num(f, 'end'), 'end');
  // Every field present (undefined when not given): one object shape for every INSERT, so
  // the engine's reads of it stay monomorphic, and no spread copies it.
  const booking: BookingInput = {
    id: idOf(f, newId),
    holdId: hasHold ? holdId : undefined,
    resourceId,
    start,
    end,
    label,
    capabilities: caps,
    userId,
    policyId,
    groupId: text(f, 'group_id') ?? null,
  };
  return { type: 'CreateBooking', booking, onConflictSkip: skip, restore };
}

/** `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity, …)`: one command, `quantity` bookings. */
function poolCommand(f: Fields, newId: () => string, skip: boolean): Command {
  if (f.get('pool_id') === undefined && f.has('quantity')) {
    // quantity without pool_id: say what it belongs to rather than that pool_id is null.
    throw new AllotError(SqlState.notNullViolation, 'quantity is for pool bookings: give pool_id too (a booking of a resource is one booking)');
  }
  const poolId = required(text(f, 'pool_id'), 'pool_id');
  for (const other of ['resource_id', 'hold_id']) {
    if (f.get(other) !== undefined && f.get(other) !== null) {
      throw new AllotError(SqlState.syntaxError, `a pool booking takes pool_id, not ${other}: allot picks the resources`);
    }
  }
  const quantity = notNullIfGiven(num(f, 'quantity'), 'quantity') ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > Limits.maxBatchCommands) {
    throw new AllotError(SqlState.invalidParameterValue, `quantity must be between 1 and ${Limits.maxBatchCommands}, not ${quantity}`);
  }
  const given = text(f, 'id');
  if (given !== undefined && given !== null && quantity > 1) {
    throw new AllotError(
      SqlState.invalidParameterValue,
      `a pool booking of quantity ${quantity} makes ${quantity} bookings: leave out id, and read the ids back with RETURNING id, resource_id`,
    );
  }
  const ids = quantity === 1 ? [idOf(f, newId)] : Array.from({ length: quantity }, () => newId());
  return {
    type: 'BookFromPool',
    request: {
      ids,
      poolId,
      start: required(num(f, 'start'), 'start'),
      end: required(num(f, 'end'), 'end'),
      capabilities: capsOf(f) ?? [],
      label: text(f, 'label') ?? null,
      userId: text(f, 'user_id') ?? null,
      policyId: text(f, 'policy_id') ?? null,
      groupId: text(f, 'group_id') ?? null,
    },
    ...(skip ? { onConflictSkip: true } : {}),
  };
}

function patch(f: Fields): BookingPatch {
  if (f.has('hold_id')) throw unsupported('hold_id can only be given when a booking is inserted');
  for (const col of ['pool_id', 'quantity']) {
    if (f.has(col)) throw unsupported(`${col} can only be given when bookings are inserted`, 'To move a booking to another resource, SET resource_id.');
  }
  const caps = capsOf(f);
  return {
    ...(f.has('resource_id') ? { resourceId: required(text(f, 'resource_id'), 'resource_id') } : {}),
    ...(f.has('start') ? { start: required(num(f, 'start'), 'start') } : {}),
    ...(f.has('end') ? { end: required(num(f, 'end'), 'end') } : {}),
    ...(f.has('label') ? { label: text(f, 'label') ?? null } : {}),
    ...(caps !== undefined ? { capabilities: caps } : {}),
    ...(f.has('user_id') ? { userId: text(f, 'user_id') ?? null } : {}),
    ...(f.has('policy_id') ? { policyId: text(f, 'policy_id') ?? null } : {}),
    ...(f.has('group_id') ? { groupId: text(f, 'group_id') ?? null } : {}),
  };
}

export const bookings: StoredTableModule<Booking, BookingPatch> = {
  def: bookingsDef,
  row: bookingRow,
  candidates,
  series: 'bookings',
  insert,
  patch,
  update: (id, p) => ({ type: 'UpdateBookings', target: { id }, patch: p }),
  withPerRow: (cmd, perRow) => (cmd.type === 'UpdateBookings' ? { ...cmd, perRow } : cmd),
  delete: (id) => ({ type: 'CancelBookings', target: { id } }),
  byGroup: {
    update: (groupId, p) => ({ type: 'UpdateBookings', target: { groupId }, patch: p }),
    delete: (groupId) => ({ type: 'CancelBookings', target: { groupId } }),
  },
  byFilter: {
    update: (filter, p) => ({ type: 'UpdateBookings', target: { filter }, patch: p }),
    delete: (filter) => ({ type: 'CancelBookings', target: { filter } }),
  },
};
