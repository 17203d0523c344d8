import { AllotError, SqlState } from '../errors.js';
import {
  decodeDateBinary,
  decodeIntervalBinary,
  decodeTimestamptzBinary,
  encodeDateBinary,
  encodeIntervalBinary,
  encodeTimestamptzBinary,
} from '../sql/time.js';
import { Oid } from '../sql/types.js';
import { BodyReader, utf8Text } from './body-reader.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Binary format (format code 1) of the types allot uses, laid out as PostgreSQL's *send/*recv
 * functions do. Decoded values come back as their text form ('42', 't', arrays as arrays of element
 * text) so the SQL layer has a single path for text and binary parameters.
 */

const ELEMENT_OF: ReadonlyMap<number, number> = new Map([
  [Oid.textArray, Oid.text],
  [Oid.varcharArray, Oid.varchar],
  [Oid.int8Array, Oid.int8],
  [Oid.timestamptzArray, Oid.timestamptz],
  [Oid.int4Array, Oid.int4],
  [Oid.int2Array, Oid.int2],
  [Oid.oidArray, Oid.oid],
  [Oid.boolArray, Oid.bool],
  [Oid.nameArray, Oid.name],
  [Oid.charArray, Oid.char],
]);

/** PostgreSQL's NAMEDATALEN - 1: the longest identifier in bytes. */
const MAX_NAME_BYTES = 63;
/** PostgreSQL's MAXDIM: more dimensions is not an array at all; fewer but > 1 is unsupported here. */
const MAX_ARRAY_DIMENSIONS = 6;
/** Array header: ndim, flags, element oid; then size and lower bound per dimension. */
const ARRAY_HEADER_BYTES = 12;
const ARRAY_DIMENSION_BYTES = 8;
const NULL_LENGTH = -1;

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

export type BinaryValue = string | number | boolean | readonly (string | null)[];

export function decodeBinaryParam(typeOid: number, data: Buffer): string | (string | null)[] {
  const element = ELEMENT_OF.get(typeOid);
  try {
    return element === undefined ? decodeScalar(typeOid, data) : decodeArray(element, data);
  } catch (e) {
    // A value the bytes hold but allot cannot (an infinite or out-of-range instant) is the
    // client's bad parameter, answered like any other.
    if (e instanceof AllotError && !(e instanceof ProtocolError)) throw new ProtocolError(e.message, e.sqlstate);
    throw e;
  }
}

export function encodeBinary(typeOid: number, value: BinaryValue): Buffer {
  const element = ELEMENT_OF.get(typeOid);
  if (element === undefined) return encodeScalar(typeOid, value);
  if (!isArray(value)) throw mismatch(typeOid, value);
  return encodeArray(element, value);
}

// ---------------------------------------------------------------------------------------------
// Decoding.

function decodeScalar(oid: number, data: Buffer): string {
  switch (oid) {
    case Oid.int8:
      return fixed(data, 8, 'bigint').readBigInt64BE(0).toString();
    case Oid.int4:
      return String(fixed(data, 4, 'integer').readInt32BE(0));
    case Oid.int2:
      return String(fixed(data, 2, 'smallint').readInt16BE(0));
    case Oid.oid:
      return String(fixed(data, 4, 'oid').readUInt32BE(0));
    case Oid.bool:
      // boolrecv takes any non-zero byte as true.
      return fixed(data, 1, 'boolean')[0] !== 0 ? 't' : 'f';
    case Oid.text:
    case Oid.varchar:
      return text(data);
    case Oid.name:
      if (data.length > MAX_NAME_BYTES) {
        throw new ProtocolError(`identifier of ${data.length} bytes exceeds the limit of ${MAX_NAME_BYTES}`, SqlState.nameTooLong);
      }
      return text(data);
    case Oid.char:
    case Oid.bpchar:
    case Oid.json:
      return text(data);
    case Oid.float8:
      return String(fixed(data, 8, 'double precision').readDoubleBE(0));
    case Oid.float4:
      return String(fixed(data, 4, 'real').readFloatBE(0));
    // Instants and durations come back as the milliseconds they are inside allot.
    case Oid.timestamptz:
    case Oid.timestamp:
      return String(decodeTimestamptzBinary(fixed(data, 8, 'timestamp')));
    case Oid.date:
      return String(decodeDateBinary(fixed(data, 4, 'date')));
    case Oid.interval:
      return String(decodeIntervalBinary(fixed(data, 16, 'interval')));
    default:
      throw new ProtocolError(`no binary input function available for type oid ${oid}`, SqlState.undefinedFunction);
  }
}

function fixed(data: Buffer, bytes: number, typeName: string): Buffer {
  if (data.length !== bytes) {
    throw new ProtocolError(`incorrect binary data format: ${typeName} takes ${bytes} bytes, got ${data.length}`, SqlState.invalidBinaryRepresentation);
  }
  return data;
}

/** PostgreSQL text cannot hold NUL, and must be valid in the server encoding (UTF-8). */
function text(data: Buffer): string {
  return utf8Text(data);
}

function decodeArray(element: number, data: Buffer): (string | null)[] {
  const r = new BodyReader(data, 'binary array', SqlState.invalidBinaryRepresentation);
  const ndim = r.int32();
  const flags = r.int32();
  const elementOid = r.uint32();
  if (ndim < 0 || ndim > MAX_ARRAY_DIMENSIONS) throw invalidArray(`invalid number of dimensions: ${ndim}`);
  if (flags !== 0 && flags !== 1) throw invalidArray('invalid array flags');
  if (elementOid !== element) {
    throw new ProtocolError(`binary data has array element type ${elementOid} instead of expected ${element}`, SqlState.datatypeMismatch);
  }
  if (ndim === 0) {
    r.end();
    return [];
  }
  if (ndim > 1) throw new ProtocolError('multidimensional arrays are not supported', SqlState.featureNotSupported);
  const size = r.int32();
  r.int32(); // lower bound: a JS array has none, and any bound holds the same elements
  // Every element takes at least its int32 length, so a size the data cannot hold is a lie.
  if (size < 0 || size * 4 > r.remaining) throw r.malformed();
  const values = new Array<string | null>(size);
  for (let i = 0; i < size; i++) {
    const length = r.int32();
    if (length < NULL_LENGTH) throw r.malformed();
    values[i] = length === NULL_LENGTH ? null : decodeScalar(element, r.bytes(length));
  }
  r.end();
  return values;
}

function invalidArray(message: string): ProtocolError {
  return new ProtocolError(message, SqlState.invalidBinaryRepresentation);
}

// ---------------------------------------------------------------------------------------------
// Encoding.

function encodeScalar(oid: number, value: BinaryValue): Buffer {
  switch (oid) {
    case Oid.int8: {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(integer(value, oid, INT8_MIN, INT8_MAX));
      return b;
    }
    case Oid.int4: {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(Number(integer(value, oid, -(2n ** 31n), 2n ** 31n - 1n)));
      return b;
    }
    case Oid.int2: {
      const b = Buffer.allocUnsafe(2);
      b.writeInt16BE(Number(integer(value, oid, -(2n ** 15n), 2n ** 15n - 1n)));
      return b;
    }
    case Oid.oid: {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(Number(integer(value, oid, 0n, 2n ** 32n - 1n)));
      return b;
    }
    case Oid.bool:
      return Buffer.of(boolean(value, oid) ? 1 : 0);
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
    case Oid.char:
    case Oid.bpchar:
    case Oid.json:
    case Oid.pgNodeTree:
      if (typeof value !== 'string' && typeof value !== 'number') throw mismatch(oid, value);
      return Buffer.from(String(value), 'utf8');
    case Oid.regclass:
    case Oid.regtype:
    case Oid.regproc:
    case Oid.regnamespace:
    case Oid.regrole:
    case Oid.xid: {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(Number(integer(value, oid, 0n, 2n ** 32n - 1n)));
      return b;
    }
    case Oid.float8: {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(float(value, oid));
      return b;
    }
    case Oid.float4: {
      const b = Buffer.allocUnsafe(4);
      b.writeFloatBE(float(value, oid));
      return b;
    }
    case Oid.timestamptz:
    case Oid.timestamp:
      return encodeTimestamptzBinary(Number(integer(value, oid, INT8_MIN, INT8_MAX)));
    case Oid.date:
      return encodeDateBinary(Number(integer(value, oid, INT8_MIN, INT8_MAX)));
    case Oid.interval:
      return encodeIntervalBinary(Number(integer(value, oid, INT8_MIN, INT8_MAX)));
    default:
      throw new AllotError(SqlState.undefinedFunction, `no binary output function available for type oid ${oid}`);
  }
}

/** An integer from a safe JS integer or a decimal string (whose precision a number would lose). */
function integer(value: BinaryValue, oid: number, min: bigint, max: bigint): bigint {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new AllotError(SqlState.invalidTextRepresentation, `${value} is not an integer`);
    if (!Number.isSafeInteger(value)) {
      throw new AllotError(SqlState.numericValueOutOfRange, `${value} is not a safe integer; pass it as a decimal string`);
    }
    n = BigInt(value);
  } else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!/^[+-]?\d+$/.test(trimmed)) {
      throw new AllotError(SqlState.invalidTextRepresentation, `invalid input syntax for an integer: "${value}"`);
    }
    n = BigInt(trimmed);
  } else {
    throw mismatch(oid, value);
  }
  if (n < min || n > max) throw new AllotError(SqlState.numericValueOutOfRange, `value "${value}" is out of range for type oid ${oid}`);
  return n;
}

function float(value: BinaryValue, oid: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (typeof value !== 'number' && Number.isNaN(n)) throw mismatch(oid, value);
  return n;
}

function boolean(value: BinaryValue, oid: number): boolean {
  switch (value) {
    case true:
    case 't':
    case 'true':
      return true;
    case false:
    case 'f':
    case 'false':
      return false;
    default:
      throw mismatch(oid, value);
  }
}

function encodeArray(element: number, values: readonly (string | null)[]): Buffer {
  const encoded = values.map((v) => (v === null ? null : encodeScalar(element, v)));
  let bytes = ARRAY_HEADER_BYTES + (values.length > 0 ? ARRAY_DIMENSION_BYTES : 0);
  for (const e of encoded) bytes += 4 + (e?.length ?? 0);
  const b = Buffer.allocUnsafe(bytes);
  let at = b.writeInt32BE(values.length > 0 ? 1 : 0, 0);
  at = b.writeInt32BE(encoded.includes(null) ? 1 : 0, at);
  at = b.writeUInt32BE(element, at);
  if (values.length > 0) {
    at = b.writeInt32BE(values.length, at);
    at = b.writeInt32BE(1, at); // lower bound
  }
  for (const e of encoded) {
    at = b.writeInt32BE(e === null ? NULL_LENGTH : e.length, at);
    if (e !== null) at += e.copy(b, at);
  }
  return b;
}

function isArray(value: BinaryValue): value is readonly (string | null)[] {
  return Array.isArray(value);
}

function mismatch(oid: number, value: BinaryValue): AllotError {
  return new AllotError(SqlState.datatypeMismatch, `cannot encode ${describe(value)} as type oid ${oid}`);
}

function describe(value: BinaryValue): string {
  return isArray(value) ? 'an array' : `${typeof value} ${JSON.stringify(value)}`;
}
