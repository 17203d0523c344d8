/**
 * TypeORM 1.x with default options against allot (issue 22): DataSource.initialize over entity
 * schemas for resources and bookings (synchronize off), save / find / update / remove, and a
 * transaction whose nested queryRunner.startTransaction() is a SAVEPOINT rolled back.
 *
 * The expected lines are what the same scenario (test/fixtures/compat/typeorm.ts) printed against
 * PostgreSQL 15 with tables shaped like allot's (test/fixtures/compat/allot-shape.sql), recorded
 * in test/fixtures/compat/typeorm.expected.txt by test/fixtures/compat/capture/capture.sh; what
 * TypeORM sends is in test/fixtures/compat/queries/typeorm.sql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedLines } from '../fixtures/compat/scenarios.js';
import { scenario } from '../fixtures/compat/typeorm.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('TypeORM with default options', () => {
  it('initializes, saves, finds with Date instants, updates, removes, and rolls back a nested transaction', async () => {
    expect(await scenario(srv.url('typeorm'))).toEqual(expectedLines('typeorm'));
  });
});
