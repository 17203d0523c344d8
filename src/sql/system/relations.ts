/**
 * Every relation the catalog describes, in one shape: allot's tables, views and primary-key
 * indexes (as PostgreSQL would make them from test/sql/system/fixtures/allot-schema.sql), and
 * the system tables and views allot implements. pg_class, pg_attribute, information_schema and
 * the reg* types all read this.
 */
import { Tables } from '../tables/index.js';
import { columnType, type TableDef, type TimeOutput } from '../tables/columns.js';
import { typeOid } from '../types.js';
import { PG_RELATIONS } from './data/pg-relations.js';
import { columnDefault, type ColumnDefault } from './defaults.js';
import { Namespace, derivedOid } from './oids.js';
import { T, isTrueArray, typeByOid } from './type-catalog.js';

export interface CatalogColumn {
  readonly name: string;
  /** pg_attribute.atttypid: a domain's own oid for information_schema's columns. */
  readonly typeOid: number;
  readonly notNull: boolean;
  readonly ndims: number;
  readonly collation: number;
  readonly default?: ColumnDefault & { readonly oid: number };
  readonly comment?: string;
}

export interface PrimaryKey {
  readonly name: string;
  readonly index: number;
  readonly constraint: number;
  /** The key's column (allot's keys are id, column 1). */
  readonly attnum: number;
}

export interface CatalogRelation {
  readonly oid: number;
  readonly name: string;
  readonly namespace: number;
  /** r table, v view, i index. */
  readonly kind: 'r' | 'v' | 'i';
  /** The composite type (0 for an index). */
  readonly rowType: number;
  readonly columns: readonly CatalogColumn[];
  readonly shared: boolean;
  readonly hasRules: boolean;
  /** relacl with % for the owner, or null (the owner's default privileges). */
  readonly acl: readonly string[] | null;
  /** A relation of pg_catalog or information_schema. */
  readonly system: boolean;
  readonly comment?: string;
  readonly primaryKey?: PrimaryKey;
  /** For an index: the table it belongs to. */
  readonly indexOf?: number;
}

/** allot's table, view or index, and the table definition it comes from. */
export type AllotRelation = CatalogRelation & { readonly def: TableDef };

const cache = new Map<TimeOutput, readonly CatalogRelation[]>();
const byOidCache = new Map<TimeOutput, ReadonlyMap<number, CatalogRelation>>();

/** Every relation: the system ones, then allot's (table, its key's index), by oid. */
export function relations(times: TimeOutput): readonly CatalogRelation[] {
  let list = cache.get(times);
  if (list === undefined) {
    list = [...systemRelations(), ...Object.values(Tables).flatMap((t) => allotRelations(t, times))];
    cache.set(times, list);
  }
  return list;
}

export function relationByOid(times: TimeOutput, oid: number): CatalogRelation | undefined {
  let map = byOidCache.get(times);
  if (map === undefined) {
    map = new Map(relations(times).map((r) => [r.oid, r]));
    byOidCache.set(times, map);
  }
  return map.get(oid);
}

export function relationByName(times: TimeOutput, namespace: number, name: string): CatalogRelation | undefined {
  return relations(times).find((r) => r.namespace === namespace && r.name === name);
}

let system: readonly CatalogRelation[] | undefined;

/** The system relations, from PostgreSQL's pg_class and pg_attribute (src/sql/system/data). */
export function systemRelations(): readonly CatalogRelation[] {
  system ??= PG_RELATIONS.map(([schema, name, oid, relkind, reltype, shared, hasRules, acl, cols]) => ({
    oid,
    name,
    namespace: schema === 'pg_catalog' ? Namespace.pgCatalog : Namespace.informationSchema,
    kind: relkind === 'v' ? 'v' : 'r',
    rowType: reltype,
    columns: cols.map(([colName, type, notNull, ndims, collation]) => ({ name: colName, typeOid: type, notNull, ndims, collation })),
    shared,
    hasRules,
    acl,
    system: true,
  }));
  return system;
}

/** A table (or view) of allot and, for a stored table, its primary key's index. */
function allotRelations(def: TableDef, times: TimeOutput): AllotRelation[] {
  const view = def.virtual === true;
  const comments = def.columnComments;
  const columns = def.columns.map((col, i): CatalogColumn => {
    const type = typeOid[columnType(col, times)];
    const typeRow = typeByOid(type);
    const dflt = view ? undefined : columnDefault(def.name, col.name, times);
    return {
      name: col.name,
      typeOid: type,
      notNull: !view && col.notNull === true,
      ndims: !view && typeRow !== undefined && isTrueArray(typeRow) ? 1 : 0,
      collation: typeRow?.[T.typcollation] ?? 0,
      ...(dflt === undefined ? {} : { default: { ...dflt, oid: derivedOid.attrdef(def.oid, i + 1) } }),
      ...(comments[col.name] === undefined ? {} : { comment: comments[col.name] }),
    };
  });
  const primaryKey: PrimaryKey | undefined = view
    ? undefined
    : { name: `${def.name}_pkey`, index: derivedOid.primaryKeyIndex(def.oid), constraint: derivedOid.primaryKeyConstraint(def.oid), attnum: 1 };
  const table: AllotRelation = {
    def,
    oid: def.oid,
    name: def.name,
    namespace: Namespace.public,
    kind: view ? 'v' : 'r',
    rowType: derivedOid.rowType(def.oid),
    columns,
    shared: false,
    hasRules: view,
    acl: null,
    system: false,
    comment: def.comment,
    ...(primaryKey === undefined ? {} : { primaryKey }),
  };
  if (primaryKey === undefined) return [table];
  const key = columns[primaryKey.attnum - 1];
  const index: AllotRelation = {
    def,
    oid: primaryKey.index,
    name: primaryKey.name,
    namespace: Namespace.public,
    kind: 'i',
    rowType: 0,
    columns: key === undefined ? [] : [{ name: key.name, typeOid: key.typeOid, notNull: false, ndims: 0, collation: key.collation }],
    shared: false,
    hasRules: false,
    acl: null,
    system: false,
    indexOf: def.oid,
  };
  return [table, index];
}

/** True for an allot relation (one with a TableDef). */
export function isAllot(rel: CatalogRelation): rel is AllotRelation {
  return !rel.system;
}
