/** allot's holds table: tentative bookings that lapse at expires_at unless they become bookings. */
import type { Booking, Hold } from '../../engine/types.js';
import { unsupported } from '../../errors.js';
import type { Value } from '../types.js';
import { column, ENTRY_COMMENTS, type TableDef } from './columns.js';
import { capsOf, idOf, num, required, text } from './fields.js';
import { SERIES_COLUMNS } from './series.js';
import type { StoredTableModule } from './stored.js';

const holdsDef: TableDef = {
  name: 'holds',
  schema: 'public',
  oid: 16_404,
  columns: [
    column.text('id', true),
    column.text('resource_id', true),
    column.time('start'),
    column.time('end'),
    column.time('expires_at'),
    column.text('label'),
    column.caps,
    column.text('user_id'),
    column.text('policy_id'),
    column.text('group_id'),
  ],
  writeOnly: [column.text('booking_id'), ...SERIES_COLUMNS],
  comment: 'Tentative bookings that lapse at expires_at unless turned into bookings.',
  columnComments: {
    ...ENTRY_COMMENTS,
    expires_at: 'When the hold lapses.',
    group_id: 'Ties holds placed together: DELETE releases them as one; each booking made from one keeps it.',
  },
};

export function holdRow(h: Hold): Value[] {
  return [h.id, h.resourceId, h.start, h.end, h.expiresAt, h.label, h.capabilities, h.userId, h.policyId, h.groupId ?? null];
}

/** deltat's hold commit, the one UPDATE of a hold: `SET booking_id = … [, label = …]`. */
interface HoldCommit {
  readonly bookingId: string;
  readonly label: string | null | undefined;
}

/** A hold that became a booking, shown as the hold's row: it no longer expires. */
function bookingAsHoldRow(b: Booking, def: TableDef): Value[] {
  const byName: Record<string, Value> = {
    id: b.id,
    resource_id: b.resourceId,
    start: b.start,
    end: b.end,
    expires_at: null,
    label: b.label,
    capabilities: b.capabilities,
    user_id: b.userId,
    policy_id: b.policyId,
    group_id: b.groupId,
  };
  return def.columns.map((c) => byName[c.name] ?? null);
}

export const holds: StoredTableModule<Hold, HoldCommit> = {
  def: holdsDef,
  row: holdRow,
  candidates({ engine, now, hints, env, ids, lo, hi, byId, byResource }) {
    if (ids !== null) return byId((id) => engine.hold(id, now));
    if (hints.groupId !== null) {
      const g = hints.groupId.eval([], env);
      return typeof g === 'string' ? engine.liveHolds(now).filter((h) => h.groupId === g) : [];
    }
    const per = byResource((rid) => engine.entriesOn(rid, lo, hi, now).filter((e): e is Hold => 'expiresAt' in e));
    return per ?? engine.liveHolds(now);
  },
  checkInsert(names) {
    if (names.includes('booking_id')) {
      throw unsupported(
        'INSERT INTO holds (booking_id): booking_id turns an existing hold into a booking',
        "Place the hold, then UPDATE holds SET booking_id = '…' WHERE id = '…'.",
      );
    }
  },
  series: 'holds',
  insert(f, newId, skip, restore) {
    const hold: Hold = {
      id: idOf(f, newId),
      resourceId: required(text(f, 'resource_id'), 'resource_id'),
      start: required(num(f, 'start'), 'start'),
      end: required(num(f, 'end'), 'end'),
      expiresAt: required(num(f, 'expires_at'), 'expires_at'),
      label: text(f, 'label') ?? null,
      capabilities: capsOf(f) ?? [],
      userId: text(f, 'user_id') ?? null,
      policyId: text(f, 'policy_id') ?? null,
      groupId: text(f, 'group_id') ?? null,
    };
    return { type: 'PlaceHold', hold, onConflictSkip: skip, restore };
  },
  checkUpdate(names, target) {
    const allowed = new Set(['booking_id', 'label']);
    if (!names.has('booking_id') || [...names].some((n) => !allowed.has(n)) || target.kind !== 'ids' || target.values.length !== 1) {
      throw unsupported(
        'holds change only by becoming a booking: UPDATE holds SET booking_id = … [, label = …] WHERE id = …',
        'Or INSERT INTO bookings (id, hold_id) VALUES (…), or DELETE the hold and place a new one.',
      );
    }
  },
  patch: (f) => ({ bookingId: required(text(f, 'booking_id'), 'booking_id'), label: text(f, 'label') }),
  update: (holdId, { bookingId, label }) => ({ type: 'CreateBooking', booking: { id: bookingId, holdId, ...(label !== undefined ? { label } : {}) } }),
  updatedRow: (b) => bookingAsHoldRow(b as Booking, holdsDef),
  delete: (id) => ({ type: 'ReleaseHold', id }),
  byGroup: {
    update: () => {
      throw unsupported('holds change only by becoming a booking, one at a time: UPDATE holds SET booking_id = … WHERE id = …');
    },
    delete: (groupId) => ({ type: 'ReleaseHoldGroup', groupId }),
  },
  byFilter: {
    update: () => {
      throw unsupported('holds change only by becoming a booking, one at a time: UPDATE holds SET booking_id = … WHERE id = …');
    },
    delete: (filter) => ({ type: 'ReleaseHolds', filter }),
  },
};
