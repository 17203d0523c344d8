/**
 * A client on a raw TCP socket, for tests that send what no driver would: garbage, half messages,
 * lies about lengths, silence. What the server sends back is decoded with node-postgres' own
 * Parser, so a reply that pg could not read shows up as a malformed message.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { serialize } from 'pg-protocol';
import type { BackendMessage, DatabaseError, DataRowMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';

/** node-postgres' SCRAM client, the one our users run. */
type SaslSession = { mechanism: string; response: string; clientNonce: string };
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[]): SaslSession;
  continueSession(session: SaslSession, password: string, serverFirst: string): Promise<void>;
  finalizeSession(session: SaslSession, serverFinal: string): void;
};

export const DEFAULT_WAIT_MS = 5_000;

export function isError(m: BackendMessage): m is DatabaseError {
  return m.name === 'error';
}

export class RawClient {
  /** Every message received, in order. */
  readonly received: BackendMessage[] = [];
  /** Index into `received` of the first message no `next()` has consumed yet. */
  private cursor = 0;
  private readonly parser = new Parser();
  private waiters: (() => void)[] = [];
  private isClosed = false;
  /** The server ended its side first (FIN before we ended or destroyed ours). */
  endedByServer = false;
  private endedByUs = false;
  readonly closed: Promise<void>;
  /** Bytes the server sent, whole messages or not. */
  bytesReceived = 0;

  /** `host` defaults to 127.0.0.1; `localAddress` picks the address the server sees (127.0.0.2, …). */
  static async connect(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<RawClient> {
    const socket = connect({ host: opts.host ?? '127.0.0.1', port, ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}) });
    socket.on('error', () => undefined); // an early close shows up as 'close' below
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.parser.parse(chunk, (m) => this.received.push(m));
      this.wake();
    });
    socket.on('end', () => {
      if (!this.endedByUs) this.endedByServer = true;
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Writes bytes; after the server has hung up they are dropped, as the kernel would. */
  send(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Stops reading: what the server sends piles up in the kernel, then in the server. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Bytes received that do not make a whole message yet (a stream cut mid-message leaves some). */
  get unparsedBytes(): number {
    return (this.parser as unknown as { bufferLength: number }).bufferLength;
  }

  /** Half-closes: we send no more. The server should then close its side too. */
  end(): void {
    this.endedByUs = true;
    this.socket.end();
  }

  /** Drops the connection at once, as a crashing client or a pulled cable would. */
  destroy(): void {
    this.endedByUs = true;
    this.socket.destroy();
  }

  errors(): DatabaseError[] {
    return this.received.filter(isError);
  }

  /** The next unconsumed message of that name; an ErrorResponse on the way fails instead. */
  async next<N extends BackendMessage['name']>(name: N, timeoutMs = DEFAULT_WAIT_MS): Promise<BackendMessage> {
    return this.until(`a ${name} message`, timeoutMs, () => {
      while (this.cursor < this.received.length) {
        const m = this.received[this.cursor++]!;
        if (m.name === name) return m;
        if (isError(m)) throw new Error(`expected ${name}, got ${m.severity} ${m.code}: ${m.message}`);
      }
      return undefined;
    });
  }

  /** Waits until the socket is closed (by either side) and returns everything received. */
  async untilClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<BackendMessage[]> {
    return this.until('the connection to close', timeoutMs, () => (this.isClosed ? this.received : undefined), true);
  }

  /** Waits until `check` returns something; fails if the socket closes first or time runs out. */
  private async until<T>(what: string, timeoutMs: number, check: () => T | undefined, closeIsFine = false): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (this.isClosed && !closeIsFine) throw new Error(`the connection closed while waiting for ${what}; received ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; received ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  describe(): string {
    const names = this.received.map((m) => (isError(m) ? `error(${m.severity} ${m.code}: ${m.message})` : m.name));
    return `[${names.join(', ')}]${this.isClosed ? ' then close' : ''}`;
  }

  /** Sends the startup packet and authenticates (SCRAM-SHA-256 or cleartext, as asked) up to ReadyForQuery. */
  async login(opts: { user?: string; database: string; password: string }): Promise<void> {
    this.send(serialize.startup({ user: opts.user ?? 'raw', database: opts.database }));
    const ask = await this.until('an authentication request', DEFAULT_WAIT_MS, () => {
      const m = this.received[this.cursor];
      if (m === undefined) return undefined;
      this.cursor++;
      if (isError(m)) throw new Error(`login refused: ${m.severity} ${m.code}: ${m.message}`);
      return m;
    });
    if (ask.name === 'authenticationCleartextPassword') {
      this.send(serialize.password(opts.password));
    } else if (ask.name === 'authenticationSASL') {
      const session = sasl.startSession((ask as unknown as { mechanisms: string[] }).mechanisms);
      this.send(serialize.sendSASLInitialResponseMessage(session.mechanism, session.response));
      const first = await this.next('authenticationSASLContinue');
      await sasl.continueSession(session, opts.password, (first as unknown as { data: string }).data);
      this.send(serialize.sendSCRAMClientFinalMessage(session.response));
      const final = await this.next('authenticationSASLFinal');
      sasl.finalizeSession(session, (final as unknown as { data: string }).data);
    } else {
      throw new Error(`unexpected authentication request ${ask.name}`);
    }
    await this.next('authenticationOk');
    await this.next('readyForQuery');
  }

  /**
   * A simple query, up to its ReadyForQuery: the text of every row (ErrorResponses do not fail
   * here; they are in `errors()`).
   */
  async query(sql: string, timeoutMs = DEFAULT_WAIT_MS): Promise<(string | null)[][]> {
    this.send(serialize.query(sql));
    return this.untilReady(timeoutMs);
  }

  /** Sends messages followed by Sync and returns everything received up to ReadyForQuery. */
  async exchange(...msgs: Buffer[]): Promise<BackendMessage[]> {
    const start = this.received.length;
    this.send(Buffer.concat([...msgs, serialize.sync()]));
    await this.untilReady();
    return this.received.slice(start);
  }

  /** Rows of DataRow messages up to the next ReadyForQuery, skipping anything else. */
  async untilReady(timeoutMs = DEFAULT_WAIT_MS): Promise<(string | null)[][]> {
    const rows: (string | null)[][] = [];
    await this.until('ReadyForQuery', timeoutMs, () => {
      while (this.cursor < this.received.length) {
        const m = this.received[this.cursor++]!;
        if (m.name === 'dataRow') rows.push((m as DataRowMessage).fields as (string | null)[]);
        if (m.name === 'readyForQuery') return true;
      }
      return undefined;
    });
    return rows;
  }
}

/** A startup-phase packet: int32 length (itself included), then `body`. */
export function startupPacket(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([header, body]);
}

/** A typed frontend message: type byte, int32 length (itself included), body. */
export function frame(code: string | number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header[0] = typeof code === 'number' ? code : code.charCodeAt(0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Just the header of a typed message: a type byte and a length that may be a lie. */
export function frameHeader(code: string, declaredLength: number): Buffer {
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeInt32BE(declaredLength, 1);
  return header;
}
