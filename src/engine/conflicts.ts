/** Words for refusals: messages a person can act on, DETAIL a program can parse. */
import { AllotError, SqlState } from '../errors.js';
import { civilFromDays } from './calendar.js';
import { Limits } from './limits.js';
import { describeBreach } from './policies.js';
import type { Conflict, Ms, Resource } from './types.js';

/** The instant as ISO-8601 UTC with milliseconds, as Date's toISOString writes it, faster. */
export function iso(t: Ms): string {
  if (!Number.isSafeInteger(t) || t < Limits.minTimeMs || t > Limits.maxTimeMs) return new Date(t).toISOString();
  const days = Math.floor(t / 86_400_000);
  let rest = t - days * 86_400_000;
  const { year, month, day } = civilFromDays(days);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  const ms = rest - sec * 1000;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(h)}:${two(m)}:${two(sec)}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

export function quoteList(ids: readonly string[]): string {
  const shown = ids.slice(0, 5).map((i) => `"${i}"`);
  return ids.length > 5 ? `${shown.join(', ')} and ${ids.length - 5} more` : shown.join(', ');
}

/** DETAIL for a refusal: every conflict up to the named limit, and how many more there were. */
export function conflictDetail(conflicts: readonly Conflict[]): object {
  const named = conflicts.slice(0, Limits.maxConflictsNamed);
  return conflicts.length > named.length ? { conflicts: named, more: conflicts.length - named.length } : { conflicts: named };
}

/** "booking "b1", hold "h2" and 3 more" */
export function describeConflicts(conflicts: readonly Conflict[]): string {
  const words = conflicts.slice(0, 3).map(describeOne);
  const rest = conflicts.length - words.length;
  if (rest > 0) return `${words.join(', ')} and ${rest} more`;
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function describeOne(c: Conflict): string {
  switch (c.kind) {
    case 'booking':
    case 'hold':
      return `${c.kind} "${c.id}" [${iso(c.start)}, ${iso(c.end)})`;
    case 'rule':
      return `blocking rule "${c.id}" on "${c.resource_id}" [${iso(c.start)}, ${iso(c.end)})`;
    case 'closed':
      return `closed time on "${c.resource_id}" [${iso(c.start)}, ${iso(c.end)})`;
    case 'capacity':
      return `capacity ${c.capacity} of "${c.resource_id}"`;
    case 'outage':
      return `outage "${c.id}" on "${c.resource_id}" [${iso(c.start)}, ${c.end === null ? 'until further notice' : iso(c.end)})`;
    case 'policy':
      return `policy "${c.policy_id}": ${describeBreach(c)}`;
    case 'pool':
      return `pool "${c.pool_id}": ${c.free} of ${c.wanted} free`;
    case 'offline':
      return `resource "${c.resource_id}" is offline${c.reason === null ? '' : ` (${c.reason})`}`;
    default: {
      const never: never = c;
      return JSON.stringify(never);
    }
  }
}

/** The 23P01 for an entry that does not fit where it was asked to go. */
/** `it breaks policy "lab": longer than …; over max_bookings: …`, one per policy broken. */
export function policyReasons(conflicts: readonly Conflict[]): string[] {
  const byPolicy = new Map<string, string[]>();
  for (const c of conflicts) {
    if (c.kind !== 'policy') continue;
    const list = byPolicy.get(c.policy_id) ?? [];
    list.push(describeBreach(c));
    byPolicy.set(c.policy_id, list);
  }
  return [...byPolicy].map(([id, breaches]) => `it breaks policy "${id}": ${breaches.join('; ')}`);
}

export function placementError(
  kind: 'booking' | 'hold',
  e: { readonly id: string; readonly start: Ms; readonly end: Ms },
  resource: Resource,
  conflicts: readonly Conflict[],
): AllotError {
  const taken = conflicts.filter((c) => c.kind === 'booking' || c.kind === 'hold');
  const closed = conflicts.filter((c) => c.kind === 'closed' || c.kind === 'rule');
  const out = conflicts.filter((c) => c.kind === 'outage');
  const reasons: string[] = [];
  const offline = conflicts.filter((c) => c.kind === 'offline');
  if (offline.length > 0) reasons.push(describeConflicts(offline));
  if (conflicts.some((c) => c.kind === 'capacity')) reasons.push(`it has capacity ${resource.capacity}`);
  if (closed.length > 0) reasons.push(`the time is not open (${describeConflicts(closed)})`);
  if (out.length > 0) reasons.push(`it is out of service (${describeConflicts(out)})`);
  reasons.push(...policyReasons(conflicts));
  if (taken.length > 0) {
    reasons.push(`capacity ${resource.capacity} is taken by ${describeConflicts(taken)}`);
  }
  return new AllotError(
    SqlState.exclusionViolation,
    `${kind} "${e.id}" [${iso(e.start)}, ${iso(e.end)}) does not fit on resource "${resource.id}": ${reasons.join('; ')}`,
    { detail: conflictDetail(conflicts) },
  );
}
