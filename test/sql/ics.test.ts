/**
 * The calendar table and `allot export --format ics`, read back with a real iCalendar parser
 * (ical.js): opening hours in three zones expand, across their DST changes and past an EXDATE,
 * to exactly the open time availability shows; bookings, holds, outages and closed time come
 * out as events with their times, kinds and text; bad asks get clear errors.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ICAL from 'ical.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

let srv: TestServer;
let c: pg.Client;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
  c = await srv.client('ics');
  await c.query(`SET TIME ZONE 'UTC'`);
});
afterAll(async () => {
  await srv.close();
});

interface Parsed {
  readonly events: ICAL.Event[];
  readonly calendar: ICAL.Component;
}

/** The VCALENDAR as ical.js reads it, its VTIMEZONEs registered first so local times resolve. */
function parse(text: string): Parsed {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const tz of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  // Events read after the zones are known.
  const again = new ICAL.Component(ICAL.parse(text));
  return { calendar: again, events: again.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v)) };
}

const ms = (t: ICAL.Time): number => t.toUnixTime() * 1000;
const iso = (n: number): string => new Date(n).toISOString();

/** Occurrences of a (recurring) event that start inside [a, b), as ISO spans. */
function occurrences(e: ICAL.Event, a: number, b: number): string[][] {
  const out: string[][] = [];
  const it = e.iterator();
  for (let t = it.next(); t !== null && t !== undefined; t = it.next()) {
    const d = e.getOccurrenceDetails(t);
    const s = ms(d.startDate);
    if (s >= b) break;
    if (s >= a) out.push([iso(s), iso(ms(d.endDate))]);
  }
  return out;
}

async function ics(resource: string, from: string, to: string): Promise<string> {
  const r = await c.query(`SELECT ics FROM calendar WHERE resource_id = $1 AND start >= $2 AND "end" <= $3`, [resource, from, to]);
  expect(r.rows).toHaveLength(1);
  return r.rows[0].ics as string;
}

function allot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

describe('the calendar table', () => {
  const zones = [
    // Each window holds the zone's DST change of early 2026, and an EXDATE.
    { zone: 'Europe/Berlin', first: '2026-03-02', from: '2026-03-20T00:00:00Z', to: '2026-04-10T00:00:00Z', skip: '2026-04-03' },
    { zone: 'America/New_York', first: '2026-03-02', from: '2026-03-01T00:00:00Z', to: '2026-03-20T00:00:00Z', skip: '2026-03-10' },
    { zone: 'Australia/Sydney', first: '2026-03-02', from: '2026-03-28T00:00:00Z', to: '2026-04-14T12:00:00Z', skip: '2026-04-06' },
  ];

  it.each(zones)('expands opening hours in $zone to the open time availability shows', async ({ zone, first, from, to, skip }) => {
    const id = `hours-${zone}`;
    await c.query(`INSERT INTO resources (id) VALUES ($1)`, [id]);
    await c.query(
      `INSERT INTO rules (id, resource_id, start, "end", rrule, tz, exdates) VALUES ($1, $1, ($2 || ' 09:00 ' || $4)::timestamptz, ($2 || ' 17:00 ' || $4)::timestamptz,
        'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', $4, ARRAY[($3 || ' 09:00 ' || $4)::timestamptz])`,
      [id, first, skip, zone],
    );
    const { calendar, events } = parse(await ics(id, from, to));
    expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
    expect(calendar.getFirstSubcomponent('vtimezone')?.getFirstPropertyValue('tzid')).toBe(zone);
    expect(events).toHaveLength(1);
    const rule = events[0]!;
    expect(rule.isRecurring()).toBe(true);
    expect(rule.startDate.zone?.tzid).toBe(zone);
    expect(rule.summary).toBe('Open');
    const open = await c.query(`SELECT start, "end" FROM availability WHERE resource_id = $1 AND start >= $2 AND "end" <= $3`, [id, from, to]);
    const expected = open.rows.map((r) => [(r.start as Date).toISOString(), (r.end as Date).toISOString()]);
    expect(expected.length).toBeGreaterThan(10);
    expect(occurrences(rule, Date.parse(from), Date.parse(to))).toEqual(expected);
    // The offsets really change inside the window: not every occurrence starts at the same UTC hour.
    expect(new Set(expected.map(([s]) => s!.slice(11))).size).toBe(2);
  });

  it('shows bookings, holds, outages and closed time as events, with their times, kinds and text', async () => {
    await c.query(`INSERT INTO resources (id, name) VALUES ('studio', 'Studio; A, north')`);
    await c.query(`INSERT INTO rules (resource_id, start, "end") VALUES ('studio', '2026-01-01 00:00Z', '2027-01-01 00:00Z')`);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", blocking) VALUES ('xmas', 'studio', '2026-12-24 00:00Z', '2026-12-25 00:00Z', true)`);
    const series = await c.query(
      `INSERT INTO bookings (resource_id, start, "end", label, user_id, rrule, tz) VALUES ('studio', '2026-12-01 10:00 Europe/Berlin', '2026-12-01 11:00 Europe/Berlin',
        'Sync, weekly; all
hands', 'ann', 'FREQ=WEEKLY;COUNT=3', 'Europe/Berlin') RETURNING id, group_id`,
    );
    await c.query(
      `INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h1', 'studio', '2026-12-02 13:00Z', '2026-12-02 14:00Z', '2099-01-01 00:00Z')`,
    );
    await c.query(
      `INSERT INTO outages (id, resource_id, kind, start, "end", reason) VALUES ('paint', 'studio', 'planned', '2026-12-20 00:00Z', '2026-12-21 00:00Z', 'painting')`,
    );
    await c.query(
      `INSERT INTO outages (id, resource_id, kind, start, sliding_window) VALUES ('leak', 'studio', 'unplanned', '2026-12-28 00:00Z', interval '1 hour')`,
    );
    const { calendar, events } = parse(await ics('studio', '2026-12-01', '2027-01-01'));
    // Escaped as TEXT; ical.js leaves a property it does not know as written.
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe('Studio\\; A\\, north');
    const rows = events.map((e) => ({
      uid: e.uid,
      kind: e.component.getFirstPropertyValue('categories'),
      status: e.component.getFirstPropertyValue('status'),
      summary: e.summary,
      start: iso(ms(e.startDate)),
      end: iso(ms(e.endDate)),
    }));
    const ids = series.rows.map((r) => r.id as string);
    const booking = (id: string, i: number) => ({
      uid: `booking-${id}@allot`,
      kind: 'BOOKING',
      status: 'CONFIRMED',
      summary: 'Sync, weekly; all\nhands',
      start: `2026-12-${String(1 + 7 * i).padStart(2, '0')}T09:00:00.000Z`,
      end: `2026-12-${String(1 + 7 * i).padStart(2, '0')}T10:00:00.000Z`,
    });
    // Bookings and holds in start order, then outages, then rules.
    expect(rows).toEqual([
      booking(ids[0]!, 0),
      { uid: 'hold-h1@allot', kind: 'HOLD', status: 'TENTATIVE', summary: 'Hold', start: '2026-12-02T13:00:00.000Z', end: '2026-12-02T14:00:00.000Z' },
      booking(ids[1]!, 1),
      booking(ids[2]!, 2),
      {
        uid: 'outage-paint@allot',
        kind: 'OUTAGE',
        status: 'CONFIRMED',
        summary: 'Outage (planned): painting',
        start: '2026-12-20T00:00:00.000Z',
        end: '2026-12-21T00:00:00.000Z',
      },
      // Still open: it lasts to the end of the window.
      {
        uid: 'outage-leak@allot',
        kind: 'OUTAGE',
        status: 'CONFIRMED',
        summary: 'Outage (unplanned)',
        start: '2026-12-28T00:00:00.000Z',
        end: '2027-01-01T00:00:00.000Z',
      },
      expect.objectContaining({ kind: 'OPEN', summary: 'Open', start: '2026-01-01T00:00:00.000Z' }),
      { uid: 'rule-xmas@allot', kind: 'CLOSED', status: null, summary: 'Closed', start: '2026-12-24T00:00:00.000Z', end: '2026-12-25T00:00:00.000Z' },
    ]);
    expect(events[0]!.component.getFirstPropertyValue('x-allot-group-id')).toBe(series.rows[0].group_id);
    expect(events.find((e) => e.uid === 'rule-xmas@allot')!.component.getFirstPropertyValue('transp')).toBe('OPAQUE');
    // A later window: only the outage still open reaches into it.
    expect(parse(await ics('studio', '2027-02-01', '2027-03-01')).events.map((e) => e.uid)).toEqual(['outage-leak@allot']);
  });

  it('answers a row per resource asked for, none for one that does not exist, and refuses what it cannot answer', async () => {
    const r = await c.query(
      `SELECT resource_id, start, "end" FROM calendar WHERE resource_id IN ('studio', 'nowhere') AND start >= '2026-12-01' AND "end" <= '2027-01-01'`,
    );
    expect(r.rows).toEqual([{ resource_id: 'studio', start: new Date('2026-12-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') }]);
    const noResource = await pgError(c.query(`SELECT ics FROM calendar WHERE start >= '2026-12-01' AND "end" <= '2027-01-01'`));
    expect(noResource.code).toBe('0A000');
    expect(noResource.message).toContain('resource_id');
    const noWindow = await pgError(c.query(`SELECT ics FROM calendar WHERE resource_id = 'studio'`));
    expect(noWindow.code).toBe('0A000');
    const wide = await pgError(c.query(`SELECT ics FROM calendar WHERE resource_id = 'studio' AND start >= '2026-01-01' AND "end" <= '2030-01-01'`));
    expect(wide.code).toBe('54000');
    const write = await pgError(c.query(`DELETE FROM calendar WHERE resource_id = 'studio'`));
    expect(write.code).toBe('0A000');
  });
});

describe('allot export --format ics', () => {
  it('writes the calendar of a resource, and of every resource one after another', async () => {
    const one = await allot([
      'export',
      '--url',
      srv.url('ics'),
      '--format',
      'ics',
      '--resource',
      'studio',
      '--from',
      '2026-12-01T00:00:00Z',
      '--to',
      '2027-01-01T00:00:00Z',
    ]);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const strip = (s: string): string => s.replace(/DTSTAMP:\S+/g, '');
    expect(strip(one.stdout)).toBe(strip(await ics('studio', '2026-12-01', '2027-01-01')));
    const all = await allot(['export', '--url', srv.url('ics'), '--format', 'ics', '--from', '2026-03-01T00:00:00Z']);
    expect(all.code).toBe(0);
    // An iCalendar stream: a VCALENDAR per resource, in order of id.
    const calendars = ICAL.parse(all.stdout) as unknown as unknown[][];
    const names = calendars.map((j) => new ICAL.Component(j as never).getFirstPropertyValue('x-wr-calname'));
    expect(names).toEqual(['hours-America/New_York', 'hours-Australia/Sydney', 'hours-Europe/Berlin', 'Studio\\; A\\, north']);
    const missing = await allot(['export', '--url', srv.url('ics'), '--format', 'ics', '--resource', 'nowhere']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('resource "nowhere" does not exist');
    const misplaced = await allot(['export', '--url', srv.url('ics'), '--resource', 'studio']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--resource is for --format ics');
  });
});
