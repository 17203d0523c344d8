/** Aggregates folded over a query's rows: count, min, max, sum, avg, bool_and/or, array_agg, string_agg. */
import { type Aggregate, coerce, compare, type EvalEnv, toBool } from '../expr.js';
import { formatValue, type Value } from '../types.js';
import { truthy } from './rows.js';

export function fold(agg: Aggregate, all: readonly Value[][], env: EvalEnv): Value {
  const rows = agg.filter === null ? all : all.filter((r) => truthy(agg.filter!.eval(r, env)));
  if (agg.arg === null) return rows.length;
  let vals = rows.map((r) => agg.arg!.eval(r, env)).filter((v) => v !== null);
  if (agg.distinct) {
    // Equal values (by type and text form) count once.
    const seen = new Set<string>();
    vals = vals.filter((v) => {
      const k = `${typeof v}:${String(formatValue(v))}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  switch (agg.fn) {
    case 'count':
      return vals.length;
    case 'min':
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
    case 'max':
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
    case 'sum':
      return vals.length === 0 ? null : vals.reduce<number>((a, b) => a + numberOf(b, 'sum argument'), 0);
    case 'avg':
      return vals.length === 0 ? null : vals.reduce<number>((a, b) => a + numberOf(b, 'avg argument'), 0) / vals.length;
    case 'bool_and':
    case 'every':
      return vals.length === 0 ? null : vals.every((v) => toBool(v));
    case 'bool_or':
      return vals.length === 0 ? null : vals.some((v) => toBool(v));
    case 'array_agg':
      // Nulls are kept in an array_agg; only the ones of the argument, not of the rows' filter.
      return rows.length === 0 ? null : rows.map((r) => agg.arg!.eval(r, env)).map((v) => (v === null ? null : String(formatValue(v))));
    case 'string_agg': {
      if (vals.length === 0) return null;
      const sep = agg.separator!.eval(all[0] ?? [], env);
      return vals.map((v) => String(formatValue(v))).join(sep === null ? '' : String(sep));
    }
  }
}

function numberOf(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return coerce(v, 'int', what) as number;
}
