/**
 * allot's tables by name: the six that hold rows (a module each beside this one) and the
 * computed ones (views.ts). The PostgreSQL system catalog that describes them is in system/.
 */
import { bookingsDef } from './bookings.js';
import type { TableDef } from './columns.js';
import { holdsDef } from './holds.js';
import { outagesDef } from './outages.js';
import { policiesDef } from './policies.js';
import { resourcesDef } from './resources.js';
import { rulesDef } from './rules.js';
import { allotExportDef, availabilityDef, policyUsageDef } from './views.js';

/** Every table a client can name, in the order messages and the catalog list them. */
export const Tables = {
  resources: resourcesDef,
  rules: rulesDef,
  bookings: bookingsDef,
  holds: holdsDef,
  outages: outagesDef,
  policies: policiesDef,
  availability: availabilityDef,
  allot_export: allotExportDef,
  policy_usage: policyUsageDef,
} as const satisfies Record<string, TableDef>;

export type AllotTable = keyof typeof Tables;
/** The tables that hold rows: every one but the computed views. */
export type StoredTable = Exclude<AllotTable, 'availability' | 'policy_usage' | 'allot_export'>;
