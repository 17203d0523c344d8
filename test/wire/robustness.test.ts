/**
 * The wire server under abuse, through real sockets: random bytes, truncated and oversized
 * messages, crowds, silent clients, wrong passwords and random SQL. Whatever a client sends, it
 * gets an answer with a SQLSTATE or a clean hang-up. The server never crashes (it runs in this
 * process, so an uncaught exception fails the file), never hangs, never keeps a dead connection,
 * never logs an unexpected exception, and a well-behaved client alongside keeps booking without
 * losing anything it was told had been booked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { DatabaseError } from 'pg-protocol/dist/messages.js';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frame, frameHeader, RawClient } from '../helpers/raw-client.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const SQLSTATE = /^[0-9A-Z]{5}$/;
const HOUR = 3_600_000;
/** Bookings of the bystander start here, one hour after another. */
const BYSTANDER_EPOCH = Date.parse('2030-01-01T00:00:00Z');
/** The largest message the abused server accepts: small, so that "too big" is cheap to send. */
const MAX_MESSAGE_BYTES = 4096;

// ---------------------------------------------------------------------------------------------
// Every server in this file logs here. An error-level line is an exception the server did not
// expect (it answers those with XX000), so each test ends by checking there was none.

const serverErrors: unknown[] = [];
const log = pino({ level: 'error' }, { write: (line: string) => void serverErrors.push(JSON.parse(line)) });

function expectNoServerErrors(): void {
  const logged = serverErrors.splice(0);
  expect(logged, 'the server logged unexpected exceptions').toEqual([]);
}

afterEach(() => {
  hangUpRawClients();
  expectNoServerErrors();
});

// ---------------------------------------------------------------------------------------------
// Helpers.

/** Retries an assertion until it holds or time runs out (then its last failure is the verdict). */
async function eventually(assertion: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(10);
  }
}

/** What the server holds: admitted sessions, and every accepted socket, logged in or not. */
function held(srv: TestServer): { sessions: number; sockets: number } {
  return { sessions: srv.server.connectionCount, sockets: srv.server.socketCount };
}

/** The server lets go of every connection the test opened, soon. */
async function expectBackTo(srv: TestServer, baseline: { sessions: number; sockets: number }): Promise<void> {
  await eventually(() => expect(held(srv)).toEqual(baseline));
}

/** A pg client the test owns (not closed by the server helper). */
async function connectPg(srv: TestServer, database = 'test', extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'tester', password: srv.password, database, ...extra });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Raw clients of the running test: hung up after it, so a failed assertion leaks nothing into the next. */
const rawClients: RawClient[] = [];

async function rawClient(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  rawClients.push(c);
  return c;
}

function hangUpRawClients(): void {
  for (const c of rawClients.splice(0)) c.destroy();
}

async function loggedIn(srv: TestServer, database = 'abuse'): Promise<RawClient> {
  const c = await rawClient(srv.port);
  await c.login({ database, password: srv.password });
  return c;
}

/** Errors as "SEVERITY SQLSTATE", which is what these tests pin. */
function summary(errors: readonly DatabaseError[]): string[] {
  return errors.map((e) => `${e.severity} ${e.code}`);
}

/**
 * Every ErrorResponse says how bad it is and why: severity ERROR or FATAL (as allowed), a
 * five-character SQLSTATE that is not XX000 (internal error), a message; nothing follows a FATAL.
 */
function expectWellFormedErrors(c: RawClient, severities: readonly string[]): void {
  for (const e of c.errors()) {
    expect(severities, e.message).toContain(e.severity);
    expect(e.code, e.message).toMatch(SQLSTATE);
    expect(e.code, e.message).not.toBe('XX000');
    expect(e.message).not.toBe('');
  }
  const fatal = c.received.findIndex((m) => m.name === 'error' && (m as DatabaseError).severity === 'FATAL');
  if (fatal >= 0) expect(fatal, `messages after a FATAL: ${c.describe()}`).toBe(c.received.length - 1);
}

/** A Query message whose length field says exactly `declaredLength`: `sql` padded with spaces. */
function queryOfLength(sql: string, declaredLength: number): Buffer {
  const pad = declaredLength - 4 - Buffer.byteLength(sql) - 1;
  if (pad < 0) throw new RangeError('sql is longer than the length asked for');
  const msg = serialize.query(sql + ' '.repeat(pad));
  expect(msg.readInt32BE(1)).toBe(declaredLength);
  return msg;
}

/** The startup packet of `raw` to `abuse`, padded through application_name to exactly `bytes`. */
function startupOfLength(bytes: number): Buffer {
  const base = serialize.startup({ user: 'raw', database: 'abuse', application_name: '' });
  const msg = serialize.startup({ user: 'raw', database: 'abuse', application_name: 'x'.repeat(bytes - base.length) });
  expect(msg.length).toBe(bytes);
  expect(msg.readInt32BE(0)).toBe(bytes);
  return msg;
}

/**
 * A well-behaved client booking one slot after another on its own database while the abuse goes
 * on, and a second connection that reads the bookings back.
 */
class Bystander {
  private readonly acknowledged = new Map<string, { start: string; end: string }>();
  private readonly failures: unknown[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly writer: pg.Client,
    private readonly reader: pg.Client,
  ) {
    this.loop = this.run();
  }

  static async start(srv: TestServer): Promise<Bystander> {
    const writer = await srv.client('bystander');
    await writer.query(`INSERT INTO resources (id, name) VALUES ('desk', 'Hot desk')`);
    return new Bystander(writer, await srv.client('bystander'));
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const id = `booking-${i}`;
      const start = BYSTANDER_EPOCH + i * HOUR;
      try {
        await this.writer.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'desk', $2, $3)`, [id, start, start + HOUR]);
        this.acknowledged.set(id, { start: String(start), end: String(start + HOUR) });
      } catch (err) {
        this.failures.push(err);
      }
      await sleep(5);
    }
  }

  /**
   * It is still booking (one more after this call), none of its bookings failed, and every
   * booking it was told of can be read back from its other connection, with its span.
   */
  async check(): Promise<void> {
    const before = this.acknowledged.size;
    await eventually(() => expect(this.acknowledged.size, 'the bystander stopped booking').toBeGreaterThan(before));
    expect(this.failures).toEqual([]);
    const told = [...this.acknowledged];
    const { rows } = await this.reader.query<{ id: string; start: string; end: string }>(`SELECT id, start, "end" FROM bookings WHERE resource_id = 'desk'`);
    const stored = new Map(rows.map((r) => [r.id, { start: r.start, end: r.end }]));
    const lost = told.filter(([id, span]) => JSON.stringify(stored.get(id)) !== JSON.stringify(span));
    expect(lost, 'acknowledged bookings that cannot be read back').toEqual([]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------------
// One server takes the abuse while the bystander books on it. Other servers below have the
// settings their tests need (connection limit, startup timeout, cleartext passwords).

describe(`a server taking abuse (maxMessageBytes ${MAX_MESSAGE_BYTES}) while a bystander keeps booking`, () => {
  let srv: TestServer;
  let bystander: Bystander;
  /** The bystander's two sessions and sockets. */
  let idle: { sessions: number; sockets: number };

  beforeAll(async () => {
    srv = await startServer({ maxMessageBytes: MAX_MESSAGE_BYTES }, { log });
    bystander = await Bystander.start(srv);
    idle = held(srv);
    expect(idle).toEqual({ sessions: 2, sockets: 2 });
  });

  afterEach(async () => {
    // A failing after-hook skips the rest, so the server's log is checked first, here too.
    hangUpRawClients();
    expectNoServerErrors();
    await bystander.check();
    await expectBackTo(srv, idle);
  });

  afterAll(async () => {
    await bystander.stop();
    await srv.close();
  });

  describe('random bytes', () => {
    it('before startup: 200 connections of garbage get at most one FATAL with a SQLSTATE, then the server hangs up', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
          const c = await rawClient(srv.port);
          c.send(Buffer.from(bytes));
          c.end();
          await c.untilClosed();
          expect(c.errors().length).toBeLessThanOrEqual(1);
          expectWellFormedErrors(c, ['FATAL']);
        }),
        { numRuns: 200 },
      );
    });

    it('a startup packet declaring fewer than 8 bytes, or more than the limit, is refused at once: FATAL 08P01 or 54000', async () => {
      const tooShort = fc.integer({ min: -(2 ** 31), max: 7 });
      const tooLong = fc.integer({ min: 10_001, max: 2 ** 31 - 1 });
      await fc.assert(
        fc.asyncProperty(fc.oneof(tooShort, tooLong), fc.uint8Array({ maxLength: 64 }), async (declared, rest) => {
          const c = await rawClient(srv.port);
          const length = Buffer.alloc(4);
          length.writeInt32BE(declared);
          c.send(Buffer.concat([length, rest]));
          await c.untilClosed(); // we never hang up: the server must
          expect(c.endedByServer).toBe(true);
          expect(summary(c.errors())).toEqual([declared < 8 ? 'FATAL 08P01' : 'FATAL 54000']);
        }),
        { numRuns: 50 },
      );
    });

    it('during SCRAM: 100 connections answering the challenge with garbage never get AuthenticationOk, and are hung up on', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
          const c = await rawClient(srv.port);
          c.send(serialize.startup({ user: 'raw', database: 'abuse' }));
          await c.next('authenticationSASL');
          c.send(Buffer.from(bytes));
          c.end();
          await c.untilClosed();
          expect(c.received.map((m) => m.name)).not.toContain('authenticationOk');
          expectWellFormedErrors(c, ['FATAL']);
        }),
        { numRuns: 100 },
      );
    });

    it('during SCRAM: well-framed SASL nonsense is refused with FATAL 08P01, 28P01 or 22021 (bad UTF-8), and the server hangs up', async () => {
      const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((n) => String.fromCharCode(n)), minLength: 1, maxLength: 30 });
      /** A SASLInitialResponse with a random body, or a random client-first-message, or a real one followed by a forged final message. */
      const nonsense = fc.oneof(
        fc.uint8Array({ maxLength: 128 }).map((body) => frame('p', Buffer.from(body))),
        fc.string({ maxLength: 64 }).map((first) => serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', first)),
        fc.string({ maxLength: 16 }).map((mechanism) => serialize.sendSASLInitialResponseMessage(mechanism, 'n,,n=*,r=abcdefgh')),
        fc
          .tuple(printable, fc.string({ maxLength: 120 }))
          .map(([nonce, final]) =>
            Buffer.concat([
              serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', `n,,n=*,r=${nonce.replace(/,/g, '')}`),
              serialize.sendSCRAMClientFinalMessage(final),
            ]),
          ),
        fc
          .tuple(printable, fc.base64String({ minLength: 44, maxLength: 44 }))
          .map(([nonce, proof]) =>
            Buffer.concat([
              serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', `n,,n=*,r=${nonce.replace(/,/g, '')}`),
              serialize.sendSCRAMClientFinalMessage(`c=biws,r=${nonce.replace(/,/g, '')}forged,p=${proof}`),
            ]),
          ),
      );
      await fc.assert(
        fc.asyncProperty(nonsense, async (bytes) => {
          const c = await rawClient(srv.port);
          c.send(serialize.startup({ user: 'raw', database: 'abuse' }));
          await c.next('authenticationSASL');
          c.send(bytes);
          await c.untilClosed(); // we never hang up: the server must
          expect(c.endedByServer).toBe(true);
          expect(c.received.map((m) => m.name)).not.toContain('authenticationOk');
          expect(summary(c.errors())).toHaveLength(1);
          expect(['FATAL 08P01', 'FATAL 28P01', 'FATAL 22021']).toContain(summary(c.errors())[0]);
        }),
        { numRuns: 100 },
      );
    });

    it('after logging in: 100 connections of garbage get only ERRORs and FATALs with a SQLSTATE, then the server hangs up', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
          const c = await loggedIn(srv);
          c.send(Buffer.from(bytes));
          c.end();
          await c.untilClosed();
          expectWellFormedErrors(c, ['ERROR', 'FATAL']);
        }),
        { numRuns: 100 },
      );
    });

    it('after logging in: well-framed messages of every known type with random bodies get ERRORs, and the connection still answers', async () => {
      const knownType = fc.constantFrom(...'QPBDECSHFdcf');
      const message = fc.tuple(knownType, fc.uint8Array({ maxLength: 96 })).map(([code, body]) => frame(code, Buffer.from(body)));
      await fc.assert(
        fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 4 }), async (messages) => {
          const c = await loggedIn(srv);
          c.send(Buffer.concat([...messages, serialize.sync(), serialize.query(`SELECT 'still here'`)]));
          // Each garbage Query, Sync and ours ends with ReadyForQuery; ours is the one with our row.
          let rows: (string | null)[][] = [];
          for (let i = 0; i <= messages.length + 1 && rows.length === 0; i++) rows = (await c.untilReady()).filter((r) => r[0] === 'still here');
          expect(rows).toEqual([['still here']]);
          expect(c.isOpen).toBe(true);
          expectWellFormedErrors(c, ['ERROR']);
          c.destroy();
        }),
        { numRuns: 100 },
      );
    });

    it('after logging in: an unknown message type, or a password message, is FATAL 08P01', async () => {
      for (const bytes of [frame('Z', Buffer.from('hello')), frame(0, Buffer.alloc(0)), serialize.password('again')]) {
        const c = await loggedIn(srv);
        c.send(bytes);
        await c.untilClosed();
        expect(c.endedByServer).toBe(true);
        expect(summary(c.errors())).toEqual(['FATAL 08P01']);
      }
    });
  });

  describe('truncated messages and clients that vanish mid-message', () => {
    /** Where the client is when it sends the fragment. */
    type Stage = 'connected' | 'challenged' | 'ready';
    const half = (b: Buffer): Buffer => b.subarray(0, b.length >> 1);
    const extendedBatch = Buffer.concat([
      serialize.parse({ text: 'SELECT $1::int8' }),
      serialize.bind({ values: ['1'] }),
      serialize.execute(),
      serialize.sync(),
    ]);
    const fragments: { what: string; stage: Stage; bytes: Buffer }[] = [
      { what: 'half a startup packet', stage: 'connected', bytes: half(serialize.startup({ user: 'raw', database: 'abuse' })) },
      { what: 'a startup packet cut after its length', stage: 'connected', bytes: serialize.startup({ user: 'raw', database: 'abuse' }).subarray(0, 4) },
      {
        what: 'half a SASLInitialResponse',
        stage: 'challenged',
        bytes: half(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abcdefghijkl')),
      },
      { what: 'half a Query', stage: 'ready', bytes: half(serialize.query(`INSERT INTO resources (id) VALUES ('half')`)) },
      { what: 'the header of a Query and none of its body', stage: 'ready', bytes: frameHeader('Q', 100) },
      { what: 'a whole Query and half of the next', stage: 'ready', bytes: Buffer.concat([serialize.query('SELECT 1'), half(serialize.query('SELECT 2'))]) },
      { what: 'half of Parse, Bind, Execute, Sync', stage: 'ready', bytes: half(extendedBatch) },
    ];

    async function at(stage: Stage): Promise<RawClient> {
      if (stage === 'ready') return loggedIn(srv);
      const c = await rawClient(srv.port);
      if (stage === 'challenged') {
        c.send(serialize.startup({ user: 'raw', database: 'abuse' }));
        await c.next('authenticationSASL');
      }
      return c;
    }

    describe.each([
      ['destroys its socket', (c: RawClient) => c.destroy()],
      ['half-closes its socket (and the server must close too)', (c: RawClient) => c.end()],
    ] as const)('the client sends a fragment, then %s', (_how, leave) => {
      it.each(fragments)('$what: nothing is left behind and another connection carries on', async ({ stage, bytes }) => {
        const other = await loggedIn(srv);
        const c = await at(stage);
        c.send(bytes);
        // Give the fragment time to reach the server before the client goes (no assertion rides on it).
        await sleep(20);
        leave(c);
        await c.untilClosed();
        expectWellFormedErrors(c, ['ERROR', 'FATAL']);
        expect(await other.query(`SELECT 'unaffected'`)).toEqual([['unaffected']]);
        expect(other.errors()).toEqual([]);
        other.destroy();
      });
    });

    it('clients that vanish with writes in flight leave a database that answers and takes writes', async () => {
      for (let i = 0; i < 20; i++) {
        const c = await loggedIn(srv, 'vanishing');
        c.send(Buffer.concat([serialize.query(`INSERT INTO resources (id) VALUES ('gone-${i}')`), serialize.query('SELECT 1')]));
        if (i % 2 === 0) c.destroy();
        else c.end();
      }
      const check = await connectPg(srv, 'vanishing');
      try {
        // Each insert happened or not (its client never heard), but nothing else appeared.
        const { rows } = await check.query<{ id: string }>('SELECT id FROM resources');
        for (const r of rows) expect(r.id).toMatch(/^gone-\d+$/);
        await check.query(`INSERT INTO resources (id) VALUES ('after')`);
        expect((await check.query(`SELECT id FROM resources WHERE id = 'after'`)).rows).toEqual([{ id: 'after' }]);
      } finally {
        await check.end();
      }
    });
  });

  describe('oversized messages', () => {
    it(`a message of exactly ${MAX_MESSAGE_BYTES} bytes is served; one byte more is FATAL 54000 and the server hangs up`, async () => {
      const c = await loggedIn(srv);
      c.send(queryOfLength('SELECT 1', MAX_MESSAGE_BYTES));
      expect(await c.untilReady()).toEqual([['1']]);
      c.send(queryOfLength('SELECT 1', MAX_MESSAGE_BYTES + 1));
      await c.untilClosed();
      expect(c.endedByServer).toBe(true);
      expect(summary(c.errors())).toEqual(['FATAL 54000']);
    });

    it('an oversized length is refused from the header alone: the server does not wait for the body', async () => {
      for (const [code, declared] of [
        ['Q', MAX_MESSAGE_BYTES + 1],
        ['P', 2 ** 31 - 1],
        ['B', 1 << 20],
        ['d', 2 ** 31 - 1],
      ] as const) {
        const c = await loggedIn(srv);
        c.send(frameHeader(code, declared));
        await c.untilClosed();
        expect(c.endedByServer).toBe(true);
        expect(summary(c.errors()), `${code} declaring ${declared} bytes`).toEqual(['FATAL 54000']);
      }
    });

    it('a length below 4 (the length field itself) cannot be, and is FATAL 08P01', async () => {
      for (const declared of [3, 0, -1, -(2 ** 31)]) {
        const c = await loggedIn(srv);
        c.send(frameHeader('Q', declared));
        await c.untilClosed();
        expect(c.endedByServer).toBe(true);
        expect(summary(c.errors()), `declaring ${declared} bytes`).toEqual(['FATAL 08P01']);
      }
    });

    it('a pg client whose query is over the limit gets 54000 and is disconnected; other clients carry on', async () => {
      const c = await connectPg(srv, 'abuse');
      const err = await pgError(c.query(`SELECT '${'x'.repeat(MAX_MESSAGE_BYTES)}'`));
      expect(err.code).toBe('54000');
      await expect(c.query('SELECT 1')).rejects.toThrow();
      await c.end().catch(() => undefined);
    });

    it('a startup packet over 10,000 bytes is FATAL 54000 even where messages may be larger; exactly 10,000 is fine', async () => {
      const roomy = await startServer({}, { log });
      try {
        expect(roomy.server.maxMessageBytes).toBeGreaterThan(10_000);
        const fits = await rawClient(roomy.port);
        fits.send(startupOfLength(10_000));
        await fits.next('authenticationSASL');
        fits.destroy();

        const over = await rawClient(roomy.port);
        over.send(startupOfLength(10_001));
        await over.untilClosed();
        expect(over.endedByServer).toBe(true);
        expect(summary(over.errors())).toEqual(['FATAL 54000']);
        // The server refuses it from the length alone: the body need not arrive.
        const header = await rawClient(roomy.port);
        header.send(startupOfLength(50_000).subarray(0, 8));
        await header.untilClosed();
        expect(summary(header.errors())).toEqual(['FATAL 54000']);
      } finally {
        await roomy.close();
      }
    });
  });

  describe('many clients', () => {
    it('200 pg clients connecting at once all log in, and each books its own slot', async () => {
      const setup = await connectPg(srv, 'crowd');
      await setup.query(`INSERT INTO resources (id, name) VALUES ('hall', 'Concert hall')`);
      const crowd = await Promise.all(Array.from({ length: 200 }, () => connectPg(srv, 'crowd')));
      expect(srv.server.connectionCount).toBe(idle.sessions + 1 + 200);
      const booked = await Promise.all(
        crowd.map((c, i) =>
          c.query<{ id: string }>(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'hall', $2, $3) RETURNING id`, [
            `seat-${i}`,
            i * HOUR,
            (i + 1) * HOUR,
          ]),
        ),
      );
      expect(booked.map((r) => r.rows[0]?.id)).toEqual(crowd.map((_, i) => `seat-${i}`));
      expect((await setup.query(`SELECT count(*) FROM bookings WHERE resource_id = 'hall'`)).rows).toEqual([{ count: '200' }]);
      await Promise.all([...crowd, setup].map((c) => c.end()));
    });
  });

  describe('random SQL', () => {
    /** Fragments of the SQL allot speaks, and of the SQL that trips lexers. */
    const WORDS = [
      'SELECT',
      'INSERT INTO',
      'UPDATE',
      'DELETE FROM',
      'VALUES',
      'SET',
      'WHERE',
      'FROM',
      'RETURNING',
      'ORDER BY',
      'LIMIT',
      'OFFSET',
      'ON CONFLICT DO NOTHING',
      'AND',
      'OR',
      'NOT',
      'IN',
      'IS NULL',
      'NULL',
      'BEGIN',
      'COMMIT',
      'ROLLBACK',
      'LISTEN',
      'NOTIFY',
      'SHOW',
      'RESET',
      'DEALLOCATE',
      'bookings',
      'resources',
      'availability',
      'holds',
      'rules',
      'outages',
      'policies',
      'policy_usage',
      'pg_catalog.pg_type',
      '*',
      'id',
      'resource_id',
      'start',
      '"end"',
      'capacity',
      'capabilities',
      'count(*)',
      'min_available',
      '=',
      '<',
      '>=',
      '<>',
      '+',
      '-',
      '::int8',
      '::text[]',
      ',',
      '(',
      ')',
      '((',
      '))',
      '[',
      ']',
      'ARRAY[',
      ';',
      '.',
      "'",
      '"',
      "''",
      "'r1'",
      "'2026-03-01T09:00:00Z'",
      "'{a,b}'",
      "'{'",
      "E'\\x'",
      "E'\\\\'",
      "E'\\u12'",
      "U&'\\0041'",
      '$1',
      '$2',
      '$0',
      '$99999',
      '$$',
      '$$ body $$',
      '$tag$',
      '$tag$ x $tag$',
      '--',
      '/*',
      '*/',
      '/* a /* nested */ comment */',
      '0',
      '1',
      '-1',
      '1.5',
      '1e400',
      '9223372036854775807',
      '9223372036854775808',
      '-9223372036854775809',
      'NaN',
      'true',
      '\\',
      '\u00e9',
      '\u{1F4A5}',
      '\ud800',
      '\u0000',
    ];
    /** Statements that work, to be cut and spliced. */
    const STATEMENTS = [
      `SELECT * FROM bookings WHERE resource_id = 'r1' ORDER BY start LIMIT 5`,
      `INSERT INTO bookings (resource_id, start, "end") VALUES ('r1', 1000, 2000) RETURNING id`,
      `INSERT INTO bookings (id, resource_id, start, "end", capabilities) VALUES ('b9', 'r2', '2026-03-01T09:00:00Z', '2026-03-01T10:00:00Z', '{}') ON CONFLICT DO NOTHING`,
      `UPDATE bookings SET "end" = 5000 WHERE id = 'b1'`,
      `DELETE FROM bookings WHERE id = 'b2'`,
      `SELECT start, "end", free FROM availability WHERE resource_id = 'r1' AND start >= 0 AND "end" <= 100000`,
      `INSERT INTO resources (id, parent_id, capacity) VALUES ('r9', 'r1', 2)`,
      `INSERT INTO holds (resource_id, start, "end", expires_at) VALUES ('r2', 0, 10, 9999999999999)`,
      `SELECT count(*) FROM resources`,
      `BEGIN; INSERT INTO bookings (resource_id, start, "end") VALUES ('r2', 50, 60); COMMIT`,
      `SHOW server_version`,
      `SET application_name = 'fuzz'`,
    ];
    const spacing = fc.constantFrom(' ', ' ', '', '\n');
    const soup = fc.array(fc.tuple(fc.constantFrom(...WORDS), spacing), { maxLength: 30 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
    const noise = fc.oneof(fc.string({ maxLength: 120 }), fc.string({ unit: 'binary', maxLength: 120 }));
    const statement = fc.constantFrom(...STATEMENTS);
    const spliced = fc
      .tuple(statement, fc.nat(), fc.oneof(soup, noise))
      .map(([s, at, insert]) => s.slice(0, at % (s.length + 1)) + insert + s.slice(at % (s.length + 1)));
    const cut = fc.tuple(statement, fc.nat()).map(([s, at]) => s.slice(0, at % (s.length + 1)));
    const sqlText = fc
      .oneof(
        soup,
        noise,
        spliced,
        cut,
        fc.array(fc.oneof(spliced, statement, soup), { minLength: 2, maxLength: 4 }).map((parts) => parts.join('; ')),
      )
      // Well under the message limit in UTF-8 (at most 3 bytes per UTF-16 unit).
      .map((s) => s.slice(0, 1_000));

    /** Generous for one short statement; anything slower stalls every client of the server. */
    const ANSWER_WITHIN_MS = 1_000;
    /** Beyond this an answer is taken as never coming (the connection cannot be trusted after). */
    const HANG_MS = 10_000;

    it.each([
      { what: 'INSERT with neither VALUES nor SELECT', sql: 'INSERT INTO resources' },
      { what: 'INSERT with columns but no VALUES', sql: 'INSERT INTO bookings (id, resource_id, start, "end")' },
      { what: 'an identifier glued to an unterminated $$, then 28 quoted strings', sql: `SELECT a$$${"'x', ".repeat(28)}` },
      { what: 'an unterminated $$', sql: `SELECT $$${"'x', ".repeat(28)}` },
      { what: 'an unterminated block comment', sql: 'SELECT 1 /* never closed' },
    ])('found by fuzzing: $what is a syntax error, answered at once', async ({ sql }) => {
      const c = await connectPg(srv, 'fuzz');
      try {
        const t0 = performance.now();
        const err = await pgError(c.query(sql));
        const ms = performance.now() - t0;
        expect(`${err.code}: ${err.message}`).toMatch(/^(42601|0A000): /);
        expect(ms, 'milliseconds to answer, during which the whole server stood still').toBeLessThan(ANSWER_WITHIN_MS);
      } finally {
        await c.end();
      }
    });

    async function seeded(): Promise<pg.Client> {
      const c = await connectPg(srv, 'fuzz');
      await c.query(`INSERT INTO resources (id, capacity) VALUES ('r1', 2), ('r2', 1) ON CONFLICT DO NOTHING`);
      await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'r1', 0, 100), ('b2', 'r2', 0, 100) ON CONFLICT DO NOTHING`);
      return c;
    }

    /**
     * Sends each text; a failure must be a DatabaseError (severity ERROR, a SQLSTATE other than
     * XX000), never a lost connection or a hang. An aborted transaction is rolled back after each
     * text so the next one is judged on its own; that ROLLBACK must work too.
     */
    async function fuzz(
      c: pg.Client,
      texts: readonly string[],
      send: (text: string) => Promise<unknown>,
    ): Promise<{ problems: { text: string; problem: string }[]; slowestMs: number }> {
      const problems: { text: string; problem: string }[] = [];
      let slowestMs = 0;
      for (const text of texts) {
        const t0 = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
        try {
          if ((await Promise.race([send(text), hang])) === 'hang') {
            problems.push({ text, problem: `no answer within ${HANG_MS} ms` });
            break;
          }
        } catch (err) {
          const e = err as Partial<DatabaseError>;
          if (!(err instanceof pg.DatabaseError)) problems.push({ text, problem: `not a DatabaseError: ${String(err)}` });
          else if (e.severity !== 'ERROR' || !SQLSTATE.test(e.code ?? '') || e.code === 'XX000')
            problems.push({ text, problem: `${e.severity} ${e.code}: ${e.message}` });
        } finally {
          clearTimeout(timer);
        }
        const ms = performance.now() - t0;
        if (ms > ANSWER_WITHIN_MS) problems.push({ text, problem: `answered after ${Math.round(ms)} ms` });
        slowestMs = Math.max(slowestMs, ms);
        if (problems.length >= 10) break;
        if (c.getTransactionStatus() !== 'I') {
          try {
            await c.query('ROLLBACK');
          } catch (err) {
            problems.push({ text, problem: `ROLLBACK after it failed: ${String(err)}` });
            break;
          }
        }
      }
      return { problems, slowestMs };
    }

    it('2,000 random statements over the simple protocol: every failure is an ERROR with a SQLSTATE, and the connection stays usable', async () => {
      const c = await seeded();
      const seed = Number(process.env.ALLOT_FUZZ_SEED ?? Date.now() % 2 ** 31);
      const texts = fc.sample(sqlText, { numRuns: 2_000, seed });
      try {
        const { problems } = await fuzz(c, texts, (text) => c.query(text));
        expect(problems, `seed ${seed} (ALLOT_FUZZ_SEED reproduces it)`).toEqual([]);
        expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await c.end();
      }
    });

    it('300 random statements over the extended protocol: the same', async () => {
      const c = await seeded();
      const seed = Number(process.env.ALLOT_FUZZ_SEED ?? Date.now() % 2 ** 31) + 1;
      const texts = fc.sample(sqlText, { numRuns: 300, seed });
      // pg uses the simple protocol when there are no values unless told otherwise.
      try {
        const { problems } = await fuzz(c, texts, (text) => c.query({ text, values: [], queryMode: 'extended' } as pg.QueryConfig));
        expect(problems, `seed ${seed - 1} (ALLOT_FUZZ_SEED reproduces it)`).toEqual([]);
        expect((await c.query({ text: 'SELECT 1 AS one', values: [], queryMode: 'extended' } as pg.QueryConfig)).rows).toEqual([{ one: 1 }]);
      } finally {
        await c.end();
      }
    });
  });

  describe('passwords (SCRAM-SHA-256)', () => {
    it('a wrong password is FATAL 28P01 and the server hangs up; the right one logs in', async () => {
      const err = await pgError(connectPg(srv, 'abuse', { password: 'not-the-password' }));
      expect(err.code).toBe('28P01');

      const raw = await rawClient(srv.port);
      await expect(raw.login({ database: 'abuse', password: 'not-the-password' })).rejects.toThrow(/FATAL 28P01/);
      await raw.untilClosed();
      expect(raw.endedByServer).toBe(true);
      expect(summary(raw.errors())).toEqual(['FATAL 28P01']);

      const right = await connectPg(srv, 'abuse');
      expect((await right.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await right.end();
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('a server with maxConnections 5', () => {
  it('refuses the sixth client with 53300, and admits a new one once a client has left', async () => {
    const srv = await startServer({ maxConnections: 5 }, { log });
    try {
      const five = await Promise.all(Array.from({ length: 5 }, () => connectPg(srv)));
      const refused = await pgError(connectPg(srv));
      expect(refused.code).toBe('53300');
      expect(refused.message).toMatch(/too many clients/);
      expect(srv.server.connectionCount).toBe(5);

      await five[0]!.end();
      await eventually(() => expect(srv.server.connectionCount).toBe(4));
      const next = await connectPg(srv);
      expect((await next.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      for (const c of five.slice(1)) expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await Promise.all([next, ...five.slice(1)].map((c) => c.end()));
      await expectBackTo(srv, { sessions: 0, sockets: 0 });
    } finally {
      await srv.close();
    }
  });
});

describe('a server with a 300 ms startup timeout', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ startupTimeoutMs: 300 }, { log });
  });
  afterEach(async () => {
    hangUpRawClients();
    await expectBackTo(srv, { sessions: 0, sockets: 0 });
  });
  afterAll(async () => {
    await srv.close();
  });

  /** Generous: the timer is 300 ms; anything under two seconds is the timer, not a hang. */
  const HUNG_UP_WITHIN_MS = 2_000;

  it('hangs up on a client that connects and says nothing', async () => {
    const c = await rawClient(srv.port);
    const t0 = Date.now();
    await c.untilClosed(HUNG_UP_WITHIN_MS);
    expect(c.endedByServer).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expectWellFormedErrors(c, ['FATAL']);
  });

  it('hangs up on a client that sends half a startup packet and goes quiet', async () => {
    const c = await rawClient(srv.port);
    c.send(serialize.startup({ user: 'raw', database: 'slow' }).subarray(0, 10));
    await c.untilClosed(HUNG_UP_WITHIN_MS);
    expect(c.endedByServer).toBe(true);
    expectWellFormedErrors(c, ['FATAL']);
  });

  it('sends a FATAL error, then hangs up, to a client that never answers the SASL challenge', async () => {
    const c = await rawClient(srv.port);
    c.send(serialize.startup({ user: 'raw', database: 'slow' }));
    await c.next('authenticationSASL');
    // Still authenticating: it holds a startup slot, not a session slot.
    expect(srv.server.connectionCount).toBe(0);
    expect(srv.server.startupConnectionCount).toBe(1);
    await c.untilClosed(HUNG_UP_WITHIN_MS);
    expect(c.endedByServer).toBe(true);
    expect(c.errors()).toHaveLength(1);
    expect(c.errors()[0]!.severity).toBe('FATAL');
    expectWellFormedErrors(c, ['FATAL']);
  });

  it('stops counting once the client has logged in: idle for twice the timeout, it is still served', async () => {
    const c = await rawClient(srv.port);
    await c.login({ database: 'slow', password: srv.password });
    await sleep(600);
    expect(await c.query('SELECT 1')).toEqual([['1']]);
    expect(c.errors()).toEqual([]);
    c.destroy();
  });
});

describe('a server with cleartext passwords', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ authMethod: 'password' }, { log });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('asks for the password in clear and lets the right one in', async () => {
    const raw = await rawClient(srv.port);
    raw.send(serialize.startup({ user: 'raw', database: 'plain' }));
    await raw.next('authenticationCleartextPassword');
    raw.destroy();

    const c = await connectPg(srv, 'plain');
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });

  it('refuses a wrong password with FATAL 28P01 and hangs up', async () => {
    const err = await pgError(connectPg(srv, 'plain', { password: 'wrong' }));
    expect(err.code).toBe('28P01');

    const raw = await rawClient(srv.port);
    await expect(raw.login({ database: 'plain', password: 'wrong' })).rejects.toThrow(/FATAL 28P01/);
    await raw.untilClosed();
    expect(raw.endedByServer).toBe(true);
    expect(summary(raw.errors())).toEqual(['FATAL 28P01']);
    await expectBackTo(srv, { sessions: 0, sockets: 0 });
  });
});
