/** Hold and booking commands, and the placement check every new or moved entry passes. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { iso, placementError, quoteList } from '../conflicts.js';
import { Limits } from '../limits.js';
import { outageConflicts } from '../outages.js';
import { capacityConflicts, closedConflicts, isLive, missingCapabilities, offlineConflicts } from '../placement.js';
import { refusing, type OfferRequest } from '../offers.js';
import { policyConflicts, quotaConflicts } from '../policies.js';
import type { Booking, BookingFilter, BookingInput, BookingPatch, BookingTarget, CommandResult, Hold, Ms, Policy } from '../types.js';
import { checkEntryFields, checkId, checkInteger, checkOptionalId, checkTime, normaliseCapabilities, notNull, unknown } from '../validate.js';

export function placeHold(batch: Batch, input: Hold, now: Ms, restore: boolean, offers = true): CommandResult {
  const hold: Hold = { ...input, resourceId: sharedResourceId(batch, input.resourceId), capabilities: normaliseCapabilities(input.capabilities) };
  checkEntryFields('hold', hold);
  checkOptionalId('group_id', hold.groupId ?? null);
  checkTime('expires_at', hold.expiresAt);
  // Restored after its expiry, a hold would be gone at once: there is nothing to restore.
  if (restore && hold.expiresAt <= now) return { type: 'skipped' };
  if (hold.expiresAt <= now) {
    throw new AllotError(SqlState.invalidParameterValue, `hold "${hold.id}" would expire at ${iso(hold.expiresAt)}, which is not after now (${iso(now)})`);
  }
  const existing = batch.store.holds.get(hold.id);
  if (existing !== undefined) {
    if (isLive(existing, now)) {
      throw new AllotError(SqlState.uniqueViolation, `hold "${hold.id}" already exists`, { detail: `Key (id)=(${hold.id}) already exists.` });
    }
    batch.emit({ type: 'HoldReleased', hold: existing, reason: 'expired' });
  }
  refusing(
    offers && !restore,
    () => askOf(hold),
    () => checkPlacement(batch, 'hold', hold, now, undefined, restore),
  );
  batch.emit({ type: 'HoldPlaced', hold });
  return { type: 'holds', rows: [hold] };
}

export function releaseHold(batch: Batch, id: string, now: Ms): CommandResult {
  const h = batch.read.hold(id, now);
  if (h === undefined) return { type: 'holds', rows: [] };
  batch.emit({ type: 'HoldReleased', hold: h, reason: 'released' });
  return { type: 'holds', rows: [h] };
}

/** Releases every live hold of a group, in order of id. */
export function releaseHoldGroup(batch: Batch, groupId: string, now: Ms): CommandResult {
  const members = batch.read
    .liveHolds(now)
    .filter((h) => h.groupId === groupId)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const h of members) batch.emit({ type: 'HoldReleased', hold: h, reason: 'released' });
  return { type: 'holds', rows: members };
}

export function expireHolds(batch: Batch, limit: number, now: Ms): CommandResult {
  checkInteger('expire limit', limit, 1, Limits.maxBatchCommands);
  const due: Hold[] = [];
  batch.store.holdExpiry.startingBefore(now + 1, (x) => {
    due.push(batch.store.holds.get(x.id)!);
    return due.length < limit;
  });
  for (const h of due) batch.emit({ type: 'HoldReleased', hold: h, reason: 'expired' });
  return { type: 'count', count: due.length };
}
export function createBooking(batch: Batch, input: BookingInput, now: Ms, restore: boolean, offers = true): CommandResult {
  checkId('booking id', input.id);
  let hold: Hold | undefined;
  if (input.holdId !== undefined) {
    hold = batch.read.hold(input.holdId, now);
    if (hold === undefined) throw unknown('hold', input.holdId, 'hold_id', ' (holds vanish when they expire)');
  }
  const resourceId = input.resourceId ?? hold?.resourceId;
  const start = input.start ?? hold?.start;
  const end = input.end ?? hold?.end;
  if (resourceId === undefined) throw notNull('resource_id');
  if (start === undefined) throw notNull('start');
  if (end === undefined) throw notNull('end');
  const booking: Booking = {
    id: input.id,
    resourceId: sharedResourceId(batch, resourceId),
    start,
    end,
    label: input.label !== undefined ? input.label : (hold?.label ?? null),
    capabilities: normaliseCapabilities(input.capabilities ?? hold?.capabilities ?? []),
    userId: input.userId !== undefined ? input.userId : (hold?.userId ?? null),
    policyId: input.policyId !== undefined ? input.policyId : (hold?.policyId ?? null),
    groupId: input.groupId ?? hold?.groupId ?? null,
  };
  checkEntryFields('booking', booking);
  checkOptionalId('group_id', booking.groupId);
  if (batch.store.bookings.has(booking.id)) {
    throw new AllotError(SqlState.uniqueViolation, `booking "${booking.id}" already exists`, { detail: `Key (id)=(${booking.id}) already exists.` });
  }
  if (hold !== undefined) batch.emit({ type: 'HoldReleased', hold, reason: 'committed' });
  if (hold === undefined)
    refusing(
      offers && !restore,
      () => askOf(booking),
      () => checkPlacement(batch, 'booking', booking, now, undefined, restore),
    );
  else checkPlacement(batch, 'booking', booking, now, hold, restore);
  batch.emit({ type: 'BookingConfirmed', booking });
  return { type: 'bookings', rows: [booking] };
}

/** What a new entry asked for, for the offers its refusal carries. */
function askOf(e: Booking | Hold): OfferRequest {
  return { resourceId: e.resourceId, quantity: 1, start: e.start, end: e.end, capabilities: e.capabilities, userId: e.userId, policyId: e.policyId };
}

/**
 * The resource's own id string when it exists: an entry then shares it instead of keeping the
 * copy its statement built (a booking's share of memory, in every one of them).
 */
function sharedResourceId(batch: Batch, id: string): string {
  return batch.store.peekNode(id)?.resource.id ?? id;
}

function targetBookings(batch: Batch, target: BookingTarget): Booking[] {
  if ('id' in target) {
    const b = batch.store.bookings.get(target.id);
    return b === undefined ? [] : [b];
  }
  if ('groupId' in target) return batch.read.groupMembers(target.groupId);
  const f = target.filter;
  return filtered(f.resourceId === undefined ? batch.read.allBookings() : batch.read.bookingsOn(f.resourceId), f, 'bookings');
}

/** The entries of `pool` a filter names, in order of id; 54000 past the statement's row limit. */
function filtered<E extends Booking | Hold>(pool: readonly E[], f: BookingFilter, what: string): E[] {
  const found = pool
    .filter(
      (e) =>
        (f.resourceId === undefined || e.resourceId === f.resourceId) &&
        (f.userId === undefined || e.userId === f.userId) &&
        (f.policyId === undefined || e.policyId === f.policyId) &&
        (f.startFrom === undefined || e.start >= f.startFrom) &&
        (f.endTo === undefined || e.end <= f.endTo),
    )
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  if (found.length > Limits.maxBatchCommands) {
    throw new AllotError(
      SqlState.programLimitExceeded,
      `the statement would change ${found.length} ${what}; the limit is ${Limits.maxBatchCommands} per statement`,
      {
        hint: 'Narrow the WHERE (a resource, a user, a span), and change the rest in another statement.',
      },
    );
  }
  return found;
}

/** Releases every live hold a filter names, in order of id. */
export function releaseHolds(batch: Batch, filter: BookingFilter, now: Ms): CommandResult {
  const members = filtered(batch.read.liveHolds(now), filter, 'holds');
  for (const h of members) batch.emit({ type: 'HoldReleased', hold: h, reason: 'released' });
  return { type: 'holds', rows: members };
}

/**
 * Moves or edits bookings, all or nothing. The old versions are taken out first, so a
 * booking never collides with itself, and members of a group are checked against each
 * other's new places.
 */
export function updateBookings(batch: Batch, target: BookingTarget, common: BookingPatch, now: Ms, perRow?: (b: Booking) => BookingPatch): CommandResult {
  const olds = targetBookings(batch, target);
  if (olds.length === 0) return { type: 'bookings', rows: [] };
  const news: Booking[] = olds.map((o) => {
    const patch = perRow === undefined ? common : { ...common, ...perRow(o) };
    return {
      id: o.id,
      resourceId: patch.resourceId === undefined ? o.resourceId : sharedResourceId(batch, patch.resourceId),
      start: patch.start ?? o.start,
      end: patch.end ?? o.end,
      label: patch.label !== undefined ? patch.label : o.label,
      capabilities: normaliseCapabilities(patch.capabilities ?? o.capabilities),
      userId: patch.userId !== undefined ? patch.userId : o.userId,
      policyId: patch.policyId !== undefined ? patch.policyId : o.policyId,
      groupId: patch.groupId !== undefined ? patch.groupId : o.groupId,
    };
  });
  for (const b of news) {
    checkEntryFields('booking', b);
    checkOptionalId('group_id', b.groupId);
  }
  for (const o of olds) batch.store.removeBooking(o.id);
  news.forEach((b, i) => {
    checkPlacement(batch, 'booking', b, now, olds[i]);
    batch.store.addBooking(b);
    batch.record({ type: 'BookingUpdated', booking: b }, { type: 'BookingUpdated', booking: olds[i]! });
  });
  if (news.length > 1) checkGroupQuotas(batch, olds, news, now);
  return { type: 'bookings', rows: news };
}

/** Quotas of every user and policy whose usage a group move may have grown, on the result. */
function checkGroupQuotas(batch: Batch, olds: readonly Booking[], news: readonly Booking[], now: Ms): void {
  const pairs = new Map<string, { first: Booking; countsNew: boolean }>();
  news.forEach((b, i) => {
    if (b.userId === null || b.policyId === null) return;
    const o = olds[i]!;
    const counted = o.userId === b.userId && o.policyId === b.policyId && o.end > now;
    if (counted && o.end - o.start >= b.end - b.start) return;
    const key = `${b.userId}\0${b.policyId}`;
    const seen = pairs.get(key);
    if (seen === undefined) pairs.set(key, { first: b, countsNew: !counted });
    else if (!counted) seen.countsNew = true;
  });
  for (const { first, countsNew } of pairs.values()) {
    const limits = quotaConflicts(batch.store, batch.store.policies.get(first.policyId!)!, first.userId!, now, countsNew);
    if (limits.length > 0) throw placementError('booking', first, batch.store.mustNode(first.resourceId).resource, limits);
  }
}

export function cancelBookings(batch: Batch, target: BookingTarget): CommandResult {
  const olds = targetBookings(batch, target);
  for (const b of olds) batch.emit({ type: 'BookingCancelled', booking: b, reason: 'cancelled' });
  return { type: 'bookings', rows: olds };
}
/**
 * Refuses an entry that needs a missing capability (23514) or does not fit (23P01). A moved
 * entry (or a hold becoming a booking: `before` is what it was) may sit beyond an unplanned
 * outage's window; a new one may not sit anywhere in it. Its policy judges it as new, or for a
 * move only on what the move changes.
 */
export function checkPlacement(batch: Batch, kind: 'booking' | 'hold', e: Booking | Hold, now: Ms, before?: Booking | Hold, restore = false): void {
  const moving = before !== undefined;
  const node = batch.store.node(e.resourceId);
  if (node === undefined) throw unknown('resource', e.resourceId, 'resource_id');
  if (node.entries.size >= Limits.maxAllocationsPerResource) {
    throw new AllotError(SqlState.programLimitExceeded, `resource "${e.resourceId}" already holds ${Limits.maxAllocationsPerResource} entries, the limit`);
  }
  const missing = missingCapabilities(node.resource, e.capabilities);
  if (missing.length > 0) {
    throw new AllotError(
      SqlState.checkViolation,
      `${kind} "${e.id}" requires ${missing.length === 1 ? 'capability' : 'capabilities'} ${quoteList(missing)}, which resource "${e.resourceId}" does not have`,
      { detail: { missing, resource_id: e.resourceId, resource_capabilities: node.resource.capabilities } },
    );
  }
  let policy: Policy | undefined;
  if (e.policyId !== null) {
    policy = batch.store.policies.get(e.policyId);
    if (policy === undefined) throw unknown('policy', e.policyId, 'policy_id');
  }
  // Offline refuses what would newly take its time; an entry staying where it is (an edit, a
  // hold becoming its booking) and a restore are let be.
  const stays = before !== undefined && before.resourceId === e.resourceId && before.start === e.start && before.end === e.end;
  const offline = stays || restore ? [] : offlineConflicts(batch.store, e.resourceId);
  const closed = [...offline, ...closedConflicts(batch.store, e.resourceId, e.policyId, e.start, e.end)];
  const out = batch.store.outages.size === 0 ? [] : outageConflicts(batch.store, e, now, moving);
  const limits = policy === undefined || restore ? [] : policyConflicts(batch.store, policy, e, now, 1, before);
  const taken = capacityConflicts(node, e.start, e.end, now, null);
  if (closed.length > 0 || out.length > 0 || limits.length > 0 || taken.length > 0) {
    throw placementError(kind, e, node.resource, [...closed, ...out, ...limits, ...taken]);
  }
}
