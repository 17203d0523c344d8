/** Which of allot's tables a statement names, and that table as a session with its time output sees it. */
import { AllotError, SqlState } from '../../errors.js';
import { EMPTY_SCOPE, type Scope } from '../expr.js';
import { columnType, type TableDef, type TimeOutput } from '../tables/columns.js';
import { type AllotTable, type StoredTable, Tables } from '../tables/index.js';

/** For messages: every table a client can name. */
export const TABLE_LIST = Object.keys(Tables).join(', ');

export type Source =
  | { readonly kind: 'allot'; readonly table: StoredTable; readonly def: TableDef }
  | { readonly kind: 'availability'; readonly def: TableDef }
  | { readonly kind: 'policy_usage'; readonly def: TableDef }
  | { readonly kind: 'allot_export'; readonly def: TableDef }
  | { readonly kind: 'calendar'; readonly def: TableDef }
  | { readonly kind: 'next_free'; readonly def: TableDef }
  | { readonly kind: 'availability_explain'; readonly def: TableDef }
  | { readonly kind: 'none'; readonly def: null };

export function resolveTable(name: { name: string; schema?: string }): Source {
  // The parser has folded unquoted names to lower case; a quoted "Resources" is another name.
  const schema = name.schema;
  const table = name.name;
  if (schema === undefined || schema === 'public') {
    if (Object.hasOwn(Tables, table)) {
      const t = table as AllotTable;
      if (t === 'availability') return { kind: 'availability', def: Tables.availability };
      if (t === 'policy_usage') return { kind: 'policy_usage', def: Tables.policy_usage };
      if (t === 'allot_export') return { kind: 'allot_export', def: Tables.allot_export };
      if (t === 'calendar') return { kind: 'calendar', def: Tables.calendar };
      if (t === 'next_free') return { kind: 'next_free', def: Tables.next_free };
      if (t === 'availability_explain') return { kind: 'availability_explain', def: Tables.availability_explain };
      return { kind: 'allot', table: t, def: Tables[t] };
    }
  }
  throw new AllotError(SqlState.undefinedTable, `relation "${schema !== undefined ? `${schema}.` : ''}${table}" does not exist`, {
    hint: `allot has the tables ${TABLE_LIST}.`,
  });
}

const typedDefs = new Map<TableDef, TableDef>();

/** A table as a session with time output `times` sees it: instants timestamptz, durations interval. */
export function typedDef<T extends TableDef | null>(def: T, times: TimeOutput): T {
  if (def === null || times === 'ms') return def;
  let t = typedDefs.get(def);
  if (t === undefined) {
    t = { ...def, columns: def.columns.map((c) => ({ ...c, type: columnType(c, times) })) };
    typedDefs.set(def, t);
  }
  return t as T;
}

export function scopeOf(def: TableDef | null, alias?: string): Scope {
  if (def === null) return EMPTY_SCOPE;
  return { columns: def.columns, qualifiers: new Set([def.name, ...(alias !== undefined ? [alias] : [])]) };
}
