/**
 * The system tables and views a SELECT can read: PostgreSQL 15's column lists (names and types,
 * in order, from src/sql/system/data/pg-relations.ts), with rows built on demand for the
 * session. Every table listed here exists in pg_class, so `'pg_type'::regclass` works.
 */
import { typeOid, type SqlType, type Value } from '../types.js';
import {
  pgAttrdefRows,
  pgAttributeRows,
  pgClassRows,
  pgConstraintRows,
  pgDependRows,
  pgDescriptionRows,
  pgIndexRows,
  pgRewriteRows,
} from './catalog-relations.js';
import { pgAuthidRows, pgDatabaseRows, pgRolesRows, pgSettingsRows, pgStatActivityRows, pgTablespaceRows, pgUserRows } from './catalog-global.js';
import { noRows, pgAmRows, pgCollationRows, pgLanguageRows, pgNamespaceRows, pgProcRows, pgRangeRows, pgTypeRows } from './catalog-static.js';
import { pgIndexesRows, pgTablesRows, pgViewsRows } from './catalog-views.js';
import type { SystemContext } from './context.js';
import {
  characterSetsRows,
  checkConstraintsRows,
  columnsRows,
  constraintColumnUsageRows,
  elementTypesRows,
  keyColumnUsageRows,
  schemataRows,
  tableConstraintsRows,
  tablesRows,
  viewsRows,
} from './information-schema.js';
import { Namespace } from './oids.js';
import { systemRelations } from './relations.js';
import { sqlTypeOf } from './sql-types.js';
import { T, typeByOid } from './type-catalog.js';

export interface SystemColumn {
  readonly name: string;
  /** How values are sent (a domain as its base type, as PostgreSQL's RowDescription does). */
  readonly type: SqlType;
  /** The column's own pg_type oid where it is not `type`'s: a domain, or a type SqlType lacks (inet). */
  readonly typeOid?: number;
  /** The typmod RowDescription carries, where not -1 (yes_or_no is varchar(3): 7). */
  readonly typmod?: number;
}

export interface SystemTable {
  readonly schema: 'pg_catalog' | 'information_schema';
  readonly name: string;
  readonly oid: number;
  readonly columns: readonly SystemColumn[];
  rows(ctx: SystemContext): Value[][];
}

type Rows = (ctx: SystemContext) => Value[][];

/** Row builders by `schema.name`. A relation without one here is a test failure, not an empty table. */
const BUILDERS: Readonly<Record<string, Rows>> = {
  'pg_catalog.pg_am': pgAmRows,
  'pg_catalog.pg_attrdef': pgAttrdefRows,
  'pg_catalog.pg_attribute': pgAttributeRows,
  'pg_catalog.pg_auth_members': noRows,
  'pg_catalog.pg_authid': pgAuthidRows,
  'pg_catalog.pg_class': pgClassRows,
  'pg_catalog.pg_collation': pgCollationRows,
  'pg_catalog.pg_constraint': pgConstraintRows,
  'pg_catalog.pg_database': pgDatabaseRows,
  'pg_catalog.pg_depend': pgDependRows,
  'pg_catalog.pg_description': pgDescriptionRows,
  'pg_catalog.pg_enum': noRows,
  'pg_catalog.pg_event_trigger': noRows,
  'pg_catalog.pg_extension': noRows,
  'pg_catalog.pg_foreign_table': noRows,
  'pg_catalog.pg_index': pgIndexRows,
  'pg_catalog.pg_indexes': pgIndexesRows,
  'pg_catalog.pg_inherits': noRows,
  'pg_catalog.pg_language': pgLanguageRows,
  'pg_catalog.pg_locks': noRows,
  'pg_catalog.pg_matviews': noRows,
  'pg_catalog.pg_namespace': pgNamespaceRows,
  'pg_catalog.pg_partitioned_table': noRows,
  'pg_catalog.pg_policy': noRows,
  'pg_catalog.pg_proc': pgProcRows,
  'pg_catalog.pg_publication': noRows,
  'pg_catalog.pg_opclass': noRows,
  'pg_catalog.pg_publication_namespace': noRows,
  'pg_catalog.pg_publication_rel': noRows,
  'pg_catalog.pg_range': pgRangeRows,
  'pg_catalog.pg_rewrite': pgRewriteRows,
  'pg_catalog.pg_roles': pgRolesRows,
  'pg_catalog.pg_sequence': noRows,
  'pg_catalog.pg_sequences': noRows,
  'pg_catalog.pg_settings': pgSettingsRows,
  'pg_catalog.pg_shdepend': noRows,
  'pg_catalog.pg_shdescription': noRows,
  'pg_catalog.pg_stat_activity': pgStatActivityRows,
  'pg_catalog.pg_statistic_ext': noRows,
  'pg_catalog.pg_tables': pgTablesRows,
  'pg_catalog.pg_tablespace': pgTablespaceRows,
  'pg_catalog.pg_trigger': noRows,
  'pg_catalog.pg_type': pgTypeRows,
  'pg_catalog.pg_user': pgUserRows,
  'pg_catalog.pg_views': pgViewsRows,
  'information_schema.character_sets': characterSetsRows,
  'information_schema.check_constraints': checkConstraintsRows,
  'information_schema.columns': columnsRows,
  'information_schema.constraint_column_usage': constraintColumnUsageRows,
  'information_schema.element_types': elementTypesRows,
  'information_schema.key_column_usage': keyColumnUsageRows,
  'information_schema.parameters': noRows,
  'information_schema.referential_constraints': noRows,
  'information_schema.routines': noRows,
  'information_schema.schemata': schemataRows,
  'information_schema.sequences': noRows,
  'information_schema.table_constraints': tableConstraintsRows,
  'information_schema.tables': tablesRows,
  'information_schema.triggers': noRows,
  'information_schema.views': viewsRows,
};

function systemColumn(name: string, oid: number): SystemColumn {
  const type = sqlTypeOf(oid);
  const t = typeByOid(oid);
  const typmod = t !== undefined && t[T.typtype] === 'd' ? t[T.typtypmod] : -1;
  return {
    name,
    type,
    ...(typeOid[type] === oid ? {} : { typeOid: oid }),
    ...(typmod === -1 ? {} : { typmod }),
  };
}

export const SYSTEM_TABLES: readonly SystemTable[] = systemRelations().map((rel) => {
  const schema = rel.namespace === Namespace.pgCatalog ? 'pg_catalog' : 'information_schema';
  const rows = BUILDERS[`${schema}.${rel.name}`];
  if (rows === undefined) throw new Error(`no rows for system relation ${schema}.${rel.name}`);
  return { schema, name: rel.name, oid: rel.oid, columns: rel.columns.map((c) => systemColumn(c.name, c.typeOid)), rows };
});

const BY_KEY: ReadonlyMap<string, SystemTable> = new Map(SYSTEM_TABLES.map((t) => [`${t.schema}.${t.name}`, t]));

/**
 * A system table by (lower-case) schema and name. Without a schema only pg_catalog is searched,
 * as it is on every search_path; information_schema's views must be qualified, as in PostgreSQL.
 */
export function findSystemTable(schema: string | undefined, name: string): SystemTable | undefined {
  return BY_KEY.get(`${schema ?? 'pg_catalog'}.${name}`);
}
