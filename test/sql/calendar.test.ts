/**
 * Recurring rules through pg, with timestamptz as clients see it: opening hours in a real zone
 * across a DST change, a recurring closure, refusals that name the occurrence, canonical rrule
 * text, clear 22023s for what cannot be expanded, UPDATE of rrule and tz, events, and a restart
 * (the log and then a snapshot) giving back the same rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
const dir = mkdtempSync(join(tmpdir(), 'allot-calendar-'));
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ dataDir: dir, times: 'timestamptz' }, { clock });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

const HOURS = `INSERT INTO rules (id, resource_id, start, "end", rrule, tz)
  VALUES ('hours', 'room', '2026-03-02 09:00 Europe/Berlin', '2026-03-02 17:00 Europe/Berlin', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', 'Europe/Berlin')`;

async function room(name: string): Promise<pg.Client> {
  const c = await srv.client(name);
  await c.query(`SET TIME ZONE 'UTC'`);
  await c.query(`INSERT INTO resources (id) VALUES ('room')`);
  await c.query(HOURS);
  return c;
}

const iso = (v: unknown): string => (v as Date).toISOString();

describe('recurring rules in SQL', () => {
  it('open weekdays 09:00-17:00 Berlin time on both sides of the DST change', async () => {
    const c = await room('hours');
    expect((await c.query(`SELECT id, rrule, tz FROM rules`)).rows).toEqual([{ id: 'hours', rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', tz: 'Europe/Berlin' }]);
    // Friday 27 March is CET (09:00 is 08:00Z); Monday 30 March is CEST (09:00 is 07:00Z).
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('fri', 'room', '2026-03-27 09:00 Europe/Berlin', '2026-03-27 17:00 Europe/Berlin')`,
    );
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('mon', 'room', '2026-03-30 09:00 Europe/Berlin', '2026-03-30 17:00 Europe/Berlin')`,
    );
    const sat = await pgError(
      c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', '2026-03-28 10:00 Europe/Berlin', '2026-03-28 11:00 Europe/Berlin')`),
    );
    expect(sat.code).toBe('23P01');
    const free = await c.query(
      `SELECT start, "end" FROM availability WHERE resource_id = 'room' AND start >= '2026-03-31 00:00Z' AND "end" <= '2026-04-02 00:00Z'`,
    );
    expect(free.rows.map((r) => [iso(r.start), iso(r.end)])).toEqual([
      ['2026-03-31T07:00:00.000Z', '2026-03-31T15:00:00.000Z'],
      ['2026-04-01T07:00:00.000Z', '2026-04-01T15:00:00.000Z'],
    ]);
  });

  it('closes each occurrence of a recurring blocking rule, naming the occurrence in a refusal', async () => {
    const c = await room('lunch');
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", blocking, rrule, tz)
      VALUES ('lunch', 'room', '2026-03-02 12:00 Europe/Berlin', '2026-03-02 13:00 Europe/Berlin', true, 'FREQ=DAILY', 'Europe/Berlin')`);
    const err = await pgError(
      c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', '2026-04-01 11:30 Europe/Berlin', '2026-04-01 12:30 Europe/Berlin')`),
    );
    expect(err.code).toBe('23P01');
    expect(JSON.parse(err.detail!)).toEqual({
      conflicts: [{ kind: 'rule', id: 'lunch', resource_id: 'room', start: Date.parse('2026-04-01T10:00:00Z'), end: Date.parse('2026-04-01T11:00:00Z') }],
      offers: [
        { resource_id: 'room', start: Date.parse('2026-04-01T09:00:00Z'), end: Date.parse('2026-04-01T10:00:00Z') },
        { resource_id: 'room', start: Date.parse('2026-04-01T08:00:00Z'), end: Date.parse('2026-04-01T09:00:00Z') },
        { resource_id: 'room', start: Date.parse('2026-04-01T11:00:00Z'), end: Date.parse('2026-04-01T12:00:00Z') },
      ],
    });
  });

  it('refuses what it cannot expand with 22023, and a change that strands a booking with 23P01', async () => {
    const c = await room('refusals');
    const bad = async (sql: string): Promise<[string, string]> => {
      const e = await pgError(c.query(sql));
      return [e.code, e.message];
    };
    const insert = (rrule: string, tz = `'UTC'`) =>
      `INSERT INTO rules (resource_id, start, "end", rrule, tz) VALUES ('room', '2026-03-02 08:00Z', '2026-03-02 09:00Z', ${rrule}, ${tz})`;
    expect(await bad(insert(`'FREQ=HOURLY'`))).toEqual(['22023', 'RRULE FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, got "HOURLY"']);
    expect(await bad(insert(`'FREQ=DAILY'`, `'Mars/Olympus'`))).toEqual(['22023', 'time zone "Mars/Olympus" is not an IANA zone this server knows']);
    expect(await bad(insert('NULL', `'Europe/Berlin'`))).toEqual(['22023', 'tz applies only to a recurring rule: set rrule too']);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b', 'room', '2026-06-03 10:00 Europe/Berlin', '2026-06-03 11:00 Europe/Berlin')`,
    );
    const stranded = await pgError(c.query(`UPDATE rules SET rrule = 'FREQ=WEEKLY;BYDAY=MO,TU' WHERE id = 'hours'`));
    expect(stranded.code).toBe('23P01');
    expect(JSON.parse(stranded.detail!).conflicts.map((x: { id: string }) => x.id)).toEqual(['b']);
    expect((await c.query(`SELECT rrule FROM rules WHERE id = 'hours'`)).rows).toEqual([{ rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' }]);
  });

  it('takes UPDATE of rrule and tz, keeps a canonical text, and tells listeners', async () => {
    const c = await room('updates');
    const listener = await srv.client('updates');
    const heard: unknown[] = [];
    listener.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
    await listener.query('LISTEN allot_events');
    await c.query(`UPDATE rules SET rrule = 'rrule:byday=mo,we;freq=weekly;until=20261231T230000Z', tz = 'europe/berlin' WHERE id = 'hours'`);
    expect((await c.query(`SELECT rrule, tz FROM rules WHERE id = 'hours'`)).rows).toEqual([
      { rrule: 'FREQ=WEEKLY;UNTIL=20261231T230000Z;BYDAY=MO,WE', tz: 'Europe/Berlin' },
    ]);
    await c.query(`UPDATE rules SET rrule = NULL, tz = NULL WHERE id = 'hours'`);
    expect((await c.query(`SELECT rrule, tz FROM rules WHERE id = 'hours'`)).rows).toEqual([{ rrule: null, tz: null }]);
    await c.query('SELECT 1');
    await listener.query('SELECT 1');
    const updates = heard.filter((e) => (e as { type: string }).type === 'RuleUpdated') as { rrule: unknown; tz: unknown }[];
    expect(updates.map((d) => [d.rrule, d.tz])).toEqual([
      ['FREQ=WEEKLY;UNTIL=20261231T230000Z;BYDAY=MO,WE', 'Europe/Berlin'],
      [null, null],
    ]);
  });

  it('skips the occurrences exdates names, as timestamptz[] in and out, and refuses what they would strand', async () => {
    const c = await room('exdates');
    // Good Friday and Easter Monday 2026, given as a parameter (an array of Dates, sent as text).
    await c.query(`UPDATE rules SET exdates = $1 WHERE id = 'hours'`, [[new Date('2026-04-03T07:00:00Z'), new Date('2026-04-06T07:00:00Z')]]);
    const row = (await c.query(`SELECT exdates FROM rules WHERE id = 'hours'`)).rows[0] as { exdates: Date[] };
    expect(row.exdates.map((d) => d.toISOString())).toEqual(['2026-04-03T07:00:00.000Z', '2026-04-06T07:00:00.000Z']);
    const days = await c.query(`SELECT start FROM availability WHERE resource_id = 'room' AND start >= '2026-04-02 00:00Z' AND "end" <= '2026-04-08 00:00Z'`);
    expect(days.rows.map((r) => iso(r.start))).toEqual(['2026-04-02T07:00:00.000Z', '2026-04-07T07:00:00.000Z']);
    const skipped = await pgError(
      c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', '2026-04-03 10:00 Europe/Berlin', '2026-04-03 11:00 Europe/Berlin')`),
    );
    expect(skipped.code).toBe('23P01');
    // In the session's zone as text, and as an ARRAY of timestamptz.
    await c.query(`SET TIME ZONE 'Europe/Berlin'`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('tue', 'room', '2026-04-07 10:00', '2026-04-07 11:00')`);
    const strand = await pgError(c.query(`UPDATE rules SET exdates = '{"2026-04-07 09:00"}' WHERE id = 'hours'`));
    expect(strand.code).toBe('23P01');
    expect(strand.message).toContain('"tue"');
    await c.query(`UPDATE rules SET exdates = ARRAY['2026-04-08 09:00'::timestamptz] WHERE id = 'hours'`);
    expect((await c.query(`SELECT exdates::text AS t FROM rules WHERE id = 'hours'`)).rows).toEqual([{ t: '{"2026-04-08 09:00:00+02"}' }]);
    await c.query(`SET allot.times = 'ms'`);
    expect((await c.query(`SELECT exdates FROM rules WHERE id = 'hours'`)).rows).toEqual([{ exdates: [String(Date.parse('2026-04-08T07:00:00Z'))] }]);
    await c.query(`RESET allot.times`);
    expect((await pgError(c.query(`UPDATE rules SET exdates = '{NULL}' WHERE id = 'hours'`))).code).toBe('22004');
    expect((await pgError(c.query(`UPDATE rules SET exdates = '{someday}' WHERE id = 'hours'`))).code).toBe('22007');
    const oneOff = await pgError(
      c.query(`INSERT INTO rules (resource_id, start, "end", exdates) VALUES ('room', '2026-05-01 09:00', '2026-05-01 17:00', '{2026-05-01 09:00}')`),
    );
    expect(oneOff.code).toBe('22023');
    expect(oneOff.message).toContain('exdates applies only to a recurring rule');
    await c.query(`UPDATE rules SET exdates = NULL WHERE id = 'hours'`);
    expect((await c.query(`SELECT exdates FROM rules WHERE id = 'hours'`)).rows).toEqual([{ exdates: [] }]);
  });

  it('gives back the same recurring rules after a restart, from the log and from a snapshot', async () => {
    const c = await room('durable');
    await c.query(
      `INSERT INTO rules (id, resource_id, start, "end", blocking, rrule, tz, exdates) VALUES ('shut', 'room', '2026-03-07 00:00Z', '2026-03-08 00:00Z', true, 'FREQ=MONTHLY;BYDAY=1SA;COUNT=12', 'UTC', '{2026-05-02 00:00Z}')`,
    );
    const before = (await c.query(`SELECT * FROM rules ORDER BY id`)).rows;
    await srv.close();
    srv = await startServer({ dataDir: dir, times: 'timestamptz' }, { clock });
    const again = await srv.client('durable');
    expect((await again.query(`SELECT * FROM rules ORDER BY id`)).rows).toEqual(before);
    await srv.server.tenantByName('durable')!.checkpoint();
    await srv.close();
    srv = await startServer({ dataDir: dir, times: 'timestamptz' }, { clock });
    const third = await srv.client('durable');
    expect((await third.query(`SELECT * FROM rules ORDER BY id`)).rows).toEqual(before);
    const err = await pgError(third.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', '2026-04-04 10:00Z', '2026-04-04 11:00Z')`));
    expect(err.code).toBe('23P01');
    expect((before.find((r) => r.id === 'shut') as { exdates: Date[] }).exdates.map((d) => d.toISOString())).toEqual(['2026-05-02T00:00:00.000Z']);
  });
});

describe('recurring bookings and holds', () => {
  const SERIES = `INSERT INTO bookings (resource_id, start, "end", label, user_id, policy_id, rrule, tz)
    VALUES ('room', '2026-03-17 10:00 Europe/Berlin', '2026-03-17 11:00 Europe/Berlin', 'team', $1, $2, $3, 'Europe/Berlin')`;

  it('books every occurrence in its zone with one group_id, RETURNING each, and moves or cancels them as one', async () => {
    const c = await room('series');
    const made = await c.query(`${SERIES} RETURNING id, start, "end", group_id`, [null, null, 'FREQ=WEEKLY;BYDAY=TU;COUNT=4']);
    expect(made.rowCount).toBe(4);
    // 10:00 Berlin: 09:00Z before the change on 29 March, 08:00Z after.
    expect(made.rows.map((r) => [iso(r.start), iso(r.end)])).toEqual([
      ['2026-03-17T09:00:00.000Z', '2026-03-17T10:00:00.000Z'],
      ['2026-03-24T09:00:00.000Z', '2026-03-24T10:00:00.000Z'],
      ['2026-03-31T08:00:00.000Z', '2026-03-31T09:00:00.000Z'],
      ['2026-04-07T08:00:00.000Z', '2026-04-07T09:00:00.000Z'],
    ]);
    const group = made.rows[0].group_id as string;
    expect(new Set(made.rows.map((r) => r.group_id))).toEqual(new Set([group]));
    expect(new Set(made.rows.map((r) => r.id)).size).toBe(4);
    // A refusal names the occurrence in the way with its label and group.
    const clash = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room', '2026-03-17 09:30Z', '2026-03-17 09:45Z')`));
    expect(JSON.parse(clash.detail!).conflicts).toEqual([
      {
        kind: 'booking',
        id: made.rows[0].id,
        resource_id: 'room',
        start: Date.parse('2026-03-17T09:00:00Z'),
        end: Date.parse('2026-03-17T10:00:00Z'),
        label: 'team',
        group_id: group,
      },
    ]);
    await c.query(`INSERT INTO resources (id) VALUES ('room-2')`);
    await c.query(`INSERT INTO rules (resource_id, start, "end") VALUES ('room-2', '2026-01-01 00:00Z', '2027-01-01 00:00Z')`);
    const moved = await c.query(`UPDATE bookings SET resource_id = 'room-2' WHERE group_id = $1`, [group]);
    expect(moved.rowCount).toBe(4);
    expect((await c.query(`SELECT count(*)::int AS n FROM bookings WHERE resource_id = 'room-2'`)).rows).toEqual([{ n: 4 }]);
    expect((await c.query(`DELETE FROM bookings WHERE group_id = $1`, [group])).rowCount).toBe(4);
    expect((await c.query(`SELECT count(*)::int AS n FROM bookings`)).rows).toEqual([{ n: 0 }]);
    // A group_id given is the series'.
    const named = await c.query(
      `INSERT INTO bookings (resource_id, start, "end", group_id, rrule) VALUES ('room', '2026-05-04 09:00Z', '2026-05-04 10:00Z', 'may', 'FREQ=DAILY;UNTIL=20260506T090000Z') RETURNING group_id`,
    );
    expect(named.rows).toEqual([{ group_id: 'may' }, { group_id: 'may' }, { group_id: 'may' }]);
  });

  it('is all or nothing, and with ON CONFLICT DO NOTHING books the occurrences that fit', async () => {
    const c = await room('fit');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('taken', 'room', '2026-03-31 08:30Z', '2026-03-31 09:30Z')`);
    const refused = await pgError(c.query(SERIES, [null, null, 'FREQ=WEEKLY;BYDAY=TU;COUNT=4']));
    expect(refused.code).toBe('23P01');
    expect(refused.message).toContain('"taken"');
    expect((await c.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'taken' }]);
    // Closed time refuses an occurrence as well: the Saturday of a daily series.
    const weekend = await pgError(
      c.query(
        `INSERT INTO bookings (resource_id, start, "end", rrule, tz) VALUES ('room', '2026-03-26 12:00Z', '2026-03-26 13:00Z', 'FREQ=DAILY;COUNT=3', 'UTC')`,
      ),
    );
    expect(weekend.code).toBe('23P01');
    const some = await c.query(`${SERIES} ON CONFLICT DO NOTHING RETURNING start`, [null, null, 'FREQ=WEEKLY;BYDAY=TU;COUNT=4']);
    expect(some.rows.map((r) => iso(r.start))).toEqual(['2026-03-17T09:00:00.000Z', '2026-03-24T09:00:00.000Z', '2026-04-07T08:00:00.000Z']);
    expect(some.command).toBe('INSERT');
    expect(some.rowCount).toBe(3);
  });

  it('counts every occurrence against a policy quota', async () => {
    const c = await room('quota');
    await c.query(`INSERT INTO policies (id, name, max_bookings) VALUES ('three', 'three at a time', 3)`);
    const over = await pgError(c.query(SERIES, ['ann', 'three', 'FREQ=WEEKLY;BYDAY=TU;COUNT=4']));
    expect(over.code).toBe('23P01');
    expect((await c.query(`SELECT count(*)::int AS n FROM bookings`)).rows).toEqual([{ n: 0 }]);
    expect((await c.query(SERIES, ['ann', 'three', 'FREQ=WEEKLY;BYDAY=TU;COUNT=3'])).rowCount).toBe(3);
    expect((await c.query(`SELECT bookings::int AS n FROM policy_usage WHERE user_id = 'ann' AND policy_id = 'three'`)).rows).toEqual([{ n: 3 }]);
  });

  it('needs COUNT or UNTIL, at most 1,000 occurrences, and no id or hold_id', async () => {
    const c = await room('limits');
    const forever = await pgError(c.query(SERIES, [null, null, 'FREQ=WEEKLY']));
    expect(forever.code).toBe('22023');
    expect(forever.message).toContain('COUNT or UNTIL');
    const many = await pgError(c.query(SERIES, [null, null, 'FREQ=DAILY;COUNT=1001']));
    expect(many.code).toBe('54000');
    const far = await pgError(c.query(SERIES, [null, null, 'FREQ=DAILY;UNTIL=99991231T000000Z']));
    expect(far.code).toBe('54000');
    const id = await pgError(
      c.query(
        `INSERT INTO bookings (id, resource_id, start, "end", rrule) VALUES ('one', 'room', '2026-03-17 09:00Z', '2026-03-17 10:00Z', 'FREQ=DAILY;COUNT=2')`,
      ),
    );
    expect(id.code).toBe('22023');
    const bad = await pgError(c.query(SERIES, [null, null, 'FREQ=HOURLY;COUNT=2']));
    expect(bad.code).toBe('22023');
    const tzOnly = await pgError(
      c.query(`INSERT INTO bookings (resource_id, start, "end", tz) VALUES ('room', '2026-03-17 09:00Z', '2026-03-17 10:00Z', 'UTC')`),
    );
    expect(tzOnly.code).toBe('22023');
    expect((await c.query(`SELECT count(*)::int AS n FROM bookings`)).rows).toEqual([{ n: 0 }]);
  });

  it('places a series of holds the same way, with one group_id: each becomes a booking or lapses, or the group is released', async () => {
    const c = await room('holds');
    const held = await c.query(
      `INSERT INTO holds (resource_id, start, "end", expires_at, rrule, tz) VALUES ('room', '2026-03-02 09:00 Europe/Berlin', '2026-03-02 10:00 Europe/Berlin', '2026-03-01 01:00Z', 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3', 'Europe/Berlin') RETURNING id, start, group_id`,
    );
    expect(held.rows.map((r) => iso(r.start))).toEqual(['2026-03-02T08:00:00.000Z', '2026-03-04T08:00:00.000Z', '2026-03-09T08:00:00.000Z']);
    const group = held.rows[0].group_id as string;
    expect(held.rows.every((r) => r.group_id === group)).toBe(true);
    expect((await c.query(`SELECT count(*)::int AS n FROM holds WHERE group_id = $1`, [group])).rows).toEqual([{ n: 3 }]);
    // The booking a hold becomes keeps the group.
    const kept = await c.query(`INSERT INTO bookings (id, hold_id) VALUES ('kept', $1) RETURNING group_id`, [held.rows[0].id]);
    expect(kept.rows).toEqual([{ group_id: group }]);
    expect((await pgError(c.query(`UPDATE holds SET label = 'x' WHERE group_id = $1`, [group]))).code).toBe('0A000');
    const second = await c.query(
      `INSERT INTO holds (resource_id, start, "end", expires_at, group_id, rrule) VALUES ('room', '2026-03-03 12:00Z', '2026-03-03 13:00Z', '2026-03-01 01:00Z', 'tue', 'FREQ=WEEKLY;COUNT=2')`,
    );
    expect(second.rowCount).toBe(2);
    const released = await c.query(`DELETE FROM holds WHERE group_id = 'tue' RETURNING start`);
    expect(released.rows.map((r) => iso(r.start))).toEqual(['2026-03-03T12:00:00.000Z', '2026-03-10T12:00:00.000Z']);
    expect((await c.query(`SELECT count(*)::int AS n FROM holds`)).rows).toEqual([{ n: 2 }]);
    clock.advance(2 * 3_600_000);
    expect((await c.query(`SELECT count(*)::int AS n FROM holds`)).rows).toEqual([{ n: 0 }]);
    expect((await c.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'kept' }]);
    const clash = await pgError(
      c.query(
        `INSERT INTO holds (resource_id, start, "end", expires_at, rrule) VALUES ('room', '2026-03-02 08:00Z', '2026-03-02 09:00Z', '2026-03-01 05:00Z', 'FREQ=WEEKLY;COUNT=2')`,
      ),
    );
    expect(clash.code).toBe('23P01');
  });

  it('gives back the same series after a restart: the log holds the bookings, not the rule', async () => {
    const c = await room('kept');
    await c.query(SERIES, [null, null, 'FREQ=WEEKLY;BYDAY=TU;COUNT=4']);
    const before = (await c.query(`SELECT * FROM bookings ORDER BY start`)).rows;
    await srv.close();
    srv = await startServer({ dataDir: dir, times: 'timestamptz' }, { clock });
    const again = await srv.client('kept');
    expect((await again.query(`SELECT * FROM bookings ORDER BY start`)).rows).toEqual(before);
  });
});
