/**
 * SAVEPOINT, RELEASE and ROLLBACK TO through real clients: PostgreSQL's semantics (the newest of
 * a name wins; RELEASE and ROLLBACK TO drop later ones; ROLLBACK TO undoes the writes after it
 * and leaves the aborted state), its codes (3B001, 25P01, 25P02), COMMIT keeping exactly the
 * writes kept as one log record, and the way postgres.js, pg and psql use them.
 */
import type pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../helpers/psql.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

/** A fresh database with resource r (capacity 1) and r2. */
async function db(name: string): Promise<pg.Client> {
  const c = await srv.client(name);
  await c.query(`INSERT INTO resources (id) VALUES ('r'), ('r2')`);
  return c;
}

const book = (id: string, start: number, end: number, resource = 'r'): string =>
  `INSERT INTO bookings (id, resource_id, start, "end") VALUES ('${id}', '${resource}', ${start}, ${end})`;

async function ids(c: pg.Client): Promise<string[]> {
  return (await c.query(`SELECT id FROM bookings ORDER BY id`)).rows.map((r) => r.id as string);
}

describe('ROLLBACK TO SAVEPOINT', () => {
  it('undoes a failed statement and leaves the aborted state: the first and the last write commit', async () => {
    const c = await db('sp-basic');
    await c.query('BEGIN');
    await c.query(book('ok', 0, 10));
    await c.query('SAVEPOINT s');
    expect((await pgError(c.query(book('clash', 5, 15)))).code).toBe('23P01');
    expect((await pgError(c.query('SELECT 1'))).code).toBe('25P02');
    expect((await c.query('ROLLBACK TO s')).command).toBe('ROLLBACK');
    await c.query(book('other', 20, 30));
    expect(await ids(c)).toEqual(['ok', 'other']);
    expect((await c.query('COMMIT')).command).toBe('COMMIT');
    expect(await ids(c)).toEqual(['ok', 'other']);
  });

  it('undoes successful writes made after the savepoint, and the savepoint stays for another ROLLBACK TO', async () => {
    const c = await db('sp-undo');
    await c.query('BEGIN');
    await c.query(book('a', 0, 10));
    await c.query('SAVEPOINT s');
    await c.query(book('b', 20, 30));
    await c.query(`DELETE FROM bookings WHERE id = 'a'`);
    expect(await ids(c)).toEqual(['b']);
    await c.query('ROLLBACK TRANSACTION TO SAVEPOINT s');
    expect(await ids(c)).toEqual(['a']);
    await c.query(book('c', 20, 30));
    await c.query('ROLLBACK WORK TO s');
    await c.query(book('d', 40, 50));
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['a', 'd']);
  });

  it('goes to the newest savepoint of a name; RELEASE uncovers the older one; both drop the later ones', async () => {
    const c = await db('sp-names');
    await c.query('BEGIN');
    await c.query('SAVEPOINT a');
    await c.query(book('x', 0, 10));
    await c.query('SAVEPOINT a');
    await c.query(book('y', 20, 30));
    await c.query('SAVEPOINT b');
    await c.query(book('z', 40, 50));
    await c.query('ROLLBACK TO a'); // the newest a: y and z go, b with them
    expect(await ids(c)).toEqual(['x']);
    const err = await pgError(c.query('RELEASE b'));
    expect([err.code, err.message]).toEqual(['3B001', 'savepoint "b" does not exist']);
    await c.query('ROLLBACK TO a'); // still there after a ROLLBACK TO; the block is back
    await c.query('RELEASE SAVEPOINT a'); // the newest a goes: the older one is next
    await c.query('ROLLBACK TO a');
    expect(await ids(c)).toEqual([]);
    await c.query('COMMIT');
    expect(await ids(c)).toEqual([]);
  });

  it('keeps the writes of a released savepoint, and a RELEASE drops every savepoint after it', async () => {
    const c = await db('sp-release');
    await c.query('BEGIN');
    await c.query('SAVEPOINT outer_sp');
    await c.query(book('kept', 0, 10));
    await c.query('SAVEPOINT inner_sp');
    await c.query(book('kept-too', 20, 30));
    expect((await c.query('RELEASE outer_sp')).command).toBe('RELEASE');
    expect((await pgError(c.query('ROLLBACK TO inner_sp'))).code).toBe('3B001');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query('SAVEPOINT s');
    await c.query(book('kept', 0, 10));
    await c.query('RELEASE s');
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['kept']);
  });

  it('folds unquoted names to lower case and keeps quoted ones as written', async () => {
    const c = await db('sp-case');
    await c.query('BEGIN');
    await c.query('SAVEPOINT MixedCase');
    await c.query('SAVEPOINT "Quoted"');
    await c.query('ROLLBACK TO mixedcase');
    expect((await pgError(c.query('ROLLBACK TO quoted'))).code).toBe('3B001');
    await c.query('ROLLBACK');
  });

  it('commits the kept writes as one log record: every event of the block carries one lsn', async () => {
    const c = await db('sp-one-record');
    const listener = await srv.client('sp-one-record');
    const events: { type: string; id: string; lsn: number }[] = [];
    listener.on('notification', (n) => events.push(JSON.parse(n.payload!)));
    await listener.query('LISTEN allot_events');
    await c.query('BEGIN');
    await c.query(book('a', 0, 10));
    await c.query('SAVEPOINT s');
    await c.query(book('gone', 20, 30));
    await c.query('ROLLBACK TO s');
    await c.query(book('b', 20, 30, 'r2'));
    await c.query('COMMIT');
    await c.query(book('after', 40, 50)); // a record of its own
    await listener.query('SELECT 1');
    await expect.poll(() => events.length).toBe(3);
    expect(events.map((e) => [e.type, e.id])).toEqual([
      ['BookingConfirmed', 'a'],
      ['BookingConfirmed', 'b'],
      ['BookingConfirmed', 'after'],
    ]);
    expect(events[0]!.lsn).toBe(events[1]!.lsn);
    expect(events[2]!.lsn).toBe(events[1]!.lsn + 1);
  });

  it('drops the NOTIFYs made after the savepoint', async () => {
    const c = await db('sp-notify');
    const listener = await srv.client('sp-notify');
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload!));
    await listener.query('LISTEN chan');
    await c.query('BEGIN');
    await c.query(`NOTIFY chan, 'before'`);
    await c.query('SAVEPOINT s');
    await c.query(`NOTIFY chan, 'after'`);
    await c.query('ROLLBACK TO s');
    await c.query('COMMIT');
    await c.query(`NOTIFY chan, 'last'`);
    await expect.poll(() => heard).toEqual(['before', 'last']);
  });

  it('decides the kept writes again when another session committed meanwhile: 40001 only if they no longer fit', async () => {
    const c = await db('sp-other');
    const other = await srv.client('sp-other');
    await c.query('BEGIN');
    await c.query(book('mine', 0, 10));
    await c.query('SAVEPOINT s');
    await c.query(book('later', 20, 30));
    await other.query(book('theirs', 40, 50)); // beside: the kept write still fits
    await c.query('ROLLBACK TO s');
    await c.query(book('last', 60, 70));
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['last', 'mine', 'theirs']);

    await c.query('BEGIN');
    await c.query(book('mine-2', 100, 110));
    await c.query('SAVEPOINT s');
    await other.query(book('beside', 100, 110, 'r2'));
    await c.query('ROLLBACK TO s');
    await c.query('SELECT 1'); // decided again beside it: mine-2 still fits
    await c.query('SAVEPOINT s');
    await other.query(book('over', 105, 115)); // now mine-2 no longer fits
    await c.query('ROLLBACK TO s');
    expect((await pgError(c.query('SELECT 1'))).code).toBe('40001');
    await c.query('ROLLBACK');
    expect(await ids(c)).not.toContain('mine-2');
  });
});

describe('savepoint errors', () => {
  it('refuses SAVEPOINT, RELEASE and ROLLBACK TO outside a block with 25P01, as PostgreSQL does', async () => {
    const c = await db('sp-outside');
    for (const [sql, what] of [
      ['SAVEPOINT s', 'SAVEPOINT'],
      ['RELEASE s', 'RELEASE SAVEPOINT'],
      ['ROLLBACK TO s', 'ROLLBACK TO SAVEPOINT'],
    ] as const) {
      const err = await pgError(c.query(sql));
      expect([err.code, err.message]).toEqual(['25P01', `${what} can only be used in transaction blocks`]);
    }
    // Nor in the implicit block of a multi-statement query; nothing of it is kept.
    const err = await pgError(c.query(`${book('x', 0, 10)}; SAVEPOINT s; SELECT 1`));
    expect([err.code, err.message]).toEqual(['25P01', 'SAVEPOINT can only be used in transaction blocks']);
    expect(await ids(c)).toEqual([]);
    // With BEGIN in the string, the block is a real one.
    await c.query(`BEGIN; ${book('y', 0, 10)}; SAVEPOINT s; ${book('z', 0, 10)}`).catch(() => undefined);
    await c.query('ROLLBACK TO s; COMMIT');
    expect(await ids(c)).toEqual(['y']);
  });

  it('aborts the block on an unknown savepoint (3B001); RELEASE and SAVEPOINT in an aborted block get 25P02', async () => {
    const c = await db('sp-unknown');
    await c.query('BEGIN');
    await c.query(book('a', 0, 10));
    await c.query('SAVEPOINT s');
    const err = await pgError(c.query('ROLLBACK TO nope'));
    expect([err.code, err.message]).toEqual(['3B001', 'savepoint "nope" does not exist']);
    expect((await pgError(c.query('RELEASE s'))).code).toBe('25P02');
    expect((await pgError(c.query('SAVEPOINT t'))).code).toBe('25P02');
    // An unknown name while aborted leaves it aborted; a known one brings it back.
    expect((await pgError(c.query('ROLLBACK TO nope'))).code).toBe('3B001');
    expect((await pgError(c.query('SELECT 1'))).code).toBe('25P02');
    await c.query('ROLLBACK TO s');
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['a']);
  });

  it('reads ABORT TO as the syntax error it is, not as a ROLLBACK of the whole block', async () => {
    const c = await db('sp-abort-to');
    await c.query('BEGIN');
    await c.query(book('a', 0, 10));
    await c.query('SAVEPOINT s');
    expect((await pgError(c.query('ABORT TO s'))).code).toBe('42601');
    await c.query('ROLLBACK TO s');
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['a']);
  });

  it('goes back before the first write, and COMMIT then writes nothing', async () => {
    const c = await db('sp-start');
    await c.query('BEGIN');
    await c.query('SAVEPOINT s');
    await c.query(book('a', 0, 10));
    await c.query('ROLLBACK TO s');
    await c.query('COMMIT');
    expect(await ids(c)).toEqual([]);
  });
});

describe('drivers and psql', () => {
  it('postgres.js: sql.savepoint that throws is rolled back, one that returns is released, the block commits', async () => {
    await (await db('sp-pgjs')).query('SELECT 1');
    const sql = postgres(srv.url('sp-pgjs'), { onnotice: () => undefined });
    try {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('first', 'r', 0, 10)`;
        const failed = await tx
          .savepoint(async (sp) => {
            await sp`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('inner', 'r2', 0, 10)`;
            await sp`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('clash', 'r', 5, 15)`;
          })
          .catch((e: postgres.PostgresError) => e.code);
        expect(failed).toBe('23P01');
        await tx.savepoint(async (sp) => {
          await sp`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('released', 'r', 20, 30)`;
        });
        await tx`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('last', 'r', 40, 50)`;
      });
      const rows = await sql`SELECT id FROM bookings ORDER BY id`;
      expect(rows.map((r) => r.id)).toEqual(['first', 'last', 'released']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('pg over the extended protocol: the same statements with parameters', async () => {
    const c = await db('sp-pg-extended');
    await c.query('BEGIN');
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, $2, $3, $4)`, ['a', 'r', 0, 10]);
    await c.query({ text: 'SAVEPOINT s', values: [] });
    expect((await pgError(c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, $2, $3, $4)`, ['b', 'r', 5, 15]))).code).toBe('23P01');
    await c.query({ text: 'ROLLBACK TO SAVEPOINT s', values: [] });
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, $2, $3, $4)`, ['c', 'r', 10, 20]);
    await c.query('COMMIT');
    expect(await ids(c)).toEqual(['a', 'c']);
  });

  it("psql's ON_ERROR_ROLLBACK: a failed statement of a script is undone alone, the rest commits", async () => {
    await (await db('sp-psql')).query('SELECT 1');
    const { output } = await psql(
      srv,
      'sp-psql',
      ['-v', 'ON_ERROR_ROLLBACK=on'],
      ['BEGIN;', `${book('a', 0, 10)};`, `${book('clash', 5, 15)};`, `${book('b', 20, 30)};`, 'COMMIT;', 'SELECT id FROM bookings ORDER BY id;'].join('\n'),
    );
    expect(output).toContain('ERROR:  booking "clash"');
    expect(output).toContain(' a\n b\n(2 rows)');
  });
});
