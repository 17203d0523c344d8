/**
 * The extended query protocol message by message, from a raw socket: named and unnamed
 * statements and portals, Describe, row limits and PortalSuspended, binary parameters and
 * results, Close, errors skipping to Sync; and the startup oddities (GSSENCRequest, protocol
 * 3.2, CancelRequest).
 */
import { serialize } from 'pg-protocol';
import type { BackendMessage, DataRowMessage, ParameterDescriptionMessage, RowDescriptionMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBinary } from '../../src/wire/binary.js';
import { RawClient, startupPacket } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
  const c = await srv.client('ext');
  await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 10)`);
  for (let i = 0; i < 5; i++) await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, 'r', $2, $3)`, [`b${i}`, i * 10, i * 10 + 5]);
});
afterAll(async () => {
  await srv.close();
});

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  await c.login({ database: 'ext', password: srv.password });
  return c;
}

const names = (ms: BackendMessage[]): string[] => ms.map((m) => (m.name === 'error' ? `error ${(m as { code?: string }).code}` : m.name));
const rows = (ms: BackendMessage[]): (string | null)[][] =>
  ms.filter((m): m is DataRowMessage => m.name === 'dataRow').map((m) => m.fields as (string | null)[]);

describe('extended protocol', () => {
  it('describes a named statement with inferred parameter types, then runs it twice', async () => {
    const c = await login();
    const got = await c.exchange(
      serialize.parse({ name: 's1', text: 'SELECT id, start FROM bookings WHERE resource_id = $1 AND start >= $2 ORDER BY start' }),
      serialize.describe({ type: 'S', name: 's1' }),
    );
    expect(names(got)).toEqual(['parseComplete', 'parameterDescription', 'rowDescription', 'readyForQuery']);
    expect((got[1] as ParameterDescriptionMessage).dataTypeIDs).toEqual([25, 20]);
    expect((got[2] as RowDescriptionMessage).fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['id', 25],
      ['start', 20],
    ]);
    const run1 = await c.exchange(serialize.bind({ statement: 's1', values: ['r', '20'] }), serialize.execute({}));
    expect(rows(run1)).toEqual([
      ['b2', '20'],
      ['b3', '30'],
      ['b4', '40'],
    ]);
    const run2 = await c.exchange(serialize.bind({ statement: 's1', values: ['r', '2026-01-01T00:00:00Z'] }), serialize.execute({}));
    expect(names(run2)).toEqual(['bindComplete', 'commandComplete', 'readyForQuery']);
    c.destroy();
  });

  it('pages a portal with row limits and PortalSuspended', async () => {
    const c = await login();
    c.send(
      Buffer.concat([
        serialize.parse({ text: 'SELECT id FROM bookings ORDER BY id' }),
        serialize.bind({ portal: 'p' }),
        serialize.describe({ type: 'P', name: 'p' }),
        serialize.execute({ portal: 'p', rows: 2 }),
        serialize.execute({ portal: 'p', rows: 2 }),
        serialize.execute({ portal: 'p', rows: 2 }),
        serialize.sync(),
      ]),
    );
    await c.untilReady();
    expect(names(c.received.slice(-10))).toEqual(
      [
        'bindComplete',
        'rowDescription',
        'dataRow',
        'dataRow',
        'portalSuspended',
        'dataRow',
        'dataRow',
        'portalSuspended',
        'dataRow',
        'commandComplete',
        'readyForQuery',
      ].slice(-10),
    );
    expect(rows(c.received).map((r) => r[0])).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    c.destroy();
  });

  it('takes binary parameters and returns binary results', async () => {
    const c = await login();
    const got = await c.exchange(
      serialize.parse({ text: 'SELECT id, capacity, capabilities FROM resources WHERE capacity >= $1 AND id = ANY($2)', types: [20, 1009] }),
      // pg-protocol's bind sends every value in binary when binary is true.
      serialize.bind({ values: [encodeBinary(20, 5), encodeBinary(1009, ['r', 'x'])], binary: true }),
      serialize.execute({}),
    );
    expect(names(got)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']);
    const fields = (got[2] as DataRowMessage).fields as unknown as Buffer[];
    // Binary results: the parser hands us raw bytes.
    expect(fields[0]!.toString()).toBe('r');
    expect(Buffer.from(fields[1]!).readBigInt64BE(0)).toBe(10n);
    c.destroy();
  });

  it('skips everything after an error up to Sync, then carries on', async () => {
    const c = await login();
    const got = await c.exchange(
      serialize.parse({ text: 'SELECT nope FROM bookings' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.parse({ name: 'never', text: 'SELECT 1' }),
    );
    expect(names(got)).toEqual(['error 42703', 'readyForQuery']);
    const after = await c.exchange(serialize.bind({ statement: 'never' }), serialize.execute({}));
    expect(names(after)).toEqual(['error 26000', 'readyForQuery']);
    expect(await c.query('SELECT 1')).toEqual([['1']]);
    c.destroy();
  });

  it('closes statements and portals, refuses duplicates and unknown names', async () => {
    const c = await login();
    await c.exchange(serialize.parse({ name: 'a', text: 'SELECT 1' }));
    expect(names(await c.exchange(serialize.parse({ name: 'a', text: 'SELECT 2' })))).toEqual(['error 42P05', 'readyForQuery']);
    expect(names(await c.exchange(serialize.close({ type: 'S', name: 'a' })))).toEqual(['closeComplete', 'readyForQuery']);
    expect(names(await c.exchange(serialize.bind({ statement: 'a' })))).toEqual(['error 26000', 'readyForQuery']);
    expect(names(await c.exchange(serialize.execute({ portal: 'ghost' })))).toEqual(['error 34000', 'readyForQuery']);
    expect(names(await c.exchange(serialize.parse({ text: 'SELECT 1; SELECT 2' })))).toEqual(['error 42601', 'readyForQuery']);
    c.destroy();
  });

  it('reports the transaction status in ReadyForQuery', async () => {
    const c = await login();
    const status = (ms: BackendMessage[]): string => (ms.at(-1) as unknown as { status: string }).status;
    expect(status(await c.exchange(serialize.parse({ text: 'BEGIN' }), serialize.bind({}), serialize.execute({})))).toBe('T');
    expect(status(await c.exchange(serialize.parse({ text: 'SELECT * FROM nowhere' })))).toBe('E');
    expect(status(await c.exchange(serialize.parse({ text: 'ROLLBACK' }), serialize.bind({}), serialize.execute({})))).toBe('I');
    c.destroy();
  });
});

describe('startup', () => {
  it("answers GSSENCRequest with 'N' and continues", async () => {
    const c = await RawClient.connect(srv.port);
    const code = Buffer.alloc(4);
    code.writeInt32BE(80877104, 0);
    const answer = new Promise<Buffer>((resolve) => (c as unknown as { socket: import('node:net').Socket }).socket.once('data', resolve));
    c.send(startupPacket(code));
    expect((await answer).toString()).toBe('N');
    c.destroy();
  });

  it('negotiates protocol 3.2 down to 3.0 and names the unknown options', async () => {
    const c = await RawClient.connect(srv.port);
    const body = Buffer.concat([Buffer.from([0, 3, 0, 2]), Buffer.from('user\0raw\0database\0ext\0_pq_.future\0on\0\0')]);
    c.send(startupPacket(body));
    const raw = await new Promise<Buffer>((resolve) => (c as unknown as { socket: import('node:net').Socket }).socket.once('data', resolve));
    expect(String.fromCharCode(raw[0]!)).toBe('v');
    expect(raw.readInt32BE(5)).toBe(0);
    expect(raw.readInt32BE(9)).toBe(1);
    expect(raw.subarray(13, 13 + '_pq_.future'.length).toString()).toBe('_pq_.future');
    c.destroy();
  });

  it('accepts a CancelRequest, closes it, and keeps the cancelled session usable', async () => {
    const victim = await login();
    const keyData = victim.received.find((m) => m.name === 'backendKeyData') as unknown as { processID: number; secretKey: number };
    const canceller = await RawClient.connect(srv.port);
    canceller.send(serialize.cancel(keyData.processID, keyData.secretKey));
    await canceller.untilClosed();
    expect(await victim.query('SELECT 1')).toEqual([['1']]);
    victim.destroy();
  });
});
