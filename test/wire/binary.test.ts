import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import { Oid as TypeOid } from '../../src/sql/types.js';
import { decodeBinaryParam, encodeBinary } from '../../src/wire/binary.js';
import { int32s, onlyProtocolErrors, protocolError } from './helpers.js';

const INT8_EXTREMES = ['0', '1', '-1', '9007199254740991', '-9007199254740991', '9007199254740992', '9223372036854775807', '-9223372036854775808'];

function hex(b: Buffer): string {
  return b.toString('hex');
}

describe('scalars', () => {
  it('int8 round-trips from numbers and decimal strings, far beyond 2^53', () => {
    for (const text of INT8_EXTREMES) {
      expect(decodeBinaryParam(TypeOid.int8, encodeBinary(TypeOid.int8, text))).toBe(text);
    }
    expect(hex(encodeBinary(TypeOid.int8, -9007199254740991))).toBe('ffe0000000000001');
    expect(hex(encodeBinary(TypeOid.int8, '-9223372036854775808'))).toBe('8000000000000000');
    expect(decodeBinaryParam(TypeOid.int8, Buffer.from('7fffffffffffffff', 'hex'))).toBe('9223372036854775807');
    expect(encodeBinary(TypeOid.int8, '+42')).toEqual(encodeBinary(TypeOid.int8, 42));
  });

  it('int8 refuses values out of range, unsafe numbers and non-integers', () => {
    const cases: [string | number, string][] = [
      ['9223372036854775808', '22003'],
      ['-9223372036854775809', '22003'],
      [2 ** 60, '22003'],
      [1.5, '22P02'],
      [NaN, '22P02'],
      ['1.5', '22P02'],
      ['12abc', '22P02'],
      ['', '22P02'],
    ];
    for (const [value, sqlstate] of cases) {
      expect(() => encodeBinary(TypeOid.int8, value)).toThrow(expect.objectContaining({ sqlstate }));
    }
  });

  it('int4, int2 and oid round-trip at their limits and refuse beyond', () => {
    const limits: [number, number, number][] = [
      [TypeOid.int4, -(2 ** 31), 2 ** 31 - 1],
      [TypeOid.int2, -(2 ** 15), 2 ** 15 - 1],
      [TypeOid.oid, 0, 2 ** 32 - 1],
    ];
    for (const [oid, min, max] of limits) {
      for (const n of [min, -1, 0, 1, max].filter((v) => v >= min)) {
        expect(decodeBinaryParam(oid, encodeBinary(oid, n))).toBe(String(n));
        expect(decodeBinaryParam(oid, encodeBinary(oid, String(n)))).toBe(String(n));
      }
      expect(() => encodeBinary(oid, max + 1)).toThrow('out of range');
      expect(() => encodeBinary(oid, min - 1)).toThrow('out of range');
    }
    expect(hex(encodeBinary(TypeOid.int4, 1))).toBe('00000001');
    expect(hex(encodeBinary(TypeOid.int2, -2))).toBe('fffe');
  });

  it('bool as t/f; any non-zero byte is true, as in boolrecv', () => {
    expect(hex(encodeBinary(TypeOid.bool, true))).toBe('01');
    expect(hex(encodeBinary(TypeOid.bool, 'f'))).toBe('00');
    expect(decodeBinaryParam(TypeOid.bool, Buffer.of(1))).toBe('t');
    expect(decodeBinaryParam(TypeOid.bool, Buffer.of(0))).toBe('f');
    expect(decodeBinaryParam(TypeOid.bool, Buffer.of(7))).toBe('t');
    expect(() => encodeBinary(TypeOid.bool, 'yes')).toThrow(AllotError);
  });

  it('text, varchar and name as UTF-8', () => {
    for (const oid of [TypeOid.text, TypeOid.varchar, TypeOid.name]) {
      for (const s of ['', 'room-1', 'żółw 🐢']) expect(decodeBinaryParam(oid, encodeBinary(oid, s))).toBe(s);
    }
    expect(encodeBinary(TypeOid.text, 12)).toEqual(Buffer.from('12'));
  });

  it('refuses text that is not valid UTF-8 or holds NUL, and names over 63 bytes', () => {
    expect(protocolError(() => decodeBinaryParam(TypeOid.text, Buffer.from([0xc3, 0x28]))).sqlstate).toBe('22021');
    expect(protocolError(() => decodeBinaryParam(TypeOid.varchar, Buffer.from('a\0b'))).sqlstate).toBe('22021');
    expect(decodeBinaryParam(TypeOid.name, Buffer.alloc(63, 'n'))).toBe('n'.repeat(63));
    expect(protocolError(() => decodeBinaryParam(TypeOid.name, Buffer.alloc(64, 'n'))).sqlstate).toBe('42622');
  });

  it('refuses wrong lengths with invalid_binary_representation', () => {
    const sizes: [number, number][] = [
      [TypeOid.int8, 8],
      [TypeOid.int4, 4],
      [TypeOid.int2, 2],
      [TypeOid.oid, 4],
      [TypeOid.bool, 1],
    ];
    for (const [oid, size] of sizes) {
      for (const wrong of [0, size - 1, size + 1]) {
        const err = protocolError(() => decodeBinaryParam(oid, Buffer.alloc(wrong)));
        expect(err.sqlstate).toBe('22P03');
        expect(err.message).toMatch(`takes ${size} bytes, got ${wrong}`);
      }
    }
  });

  it('names the type oid it cannot handle', () => {
    const err = protocolError(() => decodeBinaryParam(2950, Buffer.alloc(16)));
    expect(err.message).toBe('no binary input function available for type oid 2950');
    expect(err.sqlstate).toBe('42883');
    expect(() => encodeBinary(2950, 'x')).toThrow('no binary output function available for type oid 2950');
  });

  it('reads and writes instants, intervals and floats as PostgreSQL lays them out', () => {
    // 2026-03-01 09:00:00+00 is 825,670,800 s after 2000-01-01: microseconds, big-endian.
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(825_670_800_000_000n);
    expect(decodeBinaryParam(TypeOid.timestamptz, ts)).toBe('1772355600000');
    expect(encodeBinary(TypeOid.timestamptz, 1_772_355_600_000)).toEqual(ts);
    const iv = Buffer.alloc(16);
    iv.writeBigInt64BE(5_400_000_000n); // 01:30:00, no days, no months
    expect(decodeBinaryParam(TypeOid.interval, iv)).toBe('5400000');
    expect(encodeBinary(TypeOid.interval, 5_400_000)).toEqual(iv);
    const f = Buffer.alloc(8);
    f.writeDoubleBE(1.5);
    expect(decodeBinaryParam(TypeOid.float8, f)).toBe('1.5');
    expect(encodeBinary(TypeOid.float8, 1.5)).toEqual(f);
    const infinite = Buffer.alloc(8);
    infinite.writeBigInt64BE(2n ** 63n - 1n);
    expect(protocolError(() => decodeBinaryParam(TypeOid.timestamptz, infinite)).sqlstate).toBe('22008');
  });

  it('refuses a JS value of the wrong kind', () => {
    expect(() => encodeBinary(TypeOid.int4, true)).toThrow('cannot encode boolean true as type oid 23');
    expect(() => encodeBinary(TypeOid.text, ['a'])).toThrow('cannot encode an array as type oid 25');
    expect(() => encodeBinary(TypeOid.textArray, 'a')).toThrow('cannot encode string "a" as type oid 1009');
  });
});

describe('one-dimensional arrays', () => {
  it('matches PostgreSQL array_send byte for byte', () => {
    const expected = Buffer.concat([
      int32s(1, 1, 25, 3, 1), // ndim, has-nulls, element oid, size, lower bound
      int32s(1),
      Buffer.from('a'),
      int32s(-1),
      int32s(2),
      Buffer.from('bc'),
    ]);
    expect(encodeBinary(TypeOid.textArray, ['a', null, 'bc'])).toEqual(expected);
    expect(decodeBinaryParam(TypeOid.textArray, expected)).toEqual(['a', null, 'bc']);
  });

  it('encodes an empty array as ndim 0 and decodes both empty forms', () => {
    expect(encodeBinary(TypeOid.int8Array, [])).toEqual(int32s(0, 0, 20));
    expect(decodeBinaryParam(TypeOid.int8Array, int32s(0, 0, 20))).toEqual([]);
    expect(decodeBinaryParam(TypeOid.textArray, int32s(1, 0, 25, 0, 1))).toEqual([]);
  });

  it('round-trips text[], varchar[] and int8[] with NULLs and extremes', () => {
    expect(decodeBinaryParam(TypeOid.int8Array, encodeBinary(TypeOid.int8Array, [...INT8_EXTREMES, null]))).toEqual([...INT8_EXTREMES, null]);
    expect(decodeBinaryParam(TypeOid.varcharArray, encodeBinary(TypeOid.varcharArray, [null, '', 'ü']))).toEqual([null, '', 'ü']);
    expect(decodeBinaryParam(TypeOid.textArray, encodeBinary(TypeOid.textArray, [null]))).toEqual([null]);
  });

  it('ignores the lower bound, which a JS array cannot hold', () => {
    expect(decodeBinaryParam(TypeOid.textArray, Buffer.concat([int32s(1, 0, 25, 1, -5, 1), Buffer.from('x')]))).toEqual(['x']);
  });

  it('refuses malformed arrays', () => {
    const good = encodeBinary(TypeOid.textArray, ['a', null, 'bc']);
    for (let cut = 0; cut < good.length; cut++) {
      expect(protocolError(() => decodeBinaryParam(TypeOid.textArray, good.subarray(0, cut))).sqlstate).toBe('22P03');
    }
    const cases: [Buffer, string, string][] = [
      [Buffer.concat([good, Buffer.of(0)]), 'malformed binary array', '22P03'],
      [int32s(-1, 0, 25), 'invalid number of dimensions: -1', '22P03'],
      [int32s(7, 0, 25), 'invalid number of dimensions: 7', '22P03'],
      [int32s(2, 0, 25, 1, 1, 1, 1, 1, 49), 'multidimensional arrays are not supported', '0A000'],
      [int32s(0, 2, 25), 'invalid array flags', '22P03'],
      [int32s(0, 0, 23), 'binary data has array element type 23 instead of expected 25', '42804'],
      [int32s(1, 0, 25, -1, 1), 'malformed binary array', '22P03'],
      [int32s(1, 0, 25, 1_000_000_000, 1, -1), 'malformed binary array', '22P03'],
      [int32s(1, 0, 25, 1, 1, -2), 'malformed binary array', '22P03'],
      [int32s(1, 0, 25, 1, 1, 5, 0), 'malformed binary array', '22P03'],
    ];
    for (const [bytes, message, sqlstate] of cases) {
      const err = protocolError(() => decodeBinaryParam(TypeOid.textArray, bytes));
      expect([err.message, err.sqlstate]).toEqual([message, sqlstate]);
    }
    // An element of the wrong width inside int8[] is the element's own error.
    expect(protocolError(() => decodeBinaryParam(TypeOid.int8Array, Buffer.concat([int32s(1, 0, 20, 1, 1, 4), int32s(7)]))).message).toBe(
      'incorrect binary data format: bigint takes 8 bytes, got 4',
    );
  });
});

describe('properties', () => {
  const int8 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);

  it('int8 and int8[] round-trip any value', () => {
    fc.assert(
      fc.property(int8, fc.array(fc.option(int8, { nil: null }), { maxLength: 20 }), (n, values) => {
        expect(decodeBinaryParam(TypeOid.int8, encodeBinary(TypeOid.int8, n))).toBe(n);
        expect(decodeBinaryParam(TypeOid.int8Array, encodeBinary(TypeOid.int8Array, values))).toEqual(values);
      }),
      { numRuns: 1000 },
    );
  });

  it('text[] round-trips any strings without NUL, NULLs included', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(fc.option(text, { nil: null }), { maxLength: 20 }), (values) => {
        expect(decodeBinaryParam(TypeOid.textArray, encodeBinary(TypeOid.textArray, values))).toEqual(values);
      }),
      { numRuns: 1000 },
    );
  });

  it('throws only ProtocolError on random bytes for every supported type', () => {
    const oids = Object.values(TypeOid);
    fc.assert(
      fc.property(fc.constantFrom(...oids), fc.uint8Array({ maxLength: 48 }), fc.boolean(), (oid, bytes, asArray) => {
        // Half the runs get a plausible array header so element parsing is reached.
        const header = asArray ? int32s(1, 1, oid === TypeOid.int8Array ? 20 : oid === TypeOid.varcharArray ? 1043 : 25, 2, 1) : Buffer.alloc(0);
        onlyProtocolErrors(() => decodeBinaryParam(oid, Buffer.concat([header, Buffer.from(bytes)])));
      }),
      { numRuns: 2000 },
    );
  });
});
