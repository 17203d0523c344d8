import pino from 'pino';
import { Tenant } from './src/tenant/tenant.js';
import { Session } from './src/tenant/session.js';
import { PlanCache, prepareExtended, bindParams } from './src/sql/prepare.js';
import { ManualClock } from './src/tenant/clock.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const log = pino({ level: 'silent' });
const mem = process.argv[2] === 'mem';
const tenant = mem ? Tenant.inMemory({ name: 't', clock: { now: () => Date.now() }, log }) : await Tenant.open({ name: 't', clock: { now: () => Date.now() }, log, storage: { dir: mkdtempSync(join(tmpdir(), 'sb-')) } });
const session = new Session(tenant, { user: 'u', pid: 1 }, { deliver() {} });
const cache = new PlanCache(100);
const setup = prepareExtended(`INSERT INTO resources (id) VALUES ($1)`, [], cache);
for (let i = 0; i < 10000; i++) await session.run(setup, bindParams(setup.params, [`r${i}`]));
const plan = prepareExtended(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r' || $1, $2 * 60000, $2 * 60000 + 3600000) ON CONFLICT DO NOTHING`, [], cache);
const N = 50000;
// Sequential (no group commit concurrency) vs 16 concurrent loops.
let t = performance.now();
let n = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (n < N) {
    n++;
    const r = Math.floor(Math.random() * 10000), s = Math.floor(Math.random() * 100000);
    const values = bindParams(plan.params, [String(r), String(s)]);
    await session.run(plan, values);
  }
}));
const el = performance.now() - t;
console.log(mem ? 'memory' : 'disk', (el / N * 1000).toFixed(1), 'us/op', Math.round(N / el * 1000), 'ops/s', tenant.walStats);
