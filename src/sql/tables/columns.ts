/**
 * What a table of allot is made of: its columns (name, type, and the domain its input is read
 * in) and how a session sees their types. The tables themselves are the modules beside this one.
 */
import type { SqlType } from '../types.js';

/**
 * How a column's input is read: times accept ISO-8601 text as well as milliseconds, durations
 * interval text as well as milliseconds; a list of times (`time[]`) either in each element.
 */
export type Domain = 'text' | 'time' | 'duration' | 'int' | 'bool' | 'text[]' | 'time[]';

/** How instants and durations come out: timestamptz and interval, or bigint milliseconds. */
export type TimeOutput = 'timestamptz' | 'ms';

/** A column's type as a session sees it: instants and durations follow its time output. */
export function columnType(col: ColumnDef, times: TimeOutput): SqlType {
  if (times === 'ms') return col.type;
  if (col.domain === 'time') return 'timestamptz';
  if (col.domain === 'duration') return 'interval';
  if (col.domain === 'time[]') return 'timestamptz[]';
  return col.type;
}

export interface ColumnDef {
  readonly name: string;
  readonly type: SqlType;
  readonly domain: Domain;
  readonly notNull?: boolean;
  /** For a record-valued column (a set function's record through a subquery): its fields. */
  readonly fields?: readonly { readonly name: string; readonly type: SqlType }[];
}

export interface TableDef {
  readonly name: string;
  readonly schema: 'public' | 'pg_catalog' | 'information_schema';
  readonly oid: number;
  readonly columns: readonly ColumnDef[];
  /** Columns INSERT/UPDATE accept that are not part of the row (e.g. bookings.hold_id). */
  readonly writeOnly?: readonly ColumnDef[];
  /** Computed on every read, never written: a view to the catalog. */
  readonly virtual?: boolean;
  /** What the table is, in a line, after docs/sql.md (pg_description, as obj_description reads it). */
  readonly comment: string;
  /** What each column is, by name (col_description). */
  readonly columnComments: Readonly<Record<string, string>>;
}

const text = (name: string, notNull = false): ColumnDef => ({ name, type: 'text', domain: 'text', notNull });
const time = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time', notNull: true });
const int8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int', notNull: true });
const optionalTime = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'time' });
const optionalInt8 = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'int' });
const duration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration', notNull: true });
const optionalDuration = (name: string): ColumnDef => ({ name, type: 'int8', domain: 'duration' });
const times = (name: string): ColumnDef => ({ name, type: 'int8[]', domain: 'time[]' });
const caps: ColumnDef = { name: 'capabilities', type: 'text[]', domain: 'text[]', notNull: true };

/** The kinds of column allot's tables have: `column.text('label')`, `column.time('start')`. */
export const column = { text, time, int8, optionalTime, optionalInt8, duration, optionalDuration, times, caps };

/** The comment of every table's id column. */
export const ID_COMMENT = 'Unique id; a new ULID when omitted.';

/** The comments of the columns bookings and holds share. */
export const ENTRY_COMMENTS: Readonly<Record<string, string>> = {
  id: ID_COMMENT,
  resource_id: 'The resource this entry is on.',
  start: 'Start of the span (inclusive).',
  end: 'End of the span (exclusive).',
  label: 'Free text.',
  capabilities: 'Capabilities the entry requires of its resource.',
  user_id: 'Who made it (policy quotas count per user).',
  policy_id: 'The policy it is made under.',
};
