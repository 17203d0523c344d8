import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Booking, Effect } from '../../src/engine/types.js';
import { decodeBody, encodeBody } from '../../src/storage/payload.js';

const text = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength: max });
const booking: fc.Arbitrary<Booking> = fc.record({
  id: text(255),
  resourceId: text(255),
  start: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  end: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  label: fc.option(text(1024), { nil: null }),
  capabilities: fc.array(text(255), { maxLength: 64 }),
  userId: fc.option(text(255), { nil: null }),
  policyId: fc.option(text(255), { nil: null }),
  groupId: fc.option(text(255), { nil: null }),
});
const now = fc.integer({ min: 0, max: 8.64e15 });

describe('record payloads', () => {
  it('carries confirmed bookings in the binary form and reads back exactly what was written', () => {
    fc.assert(
      fc.property(now, fc.array(booking, { minLength: 1, maxLength: 20 }), (n, bookings) => {
        const body = { now: n, effects: bookings.map((b): Effect => ({ type: 'BookingConfirmed', booking: b })) };
        const payload = encodeBody(body);
        expect(Buffer.isBuffer(payload)).toBe(true);
        expect(decodeBody(payload as Buffer)).toEqual(body);
      }),
      { numRuns: 500 },
    );
  });

  it('is a third the size of the JSON for a typical booking', () => {
    const b: Booking = {
      id: '01M82AWPJPPG7XS6HKV9KJCFT1',
      resourceId: 'r8892',
      start: 2047980000,
      end: 2051580000,
      label: null,
      capabilities: [],
      userId: null,
      policyId: null,
      groupId: null,
    };
    const body = { now: 1795374864982, effects: [{ type: 'BookingConfirmed' as const, booking: b }] };
    const bin = encodeBody(body) as Buffer;
    expect(bin.length).toBeLessThan(Buffer.byteLength(JSON.stringify(body)) / 3);
  });

  it('writes JSON for any other effect, or a mix, and reads it back', () => {
    const b: Booking = { id: 'b', resourceId: 'r', start: 0, end: 10, label: 'x', capabilities: ['a'], userId: null, policyId: null, groupId: 'g' };
    for (const effects of [
      [{ type: 'BookingCancelled', booking: b, reason: 'cancelled' }],
      [
        { type: 'HoldReleased', hold: { ...b, expiresAt: 5 }, reason: 'committed' },
        { type: 'BookingConfirmed', booking: b },
      ],
    ] as Effect[][]) {
      const payload = encodeBody({ now: 1, effects });
      expect(typeof payload).toBe('string');
      expect(decodeBody(Buffer.from(payload as string))).toEqual({ now: 1, effects });
    }
  });

  it('falls back to JSON for a string UTF-8 cannot carry (a lone surrogate), keeping it exact', () => {
    const b: Booking = {
      id: 'b',
      resourceId: 'r',
      start: 0,
      end: 10,
      label: 'half \ud800 a pair',
      capabilities: [],
      userId: null,
      policyId: null,
      groupId: null,
    };
    const body = { now: 1, effects: [{ type: 'BookingConfirmed' as const, booking: b }] };
    const payload = encodeBody(body);
    expect(typeof payload).toBe('string');
    expect(decodeBody(Buffer.from(payload as string))).toEqual(body);
  });

  it('refuses a binary payload cut short or with bytes left over', () => {
    const b: Booking = { id: 'b', resourceId: 'r', start: 0, end: 10, label: null, capabilities: ['cap'], userId: 'u', policyId: null, groupId: null };
    const bin = encodeBody({ now: 1, effects: [{ type: 'BookingConfirmed', booking: b }] }) as Buffer;
    for (let n = 1; n < bin.length; n++) expect(() => decodeBody(bin.subarray(0, n))).toThrow(/ends early/);
    expect(() => decodeBody(Buffer.concat([bin, Buffer.from([0])]))).toThrow(/after its last booking/);
  });
});
