/**
 * Transaction blocks: BEGIN, N single-row INSERTs with parameters (the way an application
 * writes in a loop), COMMIT, through node-postgres against the real server as a child process
 * on a real disk. Reports the whole block's wall time for each N: a block costs O(N) work when
 * this grows linearly with N.
 *
 * Alone: `npx tsx bench/blocks.ts [100,1000,10000]`; with the others: `npm run bench -- --only=blocks`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startBenchServer } from './child.js';

const PASSWORD = 'bench';
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

export interface BlockResult {
  /** INSERT statements in the block. */
  readonly statements: number;
  /** BEGIN to the end of COMMIT. */
  readonly totalMs: number;
  readonly usPerStatement: number;
}

/** One block of `n` INSERTs on its own resource; returns its wall time in ms. */
async function block(c: pg.Client, resourceId: string, n: number): Promise<number> {
  await c.query('INSERT INTO resources (id, capacity) VALUES ($1, 1000000)', [resourceId]);
  const t0 = performance.now();
  await c.query('BEGIN');
  for (let i = 0; i < n; i++) {
    const s = T0 + i * MIN;
    await c.query('INSERT INTO bookings (id, resource_id, start, "end") VALUES ($1, $2, $3, $4)', [`${resourceId}-${i}`, resourceId, s, s + MIN]);
  }
  await c.query('COMMIT');
  return performance.now() - t0;
}

export async function blockInserts(opts: { sizes: readonly number[] }): Promise<BlockResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'allot-bench-blocks-'));
  const server = await startBenchServer(dir, PASSWORD);
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'bench', password: PASSWORD, database: 'bench' });
  await c.connect();
  const out: BlockResult[] = [];
  try {
    // Both processes' code warm (a block of 1,000 runs its first statements several times slower).
    await block(c, 'warm-up', 1_000);
    for (const n of opts.sizes) {
      const ms = await block(c, `r${n}`, n);
      out.push({ statements: n, totalMs: Math.round(ms), usPerStatement: Math.round((ms * 1000) / n) });
    }
  } finally {
    await c.end();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function printBlocks(rows: readonly BlockResult[]): void {
  console.log('transaction blocks (BEGIN, N one-row INSERTs with parameters, COMMIT; child server, real disk)');
  for (const r of rows)
    console.log(
      `  ${String(r.statements).padStart(6)} statements  ${String(r.totalMs).padStart(8)} ms  ${String(r.usPerStatement).padStart(6)} us a statement`,
    );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = (process.argv[2] ?? '100,1000,10000').split(',').map(Number);
  printBlocks(await blockInserts({ sizes }));
}
