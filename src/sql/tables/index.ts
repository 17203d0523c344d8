/**
 * allot's tables by name: the six that hold rows (a module each beside this one) and the
 * computed ones (views.ts). The PostgreSQL system catalog that describes them is in system/.
 */
import { bookings } from './bookings.js';
import type { TableDef } from './columns.js';
import { holds } from './holds.js';
import { outages } from './outages.js';
import { policies } from './policies.js';
import { resources } from './resources.js';
import { rules } from './rules.js';
import type { StoredTableModule } from './stored.js';
import { allotExportDef, availabilityDef, calendarDef, explainDef, nextFreeDef, policyUsageDef } from './views.js';

/** Every table a client can name, in the order messages and the catalog list them. */
export const Tables = {
  resources: resources.def,
  rules: rules.def,
  bookings: bookings.def,
  holds: holds.def,
  outages: outages.def,
  policies: policies.def,
  availability: availabilityDef,
  allot_export: allotExportDef,
  policy_usage: policyUsageDef,
  calendar: calendarDef,
  next_free: nextFreeDef,
  availability_explain: explainDef,
} as const satisfies Record<string, TableDef>;

export type AllotTable = keyof typeof Tables;
/** The tables that hold rows: every one but the computed views. */
export type StoredTable = Exclude<AllotTable, 'availability' | 'policy_usage' | 'allot_export' | 'calendar' | 'next_free' | 'availability_explain'>;

/** The module of each table that holds rows. */
export const StoredTables: Readonly<Record<StoredTable, StoredTableModule>> = { resources, rules, bookings, holds, outages, policies };

/** Whether `name` is a table that holds rows (not a computed one, nor an inherited property). */
export function isStoredTable(name: string): name is StoredTable {
  return Object.hasOwn(StoredTables, name);
}
