/**
 * The calendar and the zones: proleptic Gregorian day arithmetic (astronomical years: 0 is 1 BC)
 * and each zone's offset from UTC at an instant. Zone rules come from the runtime's Intl (the
 * tzdata ICU was built with), so no dependency carries a zone database, and the same runtime
 * always gives the same answers: the engine's recurrences and the SQL layer's times both use it.
 */

export const MS_PER_SECOND = 1000;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;
/** Days in 400 Gregorian years; the calendar and its weekdays repeat after them. */
export const DAYS_PER_400_YEARS = 146_097;

/** Earliest instant: 4714-11-24 00:00 UTC BC, Julian day 0, where PostgreSQL's timestamps start. */
export const MIN_INSTANT_MS = -210_866_803_200_000;
/** Latest instant: +275760-09-13 00:00 UTC, the ECMAScript Date limit. */
export const MAX_INSTANT_MS = 8_640_000_000_000_000;
/** Zones whose rule is kept; beyond it the cache starts over (names come from clients). */
const MAX_CACHED_ZONES = 256;
/** Offsets kept per zone, one per UTC hour looked at; beyond it that zone's cache starts over. */
const MAX_CACHED_HOURS_PER_ZONE = 16_384;

export function noNegativeZero(x: number): number {
  return x === 0 ? 0 : x;
}

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil; exact for any year). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * DAYS_PER_400_YEARS + dayOfEra - 719_468;
}

/** The civil date of a day number (inverse of daysFromCivil). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / DAYS_PER_400_YEARS);
  const dayOfEra = z - era * DAYS_PER_400_YEARS;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day: dayOfYear - Math.floor((153 * mp + 2) / 5) + 1 };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** x mod m, never negative (JS % keeps the dividend's sign). */
export function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

/** How a zone maps instants to offsets: a fixed offset, or the runtime's rules for a named zone. */
export type ZoneRule =
  | { readonly kind: 'fixed'; readonly name: string; readonly offsetMs: number }
  | {
      readonly kind: 'named';
      readonly name: string;
      readonly format: Intl.DateTimeFormat;
      /** Offset per UTC hour number; NaN marks an hour with a transition inside. */
      readonly offsets: Map<number, number>;
    };

const zoneRules = new Map<string, ZoneRule>();

/** The rule for a zone name as PostgreSQL's pg_tzset reads one (not the numeric-hours form). */
export function zoneRule(name: string): ZoneRule | undefined {
  const cached = zoneRules.get(name);
  if (cached !== undefined) return cached;
  // Offsets first: the runtime might read '+05:30' as UTC+5:30, PostgreSQL reads it as POSIX.
  const rule = /^[+\-\d<]/.test(name) ? posixZone(name) : (namedZone(name) ?? posixZone(name));
  if (rule === undefined) return undefined;
  if (zoneRules.size >= MAX_CACHED_ZONES) zoneRules.clear();
  zoneRules.set(name, rule);
  return rule;
}

/**
 * A POSIX zone with a fixed offset ('UTC+3', '<+05:30>-05:30', '-05:00', 'EST5'). POSIX counts
 * hours west of Greenwich, so the sign is inverted: PostgreSQL's '-05:00' is UTC+5. Zones with a
 * daylight-saving part ('EST5EDT,M3.2.0,M11.1.0') are not read: use the IANA name.
 */
function posixZone(name: string): ZoneRule | undefined {
  const m = /^(?:<[A-Za-z0-9:+-]+>|[A-Za-z]+)?([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?$/.exec(name);
  if (m === null) return undefined;
  const [hours, minutes, seconds] = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
  if (hours >= 168 || minutes > 59 || seconds > 59) return undefined;
  const west = (hours * 3600 + minutes * 60 + seconds) * (m[1] === '-' ? -1 : 1);
  return { kind: 'fixed', name: name.toUpperCase(), offsetMs: noNegativeZero(-west * MS_PER_SECOND) };
}

/**
 * The tz database's zone names without a '/'. ICU also takes Java's legacy IDs ('PST', 'IST' for
 * India, 'AST'), which PostgreSQL does not know (and reads otherwise in timestamps), so a name
 * without a '/' must be one of these.
 */
const SLASHLESS_ZONES = new Set(
  (
    'CET CST6CDT Cuba EET EST EST5EDT Egypt Eire GB GB-Eire GMT GMT+0 GMT-0 GMT0 Greenwich HST Hongkong Iceland ' +
    'Iran Israel Jamaica Japan Kwajalein Libya MET MST MST7MDT NZ NZ-CHAT Navajo PRC PST8PDT Poland Portugal ROC ' +
    'ROK Singapore Turkey UCT UTC Universal W-SU WET Zulu'
  )
    .toLowerCase()
    .split(' '),
);

/** An IANA zone the runtime knows, matched case-insensitively as PostgreSQL does. */
function namedZone(name: string): ZoneRule | undefined {
  if (!name.includes('/') && !SLASHLESS_ZONES.has(name.toLowerCase())) return undefined;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  const resolved = format.resolvedOptions().timeZone;
  const shown = zoneDisplayName(name, resolved);
  if (resolved === 'UTC') return { kind: 'fixed', name: shown, offsetMs: 0 };
  return { kind: 'named', name: shown, format, offsets: new Map() };
}

/**
 * The name SHOW TimeZone prints. PostgreSQL keeps the name as the tz database spells it,
 * aliases included ('US/Eastern'); the runtime resolves aliases to their canonical zone. So: the
 * canonical spelling when the name is it in another case, else the name as typed if it has
 * capitals (the runtime accepted it), else (an all-lowercase alias) the canonical zone.
 */
function zoneDisplayName(name: string, resolved: string): string {
  const lower = name.toLowerCase();
  if (resolved.toLowerCase() === lower) return resolved;
  if (lower === 'gmt') return 'GMT';
  return /[A-Z]/.test(name) ? name : resolved;
}

/**
 * The offset Intl reports at `ms`: its wall clock read back as if UTC, minus the instant. Instants
 * past the Date range are moved by whole 400-year cycles (same calendar, same weekday rules).
 */
function intlOffsetMs(format: Intl.DateTimeFormat, ms: number): number {
  const cycleMs = DAYS_PER_400_YEARS * MS_PER_DAY;
  let t = Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND; // rules change on whole seconds
  if (t > MAX_INSTANT_MS) t -= Math.ceil((t - MAX_INSTANT_MS) / cycleMs) * cycleMs;
  if (t < -MAX_INSTANT_MS) t += Math.ceil((-MAX_INSTANT_MS - t) / cycleMs) * cycleMs;
  let [year, month, day, wallMs, bc] = [0, 1, 1, 0, false];
  for (const { type, value } of format.formatToParts(t)) {
    if (type === 'era') bc = value === 'BC';
    else if (type === 'year') year = Number(value);
    else if (type === 'month') month = Number(value);
    else if (type === 'day') day = Number(value);
    else if (type === 'hour') wallMs += Number(value) * MS_PER_HOUR;
    else if (type === 'minute') wallMs += Number(value) * MS_PER_MINUTE;
    else if (type === 'second') wallMs += Number(value) * MS_PER_SECOND;
  }
  return daysFromCivil(bc ? 1 - year : year, month, day) * MS_PER_DAY + wallMs - t;
}

/**
 * Offset of a zone from UTC at instant `ms`, in milliseconds east (Berlin in winter: 3 600 000).
 * Called per row, so a named zone keeps one offset per UTC hour it has seen: computing one costs
 * an Intl call (~10 µs), a cached one a Map lookup. An hour holding a transition is marked and
 * computed exactly each time; zone rules never change twice within an hour.
 */
export function offsetAt(rule: ZoneRule, ms: number): number {
  if (rule.kind === 'fixed') return rule.offsetMs;
  const hour = Math.floor(ms / MS_PER_HOUR);
  const cached = rule.offsets.get(hour);
  if (cached !== undefined) return Number.isNaN(cached) ? intlOffsetMs(rule.format, ms) : cached;
  const first = intlOffsetMs(rule.format, hour * MS_PER_HOUR);
  const last = intlOffsetMs(rule.format, (hour + 1) * MS_PER_HOUR - MS_PER_SECOND);
  if (rule.offsets.size >= MAX_CACHED_HOURS_PER_ZONE) rule.offsets.clear();
  rule.offsets.set(hour, first === last ? first : Number.NaN);
  return first === last ? first : intlOffsetMs(rule.format, ms);
}

/**
 * The instant whose wall clock in the zone reads `local` (ms since 1970 "local"). In a
 * spring-forward gap the offset from before the jump applies, so a nonexistent 02:30 in Berlin
 * is 03:30 CEST; in a fall-back overlap `overlap` picks the earlier instant (CEST) or the later
 * one (CET). Assumes at most one offset change within a day of `local`, as every zone has.
 */
export function localToInstant(local: number, zone: ZoneRule, overlap: 'earlier' | 'later'): number {
  const before = offsetAt(zone, local - MS_PER_DAY);
  const after = offsetAt(zone, local + MS_PER_DAY);
  if (before === after) return local - before;
  const early = local - before;
  const late = local - after;
  const earlyHolds = offsetAt(zone, early) === before;
  const lateHolds = offsetAt(zone, late) === after;
  if (earlyHolds !== lateHolds) return earlyHolds ? early : late;
  if (earlyHolds) return overlap === 'earlier' ? Math.min(early, late) : Math.max(early, late);
  return early; // a gap: the offset from before it
}
