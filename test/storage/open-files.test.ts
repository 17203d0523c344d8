/**
 * Many databases under the usual descriptor limit: a server holding 1,000 databases (the default
 * ALLOT_MAX_TENANTS) starts, writes to every one and restarts under `ulimit -n 1024`, because
 * idle databases' log files are closed (and opened again on their next write).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../helpers/child-server.js';

const PASSWORD = 'fd-pw';
const DATABASES = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'allot-fds-'));
const running = new Set<ChildServer>();
afterAll(async () => {
  // A failed test leaves its server running: stop it before removing its directory.
  await Promise.all([...running].map((s) => s.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

interface Child {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<number | null>;
}

/** The server as a child process under `ulimit -n 1024`. */
async function start(): Promise<Child> {
  const s = await startChild(dir, PASSWORD, {}, { fileLimit: 1024 });
  running.add(s);
  return {
    port: s.port,
    pid: s.child.pid!,
    stop: async () => {
      const code = await s.kill('SIGTERM');
      running.delete(s);
      return code;
    },
  };
}

/** Runs `fn` on each database, 16 at a time, each through its own connection. */
async function eachDatabase(port: number, fn: (c: pg.Client, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < DATABASES; i = next++) {
        const c = new pg.Client({ host: '127.0.0.1', port, user: 'fd', password: PASSWORD, database: `db${i}` });
        await c.connect();
        try {
          await fn(c, i);
        } finally {
          await c.end();
        }
      }
    }),
  );
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('a thousand databases under ulimit -n 1024', () => {
  it('are created, written, restarted and written again, with descriptors to spare', async () => {
    let server = await start();
    await eachDatabase(server.port, async (c, i) => {
      await c.query(`INSERT INTO resources (id) VALUES ('r')`);
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', 0, 10)`, [`first-${i}`]);
    });
    expect(openDescriptors(server.pid)).toBeLessThan(512);
    expect(await server.stop()).toBe(0);

    server = await start();
    expect(openDescriptors(server.pid)).toBeLessThan(512);
    await eachDatabase(server.port, async (c, i) => {
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', 10, 20)`, [`second-${i}`]);
    });
    expect(await server.stop()).toBe(0);

    server = await start();
    const seen: string[] = [];
    await eachDatabase(server.port, async (c, i) => {
      const ids = (await c.query('SELECT id FROM bookings ORDER BY id')).rows.map((r) => r.id as string);
      if (ids.join() !== `first-${i},second-${i}`) seen.push(`db${i}: ${ids.join()}`);
    });
    expect(seen).toEqual([]);
    expect(await server.stop()).toBe(0);
  }, 300_000);
});
