/**
 * What a table that holds rows tells the planners: its columns, how a row is shown, which of its
 * entities a WHERE's hints select, and how INSERT, UPDATE and DELETE become engine commands.
 * Each stored table is one such module (resources.ts, bookings.ts, …); index.ts lists them.
 */
import type { Engine } from '../../engine/engine.js';
import type { Booking, BookingFilter, Command, Hold, Outage, Policy, Resource, Rule } from '../../engine/types.js';
import type { Compiled, EvalEnv } from '../expr.js';
import type { Hints } from '../plan/hints.js';
import type { Value } from '../types.js';
import type { TableDef } from './columns.js';
import type { Fields } from './fields.js';

export type Entity = Resource | Rule | Booking | Hold | Outage | Policy;

/** The rows an UPDATE or DELETE names: by id, or (a table with group or filter writes) by group or by filter. */
export type WriteTarget = { kind: 'ids'; values: Compiled[] } | { kind: 'group'; value: Compiled } | { kind: 'filter'; parts: readonly FilterPart[] };

/** One condition of a filter write: `column op value` on a column the table filters writes by. */
export interface FilterPart {
  readonly column: 'resource_id' | 'user_id' | 'policy_id' | 'start' | 'end';
  /** For start: at or after value + adjust; for end: at or before value + adjust. */
  readonly value: Compiled;
  readonly adjust: number;
}

/** UPDATE and DELETE of the rows a filter names, chosen in the engine's step. */
export interface FilterWrites<P> {
  update(filter: BookingFilter, patch: P): Command;
  delete(filter: BookingFilter): Command;
}

/** A WHERE's index-friendly conjuncts, evaluated for one execution, and ways to look entities up by them. */
export interface Lookup {
  readonly engine: Engine;
  readonly now: number;
  readonly hints: Hints;
  readonly env: EvalEnv;
  /** The ids of `id = …` or `id IN (…)`, or null. */
  readonly ids: readonly string[] | null;
  /** Entries overlapping [lo, hi) are the ones start/end bounds keep. */
  readonly lo: number;
  readonly hi: number;
  /** `fn` of each resource of `resource_id = …` or `IN (…)`, concatenated; null without one. */
  byResource<T>(fn: (rid: string) => T[]): T[] | null;
  /** The entities of `ids` (not null) that exist. */
  byId<T>(get: (id: string) => T | undefined): T[];
}

/** Writes to a group of rows at once (bookings' group_id): UPDATE … WHERE group_id = … and DELETE. */
export interface GroupWrites<P> {
  update(groupId: string, patch: P): Command;
  delete(groupId: string): Command;
}

export interface StoredTableModule<E extends Entity = Entity, P = unknown> {
  readonly def: TableDef;
  /** How an entity is shown: one value a column, in the order of def.columns. */
  row(e: E): Value[];
  /** The entities a SELECT starts from, narrowed by the WHERE's hints (the full WHERE still decides). */
  candidates(q: Lookup): readonly E[];
  /** Refuses, at plan time, an INSERT column list the table does not take. */
  checkInsert?(names: readonly string[]): void;
  /** Takes `INSERT … (rrule, tz)`: a row per occurrence of a finite series (tables/series.ts). */
  readonly series?: 'bookings' | 'holds';
  /** One INSERT row as a command. `skip`: ON CONFLICT DO NOTHING; `restore`: allot.restore is on. */
  insert(f: Fields, newId: () => string, skip: boolean, restore: boolean): Command;
  /** Refuses, at plan time, an UPDATE the table does not take (by the columns it sets, or its target). */
  checkUpdate?(names: ReadonlySet<string>, target: WriteTarget): void;
  /** The patch an UPDATE's SET list makes. */
  patch(f: Fields): P;
  /**
   * Set when an UPDATE's SET may read the row (`SET "end" = "end" + interval '1 hour'`): its
   * command takes the values computed from each row in the engine's step (bookings).
   */
  withPerRow?(cmd: Command, perRow: (e: E) => P): Command;
  /** The command that applies `patch` to row `id`. */
  update(id: string, patch: P): Command;
  /** How a row an UPDATE wrote is shown, where that is not `row`. */
  updatedRow?(e: Entity): Value[];
  delete(id: string): Command;
  readonly byGroup?: GroupWrites<P>;
  readonly byFilter?: FilterWrites<P>;
}
