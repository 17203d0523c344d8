import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import {
  decodeMessage,
  decodeStartup,
  FrameReader,
  type FrontendMessage,
  MAX_STARTUP_PACKET_BYTES,
  parsePassword,
  parseSaslInitialResponse,
  parseSaslResponse,
  ProtocolError,
} from '../../src/wire/frontend.js';
import { frame, int32s, onlyProtocolErrors, protocolError, startupFrame } from './helpers.js';

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A Query body's text, or the SQLSTATE it is refused with. */
function decodeQueryText(bodyAndTrailer: Buffer): string {
  const end = bodyAndTrailer.indexOf(0);
  try {
    const m = decodeMessage(0x51, bodyAndTrailer.subarray(0, end + 1));
    return m.type === 'Query' ? m.sql : `unexpected ${m.type}`;
  } catch (err) {
    if (err instanceof ProtocolError) return err.sqlstate;
    throw err;
  }
}

/** Every message pg-protocol can send after startup, with what it must decode to. */
const MESSAGES: readonly [Buffer, FrontendMessage][] = [
  [serialize.query('SELECT 1'), { type: 'Query', sql: 'SELECT 1' }],
  [serialize.query(''), { type: 'Query', sql: '' }],
  [serialize.query("SELECT 'żółw 🐢'"), { type: 'Query', sql: "SELECT 'żółw 🐢'" }],
  [serialize.parse({ text: 'SELECT $1' }), { type: 'Parse', name: '', sql: 'SELECT $1', paramTypes: [] }],
  [
    serialize.parse({ name: 's1', text: 'SELECT $1, $2, $3', types: [20, 25, 4294967295] }),
    { type: 'Parse', name: 's1', sql: 'SELECT $1, $2, $3', paramTypes: [20, 25, 4294967295] },
  ],
  [serialize.bind(), { type: 'Bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [0] }],
  [
    serialize.bind({ portal: 'p1', statement: 's1', values: ['a', null, Buffer.from([1, 2]), ''], binary: true }),
    {
      type: 'Bind',
      portal: 'p1',
      statement: 's1',
      paramFormats: [0, 0, 1, 0],
      params: [Buffer.from('a'), null, Buffer.from([1, 2]), Buffer.alloc(0)],
      resultFormats: [1],
    },
  ],
  [serialize.describe({ type: 'S', name: 's1' }), { type: 'Describe', kind: 'S', name: 's1' }],
  [serialize.describe({ type: 'P' }), { type: 'Describe', kind: 'P', name: '' }],
  [serialize.execute(), { type: 'Execute', portal: '', maxRows: 0 }],
  [serialize.execute({ portal: 'p1', rows: 10 }), { type: 'Execute', portal: 'p1', maxRows: 10 }],
  [serialize.close({ type: 'S', name: 's1' }), { type: 'Close', kind: 'S', name: 's1' }],
  [serialize.close({ type: 'P' }), { type: 'Close', kind: 'P', name: '' }],
  [serialize.sync(), { type: 'Sync' }],
  [serialize.flush(), { type: 'Flush' }],
  [serialize.end(), { type: 'Terminate' }],
  [serialize.password('hunter2'), { type: 'Password', data: Buffer.from('hunter2\0') }],
  [serialize.copyData(Buffer.from('1\t2\n')), { type: 'CopyData', data: Buffer.from('1\t2\n') }],
  [serialize.copyDone(), { type: 'CopyDone' }],
  [serialize.copyFail('client gave up'), { type: 'CopyFail', message: 'client gave up' }],
  [frame('F', int32s(1234)), { type: 'FunctionCall' }],
  [frame('z', [1, 2, 3]), { type: 'Unknown', code: 'z'.charCodeAt(0) }],
];

const STREAM = Buffer.concat(MESSAGES.map(([bytes]) => bytes));
const EXPECTED = MESSAGES.map(([, message]) => message);

/** Pushes the chunks, draining messages after each one as a socket handler would. */
function decodeChunks(chunks: readonly Buffer[], reader = new FrameReader(MAX_MESSAGE_BYTES)): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let m = reader.next(); m !== null; m = reader.next()) out.push(decodeMessage(m.code, m.body));
  }
  expect(reader.buffered).toBe(0);
  return out;
}

function bytewise(b: Buffer): Buffer[] {
  return [...b].map((byte) => Buffer.of(byte));
}

function splitAt(b: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, b.length]) {
    chunks.push(b.subarray(from, p));
    from = p;
  }
  return chunks;
}

describe('FrameReader and decodeMessage', () => {
  it('decodes every message pg-protocol sends, in one chunk', () => {
    expect(decodeChunks([STREAM])).toEqual(EXPECTED);
  });

  it('decodes the same stream fed one byte at a time', () => {
    expect(decodeChunks(bytewise(STREAM))).toEqual(EXPECTED);
  });

  it('decodes the same stream however the socket splits it', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(decodeChunks(splitAt(STREAM, cuts))).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it('returns null and keeps the bytes until a message is complete', () => {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    const query = serialize.query('SELECT 1');
    reader.push(query.subarray(0, 3));
    expect(reader.next()).toBeNull();
    reader.push(query.subarray(3, 7));
    expect(reader.next()).toBeNull();
    expect(reader.buffered).toBe(7);
    reader.push(query.subarray(7));
    expect(reader.next()).toEqual({ code: 0x51, body: Buffer.from('SELECT 1\0') });
    expect(reader.next()).toBeNull();
    expect(reader.buffered).toBe(0);
  });

  it('never overwrites a returned body: Bind parameters may outlive later reads', () => {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    const bind = serialize.bind({ values: ['first', Buffer.from('binary')] });
    const bodies: Buffer[] = [];
    for (const chunk of [...bytewise(bind), bind, bind.subarray(0, 10)]) {
      reader.push(chunk);
      for (let m = reader.next(); m !== null; m = reader.next()) bodies.push(m.body);
    }
    reader.push(Buffer.alloc(4096, 0xff));
    for (const body of bodies) {
      expect(decodeMessage(0x42, body)).toMatchObject({ params: [Buffer.from('first'), Buffer.from('binary')] });
    }
  });

  it('drains a long pipeline of one-chunk messages', () => {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    const count = 20_000;
    for (let i = 0; i < count; i++) reader.push(serialize.sync());
    expect(reader.buffered).toBe(count * 5);
    let seen = 0;
    for (let m = reader.next(); m !== null; m = reader.next()) seen++;
    expect(seen).toBe(count);
    expect(reader.buffered).toBe(0);
  });

  it('assembles a large message fed one byte at a time', () => {
    const sql = `SELECT '${'x'.repeat(300_000)}'`;
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    let got: FrontendMessage | null = null;
    for (const chunk of bytewise(serialize.query(sql))) {
      reader.push(chunk);
      const m = reader.next();
      if (m !== null) got = decodeMessage(m.code, m.body);
    }
    expect(got).toEqual({ type: 'Query', sql });
  });

  it('refuses a declared length above the limit as soon as the header arrives', () => {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    reader.push(frame('Q').subarray(0, 1));
    reader.push(int32s(123456789));
    const err = protocolError(() => reader.next());
    expect(err.message).toBe('message of 123456789 bytes exceeds the limit of 16777216');
    expect(err.sqlstate).toBe('54000');
  });

  it('refuses a declared length below 4, negative included', () => {
    for (const length of [0, 3, -1, -2147483648]) {
      const reader = new FrameReader(MAX_MESSAGE_BYTES);
      reader.push(Buffer.concat([Buffer.from('Q'), int32s(length)]));
      const err = protocolError(() => reader.next());
      expect(err.sqlstate).toBe('08P01');
      expect(err.message).toBe(`invalid message length ${length}`);
    }
  });

  it('accepts a message of exactly the limit', () => {
    const reader = new FrameReader(4 + 9);
    reader.push(serialize.query('SELECT 1'));
    expect(reader.next()?.body.length).toBe(9);
  });

  it('validates Bind format codes and their count', () => {
    const badFormat = Buffer.concat([Buffer.from('\0\0'), Buffer.from([0, 1, 0, 2]), Buffer.from([0, 0, 0, 0])]);
    const err = protocolError(() => decodeMessage(0x42, badFormat));
    expect(err.message).toBe('unsupported format code: 2');
    expect(err.sqlstate).toBe('22023');

    // Two formats for three parameters.
    const formats = Buffer.from([0, 2, 0, 0, 0, 1]);
    const params = Buffer.concat([Buffer.from([0, 3]), int32s(-1, -1, -1)]);
    const mismatched = Buffer.concat([Buffer.from('\0\0'), formats, params, Buffer.from([0, 0])]);
    expect(protocolError(() => decodeMessage(0x42, mismatched)).message).toBe('bind message has 2 parameter formats but 3 parameters');

    // A parameter length below -1.
    const negative = Buffer.concat([Buffer.from('\0\0'), Buffer.from([0, 0, 0, 1]), int32s(-2), Buffer.from([0, 0])]);
    expect(protocolError(() => decodeMessage(0x42, negative)).message).toBe('malformed Bind message');
  });

  it('treats a negative Execute row limit as no limit', () => {
    expect(decodeMessage(0x45, Buffer.concat([Buffer.from('\0'), int32s(-5)]))).toEqual({ type: 'Execute', portal: '', maxRows: 0 });
  });

  it('refuses a Describe or Close of anything but S or P', () => {
    expect(protocolError(() => decodeMessage(0x44, Buffer.from('Xname\0'))).message).toBe('malformed Describe message');
    expect(protocolError(() => decodeMessage(0x43, Buffer.from('Xname\0'))).message).toBe('malformed Close message');
  });

  it('refuses invalid UTF-8 instead of replacing it', () => {
    const err = protocolError(() => decodeMessage(0x51, Buffer.from([0x53, 0xc3, 0x28, 0])));
    expect(err.sqlstate).toBe('22021');
  });

  it('decodes names and texts of any length as Node decodes valid UTF-8, and refuses the rest (short ASCII takes a quicker path)', () => {
    const byte = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 0x7f }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xff }) });
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 100 }), fc.nat(3), (bytes, pad) => {
        // The string sits inside a larger buffer, as a cstring does inside its message.
        const body = Buffer.concat([Buffer.alloc(pad, 0x41), Buffer.from(bytes), Buffer.from([0]), Buffer.alloc(pad, 0xff)]);
        const text = Buffer.from(bytes);
        const r = decodeQueryText(body.subarray(pad));
        if (isUtf8(text)) expect(r).toBe(text.toString('utf8'));
        else expect(r).toBe('22021');
      }),
      { numRuns: 2000 },
    );
  });

  it('throws ProtocolError for every truncation and any trailing byte of a structured message', () => {
    const structured = MESSAGES.filter(([, m]) => !['Password', 'CopyData', 'FunctionCall', 'Unknown'].includes(m.type));
    for (const [bytes] of structured) {
      const code = bytes[0]!;
      const body = bytes.subarray(5);
      for (let cut = 0; cut < body.length; cut++) {
        expect(protocolError(() => decodeMessage(code, body.subarray(0, cut))).message).toMatch(/^malformed \w+ message$/);
      }
      protocolError(() => decodeMessage(code, Buffer.concat([body, Buffer.of(0)])));
    }
  });

  it('throws only ProtocolError on 2,000 random streams', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const reader = new FrameReader(256);
        reader.push(Buffer.from(bytes));
        onlyProtocolErrors(() => {
          for (let m = reader.next(); m !== null; m = reader.next()) decodeMessage(m.code, m.body);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only ProtocolError on random bodies of every message type', () => {
    const codes = [...'QPBDECSHXpFdcfz'].map((c) => c.charCodeAt(0));
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.uint8Array({ maxLength: 64 }), (code, body) => {
        onlyProtocolErrors(() => decodeMessage(code, Buffer.from(body)));
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only ProtocolError on valid messages with corrupted bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MESSAGES.map(([b]) => b)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (bytes, edits) => {
          const body = Buffer.from(bytes.subarray(5));
          for (const [at, value] of edits) if (body.length > 0) body[at % body.length] = value;
          onlyProtocolErrors(() => decodeMessage(bytes[0]!, body));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('startup packets', () => {
  function readStartup(bytes: Buffer) {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    reader.push(bytes);
    const body = reader.nextStartup();
    if (body === null) throw new Error('incomplete startup packet');
    return decodeStartup(body);
  }

  it('decodes the startup message pg sends', () => {
    expect(readStartup(serialize.startup({ user: 'alice', database: 'tenant_a', application_name: 'psql' }))).toEqual({
      type: 'Startup',
      protocolMajor: 3,
      protocolMinor: 0,
      params: new Map([
        ['user', 'alice'],
        ['database', 'tenant_a'],
        ['application_name', 'psql'],
        ['client_encoding', 'UTF8'],
      ]),
    });
  });

  it('decodes SSLRequest, GSSENCRequest and CancelRequest', () => {
    expect(readStartup(serialize.requestSsl())).toEqual({ type: 'SSLRequest' });
    expect(readStartup(startupFrame(int32s(80877104)))).toEqual({ type: 'GSSENCRequest' });
    expect(readStartup(serialize.cancel(4242, -123456789))).toEqual({ type: 'CancelRequest', processId: 4242, secretKey: -123456789 });
  });

  it('reads SSLRequest, then the startup packet, then typed messages from one stream, byte by byte', () => {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    const chunks = bytewise(Buffer.concat([serialize.requestSsl(), serialize.startup({ user: 'bob' }), serialize.query('SELECT 1')]));
    const seen: unknown[] = [];
    let phase: 'ssl' | 'startup' | 'ready' = 'ssl';
    for (const chunk of chunks) {
      reader.push(chunk);
      if (phase !== 'ready') {
        const body = reader.nextStartup();
        if (body === null) continue;
        const packet = decodeStartup(body);
        seen.push(packet.type);
        phase = packet.type === 'SSLRequest' ? 'startup' : 'ready';
        continue;
      }
      const m = reader.next();
      if (m !== null) seen.push(decodeMessage(m.code, m.body));
    }
    expect(seen).toEqual(['SSLRequest', 'Startup', { type: 'Query', sql: 'SELECT 1' }]);
  });

  it('accepts a newer minor version for the session to negotiate down', () => {
    const body = Buffer.concat([int32s((3 << 16) | 2), Buffer.from('user\0u\0_pq_.x\0y\0\0')]);
    const packet = decodeStartup(body);
    expect(packet).toMatchObject({ type: 'Startup', protocolMajor: 3, protocolMinor: 2 });
  });

  it('refuses protocol 2.0 with feature_not_supported', () => {
    const err = protocolError(() => decodeStartup(Buffer.concat([int32s(2 << 16), Buffer.from('user\0u\0\0')])));
    expect(err.message).toBe('unsupported frontend protocol 2.0: server supports 3.0');
    expect(err.sqlstate).toBe('0A000');
  });

  it('refuses malformed startup bodies', () => {
    const v3 = int32s(3 << 16);
    const cases = [
      Buffer.alloc(0),
      Buffer.from([0, 3, 0]),
      Buffer.concat([v3, Buffer.from('user\0alice\0')]), // no final terminator
      Buffer.concat([v3, Buffer.from('user\0alice')]), // value not terminated
      Buffer.concat([v3, Buffer.from('user\0')]), // key without value
      Buffer.concat([v3, Buffer.from('user\0alice\0\0extra')]), // bytes after the terminator
      Buffer.concat([int32s(80877103), Buffer.of(0)]), // SSLRequest with a tail
      int32s(80877102, 1), // CancelRequest without a key
    ];
    for (const body of cases) expect(protocolError(() => decodeStartup(body)).message).toBe('malformed startup packet');
  });

  it('refuses startup lengths below 8 and above the startup limit', () => {
    for (const length of [0, 4, 7, -1]) {
      const reader = new FrameReader(MAX_MESSAGE_BYTES);
      reader.push(int32s(length));
      expect(protocolError(() => reader.nextStartup()).message).toBe(`invalid startup packet length ${length}`);
    }
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    reader.push(int32s(MAX_STARTUP_PACKET_BYTES + 1));
    const err = protocolError(() => reader.nextStartup());
    expect(err.message).toBe(`startup packet of ${MAX_STARTUP_PACKET_BYTES + 1} bytes exceeds the limit of ${MAX_STARTUP_PACKET_BYTES}`);
    expect(err.sqlstate).toBe('54000');
  });

  it('throws only ProtocolError on 2,000 random startup packets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, versioned) => {
        // Half the runs start with a 3.0 version so the parameter parsing is reached.
        const body = versioned ? Buffer.concat([int32s(3 << 16), Buffer.from(bytes)]) : Buffer.from(bytes);
        onlyProtocolErrors(() => decodeStartup(body));
        const reader = new FrameReader(MAX_MESSAGE_BYTES);
        reader.push(Buffer.from(bytes));
        onlyProtocolErrors(() => {
          const packet = reader.nextStartup();
          if (packet !== null) decodeStartup(packet);
        });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('password message bodies', () => {
  function passwordData(bytes: Buffer): Buffer {
    const reader = new FrameReader(MAX_MESSAGE_BYTES);
    reader.push(bytes);
    const m = reader.next();
    if (m === null) throw new Error('incomplete message');
    const decoded = decodeMessage(m.code, m.body);
    if (decoded.type !== 'Password') throw new Error(`expected Password, got ${decoded.type}`);
    return decoded.data;
  }

  it('reads a cleartext password', () => {
    expect(parsePassword(passwordData(serialize.password('hunter2')))).toBe('hunter2');
    expect(protocolError(() => parsePassword(Buffer.from('no terminator'))).message).toBe('malformed PasswordMessage');
  });

  it('reads SASLInitialResponse and SASLResponse as pg sends them', () => {
    const initial = passwordData(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abc'));
    expect(parseSaslInitialResponse(initial)).toEqual({ mechanism: 'SCRAM-SHA-256', response: 'n,,n=*,r=abc' });
    const final = passwordData(serialize.sendSCRAMClientFinalMessage('c=biws,r=abc,p=xyz'));
    expect(parseSaslResponse(final)).toBe('c=biws,r=abc,p=xyz');
  });

  it('reads an absent initial response (length -1) as empty', () => {
    expect(parseSaslInitialResponse(Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), int32s(-1)]))).toEqual({
      mechanism: 'SCRAM-SHA-256',
      response: '',
    });
  });

  it('refuses truncated or padded SASLInitialResponse', () => {
    const good = Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), int32s(3), Buffer.from('abc')]);
    for (let cut = 0; cut < good.length; cut++) protocolError(() => parseSaslInitialResponse(good.subarray(0, cut)));
    protocolError(() => parseSaslInitialResponse(Buffer.concat([good, Buffer.of(0)])));
    protocolError(() => parseSaslInitialResponse(Buffer.concat([Buffer.from('M\0'), int32s(-2)])));
  });

  it('throws only ProtocolError on random SASL bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        onlyProtocolErrors(() => parseSaslInitialResponse(Buffer.from(bytes)));
        onlyProtocolErrors(() => parsePassword(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('is an AllotError carrying its SQLSTATE', () => {
    const err = new ProtocolError('x');
    expect(err.sqlstate).toBe('08P01');
    expect(err).toBeInstanceOf(AllotError);
  });
});
