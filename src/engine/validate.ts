/** Checks of single values, shared by every command. Each failure is a clear AllotError. */
import { AllotError, SqlState } from '../errors.js';
import { Limits } from './limits.js';
import { parseRRule, zoneOf } from './recurrence.js';
import type { Booking, Hold, Ms, Outage, Policy, PoolStrategy, Resource, Rule, RuleRecurrence } from './types.js';

export function checkId(what: string, id: string): void {
  if (id.length === 0) throw new AllotError(SqlState.invalidParameterValue, `${what} must not be empty`);
  if (id.length > Limits.maxIdLength) {
    throw new AllotError(SqlState.stringDataRightTruncation, `${what} is ${id.length} characters long; the limit is ${Limits.maxIdLength}`);
  }
}

export function checkOptionalId(what: string, id: string | null): void {
  if (id !== null) checkId(what, id);
}

export function checkLabel(what: string, label: string | null): void {
  if (label !== null && label.length > Limits.maxLabelLength) {
    throw new AllotError(SqlState.stringDataRightTruncation, `${what} is ${label.length} characters long; the limit is ${Limits.maxLabelLength}`);
  }
}

/** `what`, or `what "id"` when an id is given; built only when there is an error to report. */
function label(what: string, id: string | undefined): string {
  return id === undefined ? what : `${what} "${id}"`;
}

export function checkCapabilities(whatKind: string, caps: readonly string[], id?: string): void {
  if (caps.length === 0) return;
  const what = (): string => label(whatKind, id);
  if (caps.length > Limits.maxCapabilities) {
    throw new AllotError(SqlState.programLimitExceeded, `${what()} lists ${caps.length} capabilities; the limit is ${Limits.maxCapabilities}`);
  }
  for (const c of caps) {
    if (typeof c !== 'string' || c.length === 0) throw new AllotError(SqlState.invalidParameterValue, `${what()}: a capability must be a non-empty text`);
    if (c.length > Limits.maxCapabilityLength) {
      throw new AllotError(
        SqlState.stringDataRightTruncation,
        `${what()}: capability "${c.slice(0, 40)}…" is longer than ${Limits.maxCapabilityLength} characters`,
      );
    }
  }
}

export function checkTime(what: string, t: Ms): void {
  if (!Number.isSafeInteger(t)) throw new AllotError(SqlState.invalidParameterValue, `${what} must be an integer number of milliseconds, got ${t}`);
  if (t < Limits.minTimeMs || t > Limits.maxTimeMs) {
    throw new AllotError(SqlState.datetimeFieldOverflow, `${what} ${t} is out of range (years 0001 to 9999)`);
  }
}

export function checkSpan(what: string, start: Ms, end: Ms, id?: string): void {
  if (Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= Limits.minTimeMs && end <= Limits.maxTimeMs && start < end) return;
  checkTime(`${label(what, id)} start`, start);
  checkTime(`${label(what, id)} end`, end);
  throw new AllotError(SqlState.invalidParameterValue, `${label(what, id)}: start (${start}) must be before end (${end})`);
}

export function checkInteger(what: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new AllotError(SqlState.invalidParameterValue, `${what} must be an integer from ${min} to ${max}, got ${v}`);
  }
}

/** What most entries carry: one array for all of them rather than an empty one each. */
const NO_CAPABILITIES: readonly string[] = Object.freeze([]);

/** Drops duplicate capabilities, keeping first-seen order, so equal sets compare equal. */
export function normaliseCapabilities(caps: readonly string[]): readonly string[] {
  if (caps.length === 0) return NO_CAPABILITIES;
  return caps.length < 2 ? caps : [...new Set(caps)];
}

// ---- the fields of each kind of entity -----------------------------------------------

export function checkResourceFields(r: Resource): void {
  checkId('resource id', r.id);
  checkOptionalId('parent_id', r.parentId);
  if (r.parentId === r.id) throw new AllotError(SqlState.invalidParameterValue, `resource "${r.id}" cannot be its own parent`);
  checkLabel('name', r.name);
  checkInteger('capacity', r.capacity, 0, Limits.maxCapacity);
  checkInteger('buffer_before', r.bufferBeforeMs, 0, Limits.maxBufferMs);
  checkInteger('buffer_after', r.bufferAfterMs, 0, Limits.maxBufferMs);
  checkCapabilities('resource', r.capabilities, r.id);
  if (r.status !== undefined && r.status !== 'online' && r.status !== 'offline') {
    throw new AllotError(SqlState.invalidParameterValue, `status must be 'online' or 'offline', not ${JSON.stringify(r.status)}`);
  }
  checkLabel('status_reason', r.statusReason ?? null);
  if (r.poolStrategy !== undefined && !POOL_STRATEGIES.includes(r.poolStrategy)) {
    throw new AllotError(
      SqlState.invalidParameterValue,
      `pool_strategy must be one of ${POOL_STRATEGIES.map((x) => `'${x}'`).join(', ')}, not ${JSON.stringify(r.poolStrategy)}`,
    );
  }
  checkOptionalId('pool_cursor', r.poolCursor ?? null);
}

const POOL_STRATEGIES: readonly PoolStrategy[] = ['id_order', 'fewest_bookings', 'round_robin'];

export function checkRuleFields(r: Rule): void {
  checkId('rule id', r.id);
  checkId('resource_id', r.resourceId);
  checkSpan('rule', r.start, r.end, r.id);
  checkOptionalId('policy_id', r.policyId);
  if (r.recurrence !== undefined) checkRecurrence(r.recurrence);
}

/** A recurrence's zone, RRULE and skipped starts (22023 on anything it cannot expand). */
function checkRecurrence(rec: RuleRecurrence): void {
  zoneOf(rec.tz);
  parseRRule(rec.rrule, rec.tz);
  if (rec.exdates.length > Limits.maxExdates) {
    throw new AllotError(SqlState.programLimitExceeded, `a rule skips ${rec.exdates.length} occurrences (exdates); the limit is ${Limits.maxExdates}`);
  }
  for (const t of rec.exdates) checkTime('exdate', t);
}

export function checkPolicyFields(p: Policy): void {
  checkId('policy id', p.id);
  checkLabel('name', p.name);
  const ms: [string, number | null][] = [
    ['min_duration', p.minDurationMs],
    ['max_duration', p.maxDurationMs],
    ['book_ahead', p.bookAheadMs],
    ['max_usage', p.maxUsageMs],
    ['starts_within', p.startsWithinMs],
    ['allow_start_in_past', p.allowStartInPastMs],
  ];
  for (const [name, v] of ms) if (v !== null) checkInteger(name, v, 0, Limits.maxPolicyMs);
  if (p.maxBookings !== null) checkInteger('max_bookings', p.maxBookings, 0, Limits.maxAllocationsPerResource);
  if (p.minDurationMs !== null && p.maxDurationMs !== null && p.minDurationMs > p.maxDurationMs) {
    throw new AllotError(SqlState.invalidParameterValue, `policy "${p.id}": min_duration (${p.minDurationMs}) is more than max_duration (${p.maxDurationMs})`);
  }
}

export function checkOutageFields(o: Outage): void {
  checkId('outage id', o.id);
  checkId('resource_id', o.resourceId);
  if (o.kind !== 'planned' && o.kind !== 'unplanned') {
    throw new AllotError(SqlState.invalidParameterValue, `outage kind must be 'planned' or 'unplanned', got '${String(o.kind)}'`);
  }
  checkTime('outage start', o.start);
  if (o.end !== null) checkSpan('outage', o.start, o.end, o.id);
  if (o.kind === 'planned') {
    if (o.end === null) throw notNull('end', ' (a planned outage needs its end; an outage of unknown end is unplanned)');
    if (o.slidingWindowMs !== null) throw new AllotError(SqlState.invalidParameterValue, 'sliding_window applies only to unplanned outages');
  } else {
    if (o.slidingWindowMs === null) throw notNull('sliding_window', ' (an unplanned outage evicts what lies within it)');
    checkInteger('sliding_window', o.slidingWindowMs, 0, Limits.maxWindowMs);
  }
  checkCapabilities('outage', o.capabilities, o.id);
  checkLabel('reason', o.reason);
}

export function checkEntryFields(kind: 'booking' | 'hold', e: Booking | Hold): void {
  checkId(kind === 'booking' ? 'booking id' : 'hold id', e.id);
  checkId('resource_id', e.resourceId);
  checkSpan(kind, e.start, e.end, e.id);
  checkLabel('label', e.label);
  checkCapabilities(kind, e.capabilities, e.id);
  checkOptionalId('user_id', e.userId);
  checkOptionalId('policy_id', e.policyId);
}

export function unknown(what: string, id: string, column: string, note = ''): AllotError {
  return new AllotError(SqlState.foreignKeyViolation, `${what} "${id}" does not exist${note}`, {
    detail: `Key (${column})=(${id}) is not present in table "${what === 'policy' ? 'policies' : `${what}s`}".`,
  });
}

export function notNull(column: string, why = ''): AllotError {
  return new AllotError(SqlState.notNullViolation, `null value in column "${column}" violates not-null constraint${why}`);
}
