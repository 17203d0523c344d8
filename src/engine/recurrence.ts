/**
 * Recurrence: RFC 5545 RRULEs expanded in a real time zone. A series is its first occurrence
 * [start, end) (instants), a zone, a rule and the occurrences skipped (EXDATE). Every later
 * occurrence keeps the first one's local wall-clock start and length in the zone, so 09:00–17:00
 * stays 09:00–17:00 local across DST. A local time that does not exist (spring forward) moves
 * forward by the gap, and that occurrence's end with it; an ambiguous one (fall back) is the
 * earlier instant.
 *
 * The first occurrence always counts, as RFC 5545 says of DTSTART, even where the rule would not
 * make it. Expansion is lazy: a window's occurrences are found from the period it lies in, so a
 * rule without COUNT costs the same a week or five years after its start. A COUNT series is
 * expanded once (it is bounded) and kept.
 *
 * Supported parts: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL, BYDAY (with
 * ordinals such as 1MO or -1FR for MONTHLY and YEARLY), BYMONTHDAY (negative counts from the
 * month's end; a day a month lacks is skipped, not clamped), BYMONTH and WKST.
 */
import { AllotError, SqlState } from '../errors.js';
import { civilFromDays, daysFromCivil, daysInMonth, localToInstant as instantOfLocal, MS_PER_DAY, mod, offsetAt, zoneRule, type ZoneRule } from './calendar.js';
import { Limits } from './limits.js';
import type { Ms } from './types.js';

export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

/** A BYDAY entry: a weekday (0 Monday … 6 Sunday) and its ordinal in the month or year (0: every one). */
export interface WeekdayNum {
  readonly weekday: number;
  readonly ordinal: number;
}

export interface RRule {
  readonly freq: Frequency;
  readonly interval: number;
  readonly count: number | null;
  /** The last instant an occurrence may start at (inclusive). */
  readonly until: Ms | null;
  readonly byDay: readonly WeekdayNum[];
  readonly byMonthDay: readonly number[];
  readonly byMonth: readonly number[];
  /** The day weeks start on (0 Monday). */
  readonly wkst: number;
}

export interface Series {
  readonly start: Ms;
  readonly end: Ms;
  readonly zone: string;
  readonly rule: RRule;
  /** Starts of occurrences skipped. */
  readonly exdates: readonly Ms[];
}

export interface Occurrence {
  readonly start: Ms;
  readonly end: Ms;
}

const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const FREQUENCIES: readonly Frequency[] = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];

function invalid(message: string, hint?: string): AllotError {
  return new AllotError(SqlState.invalidParameterValue, message, hint === undefined ? {} : { hint });
}

/** 1970-01-01 was a Thursday: weekday 3 with Monday as 0. */
function weekdayOf(day: number): number {
  return mod(day + 3, 7);
}

// ---- parsing -------------------------------------------------------------------------------

function integerPart(name: string, text: string, min: number, max: number): number {
  if (!/^[+-]?\d{1,9}$/.test(text)) throw invalid(`RRULE ${name} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max || n === 0) throw invalid(`RRULE ${name} must be between ${min} and ${max} and not 0, got ${n}`);
  return n;
}

function listPart<T>(name: string, text: string, item: (t: string) => T): T[] {
  const items = text.split(',');
  if (items.some((t) => t === '')) throw invalid(`RRULE ${name} has an empty item: "${text}"`);
  return items.map(item);
}

function weekdayNum(text: string): WeekdayNum {
  const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(text);
  if (m === null) throw invalid(`RRULE BYDAY item "${text}" is not a weekday (MO … SU, optionally after an ordinal such as 1 or -1)`);
  const ordinal = m[1] === undefined ? 0 : integerPart('BYDAY ordinal', m[1], -53, 53);
  return { weekday: DAYS.indexOf(m[2]!), ordinal };
}

/** UNTIL as RFC 5545 writes it: 20261231T235959Z (UTC), 20261231T235959 or 20261231 (local in `zone`; a date runs to its end). */
function untilPart(text: string, zone: ZoneRule): Ms {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(text);
  if (m === null) throw invalid(`RRULE UNTIL must look like 20261231T235959Z or 20261231, got "${text}"`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw invalid(`RRULE UNTIL is not a date: "${text}"`);
  const dateMs = daysFromCivil(year, month, day) * MS_PER_DAY;
  if (m[4] === undefined) return localToInstant(dateMs + MS_PER_DAY, zone) - 1;
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || s > 59) throw invalid(`RRULE UNTIL is not a time: "${text}"`);
  const wall = dateMs + ((h * 60 + mi) * 60 + s) * 1000;
  return m[7] === 'Z' ? wall : localToInstant(wall, zone);
}

/** Reads an RRULE (with or without the `RRULE:` prefix), refusing what it cannot expand exactly. */
export function parseRRule(text: string, zone: string): RRule {
  if (text.length > Limits.maxRRuleLength)
    throw new AllotError(SqlState.stringDataRightTruncation, `rrule is ${text.length} characters long; the limit is ${Limits.maxRRuleLength}`);
  const rule = zoneOf(zone);
  const body = text.trim().replace(/^RRULE:/i, '');
  const parts = new Map<string, string>();
  for (const part of body.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(`RRULE part "${part}" is not NAME=VALUE`, 'Write it as in RFC 5545, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');
    const name = part.slice(0, eq).toUpperCase();
    if (parts.has(name)) throw invalid(`RRULE names ${name} twice`);
    parts.set(name, part.slice(eq + 1).toUpperCase());
  }
  const freq = parts.get('FREQ');
  if (freq === undefined) throw invalid('RRULE needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)');
  if (!(FREQUENCIES as readonly string[]).includes(freq)) throw invalid(`RRULE FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, got "${freq}"`);
  for (const name of parts.keys()) {
    if (!['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'WKST'].includes(name)) {
      throw invalid(`RRULE part ${name} is not supported`, 'allot reads FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH and WKST.');
    }
  }
  if (parts.has('COUNT') && parts.has('UNTIL')) throw invalid('RRULE may have COUNT or UNTIL, not both');
  const get = (name: string): string | undefined => parts.get(name);
  const wkst = get('WKST');
  const r: RRule = {
    freq: freq as Frequency,
    interval: get('INTERVAL') === undefined ? 1 : integerPart('INTERVAL', get('INTERVAL')!, 1, Limits.maxRRuleInterval),
    count: get('COUNT') === undefined ? null : integerPart('COUNT', get('COUNT')!, 1, Limits.maxSeriesOccurrences),
    until: get('UNTIL') === undefined ? null : untilPart(get('UNTIL')!, rule),
    byDay: get('BYDAY') === undefined ? [] : listPart('BYDAY', get('BYDAY')!, weekdayNum),
    byMonthDay: get('BYMONTHDAY') === undefined ? [] : listPart('BYMONTHDAY', get('BYMONTHDAY')!, (t) => integerPart('BYMONTHDAY', t, -31, 31)),
    byMonth: get('BYMONTH') === undefined ? [] : listPart('BYMONTH', get('BYMONTH')!, (t) => integerPart('BYMONTH', t, 1, 12)),
    wkst: wkst === undefined ? 0 : DAYS.indexOf(wkst),
  };
  if (r.wkst < 0) throw invalid(`RRULE WKST must be a weekday (MO … SU), got "${wkst}"`);
  checkCombination(r);
  return r;
}

function checkCombination(r: RRule): void {
  const ordinals = r.byDay.some((d) => d.ordinal !== 0);
  if (ordinals && r.freq !== 'MONTHLY' && r.freq !== 'YEARLY') throw invalid(`RRULE BYDAY ordinals (such as 1MO) need FREQ=MONTHLY or YEARLY, not ${r.freq}`);
  if (ordinals && r.freq === 'MONTHLY' && r.byDay.some((d) => Math.abs(d.ordinal) > 5)) throw invalid('RRULE BYDAY ordinals within a month run from -5 to 5');
  if (r.byMonthDay.length > 0 && r.freq === 'WEEKLY') throw invalid('RRULE BYMONTHDAY does not apply to FREQ=WEEKLY');
  if (r.byMonth.length > 0 && r.byMonthDay.length > 0 && r.byDay.length === 0) {
    const possible = r.byMonth.some((m) => r.byMonthDay.some((d) => Math.abs(d) <= daysInMonth(2000, m)));
    if (!possible) throw invalid('RRULE has no occurrences: none of its BYMONTH months has any of its BYMONTHDAY days');
  }
}

/** The rule as RFC 5545 text, parts in a fixed order: what is stored and shown. */
export function formatRRule(r: RRule): string {
  const parts = [`FREQ=${r.freq}`];
  if (r.interval !== 1) parts.push(`INTERVAL=${r.interval}`);
  if (r.count !== null) parts.push(`COUNT=${r.count}`);
  if (r.until !== null)
    parts.push(
      `UNTIL=${new Date(r.until)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')}`,
    );
  if (r.byDay.length > 0) parts.push(`BYDAY=${r.byDay.map((d) => `${d.ordinal === 0 ? '' : d.ordinal}${DAYS[d.weekday]}`).join(',')}`);
  if (r.byMonthDay.length > 0) parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
  if (r.byMonth.length > 0) parts.push(`BYMONTH=${r.byMonth.join(',')}`);
  if (r.wkst !== 0) parts.push(`WKST=${DAYS[r.wkst]}`);
  return parts.join(';');
}

// ---- zones ---------------------------------------------------------------------------------

/** An IANA zone (or UTC) the runtime knows; 22023 otherwise. */
export function zoneOf(name: string): ZoneRule {
  const rule = name.includes('/') || name.toUpperCase() === 'UTC' ? zoneRule(name) : undefined;
  if (rule === undefined) throw invalid(`time zone "${name}" is not an IANA zone this server knows`, 'Use a name such as Europe/Berlin or UTC.');
  return rule;
}

/** A local time as an instant, as occurrences take it: forward out of a gap, the earlier of an overlap. */
export function localToInstant(local: number, zone: ZoneRule): Ms {
  return instantOfLocal(local, zone, 'earlier');
}

// ---- expansion -----------------------------------------------------------------------------

/** What a series' expansion needs, computed once per series. */
interface Prepared {
  readonly zone: ZoneRule;
  /** The first occurrence's local day number, local time of day, and local length. */
  readonly day0: number;
  readonly timeOfDay: number;
  readonly length: number;
  readonly year0: number;
  readonly month0: number;
  readonly dom0: number;
  readonly exdates: ReadonlySet<Ms>;
  /** A COUNT series, expanded whole. */
  all: Occurrence[] | null;
  /** When the last occurrence ends, once asked. */
  last: Ms | null;
}

const prepared = new WeakMap<Series, Prepared>();

function prepare(s: Series): Prepared {
  const cached = prepared.get(s);
  if (cached !== undefined) return cached;
  const zone = zoneOf(s.zone);
  const localStart = s.start + offsetAt(zone, s.start);
  const localEnd = s.end + offsetAt(zone, s.end);
  const day0 = Math.floor(localStart / MS_PER_DAY);
  const civil = civilFromDays(day0);
  const p: Prepared = {
    zone,
    day0,
    timeOfDay: localStart - day0 * MS_PER_DAY,
    length: Math.max(1, localEnd - localStart),
    year0: civil.year,
    month0: civil.month,
    dom0: civil.day,
    exdates: new Set(s.exdates),
    all: null,
    last: null,
  };
  prepared.set(s, p);
  return p;
}

/** The days (local day numbers, ascending) period `n` of the rule holds, before COUNT, UNTIL and the first occurrence. */
function periodDays(r: RRule, p: Prepared, n: number): number[] {
  switch (r.freq) {
    case 'DAILY': {
      const day = p.day0 + n * r.interval;
      return matchesFilters(r, day) ? [day] : [];
    }
    case 'WEEKLY': {
      const weekStart = periodStartDay(r, p, n);
      const wanted = r.byDay.length === 0 ? [weekdayOf(p.day0)] : r.byDay.map((d) => d.weekday);
      const out: number[] = [];
      for (let k = 0; k < 7; k++) {
        const day = weekStart + k;
        if (wanted.includes(weekdayOf(day)) && monthAllowed(r, day)) out.push(day);
      }
      return out;
    }
    case 'MONTHLY': {
      const index = p.year0 * 12 + (p.month0 - 1) + n * r.interval;
      const [year, month] = [Math.floor(index / 12), mod(index, 12) + 1];
      if (r.byMonth.length > 0 && !r.byMonth.includes(month)) return [];
      return monthDays(r, p, year, month);
    }
    case 'YEARLY':
      return yearDays(r, p, p.year0 + n * r.interval);
  }
}

function monthAllowed(r: RRule, day: number): boolean {
  return r.byMonth.length === 0 || r.byMonth.includes(civilFromDays(day).month);
}

/** DAILY's filters: BYMONTH, BYMONTHDAY and BYDAY each limit the days. */
function matchesFilters(r: RRule, day: number): boolean {
  if (!monthAllowed(r, day)) return false;
  if (r.byDay.length > 0 && !r.byDay.some((d) => d.weekday === weekdayOf(day))) return false;
  if (r.byMonthDay.length > 0) {
    const c = civilFromDays(day);
    const last = daysInMonth(c.year, c.month);
    if (!r.byMonthDay.some((d) => (d > 0 ? d : last + 1 + d) === c.day)) return false;
  }
  return true;
}

/** The days of a month a MONTHLY (or YEARLY with months) rule takes: BYMONTHDAY and BYDAY (intersected when both), else the first occurrence's day of the month. */
function monthDays(r: RRule, p: Prepared, year: number, month: number): number[] {
  const first = daysFromCivil(year, month, 1);
  const last = daysInMonth(year, month);
  let days: number[];
  if (r.byMonthDay.length === 0 && r.byDay.length === 0) days = p.dom0 <= last ? [first + p.dom0 - 1] : [];
  else {
    const byMonthDay = r.byMonthDay.map((d) => (d > 0 ? d : last + 1 + d)).filter((d) => d >= 1 && d <= last);
    const byDay = r.byDay.length === 0 ? null : weekdaysIn(r.byDay, first, last);
    days =
      r.byMonthDay.length === 0 ? byDay! : byDay === null ? byMonthDay.map((d) => first + d - 1) : byDay.filter((day) => byMonthDay.includes(day - first + 1));
  }
  return [...new Set(days)].sort((a, b) => a - b);
}

/** The days of [first, first + length) that BYDAY entries take: each weekday, or its nth (negative: from the end). */
function weekdaysIn(byDay: readonly WeekdayNum[], first: number, length: number): number[] {
  const out: number[] = [];
  for (const { weekday, ordinal } of byDay) {
    const firstOfThem = first + mod(weekday - weekdayOf(first), 7);
    const count = Math.floor((first + length - 1 - firstOfThem) / 7) + 1;
    if (ordinal === 0) for (let k = 0; k < count; k++) out.push(firstOfThem + 7 * k);
    else {
      const k = ordinal > 0 ? ordinal - 1 : count + ordinal;
      if (k >= 0 && k < count) out.push(firstOfThem + 7 * k);
    }
  }
  return out;
}

function yearDays(r: RRule, p: Prepared, year: number): number[] {
  const ordinalsInYear = r.byMonth.length === 0 && r.byDay.some((d) => d.ordinal !== 0);
  if (ordinalsInYear || (r.byMonth.length === 0 && r.byDay.length > 0 && r.byMonthDay.length === 0)) {
    const first = daysFromCivil(year, 1, 1);
    const days = weekdaysIn(r.byDay, first, daysFromCivil(year + 1, 1, 1) - first);
    const kept = r.byMonthDay.length === 0 ? days : days.filter((day) => matchesFilters({ ...r, byDay: [] }, day));
    return [...new Set(kept)].sort((a, b) => a - b);
  }
  const months = r.byMonth.length > 0 ? r.byMonth : r.byMonthDay.length > 0 ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] : [p.month0];
  return [...months].sort((a, b) => a - b).flatMap((month) => monthDays(r, p, year, month));
}

/** The period a local day falls in (it may be before the first: negative). */
function periodOf(r: RRule, p: Prepared, day: number): number {
  switch (r.freq) {
    case 'DAILY':
      return Math.floor((day - p.day0) / r.interval);
    case 'WEEKLY': {
      const week0 = p.day0 - mod(weekdayOf(p.day0) - r.wkst, 7);
      return Math.floor((day - week0) / (7 * r.interval));
    }
    case 'MONTHLY': {
      const c = civilFromDays(day);
      return Math.floor((c.year * 12 + c.month - 1 - (p.year0 * 12 + p.month0 - 1)) / r.interval);
    }
    case 'YEARLY':
      return Math.floor((civilFromDays(day).year - p.year0) / r.interval);
  }
}

/** An occurrence on a local day. A start moved forward by a gap moves its end by as much: no occurrence is shortened to nothing. */
function occurrenceOn(p: Prepared, day: number): Occurrence {
  const local = day * MS_PER_DAY + p.timeOfDay;
  const start = localToInstant(local, p.zone);
  const moved = start + offsetAt(p.zone, start) - local;
  return { start, end: localToInstant(local + p.length + moved, p.zone) };
}

/** The last local day an occurrence may fall on: the engine's latest instant, in any zone. */
const LAST_DAY = Math.floor(Limits.maxTimeMs / MS_PER_DAY) + 1;

/**
 * Calls `visit` with each occurrence in start order, from period `fromPeriod` on, until it
 * returns false or the series ends. COUNT is counted from the first occurrence, so a COUNT series
 * must start at period 0.
 */
function walk(s: Series, p: Prepared, fromPeriod: number, visit: (o: Occurrence) => boolean): void {
  const r = s.rule;
  let counted = 0;
  if (fromPeriod <= 0) {
    counted = 1;
    if (!p.exdates.has(s.start) && !visit({ start: s.start, end: s.end })) return;
  }
  for (let n = Math.max(0, fromPeriod); ; n++) {
    const days = periodDays(r, p, n);
    if (days.length === 0 && periodStartDay(r, p, n) > LAST_DAY) return;
    for (const day of days) {
      if (day <= p.day0) continue;
      if (day > LAST_DAY) return;
      if (r.count !== null && counted >= r.count) return;
      const o = occurrenceOn(p, day);
      if (r.until !== null && o.start > r.until) return;
      counted++;
      if (p.exdates.has(o.start)) continue;
      if (!visit(o)) return;
    }
  }
}

/** The first local day of period `n` (to know when the calendar has run out). */
function periodStartDay(r: RRule, p: Prepared, n: number): number {
  switch (r.freq) {
    case 'DAILY':
      return p.day0 + n * r.interval;
    case 'WEEKLY':
      return p.day0 - mod(weekdayOf(p.day0) - r.wkst, 7) + n * 7 * r.interval;
    case 'MONTHLY': {
      const index = p.year0 * 12 + (p.month0 - 1) + n * r.interval;
      return daysFromCivil(Math.floor(index / 12), mod(index, 12) + 1, 1);
    }
    case 'YEARLY':
      return daysFromCivil(p.year0 + n * r.interval, 1, 1);
  }
}

/** The occurrences whose [start, end) overlaps [a, b), in start order. */
export function occurrencesOverlapping(s: Series, a: Ms, b: Ms): Occurrence[] {
  const p = prepare(s);
  const out: Occurrence[] = [];
  if (s.rule.count !== null) {
    if (p.all === null) {
      const all: Occurrence[] = [];
      walk(s, p, 0, (o) => all.push(o) > 0);
      p.all = all;
    }
    for (const o of p.all) {
      if (o.start >= b) break;
      if (o.end > a) out.push(o);
    }
    return out;
  }
  // Occurrences that start before `a` may still reach into it: begin a day and a length early.
  const from = periodOf(s.rule, p, Math.floor((a + offsetAt(p.zone, a) - p.length) / MS_PER_DAY) - 1);
  walk(s, p, from, (o) => {
    if (o.start >= b) return false;
    if (o.end > a) out.push(o);
    return true;
  });
  return out;
}

/** When the series' last occurrence ends; Infinity for a series without COUNT or UNTIL. */
export function seriesEnd(s: Series): Ms {
  const p = prepare(s);
  if (s.rule.count === null && s.rule.until === null) return Number.POSITIVE_INFINITY;
  if (p.last === null) {
    let end = s.end;
    walk(s, p, 0, (o) => {
      end = Math.max(end, o.end);
      return true;
    });
    p.last = end;
  }
  return p.last;
}
