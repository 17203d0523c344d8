/**
 * The computed table availability_explain: `SELECT * FROM availability_explain WHERE
 * resource_id = … (or IN (…)) AND start >= … AND "end" <= … [AND capabilities = '{…}'] [AND
 * policy_id = P] [AND user_id = U]` gives every stretch of the window where a new entry could
 * not go, with what blocks it (engine/explain.ts). Conjuncts on other columns filter the rows.
 */
import type { Expr } from 'pgsql-ast-parser';
import { coerce, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { Value } from '../types.js';
import { boundedWindowOf, requireResourcesAndWindow, resourceIdsOf, windowKeys } from './availability.js';
import { andAll, isText } from './hints.js';
import type { ReadContext } from './index.js';

const EXAMPLE = `SELECT * FROM availability_explain WHERE resource_id = 'room-1' AND start >= '2026-03-02 08:00Z' AND "end" <= '2026-03-02 18:00Z'`;

export function planExplain(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  const keys = windowKeys(where, scope, params, 'availability_explain', [
    { name: 'capabilities', type: 'text[]', domain: 'text[]' },
    { name: 'policy_id', type: 'text', domain: 'text' },
    { name: 'user_id', type: 'text', domain: 'text' },
  ]);
  requireResourcesAndWindow(keys, 'availability_explain', EXAMPLE);
  const { resourceIdSets, options, rest } = keys;
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const window = boundedWindowOf(keys, env, 'availability_explain');
    if (window === null) return [];
    const { start, end } = window;
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
