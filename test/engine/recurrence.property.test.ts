/**
 * Recurrence expansion against a brute-force model: every local day from the first occurrence
 * on is tested against the rule's definition (period by counting days, weeks, months or years;
 * weekdays, month days and ordinals by counting within the month or year), and each local time
 * is turned into an instant by scanning the zone's wall clock in 15-minute steps with Intl
 * itself. Zones with DST on both hemispheres; starts near DST changes, leap days and month ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localToInstant, occurrencesOverlapping, parseRRule, type RRule, type Series, seriesEnd, zoneOf } from '../../src/engine/recurrence.js';

const DAY = 86_400_000;
const MIN = 60_000;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'UTC'];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

const formats = new Map<string, Intl.DateTimeFormat>();
/** The wall clock in `zone` at instant `t`, as ms since 1970 "local", read from Intl directly. */
function wall(t: number, zone: string): number {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)) + (t % MIN);
}

/** Local time to instant by scanning: the earliest instant showing it; in a gap, the gap's end plus how far into the gap it was. */
function modelInstant(local: number, zone: string): number {
  const step = 15 * MIN;
  const from = Math.floor((local - 15 * 3_600_000) / step) * step;
  let firstAfter: number | null = null;
  for (let t = from; t <= local + 15 * 3_600_000; t += step) {
    const w = wall(t, zone);
    if (w === local) return t;
    if (w > local && firstAfter === null) firstAfter = t;
    // Exact times between steps: the wall clock runs at one minute a minute between transitions.
    if (w < local && wall(t + step, zone) > local && wall(t + step, zone) - w === step) return t + (local - w);
  }
  // A gap: the wall clock jumped over `local` at `firstAfter`.
  const gapStart = wall(firstAfter! - 1, zone) + 1;
  return firstAfter! + (local - gapStart);
}

interface Spec {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  byDay: { weekday: number; ordinal: number }[];
  byMonthDay: number[];
  byMonth: number[];
  end: { count: number } | { untilDays: number } | null;
}

function rruleText(s: Spec, start: number): string {
  const parts = [`FREQ=${s.freq}`];
  if (s.interval !== 1) parts.push(`INTERVAL=${s.interval}`);
  if (s.end !== null && 'count' in s.end) parts.push(`COUNT=${s.end.count}`);
  if (s.end !== null && 'untilDays' in s.end)
    parts.push(
      `UNTIL=${new Date(start + s.end.untilDays * DAY)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')}`,
    );
  if (s.byDay.length > 0) parts.push(`BYDAY=${s.byDay.map((d) => `${d.ordinal === 0 ? '' : d.ordinal}${WEEKDAYS[d.weekday]}`).join(',')}`);
  if (s.byMonthDay.length > 0) parts.push(`BYMONTHDAY=${s.byMonthDay.join(',')}`);
  if (s.byMonth.length > 0) parts.push(`BYMONTH=${s.byMonth.join(',')}`);
  return parts.join(';');
}

const civil = (day: number) => {
  const d = new Date(day * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, dom: d.getUTCDate(), weekday: (d.getUTCDay() + 6) % 7 };
};
const monthLength = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const yearLength = (y: number) => (Date.UTC(y + 1, 0, 1) - Date.UTC(y, 0, 1)) / DAY;
const dayOfYear = (day: number) => day - Date.UTC(civil(day).year, 0, 1) / DAY + 1;

/** Whether local day `day` is one the rule makes, by its definition (the first occurrence's day `day0` aside). */
function modelDay(s: Spec, day0: number, day: number): boolean {
  const c = civil(day);
  const c0 = civil(day0);
  if (s.byMonth.length > 0 && !s.byMonth.includes(c.month)) return false;
  const monthDayOk = () => s.byMonthDay.some((d) => (d > 0 ? d : monthLength(c.year, c.month) + 1 + d) === c.dom);
  const inMonth = { first: Math.floor((c.dom - 1) / 7) + 1, last: -(Math.floor((monthLength(c.year, c.month) - c.dom) / 7) + 1) };
  const inYear = { first: Math.floor((dayOfYear(day) - 1) / 7) + 1, last: -(Math.floor((yearLength(c.year) - dayOfYear(day)) / 7) + 1) };
  const dayOk = (n: { first: number; last: number }) =>
    s.byDay.some((d) => d.weekday === c.weekday && (d.ordinal === 0 || d.ordinal === n.first || d.ordinal === n.last));
  switch (s.freq) {
    case 'DAILY':
      return (day - day0) % s.interval === 0 && (s.byDay.length === 0 || dayOk(inMonth)) && (s.byMonthDay.length === 0 || monthDayOk());
    case 'WEEKLY': {
      const week = (d: number) => Math.floor((d - civil(d).weekday) / 7);
      if ((week(day) - week(day0)) % s.interval !== 0) return false;
      return s.byDay.length === 0 ? c.weekday === c0.weekday : dayOk(inMonth);
    }
    case 'MONTHLY': {
      if ((c.year * 12 + c.month - (c0.year * 12 + c0.month)) % s.interval !== 0) return false;
      if (s.byDay.length === 0 && s.byMonthDay.length === 0) return c.dom === c0.dom;
      return (s.byDay.length === 0 || dayOk(inMonth)) && (s.byMonthDay.length === 0 || monthDayOk());
    }
    case 'YEARLY': {
      if ((c.year - c0.year) % s.interval !== 0) return false;
      if (s.byDay.length === 0 && s.byMonthDay.length === 0) return c.dom === c0.dom && (s.byMonth.length > 0 || c.month === c0.month);
      const ordinalsInYear = s.byMonth.length === 0;
      return (s.byDay.length === 0 || dayOk(ordinalsInYear ? inYear : inMonth)) && (s.byMonthDay.length === 0 || monthDayOk());
    }
  }
}

/** Every occurrence of the series up to local day `lastDay`, by brute force. */
function modelOccurrences(series: Series, spec: Spec, lastDay: number): { start: number; end: number }[] {
  const localStart = wall(series.start, series.zone);
  const length = Math.max(1, wall(series.end, series.zone) - localStart);
  const day0 = Math.floor(localStart / DAY);
  const timeOfDay = localStart - day0 * DAY;
  const out = [{ start: series.start, end: series.end }];
  const until = series.rule.until;
  for (let day = day0 + 1; day <= lastDay; day++) {
    if (spec.end !== null && 'count' in spec.end && out.length >= spec.end.count) break;
    if (!modelDay(spec, day0, day)) continue;
    const local = day * DAY + timeOfDay;
    const start = modelInstant(local, series.zone);
    if (until !== null && start > until) break;
    const moved = wall(start, series.zone) - local;
    out.push({ start, end: modelInstant(local + length + moved, series.zone) });
  }
  return out.filter((o) => !series.exdates.includes(o.start));
}

const weekdayNum = (ordinals: boolean) =>
  fc.record({ weekday: fc.integer({ min: 0, max: 6 }), ordinal: ordinals ? fc.constantFrom(0, 1, 2, -1, -2, 5) : fc.constant(0) });

const specArb: fc.Arbitrary<Spec> = fc.constantFrom<Spec['freq']>('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY').chain((freq) =>
  fc.record({
    freq: fc.constant(freq),
    interval: fc.integer({ min: 1, max: 3 }),
    byDay: fc.uniqueArray(weekdayNum(freq === 'MONTHLY' || freq === 'YEARLY'), { maxLength: 3, selector: (d) => `${d.weekday}:${d.ordinal}` }),
    byMonthDay: freq === 'WEEKLY' ? fc.constant([]) : fc.uniqueArray(fc.constantFrom(1, 15, 28, 29, 30, 31, -1, -2), { maxLength: 2 }),
    byMonth: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: freq === 'YEARLY' ? 2 : 4 }),
    end: fc.oneof(fc.constant(null), fc.record({ count: fc.integer({ min: 1, max: 40 }) }), fc.record({ untilDays: fc.integer({ min: 0, max: 800 }) })),
  }),
);

/** Starts near DST changes (both hemispheres), month ends and a leap day, at awkward times of day. */
const startArb = fc.record({
  day: fc.constantFrom('2026-03-27', '2026-03-29', '2026-10-24', '2026-11-01', '2026-04-05', '2026-01-31', '2028-02-29', '2027-03-14', '2026-12-31'),
  time: fc.constantFrom('00:00', '01:30', '02:30', '02:30', '02:30', '09:00', '23:45', '02:00', '03:00'),
  lengthMin: fc.constantFrom(15, 60, 150, 480, 1500),
});

describe('recurrence expansion', () => {
  it('agrees with the brute-force model on random rules, zones, starts and windows', () => {
    fc.assert(
      fc.property(
        specArb,
        startArb,
        fc.constantFrom(...ZONES),
        fc.oneof(fc.integer({ min: -3, max: 10 }), fc.integer({ min: -5, max: 900 })),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (spec, st, zone, fromDay, days, withExdate) => {
          const zr = zoneOf(zone);
          const local = Date.parse(`${st.day}T${st.time}:00Z`);
          const start = localToInstant(local, zr);
          const end = localToInstant(local + st.lengthMin * MIN, zr);
          let rule: RRule;
          try {
            rule = parseRRule(rruleText(spec, start), zone);
          } catch {
            return; // a combination that has no occurrences is refused; nothing to expand
          }
          const a = start + fromDay * DAY;
          const b = a + days * DAY;
          const base: Series = { start, end, zone, rule, exdates: [] };
          const model = modelOccurrences(base, spec, Math.floor(b / DAY) + 2);
          const exdates = withExdate && model.length > 1 ? [model[1]!.start] : [];
          const series: Series = { ...base, exdates };
          const expected = modelOccurrences(series, spec, Math.floor(b / DAY) + 2).filter((o) => o.start < b && o.end > a);
          expect(occurrencesOverlapping(series, a, b)).toEqual(expected);
        },
      ),
      { numRuns: Number(process.env.ALLOT_PROPERTY_RUNS ?? 300) },
    );
  });

  it('agrees with the model at every quarter hour of the nights around each DST change of 2026 and 2027', () => {
    const changes: [string, string[]][] = [
      ['Europe/Berlin', ['2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31']],
      ['America/New_York', ['2026-03-08', '2026-11-01', '2027-03-14', '2027-11-07']],
      ['Australia/Sydney', ['2026-04-05', '2026-10-04', '2027-04-04', '2027-10-03']],
    ];
    const spec: Spec = { freq: 'DAILY', interval: 1, byDay: [], byMonthDay: [], byMonth: [], end: null };
    for (const [zone, days] of changes) {
      const zr = zoneOf(zone);
      for (const day of days) {
        for (let q = 0; q < 16; q++) {
          const local = Date.parse(`${day}T00:00:00Z`) - 2 * DAY + q * 15 * MIN;
          const start = localToInstant(local, zr);
          const series: Series = { start, end: localToInstant(local + 90 * MIN, zr), zone, rule: parseRRule('FREQ=DAILY', zone), exdates: [] };
          const a = Date.parse(`${day}T00:00:00Z`) - DAY;
          const b = a + 3 * DAY;
          const expected = modelOccurrences(series, spec, Math.floor(b / DAY) + 2).filter((o) => o.start < b && o.end > a);
          expect(occurrencesOverlapping(series, a, b), `${zone} ${day} +${q * 15} min`).toEqual(expected);
        }
      }
    }
  });

  it('keeps 09:00-17:00 local across DST in Berlin, New York and Sydney', () => {
    const cases: [string, string, string, string[]][] = [
      // zone, first occurrence (local Monday 09:00), window start, expected starts (UTC)
      ['Europe/Berlin', '2026-03-23', '2026-03-26', ['2026-03-26T08:00', '2026-03-27T08:00', '2026-03-30T07:00', '2026-03-31T07:00']],
      ['Europe/Berlin', '2026-10-19', '2026-10-22', ['2026-10-22T07:00', '2026-10-23T07:00', '2026-10-26T08:00', '2026-10-27T08:00']],
      ['America/New_York', '2026-03-02', '2026-03-05', ['2026-03-05T14:00', '2026-03-06T14:00', '2026-03-09T13:00', '2026-03-10T13:00']],
      ['Australia/Sydney', '2026-03-30', '2026-04-02', ['2026-04-01T22:00', '2026-04-02T22:00', '2026-04-05T23:00', '2026-04-06T23:00']],
    ];
    for (const [zone, first, from, starts] of cases) {
      const zr = zoneOf(zone);
      const s0 = localToInstant(Date.parse(`${first}T09:00:00Z`), zr);
      const series: Series = {
        start: s0,
        end: localToInstant(Date.parse(`${first}T17:00:00Z`), zr),
        zone,
        rule: parseRRule('FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', zone),
        exdates: [],
      };
      const a = Date.parse(`${from}T00:00:00Z`);
      const got = occurrencesOverlapping(series, a, a + 6 * DAY).map((o) => [new Date(o.start).toISOString().slice(0, 16), (o.end - o.start) / 3_600_000]);
      expect(got.slice(0, 4)).toEqual(starts.map((t) => [t, 8]));
    }
  });

  it('moves a start in a spring-forward gap forward (its end with it) and takes the earlier of an ambiguous time', () => {
    const zone = 'Europe/Berlin';
    const zr = zoneOf(zone);
    const s0 = localToInstant(Date.parse('2026-03-27T02:30:00Z'), zr);
    const series: Series = { start: s0, end: s0 + 3_600_000, zone, rule: parseRRule('FREQ=DAILY', zone), exdates: [] };
    const at = (day: string) =>
      occurrencesOverlapping(series, Date.parse(`${day}T00:00:00Z`) - 3 * 3_600_000, Date.parse(`${day}T00:00:00Z`) + 21 * 3_600_000)[0]!;
    // 02:30 does not exist on 29 March: 03:30 CEST (01:30Z), an hour long.
    expect(at('2026-03-29')).toEqual({ start: Date.parse('2026-03-29T01:30:00Z'), end: Date.parse('2026-03-29T02:30:00Z') });
    // 02:30 happens twice on 25 October: the first, CEST (00:30Z); 03:30 is CET (02:30Z).
    expect(at('2026-10-25')).toEqual({ start: Date.parse('2026-10-25T00:30:00Z'), end: Date.parse('2026-10-25T02:30:00Z') });
  });

  it('skips months without day 31, keeps leap days to leap years, counts COUNT from the first, and ends a forever rule never', () => {
    const first = Date.parse('2026-01-31T10:00:00Z');
    const monthly: Series = { start: first, end: first + 3_600_000, zone: 'UTC', rule: parseRRule('FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4', 'UTC'), exdates: [] };
    expect(occurrencesOverlapping(monthly, first, first + 400 * DAY).map((o) => new Date(o.start).toISOString().slice(0, 10))).toEqual([
      '2026-01-31',
      '2026-03-31',
      '2026-05-31',
      '2026-07-31',
    ]);
    expect(seriesEnd(monthly)).toBe(Date.parse('2026-07-31T11:00:00Z'));
    const leap = Date.parse('2028-02-29T09:00:00Z');
    const yearly: Series = { start: leap, end: leap + 3_600_000, zone: 'UTC', rule: parseRRule('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'UTC'), exdates: [] };
    expect(occurrencesOverlapping(yearly, leap, leap + 3000 * DAY).map((o) => new Date(o.start).toISOString().slice(0, 10))).toEqual([
      '2028-02-29',
      '2032-02-29',
      '2036-02-29',
    ]);
    expect(seriesEnd(yearly)).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses rules it cannot expand exactly, each with a clear 22023', () => {
    for (const [text, message] of [
      ['FREQ=HOURLY', 'RRULE FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, got "HOURLY"'],
      ['BYDAY=MO', 'RRULE needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)'],
      ['FREQ=WEEKLY;BYDAY=1MO', 'RRULE BYDAY ordinals (such as 1MO) need FREQ=MONTHLY or YEARLY, not WEEKLY'],
      ['FREQ=WEEKLY;BYMONTHDAY=1', 'RRULE BYMONTHDAY does not apply to FREQ=WEEKLY'],
      ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'RRULE has no occurrences: none of its BYMONTH months has any of its BYMONTHDAY days'],
      ['FREQ=DAILY;COUNT=2;UNTIL=20270101', 'RRULE may have COUNT or UNTIL, not both'],
      ['FREQ=DAILY;COUNT=0', 'RRULE COUNT must be between 1 and 10000 and not 0, got 0'],
      ['FREQ=DAILY;BYSETPOS=1', 'RRULE part BYSETPOS is not supported'],
      ['FREQ=DAILY;UNTIL=20260230', 'RRULE UNTIL is not a date: "20260230"'],
      ['FREQ=MONTHLY;BYDAY=6MO', 'RRULE BYDAY ordinals within a month run from -5 to 5'],
    ] as const) {
      expect(() => parseRRule(text, 'UTC'), text).toThrow(message);
    }
    expect(() => zoneOf('Mars/Olympus')).toThrow('time zone "Mars/Olympus" is not an IANA zone this server knows');
  });
});
