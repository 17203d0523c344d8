/**
 * A resource's status through pg: offline refuses new entries on it and under it (naming why),
 * shows no free time, keeps what it holds (edits, a hold becoming its booking), lets a pool pass
 * it by, tells listeners, and survives a restart; online again, it books as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const H = 3_600_000;
const DAY0 = Date.parse('2026-03-02T00:00:00Z');
const at = (hour: number): number => DAY0 + hour * H;
const clock = new ManualClock(at(8));
const dir = mkdtempSync(join(tmpdir(), 'allot-status-'));

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ dataDir: dir }, { clock });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('resource status', () => {
  it('offline refuses new entries on the resource and under it, keeps what it holds, and shows no free time', async () => {
    const c = await srv.client('status');
    const listener = await srv.client('status');
    const heard: { type: string; status?: string; status_reason?: string | null }[] = [];
    listener.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
    await listener.query('LISTEN allot_events');
    await c.query(`INSERT INTO resources (id, capacity) VALUES ('lab', 0), ('rig', 1), ('spare', 1)`);
    await c.query(`UPDATE resources SET parent_id = 'lab' WHERE id IN ('rig', 'spare')`);
    expect((await c.query(`SELECT id, status, status_reason FROM resources WHERE id = 'rig'`)).rows).toEqual([
      { id: 'rig', status: 'online', status_reason: null },
    ]);
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('kept', 'rig', $1, $2)`, [at(9), at(10)]);
    await c.query(`INSERT INTO holds (id, resource_id, start, "end", expires_at) VALUES ('h', 'rig', $1, $2, $3)`, [at(11), at(12), at(20)]);

    const off = await c.query(`UPDATE resources SET status = 'offline', status_reason = 'recalibration' WHERE id = 'rig' RETURNING status, status_reason`);
    expect(off.rows).toEqual([{ status: 'offline', status_reason: 'recalibration' }]);
    const refused = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('rig', $1, $2)`, [at(13), at(14)]));
    expect(refused.code).toBe('23P01');
    expect(refused.message).toContain('resource "rig" is offline (recalibration)');
    expect(JSON.parse(refused.detail!).conflicts).toEqual([{ kind: 'offline', resource_id: 'rig', reason: 'recalibration' }]);
    // What it holds stays: edited in place, or a hold becoming its booking; moved in time, it is new.
    await c.query(`UPDATE bookings SET label = 'still here' WHERE id = 'kept'`);
    await c.query(`INSERT INTO bookings (id, hold_id) VALUES ('from-hold', 'h')`);
    expect((await pgError(c.query(`UPDATE bookings SET start = $1, "end" = $2 WHERE id = 'kept'`, [at(15), at(16)]))).code).toBe('23P01');
    expect((await c.query(`SELECT id FROM bookings ORDER BY id`)).rows).toEqual([{ id: 'from-hold' }, { id: 'kept' }]);
    const free = await c.query(`SELECT resource_id FROM availability WHERE resource_id IN ('rig', 'spare') AND start >= $1 AND "end" <= $2`, [at(0), at(24)]);
    expect(free.rows).toEqual([{ resource_id: 'spare' }]);
    // A pool passes it by.
    const pooled = await c.query(`INSERT INTO bookings (pool_id, start, "end") VALUES ('lab', $1, $2) RETURNING resource_id`, [at(13), at(14)]);
    expect(pooled.rows).toEqual([{ resource_id: 'spare' }]);

    // Offline above: everything under it.
    await c.query(`UPDATE resources SET status = 'online' WHERE id = 'rig'`);
    await c.query(`UPDATE resources SET status = 'offline', status_reason = NULL WHERE id = 'lab'`);
    const below = await pgError(c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('spare', $1, $2)`, [at(16), at(17)]));
    expect(JSON.parse(below.detail!).conflicts).toEqual([{ kind: 'offline', resource_id: 'lab', reason: null }]);
    expect(below.message).toContain('resource "lab" is offline');
    await c.query(`UPDATE resources SET status = 'online' WHERE id = 'lab'`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('rig', $1, $2)`, [at(13), at(14)]);

    expect((await pgError(c.query(`UPDATE resources SET status = 'broken' WHERE id = 'rig'`))).code).toBe('22023');
    expect((await pgError(c.query(`UPDATE resources SET status = NULL WHERE id = 'rig'`))).code).toBe('23502');
    await c.query('SELECT 1');
    await listener.query('SELECT 1');
    const changes = heard.filter((e) => e.type === 'ResourceUpdated').map((e) => [e.status, e.status_reason]);
    expect(changes).toContainEqual(['offline', 'recalibration']);
  });

  it('is kept across a restart', async () => {
    const c = await srv.client('kept');
    await c.query(`INSERT INTO resources (id, status, status_reason) VALUES ('van', 'offline', 'tyres')`);
    await srv.close();
    srv = await startServer({ dataDir: dir }, { clock });
    const again = await srv.client('kept');
    expect((await again.query(`SELECT status, status_reason FROM resources`)).rows).toEqual([{ status: 'offline', status_reason: 'tyres' }]);
    expect((await pgError(again.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('van', $1, $2)`, [at(9), at(10)]))).code).toBe('23P01');
  });
});
