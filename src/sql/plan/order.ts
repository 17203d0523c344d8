/** ORDER BY: a key per item, read off the source row or the select list, and how keys sort. */
import type { Expr } from 'pgsql-ast-parser';
import { AllotError, SqlState } from '../../errors.js';
import { compare, compileExpr, type EvalEnv, NeedsLiteral, type ParamSlots, type Scope } from '../expr.js';
import type { Value } from '../types.js';
import type { Projection } from './projection.js';

/** One ORDER BY item: its key for a row (of the table, `src`, or of the select list, `out`) and how keys compare. */
export interface Order {
  /** Whether the key is a select-list column (`out` is needed), not an expression over the row. */
  readonly usesOutput: boolean;
  key(src: readonly Value[], out: readonly Value[] | null, env: EvalEnv): Value;
  compare(x: Value, y: Value): number;
}

export function compileOrder(
  by: Expr,
  dir: 'ASC' | 'DESC' | undefined,
  nulls: 'FIRST' | 'LAST' | undefined,
  p: Projection,
  scope: Scope,
  params: ParamSlots,
): Order {
  const desc = dir === 'DESC';
  // PostgreSQL puts NULLs last ascending and first descending.
  const nullsFirst = nulls === 'FIRST' || (nulls === undefined && desc);
  const sign = desc ? -1 : 1;
  const cmpValues = (x: Value, y: Value): number => {
    if (x === null && y === null) return 0;
    if (x === null) return nullsFirst ? -1 : 1;
    if (y === null) return nullsFirst ? 1 : -1;
    return sign * compare(x, y);
  };
  if (by.type === 'parameter' && params.lifted.has(Number(by.name.slice(1)) - 1)) throw new NeedsLiteral();
  if (by.type === 'integer') {
    const i = by.value - 1;
    if (i < 0 || i >= p.columns.length) throw new AllotError(SqlState.invalidColumnReference, `ORDER BY position ${by.value} is not in select list`);
    return outputKey(p, i, cmpValues);
  }
  if (by.type === 'ref' && by.table === undefined) {
    const i = p.columns.findIndex((c) => c.name === by.name);
    if (i >= 0 && !scope.columns.some((c) => c.name === by.name)) return outputKey(p, i, cmpValues);
  }
  const e = compileExpr(by, scope, params);
  return { usesOutput: false, key: (src, _out, env) => e.eval(src, env), compare: cmpValues };
}

/** A key that is select-list column `i`: read off the projected row, or (a plain column) off the source row. */
function outputKey(p: Projection, i: number, compare: (x: Value, y: Value) => number): Order {
  const pick = p.picks?.[i];
  if (pick !== undefined) return { usesOutput: false, key: (src) => src[pick] ?? null, compare };
  return { usesOutput: true, key: (_src, out) => out![i] ?? null, compare };
}

/** Sorts by the keys computed for each item, ORDER BY's first key first. */
export function sortByKeys<T>(keyed: { item: T; keys: Value[] }[], order: readonly Order[]): { item: T; keys: Value[] }[] {
  return keyed.sort((a, b) => {
    for (let k = 0; k < order.length; k++) {
      const c = order[k]!.compare(a.keys[k]!, b.keys[k]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}
