/**
 * A production company booking crew through pg: people are resources under a "crew" pool with
 * role capabilities, a hire date (open from that day) and a fire date (closed after it). A
 * production needing one director and two camera operators is one statement; lengthening it
 * re-checks everyone; deleting it frees them; crew availability is one query.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const day = (d: number, hour = 0): string => new Date(Date.UTC(2026, 2, d, hour)).toISOString();
const ms = (iso: string): number => Date.parse(iso);
const clock = new ManualClock(ms(day(1)));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { clock });
});
afterAll(async () => {
  await srv.close();
});

/** ava directs; ben and dan run cameras; cat does both; eve runs a camera from 10 March. */
async function company(name: string): Promise<pg.Client> {
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('crew', 0)`);
  await c.query(
    `INSERT INTO resources (id, parent_id, name, capabilities) VALUES
       ('ava', 'crew', 'Ava Director', '{director}'),
       ('ben', 'crew', 'Ben Camera', '{camera}'),
       ('cat', 'crew', 'Cat Both', '{camera,director}'),
       ('dan', 'crew', 'Dan Camera', '{camera}'),
       ('eve', 'crew', 'Eve Camera', '{camera}')`,
  );
  // Employment: open from the hire date until further notice.
  await c.query(
    `INSERT INTO rules (id, resource_id, start, "end") VALUES
       ('ava-employed', 'ava', '2020-01-01T00:00:00Z', '2100-01-01T00:00:00Z'),
       ('ben-employed', 'ben', '2020-01-01T00:00:00Z', '2100-01-01T00:00:00Z'),
       ('cat-employed', 'cat', '2020-01-01T00:00:00Z', '2100-01-01T00:00:00Z'),
       ('dan-employed', 'dan', '2020-01-01T00:00:00Z', '2100-01-01T00:00:00Z'),
       ('eve-employed', 'eve', '2026-03-10T00:00:00Z', '2100-01-01T00:00:00Z')`,
  );
  return c;
}

/** One production's crew call: a director and `cameras` camera operators, in one statement. */
function crewCall(c: pg.Client, group: string, start: string, end: string, cameras = 2): Promise<pg.QueryResult> {
  return c.query(
    `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity, group_id, label) VALUES
       ('crew', $1, $2, '{director}', 1, $3, $3),
       ('crew', $1, $2, '{camera}', $4, $3, $3)
     RETURNING id, resource_id, capabilities`,
    [start, end, group, cameras],
  );
}

async function who(c: pg.Client, group: string): Promise<string[]> {
  return (await c.query(`SELECT resource_id FROM bookings WHERE group_id = $1 ORDER BY resource_id`, [group])).rows.map((r) => r.resource_id as string);
}

describe('crew calls', () => {
  it('book one director and two camera operators in one statement, chosen in order of id', async () => {
    const c = await company('call');
    const r = await crewCall(c, 'pilot', day(5, 9), day(5, 17));
    expect(r.command).toBe('INSERT');
    expect(r.rowCount).toBe(3);
    expect(r.rows.map((x) => [x.resource_id, x.capabilities])).toEqual([
      ['ava', ['director']],
      ['ben', ['camera']],
      ['cat', ['camera']],
    ]);
    // Generated ids, distinct, each a booking of its own in the group.
    expect(new Set(r.rows.map((x) => x.id)).size).toBe(3);
    expect(await who(c, 'pilot')).toEqual(['ava', 'ben', 'cat']);

    // A second production the same day: dan is the only camera left, and no director is free.
    // All or nothing: dan is not booked either.
    const err = await pgError(crewCall(c, 'ad', day(5, 10), day(5, 12), 1));
    expect(err.code).toBe('23P01');
    expect(err.message).toBe(
      'pool "crew" has 0 of 1 wanted resources free [2026-03-05T10:00:00.000Z, 2026-03-05T12:00:00.000Z) (of 2 members with "director")',
    );
    const detail = JSON.parse(err.detail!);
    expect(detail.conflicts).toEqual([{ kind: 'pool', pool_id: 'crew', wanted: 1, free: 0, candidates: 2 }]);
    // Both directors are on the pilot from 09:00 to 17:00: the nearest two hours with one free end at 09:00.
    expect(detail.offers[0]).toEqual({ pool_id: 'crew', start: Date.parse(day(5, 7)), end: Date.parse(day(5, 9)) });
    expect(await who(c, 'ad')).toEqual([]);
    // The next day everyone is free again: the same call picks the same people.
    expect((await crewCall(c, 'day2', day(6, 9), day(6, 17))).rows.map((x) => x.resource_id)).toEqual(['ava', 'ben', 'cat']);
  });

  it('respect hire dates: a camera operator not yet hired is not picked, and is once hired', async () => {
    const c = await company('hire');
    const err = await pgError(
      c.query(`INSERT INTO bookings (pool_id, start, "end", capabilities, quantity) VALUES ('crew', $1, $2, '{camera}', 4)`, [day(5, 9), day(5, 17)]),
    );
    expect(err.message).toContain('has 3 of 4 wanted resources free');
    const r = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity) VALUES ('crew', $1, $2, '{camera}', 4) RETURNING resource_id`,
      [day(12, 9), day(12, 17)],
    );
    expect(r.rows.map((x) => x.resource_id)).toEqual(['ben', 'cat', 'dan', 'eve']);
  });

  it('refuse a fire date before an existing booking, naming it, and skip the fired after it', async () => {
    const c = await company('fire');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", capabilities) VALUES ('dan-late', 'dan', $1, $2, '{camera}')`, [
      day(25, 9),
      day(25, 17),
    ]);
    const err = await pgError(c.query(`UPDATE rules SET "end" = '2026-03-20T00:00:00Z' WHERE id = 'dan-employed'`));
    expect(err.code).toBe('23P01');
    expect(err.message).toContain('"dan-late"');
    expect(JSON.parse(err.detail!).conflicts).toEqual([
      { kind: 'booking', id: 'dan-late', resource_id: 'dan', start: ms(day(25, 9)), end: ms(day(25, 17)), label: null, group_id: null },
    ]);
    expect((await c.query(`SELECT "end" FROM rules WHERE id = 'dan-employed'`)).rows[0].end).toBe(String(ms('2100-01-01T00:00:00Z')));
    // Moved to before the last day, the booking no longer stands in the way.
    await c.query(`UPDATE bookings SET start = $1, "end" = $2 WHERE id = 'dan-late'`, [day(19, 9), day(19, 17)]);
    await c.query(`UPDATE rules SET "end" = '2026-03-20T00:00:00Z' WHERE id = 'dan-employed'`);
    const r = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity) VALUES ('crew', $1, $2, '{camera}', 3) RETURNING resource_id`,
      [day(21, 9), day(21, 17)],
    );
    expect(r.rows.map((x) => x.resource_id)).toEqual(['ben', 'cat', 'eve']);
  });

  it('lengthening a production re-checks every member; all move or none', async () => {
    const c = await company('lengthen');
    await crewCall(c, 'pilot', day(5, 9), day(5, 17));
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('ben-dentist', 'ben', $1, $2)`, [day(5, 18), day(5, 19)]);
    const err = await pgError(c.query(`UPDATE bookings SET "end" = $1 WHERE group_id = 'pilot'`, [day(5, 19)]));
    expect(err.code).toBe('23P01');
    expect(JSON.parse(err.detail!).conflicts).toEqual([
      { kind: 'booking', id: 'ben-dentist', resource_id: 'ben', start: ms(day(5, 18)), end: ms(day(5, 19)), label: null, group_id: null },
    ]);
    const ends = async (): Promise<string[]> => (await c.query(`SELECT "end" FROM bookings WHERE group_id = 'pilot'`)).rows.map((r) => r.end as string);
    expect(await ends()).toEqual([String(ms(day(5, 17))), String(ms(day(5, 17))), String(ms(day(5, 17)))]);
    const moved = await c.query(`UPDATE bookings SET "end" = $1 WHERE group_id = 'pilot' RETURNING resource_id`, [day(5, 18)]);
    expect(moved.rowCount).toBe(3);
    expect(await ends()).toEqual([String(ms(day(5, 18))), String(ms(day(5, 18))), String(ms(day(5, 18)))]);
  });

  it('deleting a production frees its crew', async () => {
    const c = await company('delete');
    await crewCall(c, 'pilot', day(5, 9), day(5, 17));
    expect((await pgError(crewCall(c, 'ad', day(5, 9), day(5, 17)))).code).toBe('23P01');
    const del = await c.query(`DELETE FROM bookings WHERE group_id = 'pilot'`);
    expect(del.rowCount).toBe(3);
    expect((await crewCall(c, 'ad', day(5, 9), day(5, 17))).rows.map((x) => x.resource_id)).toEqual(['ava', 'ben', 'cat']);
  });
});

describe('crew availability', () => {
  it('lists each capable member free time in a date range, and when enough are free at once', async () => {
    const c = await company('availability');
    await crewCall(c, 'pilot', day(5, 9), day(5, 17));
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('dan-off', 'dan', $1, $2)`, [day(6), day(7)]);
    const range = [day(5), day(8)];
    const each = await c.query(
      `SELECT resource_id, start, "end", free FROM availability WHERE pool_id = 'crew' AND capabilities = '{camera}' AND start >= $1 AND "end" <= $2 ORDER BY resource_id, start`,
      range,
    );
    const rows = each.rows.map((r) => [r.resource_id, new Date(Number(r.start)).toISOString(), new Date(Number(r.end)).toISOString()]);
    // eve is not hired yet (10 March), so she has no free time in the range.
    expect(rows).toEqual([
      ['ben', day(5), day(5, 9)],
      ['ben', day(5, 17), day(8)],
      ['cat', day(5), day(5, 9)],
      ['cat', day(5, 17), day(8)],
      ['dan', day(5), day(6)],
      ['dan', day(7), day(8)],
    ]);
    // When can two camera operators work together? Spans break where the number free changes.
    const two = await c.query(
      `SELECT start, "end", free FROM availability WHERE pool_id = 'crew' AND capabilities = '{camera}' AND min_available = 2 AND start >= $1 AND "end" <= $2`,
      range,
    );
    expect(two.rows.map((r) => [new Date(Number(r.start)).toISOString(), new Date(Number(r.end)).toISOString(), Number(r.free)])).toEqual([
      [day(5), day(5, 9), 3],
      [day(5, 17), day(6), 3],
      [day(6), day(7), 2],
      [day(7), day(8), 3],
    ]);
    // Three at once only when dan is free too.
    const three = await c.query(
      `SELECT start, "end", free FROM availability WHERE pool_id = 'crew' AND capabilities = '{camera}' AND min_available = 3 AND start >= $1 AND "end" <= $2`,
      range,
    );
    expect(three.rows.map((r) => [new Date(Number(r.start)).toISOString(), new Date(Number(r.end)).toISOString(), Number(r.free)])).toEqual([
      [day(5), day(5, 9), 3],
      [day(5, 17), day(6), 3],
      [day(7), day(8), 3],
    ]);
    // More than the pool has: nothing, rather than an error.
    expect(
      (
        await c.query(
          `SELECT * FROM availability WHERE pool_id = 'crew' AND capabilities = '{camera}' AND min_available = 9 AND start >= $1 AND "end" <= $2`,
          range,
        )
      ).rows,
    ).toEqual([]);
  });
});

describe('bad pool requests', () => {
  it('are refused with a clear error and change nothing', async () => {
    const c = await company('bad');
    const cases: [string, unknown[], string, string][] = [
      [`INSERT INTO bookings (pool_id, start, "end", quantity) VALUES ('crew', $1, $2, 0)`, [day(5, 9), day(5, 17)], '22023', 'quantity must be between 1 and'],
      [`INSERT INTO bookings (id, pool_id, start, "end", quantity) VALUES ('x', 'crew', $1, $2, 2)`, [day(5, 9), day(5, 17)], '22023', 'leave out id'],
      [
        `INSERT INTO bookings (pool_id, resource_id, start, "end") VALUES ('crew', 'ava', $1, $2)`,
        [day(5, 9), day(5, 17)],
        '42601',
        'a pool booking takes pool_id, not resource_id',
      ],
      [`INSERT INTO bookings (pool_id, start, "end") VALUES ('studio', $1, $2)`, [day(5, 9), day(5, 17)], '23503', 'resource "studio" does not exist'],
      [`INSERT INTO bookings (pool_id, start, "end") VALUES ('crew', $1, $2)`, [day(5, 17), day(5, 9)], '22023', ''],
      [
        `INSERT INTO bookings (pool_id, start, "end", capabilities) VALUES ('crew', $1, $2, '{grip}')`,
        [day(5, 9), day(5, 17)],
        '23P01',
        '(of 0 members with "grip")',
      ],
      [`UPDATE bookings SET quantity = 2 WHERE id = 'x'`, [], '0A000', 'quantity can only be given when bookings are inserted'],
      // Each booking a pool row would make counts against the 10,000 rows of one statement.
      [
        `INSERT INTO bookings (pool_id, start, "end", quantity) VALUES ('crew', $1, $2, 6000), ('crew', $1, $2, 6000)`,
        [day(5, 9), day(5, 17)],
        '54000',
        'the limit is 10000 per statement',
      ],
    ];
    for (const [sql, params, code, text] of cases) {
      const err = await pgError(c.query(sql, params));
      expect([sql, err.code]).toEqual([sql, code]);
      expect(err.message).toContain(text);
    }
    expect((await c.query(`SELECT count(*) FROM bookings`)).rows[0].count).toBe('0');
  });

  it('with ON CONFLICT DO NOTHING are skipped when the pool is short, the rest inserted', async () => {
    const c = await company('skip');
    const r = await c.query(
      `INSERT INTO bookings (pool_id, start, "end", capabilities, quantity) VALUES ('crew', $1, $2, '{director}', 3), ('crew', $1, $2, '{camera}', 1) ON CONFLICT DO NOTHING RETURNING resource_id`,
      [day(5, 9), day(5, 17)],
    );
    expect(r.rows.map((x) => x.resource_id)).toEqual(['ben']);
    expect(r.rowCount).toBe(1);
  });
});
