/**
 * ALLOT_AUTH_METHOD=password sends passwords in clear only where nobody can read them on the way:
 * over TLS, or from loopback. Any other connection is asked for SCRAM-SHA-256 instead, as a
 * pg_hba.conf of `hostssl … password`, `host … 127.0.0.1/32 password`, `host … all scram-sha-256`
 * would: every driver that speaks SCRAM logs in, and no password crosses the network in clear.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { serialize } from 'pg-protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { AllotServer, type ServerOptions } from '../../src/server.js';
import { RawClient } from '../helpers/raw-client.js';

const cert = fileURLToPath(new URL('../fixtures/tls/cert.pem', import.meta.url));
const key = fileURLToPath(new URL('../fixtures/tls/key.pem', import.meta.url));
const PASSWORD = 'auth-pw';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  readonly server: AllotServer;
  readonly port: number;
  readonly lines: Record<string, unknown>[];
}

async function start(config: Partial<Config>, opts: Partial<ServerOptions> = {}): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'allot-auth-'));
  dirs.push(dataDir);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = new AllotServer({
    config: { ...loadConfig([], {}), port: 0, bind: '127.0.0.1', password: PASSWORD, passwordIsDefault: false, authMethod: 'password', dataDir, ...config },
    log,
    ...opts,
  });
  const { port } = await server.listen();
  return { server, port, lines };
}

/** The authentication request a raw client is sent after its startup packet. */
async function asked(port: number, host = '127.0.0.1'): Promise<string> {
  const c = await RawClient.connect(port, { host });
  c.send(serialize.startup({ user: 'u', database: 'auth' }));
  const deadline = Date.now() + 5_000;
  while (c.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  c.destroy();
  return c.received[0]?.name ?? 'nothing';
}

async function logIn(port: number, host: string, ssl = false): Promise<void> {
  const c = new pg.Client({ host, port, user: 'u', password: PASSWORD, database: 'auth', ...(ssl ? { ssl: { rejectUnauthorized: false } } : {}) });
  await c.connect();
  expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  await c.end();
}

const authLogged = (r: Running): unknown[] => r.lines.filter((l) => l.msg === 'connection authenticated').map((l) => l.auth);

/** A non-loopback IPv4 address of this machine, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

describe('ALLOT_AUTH_METHOD=password', () => {
  it('asks for the password in clear on loopback', async () => {
    const r = await start({});
    try {
      expect(await asked(r.port)).toBe('authenticationCleartextPassword');
      await logIn(r.port, '127.0.0.1');
      expect(authLogged(r)).toEqual(['password']);
    } finally {
      await r.server.close();
    }
  });

  it('asks a connection that is neither TLS nor loopback for SCRAM-SHA-256 instead (the address check injected)', async () => {
    const r = await start({}, { isLoopback: () => false });
    try {
      expect(await asked(r.port)).toBe('authenticationSASL');
      await logIn(r.port, '127.0.0.1');
      expect(authLogged(r)).toEqual(['scram-sha-256']);
    } finally {
      await r.server.close();
    }
  });

  it('still asks in clear over TLS, from any address', async () => {
    const r = await start({ tlsCert: cert, tlsKey: key }, { isLoopback: () => false });
    try {
      await logIn(r.port, '127.0.0.1', true);
      expect(authLogged(r)).toEqual(['password']);
    } finally {
      await r.server.close();
    }
  });

  it.skipIf(external === undefined)(`asks SCRAM-SHA-256 of a real non-loopback connection (this machine's ${external ?? 'none'})`, async () => {
    const r = await start({ bind: external! });
    try {
      expect(await asked(r.port, external)).toBe('authenticationSASL');
      await logIn(r.port, external!);
      expect(authLogged(r)).toEqual(['scram-sha-256']);
    } finally {
      await r.server.close();
    }
  });
});
