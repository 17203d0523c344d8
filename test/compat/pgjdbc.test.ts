/**
 * pgjdbc (Debian's libpostgresql-jdbc-java) with default connection options (issue 22): the
 * scenario is one Java source file, launched with `java -cp postgresql.jar File.java`. It reads
 * DatabaseMetaData (getTables, getColumns, getPrimaryKeys: queries over pg_catalog), binds
 * setString (varchar) and setTimestamp (text of unspecified type), reads instants back as
 * java.sql.Timestamp and text[] with getArray, runs executeBatch of 10 inserts, and rolls back
 * to a savepoint. The expected lines are what the scenario printed against PostgreSQL 15 with
 * tables shaped like allot's; what it sends is in test/fixtures/compat/queries/pgjdbc.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatFixture, runScenario, type ScenarioRun } from '../helpers/scenario.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { PGJDBC_JAR } from '../setup/clients.js';

const SOURCE = compatFixture('pgjdbc_scenario.java');

/** Runs the scenario to its end or its first failure. */
function scenario(srv: TestServer): Promise<ScenarioRun> {
  return runScenario(srv, 'java', ['-cp', PGJDBC_JAR, SOURCE], 'test', [], 80_000);
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('pgjdbc', () => {
  it('reads DatabaseMetaData, binds timestamps, reads Timestamps and arrays, batches inserts, and rolls back to a savepoint', {
    timeout: 120_000,
  }, async () => {
    const run = await scenario(srv);
    expect(run.lines, run.stderr).toEqual([
      'product PostgreSQL autocommit true',
      'tables [bookings:TABLE, holds:TABLE, outages:TABLE, policies:TABLE, resources:TABLE, rules:TABLE]',
      'views [allot_export:VIEW, availability:VIEW, availability_explain:VIEW, calendar:VIEW, next_free:VIEW, policy_usage:VIEW]',
      'column 1 id text 12 nullable=NO',
      'column 2 resource_id text 12 nullable=NO',
      'column 3 start timestamptz 93 nullable=NO',
      'column 4 end timestamptz 93 nullable=NO',
      'column 5 label text 12 nullable=YES',
      'column 6 capabilities _text 2003 nullable=NO',
      'column 7 user_id text 12 nullable=YES',
      'column 8 policy_id text 12 nullable=YES',
      'column 9 group_id text 12 nullable=YES',
      'pk bookings id 1 bookings_pkey',
      'insert resource 1',
      'resource room java.lang.Long 1 text String[] [projector]',
      'insert booking 1',
      'booking b1 2026-03-01T09:00:00Z java.sql.Timestamp 2026-03-01T10:00:00Z java.sql.Timestamp standup []',
      'getTimestamp 2026-03-01T09:00:00Z columnType timestamptz',
      'update 1',
      'label [retro]',
      'delete 1',
      'inside savepoint [b2, b3]',
      'after savepoint [b2]',
      'batch [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      'batch rows 10 first batch-00@2026-03-03T00:00:00Z/2026-03-03T00:30:00Z last batch-09@2026-03-03T09:00:00Z/2026-03-03T09:30:00Z',
      'done',
    ]);
  });
});
