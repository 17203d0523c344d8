/** psycopg2 (Debian's python3-psycopg2, libpq underneath), as a Python app would use it. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { PYTHON } from '../setup/clients.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/clients/psycopg2_smoke.py', import.meta.url));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

describe('psycopg2', () => {
  it('inserts, gets conflicts as ExclusionViolation, reads arrays and availability, and LISTENs', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [SCRIPT, String(srv.port), srv.password], { timeout: 60_000 }, (err, stdout, stderr) =>
        err !== null ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(out.trim().split('\n')).toEqual([
      "inserted ('b1', 1772355600000)",
      'conflict 23P01 b1',
      "resource (['projector'], 1)",
      'free [(1772352000000, 1772355600000, 1), (1772359200000, 1772362800000, 1)]',
      'event BookingCancelled',
    ]);
  });
});
