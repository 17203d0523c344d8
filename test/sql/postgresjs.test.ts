/** postgres.js with its default options: it reads pg_type, prepares statements and LISTENs. */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let sql: postgres.Sql;
beforeAll(async () => {
  srv = await startServer();
  sql = postgres(srv.url('pgjs'), { onnotice: () => undefined });
});
afterAll(async () => {
  await sql.end({ timeout: 5 });
  await srv.close();
});

describe('postgres.js with default options', () => {
  it('connects, books with parameters and reads back typed rows', async () => {
    // postgres.js learns array types from pg_type on connect; sql.array needs them.
    await sql`SELECT 1`;
    await sql`INSERT INTO resources (id, name, capacity, capabilities) VALUES (${'room-1'}, ${'Room 1'}, ${2}, ${sql.array(['projector'])})`;
    const [b] = await sql`
      INSERT INTO bookings (id, resource_id, start, "end", label)
      VALUES (${'b1'}, ${'room-1'}, ${'2026-03-01T09:00:00Z'}, ${Date.parse('2026-03-01T10:00:00Z')}, ${'standup'})
      RETURNING id, start, "end", capabilities`;
    expect(b).toEqual({ id: 'b1', start: String(Date.parse('2026-03-01T09:00:00Z')), end: String(Date.parse('2026-03-01T10:00:00Z')), capabilities: [] });
    const [r] = await sql`SELECT capabilities, capacity FROM resources WHERE id = ${'room-1'}`;
    expect(r).toEqual({ capabilities: ['projector'], capacity: '2' });
  });

  it('reports conflicts as PostgresError with the SQLSTATE and DETAIL', async () => {
    await sql`INSERT INTO resources (id) VALUES ('solo')`;
    await sql`INSERT INTO bookings (resource_id, start, "end") VALUES ('solo', 0, 100)`;
    const err = await sql`INSERT INTO bookings (resource_id, start, "end") VALUES ('solo', 50, 150)`.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(postgres.PostgresError);
    expect((err as postgres.PostgresError).code).toBe('23P01');
    expect(JSON.parse((err as postgres.PostgresError).detail ?? '{}').conflicts).toHaveLength(1);
  });

  it('runs sql.begin as one transaction and rolls back on error', async () => {
    await sql`INSERT INTO resources (id) VALUES ('tx')`;
    const failed = await sql
      .begin(async (tx) => {
        await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('t1', 'tx', 0, 10)`;
        await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('t2', 'tx', 5, 15)`;
      })
      .catch((e: unknown) => e);
    expect((failed as postgres.PostgresError).code).toBe('23P01');
    expect(await sql`SELECT id FROM bookings WHERE resource_id = 'tx'`).toHaveLength(0);
    await sql.begin(async (tx) => {
      await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('t1', 'tx', 0, 10)`;
      await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('t2', 'tx', 10, 15)`;
    });
    expect((await sql`SELECT id FROM bookings WHERE resource_id = 'tx' ORDER BY id`).map((r) => r.id)).toEqual(['t1', 't2']);
  });

  it('answers availability with many parameters', async () => {
    await sql`INSERT INTO resources (id) VALUES ('a'), ('b')`;
    await sql`INSERT INTO bookings (resource_id, start, "end") VALUES ('a', 100, 200), ('b', 150, 250)`;
    const rows =
      await sql`SELECT start, "end", free FROM availability WHERE resource_id IN (${'a'}, ${'b'}) AND start >= ${0} AND "end" <= ${300} AND min_available = ${2}`;
    expect(rows.map((r) => [r.start, r.end, r.free])).toEqual([
      ['0', '100', '2'],
      ['250', '300', '2'],
    ]);
  });

  it('listens with sql.listen and hears committed bookings', async () => {
    await sql`INSERT INTO resources (id) VALUES ('watched')`;
    const heard: Record<string, unknown>[] = [];
    const sub = await sql.listen('resource_watched', (payload) => heard.push(JSON.parse(payload) as Record<string, unknown>));
    await sql`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('w1', 'watched', 0, 10)`;
    const until = Date.now() + 3000;
    while (heard.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(heard[0]).toMatchObject({ type: 'BookingConfirmed', id: 'w1', resource_id: 'watched' });
    await sub.unlisten();
    await sql.notify('plain', 'hello');
  });

  it('uses unsafe() simple queries with several statements', async () => {
    const result = await sql.unsafe(`SELECT 1 AS one; SELECT 'two' AS two`);
    expect(result).toHaveLength(2);
  });
});
