/**
 * DECLARE, FETCH, MOVE and CLOSE through real clients. Every FETCH and MOVE form against
 * PostgreSQL's own answers (test/fixtures/cursor-moves.json, recorded from PostgreSQL 15: rows,
 * tags and errors, SCROLL, NO SCROLL and neither), then the cursors' lifetimes (the block, WITH
 * HOLD, ROLLBACK TO), their one consistent read, their codes, the extended protocol, and
 * psycopg2's named cursors.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import postgres from 'postgres';
import { serialize } from 'pg-protocol';
import type { RowDescriptionMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CURSORS } from '../../src/tenant/cursors.js';
import { RawClient } from '../helpers/raw-client.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';
import { PYTHON } from '../setup/clients.js';

interface Step {
  readonly sql: string;
  readonly rows?: string[];
  readonly tag?: string;
  readonly error?: string;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/cursor-moves.json', import.meta.url), 'utf8')) as { cases: { scroll: string; steps: Step[] }[] };

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

async function db(name: string): Promise<pg.Client> {
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id) VALUES ('a'), ('b'), ('c'), ('d'), ('e')`);
  return c;
}

const ids = (r: pg.QueryResult): string[] => r.rows.map((x) => x.id as string);

describe('FETCH and MOVE', () => {
  it(`answer as PostgreSQL does, in ${fixture.cases.length} recorded sequences of every form`, async () => {
    const c = await db('cur-fixture');
    for (const [k, tc] of fixture.cases.entries()) {
      await c.query('BEGIN');
      await c.query(`DECLARE c ${tc.scroll} CURSOR FOR SELECT id FROM resources ORDER BY id`);
      const got: Step[] = [];
      for (const step of tc.steps) {
        await c.query('SAVEPOINT s');
        try {
          const r = await c.query(step.sql);
          got.push({ sql: step.sql, ...(step.sql.startsWith('FETCH') ? { rows: ids(r) } : {}), tag: `${r.command} ${r.rowCount}` });
          await c.query('RELEASE s');
        } catch (e) {
          got.push({ sql: step.sql, error: `${(e as { code: string }).code} ${(e as Error).message}` });
          await c.query('ROLLBACK TO s');
        }
      }
      await c.query('ROLLBACK');
      expect({ case: k, scroll: tc.scroll, steps: got }).toEqual({ case: k, scroll: tc.scroll, steps: tc.steps });
    }
  });

  it('read the spellings: FETCH name, FORWARD/BACKWARD without a count, IN, and signed counts', async () => {
    const c = await db('cur-spellings');
    await c.query('BEGIN');
    await c.query('DECLARE "Mixed" SCROLL CURSOR FOR SELECT id FROM resources ORDER BY id');
    expect(ids(await c.query('FETCH "Mixed"'))).toEqual(['a']);
    expect(ids(await c.query('FETCH FORWARD IN "Mixed"'))).toEqual(['b']);
    expect(ids(await c.query('FETCH +2 "Mixed"'))).toEqual(['c', 'd']);
    expect(ids(await c.query('FETCH BACKWARD FROM "Mixed"'))).toEqual(['c']);
    expect((await c.query('MOVE -1 IN "Mixed"')).command).toBe('MOVE');
    expect((await pgError(c.query('FETCH mixed'))).code).toBe('34000');
    expect((await pgError(c.query('FETCH ABSOLUTE FROM "Mixed"'))).code).toBe('42601');
    await c.query('ROLLBACK');
  });
});

describe('a cursor', () => {
  it('without HOLD lives until its block ends, and is refused outside one (25P01)', async () => {
    const c = await db('cur-block');
    const err = await pgError(c.query('DECLARE c CURSOR FOR SELECT id FROM resources'));
    expect([err.code, err.message]).toEqual(['25P01', 'DECLARE CURSOR can only be used in transaction blocks']);
    await c.query('BEGIN');
    expect((await c.query('DECLARE c CURSOR FOR SELECT id FROM resources ORDER BY id')).command).toBe('DECLARE');
    expect(ids(await c.query('FETCH 2 FROM c'))).toEqual(['a', 'b']);
    await c.query('COMMIT');
    expect((await pgError(c.query('FETCH c'))).code).toBe('34000');
    // The implicit block of a multi-statement query is a block: the cursor lives to its end.
    const r = (await c.query('DECLARE i CURSOR FOR SELECT id FROM resources ORDER BY id; FETCH ALL FROM i')) as unknown as pg.QueryResult[];
    expect(ids(r[1]!)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await pgError(c.query('FETCH i'))).code).toBe('34000');
  });

  it('WITH HOLD lives on after COMMIT and outside a block, but goes with a block that rolls back', async () => {
    const c = await db('cur-hold');
    await c.query('BEGIN');
    await c.query('DECLARE h CURSOR WITH HOLD FOR SELECT id FROM resources ORDER BY id');
    await c.query('FETCH 1 FROM h');
    await c.query('COMMIT');
    expect(ids(await c.query('FETCH 2 FROM h'))).toEqual(['b', 'c']);
    await c.query('BEGIN');
    await c.query('DECLARE gone CURSOR WITH HOLD FOR SELECT id FROM resources');
    await c.query('ROLLBACK');
    expect((await pgError(c.query('FETCH gone'))).code).toBe('34000');
    // A held cursor declared before the block survives the block's ROLLBACK.
    expect(ids(await c.query('FETCH NEXT FROM h'))).toEqual(['d']);
    await c.query('DECLARE outside CURSOR WITH HOLD FOR SELECT id FROM resources ORDER BY id DESC');
    expect(ids(await c.query('FETCH outside'))).toEqual(['e']);
    expect((await c.query('CLOSE h')).command).toBe('CLOSE');
    expect((await pgError(c.query('FETCH h'))).code).toBe('34000');
  });

  it("holds the rows of the instant it was declared: the block's own writes, not what commits later", async () => {
    const c = await db('cur-snapshot');
    const other = await srv.client('cur-snapshot');
    await c.query('BEGIN');
    await c.query(`INSERT INTO resources (id) VALUES ('mine')`);
    await c.query('DECLARE s CURSOR FOR SELECT id FROM resources ORDER BY id');
    await other.query(`INSERT INTO resources (id) VALUES ('theirs')`);
    await other.query(`DELETE FROM resources WHERE id = 'a'`);
    expect(ids(await c.query('FETCH ALL FROM s'))).toEqual(['a', 'b', 'c', 'd', 'e', 'mine']);
    await c.query('COMMIT');
  });

  it('declared after a savepoint goes with ROLLBACK TO it; one declared before stays, where it was', async () => {
    const c = await db('cur-savepoint');
    await c.query('BEGIN');
    await c.query('DECLARE before_sp CURSOR FOR SELECT id FROM resources ORDER BY id');
    await c.query('SAVEPOINT s');
    await c.query('FETCH 2 FROM before_sp');
    await c.query('DECLARE after_sp CURSOR FOR SELECT id FROM resources');
    await c.query('ROLLBACK TO s');
    expect((await pgError(c.query('FETCH after_sp'))).code).toBe('34000');
    await c.query('ROLLBACK TO s');
    expect(ids(await c.query('FETCH before_sp'))).toEqual(['c']);
    await c.query('ROLLBACK');
  });

  it("has PostgreSQL's codes: 34000 unknown, 42P03 duplicate, 25P02 in a failed block, 42601 for a query that is not a SELECT", async () => {
    const c = await db('cur-codes');
    for (const sql of ['FETCH nope', 'MOVE nope', 'CLOSE nope']) {
      const err = await pgError(c.query(sql));
      expect([err.code, err.message]).toEqual(['34000', 'cursor "nope" does not exist']);
    }
    await c.query('BEGIN');
    await c.query('DECLARE d CURSOR FOR SELECT id FROM resources');
    const dup = await pgError(c.query('DECLARE d CURSOR FOR SELECT 1'));
    expect([dup.code, dup.message]).toEqual(['42P03', 'cursor "d" already exists']);
    expect((await pgError(c.query('FETCH d'))).code).toBe('25P02');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    expect((await pgError(c.query(`DECLARE w CURSOR FOR DELETE FROM resources WHERE id = 'a'`))).code).toBe('42601');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    expect((await pgError(c.query(`DECLARE w CURSOR FOR SELECT * FROM nowhere`))).code).toBe('42P01');
    await c.query('ROLLBACK');
  });

  it(`a session holds at most ${MAX_CURSORS} at once (54000); closing one makes room`, async () => {
    const c = await db('cur-limit');
    await c.query('BEGIN');
    const declares = Array.from({ length: MAX_CURSORS }, (_, i) => `DECLARE c${i} CURSOR FOR SELECT 1`).join('; ');
    await c.query(declares);
    const err = await pgError(c.query('DECLARE one_more CURSOR FOR SELECT 1'));
    expect(err.code).toBe('54000');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query(declares);
    await c.query('CLOSE c0');
    await c.query('DECLARE one_more CURSOR FOR SELECT 1');
    await c.query('ROLLBACK');
  });

  it('BINARY sends its rows in binary in the simple protocol', async () => {
    await db('cur-binary');
    const raw = await RawClient.connect(srv.port);
    await raw.login({ database: 'cur-binary', password: srv.password });
    await raw.query('BEGIN');
    const start = raw.received.length;
    const rows = await raw.query(`DECLARE b BINARY CURSOR FOR SELECT capacity FROM resources ORDER BY id; FETCH 1 FROM b`);
    const desc = raw.received.slice(start).find((m) => m.name === 'rowDescription') as RowDescriptionMessage;
    expect(desc.fields[0]!.format).toBe('binary');
    expect(rows).toHaveLength(1);
    raw.destroy();
  });
});

describe('cursors in drivers', () => {
  it("postgres.js over the extended protocol: a FETCH is described with its cursor's columns", async () => {
    await db('cur-pgjs');
    const sql = postgres(srv.url('cur-pgjs'), { onnotice: () => undefined });
    try {
      const got = await sql.begin(async (tx) => {
        await tx`DECLARE c SCROLL CURSOR FOR SELECT id, capacity FROM resources ORDER BY id`;
        const first = await tx`FETCH 2 FROM c`;
        const back = await tx`FETCH PRIOR FROM c`;
        const moved = await tx`MOVE LAST IN c`;
        await tx`CLOSE c`;
        return { first: [...first], back: [...back], moved: moved.count };
      });
      expect(got).toEqual({
        first: [
          { id: 'a', capacity: '1' },
          { id: 'b', capacity: '1' },
        ],
        back: [{ id: 'a', capacity: '1' }],
        moved: 1,
      });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('pg over the extended protocol: an Execute with a row count suspends a FETCH and resumes it', async () => {
    await db('cur-portal');
    const raw = await RawClient.connect(srv.port);
    await raw.login({ database: 'cur-portal', password: srv.password });
    await raw.query('BEGIN; DECLARE c CURSOR FOR SELECT id FROM resources ORDER BY id');
    const replies = await raw.exchange(
      serialize.parse({ text: 'FETCH 4 FROM c' }),
      serialize.bind({}),
      serialize.describe({ type: 'P' }),
      serialize.execute({ rows: 3 }),
      serialize.execute({ rows: 3 }),
    );
    expect(replies.map((m) => m.name)).toEqual([
      'parseComplete',
      'bindComplete',
      'rowDescription',
      'dataRow',
      'dataRow',
      'dataRow',
      'portalSuspended',
      'dataRow',
      'commandComplete',
      'readyForQuery',
    ]);
    raw.destroy();
  });

  it('psycopg2 named cursors: itersize batches, fetchmany, scroll, WITH HOLD and close', async () => {
    await db('cur-psycopg2');
    const script = fileURLToPath(new URL('../fixtures/clients/psycopg2_cursors.py', import.meta.url));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [script, String(srv.port), srv.password, 'cur-psycopg2'], { timeout: 60_000 }, (err, stdout, stderr) =>
        err !== null ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(out.trim().split('\n')).toEqual([
      'iterated a,b,c,d,e',
      'fetchmany [a, b] then [c]',
      'scrolled to e, back to b',
      'held after commit: d',
      'closed: InvalidCursorName 34000',
    ]);
  });
});
