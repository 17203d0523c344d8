/**
 * deltat's SQL runs unchanged: the statement forms its README, tests and TypeScript SDK send
 * (ULID ids, `buffer_after`, quoted-text parameters, `UPDATE holds SET booking_id`, bare `end`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const ROOT = '01JBQ3K8T2W5F0CZ6E4X9M7N1A';
const ROOM = '01JBQ3K8T2W5F0CZ6E4X9M7N1B';
const SEAT = '01JBQ3K8T2W5F0CZ6E4X9M7N1C';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

describe("deltat's SQL", () => {
  it('runs its resource, rule, hold and booking statements', async () => {
    const c = await srv.client('deltat');
    await c.query(`INSERT INTO resources (id, parent_id, name, capacity, buffer_after) VALUES ('${ROOT}', NULL, 'Flight AA-100', 1, 2700000)`);
    await c.query(`INSERT INTO resources (id, parent_id, name, capacity, buffer_after) VALUES ('${ROOM}', '${ROOT}', 'Seat 1A', 1, NULL)`);
    expect((await c.query(`SELECT * FROM resources WHERE parent_id = '${ROOT}'`)).rows.map((r) => r.id)).toEqual([ROOM]);
    expect((await c.query(`SELECT * FROM resources WHERE parent_id IS NULL`)).rows.map((r) => r.id)).toEqual([ROOT]);
    await c.query(`UPDATE resources SET name = 'Seat 1A (window)', capacity = 1, buffer_after = 900000 WHERE id = '${ROOM}'`);
    expect((await c.query(`SELECT buffer_after FROM resources WHERE id IN ('${ROOT}', '${ROOM}') ORDER BY id`)).rows).toEqual([
      { buffer_after: '2700000' },
      { buffer_after: '900000' },
    ]);
    await c.query(`UPDATE resources SET buffer_after = NULL WHERE id = '${ROOT}'`);
    expect((await c.query(`SELECT buffer_after FROM resources WHERE id = '${ROOT}'`)).rows).toEqual([{ buffer_after: '0' }]);
    await c.query(
      `INSERT INTO rules (id, resource_id, start, "end", blocking) VALUES ('01JBQ3K8T2W5F0CZ6E4X9M7N2A', '${ROOM}', 1706000000000, 1706028800000, false)`,
    );
    await c.query(
      `INSERT INTO rules (id, resource_id, start, end, blocking) VALUES ('01JBQ3K8T2W5F0CZ6E4X9M7N2B', '${ROOM}', 1706010000000, 1706011000000, 'true')`,
    );
    await c.query(`UPDATE rules SET start = 1706010000000, end = 1706012000000, blocking = true WHERE id = '01JBQ3K8T2W5F0CZ6E4X9M7N2B'`);
    expect((await c.query(`SELECT * FROM rules WHERE resource_id = '${ROOM}'`)).rowCount).toBe(2);
    // The SDK's parameters arrive as text, even numbers.
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      '01JBQ3K8T2W5F0CZ6E4X9M7N3A',
      ROOM,
      '1706000000000',
      '1706003600000',
      String(Date.now() + 600_000),
    ]);
    const commit = await c.query(`UPDATE holds SET booking_id = $1, label = $2 WHERE id = $3`, [
      '01JBQ3K8T2W5F0CZ6E4X9M7N4A',
      'passenger 1',
      '01JBQ3K8T2W5F0CZ6E4X9M7N3A',
    ]);
    expect(commit.rowCount).toBe(1);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)`, [
      '01JBQ3K8T2W5F0CZ6E4X9M7N4B',
      ROOM,
      '1706020000000',
      '1706021000000',
      null,
      '01JBQ3K8T2W5F0CZ6E4X9M7N4C',
      ROOM,
      '1706024000000',
      '1706025000000',
      'late',
    ]);
    const rows = (await c.query(`SELECT * FROM bookings WHERE resource_id IN ('${ROOM}', '${SEAT}') AND start >= 1706000000000 AND end <= 1706022000000`)).rows;
    expect(rows.map((r) => r.id)).toEqual(['01JBQ3K8T2W5F0CZ6E4X9M7N4A', '01JBQ3K8T2W5F0CZ6E4X9M7N4B']);
    expect((await c.query(`DELETE FROM bookings WHERE id = '01JBQ3K8T2W5F0CZ6E4X9M7N4C'`)).rowCount).toBe(1);
    expect((await c.query(`DELETE FROM holds WHERE id = '01JBQ3K8T2W5F0CZ6E4X9M7N3A'`)).rowCount).toBe(0);
  });

  it('answers its availability forms: single, per-resource IN, merged with min_available, min_duration', async () => {
    const c = await srv.client('deltat_avail');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('${ROOM}', 1), ('${SEAT}', 1)`);
    await c.query(
      `INSERT INTO rules (id, resource_id, start, "end", blocking) VALUES ('r1', '${ROOM}', 1000, 2000, false), ('r2', '${SEAT}', 1000, 2000, false)`,
    );
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', '${ROOM}', 1200, 1400), ('b2', '${SEAT}', 1300, 1500)`);
    const single = await c.query(`SELECT * FROM availability WHERE resource_id = '${ROOM}' AND start >= 1000 AND "end" <= 2000`);
    expect(single.rows.map((r) => [r.resource_id, r.start, r.end])).toEqual([
      [ROOM, '1000', '1200'],
      [ROOM, '1400', '2000'],
    ]);
    const long = await c.query(`SELECT * FROM availability WHERE resource_id = $1 AND start >= $2 AND end <= $3 AND min_duration = $4`, [
      ROOM,
      '1000',
      '2000',
      '300',
    ]);
    expect(long.rows.map((r) => [r.start, r.end])).toEqual([['1400', '2000']]);
    const per = await c.query(`SELECT * FROM availability WHERE resource_id IN ('${ROOM}', '${SEAT}') AND start >= 1000 AND "end" <= 2000`);
    expect(per.rows.map((r) => r.resource_id)).toEqual([ROOM, ROOM, SEAT, SEAT]);
    const both = await c.query(`SELECT * FROM availability WHERE resource_id IN ($1, $2) AND start >= $3 AND "end" <= $4 AND min_available = $5`, [
      ROOM,
      SEAT,
      '1000',
      '2000',
      '2',
    ]);
    expect(both.rows.map((r) => [r.start, r.end])).toEqual([
      ['1000', '1200'],
      ['1500', '2000'],
    ]);
    // Unknown resources and inverted windows answer with no rows, not errors.
    expect((await c.query(`SELECT * FROM availability WHERE resource_id = 'nope' AND start >= 0 AND "end" <= 10`)).rowCount).toBe(0);
    expect((await c.query(`SELECT * FROM availability WHERE resource_id = '${ROOM}' AND start >= 10 AND "end" <= 0`)).rowCount).toBe(0);
  });

  it('listens the way its SDK does', async () => {
    const c = await srv.client('deltat_listen');
    await c.query(`INSERT INTO resources (id) VALUES ('${ROOM}')`);
    const got: string[] = [];
    c.on('notification', (n) => got.push(n.channel));
    await c.query(`LISTEN "resource_${ROOM}"`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('${ROOM}', 0, 10)`);
    await c.query('SELECT 1');
    expect(got).toEqual([`resource_${ROOM}`]);
  });
});
