/**
 * The catalogs whose rows are PostgreSQL 15's own (types, schemas, access methods, collations,
 * ranges, languages, functions) and those allot has no rows for (no enums, triggers,
 * policies, sequences, extensions, foreign tables, partitions, statistics, publications, …).
 */
import type { Value } from '../types.js';
import type { SystemContext } from './context.js';
import { PG_AMS, PG_COLLATIONS, PG_LANGUAGES, PG_NAMESPACES, PG_RANGES } from './data/pg-misc.js';
import { PG_PROC_ROWS } from './data/pg-proc.js';
import { withOwner } from './names.js';
import { typeRows } from './type-catalog.js';

const copy = (rows: readonly (readonly unknown[])[]): Value[][] => rows.map((r) => r.map((v) => (Array.isArray(v) ? [...(v as string[])] : v)) as Value[]);

export function pgTypeRows(): Value[][] {
  return copy(typeRows());
}

export function pgNamespaceRows(ctx: SystemContext): Value[][] {
  return PG_NAMESPACES.map(([oid, name, owner, acl]) => [oid, name, owner, withOwner(acl, ctx.user)]);
}

export const pgAmRows = (): Value[][] => copy(PG_AMS);
export const pgCollationRows = (): Value[][] => copy(PG_COLLATIONS);
export const pgRangeRows = (): Value[][] => copy(PG_RANGES);
export const pgLanguageRows = (): Value[][] => copy(PG_LANGUAGES);
export const pgProcRows = (): Value[][] => copy(PG_PROC_ROWS);
export const noRows = (): Value[][] => [];
