/**
 * The crash test: the server as a child process, clients booking through pg, SIGKILL at random
 * moments, restart, check. Every acknowledged write is there; no statement is partly there;
 * capacity is never exceeded; the state is exactly the acknowledged history plus whole
 * statements that were in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../helpers/child-server.js';

const KILLS = Number(process.env.ALLOT_CRASH_KILLS ?? 22);
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
      const r = await c.query(sql, rows.flatMap((r) => [r.id, r.resource_id, r.start, r.end]));
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
      const rows = (await c.query('SELECT id, resource_id, start, "end" FROM bookings')).rows.map((r) => ({ ...r, start: Number(r.start), end: Number(r.end) })) as Row[];
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
