/**
 * COPY FROM STDIN's bytes cut into records (src/wire/copy.ts): however the client cuts its data
 * into CopyData messages (mid-line, mid-character, mid-quote), the records are the same; and the
 * data of one COPY is bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import { CopyRecords, MAX_COPY_BYTES } from '../../src/wire/copy.js';

const CSV = { quote: 0x22, escape: 0x22 };

function records(data: Buffer, cuts: readonly number[], csv: typeof CSV | null): string[] {
  const out: string[] = [];
  const r = new CopyRecords(csv, (t) => out.push(t));
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    r.push(data.subarray(from, at));
    from = at;
  }
  r.push(data.subarray(from));
  r.end();
  return out;
}

const pieces = fc.array(fc.constantFrom('a', 'é', '😀', '\t', ',', '"', '""', '\\', '\\.', '\n', '\r\n', 'x y'), { maxLength: 40 });

describe('COPY data cut into records', () => {
  it('gives the same records however the data is cut into messages (text and CSV)', () => {
    fc.assert(
      fc.property(pieces, fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (ps, cutsRaw, csv) => {
        const data = Buffer.from(ps.join(''));
        const cuts = cutsRaw.map((c) => (data.length === 0 ? 0 : c % data.length));
        const once = (() => {
          try {
            return records(data, [], csv ? CSV : null);
          } catch (e) {
            return (e as AllotError).message;
          }
        })();
        const cut = (() => {
          try {
            return records(data, cuts, csv ? CSV : null);
          } catch (e) {
            return (e as AllotError).message;
          }
        })();
        expect(cut).toEqual(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('ends a record at a newline, drops a \\r before it, and keeps newlines in CSV quotes and after a backslash', () => {
    expect(records(Buffer.from('a\r\nb\nlast'), [1, 2], null)).toEqual(['a', 'b', 'last']);
    expect(records(Buffer.from('a,"x\ny"\nb,z\n'), [4], CSV)).toEqual(['a,"x\ny"', 'b,z']);
    expect(records(Buffer.from('a\tx\\\ny\n'), [5], null)).toEqual(['a\tx\\\ny']);
    expect(records(Buffer.from('a\tx\n\\.\nignored\n'), [], null)).toEqual(['a\tx']);
  });

  it('checks each record as UTF-8 (22021), a character cut between messages is whole', () => {
    expect(records(Buffer.from('é\n'), [1], null)).toEqual(['é']);
    expect(() => records(Buffer.from([0x61, 0xc3, 0x28, 0x0a]), [], null)).toThrow('invalid byte sequence for encoding "UTF8": 0xc3 0x28');
  });

  it(`takes at most ${MAX_COPY_BYTES} bytes in one COPY (54000), counted over every message`, () => {
    const r = new CopyRecords(null, () => undefined, 16);
    r.push(Buffer.from('0123456789\n'));
    let err: unknown = null;
    try {
      r.push(Buffer.from('abcdef'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AllotError);
    expect([(err as AllotError).sqlstate, (err as AllotError).message]).toEqual(['54000', 'COPY data of more than 16 bytes; the limit is 16']);
  });
});
