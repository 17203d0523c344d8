/**
 * One client connection: the protocol state machine of PostgreSQL 3.0 on top of the byte-level
 * codec. Startup (SSL/GSSENC negotiation, cancel requests), authentication, then simple and
 * extended queries handed to the session. Every reply is written in one piece, notifications
 * go out while the connection is idle, and nothing a client sends can crash the server.
 *
 * Every answer tells the truth: an ErrorResponse means the statement did not happen, a
 * CommandComplete that it is on disk. So a connection that must end (a shutdown, a listener too
 * far behind) ends only between commands, after the ReadyForQuery of whatever ran; and a
 * statement whose fate is unknown (OutcomeUnknown) gets no answer at all: the socket is dropped.
 */
import { randomInt, timingSafeEqual, createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { AllotError, asStackDepthError, OutcomeUnknown, SqlState, type SqlStateCode } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Listener } from '../notify/hub.js';
import { statementKind, type OutColumn, type Plan, type ResultRows } from '../sql/plan/index.js';
import { needsTextOut, textOut, textOutFor, timeZoneOf, timesOf, type ColumnText } from '../sql/casts.js';
import { validateSetting } from '../sql/settings.js';
import { bindParams, prepareExtended, prepareSimple, type PlanCache, type PlanContext } from '../sql/prepare.js';
import { encodeHeader, encodeRecord } from '../sql/copy-format.js';
import { SERVER_VERSION } from '../sql/settings.js';
import { formatValue, typeOid, type ParamValue, type Value } from '../sql/types.js';
import type { CopyIn } from '../tenant/copy-in.js';
import { Session, type StatementOutcome } from '../tenant/session.js';
import type { Tenant } from '../tenant/tenant.js';
import * as B from './backend.js';
import { decodeBinaryParam, encodeBinary } from './binary.js';
import { utf8Text } from './body-reader.js';
import { CopyBinaryTuples, copyInResponse, CopyRecords } from './copy.js';
import {
  decodeMessage,
  decodeStartup,
  FrameReader,
  parsePassword,
  parseSaslInitialResponse,
  parseSaslResponse,
  ProtocolError,
  type FrontendMessage,
  type StartupPacket,
} from './frontend.js';
import { MAX_PENDING_NOTIFICATIONS, NotificationQueue } from './notifications.js';
import { ScramSession, type ScramCredentials } from './scram.js';

export { MAX_PENDING_NOTIFICATIONS } from './notifications.js';

/** What a connection needs from the server around it. */
export interface ConnectionHost {
  readonly log: Logger;
  readonly cache: PlanCache;
  readonly authMethod: 'scram-sha-256' | 'password';
  readonly maxMessageBytes: number;
  readonly startupTimeoutMs: number;
  readonly tls: SecureContext | null;
  /** The tenant for a database name; rejects with an AllotError (FATAL) when it cannot be had. */
  tenant(database: string): Promise<Tenant>;
  /** The databases this server holds, by name (psql's \l lists them). */
  databaseNames(): readonly string[];
  /** Credentials of a database: SCRAM verifier and the password (for cleartext auth). */
  credentials(database: string): { scram: ScramCredentials; password: string };
  /** Whether a remote address is this machine's own (cleartext passwords are offered only to those, or over TLS). */
  isLoopback(address: string | undefined): boolean;
  /** Whether every session slot is taken now (a startup packet is refused early then). */
  sessionsFull(): boolean;
  /** Whether one more session may start, once `conn` has authenticated; counted from then on. */
  admit(conn: Connection): boolean;
  /** The connection closed: it holds no slot of any kind any more. */
  release(conn: Connection): void;
  cancel(pid: number, secret: number): void;
  readonly metrics: Metrics;
  /** Statements slower than this many ms are logged; 0: none. */
  readonly logSlowMs: number;
  /** Settings every session starts with, beyond PostgreSQL's defaults (allot.times). */
  readonly sessionSettings: ReadonlyMap<string, string>;
}

/** Bytes of notifications queued for a listener, and waiting in its socket, before it is cut off as too slow. */
export const MAX_SOCKET_BACKLOG_BYTES = 16 * 1024 * 1024;
/** Notifications move into the socket only while it holds fewer bytes than this; the rest wait in the queue. */
const NOTIFY_SOCKET_HIGH_WATER_BYTES = 64 * 1024;
/** Output gathered before it is written even mid-reply (large results). */
const FLUSH_THRESHOLD_BYTES = 64 * 1024;
/**
 * Bytes a reply may have waiting in its socket before the connection stops encoding rows until
 * the client reads: what one client that does not read costs the server, whatever it asked for.
 */
export const MAX_REPLY_BACKLOG_BYTES = 256 * 1024;
/**
 * Bytes received and not yet handled before the connection stops reading while a statement runs
 * (a client pipelining faster than its statements commit waits in the kernel, not in memory).
 */
const MAX_INPUT_BACKLOG_BYTES = 1024 * 1024;
/** Named prepared statements, and named portals, one connection may hold (the unnamed ones never count). */
export const MAX_PREPARED_STATEMENTS = 10_000;
/**
 * How long a connection that must end waits for the client: for the Sync of statements already
 * answered, or to read a reply it asked for. Then it is closed without an answer.
 */
export const END_GRACE_MS = 2_000;
/** How long a closed connection may take to hand its last bytes to a slow reader before it is destroyed. */
export const CLOSE_LINGER_MS = 10_000;
/** Result formats of a BINARY cursor's FETCH in the simple protocol: every column binary. */
const BINARY_RESULTS: readonly number[] = [1];
/** Why reading from the socket is paused (bits). */
const PAUSED_FOR_OUTPUT = 1;
const PAUSED_FOR_INPUT = 2;

interface Prepared {
  readonly plan: Plan;
  readonly paramOids: readonly number[];
  readonly sql: string;
}

interface Portal {
  readonly plan: Plan;
  readonly sql: string;
  readonly values: readonly Value[];
  readonly formats: readonly number[];
  /** Rows left after a PortalSuspended. */
  rest: { rows: ResultRows; next: number; tag: string; columns: readonly OutColumn[] } | null;
  done: boolean;
}

let nextPid = 1000 + randomInt(1000);

type State = 'startup' | 'sasl-first' | 'sasl-final' | 'password' | 'ready' | 'closed';

/** A connection that must end once its commands are answered: why, and how the client is told. */
interface Ending {
  readonly code: SqlStateCode;
  /** The FATAL's message. */
  readonly message: string;
  /** The ERROR for a statement that arrives meanwhile and is not run. */
  readonly notRun: string;
  readonly notice: string | null;
}

const SHUTDOWN: Ending = {
  code: SqlState.adminShutdown,
  message: 'terminating connection due to administrator command',
  notRun: 'the server is shutting down: this statement was not run',
  notice: 'the server is shutting down; reconnect once it is back',
};

const TOO_SLOW: Ending = {
  code: SqlState.programLimitExceeded,
  message: 'this listener fell too far behind and is disconnected: notifications were arriving faster than it read them',
  notRun: 'this listener fell too far behind and is being disconnected: this statement was not run',
  notice: null,
};

export class Connection implements Listener {
  readonly pid = nextPid++;
  readonly secret = randomInt(0x7fffffff);
  private socket: Socket;
  private readonly reader: FrameReader;
  private readonly out = new B.OutBuffer();
  private state: State = 'startup';
  private busy = false;
  private session: Session | null = null;
  private user = '';
  private database = '';
  private scram: ScramSession | null = null;
  private password = '';
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  /** After an error in extended-protocol messages, everything up to Sync is skipped. */
  private skipToSync = false;
  private cancelRequested = false;
  private readonly notifications = new NotificationQueue();
  private notifyScheduled = false;
  private startupTimer: NodeJS.Timeout | null;
  /** Set once the connection must end (shutdown, too slow): it ends at the next command boundary. */
  private ending: Ending | null = null;
  private endGraceTimer: NodeJS.Timeout | null = null;
  private readonly closeWaiters: (() => void)[] = [];
  /** An Execute ran since the last Sync: its answer is out (or about to be), its ReadyForQuery is not. */
  private unsynced = false;
  private pausedFor = 0;
  private drainWaiters: (() => void)[] = [];
  /** A COPY FROM STDIN waiting for the client's next message. */
  private frameWaiter: (() => void) | null = null;
  /** When the socket last drained: a client reading a long reply, however slowly, is reading. */
  private lastDrainMs = 0;
  private readonly openedAt = performance.now();
  private statementCount = 0;
  /** The authentication actually asked for: cleartext is offered only over TLS or from loopback. */
  private authUsed: 'scram-sha-256' | 'password' = 'scram-sha-256';

  /** The client's address, as the socket said when it was accepted. */
  readonly remoteAddress: string | undefined;

  constructor(
    socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.reader = new FrameReader(host.maxMessageBytes);
    socket.setNoDelay(true);
    this.attach(socket);
    this.startupTimer = setTimeout(() => this.fatal(SqlState.connectionFailure, 'canceling authentication due to timeout'), host.startupTimeoutMs);
    this.startupTimer.unref();
  }

  private attach(s: Socket): void {
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('drain', () => this.onDrain());
    s.on('error', () => this.close());
    s.on('close', () => this.close());
  }

  get tenantName(): string {
    return this.database;
  }

  /** Whether a statement is being handled now. */
  get busyNow(): boolean {
    return this.busy;
  }

  /** A getter, so that a check after an await is not narrowed away by one before it. */
  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes of output waiting: in the socket, and gathered but not yet written. */
  get queuedBytes(): number {
    // A closed connection's socket may still hold its last bytes for a while (see close).
    return this.socket.destroyed ? 0 : this.socket.writableLength + this.out.length;
  }

  // ---- input ----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.onProtocolError(err);
      return;
    }
    if (this.busy) {
      if (this.reader.buffered > MAX_INPUT_BACKLOG_BYTES) this.pauseReading(PAUSED_FOR_INPUT);
      this.wakeFrameWaiter();
      return;
    }
    void this.pump();
  }

  /** Handles buffered messages one at a time, in order, awaiting commits between them. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      // A connection that must end stops between commands: never after a statement's answer
      // and before its ReadyForQuery, which a client would read as that statement's error.
      while (this.state !== 'closed' && (this.ending === null || this.unsynced)) {
        if (this.state === 'startup') {
          const body = this.reader.nextStartup();
          if (body === null) break;
          await this.onStartup(decodeStartup(body));
        } else {
          const frame = this.reader.next();
          if (frame === null) break;
          if (this.state !== 'ready') {
            await this.onAuthMessage(decodeMessage(frame.code, frame.body));
            continue;
          }
          let msg: FrontendMessage;
          try {
            msg = decodeMessage(frame.code, frame.body);
          } catch (err) {
            // The frame was whole, so the stream is still in step: an ERROR, not a FATAL.
            if (this.skipToSync) continue;
            this.sendError(err);
            this.session!.fail();
            if (frame.code === 0x51 /* Q */) this.endOfCommand();
            else this.skipToSync = true;
            continue;
          }
          const pending = this.onMessage(msg);
          if (pending !== undefined) await pending;
        }
      }
    } catch (err) {
      this.onProtocolError(err);
    } finally {
      this.busy = false;
    }
    // Everything whole was handled: read on (a message may be bigger than what is buffered).
    this.resumeReading(PAUSED_FOR_INPUT);
    if (this.ending !== null) {
      this.endIfBetweenCommands();
      return;
    }
    if (this.state === 'ready') this.flushNotifications();
  }

  /**
   * Server shutdown: lets the statement running finish and answer, then ends the connection
   * with a notice and FATAL 57P01, as PostgreSQL does. An open transaction block is rolled back.
   * Resolves once the connection is closed.
   */
  shutdown(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.mustEnd(SHUTDOWN);
    });
  }

  /** Ends the connection at the next command boundary (at once if it is between commands). */
  private mustEnd(why: Ending): void {
    if (this.ending !== null || this.state === 'closed') return;
    this.ending = why;
    if (why !== SHUTDOWN) this.notifications.clear();
    this.endGraceTimer = setTimeout(() => this.endGraceOver(), END_GRACE_MS);
    this.endGraceTimer.unref();
    // A COPY FROM STDIN waiting for data is not run: it ends now, refused.
    this.wakeFrameWaiter();
    if (!this.busy) this.endIfBetweenCommands();
  }

  /** Sends the ending's notice and FATAL, unless a statement's answer still awaits its Sync. */
  private endIfBetweenCommands(): void {
    const why = this.ending;
    if (why === null || this.state === 'closed' || this.unsynced) return;
    if (why.notice !== null && this.state === 'ready') B.noticeResponse(this.out, { severity: 'NOTICE', code: why.code, message: why.notice });
    this.fatal(why.code, why.message);
  }

  /**
   * The client had its grace and is still not between commands: no Sync came for statements
   * already answered, or it has not read any of the reply it asked for. A FATAL now would be read
   * as those statements' error, so the connection is closed without one. A statement still
   * waiting for its commit, or a reply the client is reading, is waited for.
   */
  private endGraceOver(): void {
    this.endGraceTimer = null;
    if (this.state === 'closed') return;
    const reading = performance.now() - this.lastDrainMs < END_GRACE_MS;
    if (this.busy && (this.drainWaiters.length === 0 || reading)) {
      this.endGraceTimer = setTimeout(() => this.endGraceOver(), END_GRACE_MS);
      this.endGraceTimer.unref();
      return;
    }
    const reason = this.busy ? 'the client does not read the reply it asked for' : 'no Sync came for statements already answered';
    this.host.log.warn(
      { conn: this.pid, database: this.database, code: this.ending?.code },
      `${this.ending === SHUTDOWN ? 'shutting down' : 'disconnecting'}: ${reason}; closing without an answer`,
    );
    this.out.truncate(0);
    this.close();
    this.socket.destroy();
  }

  private onProtocolError(err: unknown): void {
    if (err instanceof OutcomeUnknown) {
      this.abandon(err);
      return;
    }
    if (err instanceof AllotError) {
      this.fatal(err.sqlstate, err.message);
    } else {
      this.host.log.error({ err, pid: this.pid }, 'connection failed');
      this.fatal(SqlState.internalError, 'internal error');
    }
  }

  // ---- startup and authentication ----------------------------------------------------------

  private async onStartup(p: StartupPacket): Promise<void> {
    switch (p.type) {
      case 'SSLRequest':
        if (this.host.tls !== null && !(this.socket instanceof TLSSocket)) {
          this.socket.write('S');
          this.upgradeToTls(this.host.tls);
        } else this.socket.write('N');
        return;
      case 'GSSENCRequest':
        this.socket.write('N');
        return;
      case 'CancelRequest':
        this.host.cancel(p.processId, p.secretKey);
        this.close();
        return;
      case 'Startup':
        return await this.onStartupMessage(p);
    }
  }

  private upgradeToTls(context: SecureContext): void {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('drain');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    const tls = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.socket = tls;
    this.attach(tls);
  }

  private async onStartupMessage(p: Extract<StartupPacket, { type: 'Startup' }>): Promise<void> {
    const user = p.params.get('user');
    if (user === undefined || user === '') {
      this.fatal(SqlState.invalidAuthorizationSpecification, 'no PostgreSQL user name specified in startup packet');
      return;
    }
    this.user = user;
    this.database = p.params.get('database') || user;
    const encoding = p.params.get('client_encoding');
    if (encoding !== undefined && !/^(utf-?8|unicode)$/i.test(encoding.replace(/'/g, ''))) {
      this.fatal(SqlState.invalidParameterValue, `allot speaks only UTF8; client_encoding "${encoding}" is not supported`);
      return;
    }
    if (p.protocolMinor > 0) {
      const unrecognized = [...p.params.keys()].filter((k) => k.startsWith('_pq_.'));
      B.negotiateProtocolVersion(this.out, 0, unrecognized);
    }
    // Only an authenticated client takes a session slot (see admission.ts); when all are
    // taken already, say so now rather than after the password.
    if (this.host.sessionsFull()) {
      this.fatal(SqlState.tooManyConnections, 'sorry, too many clients already');
      return;
    }
    let creds: { scram: ScramCredentials; password: string };
    try {
      creds = this.host.credentials(this.database);
    } catch (err) {
      this.onProtocolError(err);
      return;
    }
    this.applicationName = p.params.get('application_name');
    try {
      this.startupSettings = startupSettings(p.params);
    } catch (err) {
      this.onProtocolError(err);
      return;
    }
    // A password in clear only where nobody can read it on the way; anyone else is asked for
    // SCRAM, which never sends it (as pg_hba lines for hostssl and 127.0.0.1 would say).
    const cleartext = this.host.authMethod === 'password' && (this.socket instanceof TLSSocket || this.host.isLoopback(this.remoteAddress));
    this.authUsed = cleartext ? 'password' : 'scram-sha-256';
    if (cleartext) {
      this.password = creds.password;
      B.authenticationCleartextPassword(this.out);
      this.state = 'password';
    } else {
      this.scram = new ScramSession(creds.scram);
      B.authenticationSASL(this.out, ['SCRAM-SHA-256']);
      this.state = 'sasl-first';
    }
    this.flush();
  }

  private applicationName: string | undefined;
  /** Settings the startup packet gave (`TimeZone`, `options=-c allot.times=ms`), checked. */
  private startupSettings: ReadonlyMap<string, string> = new Map();

  private async onAuthMessage(msg: FrontendMessage): Promise<void> {
    if (msg.type === 'Terminate') {
      this.close();
      return;
    }
    if (msg.type !== 'Password') throw new ProtocolError(`expected an authentication response, got ${msg.type}`);
    switch (this.state) {
      case 'password': {
        const given = createHash('sha256').update(parsePassword(msg.data)).digest();
        const want = createHash('sha256').update(this.password).digest();
        if (!timingSafeEqual(given, want)) return this.authFailed();
        return await this.authenticated();
      }
      case 'sasl-first': {
        const { mechanism, response } = parseSaslInitialResponse(msg.data);
        if (mechanism !== 'SCRAM-SHA-256') throw new ProtocolError(`unsupported SASL mechanism "${mechanism}"`, SqlState.invalidPassword);
        B.authenticationSASLContinue(this.out, this.scram!.serverFirst(response));
        this.state = 'sasl-final';
        this.flush();
        return;
      }
      case 'sasl-final': {
        const result = this.scram!.finish(parseSaslResponse(msg.data));
        if (!result.ok) return this.authFailed();
        B.authenticationSASLFinal(this.out, result.serverFinal);
        return await this.authenticated();
      }
      default:
        throw new ProtocolError('unexpected authentication message');
    }
  }

  private authFailed(): void {
    this.fatal(SqlState.invalidPassword, `password authentication failed for user "${this.user}"`);
  }

  /** Opens the database only now, so no unauthenticated client can create one. */
  private async authenticated(): Promise<void> {
    this.scram = null;
    this.password = '';
    if (!this.host.admit(this)) {
      this.fatal(SqlState.tooManyConnections, 'sorry, too many clients already');
      return;
    }
    let tenant: Tenant;
    try {
      tenant = await this.host.tenant(this.database);
    } catch (err) {
      this.onProtocolError(err);
      return;
    }
    if (this.state === 'closed') return;
    if (this.startupTimer !== null) clearTimeout(this.startupTimer);
    this.startupTimer = null;
    const host = this.host;
    this.session = new Session(
      tenant,
      {
        user: this.user,
        pid: this.pid,
        databases: () => host.databaseNames(),
        settings: new Map([...host.sessionSettings, ...this.startupSettings]),
        ...(this.applicationName !== undefined ? { applicationName: this.applicationName } : {}),
      },
      this,
    );
    B.authenticationOk(this.out);
    const s = this.session;
    for (const [name, key] of [
      ['server_version', 'server_version'],
      ['server_encoding', 'server_encoding'],
      ['client_encoding', 'client_encoding'],
      ['DateStyle', 'datestyle'],
      ['IntervalStyle', 'intervalstyle'],
      ['TimeZone', 'timezone'],
      ['integer_datetimes', 'integer_datetimes'],
      ['standard_conforming_strings', 'standard_conforming_strings'],
      ['application_name', 'application_name'],
      ['is_superuser', 'is_superuser'],
      ['session_authorization', 'session_authorization'],
      ['default_transaction_read_only', 'default_transaction_read_only'],
      ['in_hot_standby', 'in_hot_standby'],
    ] as const) {
      B.parameterStatus(this.out, name, s.setting(key) ?? (key === 'server_version' ? SERVER_VERSION : ''));
    }
    B.backendKeyData(this.out, this.pid, this.secret);
    B.readyForQuery(this.out, 'I');
    this.state = 'ready';
    this.host.metrics.connectionStarted();
    this.host.log.info(
      {
        conn: this.pid,
        user: this.user,
        database: this.database,
        remote: this.remoteAddress,
        app: this.applicationName,
        auth: this.authUsed,
        tls: this.socket instanceof TLSSocket,
      },
      'connection authenticated',
    );
    this.flush();
  }

  // ---- queries --------------------------------------------------------------------------

  /** Handles one message; returns a promise only when the message has to wait (a commit). */
  private onMessage(msg: FrontendMessage): Promise<void> | undefined {
    if (this.skipToSync && msg.type !== 'Sync' && msg.type !== 'Terminate') return undefined;
    switch (msg.type) {
      case 'Query':
        if (this.ending !== null) {
          this.sendError(new AllotError(this.ending.code, this.ending.notRun));
          this.endOfCommand();
          return undefined;
        }
        return this.simpleQuery(msg.sql);
      case 'Parse':
        this.step(() => this.parse(msg.name, msg.sql, msg.paramTypes));
        return undefined;
      case 'Bind':
        this.step(() => this.bind(msg));
        return undefined;
      case 'Describe':
        this.step(() => this.describe(msg.kind, msg.name));
        return undefined;
      case 'Execute':
        this.unsynced = true;
        // Sent after the connection began to end: refused, and truly not run.
        if (this.ending !== null) {
          this.stepFailed(new AllotError(this.ending.code, this.ending.notRun));
          return undefined;
        }
        return this.execute(msg.portal, msg.maxRows).catch((err: unknown) => this.stepFailed(err));
      case 'Close':
        this.step(() => {
          if (msg.kind === 'S') this.statements.delete(msg.name);
          else this.portals.delete(msg.name);
          B.closeComplete(this.out);
        });
        return undefined;
      case 'Sync':
        this.skipToSync = false;
        this.unsynced = false;
        this.portals.delete('');
        this.endOfCommand();
        return undefined;
      case 'Flush':
        this.flush();
        return undefined;
      case 'Terminate':
        this.close();
        return undefined;
      case 'Password':
        throw new ProtocolError('unexpected password message after authentication');
      case 'FunctionCall':
        this.step(() => {
          throw new AllotError(SqlState.featureNotSupported, 'the fast-path function call interface is not supported by allot');
        });
        return undefined;
      case 'CopyData':
      case 'CopyDone':
      case 'CopyFail':
        // Only meaningful during COPY, which allot never starts: ignore, as PostgreSQL does.
        return undefined;
      case 'Unknown':
        throw new ProtocolError(`invalid frontend message type ${msg.code}`);
    }
  }

  private async simpleQuery(sql: string): Promise<void> {
    const session = this.session;
    if (session === null) return;
    let statements: ReturnType<typeof prepareSimple>;
    try {
      statements = prepareSimple(sql, this.host.cache, () => this.planContext(session));
    } catch (err) {
      this.sendError(err);
      session.fail();
      this.endOfCommand();
      return;
    }
    if (statements.length === 0) {
      B.emptyQueryResponse(this.out);
      this.endOfCommand();
      return;
    }
    const implicit = statements.length > 1;
    if (implicit) session.beginImplicit();
    let failed = false;
    for (const next of statements) {
      // The client went while an earlier statement waited (for the disk, or for it to read).
      if (this.isClosed) return;
      try {
        this.checkCancel();
        const st = next();
        if (st.plan.kind === 'utility' && st.plan.utility.type === 'deallocate') this.deallocate(st.plan.utility.name);
        const t0 = this.statementStarts(st.plan);
        let outcome: StatementOutcome;
        try {
          outcome = await session.run(st.plan, st.values);
        } finally {
          this.statementDone(t0, st.text);
        }
        this.afterStatement(st.plan, null);
        const writing = this.sendOutcome(outcome, st.plan.columns, outcome.kind === 'rows' && outcome.binary === true ? BINARY_RESULTS : [], true);
        if (writing !== undefined) await writing;
      } catch (err) {
        this.sendError(err);
        if (this.isClosed) return; // the outcome was unknown: no answer, no more statements
        session.fail();
        failed = true;
        break;
      }
      this.sendNotices();
    }
    if (implicit) {
      try {
        await session.endImplicit(failed);
      } catch (err) {
        this.sendError(err);
      }
    }
    this.endOfCommand();
  }

  /** Runs one synchronous extended-protocol step; an error skips the rest up to Sync. */
  private step(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.stepFailed(err);
    }
  }

  private stepFailed(err: unknown): void {
    if (this.session === null) return;
    this.sendError(err);
    if (this.session === null) return; // the outcome was unknown: the connection is gone
    this.session.fail();
    this.skipToSync = true;
    // Clients that sent Flush rather than Sync (postgres.js describes before it binds) wait
    // for this error before they send Sync.
    this.flush();
  }

  private parse(name: string, sql: string, paramOids: readonly number[]): void {
    if (name !== '' && this.statements.has(name)) {
      throw new AllotError(SqlState.duplicatePreparedStatement, `prepared statement "${name}" already exists`);
    }
    if (name !== '' && namedCount(this.statements) >= MAX_PREPARED_STATEMENTS) {
      throw new AllotError(SqlState.programLimitExceeded, `this connection already holds ${MAX_PREPARED_STATEMENTS} prepared statements, the limit`, {
        hint: 'Close or DEALLOCATE some.',
      });
    }
    const plan = prepareExtended(sql, paramOids, this.host.cache, this.session === null ? undefined : this.planContext(this.session));
    this.statements.set(name, { plan, paramOids, sql });
    B.parseComplete(this.out);
  }

  private statement(name: string): Prepared {
    const s = this.statements.get(name);
    if (s === undefined)
      throw new AllotError(
        SqlState.invalidSqlStatementName,
        name === '' ? 'unnamed prepared statement does not exist' : `prepared statement "${name}" does not exist`,
      );
    return s;
  }

  private bind(msg: Extract<FrontendMessage, { type: 'Bind' }>): void {
    const st = this.statement(msg.statement);
    if (msg.portal !== '' && this.portals.has(msg.portal)) throw new AllotError(SqlState.duplicateCursor, `cursor "${msg.portal}" already exists`);
    if (msg.portal !== '' && namedCount(this.portals) >= MAX_PREPARED_STATEMENTS) {
      throw new AllotError(SqlState.programLimitExceeded, `this connection already holds ${MAX_PREPARED_STATEMENTS} portals, the limit`);
    }
    const slots = st.plan.params;
    const formats = msg.paramFormats;
    if (formats.length > 1 && formats.length !== msg.params.length) {
      throw new AllotError(SqlState.protocolViolation, `bind message has ${formats.length} parameter formats but ${msg.params.length} parameters`);
    }
    const raw: ParamValue[] = msg.params.map((buf, i) => {
      if (buf === null) return null;
      const f = formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : formats[i]!;
      if (f === 0) return utf8Text(buf);
      return decodeBinaryParam(slots.oidOf(i), buf);
    });
    const values = bindParams(slots, raw, this.session === null ? 'UTC' : timeZoneOf(this.session));
    this.portals.set(msg.portal, { plan: st.plan, sql: st.sql, values, formats: msg.resultFormats, rest: null, done: false });
    B.bindComplete(this.out);
  }

  private describe(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') {
      const st = this.statement(name);
      const slots = st.plan.params;
      const oids: number[] = [];
      for (let i = 0; i < slots.count; i++) oids.push(slots.oidOf(i));
      B.parameterDescription(this.out, oids);
      this.describeRows(this.columnsOf(st.plan), []);
      return;
    }
    const portal = this.portals.get(name);
    if (portal === undefined) throw new AllotError(SqlState.invalidCursorName, `portal "${name}" does not exist`);
    this.describeRows(this.columnsOf(portal.plan), portal.formats);
  }

  /** A plan's result columns; a FETCH's are its cursor's, as they are when it is described. */
  private columnsOf(plan: Plan): readonly OutColumn[] | null {
    if (plan.kind === 'utility' && plan.utility.type === 'fetch' && !plan.utility.move) return this.session?.cursorColumns(plan.utility.name) ?? null;
    return plan.columns;
  }

  private describeRows(columns: readonly OutColumn[] | null, formats: readonly number[]): void {
    if (columns === null || columns.length === 0) B.noData(this.out);
    else B.rowDescription(this.out, B.describeColumns(columns, formats));
  }

  private async execute(name: string, maxRows: number): Promise<void> {
    const portal = this.portals.get(name);
    if (portal === undefined) throw new AllotError(SqlState.invalidCursorName, `portal "${name}" does not exist`);
    if (portal.rest === null) {
      if (portal.done) {
        // Executing a completed portal again yields nothing more, as in PostgreSQL.
        B.commandComplete(this.out, 'SELECT 0');
        return;
      }
      this.checkCancel();
      if (portal.plan.kind === 'utility' && portal.plan.utility.type === 'deallocate') this.deallocate(portal.plan.utility.name);
      const t0 = this.statementStarts(portal.plan);
      let outcome: StatementOutcome;
      try {
        outcome = await this.session!.run(portal.plan, portal.values);
      } finally {
        this.statementDone(t0, portal.sql);
      }
      this.afterStatement(portal.plan, name);
      this.sendNotices();
      portal.done = true;
      if (outcome.kind !== 'rows') {
        const sending = this.sendOutcome(outcome, null, portal.formats, false);
        if (sending !== undefined) await sending;
        return;
      }
      portal.rest = { rows: outcome.rows, next: 0, tag: outcome.tag, columns: outcome.columns.length > 0 ? outcome.columns : (portal.plan.columns ?? []) };
    }
    const rest = portal.rest;
    const columns = rest.columns;
    const left = rest.rows.length - rest.next;
    const end = rest.next + (maxRows > 0 ? Math.min(maxRows, left) : left);
    const writing = this.writeRows(rest.rows, rest.next, end, columns, portal.formats);
    if (writing !== undefined) await writing;
    rest.next = end;
    if (maxRows > 0 && rest.next < rest.rows.length) {
      B.portalSuspended(this.out);
      return;
    }
    portal.rest = null;
    B.commandComplete(this.out, rest.tag);
  }

  /**
   * What a statement that ran means for the connection's own state: DISCARD ALL deallocates the
   * prepared statements, and it and CLOSE ALL close every portal (as PostgreSQL, where a cursor
   * is a portal) but the one running, `current`.
   */
  private afterStatement(plan: Plan, current: string | null): void {
    if (plan.kind !== 'utility') return;
    const u = plan.utility;
    const discardAll = u.type === 'discard' && u.what === 'all';
    if (discardAll) this.statements.clear();
    if (discardAll || (u.type === 'close' && u.name === null)) {
      for (const name of [...this.portals.keys()]) if (name !== current) this.portals.delete(name);
    }
  }

  private deallocate(name: string | null): void {
    if (name === null) this.statements.clear();
    else if (!this.statements.delete(name)) throw new AllotError(SqlState.invalidSqlStatementName, `prepared statement "${name}" does not exist`);
  }

  private checkCancel(): void {
    if (this.cancelRequested) {
      this.cancelRequested = false;
      throw new AllotError(SqlState.queryCanceled, 'canceling statement due to user request');
    }
  }

  /** Marks the running query for cancellation (a CancelRequest naming this connection). */
  requestCancel(secret: number): void {
    if (secret !== this.secret || !this.busy) return;
    this.cancelRequested = true;
    this.session?.cancelLockWait();
    this.wakeFrameWaiter(); // a COPY FROM STDIN waiting for data
  }

  // ---- output ---------------------------------------------------------------------------

  /** Returns a promise only when rows had to wait for the client to read. */
  private sendOutcome(
    o: StatementOutcome,
    planColumns: readonly OutColumn[] | null,
    formats: readonly number[],
    withDescription: boolean,
  ): Promise<void> | undefined {
    switch (o.kind) {
      case 'empty':
        B.emptyQueryResponse(this.out);
        return undefined;
      case 'command':
        B.commandComplete(this.out, o.tag);
        return undefined;
      case 'copyIn':
        return this.copyIn(o.copy).then((tag) => B.commandComplete(this.out, tag));
      case 'copyOut':
        return this.copyOut(o).then((tag) => B.commandComplete(this.out, tag));
      case 'rows': {
        const columns = o.columns.length > 0 ? o.columns : (planColumns ?? []);
        if (withDescription) B.rowDescription(this.out, B.describeColumns(columns, formats));
        const writing = this.writeRows(o.rows, 0, o.rows.length, columns, formats);
        if (writing === undefined) {
          B.commandComplete(this.out, o.tag);
          return undefined;
        }
        return writing.then(() => B.commandComplete(this.out, o.tag));
      }
    }
  }

  /**
   * Encodes rows into the socket as it drains: once the socket holds MAX_REPLY_BACKLOG_BYTES,
   * the rest wait unencoded (a table's as the entities they are made of) until the client has
   * read. Returns a promise only then.
   */
  /** What plans for this session depend on: how it shows times (allot.times) and its TimeZone. */
  private planContext(session: Session): PlanContext {
    return { times: timesOf(session), zone: timeZoneOf(session) };
  }

  private writeRows(rows: ResultRows, from: number, end: number, columns: readonly OutColumn[], formats: readonly number[]): Promise<void> | undefined {
    const binary = columns.map((_, i) => (formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : (formats[i] ?? 0)) === 1);
    // Instants, intervals and reg* values have a text form of their own (in the session's TimeZone).
    const session = this.session;
    const text =
      session !== null && columns.some((c) => needsTextOut(c.type)) ? columns.map((c) => (needsTextOut(c.type) ? textOutFor(c.type, session) : null)) : null;
    const encoding: RowEncoding = { rows, end, columns, binary, anyBinary: binary.some((b) => b), text };
    const next = this.encodeRows(encoding, from);
    return next === end ? undefined : this.encodeRowsAsRead(encoding, next);
  }

  /** Encodes rows from `from` on until done or the socket is full; returns the next row's index. */
  private encodeRows(e: RowEncoding, from: number): number {
    const { rows, end, columns, binary, anyBinary, text } = e;
    for (let i = from; i < end; i++) {
      // A lazy result makes its row only now, from the entity it picked.
      const row = rows.at(i)!;
      if (!anyBinary) B.textDataRow(this.out, row, text);
      else {
        B.dataRow(
          this.out,
          row.map((v, k) =>
            v === null ? null : binary[k] ? encodeBinary(columns[k]!.typeOid ?? typeOid[columns[k]!.type], v) : (text?.[k]?.textOf(v) ?? formatValue(v)),
          ),
        );
      }
      if (this.out.length > FLUSH_THRESHOLD_BYTES) {
        this.flush();
        if (this.socket.writableLength > MAX_REPLY_BACKLOG_BYTES) return i + 1;
      }
    }
    return end;
  }

  private async encodeRowsAsRead(e: RowEncoding, from: number): Promise<void> {
    let next = from;
    while (next < e.end) {
      await this.drained();
      if (this.state === 'closed') return;
      next = this.encodeRows(e, next);
    }
  }

  // ---- COPY ------------------------------------------------------------------------------

  /**
   * COPY FROM STDIN: CopyInResponse, then the client's CopyData up to CopyDone, each record
   * handed to `copy` as its line ends; CopyDone writes the rows. Returns the tag. An error (in
   * the data, CopyFail, another message) ends it, refused; what the client still sends of it
   * is dropped (CopyData outside a COPY is ignored, as PostgreSQL does).
   */
  private async copyIn(copy: CopyIn): Promise<string> {
    const f = copy.format;
    copyInResponse(this.out, copy.columns, f.binary);
    this.flush();
    const records = f.binary
      ? new CopyBinaryTuples(copy)
      : new CopyRecords(f.csv ? { quote: f.quote.charCodeAt(0), escape: f.escape.charCodeAt(0) } : null, (text) => copy.record(text));
    for (;;) {
      const frame = await this.nextFrame();
      this.checkCancel();
      if (frame === null) {
        if (this.ending !== null) throw new AllotError(this.ending.code, this.ending.notRun);
        throw new AllotError(SqlState.connectionFailure, 'the client closed the connection during COPY from stdin: nothing was written');
      }
      const msg = decodeMessage(frame.code, frame.body);
      switch (msg.type) {
        case 'CopyData':
          records.push(msg.data);
          break;
        case 'CopyDone':
          records.end();
          return await copy.finish();
        case 'CopyFail':
          throw new AllotError(SqlState.queryCanceled, `COPY from stdin failed: ${msg.message}`);
        case 'Flush':
        case 'Sync':
          break; // ignored during COPY, as PostgreSQL does
        default:
          throw new AllotError(
            SqlState.protocolViolation,
            `unexpected message type 0x${frame.code.toString(16).toUpperCase().padStart(2, '0')} during COPY from stdin`,
          );
      }
    }
  }

  /** The next whole message from the client, waiting for it; null once the connection closed, must end, or was cancelled. */
  private async nextFrame(): Promise<{ code: number; body: Buffer } | null> {
    for (;;) {
      if (this.state === 'closed' || this.ending !== null || this.cancelRequested) return null;
      let frame: { code: number; body: Buffer } | null;
      try {
        frame = this.reader.next();
      } catch (err) {
        // The stream is out of step (a message too large, a bad length): FATAL, as anywhere.
        this.onProtocolError(err);
        return null;
      }
      if (frame !== null) return frame;
      this.resumeReading(PAUSED_FOR_INPUT);
      await new Promise<void>((resolve) => (this.frameWaiter = resolve));
    }
  }

  private wakeFrameWaiter(): void {
    const w = this.frameWaiter;
    this.frameWaiter = null;
    if (w !== null) w();
  }

  /**
   * COPY TO STDOUT: CopyOutResponse, a CopyData per row (and the header), CopyDone; rows are
   * encoded as the socket drains, as a SELECT's are. Returns the tag.
   */
  private async copyOut(o: Extract<StatementOutcome, { kind: 'copyOut' }>): Promise<string> {
    B.copyOutResponse(this.out, o.columns.length);
    if (o.format.header !== false) B.copyData(this.out, encodeHeader(o.columns, o.format));
    const rows = o.rows;
    const session = this.session;
    const texts = session === null ? undefined : o.types.map((t) => (needsTextOut(t) ? (v: Value) => textOut(v, t, session) : formatValue));
    for (let i = 0; i < rows.length; i++) {
      B.copyData(this.out, encodeRecord(rows.at(i)!, o.format, o.columns, texts));
      if (this.out.length > FLUSH_THRESHOLD_BYTES) {
        this.flush();
        if (this.socket.writableLength > MAX_REPLY_BACKLOG_BYTES) {
          await this.drained();
          if (this.isClosed) break;
        }
      }
    }
    B.copyDone(this.out);
    return `COPY ${rows.length}`;
  }

  /**
   * Counts a statement about to run; returns its start time for `statementDone`. The callers
   * await the session themselves (one async frame less for every statement).
   */
  private statementStarts(plan: Plan): number {
    this.statementCount++;
    this.host.metrics.statement(statementKind(plan));
    return performance.now();
  }

  /** Logs the statement when it was slow. */
  private statementDone(t0: number, sql: string): void {
    const ms = performance.now() - t0;
    if (this.host.logSlowMs > 0 && ms >= this.host.logSlowMs) {
      this.host.metrics.slowStatement();
      this.host.log.warn(
        { conn: this.pid, database: this.database, ms: Math.round(ms), sql: sql.length > 1000 ? `${sql.slice(0, 1000)}…` : sql },
        'slow statement',
      );
    }
  }

  private sendError(thrown: unknown): void {
    if (thrown instanceof OutcomeUnknown) {
      this.abandon(thrown);
      return;
    }
    const err = asStackDepthError(thrown) ?? thrown;
    this.host.metrics.error(err instanceof AllotError ? err.sqlstate : SqlState.internalError);
    if (err instanceof AllotError) {
      B.errorResponse(this.out, {
        severity: 'ERROR',
        code: err.sqlstate,
        message: err.message,
        ...(err.detail !== undefined ? { detail: err.detail } : {}),
        ...(err.hint !== undefined ? { hint: err.hint } : {}),
      });
      return;
    }
    this.host.log.error({ err, pid: this.pid }, 'statement failed unexpectedly');
    B.errorResponse(this.out, {
      severity: 'ERROR',
      code: SqlState.internalError,
      message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    });
  }

  private sendNotices(): void {
    const s = this.session;
    if (s === null) return;
    for (const n of s.drainNotices()) B.noticeResponse(this.out, { severity: n.severity, code: n.code, message: n.message });
  }

  /** ReadyForQuery, after any settings that changed and notifications that waited. */
  private endOfCommand(): void {
    // The client may have gone while its query waited for the disk.
    const s = this.session;
    if (s === null || this.state === 'closed') return;
    this.sendNotices();
    for (const [name, value] of s.drainParameterChanges()) B.parameterStatus(this.out, name, value);
    this.cancelRequested = false;
    this.writeNotifications();
    B.readyForQuery(this.out, s.status);
    this.flush();
  }

  private flush(): void {
    if (this.out.length === 0 || this.state === 'closed') return;
    // The client reads slower than we answer: stop reading its requests until it catches up.
    if (!this.socket.write(this.out.take())) this.pauseReading(PAUSED_FOR_OUTPUT);
  }

  private pauseReading(reason: number): void {
    if (this.pausedFor === 0 && this.state !== 'closed') this.socket.pause();
    this.pausedFor |= reason;
  }

  private resumeReading(reason: number): void {
    if ((this.pausedFor & reason) === 0) return;
    this.pausedFor &= ~reason;
    if (this.pausedFor === 0 && this.state !== 'closed') this.socket.resume();
  }

  /** Resolves once the socket has room again (at once if it has), or the connection closed. */
  private drained(): Promise<void> {
    if (this.state === 'closed' || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private onDrain(): void {
    this.lastDrainMs = performance.now();
    this.resumeReading(PAUSED_FOR_OUTPUT);
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    this.flushNotifications();
  }

  // ---- notifications ----------------------------------------------------------------------

  deliver(channel: string, payload: string): void {
    if (this.state !== 'ready' || this.ending === TOO_SLOW) return;
    this.notifications.push(channel, payload);
    if (this.notifications.length > MAX_PENDING_NOTIFICATIONS || this.notifications.bytes + this.socket.writableLength > MAX_SOCKET_BACKLOG_BYTES) {
      this.host.log.warn(
        { conn: this.pid, database: this.database, queued: this.notifications.length, queuedBytes: this.notifications.bytes + this.socket.writableLength },
        'listener fell too far behind; disconnecting it',
      );
      // What is still queued is dropped whole; the FATAL follows what the socket already has.
      this.mustEnd(TOO_SLOW);
      return;
    }
    if (!this.busy && !this.notifyScheduled) {
      this.notifyScheduled = true;
      queueMicrotask(() => {
        this.notifyScheduled = false;
        this.flushNotifications();
      });
    }
  }

  /** Moves queued notifications into the output while the socket holds little. */
  private writeNotifications(): void {
    if (this.notifications.length === 0) return;
    const room = NOTIFY_SOCKET_HIGH_WATER_BYTES - this.socket.writableLength - this.out.length;
    if (room > 0) this.notifications.writeInto(this.out, this.pid, room);
  }

  /**
   * Moves queued notifications into the socket while the kernel takes them (a write it takes
   * whole brings no 'drain', so this loops); once the socket must drain, 'drain' brings it back.
   */
  private flushNotifications(): void {
    while (!this.busy && this.state === 'ready' && this.ending === null && this.notifications.length > 0 && !this.socket.writableNeedDrain) {
      this.writeNotifications();
      if (this.out.length === 0) return; // no room: the socket holds its share
      this.flush();
    }
  }

  // ---- closing --------------------------------------------------------------------------

  /** Sends a FATAL error and closes the connection. */
  fatal(code: SqlStateCode, message: string): void {
    if (this.state === 'closed') return;
    this.host.metrics.error(code);
    try {
      B.errorResponse(this.out, { severity: 'FATAL', code, message });
      this.flush();
    } catch {
      // The output buffer itself failed: close regardless.
    }
    this.close();
  }

  /**
   * A statement whose fate is unknown (its log record may or may not be on disk): no answer can
   * be true, so none is given, not even what was gathered for earlier messages; the socket is
   * dropped, which every driver reports as a broken connection.
   */
  private abandon(err: OutcomeUnknown): void {
    if (this.state === 'closed') return;
    this.host.log.error({ err, conn: this.pid, database: this.database }, 'statement outcome unknown: closing the connection without an answer');
    this.out.truncate(0);
    this.close();
    this.socket.destroy();
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasSession = this.session !== null;
    this.state = 'closed';
    if (wasSession) {
      this.host.log.info(
        { conn: this.pid, database: this.database, statements: this.statementCount, seconds: Number(((performance.now() - this.openedAt) / 1000).toFixed(3)) },
        'connection closed',
      );
    }
    if (this.startupTimer !== null) clearTimeout(this.startupTimer);
    if (this.endGraceTimer !== null) clearTimeout(this.endGraceTimer);
    this.session?.close();
    this.session = null;
    this.host.release(this);
    this.statements.clear();
    this.portals.clear();
    this.notifications.clear();
    for (const w of this.drainWaiters.splice(0)) w();
    this.wakeFrameWaiter();
    if (!this.socket.destroyed) {
      this.socket.end();
      // Read on, and drop, what the client still sends: closing with unread input would reset
      // the connection, and a reset can discard the last replies before the client reads them.
      this.socket.resume();
      this.lingerThenDestroy(performance.now() + CLOSE_LINGER_MS);
    }
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /**
   * Destroys the socket a second after its last byte went to the kernel, or at `deadlineMs` for a
   * client that never reads (after that the rest of what it was sent is lost).
   */
  private lingerThenDestroy(deadlineMs: number): void {
    setTimeout(() => {
      if (this.socket.destroyed) return;
      if (this.socket.writableLength > 0 && performance.now() < deadlineMs) this.lingerThenDestroy(deadlineMs);
      else this.socket.destroy();
    }, 1000).unref();
  }
}

/** Named entries of a connection's statements or portals (the unnamed one, '', never counts). */
function namedCount(map: ReadonlyMap<string, unknown>): number {
  return map.size - (map.has('') ? 1 : 0);
}

/** One result's rows on their way out, as the encoder resumes them after each drain. */
interface RowEncoding {
  readonly rows: ResultRows;
  /** Where this reply's rows end (a portal executed with a row count sends part of them). */
  readonly end: number;
  readonly columns: readonly OutColumn[];
  readonly binary: readonly boolean[];
  /** Whether any column leaves the plain text path (binary, or a type with its own text form). */
  readonly anyBinary: boolean;
  /** Each column's text form where it needs more than formatValue (null: as it is), or null for none. */
  readonly text: readonly (ColumnText | null)[] | null;
}

/** Startup parameters that are not settings. */
const NOT_SETTINGS: ReadonlySet<string> = new Set(['user', 'database', 'options', 'replication', 'application_name']);

/**
 * The settings a startup packet gives, as PostgreSQL takes them: any parameter that names a
 * setting (`TimeZone=Etc/UTC`, as pgjdbc sends), and `options`' `-c name=value` and
 * `--name=value`. A value a SET would refuse fails the connection (FATAL), as in PostgreSQL.
 */
function startupSettings(params: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) {
    const name = k.toLowerCase();
    if (!NOT_SETTINGS.has(name)) out.set(name, validateSetting(name, v));
  }
  const words = (params.get('options') ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const pair = w === '-c' ? words[++i] : w.startsWith('--') ? w.slice(2) : w.startsWith('-c') ? w.slice(2) : undefined;
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq <= 0)
      throw new AllotError(SqlState.syntaxError, `invalid command-line argument for server process: ${w}`, { hint: 'Give settings as -c name=value.' });
    const name = pair.slice(0, eq).toLowerCase().replace(/-/g, '_');
    out.set(name, validateSetting(name, pair.slice(eq + 1)));
  }
  return out;
}
