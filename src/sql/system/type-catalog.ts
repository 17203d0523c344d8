/**
 * pg_type: PostgreSQL 15's built-in rows, plus the row type and array type PostgreSQL makes for
 * each of allot's tables and views (CREATE TABLE makes both).
 */
import { Tables } from '../tables/index.js';
import { PG_TYPE_ROWS, type PgTypeRow } from './data/pg-type.js';
import { Namespace, derivedOid } from './oids.js';

/** Column positions of a pg_type row. */
export const T = {
  oid: 0,
  typname: 1,
  typnamespace: 2,
  typowner: 3,
  typlen: 4,
  typbyval: 5,
  typtype: 6,
  typcategory: 7,
  typispreferred: 8,
  typisdefined: 9,
  typdelim: 10,
  typrelid: 11,
  typsubscript: 12,
  typelem: 13,
  typarray: 14,
  typinput: 15,
  typoutput: 16,
  typreceive: 17,
  typsend: 18,
  typmodin: 19,
  typmodout: 20,
  typanalyze: 21,
  typalign: 22,
  typstorage: 23,
  typnotnull: 24,
  typbasetype: 25,
  typtypmod: 26,
  typndims: 27,
  typcollation: 28,
  typdefaultbin: 29,
  typdefault: 30,
  typacl: 31,
} as const;

export type { PgTypeRow };

/** pg_type's own row type and its array: the templates PostgreSQL fills for every relation. */
const PG_TYPE_ROWTYPE = 71;

function templates(): { row: PgTypeRow; array: PgTypeRow } {
  const row = PG_TYPE_ROWS.find((r) => r[T.oid] === PG_TYPE_ROWTYPE);
  const array = PG_TYPE_ROWS.find((r) => r[T.oid] === row?.[T.typarray]);
  if (row === undefined || array === undefined) throw new Error('pg_type data lacks the pg_type row type');
  return { row, array };
}

/** The row type and array type of an allot relation. */
function relationTypes(relOid: number, name: string): PgTypeRow[] {
  const { row, array } = templates();
  const rowType = derivedOid.rowType(relOid);
  const arrayType = derivedOid.arrayType(relOid);
  return [
    patched(array, { [T.oid]: arrayType, [T.typname]: `_${name}`, [T.typnamespace]: Namespace.public, [T.typelem]: rowType }),
    patched(row, { [T.oid]: rowType, [T.typname]: name, [T.typnamespace]: Namespace.public, [T.typrelid]: relOid, [T.typarray]: arrayType }),
  ];
}

/** A copy of a row with some columns replaced (by position). */
function patched(template: PgTypeRow, patch: Readonly<Record<number, number | string>>): PgTypeRow {
  return template.map((v, i) => (i in patch ? patch[i] : v)) as unknown as PgTypeRow;
}

/** True for arrays proper, as PostgreSQL's IsTrueArrayType (not point, whose subscripting is raw). */
export function isTrueArray(t: PgTypeRow): boolean {
  return t[T.typelem] !== 0 && t[T.typsubscript] === ARRAY_SUBSCRIPT_HANDLER;
}

const ARRAY_SUBSCRIPT_HANDLER = 6179;

let all: readonly PgTypeRow[] | undefined;
let byOid: ReadonlyMap<number, PgTypeRow> | undefined;

/** Every pg_type row: built-in ones by oid, then allot's. */
export function typeRows(): readonly PgTypeRow[] {
  all ??= [...PG_TYPE_ROWS, ...Object.values(Tables).flatMap((t) => relationTypes(t.oid, t.name))];
  return all;
}

export function typeByOid(oid: number): PgTypeRow | undefined {
  byOid ??= new Map(typeRows().map((r) => [r[T.oid], r]));
  return byOid.get(oid);
}

/** The types of that name in that namespace (at most one). */
export function typeByName(namespace: number, name: string): PgTypeRow | undefined {
  return typeRows().find((r) => r[T.typnamespace] === namespace && r[T.typname] === name);
}

/** The base type of a domain, or the type itself. */
export function baseTypeOid(oid: number): number {
  const t = typeByOid(oid);
  return t !== undefined && t[T.typtype] === 'd' ? t[T.typbasetype] : oid;
}
