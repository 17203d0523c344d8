/** The shape of a system function, and small helpers for defining and calling them. */
import { AllotError, SqlState } from '../../errors.js';
import type { SqlType, Value } from '../types.js';
import type { SystemContext } from './context.js';
import type { SystemColumn } from './tables.js';

export interface SystemFunction {
  readonly name: string;
  /** How many arguments it takes: [min, max]. */
  readonly args: readonly [min: number, max: number];
  returns(argTypes: readonly SqlType[]): SqlType;
  /**
   * `argTypes`, when the caller has them, tells int2vector/oidvector (subscripts from 0) from
   * other arrays, and an oid from a name where both are numbers or text.
   */
  call(args: readonly Value[], ctx: SystemContext, argTypes?: readonly SqlType[]): Value;
  /** Null in gives null out without calling (default true), as a STRICT function. */
  readonly strict?: boolean;
}

export interface SystemTableFunction {
  readonly name: string;
  readonly args: readonly [number, number];
  columns(argTypes: readonly SqlType[]): readonly SystemColumn[];
  rows(args: readonly Value[], ctx: SystemContext, argTypes?: readonly SqlType[]): Value[][];
}

type Call = SystemFunction['call'];

/** A function with a fixed result type. */
export function fn(name: string, args: readonly [number, number], returns: SqlType, call: Call, strict = true): SystemFunction {
  return { name, args, returns: () => returns, call, strict };
}

/** An argument that must be a number (an oid, an int). */
export function num(v: Value | undefined, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  throw new AllotError(SqlState.datatypeMismatch, `${what} must be a number, not ${describe(v)}`);
}

/** An argument that must be text. */
export function text(v: Value | undefined, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new AllotError(SqlState.datatypeMismatch, `${what} must be text, not ${describe(v)}`);
}

/** An optional boolean argument (pretty, include implicit, …); absent or null is false. */
export function flag(v: Value | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  return ['t', 'true', 'on', 'yes', '1'].includes(String(v).toLowerCase());
}

/** An argument that must be an array. */
export function array(v: Value | undefined, what: string): readonly (string | null)[] {
  if (Array.isArray(v)) return v as readonly (string | null)[];
  throw new AllotError(SqlState.datatypeMismatch, `${what} must be an array, not ${describe(v)}`);
}

function describe(v: Value | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'NULL';
  return Array.isArray(v) ? 'an array' : typeof v;
}
