/** Policy commands: create, change and delete per-user policies. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, describeConflicts } from '../conflicts.js';
import { entryConflict, isLive } from '../placement.js';
import type { CommandResult, Conflict, Hold, Ms, Policy, PolicyPatch } from '../types.js';
import { checkPolicyFields } from '../validate.js';

export function createPolicy(batch: Batch, p: Policy): CommandResult {
  checkPolicyFields(p);
  if (batch.store.policies.has(p.id)) {
    throw new AllotError(SqlState.uniqueViolation, `policy "${p.id}" already exists`, { detail: `Key (id)=(${p.id}) already exists.` });
  }
  batch.emit({ type: 'PolicyCreated', policy: p });
  return { type: 'policies', rows: [p] };
}

/** New limits apply to new bookings; existing ones stay. */
export function updatePolicy(batch: Batch, id: string, patch: PolicyPatch): CommandResult {
  const old = batch.store.policies.get(id);
  if (old === undefined) return { type: 'policies', rows: [] };
  const next: Policy = { ...old, ...patch, id };
  checkPolicyFields(next);
  batch.emit({ type: 'PolicyUpdated', policy: next });
  return { type: 'policies', rows: [next] };
}

export function deletePolicy(batch: Batch, id: string, now: Ms): CommandResult {
  const p = batch.store.policies.get(id);
  if (p === undefined) return { type: 'policies', rows: [] };
  const naming: Conflict[] = [];
  const expired: Hold[] = [];
  for (const b of batch.store.bookings.values()) if (b.policyId === id) naming.push(entryConflict(b));
  for (const h of batch.store.holds.values()) {
    if (h.policyId !== id) continue;
    if (isLive(h, now)) naming.push(entryConflict(h));
    else expired.push(h);
  }
  for (const r of batch.store.rules.values())
    if (r.policyId === id) naming.push({ kind: 'rule', id: r.id, resource_id: r.resourceId, start: r.start, end: r.end });
  if (naming.length > 0) {
    throw new AllotError(SqlState.foreignKeyViolation, `policy "${id}" is still named by ${describeConflicts(naming)}`, { detail: conflictDetail(naming) });
  }
  for (const h of expired) batch.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
  batch.emit({ type: 'PolicyDeleted', policy: p });
  return { type: 'policies', rows: [p] };
}
