/**
 * COPY FROM STDIN's bytes cut into records (src/wire/copy.ts): however the client cuts its data
 * into CopyData messages (mid-line, mid-character, mid-quote; in the binary format mid-header,
 * mid-length, mid-field), the records are the same, and so are the errors; and the data of one
 * COPY is bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import { CopyBinaryTuples, CopyRecords, MAX_COPY_BYTES, type BinaryCopySink } from '../../src/wire/copy.js';

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

// ---- binary -------------------------------------------------------------------------------

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const int16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const TEXT_OID = 25;

/** PostgreSQL's binary COPY data of `tuples` (null: a NULL field). */
function binaryData(tuples: readonly (string | null)[][], opts: { extension?: Buffer; trailer?: boolean } = {}): Buffer {
  const ext = opts.extension ?? Buffer.alloc(0);
  const parts = [SIGNATURE, int32(0), int32(ext.length), ext];
  for (const t of tuples) {
    parts.push(int16(t.length));
    for (const f of t) parts.push(f === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(f)), Buffer.from(f)]));
  }
  if (opts.trailer !== false) parts.push(int16(-1));
  return Buffer.concat(parts);
}

/** The rows a binary COPY of `columns` text columns reads from `data` cut at `cuts`, or its error (message and where). */
function binaryRows(data: Buffer, cuts: readonly number[], columns: number, maxBytes?: number): unknown {
  const rows: unknown[] = [];
  const sink: BinaryCopySink = {
    fieldOids: Array.from({ length: columns }, () => TEXT_OID),
    binaryRow: (values) => rows.push(values),
    located: (err, column) => new AllotError(err.sqlstate, `${err.message} (line ${rows.length + 1}, column ${column})`),
  };
  try {
    const r = new CopyBinaryTuples(sink, maxBytes);
    let from = 0;
    for (const at of [...cuts].sort((a, b) => a - b)) {
      r.push(data.subarray(from, at));
      from = at;
    }
    r.push(data.subarray(from));
    r.end();
    return rows;
  } catch (e) {
    return { rows, error: [(e as AllotError).sqlstate, (e as AllotError).message] };
  }
}

describe('binary COPY data cut into tuples', () => {
  const tuple = (columns: number): fc.Arbitrary<(string | null)[]> =>
    fc.array(
      fc.option(
        fc.string({ unit: 'binary', maxLength: 6 }).map((s) => s.replaceAll('\0', '0')),
        { nil: null },
      ),
      { minLength: columns, maxLength: columns },
    );

  it('gives the same tuples however the data is cut into messages, and the tuples sent', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(tuple(n), { maxLength: 5 }), fc.uint8Array({ maxLength: 5 }), fc.boolean())),
        fc.array(fc.nat(), { maxLength: 12 }),
        ([columns, tuples, ext, trailer], cutsRaw) => {
          const data = binaryData(tuples, { extension: Buffer.from(ext), trailer });
          const cuts = cutsRaw.map((c) => c % (data.length + 1));
          expect(binaryRows(data, cuts, columns)).toEqual(tuples);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('cut anywhere, truncated or corrupted data fails as it does whole: the same error, the same tuples before it', () => {
    fc.assert(
      fc.property(
        fc.array(tuple(2), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { nil: null }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (tuples, cutAt, flip, cutsRaw) => {
          let data = binaryData(tuples);
          if (flip !== null) {
            data = Buffer.from(data);
            data[flip[0] % data.length] = flip[1];
          } else data = data.subarray(0, cutAt % (data.length + 1));
          const cuts = cutsRaw.map((c) => c % (data.length + 1));
          expect(binaryRows(data, cuts, 2)).toEqual(binaryRows(data, [], 2));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('every byte its own message reads the same tuples', () => {
    const tuples = [
      ['é😀', null, ''],
      ['x', 'y', 'z'],
    ];
    const data = binaryData(tuples, { extension: Buffer.from('ext') });
    expect(
      binaryRows(
        data,
        Array.from({ length: data.length }, (_, i) => i),
        3,
      ),
    ).toEqual(tuples);
  });

  it("refuses a bad header, a wrong field count, a bad field size, data after the trailer and an early end, with PostgreSQL's messages", () => {
    const one = binaryData([['a', 'b']]);
    const cases: [Buffer, unknown][] = [
      [Buffer.alloc(0), ['22P04', 'COPY file signature not recognized']],
      [Buffer.from('PGCOPY\n\xff\r\n\x01\0\0\0\0\0\0\0\0', 'latin1'), ['22P04', 'COPY file signature not recognized']],
      [Buffer.concat([SIGNATURE, int32(1 << 16), int32(0)]), ['22P04', 'invalid COPY file header (WITH OIDS)']],
      [Buffer.concat([SIGNATURE, int32(1 << 17), int32(0)]), ['22P04', 'unrecognized critical flags in COPY file header']],
      [SIGNATURE, ['22P04', 'invalid COPY file header (missing flags)']],
      [Buffer.concat([SIGNATURE, int32(0)]), ['22P04', 'invalid COPY file header (missing length)']],
      [Buffer.concat([SIGNATURE, int32(0), int32(-1)]), ['22P04', 'invalid COPY file header (missing length)']],
      [Buffer.concat([SIGNATURE, int32(0), int32(10), Buffer.from('abc')]), ['22P04', 'invalid COPY file header (wrong length)']],
      [binaryData([['a']]), ['22P04', 'row field count is 1, expected 2 (line 1, column null)']],
      [Buffer.concat([one.subarray(0, -2), binaryData([['a', 'b', 'c']]).subarray(19)]), ['22P04', 'row field count is 3, expected 2 (line 2, column null)']],
      [Buffer.concat([binaryData([]).subarray(0, -2), int16(2), int32(-2)]), ['22P04', 'invalid field size (line 1, column 0)']],
      [one.subarray(0, -3), ['22P04', 'unexpected EOF in COPY data (line 1, column 1)']],
      [Buffer.concat([one, Buffer.from('x')]), ['22P04', 'received copy data after EOF marker (line 2, column null)']],
      [
        Buffer.concat([binaryData([]).subarray(0, -2), int16(2), int32(2), Buffer.from([0xc3, 0x28]), int32(-1)]),
        ['22021', 'invalid byte sequence for encoding "UTF8": 0xc3 0x28 (line 1, column 0)'],
      ],
    ];
    for (const [data, error] of cases) expect((binaryRows(data, [], 2) as { error: unknown }).error).toEqual(error);
    // PostgreSQL's own leniencies: no trailer, a lone byte where a field count would start, flags 0–15.
    expect(binaryRows(one.subarray(0, -2), [], 2)).toEqual([['a', 'b']]);
    expect(binaryRows(Buffer.concat([one.subarray(0, -2), Buffer.from([0])]), [], 2)).toEqual([['a', 'b']]);
    expect(binaryRows(Buffer.concat([SIGNATURE, int32(0xffff), int32(0), int16(-1)]), [], 2)).toEqual([]);
  });

  it(`takes at most ${MAX_COPY_BYTES} bytes in one binary COPY (54000), counted over every message`, () => {
    const data = binaryData([['0123456789', 'x']]);
    expect(binaryRows(data, [], 2, data.length)).toEqual([['0123456789', 'x']]);
    expect(binaryRows(data, [20], 2, data.length - 1)).toEqual({
      rows: [],
      error: ['54000', `COPY data of more than ${data.length - 1} bytes; the limit is ${data.length - 1}`],
    });
  });
});
