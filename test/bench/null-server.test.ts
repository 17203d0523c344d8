import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNullServer } from '../../bench/null-server.js';

// The protocol ceilings of the benchmark are only worth reading if the null server really
// answers what the workload asks: a row count for writes, the given rows for a SELECT.
describe('null server (the benchmark protocol ceiling)', () => {
  let srv: Awaited<ReturnType<typeof startNullServer>>;
  let client: pg.Client;
  const rows = [
    [1767225600000, 1767226800000, 1],
    [1767228600000, 1767230000000, 1],
  ];

  beforeAll(async () => {
    srv = await startNullServer({ selectRows: { columns: ['start', 'end', 'free'], rows } });
    client = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'x', database: 'x' });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    srv.server.close();
  });

  it('answers a SELECT with its rows, through the simple and the extended protocol', async () => {
    const want = rows.map(([start, end, free]) => ({ start: String(start), end: String(end), free: String(free) }));
    const simple = await client.query('SELECT start, "end", free FROM availability');
    expect(simple.rows).toEqual(want);
    expect(simple.fields.map((f) => f.name)).toEqual(['start', 'end', 'free']);
    const extended = await client.query('SELECT start, "end", free FROM availability WHERE start >= $1', [0]);
    expect(extended.rows).toEqual(want);
    expect(extended.rowCount).toBe(2);
  });

  it('answers anything else as one row written', async () => {
    const r = await client.query('INSERT INTO bookings (resource_id, start, "end") VALUES ($1, $2, $3)', ['r1', 0, 1]);
    expect(r.rowCount).toBe(1);
    expect(r.rows).toEqual([]);
    expect((await client.query("INSERT INTO bookings VALUES ('x')")).rowCount).toBe(1);
  });
});
