/**
 * Oids of the catalog: PostgreSQL 15's for built-in objects, and a fixed scheme for the objects
 * PostgreSQL would create with allot's tables (row types, primary keys, defaults), so that every
 * session of every database sees the same oids.
 */
import { AllotError, SqlState } from '../../errors.js';

export const Namespace = { pgCatalog: 11, pgToast: 99, public: 2200, informationSchema: 13_207 } as const;

/** Catalogs' own oids (pg_class.oid of pg_class, …): classoid in pg_description and pg_depend. */
export const CatalogOid = {
  pgType: 1247,
  pgAttribute: 1249,
  pgProc: 1255,
  pgClass: 1259,
  pgAuthid: 1260,
  pgDatabase: 1262,
  pgAttrdef: 2604,
  pgConstraint: 2606,
  pgNamespace: 2615,
  pgRewrite: 2618,
  pgAm: 2601,
  pgLanguage: 2612,
  pgCollation: 3456,
  pgTablespace: 1213,
} as const;

/** The bootstrap superuser: the session user appears as this role. */
export const BOOTSTRAP_ROLE = 10;
export const HEAP_AM = 2;
export const BTREE_AM = 403;
export const TEXT_BTREE_OPCLASS = 3126;
export const DEFAULT_TABLESPACE = 1663;
/** PostgreSQL's FirstNormalTransactionId: the frozen xid of every allot table. */
export const FROZEN_XID = 3;
export const UTF8_ENCODING = 6;

/** First oid of the objects derived from allot's tables; each table has a block of them. */
const DERIVED_BASE = 17_000;
const DERIVED_STRIDE = 100;
/** allot's table oids (src/sql/tables/) lie in [16400, 16500): one block each. */
const TABLE_OID_MIN = 16_400;
const TABLE_OID_MAX = 16_499;
/** Columns per table with room for a default's pg_attrdef oid. */
const MAX_DEFAULTS = DERIVED_STRIDE - 10;

function block(tableOid: number): number {
  if (tableOid < TABLE_OID_MIN || tableOid > TABLE_OID_MAX) {
    throw new AllotError(SqlState.internalError, `allot table oid ${tableOid} is outside [${TABLE_OID_MIN}, ${TABLE_OID_MAX}]`);
  }
  return DERIVED_BASE + (tableOid - TABLE_OID_MIN) * DERIVED_STRIDE;
}

/** The oids PostgreSQL would give the objects it makes with a table. */
export const derivedOid = {
  rowType: (table: number): number => block(table) + 1,
  arrayType: (table: number): number => block(table) + 2,
  primaryKeyIndex: (table: number): number => block(table) + 3,
  primaryKeyConstraint: (table: number): number => block(table) + 4,
  viewRule: (table: number): number => block(table) + 5,
  attrdef: (table: number, attnum: number): number => {
    if (attnum < 1 || attnum > MAX_DEFAULTS) throw new AllotError(SqlState.internalError, `no attrdef oid for column ${attnum}`);
    return block(table) + 10 + attnum;
  },
};

/** Database oids: 16384 and up, from the name (FNV-1a), so a database keeps its oid. */
export function databaseOid(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 16_384 + (h % 2_000_000_000);
}
