import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { Limits } from '../../src/engine/limits.js';
import { at, book, bookingsOf, conflictIds, fromPool, H, hold, MIN, newEngine, policy, refusal, resource, rule, T0 } from './helpers.js';

describe('capacity', () => {
  it('lets adjacent spans share a capacity-1 resource', () => {
    const e = newEngine();
    e.execute([resource('room'), book('a', 'room', at(9), at(10)), book('b', 'room', at(10), at(11))], T0);
    expect(bookingsOf(e).map((b) => b.id)).toEqual(['a', 'b']);
  });

  it('refuses an overlap and names the booking in the way', () => {
    const e = newEngine();
    e.execute([resource('room'), book('a', 'room', at(9), at(10))], T0);
    const err = refusal(e, [book('b', 'room', at(9) + 30 * MIN, at(11))]);
    expect(err.sqlstate).toBe('23P01');
    expect(conflictIds(err)).toEqual(['a']);
    expect(err.message).toContain('booking "b"');
    expect(err.message).toContain('"a"');
  });

  it('counts peak concurrency, not overlaps: 9-10, 10-11 and 9-11 fit capacity 2', () => {
    const e = newEngine();
    e.execute([resource('desk', { capacity: 2 }), book('a', 'desk', at(9), at(10)), book('b', 'desk', at(10), at(11)), book('c', 'desk', at(9), at(11))], T0);
    expect(e.store.bookings.size).toBe(3);
    const err = refusal(e, [book('d', 'desk', at(9) + 30 * MIN, at(10) + 30 * MIN)]);
    expect(conflictIds(err)).toEqual(['a', 'b', 'c']);
    // Only the hour where two are taken matters: 9:00-9:30 alone is full too (a and c).
    expect(conflictIds(refusal(e, [book('d', 'desk', at(9), at(9) + 30 * MIN)]))).toEqual(['a', 'c']);
  });

  it('capacity 3 takes the three and one more at the peak-2 instants', () => {
    const e = newEngine();
    e.execute([resource('r', { capacity: 3 }), book('a', 'r', at(9), at(10)), book('b', 'r', at(10), at(11)), book('c', 'r', at(9), at(11))], T0);
    e.execute([book('d', 'r', at(9), at(11))], T0);
    expect(refusal(e, [book('e', 'r', at(10) + 30 * MIN, at(12))]).sqlstate).toBe('23P01');
    e.execute([book('e', 'r', at(11), at(12))], T0);
  });

  it('treats a resource of capacity 0 as never bookable', () => {
    const e = newEngine();
    e.execute([resource('group', { capacity: 0 })], T0);
    const err = refusal(e, [book('a', 'group', at(9), at(10))]);
    expect(err.sqlstate).toBe('23P01');
    expect(err.message).toContain('capacity 0');
  });

  it('keeps bookings on a parent and its children independent', () => {
    const e = newEngine();
    e.execute([resource('floor'), resource('room', { parentId: 'floor' }), book('a', 'floor', at(9), at(10)), book('b', 'room', at(9), at(10))], T0);
    expect(e.store.bookings.size).toBe(2);
  });
});

describe('buffers', () => {
  it('compares footprints, so the order of booking does not matter', () => {
    for (const order of [
      ['a', 'b'],
      ['b', 'a'],
    ]) {
      const e = newEngine();
      e.execute([resource('r', { bufferBeforeMs: 10 * MIN, bufferAfterMs: 5 * MIN })], T0);
      const spans: Record<string, [number, number]> = { a: [at(9), at(10)], b: [at(10) + 14 * MIN, at(11)] };
      const [first, second] = order as [string, string];
      e.execute([book(first, 'r', ...spans[first]!)], T0);
      // a's footprint ends 10:05, b's starts 10:04: they touch whichever came first.
      expect(refusal(e, [book(second, 'r', ...spans[second]!)]).sqlstate).toBe('23P01');
    }
  });

  it('lets footprints touch without overlapping', () => {
    const e = newEngine();
    e.execute([resource('r', { bufferBeforeMs: 10 * MIN, bufferAfterMs: 5 * MIN })], T0);
    e.execute([book('a', 'r', at(9), at(10)), book('b', 'r', at(10) + 15 * MIN, at(11))], T0);
    expect(e.store.bookings.size).toBe(2);
  });

  it('may spill outside open time', () => {
    const e = newEngine();
    e.execute([resource('r', { bufferBeforeMs: H, bufferAfterMs: H }), rule('open', 'r', at(9), at(17))], T0);
    e.execute([book('a', 'r', at(9), at(17))], T0);
  });

  it('refuses a buffer change that would make footprints overlap', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(9), at(10)), book('b', 'r', at(10), at(11))], T0);
    const err = refusal(e, [{ type: 'UpdateResource', id: 'r', patch: { bufferAfterMs: MIN } }]);
    expect(err.sqlstate).toBe('23P01');
    expect(conflictIds(err)).toEqual(['a', 'b']);
    expect(e.resource('r')!.bufferAfterMs).toBe(0);
  });
});

describe('rules', () => {
  it('leaves a resource with no non-blocking rule anywhere up its chain always open', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(-1000), at(1000))], T0);
  });

  it('opens only the time non-blocking rules cover, adjacent rules joining', () => {
    const e = newEngine();
    e.execute([resource('r'), rule('am', 'r', at(9), at(12)), rule('pm', 'r', at(12), at(17))], T0);
    e.execute([book('a', 'r', at(9), at(17))], T0);
    const err = refusal(e, [book('b', 'r', at(17), at(18))]);
    expect(err.sqlstate).toBe('23P01');
    expect(JSON.parse(err.detail!).conflicts).toEqual([{ kind: 'closed', resource_id: 'r', start: at(17), end: at(18) }]);
  });

  it("lets a child's own non-blocking rules replace its parent's", () => {
    const e = newEngine();
    e.execute([resource('building'), resource('lab', { parentId: 'building' }), resource('office', { parentId: 'building' })], T0);
    e.execute([rule('day', 'building', at(8), at(18)), rule('night', 'lab', at(20), at(23))], T0);
    e.execute([book('a', 'lab', at(21), at(22)), book('b', 'office', at(9), at(10))], T0);
    expect(refusal(e, [book('c', 'lab', at(9), at(10))]).sqlstate).toBe('23P01');
    expect(refusal(e, [book('d', 'office', at(21), at(22))]).sqlstate).toBe('23P01');
  });

  it('accumulates blocking rules down the tree and names them', () => {
    const e = newEngine();
    e.execute([resource('building'), resource('lab', { parentId: 'building' }), rule('open', 'lab', at(0), at(24))], T0);
    e.execute([rule('holiday', 'building', at(12), at(13), { blocking: true }), rule('cleaning', 'lab', at(15), at(16), { blocking: true })], T0);
    expect(conflictIds(refusal(e, [book('a', 'lab', at(12), at(16))]))).toEqual(['cleaning', 'holiday']);
    e.execute([book('a', 'lab', at(13), at(15))], T0);
  });

  it('applies policy-scoped rules only to entries under that policy', () => {
    const e = newEngine();
    e.execute([resource('rig'), policy('classA'), policy('classB'), rule('tue', 'rig', at(9), at(12), { policyId: 'classA' })], T0);
    expect(refusal(e, [book('a', 'rig', at(13), at(14), { policyId: 'classA' })]).sqlstate).toBe('23P01');
    e.execute([book('b', 'rig', at(13), at(14), { policyId: 'classB' }), book('c', 'rig', at(9), at(10), { policyId: 'classA' })], T0);
  });

  it('refuses a rule change that would strand an entry, naming it, and changes nothing', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(9), at(10))], T0);
    let err = refusal(e, [rule('x', 'r', at(9) + 30 * MIN, at(11), { blocking: true })]);
    expect(err.sqlstate).toBe('23P01');
    expect(conflictIds(err)).toEqual(['a']);
    // A first non-blocking rule closes everything it does not cover.
    err = refusal(e, [rule('y', 'r', at(12), at(17))]);
    expect(conflictIds(err)).toEqual(['a']);
    expect(e.store.rules.size).toBe(0);
    e.execute([rule('z', 'r', at(8), at(17))], T0);
    expect(conflictIds(refusal(e, [{ type: 'DeleteRule', id: 'z' }, rule('w', 'r', at(12), at(13))]))).toEqual(['a']);
    expect(conflictIds(refusal(e, [{ type: 'UpdateRule', id: 'z', patch: { start: at(9) + MIN } }]))).toEqual(['a']);
    expect(e.rule('z')!.start).toBe(at(8));
  });
});

describe('holds', () => {
  it('blocks like a booking until it expires, and is gone exactly at expires_at', () => {
    const e = newEngine();
    e.execute([resource('r'), hold('h', 'r', at(9), at(10), T0 + 10 * MIN)], T0);
    expect(conflictIds(refusal(e, [book('a', 'r', at(9), at(10))], T0 + 10 * MIN - 1))).toEqual(['h']);
    expect(e.hold('h', T0 + 10 * MIN - 1)).toBeDefined();
    expect(e.hold('h', T0 + 10 * MIN)).toBeUndefined();
    e.execute([book('a', 'r', at(9), at(10))], T0 + 10 * MIN);
  });

  it('turns into a booking without competing with itself', () => {
    const e = newEngine();
    e.execute([resource('r'), hold('h', 'r', at(9), at(10), T0 + 10 * MIN, { label: 'held' })], T0);
    const out = e.execute([book('b', 'r', at(9), at(10), { holdId: 'h' })], T0 + MIN);
    expect(out.effects.map((x) => x.type)).toEqual(['HoldReleased', 'BookingConfirmed']);
    expect(e.booking('b')).toMatchObject({ resourceId: 'r', start: at(9), end: at(10), label: 'held' });
    expect(e.store.holds.size).toBe(0);
  });

  it('cannot be converted once expired', () => {
    const e = newEngine();
    e.execute([resource('r'), hold('h', 'r', at(9), at(10), T0 + 10 * MIN)], T0);
    expect(refusal(e, [book('b', 'r', at(9), at(10), { holdId: 'h' })], T0 + 10 * MIN).sqlstate).toBe('23503');
  });

  it('refuses a hold that has already expired', () => {
    const e = newEngine();
    e.execute([resource('r')], T0);
    expect(refusal(e, [hold('h', 'r', at(9), at(10), T0)], T0).sqlstate).toBe('22023');
  });

  it('is reaped by ExpireHolds in expiry order with reason expired', () => {
    const e = newEngine();
    e.execute(
      [resource('r', { capacity: 5 }), hold('h1', 'r', at(9), at(10), T0 + 2), hold('h2', 'r', at(9), at(10), T0 + 1), hold('h3', 'r', at(9), at(10), T0 + 9)],
      T0,
    );
    expect(e.nextHoldExpiry()).toBe(T0 + 1);
    const out = e.execute([{ type: 'ExpireHolds', limit: 10 }], T0 + 5);
    expect(out.effects).toEqual([
      expect.objectContaining({ type: 'HoldReleased', reason: 'expired', hold: expect.objectContaining({ id: 'h2' }) }),
      expect.objectContaining({ type: 'HoldReleased', reason: 'expired', hold: expect.objectContaining({ id: 'h1' }) }),
    ]);
    expect(e.nextHoldExpiry()).toBe(T0 + 9);
  });
});

describe('bookings', () => {
  it('creates a multi-row batch all or nothing', () => {
    const e = newEngine();
    e.execute([resource('r')], T0);
    const err = refusal(e, [book('a', 'r', at(9), at(10)), book('b', 'r', at(11), at(12)), book('c', 'r', at(9), at(12))]);
    expect(conflictIds(err)).toEqual(['a', 'b']);
    expect(e.store.bookings.size).toBe(0);
  });

  it('skips conflicting rows with ON CONFLICT DO NOTHING and keeps the rest', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(9), at(10))], T0);
    const out = e.execute(
      [
        book('a', 'r', at(20), at(21), { onConflictSkip: true }),
        book('b', 'r', at(9), at(10), { onConflictSkip: true }),
        book('c', 'r', at(10), at(11), { onConflictSkip: true }),
      ],
      T0,
    );
    expect(out.results.map((r) => r.type)).toEqual(['skipped', 'skipped', 'bookings']);
    expect(bookingsOf(e).map((b) => b.id)).toEqual(['a', 'c']);
  });

  it('still refuses bad values under ON CONFLICT DO NOTHING', () => {
    const e = newEngine();
    e.execute([resource('r')], T0);
    expect(refusal(e, [book('a', 'r', at(10), at(9), { onConflictSkip: true })]).sqlstate).toBe('22023');
    expect(refusal(e, [book('a', 'nope', at(9), at(10), { onConflictSkip: true })]).sqlstate).toBe('23503');
  });

  it('refuses duplicate ids with 23505', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(9), at(10))], T0);
    expect(refusal(e, [book('a', 'r', at(11), at(12))]).sqlstate).toBe('23505');
    expect(refusal(e, [resource('r')]).sqlstate).toBe('23505');
  });

  it('moves a booking without colliding with itself, to a new span or resource', () => {
    const e = newEngine();
    e.execute([resource('r'), resource('s'), book('a', 'r', at(9), at(11))], T0);
    e.execute([{ type: 'UpdateBookings', target: { id: 'a' }, patch: { start: at(10), end: at(12) } }], T0);
    expect(e.booking('a')).toMatchObject({ start: at(10), end: at(12) });
    e.execute([{ type: 'UpdateBookings', target: { id: 'a' }, patch: { resourceId: 's' } }], T0);
    expect(e.entriesOn('r', at(0), at(24), T0)).toEqual([]);
    expect(e.entriesOn('s', at(0), at(24), T0).map((x) => x.id)).toEqual(['a']);
  });

  it('moves a whole group or nothing, checking members against each other', () => {
    const e = newEngine();
    e.execute([resource('dir'), resource('cam1'), resource('cam2'), book('x', 'cam2', at(16), at(18))], T0);
    e.execute(
      ['dir', 'cam1', 'cam2'].map((r, i) => book(`g${i}`, r, at(9), at(15), { groupId: 'prod' })),
      T0,
    );
    const err = refusal(e, [{ type: 'UpdateBookings', target: { groupId: 'prod' }, patch: { end: at(17) } }]);
    expect(conflictIds(err)).toEqual(['x']);
    expect(e.groupMembers('prod').map((b) => b.end)).toEqual([at(15), at(15), at(15)]);
    e.execute([{ type: 'UpdateBookings', target: { groupId: 'prod' }, patch: { end: at(16) } }], T0);
    expect(e.groupMembers('prod').map((b) => b.end)).toEqual([at(16), at(16), at(16)]);
    const out = e.execute([{ type: 'CancelBookings', target: { groupId: 'prod' } }], T0);
    expect(out.effects.map((x) => x.type)).toEqual(['BookingCancelled', 'BookingCancelled', 'BookingCancelled']);
    expect(bookingsOf(e).map((b) => b.id)).toEqual(['x']);
  });

  it('reports zero rows when the target does not exist', () => {
    const e = newEngine();
    expect(e.execute([{ type: 'CancelBookings', target: { id: 'nope' } }], T0).results).toEqual([{ type: 'bookings', rows: [] }]);
    expect(e.execute([{ type: 'UpdateBookings', target: { groupId: 'nope' }, patch: { end: at(3) } }], T0).results).toEqual([{ type: 'bookings', rows: [] }]);
  });

  it('requires capabilities the resource supports', () => {
    const e = newEngine();
    e.execute([resource('cam', { capabilities: ['4k', 'drone'] })], T0);
    e.execute([book('a', 'cam', at(9), at(10), { capabilities: ['4k'] })], T0);
    const err = refusal(e, [book('b', 'cam', at(11), at(12), { capabilities: ['4k', 'night'] })]);
    expect(err.sqlstate).toBe('23514');
    expect(err.message).toContain('"night"');
    expect(refusal(e, [{ type: 'UpdateResource', id: 'cam', patch: { capabilities: ['drone'] } }]).sqlstate).toBe('23514');
  });
});

describe('resources', () => {
  it('refuses to delete a resource with children or entries, naming them', () => {
    const e = newEngine();
    e.execute([resource('p'), resource('c', { parentId: 'p' }), book('a', 'c', at(9), at(10)), rule('r1', 'c', at(0), at(24))], T0);
    let err = refusal(e, [{ type: 'DeleteResource', id: 'p' }]);
    expect(err.sqlstate).toBe('23503');
    expect(err.message).toContain('"c"');
    err = refusal(e, [{ type: 'DeleteResource', id: 'c' }]);
    expect(err.sqlstate).toBe('23503');
    expect(conflictIds(err)).toEqual(['a']);
    e.execute(
      [
        { type: 'CancelBookings', target: { id: 'a' } },
        { type: 'DeleteResource', id: 'c' },
        { type: 'DeleteResource', id: 'p' },
      ],
      T0,
    );
    expect(e.store.resources.size).toBe(0);
    expect(e.store.rules.size).toBe(0);
  });

  it('refuses unknown parents, cycles and over-deep trees', () => {
    const e = newEngine();
    expect(refusal(e, [resource('a', { parentId: 'ghost' })]).sqlstate).toBe('23503');
    e.execute([resource('a'), resource('b', { parentId: 'a' })], T0);
    expect(refusal(e, [{ type: 'UpdateResource', id: 'a', patch: { parentId: 'b' } }]).sqlstate).toBe('22023');
    const chain = [resource('d0')];
    for (let i = 1; i < Limits.maxTreeDepth; i++) chain.push(resource(`d${i}`, { parentId: `d${i - 1}` }));
    e.execute(chain, T0);
    expect(refusal(e, [resource('deep', { parentId: `d${Limits.maxTreeDepth - 1}` })]).sqlstate).toBe('54000');
  });

  it('refuses lowering capacity below what is booked', () => {
    const e = newEngine();
    e.execute([resource('r', { capacity: 2 }), book('a', 'r', at(9), at(10)), book('b', 'r', at(9), at(10))], T0);
    expect(conflictIds(refusal(e, [{ type: 'UpdateResource', id: 'r', patch: { capacity: 1 } }]))).toEqual(['a', 'b']);
    expect(refusal(e, [{ type: 'UpdateResource', id: 'r', patch: { capacity: -1 } }]).sqlstate).toBe('22023');
  });

  it('re-checks open time when a resource moves under another parent', () => {
    const e = newEngine();
    e.execute([resource('a'), resource('b'), rule('day', 'b', at(8), at(18)), resource('c', { parentId: 'a' }), book('x', 'c', at(19), at(20))], T0);
    expect(conflictIds(refusal(e, [{ type: 'UpdateResource', id: 'c', patch: { parentId: 'b' } }]))).toEqual(['x']);
  });
});

describe('availability', () => {
  it('returns free spans clipped to the window, maximal and ordered, with remaining capacity', () => {
    const e = newEngine();
    e.execute([resource('r', { capacity: 2 }), rule('open', 'r', at(8), at(18)), book('a', 'r', at(9), at(10)), book('b', 'r', at(9) + 30 * MIN, at(11))], T0);
    const ans = e.availability({ resourceIds: ['r'], start: at(7), end: at(12) }, T0);
    expect(ans).toEqual({
      merged: false,
      perResource: [
        {
          resourceId: 'r',
          spans: [
            { start: at(8), end: at(9), free: 2 },
            { start: at(9), end: at(9) + 30 * MIN, free: 1 },
            { start: at(10), end: at(11), free: 1 },
            { start: at(11), end: at(12), free: 2 },
          ],
        },
      ],
    });
  });

  it('shrinks free time by the buffers so every free span can really be booked', () => {
    const e = newEngine();
    e.execute([resource('r', { bufferBeforeMs: 10 * MIN, bufferAfterMs: 15 * MIN }), book('a', 'r', at(10), at(11))], T0);
    const ans = e.availability({ resourceIds: ['r'], start: at(9), end: at(13) }, T0);
    // A new booking must end by 9:35 (its 15 min after-buffer meets a's 10 min before-buffer)
    // and start from 11:25.
    expect(ans.merged === false && ans.perResource[0]!.spans).toEqual([
      { start: at(9), end: at(9) + 35 * MIN, free: 1 },
      { start: at(11) + 25 * MIN, end: at(13), free: 1 },
    ]);
    e.execute([book('b', 'r', at(9), at(9) + 35 * MIN), book('c', 'r', at(11) + 25 * MIN, at(12))], T0);
  });

  it('drops stretches shorter than min_duration', () => {
    const e = newEngine();
    e.execute([resource('r'), book('a', 'r', at(9), at(10)), book('b', 'r', at(10) + 20 * MIN, at(12))], T0);
    const ans = e.availability({ resourceIds: ['r'], start: at(8), end: at(13), minDurationMs: 30 * MIN }, T0);
    expect(ans.merged === false && ans.perResource[0]!.spans).toEqual([
      { start: at(8), end: at(9), free: 1 },
      { start: at(12), end: at(13), free: 1 },
    ]);
  });

  it('answers one set per resource, and merges with min_available', () => {
    const e = newEngine();
    e.execute([resource('x'), resource('y'), book('a', 'x', at(9), at(11)), book('b', 'y', at(10), at(12))], T0);
    const per = e.availability({ resourceIds: ['x', 'y'], start: at(8), end: at(13) }, T0);
    expect(per.merged === false && per.perResource.map((r) => r.resourceId)).toEqual(['x', 'y']);
    const one = e.availability({ resourceIds: ['x', 'y'], start: at(8), end: at(13), minAvailable: 1 }, T0);
    expect(one).toEqual({
      merged: true,
      spans: [
        { start: at(8), end: at(9), free: 2 },
        { start: at(9), end: at(10), free: 1 },
        { start: at(11), end: at(12), free: 1 },
        { start: at(12), end: at(13), free: 2 },
      ],
    });
    const both = e.availability({ resourceIds: ['x', 'y'], start: at(8), end: at(13), minAvailable: 2 }, T0);
    expect(both.merged && both.spans.map((s) => [s.start, s.end])).toEqual([
      [at(8), at(9)],
      [at(12), at(13)],
    ]);
  });

  it('returns nothing on a resource lacking the required capabilities', () => {
    const e = newEngine();
    e.execute([resource('r', { capabilities: ['a'] })], T0);
    const ans = e.availability({ resourceIds: ['r'], start: at(8), end: at(9), capabilities: ['b'] }, T0);
    expect(ans.merged === false && ans.perResource[0]!.spans).toEqual([]);
  });

  it('ignores expired holds', () => {
    const e = newEngine();
    e.execute([resource('r'), hold('h', 'r', at(9), at(10), T0 + MIN)], T0);
    const ans = e.availability({ resourceIds: ['r'], start: at(8), end: at(11) }, T0 + MIN);
    expect(ans.merged === false && ans.perResource[0]!.spans).toEqual([{ start: at(8), end: at(11), free: 1 }]);
  });

  it('enforces its limits', () => {
    const e = newEngine();
    e.execute([resource('r')], T0);
    expect(() => e.availability({ resourceIds: ['r'], start: 0, end: Limits.maxWindowMs + 1 }, T0)).toThrow(/longer than the limit/);
    expect(e.availability({ resourceIds: ['nope'], start: 0, end: 1 }, T0)).toEqual({ merged: false, perResource: [{ resourceId: 'nope', spans: [] }] });
    expect(() => e.availability({ resourceIds: ['r'], start: 2, end: 1 }, T0)).toThrow(/must be before/);
  });
});

describe('limits and values', () => {
  it('names the limit that was exceeded', () => {
    const e = newEngine();
    e.execute([resource('r')], T0);
    expect(refusal(e, [book('x'.repeat(Limits.maxIdLength + 1), 'r', at(1), at(2))]).sqlstate).toBe('22001');
    expect(refusal(e, [book('a', 'r', at(1), at(2), { label: 'x'.repeat(Limits.maxLabelLength + 1) })]).sqlstate).toBe('22001');
    expect(refusal(e, [book('a', 'r', Limits.maxTimeMs, Limits.maxTimeMs + 1)]).sqlstate).toBe('22008');
    expect(refusal(e, [book('a', 'r', 1.5, 3)]).sqlstate).toBe('22023');
    const big = Array.from({ length: Limits.maxBatchCommands + 1 }, (_, i) => book(`b${i}`, 'r', i * 10, i * 10 + 1));
    expect(refusal(e, big).sqlstate).toBe('54000');
  });
});

describe('replay', () => {
  it('rebuilds the same state from the effects alone', () => {
    const e = newEngine();
    const log = [
      e.execute([resource('p', { capacity: 2 }), resource('c', { parentId: 'p', bufferAfterMs: MIN }), rule('o', 'c', at(0), at(24))], T0),
      e.execute([book('a', 'c', at(9), at(10), { groupId: 'g' }), hold('h', 'p', at(9), at(10), T0 + H), book('b', 'c', at(11), at(12), { groupId: 'g' })], T0),
      e.execute([{ type: 'UpdateBookings', target: { groupId: 'g' }, patch: { label: 'moved' } }], T0),
      e.execute([book('k', 'p', at(9), at(10), { holdId: 'h' })], T0 + 1),
      e.execute([{ type: 'CancelBookings', target: { id: 'a' } }], T0 + 2),
    ].flatMap((o) => o.effects);
    const copy = new Engine({ checkInvariants: true });
    copy.replay(log);
    copy.assertInvariants(T0);
    expect(snapshot(copy)).toEqual(snapshot(e));
  });
});

function snapshot(e: Engine): unknown {
  const s = e.store;
  const sorted = <T extends { id: string }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    resources: sorted([...s.resources.values()].map((n) => n.resource)),
    rules: sorted(s.rules.values()),
    bookings: sorted(s.bookings.values()),
    holds: sorted(s.holds.values()),
    groups: [...s.groups.entries()].map(([g, ids]) => [g, [...ids].sort()]).sort(),
  };
}

describe('policies', () => {
  /** The limits of one breach named in a refusal's DETAIL. */
  function breaches(err: { detail?: string }): string[] {
    const d = JSON.parse(err.detail ?? '{}') as { conflicts?: { kind: string; limit?: string }[] };
    return (d.conflicts ?? []).filter((c) => c.kind === 'policy').map((c) => c.limit!);
  }

  it('refuses each limit by name, saying by how much', () => {
    const e = newEngine();
    e.execute(
      [
        resource('rig', { capacity: 10 }),
        policy('lab', { minDurationMs: 5 * MIN, maxDurationMs: 10 * MIN, bookAheadMs: 2 * H, maxBookings: 2, maxUsageMs: 15 * MIN }),
      ],
      T0,
    );
    const lab = { userId: 'ann', policyId: 'lab' };
    let err = refusal(e, [book('a', 'rig', at(1), at(1) + 4 * MIN, lab)]);
    expect(breaches(err)).toEqual(['min_duration']);
    expect(err.message).toContain('shorter than min_duration: 4 min long, at least 5 min required (1 min short)');
    err = refusal(e, [book('a', 'rig', at(1), at(1) + 11 * MIN, lab)]);
    expect(err.message).toContain('longer than max_duration: 11 min long, at most 10 min allowed (1 min over)');
    err = refusal(e, [book('a', 'rig', at(3), at(3) + 5 * MIN, lab)]);
    expect(err.message).toContain('too far ahead for book_ahead: starts in 3 h, at most 2 h allowed (1 h too far)');
    e.execute([book('a', 'rig', at(1), at(1) + 10 * MIN, lab)], T0);
    err = refusal(e, [book('b', 'rig', at(1), at(1) + 10 * MIN, lab)]);
    expect(breaches(err)).toEqual(['max_usage']);
    expect(err.message).toContain('over max_usage: 20 min booked with this one, at most 15 min allowed (5 min over)');
    e.execute([book('b', 'rig', at(1), at(1) + 5 * MIN, lab)], T0);
    err = refusal(e, [book('c', 'rig', at(1), at(1) + 5 * MIN, lab)]);
    expect(breaches(err).sort()).toEqual(['max_bookings', 'max_usage']);
    expect(err.message).toContain('over max_bookings: 3 bookings with this one, at most 2 allowed');
    // Quotas are per user; another user under the same policy starts from nothing.
    e.execute([book('d', 'rig', at(1), at(1) + 10 * MIN, { userId: 'bob', policyId: 'lab' })], T0);
    // Without a user, only the per-booking limits apply.
    e.execute([book('e', 'rig', at(1), at(1) + 10 * MIN, { policyId: 'lab' }), book('f', 'rig', at(1), at(1) + 10 * MIN, { policyId: 'lab' })], T0);
  });

  it('counts only live and future entries: a booking that is over frees its quota', () => {
    const e = newEngine();
    e.execute([resource('rig'), policy('lab', { maxBookings: 1 }), book('a', 'rig', at(1), at(2), { userId: 'ann', policyId: 'lab' })], T0);
    expect(breaches(refusal(e, [book('b', 'rig', at(3), at(4), { userId: 'ann', policyId: 'lab' })]))).toEqual(['max_bookings']);
    e.execute([book('b', 'rig', at(3), at(4), { userId: 'ann', policyId: 'lab' })], at(2));
    expect(e.usage('ann', 'lab', at(2))).toEqual({ count: 1, usageMs: H });
    // A live hold counts; an expired one does not.
    expect(breaches(refusal(e, [hold('h', 'rig', at(5), at(6), at(2) + MIN, { userId: 'ann', policyId: 'lab' })], at(2)))).toEqual(['max_bookings']);
    // A booking that is over, moved back into the future, counts anew.
    expect(breaches(refusal(e, [{ type: 'UpdateBookings', target: { id: 'a' }, patch: { start: at(6), end: at(7) } }], at(2)))).toEqual(['max_bookings']);
  });

  it('bounds instant use and starts in the past', () => {
    const e = newEngine();
    e.execute([resource('rig', { capacity: 5 }), policy('now', { startsWithinMs: 15 * MIN, allowStartInPastMs: 5 * MIN })], T0);
    const now = { policyId: 'now' };
    expect(refusal(e, [book('a', 'rig', T0 + 20 * MIN, T0 + 30 * MIN, now)]).message).toContain(
      'too late for starts_within: starts in 20 min, must start within 15 min (5 min too late)',
    );
    expect(refusal(e, [book('a', 'rig', T0 - 10 * MIN, T0 + 30 * MIN, now)]).message).toContain(
      'starts too far in the past for allow_start_in_past: 10 min ago, at most 5 min allowed (5 min too early)',
    );
    e.execute([book('a', 'rig', T0 - 5 * MIN, T0 + 30 * MIN, now), book('b', 'rig', T0 + 15 * MIN, T0 + 30 * MIN, now)], T0);
  });

  it('applies a changed policy to new bookings only; a move is judged on what it changes', () => {
    const e = newEngine();
    const lab = { userId: 'ann', policyId: 'lab' };
    e.execute([resource('rig'), policy('lab', { maxDurationMs: H, bookAheadMs: 2 * H, maxUsageMs: 2 * H }), book('a', 'rig', at(1), at(2), lab)], T0);
    e.execute([{ type: 'UpdatePolicy', id: 'lab', patch: { maxDurationMs: 30 * MIN, bookAheadMs: 30 * MIN } }], T0);
    expect(e.booking('a')).toBeDefined();
    // A new label moves nothing: the tighter limits do not lock the booking.
    e.execute([{ type: 'UpdateBookings', target: { id: 'a' }, patch: { label: 'kept' } }], T0);
    // Moving its start is judged by book_ahead; its length, by max_duration.
    expect(breaches(refusal(e, [{ type: 'UpdateBookings', target: { id: 'a' }, patch: { start: at(1) + 10 * MIN, end: at(2) + 10 * MIN } }]))).toEqual([
      'book_ahead',
    ]);
    expect(breaches(refusal(e, [{ type: 'UpdateBookings', target: { id: 'a' }, patch: { end: at(2) + MIN } }]))).toEqual(['max_duration']);
    e.execute([{ type: 'UpdateBookings', target: { id: 'a' }, patch: { end: at(1) + 30 * MIN } }], T0);
  });

  it('re-checks quotas of a moved group on the result', () => {
    const e = newEngine();
    const g = { userId: 'ann', policyId: 'lab', groupId: 'g' };
    e.execute([resource('r1'), resource('r2'), policy('lab', { maxUsageMs: 3 * H }), book('a', 'r1', at(1), at(2), g), book('b', 'r2', at(1), at(2), g)], T0);
    expect(breaches(refusal(e, [{ type: 'UpdateBookings', target: { groupId: 'g' }, patch: { end: at(3) } }]))).toEqual(['max_usage']);
    e.execute([{ type: 'UpdateBookings', target: { groupId: 'g' }, patch: { end: at(2) + 30 * MIN } }], T0);
    // Members of different lengths: one grows, one stays, and only the sum breaks the quota.
    // Checked one by one, the grown member would not see the other in its new place.
    expect(e.usage('ann', 'lab', T0)).toEqual({ count: 2, usageMs: 3 * H });
    for (const first of ['a', 'b']) {
      const g2 = newEngine();
      const members = [book('a', 'r1', at(1), at(2), g), book('b', 'r2', at(0), at(2), g)];
      g2.execute([resource('r1'), resource('r2'), policy('lab', { maxUsageMs: 3 * H + 30 * MIN }), ...(first === 'a' ? members : members.reverse())], T0);
      // a grows to 2 h, b stays 2 h: 4 h in all.
      expect(breaches(refusal(g2, [{ type: 'UpdateBookings', target: { groupId: 'g' }, patch: { start: at(0) } }]))).toEqual(['max_usage']);
    }
  });

  it('scopes rules to a policy, refuses unknown policies, and will not delete one still named', () => {
    const e = newEngine();
    e.execute([resource('rig'), policy('lab')], T0);
    expect(refusal(e, [rule('x', 'rig', at(1), at(2), { policyId: 'nope' })]).sqlstate).toBe('23503');
    expect(refusal(e, [book('a', 'rig', at(1), at(2), { policyId: 'nope' })]).sqlstate).toBe('23503');
    expect(refusal(e, [policy('lab')]).sqlstate).toBe('23505');
    expect(refusal(e, [policy('bad', { minDurationMs: 10, maxDurationMs: 5 })]).sqlstate).toBe('22023');
    expect(refusal(e, [policy('bad', { maxBookings: -1 })]).sqlstate).toBe('22023');
    e.execute([book('a', 'rig', at(1), at(2), { policyId: 'lab' })], T0);
    const err = refusal(e, [{ type: 'DeletePolicy', id: 'lab' }]);
    expect(err.sqlstate).toBe('23503');
    expect(conflictIds(err)).toEqual(['a']);
    e.execute(
      [
        { type: 'CancelBookings', target: { id: 'a' } },
        { type: 'DeletePolicy', id: 'lab' },
      ],
      T0,
    );
    expect(e.policy('lab')).toBeUndefined();
  });
});

describe('pools', () => {
  function crew(): Engine {
    const e = newEngine();
    e.execute(
      [
        resource('crew', { capacity: 0 }),
        resource('dana', { parentId: 'crew', capabilities: ['director'] }),
        resource('carl', { parentId: 'crew', capabilities: ['camera'] }),
        resource('cleo', { parentId: 'crew', capabilities: ['camera', 'director'] }),
        resource('cole', { parentId: 'crew', capabilities: ['camera'] }),
      ],
      T0,
    );
    return e;
  }

  it('books distinct free members with the capabilities, in order of id', () => {
    const e = crew();
    const out = e.execute([fromPool(['x', 'y'], 'crew', at(9), at(17), { capabilities: ['camera'] })], T0);
    expect(out.results[0]).toMatchObject({
      type: 'bookings',
      rows: [
        { id: 'x', resourceId: 'carl' },
        { id: 'y', resourceId: 'cleo' },
      ],
    });
    // cleo is taken, so the director is dana, and the next camera is cole.
    const next = e.execute(
      [fromPool(['d'], 'crew', at(9), at(17), { capabilities: ['director'] }), fromPool(['c'], 'crew', at(9), at(17), { capabilities: ['camera'] })],
      T0,
    );
    expect(next.results.map((r) => (r.type === 'bookings' ? r.rows[0]!.resourceId : null))).toEqual(['dana', 'cole']);
  });

  it('is all or nothing, and says how many were free', () => {
    const e = crew();
    e.execute([book('busy', 'carl', at(9), at(17))], T0);
    const err = refusal(e, [fromPool(['a', 'b', 'c'], 'crew', at(9), at(17), { capabilities: ['camera'] })]);
    expect(err.sqlstate).toBe('23P01');
    expect(err.message).toBe('pool "crew" has 2 of 3 wanted resources free [2026-03-01T09:00:00.000Z, 2026-03-01T17:00:00.000Z) (of 3 members with "camera")');
    expect(e.store.bookings.size).toBe(1);
    expect(refusal(e, [fromPool(['a'], 'nope', at(9), at(17))]).sqlstate).toBe('23503');
    expect(refusal(e, [fromPool(['a', 'a'], 'crew', at(9), at(17))]).sqlstate).toBe('23505');
  });

  it('refuses once for the policy, not member by member', () => {
    const e = crew();
    e.execute([policy('prod', { maxBookings: 2 })], T0);
    const err = refusal(e, [fromPool(['a', 'b', 'c'], 'crew', at(9), at(17), { userId: 'studio', policyId: 'prod' })]);
    expect(err.message).toContain('cannot book 3 from pool "crew"');
    expect(err.message).toContain('over max_bookings: 3 bookings with this one, at most 2 allowed');
  });
});
