/**
 * COPY through real clients: the text and CSV formats against PostgreSQL's own answers
 * (test/fixtures/copy-formats.json, recorded from PostgreSQL 15 with psycopg2: rows read, lines
 * written, and the errors of bad data and bad options), then psql's \copy both ways, postgres.js
 * streams, a COPY as one all-or-nothing write (a conflict, a bad value on line 3, the row
 * limit), COPY in a block, and the server's files refused. The binary format through a raw
 * client: its types, the data cut anywhere, and its errors against PostgreSQL 15's answers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import postgres from 'postgres';
import { serialize } from 'pg-protocol';
import type { CommandCompleteMessage, CopyDataMessage, DatabaseError } from 'pg-protocol/dist/messages.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limits } from '../../src/engine/limits.js';
import { psql } from '../helpers/psql.js';
import { isError, RawClient, startupPacket } from '../helpers/raw-client.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

interface FromCase {
  readonly options: string;
  readonly data: string;
  readonly tag?: string;
  readonly rows?: [string, string | null][];
  readonly error?: [string, string];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/copy-formats.json', import.meta.url), 'utf8')) as {
  from: FromCase[];
  to: { options: string; output: string; single?: boolean }[];
  errors: { statement: string; error: [string, string, string | null] }[];
};

let srv: TestServer;
let dir: string;
beforeAll(async () => {
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'allot-copy-'));
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

async function raw(database: string): Promise<RawClient> {
  await (await srv.client(database)).query('SELECT 1'); // the database exists
  const c = await RawClient.connect(srv.port);
  await c.login({ database, password: srv.password });
  return c;
}

/** Sends a COPY … FROM STDIN with `data` in CopyData messages of `chunk` bytes; its tag or error. */
async function copyIn(c: RawClient, sql: string, data: Buffer, chunk = 7): Promise<{ tag?: string; error?: DatabaseError }> {
  const start = c.received.length;
  c.send(serialize.query(sql));
  await c.next('copyInResponse').catch(() => undefined);
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(serialize.copyData(data.subarray(i, i + chunk)));
  c.send(Buffer.concat([...parts, serialize.copyDone()]));
  await c.untilReady();
  const got = c.received.slice(start);
  const error = got.find(isError);
  if (error !== undefined) return { error };
  return { tag: (got.find((m) => m.name === 'commandComplete') as CommandCompleteMessage).text };
}

const BOOKINGS = "INSERT INTO resources (id) VALUES ('r'), ('r2')";

describe('COPY FROM STDIN', () => {
  it(`reads the text and CSV formats as PostgreSQL does: ${fixture.from.length} recorded cases, split into 7-byte messages`, async () => {
    for (const [k, tc] of fixture.from.entries()) {
      const c = await raw(`copy-from-${k}`);
      const got = await copyIn(c, `COPY resources (id, name) FROM STDIN ${tc.options}`, Buffer.from(tc.data, 'base64'));
      const rows = (await c.query('SELECT id, name FROM resources ORDER BY id')).map((r) => [r[0], r[1]]);
      c.destroy();
      const want = tc.error !== undefined ? { error: tc.error, rows: [] } : { tag: tc.tag, rows: tc.rows };
      const have = got.error !== undefined ? { error: [got.error.code, got.error.message], rows } : { tag: got.tag, rows };
      expect({ case: k, options: tc.options, ...have }).toEqual({ case: k, options: tc.options, ...want });
    }
  });

  it("refuses bad options with PostgreSQL's codes and messages, and the server's files with 42501 and its hint", async () => {
    const c = await srv.client('copy-options');
    for (const { statement, error } of fixture.errors) {
      const err = await pgError(c.query(statement));
      expect({ statement, error: [err.code, err.message, err.hint ?? null] }).toEqual({ statement, error });
    }
  });

  it('writes every row as one statement: a conflict on any row, and nothing is written', async () => {
    const c = await raw('copy-atomic');
    await c.query(BOOKINGS);
    const data = 'a,r,0,10\nb,r2,0,10\nc,r,5,15\n';
    const got = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN (FORMAT csv)', Buffer.from(data));
    expect(got.error?.code).toBe('23P01');
    expect(JSON.parse(got.error!.detail!).conflicts[0].id).toBe('a');
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    const ok = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN (FORMAT csv)', Buffer.from('a,r,0,10\nb,r2,0,10\n'));
    expect(ok.tag).toBe('COPY 2');
    c.destroy();
  });

  it("names the line and column of a bad value, as PostgreSQL's CONTEXT does, and writes nothing", async () => {
    const c = await raw('copy-bad-value');
    await c.query(BOOKINGS);
    const data = 'id,resource_id,start,end\na,r,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z\nb,r,not-a-time,2026-03-02T11:00:00Z\n';
    const got = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN WITH CSV HEADER', Buffer.from(data));
    expect([got.error?.code, got.error?.detail]).toEqual(['22007', 'COPY bookings, line 3, column start: "not-a-time"']);
    const short = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN WITH CSV', Buffer.from('a,r,0,10\nb,r\n'));
    expect([short.error?.code, short.error?.message, short.error?.detail]).toEqual([
      '22P04',
      'missing data for column "start"',
      'COPY bookings, line 2: "b,r"',
    ]);
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    c.destroy();
  });

  it(`takes up to ${Limits.maxBatchCommands} rows in one COPY, and refuses one more with 54000, writing nothing`, async () => {
    const c = await raw('copy-limit');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('big', ${Limits.maxBatchCommands + 1})`);
    const rows = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => `b${i}\tbig\t0\t10\n`).join(''));
    const over = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN', rows(Limits.maxBatchCommands + 1), 64 * 1024);
    expect([over.error?.code, over.error?.message]).toEqual([
      '54000',
      `COPY of more than ${Limits.maxBatchCommands} rows; the limit is ${Limits.maxBatchCommands} per statement`,
    ]);
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    const full = await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN', rows(Limits.maxBatchCommands), 64 * 1024);
    expect(full.tag).toBe(`COPY ${Limits.maxBatchCommands}`);
    c.destroy();
  });

  it('joins the block it runs in: its rows are seen there, go with ROLLBACK, and an error aborts the block', async () => {
    const c = await raw('copy-block');
    await c.query(BOOKINGS);
    await c.query('BEGIN');
    expect((await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN CSV', Buffer.from('a,r,0,10\n'))).tag).toBe('COPY 1');
    expect(await c.query('SELECT id FROM bookings')).toEqual([['a']]);
    expect((await copyIn(c, 'COPY bookings (id, resource_id, start, "end") FROM STDIN CSV', Buffer.from('b,r,5,15\n'))).error?.code).toBe('23P01');
    await c.query('SELECT 1');
    expect(c.errors().at(-1)?.code).toBe('25P02');
    await c.query('ROLLBACK');
    await c.query('BEGIN READ ONLY');
    expect((await copyIn(c, 'COPY bookings FROM STDIN', Buffer.from(''))).error?.code).toBe('25006');
    await c.query('ROLLBACK');
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    c.destroy();
  });

  it('takes every column of the table without a column list, and refuses tables that are not written to', async () => {
    const c = await raw('copy-all-columns');
    const got = await copyIn(c, 'COPY resources FROM STDIN', Buffer.from('room\t\\N\tRoom\t2\t0\t900000\t{projector}\toffline\tpainting\tround_robin\t\\N\n'));
    expect(got.tag).toBe('COPY 1');
    expect(await c.query('SELECT id, parent_id, name, capacity, capabilities, status, status_reason, pool_strategy, pool_cursor FROM resources')).toEqual([
      ['room', null, 'Room', '2', '{projector}', 'offline', 'painting', 'round_robin', null],
    ]);
    const view = await copyIn(c, 'COPY availability FROM STDIN', Buffer.from(''));
    expect(view.error?.code).toBe('0A000');
    c.destroy();
  });
});

// ---- binary -------------------------------------------------------------------------------

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const int16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int64 = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};
/** A timestamptz's send format: microseconds since 2000-01-01 UTC. */
const timestamptz = (ms: number): Buffer => int64((BigInt(ms) - 946_684_800_000n) * 1000n);
/** A one-dimensional text[] in its send format. */
function textArray(items: readonly string[]): Buffer {
  const head = [int32(items.length > 0 ? 1 : 0), int32(0), int32(25)];
  if (items.length > 0) head.push(int32(items.length), int32(1));
  return Buffer.concat([...head, ...items.map((t) => Buffer.concat([int32(Buffer.byteLength(t)), Buffer.from(t)]))]);
}
const txt = (s: string): Buffer => Buffer.from(s);
const tuple = (...fields: (Buffer | null)[]): Buffer =>
  Buffer.concat([int16(fields.length), ...fields.map((f) => (f === null ? int32(-1) : Buffer.concat([int32(f.length), f])))]);
const header = (flags = 0, extension: Buffer = Buffer.alloc(0)): Buffer => Buffer.concat([SIGNATURE, int32(flags), int32(extension.length), extension]);
const TRAILER = int16(-1);
const binary = (...tuples: Buffer[]): Buffer => Buffer.concat([header(), ...tuples, TRAILER]);

const AT = Date.UTC(2026, 2, 2, 9);
const HOUR = 3_600_000;
const COPY_BOOKINGS_BINARY = 'COPY bookings (id, resource_id, start, "end", label) FROM STDIN (FORMAT binary)';
/** A good booking tuple for COPY_BOOKINGS_BINARY with allot.times = ms (times are int8). */
const booking = (id: string, hour: number, label: string | null = null): Buffer =>
  tuple(txt(id), txt('r'), int64(AT + hour * HOUR), int64(AT + (hour + 1) * HOUR), label === null ? null : txt(label));

describe('COPY FROM STDIN (FORMAT binary)', () => {
  it("reads PostgreSQL's binary format: text, int8, text[] and NULL fields, in the types a SELECT shows, answering CopyInResponse in binary", async () => {
    const c = await raw('copy-binary');
    const start = c.received.length;
    const data = Buffer.concat([
      header(0xffff, txt('an extension, skipped')), // flags 0–15 are not critical
      tuple(txt('room'), null, txt('Room é'), int64(2), int64(0), int64(900_000), textArray(['projector', 'a,b'])),
      tuple(txt('desk'), txt('room'), null, int64(1), int64(60_000), int64(0), textArray([])),
      TRAILER,
    ]);
    const got = await copyIn(c, 'COPY resources (id, parent_id, name, capacity, buffer_before, buffer_after, capabilities) FROM STDIN (FORMAT binary)', data);
    expect(got).toEqual({ tag: 'COPY 2' });
    const response = c.received.slice(start).find((m) => m.name === 'copyInResponse') as unknown as { binary: boolean; columnTypes: number[] };
    expect([response.binary, response.columnTypes]).toEqual([true, [1, 1, 1, 1, 1, 1, 1]]);
    expect(await c.query('SELECT id, parent_id, name, capacity, buffer_before, buffer_after, capabilities FROM resources ORDER BY id')).toEqual([
      ['desk', 'room', null, '1', '60000', '0', '{}'],
      ['room', null, 'Room é', '2', '0', '900000', '{projector,"a,b"}'],
    ]);
    // A bool, and PostgreSQL's other spellings: WITH BINARY, BINARY, COPY BINARY t.
    await c.query("INSERT INTO resources (id) VALUES ('r')");
    const rule = (id: string, blocking: number): Buffer => binary(tuple(txt(id), txt('r'), int64(AT), int64(AT + HOUR), Buffer.from([blocking])));
    for (const [k, sql] of [
      'COPY rules (id, resource_id, start, "end", blocking) FROM STDIN WITH BINARY',
      'COPY rules (id, resource_id, start, "end", blocking) FROM STDIN BINARY',
      'COPY BINARY rules (id, resource_id, start, "end", blocking) FROM STDIN',
    ].entries()) {
      expect(await copyIn(c, sql, rule(`rule${k}`, k))).toEqual({ tag: 'COPY 1' });
    }
    expect(await c.query('SELECT id, blocking FROM rules ORDER BY id')).toEqual([
      ['rule0', 'f'],
      ['rule1', 't'],
      ['rule2', 't'],
    ]);
    c.destroy();
  });

  it('takes instants as timestamptz and durations as interval when the session shows them so (allot.times), as asyncpg sends them', async () => {
    const c = await raw('copy-binary-times');
    await c.query("SET allot.times = 'timestamptz'");
    const interval = (ms: number): Buffer => Buffer.concat([int64(ms * 1000), int32(0), int32(0)]);
    const data = binary(tuple(txt('r'), interval(5 * 60_000)));
    expect(await copyIn(c, 'COPY resources (id, buffer_after) FROM STDIN (FORMAT binary)', data)).toEqual({ tag: 'COPY 1' });
    // 5 minutes' buffer after each booking: the second starts 10 minutes after the first ends.
    const rows = binary(
      tuple(txt('b1'), txt('r'), timestamptz(AT), timestamptz(AT + HOUR), txt('standup')),
      tuple(txt('b2'), txt('r'), timestamptz(AT + HOUR + 600_000), timestamptz(AT + 2 * HOUR), null),
    );
    expect(await copyIn(c, COPY_BOOKINGS_BINARY, rows)).toEqual({ tag: 'COPY 2' });
    await c.query("SET allot.times = 'ms'");
    expect(await c.query('SELECT id, start, "end", label FROM bookings ORDER BY id')).toEqual([
      ['b1', String(AT), String(AT + HOUR), 'standup'],
      ['b2', String(AT + HOUR + 600_000), String(AT + 2 * HOUR), null],
    ]);
    expect(await c.query("SELECT buffer_after FROM resources WHERE id = 'r'")).toEqual([['300000']]);
    c.destroy();
  });

  it('reads the same rows with the data cut at any byte: each CopyData one byte, or cut at random', async () => {
    const c = await raw('copy-binary-split');
    await c.query(BOOKINGS);
    const data = Buffer.concat([header(0, txt('ext')), booking('a', 0, 'é😀'), booking('b', 1), booking('c', 2, ''), TRAILER]);
    expect(await copyIn(c, COPY_BOOKINGS_BINARY, data, 1)).toEqual({ tag: 'COPY 3' });
    expect(await c.query('SELECT id, start, label FROM bookings ORDER BY id')).toEqual([
      ['a', String(AT), 'é😀'],
      ['b', String(AT + HOUR), null],
      ['c', String(AT + 2 * HOUR), ''],
    ]);
    // Cut at random, into rows of another resource each time (ids, once taken, stay taken).
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: data.length }), async (chunk) => {
        const id = `run${++run}`;
        await c.query(`INSERT INTO resources (id) VALUES ('${id}')`);
        const rows = Buffer.concat([
          header(),
          ...[0, 1, 2].map((h) => tuple(txt(`${id}-${h}`), txt(id), int64(AT + h * HOUR), int64(AT + (h + 1) * HOUR), txt('é'.repeat(h)))),
        ]);
        expect(await copyIn(c, COPY_BOOKINGS_BINARY, rows, chunk)).toEqual({ tag: 'COPY 3' });
        expect(await c.query(`SELECT count(*) FROM bookings WHERE resource_id = '${id}'`)).toEqual([['3']]);
      }),
      { numRuns: 25 },
    );
    c.destroy();
  });

  it('refuses data of the wrong shape as PostgreSQL 15 does (its CONTEXT in DETAIL), writing nothing of the COPY', async () => {
    const c = await raw('copy-binary-errors');
    await c.query(BOOKINGS);
    const good = booking('ok', 0);
    // [data, code, message, CONTEXT]: what PostgreSQL 15.18 answered to the same bytes.
    const cases: [Buffer, string, string, string | undefined][] = [
      [Buffer.alloc(0), '22P04', 'COPY file signature not recognized', undefined],
      [Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\x01', 'latin1'), int32(0), int32(0), TRAILER]), '22P04', 'COPY file signature not recognized', undefined],
      [SIGNATURE.subarray(0, 5), '22P04', 'COPY file signature not recognized', undefined],
      [Buffer.concat([header(1 << 16), TRAILER]), '22P04', 'invalid COPY file header (WITH OIDS)', undefined],
      [Buffer.concat([header(1 << 17), TRAILER]), '22P04', 'unrecognized critical flags in COPY file header', undefined],
      [SIGNATURE, '22P04', 'invalid COPY file header (missing flags)', undefined],
      [Buffer.concat([SIGNATURE, int32(0)]), '22P04', 'invalid COPY file header (missing length)', undefined],
      [Buffer.concat([SIGNATURE, int32(0), int32(-1), TRAILER]), '22P04', 'invalid COPY file header (missing length)', undefined],
      [Buffer.concat([SIGNATURE, int32(0), int32(10), txt('abc')]), '22P04', 'invalid COPY file header (wrong length)', undefined],
      [binary(tuple(txt('a'), txt('r'))), '22P04', 'row field count is 2, expected 5', 'COPY bookings, line 1'],
      [binary(good, tuple(txt('a'), txt('r'), int64(0), int64(1), txt('x'), txt('y'))), '22P04', 'row field count is 6, expected 5', 'COPY bookings, line 2'],
      [binary(int16(0)), '22P04', 'row field count is 0, expected 5', 'COPY bookings, line 1'],
      [Buffer.concat([header(), int16(5)]), '22P04', 'unexpected EOF in COPY data', 'COPY bookings, line 1, column id'],
      [Buffer.concat([header(), int16(5), int32(10), txt('abc')]), '22P04', 'unexpected EOF in COPY data', 'COPY bookings, line 1, column id'],
      [Buffer.concat([header(), good, good.subarray(0, 20)]), '22P04', 'unexpected EOF in COPY data', 'COPY bookings, line 2, column start'],
      [Buffer.concat([header(), int16(5), int32(-2), TRAILER]), '22P04', 'invalid field size', 'COPY bookings, line 1, column id'],
      [Buffer.concat([header(), TRAILER, txt('x')]), '22P04', 'received copy data after EOF marker', 'COPY bookings, line 1'],
      [Buffer.concat([binary(good), good]), '22P04', 'received copy data after EOF marker', 'COPY bookings, line 2'],
      [
        binary(tuple(txt('a'), txt('r'), int64(AT), int64(AT + HOUR), Buffer.from([0xc3, 0x28]))),
        '22021',
        'invalid byte sequence for encoding "UTF8": 0xc3 0x28',
        'COPY bookings, line 1, column label',
      ],
      [
        binary(tuple(txt('a'), txt('r'), int64(AT), int64(AT + HOUR), Buffer.from([0x61, 0, 0x62]))),
        '22021',
        'invalid byte sequence for encoding "UTF8": 0x00',
        'COPY bookings, line 1, column label',
      ],
    ];
    for (const [data, code, message, context] of cases) {
      const got = await copyIn(c, COPY_BOOKINGS_BINARY, data, 3);
      expect({ message, error: [got.error?.code, got.error?.message, got.error?.detail] }).toEqual({ message, error: [code, message, context] });
    }
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    // PostgreSQL's leniencies, kept: data without its trailer, and a lone byte where a tuple would start.
    expect(await copyIn(c, COPY_BOOKINGS_BINARY, Buffer.concat([header(), booking('a', 0)]))).toEqual({ tag: 'COPY 1' });
    expect(await copyIn(c, COPY_BOOKINGS_BINARY, Buffer.concat([header(), booking('b', 1), Buffer.from([0])]))).toEqual({ tag: 'COPY 1' });
    c.destroy();
  });

  it('a bad value names its line and column; a refused row writes nothing; NULL where a column needs a value is 23502', async () => {
    const c = await raw('copy-binary-values');
    await c.query(BOOKINGS);
    // PostgreSQL reads a 4-byte timestamptz as "insufficient data left in message" (08P01); allot says what it takes.
    const short = await copyIn(c, COPY_BOOKINGS_BINARY, binary(booking('a', 0), tuple(txt('b'), txt('r'), int32(1), int64(AT + HOUR), null)));
    expect([short.error?.code, short.error?.message, short.error?.detail]).toEqual([
      '22P03',
      'incorrect binary data format: bigint takes 8 bytes, got 4',
      'COPY bookings, line 2, column start',
    ]);
    const nul = await copyIn(c, COPY_BOOKINGS_BINARY, binary(tuple(txt('a'), null, int64(AT), int64(AT + HOUR), null)));
    expect([nul.error?.code, nul.error?.detail]).toEqual(['23502', 'COPY bookings, line 1']);
    const conflict = await copyIn(
      c,
      COPY_BOOKINGS_BINARY,
      binary(booking('a', 0), booking('b', 5), tuple(txt('c'), txt('r'), int64(AT + HOUR / 2), int64(AT + HOUR), null)),
    );
    expect(conflict.error?.code).toBe('23P01');
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    c.destroy();
  });

  it(`takes up to ${Limits.maxBatchCommands} tuples in one COPY, and refuses one more with 54000, writing nothing`, async () => {
    const c = await raw('copy-binary-limit');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('big', ${Limits.maxBatchCommands + 1})`);
    const rows = (n: number): Buffer => binary(...Array.from({ length: n }, (_, i) => tuple(txt(`b${i}`), txt('big'), int64(0), int64(10))));
    const sql = 'COPY bookings (id, resource_id, start, "end") FROM STDIN (FORMAT binary)';
    const over = await copyIn(c, sql, rows(Limits.maxBatchCommands + 1), 64 * 1024);
    expect([over.error?.code, over.error?.message]).toEqual([
      '54000',
      `COPY of more than ${Limits.maxBatchCommands} rows; the limit is ${Limits.maxBatchCommands} per statement`,
    ]);
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    expect((await copyIn(c, sql, rows(Limits.maxBatchCommands), 64 * 1024)).tag).toBe(`COPY ${Limits.maxBatchCommands}`);
    c.destroy();
  });

  it("refuses the text formats' options in binary mode as PostgreSQL does, and COPY TO STDOUT in binary (0A000)", async () => {
    const c = await srv.client('copy-binary-options');
    const to = (options: string): string => `COPY bookings (id) FROM STDIN (${options})`;
    const cases: [string, string, string][] = [
      [to('FORMAT binary, HEADER'), '0A000', 'cannot specify HEADER in BINARY mode'],
      [to('FORMAT binary, HEADER match'), '0A000', 'cannot specify HEADER in BINARY mode'],
      [to("FORMAT binary, DELIMITER ','"), '42601', 'cannot specify DELIMITER in BINARY mode'],
      [to("FORMAT binary, NULL 'x'"), '42601', 'cannot specify NULL in BINARY mode'],
      [to('FORMAT binary, FORCE_NULL (id)'), '0A000', 'COPY force null available only in CSV mode'],
      [to('FORMAT binary, FORCE_NOT_NULL (id)'), '0A000', 'COPY force not null available only in CSV mode'],
      [to("FORMAT binary, QUOTE 'x'"), '0A000', 'COPY quote available only in CSV mode'],
      [to('FORMAT binary, FORMAT csv'), '42601', 'conflicting or redundant options'],
      ['COPY bookings (id) FROM STDIN WITH BINARY CSV', '42601', 'conflicting or redundant options'],
      ["COPY bookings (id) FROM STDIN WITH BINARY DELIMITER ','", '42601', 'cannot specify DELIMITER in BINARY mode'],
      ['COPY BINARY bookings (id) FROM STDIN WITH BINARY', '42601', 'conflicting or redundant options'],
      ['COPY bookings TO STDOUT (FORMAT binary)', '0A000', 'COPY TO STDOUT (FORMAT binary) is not supported by allot'],
    ];
    for (const [statement, code, message] of cases) {
      const err = await pgError(c.query(statement));
      expect({ statement, error: [err.code, err.message] }).toEqual({ statement, error: [code, message] });
    }
    const ok = await c.query('SELECT 1 AS one');
    expect(ok.rows).toEqual([{ one: 1 }]);
  });
});

describe('COPY TO STDOUT', () => {
  it(`writes the text and CSV formats as PostgreSQL does: ${fixture.to.length} recorded option sets`, async () => {
    const c = await srv.client('copy-to');
    const values = [
      'plain',
      '',
      'tab\there',
      'nl\nhere',
      'cr\rhere',
      'back\\slash',
      'quote"q',
      "apos'",
      'comma,c',
      '\\.',
      '\\N',
      'NULL',
      ' lead',
      'trail ',
      'é ü 😀',
      '\b\f\v',
      'semi;colon',
      '"',
      'x|y',
    ];
    for (const [k, v] of values.entries()) {
      await c.query('INSERT INTO resources (id, name, capabilities) VALUES ($1, $2, $3)', [
        `v${String(k).padStart(2, '0')}`,
        v,
        ['a', v === '' ? 'e' : v.slice(0, 3), 'z'],
      ]);
    }
    await c.query(`INSERT INTO resources (id, name) VALUES ('vnull', NULL)`);
    const r = await raw('copy-to');
    for (const tc of fixture.to) {
      const query =
        tc.single === true ? `SELECT name FROM resources WHERE id IN ('v09', 'v01') ORDER BY id` : 'SELECT id, name, capabilities FROM resources ORDER BY id';
      const start = r.received.length;
      await r.query(`COPY (${query}) TO STDOUT ${tc.options}`);
      const got = r.received.slice(start);
      const text = got
        .filter((m): m is CopyDataMessage => m.name === 'copyData')
        .map((m) => m.chunk.toString('utf8'))
        .join('');
      expect({ options: tc.options, output: text }).toEqual({ options: tc.options, output: tc.output });
      expect((got.find((m) => m.name === 'commandComplete') as CommandCompleteMessage).text).toBe(`COPY ${tc.single === true ? 2 : values.length + 1}`);
    }
    r.destroy();
  });

  it('sends a table, its columns, or a query; one line per CopyData', async () => {
    const c = await raw('copy-to-forms');
    await c.query(BOOKINGS);
    const start = c.received.length;
    await c.query('COPY resources (id, capacity) TO STDOUT');
    const got = c.received.slice(start).map((m) => m.name);
    expect(got).toEqual(['copyOutResponse', 'copyData', 'copyData', 'copyDone', 'commandComplete', 'readyForQuery']);
    await c.query(`COPY (SELECT nope FROM resources) TO STDOUT`);
    expect(c.errors().at(-1)?.code).toBe('42703');
    await c.query(`COPY (DELETE FROM resources WHERE id = 'r') TO STDOUT`);
    expect(c.errors().at(-1)?.code).toBe('42601');
    c.destroy();
  });
});

describe('COPY with psql and postgres.js', () => {
  it("psql's \\copy from a CSV file with a header, and \\copy (select …) to a file", async () => {
    await (await srv.client('copy-psql')).query(BOOKINGS);
    const input = join(dir, 'bookings.csv');
    const output = join(dir, 'out.csv');
    writeFileSync(
      input,
      'id,resource_id,start,end,label\nb1,r,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,"Stand-up, daily"\nb2,r2,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,\n',
    );
    const { output: printed } = await psql(
      srv,
      'copy-psql',
      [],
      [
        `\\copy bookings (id, resource_id, start, "end", label) from '${input}' csv header`,
        `\\copy (select id, start, label from bookings order by id) to '${output}' csv`,
      ].join('\n'),
    );
    expect(printed.trim().split('\n')).toEqual(['COPY 2', 'COPY 2']);
    expect(readFileSync(output, 'utf8')).toBe('b1,1772442000000,"Stand-up, daily"\nb2,1772442000000,\n');
  });

  it("psql's \\copy of a bad file: the error names the line, and nothing is written", async () => {
    await (await srv.client('copy-psql-bad')).query(BOOKINGS);
    const input = join(dir, 'bad.csv');
    writeFileSync(input, 'b1,r,0,10\nb2,r,0,10,extra\n');
    const { output } = await psql(
      srv,
      'copy-psql-bad',
      [],
      `\\copy bookings (id, resource_id, start, "end") from '${input}' csv\nSELECT count(*) FROM bookings;`,
    );
    expect(output).toContain('ERROR:  extra data after last expected column\nDETAIL:  COPY bookings, line 2: "b2,r,0,10,extra"');
    expect(output).toContain(' count \n-------\n     0\n');
  });

  it('postgres.js: a writable stream into COPY FROM STDIN, a readable one out of COPY TO STDOUT', async () => {
    await (await srv.client('copy-pgjs')).query(BOOKINGS);
    const sql = postgres(srv.url('copy-pgjs'), { onnotice: () => undefined });
    try {
      const writable = await sql`COPY bookings (id, resource_id, start, "end") FROM STDIN WITH (FORMAT csv)`.writable();
      await pipeline(Readable.from(['a,r,0,', '10\nb,r2,0,10\n', 'c,r,20,30\n']), writable);
      expect((await sql`SELECT id FROM bookings ORDER BY id`).map((r) => r.id)).toEqual(['a', 'b', 'c']);
      const readable = await sql`COPY (SELECT id, start FROM bookings ORDER BY id) TO STDOUT`.readable();
      const chunks: Buffer[] = [];
      await pipeline(readable, new Writable({ write: (chunk: Buffer, _e, done) => void (chunks.push(chunk), done()) }));
      expect(Buffer.concat(chunks).toString()).toBe('a\t0\nb\t0\nc\t20\n');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('COPY on the wire', () => {
  it('CopyFail ends it with 57014 and nothing written; CopyData after the error is dropped', async () => {
    const c = await raw('copy-fail');
    await c.query(BOOKINGS);
    const start = c.received.length;
    c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
    await c.next('copyInResponse');
    c.send(Buffer.concat([serialize.copyData(Buffer.from('a,r,0,10\n')), serialize.copyFail('the client gave up')]));
    await c.untilReady();
    const err = c.received.slice(start).find(isError)!;
    expect([err.code, err.message]).toEqual(['57014', 'COPY from stdin failed: the client gave up']);
    c.send(Buffer.concat([serialize.copyData(Buffer.from('late,r,0,10\n')), serialize.copyDone()]));
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    c.destroy();
  });

  it('a client that disconnects mid-COPY writes nothing, and the server goes on', async () => {
    const c = await raw('copy-gone');
    await c.query(BOOKINGS);
    c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
    await c.next('copyInResponse');
    c.send(serialize.copyData(Buffer.from('a,r,0,10\nb,r2,0,')));
    await new Promise((r) => setTimeout(r, 50));
    c.destroy();
    const other = await srv.client('copy-gone');
    await expect.poll(async () => (await other.query('SELECT count(*) FROM bookings')).rows[0].count).toBe('0');
    await other.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('after', 'r', 0, 10)`);
    expect((await other.query('SELECT id FROM bookings')).rows).toEqual([{ id: 'after' }]);
  });

  it('a CancelRequest ends a COPY waiting for data with 57014, writing nothing', async () => {
    const c = await raw('copy-cancel');
    await c.query(BOOKINGS);
    const key = c.received.find((m) => m.name === 'backendKeyData') as unknown as { processID: number; secretKey: number };
    const start = c.received.length;
    c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
    await c.next('copyInResponse');
    c.send(serialize.copyData(Buffer.from('a,r,0,10\n')));
    const canceller = await RawClient.connect(srv.port);
    const body = Buffer.alloc(12);
    body.writeInt32BE(80877102, 0);
    body.writeInt32BE(key.processID, 4);
    body.writeInt32BE(key.secretKey, 8);
    canceller.send(startupPacket(body));
    await c.untilReady();
    const err = c.received.slice(start).find(isError)!;
    expect([err.code, err.message]).toEqual(['57014', 'canceling statement due to user request']);
    c.send(serialize.copyDone());
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    canceller.destroy();
    c.destroy();
  });

  it('another message in the middle of a COPY is a protocol violation (08P01) ending it; Sync and Flush are ignored', async () => {
    const c = await raw('copy-intruder');
    await c.query(BOOKINGS);
    const start = c.received.length;
    c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
    await c.next('copyInResponse');
    c.send(Buffer.concat([serialize.copyData(Buffer.from('a,r,0,10\n')), serialize.sync(), serialize.flush(), serialize.query('SELECT 1')]));
    await c.untilReady();
    const err = c.received.slice(start).find(isError)!;
    expect([err.code, err.message]).toEqual(['08P01', 'unexpected message type 0x51 during COPY from stdin']);
    expect(await c.query('SELECT count(*) FROM bookings')).toEqual([['0']]);
    c.destroy();
  });

  it('runs in the extended protocol: Parse, Bind, Execute, the data, CopyDone, then Sync', async () => {
    const c = await raw('copy-extended');
    await c.query(BOOKINGS);
    const start = c.received.length;
    c.send(
      Buffer.concat([
        serialize.parse({ text: 'COPY bookings (id, resource_id, start, "end") FROM STDIN CSV' }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.flush(),
      ]),
    );
    await c.next('copyInResponse');
    c.send(Buffer.concat([serialize.copyData(Buffer.from('a,r,0,10\n')), serialize.copyDone(), serialize.sync()]));
    await c.untilReady();
    expect(c.received.slice(start).map((m) => m.name)).toEqual(['parseComplete', 'bindComplete', 'copyInResponse', 'commandComplete', 'readyForQuery']);
    // An error in the data skips to Sync, as any error of the extended protocol.
    c.send(
      Buffer.concat([
        serialize.parse({ text: 'COPY bookings (id, resource_id, start, "end") FROM STDIN CSV' }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.flush(),
      ]),
    );
    await c.next('copyInResponse');
    c.send(Buffer.concat([serialize.copyData(Buffer.from('b,r,0\n')), serialize.copyData(Buffer.from('c,r,20,30\n')), serialize.copyDone(), serialize.sync()]));
    await c.untilReady();
    expect(c.errors().at(-1)?.code).toBe('22P04');
    expect(await c.query('SELECT id FROM bookings')).toEqual([['a']]);
    c.destroy();
  });

  it('a CopyData message over ALLOT_MAX_MESSAGE_BYTES ends the connection (FATAL 54000), writing nothing', async () => {
    const own = await startServer({ maxMessageBytes: 4096 });
    try {
      const setup = await own.client('copy-huge');
      await setup.query(BOOKINGS);
      const c = await RawClient.connect(own.port);
      await c.login({ database: 'copy-huge', password: own.password });
      c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
      await c.next('copyInResponse');
      c.send(serialize.copyData(Buffer.from(`a,r,0,10\n${'x'.repeat(8192)}`)));
      const all = await c.untilClosed();
      expect(all.filter(isError).map((e) => [e.severity, e.code])).toEqual([['FATAL', '54000']]);
      expect((await setup.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: '0' }]);
    } finally {
      await own.close();
    }
  });

  it('a shutdown in the middle of a COPY refuses it (57P01): nothing is written', async () => {
    const own = await startServer();
    try {
      await (await own.client('copy-shutdown')).query(BOOKINGS);
      const c = await RawClient.connect(own.port);
      await c.login({ database: 'copy-shutdown', password: own.password });
      c.send(serialize.query('COPY bookings (id, resource_id, start, "end") FROM STDIN CSV'));
      await c.next('copyInResponse');
      c.send(serialize.copyData(Buffer.from('a,r,0,10\n')));
      await new Promise((r) => setTimeout(r, 50));
      const closing = own.server.close();
      const all = await c.untilClosed();
      await closing;
      expect(all.filter(isError).map((e) => [e.severity, e.code])).toEqual([
        ['ERROR', '57P01'],
        ['FATAL', '57P01'],
      ]);
    } finally {
      await own.close().catch(() => undefined);
    }
  });
});
