/** Booking from a pool: the first members by id where a booking fits. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, iso, policyReasons, quoteList } from '../conflicts.js';
import { Limits } from '../limits.js';
import { policyConflicts } from '../policies.js';
import type { Booking, CommandResult, Ms, PoolRequest } from '../types.js';
import { checkCapabilities, checkId, checkInteger, checkLabel, checkOptionalId, checkSpan, normaliseCapabilities, unknown } from '../validate.js';
import { checkPlacement } from './entries.js';

/**
 * Books `ids.length` distinct descendants of the pool that have every required capability
 * and where a booking fits (rules, outages, policy, capacity), trying them in order of id:
 * the choice is deterministic. All or nothing.
 */
export function bookFromPool(batch: Batch, req: PoolRequest, now: Ms): CommandResult {
  const wanted = req.ids.length;
  checkInteger('quantity', wanted, 1, Limits.maxBatchCommands);
  for (const id of req.ids) checkId('booking id', id);
  checkId('pool_id', req.poolId);
  checkSpan('booking', req.start, req.end);
  checkLabel('label', req.label);
  checkCapabilities('booking', req.capabilities);
  checkOptionalId('user_id', req.userId);
  checkOptionalId('policy_id', req.policyId);
  checkOptionalId('group_id', req.groupId);
  if (!batch.store.resources.has(req.poolId)) throw unknown('resource', req.poolId, 'pool_id');
  const given = new Set<string>();
  for (const id of req.ids) {
    if (batch.store.bookings.has(id) || given.has(id))
      throw new AllotError(SqlState.uniqueViolation, `booking "${id}" already exists`, { detail: `Key (id)=(${id}) already exists.` });
    given.add(id);
  }
  // Limits of the policy hold for every candidate alike: refuse for them, not for the pool.
  if (req.policyId !== null) {
    const policy = batch.store.policies.get(req.policyId);
    if (policy === undefined) throw unknown('policy', req.policyId, 'policy_id');
    const limits = policyConflicts(batch.store, policy, req, now, wanted);
    if (limits.length > 0) {
      throw new AllotError(
        SqlState.exclusionViolation,
        `cannot book ${wanted} from pool "${req.poolId}" [${iso(req.start)}, ${iso(req.end)}): ${policyReasons(limits).join('; ')}`,
        { detail: conflictDetail(limits) },
      );
    }
  }
  const capabilities = normaliseCapabilities(req.capabilities);
  const candidates = batch.read.poolMembers(req.poolId, capabilities);
  const made: Booking[] = [];
  for (const member of candidates) {
    if (made.length === wanted) break;
    const booking: Booking = {
      id: req.ids[made.length]!,
      resourceId: member.id,
      start: req.start,
      end: req.end,
      label: req.label,
      capabilities,
      userId: req.userId,
      policyId: req.policyId,
      groupId: req.groupId,
    };
    try {
      checkPlacement(batch, 'booking', booking, now);
    } catch (err) {
      if (err instanceof AllotError && (err.sqlstate === SqlState.exclusionViolation || err.sqlstate === SqlState.checkViolation)) continue;
      throw err;
    }
    batch.emit({ type: 'BookingConfirmed', booking });
    made.push(booking);
  }
  if (made.length < wanted) {
    throw new AllotError(
      SqlState.exclusionViolation,
      `pool "${req.poolId}" has ${made.length} of ${wanted} wanted resources free [${iso(req.start)}, ${iso(req.end)}) (of ${candidates.length} ${candidates.length === 1 ? 'member' : 'members'}${capabilities.length > 0 ? ` with ${quoteList(capabilities)}` : ''})`,
      { detail: conflictDetail([{ kind: 'pool', pool_id: req.poolId, wanted, free: made.length, candidates: candidates.length }]) },
    );
  }
  return { type: 'bookings', rows: made };
}
