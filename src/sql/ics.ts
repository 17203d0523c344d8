/**
 * A resource's time as an iCalendar (RFC 5545) VCALENDAR, for the calendar table and
 * `allot export --format ics`: bookings, holds, outages and rules over a window as VEVENTs, a
 * recurring rule once, with its RRULE and EXDATEs in local time of its zone, and a VTIMEZONE for
 * every zone named, its observances read from the same zone rules the engine uses.
 */
import { civilFromDays, offsetAt, zoneRule, type ZoneRule } from '../engine/calendar.js';
import type { Booking, Hold, Outage, Resource, Rule } from '../engine/types.js';

export interface CalendarContent {
  readonly resource: Resource;
  readonly entries: readonly (Booking | Hold)[];
  readonly outages: readonly Outage[];
  readonly rules: readonly Rule[];
  /** The window asked for: an open outage ends at its end. */
  readonly start: number;
  readonly end: number;
  /** DTSTAMP of every event: when the calendar was made. */
  readonly now: number;
}

const DAY_MS = 86_400_000;
/**
 * How far a zone's observances reach before and after the window: an app that expands a series
 * beyond them keeps the first offset before, the last after.
 */
const OBSERVANCE_YEARS_BEFORE = 10;
const OBSERVANCE_YEARS_AFTER = 1;
/** Steps of the search for a zone's transitions: no zone changes offset twice within two days. */
const TRANSITION_STEP_MS = 2 * DAY_MS;

/** The VCALENDAR text, lines ending in CRLF and folded at 75 octets. */
export function icsCalendar(c: CalendarContent): string {
  const lines: string[] = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//allot//allot//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(c.resource.name ?? c.resource.id)}`,
  ];
  const zones = new Map<string, number>();
  for (const r of c.rules) {
    const tz = r.recurrence?.tz;
    if (tz !== undefined && tz !== 'UTC') zones.set(tz, Math.min(zones.get(tz) ?? Number.POSITIVE_INFINITY, r.start));
  }
  for (const [tz, first] of zones)
    lines.push(...vtimezone(tz, Math.max(first, c.start - OBSERVANCE_YEARS_BEFORE * 365 * DAY_MS) - DAY_MS, c.end + OBSERVANCE_YEARS_AFTER * 365 * DAY_MS));
  const stamp = `DTSTAMP:${utcText(c.now)}`;
  for (const e of c.entries) {
    const hold = 'expiresAt' in e;
    lines.push(
      'BEGIN:VEVENT',
      `UID:${hold ? 'hold' : 'booking'}-${escapeText(e.id)}@allot`,
      stamp,
      `DTSTART:${utcText(e.start)}`,
      `DTEND:${utcText(e.end)}`,
      `SUMMARY:${escapeText(e.label ?? (hold ? 'Hold' : 'Booking'))}`,
      `STATUS:${hold ? 'TENTATIVE' : 'CONFIRMED'}`,
      'TRANSP:OPAQUE',
      `CATEGORIES:${hold ? 'HOLD' : 'BOOKING'}`,
      ...(e.userId !== null ? [`X-ALLOT-USER-ID:${escapeText(e.userId)}`] : []),
      ...(!hold && e.groupId !== null ? [`X-ALLOT-GROUP-ID:${escapeText(e.groupId)}`] : []),
      ...(hold ? [`X-ALLOT-EXPIRES-AT:${utcText(e.expiresAt)}`] : []),
      'END:VEVENT',
    );
  }
  for (const o of c.outages) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:outage-${escapeText(o.id)}@allot`,
      stamp,
      `DTSTART:${utcText(o.start)}`,
      `DTEND:${utcText(o.end ?? Math.max(c.end, o.start + 1000))}`,
      `SUMMARY:${escapeText(o.reason === null ? `Outage (${o.kind})` : `Outage (${o.kind}): ${o.reason}`)}`,
      'STATUS:CONFIRMED',
      'TRANSP:OPAQUE',
      'CATEGORIES:OUTAGE',
      ...(o.end === null ? ['X-ALLOT-OPEN-ENDED:TRUE'] : []),
      'END:VEVENT',
    );
  }
  for (const r of c.rules) lines.push(...ruleEvent(r, stamp));
  lines.push('END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/** A rule as an event: open time transparent, closed time opaque; a series once, with its RRULE. */
function ruleEvent(r: Rule, stamp: string): string[] {
  const rec = r.recurrence;
  const zone = rec === undefined || rec.tz === 'UTC' ? null : zoneRule(rec.tz);
  const when = (prop: string, ms: number): string => (zone == null ? `${prop}:${utcText(ms)}` : `${prop};TZID=${rec!.tz}:${localText(ms, zone)}`);
  return [
    'BEGIN:VEVENT',
    `UID:rule-${escapeText(r.id)}@allot`,
    stamp,
    when('DTSTART', r.start),
    when('DTEND', r.end),
    ...(rec !== undefined ? [`RRULE:${rec.rrule}`] : []),
    ...(rec !== undefined && rec.exdates.length > 0 ? rec.exdates.map((x) => when('EXDATE', x)) : []),
    `SUMMARY:${r.blocking ? 'Closed' : 'Open'}`,
    `TRANSP:${r.blocking ? 'OPAQUE' : 'TRANSPARENT'}`,
    `CATEGORIES:${r.blocking ? 'CLOSED' : 'OPEN'}`,
    ...(r.policyId !== null ? [`X-ALLOT-POLICY-ID:${escapeText(r.policyId)}`] : []),
    'END:VEVENT',
  ];
}

/**
 * A VTIMEZONE for `tz` over [from, to]: the offset at `from`, then each transition, found by
 * stepping through the span and narrowing each change to its second. An observance is
 * DAYLIGHT when its offset is above the least one seen.
 */
function vtimezone(tz: string, from: number, to: number): string[] {
  const zone = zoneRule(tz);
  if (zone === undefined) return [];
  const changes: { at: number; before: number; after: number }[] = [];
  let prev = offsetAt(zone, from);
  for (let t = from + TRANSITION_STEP_MS; t < to + TRANSITION_STEP_MS; t += TRANSITION_STEP_MS) {
    const now = offsetAt(zone, t);
    if (now === prev) continue;
    let lo = t - TRANSITION_STEP_MS;
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (offsetAt(zone, mid) === prev) lo = mid;
      else hi = mid;
    }
    changes.push({ at: hi, before: prev, after: now });
    prev = now;
  }
  const least = Math.min(offsetAt(zone, from), ...changes.map((c) => c.after));
  const observance = (at: number, before: number, after: number): string[] => {
    const kind = after > least ? 'DAYLIGHT' : 'STANDARD';
    return [
      `BEGIN:${kind}`,
      // The onset in the local time that held until then.
      `DTSTART:${civilText(at + before)}`,
      `TZOFFSETFROM:${offsetText(before)}`,
      `TZOFFSETTO:${offsetText(after)}`,
      `END:${kind}`,
    ];
  };
  const first = offsetAt(zone, from);
  return ['BEGIN:VTIMEZONE', `TZID:${tz}`, ...observance(from, first, first), ...changes.flatMap((c) => observance(c.at, c.before, c.after)), 'END:VTIMEZONE'];
}

/** `20260302T090000Z`. iCalendar has no fraction of a second: milliseconds are dropped. */
function utcText(ms: number): string {
  return `${civilText(ms)}Z`;
}

/** The wall clock in `zone` at `ms`, as a DATE-TIME without Z. */
function localText(ms: number, zone: ZoneRule): string {
  return civilText(ms + offsetAt(zone, ms));
}

/** `YYYYMMDDTHHMMSS` of milliseconds since 1970 on a clock (UTC or local). */
function civilText(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const secs = Math.floor((ms - days * DAY_MS) / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}${two(month)}${two(day)}T${two(Math.floor(secs / 3600))}${two(Math.floor(secs / 60) % 60)}${two(secs % 60)}`;
}

/** `+0100`, `-0430`, `+053730` where a zone's offset has seconds. */
function offsetText(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const s = Math.round(Math.abs(ms) / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${sign}${two(Math.floor(s / 3600))}${two(Math.floor(s / 60) % 60)}${s % 60 !== 0 ? two(s % 60) : ''}`;
}

/** TEXT as RFC 5545 writes it: backslash, semicolon, comma and newline escaped. */
function escapeText(s: string): string {
  return s.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n');
}

/** A content line folded at 75 octets, never inside a UTF-8 sequence. */
function fold(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const parts: string[] = [];
  let part = '';
  let bytes = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch);
    const max = parts.length === 0 ? 75 : 74;
    if (bytes + n > max) {
      parts.push(part);
      part = '';
      bytes = 0;
    }
    part += ch;
    bytes += n;
  }
  parts.push(part);
  return parts.join('\r\n ');
}
