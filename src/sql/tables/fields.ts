/**
 * The values an INSERT row or an UPDATE's SET list gives, by column name, already read in their
 * columns' domains, and how a table module takes them out: absent, NULL or a value.
 */
import { AllotError, SqlState } from '../../errors.js';
import type { Value } from '../types.js';

/** Column name to value, for the columns the statement gives. */
export type Fields = Map<string, Value | undefined>;

export function text(f: Fields, name: string): string | null | undefined {
  const v = f.get(name);
  return v === undefined ? undefined : (v as string | null);
}

export function num(f: Fields, name: string): number | null | undefined {
  const v = f.get(name);
  return v === undefined ? undefined : (v as number | null);
}

export function required<T>(v: T | null | undefined, column: string): T {
  if (v === undefined || v === null) throw new AllotError(SqlState.notNullViolation, `null value in column "${column}" violates not-null constraint`);
  return v;
}

export function notNullIfGiven<T>(v: T | null | undefined, column: string): T | undefined {
  if (v === null) throw new AllotError(SqlState.notNullViolation, `null value in column "${column}" violates not-null constraint`);
  return v;
}

export function capsOf(f: Fields, name = 'capabilities'): readonly string[] | undefined {
  const v = f.get(name);
  if (v === undefined) return undefined;
  if (v === null) throw new AllotError(SqlState.notNullViolation, `null value in column "${name}" violates not-null constraint`);
  const xs = v as readonly (string | null)[];
  if (xs.some((x) => x === null)) throw new AllotError(SqlState.nullValueNotAllowed, `${name} must not contain NULL`);
  return xs as readonly string[];
}

export function idOf(f: Fields, newId: () => string): string {
  const v = f.get('id');
  if (v === undefined) return newId();
  return required(v as string | null, 'id');
}
