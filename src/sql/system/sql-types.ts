/**
 * The SqlType (src/sql/types.ts) a PostgreSQL type is sent as. Like PostgreSQL's RowDescription,
 * a domain is sent as its base type (information_schema's sql_identifier as name, yes_or_no as
 * varchar, …).
 */
import { typeOid, type SqlType } from '../types.js';
import { baseTypeOid } from './type-catalog.js';

const BY_OID: ReadonlyMap<number, SqlType> = new Map(
  (Object.entries(typeOid) as [SqlType, number][]).filter(([t]) => t !== 'unknown').map(([t, oid]) => [oid, t]),
);

/**
 * Types the catalog's columns have that SqlType lacks, and what stands in for them:
 * inet (pg_stat_activity.client_addr, inet_server_addr()) is sent as text.
 */
const MISSING_SQL_TYPES: ReadonlyMap<number, SqlType> = new Map([[869, 'text']]);

/** The SqlType of a column or value of this pg_type oid. */
export function sqlTypeOf(oid: number): SqlType {
  const base = baseTypeOid(oid);
  const t = BY_OID.get(base) ?? MISSING_SQL_TYPES.get(base);
  if (t === undefined) throw new Error(`no SqlType for type oid ${oid}`);
  return t;
}
