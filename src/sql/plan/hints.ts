/**
 * A WHERE read for what narrows a scan: its conjuncts, the ones of the form `col <op> constant`,
 * and the hints they make (ids, resource ids, a group, a parent, time bounds). The candidate
 * entities of a stored table follow from the hints; the full WHERE still decides.
 */
import type { Expr } from 'pgsql-ast-parser';
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState } from '../../errors.js';
import { type Compiled, compileExpr, type EvalEnv, inListItems, type ParamSlots, type Scope } from '../expr.js';
import type { ColumnDef } from '../tables/columns.js';
import { type StoredTable, StoredTables } from '../tables/index.js';
import type { Value } from '../types.js';
import type { ReadContext } from './index.js';

export function conjuncts(e: Expr | null | undefined): Expr[] {
  if (e === undefined || e === null) return [];
  if (e.type === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

export function andAll(parts: readonly Expr[]): Expr | null {
  return parts.reduce<Expr | null>((acc, e) => (acc === null ? e : { type: 'binary', op: 'AND', left: acc, right: e }), null);
}

/** `col = v`, `col IN (…)`, `col <op> v` with v constant or a parameter, either way round. */
interface Predicate {
  readonly column: string;
  readonly op: '=' | 'IN' | '<' | '<=' | '>' | '>=';
  readonly values: Compiled[];
}

const FLIP: Record<string, Predicate['op']> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Functions whose value may differ from one call to the next: never one value for a statement. */
const VOLATILE = new Set(['random', 'gen_random_uuid', 'clock_timestamp', 'timeofday', 'nextval', 'setval', 'random_normal']);

/**
 * Whether an expression reads no column and no subquery and calls nothing volatile: it has one
 * value per execution (`now()`, `interval '1 hour'`, `$1 + interval '1 day'`).
 */
function rowFree(x: unknown): boolean {
  if (Array.isArray(x)) return x.every(rowFree);
  if (x === null || typeof x !== 'object') return true;
  const node = x as { type?: unknown; function?: { name?: unknown } };
  if (node.type === 'ref' || node.type === 'select' || node.type === 'union' || node.type === 'union all' || node.type === 'with') return false;
  if (node.type === 'call' && typeof node.function?.name === 'string' && VOLATILE.has(node.function.name.toLowerCase())) return false;
  return Object.values(x).every(rowFree);
}

export function asPredicate(e: Expr, scope: Scope, params: ParamSlots): Predicate | null {
  if (e.type !== 'binary') return null;
  const col = scope.columns;
  const domainOf = (name: string): ColumnDef['domain'] | undefined => col.find((c) => c.name === name)?.domain;
  const valueFor = (x: Expr, name: string): Compiled | null => {
    // `col = ANY(…)` is a membership test, not a value: the full WHERE handles it.
    if (x.type === 'ref' || (x.type === 'call' && x.function.name.toLowerCase() === 'any')) return null;
    const c = compileExpr(x, scope, params, domainOf(name));
    return c.constant === true || rowFree(x) ? c : null;
  };
  if (e.op === 'IN' && e.left.type === 'ref') {
    const name = e.left.name;
    const values = inListItems(e.right).map((x) => valueFor(x, name));
    if (values.some((v) => v === null)) return null;
    if (values.length > Limits.maxIdsPerInList) {
      throw new AllotError(SqlState.programLimitExceeded, `IN list of ${values.length} values; the limit is ${Limits.maxIdsPerInList}`);
    }
    return { column: name, op: 'IN', values: values as Compiled[] };
  }
  const op = FLIP[e.op];
  if (op === undefined) return null;
  if (e.left.type === 'ref' && e.right.type !== 'ref') {
    const v = valueFor(e.right, e.left.name);
    return v === null ? null : { column: e.left.name, op: e.op as Predicate['op'], values: [v] };
  }
  if (e.right.type === 'ref' && e.left.type !== 'ref') {
    const v = valueFor(e.left, e.right.name);
    return v === null ? null : { column: e.right.name, op, values: [v] };
  }
  return null;
}

export interface Hints {
  ids: Compiled[] | null;
  resourceIds: Compiled[] | null;
  groupId: Compiled | null;
  parentId: Compiled | null;
  /** Bounds on start/end, used to narrow a per-resource scan: entries overlapping [lo, hi). */
  lo: { expr: Compiled; adjust: number }[];
  hi: { expr: Compiled; adjust: number }[];
}

export function extractHints(where: Expr | null | undefined, scope: Scope, params: ParamSlots): Hints {
  const h: Hints = { ids: null, resourceIds: null, groupId: null, parentId: null, lo: [], hi: [] };
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, scope, params);
    if (p === null) continue;
    const eqOrIn = p.op === '=' || p.op === 'IN';
    if (p.column === 'id' && eqOrIn) h.ids = p.values;
    else if (p.column === 'resource_id' && eqOrIn) h.resourceIds = p.values;
    else if (p.column === 'group_id' && p.op === '=') h.groupId = p.values[0]!;
    else if (p.column === 'parent_id' && p.op === '=') h.parentId = p.values[0]!;
    // An entry [s, e) with s >= A, s > A, e > A or e >= A ends after A - 1; with e <= B,
    // e < B, s < B or s <= B it starts before B + 1. The full WHERE still decides.
    else if ((p.column === 'start' || p.column === 'end') && (p.op === '>=' || p.op === '>')) h.lo.push({ expr: p.values[0]!, adjust: -1 });
    else if ((p.column === 'start' || p.column === 'end') && (p.op === '<=' || p.op === '<')) h.hi.push({ expr: p.values[0]!, adjust: 1 });
  }
  return h;
}

export function evalAll(xs: readonly Compiled[], env: EvalEnv): Value[] {
  return xs.map((x) => x.eval([], env));
}

function bound(list: Hints['lo'], env: EvalEnv, pick: (a: number, b: number) => number, fallback: number): number {
  let v = fallback;
  for (const b of list) {
    const x = b.expr.eval([], env);
    const n = typeof x === 'number' ? x : null;
    if (n !== null) v = pick(v, n + b.adjust);
  }
  return v;
}

/** Entities of one table and how a row is made of one: rows drawn lazily from them. */
export interface Drawn {
  readonly items: readonly unknown[];
  readonly row: (item: unknown) => Value[];
}

function drawn<T>(items: readonly T[], row: (x: T) => Value[]): Drawn {
  return { items, row: row as (item: unknown) => Value[] };
}

/** Candidate entities of an allot table, narrowed by the WHERE's index-friendly conjuncts. */
export function candidates(table: StoredTable, h: Hints, read: ReadContext, env: EvalEnv): Drawn {
  const { engine, now } = read;
  const ids = h.ids === null ? null : evalAll(h.ids, env).filter(isText);
  const lo = bound(h.lo, env, Math.max, -Infinity);
  const hi = bound(h.hi, env, Math.min, Infinity);
  const byResource = <T>(fn: (rid: string) => T[]): T[] | null => {
    if (h.resourceIds === null) return null;
    const rids = [...new Set(evalAll(h.resourceIds, env).filter(isText))];
    return rids.flatMap(fn);
  };
  const byId = <T>(get: (id: string) => T | undefined): T[] =>
    ids!.flatMap((id) => {
      const x = get(id);
      return x === undefined ? [] : [x];
    });
  const m = StoredTables[table];
  return drawn(m.candidates({ engine, now, hints: h, env, ids, lo, hi, byResource, byId }), m.row);
}

export function isText(v: Value): v is string {
  return typeof v === 'string';
}
