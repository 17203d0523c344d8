/** `iso` writes instants as Date's toISOString does, over the engine's whole range. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso } from '../../src/engine/conflicts.js';
import { Limits } from '../../src/engine/limits.js';

describe('iso', () => {
  it('agrees with Date.prototype.toISOString from year 1 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: Limits.minTimeMs, max: Limits.maxTimeMs }), (t) => {
        expect(iso(t)).toBe(new Date(t).toISOString());
      }),
      { numRuns: 20_000, examples: [[Limits.minTimeMs], [Limits.maxTimeMs], [0], [-1], [951_782_400_000]] },
    );
  });
});
