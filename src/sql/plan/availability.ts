/**
 * The computed tables availability and policy_usage: what they are asked for (the window and
 * options, or the users) is read from the WHERE, and the rest of the WHERE filters their rows.
 */
import type { Expr } from 'pgsql-ast-parser';
import type { SpanMaker } from '../../engine/availability.js';
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { coerce, type Compiled, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { ColumnDef } from '../tables/columns.js';
import type { Value } from '../types.js';
import { andAll, asPredicate, conjuncts, evalAll, isText } from './hints.js';
import type { ReadContext } from './index.js';

/** What a WHERE asks availability for: the resources or pool, the window, and the options. */
interface AvailabilityKeys {
  /** Each resource_id condition is a set of ids; several must all hold, so they intersect. */
  readonly resourceIdSets: Compiled[][];
  readonly starts: Bound[];
  readonly ends: Bound[];
  readonly minDuration: Compiled | null;
  readonly minAvailable: Compiled | null;
  readonly capabilities: Compiled | null;
  readonly policy: Compiled | null;
  readonly pool: Compiled | null;
  /** The conjuncts that are none of these: they filter the rows. */
  readonly rest: Expr[];
}

/**
 * `SELECT … FROM availability WHERE resource_id = X (or IN (…)) AND start >= A AND "end" <= B
 * [AND min_duration = D] [AND min_available = N] [AND capabilities = '{…}'] [AND policy_id = P]`.
 * Conjuncts on other columns (free) filter the rows.
 */
export function planAvailability(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv, picks: readonly number[] | null) => Value[][]; rest: Expr | null } {
  const keys = availabilityKeys(where, scope, params);
  const remaining = andAll(keys.rest);
  const rows = (read: ReadContext, env: EvalEnv, picks: readonly number[] | null): Value[][] => availabilityRows(keys, read, env, picks);
  return { rows, rest: remaining };
}

function availabilityKeys(where: Expr | null | undefined, scope: Scope, params: ParamSlots): AvailabilityKeys {
  const keys = windowKeys(where, scope, params, 'availability', [
    { name: 'min_duration', type: 'int8', domain: 'duration' },
    { name: 'min_available', type: 'int8', domain: 'int' },
    { name: 'capabilities', type: 'text[]', domain: 'text[]' },
    { name: 'policy_id', type: 'text', domain: 'text' },
    { name: 'pool_id', type: 'text', domain: 'text' },
  ]);
  const { resourceIdSets, starts, ends, options, rest } = keys;
  const pool = options.get('pool_id') ?? null;
  if (resourceIdSets.length > 0 && pool !== null) throw new AllotError(SqlState.syntaxError, 'availability takes resource_id or pool_id, not both');
  if (resourceIdSets.length === 0 && pool === null) {
    throw new AllotError(SqlState.featureNotSupported, 'availability needs resource_id = …, resource_id IN (…) or pool_id = …', {
      hint: `SELECT * FROM availability WHERE resource_id = 'room-1' AND start >= 1772355600000 AND "end" <= 1772384400000`,
    });
  }
  if (starts.length === 0 || ends.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, 'availability needs a window: start >= … AND "end" <= …', {
      hint: `SELECT * FROM availability WHERE resource_id = 'room-1' AND start >= 1772355600000 AND "end" <= 1772384400000`,
    });
  }
  return {
    resourceIdSets,
    starts,
    ends,
    minDuration: options.get('min_duration') ?? null,
    minAvailable: options.get('min_available') ?? null,
    capabilities: options.get('capabilities') ?? null,
    policy: options.get('policy_id') ?? null,
    pool,
    rest,
  };
}

/** What a computed table's WHERE names: resource_id sets, the window's bounds, options (`name = …`), and the rest. */
export interface WindowKeys {
  /** Each resource_id condition is a set of ids; several must all hold, so they intersect. */
  readonly resourceIdSets: Compiled[][];
  readonly starts: Bound[];
  readonly ends: Bound[];
  readonly options: ReadonlyMap<string, Compiled>;
  /** The conjuncts that are none of these: they filter the rows. */
  readonly rest: Expr[];
}

/**
 * Reads `resource_id = …` (or `IN (…)`), `start >= …` (or `>`), `"end" <= …` (or `<`) and each
 * option (a pseudo-column taken only as `option = …`) from a WHERE; the rest filters the rows.
 */
export function windowKeys(where: Expr | null | undefined, scope: Scope, params: ParamSlots, table: string, options: readonly ColumnDef[]): WindowKeys {
  const keyScope: Scope = { columns: [...scope.columns, ...options], qualifiers: scope.qualifiers };
  const names = new Set(options.map((o) => o.name));
  const resourceIdSets: Compiled[][] = [];
  const starts: Bound[] = [];
  const ends: Bound[] = [];
  const given = new Map<string, Compiled>();
  const rest: Expr[] = [];
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, keyScope, params);
    const one = p?.values[0];
    if (p === null || one === undefined) rest.push(c);
    else if (p.column === 'resource_id' && (p.op === '=' || p.op === 'IN')) resourceIdSets.push(p.values);
    else if (p.column === 'start' && (p.op === '>=' || p.op === '>')) starts.push({ e: one, adjust: p.op === '>' ? 1 : 0 });
    else if (p.column === 'end' && (p.op === '<=' || p.op === '<')) ends.push({ e: one, adjust: p.op === '<' ? -1 : 0 });
    else if (names.has(p.column)) {
      if (p.op !== '=') throw unsupported(`${table} takes ${p.column} only as ${p.column} = …`);
      given.set(p.column, one);
    } else rest.push(c);
  }
  return { resourceIdSets, starts, ends, options: given, rest };
}

/** One execution's availability rows: the window and options evaluated, then the engine's answer. */
function availabilityRows(keys: AvailabilityKeys, read: ReadContext, env: EvalEnv, picks: readonly number[] | null): Value[][] {
  const { minDuration, minAvailable, capabilities, policy } = keys;
  const num = (x: Compiled): number | null => {
    const v = x.eval([], env);
    return v === null ? null : (coerce(v, 'int', 'availability bound') as number);
  };
  const window = windowOf(keys.starts, keys.ends, env, 'availability bound');
  if (window === null) return [];
  const { start, end } = window;
  const md = minDuration === null ? undefined : (num(minDuration) ?? undefined);
  const ma = minAvailable === null ? undefined : (num(minAvailable) ?? undefined);
  const capsValue = capabilities === null ? null : capabilities.eval([], env);
  const caps =
    capsValue === null ? undefined : (coerce(capsValue, 'text[]', 'capabilities') as readonly (string | null)[]).filter((x): x is string => x !== null);
  const rids = availabilityResources(keys, caps, read, env);
  if (rids.length === 0) return [];
  if (ma !== undefined && ma > rids.length) return [];
  const pol = policy === null ? undefined : policy.eval([], env);
  const answer = read.engine.availabilityWith(
    {
      resourceIds: rids,
      start,
      end,
      ...(md !== undefined ? { minDurationMs: md } : {}),
      ...(ma !== undefined ? { minAvailable: ma } : {}),
      ...(caps !== undefined ? { capabilities: caps } : {}),
      ...(typeof pol === 'string' ? { policyId: pol } : {}),
    },
    read.now,
    availabilityRow(picks),
  );
  // The engine made these lists for this query alone: they are the rows.
  if (answer.merged) return answer.spans as Value[][];
  if (answer.perResource.length === 1) return answer.perResource[0]!.spans as Value[][];
  const out: Value[][] = [];
  for (const r of answer.perResource) for (const row of r.spans) out.push(row);
  return out;
}

/** The resources asked about: every resource_id set's, or the pool's members that have `caps`. */
function availabilityResources(keys: AvailabilityKeys, caps: readonly string[] | undefined, read: ReadContext, env: EvalEnv): string[] {
  const { resourceIdSets } = keys;
  let rids: string[];
  if (resourceIdSets.length > 0) {
    rids = resourceIdsOf(resourceIdSets, env);
  } else {
    // A pool stands for its members that have the capabilities, as a pool booking picks them.
    const pid = keys.pool!.eval([], env);
    rids = isText(pid) ? read.engine.poolMembers(pid, caps ?? []).map((r) => r.id) : [];
    if (rids.length > Limits.maxIdsPerInList) {
      throw new AllotError(
        SqlState.programLimitExceeded,
        `pool "${String(pid)}" has ${rids.length} members; availability takes at most ${Limits.maxIdsPerInList} at once`,
      );
    }
  }
  return rids;
}

/** A bound of a computed table's window: `start >= e` (or `"end" <= e`), moved by `adjust` for `>` and `<`. */
export interface Bound {
  readonly e: Compiled;
  readonly adjust: number;
}

/** The window the bounds give for one execution: the latest start and earliest end, or null when empty or open. */
export function windowOf(starts: readonly Bound[], ends: readonly Bound[], env: EvalEnv, what: string): { start: number; end: number } | null {
  const num = (x: Compiled): number | null => {
    const v = x.eval([], env);
    return v === null ? null : (coerce(v, 'int', what) as number);
  };
  let start = Number.NEGATIVE_INFINITY;
  for (const s of starts) start = Math.max(start, (num(s.e) ?? Number.NEGATIVE_INFINITY) + s.adjust);
  let end = Number.POSITIVE_INFINITY;
  for (const e of ends) end = Math.min(end, (num(e.e) ?? Number.POSITIVE_INFINITY) + e.adjust);
  return start < end && Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null;
}

/** A per-resource computed table's WHERE must name resources and a window: refused (0A000) without. */
export function requireResourcesAndWindow(keys: WindowKeys, table: string, example: string): void {
  if (keys.resourceIdSets.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, `${table} needs resource_id = … or resource_id IN (…)`, { hint: example });
  }
  if (keys.starts.length === 0 || keys.ends.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, `${table} needs a window: start >= … AND "end" <= …`, { hint: example });
  }
}

/** `windowOf` for one execution, refused (54000) past `Limits.maxWindowMs`. */
export function boundedWindowOf(keys: WindowKeys, env: EvalEnv, table: string): { start: number; end: number } | null {
  const window = windowOf(keys.starts, keys.ends, env, `${table} bound`);
  if (window !== null && window.end - window.start > Limits.maxWindowMs) {
    throw new AllotError(SqlState.programLimitExceeded, `${table} window of ${window.end - window.start} ms; the limit is ${Limits.maxWindowMs} ms (732 days)`);
  }
  return window;
}

/** The resource ids every `resource_id = …` / `IN (…)` condition allows (several intersect). */
export function resourceIdsOf(sets: readonly Compiled[][], env: EvalEnv): string[] {
  let rids = evalAll(sets[0] ?? [], env).filter(isText);
  for (const more of sets.slice(1)) {
    const also = new Set(evalAll(more, env).filter(isText));
    rids = rids.filter((id) => also.has(id));
  }
  return rids;
}

/**
 * Rows of availability: (resource_id, start, end, free), or only the columns `picks` names, in
 * its order, so a plain select list costs no second array per row.
 */
function availabilityRow(picks: readonly number[] | null): SpanMaker<Value[]> {
  if (picks === null) return (rid, start, end, free) => [rid, start, end, free];
  // Up to four columns the row is one literal, which V8 makes an array of doubles from the start
  // when it holds only numbers; a fresh array filled in (or picks.map) starts as small integers
  // and is reallocated when the first time goes in, about 40 bytes more garbage a row.
  const [c0, c1, c2, c3] = picks;
  switch (picks.length) {
    case 1:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free)];
    case 2:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free), pick(c1!, rid, start, end, free)];
    case 3:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free), pick(c1!, rid, start, end, free), pick(c2!, rid, start, end, free)];
    case 4:
      return (rid, start, end, free) => [
        pick(c0!, rid, start, end, free),
        pick(c1!, rid, start, end, free),
        pick(c2!, rid, start, end, free),
        pick(c3!, rid, start, end, free),
      ];
  }
  return (rid, start, end, free) => picks.map((c) => pick(c, rid, start, end, free));
}

/** Column `c` (0 resource_id, 1 start, 2 end, 3 free) of an availability row. */
function pick(c: number, resourceId: string | null, start: number, end: number, free: number): Value {
  return c === 1 ? start : c === 2 ? end : c === 3 ? free : resourceId;
}

/**
 * `SELECT … FROM policy_usage [WHERE user_id = U (or IN (…))] [AND policy_id = P (or IN (…))]`:
 * with users named, one row per user and (named, or every) policy, zeros included; without, one
 * row per user and policy with live or future entries. Other conjuncts filter the rows.
 */
export function planPolicyUsage(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  let users: Compiled[] | null = null;
  let policies: Compiled[] | null = null;
  const rest: Expr[] = [];
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, scope, params);
    if (p !== null && p.column === 'user_id' && (p.op === '=' || p.op === 'IN')) users = p.values;
    else if (p !== null && p.column === 'policy_id' && (p.op === '=' || p.op === 'IN')) policies = p.values;
    else rest.push(c);
  }
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const { engine, now } = read;
    const wantedPolicies = policies === null ? null : new Set(evalAll(policies, env).filter(isText));
    let pairs: { userId: string; policyId: string }[];
    if (users !== null) {
      const policyIds = wantedPolicies === null ? engine.allPolicies().map((x) => x.id) : [...wantedPolicies];
      pairs = [...new Set(evalAll(users, env).filter(isText))].flatMap((userId) => policyIds.map((policyId) => ({ userId, policyId })));
    } else {
      pairs = engine.usageKeys().filter((k) => wantedPolicies === null || wantedPolicies.has(k.policyId));
    }
    const out: Value[][] = [];
    for (const { userId, policyId } of pairs) {
      const policy = engine.policy(policyId);
      if (policy === undefined) continue;
      const { count, usageMs } = engine.usage(userId, policyId, now);
      if (users === null && count === 0) continue;
      out.push([
        userId,
        policyId,
        count,
        usageMs,
        policy.maxBookings === null ? null : Math.max(0, policy.maxBookings - count),
        policy.maxUsageMs === null ? null : Math.max(0, policy.maxUsageMs - usageMs),
      ]);
    }
    return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0));
  };
  return { rows, rest: andAll(rest) };
}
