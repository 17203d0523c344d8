/**
 * A really full disk: the server as a child process on a 2 MiB tmpfs, 8 writers booking until
 * the log cannot grow, then a restart on the same full disk. Every insert answered OK is there;
 * none answered with an error is (the rule: an error means "not committed").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../helpers/child-server.js';

const PASSWORD = 'full-pw';
const ROUNDS = 3;
const mounts: string[] = [];
const servers = new Set<ChildServer>();

afterAll(async () => {
  await Promise.all([...servers].map((s) => s.kill('SIGKILL')));
  for (const m of mounts) {
    execFileSync('umount', [m]);
    rmSync(m, { recursive: true, force: true });
  }
});

/** A fresh 2 MiB tmpfs; the test needs root (or CAP_SYS_ADMIN) to mount it, and says so. */
function smallDisk(): string {
  const dir = mkdtempSync(join(tmpdir(), 'allot-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `the disk-full test mounts a 2 MiB tmpfs and could not (${(err as Error).message.split('\n')[0]}): run the tests as root, or with CAP_SYS_ADMIN`,
    );
  }
  mounts.push(dir);
  return dir;
}

async function start(dir: string): Promise<ChildServer> {
  const s = await startChild(dir, PASSWORD);
  servers.add(s);
  return s;
}

async function stop(s: ChildServer): Promise<void> {
  await s.kill('SIGTERM');
  servers.delete(s);
}

async function connect(port: number): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'full', password: PASSWORD, database: 'full' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

describe('a full disk', () => {
  it(`never keeps a write answered with an error, nor loses one answered OK (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = smallDisk();
      let server = await start(dir);
      const setup = await connect(server.port);
      await setup.query(`INSERT INTO resources (id, capacity) VALUES ('r', 1000000)`);
      await setup.end();
      // Each statement books 10 rows; a writer stops after its third error.
      const answers = new Map<string, string>();
      await Promise.all(
        Array.from({ length: 8 }, async (_, k) => {
          const c = await connect(server.port);
          let errors = 0;
          for (let n = 0; errors < 3 && n < 20_000; n++) {
            const ids = Array.from({ length: 10 }, (_, j) => `w${k}-${n}-${j}`);
            const values = ids.map((_, j) => `($${j * 3 + 1}, 'r', $${j * 3 + 2}, $${j * 3 + 3})`).join(', ');
            const params = ids.flatMap((id, j) => [id, n * 10 + j, n * 10 + j + 1]);
            try {
              await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values}`, params);
              answers.set(ids[0]!, 'ok');
            } catch (err) {
              answers.set(ids[0]!, (err as { code?: string }).code ?? 'no answer');
              errors++;
            }
          }
          await c.end().catch(() => undefined);
        }),
      );
      const codes = new Set(answers.values());
      expect(codes.has('ok') && codes.has('58030'), `answers: ${[...codes].join(', ')}`).toBe(true);
      await stop(server);

      // The same full disk: recovery needs no new space.
      server = await start(dir);
      const c = await connect(server.port);
      const rows = (await c.query('SELECT id FROM bookings')).rows.map((r) => r.id as string);
      await c.end();
      await stop(server);
      const there = new Set(rows);
      // A statement is there whole or not at all.
      for (const first of answers.keys()) {
        const stem = first.slice(0, -2);
        const count = Array.from({ length: 10 }, (_, j) => there.has(`${stem}-${j}`)).filter(Boolean).length;
        expect([0, 10], `statement ${stem} is partly there`).toContain(count);
      }
      const ghosts = [...answers].filter(([id, code]) => code !== 'ok' && code !== 'no answer' && there.has(id)).map(([id, code]) => `${id} (${code})`);
      const lost = [...answers].filter(([id, code]) => code === 'ok' && !there.has(id)).map(([id]) => id);
      expect({ round, ghosts, lost }).toEqual({ round, ghosts: [], lost: [] });
    }
  }, 300_000);
});
