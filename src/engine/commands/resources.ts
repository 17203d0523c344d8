/** Resource commands: create, change (capacity, buffers, capabilities, parent) and delete. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, describeConflicts, quoteList } from '../conflicts.js';
import { Limits } from '../limits.js';
import { underPlannedOutagesAbove } from '../outages.js';
import { chainOf, entryConflict, isLive, overCapacity } from '../placement.js';
import type { CommandResult, Conflict, Hold, Ms, Resource, ResourcePatch } from '../types.js';
import { checkResourceFields, normaliseCapabilities, unknown } from '../validate.js';
import { checkStranded } from './rules.js';

export function createResource(batch: Batch, input: Resource): CommandResult {
  const r: Resource = { ...input, capabilities: normaliseCapabilities(input.capabilities) };
  checkResourceFields(r);
  if (batch.store.resources.has(r.id)) {
    throw new AllotError(SqlState.uniqueViolation, `resource "${r.id}" already exists`, { detail: `Key (id)=(${r.id}) already exists.` });
  }
  if (r.parentId !== null) {
    if (!batch.store.resources.has(r.parentId)) throw unknown('resource', r.parentId, 'parent_id');
    const depth = chainOf(batch.store, r.parentId).length + 1;
    if (depth > Limits.maxTreeDepth) {
      throw new AllotError(SqlState.programLimitExceeded, `resource "${r.id}" would be ${depth} levels deep; the limit is ${Limits.maxTreeDepth}`);
    }
  }
  if (batch.store.resources.size >= Limits.maxResourcesPerTenant) {
    throw new AllotError(SqlState.programLimitExceeded, `this database already has ${Limits.maxResourcesPerTenant} resources, the limit`);
  }
  batch.emit({ type: 'ResourceCreated', resource: r });
  return { type: 'resources', rows: [r] };
}

export function updateResource(batch: Batch, id: string, patch: ResourcePatch, now: Ms): CommandResult {
  const node = batch.store.node(id);
  if (node === undefined) return { type: 'resources', rows: [] };
  const old = node.resource;
  const next: Resource = {
    id,
    parentId: patch.parentId !== undefined ? patch.parentId : old.parentId,
    name: patch.name !== undefined ? patch.name : old.name,
    capacity: patch.capacity ?? old.capacity,
    bufferBeforeMs: patch.bufferBeforeMs ?? old.bufferBeforeMs,
    bufferAfterMs: patch.bufferAfterMs ?? old.bufferAfterMs,
    capabilities: normaliseCapabilities(patch.capabilities ?? old.capabilities),
    status: patch.status ?? old.status ?? 'online',
    statusReason: patch.statusReason !== undefined ? patch.statusReason : (old.statusReason ?? null),
    poolStrategy: patch.poolStrategy ?? old.poolStrategy ?? 'id_order',
    poolCursor: patch.poolCursor !== undefined ? patch.poolCursor : (old.poolCursor ?? null),
  };
  checkResourceFields(next);
  const reparented = next.parentId !== old.parentId;
  if (reparented && next.parentId !== null) checkNewParent(batch, id, next.parentId);
  batch.emit({ type: 'ResourceUpdated', resource: next });

  if (next.capacity < old.capacity || next.bufferBeforeMs > old.bufferBeforeMs || next.bufferAfterMs > old.bufferAfterMs) {
    const over = overCapacity(node, next, now);
    if (over.length > 0) {
      throw new AllotError(
        SqlState.exclusionViolation,
        `resource "${id}" cannot take capacity ${next.capacity} with buffers ${next.bufferBeforeMs}/${next.bufferAfterMs} ms: ${describeConflicts(over)} would overlap beyond it`,
        { detail: conflictDetail(over) },
      );
    }
  }
  const dropped = old.capabilities.filter((c) => !next.capabilities.includes(c));
  if (dropped.length > 0) {
    const needing: Conflict[] = [];
    for (const e of node.entries) {
      if (isLive(e, now) && e.capabilities.some((c) => dropped.includes(c))) needing.push(entryConflict(e));
    }
    if (needing.length > 0) {
      throw new AllotError(
        SqlState.checkViolation,
        `resource "${id}" cannot drop capabilities ${dropped.join(', ')}: ${describeConflicts(needing)} require them`,
        { detail: conflictDetail(needing) },
      );
    }
  }
  if (reparented) {
    const what = `moving resource "${id}" under ${next.parentId === null ? 'no parent' : `"${next.parentId}"`}`;
    checkStranded(batch, id, null, 'all', now, what);
    // A planned outage refuses matching entries over it, whether they are booked there or brought there.
    const covered = underPlannedOutagesAbove(batch.store, id, now).map(entryConflict);
    if (covered.length > 0) {
      throw new AllotError(SqlState.exclusionViolation, `${what} would put ${describeConflicts(covered)} under a planned outage`, {
        detail: conflictDetail(covered),
      });
    }
  }
  return { type: 'resources', rows: [next] };
}

function checkNewParent(batch: Batch, id: string, parentId: string): void {
  if (!batch.store.resources.has(parentId)) throw unknown('resource', parentId, 'parent_id');
  const chain = chainOf(batch.store, parentId);
  if (chain.some((n) => n.resource.id === id)) {
    throw new AllotError(SqlState.invalidParameterValue, `resource "${id}" cannot be placed under "${parentId}": that would make it its own ancestor`);
  }
  const depth = chain.length + subtreeHeight(batch, id);
  if (depth > Limits.maxTreeDepth) {
    throw new AllotError(
      SqlState.programLimitExceeded,
      `moving resource "${id}" under "${parentId}" would make the tree ${depth} levels deep; the limit is ${Limits.maxTreeDepth}`,
    );
  }
}

function subtreeHeight(batch: Batch, id: string): number {
  const n = batch.store.mustNode(id);
  let h = 0;
  for (const c of n.children) h = Math.max(h, subtreeHeight(batch, c));
  return h + 1;
}

export function deleteResource(batch: Batch, id: string, now: Ms): CommandResult {
  const node = batch.store.node(id);
  if (node === undefined) return { type: 'resources', rows: [] };
  if (node.children.size > 0) {
    const kids = [...node.children].sort();
    throw new AllotError(SqlState.foreignKeyViolation, `resource "${id}" still has child resources: ${quoteList(kids)}`, {
      detail: { children: kids.slice(0, Limits.maxConflictsNamed), more: Math.max(0, kids.length - Limits.maxConflictsNamed) },
    });
  }
  const live: Conflict[] = [];
  const expired: Hold[] = [];
  for (const e of node.entries) {
    if (isLive(e, now)) live.push(entryConflict(e));
    else expired.push(e as Hold);
  }
  if (live.length > 0) {
    throw new AllotError(SqlState.foreignKeyViolation, `resource "${id}" still has ${describeConflicts(live)}`, { detail: conflictDetail(live) });
  }
  for (const h of expired) batch.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
  for (const r of node.allRules()) batch.emit({ type: 'RuleRemoved', rule: r });
  for (const sp of [...node.outages]) batch.emit({ type: 'OutageEnded', outage: sp.outage, reason: 'lifted' });
  batch.emit({ type: 'ResourceDeleted', resource: node.resource });
  return { type: 'resources', rows: [node.resource] };
}
