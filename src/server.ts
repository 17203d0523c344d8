/**
 * The server: listens, admits connections, and holds the tenants (one per database name).
 * A connection holds a session slot (ALLOT_MAX_CONNECTIONS) only once it has authenticated;
 * until then it is in the startup pool (ALLOT_MAX_STARTUP_CONNECTIONS, see wire/admission.ts).
 */
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { AllotError, SqlState } from './errors.js';
import { Metrics } from './metrics.js';
import { ALLOT_VERSION } from './version.js';
import { PlanCache } from './sql/prepare.js';
import type { FileSystem } from './storage/files.js';
import { CorruptionError } from './storage/recovery.js';
import { systemClock, type Clock } from './tenant/clock.js';
import { Tenant } from './tenant/tenant.js';
import { isLoopbackAddress, StartupPool } from './wire/admission.js';
import { Connection, type ConnectionHost } from './wire/connection.js';
import { deriveScramCredentials, type ScramCredentials } from './wire/scram.js';

/** Plans kept, across all connections and tenants. */
export const PLAN_CACHE_ENTRIES = 5_000;
/** Estimated bytes of the plans kept (see PLAN_BYTES_PER_TOKEN): 5,000 plans of 10,000-row statements would be hundreds of GB. */
export const PLAN_CACHE_BYTES = 256 * 1024 * 1024;

const TENANT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export interface ServerOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Re-verify engine invariants after every batch (tests). */
  readonly checkInvariants?: boolean;
  /** The file layer under every tenant's log (tests inject failures here). */
  readonly fs?: FileSystem;
  /** Log bytes between checkpoints. */
  readonly checkpointBytes?: number;
  /** Sizes of log files (tests use small ones to see files come and go). */
  readonly walSegmentBytes?: { readonly first: number; readonly max: number };
  /** How often a long recovery logs its progress (tests make it every 1,024 records). */
  readonly recoveryProgressMs?: number;
  /** Whether a remote address is this machine (tests pretend loopback is remote). */
  readonly isLoopback?: (address: string | undefined) => boolean;
}

export class AllotServer implements ConnectionHost {
  readonly log: Logger;
  readonly cache = new PlanCache(PLAN_CACHE_ENTRIES, PLAN_CACHE_BYTES);
  readonly authMethod: 'scram-sha-256' | 'password';
  readonly maxMessageBytes: number;
  readonly startupTimeoutMs: number;
  readonly tls: SecureContext | null;
  readonly metrics: Metrics;
  readonly logSlowMs: number;
  readonly sessionSettings: ReadonlyMap<string, string>;
  private readonly config: Config;
  private readonly clock: Clock;
  private readonly checkInvariants: boolean;
  private readonly tenants = new Map<string, Promise<Tenant>>();
  private readonly opened = new Map<string, Tenant>();
  private readonly fs: FileSystem | undefined;
  private readonly checkpointBytes: number | undefined;
  private readonly walSegmentBytes: { readonly first: number; readonly max: number } | undefined;
  private readonly recoveryProgressMs: number | undefined;
  private readonly connections = new Set<Connection>();
  private readonly sessions = new Set<Connection>();
  private readonly startup: StartupPool<Connection>;
  readonly isLoopback: (address: string | undefined) => boolean;
  private readonly byPid = new Map<number, Connection>();
  private readonly creds = new Map<string, { scram: ScramCredentials; password: string }>();
  private net: NetServer | null = null;
  private metricsHttp: HttpServer | null = null;
  private metricsAt: number | null = null;
  private closing: Promise<void> | null = null;
  private listening: Promise<{ host: string; port: number }> | null = null;

  constructor(opts: ServerOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.checkInvariants = opts.checkInvariants ?? false;
    this.fs = opts.fs;
    this.checkpointBytes = opts.checkpointBytes;
    this.walSegmentBytes = opts.walSegmentBytes;
    this.recoveryProgressMs = opts.recoveryProgressMs;
    this.isLoopback = opts.isLoopback ?? isLoopbackAddress;
    this.startup = new StartupPool(opts.config.maxStartupConnections);
    this.authMethod = opts.config.authMethod;
    this.maxMessageBytes = opts.config.maxMessageBytes;
    this.startupTimeoutMs = opts.config.startupTimeoutMs;
    this.logSlowMs = opts.config.logSlowMs;
    this.sessionSettings = new Map([['allot.times', opts.config.times]]);
    const sessions = this.sessions;
    const opened = this.opened;
    const startup = this.startup;
    const queued = (): number => this.outputQueuedBytes;
    this.metrics = new Metrics({
      get connectionCount() {
        return sessions.size;
      },
      get startupConnectionCount() {
        return startup.size;
      },
      outputQueuedBytes: queued,
      databases: () =>
        [...opened.values()].map((t) => ({
          name: t.name,
          bookings: t.engine.store.bookings.size,
          holds: t.engine.store.holds.size,
          listeners: t.hub.listenerCount,
          readOnly: t.readOnly !== null,
        })),
    });
    this.tls =
      opts.config.tlsCert !== null && opts.config.tlsKey !== null
        ? createSecureContext({ cert: readFileSync(opts.config.tlsCert), key: readFileSync(opts.config.tlsKey) })
        : null;
  }

  /**
   * Recovers every database under the data directory, then listens. A database that cannot be
   * recovered (corruption) stops start-up with its error.
   */
  listen(): Promise<{ host: string; port: number }> {
    this.listening ??= this.startListening();
    return this.listening;
  }

  private async startListening(): Promise<{ host: string; port: number }> {
    const dataDir = resolve(this.config.dataDir);
    await mkdir(dataDir, { recursive: true });
    for (const name of (await readdir(dataDir)).sort()) {
      if (TENANT_NAME.test(name) && (await stat(join(dataDir, name))).isDirectory()) await this.tenant(name);
    }
    if (this.authMethod === 'password' && this.tls === null && !this.isLoopback(this.config.bind) && this.config.bind !== 'localhost') {
      this.log.warn(
        { bind: this.config.bind },
        'ALLOT_AUTH_METHOD=password without TLS: connections from other machines are asked for SCRAM-SHA-256 instead, so no password crosses the network in clear',
      );
    }
    if (this.config.passwordIsDefault) {
      this.log.warn('no ALLOT_PASSWORD set: every database accepts the default password "allot"; set one before exposing the server');
    }
    const server = createServer((socket) => this.accept(socket));
    this.net = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.config.port;
    if (this.config.metricsPort !== null) {
      const m = await this.metrics.serve(this.config.metricsBind, this.config.metricsPort);
      this.metricsHttp = m.server;
      this.metricsAt = m.port;
      this.log.info({ bind: this.config.metricsBind, port: m.port }, `metrics at http://${this.config.metricsBind}:${m.port}/metrics`);
    }
    this.log.info(
      {
        version: ALLOT_VERSION,
        bind: this.config.bind,
        port,
        tls: this.tls !== null,
        auth: this.authMethod,
        dataDir,
        databases: this.opened.size,
        logSlowMs: this.logSlowMs,
      },
      'allot is listening',
    );
    return { host: this.config.bind, port };
  }

  /** The metrics endpoint's port, once listening with ALLOT_METRICS_PORT set. */
  get metricsPort(): number | null {
    return this.metricsAt;
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, this);
    this.connections.add(conn);
    socket.once('close', () => {
      this.connections.delete(conn);
      this.startup.remove(conn);
    });
    const room = this.startup.admit(conn, socket.remoteAddress ?? '', performance.now());
    if (room === null) {
      conn.fatal(
        SqlState.tooManyConnections,
        `sorry, too many connections are still authenticating (ALLOT_MAX_STARTUP_CONNECTIONS is ${this.config.maxStartupConnections})`,
      );
      return;
    }
    if (room.evict !== null) {
      this.log.warn(
        { remote: room.evict.remoteAddress },
        'startup pool full: closing the connection that has been authenticating longest, from the address holding the most',
      );
      room.evict.fatal(SqlState.tooManyConnections, 'sorry, too many connections are still authenticating, and this one has waited longest');
    }
  }

  // ---- ConnectionHost -------------------------------------------------------------------

  databaseNames(): readonly string[] {
    return [...this.opened.keys()].sort();
  }

  tenant(database: string): Promise<Tenant> {
    const known = this.tenants.get(database);
    if (known !== undefined) return known;
    if (!TENANT_NAME.test(database)) {
      return Promise.reject(
        new AllotError(
          SqlState.invalidCatalogName,
          `database "${database}" is not a valid name: start with a letter, digit or _, then use letters, digits, _, . and - (up to 63 characters)`,
        ),
      );
    }
    if (this.tenants.size >= this.config.maxTenants) {
      return Promise.reject(
        new AllotError(SqlState.configurationLimitExceeded, `this server already holds ${this.config.maxTenants} databases, the limit (ALLOT_MAX_TENANTS)`),
      );
    }
    const opening = Tenant.open({
      name: database,
      clock: this.clock,
      log: this.log.child({ tenant: database }),
      checkInvariants: this.checkInvariants,
      storage: {
        dir: join(resolve(this.config.dataDir), database),
        ...(this.fs !== undefined ? { fs: this.fs } : {}),
        ...(this.checkpointBytes !== undefined ? { checkpointBytes: this.checkpointBytes } : {}),
        ...(this.walSegmentBytes !== undefined ? { segmentBytes: this.walSegmentBytes } : {}),
        ...(this.recoveryProgressMs !== undefined ? { recoveryProgressMs: this.recoveryProgressMs } : {}),
      },
    }).then(
      (t) => {
        this.opened.set(database, t);
        t.observeCommits((records, ms) => this.metrics.commitBatch(records, ms));
        return t;
      },
      (err: unknown) => {
        if (err instanceof AllotError || err instanceof CorruptionError) throw err;
        this.log.error({ err, tenant: database }, 'could not open database');
        throw new AllotError(SqlState.ioError, `could not open database "${database}": ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    // A failed open is not remembered: the next connection tries again.
    opening.catch(() => this.tenants.delete(database));
    this.tenants.set(database, opening);
    return opening;
  }

  credentials(database: string): { scram: ScramCredentials; password: string } {
    const password = this.config.tenantPasswords.get(database) ?? this.config.password;
    let c = this.creds.get(password);
    if (c === undefined) {
      // Derived once per password: PBKDF2 costs milliseconds, too much per connection.
      c = { scram: deriveScramCredentials(password), password };
      this.creds.set(password, c);
    }
    return c;
  }

  sessionsFull(): boolean {
    return this.sessions.size >= this.config.maxConnections;
  }

  admit(conn: Connection): boolean {
    this.startup.remove(conn);
    if (this.sessions.size >= this.config.maxConnections) return false;
    this.sessions.add(conn);
    this.byPid.set(conn.pid, conn);
    return true;
  }

  release(conn: Connection): void {
    this.startup.remove(conn);
    if (this.sessions.delete(conn)) this.byPid.delete(conn.pid);
  }

  cancel(pid: number, secret: number): void {
    this.byPid.get(pid)?.requestCancel(secret);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Tenants open now (for tests and metrics). */
  tenantByName(name: string): Tenant | undefined {
    return this.opened.get(name);
  }

  /** Admitted sessions (what ALLOT_MAX_CONNECTIONS counts). */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Every open socket, logged in or still starting up. */
  get socketCount(): number {
    return this.connections.size;
  }

  /** Connections accepted and not yet authenticated (what ALLOT_MAX_STARTUP_CONNECTIONS counts). */
  get startupConnectionCount(): number {
    return this.startup.size;
  }

  /** Bytes of replies and notifications waiting to be read by clients, over every connection. */
  get outputQueuedBytes(): number {
    let n = 0;
    for (const c of this.connections) n += c.queuedBytes;
    return n;
  }

  /**
   * Stops: accepts no new connections, lets each statement in flight finish and answer, ends
   * every connection (listeners too) with a notice and FATAL 57P01, flushes and closes every
   * database's log. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // A stop asked for during start-up (recovery can take a while) happens once it is done.
    await this.listening?.catch(() => undefined);
    const t0 = performance.now();
    const server = this.net;
    this.net = null;
    const stopped = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    const connections = this.connections.size;
    const busy = [...this.connections].filter((c) => c.busyNow).length;
    if (connections > 0) this.log.info({ connections, busy }, 'shutting down: closing connections once their statements finish');
    await Promise.all([...this.connections].map((c) => c.shutdown()));
    await stopped;
    const http = this.metricsHttp;
    this.metricsHttp = null;
    if (http !== null) await new Promise<void>((resolve) => http.close(() => resolve()));
    for (const t of this.opened.values()) await t.close();
    this.log.info({ connections, databases: this.opened.size, ms: Math.round(performance.now() - t0) }, 'allot stopped');
  }
}
