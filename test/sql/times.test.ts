/** Instants as timestamptz and durations as interval (the default), through pg and psql. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../helpers/psql.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('times by default', () => {
  it('come out as Dates and intervals, and go in as timestamps, zone names, intervals or ms', async () => {
    const c = await srv.client('t1');
    await c.query(`INSERT INTO resources (id, buffer_after) VALUES ('room', '15 minutes')`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'room', '2026-03-01 10:00 Europe/Berlin', 1772362800000)`);
    const r = await c.query(`SELECT start, "end", "end" - start AS length, (SELECT buffer_after FROM resources) AS buffer FROM bookings`);
    expect(r.rows[0].start).toEqual(new Date('2026-03-01T09:00:00Z'));
    expect(r.rows[0].end).toEqual(new Date('2026-03-01T11:00:00Z'));
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([1184, 1184, 1186, 1186]);
    expect(
      (
        await c.query({
          text: `SELECT "end" - start AS length, buffer_after FROM bookings, resources`,
          rowMode: 'array',
          types: { getTypeParser: () => (v: string) => v },
        })
      ).rows,
    ).toEqual([['02:00:00', '00:15:00']]);
  });

  it('render in the session TimeZone, across DST, and read wall clocks there', async () => {
    const c = await srv.client('t2');
    await c.query(`SET TimeZone = 'Europe/Berlin'`);
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('w', 'r', '2026-01-15 09:00', '2026-01-15 17:00'), ('s', 'r', '2026-07-15 09:00', '2026-07-15 17:00')`,
    );
    const text = (
      await c.query({
        text: `SELECT id, start::text, extract(hour FROM start) AS h, date_trunc('day', start)::text AS d FROM bookings ORDER BY start`,
        rowMode: 'array',
      })
    ).rows;
    expect(text).toEqual([
      ['w', '2026-01-15 09:00:00+01', '9', '2026-01-15 00:00:00+01'],
      ['s', '2026-07-15 09:00:00+02', '9', '2026-07-15 00:00:00+02'],
    ]);
    await c.query(`SET TimeZone = 'UTC'`);
    expect((await c.query({ text: `SELECT start::text FROM bookings WHERE id = 's'`, rowMode: 'array' })).rows).toEqual([['2026-07-15 07:00:00+00']]);
    expect((await pgError(c.query(`SET TimeZone = 'Nowhere/Land'`))).code).toBe('22023');
  });

  it('compute with now() and intervals', async () => {
    const c = await srv.client('t3');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    const r = await c.query(
      `INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('r', now() + interval '1 day', now() + interval '1 day 1 hour', now() + interval '10 minutes') RETURNING "end" - start AS length, expires_at > now() AS later`,
    );
    expect(r.rows).toEqual([{ length: expect.anything(), later: true }]);
    expect((await c.query({ text: `SELECT ("end" - start)::text FROM holds`, rowMode: 'array' })).rows).toEqual([['01:00:00']]);
  });

  it('come out as bigint milliseconds with allot.times = ms, from SET or the startup packet', async () => {
    const c = await srv.client('t4');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', 1772355600000, 1772359200000)`);
    await c.query('SET allot.times = ms');
    expect((await c.query('SELECT start FROM bookings')).rows).toEqual([{ start: '1772355600000' }]);
    const d = new pg.Client({ connectionString: srv.url('t4'), options: '-c allot.times=ms -c TimeZone=Asia/Kolkata' });
    await d.connect();
    try {
      expect((await d.query("SELECT start, current_setting('timezone') AS tz FROM bookings")).rows).toEqual([{ start: '1772355600000', tz: 'Asia/Kolkata' }]);
    } finally {
      await d.end();
    }
    const bad = new pg.Client({ connectionString: srv.url('t4'), options: '-c allot.times=never' });
    await expect(bad.connect()).rejects.toMatchObject({ code: '22023' });
  });

  it('show as PostgreSQL shows them in psql', async () => {
    const { output } = await psql(
      srv,
      't5',
      [],
      `INSERT INTO resources (id) VALUES ('r');\nINSERT INTO bookings (resource_id, start, "end") VALUES ('r', '2026-03-01 09:00+00', '2026-03-01 09:30+00');\nSET TimeZone = 'America/New_York';\nSELECT start, "end" - start AS length FROM bookings;\n`,
    );
    expect(output).toContain(' 2026-03-01 04:00:00-05 | 00:30:00');
  });

  it('write every row of a long result alike: instants, long interval texts, regclass, nulls and text side by side', async () => {
    const c = await srv.client('t6');
    await c.query(`SET TimeZone = 'Asia/Kolkata'`);
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('room-with-a-rather-long-name-for-its-text', 300)`);
    const values = Array.from(
      { length: 300 },
      (_, i) =>
        `('b${i}', 'room-with-a-rather-long-name-for-its-text', ${1_772_355_600_000 + i * 7_200_000 + (i % 7) * 123}, ${1_772_355_600_000 + i * 7_200_000 + 3_600_000 + i * 86_400_000})`,
    );
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values.join(', ')}`);
    const r = await c.query({
      text: `SELECT id, start, "end" - start AS length, CASE WHEN id < 'b2' THEN NULL ELSE "end" END AS maybe, 'bookings'::regclass AS t, resource_id FROM bookings ORDER BY start`,
      rowMode: 'array',
      types: { getTypeParser: () => (v: string) => v },
    });
    expect(r.rows).toHaveLength(300);
    const ref = await c.query({
      text: `SELECT id, start::text, ("end" - start)::text, CASE WHEN id < 'b2' THEN NULL ELSE "end"::text END, 'bookings'::regclass::text, resource_id FROM bookings ORDER BY start`,
      rowMode: 'array',
    });
    expect(r.rows).toEqual(ref.rows);
    expect(r.rows[299]).toEqual([
      'b299',
      '2026-03-26 12:30:00.615+05:30',
      '7176:59:59.385',
      '2027-01-19 13:30:00+05:30',
      'bookings',
      'room-with-a-rather-long-name-for-its-text',
    ]);
  });
});
