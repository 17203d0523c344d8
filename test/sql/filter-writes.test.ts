/**
 * UPDATE and DELETE of bookings by what they are (resource, user, policy, span) through pg: the
 * engine picks the rows in its step, all or nothing, and refuses a WHERE it cannot index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const at = (hour: number): number => Date.parse('2026-03-02T00:00:00Z') + hour * H;
/** An instant as read back: a Date in timestamptz output, a bigint string in ms. */
const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Number(v));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

describe('writes by filter', () => {
  it("cleans out a user's bookings in one statement, narrowed by resource and span", async () => {
    const c = await srv.client('spam');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('a', 5), ('b', 5)`);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end", user_id) VALUES
        ('s1', 'a', $1, $2, 'spammer'), ('s2', 'a', $3, $4, 'spammer'), ('s3', 'b', $1, $2, 'spammer'), ('k1', 'a', $1, $2, 'kim')`,
      [at(9), at(10), at(12), at(13)],
    );
    const late = await c.query(`DELETE FROM bookings WHERE user_id = 'spammer' AND resource_id = 'a' AND start >= $1 RETURNING id`, [at(11)]);
    expect(late.rows).toEqual([{ id: 's2' }]);
    const relabelled = await c.query(`UPDATE bookings SET label = 'flagged' WHERE user_id = $1 AND "end" <= $2 RETURNING id, label`, ['spammer', at(10)]);
    expect(relabelled.rows).toEqual([
      { id: 's1', label: 'flagged' },
      { id: 's3', label: 'flagged' },
    ]);
    const gone = await c.query(`DELETE FROM bookings WHERE user_id = 'spammer'`);
    expect(gone.rowCount).toBe(2);
    expect((await c.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'k1' }]);
    // NULL matches nothing; a WHERE that is not a conjunction of these conditions is refused.
    expect((await c.query(`DELETE FROM bookings WHERE user_id = $1`, [null])).rowCount).toBe(0);
    const or = await pgError(c.query(`DELETE FROM bookings WHERE user_id = 'kim' OR resource_id = 'b'`));
    expect(or.code).toBe('0A000');
    expect(or.message).toContain('user_id');
    expect((await c.query(`SELECT id FROM bookings`)).rows).toEqual([{ id: 'k1' }]);
  });

  it("releases a user's live holds on a resource by filter", async () => {
    const c = await srv.client('holds');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('a', 5), ('b', 5)`);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await c.query(
      `INSERT INTO holds (id, resource_id, start, "end", expires_at, user_id) VALUES
        ('h1', 'a', $1, $2, $3, 'ann'), ('h2', 'b', $1, $2, $3, 'ann'), ('h3', 'a', $1, $2, $3, 'bob')`,
      [at(9), at(10), until],
    );
    const released = await c.query(`DELETE FROM holds WHERE user_id = 'ann' AND resource_id = 'a' RETURNING id`);
    expect(released.rows).toEqual([{ id: 'h1' }]);
    expect((await c.query(`SELECT id FROM holds ORDER BY id`)).rows).toEqual([{ id: 'h2' }, { id: 'h3' }]);
    expect((await pgError(c.query(`UPDATE holds SET label = 'x' WHERE user_id = 'ann'`))).code).toBe('0A000');
  });

  it('moves all the bookings a filter names or none', async () => {
    const c = await srv.client('move');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('a', 5), ('small', 1)`);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", policy_id) VALUES ('m1', 'a', $1, $2, NULL), ('m2', 'a', $1, $2, NULL)`, [
      at(9),
      at(10),
    ]);
    const refused = await pgError(c.query(`UPDATE bookings SET resource_id = 'small' WHERE resource_id = 'a'`));
    expect(refused.code).toBe('23P01');
    expect((await c.query(`SELECT resource_id FROM bookings ORDER BY id`)).rows).toEqual([{ resource_id: 'a' }, { resource_id: 'a' }]);
    await c.query(`UPDATE resources SET capacity = 2 WHERE id = 'small'`);
    expect((await c.query(`UPDATE bookings SET resource_id = 'small' WHERE resource_id = 'a' AND start >= $1 AND "end" <= $2`, [at(9), at(10)])).rowCount).toBe(
      2,
    );
  });

  it('computes SET values from each row in the engine step: extends, shifts, all or nothing, in either time output', async () => {
    const c = await srv.client('expr');
    await c.query(`INSERT INTO resources (id) VALUES ('room')`);
    await c.query(
      `INSERT INTO bookings (id, resource_id, start, "end", label, user_id) VALUES ('a', 'room', $1, $2, 'x', 'ann'), ('b', 'room', $3, $4, 'y', 'ann')`,
      [new Date(at(9)), new Date(at(10)), new Date(at(11)), new Date(at(12))],
    );
    const longer = await c.query(`UPDATE bookings SET "end" = "end" + interval '30 minutes' WHERE id = 'a' RETURNING "end"`);
    expect(longer.rows.map((r) => ms(r.end))).toEqual([at(10) + H / 2]);
    // Every row of a filter moves by its own values, with a constant SET beside them.
    const later = await c.query(
      `UPDATE bookings SET start = start + interval '1 hour', "end" = "end" + interval '1 hour', label = label || '!', policy_id = NULL WHERE user_id = 'ann' RETURNING id, start, label`,
    );
    expect(later.rows.map((r) => [r.id, ms(r.start), r.label])).toEqual([
      ['a', at(10), 'x!'],
      ['b', at(12), 'y!'],
    ]);
    // A row that no longer fits refuses the statement, naming the booking in the way; nothing moves.
    const clash = await pgError(c.query(`UPDATE bookings SET "end" = "end" + interval '2 hours' WHERE user_id = 'ann'`));
    expect(clash.code).toBe('23P01');
    expect(clash.message).toContain('does not fit on resource "room": capacity 1 is taken by booking "a"');
    expect((await c.query(`SELECT id, "end" FROM bookings ORDER BY id`)).rows.map((r) => ms(r.end))).toEqual([at(11) + H / 2, at(13)]);
    // A value the row makes invalid is refused like a given one.
    expect((await pgError(c.query(`UPDATE bookings SET "end" = start WHERE id = 'a'`))).code).toBe('22023');
    await c.query(`SET allot.times = ms`);
    expect((await c.query(`UPDATE bookings SET "end" = "end" + 60000 WHERE id = 'b' RETURNING "end"`)).rows).toEqual([{ end: String(at(13) + 60_000) }]);
    // Other tables take constants and parameters only.
    const other = await pgError(c.query(`UPDATE resources SET capacity = capacity + 1 WHERE id = 'room'`));
    expect(other.code).toBe('0A000');
    expect(other.message).toContain('only bookings compute it from the row');
  });
});
