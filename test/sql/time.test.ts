/**
 * timestamptz, timestamp, date and interval as allot reads and prints them. Every expected string
 * below was printed by PostgreSQL 15.18 (DateStyle 'ISO, MDY', IntervalStyle 'postgres'), run by
 * hand; where allot differs on purpose (a day is 24 h, no infinity, milliseconds) the case says so.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '../../src/engine/calendar.js';
import { AllotError } from '../../src/errors.js';
import {
  MAX_DURATION_MS,
  dateTrunc,
  decodeDateBinary,
  decodeIntervalBinary,
  decodeTimestamptzBinary,
  encodeDateBinary,
  encodeIntervalBinary,
  encodeTimestamptzBinary,
  extractField,
  extractFromInterval,
  formatDate,
  formatInterval,
  formatTimestamp,
  formatTimestamptz,
  isValidTimeZone,
  normalizeTimeZone,
  parseDate,
  parseInterval,
  parseTimestamp,
  parseTimestamptz,
  timeZoneFromInterval,
  toTimestamp,
  tzdataVersion,
  writeTimestamptzText,
  zoneOffsetMs,
} from '../../src/sql/time.js';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const KOLKATA = 'Asia/Kolkata';
const LORD_HOWE = 'Australia/Lord_Howe';
const haveLordHowe = isValidTimeZone(LORD_HOWE);

/** The error `f` throws, as sqlstate and message (and detail when there is one). */
function failure(f: () => unknown): { sqlstate: string; message: string; detail?: string } {
  try {
    f();
  } catch (e) {
    if (!(e instanceof AllotError)) throw e;
    return e.detail === undefined ? { sqlstate: e.sqlstate, message: e.message } : { sqlstate: e.sqlstate, message: e.message, detail: e.detail };
  }
  throw new Error('expected an AllotError');
}

/** What PostgreSQL prints for the text read as timestamptz with TimeZone = zone. */
const roundTrip = (text: string, zone: string): string => formatTimestamptz(parseTimestamptz(text, zone), zone);

describe('SET TIME ZONE', () => {
  // [value as SET TIME ZONE gets it, what SHOW TimeZone prints]
  it.each([
    ['-5', '<-05>+05'],
    ['5', '<+05>-05'],
    ['+5.5', '<+05:30>-05:30'],
    ['5.25', '<+05:15>-05:15'],
    ['5.123', '<+05:07:22>-05:07:22'],
    ['-5.999999', '<-05:59:59>+05:59:59'],
    ['.5', '<+00:30>-00:30'],
    ['0', '<+00>-00'],
    ['-0.0001', '<+00>-00'],
    ['+05', '<+05>-05'],
    ['1e1', '<+10>-10'],
    ['167.9999', '<+167:59:59>-167:59:59'],
    ['europe/berlin', 'Europe/Berlin'],
    ['America/new_york', 'America/New_York'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['US/Eastern', 'US/Eastern'],
    ['UTC', 'UTC'],
    ['utc', 'UTC'],
    ['GMT', 'GMT'],
    ['Etc/UTC', 'Etc/UTC'],
    ['EST5EDT', 'EST5EDT'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
    ['UTC+3', 'UTC+3'],
    ['abc+3', 'ABC+3'],
    ['foo-2:30', 'FOO-2:30'],
    ['<abc>-3', '<ABC>-3'],
    ['+05:30', '+05:30'],
    ['5:30', '5:30'],
    ['<+05:30>-05:30', '<+05:30>-05:30'],
  ])('%s shows as %s', (value, shown) => {
    expect(normalizeTimeZone(value)).toBe(shown);
    expect(normalizeTimeZone(shown)).toBe(shown); // what SHOW prints can be SET again
  });

  it('reads numbers as hours east (SQL) but zone strings as POSIX, hours west', () => {
    const at = Date.UTC(2026, 2, 1, 9);
    // PostgreSQL: '2026-03-01 09:00:00+00' shown in each zone.
    expect(formatTimestamptz(at, normalizeTimeZone('-5'))).toBe('2026-03-01 04:00:00-05');
    expect(formatTimestamptz(at, normalizeTimeZone('+5.5'))).toBe('2026-03-01 14:30:00+05:30');
    expect(formatTimestamptz(at, normalizeTimeZone('+05:30'))).toBe('2026-03-01 03:30:00-05:30');
    expect(formatTimestamptz(at, normalizeTimeZone('-05:00'))).toBe('2026-03-01 14:00:00+05');
    expect(formatTimestamptz(at, normalizeTimeZone('UTC+3'))).toBe('2026-03-01 06:00:00-03');
    expect(formatTimestamptz(at, normalizeTimeZone('<+03>-3'))).toBe('2026-03-01 12:00:00+03');
    expect(formatTimestamptz(at, normalizeTimeZone('15'))).toBe('2026-03-02 00:00:00+15');
    expect(formatTimestamptz(at, normalizeTimeZone('100'))).toBe('2026-03-05 13:00:00+100');
    expect(formatTimestamptz(at, normalizeTimeZone('-167.99'))).toBe('2026-02-22 09:00:36-167:59:24');
  });

  it('refuses unknown zones and offsets of a week, as PostgreSQL does', () => {
    const invalid = (name: string, detail?: string) => ({
      sqlstate: '22023',
      message: `invalid value for parameter "TimeZone": "${name}"`,
      ...(detail === undefined ? {} : { detail }),
    });
    expect(failure(() => normalizeTimeZone('xyz'))).toEqual(invalid('xyz'));
    expect(failure(() => normalizeTimeZone('Z'))).toEqual(invalid('Z'));
    expect(failure(() => normalizeTimeZone(''))).toEqual(invalid(''));
    expect(failure(() => normalizeTimeZone('PST'))).toEqual(invalid('PST'));
    expect(failure(() => normalizeTimeZone('-168'))).toEqual(invalid('-168', 'UTC timezone offset is out of range.'));
    expect(failure(() => normalizeTimeZone('168'))).toEqual(invalid('168', 'UTC timezone offset is out of range.'));
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it("takes Sequelize's SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE", () => {
    expect(timeZoneFromInterval('+00:00', 'HOUR TO MINUTE')).toBe('<+00>-00');
    expect(timeZoneFromInterval('-05:00', 'hour to minute')).toBe('<-05>+05');
    expect(timeZoneFromInterval('+05:30', 'HOUR TO MINUTE')).toBe('<+05:30>-05:30');
    expect(timeZoneFromInterval('-00:30', 'HOUR TO MINUTE')).toBe('<-00:30>+00:30');
    expect(timeZoneFromInterval('1:00:30', 'HOUR TO MINUTE')).toBe('<+01>-01');
    expect(timeZoneFromInterval('5', 'HOUR')).toBe('<+05>-05');
    expect(timeZoneFromInterval('5')).toBe('<+00:00:05>-00:00:05');
    expect(timeZoneFromInterval('+05:30:30')).toBe('<+05:30:30>-05:30:30');
    expect(timeZoneFromInterval('-5.5 hours')).toBe('<-05:30>+05:30');
    expect(timeZoneFromInterval('00:00:00.9')).toBe('<+00>-00');
    expect(formatTimestamptz(Date.UTC(2026, 2, 1, 9), timeZoneFromInterval('-05:00', 'HOUR TO MINUTE'))).toBe('2026-03-01 04:00:00-05');
  });

  it('refuses time zone intervals with days, months, a week or other qualifiers', () => {
    expect(failure(() => timeZoneFromInterval('1 day'))).toEqual({
      sqlstate: '22023',
      message: `invalid value for parameter "TimeZone": "INTERVAL '1 day'"`,
      detail: 'Cannot specify days in time zone interval.',
    });
    expect(failure(() => timeZoneFromInterval('1 mon')).detail).toBe('Cannot specify months in time zone interval.');
    expect(failure(() => timeZoneFromInterval('168:00', 'HOUR TO MINUTE')).detail).toBe('UTC timezone offset is out of range.');
    expect(failure(() => timeZoneFromInterval('05:30:15', 'HOUR TO SECOND'))).toEqual({
      sqlstate: '42601',
      message: 'time zone interval must be HOUR or HOUR TO MINUTE',
    });
  });
});

describe('zoneOffsetMs', () => {
  it('is the offset east of UTC at the instant, LMT and half hours included', () => {
    expect(zoneOffsetMs(Date.UTC(2026, 0, 15), BERLIN)).toBe(3_600_000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), BERLIN)).toBe(7_200_000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), NEW_YORK)).toBe(-14_400_000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), KOLKATA)).toBe(19_800_000);
    expect(zoneOffsetMs(Date.UTC(1850, 0, 1), BERLIN)).toBe((53 * 60 + 28) * 1000);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), '<-05>+05')).toBe(-18_000_000);
    expect(zoneOffsetMs(-1, 'UTC')).toBe(0);
  });

  it('is exact to the second around a transition inside a cached hour', () => {
    const jump = Date.UTC(2026, 2, 29, 1); // Berlin springs forward at 01:00 UTC
    expect(zoneOffsetMs(jump - 1, BERLIN)).toBe(3_600_000);
    expect(zoneOffsetMs(jump, BERLIN)).toBe(7_200_000);
    expect(zoneOffsetMs(jump - 1, BERLIN)).toBe(3_600_000); // again, from the cache
    const lmtEnd = Date.UTC(1893, 2, 31, 23, 6, 32); // Berlin leaves LMT at 23:06:32 UTC
    expect(zoneOffsetMs(lmtEnd - 1000, BERLIN)).toBe(3_208_000);
    expect(zoneOffsetMs(lmtEnd, BERLIN)).toBe(3_600_000);
  });

  it('agrees with Intl at any instant in any zone (cache or not)', () => {
    const zones = [
      BERLIN,
      NEW_YORK,
      KOLKATA,
      'America/St_Johns',
      'Asia/Kathmandu',
      'Europe/Dublin',
      'America/Sao_Paulo',
      'Pacific/Chatham',
      ...(haveLordHowe ? [LORD_HOWE] : []),
    ];
    /** Intl's own 'GMT+05:30' label, read independently of zoneOffsetMs. */
    const intlOffset = (ms: number, zone: string): number => {
      const label =
        new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? '';
      const m = /^GMT(?:([+-])(\d+):(\d+)(?::(\d+))?)?$/.exec(label);
      if (m === null) throw new Error(`offset label ${label}`);
      const seconds = Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
      return (m[1] === '-' ? -seconds : seconds) * 1000;
    };
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1800, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...zones), (ms, zone) => {
        expect(zoneOffsetMs(ms, zone)).toBe(intlOffset(ms, zone));
      }),
      { numRuns: 2000 },
    );
  });

  it('is refused for a zone that is not one', () => {
    expect(failure(() => zoneOffsetMs(0, 'Nowhere/Land')).sqlstate).toBe('22023');
  });
});

describe('formatTimestamptz', () => {
  it.each([
    [Date.UTC(2026, 2, 1, 9), 'UTC', '2026-03-01 09:00:00+00'],
    [Date.UTC(2026, 2, 1, 9, 0, 0, 123), BERLIN, '2026-03-01 10:00:00.123+01'],
    [Date.UTC(2026, 2, 1, 9, 0, 0, 500), BERLIN, '2026-03-01 10:00:00.5+01'],
    [Date.UTC(2026, 2, 1, 9, 0, 0, 120), BERLIN, '2026-03-01 10:00:00.12+01'],
    [Date.UTC(2026, 6, 1, 6, 30), KOLKATA, '2026-07-01 12:00:00+05:30'],
    [Date.UTC(1850, 0, 1), BERLIN, '1850-01-01 00:53:28+00:53:28'],
    [Date.UTC(2026, 2, 1, 9), 'America/St_Johns', '2026-03-01 05:30:00-03:30'],
    [MIN_INSTANT_MS, BERLIN, '4714-11-24 00:53:28+00:53:28 BC'],
    [Date.UTC(275760, 8, 13), BERLIN, '275760-09-13 02:00:00+02'],
    [Date.UTC(200000, 6, 1), BERLIN, '200000-07-01 02:00:00+02'],
    [-1, 'UTC', '1969-12-31 23:59:59.999+00'],
  ])('%d in %s is %s', (ms, zone, text) => {
    expect(formatTimestamptz(ms, zone)).toBe(text);
  });

  it('writes BC years as PostgreSQL does (year 0 is 1 BC)', () => {
    const ms = parseTimestamptz('0001-12-31 23:00:00 BC', BERLIN);
    expect(formatTimestamptz(ms, BERLIN)).toBe('0001-12-31 23:00:00+00:53:28 BC');
    expect(formatTimestamptz(parseTimestamptz('0001-01-01 00:00:00+00', BERLIN), BERLIN)).toBe('0001-01-01 00:53:28+00:53:28');
  });

  it('formats timestamp without time zone and dates', () => {
    expect(formatTimestamp(Date.UTC(2026, 2, 1, 9, 0, 0, 5))).toBe('2026-03-01 09:00:00.005');
    expect(formatTimestamp(parseTimestamptz('0044-03-15 12:00:00+00 BC', 'UTC'))).toBe('0044-03-15 12:00:00 BC');
    expect(formatDate(Date.UTC(2026, 2, 1, 9))).toBe('2026-03-01');
    expect(formatDate(parseTimestamptz('0044-03-15 BC', 'UTC'))).toBe('0044-03-15 BC');
    // PostgreSQL, TimeZone Europe/Berlin: '2026-03-01 23:30:00+00'::timestamptz::date
    expect(formatDate(Date.UTC(2026, 2, 1, 23, 30), BERLIN)).toBe('2026-03-02');
  });

  it('refuses instants allot cannot hold', () => {
    expect(failure(() => formatTimestamptz(MAX_INSTANT_MS + 1, 'UTC')).sqlstate).toBe('22008');
    expect(failure(() => formatTimestamptz(MIN_INSTANT_MS - 1, 'UTC')).sqlstate).toBe('22008');
    expect(failure(() => formatTimestamptz(1.5, 'UTC')).sqlstate).toBe('22008');
  });
});

describe('writeTimestamptzText', () => {
  /** What writeTimestamptzText writes at an odd offset of a dirty buffer, read back. */
  const written = (ms: number, zone: string): string => {
    const buf = Buffer.alloc(64, 0x7f);
    const end = writeTimestamptzText(buf, 3, ms, zone);
    expect(end).toBeLessThanOrEqual(3 + 44);
    expect(buf.readInt32BE(3)).toBe(end - 7);
    expect(buf[end]).toBe(0x7f);
    return buf.toString('latin1', 7, end);
  };

  it('writes the bytes of formatTimestamptz for any instant in any zone', () => {
    const zones = ['UTC', BERLIN, NEW_YORK, KOLKATA, 'America/St_Johns', 'Pacific/Chatham', 'Etc/GMT+12', '+05:45', ...(haveLordHowe ? [LORD_HOWE] : [])];
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2100, 0, 1) })),
        fc.constantFrom(...zones),
        (ms, zone) => {
          expect(written(ms, zone)).toBe(formatTimestamptz(ms, zone));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('writes the same day again from its table, and refuses what formatTimestamptz refuses', () => {
    // Two instants whose days share a slot of the day table (4,096 days apart).
    const a = Date.UTC(2026, 2, 1, 9, 0, 0, 120);
    const b = a + 4096 * 86_400_000;
    for (const ms of [a, b, a, b + 1]) expect(written(ms, BERLIN)).toBe(formatTimestamptz(ms, BERLIN));
    expect(written(MIN_INSTANT_MS, BERLIN)).toBe('4714-11-24 00:53:28+00:53:28 BC');
    expect(failure(() => written(MAX_INSTANT_MS + 1, 'UTC')).sqlstate).toBe('22008');
    expect(failure(() => written(1.5, 'UTC')).sqlstate).toBe('22008');
  });
});

describe('parseTimestamptz', () => {
  // [text, TimeZone, what PostgreSQL prints for text::timestamptz]
  it.each([
    ['2026-03-01T09:00:00Z', BERLIN, '2026-03-01 10:00:00+01'],
    ['2026-03-01t09:00:00z', BERLIN, '2026-03-01 10:00:00+01'],
    ['2026-03-01 09:00', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00 +01', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00+0100', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00+01:00', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00-05:30', BERLIN, '2026-03-01 15:30:00+01'],
    ['2026-03-01 09:00:00 -0530', BERLIN, '2026-03-01 15:30:00+01'],
    ['2026-03-01 09:00:00+01:30:15', BERLIN, '2026-03-01 08:29:45+01'],
    ['2026-03-01 09:00:00+1', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00+15:59:59', BERLIN, '2026-02-28 18:00:01+01'],
    ['2026-03-01 09:00 Europe/Berlin', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00 europe/berlin', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00 UTC', BERLIN, '2026-03-01 10:00:00+01'],
    ['2026-03-01 09:00 GMT', BERLIN, '2026-03-01 10:00:00+01'],
    ['2026-03-01 09:00 Z', BERLIN, '2026-03-01 10:00:00+01'],
    ['2026-03-01 09:00 EST', BERLIN, '2026-03-01 15:00:00+01'],
    ['2026-03-01 09:00 PST', BERLIN, '2026-03-01 18:00:00+01'],
    ['2026-03-01 09:00 CEST', BERLIN, '2026-03-01 08:00:00+01'],
    ['2026-03-01 09:00 UTC+3', BERLIN, '2026-03-01 13:00:00+01'],
    ['2026-03-01 09:00 america/new_york', 'UTC', '2026-03-01 14:00:00+00'],
    ['2026-03-01 09:00 EST5EDT', 'UTC', '2026-03-01 14:00:00+00'],
    ['2026-03-01 09:00 Etc/GMT+5', 'UTC', '2026-03-01 14:00:00+00'],
    ['2026-03-01 Europe/Berlin 09:00', 'UTC', '2026-03-01 08:00:00+00'],
    ['2026-03-01 09:00:00Europe/Berlin', 'UTC', '2026-03-01 08:00:00+00'],
    ['2026-03-01', BERLIN, '2026-03-01 00:00:00+01'],
    ['2026-03-01 Z', BERLIN, '2026-03-01 01:00:00+01'],
    [' 2026-03-01 ', BERLIN, '2026-03-01 00:00:00+01'],
    ['2026-03-01  09:00', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-3-1 9:0', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-3-1T9:5:7', 'UTC', '2026-03-01 09:05:07+00'],
    ['2026-03-01 24:00:00', BERLIN, '2026-03-02 00:00:00+01'],
    ['2026-03-01 23:59:60', BERLIN, '2026-03-02 00:00:00+01'],
    ['2026-03-01 09:00:00.', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 9:00 pm', NEW_YORK, '2026-03-01 21:00:00-05'],
    ['2026-03-01 12:00 am', NEW_YORK, '2026-03-01 00:00:00-05'],
    ['2026-03-01 12:30 pm', NEW_YORK, '2026-03-01 12:30:00-05'],
    ['03/01/2026', BERLIN, '2026-03-01 00:00:00+01'],
    ['03/01/26', 'UTC', '2026-03-01 00:00:00+00'],
    ['03-01-2026', 'UTC', '2026-03-01 00:00:00+00'],
    ['1-2-2026', 'UTC', '2026-01-02 00:00:00+00'],
    ['2026/03/01', BERLIN, '2026-03-01 00:00:00+01'],
    ['2026.03.01', 'UTC', '2026-03-01 00:00:00+00'],
    ['20260301', BERLIN, '2026-03-01 00:00:00+01'],
    ['20260301T090000', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01T0900', 'UTC', '2026-03-01 09:00:00+00'],
    ['2026-03-01 090000', 'UTC', '2026-03-01 09:00:00+00'],
    ['2026-03-01T090000.5Z', NEW_YORK, '2026-03-01 04:00:00.5-05'],
    ['2026-03-01 0900.5', 'UTC', '2026-03-01 09:00:00.5+00'],
    ['09:00 20260301', 'UTC', '2026-03-01 09:00:00+00'],
    ['2026030105', 'UTC', '202603-01-05 00:00:00+00'],
    ['March 1, 2026', BERLIN, '2026-03-01 00:00:00+01'],
    ['Sunday, March 1, 2026 09:00 UTC', NEW_YORK, '2026-03-01 04:00:00-05'],
    ['1 March 2026', 'UTC', '2026-03-01 00:00:00+00'],
    ['Mar 1 2026', 'UTC', '2026-03-01 00:00:00+00'],
    ['2026 Mar 1', 'UTC', '2026-03-01 00:00:00+00'],
    ['Sun Mar 01 10:00:00 2026', 'UTC', '2026-03-01 10:00:00+00'],
    ['Sun Mar 01 10:00:00 CET 2026', 'UTC', '2026-03-01 09:00:00+00'],
    ['01-jan-2026', 'UTC', '2026-01-01 00:00:00+00'],
    ['2026-jan-01', 'UTC', '2026-01-01 00:00:00+00'],
    ['jan-01-2026', 'UTC', '2026-01-01 00:00:00+00'],
    ['2026-03-01 allballs', 'UTC', '2026-03-01 00:00:00+00'],
    ['2026-03-01 09:00:00 AD', BERLIN, '2026-03-01 09:00:00+01'],
    ['2026-03-01 09:00:00 BC', BERLIN, '2026-03-01 09:00:00+00:53:28 BC'],
    ['2026-03-01T09:00:00+01:00 BC', 'UTC', '2026-03-01 08:00:00+00 BC'],
    ['10000-01-01', BERLIN, '10000-01-01 00:00:00+01'],
    ['4714-11-24 00:00:00+00 BC', BERLIN, '4714-11-24 00:53:28+00:53:28 BC'],
    ['epoch', BERLIN, '1970-01-01 01:00:00+01'],
    ['EPOCH', BERLIN, '1970-01-01 01:00:00+01'],
    ['epoch UTC', NEW_YORK, '1969-12-31 19:00:00-05'],
  ])('%s (TimeZone %s) is %s', (text, zone, printed) => {
    expect(roundTrip(text, zone)).toBe(printed);
  });

  it('keeps milliseconds: PostgreSQL rounds to microseconds, allot then truncates', () => {
    // PostgreSQL prints 10:00:00.123457+01 and 10:00:01+01 (.9999995 rounds up to a whole second).
    expect(roundTrip('2026-03-01 10:00:00.1234567', BERLIN)).toBe('2026-03-01 10:00:00.123+01');
    expect(roundTrip('2026-03-01 10:00:00.9999995', BERLIN)).toBe('2026-03-01 10:00:01+01');
    expect(roundTrip('2026-03-01 10:00:00.9999994', BERLIN)).toBe('2026-03-01 10:00:00.999+01');
    expect(roundTrip('2026-03-01 09:00:00.123456789', 'UTC')).toBe('2026-03-01 09:00:00.123+00');
    expect(parseTimestamptz('1969-12-31 23:59:59.9999+00', 'UTC')).toBe(-1);
  });

  describe('wall clocks that a zone skips or repeats, as PostgreSQL reads them', () => {
    it('moves a time in a spring-forward gap ahead by the gap (the offset before applies)', () => {
      expect(roundTrip('2026-03-29 02:30:00', BERLIN)).toBe('2026-03-29 03:30:00+02');
      expect(roundTrip('2026-03-29 02:00:00', BERLIN)).toBe('2026-03-29 03:00:00+02');
      expect(roundTrip('2026-03-08 02:30:00', NEW_YORK)).toBe('2026-03-08 03:30:00-04');
      // Berlin leaving local mean time, 6 min 32 s skipped.
      expect(roundTrip('1893-04-01 00:00:00', BERLIN)).toBe('1893-04-01 00:06:32+01');
      // A midnight that does not exist (Brazil, 2018).
      expect(roundTrip('2018-11-04 00:00', 'America/Sao_Paulo')).toBe('2018-11-04 01:00:00-02');
    });

    it('takes the later instant for a time a fall-back repeats (the offset after applies)', () => {
      expect(roundTrip('2026-10-25 02:30:00', BERLIN)).toBe('2026-10-25 02:30:00+01');
      expect(roundTrip('2026-11-01 01:30:00', NEW_YORK)).toBe('2026-11-01 01:30:00-05');
      expect(roundTrip('2018-02-17 23:30', 'America/Sao_Paulo')).toBe('2018-02-17 23:30:00-03');
      // Either instant can be written with its offset.
      expect(roundTrip('2026-10-25 02:30:00+02', BERLIN)).toBe('2026-10-25 02:30:00+02');
      expect(roundTrip('2026-11-01 01:30:00 EDT', NEW_YORK)).toBe('2026-11-01 01:30:00-04');
    });

    it.skipIf(!haveLordHowe)('handles the half-hour DST of Lord Howe Island', () => {
      expect(roundTrip('2026-04-05 01:45:00', LORD_HOWE)).toBe('2026-04-05 01:45:00+10:30');
      expect(roundTrip('2026-10-04 02:15:00', LORD_HOWE)).toBe('2026-10-04 02:45:00+11');
      expect(roundTrip('2026-01-01 00:00:00', LORD_HOWE)).toBe('2026-01-01 00:00:00+11');
      expect(roundTrip('2026-04-05 01:45:00+00', LORD_HOWE)).toBe('2026-04-05 12:15:00+10:30');
    });

    it('reads the local time of an instant back as that instant, or the later twin', () => {
      const zones = [BERLIN, NEW_YORK, KOLKATA, 'America/Sao_Paulo', ...(haveLordHowe ? [LORD_HOWE] : [])];
      fc.assert(
        fc.property(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), fc.constantFrom(...zones), (ms, zone) => {
          const wall = (x: number) => formatTimestamptz(x, zone).replace(/[+-][\d:]+( BC)?$/, '$1');
          const back = parseTimestamptz(wall(ms), zone);
          expect(wall(back)).toBe(wall(ms));
          expect(back - ms).toBeGreaterThanOrEqual(0);
          expect(back - ms).toBeLessThanOrEqual(3 * 3_600_000);
        }),
        { numRuns: 2000 },
      );
    });
  });

  it("reads 'now', 'today', 'tomorrow' and 'yesterday' from the statement's time", () => {
    const now = Date.UTC(2026, 11, 2, 16, 21, 44, 864);
    const read = (text: string) => formatTimestamptz(parseTimestamptz(text, BERLIN, now), BERLIN);
    expect(read('now')).toBe('2026-12-02 17:21:44.864+01');
    expect(read('today')).toBe('2026-12-02 00:00:00+01');
    expect(read('tomorrow')).toBe('2026-12-03 00:00:00+01');
    expect(read('yesterday')).toBe('2026-12-01 00:00:00+01');
    expect(read('tomorrow 10:00')).toBe('2026-12-03 10:00:00+01');
    expect(read('today Europe/Berlin')).toBe('2026-12-02 00:00:00+01');
    expect(read('today 10:00 UTC')).toBe('2026-12-02 11:00:00+01');
    expect(failure(() => parseTimestamptz('now', BERLIN)).sqlstate).toBe('0A000');
    expect(failure(() => parseTimestamptz('today', BERLIN)).sqlstate).toBe('0A000');
  });

  it('refuses infinity: allot instants are finite', () => {
    for (const text of ['infinity', '-infinity', '+infinity', 'Infinity']) {
      expect(failure(() => parseTimestamptz(text, 'UTC'))).toEqual({ sqlstate: '22008', message: 'allot instants are finite: infinity is not a time' });
    }
  });

  describe('refuses what PostgreSQL refuses, with its code and message', () => {
    const syntax = (text: string) => ({ sqlstate: '22007', message: `invalid input syntax for type timestamp with time zone: "${text}"` });
    const field = (text: string) => ({ sqlstate: '22008', message: `date/time field value out of range: "${text}"` });
    it.each([
      ['abc', syntax],
      ['', syntax],
      ['2026-03-01 09', syntax],
      ['2026-03-01T09', syntax],
      ['2026-03-01 09:00 xyz', syntax],
      ['2026-03-01 09:00:00+01 UTC', syntax],
      ['2026-03-01 09:00 Europe/Berlin UTC', syntax],
      ['2026-03-01 09:00:00 +01:00 Europe/Berlin', syntax],
      ['Europe/Berlin 2026-03-01 09:00', syntax],
      ['09:00 2026-03-01', syntax],
      ['09:00 03/01/2026', syntax],
      ['9:00 pm 2026-03-01', syntax],
      ['09:00', syntax],
      ['12345', syntax],
      ['2026', syntax],
      ['2026-03', syntax],
      ['20260301.5', syntax],
      ['2026-03-01 today', syntax],
      ['now UTC', syntax],
      ['2026-03-01 09:00 <+05>-05', syntax],
      ['2026-02-30', field],
      ['2026-13-01', field],
      ['0000-01-01', field],
      ['26-03-01', field],
      ['202603', field],
      ['1773000000', field], // a number is not Unix time
      ['2026-03-01 24:00:01', field],
      ['2026-03-01 23:59:60.5', field],
      ['2026-03-01 25:00', field],
      ['2026-03-01 09:60', field],
      ['2026-03-01 13:00 pm', field],
    ])('%s', (text, expected) => {
      expect(failure(() => parseTimestamptz(text, BERLIN))).toEqual(expected(text));
    });

    it('with zones, offsets and range', () => {
      expect(failure(() => parseTimestamptz('2026-03-01 09:00 Foo/Bar', BERLIN))).toEqual({ sqlstate: '22023', message: 'time zone "foo/bar" not recognized' });
      for (const text of ['2026-03-01 09:00:00+16', '2026-03-01 09:00:00+16:00', '2026-03-01 09:00+013015', '2026-03-01 09:00:00+01:00:99']) {
        expect(failure(() => parseTimestamptz(text, BERLIN))).toEqual({ sqlstate: '22009', message: `time zone displacement out of range: "${text}"` });
      }
      for (const text of ['4714-11-23 23:59:59+00 BC', '275760-09-13 00:00:00.001+00', '294277-01-01 00:00:00+00']) {
        expect(failure(() => parseTimestamptz(text, BERLIN))).toEqual({ sqlstate: '22008', message: `timestamp out of range: "${text}"` });
      }
      expect(failure(() => parseTimestamptz('x'.repeat(300), BERLIN)).sqlstate).toBe('22007');
      expect(failure(() => parseTimestamptz('2026-03-01', 'Not/AZone')).sqlstate).toBe('22023');
    });
  });

  it('reads back everything it prints, in every zone', () => {
    const zones = [
      'UTC',
      BERLIN,
      NEW_YORK,
      KOLKATA,
      'America/St_Johns',
      'Pacific/Chatham',
      'Africa/Monrovia',
      'Europe/Dublin',
      '<-05>+05',
      'UTC+3',
      ...(haveLordHowe ? [LORD_HOWE] : []),
    ];
    fc.assert(
      fc.property(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), fc.constantFrom(...zones), (ms, zone) => {
        expect(parseTimestamptz(formatTimestamptz(ms, zone), zone)).toBe(ms);
      }),
      { numRuns: 3000 },
    );
    for (const ms of [MIN_INSTANT_MS, MAX_INSTANT_MS, 0, -1, 1]) {
      for (const zone of zones) expect(parseTimestamptz(formatTimestamptz(ms, zone), zone)).toBe(ms);
    }
  });
});

describe('timestamp without time zone and date input', () => {
  it('reads the wall clock and ignores any zone, as PostgreSQL does', () => {
    expect(parseTimestamp('2026-03-01 09:00:00+05')).toBe(Date.UTC(2026, 2, 1, 9));
    expect(parseTimestamp('2026-03-01 09:00 Europe/Berlin')).toBe(Date.UTC(2026, 2, 1, 9));
    expect(parseTimestamp('now', Date.UTC(2026, 0, 1, 12), BERLIN)).toBe(Date.UTC(2026, 0, 1, 13));
    expect(failure(() => parseTimestamp('nope'))).toEqual({ sqlstate: '22007', message: 'invalid input syntax for type timestamp without time zone: "nope"' });
    fc.assert(
      fc.property(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), (ms) => {
        expect(parseTimestamp(formatTimestamp(ms))).toBe(ms);
      }),
    );
  });

  it('reads dates, dropping a time', () => {
    expect(parseDate('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseDate('2026-03-01 23:59:59')).toBe(Date.UTC(2026, 2, 1));
    expect(parseDate('today', Date.UTC(2026, 2, 1, 23, 30), BERLIN)).toBe(Date.UTC(2026, 2, 2));
    expect(failure(() => parseDate('2026-02-29'))).toEqual({ sqlstate: '22008', message: 'date/time field value out of range: "2026-02-29"' });
    fc.assert(
      fc.property(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), (ms) => {
        expect(parseDate(formatDate(ms))).toBe(Math.floor(ms / 86_400_000) * 86_400_000);
      }),
    );
  });
});

describe('intervals', () => {
  // [text, what allot prints; PostgreSQL prints the same unless the comment says otherwise]
  it.each([
    ['15 minutes', '00:15:00'],
    ['15 min', '00:15:00'],
    ['2 m', '00:02:00'],
    ['1 hour 30 minutes', '01:30:00'],
    ['2h', '02:00:00'],
    ['1d2h', '26:00:00'], // PostgreSQL: 1 day 02:00:00
    ['1 day', '24:00:00'], // PostgreSQL: 1 day (allot: a day is 24 h)
    ['1 week', '168:00:00'], // PostgreSQL: 7 days
    ['1.5 days', '36:00:00'], // PostgreSQL: 1 day 12:00:00
    ['0.5 weeks', '84:00:00'], // PostgreSQL: 3 days 12:00:00
    ['1 day ago', '-24:00:00'], // PostgreSQL: -1 days
    ['1 day -2 hours', '22:00:00'], // PostgreSQL: 1 day -02:00:00
    ['-1 day +2:03', '-21:57:00'], // PostgreSQL: -1 days +02:03:00
    ['1 2:03', '26:03:00'], // PostgreSQL: 1 day 02:03:00
    ['30 1:00', '721:00:00'], // PostgreSQL: 30 days 01:00:00
    ['1 2 hours', '26:00:00'], // PostgreSQL: 1 day 02:00:00
    ['1,5 hours', '29:00:00'], // PostgreSQL: 1 day 05:00:00
    ['36 hours', '36:00:00'],
    ['01:30:00', '01:30:00'],
    ['01:30', '01:30:00'],
    ['1:2:3', '01:02:03'],
    ['1:30.5', '00:01:30.5'],
    ['1:2.5', '00:01:02.5'],
    ['-1:30', '-01:30:00'],
    ['00:00:60', '00:01:00'],
    ['-1 hour', '-01:00:00'],
    ['+1 hour', '01:00:00'],
    ['- 1 hour', '-01:00:00'],
    ['-1 hour ago', '01:00:00'],
    ['1.5 hours', '01:30:00'],
    ['.5 hours', '00:30:00'],
    ['@ 1 hour ago', '-01:00:00'],
    ['@1hour', '01:00:00'],
    ['ago 1 hour', '-01:00:00'],
    ['1 hour ago 2 min', '-01:02:00'],
    ['1 hour, 2 min', '01:02:00'],
    ['1 hour 30', '01:00:30'],
    ['1 day 2', '24:00:02'], // PostgreSQL: 1 day 00:00:02
    ['1 ms 2', '00:00:02.001'],
    ['1', '00:00:01'],
    ['1.5', '00:00:01.5'],
    ['5.', '00:00:05'],
    [' 1 hour ', '01:00:00'],
    ['2 HOURS', '02:00:00'],
    ['5 ms', '00:00:00.005'],
    ['3 millisecond', '00:00:00.003'],
    ['1 hour 2 ms 3 us', '01:00:00.002'], // PostgreSQL: 01:00:00.002003
    ['1:30:00.1234567', '01:30:00.123'], // PostgreSQL: 01:30:00.123457
    ['0 mon', '00:00:00'],
    ['PT15M', '00:15:00'],
    ['P1D', '24:00:00'], // PostgreSQL: 1 day
    ['P1DT2H', '26:00:00'], // PostgreSQL: 1 day 02:00:00
    ['P1DT2H3M4.5S', '26:03:04.5'], // PostgreSQL: 1 day 02:03:04.5
    ['PT1.5H', '01:30:00'],
    ['PT1.5S', '00:00:01.5'],
    ['PT-1H', '-01:00:00'],
    ['P1W', '168:00:00'], // PostgreSQL: 7 days
    ['P1.5W', '252:00:00'], // PostgreSQL: 10 days 12:00:00
    ['P1DT', '24:00:00'], // PostgreSQL: 1 day
    ['PT', '00:00:00'],
    ['P0000-00-03T04:05:06.5', '76:05:06.5'], // PostgreSQL: 3 days 04:05:06.5
    ['2501999792 hours', '2501999792:00:00'],
  ])('%s is %s', (text, printed) => {
    expect(formatInterval(parseInterval(text))).toBe(printed);
  });

  it('floors microseconds to milliseconds, toward -∞', () => {
    expect(parseInterval('5 us')).toBe(0);
    expect(parseInterval('-5 us')).toBe(-1); // PostgreSQL: -00:00:00.000005
    expect(parseInterval('-0:00:00.0005')).toBe(-1); // PostgreSQL: -00:00:00.0005
    expect(parseInterval('1.5 ms 1 us')).toBe(1); // PostgreSQL: 00:00:00.001501
  });

  // [text, qualifier, what PostgreSQL prints for text::interval qualifier, in allot's form]
  it.each([
    ['+00:00', 'HOUR TO MINUTE', '00:00:00'],
    ['-05:30', 'HOUR TO MINUTE', '-05:30:00'],
    ['10', 'MINUTE', '00:10:00'],
    ['1', 'DAY', '24:00:00'], // PostgreSQL: 1 day
    ['1:30', 'HOUR TO MINUTE', '01:30:00'],
    ['1:30:45', 'hour to minute', '01:30:00'],
    ['-1:30:45', 'HOUR TO MINUTE', '-01:30:00'],
    ['1:30:45.5', 'MINUTE TO SECOND', '01:30:45.5'],
    ['1:30', 'MINUTE TO SECOND', '00:01:30'],
    ['1:30:20', 'MINUTE TO SECOND', '01:30:20'],
    ['-1:30:45.5', 'MINUTE TO SECOND', '-01:30:45.5'],
    ['90', 'SECOND', '00:01:30'],
    ['1:30', 'SECOND', '01:30:00'],
    ['5', 'HOUR', '05:00:00'],
    ['1:30', 'HOUR', '01:00:00'],
    ['1.7', 'HOUR', '01:00:00'],
    ['5', 'DAY TO HOUR', '05:00:00'],
    ['1 5', 'DAY TO HOUR', '29:00:00'], // PostgreSQL: 1 day 05:00:00
    ['1 2', 'DAY TO HOUR', '26:00:00'], // PostgreSQL: 1 day 02:00:00
    ['1 day 1:30', 'DAY TO HOUR', '25:00:00'], // PostgreSQL: 1 day 01:00:00
    ['1 day 1:30', 'DAY', '24:00:00'], // PostgreSQL: 1 day
    ['36 hours', 'DAY', '00:00:00'],
    ['5', 'HOUR TO SECOND', '00:00:05'],
    ['5', 'MINUTE TO SECOND', '00:00:05'],
    ['5', 'DAY TO MINUTE', '00:05:00'],
    ['1.5', 'MINUTE', '00:01:00'],
    ['1.5', 'HOUR TO MINUTE', '00:01:00'],
    ['1.2345', 'SECOND(2)', '00:00:01.23'],
    ['-1.2355', 'second (2)', '-00:00:01.24'],
  ])("'%s' %s is %s", (text, qualifier, printed) => {
    expect(formatInterval(parseInterval(text, qualifier))).toBe(printed);
  });

  it('refuses months and years: allot durations are exact', () => {
    for (const text of ['1 mon', '1 month', '2 years', '1 decade', '1-2', '0.5 mon', '1 year -12 months', 'P1M', 'P1Y', 'P0001-02-03T04:05:06']) {
      const e = failure(() => parseInterval(text));
      expect(e.sqlstate).toBe('0A000');
      expect(e.message).toContain('allot durations are exact');
    }
    expect(failure(() => parseInterval('2', 'YEAR')).sqlstate).toBe('0A000');
    try {
      parseInterval('1 mon');
    } catch (e) {
      expect(e instanceof AllotError && e.hint).toMatch(/days/);
    }
  });

  it.each([
    'abc',
    '',
    'hour',
    'infinity',
    '1 fortnight',
    '1e3 seconds',
    '1 hour 1 hour',
    '01:00 02:00',
    '01:00 5 ms',
    '1.5 s 1 ms',
    '1 hour 2 3',
    '30 1 minute',
    '30 1 day',
    '30 40',
    '1 2 3',
    '1 2 ms',
    '1w2d',
    '1hour30min',
    '1 dow',
    '1 ago',
    '1 quarter',
    '1:2:3:4',
    '-PT1H',
    'P',
    'P1H',
    'p1d',
    'pt15m',
    'PT15M ago',
  ])('refuses %j as PostgreSQL does (22007)', (text) => {
    expect(failure(() => parseInterval(text))).toEqual({ sqlstate: '22007', message: `invalid input syntax for type interval: "${text}"` });
  });

  it.each(['25:61:61', '1:60', '00:00:61', '100000000000 hours', '2502000000 hours'])('refuses %j as out of range (22015)', (text) => {
    expect(failure(() => parseInterval(text))).toEqual({ sqlstate: '22015', message: `interval field value out of range: "${text}"` });
  });

  it('refuses a qualifier that is not one', () => {
    expect(failure(() => parseInterval('1', 'fortnight'))).toEqual({ sqlstate: '42601', message: 'invalid interval qualifier "fortnight"' });
  });

  it.each([
    [900_000, '00:15:00'],
    [5_400_000, '01:30:00'],
    [90_000_000, '25:00:00'],
    [-1000, '-00:00:01'],
    [500, '00:00:00.5'],
    [120, '00:00:00.12'],
    [0, '00:00:00'],
    [-1, '-00:00:00.001'],
    [360_000_000_000, '100000:00:00'],
    [-90_061_500, '-25:01:01.5'],
  ])('prints %d ms as make_interval(secs => …) prints: %s', (ms, printed) => {
    expect(formatInterval(ms)).toBe(printed);
  });

  it('reads back every duration it prints', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -100_000_000, max: 100_000_000 }), fc.integer({ min: -MAX_DURATION_MS, max: MAX_DURATION_MS })), (ms) => {
        expect(parseInterval(formatInterval(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
    expect(parseInterval(formatInterval(MAX_DURATION_MS))).toBe(MAX_DURATION_MS);
    expect(parseInterval(formatInterval(-MAX_DURATION_MS))).toBe(-MAX_DURATION_MS);
    expect(failure(() => formatInterval(0.5)).sqlstate).toBe('22015');
  });
});

describe('binary formats', () => {
  const hex = (b: Buffer) => b.toString('hex');
  const buf = (h: string) => Buffer.from(h, 'hex');

  it('are the bytes PostgreSQL sends (timestamptz_send, interval_send, date_send)', () => {
    const at = Date.UTC(2026, 2, 1, 9, 0, 0, 123);
    expect(hex(encodeTimestamptzBinary(at))).toBe('0002eef176be2478');
    expect(hex(encodeTimestamptzBinary(-1))).toBe('fffca2fec4c81c18');
    expect(hex(encodeTimestamptzBinary(parseTimestamptz('0044-03-15 12:00:00+00 BC', 'UTC')))).toBe('ff1af9e8fb46d000');
    expect(decodeTimestamptzBinary(buf('0002eef176be2478'))).toBe(at);
    expect(hex(encodeIntervalBinary(5_400_000))).toBe('0000000141dd76000000000000000000');
    expect(hex(encodeIntervalBinary(-1))).toBe('fffffffffffffc180000000000000000');
    expect(decodeIntervalBinary(buf('00000001ad2748000000000100000000'))).toBe(26 * 3_600_000); // 1 day 02:00:00
    expect(hex(encodeDateBinary(Date.UTC(2026, 2, 1, 9)))).toBe('00002554');
    expect(decodeDateBinary(buf('ffffffff'))).toBe(Date.UTC(1999, 11, 31));
  });

  it('floor microseconds below a millisecond toward -∞', () => {
    expect(decodeTimestamptzBinary(buf('0000000000000001'))).toBe(946_684_800_000); // 2000-01-01 00:00:00.000001
    expect(decodeTimestamptzBinary(buf('ffffffffffffffff'))).toBe(946_684_799_999); // 1999-12-31 23:59:59.999999
    expect(decodeIntervalBinary(buf('ffffffffffffffff0000000000000000'))).toBe(-1);
  });

  it('refuse infinity, months, values allot cannot hold and wrong lengths', () => {
    for (const h of ['7fffffffffffffff', '8000000000000000']) {
      expect(failure(() => decodeTimestamptzBinary(buf(h)))).toEqual({ sqlstate: '22008', message: 'allot instants are finite: infinity is not a time' });
    }
    for (const h of ['7fffffff', '80000000']) expect(failure(() => decodeDateBinary(buf(h))).sqlstate).toBe('22008');
    expect(failure(() => decodeTimestamptzBinary(buf('7ffffffffffffffe'))).sqlstate).toBe('22008'); // 294276 AD
    expect(failure(() => decodeIntervalBinary(buf('00000000000000000000000000000001'))).sqlstate).toBe('0A000'); // 1 mon
    expect(failure(() => decodeIntervalBinary(buf('7fffffffffffffff7fffffff00000000'))).sqlstate).toBe('22015');
    expect(failure(() => decodeTimestamptzBinary(buf('00'))).sqlstate).toBe('22P03');
    expect(failure(() => encodeTimestamptzBinary(MAX_INSTANT_MS + 1)).sqlstate).toBe('22008');
  });

  it('read back what they write', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_INSTANT_MS, max: MAX_INSTANT_MS }), (ms) => {
        expect(decodeTimestamptzBinary(encodeTimestamptzBinary(ms))).toBe(ms);
        const day = Math.floor(ms / 86_400_000) * 86_400_000;
        expect(decodeDateBinary(encodeDateBinary(ms))).toBe(day);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -MAX_DURATION_MS, max: MAX_DURATION_MS }), (ms) => {
        expect(decodeIntervalBinary(encodeIntervalBinary(ms))).toBe(ms);
      }),
    );
  });
});

describe('date_trunc', () => {
  const fields = ['microseconds', 'milliseconds', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'decade', 'century', 'millennium'];
  // PostgreSQL, TimeZone Europe/Berlin: date_trunc(field, ts) for three instants.
  const expected: Record<string, [string, string, string]> = {
    microseconds: ['2026-10-25 02:30:00+01', '2026-03-29 03:30:15.5+02', '0044-03-15 12:53:28+00:53:28 BC'],
    milliseconds: ['2026-10-25 02:30:00+01', '2026-03-29 03:30:15.5+02', '0044-03-15 12:53:28+00:53:28 BC'],
    second: ['2026-10-25 02:30:00+01', '2026-03-29 03:30:15+02', '0044-03-15 12:53:28+00:53:28 BC'],
    minute: ['2026-10-25 02:30:00+01', '2026-03-29 03:30:00+02', '0044-03-15 12:53:00+00:53:28 BC'],
    hour: ['2026-10-25 02:00:00+01', '2026-03-29 03:00:00+02', '0044-03-15 12:00:00+00:53:28 BC'],
    day: ['2026-10-25 00:00:00+02', '2026-03-29 00:00:00+01', '0044-03-15 00:00:00+00:53:28 BC'],
    week: ['2026-10-19 00:00:00+02', '2026-03-23 00:00:00+01', '0044-03-11 00:00:00+00:53:28 BC'],
    month: ['2026-10-01 00:00:00+02', '2026-03-01 00:00:00+01', '0044-03-01 00:00:00+00:53:28 BC'],
    quarter: ['2026-10-01 00:00:00+02', '2026-01-01 00:00:00+01', '0044-01-01 00:00:00+00:53:28 BC'],
    year: ['2026-01-01 00:00:00+01', '2026-01-01 00:00:00+01', '0044-01-01 00:00:00+00:53:28 BC'],
    decade: ['2020-01-01 00:00:00+01', '2020-01-01 00:00:00+01', '0051-01-01 00:00:00+00:53:28 BC'],
    century: ['2001-01-01 00:00:00+01', '2001-01-01 00:00:00+01', '0100-01-01 00:00:00+00:53:28 BC'],
    millennium: ['2001-01-01 00:00:00+01', '2001-01-01 00:00:00+01', '1000-01-01 00:00:00+00:53:28 BC'],
  };
  const instants = ['2026-10-25 02:30:00+01', '2026-03-29 03:30:15.5+02', '0044-03-15 12:00:00+00 BC'].map((t) => parseTimestamptz(t, BERLIN));

  it.each(fields)('%s in Europe/Berlin, across DST and BC', (field) => {
    expect(instants.map((ms) => formatTimestamptz(dateTrunc(field, ms, BERLIN), BERLIN))).toEqual(expected[field]);
  });

  it('finds local midnight again, even when the zone skips it', () => {
    const sp = 'America/Sao_Paulo';
    expect(formatTimestamptz(dateTrunc('day', parseTimestamptz('2018-11-04 12:00:00-02', sp), sp), sp)).toBe('2018-11-04 01:00:00-02');
    expect(formatTimestamptz(dateTrunc('day', parseTimestamptz('2018-02-17 23:30:00-03', sp), sp), sp)).toBe('2018-02-17 00:00:00-02');
    const k = Date.UTC(2026, 0, 1);
    expect(['hour', 'day', 'week'].map((f) => formatTimestamptz(dateTrunc(f, k, KOLKATA), KOLKATA))).toEqual([
      '2026-01-01 05:00:00+05:30',
      '2026-01-01 00:00:00+05:30',
      '2025-12-29 00:00:00+05:30',
    ]);
    // Units by any of PostgreSQL's spellings.
    const may = parseTimestamptz('2026-05-05', 'UTC');
    expect(['qtr', 'mils', 'c', 'dec'].map((f) => formatTimestamptz(dateTrunc(f, may, 'UTC'), 'UTC'))).toEqual([
      '2026-04-01 00:00:00+00',
      '2001-01-01 00:00:00+00',
      '2001-01-01 00:00:00+00',
      '2020-01-01 00:00:00+00',
    ]);
  });

  it.skipIf(!haveLordHowe)('keeps the instant’s own offset below a day, as PostgreSQL does', () => {
    const t = (text: string) => formatTimestamptz(dateTrunc('hour', parseTimestamptz(text, LORD_HOWE), LORD_HOWE), LORD_HOWE);
    expect(t('2026-04-05 01:45:00+10:30')).toBe('2026-04-05 01:30:00+11');
    expect(t('2026-04-05 01:45:00+11')).toBe('2026-04-05 01:00:00+11');
    expect(formatTimestamptz(dateTrunc('day', parseTimestamptz('2026-10-04 12:00+11', LORD_HOWE), LORD_HOWE), LORD_HOWE)).toBe('2026-10-04 00:00:00+10:30');
  });

  it('refuses units it does not know or cannot cut by', () => {
    const type = 'timestamp with time zone';
    expect(failure(() => dateTrunc('xyz', 0, 'UTC'))).toEqual({ sqlstate: '22023', message: `unit "xyz" not recognized for type ${type}` });
    expect(failure(() => dateTrunc('dow', 0, 'UTC'))).toEqual({ sqlstate: '22023', message: `unit "dow" not recognized for type ${type}` });
    expect(failure(() => dateTrunc('epoch', 0, 'UTC'))).toEqual({ sqlstate: '22023', message: `unit "epoch" not recognized for type ${type}` });
    expect(failure(() => dateTrunc('timezone', 0, 'UTC'))).toEqual({ sqlstate: '0A000', message: `unit "timezone" not supported for type ${type}` });
    expect(failure(() => dateTrunc('millennium', MIN_INSTANT_MS, 'UTC')).sqlstate).toBe('22008');
  });

  it('never moves an instant later, and a second cut changes nothing (zones without midnight jumps)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...fields),
        fc.constantFrom('UTC', BERLIN, NEW_YORK, KOLKATA),
        (ms, field, zone) => {
          const cut = dateTrunc(field, ms, zone);
          expect(cut).toBeLessThanOrEqual(ms);
          expect(dateTrunc(field, cut, zone)).toBe(cut);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('extract', () => {
  const fields = [
    'epoch',
    'year',
    'month',
    'day',
    'hour',
    'minute',
    'second',
    'milliseconds',
    'microseconds',
    'dow',
    'isodow',
    'doy',
    'week',
    'isoyear',
    'quarter',
    'decade',
    'century',
    'millennium',
    'julian',
    'timezone',
    'timezone_hour',
    'timezone_minute',
  ];
  // PostgreSQL, TimeZone America/St_Johns (-03:30; LMT -03:30:52 in 1 BC): date_part(field, ts).
  const expected: Record<string, number[]> = {
    epoch: [1772355605.123, 1798768800, -62154043200, -0.5],
    year: [2026, 2026, -1, 1969],
    month: [3, 12, 6, 12],
    day: [1, 31, 1, 31],
    hour: [5, 22, 8, 20],
    minute: [30, 30, 29, 29],
    second: [5.123, 0, 8, 59.5],
    milliseconds: [5123, 0, 8000, 59500],
    microseconds: [5123000, 0, 8000000, 59500000],
    dow: [0, 4, 4, 3],
    isodow: [7, 4, 4, 3],
    doy: [60, 365, 153, 365],
    week: [9, 53, 22, 1],
    isoyear: [2026, 2026, -1, 1970],
    quarter: [1, 4, 2, 4],
    decade: [202, 202, 0, 196],
    century: [21, 21, -1, 20],
    millennium: [3, 3, -1, 2],
    julian: [2461101.2292259606, 2461406.9375, 1721212.353564815, 2440587.8541608797],
    timezone: [-12600, -12600, -12652, -12600],
    timezone_hour: [-3, -3, -3, -3],
    timezone_minute: [-30, -30, -30, -30],
  };
  const instants = ['2026-03-01 09:00:05.123+00', '2027-01-01 02:00:00+00', '0001-06-01 12:00:00+00 BC', '1969-12-31 23:59:59.5+00'].map((t) =>
    parseTimestamptz(t, 'UTC'),
  );

  it.each(fields)('%s from timestamptz', (field) => {
    expect(instants.map((ms) => extractField(field, ms, 'America/St_Johns'))).toEqual(expected[field]);
  });

  it('takes units by their other spellings, in any case', () => {
    const at = parseTimestamptz('2026-05-05 10:00:01.5', 'UTC');
    expect(extractField('HOURS', at, 'UTC')).toBe(10);
    expect(extractField('msec', at, 'UTC')).toBe(1500);
    expect(extractField('qtr', at, 'UTC')).toBe(2);
    expect(extractField('jd', parseTimestamptz('2026-05-05 12:00+00', 'UTC'), 'UTC')).toBe(2461166.5);
    expect(extractField('timezone', Date.UTC(2026, 2, 1), BERLIN)).toBe(3600);
    expect(extractField('timezone_hour', Date.UTC(2026, 2, 1), BERLIN)).toBe(1);
    expect(failure(() => extractField('xyz', 0, 'UTC'))).toEqual({ sqlstate: '22023', message: 'unit "xyz" not recognized for type timestamp with time zone' });
  });

  // PostgreSQL: date_part(field, interval '-25:01:01.5'), date_part(field, interval '00:15:00').
  it.each([
    ['epoch', -90061.5, 900],
    ['hour', -25, 0],
    ['minute', -1, 15],
    ['second', -1.5, 0],
    ['milliseconds', -1500, 0],
    ['microseconds', -1500000, 0],
    ['day', 0, 0],
    ['month', 0, 0],
    ['quarter', 1, 1],
    ['year', 0, 0],
    ['decade', 0, 0],
    ['century', 0, 0],
    ['millennium', 0, 0],
  ])('%s from interval', (field, a, b) => {
    expect(extractFromInterval(field, -90_061_500)).toBe(a);
    expect(extractFromInterval(field, 900_000)).toBe(b);
  });

  it('from an interval, days are hours: allot keeps no day field', () => {
    // PostgreSQL: extract(day from interval '25 hours') = 0, hour = 25; from '1 day' it would say 1 and 0.
    expect(extractFromInterval('day', parseInterval('25 hours'))).toBe(0);
    expect(extractFromInterval('hour', parseInterval('1 day'))).toBe(24);
    expect(Object.is(extractFromInterval('minute', -1000), 0)).toBe(true); // never -0
    expect(failure(() => extractFromInterval('week', 0))).toEqual({ sqlstate: '0A000', message: 'unit "week" not supported for type interval' });
    expect(failure(() => extractFromInterval('dow', 0))).toEqual({ sqlstate: '0A000', message: 'unit "dow" not supported for type interval' });
    expect(failure(() => extractFromInterval('xyz', 0))).toEqual({ sqlstate: '22023', message: 'unit "xyz" not recognized for type interval' });
  });
});

describe('to_timestamp', () => {
  it('turns seconds into an instant as PostgreSQL does, then floors to ms', () => {
    expect(formatTimestamptz(toTimestamp(1.5), 'UTC')).toBe('1970-01-01 00:00:01.5+00');
    expect(formatTimestamptz(toTimestamp(1772355605.123), 'UTC')).toBe('2026-03-01 09:00:05.123+00');
    expect(toTimestamp(1.001)).toBe(1001); // 1.001 * 1000 is 1000.9999999999999 in floating point
    expect(toTimestamp(0.0005)).toBe(0); // PostgreSQL: 1970-01-01 00:00:00.0005+00
    expect(toTimestamp(-1.0001)).toBe(-1001); // PostgreSQL: 1969-12-31 23:59:58.9999+00
  });

  it('refuses NaN, infinity and instants out of range', () => {
    expect(failure(() => toTimestamp(Number.NaN))).toEqual({ sqlstate: '22008', message: 'timestamp cannot be NaN' });
    expect(failure(() => toTimestamp(1e20))).toEqual({ sqlstate: '22008', message: 'timestamp out of range: "1e+20"' });
    expect(failure(() => toTimestamp(Number.POSITIVE_INFINITY)).sqlstate).toBe('22008');
  });
});

describe('tzdataVersion', () => {
  it("names the runtime's tz database release", () => {
    expect(tzdataVersion()).toMatch(/^(\d{4}[a-z]|unknown)$/);
  });
});
