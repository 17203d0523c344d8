/** Snapshots: the binary format round-trips, damage is caught, and version 1 files still load. */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Booking } from '../../src/engine/types.js';
import { nodeFileSystem } from '../../src/storage/files.js';
import { CorruptionError } from '../../src/storage/recovery.js';
import { readSnapshot, SnapshotError, snapshotChunks, type SnapshotState } from '../../src/storage/snapshot.js';
import { verifyDir } from '../../src/storage/verify.js';
import { dump } from '../helpers/dump.js';
import { startServer, type TestServer } from '../helpers/server.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'allot-snap-'));
  dirs.push(d);
  return d;
}
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function serve(dataDir: string): Promise<TestServer> {
  const s = await startServer({ dataDir });
  servers.push(s);
  return s;
}
async function stop(s: TestServer): Promise<void> {
  await s.close();
  servers.splice(servers.indexOf(s), 1);
}

async function write(state: SnapshotState): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of snapshotChunks(state)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

const text = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength: max });
const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
const booking: fc.Arbitrary<Booking> = fc.record({
  id: text(40),
  resourceId: text(40),
  start: time,
  end: time,
  // Lone surrogates (which UTF-8 cannot carry) and over 255 capabilities send a booking to JSON.
  label: fc.option(fc.oneof(text(200), fc.constant('half \ud800 a pair')), { nil: null }),
  capabilities: fc.oneof(
    { weight: 20, arbitrary: fc.array(text(20), { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.array(text(3), { minLength: 256, maxLength: 300 }) },
  ),
  userId: fc.option(text(40), { nil: null }),
  policyId: fc.option(text(40), { nil: null }),
  groupId: fc.option(text(40), { nil: null }),
});
// Other kinds go through JSON unchanged; the format only has to keep them and their order.
const other = fc.array(fc.record({ id: text(20), n: fc.integer() }), { maxLength: 5 });
const state: fc.Arbitrary<SnapshotState> = fc.record({
  lsn: fc.nat(),
  now: fc.integer({ min: 0, max: 8.64e15 }),
  resources: other,
  policies: other,
  rules: other,
  bookings: fc.array(booking, { maxLength: 60 }),
  holds: other,
  outages: other,
}) as unknown as fc.Arbitrary<SnapshotState>;

/** A state of n plain bookings and one of each other kind. */
function sample(n: number): SnapshotState {
  const bookings: Booking[] = [];
  for (let i = 0; i < n; i++)
    bookings.push({
      id: `b${i}`,
      resourceId: `r${i % 7}`,
      start: i * 1000,
      end: i * 1000 + 500,
      label: i % 2 === 0 ? null : `l${i}`,
      capabilities: i % 3 === 0 ? ['a'] : [],
      userId: null,
      policyId: null,
      groupId: null,
    });
  const one = [{ id: 'x' }] as never[];
  return { lsn: 9, now: 1_800_000_000_000, resources: one, policies: one, rules: one, bookings, holds: one, outages: one };
}

describe('the snapshot format', () => {
  it('reads back exactly the state written, bookings in binary or (when they do not fit) JSON, in order', async () => {
    await fc.assert(
      fc.asyncProperty(state, async (s) => {
        expect(readSnapshot(await write(s))).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps bookings across block boundaries and is a third the bytes of the JSON', async () => {
    const s = sample(4500);
    const buf = await write(s);
    expect(readSnapshot(buf)).toEqual(s);
    const json = s.bookings.reduce((n, b) => n + Buffer.byteLength(`{"b":${JSON.stringify(b)}}\n`), 0);
    expect(buf.length).toBeLessThan(json / 2.5);
    // A header a person can read with head -1.
    expect(buf.toString('utf8', 0, buf.indexOf(10))).toBe('{"allot_snapshot":2,"lsn":9,"now":1800000000000}');
  });

  it('refuses a snapshot with any one byte changed, or cut short anywhere', async () => {
    const buf = await write(sample(30));
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i]! ^= 0x04;
      expect(() => readSnapshot(bad), `byte ${i}`).toThrow(SnapshotError);
    }
    for (let n = 0; n < buf.length; n++) expect(() => readSnapshot(buf.subarray(0, n)), `length ${n}`).toThrow(SnapshotError);
  });

  it('still reads a version 1 (JSON lines) snapshot, and refuses one with a byte changed', () => {
    const v1 = readFileSync(join(import.meta.dirname, '../fixtures/snapshot-v1.snap'));
    const s = readSnapshot(v1);
    expect(s.lsn).toBe(28);
    expect([s.resources.length, s.policies.length, s.rules.length, s.bookings.length, s.holds.length, s.outages.length]).toEqual([3, 1, 2, 21, 1, 1]);
    const bad = Buffer.from(v1);
    bad[200]! ^= 0x04;
    expect(() => readSnapshot(bad)).toThrow(/checksum mismatch/);
  });

  it('names a version it does not know', async () => {
    const buf = await write(sample(1));
    const v9 = Buffer.concat([Buffer.from('{"allot_snapshot":9,"lsn":9,"now":1}'), buf.subarray(buf.indexOf(10))]);
    expect(() => readSnapshot(v9)).toThrow(/snapshot version 9 is not one this server reads/);
  });
});

describe('a database started from a snapshot', () => {
  it('opens a version 1 snapshot written by an earlier server, and its next checkpoint writes version 2', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'shop'));
    copyFileSync(join(import.meta.dirname, '../fixtures/snapshot-v1.snap'), join(dir, 'shop', 'snapshot-00000000000000000028.snap'));
    const a = await serve(dir);
    const c = await a.client('shop');
    expect((await c.query(`SELECT count(*)::text AS n FROM bookings`)).rows).toEqual([{ n: '21' }]);
    expect((await c.query(`SELECT id, label, capabilities, user_id FROM bookings WHERE id = 'b03'`)).rows).toEqual([
      { id: 'b03', label: 'label 3 é', capabilities: ['a'], user_id: 'ann' },
    ]);
    expect((await c.query(`SELECT id FROM holds`)).rows).toEqual([{ id: 'h' }]);
    // The old snapshot's rules still hold: r2 has capacity 1 and x1 sits at [1000, 2000).
    await expect(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r2', 1500, 1600)`)).rejects.toMatchObject({ code: '23P01' });
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end", label) VALUES ('new', 'r2', 3000, 4000, 'after the upgrade')`);
    const before = await dump(c);
    await a.server.tenantByName('shop')!.checkpoint();
    const snaps = readdirSync(join(dir, 'shop')).filter((n) => n.endsWith('.snap'));
    expect(snaps).toHaveLength(1);
    expect(readFileSync(join(dir, 'shop', snaps[0]!)).toString('utf8', 0, 18)).toBe('{"allot_snapshot":');
    expect(readSnapshot(readFileSync(join(dir, 'shop', snaps[0]!))).bookings).toHaveLength(22);
    await stop(a);
    const b = await serve(dir);
    expect(await dump(await b.client('shop'))).toEqual(before);
  });

  it('refuses to start on a damaged snapshot, naming the file, and leaves it as it is', async () => {
    const dir = tempDir();
    const a = await serve(dir);
    const c = await a.client('db');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('r', 10)`);
    for (let i = 0; i < 50; i++) await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('r', $1, $2)`, [i * 10, i * 10 + 5]);
    await a.server.tenantByName('db')!.checkpoint();
    await stop(a);
    const name = readdirSync(join(dir, 'db')).find((n) => n.endsWith('.snap'))!;
    const path = join(dir, 'db', name);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(path, bytes);
    const err = await startServer({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as Error).message).toMatch(/snapshot-\d{20}\.snap: snapshot checksum mismatch/);
    expect(readFileSync(path)).toEqual(bytes);
    const report = await verifyDir(nodeFileSystem, join(dir, 'db'));
    expect(report.lines.join('\n')).toMatch(/DAMAGED: snapshot checksum mismatch/);
  });
});
