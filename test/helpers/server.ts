/** Starts a real allot server on an ephemeral loopback port for a test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { AllotServer } from '../../src/server.js';
import type { FileSystem } from '../../src/storage/files.js';
import type { Clock } from '../../src/tenant/clock.js';

export interface TestServer {
  readonly server: AllotServer;
  /** The server's data directory (a temp dir removed by close() unless given). */
  readonly dataDir: string;
  readonly port: number;
  readonly password: string;
  /** A connected pg client on `database` (default "test"); closed with the server. */
  client(database?: string, extra?: Partial<pg.ClientConfig>): Promise<pg.Client>;
  url(database?: string): string;
  close(): Promise<void>;
}

export async function startServer(
  overrides: Partial<Config> = {},
  opts: {
    clock?: Clock;
    log?: Logger;
    fs?: FileSystem;
    checkpointBytes?: number;
    walSegmentBytes?: { first: number; max: number };
    checkInvariants?: boolean;
    recoveryProgressMs?: number;
  } = {},
): Promise<TestServer> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'allot-test-'));
  // Most tests write and read instants as milliseconds (allot.times = ms); the ones about
  // timestamptz, the default, and the framework tests ask for it with { times: 'timestamptz' }.
  const config: Config = {
    ...loadConfig([], {}),
    port: 0,
    bind: '127.0.0.1',
    password: 'test-password',
    passwordIsDefault: false,
    times: 'ms',
    ...overrides,
    dataDir,
  };
  const log = opts.log ?? createLogger(process.env.ALLOT_TEST_LOG_LEVEL ?? 'silent');
  const server = new AllotServer({
    config,
    log,
    // Re-verifying every invariant after every batch: on, except where a test measures time.
    checkInvariants: opts.checkInvariants ?? true,
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    ...(opts.fs !== undefined ? { fs: opts.fs } : {}),
    ...(opts.checkpointBytes !== undefined ? { checkpointBytes: opts.checkpointBytes } : {}),
    ...(opts.walSegmentBytes !== undefined ? { walSegmentBytes: opts.walSegmentBytes } : {}),
    ...(opts.recoveryProgressMs !== undefined ? { recoveryProgressMs: opts.recoveryProgressMs } : {}),
  });
  const { port } = await server.listen();
  const clients: pg.Client[] = [];
  return {
    server,
    dataDir,
    port,
    password: config.password,
    url: (database = 'test') => `postgres://tester:${encodeURIComponent(config.password)}@127.0.0.1:${port}/${database}`,
    async client(database = 'test', extra = {}) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'tester', password: config.password, database, ...extra });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await server.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The error a promise rejects with, or a failure if it resolves. */
export async function pgError(p: Promise<unknown>): Promise<{ code: string; message: string; detail?: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; detail?: string; hint?: string };
  }
  throw new Error('expected the statement to fail');
}
