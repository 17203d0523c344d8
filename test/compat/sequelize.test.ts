/**
 * Sequelize 6 with default options against allot (issue 22): authenticate (which first reads
 * pg_type joined with pg_range), models with `timestamps: false`, create / findAll / update /
 * destroy, and a managed transaction holding a nested one (a SAVEPOINT) that is rolled back.
 *
 * The expected lines are what the same scenario (test/fixtures/compat/sequelize.ts) printed against
 * PostgreSQL 15 with tables shaped like allot's (test/fixtures/compat/allot-shape.sql), recorded
 * in test/fixtures/compat/sequelize.expected.txt by test/fixtures/compat/capture/capture.sh; what
 * Sequelize sends is in test/fixtures/compat/queries/sequelize.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedLines } from '../fixtures/compat/scenarios.js';
import { scenario } from '../fixtures/compat/sequelize.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('Sequelize with default options', () => {
  it('authenticates, creates, finds with Date instants, updates, destroys, and rolls back a nested transaction', async () => {
    expect(await scenario(srv.url('sequelize'))).toEqual(expectedLines('sequelize'));
  });
});
