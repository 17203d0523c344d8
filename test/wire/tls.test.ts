/** TLS: with ALLOT_TLS_CERT/KEY set, clients that ask for SSL get it; without, they are told 'N'. */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../helpers/psql.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const cert = fileURLToPath(new URL('../fixtures/tls/cert.pem', import.meta.url));
const key = fileURLToPath(new URL('../fixtures/tls/key.pem', import.meta.url));

let tls: TestServer;
let plain: TestServer;
beforeAll(async () => {
  tls = await startServer({ tlsCert: cert, tlsKey: key });
  plain = await startServer();
});
afterAll(async () => {
  await tls.close();
  await plain.close();
});

describe('TLS', () => {
  it('serves pg over TLS when the server has a certificate', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: tls.port, user: 'u', password: tls.password, database: 'tls', ssl: { rejectUnauthorized: false } });
    await c.connect();
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });

  it('lets psql negotiate TLS (sslmode=require) and reports it', async () => {
    const r = await psql(tls, 'tls', ['-t', '-A', '-c', 'SELECT 1'], undefined, 'require');
    expect(r.output.trim()).toBe('1');
  });

  it('answers N to SSLRequest without a certificate: prefer falls back, require fails', async () => {
    const ok = new pg.Client({ host: '127.0.0.1', port: plain.port, user: 'u', password: plain.password, database: 'plain' });
    await ok.connect();
    await ok.end();
    const c = new pg.Client({
      host: '127.0.0.1',
      port: plain.port,
      user: 'u',
      password: plain.password,
      database: 'plain',
      ssl: { rejectUnauthorized: false },
    });
    const err = await pgError(c.connect());
    expect(String(err.message)).toMatch(/does not support SSL/);
  });
});

describe('psql sslmode=require against a server without TLS', () => {
  it('is refused by psql itself', async () => {
    const r = await psql(plain, 'plain', ['-c', 'SELECT 1'], undefined, 'require');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/SSL/);
  });
});
