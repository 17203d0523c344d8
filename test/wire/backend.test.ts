import fc from 'fast-check';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  backendKeyData,
  bindComplete,
  closeComplete,
  commandComplete,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  type FieldDescription,
  negotiateProtocolVersion,
  noData,
  noticeResponse,
  notificationResponse,
  OutBuffer,
  parameterDescription,
  parameterStatus,
  parseComplete,
  portalSuspended,
  readyForQuery,
  rowDescription,
  sslResponse,
} from '../../src/wire/backend.js';

/** Decodes everything in the buffer with node-postgres' own parser. */
function parse(bytes: Buffer): Record<string, unknown>[] {
  const messages: Record<string, unknown>[] = [];
  new Parser().parse(bytes, (m: BackendMessage) => messages.push({ ...m, message: (m as { message?: string }).message }));
  return messages;
}

function one(write: (out: OutBuffer) => void): Record<string, unknown> {
  const out = new OutBuffer();
  write(out);
  const messages = parse(out.take());
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

/** Splits an ErrorResponse/NoticeResponse body into its raw fields, V included (Parser drops it). */
function rawFields(bytes: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let at = 5;
  while (bytes[at] !== 0) {
    const end = bytes.indexOf(0, at + 1);
    fields[String.fromCharCode(bytes[at]!)] = bytes.toString('utf8', at + 1, end);
    at = end + 1;
  }
  expect(at).toBe(bytes.length - 1);
  return fields;
}

describe('authentication and startup messages', () => {
  it('AuthenticationOk and AuthenticationCleartextPassword', () => {
    expect(one(authenticationOk)).toMatchObject({ name: 'authenticationOk', length: 8 });
    expect(one(authenticationCleartextPassword)).toMatchObject({ name: 'authenticationCleartextPassword', length: 8 });
  });

  it('AuthenticationSASL lists mechanisms', () => {
    expect(one((out) => authenticationSASL(out, ['SCRAM-SHA-256']))).toMatchObject({
      name: 'authenticationSASL',
      mechanisms: ['SCRAM-SHA-256'],
    });
    expect(one((out) => authenticationSASL(out, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']))).toMatchObject({
      mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
    });
  });

  it('AuthenticationSASLContinue and AuthenticationSASLFinal carry unterminated data', () => {
    const first = 'r=abcdef,s=c2FsdA==,i=4096';
    expect(one((out) => authenticationSASLContinue(out, first))).toMatchObject({ name: 'authenticationSASLContinue', data: first });
    expect(one((out) => authenticationSASLFinal(out, 'v=c2lnbmF0dXJl'))).toMatchObject({ name: 'authenticationSASLFinal', data: 'v=c2lnbmF0dXJl' });
  });

  it('ParameterStatus and BackendKeyData', () => {
    expect(one((out) => parameterStatus(out, 'server_version', '16.0 (allot)'))).toMatchObject({
      name: 'parameterStatus',
      parameterName: 'server_version',
      parameterValue: '16.0 (allot)',
    });
    expect(one((out) => backendKeyData(out, 77, -2_000_000_000))).toMatchObject({ name: 'backendKeyData', processID: 77, secretKey: -2_000_000_000 });
  });

  it('ReadyForQuery in each transaction status', () => {
    for (const status of ['I', 'T', 'E'] as const) {
      expect(one((out) => readyForQuery(out, status))).toMatchObject({ name: 'readyForQuery', status });
    }
  });

  it('NegotiateProtocolVersion (which pg-protocol cannot parse) has the documented layout', () => {
    const out = new OutBuffer();
    negotiateProtocolVersion(out, 0, ['_pq_.compression', '_pq_.x']);
    const b = out.take();
    expect(b.toString('latin1', 0, 1)).toBe('v');
    expect(b.readInt32BE(1)).toBe(b.length - 1);
    expect(b.readInt32BE(5)).toBe(0);
    expect(b.readInt32BE(9)).toBe(2);
    expect(b.subarray(13).toString()).toBe('_pq_.compression\0_pq_.x\0');
  });

  it('answers SSLRequest with one unframed byte', () => {
    const out = new OutBuffer();
    sslResponse(out, 'N');
    expect(out.take()).toEqual(Buffer.from('N'));
  });
});

describe('result messages', () => {
  const fields: FieldDescription[] = [
    { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 25, typeSize: -1, typeMod: -1, format: 0 },
    { name: 'start', tableOid: 4294967295, columnAttr: 2, typeOid: 1184, typeSize: 8, typeMod: -1, format: 1 },
    { name: 'ünïcode', tableOid: 0, columnAttr: 0, typeOid: 20, typeSize: 8, typeMod: 0, format: 0 },
  ];

  it('RowDescription keeps every field attribute', () => {
    const m = one((out) => rowDescription(out, fields));
    expect(m).toMatchObject({ name: 'rowDescription', fieldCount: 3 });
    expect(m.fields).toEqual([
      { name: 'id', tableID: 16384, columnID: 1, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' },
      { name: 'start', tableID: 4294967295, columnID: 2, dataTypeID: 1184, dataTypeSize: 8, dataTypeModifier: -1, format: 'binary' },
      { name: 'ünïcode', tableID: 0, columnID: 0, dataTypeID: 20, dataTypeSize: 8, dataTypeModifier: 0, format: 'text' },
    ]);
  });

  it('RowDescription with no columns', () => {
    expect(one((out) => rowDescription(out, []))).toMatchObject({ name: 'rowDescription', fieldCount: 0, fields: [] });
  });

  it('DataRow writes strings as UTF-8, Buffers as they are and null as -1', () => {
    const long = 'é'.repeat(5000);
    const m = one((out) => dataRow(out, ['r1', null, '', Buffer.from('raw'), '🐢 żółw', long]));
    expect(m).toMatchObject({ name: 'dataRow', fields: ['r1', null, '', 'raw', '🐢 żółw', long] });
  });

  it('CommandComplete, EmptyQueryResponse and the extended-protocol acknowledgements', () => {
    expect(one((out) => commandComplete(out, 'INSERT 0 3'))).toMatchObject({ name: 'commandComplete', text: 'INSERT 0 3' });
    expect(one(emptyQueryResponse)).toMatchObject({ name: 'emptyQuery', length: 4 });
    expect(one(parseComplete)).toMatchObject({ name: 'parseComplete', length: 4 });
    expect(one(bindComplete)).toMatchObject({ name: 'bindComplete', length: 4 });
    expect(one(closeComplete)).toMatchObject({ name: 'closeComplete', length: 4 });
    expect(one(noData)).toMatchObject({ name: 'noData', length: 4 });
    expect(one(portalSuspended)).toMatchObject({ name: 'portalSuspended', length: 4 });
  });

  it('ParameterDescription lists unsigned oids', () => {
    expect(one((out) => parameterDescription(out, [25, 20, 0, 4294967295]))).toMatchObject({
      name: 'parameterDescription',
      parameterCount: 4,
      dataTypeIDs: [25, 20, 0, 4294967295],
    });
  });

  it('NotificationResponse', () => {
    expect(one((out) => notificationResponse(out, 42, 'bookings', '{"id":"b1"}'))).toMatchObject({
      name: 'notification',
      processId: 42,
      channel: 'bookings',
      payload: '{"id":"b1"}',
    });
  });

  it('a whole reply in one buffer decodes in order', () => {
    const out = new OutBuffer();
    parseComplete(out);
    bindComplete(out);
    rowDescription(out, fields.slice(0, 1));
    for (let i = 0; i < 1000; i++) dataRow(out, [`row-${i}`]);
    commandComplete(out, 'SELECT 1000');
    readyForQuery(out, 'I');
    const names = parse(out.take()).map((m) => m.name);
    expect(names).toEqual(['parseComplete', 'bindComplete', 'rowDescription', ...Array<string>(1000).fill('dataRow'), 'commandComplete', 'readyForQuery']);
  });
});

describe('errors and notices', () => {
  it('ErrorResponse carries S, V, C, M, D, H and P', () => {
    const out = new OutBuffer();
    errorResponse(out, {
      severity: 'ERROR',
      code: '23P01',
      message: 'booking "b" conflicts with "a"',
      detail: '{"conflicts":["a"]}',
      hint: 'pick another slot',
      position: 17,
    });
    const b = out.take();
    expect(parse(b)[0]).toMatchObject({
      name: 'error',
      message: 'booking "b" conflicts with "a"',
      severity: 'ERROR',
      code: '23P01',
      detail: '{"conflicts":["a"]}',
      hint: 'pick another slot',
      position: '17',
    });
    expect(rawFields(b)).toEqual({
      S: 'ERROR',
      V: 'ERROR',
      C: '23P01',
      M: 'booking "b" conflicts with "a"',
      D: '{"conflicts":["a"]}',
      H: 'pick another slot',
      P: '17',
    });
  });

  it('omits the optional fields that are not given', () => {
    const out = new OutBuffer();
    noticeResponse(out, { severity: 'NOTICE', code: '00000', message: 'nothing to do' });
    const b = out.take();
    expect(parse(b)[0]).toMatchObject({ name: 'notice', message: 'nothing to do', severity: 'NOTICE', code: '00000' });
    expect(rawFields(b)).toEqual({ S: 'NOTICE', V: 'NOTICE', C: '00000', M: 'nothing to do' });
  });

  it('still delivers an error whose text contains NUL', () => {
    const out = new OutBuffer();
    errorResponse(out, { severity: 'FATAL', code: '08P01', message: 'bad\0id' });
    expect(parse(out.take())[0]).toMatchObject({ message: 'bad\uFFFDid', severity: 'FATAL' });
  });
});

describe('OutBuffer', () => {
  it('grows past its initial capacity and hands back exactly what was written', () => {
    const out = new OutBuffer(16);
    const values = Array.from({ length: 200 }, (_, i) => `value-${i}`);
    dataRow(out, values);
    expect(out.length).toBeGreaterThan(16);
    expect(parse(out.take())[0]).toMatchObject({ fields: values });
    expect(out.length).toBe(0);
  });

  it('never overwrites a taken buffer, small or large', () => {
    const out = new OutBuffer(64);
    commandComplete(out, 'A');
    const small = out.take(); // copied out, capacity reused
    commandComplete(out, 'x'.repeat(100));
    const large = out.take(); // the buffer itself handed over
    commandComplete(out, 'B');
    commandComplete(out, 'y'.repeat(100));
    out.take();
    expect(parse(small)).toMatchObject([{ text: 'A' }]);
    expect(parse(large)).toMatchObject([{ text: 'x'.repeat(100) }]);
  });

  it('frames with begin/end and refuses misuse', () => {
    const out = new OutBuffer();
    out.begin('C').cstring('SELECT 0').end();
    expect(() => out.end()).toThrow('without begin');
    out.begin('C');
    expect(() => out.begin('C')).toThrow('inside an open message');
    expect(() => out.take()).toThrow('inside an open message');
    out.cstring('SELECT 1').end();
    expect(parse(out.take()).map((m) => m.text)).toEqual(['SELECT 0', 'SELECT 1']);
  });

  it('refuses a NUL inside a C string, and truncate() drops the half-written message', () => {
    const out = new OutBuffer();
    commandComplete(out, 'SELECT 1');
    const mark = out.length;
    expect(() => commandComplete(out, 'SEL\0ECT')).toThrow(AllotError);
    out.truncate(mark);
    readyForQuery(out, 'I');
    expect(parse(out.take()).map((m) => m.name)).toEqual(['commandComplete', 'readyForQuery']);
  });

  it('refuses to grow past its limit with 54000', () => {
    const out = new OutBuffer(16, 1024);
    commandComplete(out, 'x'.repeat(1000));
    let err: unknown;
    try {
      commandComplete(out, 'y'.repeat(100));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AllotError);
    expect(err).toMatchObject({ sqlstate: '54000' });
    expect((err as Error).message).toMatch(/^reply of \d+ bytes exceeds the limit of 1024$/);
  });

  it('refuses more columns than an int16 count can say', () => {
    expect(() => dataRow(new OutBuffer(), new Array<null>(40_000).fill(null))).toThrow('40000 columns exceed the protocol limit of 32767');
  });
});

describe('int32PrefixedDecimal', () => {
  it('writes safe integers as PostgreSQL prints them', async () => {
    const { OutBuffer } = await import('../../src/wire/backend.js');
    for (const n of [
      0,
      7,
      -7,
      10,
      99999999,
      100000000,
      100000001,
      1772355600000,
      -1772355600000,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      1e15 + 3,
    ]) {
      const out = new OutBuffer();
      out.int32PrefixedDecimal(n);
      const b = out.take();
      expect([b.readInt32BE(0), b.subarray(4).toString()]).toEqual([String(n).length, String(n)]);
    }
  });

  it('agrees with String(n) for every safe integer', async () => {
    const { OutBuffer } = await import('../../src/wire/backend.js');
    const out = new OutBuffer();
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 1e12, max: 1e14 })), (n) => {
        out.int32PrefixedDecimal(n);
        const b = out.take();
        expect(b.subarray(4).toString()).toBe(String(n));
        expect(b.readInt32BE(0)).toBe(b.length - 4);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('textDataRow', () => {
  it('writes a result row as dataRow does with each value in text form', async () => {
    const { OutBuffer, dataRow, textDataRow } = await import('../../src/wire/backend.js');
    const row = [null, 'héllo', 1772355600000, -3, true, false, ['a', 'b c', null]];
    const a = new OutBuffer();
    textDataRow(a, row);
    const b = new OutBuffer();
    dataRow(b, [null, 'héllo', 1772355600000, -3, 't', 'f', '{a,"b c",NULL}']);
    expect(a.take()).toEqual(b.take());
  });

  it('writes rows of strings, integers and nulls in one pass exactly as value by value', async () => {
    const { OutBuffer, textDataRow } = await import('../../src/wire/backend.js');
    const value = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 5 }),
      fc.maxSafeInteger(),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.integer({ min: 1e12, max: 1e14 }),
    );
    const fast = new OutBuffer(64);
    const slow = new OutBuffer(64);
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 12 }), { minLength: 1, maxLength: 20 }), (rows) => {
        for (const row of rows) {
          textDataRow(fast, row);
          slow.begin('D').int16(row.length);
          for (const v of row) {
            if (v === null) slow.int32(-1);
            else if (typeof v === 'string') slow.int32PrefixedUtf8(v);
            else slow.int32PrefixedDecimal(v);
          }
          slow.end();
        }
        const bytes = fast.take();
        expect(bytes).toEqual(slow.take());
        const got = parse(bytes).map((m) => (m as unknown as { fields: (string | null)[] }).fields);
        expect(got).toEqual(rows.map((r) => r.map((v) => (v === null ? null : String(v)))));
      }),
      { numRuns: 1000 },
    );
  });

  it('near the size limit writes a row that fits exactly and refuses one that does not, with 54000', async () => {
    const { OutBuffer, textDataRow } = await import('../../src/wire/backend.js');
    // 7 + (4 + 30) + (4 + 13) = 58 bytes; the per-value estimate (3 bytes a character) is 144.
    const out = new OutBuffer(16, 60);
    textDataRow(out, ['x'.repeat(30), 1772355600000]);
    expect(out.length).toBe(58);
    const before = out.length;
    expect(() => textDataRow(out, [1])).toThrow(expect.objectContaining({ sqlstate: '54000' }));
    out.truncate(before);
    expect(parse(out.take()).map((m) => (m as unknown as { fields: string[] }).fields)).toEqual([['x'.repeat(30), '1772355600000']]);
  });

  it('refuses a number that is not a safe integer, writing nothing', async () => {
    const { OutBuffer, textDataRow } = await import('../../src/wire/backend.js');
    const out = new OutBuffer();
    textDataRow(out, ['a', 1]);
    const before = out.length;
    expect(() => textDataRow(out, ['b', 1.5])).toThrow('1.5 is not a safe integer');
    expect(out.length).toBe(before);
  });
});
