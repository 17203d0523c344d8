/** Advisory locks through pg: taken, tried, waited for, released, and gone with the session. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

describe('advisory locks', () => {
  it('are exclusive between sessions, make a waiter wait, and go at unlock or disconnect', async () => {
    const a = await srv.client('locks');
    const b = await srv.client('locks');
    await a.query('SELECT pg_advisory_lock(42)');
    expect((await b.query('SELECT pg_try_advisory_lock(42) AS got')).rows).toEqual([{ got: false }]);
    expect((await b.query('SELECT pg_try_advisory_lock(1, 2) AS got')).rows).toEqual([{ got: true }]);
    let done = false;
    const waiting = b.query('SELECT pg_advisory_lock(42)').then(() => (done = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false);
    expect((await a.query('SELECT pg_advisory_unlock(42) AS released')).rows).toEqual([{ released: true }]);
    await waiting;
    expect((await a.query('SELECT pg_advisory_unlock(42) AS released')).rows).toEqual([{ released: false }]);
    // Shared locks share; the exclusive one waits for them.
    expect((await a.query('SELECT pg_try_advisory_lock_shared(7) AS got')).rows).toEqual([{ got: true }]);
    expect((await b.query('SELECT pg_try_advisory_lock_shared(7) AS got')).rows).toEqual([{ got: true }]);
    expect((await a.query('SELECT pg_try_advisory_lock(1, 2) AS got')).rows).toEqual([{ got: false }]);
    await b.query('SELECT pg_advisory_unlock_all()');
    expect((await a.query('SELECT pg_try_advisory_lock(1, 2) AS got, pg_try_advisory_lock(42) AS other')).rows).toEqual([{ got: true, other: true }]);
    // A transaction-level lock ends with its block.
    await b.query('BEGIN');
    await b.query('SELECT pg_advisory_xact_lock(99)');
    expect((await a.query('SELECT pg_try_advisory_lock(99) AS got')).rows).toEqual([{ got: false }]);
    await b.query('COMMIT');
    expect((await a.query('SELECT pg_try_advisory_lock(99) AS got')).rows).toEqual([{ got: true }]);
  });
});
