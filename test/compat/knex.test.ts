/**
 * Knex 3 with the pg client and default options against allot (issue 22): hasTable and
 * columnInfo (information_schema), insert / select / update / delete, and a transaction
 * holding a nested trx.transaction() (a SAVEPOINT) that is rolled back.
 *
 * The expected lines are what the same scenario (test/fixtures/compat/knex.ts) printed against
 * PostgreSQL 15 with tables shaped like allot's (test/fixtures/compat/allot-shape.sql), recorded
 * in test/fixtures/compat/knex.expected.txt by test/fixtures/compat/capture/capture.sh; what
 * Knex sends is in test/fixtures/compat/queries/knex.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedLines } from '../fixtures/compat/scenarios.js';
import { scenario } from '../fixtures/compat/knex.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('Knex with default options', () => {
  it('checks tables and columns, inserts, selects Date instants, updates, deletes, and rolls back a nested transaction', async () => {
    expect(await scenario(srv.url('knex'))).toEqual(expectedLines('knex'));
  });
});
