/**
 * `npm run bench [-- --quick]`: runs the benchmarks and writes their numbers as JSON under
 * bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printEngineBench, runEngineBench } from './engine.js';

const quick = process.argv.includes('--quick');
const engine = runEngineBench({ quick });
printEngineBench(engine);

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `engine-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ node: process.version, quick, engine }, null, 2) + '\n');
console.log(`results: ${file}`);
