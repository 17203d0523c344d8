/** Everything a database holds, read back through SQL: for comparing databases field by field. */
import type pg from 'pg';

const TABLES = ['resources', 'policies', 'rules', 'bookings', 'holds', 'outages'] as const;

/** Every row of every table, table by table, each ordered by id. */
export async function dump(c: pg.Client): Promise<Record<(typeof TABLES)[number], unknown[]>> {
  const out = {} as Record<(typeof TABLES)[number], unknown[]>;
  for (const t of TABLES) out[t] = (await c.query(`SELECT * FROM ${t} ORDER BY id`)).rows;
  return out;
}
