/**
 * psycopg 3 (Debian's python3-psycopg), default options (issue 22): parameters bound
 * server-side, datetimes and ints sent binary (timestamptz; int2/int4/int8 by value), a
 * statement prepared by name from its 6th run, results read in text and in binary, nested
 * conn.transaction() as a savepoint, and COPY FROM STDIN / TO STDOUT. The expected lines are
 * what the scenario printed against PostgreSQL 15 with tables shaped like allot's; what it
 * sends is in test/fixtures/compat/queries/psycopg3.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatFixture, runScenario, type ScenarioRun } from '../helpers/scenario.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { PYTHON } from '../setup/clients.js';

const SCRIPT = compatFixture('psycopg3_scenario.py');

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

describe('psycopg 3', () => {
  it('binds datetimes in binary, reads them back as datetimes, rolls back a savepoint, and copies in and out', { timeout: 90_000 }, async () => {
    const run = await scenario(srv);
    expect(run.lines, run.stderr).toEqual([
      'insert resource 1 INSERT 0 1',
      "resource room 1 int ['projector'] list",
      'inserted b1 2026-03-01 09:00:00+00:00 datetime',
      'booking b1 2026-03-01 09:00:00+00:00 datetime 2026-03-01 10:00:00+00:00 datetime standup []',
      "repeated ['b1', 'b1', 'b1', 'b1', 'b1', 'b1']",
      'binary b1 2026-03-01 09:00:00+00:00 datetime 2026-03-01 10:00:00+00:00 []',
      'update 1 UPDATE 1',
      'label retro',
      'delete 1 DELETE 1',
      'inside savepoint 2',
      "after savepoint ['b2']",
      'copy in 3 COPY 3',
      "copied [('c1', '2026-03-02T09:00:00+00:00'), ('c2', '2026-03-02T10:00:00+00:00'), ('c3', '2026-03-02T11:00:00+00:00')]",
      'copy out b2|2026-03-01 11:00:00+00|2026-03-01 12:00:00+00|outer',
      'copy out c1|2026-03-02 09:00:00+00|2026-03-02 09:30:00+00|copy 1',
      'copy out c2|2026-03-02 10:00:00+00|2026-03-02 10:30:00+00|copy 2',
      'copy out c3|2026-03-02 11:00:00+00|2026-03-02 11:30:00+00|copy 3',
      'done',
    ]);
  });
});
