/** What every read does to its result: WHERE's truth, LIMIT and OFFSET, the row limit, rows made lazily. */
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState } from '../../errors.js';
import { coerce, toBool, type Compiled, type EvalEnv } from '../expr.js';
import type { Value } from '../types.js';
import type { ResultRows } from './index.js';

/**
 * Rows made on demand from entities picked at one instant. Entities never change (a change
 * makes a new one), so a row made later, while the reply drains, is the row of that instant.
 */
export class LazyRows<T> implements ResultRows {
  constructor(
    private readonly items: readonly T[],
    private readonly make: (item: T) => Value[],
  ) {}

  get length(): number {
    return this.items.length;
  }

  at(i: number): Value[] | undefined {
    const x = this.items[i];
    return x === undefined ? undefined : this.make(x);
  }
}

/** Refuses a result of more than Limits.maxResultRows rows; returns it otherwise. */
export function tooMany(rows: Value[][]): Value[][] {
  tooManyRows(rows.length);
  return rows;
}

export function tooManyRows(n: number): void {
  if (n > Limits.maxResultRows) {
    throw new AllotError(SqlState.programLimitExceeded, `the query matched ${n} rows; the limit is ${Limits.maxResultRows}`, {
      hint: 'Narrow it with WHERE or LIMIT.',
    });
  }
}

export function truthy(v: Value): boolean {
  return v !== null && toBool(v);
}

function nonNegative(v: Value, what: string): number {
  if (v === null) return what === 'LIMIT' ? Infinity : 0;
  const n = coerce(v, 'int', what) as number;
  if (n < 0) throw new AllotError(SqlState.invalidRowCountInLimitClause, `${what} must not be negative`);
  return n;
}

/** OFFSET and LIMIT of one execution: 0 and Infinity where not given. */
export function offsetAndLimit(offset: Compiled | null, limit: Compiled | null, env: EvalEnv): { off: number; lim: number } {
  const off = offset === null ? 0 : nonNegative(offset.eval([], env), 'OFFSET');
  const lim = limit === null ? Infinity : nonNegative(limit.eval([], env), 'LIMIT');
  return { off, lim };
}
