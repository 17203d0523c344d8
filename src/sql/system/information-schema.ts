/**
 * information_schema's views, computed as PostgreSQL 15's information_schema.sql computes them
 * from the catalog (relations.ts), for a session user who owns everything. Values of its
 * domains are their base types' (sql_identifier name, cardinal_number int4, yes_or_no varchar).
 */
import type { Value } from '../types.js';
import type { SystemContext } from './context.js';
import { roleName } from './catalog-global.js';
import { PG_COLLATIONS, PG_NAMESPACES } from './data/pg-misc.js';
import { expressionText } from './defaults.js';
import { formatType } from './format-type.js';
import { namespaceName } from './names.js';
import { Namespace } from './oids.js';
import { relations, type CatalogColumn, type CatalogRelation } from './relations.js';
import { viewDef } from './ruleutils.js';
import { T, typeByOid } from './type-catalog.js';

const yesNo = (b: boolean): string => (b ? 'YES' : 'NO');

/** Tables and views, as the views' `relkind IN ('r', 'v', 'f', 'p')` selects them. */
function tablesAndViews(ctx: SystemContext): CatalogRelation[] {
  return relations(ctx.times).filter((r) => r.kind !== 'i');
}

export function schemataRows(ctx: SystemContext): Value[][] {
  return PG_NAMESPACES.map(([, name, owner]) => [ctx.database, name, roleName(ctx, owner) ?? null, null, null, null, null]);
}

export function tablesRows(ctx: SystemContext): Value[][] {
  return tablesAndViews(ctx).map((r) => [
    ctx.database,
    namespaceName(r.namespace) ?? null,
    r.name,
    r.kind === 'v' ? 'VIEW' : 'BASE TABLE',
    null,
    null,
    null,
    null,
    null,
    yesNo(r.kind === 'r'),
    'NO',
    null,
  ]);
}

export function viewsRows(ctx: SystemContext): Value[][] {
  return tablesAndViews(ctx)
    .filter((r) => r.kind === 'v')
    .map((r) => [ctx.database, namespaceName(r.namespace) ?? null, r.name, viewDef(ctx, r.oid), 'NONE', 'NO', 'NO', 'NO', 'NO', 'NO']);
}

export function columnsRows(ctx: SystemContext): Value[][] {
  return tablesAndViews(ctx).flatMap((r) => r.columns.map((c, i) => columnRow(ctx, r, c, i + 1)));
}

/** One row of information_schema.columns (44 columns). */
function columnRow(ctx: SystemContext, r: CatalogRelation, c: CatalogColumn, attnum: number): Value[] {
  const t = typeByOid(c.typeOid);
  const domain = t !== undefined && t[T.typtype] === 'd';
  const base = domain ? typeByOid(t[T.typbasetype]) : t;
  const trueType = base?.[T.oid] ?? c.typeOid;
  const trueTypmod = domain ? t[T.typtypmod] : -1;
  const collation = collationOf(ctx, c.collation);
  const dflt = c.default === undefined ? null : (expressionText(c.default.bin) ?? null);
  return [
    ctx.database,
    namespaceName(r.namespace) ?? null,
    r.name,
    c.name,
    attnum,
    dflt,
    yesNo(!(c.notNull || (domain && t[T.typnotnull]))),
    dataType(ctx, base, trueType),
    charMaxLength(trueType, trueTypmod),
    charOctetLength(trueType, trueTypmod),
    numericPrecision(trueType, trueTypmod),
    numericRadix(trueType),
    numericScale(trueType, trueTypmod),
    datetimePrecision(trueType, trueTypmod),
    intervalType(ctx, trueType, trueTypmod),
    null,
    null,
    null,
    null,
    ...collation,
    ...(domain ? [ctx.database, namespaceName(t[T.typnamespace]) ?? null, t[T.typname]] : [null, null, null]),
    ctx.database,
    base === undefined ? null : (namespaceName(base[T.typnamespace]) ?? null),
    base?.[T.typname] ?? null,
    null,
    null,
    null,
    null,
    String(attnum),
    'NO',
    'NO',
    null,
    null,
    null,
    null,
    null,
    'NO',
    'NEVER',
    null,
    yesNo(r.kind === 'r'),
  ];
}

/** data_type: ARRAY for arrays (int2vector and oidvector too), the SQL name for pg_catalog's types. */
function dataType(ctx: SystemContext, base: ReturnType<typeof typeByOid>, oid: number): string {
  if (base === undefined) return 'USER-DEFINED';
  if (base[T.typelem] !== 0 && base[T.typlen] === -1) return 'ARRAY';
  return base[T.typnamespace] === Namespace.pgCatalog ? formatType(ctx, oid, null) : 'USER-DEFINED';
}

/** [collation_catalog, collation_schema, collation_name]: only a collation other than the default. */
function collationOf(ctx: SystemContext, oid: number): Value[] {
  const coll = oid === 0 || oid === 100 ? undefined : PG_COLLATIONS.find((row) => row[0] === oid);
  return coll === undefined ? [null, null, null] : [ctx.database, namespaceName(coll[2]) ?? null, coll[1]];
}

function charMaxLength(type: number, typmod: number): number | null {
  if (typmod === -1) return null;
  if (type === 1042 || type === 1043) return typmod - 4;
  if (type === 1560 || type === 1562) return typmod;
  return null;
}

/** UTF8's longest character, in bytes (pg_encoding_max_length(6)). */
const UTF8_MAX_LENGTH = 4;

function charOctetLength(type: number, typmod: number): number | null {
  if (type !== 25 && type !== 1042 && type !== 1043) return null;
  if (typmod === -1) return 2 ** 30;
  const max = charMaxLength(type, typmod);
  return max === null ? null : max * UTF8_MAX_LENGTH;
}

function numericPrecision(type: number, typmod: number): number | null {
  switch (type) {
    case 21:
      return 16;
    case 23:
      return 32;
    case 20:
      return 64;
    case 1700:
      return typmod === -1 ? null : ((typmod - 4) >> 16) & 65535;
    case 700:
      return 24;
    case 701:
      return 53;
    default:
      return null;
  }
}

function numericRadix(type: number): number | null {
  if ([21, 23, 20, 700, 701].includes(type)) return 2;
  return type === 1700 ? 10 : null;
}

function numericScale(type: number, typmod: number): number | null {
  if ([21, 23, 20].includes(type)) return 0;
  if (type === 1700) return typmod === -1 ? null : (typmod - 4) & 65535;
  return null;
}

function datetimePrecision(type: number, typmod: number): number | null {
  if (type === 1082) return 0;
  if ([1083, 1114, 1184, 1266].includes(type)) return typmod < 0 ? 6 : typmod;
  if (type === 1186) return typmod < 0 || (typmod & 65535) === 65535 ? 6 : typmod & 65535;
  return null;
}

/** The fields of an interval's typmod (`DAY TO SECOND`), from format_type. */
function intervalType(ctx: SystemContext, type: number, typmod: number): string | null {
  if (type !== 1186) return null;
  const m = /^interval[()0-9]* (.*)$/.exec(formatType(ctx, type, typmod));
  return m?.[1] === undefined ? null : m[1].toUpperCase();
}

/** Not-null columns of tables, which information_schema shows as CHECK constraints. */
function notNullChecks(ctx: SystemContext): { rel: CatalogRelation; name: string; column: string }[] {
  return relations(ctx.times)
    .filter((r) => r.kind === 'r')
    .flatMap((r) => r.columns.flatMap((c, i) => (c.notNull ? [{ rel: r, name: `${r.namespace}_${r.oid}_${i + 1}_not_null`, column: c.name }] : [])));
}

export function tableConstraintsRows(ctx: SystemContext): Value[][] {
  const row = (r: CatalogRelation, name: string, type: string): Value[] => {
    const schema = namespaceName(r.namespace) ?? null;
    return [ctx.database, schema, name, ctx.database, schema, r.name, type, 'NO', 'NO', 'YES', null];
  };
  return [
    ...notNullChecks(ctx).map((n) => row(n.rel, n.name, 'CHECK')),
    ...relations(ctx.times).flatMap((r) => (r.primaryKey === undefined ? [] : [row(r, r.primaryKey.name, 'PRIMARY KEY')])),
  ];
}

export function checkConstraintsRows(ctx: SystemContext): Value[][] {
  return notNullChecks(ctx).map((n) => [ctx.database, namespaceName(n.rel.namespace) ?? null, n.name, `${n.column} IS NOT NULL`]);
}

/** The primary keys' columns: [relation, constraint name, column name]. */
function keyColumns(ctx: SystemContext): [CatalogRelation, string, string][] {
  return relations(ctx.times).flatMap((r) => {
    const pk = r.primaryKey;
    const col = pk === undefined ? undefined : r.columns[pk.attnum - 1];
    return pk === undefined || col === undefined ? [] : [[r, pk.name, col.name] as [CatalogRelation, string, string]];
  });
}

export function keyColumnUsageRows(ctx: SystemContext): Value[][] {
  return keyColumns(ctx).map(([r, name, col]) => {
    const schema = namespaceName(r.namespace) ?? null;
    return [ctx.database, schema, name, ctx.database, schema, r.name, col, 1, null];
  });
}

export function constraintColumnUsageRows(ctx: SystemContext): Value[][] {
  return keyColumns(ctx).map(([r, name, col]) => {
    const schema = namespaceName(r.namespace) ?? null;
    return [ctx.database, schema, r.name, col, ctx.database, schema, name];
  });
}

/** The element types of array columns (information_schema.element_types, 29 columns). */
export function elementTypesRows(ctx: SystemContext): Value[][] {
  return tablesAndViews(ctx).flatMap((r) =>
    r.columns.flatMap((c, i) => {
      const t = typeByOid(c.typeOid);
      const elem = t !== undefined && t[T.typelem] !== 0 && t[T.typlen] === -1 ? typeByOid(t[T.typelem]) : undefined;
      if (elem === undefined) return [];
      const inCatalog = elem[T.typnamespace] === Namespace.pgCatalog;
      return [
        [
          ctx.database,
          namespaceName(r.namespace) ?? null,
          r.name,
          'TABLE',
          String(i + 1),
          inCatalog ? formatType(ctx, elem[T.oid], null) : 'USER-DEFINED',
          null,
          null,
          null,
          null,
          null,
          ...collationOf(ctx, c.collation),
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          ctx.database,
          namespaceName(elem[T.typnamespace]) ?? null,
          elem[T.typname],
          null,
          null,
          null,
          null,
          `a${i + 1}`,
        ],
      ];
    }),
  );
}

export function characterSetsRows(ctx: SystemContext): Value[][] {
  return [[null, null, 'UTF8', 'UCS', 'UTF8', ctx.database, null, null]];
}
