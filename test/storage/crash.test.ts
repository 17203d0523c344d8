/**
 * The crash test: the server as a child process, clients booking through pg, SIGKILL at random
 * moments, restart, check. Every acknowledged write is there; no statement is partly there;
 * capacity is never exceeded; the state is exactly the acknowledged history plus whole
 * statements that were in flight.
 *
 * Then SIGTERM rounds: a graceful stop must tell every client the truth. Writers on the extended
 * protocol insert (RETURNING) and delete; a statement answered with an error (any SQLSTATE,
 * 57P01 included) did not happen, one answered with success did; only a broken connection
 * without an answer leaves the outcome open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../helpers/child-server.js';

const KILLS = Number(process.env.ALLOT_CRASH_KILLS ?? 22);
const TERMS = Number(process.env.ALLOT_CRASH_TERMS ?? 8);
const PASSWORD = 'crash-pw';
const RESOURCES = ['r0', 'r1', 'r2', 'r3', 'r4'];
const CAPACITY = 2;
const SLOT = 30 * 60_000;

interface Row {
  readonly id: string;
  readonly resource_id: string;
  readonly start: number;
  readonly end: number;
}

interface Statement {
  readonly rows: Row[];
  readonly skipConflicts: boolean;
  state: 'sent' | 'acked' | 'failed';
  /** With ON CONFLICT DO NOTHING, the ids the server said it inserted. */
  inserted: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'allot-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

async function connect(port: number): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'crash', password: PASSWORD, database: 'crash' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Keeps booking until the connection dies. */
async function writer(port: number, tag: string, statements: Statement[]): Promise<void> {
  let c: pg.Client;
  try {
    c = await connect(port);
  } catch {
    return;
  }
  for (let n = 0; ; n++) {
    const rows: Row[] = Array.from({ length: 1 + rand(3) }, (_, j) => {
      const start = rand(48) * SLOT;
      return { id: `${tag}-${n}-${j}`, resource_id: RESOURCES[rand(RESOURCES.length)]!, start, end: start + SLOT * (1 + rand(2)) };
    });
    const st: Statement = { rows, skipConflicts: Math.random() < 0.5, state: 'sent', inserted: [] };
    statements.push(st);
    const values = rows.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`).join(', ');
    const sql = `INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values}${st.skipConflicts ? ' ON CONFLICT DO NOTHING' : ''} RETURNING id`;
    try {
      const r = await c.query(
        sql,
        rows.flatMap((r) => [r.id, r.resource_id, r.start, r.end]),
      );
      st.state = 'acked';
      st.inserted = r.rows.map((x) => x.id as string);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '23P01') {
        st.state = 'failed';
        continue;
      }
      return; // the server is gone: this statement stays 'sent'
    }
  }
}

function peak(rows: readonly Row[]): number {
  const ev = rows.flatMap((r) => [[r.start, 1] as const, [r.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) max = Math.max(max, (cur += d));
  return max;
}

describe('crash safety under SIGKILL', () => {
  it(`keeps every acknowledged write and no partial statement across ${KILLS} kills`, async () => {
    const known = new Map<string, Row>(); // every row ever sent, by id
    const present = new Set<string>(); // rows known to be in the database
    const gone = new Set<string>(); // rows known never to be there
    let server: ChildServer = await startChild(dir, PASSWORD);
    {
      const c = await connect(server.port);
      await c.query(`INSERT INTO resources (id, capacity) VALUES ${RESOURCES.map((r) => `('${r}', ${CAPACITY})`).join(', ')}`);
      await c.end();
    }
    for (let cycle = 0; cycle < KILLS; cycle++) {
      const statements: Statement[] = [];
      const writers = Array.from({ length: 4 }, (_, k) => writer(server.port, `c${cycle}w${k}`, statements));
      await new Promise((r) => setTimeout(r, 50 + rand(300)));
      expect(await server.kill('SIGKILL')).toBe(null);
      await Promise.all(writers);
      for (const st of statements) for (const r of st.rows) known.set(r.id, r);

      server = await startChild(dir, PASSWORD);
      const c = await connect(server.port);
      const rows = (await c.query('SELECT id, resource_id, start, "end" FROM bookings')).rows.map((r) => ({
        ...r,
        start: Number(r.start),
        end: Number(r.end),
      })) as Row[];
      await c.end();
      const now = new Set(rows.map((r) => r.id));

      // Everything acknowledged before, and everything acknowledged in this cycle, is there.
      for (const id of present) expect(now.has(id), `acknowledged ${id} lost`).toBe(true);
      for (const st of statements) {
        if (st.state === 'acked') {
          const expected = st.skipConflicts ? st.inserted : st.rows.map((r) => r.id);
          for (const id of expected) expect(now.has(id), `acknowledged ${id} lost in cycle ${cycle}`).toBe(true);
          for (const r of st.rows) if (!expected.includes(r.id)) expect(now.has(r.id), `skipped ${r.id} is there`).toBe(false);
        } else if (st.state === 'failed') {
          for (const r of st.rows) expect(now.has(r.id), `refused ${r.id} is there`).toBe(false);
        } else if (!st.skipConflicts) {
          // In flight when the server died: all of it or none of it.
          const there = st.rows.filter((r) => now.has(r.id)).length;
          expect([0, st.rows.length], `statement ${st.rows[0]!.id} is partly there`).toContain(there);
        }
      }
      // Nothing is there that was never sent, or that was known to be gone.
      for (const r of rows) {
        expect(known.has(r.id), `${r.id} was never sent`).toBe(true);
        expect(gone.has(r.id), `${r.id} came back`).toBe(false);
        const sent = known.get(r.id)!;
        expect([r.resource_id, r.start, r.end]).toEqual([sent.resource_id, sent.start, sent.end]);
      }
      for (const res of RESOURCES) expect(peak(rows.filter((r) => r.resource_id === res))).toBeLessThanOrEqual(CAPACITY);
      // What is there now is durable; what is not will never be.
      for (const id of known.keys()) (now.has(id) ? present : gone).add(id);
    }
    await server.kill('SIGTERM');
    expect(present.size).toBeGreaterThan(KILLS);
  }, 300_000);
});

/** One statement of a SIGTERM round and what its client was told. */
interface Told {
  readonly kind: 'insert' | 'delete';
  readonly ids: readonly string[];
  /** acked: success; refused: an ErrorResponse with a SQLSTATE; unknown: no answer (connection broke). */
  state: 'sent' | 'acked' | 'refused' | 'unknown';
  code?: string;
}

/** Inserts (1-3 rows, RETURNING id) and deletes of its own acknowledged rows, with parameters, until the server stops. */
async function termWriter(port: number, tag: string, told: Told[], rows: Map<string, Row>): Promise<void> {
  let c: pg.Client;
  try {
    c = await connect(port);
  } catch {
    return;
  }
  const mine: string[] = []; // acknowledged and not yet deleted
  for (let n = 0; ; n++) {
    let st: Told;
    let run: Promise<pg.QueryResult>;
    if (mine.length > 0 && Math.random() < 0.3) {
      const id = mine.splice(rand(mine.length), 1)[0]!;
      st = { kind: 'delete', ids: [id], state: 'sent' };
      run = c.query('DELETE FROM bookings WHERE id = $1', [id]);
    } else {
      const batch: Row[] = Array.from({ length: 1 + rand(3) }, (_, j) => {
        const start = rand(48) * SLOT;
        return { id: `${tag}-${n}-${j}`, resource_id: RESOURCES[rand(RESOURCES.length)]!, start, end: start + SLOT * (1 + rand(2)) };
      });
      for (const r of batch) rows.set(r.id, r);
      st = { kind: 'insert', ids: batch.map((r) => r.id), state: 'sent' };
      const values = batch.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`).join(', ');
      run = c.query(
        `INSERT INTO bookings (id, resource_id, start, "end") VALUES ${values} RETURNING id`,
        batch.flatMap((r) => [r.id, r.resource_id, r.start, r.end]),
      );
    }
    told.push(st);
    try {
      const r = await run;
      st.state = 'acked';
      if (st.kind === 'insert') {
        expect(r.rows.map((x) => x.id as string).sort()).toEqual([...st.ids].sort());
        mine.push(...st.ids);
      } else expect(r.rowCount).toBe(1);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === undefined) {
        st.state = 'unknown';
        return;
      }
      st.state = 'refused';
      st.code = code;
      if (st.kind === 'delete') mine.push(...st.ids); // not deleted: still mine
      if (code === '57P01') return;
    }
  }
}

describe('the truth under SIGTERM', () => {
  it(`every statement answered with an error is absent, every acknowledged one present, across ${TERMS} graceful stops`, async () => {
    const termDir = mkdtempSync(join(tmpdir(), 'allot-term-'));
    try {
      let server: ChildServer = await startChild(termDir, PASSWORD);
      {
        const c = await connect(server.port);
        await c.query(`INSERT INTO resources (id, capacity) VALUES ${RESOURCES.map((r) => `('${r}', ${CAPACITY})`).join(', ')}`);
        await c.end();
      }
      const rows = new Map<string, Row>();
      let there = new Set<string>();
      const tally = { acked: 0, refused: 0, shutdownRefused: 0, unknown: 0 };
      for (let round = 0; round < TERMS; round++) {
        const told: Told[] = [];
        const writers = Array.from({ length: 16 }, (_, k) => termWriter(server.port, `t${round}w${k}`, told, rows));
        await new Promise((r) => setTimeout(r, 100 + rand(400)));
        expect(await server.kill('SIGTERM'), server.stderr().slice(-2000)).toBe(0);
        await Promise.all(writers);

        server = await startChild(termDir, PASSWORD);
        const c = await connect(server.port);
        const now = new Set((await c.query('SELECT id FROM bookings')).rows.map((r) => r.id as string));
        await c.end();

        // Each id's expected presence, by what its statements were told, in order.
        const expected = new Map<string, boolean | null>(); // null: unknown
        for (const id of there) expected.set(id, true);
        for (const st of told) {
          for (const id of st.ids) {
            if (st.state === 'acked') expected.set(id, st.kind === 'insert');
            else if (st.state === 'refused') {
              if (st.kind === 'insert') expected.set(id, false);
              // A refused delete leaves the row as it was.
            } else expected.set(id, null);
          }
          tally[st.state === 'sent' ? 'unknown' : st.state]++;
          if (st.code === '57P01') tally.shutdownRefused++;
        }
        for (const [id, want] of expected) {
          if (want === null) continue;
          const st = told.filter((t) => t.ids.includes(id)).map((t) => `${t.kind} ${t.state}${t.code !== undefined ? ` ${t.code}` : ''}`);
          expect(now.has(id), `${id} should ${want ? '' : 'not '}be there after round ${round}; its statements: ${st.join(', ')}`).toBe(want);
        }
        for (const id of now) expect(rows.has(id), `${id} was never sent`).toBe(true);
        const present = [...now].map((id) => rows.get(id)!);
        for (const res of RESOURCES) expect(peak(present.filter((r) => r.resource_id === res))).toBeLessThanOrEqual(CAPACITY);
        there = now;
      }
      await server.kill('SIGTERM');
      console.log(`SIGTERM rounds: ${JSON.stringify(tally)}`);
      expect(tally.acked).toBeGreaterThan(TERMS);
    } finally {
      rmSync(termDir, { recursive: true, force: true });
    }
  }, 300_000);
});
