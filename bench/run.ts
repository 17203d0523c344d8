/**
 * `npm run bench [-- --quick]`: runs the benchmarks and writes their numbers as JSON under
 * bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockInserts, printBlocks } from './blocks.js';
import { compare, printTable } from './compare.js';
import { readLatency, recovery, writeThroughput } from './durability.js';
import { engineMemory, printEngineBench, runEngineBench } from './engine.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const want = (name: string): boolean => only === undefined || only.split(',').includes(name);

const results: Record<string, unknown> = {};
if (want('engine')) {
  const engine = runEngineBench({ quick });
  printEngineBench(engine);
  const memory = engineMemory({ bookings: quick ? 100_000 : 500_000, resources: 10_000 });
  console.log(
    `  memory per booking (heap and typed arrays), ${memory.bookings} bookings over ${memory.resources} resources${' '.repeat(30)} ${memory.bytesPerBooking} bytes`,
  );
  results.engine = engine;
  results.engineMemory = memory;
}
if (want('durability')) {
  const writes = await writeThroughput({ seconds: quick ? 3 : 10 });
  console.log('writes (child server, real disk, one booking per statement)');
  for (const w of writes)
    console.log(
      `  ${String(w.clients).padStart(2)} clients  ${String(w.tps).padStart(7)} bookings/s  ${w.recordsPerSync} records per fdatasync  ${w.avgSyncMs} ms per fdatasync`,
    );
  const reads = await readLatency({ seconds: quick ? 3 : 10 });
  console.log('read latency (7-day availability on a resource nobody writes)');
  for (const r of reads) console.log(`  ${r.writers} writers  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (${r.reads} reads)`);
  const rec = await recovery({ bookings: quick ? 200_000 : 1_000_000, resources: 10_000 });
  console.log('recovery');
  for (const r of rec)
    console.log(
      `  ${r.bookings} bookings over ${r.resources} resources from the ${r.from}: ${r.seconds} s, +${r.heapMiB} MiB heap and typed arrays (rss ${r.rssMiB} MiB)`,
    );
  results.durability = { writes, reads, recovery: rec };
}

if (want('blocks')) {
  const blocks = await blockInserts({ sizes: quick ? [100, 1_000] : [100, 1_000, 10_000] });
  printBlocks(blocks);
  results.blocks = blocks;
}

if (want('compare')) {
  console.log(`allot and PostgreSQL side by side (${quick ? 3 : 10} s a run)`);
  const rows = await compare({ seconds: quick ? 3 : 10, log: (l) => console.log(l) });
  console.log('');
  printTable(rows);
  results.compare = rows;
}

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ node: process.version, quick, ...results }, null, 2)}\n`);
console.log(`results: ${file}`);
