/**
 * A session's transaction states as a client meets them, read off a raw socket: what each
 * statement answers, the warnings it draws, and the status of the ReadyForQuery after it (I idle,
 * T in a block, E in a failed block). Idle, each statement is its own transaction and the
 * block-only commands only warn; a block warns at a second BEGIN and keeps SET LOCAL to itself;
 * a failed block refuses everything with 25P02 until ROLLBACK, COMMIT (which answers ROLLBACK)
 * or a ROLLBACK TO that reopens it; a multi-statement query is idle before and after, unless a
 * BEGIN in it opened a block; a COMMIT that fails leaves the session idle.
 */
import type pg from 'pg';
import type { BackendMessage, CommandCompleteMessage, NoticeMessage, ReadyForQueryMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isError, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});
const raws: RawClient[] = [];
afterEach(() => {
  for (const c of raws.splice(0)) c.destroy();
});

const ABORTED = 'current transaction is aborted, commands ignored until end of transaction block';

/** A raw client on `database`, logged in: idle. */
async function session(database: string): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  raws.push(c);
  await c.login({ database, password: srv.password });
  expect(status(c.received)).toBe('I');
  return c;
}

function status(ms: readonly BackendMessage[]): string {
  const last = ms.at(-1);
  if (last?.name !== 'readyForQuery') throw new Error(`expected ReadyForQuery last, got ${last?.name}`);
  return (last as ReadyForQueryMessage).status;
}

interface Answer {
  /** Each statement's command tag, or its error's code. */
  readonly replies: readonly string[];
  /** Warnings and notices, as `code message`. */
  readonly notices: readonly string[];
  readonly status: string;
}

/** Sends one simple Query and reads its answer up to ReadyForQuery. */
async function send(c: RawClient, sql: string): Promise<Answer> {
  const from = c.received.length;
  await c.query(sql);
  const got = c.received.slice(from);
  const replies: string[] = [];
  const notices: string[] = [];
  for (const m of got) {
    if (isError(m)) replies.push(m.code ?? '?');
    else if (m.name === 'commandComplete') replies.push((m as CommandCompleteMessage).text);
    else if (m.name === 'notice') notices.push(`${(m as NoticeMessage).code} ${(m as NoticeMessage).message}`);
  }
  return { replies, notices, status: status(got) };
}

/** The value a SHOW gives. */
async function show(c: RawClient, name: string): Promise<string | null> {
  return (await c.query(`SHOW ${name}`))[0]?.[0] ?? null;
}

/** A raw session, and a pg client beside it, on a fresh database holding resource r (capacity 1). */
async function withResource(database: string): Promise<{ c: RawClient; other: pg.Client }> {
  const c = await session(database);
  const other = await srv.client(database);
  await other.query(`INSERT INTO resources (id) VALUES ('r')`);
  return { c, other };
}

const book = (id: string, start: number, end: number): string => `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('${id}', 'r', ${start}, ${end})`;

async function ids(c: pg.Client, table: string): Promise<string[]> {
  return (await c.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id as string);
}

const answer = (replies: string[], status: string, notices: string[] = []): Answer => ({ replies, notices, status });

describe('idle', () => {
  it('commits each statement on its own; COMMIT, ROLLBACK, SET LOCAL and SET TRANSACTION only warn (25P01), as PostgreSQL does', async () => {
    const c = await session('states-idle');
    const other = await srv.client('states-idle');
    expect(await send(c, `INSERT INTO resources (id) VALUES ('r')`)).toEqual(answer(['INSERT 0 1'], 'I'));
    expect(await ids(other, 'resources')).toEqual(['r']);
    expect(await send(c, 'COMMIT')).toEqual(answer(['COMMIT'], 'I', ['25P01 there is no transaction in progress']));
    expect(await send(c, 'ROLLBACK')).toEqual(answer(['ROLLBACK'], 'I', ['25P01 there is no transaction in progress']));
    expect(await ids(other, 'resources')).toEqual(['r']);
    expect(await send(c, `SET LOCAL application_name = 'local'`)).toEqual(answer(['SET'], 'I', ['25P01 SET LOCAL can only be used in transaction blocks']));
    expect(await show(c, 'application_name')).toBe('');
    expect(await send(c, 'SET TRANSACTION READ ONLY')).toEqual(answer(['SET'], 'I', ['25P01 SET TRANSACTION can only be used in transaction blocks']));
    expect(await send(c, `INSERT INTO resources (id) VALUES ('still-writable')`)).toEqual(answer(['INSERT 0 1'], 'I'));
  });
});

describe('in a block', () => {
  it('warns at a second BEGIN (25001) and goes on with the same block; SET LOCAL lasts until COMMIT or ROLLBACK', async () => {
    const c = await session('states-block');
    const other = await srv.client('states-block');
    expect(await send(c, 'BEGIN')).toEqual(answer(['BEGIN'], 'T'));
    expect(await send(c, `INSERT INTO resources (id) VALUES ('r')`)).toEqual(answer(['INSERT 0 1'], 'T'));
    expect(await send(c, 'BEGIN')).toEqual(answer(['BEGIN'], 'T', ['25001 there is already a transaction in progress']));
    expect(await send(c, `SET LOCAL application_name = 'in-block'`)).toEqual(answer(['SET'], 'T'));
    expect(await show(c, 'application_name')).toBe('in-block');
    expect(await ids(other, 'resources')).toEqual([]);
    expect(await send(c, 'COMMIT')).toEqual(answer(['COMMIT'], 'I'));
    expect(await ids(other, 'resources')).toEqual(['r']);
    expect(await show(c, 'application_name')).toBe('');
    await send(c, 'BEGIN');
    await send(c, `SET LOCAL application_name = 'rolled-back'`);
    expect(await send(c, 'ROLLBACK')).toEqual(answer(['ROLLBACK'], 'I'));
    expect(await show(c, 'application_name')).toBe('');
  });

  it('writes no record for a block that only read', async () => {
    const { c } = await withResource('states-read');
    const tenant = await srv.server.tenant('states-read');
    const lsn = tenant.lastLsn;
    await send(c, 'BEGIN');
    await send(c, 'SELECT count(*) FROM resources');
    expect(await send(c, 'COMMIT')).toEqual(answer(['COMMIT'], 'I'));
    expect(tenant.lastLsn).toBe(lsn);
  });
});

describe('a failed block', () => {
  it('refuses every statement but ROLLBACK, COMMIT and ROLLBACK TO with 25P02, doing none of it; COMMIT then answers ROLLBACK', async () => {
    const { c, other } = await withResource('states-failed');
    await send(c, 'BEGIN');
    await send(c, book('before', 0, 10));
    expect(await send(c, 'SELECT * FROM nowhere')).toEqual(answer(['42P01'], 'E'));
    for (const sql of [
      'SELECT 1',
      book('during', 20, 30),
      'SHOW application_name',
      `SET application_name = 'during'`,
      'LISTEN chan',
      `NOTIFY chan, 'during'`,
      'BEGIN',
      'DECLARE cur CURSOR FOR SELECT id FROM resources',
      // The error stops the query: its ROLLBACK is not reached.
      'SELECT 1; ROLLBACK',
    ]) {
      expect(await send(c, sql), sql).toEqual(answer(['25P02'], 'E'));
    }
    const refused = c.errors().at(-1)!;
    expect([refused.severity, refused.message]).toEqual(['ERROR', ABORTED]);
    expect(await send(c, 'COMMIT')).toEqual(answer(['ROLLBACK'], 'I'));
    expect(await ids(other, 'bookings')).toEqual([]);
    expect(await show(c, 'application_name')).toBe('');
    expect((await srv.server.tenant('states-failed')).hub.hasListeners('chan')).toBe(false);
    expect(await send(c, 'CLOSE cur')).toEqual(answer(['34000'], 'I'));
  });

  it('is open again after ROLLBACK TO a savepoint made before the failure, with the writes before it', async () => {
    const { c, other } = await withResource('states-reopened');
    await send(c, 'BEGIN');
    await send(c, book('kept', 0, 10));
    expect(await send(c, 'SAVEPOINT s')).toEqual(answer(['SAVEPOINT'], 'T'));
    expect(await send(c, book('clash', 5, 15))).toEqual(answer(['23P01'], 'E'));
    expect(await send(c, 'ROLLBACK TO s')).toEqual(answer(['ROLLBACK'], 'T'));
    expect(await send(c, book('after', 20, 30))).toEqual(answer(['INSERT 0 1'], 'T'));
    expect(await send(c, 'COMMIT')).toEqual(answer(['COMMIT'], 'I'));
    expect(await ids(other, 'bookings')).toEqual(['after', 'kept']);
  });
});

describe('a query of several statements', () => {
  it('is idle before and after, all or nothing; with a BEGIN in it, the block outlives the query', async () => {
    const c = await session('states-implicit');
    const other = await srv.client('states-implicit');
    expect(await send(c, `INSERT INTO resources (id) VALUES ('r1'); INSERT INTO resources (id) VALUES ('r2')`)).toEqual(
      answer(['INSERT 0 1', 'INSERT 0 1'], 'I'),
    );
    expect(await send(c, `INSERT INTO resources (id) VALUES ('r3'); SELECT * FROM nowhere; INSERT INTO resources (id) VALUES ('r4')`)).toEqual(
      answer(['INSERT 0 1', '42P01'], 'I'),
    );
    expect(await ids(other, 'resources')).toEqual(['r1', 'r2']);
    // The writes before a BEGIN join the block it opens.
    expect(await send(c, `INSERT INTO resources (id) VALUES ('r5'); BEGIN; INSERT INTO resources (id) VALUES ('r6')`)).toEqual(
      answer(['INSERT 0 1', 'BEGIN', 'INSERT 0 1'], 'T'),
    );
    expect(await ids(other, 'resources')).toEqual(['r1', 'r2']);
    expect(await send(c, 'SELECT * FROM nowhere; SELECT 1')).toEqual(answer(['42P01'], 'E'));
    expect(await send(c, 'ROLLBACK')).toEqual(answer(['ROLLBACK'], 'I'));
    expect(await send(c, `BEGIN; INSERT INTO resources (id) VALUES ('r7'); COMMIT`)).toEqual(answer(['BEGIN', 'INSERT 0 1', 'COMMIT'], 'I'));
    expect(await ids(other, 'resources')).toEqual(['r1', 'r2', 'r7']);
  });
});

describe('a COMMIT that fails', () => {
  it('ends the block (40001): the session is idle, keeps nothing of it, and goes on', async () => {
    const { c, other } = await withResource('states-40001');
    await send(c, 'BEGIN');
    await send(c, book('mine', 0, 10));
    await other.query(book('theirs', 5, 15));
    expect(await send(c, 'COMMIT')).toEqual(answer(['40001'], 'I'));
    expect(await send(c, book('next', 20, 30))).toEqual(answer(['INSERT 0 1'], 'I'));
    expect(await ids(other, 'bookings')).toEqual(['next', 'theirs']);
  });
});
