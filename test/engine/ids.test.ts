import { describe, expect, it } from 'vitest';
import { newId } from '../../src/tenant/ids.js';

describe('newId', () => {
  it('makes ULIDs that only ever increase, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    // 5,000 ids take far less than 5,000 ms: many share a millisecond, so the increment path ran.
    expect(new Set(ids.map((id) => id.slice(0, 10))).size).toBeLessThan(ids.length);
  });
});
