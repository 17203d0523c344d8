/**
 * The right SQLSTATE for what a client sends: bytes that are not UTF-8, wherever they come (a
 * text or binary parameter, the text of a Query or a Parse), are refused with 22021 naming the
 * bytes, as PostgreSQL does, never turned into U+FFFD; and the limit on prepared statements and
 * portals never stands in the way of the unnamed ones, which drivers use for every query.
 */
import { serialize } from 'pg-protocol';
import type { BackendMessage, DatabaseError } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBinary } from '../../src/wire/binary.js';
import { MAX_PREPARED_STATEMENTS } from '../../src/wire/connection.js';
import { frame, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
  const c = await srv.client('codes');
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 10)`);
  await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('b1', 'r', 0, 10)`);
});
afterAll(async () => {
  await srv.close();
});

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  await c.login({ database: 'codes', password: srv.password });
  return c;
}

const names = (ms: BackendMessage[]): string[] => ms.map((m) => (m.name === 'error' ? `error ${(m as DatabaseError).code}` : m.name));
const firstError = (ms: BackendMessage[]): DatabaseError => ms.find((m): m is DatabaseError => m.name === 'error')!;

const cstring = (s: string | Buffer): Buffer => Buffer.concat([typeof s === 'string' ? Buffer.from(s) : s, Buffer.of(0)]);

/** A Bind of the unnamed statement whose parameters are all sent in text format, as bytes. */
function bindText(params: Buffer[]): Buffer {
  const count = Buffer.alloc(2);
  count.writeInt16BE(params.length);
  const values = params.map((p) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(p.length);
    return Buffer.concat([len, p]);
  });
  return frame('B', Buffer.concat([cstring(''), cstring(''), Buffer.from([0, 1, 0, 0]), count, ...values, Buffer.from([0, 0])]));
}

/** "a", then 0xc3 0x28: a two-byte sequence whose second byte is not a continuation byte. */
const BAD = Buffer.from([0x61, 0xc3, 0x28]);
const BAD_MESSAGE = 'invalid byte sequence for encoding "UTF8": 0xc3 0x28';

describe('bytes that are not UTF-8 get 22021, naming them', () => {
  it('in a text-format Bind parameter', async () => {
    const c = await login();
    const got = await c.exchange(serialize.parse({ text: 'SELECT id FROM bookings WHERE id = $1' }), bindText([BAD]), serialize.execute({}));
    expect(names(got)).toEqual(['parseComplete', 'error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe(BAD_MESSAGE);
    // The connection goes on.
    expect(await c.query(`SELECT id FROM bookings WHERE id = 'b1'`)).toEqual([['b1']]);
    c.destroy();
  });

  it('in a text-format Bind parameter holding a NUL byte (text cannot hold one)', async () => {
    const c = await login();
    const got = await c.exchange(
      serialize.parse({ text: 'SELECT id FROM bookings WHERE id = $1' }),
      bindText([Buffer.from([0x62, 0x00, 0x31])]),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['parseComplete', 'error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe('invalid byte sequence for encoding "UTF8": 0x00');
    c.destroy();
  });

  it('in a binary text parameter, and in an element of a binary text[] parameter', async () => {
    const c = await login();
    let got = await c.exchange(
      serialize.parse({ text: 'SELECT id FROM bookings WHERE id = $1', types: [25] }),
      serialize.bind({ values: [BAD], binary: true }),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['parseComplete', 'error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe(BAD_MESSAGE);
    const array = encodeBinary(1009, ['b1', 'xx']);
    // Overwrite the second element's bytes ('xx', the last two) with a lone lead byte and ASCII.
    array[array.length - 2] = 0xe2;
    got = await c.exchange(
      serialize.parse({ text: 'SELECT id FROM bookings WHERE id = ANY($1)', types: [1009] }),
      serialize.bind({ values: [array], binary: true }),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['parseComplete', 'error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe('invalid byte sequence for encoding "UTF8": 0xe2 0x78');
    c.destroy();
  });

  it('in the text of a Query (an ERROR: the frame was whole, so the connection goes on)', async () => {
    const c = await login();
    const start = c.received.length;
    c.send(frame('Q', cstring(Buffer.concat([Buffer.from(`SELECT id FROM bookings WHERE id = '`), BAD, Buffer.from(`'`)]))));
    await c.untilReady();
    const got = c.received.slice(start);
    expect(names(got)).toEqual(['error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe(BAD_MESSAGE);
    // A lone 0xff is one byte long.
    c.send(frame('Q', cstring(Buffer.from([0x53, 0xff, 0x45]))));
    await c.untilReady();
    expect(c.errors().at(-1)!.message).toBe('invalid byte sequence for encoding "UTF8": 0xff');
    expect(await c.query('SELECT 1')).toEqual([['1']]);
    c.destroy();
  });

  it('in the text of a Parse', async () => {
    const c = await login();
    const sql = Buffer.concat([Buffer.from(`SELECT id FROM bookings WHERE id = '`), BAD, Buffer.from(`'`)]);
    const got = await c.exchange(
      frame('P', Buffer.concat([cstring('s'), cstring(sql), Buffer.from([0, 0])])),
      serialize.bind({ statement: 's' }),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['error 22021', 'readyForQuery']);
    expect(firstError(got).message).toBe(BAD_MESSAGE);
    c.destroy();
  });

  it('but valid multi-byte text passes through unchanged', async () => {
    const c = await login();
    const word = 'Zürich – 東京 🙂';
    const got = await c.exchange(
      serialize.parse({ text: 'INSERT INTO resources (id, name) VALUES ($1, $2)' }),
      bindText([Buffer.from('utf8-r'), Buffer.from(word)]),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['parseComplete', 'bindComplete', 'commandComplete', 'readyForQuery']);
    expect(await c.query(`SELECT name FROM resources WHERE id = 'utf8-r'`)).toEqual([[word]]);
    c.destroy();
  });
});

describe(`the limit of ${MAX_PREPARED_STATEMENTS} prepared statements and portals`, () => {
  it('never blocks the unnamed statement', async () => {
    const c = await login();
    const parses = Array.from({ length: MAX_PREPARED_STATEMENTS }, (_, i) => serialize.parse({ name: `s${i}`, text: 'SELECT 1' }));
    const got = await c.exchange(...parses);
    expect(got.filter((m) => m.name === 'parseComplete')).toHaveLength(MAX_PREPARED_STATEMENTS);
    expect(c.errors()).toEqual([]);
    const unnamed = await c.exchange(serialize.parse({ text: 'SELECT 2' }), serialize.bind({}), serialize.execute({}));
    expect(names(unnamed)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']);
    // Parsing the unnamed one again (as every pg query does) still works.
    expect(names(await c.exchange(serialize.parse({ text: 'SELECT 3' }), serialize.bind({}), serialize.execute({})))).toContain('dataRow');
    // One named statement more is refused.
    const over = await c.exchange(serialize.parse({ name: 'one-more', text: 'SELECT 1' }));
    expect(names(over)).toEqual(['error 54000', 'readyForQuery']);
    expect(await c.query('SELECT 1')).toEqual([['1']]);
    c.destroy();
  });

  it('never blocks the unnamed portal', async () => {
    const c = await login();
    const binds = Array.from({ length: MAX_PREPARED_STATEMENTS }, (_, i) => serialize.bind({ portal: `p${i}` }));
    const got = await c.exchange(serialize.parse({ text: 'SELECT 1' }), ...binds);
    expect(got.filter((m) => m.name === 'bindComplete')).toHaveLength(MAX_PREPARED_STATEMENTS);
    expect(c.errors()).toEqual([]);
    const unnamed = await c.exchange(serialize.parse({ text: 'SELECT 2' }), serialize.bind({}), serialize.execute({}));
    expect(names(unnamed)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']);
    const over = await c.exchange(serialize.bind({ portal: 'one-more' }));
    expect(names(over)).toEqual(['error 54000', 'readyForQuery']);
    c.destroy();
  });
});
