/**
 * Transaction blocks through pg, with a clock the test moves: a block decides its writes at one
 * instant (its first write's), so COMMIT after the clock moved on commits what the client was
 * shown; it fails with 40001 only when another session changed what the block read; a block
 * costs O(N) work for N statements and nobody else ever sees its writes before COMMIT; the row
 * limit is 54000 at the statement that crosses it; a database the disk made read-only says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Limits } from '../../src/engine/limits.js';
import { Store } from '../../src/engine/state.js';
import { ManualClock } from '../helpers/clock.js';
import { errnoError, FaultyFs } from '../helpers/faulty-fs.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number, minute = 0): number => DAY0 + hour * H + minute * MIN;
const clock = new ManualClock(at(8));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({}, { clock });
});
afterAll(async () => {
  await srv.close();
});
const others: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** A fresh database with resources r1 and r2 (capacity 1), the clock at 08:00. */
async function db(name: string): Promise<pg.Client> {
  clock.set(at(8));
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id) VALUES ('r1'), ('r2')`);
  return c;
}

async function ids(c: pg.Client, table = 'bookings'): Promise<string[]> {
  return (await c.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id as string);
}

function book(c: pg.Client, id: string, resourceId: string, start: number, end: number): Promise<pg.QueryResult> {
  return c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, $2, $3, $4)`, [id, resourceId, start, end]);
}

describe("a block's instant", () => {
  it('commits an outage declared in a block after the clock moved on, with the declared_at the client was shown', async () => {
    const c = await db('instant-outage');
    await c.query('BEGIN');
    const shown = await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('down', 'r1', $1, $2) RETURNING declared_at`, [at(9), H]);
    expect(shown.rows).toEqual([{ declared_at: String(at(8)) }]);
    clock.advance(10 * MIN);
    expect((await c.query('COMMIT')).command).toBe('COMMIT');
    expect((await c.query(`SELECT declared_at FROM outages`)).rows).toEqual([{ declared_at: String(at(8)) }]);
  });

  it('fixes the instant at the first write: every write of the block is decided at it, reads at the current time', async () => {
    const c = await db('instant-first-write');
    await c.query('BEGIN');
    clock.advance(5 * MIN); // BEGIN does not fix it
    await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('a', 'r1', $1, $2)`, [at(9), H]);
    clock.advance(5 * MIN);
    await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('b', 'r2', $1, $2)`, [at(9), H]);
    // A hold of the block that expires at 08:12 is the block's own write, read at 08:10: live.
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'r2', $1, $2, $3)`, [at(8), at(8, 30), at(8, 12)]);
    expect(await ids(c, 'holds')).toEqual(['h']);
    clock.advance(5 * MIN); // 08:15: the hold has expired for reads
    expect(await ids(c, 'holds')).toEqual([]);
    await c.query('COMMIT');
    expect((await c.query(`SELECT id, declared_at FROM outages ORDER BY id`)).rows).toEqual([
      { id: 'a', declared_at: String(at(8, 5)) },
      { id: 'b', declared_at: String(at(8, 5)) },
    ]);
  });

  it("turns a hold into a booking at the block's instant, though the hold expires before COMMIT", async () => {
    const c = await db('instant-hold');
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'r1', $1, $2, $3)`, [at(10), at(11), at(8, 5)]);
    clock.set(at(8, 4));
    await c.query('BEGIN');
    expect((await c.query(`UPDATE holds SET booking_id = 'b' WHERE id = 'h'`)).rowCount).toBe(1);
    clock.set(at(8, 6));
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['b']);
    expect(await ids(c, 'holds')).toEqual([]);
  });

  it("judges a policy's window at the block's instant", async () => {
    const c = await db('instant-policy');
    await c.query(`INSERT INTO policies (id, allow_start_in_past) VALUES ('walk-in', 5 * 60000)`);
    await c.query('BEGIN');
    // 4 minutes late at 08:00, within the 5 allowed; 14 minutes late by COMMIT at 08:10.
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", policy_id) VALUES ('late', 'r1', $1, $2, 'walk-in')`, [at(7, 56), at(8, 30)]);
    clock.advance(10 * MIN);
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['late']);
  });

  it('commits after another session committed something the block did not read, and the clock moved on', async () => {
    const a = await db('instant-harmless');
    const b = await srv.client('instant-harmless');
    await a.query('BEGIN');
    await a.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('down', 'r1', $1, $2)`, [at(9), H]);
    await book(b, 'theirs', 'r2', at(10), at(11));
    clock.advance(10 * MIN);
    await book(a, 'mine', 'r2', at(12), at(13));
    clock.advance(10 * MIN);
    await a.query('COMMIT');
    expect(await ids(b)).toEqual(['mine', 'theirs']);
    expect((await b.query(`SELECT declared_at FROM outages`)).rows).toEqual([{ declared_at: String(at(8)) }]);
  });

  it('fails COMMIT with 40001 when another session took what the block wrote, though only the clock moved for the rest', async () => {
    const a = await db('instant-conflict');
    const b = await srv.client('instant-conflict');
    await a.query('BEGIN');
    await a.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('down', 'r2', $1, $2)`, [at(20), H]);
    await book(a, 'mine', 'r1', at(10), at(11));
    await book(b, 'theirs', 'r1', at(10, 30), at(11, 30));
    clock.advance(10 * MIN);
    const err = await pgError(a.query('COMMIT'));
    expect(err.code).toBe('40001');
    expect(err.detail).toContain('theirs');
    expect(await ids(a)).toEqual(['theirs']);
    expect(await ids(a, 'outages')).toEqual([]);
  });

  it('fails with 40001 when another session took the hold the block turned into a booking', async () => {
    const a = await db('instant-hold-gone');
    const b = await srv.client('instant-hold-gone');
    await a.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'r1', $1, $2, $3)`, [at(10), at(11), at(9)]);
    await a.query('BEGIN');
    await a.query(`UPDATE holds SET booking_id = 'b' WHERE id = 'h'`);
    await b.query(`DELETE FROM holds WHERE id = 'h'`);
    expect((await pgError(a.query('COMMIT'))).code).toBe('40001');
    expect(await ids(a)).toEqual([]);
  });

  it('keeps, across a restart, the effects the client was shown', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-tx-'));
    dirs.push(dataDir);
    clock.set(at(8));
    const first = await startServer({ dataDir }, { clock });
    others.push(first);
    const c = await first.client('kept');
    await c.query(`INSERT INTO resources (id) VALUES ('r1')`);
    await c.query('BEGIN');
    await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window) VALUES ('down', 'r1', $1, $2)`, [at(9), H]);
    clock.advance(30 * MIN);
    await c.query('COMMIT');
    await first.close();
    others.splice(others.indexOf(first), 1);
    const second = await startServer({ dataDir }, { clock });
    others.push(second);
    expect((await (await second.client('kept')).query(`SELECT declared_at FROM outages`)).rows).toEqual([{ declared_at: String(at(8)) }]);
  });
});

describe('a block of N statements', () => {
  it('costs O(N): each statement decides only its own rows', async () => {
    const c = await db('linear');
    await c.query(`UPDATE resources SET capacity = 1000000 WHERE id = 'r1'`);
    const adds = vi.spyOn(Store.prototype, 'addBooking');
    const n = 1_000;
    await c.query('BEGIN');
    for (let i = 0; i < n; i++) await book(c, `b${i}`, 'r1', at(9) + i * MIN, at(9) + (i + 1) * MIN);
    await c.query('COMMIT');
    // Each booking is placed once (deciding every earlier statement again at each new one
    // placed n²/2 of them).
    expect(adds.mock.calls.length).toBe(n);
    expect((await c.query('SELECT count(*) FROM bookings')).rows).toEqual([{ count: String(n) }]);
  });

  it('is never seen by another session, the metrics or a checkpoint, and goes on where it was after them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-tx-'));
    dirs.push(dataDir);
    clock.set(at(8));
    const first = await startServer({ dataDir }, { clock });
    others.push(first);
    const a = await first.client('unseen');
    const b = await first.client('unseen');
    const tenant = await first.server.tenant('unseen');
    await a.query(`INSERT INTO resources (id) VALUES ('r1'), ('r2')`);
    await a.query('BEGIN');
    await book(a, 'mine-1', 'r1', at(9), at(10));
    expect(tenant.engine.store.bookings.size).toBe(0);
    expect(await first.server.metrics.text()).toMatch(/allot_bookings\{database="unseen"\} 0/);
    expect(await ids(b)).toEqual([]);
    await book(a, 'mine-2', 'r1', at(10), at(11));
    await tenant.checkpoint();
    expect(await ids(a)).toEqual(['mine-1', 'mine-2']);
    await a.query('ROLLBACK');
    await first.close();
    others.splice(others.indexOf(first), 1);
    const second = await startServer({ dataDir }, { clock });
    others.push(second);
    expect(await ids(await second.client('unseen'))).toEqual([]);
  });

  it("lets the reaper work during a block, and a block's own statements go on after it", async () => {
    const c = await db('reaper');
    const tenant = await srv.server.tenant('reaper');
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'r1', $1, $2, $3)`, [at(10), at(11), at(8, 1)]);
    await c.query('BEGIN');
    await book(c, 'mine', 'r2', at(10), at(11));
    clock.advance(2 * MIN);
    expect(await tenant.reaper.runDue()).toBe(1);
    expect(await ids(c)).toEqual(['mine']);
    await book(c, 'over-the-hold', 'r1', at(10), at(11));
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['mine', 'over-the-hold']);
  });

  it('fails the next statement with 40001 once another session took what the block wrote, and aborts the block', async () => {
    const a = await db('next-statement');
    const b = await srv.client('next-statement');
    await a.query('BEGIN');
    await book(a, 'mine', 'r1', at(10), at(11));
    await book(b, 'theirs', 'r1', at(10, 30), at(11, 30));
    const err = await pgError(a.query(`SELECT id FROM bookings`));
    expect(err.code).toBe('40001');
    expect(err.detail).toContain('theirs');
    expect((await pgError(a.query('SELECT 1'))).code).toBe('25P02');
    expect((await a.query('COMMIT')).command).toBe('ROLLBACK');
    expect(await ids(a)).toEqual(['theirs']);
  });

  it('undoes a failed statement and then the whole block, leaving what others committed meanwhile', async () => {
    const a = await db('failed-statement');
    const b = await srv.client('failed-statement');
    await a.query('BEGIN');
    await book(a, 'one', 'r1', at(10), at(11));
    await book(b, 'theirs', 'r2', at(10), at(11));
    const err = await pgError(
      a.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('two', 'r1', $1, $2), ('three', 'r1', $3, $4)`, [
        at(12),
        at(13),
        at(12, 30),
        at(13, 30),
      ]),
    );
    expect(err.code).toBe('23P01');
    await a.query('ROLLBACK');
    expect(await ids(a)).toEqual(['theirs']);
    await book(a, 'three', 'r1', at(12, 30), at(13, 30));
    expect(await ids(b)).toEqual(['theirs', 'three']);
  });
});

describe('the row limit of a block', () => {
  const values = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `('${prefix}${i}')`).join(', ');

  it(`fails with 54000 at the statement that takes the block past ${Limits.maxBatchCommands} rows, and keeps nothing`, async () => {
    const c = await db('limit');
    const half = Limits.maxBatchCommands / 2;
    await c.query('BEGIN');
    await c.query(`INSERT INTO resources (id) VALUES ${values('a', half)}`);
    await c.query(`INSERT INTO resources (id) VALUES ${values('b', half)}`);
    const err = await pgError(c.query(`INSERT INTO resources (id) VALUES ('one-too-many')`));
    expect(err.code).toBe('54000');
    expect(err.message).toContain(String(Limits.maxBatchCommands));
    expect((await c.query('COMMIT')).command).toBe('ROLLBACK');
    expect((await c.query('SELECT count(*) FROM resources')).rows).toEqual([{ count: '2' }]);
    // Exactly at the limit it commits.
    await c.query('BEGIN');
    await c.query(`INSERT INTO resources (id) VALUES ${values('a', half)}`);
    await c.query(`INSERT INTO resources (id) VALUES ${values('b', half)}`);
    await c.query('COMMIT');
    expect((await c.query('SELECT count(*) FROM resources')).rows).toEqual([{ count: String(Limits.maxBatchCommands + 2) }]);
  });

  it('fails with 54000 in the implicit block of a multi-statement query too', async () => {
    const c = await db('limit-implicit');
    const half = Limits.maxBatchCommands / 2;
    const err = await pgError(c.query(`INSERT INTO resources (id) VALUES ${values('a', half)}; INSERT INTO resources (id) VALUES ${values('b', half + 1)}`));
    expect(err.code).toBe('54000');
    expect((await c.query('SELECT count(*) FROM resources')).rows).toEqual([{ count: '2' }]);
  });
});

describe('a database the disk made read-only', () => {
  it('says transaction_read_only is on, and refuses a write in a block at once with 58030', async () => {
    const fs = new FaultyFs();
    const s = await startServer({}, { fs, clock });
    others.push(s);
    const c = await s.client('sick');
    const open = await s.client('sick');
    await c.query(`INSERT INTO resources (id) VALUES ('r1')`);
    expect((await c.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'off' }]);
    await open.query('BEGIN');
    await open.query(`INSERT INTO resources (id) VALUES ('in-open-block')`);
    // A full disk: the write is refused before any byte is written, so the answer is sure.
    fs.writeError = errnoError('ENOSPC', 'no space left on device');
    expect((await pgError(c.query(`INSERT INTO resources (id) VALUES ('lost')`))).code).toBe('58030');
    fs.writeError = null;
    // The block open meanwhile cannot commit: 58030, not 40001 (a retry would fail the same).
    expect((await pgError(open.query('COMMIT'))).code).toBe('58030');
    expect((await c.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }]);
    expect((await c.query(`SELECT current_setting('transaction_read_only') AS ro`)).rows).toEqual([{ ro: 'on' }]);
    await c.query('BEGIN');
    expect((await c.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }]);
    expect((await pgError(c.query(`INSERT INTO resources (id) VALUES ('in-block')`))).code).toBe('58030');
    expect((await c.query('COMMIT')).command).toBe('ROLLBACK');
    expect(await ids(c, 'resources')).toEqual(['r1']);
  });
});
