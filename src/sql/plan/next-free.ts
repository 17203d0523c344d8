/**
 * The computed table next_free: `SELECT * FROM next_free WHERE resource_id = X (or pool_id = P)
 * AND duration = D AND after = T [AND quantity = k] [AND capabilities = '{…}'] [AND policy_id =
 * P] [AND user_id = U] LIMIT n` gives the first n spans of length D, from T on and back to back,
 * where a booking would fit (for a pool: k members at once). Other conjuncts filter the rows.
 */
import type { Expr } from 'pgsql-ast-parser';
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { coerce, compileExpr, type Compiled, EMPTY_SCOPE, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { Value } from '../types.js';
import { andAll, asPredicate, conjuncts, isText } from './hints.js';
import type { ReadContext } from './index.js';

const EXAMPLE = `SELECT * FROM next_free WHERE resource_id = 'room-1' AND duration = interval '1 hour' AND after = now() LIMIT 3`;
/** Spans made without a LIMIT, and the most a LIMIT (with its OFFSET) may ask for. */
const DEFAULT_ROWS = 10;
const MAX_ROWS = 1_000;

const KEYS = ['resource_id', 'pool_id', 'duration', 'after', 'quantity', 'capabilities', 'policy_id', 'user_id'] as const;
type Key = (typeof KEYS)[number];

export function planNextFree(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
  limit: { limit?: Expr | null; offset?: Expr | null } | null | undefined,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  const keyScope: Scope = {
    columns: [
      ...scope.columns.filter((c) => c.name !== 'resource_id' && c.name !== 'pool_id'),
      { name: 'resource_id', type: 'text', domain: 'text' },
      { name: 'pool_id', type: 'text', domain: 'text' },
      { name: 'duration', type: 'int8', domain: 'duration' },
      { name: 'after', type: 'int8', domain: 'time' },
      { name: 'quantity', type: 'int8', domain: 'int' },
      { name: 'capabilities', type: 'text[]', domain: 'text[]' },
      { name: 'policy_id', type: 'text', domain: 'text' },
      { name: 'user_id', type: 'text', domain: 'text' },
    ],
    qualifiers: scope.qualifiers,
  };
  const keys = new Map<Key, Compiled>();
  const rest: Expr[] = [];
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, keyScope, params);
    const one = p?.values[0];
    if (p === null || one === undefined || !(KEYS as readonly string[]).includes(p.column)) rest.push(c);
    else if (p.op === '=' && p.values.length === 1) keys.set(p.column as Key, one);
    else throw unsupported(`next_free takes ${p.column} only as ${p.column} = …`, EXAMPLE);
  }
  if (keys.has('resource_id') === keys.has('pool_id')) {
    throw new AllotError(SqlState.featureNotSupported, 'next_free needs resource_id = … or pool_id = … (one of them)', { hint: EXAMPLE });
  }
  for (const k of ['duration', 'after'] as const) {
    if (!keys.has(k)) throw new AllotError(SqlState.featureNotSupported, `next_free needs ${k} = …`, { hint: EXAMPLE });
  }
  const count = limit?.limit != null ? compileExpr(limit.limit, EMPTY_SCOPE, params, 'int') : null;
  const skip = limit?.offset != null ? compileExpr(limit.offset, EMPTY_SCOPE, params, 'int') : null;
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const val = (k: Key): Value => keys.get(k)?.eval([], env) ?? null;
    const int = (v: Value, what: string): number | null => (v === null ? null : (coerce(v, 'int', what) as number));
    const rid = val('resource_id');
    const pid = val('pool_id');
    const duration = int(val('duration'), 'duration');
    const after = int(val('after'), 'after');
    // NULL asks for nothing, as a comparison with NULL matches nothing.
    if ((keys.has('resource_id') ? !isText(rid) : !isText(pid)) || duration === null || after === null) return [];
    const quantity = keys.has('quantity') ? int(val('quantity'), 'quantity') : 1;
    if (quantity === null) return [];
    if (!Number.isSafeInteger(duration) || duration <= 0 || duration > Limits.maxWindowMs - 2 * Limits.offerHorizonMs) {
      throw new AllotError(
        SqlState.invalidParameterValue,
        `next_free duration must be above 0 and at most ${Limits.maxWindowMs - 2 * Limits.offerHorizonMs} ms, not ${duration}`,
      );
    }
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > Limits.maxBatchCommands) {
      throw new AllotError(SqlState.invalidParameterValue, `next_free quantity must be between 1 and ${Limits.maxBatchCommands}, not ${quantity}`);
    }
    if (keys.has('pool_id') === false && quantity !== 1) throw new AllotError(SqlState.invalidParameterValue, 'next_free takes quantity only with pool_id');
    const wanted =
      count === null
        ? DEFAULT_ROWS
        : Math.max(0, int(count.eval([], env), 'LIMIT') ?? DEFAULT_ROWS) + Math.max(0, int(skip?.eval([], env) ?? null, 'OFFSET') ?? 0);
    if (wanted > MAX_ROWS) {
      throw new AllotError(SqlState.programLimitExceeded, `next_free makes at most ${MAX_ROWS} spans (LIMIT and OFFSET together), not ${wanted}`);
    }
    const capsValue = val('capabilities');
    const capabilities = capsValue === null ? [] : (coerce(capsValue, 'text[]', 'capabilities') as readonly (string | null)[]).filter(isText);
    const policy = val('policy_id');
    const user = val('user_id');
    const spans = read.engine.nextFree(
      {
        ...(isText(rid) ? { resourceId: rid } : { poolId: pid as string }),
        quantity,
        start: after,
        end: after + duration,
        capabilities,
        policyId: isText(policy) ? policy : null,
        userId: isText(user) ? user : null,
      },
      after,
      wanted,
      read.now,
    );
    return spans.map((s) => [s.resource_id ?? null, s.pool_id ?? null, s.start, s.end]);
  };
  return { rows, rest: andAll(rest) };
}
