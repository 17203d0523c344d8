/** `allot wal verify`, and a server refusing to start on a damaged log, as processes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from '../helpers/child-server.js';
import { startServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'allot-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function allot(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), out: stdout + stderr }),
    ),
  );
}

beforeAll(async () => {
  const srv = await startServer({ dataDir: dir });
  const c = await srv.client('shop');
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 10)`);
  for (let i = 0; i < 12; i++) await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', $1, $2)`, [i * 10, i * 10 + 5]);
  await srv.close();
});

describe('allot wal verify', () => {
  it('prints the records, their LSN range and "no damage found", exit 0', async () => {
    const r = await allot(['wal', 'verify', join(dir, 'shop'), '--records']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wal-0{19}1\.log: 13 records, LSN 1 to 13, \d+ bytes used of 1048576/);
    expect(r.out).toContain('LSN 2 at byte');
    expect(r.out).toContain('BookingConfirmed');
    expect(r.out).toContain('no damage found');
    const all = await allot(['wal', 'verify', dir]);
    expect(all.out).toContain('database shop:');
  });

  it('reports damage and exits 1; the server then refuses to start, exit 3, data untouched', async () => {
    const shop = join(dir, 'shop');
    const seg = join(shop, readdirSync(shop).find((n) => n.startsWith('wal-'))!);
    const bytes = readFileSync(seg);
    bytes[200]! ^= 0xff;
    writeFileSync(seg, bytes);
    const r = await allot(['wal', 'verify', shop]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/checksum mismatch at byte \d+/);
    const err = (await startChild(dir, 'pw').catch((e: unknown) => e)) as { exitCode: number; stderr: string };
    expect(err.exitCode).toBe(3);
    expect(err.stderr).toMatch(/cannot start: .*wal-\d{20}\.log at byte \d+: checksum mismatch/);
    expect(readFileSync(seg)).toEqual(bytes);
  });

  it('explains itself when called wrongly', async () => {
    const r = await allot(['wal']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: allot wal verify DIR');
  });
});
