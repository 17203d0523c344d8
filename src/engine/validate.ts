/** Checks of single values, shared by every command. Each failure is a clear AllotError. */
import { AllotError, SqlState } from '../errors.js';
import { Limits } from './limits.js';
import type { Ms } from './types.js';

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
      throw new AllotError(SqlState.stringDataRightTruncation, `${what()}: capability "${c.slice(0, 40)}…" is longer than ${Limits.maxCapabilityLength} characters`);
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
