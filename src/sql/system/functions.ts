/**
 * The system functions a SELECT can call, by lower-case name without schema, each answering as
 * PostgreSQL 15 does: SYSTEM_FUNCTIONS return one value, SYSTEM_TABLE_FUNCTIONS rows. Every one
 * has its pg_proc rows (src/sql/system/data/pg-proc.ts), so `'format_type'::regproc` works.
 */
import { elementType, type SqlType, type Value } from '../types.js';
import { PG_KEYWORDS } from './data/pg-misc.js';
import { DESCRIBE_FUNCTIONS } from './functions-describe.js';
import { MISC_FUNCTIONS } from './functions-misc.js';
import { PRIVILEGE_FUNCTIONS } from './functions-privilege.js';
import { array, flag, num, type SystemFunction, type SystemTableFunction } from './function-types.js';

export type { SystemFunction, SystemTableFunction };

export const SYSTEM_FUNCTIONS: ReadonlyMap<string, SystemFunction> = new Map(
  [...DESCRIBE_FUNCTIONS, ...PRIVILEGE_FUNCTIONS, ...MISC_FUNCTIONS].map((f) => [f.name, f]),
);

/** pg_get_keywords()'s category descriptions. */
const CATEGORY: Readonly<Record<string, string>> = {
  U: 'unreserved',
  C: 'unreserved (cannot be function or type name)',
  T: 'reserved (can be function or type name)',
  R: 'reserved',
};

/** The element type of an array argument (int2vector's is int2), text when unknown. */
function elementOf(t: SqlType | undefined): SqlType {
  return (t === undefined ? undefined : elementType(t)) ?? 'text';
}

/** The first subscript: 0 for int2vector and oidvector, 1 for other arrays. */
function lowerBound(t: SqlType | undefined): number {
  return t === 'int2vector' || t === 'oidvector' ? 0 : 1;
}

/** An element's text as a value of the element type (numbers for the integer types). */
function elementValue(x: string | null, t: SqlType): Value {
  if (x === null) return null;
  if (t === 'int2' || t === 'int4' || t === 'int8' || t === 'oid' || t === 'float4' || t === 'float8') return Number(x);
  if (t === 'bool') return x === 't' || x === 'true';
  return x;
}

const TABLE_FUNCTIONS: readonly SystemTableFunction[] = [
  {
    // information_schema._pg_expandarray: each element x with its 1-based position n.
    name: '_pg_expandarray',
    args: [1, 1],
    columns: (argTypes) => [
      { name: 'x', type: elementOf(argTypes[0]) },
      { name: 'n', type: 'int4' },
    ],
    rows: (args, _ctx, argTypes) => {
      if (args[0] === null) return [];
      const t = elementOf(argTypes?.[0]);
      return array(args[0], 'array').map((x, i) => [elementValue(x, t), i + 1]);
    },
  },
  {
    name: 'pg_get_keywords',
    args: [0, 0],
    columns: () => [
      { name: 'word', type: 'text' },
      { name: 'catcode', type: 'char' },
      { name: 'barelabel', type: 'bool' },
      { name: 'catdesc', type: 'text' },
      { name: 'baredesc', type: 'text' },
    ],
    rows: () => PG_KEYWORDS.map(([word, cat, bare]) => [word, cat, bare, CATEGORY[cat] ?? '', bare ? 'can be bare label' : 'requires AS']),
  },
  {
    // generate_subscripts(array, dim[, reverse]): the subscripts of dimension dim.
    name: 'generate_subscripts',
    args: [2, 3],
    columns: () => [{ name: 'generate_subscripts', type: 'int4' }],
    rows: (args, _ctx, argTypes) => {
      if (args[0] === null || args[1] === null) return [];
      const xs = array(args[0], 'array');
      if (num(args[1], 'dimension') !== 1) return [];
      const lower = lowerBound(argTypes?.[0]);
      const subs = xs.map((_, i) => [lower + i]);
      return flag(args[2]) ? subs.reverse() : subs;
    },
  },
];

export const SYSTEM_TABLE_FUNCTIONS: ReadonlyMap<string, SystemTableFunction> = new Map(TABLE_FUNCTIONS.map((f) => [f.name, f]));
