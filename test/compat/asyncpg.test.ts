/**
 * asyncpg (Debian's python3-asyncpg) through a pool, default options (issue 22): every
 * statement prepared by name and its parameters encoded to the types the server describes (a
 * datetime only for a timestamptz), every result read in binary, the reset a pool sends on
 * each release (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN *, RESET ALL), nested transactions
 * as savepoints, and copy_records_to_table's binary COPY. The expected lines are what the
 * scenario printed against PostgreSQL 15 with tables shaped like allot's; what it sends is in
 * test/fixtures/compat/queries/asyncpg.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatFixture, runScenario, type ScenarioRun } from '../helpers/scenario.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { PYTHON } from '../setup/clients.js';

const SCRIPT = compatFixture('asyncpg_scenario.py');

/** Runs the scenario to its end or its first failure. */
function scenario(srv: TestServer): Promise<ScenarioRun> {
  return runScenario(srv, PYTHON, [SCRIPT], 'test');
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('asyncpg', () => {
  it('cycles pooled connections, reads typed rows with datetimes, rolls back a savepoint, and copies records in', { timeout: 90_000 }, async () => {
    const run = await scenario(srv);
    expect(run.lines, run.stderr).toEqual([
      'insert resource INSERT 0 1',
      'inserted b1 2026-03-01 09:00:00+00:00 datetime',
      'cycle 0 1 int',
      'cycle 1 1 int',
      'cycle 2 1 int',
      'cycle 3 1 int',
      'booking b1 2026-03-01 09:00:00+00:00 datetime 2026-03-01 10:00:00+00:00 datetime standup []',
      "resource ('id', 'room', 'str') ('capacity', 1, 'int') ('buffer_after', datetime.timedelta(0), 'timedelta') ('capabilities', ['projector'], 'list')",
      'update UPDATE 1',
      'label retro',
      'delete DELETE 1',
      'inside savepoint 2',
      "after savepoint ['b2']",
      'copy COPY 3',
      "copied [('c1', '2026-03-02T09:00:00+00:00', '2026-03-02T09:30:00+00:00', 'copy 1'), ('c2', '2026-03-02T10:00:00+00:00', '2026-03-02T10:30:00+00:00', 'copy 2'), ('c3', '2026-03-02T11:00:00+00:00', '2026-03-02T11:30:00+00:00', 'copy 3')]",
      'done',
    ]);
  });
});
