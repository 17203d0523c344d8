/** pgbench, the PostgreSQL benchmark client, with a custom booking script and -M prepared. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let dir: string;
beforeAll(async () => {
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'allot-pgbench-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await srv.close();
});

function pgbench(database: string, script: string, args: string[]): Promise<string> {
  const file = join(dir, `${database}.sql`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    execFile(
      'pgbench',
      ['-n', '-h', '127.0.0.1', '-p', String(srv.port), '-U', 'tester', '-f', file, ...args, database],
      { env: { ...process.env, PGPASSWORD: srv.password }, timeout: 60_000 },
      (err, stdout, stderr) => (err !== null ? reject(new Error(`pgbench failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout + stderr)),
    );
  });
}

function processed(out: string): number {
  const m = /number of transactions actually processed: (\d+)/.exec(out);
  if (m === null) throw new Error(`no transaction count in:\n${out}`);
  return Number(m[1]);
}

function failed(out: string): number {
  return Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? '0');
}

describe('pgbench -M prepared, 8 clients', () => {
  it('books on 1,000 roomy resources with no aborts, and every booking it made is there', async () => {
    const c = await srv.client('bench_roomy');
    const ids = Array.from({ length: 1000 }, (_, i) => `('${i + 1}', 1000000)`).join(',');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ${ids}`);
    const out = await pgbench(
      'bench_roomy',
      [
        '\\set r random(1, 1000)',
        '\\set s random(0, 100000)',
        `INSERT INTO bookings (resource_id, start, "end") VALUES (:r, :s * 60000, :s * 60000 + 1800000);`,
        '',
      ].join('\n'),
      ['-M', 'prepared', '-c', '8', '-j', '2', '-T', '3'],
    );
    expect(failed(out)).toBe(0);
    const n = processed(out);
    expect(n).toBeGreaterThan(100);
    expect((await c.query('SELECT count(*) FROM bookings')).rows[0].count).toBe(String(n));
  });

  it('competes for capacity-1 slots with ON CONFLICT DO NOTHING and keeps capacity', async () => {
    const c = await srv.client('bench_tight');
    const ids = Array.from({ length: 50 }, (_, i) => `('${i + 1}')`).join(',');
    await c.query(`INSERT INTO resources (id) VALUES ${ids}`);
    const out = await pgbench(
      'bench_tight',
      [
        '\\set r random(1, 50)',
        '\\set s random(0, 200)',
        `INSERT INTO bookings (resource_id, start, "end") VALUES (:r, :s * 60000, :s * 60000 + 1800000) ON CONFLICT DO NOTHING;`,
        '',
      ].join('\n'),
      ['-M', 'prepared', '-c', '8', '-j', '2', '-T', '2'],
    );
    expect(failed(out)).toBe(0);
    const n = processed(out);
    const rows = (await c.query(`SELECT resource_id, start, "end" FROM bookings ORDER BY resource_id, start`)).rows as {
      resource_id: string;
      start: string;
      end: string;
    }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(n);
    // No two bookings on one resource overlap.
    for (let i = 1; i < rows.length; i++) {
      if (rows[i]!.resource_id === rows[i - 1]!.resource_id) expect(Number(rows[i]!.start)).toBeGreaterThanOrEqual(Number(rows[i - 1]!.end));
    }
  });

  it('runs the same script in simple-protocol mode', async () => {
    const c = await srv.client('bench_simple');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('1', 1000000)`);
    const out = await pgbench(
      'bench_simple',
      [`\\set s random(0, 100000)`, `INSERT INTO bookings (resource_id, start, "end") VALUES ('1', :s, :s + 10);`, ''].join('\n'),
      ['-M', 'simple', '-c', '4', '-j', '2', '-T', '2'],
    );
    expect(failed(out)).toBe(0);
    expect((await c.query('SELECT count(*) FROM bookings')).rows[0].count).toBe(String(processed(out)));
  });
});
