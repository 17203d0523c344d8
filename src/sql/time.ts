/**
 * PostgreSQL's `timestamptz`, `timestamp`, `date` and `interval`, mapped onto allot's numbers: an
 * instant is integer Unix milliseconds, a duration integer milliseconds. Text forms follow
 * PostgreSQL 15 with DateStyle 'ISO, MDY' and IntervalStyle 'postgres'; binary forms are
 * PostgreSQL's (int64 microseconds since 2000-01-01).
 *
 * Pure: no clock (`now` is an argument) and no I/O. Zone rules come from the runtime's Intl (the
 * tzdata ICU was built with, see `tzdataVersion`), so no dependency carries a zone database.
 *
 * Where allot's numbers are coarser than PostgreSQL's:
 * - Sub-millisecond digits are rounded to microseconds as PostgreSQL does, then truncated toward
 *   −∞ to whole milliseconds ('…00.1239' is .123; '…59.9999996' rounds up to the next second).
 * - A duration is exact milliseconds: a day is 24 h and a week 7 days, whatever a zone does that
 *   day. Months and years have no fixed length, so they are refused, not guessed.
 * - Instants are finite: 'infinity' is refused. They run from 4714-11-24 00:00 UTC BC
 *   (PostgreSQL's start) to +275760-09-13 00:00 UTC (the ECMAScript Date limit; PostgreSQL goes
 *   on to 294276 AD).
 */
import {
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  MAX_INSTANT_MS,
  MIN_INSTANT_MS,
  localToInstant as instantOfLocal,
  mod,
  MS_PER_DAY,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  MS_PER_SECOND,
  noNegativeZero,
  offsetAt,
  zoneRule,
  type ZoneRule,
} from '../engine/calendar.js';
import { AllotError, SqlState, type SqlStateCode } from '../errors.js';

const US_PER_MS = 1000n;
const US_PER_SECOND = 1_000_000;
const US_PER_DAY = 86_400_000_000;
/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for binary values. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MS = PG_EPOCH_DAYS * MS_PER_DAY;
/** Julian day number of 1970-01-01. */
const UNIX_EPOCH_JULIAN_DAY = 2_440_588;

/** Longest duration: what a JS number holds exactly (PostgreSQL's int64 µs is about the same). */
export const MAX_DURATION_MS = Number.MAX_SAFE_INTEGER;
/** Longest date/time text read; PostgreSQL refuses longer input as bad syntax too. */
const MAX_TIME_TEXT_CHARS = 256;
/** Most fields in one date/time text (PostgreSQL's MAXDATEFIELDS). */
const MAX_TIME_TEXT_FIELDS = 25;
/** A fixed offset must stay under a week, as PostgreSQL's POSIX zone parser demands. */
const MAX_FIXED_OFFSET_SECONDS = 168 * 3600;
/** An offset written in a timestamp may reach 15:59:59 (PostgreSQL's MAX_TZDISP_HOUR). */
const MAX_TEXT_OFFSET_HOURS = 15;

const INT64_MAX = 0x7fff_ffff_ffff_ffffn;
const INT64_MIN = -0x8000_0000_0000_0000n;
const INT32_MAX = 0x7fff_ffff;
const INT32_MIN = -0x8000_0000;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, astronomical years: 0 is 1 BC)

/** Civil date and time of day read off a wall clock given as milliseconds since 1970 "local". */
interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
}

function wallClock(localMs: number): WallClock {
  const days = Math.floor(localMs / MS_PER_DAY);
  const msOfDay = localMs - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days); // (an object spread here costs ~50x)
  return {
    year,
    month,
    day,
    hour: Math.floor(msOfDay / MS_PER_HOUR),
    minute: Math.floor((msOfDay % MS_PER_HOUR) / MS_PER_MINUTE),
    second: Math.floor((msOfDay % MS_PER_MINUTE) / MS_PER_SECOND),
    ms: msOfDay % MS_PER_SECOND,
  };
}

/** C's rint(): round half to even, as PostgreSQL rounds fractions of a microsecond. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Floor division of bigints (BigInt's / truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Turns -0 into 0, so extracted fields never print as "-0". */

// ---------------------------------------------------------------------------------------------
// Errors

const finiteHint = 'Give a real date and time; for an open end, leave the column NULL.';

function notFinite(): AllotError {
  return new AllotError(SqlState.datetimeFieldOverflow, 'allot instants are finite: infinity is not a time', {
    hint: finiteHint,
  });
}

function timestampOutOfRange(text: string): AllotError {
  return new AllotError(SqlState.datetimeFieldOverflow, `timestamp out of range: "${text}"`);
}

function unknownTimeZone(name: string, detail?: string): AllotError {
  const message = `invalid value for parameter "TimeZone": "${name}"`;
  return new AllotError(SqlState.invalidParameterValue, message, detail === undefined ? {} : { detail });
}

function monthsRefused(text: string): AllotError {
  return new AllotError(
    SqlState.featureNotSupported,
    `interval "${text}" counts months or years: allot durations are exact milliseconds and a month has no fixed length`,
    { hint: "Give the duration in days or smaller units, e.g. '30 days' (a day is exactly 24 hours)." },
  );
}

/** Throws unless `ms` is an integer instant allot can hold. */
function checkInstant(ms: number): void {
  if (!Number.isInteger(ms) || ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) throw timestampOutOfRange(String(ms));
}

/** Throws unless `ms` is an integer duration allot can hold. */
function checkDuration(ms: number): void {
  if (!Number.isSafeInteger(ms)) {
    throw new AllotError(SqlState.intervalFieldOverflow, `interval out of range: ${ms} ms is not a whole number of milliseconds allot can hold`);
  }
}

// ---------------------------------------------------------------------------------------------
// Time zones

/** PostgreSQL's name for a fixed offset east of UTC: '<+05:30>-05:30', '<-05>+05', '<+00>-00'. */
function fixedOffsetName(eastSeconds: number): string {
  const abs = Math.abs(eastSeconds);
  const [h, m, s] = [Math.floor(abs / 3600), Math.floor((abs % 3600) / 60), abs % 60];
  const body = pad(h, 2) + (s !== 0 ? `:${pad(m, 2)}:${pad(s, 2)}` : m !== 0 ? `:${pad(m, 2)}` : '');
  return eastSeconds >= 0 ? `<+${body}>-${body}` : `<-${body}>+${body}`;
}

/**
 * The value SET TIME ZONE keeps and SHOW TimeZone prints for `name`, as PostgreSQL 15 does:
 * - an IANA zone in any case: 'europe/berlin' → 'Europe/Berlin'; 'UTC', 'GMT' as they are;
 * - a number of hours east of UTC (the SQL convention): '-5' → '<-05>+05', '5.5' → '<+05:30>-05:30';
 * - a POSIX zone string (hours *west*): 'UTC+3' is UTC−3, '-05:00' is UTC+5, kept as typed.
 * 'Z' is refused, as PostgreSQL refuses it here (it is fine inside a timestamp).
 * For `SET TIME ZONE INTERVAL '…'` use timeZoneFromInterval.
 */
export function normalizeTimeZone(name: string): string {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(name)) {
    // PostgreSQL: gmtoffset = -hours * 3600, a C cast, so the seconds truncate toward zero.
    const eastSeconds = noNegativeZero(Math.trunc(Number(name) * 3600));
    if (!(Math.abs(eastSeconds) < MAX_FIXED_OFFSET_SECONDS)) {
      throw unknownTimeZone(name, 'UTC timezone offset is out of range.');
    }
    return fixedOffsetName(eastSeconds);
  }
  const rule = name === '' || name.length > MAX_TIME_TEXT_CHARS ? undefined : zoneRule(name);
  if (rule === undefined) throw unknownTimeZone(name);
  return rule.name;
}

/** Whether SET TIME ZONE would take `name` (see normalizeTimeZone). */
export function isValidTimeZone(name: string): boolean {
  try {
    normalizeTimeZone(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The zone for `SET TIME ZONE INTERVAL 'text' [HOUR | HOUR TO MINUTE]` (Sequelize sends
 * `INTERVAL '+00:00' HOUR TO MINUTE`). The interval is an offset east of UTC: '-05:00' is UTC−5,
 * shown as '<-05>+05'. Seconds below the qualifier are dropped, as PostgreSQL does.
 */
export function timeZoneFromInterval(text: string, qualifier?: string): string {
  const range = qualifier === undefined ? undefined : intervalRange(qualifier);
  if (range !== undefined && range.name !== 'hour' && range.name !== 'hour to minute') {
    throw new AllotError(SqlState.syntaxError, 'time zone interval must be HOUR or HOUR TO MINUTE');
  }
  const parts = decodeIntervalText(text, range);
  const shown = `INTERVAL '${text}'`;
  if (parts.monthUnits) throw unknownTimeZone(shown, 'Cannot specify months in time zone interval.');
  if (parts.days !== 0) throw unknownTimeZone(shown, 'Cannot specify days in time zone interval.');
  const eastSeconds = Number(parts.us / BigInt(US_PER_SECOND));
  if (Math.abs(eastSeconds) >= MAX_FIXED_OFFSET_SECONDS) {
    throw unknownTimeZone(shown, 'UTC timezone offset is out of range.');
  }
  return fixedOffsetName(noNegativeZero(eastSeconds));
}

/** The rule for a zone the caller promises is valid (a session's TimeZone); else 22023. */
function sessionZone(zone: string): ZoneRule {
  const rule = zoneRule(zone);
  if (rule === undefined) throw unknownTimeZone(zone);
  return rule;
}

/**
 * Offset of `zone` from UTC at instant `ms`, in milliseconds east (Berlin in winter: 3 600 000).
 * Called per row, so a named zone keeps one offset per UTC hour it has seen: computing one costs
 * an Intl call (~10 µs), a cached one a Map lookup. An hour holding a transition is marked and
 * computed exactly each time; zone rules never change twice within an hour.
 */
export function zoneOffsetMs(ms: number, zone: string): number {
  if (!Number.isFinite(ms)) throw notFinite();
  // The default zone, asked for every instant sent: no rule to look up.
  if (zone === 'UTC') return 0;
  return offsetAt(sessionZone(zone), ms);
}

/**
 * The instant whose wall clock in `zone` reads `localMs`, by PostgreSQL's rule
 * (DetermineTimeZoneOffset): in a spring-forward gap the offset from before the jump applies, so
 * a nonexistent 02:30 in Berlin is 03:30 CEST; in a fall-back overlap the offset from after the
 * jump applies, so an ambiguous 02:30 is the later one (CET).
 */
function localToInstant(localMs: number, zone: string): number {
  if (!Number.isFinite(localMs)) throw notFinite();
  if (zone === 'UTC') return localMs;
  return instantOfLocal(localMs, sessionZone(zone), 'later');
}

// ---------------------------------------------------------------------------------------------
// Output

/** '.5', '.12', '.123' or '': PostgreSQL prints fractions without trailing zeros. */
function fractionText(ms: number): string {
  if (ms === 0) return '';
  if (ms % 100 === 0) return `.${ms / 100}`;
  return ms % 10 === 0 ? `.${pad(ms / 10, 2)}` : `.${pad(ms, 3)}`;
}

/** '+00', '+01', '+05:30', '+00:53:28' (local mean time), '-03:30'. */
function offsetText(offsetMs: number): string {
  const seconds = Math.round(offsetMs / MS_PER_SECOND);
  const abs = Math.abs(seconds);
  const [h, m, s] = [Math.floor(abs / 3600), Math.floor((abs % 3600) / 60), abs % 60];
  const tail = s !== 0 ? `:${pad(m, 2)}:${pad(s, 2)}` : m !== 0 ? `:${pad(m, 2)}` : '';
  return `${seconds < 0 ? '-' : '+'}${pad(h, 2)}${tail}`;
}

/** 'YYYY-MM-DD', years before 1 AD as PostgreSQL counts them (0 is 1 BC), with the era apart. */
function dateText(w: WallClock): { text: string; bc: boolean } {
  const bc = w.year <= 0;
  return { text: `${pad(bc ? 1 - w.year : w.year, 4)}-${pad(w.month, 2)}-${pad(w.day, 2)}`, bc };
}

function timestampText(localMs: number, offset: string): string {
  const w = wallClock(localMs);
  const date = dateText(w);
  const time = `${pad(w.hour, 2)}:${pad(w.minute, 2)}:${pad(w.second, 2)}${fractionText(w.ms)}`;
  return `${date.text} ${time}${offset}${date.bc ? ' BC' : ''}`;
}

/** An instant as PostgreSQL prints a timestamptz in `zone`: '2026-03-01 10:00:00.5+01'. */
export function formatTimestamptz(ms: number, zone: string): string {
  checkInstant(ms);
  const offset = zoneOffsetMs(ms, zone);
  return fastTimestampText(ms + offset, offset) ?? timestampText(ms + offset, offsetText(offset));
}

/**
 * The date part of each local day seen lately, and each offset's text: a result of many rows
 * (availability over a week) formats the same few days again and again, and this is the
 * per-row cost of every instant sent as text.
 */
const DATE_TEXT = new Map<number, string>();
const OFFSET_TEXT = new Map<number, string>();
const MAX_CACHED_DAYS = 4096;
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => pad(i, 2));

/** timestampText for years 1 to 9999 AD from the caches, or null for the rare rest. */
function fastTimestampText(localMs: number, offsetMs: number): string | null {
  const day = Math.floor(localMs / MS_PER_DAY);
  let date = DATE_TEXT.get(day);
  if (date === undefined) {
    const w = wallClock(day * MS_PER_DAY);
    if (w.year <= 0 || w.year > 9999) return null;
    date = dateText(w).text;
    if (DATE_TEXT.size >= MAX_CACHED_DAYS) DATE_TEXT.clear();
    DATE_TEXT.set(day, date);
  }
  let offset = OFFSET_TEXT.get(offsetMs);
  if (offset === undefined) {
    offset = offsetText(offsetMs);
    if (OFFSET_TEXT.size >= MAX_CACHED_DAYS) OFFSET_TEXT.clear();
    OFFSET_TEXT.set(offsetMs, offset);
  }
  const t = localMs - day * MS_PER_DAY;
  const seconds = Math.floor(t / MS_PER_SECOND);
  const fraction = t - seconds * MS_PER_SECOND;
  const time = `${TWO_DIGITS[Math.floor(seconds / 3600)]!}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]!}:${TWO_DIGITS[seconds % 60]!}`;
  return `${date} ${time}${fraction === 0 ? '' : fractionText(fraction)}${offset}`;
}

/**
 * The date text of each local day seen lately as bytes, in a small table by the day number (no
 * hashing, a few pages that stay in cache): writeTimestamptzText copies the date of an instant.
 */
const DAY_SLOTS = 4096;
const DAY_KEYS = new Float64Array(DAY_SLOTS).fill(Number.NaN);
const DAY_BYTES = Buffer.alloc(DAY_SLOTS * 10);
const DIGIT_CODES = Buffer.from(Array.from({ length: 100 }, (_, i) => pad(i, 2)).join(''), 'latin1');
const OFFSET_BYTES = new Map<number, Buffer>();

/**
 * formatTimestamptz written straight into `buf` at `at` after its int32 length, as its latin1
 * bytes: what a DataRow carries for each instant, made without a string in between. Returns the
 * end. At most 4 + 40 bytes.
 */
export function writeTimestamptzText(buf: Buffer, at: number, ms: number, zone: string): number {
  checkInstant(ms);
  const offset = zoneOffsetMs(ms, zone);
  const local = ms + offset;
  const day = Math.floor(local / MS_PER_DAY);
  const slot = day & (DAY_SLOTS - 1);
  if (DAY_KEYS[slot] !== day) {
    const w = wallClock(day * MS_PER_DAY);
    if (w.year <= 0 || w.year > 9999) return writeText(buf, at, timestampText(local, offsetText(offset)));
    DAY_BYTES.write(dateText(w).text, slot * 10, 'latin1');
    DAY_KEYS[slot] = day;
  }
  let p = at + 4;
  for (let i = 0, d = slot * 10; i < 10; i++) buf[p + i] = DAY_BYTES[d + i]!;
  p += 10;
  const t = local - day * MS_PER_DAY;
  const seconds = Math.floor(t / MS_PER_SECOND);
  const fraction = t - seconds * MS_PER_SECOND;
  const h = 2 * Math.floor(seconds / 3600);
  const m = 2 * (Math.floor(seconds / 60) % 60);
  const sec = 2 * (seconds % 60);
  buf[p] = 0x20; // ' '
  buf[p + 1] = DIGIT_CODES[h]!;
  buf[p + 2] = DIGIT_CODES[h + 1]!;
  buf[p + 3] = 0x3a; // ':'
  buf[p + 4] = DIGIT_CODES[m]!;
  buf[p + 5] = DIGIT_CODES[m + 1]!;
  buf[p + 6] = 0x3a;
  buf[p + 7] = DIGIT_CODES[sec]!;
  buf[p + 8] = DIGIT_CODES[sec + 1]!;
  p += 9;
  if (fraction !== 0) p += buf.write(fractionText(fraction), p, 'latin1');
  if (offset === 0) {
    buf[p] = 0x2b; // '+'
    buf[p + 1] = buf[p + 2] = 0x30;
    p += 3;
  } else {
    let o = OFFSET_BYTES.get(offset);
    if (o === undefined) {
      o = Buffer.from(offsetText(offset), 'latin1');
      if (OFFSET_BYTES.size >= MAX_CACHED_DAYS) OFFSET_BYTES.clear();
      OFFSET_BYTES.set(offset, o);
    }
    for (let i = 0; i < o.length; i++) buf[p + i] = o[i]!;
    p += o.length;
  }
  writeShortLength(buf, at, p - at - 4);
  return p;
}

function writeText(buf: Buffer, at: number, text: string): number {
  const n = buf.write(text, at + 4, 'latin1');
  writeShortLength(buf, at, n);
  return at + 4 + n;
}

/** An int32 length under 256, big-endian. */
function writeShortLength(buf: Buffer, at: number, n: number): void {
  buf[at] = buf[at + 1] = buf[at + 2] = 0;
  buf[at + 3] = n;
}

/** A timestamp without time zone: the UTC wall clock of `ms`, '2026-03-01 09:00:00'. */
export function formatTimestamp(ms: number): string {
  checkInstant(ms);
  return timestampText(ms, '');
}

/** A date: the calendar day of `ms` in `zone` (UTC by default), '2026-03-01', '0044-03-15 BC'. */
export function formatDate(ms: number, zone = 'UTC'): string {
  checkInstant(ms);
  const date = dateText(wallClock(ms + zoneOffsetMs(ms, zone)));
  return date.bc ? `${date.text} BC` : date.text;
}

/**
 * A duration as PostgreSQL prints an interval of seconds only (IntervalStyle 'postgres'):
 * '00:15:00', '25:00:00', '-00:00:01', '00:00:00.5'. A day shows as '24:00:00', not '1 day':
 * allot durations do not keep PostgreSQL's separate day field.
 */
export function formatInterval(ms: number): string {
  checkDuration(ms);
  const abs = Math.abs(ms);
  const hours = Math.floor(abs / MS_PER_HOUR);
  const minutes = Math.floor((abs % MS_PER_HOUR) / MS_PER_MINUTE);
  const seconds = Math.floor((abs % MS_PER_MINUTE) / MS_PER_SECOND);
  const text = `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${fractionText(abs % MS_PER_SECOND)}`;
  return ms < 0 ? `-${text}` : text;
}

// ---------------------------------------------------------------------------------------------
// Tokens (PostgreSQL's ParseDateTime, the part allot reads)

/**
 * number: '2026', '1.5'; date: '2026-03-01', '03/01/2026', '1-jan-2026'; time: '09:00:00.5';
 * word: a lowercased keyword or unit; zone: a name with punctuation ('europe/berlin', 'utc+3');
 * signed: '+01:00', '-5', '-1.5'.
 */
type TokenKind = 'number' | 'date' | 'time' | 'word' | 'zone' | 'signed';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

/** Why a date/time text was refused; the caller words the error for its type. */
class DecodeFailure {
  constructor(
    readonly kind: 'syntax' | 'field' | 'tzdisp' | 'range' | 'zone' | 'infinite' | 'now',
    readonly zone = '',
  ) {}
}

function fail(kind: DecodeFailure['kind'], zone?: string): never {
  throw new DecodeFailure(kind, zone);
}

/**
 * Words that end a token even when a digit follows, so 't09:00' and '1h30m' split; any other word
 * run into digits or punctuation is a zone name ('utc+3'). PostgreSQL's datetktbl, in part.
 */
const CORE_WORDS = new Set([
  't',
  'd',
  'h',
  'm',
  's',
  'y',
  'j',
  'am',
  'pm',
  'ad',
  'bc',
  'on',
  'allballs',
  'epoch',
  'now',
  'today',
  'tomorrow',
  'yesterday',
  'infinity',
]);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isPunct = (c: string): boolean => /^[!-/:-@[-`{-~]$/.test(c);

/** Splits date/time text into fields as PostgreSQL does; other punctuation separates fields. */
function tokenize(text: string): Token[] {
  if (text.length > MAX_TIME_TEXT_CHARS) fail('syntax');
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const skipped = c === '.' ? !isDigit(text.charAt(i + 1)) : isSpace(c) || (isPunct(c) && c !== '+' && c !== '-');
    if (skipped) {
      i++;
      continue;
    }
    let token: { kind: TokenKind; end: number };
    if (isDigit(c)) token = digitToken(text, i);
    else if (c === '.') token = { kind: 'number', end: skip(text, i + 1, isDigit) };
    else if (isAlpha(c)) token = wordToken(text, i);
    else if (c === '+' || c === '-') token = signedToken(text, i);
    else fail('syntax');
    const raw = text.slice(i, token.end);
    const kept = token.kind === 'signed' ? raw.replace(/\s+/g, '') : token.kind === 'zone' ? raw : raw.toLowerCase();
    tokens.push({ kind: token.kind, text: kept });
    if (tokens.length > MAX_TIME_TEXT_FIELDS) fail('syntax');
    i = token.end;
  }
  return tokens;
}

/** The index after the run of characters from `i` that satisfy `ok`. */
function skip(text: string, i: number, ok: (c: string) => boolean): number {
  let j = i;
  while (j < text.length && ok(text.charAt(j))) j++;
  return j;
}

/** A field starting with a digit: number, time ('9:00') or date ('2026-03-01'; '1.5' is a number). */
function digitToken(text: string, start: number): { kind: TokenKind; end: number } {
  let i = skip(text, start, isDigit);
  const delim = text.charAt(i);
  if (delim === ':') return { kind: 'time', end: skip(text, i + 1, (c) => isDigit(c) || c === ':' || c === '.') };
  if (delim !== '-' && delim !== '/' && delim !== '.') return { kind: 'number', end: i };
  i++;
  if (!isDigit(text.charAt(i))) return { kind: 'date', end: skip(text, i, (c) => isDigit(c) || isAlpha(c) || c === delim) };
  i = skip(text, i, isDigit);
  if (text.charAt(i) !== delim) return { kind: delim === '.' ? 'number' : 'date', end: i };
  return { kind: 'date', end: skip(text, i, (c) => isDigit(c) || c === delim) };
}

/** A field starting with a letter: a word, or a zone name / text-month date with punctuation. */
function wordToken(text: string, start: number): { kind: TokenKind; end: number } {
  const i = skip(text, start, isAlpha);
  const word = text.slice(start, i).toLowerCase();
  const next = text.charAt(i);
  const keyword = CORE_WORDS.has(word) || MONTHS.has(word) || WEEKDAYS.has(word);
  const joined = next === '-' || next === '/' || next === '.' || ((next === '+' || isDigit(next)) && !keyword);
  if (!joined) return { kind: 'word', end: i };
  return { kind: 'zone', end: skip(text, i, (c) => /[A-Za-z0-9+\-/_.:]/.test(c)) };
}

/** A field starting with a sign: an offset or signed number ('+01:00', '- 1'), or '-infinity'. */
function signedToken(text: string, start: number): { kind: TokenKind; end: number } {
  const i = skip(text, start + 1, isSpace);
  if (isDigit(text.charAt(i))) {
    return { kind: 'signed', end: skip(text, i, (c) => isDigit(c) || c === ':' || c === '.' || c === '-') };
  }
  if (!isAlpha(text.charAt(i))) fail('syntax');
  return { kind: 'word', end: skip(text, i, isAlpha) };
}

/** A time of day or of an interval, split: 'h:m', 'h:m:s', 'h:m:s.f', and 'm:s.f'. */
interface TimeParts {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Fraction of a second in microseconds, rounded as PostgreSQL rounds it (0..1 000 000). */
  readonly us: number;
}

/** Microseconds of a fraction '.123456789' (PostgreSQL: rint(strtod(frac) * 1e6)). */
function fractionUs(fraction: string): number {
  if (!/^\.\d*$/.test(fraction)) fail('syntax');
  return fraction.length === 1 ? 0 : rint(Number(`0${fraction}`) * US_PER_SECOND);
}

/**
 * PostgreSQL's DecodeTime: two fields are hours:minutes, or minutes:seconds when they carry a
 * fraction or when `minuteToSecond` (an interval qualified MINUTE TO SECOND).
 */
function decodeTime(text: string, minuteToSecond: boolean): TimeParts {
  const m = /^(\d*):(\d*)(?::(\d*))?(\.\d*)?$/.exec(text);
  if (m === null) fail('syntax');
  let [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const us = m[4] === undefined ? 0 : fractionUs(m[4]);
  if (m[3] === undefined && (m[4] !== undefined || minuteToSecond)) [hour, minute, second] = [0, hour, minute];
  if (!Number.isSafeInteger(hour) || minute > 59 || second > 60) fail('field');
  return { hour, minute, second, us };
}

// ---------------------------------------------------------------------------------------------
// Timestamp input

const MONTHS = new Map<string, number>([
  ['jan', 1],
  ['january', 1],
  ['feb', 2],
  ['february', 2],
  ['mar', 3],
  ['march', 3],
  ['apr', 4],
  ['april', 4],
  ['may', 5],
  ['jun', 6],
  ['june', 6],
  ['jul', 7],
  ['july', 7],
  ['aug', 8],
  ['august', 8],
  ['sep', 9],
  ['sept', 9],
  ['september', 9],
  ['oct', 10],
  ['october', 10],
  ['nov', 11],
  ['november', 11],
  ['dec', 12],
  ['december', 12],
]);

const WEEKDAYS = new Set([
  'sun',
  'sunday',
  'mon',
  'monday',
  'tue',
  'tues',
  'tuesday',
  'wed',
  'wednesday',
  'thu',
  'thur',
  'thurs',
  'thursday',
  'fri',
  'friday',
  'sat',
  'saturday',
]);

/**
 * The fixed-offset abbreviations of PostgreSQL's 'Default' set that clients commonly write,
 * seconds east. (PostgreSQL has ~190, some tied to a zone's history; those are left out.)
 */
const ZONE_ABBREVIATIONS = new Map<string, number>([
  ['z', 0],
  ['zulu', 0],
  ['utc', 0],
  ['ut', 0],
  ['gmt', 0],
  ['wet', 0],
  ['bst', 3600],
  ['cet', 3600],
  ['met', 3600],
  ['cest', 7200],
  ['mest', 7200],
  ['eet', 7200],
  ['eest', 10800],
  ['ist', 7200],
  ['est', -18000],
  ['edt', -14400],
  ['cst', -21600],
  ['cdt', -18000],
  ['mst', -25200],
  ['mdt', -21600],
  ['pst', -28800],
  ['pdt', -25200],
  ['akst', -32400],
  ['akdt', -28800],
  ['hst', -36000],
  ['jst', 32400],
  ['kst', 32400],
  ['hkt', 28800],
  ['awst', 28800],
  ['acst', 34200],
  ['acdt', 37800],
  ['aest', 36000],
  ['aedt', 39600],
  ['nzst', 43200],
  ['nzdt', 46800],
]);

type Special = 'epoch' | 'now' | 'today' | 'tomorrow' | 'yesterday' | 'infinity';

/** Fields read from a timestamp text, before they are checked and turned into an instant. */
interface DateTimeFields {
  year?: number;
  yearDigits: number;
  month?: number;
  day?: number;
  textMonth: boolean;
  bc: boolean;
  time?: TimeParts;
  meridiem?: 'am' | 'pm';
  afterT: boolean;
  /** Explicit offset east of UTC, from '+01:00' or an abbreviation. */
  offsetMs?: number;
  /** A zone named in the text ('Europe/Berlin'), in which the wall clock is read. */
  zone?: string;
  special?: Special;
}

/** Reads every token into fields; each kind of field may appear once. */
function decodeDateTime(tokens: readonly Token[]): DateTimeFields {
  const f: DateTimeFields = { yearDigits: 0, textMonth: false, bc: false, afterT: false };
  for (const token of tokens) {
    const afterT = f.afterT;
    f.afterT = false;
    switch (token.kind) {
      case 'date':
        decodeDateToken(token.text, f);
        break;
      case 'number':
        decodeNumberToken(token.text, f, afterT);
        break;
      case 'time':
        if (f.time !== undefined) fail('syntax');
        f.time = decodeTime(token.text, false);
        break;
      case 'word':
        decodeWord(token.text, f);
        break;
      case 'zone':
        decodeZoneToken(token.text, f);
        break;
      case 'signed':
        setOffset(f, decodeOffset(token.text));
        break;
      default:
        assertNever(token.kind);
    }
  }
  return f;
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${String(x)}`);
}

function setDate(f: DateTimeFields, year: number, yearDigits: number, month: number, day: number): void {
  if (f.year !== undefined || f.month !== undefined || f.day !== undefined) fail('syntax');
  Object.assign(f, { year, yearDigits, month, day });
}

function setOffset(f: DateTimeFields, offsetMs: number): void {
  if (f.offsetMs !== undefined || f.zone !== undefined) fail('syntax');
  f.offsetMs = offsetMs;
}

/** '2026-03-01', '2026/03/01', '03/01/2026' (MDY), '03-01-26', '1-jan-2026', '2026.03.01'. */
function decodeDateToken(text: string, f: DateTimeFields): void {
  if (f.time !== undefined) fail('syntax'); // as PostgreSQL: the date comes before the time
  const parts = text.split(/[-/.]/);
  if (parts.length !== 3 || parts.some((p) => p === '')) fail('syntax');
  const textIndex = parts.findIndex((p) => !/^\d+$/.test(p));
  if (textIndex >= 0) {
    const month = MONTHS.get(parts[textIndex] ?? '');
    if (month === undefined) fail('syntax');
    const [a = '', b = ''] = parts.filter((_, i) => i !== textIndex);
    const yearFirst = a.length > 2;
    const [y, d] = yearFirst ? [a, b] : [b, a];
    f.textMonth = true;
    return setDate(f, Number(y), y.length, month, Number(d));
  }
  const [a = '', b = '', c = ''] = parts;
  if (a.length > 2) return setDate(f, Number(a), a.length, Number(b), Number(c));
  setDate(f, Number(c), c.length, Number(a), Number(b)); // DateStyle MDY
}

/**
 * A number alone: 'YYYYMMDD' (any run of 6+ digits before a date is one, read from the end),
 * 'hhmmss'/'hhmm' after a date or 'T', or one field of 'March 1, 2026' / '2026 Mar 1'.
 */
function decodeNumberToken(text: string, f: DateTimeFields, afterT: boolean): void {
  const dot = text.indexOf('.');
  const digits = dot < 0 ? text : text.slice(0, dot);
  const haveDate = f.year !== undefined && f.month !== undefined && f.day !== undefined;
  if (dot >= 0 && !afterT && digits.length <= 2) fail('syntax');
  if (!afterT && !haveDate && digits.length >= 6 && f.month === undefined && f.day === undefined) {
    if (dot >= 0) fail('syntax');
    const n = digits.length;
    return setDate(f, Number(digits.slice(0, n - 4)), n - 4, Number(digits.slice(n - 4, n - 2)), Number(digits.slice(n - 2)));
  }
  if (afterT || (haveDate && (digits.length === 4 || digits.length === 6))) {
    return setRunTogetherTime(digits, dot < 0 ? '' : text.slice(dot), f);
  }
  if (f.year === undefined && digits.length >= 3) Object.assign(f, { year: Number(digits), yearDigits: digits.length });
  else if (f.day === undefined && digits.length <= 2) f.day = Number(digits);
  else if (f.year === undefined) Object.assign(f, { year: Number(digits), yearDigits: digits.length });
  else fail('syntax');
}

/** 'hhmmss[.f]' or 'hhmm' written without colons ('20260301T090000'). */
function setRunTogetherTime(digits: string, fraction: string, f: DateTimeFields): void {
  if (f.time !== undefined || (digits.length !== 4 && digits.length !== 6)) fail('syntax');
  const second = digits.length === 6 ? Number(digits.slice(4, 6)) : 0;
  f.time = { hour: Number(digits.slice(0, 2)), minute: Number(digits.slice(2, 4)), second, us: fraction === '' ? 0 : fractionUs(fraction) };
  if (f.time.minute > 59 || second > 60) fail('field');
}

/** Keywords, month and weekday names, eras, AM/PM and zone abbreviations. */
function decodeWord(word: string, f: DateTimeFields): void {
  const month = MONTHS.get(word);
  const abbreviation = ZONE_ABBREVIATIONS.get(word);
  if (month !== undefined) {
    if (f.month !== undefined) fail('syntax');
    f.month = month;
    f.textMonth = true;
  } else if (abbreviation !== undefined) setOffset(f, abbreviation * MS_PER_SECOND);
  else if (word === 't') f.afterT = true;
  else if (word === 'am' || word === 'pm') {
    if (f.meridiem !== undefined) fail('syntax');
    f.meridiem = word;
  } else if (word === 'bc') f.bc = true;
  else if (word === 'ad' || word === 'on' || WEEKDAYS.has(word)) return;
  else if (word === 'allballs') {
    if (f.time !== undefined) fail('syntax');
    f.time = { hour: 0, minute: 0, second: 0, us: 0 };
  } else if (word === '-infinity' || word === '+infinity' || word === 'infinity') setSpecial(f, 'infinity');
  else if (word === 'epoch' || word === 'now' || word === 'today' || word === 'tomorrow' || word === 'yesterday') setSpecial(f, word);
  else fail('syntax');
}

function setSpecial(f: DateTimeFields, special: Special): void {
  if (f.special !== undefined) fail('syntax');
  f.special = special;
}

/** A word run into punctuation: a text-month date ('jan-01-2026'), else a zone name. */
function decodeZoneToken(text: string, f: DateTimeFields): void {
  const lead = /^[a-z]+/i.exec(text)?.[0].toLowerCase() ?? '';
  if (MONTHS.has(lead) && f.month === undefined) return decodeDateToken(text.toLowerCase(), f);
  const relativeDay = f.special === 'today' || f.special === 'tomorrow' || f.special === 'yesterday';
  if (!relativeDay && (f.month === undefined || f.day === undefined)) fail('syntax'); // a zone follows the date
  if (zoneRule(text) === undefined) fail('zone', text.toLowerCase());
  if (f.offsetMs !== undefined || f.zone !== undefined) fail('syntax');
  f.zone = text;
}

/** PostgreSQL's DecodeTimezone: '+h', '+hh', '+hhmm', '+hh:mm', '+hh:mm:ss', up to 15:59:59. */
function decodeOffset(text: string): number {
  const m = /^([+-])(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(text);
  if (m === null) fail('syntax');
  let [hours, minutes] = [Number(m[2]), Number(m[3] ?? 0)];
  const seconds = Number(m[4] ?? 0);
  if (m[3] === undefined && text.length > 3) [hours, minutes] = [Math.floor(hours / 100), hours % 100];
  if (hours > MAX_TEXT_OFFSET_HOURS || minutes > 59 || seconds > 59) fail('tzdisp');
  const east = (hours * 3600 + minutes * 60 + seconds) * MS_PER_SECOND;
  return m[1] === '-' ? -east : east;
}

/** Local wall clock (ms since 1970 "local") of the checked fields; 'today' &c. read `today`. */
function localMsOf(f: DateTimeFields, today: number | undefined): number {
  let days: number;
  if (f.special === 'today' || f.special === 'tomorrow' || f.special === 'yesterday') {
    if (f.year !== undefined || f.month !== undefined || f.day !== undefined) fail('syntax');
    if (today === undefined) fail('now');
    days = today + (f.special === 'tomorrow' ? 1 : f.special === 'yesterday' ? -1 : 0);
  } else {
    if (f.year === undefined || f.month === undefined || f.day === undefined) fail('syntax');
    let year = f.year;
    if (f.yearDigits <= 2 && !f.bc) year += year < 70 ? 2000 : 1900;
    if (year < 1) fail('field');
    if (f.bc) year = 1 - year;
    if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(year, f.month)) fail('field');
    days = daysFromCivil(year, f.month, f.day);
  }
  return days * MS_PER_DAY + timeOfDayMs(f);
}

/** The time of day in ms (≤ 24:00:00 exactly, with 12-hour clocks and leap second 60 read). */
function timeOfDayMs(f: DateTimeFields): number {
  const t = f.time ?? { hour: 0, minute: 0, second: 0, us: 0 };
  let hour = t.hour;
  if (f.meridiem !== undefined) {
    if (hour > 12) fail('field');
    if (f.meridiem === 'am' && hour === 12) hour = 0;
    else if (f.meridiem === 'pm' && hour !== 12) hour += 12;
  }
  const us = ((hour * 60 + t.minute) * 60 + t.second) * US_PER_SECOND + t.us;
  if (us > US_PER_DAY) fail('field');
  return Math.floor(us / 1000);
}

/** Runs a decoder, turning a DecodeFailure into the AllotError PostgreSQL raises for `typeName`. */
function withDecodeErrors<T>(text: string, typeName: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw e instanceof DecodeFailure ? decodeError(e, text, typeName) : e;
  }
}

function decodeError(e: DecodeFailure, text: string, typeName: string): AllotError {
  const interval = typeName === 'interval';
  switch (e.kind) {
    case 'syntax':
      return new AllotError(SqlState.invalidDatetimeFormat, `invalid input syntax for type ${typeName}: "${text}"`);
    case 'field':
      return interval
        ? new AllotError(SqlState.intervalFieldOverflow, `interval field value out of range: "${text}"`)
        : new AllotError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${text}"`);
    case 'tzdisp':
      return new AllotError(SqlState.invalidTimeZoneDisplacementValue, `time zone displacement out of range: "${text}"`);
    case 'range':
      return interval
        ? new AllotError(SqlState.intervalFieldOverflow, `interval field value out of range: "${text}"`)
        : new AllotError(SqlState.datetimeFieldOverflow, `${typeName === 'date' ? 'date' : 'timestamp'} out of range: "${text}"`);
    case 'zone':
      return new AllotError(SqlState.invalidParameterValue, `time zone "${e.zone}" not recognized`);
    case 'infinite':
      return notFinite();
    case 'now':
      return new AllotError(SqlState.featureNotSupported, `"${text}" needs the statement's time, which is not known here`);
    default:
      return assertNever(e.kind);
  }
}

/** Decodes a timestamp text to its fields, handling the words that stand alone. */
function timestampFields(text: string, now: number | undefined): DateTimeFields | number {
  const f = decodeDateTime(tokenize(text));
  if (f.special === 'infinity') fail('infinite');
  if (f.special === 'epoch' || f.special === 'now') {
    const alone = f.year === undefined && f.month === undefined && f.day === undefined && f.time === undefined;
    if (!alone || (f.special === 'now' && (f.offsetMs !== undefined || f.zone !== undefined))) fail('syntax');
    if (f.special === 'epoch') return 0;
    return now ?? fail('now');
  }
  return f;
}

/** The local day number of `now` in `zone`, for 'today', 'tomorrow' and 'yesterday'. */
function todayIn(now: number | undefined, zone: string): number | undefined {
  return now === undefined ? undefined : Math.floor((now + zoneOffsetMs(now, zone)) / MS_PER_DAY);
}

/**
 * A timestamptz text as PostgreSQL 15 reads it, to an instant. Wall clocks without an offset are
 * read in `zone` (or in a zone named in the text), with PostgreSQL's rule for DST gaps and
 * overlaps (see localToInstant). Accepts ISO 8601 with 'T' or a space ('2026-03-01T09:00:00Z',
 * '2026-03-01 09:00:00.5+01:00'), offsets 'Z', '+01', '+0100', '+01:00', '-05:30', zone names
 * and common abbreviations ('… Europe/Berlin', '… UTC', '… EST'), a date alone (midnight),
 * 'March 1, 2026', '03/01/2026' (MDY), '20260301T090000', BC, and 'epoch'; 'now', 'today',
 * 'tomorrow', 'yesterday' read `now`. A number alone is not Unix time (as in PostgreSQL).
 */
export function parseTimestamptz(text: string, zone: string, now?: number): number {
  sessionZone(zone);
  return withDecodeErrors(text, 'timestamp with time zone', () => {
    const f = timestampFields(text, now);
    if (typeof f === 'number') return f;
    const local = localMsOf(f, todayIn(now, zone));
    const ms = f.offsetMs !== undefined ? local - f.offsetMs : localToInstant(local, f.zone ?? zone);
    if (!(ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS)) fail('range');
    return ms;
  });
}

/**
 * A timestamp (without time zone) text to its wall clock as UTC milliseconds. As in PostgreSQL,
 * an offset or zone in the text is ignored; 'now' and 'today' read `now` on the clock of `zone`.
 */
export function parseTimestamp(text: string, now?: number, zone = 'UTC'): number {
  sessionZone(zone);
  return withDecodeErrors(text, 'timestamp without time zone', () => {
    const f = timestampFields(text, now === undefined ? undefined : now + zoneOffsetMs(now, zone));
    const ms = typeof f === 'number' ? f : localMsOf(f, todayIn(now, zone));
    if (!(ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS)) fail('range');
    return ms;
  });
}

/** A date text ('2026-03-01', or any timestamp: its time is dropped) to its UTC midnight in ms. */
export function parseDate(text: string, now?: number, zone = 'UTC'): number {
  sessionZone(zone);
  return withDecodeErrors(text, 'date', () => {
    const f = timestampFields(text, now === undefined ? undefined : now + zoneOffsetMs(now, zone));
    const local = typeof f === 'number' ? f : localMsOf(f, todayIn(now, zone));
    const ms = Math.floor(local / MS_PER_DAY) * MS_PER_DAY;
    if (!(ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS)) fail('range');
    return ms;
  });
}

// ---------------------------------------------------------------------------------------------
// Units (PostgreSQL's deltatktbl and the extract-only words of datetktbl)

type Unit =
  | 'microsecond'
  | 'millisecond'
  | 'second'
  | 'minute'
  | 'hour'
  | 'day'
  | 'week'
  | 'month'
  | 'quarter'
  | 'year'
  | 'decade'
  | 'century'
  | 'millennium'
  | 'timezone'
  | 'timezone_hour'
  | 'timezone_minute';
type ExtractOnly = 'dow' | 'isodow' | 'doy' | 'isoyear' | 'julian' | 'epoch';

const UNITS = new Map<string, Unit>();
for (const [unit, names] of [
  ['microsecond', 'microsecon us usec usecs usecond useconds'],
  ['millisecond', 'millisecon ms msec msecs msecond mseconds'],
  ['second', 's sec secs second seconds'],
  ['minute', 'm min mins minute minutes'],
  ['hour', 'h hr hrs hour hours'],
  ['day', 'd day days'],
  ['week', 'w week weeks'],
  ['month', 'mon mons month months'],
  ['quarter', 'qtr quarter'],
  ['year', 'y yr yrs year years'],
  ['decade', 'dec decs decade decades'],
  ['century', 'c cent century centuries'],
  ['millennium', 'mil mils millennia millennium'],
  ['timezone', 'timezone'],
  ['timezone_hour', 'timezone_h'],
  ['timezone_minute', 'timezone_m'],
] as const) {
  for (const name of names.split(' ')) UNITS.set(name, unit);
}
const EXTRACT_ONLY = new Map<string, ExtractOnly>([
  ['dow', 'dow'],
  ['isodow', 'isodow'],
  ['doy', 'doy'],
  ['isoyear', 'isoyear'],
  ['j', 'julian'],
  ['jd', 'julian'],
  ['julian', 'julian'],
  ['epoch', 'epoch'],
]);

/** A unit by any of its PostgreSQL spellings; like PostgreSQL, only 10 characters count. */
function lookupUnit(name: string): Unit | undefined {
  return UNITS.get(name.toLowerCase().slice(0, 10));
}

function unitError(code: SqlStateCode, field: string, how: string, typeName: string): AllotError {
  return new AllotError(code, `unit "${field.toLowerCase()}" ${how} for type ${typeName}`);
}

// ---------------------------------------------------------------------------------------------
// Interval input

/** An interval as PostgreSQL keeps it while reading: days apart from microseconds. */
interface IntervalParts {
  days: number;
  us: bigint;
  /** A month-based unit (month, year, decade, …, 'Y-M') with a nonzero amount was given. */
  monthUnits: boolean;
}

type RangeName =
  | 'year'
  | 'month'
  | 'day'
  | 'hour'
  | 'minute'
  | 'second'
  | 'year to month'
  | 'day to hour'
  | 'day to minute'
  | 'day to second'
  | 'hour to minute'
  | 'hour to second'
  | 'minute to second';

/** An SQL interval qualifier: its fields, and the precision of its seconds (0..6, or full). */
interface IntervalRange {
  readonly name: RangeName;
  readonly precision: number | undefined;
}

const RANGE_NAMES: ReadonlySet<string> = new Set<RangeName>([
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'year to month',
  'day to hour',
  'day to minute',
  'day to second',
  'hour to minute',
  'hour to second',
  'minute to second',
]);

/** 'HOUR TO MINUTE', 'minute', 'day to second(3)' → the qualifier; anything else is 42601. */
function intervalRange(qualifier: string): IntervalRange {
  const m = /^\s*([a-z ]+?)\s*(?:\(\s*(\d)\s*\))?\s*$/.exec(qualifier.toLowerCase().replace(/\s+/g, ' '));
  const name = m?.[1] ?? '';
  if (m === null || !RANGE_NAMES.has(name) || (m[2] !== undefined && !name.endsWith('second'))) {
    throw new AllotError(SqlState.syntaxError, `invalid interval qualifier "${qualifier}"`);
  }
  return { name: name as RangeName, precision: m[2] === undefined ? undefined : Math.min(6, Number(m[2])) };
}

/** The unit of a number without one, which PostgreSQL takes from the qualifier's last field. */
function defaultUnit(range: IntervalRange | undefined): Unit {
  const last = range?.name.split(' ').pop();
  return last === 'year' || last === 'month' || last === 'day' || last === 'hour' || last === 'minute' ? last : 'second';
}

/**
 * An interval text to milliseconds, as PostgreSQL 15 reads `interval`: '15 minutes', '1 hour 30
 * min', '2h', '1.5 hours', '1 day' (24 h), '1 week', '01:30:00', '01:30', '-1 hour', '@ 1 hour ago',
 * ISO 8601 'PT15M', 'P1DT2H', 'P0000-00-01T02:00:00', and with a qualifier the SQL forms
 * (`'1:30'` HOUR TO MINUTE, `'10'` MINUTE). Months and years are refused (0A000): allot
 * durations are exact. Microseconds are kept as PostgreSQL does, then floored to milliseconds.
 */
export function parseInterval(text: string, qualifier?: string): number {
  const range = qualifier === undefined ? undefined : intervalRange(qualifier);
  const parts = decodeIntervalText(text, range);
  if (parts.monthUnits) throw monthsRefused(text);
  const ms = BigInt(parts.days) * BigInt(MS_PER_DAY) + floorDiv(parts.us, US_PER_MS);
  if (ms > BigInt(MAX_DURATION_MS) || ms < -BigInt(MAX_DURATION_MS)) {
    throw new AllotError(SqlState.intervalFieldOverflow, `interval field value out of range: "${text}"`);
  }
  return noNegativeZero(Number(ms));
}

/** Reads PostgreSQL's interval syntax, or else ISO 8601's, then applies the qualifier. */
function decodeIntervalText(text: string, range: IntervalRange | undefined): IntervalParts {
  return withDecodeErrors(text, 'interval', () => {
    let parts: IntervalParts;
    try {
      parts = decodeIntervalTokens(tokenize(text), range);
    } catch (e) {
      if (!(e instanceof DecodeFailure) || e.kind !== 'syntax') throw e;
      parts = decodeIso8601Interval(text);
    }
    return truncateToRange(parts, range);
  });
}

/** Masks of the fields an interval names, so that none is given twice ('1 hour 1 hour'). */
const FIELD_BIT: Record<Unit, number> = {
  microsecond: 1,
  millisecond: 2,
  second: 4,
  minute: 8,
  hour: 16,
  day: 32,
  week: 64,
  month: 128,
  quarter: 0,
  year: 256,
  decade: 512,
  century: 1024,
  millennium: 2048,
  timezone: 0,
  timezone_hour: 0,
  timezone_minute: 0,
};
const TIME_BITS = 1 | 2 | 4 | 8 | 16;

/**
 * PostgreSQL's DecodeInterval, read right to left so a unit reaches the number before it. A
 * number without a unit takes the qualifier's last field, or seconds; left of an hour or a time
 * it is days ('1 2:00' is a day and two hours).
 */
function decodeIntervalTokens(tokens: readonly Token[], range: IntervalRange | undefined): IntervalParts {
  const parts: IntervalParts = { days: 0, us: 0n, monthUnits: false };
  let unit: Unit | 'none' | undefined;
  let seen = 0;
  let ago = false;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i];
    if (token === undefined) break;
    let bits = 0;
    if (token.kind === 'time' || (token.kind === 'signed' && token.text.includes(':'))) {
      const negative = token.text.startsWith('-');
      const t = decodeTime(token.text.replace(/^[+-]/, ''), range?.name === 'minute to second');
      const us = (BigInt(t.hour) * 60n + BigInt(t.minute)) * 60_000_000n + BigInt(t.second * US_PER_SECOND + t.us);
      parts.us += negative ? -us : us;
      [bits, unit] = [TIME_BITS, 'day'];
    } else if (token.kind === 'number' || token.kind === 'signed' || token.kind === 'date') {
      const u = unit === undefined ? defaultUnit(range) : unit;
      if (u === 'none') fail('syntax');
      bits = addAmount(parts, token.text, u);
      if (u === 'hour') unit = 'day';
      else unit = u;
    } else if (token.kind === 'word' && token.text === 'ago') [ago, unit] = [true, 'none'];
    else if (token.kind === 'word' && lookupUnit(token.text) !== undefined) unit = lookupUnit(token.text);
    else fail('syntax');
    if (bits & seen) fail('syntax');
    seen |= bits;
  }
  if (seen === 0) fail('syntax');
  return ago ? { days: -parts.days, us: -parts.us, monthUnits: parts.monthUnits } : parts;
}

/** Microseconds in one of each exact unit. */
const UNIT_US: Partial<Record<Unit, number>> = {
  microsecond: 1,
  millisecond: 1000,
  second: US_PER_SECOND,
  minute: 60 * US_PER_SECOND,
  hour: 3600 * US_PER_SECOND,
};

/** PostgreSQL's rounding of a fraction of a unit to microseconds: to nearest, .5 toward zero. */
function fractionToUs(fraction: number, scaleUs: number): bigint {
  const x = fraction * scaleUs;
  const whole = Math.trunc(x);
  const rest = x - whole;
  return BigInt(whole + (rest > 0.5 ? 1 : rest < -0.5 ? -1 : 0));
}

/** Adds '2', '-1.5' or (year-month) '1-2' of `unit` to the parts; returns the field's bit. */
function addAmount(parts: IntervalParts, text: string, unit: Unit): number {
  const ym = /^([+-]?)(\d+)-(\d+)$/.exec(text);
  if (ym !== null) {
    parts.monthUnits ||= Number(ym[2]) !== 0 || Number(ym[3]) !== 0;
    return FIELD_BIT.year | FIELD_BIT.month;
  }
  const m = /^([+-]?)(\d*)(\.\d*)?$/.exec(text);
  if (m === null || (m[2] === '' && m[3] === undefined)) fail('syntax');
  const sign = m[1] === '-' ? -1 : 1;
  const whole = BigInt(m[2] === '' ? 0 : (m[2] ?? 0)) * BigInt(sign);
  const fraction = m[3] === undefined || m[3] === '.' ? 0 : sign * Number(`0${m[3]}`);
  addUnits(parts, whole, fraction, unit);
  return unit === 'second' && fraction !== 0 ? FIELD_BIT.second | FIELD_BIT.millisecond | FIELD_BIT.microsecond : FIELD_BIT[unit];
}

/** whole + fraction of `unit`: days and weeks into days (their fraction into µs), time into µs. */
function addUnits(parts: IntervalParts, whole: bigint, fraction: number, unit: Unit): void {
  const scaleUs = UNIT_US[unit];
  if (scaleUs !== undefined) {
    parts.us += whole * BigInt(scaleUs) + fractionToUs(fraction, scaleUs);
  } else if (unit === 'day' || unit === 'week') {
    const perUnit = unit === 'week' ? 7 : 1;
    const days = whole * BigInt(perUnit);
    if (days > BigInt(INT32_MAX) || days < BigInt(INT32_MIN)) fail('field');
    const extra = fraction * perUnit;
    parts.days += Number(days) + Math.trunc(extra);
    parts.us += fractionToUs(extra - Math.trunc(extra), US_PER_DAY);
  } else if (unit === 'month' || unit === 'year' || unit === 'decade' || unit === 'century' || unit === 'millennium') {
    parts.monthUnits ||= whole !== 0n || fraction !== 0;
  } else fail('syntax');
}

/**
 * ISO 8601 durations, which PostgreSQL reads when its own syntax fails: 'P1DT2H30M', 'PT1.5S',
 * 'P1W', 'PT-1H'; and the alternative form 'P0000-00-01T02:00:00'. Designators are upper case.
 */
function decodeIso8601Interval(text: string): IntervalParts {
  if (text.length < 2 || !text.startsWith('P')) fail('syntax');
  const alt = /^P(\d+)-(\d+)-(\d+)(?:T(\d+):(\d+):(\d+)(\.\d*)?)?$/.exec(text);
  if (alt !== null) {
    const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = alt.slice(1, 7).map((x) => Number(x ?? 0));
    const us = BigInt(((h * 60 + mi) * 60 + s) * US_PER_SECOND + (alt[7] === undefined ? 0 : fractionUs(alt[7])));
    return { days: d, us, monthUnits: y !== 0 || mo !== 0 };
  }
  const parts: IntervalParts = { days: 0, us: 0n, monthUnits: false };
  let timePart = false;
  for (let i = 1; i < text.length; ) {
    if (text.charAt(i) === 'T' && !timePart) {
      [timePart, i] = [true, i + 1];
      continue;
    }
    const m = /^(-?)(\d*)(\.\d*)?([A-Z])/.exec(text.slice(i));
    const unit = m === null ? undefined : isoDesignator(m[4] ?? '', timePart);
    if (m === null || unit === undefined || (m[2] === '' && (m[3] ?? '.') === '.')) fail('syntax');
    const sign = m[1] === '-' ? -1 : 1;
    const fraction = m[3] === undefined || m[3] === '.' ? 0 : sign * Number(`0${m[3]}`);
    addUnits(parts, BigInt(m[2] === '' ? 0 : (m[2] ?? 0)) * BigInt(sign), fraction, unit);
    i += m[0].length;
  }
  return parts;
}

/** Y, M, W, D before 'T'; H, M, S after it. */
function isoDesignator(letter: string, timePart: boolean): Unit | undefined {
  const date: Record<string, Unit> = { Y: 'year', M: 'month', W: 'week', D: 'day' };
  const time: Record<string, Unit> = { H: 'hour', M: 'minute', S: 'second' };
  return (timePart ? time : date)[letter];
}

/**
 * PostgreSQL's AdjustIntervalForTypmod: fields below the qualifier's last are dropped (toward
 * zero: '1:30:45' HOUR TO MINUTE is 01:30), and SECOND(p) rounds to p digits.
 */
function truncateToRange(parts: IntervalParts, range: IntervalRange | undefined): IntervalParts {
  if (range === undefined) return parts;
  const last = range.name.split(' ').pop();
  const keepUs = (scale: bigint): bigint => (parts.us / scale) * scale;
  switch (last) {
    case 'year':
    case 'month':
      return { days: 0, us: 0n, monthUnits: parts.monthUnits };
    case 'day':
      return { ...parts, us: 0n };
    case 'hour':
      return { ...parts, us: keepUs(3_600_000_000n) };
    case 'minute':
      return { ...parts, us: keepUs(60_000_000n) };
    default: {
      if (range.precision === undefined) return parts;
      const scale = 10n ** BigInt(6 - range.precision);
      const abs = parts.us < 0n ? -parts.us : parts.us;
      const rounded = ((abs + scale / 2n) / scale) * scale;
      return { ...parts, us: parts.us < 0n ? -rounded : rounded };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Binary wire formats

/** int64 microseconds since 2000-01-01 00:00 UTC, big-endian (timestamptz and timestamp). */
export function encodeTimestamptzBinary(ms: number): Buffer {
  checkInstant(ms);
  const buf = Buffer.alloc(8);
  buf.writeBigInt64BE(BigInt(ms - PG_EPOCH_MS) * US_PER_MS);
  return buf;
}

function binaryLength(buf: Buffer, bytes: number, typeName: string): void {
  if (buf.length !== bytes) {
    throw new AllotError(SqlState.invalidBinaryRepresentation, `incorrect binary data format: ${typeName} takes ${bytes} bytes, got ${buf.length}`);
  }
}

/** The instant of a binary timestamptz; microseconds below a millisecond are floored. */
export function decodeTimestamptzBinary(buf: Buffer): number {
  binaryLength(buf, 8, 'timestamptz');
  const us = buf.readBigInt64BE(0);
  if (us === INT64_MAX || us === INT64_MIN) throw notFinite();
  const ms = Number(floorDiv(us, US_PER_MS)) + PG_EPOCH_MS;
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) throw timestampOutOfRange(`${us} µs since 2000-01-01`);
  return ms;
}

/** int64 microseconds, int32 days (0), int32 months (0): a duration as PostgreSQL sends one. */
export function encodeIntervalBinary(ms: number): Buffer {
  checkDuration(ms);
  const buf = Buffer.alloc(16);
  buf.writeBigInt64BE(BigInt(ms) * US_PER_MS, 0);
  return buf;
}

/** days × 24 h + µs (floored to ms) of a binary interval; months are refused (not exact). */
export function decodeIntervalBinary(buf: Buffer): number {
  binaryLength(buf, 16, 'interval');
  const months = buf.readInt32BE(12);
  if (months !== 0) throw monthsRefused(`${months} mons`);
  const ms = BigInt(buf.readInt32BE(8)) * BigInt(MS_PER_DAY) + floorDiv(buf.readBigInt64BE(0), US_PER_MS);
  if (ms > BigInt(MAX_DURATION_MS) || ms < -BigInt(MAX_DURATION_MS)) {
    throw new AllotError(SqlState.intervalFieldOverflow, 'interval out of range: longer than allot durations hold');
  }
  return noNegativeZero(Number(ms));
}

/** int32 days since 2000-01-01: the UTC calendar day of `ms`. */
export function encodeDateBinary(ms: number): Buffer {
  checkInstant(ms);
  const buf = Buffer.alloc(4);
  buf.writeInt32BE(Math.floor(ms / MS_PER_DAY) - PG_EPOCH_DAYS);
  return buf;
}

/** The UTC midnight, in ms, of a binary date. */
export function decodeDateBinary(buf: Buffer): number {
  binaryLength(buf, 4, 'date');
  const days = buf.readInt32BE(0);
  if (days === INT32_MAX || days === INT32_MIN) throw notFinite();
  const ms = (days + PG_EPOCH_DAYS) * MS_PER_DAY;
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) {
    throw new AllotError(SqlState.datetimeFieldOverflow, `date out of range: ${days} days since 2000-01-01`);
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Functions: date_trunc, extract, to_timestamp

/**
 * PostgreSQL's date_trunc(field, ts, zone). Up to hours the wall clock is cut and the instant's
 * own offset kept (so the second 02:00 of a fall-back night stays the second); from days up the
 * local date is cut and its midnight found again in `zone`, DST gaps and overlaps included. Weeks
 * start on Monday (ISO). Instants are milliseconds, so 'microseconds' and 'milliseconds' keep all.
 */
export function dateTrunc(field: string, ms: number, zone: string): number {
  const typeName = 'timestamp with time zone';
  const unit = lookupUnit(field);
  if (unit === undefined) throw unitError(SqlState.invalidParameterValue, field, 'not recognized', typeName);
  if (unit.startsWith('timezone')) throw unitError(SqlState.featureNotSupported, field, 'not supported', typeName);
  checkInstant(ms);
  const local = ms + zoneOffsetMs(ms, zone);
  switch (unit) {
    case 'microsecond':
    case 'millisecond':
      return ms;
    case 'second':
      return ms - mod(local, MS_PER_SECOND);
    case 'minute':
      return ms - mod(local, MS_PER_MINUTE);
    case 'hour':
      return ms - mod(local, MS_PER_HOUR);
    default: {
      const truncated = localToInstant(truncateDays(unit, Math.floor(local / MS_PER_DAY)) * MS_PER_DAY, zone);
      if (truncated < MIN_INSTANT_MS) throw new AllotError(SqlState.datetimeFieldOverflow, 'timestamp out of range');
      return truncated;
    }
  }
}

/** The first day of the day/week/…/millennium holding local day `days`, as PostgreSQL counts. */
function truncateDays(unit: Unit, days: number): number {
  if (unit === 'day') return days;
  if (unit === 'week') return days - mod(days + 3, 7);
  let { year, month } = civilFromDays(days);
  const t = Math.trunc;
  if (unit === 'millennium') year = year > 0 ? t((year + 999) / 1000) * 1000 - 999 : -t((999 - (year - 1)) / 1000) * 1000 + 1;
  if (unit === 'century') year = year > 0 ? t((year + 99) / 100) * 100 - 99 : -t((99 - (year - 1)) / 100) * 100 + 1;
  if (unit === 'decade') year = year > 0 ? t(year / 10) * 10 : -t((8 - (year - 1)) / 10) * 10;
  if (unit === 'quarter') month = 3 * t((month - 1) / 3) + 1;
  if (unit !== 'month' && unit !== 'quarter') month = 1;
  return daysFromCivil(year, month, 1);
}

/** ISO 8601 week-numbering year and week of local day `days` (weeks start Monday; week 1 holds Jan 4). */
function isoWeek(days: number): { isoYear: number; week: number } {
  const thursday = days - mod(days + 3, 7) + 3;
  const isoYear = civilFromDays(thursday).year;
  return { isoYear, week: Math.floor((thursday - daysFromCivil(isoYear, 1, 1)) / 7) + 1 };
}

/**
 * PostgreSQL's extract(field FROM timestamptz) in `zone`, as a number: year (1 BC is -1), month,
 * day, hour, minute, second (with its fraction), milliseconds, microseconds, dow (Sunday 0),
 * isodow (Sunday 7), doy, week and isoyear (ISO), quarter, decade, century, millennium, julian,
 * epoch (seconds since 1970, fractional), timezone (seconds east), timezone_hour, timezone_minute.
 */
export function extractField(field: string, ms: number, zone: string): number {
  const typeName = 'timestamp with time zone';
  const unit = lookupUnit(field) ?? EXTRACT_ONLY.get(field.toLowerCase());
  if (unit === undefined) throw unitError(SqlState.invalidParameterValue, field, 'not recognized', typeName);
  checkInstant(ms);
  const offset = zoneOffsetMs(ms, zone);
  const w = wallClock(ms + offset);
  const days = Math.floor((ms + offset) / MS_PER_DAY);
  const t = Math.trunc;
  const secondsMs = w.second * MS_PER_SECOND + w.ms;
  switch (unit) {
    case 'epoch':
      return ms / MS_PER_SECOND;
    case 'microsecond':
      return secondsMs * 1000;
    case 'millisecond':
      return secondsMs;
    case 'second':
      return secondsMs / MS_PER_SECOND;
    case 'minute':
      return w.minute;
    case 'hour':
      return w.hour;
    case 'day':
      return w.day;
    case 'month':
      return w.month;
    case 'quarter':
      return t((w.month - 1) / 3) + 1;
    case 'week':
      return isoWeek(days).week;
    case 'year':
      return w.year > 0 ? w.year : w.year - 1;
    case 'decade':
      return w.year >= 0 ? Math.floor(w.year / 10) : -t((8 - (w.year - 1)) / 10);
    case 'century':
      return w.year > 0 ? t((w.year + 99) / 100) : -t((99 - (w.year - 1)) / 100);
    case 'millennium':
      return w.year > 0 ? t((w.year + 999) / 1000) : -t((999 - (w.year - 1)) / 1000);
    case 'julian':
      return days + UNIX_EPOCH_JULIAN_DAY + mod(ms + offset, MS_PER_DAY) / MS_PER_DAY;
    case 'isoyear': {
      const y = isoWeek(days).isoYear;
      return y > 0 ? y : y - 1;
    }
    case 'dow':
      return mod(days + 4, 7);
    case 'isodow':
      return mod(days + 3, 7) + 1;
    case 'doy':
      return days - daysFromCivil(w.year, 1, 1) + 1;
    case 'timezone':
      return offset / MS_PER_SECOND;
    case 'timezone_hour':
      return noNegativeZero(t(offset / MS_PER_HOUR));
    case 'timezone_minute':
      return noNegativeZero(t((offset % MS_PER_HOUR) / MS_PER_MINUTE));
    default:
      throw unitError(SqlState.featureNotSupported, field, 'not supported', typeName);
  }
}

/**
 * PostgreSQL's extract(field FROM interval) for a duration held as seconds only (no day or month
 * fields, as formatInterval prints it): '25:00:00' has hour 25 and day 0. Parts share the sign.
 */
export function extractFromInterval(field: string, ms: number): number {
  const unit = lookupUnit(field) ?? EXTRACT_ONLY.get(field.toLowerCase());
  if (unit === undefined) throw unitError(SqlState.invalidParameterValue, field, 'not recognized', 'interval');
  checkDuration(ms);
  const inMinute = ms % MS_PER_MINUTE;
  switch (unit) {
    case 'epoch':
      return ms / MS_PER_SECOND;
    case 'microsecond':
      return noNegativeZero(inMinute * 1000);
    case 'millisecond':
      return noNegativeZero(inMinute);
    case 'second':
      return noNegativeZero(inMinute / MS_PER_SECOND);
    case 'minute':
      return noNegativeZero(Math.trunc((ms % MS_PER_HOUR) / MS_PER_MINUTE));
    case 'hour':
      return noNegativeZero(Math.trunc(ms / MS_PER_HOUR));
    case 'quarter':
      return 1; // PostgreSQL: months / 3 + 1
    case 'day':
    case 'month':
    case 'year':
    case 'decade':
    case 'century':
    case 'millennium':
      return 0;
    default:
      throw unitError(SqlState.featureNotSupported, field, 'not supported', 'interval');
  }
}

/** C's %g, for the number in to_timestamp's range error ('1e+20'). */
function formatG(x: number): string {
  const [mantissa = '', exponent] = x.toPrecision(6).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  if (exponent === undefined) return trimmed;
  const e = Number(exponent);
  return `${trimmed}e${e < 0 ? '-' : '+'}${pad(Math.abs(e), 2)}`;
}

/** PostgreSQL's to_timestamp(double): seconds since 1970, rounded to µs, then floored to ms. */
export function toTimestamp(seconds: number): number {
  if (Number.isNaN(seconds)) throw new AllotError(SqlState.datetimeFieldOverflow, 'timestamp cannot be NaN');
  if (!Number.isFinite(seconds)) throw notFinite();
  const ms = Math.floor(Math.round(seconds * US_PER_SECOND) / 1000);
  if (!(ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS)) throw timestampOutOfRange(formatG(seconds));
  return ms;
}

/** The IANA tz database release the runtime's zone rules come from ('2025c'), or 'unknown'. */
export function tzdataVersion(): string {
  return process.versions.tz ?? 'unknown';
}
