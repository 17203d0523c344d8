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

  it('gives back the same recurring rules after a restart, from the log and from a snapshot', async () => {
    const c = await room('durable');
    await c.query(
      `INSERT INTO rules (id, resource_id, start, "end", blocking, rrule, tz) VALUES ('shut', 'room', '2026-03-07 00:00Z', '2026-03-08 00:00Z', true, 'FREQ=MONTHLY;BYDAY=1SA;COUNT=12', 'UTC')`,
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
  });
});
