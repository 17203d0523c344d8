/**
 * SQLAlchemy, default engine options (issue 22), the same scenario on three stacks: Debian
 * bookworm's python3-sqlalchemy 1.4 with psycopg2, run with the 2.0-style API
 * (create_engine(future=True)), and SQLAlchemy 2.0 from the compat venv (COMPAT_PYTHON, made
 * by test/setup/clients.ts) with `postgresql+psycopg` (psycopg 3) and with `postgresql+psycopg2`.
 * Each inspects and reflects the tables through pg_catalog, writes and reads instants as
 * timestamptz through the ORM, and takes a savepoint for begin_nested(). The expected lines are
 * what the scenario printed against PostgreSQL 15 with tables shaped like allot's, the same on
 * all three but for the first, which names the stack; what each sends is in
 * test/fixtures/compat/queries/sqlalchemy14_psycopg2.sql, sqlalchemy20_psycopg.sql and
 * sqlalchemy20_psycopg2.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatFixture, runScenario, type ScenarioRun } from '../helpers/scenario.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { COMPAT_PYTHON, PYTHON } from '../setup/clients.js';

const SCRIPT = compatFixture('sqlalchemy_scenario.py');

interface Stack {
  readonly title: string;
  readonly python: string;
  /** The DBAPI of the URL, `postgresql+<driver>`. */
  readonly driver: 'psycopg2' | 'psycopg';
  /** SQLAlchemy's release series, as the scenario's first line says it. */
  readonly series: '1.4' | '2.0';
  /** Each stack writes into a database of its own (an allot tenant), empty when it starts. */
  readonly database: string;
}

const STACKS: readonly Stack[] = [
  { title: "Debian's SQLAlchemy 1.4 (2.0-style API) with psycopg2", python: PYTHON, driver: 'psycopg2', series: '1.4', database: 'sqlalchemy14_psycopg2' },
  { title: 'SQLAlchemy 2.0 with psycopg 3', python: COMPAT_PYTHON, driver: 'psycopg', series: '2.0', database: 'sqlalchemy20_psycopg' },
  { title: 'SQLAlchemy 2.0 with psycopg2', python: COMPAT_PYTHON, driver: 'psycopg2', series: '2.0', database: 'sqlalchemy20_psycopg2' },
];

/** What the scenario read back from PostgreSQL 15, after its first line; the same on every stack. */
const READ_BACK = [
  "tables ['bookings', 'holds', 'outages', 'policies', 'resources', 'rules']",
  "views ['allot_export', 'availability', 'availability_explain', 'calendar', 'next_free', 'policy_usage']",
  'column id TEXT() not null',
  'column resource_id TEXT() not null',
  'column start TIMESTAMP(timezone=True) not null',
  'column end TIMESTAMP(timezone=True) not null',
  'column label TEXT() null',
  'column capabilities ARRAY(TEXT()) not null',
  'column user_id TEXT() null',
  'column policy_id TEXT() null',
  'column group_id TEXT() null',
  "pk bookings_pkey ['id']",
  "reflected resources ['id', 'parent_id', 'name', 'capacity', 'buffer_before', 'buffer_after', 'capabilities', 'status', 'status_reason', 'pool_strategy', 'pool_cursor'] ['id']",
  "insert resource ('room',)",
  "resource room ['projector'] 1",
  'booking b1 2026-03-01 09:00:00+00:00 datetime 2026-03-01 10:00:00+00:00 datetime standup',
  'label retro',
  'left 0',
  "after savepoint ['b2']",
  "on march 1 [('b2', '2026-03-01T11:00:00+00:00')]",
  'done',
];

/** Runs the scenario to its end or its first failure. */
function scenario(srv: TestServer, stack: Stack): Promise<ScenarioRun> {
  return runScenario(srv, stack.python, [SCRIPT], stack.database, [stack.driver]);
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

for (const stack of STACKS) {
  describe(stack.title, () => {
    it('reflects the tables, writes and reads bookings through the ORM with datetimes, and rolls back a savepoint', { timeout: 90_000 }, async () => {
      const run = await scenario(srv, stack);
      expect(run.lines, run.stderr).toEqual([`stack SQLAlchemy ${stack.series} postgresql+${stack.driver}`, ...READ_BACK]);
    });
  });
}
