/**
 * Kysely 0.28 with its PostgresDialect over a default pg Pool against allot (issue 22):
 * introspection.getTables() (pg_attribute joined with pg_class, pg_namespace and pg_type),
 * insert / select / update / delete, and a controlled transaction whose savepoint is rolled back.
 *
 * The expected lines are what the same scenario (test/fixtures/compat/kysely.ts) printed against
 * PostgreSQL 15 with tables shaped like allot's (test/fixtures/compat/allot-shape.sql), recorded
 * in test/fixtures/compat/kysely.expected.txt by test/fixtures/compat/capture/capture.sh; what
 * Kysely sends is in test/fixtures/compat/queries/kysely.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedLines } from '../fixtures/compat/scenarios.js';
import { scenario } from '../fixtures/compat/kysely.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('Kysely with default options', () => {
  it('introspects, inserts, selects Date instants, updates, deletes, and rolls back to a savepoint', async () => {
    expect(await scenario(srv.url('kysely'))).toEqual(expectedLines('kysely'));
  });
});
