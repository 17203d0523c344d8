/** The SQL surface through `pg`, over a real socket: simple and extended protocol. */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/errors.js';
import { functionNames } from '../../src/sql/expr.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const T = (iso: string): number => Date.parse(iso);

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

async function fresh(name: string): Promise<pg.Client> {
  return srv.client(name);
}

describe('resources, bookings and availability through pg', () => {
  it('books, refuses an overlap with 23P01 naming the booking, and answers availability', async () => {
    const c = await fresh('basics');
    await c.query(`INSERT INTO resources (id, name, capacity) VALUES ('room-1', 'Room 1', 1)`);
    const ins = await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ($1, $2, $3, $4, $5) RETURNING *`, [
      'b1',
      'room-1',
      '2026-03-01T09:00:00Z',
      T('2026-03-01T10:00:00Z'),
      'standup',
    ]);
    expect(ins.rows).toEqual([
      {
        id: 'b1',
        resource_id: 'room-1',
        start: String(T('2026-03-01T09:00:00Z')),
        end: String(T('2026-03-01T10:00:00Z')),
        label: 'standup',
        capabilities: [],
        user_id: null,
        policy_id: null,
        group_id: null,
      },
    ]);
    expect(ins.command).toBe('INSERT');
    expect(ins.rowCount).toBe(1);
    const err = await pgError(
      c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b2', 'room-1', '2026-03-01T09:30:00Z', '2026-03-01T10:30:00Z')`),
    );
    expect(err.code).toBe('23P01');
    expect(JSON.parse(err.detail!)).toEqual({
      conflicts: [
        {
          kind: 'booking',
          id: 'b1',
          resource_id: 'room-1',
          start: T('2026-03-01T09:00:00Z'),
          end: T('2026-03-01T10:00:00Z'),
          label: 'standup',
          group_id: null,
        },
      ],
      // Where an hour would fit instead: nearest first, an earlier one before a later one as near.
      offers: [
        { resource_id: 'room-1', start: T('2026-03-01T10:00:00Z'), end: T('2026-03-01T11:00:00Z') },
        { resource_id: 'room-1', start: T('2026-03-01T08:00:00Z'), end: T('2026-03-01T09:00:00Z') },
        { resource_id: 'room-1', start: T('2026-03-01T11:00:00Z'), end: T('2026-03-01T12:00:00Z') },
      ],
    });
    // Offers can be turned off.
    await c.query(`SET allot.offers = off`);
    const bare = await pgError(
      c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b2', 'room-1', '2026-03-01T09:30:00Z', '2026-03-01T10:30:00Z')`),
    );
    expect(JSON.parse(bare.detail!).offers).toBeUndefined();
    await c.query(`RESET allot.offers`);
    const free = await c.query(`SELECT start, "end", free FROM availability WHERE resource_id = $1 AND start >= $2 AND "end" <= $3`, [
      'room-1',
      '2026-03-01T08:00:00Z',
      '2026-03-01T12:00:00Z',
    ]);
    expect(free.rows).toEqual([
      { start: String(T('2026-03-01T08:00:00Z')), end: String(T('2026-03-01T09:00:00Z')), free: '1' },
      { start: String(T('2026-03-01T10:00:00Z')), end: String(T('2026-03-01T12:00:00Z')), free: '1' },
    ]);
  });

  it('generates ULIDs for omitted ids, readable with RETURNING', async () => {
    const c = await fresh('ids');
    const r = await c.query(`INSERT INTO resources (name) VALUES ('a'), ('b') RETURNING id, name`);
    expect(r.rows).toHaveLength(2);
    for (const row of r.rows) expect(row.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.rows[0].id < r.rows[1].id).toBe(true);
  });

  it('makes a multi-row INSERT all or nothing, and ON CONFLICT DO NOTHING skips only conflicts', async () => {
    const c = await fresh('batch');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    const err = await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('a', 'r', 0, 10), ('b', 'r', 5, 15)`));
    expect(err.code).toBe('23P01');
    expect((await c.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '0' }]);
    const r = await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('a', 'r', 0, 10), ('b', 'r', 5, 15), ('c', 'r', 10, 20) ON CONFLICT DO NOTHING RETURNING id`,
    );
    expect(r.rows.map((x) => x.id)).toEqual(['a', 'c']);
    expect(r.rowCount).toBe(2);
    const dup = await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('a', 'r', 100, 110) ON CONFLICT (id) DO NOTHING`);
    expect(dup.rowCount).toBe(0);
  });

  it('updates and deletes by id, by IN list and by group, reporting rows as PostgreSQL does', async () => {
    const c = await fresh('update');
    await c.query(`INSERT INTO resources (id) VALUES ('cam1'), ('cam2'), ('dir')`);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end", group_id) VALUES ('g1', 'cam1', 100, 200, 'prod'), ('g2', 'cam2', 100, 200, 'prod'), ('g3', 'dir', 100, 200, 'prod')`,
    );
    const moved = await c.query(`UPDATE bookings SET "end" = 300 WHERE group_id = 'prod' RETURNING id, "end"`);
    expect(moved.rowCount).toBe(3);
    expect(moved.rows.map((r) => r.end)).toEqual(['300', '300', '300']);
    expect((await c.query(`UPDATE bookings SET label = 'x' WHERE id = 'nope'`)).rowCount).toBe(0);
    expect((await c.query(`UPDATE bookings SET label = $1 WHERE id IN ('g1', 'g2')`, ['crew'])).rowCount).toBe(2);
    expect((await c.query(`DELETE FROM bookings WHERE id = 'g3'`)).rowCount).toBe(1);
    expect((await c.query(`DELETE FROM bookings WHERE group_id = 'prod'`)).rowCount).toBe(2);
    expect((await c.query(`SELECT * FROM bookings`)).rowCount).toBe(0);
    const err = await pgError(c.query(`DELETE FROM bookings WHERE label = 'x'`));
    expect(err.code).toBe('0A000');
  });

  it('selects with projection, WHERE, ORDER BY, LIMIT and OFFSET', async () => {
    const c = await fresh('select');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 10)`);
    for (let i = 0; i < 6; i++)
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ($1, 'r', $2, $3, $4)`, [
        `b${i}`,
        i * 10,
        i * 10 + 5,
        i % 2 === 0 ? 'even' : null,
      ]);
    const r = await c.query(
      `SELECT id AS booking, start FROM bookings WHERE resource_id = 'r' AND start >= 10 AND "end" <= 45 ORDER BY start DESC LIMIT 2 OFFSET 1`,
    );
    expect(r.rows).toEqual([
      { booking: 'b3', start: '30' },
      { booking: 'b2', start: '20' },
    ]);
    expect((await c.query(`SELECT id FROM bookings WHERE label IS NULL ORDER BY 1`)).rows.map((x) => x.id)).toEqual(['b1', 'b3', 'b5']);
    expect((await c.query(`SELECT id FROM bookings WHERE id IN ($1, $2) ORDER BY id`, ['b4', 'b0'])).rows.map((x) => x.id)).toEqual(['b0', 'b4']);
    // One value in the list: the parser reads it as a parenthesised value.
    expect((await c.query(`SELECT id FROM bookings WHERE id IN ('b2')`)).rows).toEqual([{ id: 'b2' }]);
    expect((await c.query(`SELECT id FROM bookings WHERE id IN ($1)`, ['b3'])).rows).toEqual([{ id: 'b3' }]);
    expect((await c.query(`SELECT id FROM bookings WHERE resource_id IN ('r') AND label NOT IN ('even') ORDER BY id`)).rows.map((x) => x.id)).toEqual([]);
    const free = (await c.query(`SELECT * FROM availability WHERE resource_id = 'r' AND start >= 0 AND "end" <= 100`)).rows;
    expect(free.length).toBeGreaterThan(1);
    expect((await c.query(`SELECT * FROM availability WHERE resource_id IN ('r') AND start >= 0 AND "end" <= 100`)).rows).toEqual(free);
    // A plain select list (columns in any order, twice, aliased) gives the same rows as one the
    // rows are computed for and then projected (an expression, or ORDER BY).
    const picked = (
      await c.query({
        text: `SELECT free, "end", start, resource_id, start AS s2 FROM availability WHERE resource_id = 'r' AND start >= 0 AND "end" <= 100`,
        rowMode: 'array',
      })
    ).rows;
    expect(picked).toEqual(free.map((f) => [f.free, f.end, f.start, f.resource_id, f.start]));
    const computed = (
      await c.query({
        text: `SELECT free + 0, "end", start, resource_id, start FROM availability WHERE resource_id = 'r' AND start >= 0 AND "end" <= 100 ORDER BY start`,
        rowMode: 'array',
      })
    ).rows;
    expect(computed).toEqual(picked);
    // Every length of plain select list (rows of one to four columns are built another way than longer ones).
    const cols = { resource_id: 'resource_id', start: 'start', end: '"end"', free: 'free' } as const;
    for (const list of [
      ['free'],
      ['end', 'resource_id'],
      ['start', 'end', 'free'],
      ['free', 'start', 'resource_id', 'end'],
      ['end', 'end', 'free', 'start', 'resource_id', 'free'],
    ] as const) {
      const got = (
        await c.query({
          text: `SELECT ${list.map((k) => cols[k]).join(', ')} FROM availability WHERE resource_id = 'r' AND start >= 0 AND "end" <= 100`,
          rowMode: 'array',
        })
      ).rows;
      expect(got).toEqual(free.map((f) => list.map((k) => f[k])));
    }
    // Merged over several resources, resource_id is null.
    const merged = (
      await c.query({
        text: `SELECT resource_id, free FROM availability WHERE resource_id IN ('r') AND start >= 0 AND "end" <= 100 AND min_available = 1`,
        rowMode: 'array',
      })
    ).rows;
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.every(([rid]) => rid === null)).toBe(true);
    expect((await c.query(`SELECT id FROM bookings WHERE id NOT IN (SELECT id FROM holds) AND start < 10 ORDER BY id`)).rows.map((x) => x.id)).toEqual(['b0']);
    expect(
      (await c.query(`SELECT id FROM bookings WHERE resource_id = 'r' AND id = ANY($1) ORDER BY id`, [['b5', 'b1', 'nope']])).rows.map((x) => x.id),
    ).toEqual(['b1', 'b5']);
    expect((await c.query(`SELECT min(start), max("end"), count(*) FROM bookings`)).rows).toEqual([{ min: '0', max: '55', count: '6' }]);
  });

  it('evaluates aggregates inside expressions, and refuses them with 42803 where they cannot stand', async () => {
    const c = await fresh('aggregates');
    await c.query(`INSERT INTO resources (id) VALUES ('a'), ('b'), ('c')`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('x', 'a', 10, 20), ('y', 'b', 5, 50)`);
    // The fuzzer's case: an aggregate under a cast was an internal error (XX000).
    for (const q of [(t: string) => c.query(t), (t: string) => c.query(t, [])]) {
      const r = await q('SELECT count(*)::text, count(*) + 1 AS more, coalesce(max("end"), 0) - min(start) AS spread, max(start)::text FROM bookings');
      expect(r.rows).toEqual([{ count: '2', more: '3', spread: '45', max: '10' }]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([25, 20, 20, 25]);
    }
    expect((await c.query('SELECT count(*) * 2 AS n, 7 AS seven FROM resources WHERE id <> $1', ['a'])).rows).toEqual([{ n: '4', seven: 7 }]);
    expect((await c.query(`SELECT coalesce(max(start), -1) AS m FROM bookings WHERE resource_id = 'c'`)).rows).toEqual([{ m: '-1' }]);
    for (const [sql, message] of [
      ['SELECT count(count(*)) FROM bookings', 'aggregate function calls cannot be nested'],
      ['SELECT * FROM bookings WHERE count(*) > 1', 'aggregate functions such as count() are only allowed in the select list and ORDER BY of a SELECT'],
      ['SELECT start, count(*) FROM bookings', 'a column must appear in an aggregate function: allot has no GROUP BY'],
      ['SELECT count(*) + start FROM bookings', 'a column must appear in an aggregate function: allot has no GROUP BY'],
      ['SELECT *, max(start) FROM bookings', 'a column must appear in an aggregate function: allot has no GROUP BY'],
      [
        `UPDATE bookings SET label = max(label)::text WHERE id = 'x'`,
        'aggregate functions such as max() are only allowed in the select list and ORDER BY of a SELECT',
      ],
      [
        `DELETE FROM bookings WHERE id = 'x' RETURNING count(*)::text`,
        'aggregate functions such as count() are only allowed in the select list and ORDER BY of a SELECT',
      ],
    ] as const) {
      const err = await pgError(c.query(sql));
      expect([err.code, err.message]).toEqual(['42803', message]);
    }
    // Nothing was changed by the refused statements.
    expect((await c.query('SELECT id, label FROM bookings ORDER BY id')).rows).toEqual([
      { id: 'x', label: null },
      { id: 'y', label: null },
    ]);
  });

  it('folds DISTINCT and FILTER aggregates, applies LIMIT/OFFSET to an aggregate row, and refuses unknown window functions', async () => {
    const c = await fresh('aggregates2');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r1', 1), ('r2', 2), ('r3', 1), ('r4', 3)`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('x', 'r1', 10, 20), ('y', 'r1', 30, 40), ('z', 'r2', 5, 50)`);
    expect((await c.query('SELECT count(DISTINCT resource_id) AS d, count(resource_id) AS n FROM bookings')).rows).toEqual([{ d: '2', n: '3' }]);
    expect((await c.query('SELECT sum(DISTINCT capacity) AS d, sum(capacity) AS s FROM resources')).rows).toEqual([{ d: '6', s: '7' }]);
    const filtered = await c.query(
      `SELECT count(*) FILTER (WHERE capacity > 1) AS big, max(capacity) FILTER (WHERE id = 'r3') AS r3, count(*) AS total FROM resources`,
    );
    expect(filtered.rows).toEqual([{ big: '2', r3: '1', total: '4' }]);
    expect((await c.query('SELECT count(*) FROM bookings LIMIT 0')).rows).toEqual([]);
    expect((await c.query('SELECT count(*) FROM bookings OFFSET 1')).rows).toEqual([]);
    expect((await c.query('SELECT count(*) FROM bookings LIMIT 1 OFFSET 0')).rows).toEqual([{ count: '3' }]);
    for (const [sql, code, message] of [
      [
        'SELECT ntile(2) OVER () FROM resources',
        '0A000',
        'ntile() OVER … is not supported by allot; it has row_number, rank, dense_rank, count, sum, min, max',
      ],
      ['SELECT lower(DISTINCT id) FROM resources', '42809', 'DISTINCT specified, but lower is not an aggregate function'],
      [`SELECT upper(id) FILTER (WHERE id = 'r1') FROM resources`, '42809', 'FILTER specified, but upper is not an aggregate function'],
    ] as const) {
      const err = await pgError(c.query(sql));
      expect([err.code, err.message]).toEqual([code, message]);
    }
  });

  it('intersects several resource_id conditions on availability, and says which SET values may read the row', async () => {
    const c = await fresh('intersect');
    await c.query(`INSERT INTO resources (id) VALUES ('r2'), ('r3')`);
    const q = (where: string) => c.query(`SELECT resource_id, start, "end" FROM availability WHERE ${where} AND start >= 0 AND "end" <= 1000`);
    expect((await q(`resource_id = 'r2' AND resource_id = 'r3'`)).rows).toEqual([]);
    expect((await q(`resource_id IN ('r2', 'r3') AND resource_id = 'r3'`)).rows).toEqual([{ resource_id: 'r3', start: '0', end: '1000' }]);
    // min_available above the resources asked about is never met; below 1 it is a bad value.
    expect((await q(`resource_id = 'r2' AND min_available = 5`)).rows).toEqual([]);
    const qty = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end", quantity) VALUES ('r2', 0, 10, 2)`));
    expect([qty.code, qty.message]).toEqual(['23502', 'quantity is for pool bookings: give pool_id too (a booking of a resource is one booking)']);
    const mixed = await pgError(c.query('SELECT id FROM resources WHERE capacity = true'));
    expect([mixed.code, mixed.message]).toEqual(['42804', 'cannot compare a number with a boolean: 1 and t']);
    const zero = await pgError(q(`resource_id = 'r2' AND min_available = 0`));
    expect([zero.code, zero.message]).toEqual(['22023', 'min_available must be a whole number of at least 1, got 0']);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ('b4', 'r2', 0, 10, 'hi')`);
    // Bookings compute a SET value from the row; other tables take constants and parameters.
    await c.query(`UPDATE bookings SET label = upper(label) WHERE id = 'b4'`);
    expect((await c.query(`SELECT label FROM bookings WHERE id = 'b4'`)).rows).toEqual([{ label: 'HI' }]);
    const err = await pgError(c.query(`UPDATE resources SET name = upper(id) WHERE id = 'r2'`));
    expect([err.code, err.message]).toEqual([
      '0A000',
      "SET name = …: in resources a new value must be a constant or a parameter; only bookings compute it from the row's columns",
    ]);
  });

  it('loads 10,000 rows in one INSERT by the simple protocol, and 2,000 by the extended one, each row with its own values', async () => {
    const c = await fresh('bulk');
    // Rows alike are parsed once and copied (the parser alone takes seconds on this many).
    const resources = Array.from({ length: 10_000 }, (_, i) => `('b${i}', ${(i % 3) + 1})`).join(', ');
    expect((await c.query(`INSERT INTO resources (id, capacity) VALUES ${resources}`)).rowCount).toBe(10_000);
    const totals = await c.query(`SELECT count(*) AS n, sum(capacity) AS capacity FROM resources WHERE id LIKE 'b%'`);
    // Capacities 1, 2, 3, 1, 2, 3, …: 3,334 ones, 3,333 twos and 3,333 threes.
    expect(totals.rows).toEqual([{ n: '10000', capacity: String(3334 + 2 * 3333 + 3 * 3333) }]);
    const rows: string[] = [];
    const params: (string | number)[] = [];
    for (let i = 0; i < 2000; i++) {
      rows.push(`($${3 * i + 1}, $${3 * i + 2}::int8 * 3600000, $${3 * i + 3}::int8 * 3600000)`);
      params.push(`b${i}`, i, i + 1);
    }
    const booked = await c.query(
      `INSERT INTO bookings (resource_id, start, "end") VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING RETURNING resource_id, start`,
      params,
    );
    expect(booked.rowCount).toBe(2000);
    expect(booked.rows[0]).toMatchObject({ resource_id: 'b0' });
    expect(booked.rows[1999]).toMatchObject({ resource_id: 'b1999' });
    const spans = await c.query(`SELECT resource_id, start, "end" FROM bookings WHERE resource_id IN ('b0', 'b7', 'b1999') ORDER BY resource_id`);
    expect(spans.rows.map((r) => [r.resource_id, Number(r.start), Number(r.end)])).toEqual([
      ['b0', 0, 3_600_000],
      ['b1999', 1999 * 3_600_000, 2000 * 3_600_000],
      ['b7', 7 * 3_600_000, 8 * 3_600_000],
    ]);
  });

  it('refuses oversized lists and statements before parsing them (54000), deep nesting with 54001, and keeps serving', async () => {
    const c = await fresh('oversized');
    const other = await fresh('oversized');
    await c.query(`INSERT INTO resources (id) VALUES ('r1')`);
    // 50,000 values (439 KB) once ran the parser for minutes and the server out of memory.
    for (const n of [1001, 50_000]) {
      const list = Array.from({ length: n }, (_, i) => `'x${i}'`).join(',');
      for (const run of [(t: string) => c.query(t), (t: string) => c.query(t, [])]) {
        const err = await pgError(run(`SELECT count(*) FROM resources WHERE id IN (${list})`));
        expect([err.code, err.message]).toEqual(['54000', 'a list of more than 1000 items; the limit is 1000']);
      }
    }
    const values = Array.from({ length: 10_001 }, (_, i) => `('v${i}')`).join(',');
    const rows = await pgError(c.query(`INSERT INTO resources (id) VALUES ${values}`));
    expect([rows.code, rows.message]).toEqual(['54000', 'more than 10000 rows after VALUES; the limit is 10000 per statement']);
    const ors = Array.from({ length: 6000 }, (_, i) => `id = 'x${i}'`).join(' OR ');
    const long = await pgError(c.query(`SELECT id FROM resources WHERE ${ors}`));
    expect([long.code, long.message]).toEqual(['54000', 'a statement of more than 20000 words and symbols (besides its VALUES rows); the limit is 20000']);
    // Under the token limit, but nested far deeper than any stack.
    for (const deep of [`SELECT ${'- '.repeat(19_000)}1 AS n`, `SELECT ${Array.from({ length: 9000 }, () => "'a'").join(' || ')} AS s`]) {
      const err = await pgError(c.query(deep));
      expect([err.code, err.message]).toEqual(['54001', 'stack depth limit exceeded: the statement nests too deeply']);
    }
    expect((await c.query('SELECT count(*) FROM resources')).rows).toEqual([{ count: '1' }]);
    expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('reads LIMIT ALL, folds only unquoted table names, refuses a column set twice, and says a year past 9999 is out of range', async () => {
    const c = await fresh('spellings');
    await c.query(`INSERT INTO resources (id) VALUES ('a'), ('b'), ('c')`);
    expect((await c.query('SELECT id FROM RESOURCES ORDER BY id LIMIT ALL')).rows.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect((await c.query('SELECT id FROM resources ORDER BY id LIMIT ALL OFFSET 1')).rows.map((r) => r.id)).toEqual(['b', 'c']);
    expect((await c.query('SELECT id FROM resources ORDER BY id LIMIT ALL OFFSET $1', [2])).rows.map((r) => r.id)).toEqual(['c']);
    for (const run of [(t: string) => c.query(t), (t: string) => c.query(t, [])]) expect((await run('SELECT 1e3 AS n')).rows).toEqual([{ n: '1000' }]);
    const quoted = await pgError(c.query('SELECT id FROM "Resources"'));
    expect([quoted.code, quoted.message]).toEqual(['42P01', 'relation "Resources" does not exist']);
    // Names of JavaScript's object machinery are no tables either, in either time mode.
    for (const name of ['constructor', '"hasOwnProperty"', '__proto__']) {
      for (const times of ['ms', 'timestamptz']) {
        await c.query(`SET allot.times = ${times}`);
        for (const sql of [`SELECT 1 FROM ${name}`, `SELECT * FROM ${name}`, `INSERT INTO ${name} (id) VALUES ('x')`, `DELETE FROM ${name}`]) {
          const err = await pgError(c.query(sql));
          expect([sql, err.code, err.message]).toEqual([sql, '42P01', `relation "${name.replaceAll('"', '')}" does not exist`]);
        }
      }
    }
    await c.query('RESET allot.times');
    const twice = await pgError(c.query(`UPDATE resources SET name = 'q', name = 'r' WHERE id = 'a'`));
    expect([twice.code, twice.message]).toEqual(['42601', 'multiple assignments to same column "name"']);
    const year = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('a', '10000-01-01', '10000-01-02')`));
    expect(year.code).toBe('22008');
    const hold = await pgError(
      c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at, booking_id) VALUES ('h', 'a', 0, 10, '9999-01-01', 'b')`),
    );
    expect([hold.code, hold.message]).toEqual(['0A000', 'INSERT INTO holds (booking_id): booking_id turns an existing hold into a booking']);
    expect((await c.query('SELECT count(*) FROM holds')).rows).toEqual([{ count: '0' }]);
    expect((await c.query(`SELECT name FROM resources WHERE id = 'a'`)).rows).toEqual([{ name: null }]);
  });

  it('turns a hold into a booking with hold_id, and holds vanish from reads when they expire', async () => {
    const c = await fresh('holds');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    const future = Date.now() + 3_600_000;
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at, label) VALUES ('h1', 'r', 0, 100, $1, 'cart')`, [future]);
    expect((await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('x', 'r', 50, 60)`))).code).toBe('23P01');
    const b = await c.query(`INSERT INTO bookings (id, hold_id) VALUES ('b1', 'h1') RETURNING resource_id, start, "end", label`);
    expect(b.rows).toEqual([{ resource_id: 'r', start: '0', end: '100', label: 'cart' }]);
    expect((await c.query(`SELECT * FROM holds`)).rowCount).toBe(0);
    // deltat's form of the same thing
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h2', 'r', 200, 300, $1)`, [future]);
    const u = await c.query(`UPDATE holds SET booking_id = 'b2', label = 'via deltat' WHERE id = 'h2'`);
    expect(u.rowCount).toBe(1);
    expect((await c.query(`SELECT label FROM bookings WHERE id = 'b2'`)).rows).toEqual([{ label: 'via deltat' }]);
    // A hold that expires in 300 ms is gone from reads and checks right after, reaper or not.
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h3', 'r', 400, 500, $1)`, [Date.now() + 300]);
    expect((await c.query(`SELECT id FROM holds`)).rows).toEqual([{ id: 'h3' }]);
    await new Promise((r) => setTimeout(r, 400));
    expect((await c.query(`SELECT id FROM holds`)).rows).toEqual([]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b3', 'r', 400, 500)`);
    expect((await pgError(c.query(`INSERT INTO bookings (id, hold_id) VALUES ('b4', 'h3')`))).code).toBe('23503');
  });

  it('reads and writes text[] capabilities and booleans', async () => {
    const c = await fresh('types');
    await c.query(`INSERT INTO resources (id, capabilities) VALUES ('cam', ARRAY['4k', 'night vision']), ('cam2', $1)`, [['4k']]);
    expect((await c.query(`SELECT capabilities FROM resources WHERE id = 'cam'`)).rows).toEqual([{ capabilities: ['4k', 'night vision'] }]);
    await c.query(`INSERT INTO rules (id, resource_id, start, "end", blocking) VALUES ('closed', 'cam', 0, 10, true), ('open', 'cam2', 0, 10, 'false')`);
    expect((await c.query(`SELECT id, blocking FROM rules ORDER BY id`)).rows).toEqual([
      { id: 'closed', blocking: true },
      { id: 'open', blocking: false },
    ]);
    const err = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end", capabilities) VALUES ('cam2', 0, 5, '{night vision}')`));
    expect(err.code).toBe('23514');
    await c.query(`INSERT INTO bookings (resource_id, start, "end", capabilities) VALUES ('cam', 20, 30, '{"night vision"}')`);
    expect((await c.query(`SELECT count(*) FROM bookings WHERE capabilities @> '{"night vision"}'`)).rows).toEqual([{ count: '1' }]);
  });

  it('returns binary results when asked', async () => {
    const c = await fresh('binary');
    await c.query(`INSERT INTO resources (id, capacity, capabilities) VALUES ('r', 3, '{a,b}')`);
    const r = await c.query({ text: `SELECT id, capacity, capabilities FROM resources WHERE id = $1`, values: ['r'], binary: true } as pg.QueryConfig);
    expect(r.rows[0].capacity).toBe('3');
    expect(r.rows[0].capabilities).toEqual(['a', 'b']);
  });
});

describe('errors', () => {
  it('docs/sql.md (Errors) lists every SQLSTATE allot answers with', () => {
    const doc = readFileSync(new URL('../../docs/sql.md', import.meta.url), 'utf8');
    const from = doc.indexOf('## Errors');
    const section = doc.slice(from, doc.indexOf('\n## ', from + 1));
    const documented = new Set([...section.matchAll(/`([0-9A-Z]{5})`/g)].map((m) => m[1]!));
    const codes = Object.values(SqlState);
    expect(codes.length).toBeGreaterThan(60);
    expect(codes.filter((c) => !documented.has(c))).toEqual([]);
  });

  it('refuses an unknown function, and docs/sql.md lists every function it has', async () => {
    const c = await fresh('functions');
    const err = await pgError(c.query('SELECT nosuch(1)'));
    expect([err.code, err.message, err.hint]).toEqual([
      '42883',
      'function nosuch() does not exist in allot',
      'docs/sql.md (Functions) lists the functions allot has.',
    ]);
    const doc = readFileSync(new URL('../../docs/sql.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Functions'), doc.indexOf('## Errors'));
    const documented = new Set([...section.matchAll(/`(\w+)/g)].map((m) => m[1]!));
    const names = functionNames();
    expect(names.length).toBeGreaterThan(100);
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
    for (const name of names) {
      // Each is known: called with no arguments it is either fine or refused for its arguments.
      const r = await c.query(`SELECT ${name}() AS v`).then(
        () => 'ok',
        (e: { message: string }) => e.message,
      );
      expect(r, name).not.toMatch(/does not exist/);
    }
  });

  it('gives every bad statement a SQLSTATE and keeps the connection usable', async () => {
    const c = await fresh('errors');
    const cases: [string, string][] = [
      [`SELEC 1`, '42601'],
      [`SELECT * FROM nowhere`, '42P01'],
      [`SELECT nope FROM resources`, '42703'],
      [`INSERT INTO resources (id, capacity) VALUES ('x', -1)`, '22023'],
      [`INSERT INTO resources (id, capacity) VALUES ('x', 'many')`, '22P02'],
      [`INSERT INTO bookings (resource_id, start, "end") VALUES ('x', 'someday', 5)`, '22007'],
      [`INSERT INTO bookings (resource_id, start, "end") VALUES ('nope', 1, 5)`, '23503'],
      [`INSERT INTO bookings (resource_id, start) VALUES ('nope', 1)`, '23502'],
      [`CREATE TABLE t (x int)`, '0A000'],
      [`SELECT * FROM resources FOR UPDATE`, '0A000'],
      [`SELECT * FROM resources, LATERAL (SELECT 1) AS x`, '0A000'],
    ];
    for (const [sql, code] of cases) {
      const err = await pgError(c.query(sql));
      expect([sql, err.code]).toEqual([sql, code]);
      expect(err.message.length).toBeGreaterThan(5);
    }
    await c.query(`INSERT INTO resources (id) VALUES ('x')`);
    expect((await pgError(c.query(`INSERT INTO resources (id) VALUES ('x')`))).code).toBe('23505');
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('transactions', () => {
  it('makes a block all or nothing, invisible to others until COMMIT, and visible to itself', async () => {
    const a = await fresh('tx');
    const b = await fresh('tx');
    await a.query(`INSERT INTO resources (id) VALUES ('r')`);
    await a.query('BEGIN');
    await a.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('x', 'r', 0, 10)`);
    expect((await a.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'x' }]);
    expect((await b.query(`SELECT id FROM bookings`)).rows).toEqual([]);
    await a.query('COMMIT');
    expect((await b.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'x' }]);
    await a.query('BEGIN');
    await a.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('y', 'r', 20, 30)`);
    await a.query('ROLLBACK');
    expect((await b.query(`SELECT id FROM bookings ORDER BY id`)).rows).toEqual([{ id: 'x' }]);
  });

  it('aborts a block after an error (25P02) until ROLLBACK', async () => {
    const c = await fresh('tx-abort');
    await c.query('BEGIN');
    expect((await pgError(c.query('SELECT * FROM nowhere'))).code).toBe('42P01');
    expect((await pgError(c.query('SELECT 1'))).code).toBe('25P02');
    const r = await c.query('COMMIT');
    expect(r.command).toBe('ROLLBACK');
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('refuses writes in a READ ONLY transaction with 25006, however it was asked for, and changes nothing', async () => {
    const c = await fresh('read-only');
    await c.query(`INSERT INTO resources (id) VALUES ('r1')`);
    const refused = async (sql: string, verb: string): Promise<void> => {
      const err = await pgError(c.query(sql));
      expect([err.code, err.message]).toEqual(['25006', `cannot execute ${verb} in a read-only transaction`]);
    };
    await c.query('BEGIN READ ONLY');
    expect((await c.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }]);
    expect((await c.query('SELECT count(*) FROM resources')).rows).toEqual([{ count: '1' }]);
    await refused(`INSERT INTO resources (id) VALUES ('ro1')`, 'INSERT');
    await c.query('ROLLBACK');
    await c.query('START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY');
    await refused(`DELETE FROM resources WHERE id = 'r1'`, 'DELETE');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query('SET TRANSACTION READ ONLY');
    await refused(`UPDATE resources SET name = 'x' WHERE id = 'r1'`, 'UPDATE');
    await c.query('ROLLBACK');
    // One simple query string: the block is read-only from its BEGIN.
    await refused(`BEGIN READ ONLY; INSERT INTO resources (id) VALUES ('ro2'); COMMIT`, 'INSERT');
    await c.query('ROLLBACK');
    await c.query('SET default_transaction_read_only = on');
    await refused(`INSERT INTO resources (id) VALUES ('ro3')`, 'INSERT');
    await c.query('BEGIN READ WRITE');
    await c.query(`INSERT INTO resources (id) VALUES ('rw1')`);
    await c.query('COMMIT');
    await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');
    expect((await c.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'off' }]);
    await c.query(`INSERT INTO resources (id) VALUES ('rw2')`);
    expect((await c.query('SELECT id FROM resources ORDER BY id')).rows.map((r) => r.id)).toEqual(['r1', 'rw1', 'rw2']);
  });

  it('fails COMMIT with 40001 when another session took the slot first, changing nothing', async () => {
    const a = await fresh('tx-race');
    const b = await fresh('tx-race');
    await a.query(`INSERT INTO resources (id) VALUES ('r')`);
    await a.query('BEGIN');
    await a.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('mine', 'r', 0, 10)`);
    await a.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('also', 'r', 50, 60)`);
    await b.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('theirs', 'r', 5, 15)`);
    const err = await pgError(a.query('COMMIT'));
    expect(err.code).toBe('40001');
    expect(err.detail).toContain('theirs');
    expect((await a.query(`SELECT id FROM bookings ORDER BY id`)).rows).toEqual([{ id: 'theirs' }]);
  });

  it('runs a multi-statement simple query as one implicit transaction', async () => {
    const c = await fresh('implicit');
    await c.query(`INSERT INTO resources (id) VALUES ('r')`);
    const err = await pgError(
      c.query(
        `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('a', 'r', 0, 10); INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b', 'r', 5, 15)`,
      ),
    );
    expect(err.code).toBe('23P01');
    expect((await c.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '0' }]);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('a', 'r', 0, 10); INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b', 'r', 10, 15)`,
    );
    expect((await c.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '2' }]);
    // A -- comment ends at a carriage return as well as at a newline, as in PostgreSQL.
    expect((await c.query(`SELECT 'a' -- one\r|| 'b' AS n; SELECT 'c' AS m -- three;\r`)) as unknown as pg.QueryResult[]).toMatchObject([
      { rows: [{ n: 'ab' }] },
      { rows: [{ m: 'c' }] },
    ]);
  });

  it('runs simple-protocol statements of one shape with their own values, bad ones refused', async () => {
    // pgbench -M simple and psql scripts send the values in the text; after the first, the
    // statements of a shape take the one-pass reading of the text.
    const c = await fresh('shapes');
    await c.query(`INSERT INTO resources (id) VALUES ('s1'), ('s2')`);
    const book = (r: string, s: string | number, e: number): string =>
      `INSERT INTO bookings (resource_id, start, "end") VALUES ('s' || ${r}, ${s} * 10, ${e}) ON CONFLICT DO NOTHING RETURNING resource_id, start, "end";\n`;
    expect((await c.query(book('1', 1, 20))).rows).toEqual([{ resource_id: 's1', start: '10', end: '20' }]);
    expect((await c.query(book('2', 3, 40))).rows).toEqual([{ resource_id: 's2', start: '30', end: '40' }]);
    expect((await c.query(book('1', 1, 20))).rowCount).toBe(0); // the overlap is skipped
    expect((await c.query(book('1', 1, 50))).rowCount).toBe(0);
    expect((await c.query(book('1', 5, 60))).rows).toEqual([{ resource_id: 's1', start: '50', end: '60' }]);
    const err = await pgError(c.query(book('1', `'x'`, 70)));
    expect(err.code).toBe('22P02'); // 'x' is read as an integer, as PostgreSQL reads it
    expect(err.message).toContain('"x"');
    const shape = (start: string): string => `SELECT resource_id FROM bookings WHERE resource_id = 's1' AND start >= ${start} ORDER BY start`;
    expect((await c.query(shape('0'))).rows).toEqual([{ resource_id: 's1' }, { resource_id: 's1' }]);
    expect((await c.query(shape('20'))).rows).toEqual([{ resource_id: 's1' }]);
    expect((await pgError(c.query(shape(`'soon'`)))).code).toBe('22007');
    expect((await c.query(shape(`'1970-01-01T00:00:00.040Z'`))).rows).toEqual([{ resource_id: 's1' }]);
  });
});

describe('session settings and driver queries', () => {
  it('answers SET, SHOW, RESET, current_setting and version', async () => {
    const c = await fresh('settings');
    await c.query(`SET application_name = 'tests'`);
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: 'tests' }]);
    expect((await c.query(`SELECT current_setting('application_name') AS a, current_schema() AS s, current_database() AS d`)).rows).toEqual([
      { a: 'tests', s: 'public', d: 'settings' },
    ]);
    await c.query('RESET application_name');
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: '' }]);
    expect((await c.query('SHOW transaction isolation level')).rows).toEqual([{ transaction_isolation: 'read committed' }]);
    expect((await c.query('SELECT version()')).rows[0].version).toMatch(/^PostgreSQL 16/);
    expect((await pgError(c.query('SET nonsense = 1'))).code).toBe('42704');
    expect((await pgError(c.query(`SET TimeZone = 'Mars/Olympus_Mons'`))).code).toBe('22023');
    await c.query(`SET TimeZone = 'europe/paris'`);
    expect(Object.values((await c.query('SHOW TimeZone')).rows[0])).toEqual(['Europe/Paris']);
    await c.query(`SET my.custom = 'x'`);
    expect((await c.query(`SELECT current_setting('my.custom') AS v`)).rows).toEqual([{ v: 'x' }]);
  });

  it('describes its tables in pg_catalog and information_schema', async () => {
    const c = await fresh('catalog');
    expect((await c.query(`SELECT oid, typname FROM pg_catalog.pg_type WHERE typname = ANY($1) ORDER BY oid`, [['int8', 'text', '_text']])).rows).toEqual([
      { oid: 20, typname: 'int8' },
      { oid: 25, typname: 'text' },
      { oid: 1009, typname: '_text' },
    ]);
    const cols = await c.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'bookings' ORDER BY ordinal_position`);
    expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'resource_id', 'start', 'end', 'label', 'capabilities', 'user_id', 'policy_id', 'group_id']);
  });

  it('refuses a database name that could not be a directory name, saying what a name may be (3D000)', async () => {
    for (const name of ['...', '-x', 'a/b', 'x'.repeat(64)]) {
      const c = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'tester', password: srv.password, database: name });
      c.on('error', () => undefined);
      const err = await c.connect().then(
        () => null,
        (e: { code?: string; message: string }) => e,
      );
      await c.end().catch(() => undefined);
      expect([err?.code, err?.message], name).toEqual([
        '3D000',
        `database "${name}" is not a valid name: start with a letter, digit or _, then use letters, digits, _, . and - (up to 63 characters)`,
      ]);
    }
    const ok = await fresh('a.b-c_1');
    expect((await ok.query('SELECT current_database() AS d')).rows).toEqual([{ d: 'a.b-c_1' }]);
  });

  it('keeps tenants apart', async () => {
    const a = await fresh('tenant_a');
    const b = await fresh('tenant_b');
    await a.query(`INSERT INTO resources (id) VALUES ('shared-name')`);
    await b.query(`INSERT INTO resources (id) VALUES ('shared-name')`);
    await a.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('shared-name', 0, 10)`);
    expect((await b.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '0' }]);
  });
});

describe('LISTEN / NOTIFY', () => {
  it('delivers committed changes of a resource and its descendants, and all changes on allot_events', async () => {
    const w = await fresh('events');
    const l = await fresh('events');
    await w.query(`INSERT INTO resources (id) VALUES ('site'); INSERT INTO resources (id, parent_id) VALUES ('room', 'site')`);
    const got: { channel: string; payload: string }[] = [];
    l.on('notification', (n) => got.push({ channel: n.channel, payload: n.payload ?? '' }));
    await l.query('LISTEN resource_site');
    await l.query('LISTEN allot_events');
    await w.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'room', 0, 10)`);
    await w.query(`DELETE FROM bookings WHERE id = 'b1'`);
    await w.query(`NOTIFY custom, 'not heard: nobody listens yet'`);
    await l.query('LISTEN custom');
    await w.query(`SELECT pg_notify('custom', 'world')`);
    await waitFor(() => got.length >= 5);
    const type = (p: string): string => (p.startsWith('{') ? (JSON.parse(p) as { type: string }).type : p);
    expect(got.map((g) => [g.channel, type(g.payload)])).toEqual([
      ['allot_events', 'BookingConfirmed'],
      ['resource_site', 'BookingConfirmed'],
      ['allot_events', 'BookingCancelled'],
      ['resource_site', 'BookingCancelled'],
      ['custom', 'world'],
    ]);
    const first = JSON.parse(got[0]!.payload) as Record<string, unknown>;
    const third = JSON.parse(got[2]!.payload) as Record<string, unknown>;
    expect(first).toMatchObject({ type: 'BookingConfirmed', id: 'b1', resource_id: 'room', start: 0, end: 10, lsn: expect.any(Number) });
    expect(third).toMatchObject({ type: 'BookingCancelled', reason: 'cancelled' });
  });

  it('matches channels other than resource channels exactly: "MyChan" and mychan are two channels', async () => {
    const w = await fresh('events-case');
    const l = await fresh('events-case');
    const got: string[] = [];
    l.on('notification', (n) => got.push(`${n.channel}:${n.payload ?? ''}`));
    await w.query(`INSERT INTO resources (id) VALUES ('ROOM')`);
    await l.query('LISTEN "MyChan"');
    await l.query('LISTEN resource_room');
    await w.query(`NOTIFY mychan, 'lower'`);
    await w.query(`NOTIFY "MyChan", 'exact'`);
    await w.query(`SELECT pg_notify('MYCHAN', 'upper')`);
    await w.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'ROOM', 0, 10)`);
    await waitFor(() => got.length >= 2);
    await l.query('SELECT 1');
    // Resource channels still match whatever the case (documented): resource "ROOM" reaches resource_room.
    expect(got.map((g) => (g.startsWith('resource_room:') ? 'resource_room:event' : g))).toEqual(['MyChan:exact', 'resource_room:event']);
  });

  it("holds back a block's events until COMMIT and drops them on ROLLBACK", async () => {
    const w = await fresh('events-tx');
    const l = await fresh('events-tx');
    const got: string[] = [];
    l.on('notification', (n) => got.push(JSON.parse(n.payload ?? '{}').id as string));
    await l.query('LISTEN allot_events');
    await w.query('BEGIN');
    await w.query(`INSERT INTO resources (id) VALUES ('r1')`);
    await l.query('SELECT 1');
    expect(got).toEqual([]);
    await w.query('ROLLBACK');
    await w.query('BEGIN');
    await w.query(`INSERT INTO resources (id) VALUES ('r2')`);
    await w.query('COMMIT');
    await waitFor(() => got.length >= 1);
    expect(got).toEqual(['r2']);
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
