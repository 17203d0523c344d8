/** The general read path: joins, subqueries, CTEs, grouping, DISTINCT, UNION, through pg. */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let c: pg.Client;
const H = 3_600_000;
const T0 = 1_772_355_600_000;

beforeAll(async () => {
  srv = await startServer();
  c = await srv.client();
  await c.query(`INSERT INTO resources (id, name, capacity) VALUES ('room-1', 'Room one', 1), ('room-2', 'Room two', 2), ('room-3', 'Room three', 1)`);
  await c.query(`INSERT INTO rules (resource_id, start, "end") VALUES ('room-1', ${T0}, ${T0 + 24 * H}), ('room-2', ${T0}, ${T0 + 24 * H})`);
  await c.query(
    `INSERT INTO bookings (id, resource_id, start, "end", label, user_id) VALUES
      ('b1', 'room-1', ${T0}, ${T0 + H}, 'standup', 'ann'),
      ('b2', 'room-1', ${T0 + 2 * H}, ${T0 + 3 * H}, 'review', 'bob'),
      ('b3', 'room-2', ${T0}, ${T0 + 2 * H}, 'workshop', 'ann'),
      ('b4', 'room-2', ${T0}, ${T0 + H}, null, 'cat')`,
  );
});
afterAll(async () => {
  await srv.close();
});

async function rows(sql: string, params: unknown[] = []): Promise<unknown[][]> {
  const r = await c.query({ text: sql, values: params, rowMode: 'array' });
  return r.rows as unknown[][];
}

describe('joins', () => {
  it('joins bookings to their resources', async () => {
    expect(await rows(`SELECT b.id, r.name FROM bookings b JOIN resources r ON r.id = b.resource_id ORDER BY b.id`)).toEqual([
      ['b1', 'Room one'],
      ['b2', 'Room one'],
      ['b3', 'Room two'],
      ['b4', 'Room two'],
    ]);
  });
  it('keeps unmatched rows in a LEFT JOIN, with NULLs', async () => {
    expect(await rows(`SELECT r.id, b.id FROM resources r LEFT JOIN bookings b ON b.resource_id = r.id AND b.user_id = 'ann' ORDER BY 1, 2`)).toEqual([
      ['room-1', 'b1'],
      ['room-2', 'b3'],
      ['room-3', null],
    ]);
  });
  it('joins with USING, a comma list and a WHERE on both sides', async () => {
    expect(await rows(`SELECT count(*) FROM bookings b, resources r WHERE r.id = b.resource_id AND r.capacity = 2`)).toEqual([['2']]);
    expect(await rows(`SELECT resource_id, b.id FROM bookings b JOIN rules USING (resource_id) WHERE b.id = 'b2'`)).toEqual([['room-1', 'b2']]);
  });
  it('says which name is ambiguous', async () => {
    await expect(c.query(`SELECT id FROM bookings b JOIN resources r ON r.id = b.resource_id`)).rejects.toMatchObject({
      code: '42702',
      message: 'column reference "id" is ambiguous',
    });
  });
});

describe('grouping', () => {
  it('counts and sums per group, with HAVING', async () => {
    expect(
      await rows(`SELECT resource_id, count(*), sum("end" - start) / ${H} AS hours FROM bookings GROUP BY resource_id HAVING count(*) > 1 ORDER BY 1`),
    ).toEqual([
      ['room-1', '2', '2'],
      ['room-2', '2', '3'],
    ]);
  });
  it('groups over a join by an output name', async () => {
    expect(
      await rows(`SELECT r.name AS room, count(b.id) AS n FROM resources r LEFT JOIN bookings b ON b.resource_id = r.id GROUP BY room ORDER BY n DESC, room`),
    ).toEqual([
      ['Room one', '2'],
      ['Room two', '2'],
      ['Room three', '0'],
    ]);
  });
  it('DISTINCT and DISTINCT ON', async () => {
    expect(await rows(`SELECT DISTINCT user_id FROM bookings ORDER BY 1`)).toEqual([['ann'], ['bob'], ['cat']]);
    expect(await rows(`SELECT DISTINCT ON (resource_id) resource_id, id FROM bookings ORDER BY resource_id, id DESC`)).toEqual([
      ['room-1', 'b2'],
      ['room-2', 'b4'],
    ]);
  });
});

describe('subqueries and CTEs', () => {
  it('IN, EXISTS and scalar subqueries, correlated or not', async () => {
    expect(await rows(`SELECT id FROM resources WHERE id IN (SELECT resource_id FROM bookings WHERE user_id = 'ann') ORDER BY 1`)).toEqual([
      ['room-1'],
      ['room-2'],
    ]);
    expect(await rows(`SELECT id FROM resources r WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.resource_id = r.id)`)).toEqual([['room-3']]);
    expect(await rows(`SELECT id, (SELECT count(*) FROM bookings b WHERE b.resource_id = r.id) FROM resources r ORDER BY 1`)).toEqual([
      ['room-1', '2'],
      ['room-2', '2'],
      ['room-3', '0'],
    ]);
  });
  it('WITH queries, derived tables and UNION', async () => {
    expect(
      await rows(
        `WITH busy AS (SELECT resource_id, count(*) AS n FROM bookings GROUP BY resource_id) SELECT r.id, coalesce(busy.n, 0) FROM resources r LEFT JOIN busy ON busy.resource_id = r.id ORDER BY 1`,
      ),
    ).toEqual([
      ['room-1', '2'],
      ['room-2', '2'],
      ['room-3', '0'],
    ]);
    expect(await rows(`SELECT x.id FROM (SELECT id, user_id FROM bookings WHERE user_id = 'ann') AS x ORDER BY 1`)).toEqual([['b1'], ['b3']]);
    expect(await rows(`SELECT id FROM resources WHERE capacity = 2 UNION SELECT resource_id FROM bookings WHERE user_id = 'bob' ORDER BY 1`)).toEqual([
      ['room-1'],
      ['room-2'],
    ]);
  });
  it('joins availability through a subquery', async () => {
    expect(
      await rows(
        `SELECT a.start, r.name FROM (SELECT * FROM availability WHERE resource_id = 'room-1' AND start >= ${T0} AND "end" <= ${T0 + 4 * H}) a JOIN resources r ON r.id = a.resource_id ORDER BY 1`,
      ),
    ).toEqual([
      [String(T0 + H), 'Room one'],
      [String(T0 + 3 * H), 'Room one'],
    ]);
  });
  it('functions in FROM', async () => {
    expect(await rows(`SELECT * FROM current_schema()`)).toEqual([['public']]);
    expect(await rows(`SELECT g FROM generate_series(1, 3) AS g ORDER BY g DESC`)).toEqual([[3], [2], [1]]);
    expect(await rows(`SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) WHERE n > 1`)).toEqual([[2, 'b']]);
  });
});
