/**
 * The log's format, pinned by a file an earlier build wrote (test/fixtures/wal-v1.log, by
 * test/fixtures/write-wal-v1.ts): the records it holds (wal-v1.json) encode today to the very
 * same bytes, it reads back record by record, and a database starts from it holding exactly what
 * its records made, then goes on writing after them. A change to the format fails here: it must
 * be deliberate, with a fixture of its own, and this one must still be read.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Effect } from '../../src/engine/types.js';
import { decodeBody, encodeBody } from '../../src/storage/payload.js';
import { decodeRecord, encodeRecord, RECORD_HEADER_BYTES } from '../../src/storage/record.js';
import { segmentName } from '../../src/storage/wal.js';
import { ManualClock } from '../helpers/clock.js';
import { dump } from '../helpers/dump.js';
import { startServer, type TestServer } from '../helpers/server.js';

interface LogRecord {
  readonly lsn: number;
  readonly now: number;
  readonly effects: readonly Effect[];
}

const FIXTURES = join(import.meta.dirname, '../fixtures');
const LOG = readFileSync(join(FIXTURES, 'wal-v1.log'));
const RECORDS = JSON.parse(readFileSync(join(FIXTURES, 'wal-v1.json'), 'utf8')) as LogRecord[];

/** The fixture's day (2026-03-02), by hour and minute, as the generator's. */
const DAY = Date.UTC(2026, 2, 2);
const at = (hour: number, minute = 0): number => DAY + hour * 3_600_000 + minute * 60_000;

/** Every kind of effect the log can hold: a new one does not compile until it is listed here. */
const EFFECT_TYPES: Record<Effect['type'], true> = {
  ResourceCreated: true,
  ResourceUpdated: true,
  ResourceDeleted: true,
  RuleAdded: true,
  RuleUpdated: true,
  RuleRemoved: true,
  HoldPlaced: true,
  HoldReleased: true,
  BookingConfirmed: true,
  BookingUpdated: true,
  BookingCancelled: true,
  OutageStarted: true,
  OutageUpdated: true,
  OutageEnded: true,
  PolicyCreated: true,
  PolicyUpdated: true,
  PolicyDeleted: true,
};

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the log format, version 1', () => {
  it("encodes the fixture's records today to the fixture's bytes, record by record, then the all-zero header that ends the log", () => {
    let offset = 0;
    for (const r of RECORDS) {
      const bytes = encodeRecord(r.lsn, encodeBody({ now: r.now, effects: r.effects }));
      expect(bytes.toString('hex'), `LSN ${r.lsn} at byte ${offset}`).toBe(LOG.subarray(offset, offset + bytes.length).toString('hex'));
      offset += bytes.length;
    }
    expect(LOG.subarray(offset)).toEqual(Buffer.alloc(RECORD_HEADER_BYTES));
  });

  it('reads back as those records, LSNs 1 to 23 in order, in both payload forms, with every kind of effect', () => {
    const read: LogRecord[] = [];
    const forms = new Set<string>();
    let offset = 0;
    while (offset + RECORD_HEADER_BYTES <= LOG.length && LOG.readUInt32BE(offset) !== 0) {
      const r = decodeRecord(LOG, offset);
      if (r.kind !== 'record') throw new Error(`no record at byte ${offset}: ${r.kind}`);
      forms.add(r.payload[0] === 0x01 ? 'binary' : String.fromCharCode(r.payload[0]!));
      read.push({ lsn: r.lsn, ...decodeBody(r.payload) });
      offset = r.next;
    }
    expect(read).toEqual(RECORDS);
    expect(read.map((r) => r.lsn)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect([...forms].sort()).toEqual(['binary', '{']);
    const kinds = new Set(RECORDS.flatMap((r) => r.effects.map((e) => e.type)));
    expect([...kinds].sort()).toEqual(Object.keys(EFFECT_TYPES).sort());
    // Each reason a hold or a booking goes and an outage ends for, evictions naming their outage.
    const reasons = RECORDS.flatMap((r) => r.effects).flatMap((e) => {
      if (e.type === 'OutageEnded') return [`${e.type}:${e.reason}`];
      if (e.type === 'HoldReleased' || e.type === 'BookingCancelled') return [`${e.type}:${e.reason}${e.outageId !== undefined ? ` by ${e.outageId}` : ''}`];
      return [];
    });
    expect(reasons.sort()).toEqual([
      'BookingCancelled:cancelled',
      'BookingCancelled:evicted by down',
      'HoldReleased:committed',
      'HoldReleased:evicted by down',
      'HoldReleased:expired',
      'HoldReleased:released',
      'OutageEnded:ended',
      'OutageEnded:lifted',
    ]);
  });

  it('starts a database holding exactly what its records made, which then writes on after them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-wal-v1-'));
    dirs.push(dataDir);
    const dbDir = join(dataDir, 'shop');
    mkdirSync(dbDir);
    const copied = join(dbDir, segmentName(1));
    copyFileSync(join(FIXTURES, 'wal-v1.log'), copied);
    // The instant of the last record: h5 is live, every outage but "paint" is over.
    const clock = new ManualClock(at(10, 50));
    const first = await startServer({ dataDir }, { clock });
    servers.push(first);
    const c = await first.client('shop');
    const held = await dump(c);
    expect(held).toEqual({
      resources: [
        {
          id: 'room',
          parent_id: 'site',
          name: 'Room 1',
          capacity: '1',
          buffer_before: '300000',
          buffer_after: '600000',
          capabilities: ['4k'],
          status: 'online',
          status_reason: null,
          pool_strategy: 'id_order',
          pool_cursor: null,
        },
        {
          id: 'site',
          parent_id: null,
          name: 'Main site',
          capacity: '2',
          buffer_before: '0',
          buffer_after: '0',
          capabilities: ['4k', 'night'],
          status: 'online',
          status_reason: null,
          pool_strategy: 'id_order',
          pool_cursor: null,
        },
      ],
      policies: [
        {
          id: 'walk-in',
          name: null,
          min_duration: null,
          max_duration: '7200000',
          book_ahead: null,
          max_bookings: '5',
          max_usage: null,
          starts_within: null,
          allow_start_in_past: '300000',
        },
      ],
      rules: [
        {
          id: 'closed',
          resource_id: 'room',
          start: String(at(20)),
          end: String(at(23)),
          blocking: true,
          policy_id: null,
          rrule: null,
          tz: null,
          exdates: null,
        },
      ],
      bookings: [
        {
          id: 'b3',
          resource_id: 'room',
          start: String(at(12)),
          end: String(at(13)),
          label: null,
          capabilities: [],
          user_id: 'bob',
          policy_id: null,
          group_id: null,
        },
        {
          id: 'b4',
          resource_id: 'site',
          start: String(at(19)),
          end: String(at(20)),
          label: 'dernière',
          capabilities: ['night'],
          user_id: 'cy',
          policy_id: 'walk-in',
          group_id: 'g1',
        },
      ],
      holds: [
        {
          id: 'h5',
          resource_id: 'site',
          start: String(at(16)),
          end: String(at(17)),
          expires_at: String(at(48)),
          label: 'kept',
          capabilities: ['night'],
          user_id: null,
          policy_id: null,
          // Logged before holds had groups: none.
          group_id: null,
        },
      ],
      outages: [
        {
          id: 'paint',
          resource_id: 'site',
          kind: 'planned',
          start: String(at(40)),
          end: String(at(41)),
          sliding_window: null,
          capabilities: ['night'],
          reason: null,
          declared_at: String(at(10, 50)),
        },
      ],
    });
    expect(first.server.tenantByName('shop')!.lastLsn).toBe(23);

    // The next record is LSN 24, in a log file of its own; the old file is read, never rewritten.
    await c.query(`INSERT INTO bookings (id, resource_id, start, "end") VALUES ('after', 'room', $1, $2)`, [at(14), at(15)]);
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    expect(readFileSync(copied).equals(LOG)).toBe(true);
    expect(
      readdirSync(dbDir)
        .filter((n) => n.startsWith('wal-'))
        .sort(),
    ).toEqual([segmentName(1), segmentName(24)]);
    const second = await startServer({ dataDir }, { clock });
    servers.push(second);
    const again = await dump(await second.client('shop'));
    expect(again.bookings.map((b) => (b as { id: string }).id)).toEqual(['after', 'b3', 'b4']);
    expect({ ...again, bookings: held.bookings }).toEqual(held);
  });
});
