/**
 * A typed client for allot on top of `pg`: resources, rules, bookings, holds, outages,
 * policies and availability as methods returning plain objects (times as Unix ms), refusals as
 * `AllotClientError` with their conflicts parsed, transactions retried on 40001, and a LISTEN
 * subscription that reconnects by itself.
 *
 *   const allot = new AllotClient('postgres://me:allot@127.0.0.1:5433/shop1');
 *   const b = await allot.bookings.create({ resourceId: 'room-1', start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z' });
 */
import pg from 'pg';
import type { Booking, Conflict, Hold, Outage, Policy, Resource, Rule } from '../engine/types.js';

export type { Booking, Conflict, Hold, Outage, Policy, Resource, Rule };

/** An instant: Unix milliseconds, a Date, or ISO-8601 text. */
export type Instant = number | Date | string;

/** A refusal or failure from the server, with its SQLSTATE and, for 23P01, what was in the way. */
export class AllotClientError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  /** The conflicts a refusal named (23P01, and 23503 for a resource or policy still in use). */
  readonly conflicts: Conflict[];

  constructor(err: { message: string; code?: string; detail?: string; hint?: string }) {
    super(err.message);
    this.name = 'AllotClientError';
    this.code = err.code ?? 'XX000';
    this.detail = err.detail;
    this.hint = err.hint;
    let conflicts: Conflict[] = [];
    if (err.detail?.startsWith('{')) {
      try {
        conflicts = (JSON.parse(err.detail) as { conflicts?: Conflict[] }).conflicts ?? [];
      } catch {
        conflicts = [];
      }
    }
    this.conflicts = conflicts;
  }
}

// ---- inputs ----------------------------------------------------------------------------------

export interface ResourceInput {
  readonly id?: string;
  readonly parentId?: string | null;
  readonly name?: string | null;
  readonly capacity?: number;
  readonly bufferBeforeMs?: number;
  readonly bufferAfterMs?: number;
  readonly capabilities?: readonly string[];
}

export interface RuleInput {
  readonly id?: string;
  readonly resourceId: string;
  readonly start: Instant;
  readonly end: Instant;
  readonly blocking?: boolean;
  readonly policyId?: string | null;
  /** An RFC 5545 RRULE: the window is the first occurrence of a series. */
  readonly rrule?: string | null;
  /** The IANA zone whose local time occurrences keep (UTC when omitted). */
  readonly tz?: string | null;
  /** Starts of the occurrences the series skips. */
  readonly exdates?: readonly Instant[] | null;
}

interface EntryInput {
  readonly label?: string | null;
  readonly capabilities?: readonly string[];
  readonly userId?: string | null;
  readonly policyId?: string | null;
}

export interface BookingInput extends EntryInput {
  readonly id?: string;
  readonly resourceId: string;
  readonly start: Instant;
  readonly end: Instant;
  readonly groupId?: string | null;
}

export interface PoolBookingInput extends EntryInput {
  readonly poolId: string;
  readonly start: Instant;
  readonly end: Instant;
  /** How many distinct members to book (default 1). */
  readonly quantity?: number;
  readonly groupId?: string | null;
}

export interface HoldInput extends EntryInput {
  readonly id?: string;
  readonly resourceId: string;
  readonly start: Instant;
  readonly end: Instant;
  readonly expiresAt: Instant;
}

export interface OutageInput {
  readonly id?: string;
  readonly resourceId: string;
  readonly start: Instant;
  /** Planned: the end. Unplanned: leave out (or null) and give `slidingWindowMs`. */
  readonly end?: Instant | null;
  readonly slidingWindowMs?: number | null;
  readonly capabilities?: readonly string[];
  readonly reason?: string | null;
}

export type PolicyInput = Partial<Omit<Policy, 'id'>> & { readonly id?: string };

export interface AvailabilityQuery {
  /** One resource, several, or the members of a pool. */
  readonly resourceId?: string;
  readonly resourceIds?: readonly string[];
  readonly poolId?: string;
  readonly start: Instant;
  readonly end: Instant;
  readonly minDurationMs?: number;
  /** Merge: the spans where at least this many of the resources are free at once. */
  readonly minAvailable?: number;
  readonly capabilities?: readonly string[];
  readonly policyId?: string;
}

export interface FreeSpan {
  /** null for merged spans (`minAvailable`). */
  readonly resourceId: string | null;
  readonly start: number;
  readonly end: number;
  /** Capacity left, or with `minAvailable` how many resources are free. */
  readonly free: number;
}

export interface PolicyUsage {
  readonly userId: string;
  readonly policyId: string;
  readonly bookings: number;
  readonly usageMs: number;
  readonly remainingBookings: number | null;
  readonly remainingUsageMs: number | null;
}

/** A change event, as allot sends it on LISTEN channels: `type`, the entity's columns, `lsn`. */
export interface AllotEvent {
  readonly type: string;
  readonly lsn: number;
  readonly [column: string]: unknown;
}

// ---- rows to objects -------------------------------------------------------------------------

type Row = Record<string, unknown>;
const n = (v: unknown): number => Number(v);
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string => v as string;
const sOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const caps = (v: unknown): string[] => (v as string[] | null) ?? [];

const toResource = (r: Row): Resource => ({
  id: s(r.id),
  parentId: sOrNull(r.parent_id),
  name: sOrNull(r.name),
  capacity: n(r.capacity),
  bufferBeforeMs: n(r.buffer_before),
  bufferAfterMs: n(r.buffer_after),
  capabilities: caps(r.capabilities),
  status: r.status === 'offline' ? 'offline' : 'online',
  statusReason: sOrNull(r.status_reason),
  poolStrategy: r.pool_strategy === 'fewest_bookings' || r.pool_strategy === 'round_robin' ? r.pool_strategy : 'id_order',
  poolCursor: sOrNull(r.pool_cursor),
});
const toRule = (r: Row): Rule => ({
  id: s(r.id),
  resourceId: s(r.resource_id),
  start: n(r.start),
  end: n(r.end),
  blocking: r.blocking as boolean,
  policyId: sOrNull(r.policy_id),
  ...(r.rrule === null || r.rrule === undefined
    ? {}
    : { recurrence: { rrule: s(r.rrule), tz: s(r.tz), exdates: ((r.exdates as unknown[] | null) ?? []).map(Number) } }),
});
const toBooking = (r: Row): Booking => ({
  id: s(r.id),
  resourceId: s(r.resource_id),
  start: n(r.start),
  end: n(r.end),
  label: sOrNull(r.label),
  capabilities: caps(r.capabilities),
  userId: sOrNull(r.user_id),
  policyId: sOrNull(r.policy_id),
  groupId: sOrNull(r.group_id),
});
const toHold = (r: Row): Hold => ({
  id: s(r.id),
  resourceId: s(r.resource_id),
  start: n(r.start),
  end: n(r.end),
  expiresAt: n(r.expires_at),
  label: sOrNull(r.label),
  capabilities: caps(r.capabilities),
  userId: sOrNull(r.user_id),
  policyId: sOrNull(r.policy_id),
  groupId: sOrNull(r.group_id),
});
const toOutage = (r: Row): Outage => ({
  id: s(r.id),
  resourceId: s(r.resource_id),
  kind: r.kind as Outage['kind'],
  start: n(r.start),
  end: nOrNull(r.end),
  slidingWindowMs: nOrNull(r.sliding_window),
  capabilities: caps(r.capabilities),
  reason: sOrNull(r.reason),
  declaredAt: n(r.declared_at),
});
const toPolicy = (r: Row): Policy => ({
  id: s(r.id),
  name: sOrNull(r.name),
  minDurationMs: nOrNull(r.min_duration),
  maxDurationMs: nOrNull(r.max_duration),
  bookAheadMs: nOrNull(r.book_ahead),
  maxBookings: nOrNull(r.max_bookings),
  maxUsageMs: nOrNull(r.max_usage),
  startsWithinMs: nOrNull(r.starts_within),
  allowStartInPastMs: nOrNull(r.allow_start_in_past),
});

/** Instants go to the server as ms (a Date) or as given (ms or ISO text, which allot reads). */
function instant(v: Instant): number | string {
  return v instanceof Date ? v.getTime() : v;
}

function instants(v: readonly Instant[] | null | undefined): (number | string)[] | null | undefined {
  return v === undefined || v === null ? v : v.map(instant);
}

function optionalInstant(v: Instant | null | undefined): number | string | null {
  return v === null || v === undefined ? null : instant(v);
}

// ---- the query runner -------------------------------------------------------------------------

interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>>;
}

/** Column list and placeholders for the fields given, in order. */
function insertSql(table: string, fields: [string, unknown][], returning = '*'): { text: string; values: unknown[] } {
  const given = fields.filter(([, v]) => v !== undefined);
  const cols = given.map(([c]) => `"${c}"`).join(', ');
  const marks = given.map((_, i) => `$${i + 1}`).join(', ');
  return { text: `INSERT INTO ${table} (${cols}) VALUES (${marks}) RETURNING ${returning}`, values: given.map(([, v]) => v) };
}

function updateSql(table: string, where: string, whereValue: unknown, fields: [string, unknown][]): { text: string; values: unknown[] } | null {
  const given = fields.filter(([, v]) => v !== undefined);
  if (given.length === 0) return null;
  const sets = given.map(([c], i) => `"${c}" = $${i + 1}`).join(', ');
  return { text: `UPDATE ${table} SET ${sets} WHERE ${where} = $${given.length + 1} RETURNING *`, values: [...given.map(([, v]) => v), whereValue] };
}

/** The typed API over anything that runs queries: the pool, or one transaction's connection. */
export class AllotApi {
  constructor(private readonly db: Queryable) {}

  /** Runs SQL, turning errors into AllotClientError. */
  async query(text: string, values: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.db.query(text, values)).rows;
    } catch (err) {
      const e = err as { message: string; code?: string; detail?: string; hint?: string };
      if (typeof e.code === 'string') throw new AllotClientError(e);
      throw err;
    }
  }

  private async one<T>(text: string, values: unknown[], map: (r: Row) => T): Promise<T | null> {
    const rows = await this.query(text, values);
    return rows.length === 0 ? null : map(rows[0]!);
  }

  readonly resources = {
    create: async (r: ResourceInput): Promise<Resource> => {
      const q = insertSql('resources', [
        ['id', r.id],
        ['parent_id', r.parentId],
        ['name', r.name],
        ['capacity', r.capacity],
        ['buffer_before', r.bufferBeforeMs],
        ['buffer_after', r.bufferAfterMs],
        ['capabilities', r.capabilities],
      ]);
      return toResource((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Resource | null> => this.one('SELECT * FROM resources WHERE id = $1', [id], toResource),
    /** Every resource, or the children of one. */
    list: async (opts: { parentId?: string } = {}): Promise<Resource[]> =>
      (opts.parentId !== undefined
        ? await this.query('SELECT * FROM resources WHERE parent_id = $1 ORDER BY id', [opts.parentId])
        : await this.query('SELECT * FROM resources ORDER BY id')
      ).map(toResource),
    update: async (id: string, patch: Omit<ResourceInput, 'id'>): Promise<Resource | null> => {
      const q = updateSql('resources', 'id', id, [
        ['parent_id', patch.parentId],
        ['name', patch.name],
        ['capacity', patch.capacity],
        ['buffer_before', patch.bufferBeforeMs],
        ['buffer_after', patch.bufferAfterMs],
        ['capabilities', patch.capabilities],
      ]);
      return q === null ? this.resources.get(id) : this.one(q.text, q.values, toResource);
    },
    delete: async (id: string): Promise<boolean> => (await this.query('DELETE FROM resources WHERE id = $1 RETURNING id', [id])).length > 0,
  };

  readonly rules = {
    create: async (r: RuleInput): Promise<Rule> => {
      const q = insertSql('rules', [
        ['id', r.id],
        ['resource_id', r.resourceId],
        ['start', instant(r.start)],
        ['end', instant(r.end)],
        ['blocking', r.blocking],
        ['policy_id', r.policyId],
        ['rrule', r.rrule],
        ['tz', r.tz],
        ['exdates', instants(r.exdates)],
      ]);
      return toRule((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Rule | null> => this.one('SELECT * FROM rules WHERE id = $1', [id], toRule),
    list: async (resourceId: string): Promise<Rule[]> =>
      (await this.query('SELECT * FROM rules WHERE resource_id = $1 ORDER BY start, id', [resourceId])).map(toRule),
    update: async (id: string, patch: Partial<Omit<RuleInput, 'id'>>): Promise<Rule | null> => {
      const q = updateSql('rules', 'id', id, [
        ['resource_id', patch.resourceId],
        ['start', patch.start === undefined ? undefined : instant(patch.start)],
        ['end', patch.end === undefined ? undefined : instant(patch.end)],
        ['blocking', patch.blocking],
        ['policy_id', patch.policyId],
        ['rrule', patch.rrule],
        ['tz', patch.tz],
        ['exdates', instants(patch.exdates)],
      ]);
      return q === null ? this.rules.get(id) : this.one(q.text, q.values, toRule);
    },
    delete: async (id: string): Promise<boolean> => (await this.query('DELETE FROM rules WHERE id = $1 RETURNING id', [id])).length > 0,
  };

  private bookingFields(b: BookingInput): [string, unknown][] {
    return [
      ['id', b.id],
      ['resource_id', b.resourceId],
      ['start', instant(b.start)],
      ['end', instant(b.end)],
      ['label', b.label],
      ['capabilities', b.capabilities],
      ['user_id', b.userId],
      ['policy_id', b.policyId],
      ['group_id', b.groupId],
    ];
  }

  readonly bookings = {
    create: async (b: BookingInput): Promise<Booking> => {
      const q = insertSql('bookings', this.bookingFields(b));
      return toBooking((await this.query(q.text, q.values))[0]!);
    },
    /**
     * Several bookings in one statement: all or nothing, or with `skipConflicts` the ones that
     * fit (refused rows are left out of the result).
     */
    createMany: async (list: readonly BookingInput[], opts: { skipConflicts?: boolean } = {}): Promise<Booking[]> => {
      if (list.length === 0) return [];
      const cols = ['id', 'resource_id', 'start', 'end', 'label', 'capabilities', 'user_id', 'policy_id', 'group_id'];
      const values: unknown[] = [];
      const rows = list.map((b) => {
        const f = this.bookingFields(b);
        return `(${f
          .map(([c, v]) => {
            // An id left out is generated: DEFAULT, as INSERT takes it.
            if (c === 'id' && v === undefined) return 'DEFAULT';
            values.push(v === undefined ? (c === 'capabilities' ? [] : null) : v);
            return `$${values.length}`;
          })
          .join(', ')})`;
      });
      const text = `INSERT INTO bookings (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${rows.join(', ')}${opts.skipConflicts === true ? ' ON CONFLICT DO NOTHING' : ''} RETURNING *`;
      return (await this.query(text, values)).map(toBooking);
    },
    /** `quantity` distinct members of a pool with the capabilities, chosen by allot (in order of id). */
    fromPool: async (p: PoolBookingInput): Promise<Booking[]> => {
      const q = insertSql('bookings', [
        ['pool_id', p.poolId],
        ['start', instant(p.start)],
        ['end', instant(p.end)],
        ['quantity', p.quantity],
        ['label', p.label],
        ['capabilities', p.capabilities],
        ['user_id', p.userId],
        ['policy_id', p.policyId],
        ['group_id', p.groupId],
      ]);
      return (await this.query(q.text, q.values)).map(toBooking);
    },
    /** Turns a live hold into a booking, atomically. */
    confirmHold: async (holdId: string, opts: { id?: string; label?: string | null; groupId?: string | null } = {}): Promise<Booking> => {
      const q = insertSql('bookings', [
        ['id', opts.id],
        ['hold_id', holdId],
        ['label', opts.label],
        ['group_id', opts.groupId],
      ]);
      return toBooking((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Booking | null> => this.one('SELECT * FROM bookings WHERE id = $1', [id], toBooking),
    /** A resource's bookings overlapping [from, to) (all of them without bounds), or a group's. */
    list: async (q: { resourceId: string; from?: Instant; to?: Instant } | { groupId: string }): Promise<Booking[]> => {
      if ('groupId' in q) return (await this.query('SELECT * FROM bookings WHERE group_id = $1 ORDER BY start, id', [q.groupId])).map(toBooking);
      const conds = ['resource_id = $1'];
      const values: unknown[] = [q.resourceId];
      if (q.from !== undefined) conds.push(`"end" > $${values.push(instant(q.from))}`);
      if (q.to !== undefined) conds.push(`start < $${values.push(instant(q.to))}`);
      return (await this.query(`SELECT * FROM bookings WHERE ${conds.join(' AND ')} ORDER BY start, id`, values)).map(toBooking);
    },
    /** Moves or edits one booking; null if there is none with that id. */
    update: async (id: string, patch: Partial<Omit<BookingInput, 'id'>>): Promise<Booking | null> => {
      const rows = await this.updateBookings('id', id, patch);
      return rows[0] ?? null;
    },
    /** Moves or edits a whole group: every member or none. */
    updateGroup: (groupId: string, patch: Partial<Omit<BookingInput, 'id' | 'groupId'>>): Promise<Booking[]> => this.updateBookings('group_id', groupId, patch),
    cancel: async (id: string): Promise<boolean> => (await this.query('DELETE FROM bookings WHERE id = $1 RETURNING id', [id])).length > 0,
    /** Cancels every booking of a group; returns how many. */
    cancelGroup: async (groupId: string): Promise<number> => (await this.query('DELETE FROM bookings WHERE group_id = $1 RETURNING id', [groupId])).length,
  };

  private async updateBookings(where: 'id' | 'group_id', key: string, patch: Partial<Omit<BookingInput, 'id'>>): Promise<Booking[]> {
    const q = updateSql('bookings', where, key, [
      ['resource_id', patch.resourceId],
      ['start', patch.start === undefined ? undefined : instant(patch.start)],
      ['end', patch.end === undefined ? undefined : instant(patch.end)],
      ['label', patch.label],
      ['capabilities', patch.capabilities],
      ['user_id', patch.userId],
      ['policy_id', patch.policyId],
      ['group_id', patch.groupId],
    ]);
    if (q === null) return where === 'id' ? [await this.bookings.get(key)].filter((b): b is Booking => b !== null) : this.bookings.list({ groupId: key });
    return (await this.query(q.text, q.values)).map(toBooking);
  }

  readonly holds = {
    place: async (h: HoldInput): Promise<Hold> => {
      const q = insertSql('holds', [
        ['id', h.id],
        ['resource_id', h.resourceId],
        ['start', instant(h.start)],
        ['end', instant(h.end)],
        ['expires_at', instant(h.expiresAt)],
        ['label', h.label],
        ['capabilities', h.capabilities],
        ['user_id', h.userId],
        ['policy_id', h.policyId],
      ]);
      return toHold((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Hold | null> => this.one('SELECT * FROM holds WHERE id = $1', [id], toHold),
    /** Live holds on a resource. */
    list: async (resourceId: string): Promise<Hold[]> =>
      (await this.query('SELECT * FROM holds WHERE resource_id = $1 ORDER BY start, id', [resourceId])).map(toHold),
    release: async (id: string): Promise<boolean> => (await this.query('DELETE FROM holds WHERE id = $1 RETURNING id', [id])).length > 0,
  };

  readonly outages = {
    declare: async (o: OutageInput): Promise<Outage> => {
      const q = insertSql('outages', [
        ['id', o.id],
        ['resource_id', o.resourceId],
        ['start', instant(o.start)],
        ['end', optionalInstant(o.end)],
        ['sliding_window', o.slidingWindowMs ?? undefined],
        ['capabilities', o.capabilities],
        ['reason', o.reason],
      ]);
      return toOutage((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Outage | null> => this.one('SELECT * FROM outages WHERE id = $1', [id], toOutage),
    list: async (resourceId?: string): Promise<Outage[]> =>
      (resourceId !== undefined
        ? await this.query('SELECT * FROM outages WHERE resource_id = $1 ORDER BY start, id', [resourceId])
        : await this.query('SELECT * FROM outages ORDER BY start, id')
      ).map(toOutage),
    /** Gives an unplanned outage its end (or changes a planned one's). */
    resolve: (id: string, end: Instant): Promise<Outage | null> =>
      this.one('UPDATE outages SET "end" = $1 WHERE id = $2 RETURNING *', [instant(end), id], toOutage),
    update: async (id: string, patch: Partial<Pick<OutageInput, 'start' | 'end' | 'slidingWindowMs' | 'capabilities' | 'reason'>>): Promise<Outage | null> => {
      const q = updateSql('outages', 'id', id, [
        ['start', patch.start === undefined ? undefined : instant(patch.start)],
        ['end', patch.end === undefined ? undefined : optionalInstant(patch.end)],
        ['sliding_window', patch.slidingWindowMs],
        ['capabilities', patch.capabilities],
        ['reason', patch.reason],
      ]);
      return q === null ? this.outages.get(id) : this.one(q.text, q.values, toOutage);
    },
    /** Lifts an outage: its time is open again. */
    lift: async (id: string): Promise<boolean> => (await this.query('DELETE FROM outages WHERE id = $1 RETURNING id', [id])).length > 0,
  };

  private policyFields(p: PolicyInput): [string, unknown][] {
    return [
      ['name', p.name],
      ['min_duration', p.minDurationMs],
      ['max_duration', p.maxDurationMs],
      ['book_ahead', p.bookAheadMs],
      ['max_bookings', p.maxBookings],
      ['max_usage', p.maxUsageMs],
      ['starts_within', p.startsWithinMs],
      ['allow_start_in_past', p.allowStartInPastMs],
    ];
  }

  readonly policies = {
    create: async (p: PolicyInput): Promise<Policy> => {
      const q = insertSql('policies', [['id', p.id], ...this.policyFields(p)]);
      return toPolicy((await this.query(q.text, q.values))[0]!);
    },
    get: (id: string): Promise<Policy | null> => this.one('SELECT * FROM policies WHERE id = $1', [id], toPolicy),
    list: async (): Promise<Policy[]> => (await this.query('SELECT * FROM policies ORDER BY id')).map(toPolicy),
    /** New limits apply to bookings made from now on. */
    update: async (id: string, patch: Omit<PolicyInput, 'id'>): Promise<Policy | null> => {
      const q = updateSql('policies', 'id', id, this.policyFields(patch));
      return q === null ? this.policies.get(id) : this.one(q.text, q.values, toPolicy);
    },
    delete: async (id: string): Promise<boolean> => (await this.query('DELETE FROM policies WHERE id = $1 RETURNING id', [id])).length > 0,
    /** What a user has used of each policy (or of one) and what remains. */
    usage: async (userId: string, policyId?: string): Promise<PolicyUsage[]> => {
      const rows =
        policyId === undefined
          ? await this.query('SELECT * FROM policy_usage WHERE user_id = $1 ORDER BY policy_id', [userId])
          : await this.query('SELECT * FROM policy_usage WHERE user_id = $1 AND policy_id = $2', [userId, policyId]);
      return rows.map((r) => ({
        userId: s(r.user_id),
        policyId: s(r.policy_id),
        bookings: n(r.bookings),
        usageMs: n(r.usage_ms),
        remainingBookings: nOrNull(r.remaining_bookings),
        remainingUsageMs: nOrNull(r.remaining_usage_ms),
      }));
    },
  };

  /** Free time: per resource, or merged with `minAvailable`. */
  async availability(q: AvailabilityQuery): Promise<FreeSpan[]> {
    const values: unknown[] = [];
    const p = (v: unknown): string => `$${values.push(v)}`;
    const conds: string[] = [];
    const ids = q.resourceIds ?? (q.resourceId !== undefined ? [q.resourceId] : undefined);
    if (ids !== undefined) conds.push(`resource_id IN (${ids.map((id) => p(id)).join(', ')})`);
    if (q.poolId !== undefined) conds.push(`pool_id = ${p(q.poolId)}`);
    conds.push(`start >= ${p(instant(q.start))}`, `"end" <= ${p(instant(q.end))}`);
    if (q.minDurationMs !== undefined) conds.push(`min_duration = ${p(q.minDurationMs)}`);
    if (q.minAvailable !== undefined) conds.push(`min_available = ${p(q.minAvailable)}`);
    if (q.capabilities !== undefined) conds.push(`capabilities = ${p(q.capabilities)}`);
    if (q.policyId !== undefined) conds.push(`policy_id = ${p(q.policyId)}`);
    const rows = await this.query(`SELECT * FROM availability WHERE ${conds.join(' AND ')}`, values);
    return rows.map((r) => ({ resourceId: sOrNull(r.resource_id), start: n(r.start), end: n(r.end), free: n(r.free) }));
  }
}

export interface SubscribeOptions {
  /** Told of every connection failure before a retry. */
  readonly onError?: (err: Error) => void;
  /** Told each time the subscription is listening again after a reconnect. */
  readonly onReconnect?: () => void;
  /** Longest wait between retries (default 5 s; retries start at 100 ms and double). */
  readonly maxBackoffMs?: number;
}

export interface Subscription {
  /** Resolves once listening the first time. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface AllotClientOptions {
  /** Connections kept by the pool (default 10). */
  readonly max?: number;
}

/** What to listen to: every change of the database, or of one resource and everything under it. */
export type EventSource = 'all' | { readonly resourceId: string } | { readonly channel: string };

/** The channel name of an event source. */
export function channelOf(source: EventSource): string {
  if (source === 'all') return 'allot_events';
  return 'resourceId' in source ? `resource_${source.resourceId}` : source.channel;
}

/** A client for one allot database: a connection pool and the typed API on top. */
export class AllotClient extends AllotApi {
  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly subscriptions = new Set<{ close(): Promise<void> }>();

  constructor(connection: string | pg.ClientConfig, opts: AllotClientOptions = {}) {
    const given: pg.ClientConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
    // The client works in milliseconds whatever the server shows by default (allot.times).
    const config: pg.ClientConfig = { ...given, options: `${given.options !== undefined ? `${given.options} ` : ''}-c allot.times=ms` };
    const pool = new pg.Pool({ ...config, max: opts.max ?? 10 });
    // A connection the server closed (a restart) is dropped from the pool; the next query opens another.
    pool.on('error', () => undefined);
    super(pool as unknown as Queryable);
    this.pool = pool;
    this.config = config;
  }

  /**
   * Runs `fn` in a transaction block: committed if it returns, rolled back if it throws. A
   * COMMIT refused with 40001 (the block no longer fits what others committed) runs `fn` again,
   * up to `retries` times (default 3).
   */
  async transaction<T>(fn: (tx: AllotApi) => Promise<T>, opts: { retries?: number } = {}): Promise<T> {
    const retries = opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.pool.connect();
      const tx = new AllotApi(conn as unknown as Queryable);
      let broken = false;
      try {
        await tx.query('BEGIN');
        let result: T;
        try {
          result = await fn(tx);
        } catch (err) {
          await tx.query('ROLLBACK').catch(() => (broken = true));
          throw err;
        }
        await tx.query('COMMIT');
        return result;
      } catch (err) {
        if (err instanceof AllotClientError && err.code === '40001' && attempt < retries) continue;
        if (!(err instanceof AllotClientError)) broken = true;
        throw err;
      } finally {
        conn.release(broken);
      }
    }
  }

  /**
   * Calls `onEvent` for every change event on `source`, on a connection of its own that is
   * opened again (with backoff) whenever it is lost, and LISTENs again. Events committed while
   * it was disconnected are not replayed: on reconnect, read the current state if that matters.
   */
  subscribe(source: EventSource, onEvent: (event: AllotEvent) => void, opts: SubscribeOptions = {}): Subscription {
    const channel = channelOf(source);
    const maxBackoff = opts.maxBackoffMs ?? 5_000;
    let client: pg.Client | null = null;
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    let attempts = 0;
    let resolveReady!: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    const quoted = `"${channel.replace(/"/g, '""')}"`;

    const retry = (err: Error): void => {
      if (closed) return;
      opts.onError?.(err);
      const c = client;
      client = null;
      c?.removeAllListeners();
      c?.on('error', () => undefined);
      void c?.end().catch(() => undefined);
      if (timer !== null) return;
      const wait = Math.min(maxBackoff, 100 * 2 ** Math.min(attempts, 16));
      attempts++;
      timer = setTimeout(() => {
        timer = null;
        void connect();
      }, wait);
    };

    const connect = async (): Promise<void> => {
      if (closed) return;
      const c = new pg.Client(this.config);
      client = c;
      c.on('error', (err) => retry(err));
      c.on('end', () => retry(new Error('connection ended')));
      c.on('notification', (msg) => {
        if (msg.channel !== channel || msg.payload === undefined) return;
        let event: AllotEvent;
        try {
          event = JSON.parse(msg.payload) as AllotEvent;
        } catch {
          // A NOTIFY with a payload that is not an allot event: pass it on as text.
          event = { type: 'notify', lsn: 0, payload: msg.payload };
        }
        onEvent(event);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${quoted}`);
      } catch (err) {
        if (client === c) retry(err as Error);
        return;
      }
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      const reconnected = attempts > 0;
      attempts = 0;
      resolveReady();
      if (reconnected) opts.onReconnect?.();
    };

    const sub = {
      ready,
      close: async (): Promise<void> => {
        closed = true;
        if (timer !== null) clearTimeout(timer);
        this.subscriptions.delete(sub);
        const c = client;
        client = null;
        if (c !== null) {
          c.removeAllListeners();
          c.on('error', () => undefined);
          await c.end().catch(() => undefined);
        }
      },
    };
    this.subscriptions.add(sub);
    void connect();
    return sub;
  }

  /** Closes every subscription and the pool. */
  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.pool.end();
  }
}
