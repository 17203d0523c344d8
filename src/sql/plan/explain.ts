/**
 * The computed table availability_explain: `SELECT * FROM availability_explain WHERE
 * resource_id = … (or IN (…)) AND start >= … AND "end" <= … [AND capabilities = '{…}'] [AND
 * policy_id = P] [AND user_id = U]` gives every stretch of the window where a new entry could
 * not go, with what blocks it (engine/explain.ts). Conjuncts on other columns filter the rows.
 */
import type { Expr } from 'pgsql-ast-parser';
import { Limits } from '../../engine/limits.js';
import { AllotError, SqlState } from '../../errors.js';
import { coerce, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { Value } from '../types.js';
import { resourceIdsOf, windowKeys, windowOf } from './availability.js';
import { andAll, isText } from './hints.js';
import type { ReadContext } from './index.js';

const EXAMPLE = `SELECT * FROM availability_explain WHERE resource_id = 'room-1' AND start >= '2026-03-02 08:00Z' AND "end" <= '2026-03-02 18:00Z'`;

export function planExplain(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  const { resourceIdSets, starts, ends, options, rest } = windowKeys(where, scope, params, 'availability_explain', [
    { name: 'capabilities', type: 'text[]', domain: 'text[]' },
    { name: 'policy_id', type: 'text', domain: 'text' },
    { name: 'user_id', type: 'text', domain: 'text' },
  ]);
  if (resourceIdSets.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, 'availability_explain needs resource_id = … or resource_id IN (…)', { hint: EXAMPLE });
  }
  if (starts.length === 0 || ends.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, 'availability_explain needs a window: start >= … AND "end" <= …', { hint: EXAMPLE });
  }
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const window = windowOf(starts, ends, env, 'availability_explain bound');
    if (window === null) return [];
    const { start, end } = window;
    if (end - start > Limits.maxWindowMs) {
      throw new AllotError(SqlState.programLimitExceeded, `availability_explain window of ${end - start} ms; the limit is ${Limits.maxWindowMs} ms (732 days)`);
    }
    const capsValue = options.get('capabilities')?.eval([], env) ?? null;
    const capabilities = capsValue === null ? [] : (coerce(capsValue, 'text[]', 'capabilities') as readonly (string | null)[]).filter(isText);
    const policy = options.get('policy_id')?.eval([], env) ?? null;
    const user = options.get('user_id')?.eval([], env) ?? null;
    const out: Value[][] = [];
    for (const rid of [...new Set(resourceIdsOf(resourceIdSets, env))].sort()) {
      const blocked = read.engine.explainAvailability(
        { resourceId: rid, start, end, capabilities, policyId: isText(policy) ? policy : null, userId: isText(user) ? user : null },
        read.now,
      );
      for (const x of blocked) out.push([rid, x.start, x.end, x.reason, x.id, x.detail]);
    }
    return out;
  };
  return { rows, rest: andAll(rest) };
}
