/** What every read does to its result: WHERE's truth, LIMIT and OFFSET, the row limit, rows made lazily. */
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState } from '../../errors.js';
import { coerce, toBool } from '../expr.js';
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
    throw new AllotError(SqlState.programLimitExceeded, `the query matched ${n} rows; the limit is ${Limits.maxResultRows}`, { hint: 'Narrow it with WHERE or LIMIT.' });
  }
}

export function truthy(v: Value): boolean {
  return v !== null && toBool(v);
}

export function nonNegative(v: Value, what: string): number {
  if (v === null) return what === 'LIMIT' ? Infinity : 0;
  const n = coerce(v, 'int', what) as number;
  if (n < 0) throw new AllotError(SqlState.invalidRowCountInLimitClause, `${what} must not be negative`);
  return n;
}
