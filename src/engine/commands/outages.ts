/** Outage commands: declare, change and lift outages, and the reaper's turn that evicts and ends them. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, describeConflicts } from '../conflicts.js';
import { Limits } from '../limits.js';
import { closedRange, evictionZone, matchingEntries } from '../outages.js';
import { entryConflict } from '../placement.js';
import { isHold } from '../state.js';
import type { CommandResult, Ms, Outage, OutagePatch } from '../types.js';
import { checkInteger, checkOutageFields, checkTime, normaliseCapabilities, unknown } from '../validate.js';

export function createOutage(batch: Batch, input: Outage, now: Ms, restore: boolean): CommandResult {
  const o: Outage = { ...input, capabilities: normaliseCapabilities(input.capabilities), declaredAt: restore ? input.declaredAt : now };
  checkOutageFields(o);
  checkTime('declared_at', o.declaredAt);
  if (batch.store.outages.has(o.id)) {
    throw new AllotError(SqlState.uniqueViolation, `outage "${o.id}" already exists`, { detail: `Key (id)=(${o.id}) already exists.` });
  }
  const node = batch.store.node(o.resourceId);
  if (node === undefined) throw unknown('resource', o.resourceId, 'resource_id');
  if (node.outages.size >= Limits.maxOutagesPerResource) {
    throw new AllotError(SqlState.programLimitExceeded, `resource "${o.resourceId}" already has ${Limits.maxOutagesPerResource} outages, the limit`);
  }
  if (o.kind === 'planned') refuseOverlapping(batch, o, now, `planned outage "${o.id}"`);
  batch.emit({ type: 'OutageStarted', outage: o });
  if (!restore) evict(batch, o, now, Infinity);
  return { type: 'outages', rows: [o] };
}

export function updateOutage(batch: Batch, id: string, patch: OutagePatch, now: Ms): CommandResult {
  const old = batch.store.outages.get(id);
  if (old === undefined) return { type: 'outages', rows: [] };
  const next: Outage = {
    ...old,
    start: patch.start ?? old.start,
    end: patch.end !== undefined ? patch.end : old.end,
    slidingWindowMs: patch.slidingWindowMs !== undefined ? patch.slidingWindowMs : old.slidingWindowMs,
    capabilities: normaliseCapabilities(patch.capabilities ?? old.capabilities),
    reason: patch.reason !== undefined ? patch.reason : old.reason,
  };
  checkOutageFields(next);
  batch.emit({ type: 'OutageUpdated', outage: next });
  if (next.kind === 'planned') refuseOverlapping(batch, next, now, `changing planned outage "${id}"`);
  evict(batch, next, now, Infinity);
  return { type: 'outages', rows: [next] };
}

export function deleteOutage(batch: Batch, id: string): CommandResult {
  const o = batch.store.outages.get(id);
  if (o === undefined) return { type: 'outages', rows: [] };
  batch.emit({ type: 'OutageEnded', outage: o, reason: 'lifted' });
  return { type: 'outages', rows: [o] };
}

/** A planned outage may not be placed over entries it matches: refuses, naming them all. */
function refuseOverlapping(batch: Batch, o: Outage, now: Ms, what: string): void {
  const range = closedRange(o, now, false)!;
  const inTheWay = matchingEntries(batch.store, o, range.start, range.end, now);
  if (inTheWay.length > 0) {
    const named = inTheWay.map(entryConflict);
    throw new AllotError(SqlState.exclusionViolation, `${what} overlaps ${describeConflicts(named)}: move or cancel them first`, {
      detail: conflictDetail(named),
    });
  }
}

/** Evicts, up to `limit`, the entries an unplanned outage's window covers at `now`. */
function evict(batch: Batch, o: Outage, now: Ms, limit: number): number {
  const zone = evictionZone(o, now);
  if (zone === null || limit <= 0) return 0;
  const due = matchingEntries(batch.store, o, zone.start, zone.end, now).slice(0, limit === Infinity ? undefined : limit);
  for (const e of due) {
    if (isHold(e)) batch.emit({ type: 'HoldReleased', hold: e, reason: 'evicted', outageId: o.id });
    else batch.emit({ type: 'BookingCancelled', booking: e, reason: 'evicted', outageId: o.id });
  }
  return due.length;
}

/** The reaper's turn: outages whose end has passed are over; windows evict what they reached. */
export function applyOutages(batch: Batch, limit: number, now: Ms): CommandResult {
  checkInteger('outage limit', limit, 1, Limits.maxBatchCommands);
  let done = 0;
  for (const o of [...batch.store.outages.values()]) {
    if (done >= limit) break;
    // Whatever its window reached before the end is evicted first.
    done += evict(batch, o, now, limit - done);
    if (done >= limit) break;
    if (o.end !== null && o.end <= now) {
      batch.emit({ type: 'OutageEnded', outage: o, reason: 'ended' });
      done++;
    }
  }
  return { type: 'count', count: done };
}
