/**
 * COPY FROM STDIN's bytes: CopyData messages cut the data anywhere (mid-line, mid-character), so
 * they are joined and cut again into records, each handed on the moment it is whole.
 *
 * Text and CSV: a record ends at a newline (a \r before it is dropped), except inside a CSV
 * quoted field or after a backslash in the text format, where a line of `\.` (or `\.` ending
 * one) ends the data. Bytes are checked as UTF-8 per record, as a text parameter is.
 *
 * Binary (PostgreSQL's format, as its CopyFrom reads it): the signature `PGCOPY\n\377\r\n\0`,
 * int32 flags, int32 length of a header extension (skipped), then tuples: int16 field count (-1:
 * the trailer, after which no byte may come), and per field an int32 length (-1: NULL) and the
 * bytes in the column type's send format, decoded as a binary parameter is (binary.ts).
 *
 * Either way only the record not yet ended is held, and the whole COPY may send at most
 * MAX_COPY_BYTES.
 */
import { AllotError, SqlState } from '../errors.js';
import type { ParamValue } from '../sql/types.js';
import type { OutBuffer } from './backend.js';
import { decodeBinaryParam } from './binary.js';
import { utf8Text } from './body-reader.js';

/** Bytes of data one COPY FROM STDIN may send in all (its rows are at most Limits.maxBatchCommands too). */
export const MAX_COPY_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

export interface CsvQuoting {
  /** The quote and escape characters' bytes (ASCII). */
  readonly quote: number;
  readonly escape: number;
}

export class CopyRecords {
  private readonly parts: Buffer[] = [];
  private inQuote = false;
  /** Text: the last byte was a backslash, so this one is escaped (a newline too). CSV, in quotes: the escape character. */
  private escaped = false;
  /** Text: the last two bytes were `\.`, which must end the line and the data. */
  private dot = false;
  /** Text: `\.` and its newline were seen: nothing after it is data. */
  private ended = false;
  private total = 0;

  /** `csv` null: the text format, where a newline ends a record unless a backslash escapes it. */
  constructor(
    private readonly csv: CsvQuoting | null,
    private readonly onRecord: (text: string) => void,
    private readonly maxBytes: number = MAX_COPY_BYTES,
  ) {}

  /** The data of one CopyData message. */
  push(data: Buffer): void {
    this.total = countBytes(this.total, data, this.maxBytes);
    if (this.ended) return;
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (this.csv !== null ? this.inCsvField(b) : this.inTextEscape(b)) continue;
      if (b !== LF) continue;
      this.parts.push(data.subarray(start, i));
      start = i + 1;
      if (this.dot) {
        this.endOfData();
        return;
      }
      this.emit();
    }
    // Copied: a view would pin the whole socket chunk for as long as the line runs on.
    if (start < data.length) this.parts.push(Buffer.from(data.subarray(start)));
  }

  /** CopyDone: a last line without its newline is a record too. */
  end(): void {
    if (this.ended) return;
    if (this.dot) throw new AllotError(SqlState.badCopyFileFormat, 'end-of-copy marker corrupt');
    if (this.parts.some((p) => p.length > 0)) this.emit();
  }

  /** CSV: whether `b` is inside a quoted field (a newline there is data). */
  private inCsvField(b: number): boolean {
    const q = this.csv!;
    if (this.inQuote) {
      if (this.escaped) this.escaped = false;
      else if (b === q.escape && q.escape !== q.quote) this.escaped = true;
      else if (b === q.quote) this.inQuote = false;
      return true;
    }
    if (b === q.quote) this.inQuote = true;
    return false;
  }

  /**
   * Text: whether `b` is escaped by a backslash (a newline so escaped is data, as PostgreSQL
   * reads it). `\.` must be followed by the line's end: it ends the data there.
   */
  private inTextEscape(b: number): boolean {
    if (this.dot) {
      if (b === LF || b === CR) return b === CR;
      throw new AllotError(SqlState.badCopyFileFormat, 'end-of-copy marker corrupt');
    }
    if (this.escaped) {
      this.escaped = false;
      if (b === DOT) this.dot = true;
      return true;
    }
    if (b === BACKSLASH) this.escaped = true;
    return false;
  }

  /** `\.` ended the data: what came before it on its line is the last record. */
  private endOfData(): void {
    this.ended = true;
    let line = Buffer.concat(this.parts);
    this.parts.length = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    line = line.subarray(0, line.length - 2); // the \.
    if (line.length > 0) this.onRecord(utf8Text(line));
  }

  private emit(): void {
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts.length = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.onRecord(utf8Text(line));
  }
}

/** Bytes received so far, `data` counted: more than `maxBytes` is refused (54000). */
function countBytes(total: number, data: Buffer, maxBytes: number): number {
  const n = total + data.length;
  if (n > maxBytes) {
    throw new AllotError(SqlState.programLimitExceeded, `COPY data of more than ${maxBytes} bytes; the limit is ${maxBytes}`, {
      hint: 'Split the data into several COPYs.',
    });
  }
  return n;
}

/**
 * CopyInResponse: the overall format (0 text, 1 binary) and each column's, all the same, as
 * PostgreSQL sends them.
 */
export function copyInResponse(out: OutBuffer, columns: number, binary: boolean): void {
  if (columns > MAX_INT16) throw new AllotError(SqlState.programLimitExceeded, `${columns} columns exceed the protocol limit of ${MAX_INT16}`);
  const format = binary ? 1 : 0;
  out.begin('G').byte(format).int16(columns);
  for (let i = 0; i < columns; i++) out.int16(format);
  out.end();
}

// ---- binary -----------------------------------------------------------------------------

const MAX_INT16 = 0x7fff;
/** `PGCOPY\n\377\r\n\0`. */
const BINARY_SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** Flags bit 16: the tuples carry OIDs, which allot's rows have none of. */
const FLAG_OIDS = 1 << 16;
const TRAILER = -1;
const NULL_FIELD = -1;

/** What binary tuples are handed to: the COPY in progress (src/tenant/copy-in.ts). */
export interface BinaryCopySink {
  /** The OIDs of the types the fields are sent in, one per column: a tuple has as many fields. */
  readonly fieldOids: readonly number[];
  /** One tuple's fields, decoded to the text form binary parameters have (null: NULL). */
  binaryRow(values: readonly ParamValue[]): void;
  /** `err`, met reading the tuple after the last one handed on (at field `column`, or none), with PostgreSQL's CONTEXT. */
  located(err: AllotError, column: number | null): AllotError;
}

/** Where the reader is: what the next `need` bytes are. */
type BinaryState =
  | { readonly kind: 'signature' }
  | { readonly kind: 'flags' }
  | { readonly kind: 'extensionLength' }
  | { readonly kind: 'extension'; left: number }
  | { readonly kind: 'fieldCount' }
  | { readonly kind: 'fieldLength' }
  | { readonly kind: 'fieldData'; readonly bytes: number }
  | { readonly kind: 'ended' };

export class CopyBinaryTuples {
  private state: BinaryState = { kind: 'signature' };
  /** Bytes of the current piece received in earlier messages (copied, so no socket chunk stays pinned). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The fields of the tuple being read. */
  private fields: (Buffer | null)[] = [];
  private total = 0;

  constructor(
    private readonly sink: BinaryCopySink,
    private readonly maxBytes: number = MAX_COPY_BYTES,
  ) {
    if (sink.fieldOids.length === 0) throw new Error('copy: a binary COPY of no columns');
  }

  /** The data of one CopyData message. */
  push(data: Buffer): void {
    this.total = countBytes(this.total, data, this.maxBytes);
    let at = 0;
    while (at < data.length) {
      const s = this.state;
      if (s.kind === 'ended') throw this.sink.located(badCopy('received copy data after EOF marker'), null);
      if (s.kind === 'extension') {
        // Skipped as it comes: an extension is never held.
        const n = Math.min(s.left, data.length - at);
        s.left -= n;
        at += n;
        if (s.left === 0) this.state = { kind: 'fieldCount' };
        continue;
      }
      const need = this.need() - this.pendingBytes;
      if (data.length - at < need) {
        this.pending.push(Buffer.from(data.subarray(at)));
        this.pendingBytes += data.length - at;
        return;
      }
      const piece = this.pendingBytes === 0 ? data.subarray(at, at + need) : Buffer.concat([...this.pending, data.subarray(at, at + need)]);
      this.pending = [];
      this.pendingBytes = 0;
      at += need;
      this.take(piece);
    }
  }

  /** CopyDone: the data must not end inside the header or a tuple. */
  end(): void {
    switch (this.state.kind) {
      case 'signature':
        throw badCopy('COPY file signature not recognized');
      case 'flags':
        throw badCopy('invalid COPY file header (missing flags)');
      case 'extensionLength':
        throw badCopy('invalid COPY file header (missing length)');
      case 'extension':
        throw badCopy('invalid COPY file header (wrong length)');
      case 'fieldCount':
        // The data may end without its trailer, and PostgreSQL takes a lone byte of a field
        // count (no whole field in it) as that end too.
        return;
      case 'fieldLength':
      case 'fieldData':
        throw this.sink.located(badCopy('unexpected EOF in COPY data'), this.fields.length);
      case 'ended':
        return;
      default:
        return exhaustive(this.state);
    }
  }

  private need(): number {
    const s = this.state;
    switch (s.kind) {
      case 'signature':
        return BINARY_SIGNATURE.length;
      case 'flags':
      case 'extensionLength':
      case 'fieldLength':
        return 4;
      case 'fieldCount':
        return 2;
      case 'fieldData':
        return s.bytes;
      case 'extension':
      case 'ended':
        throw new Error(`copy: no piece to read in state ${s.kind}`);
      default:
        return exhaustive(s);
    }
  }

  /** The piece the state asked for, whole. */
  private take(piece: Buffer): void {
    const s = this.state;
    switch (s.kind) {
      case 'signature':
        if (!piece.equals(BINARY_SIGNATURE)) throw badCopy('COPY file signature not recognized');
        this.state = { kind: 'flags' };
        return;
      case 'flags': {
        const flags = piece.readInt32BE(0);
        if ((flags & FLAG_OIDS) !== 0) throw badCopy('invalid COPY file header (WITH OIDS)');
        // Bits 17–31 are critical: a reader that does not know one must refuse the data; 0–15 are not.
        if ((flags & ~FLAG_OIDS) >>> 16 !== 0) throw badCopy('unrecognized critical flags in COPY file header');
        this.state = { kind: 'extensionLength' };
        return;
      }
      case 'extensionLength': {
        const bytes = piece.readInt32BE(0);
        if (bytes < 0) throw badCopy('invalid COPY file header (missing length)');
        this.state = bytes === 0 ? { kind: 'fieldCount' } : { kind: 'extension', left: bytes };
        return;
      }
      case 'fieldCount': {
        const count = piece.readInt16BE(0);
        if (count === TRAILER) {
          this.state = { kind: 'ended' };
          return;
        }
        const expected = this.sink.fieldOids.length;
        if (count !== expected) throw this.sink.located(badCopy(`row field count is ${count}, expected ${expected}`), null);
        this.state = { kind: 'fieldLength' };
        return;
      }
      case 'fieldLength': {
        const bytes = piece.readInt32BE(0);
        if (bytes < NULL_FIELD) throw this.sink.located(badCopy('invalid field size'), this.fields.length);
        if (bytes === NULL_FIELD) this.field(null);
        else if (bytes === 0) this.field(Buffer.alloc(0));
        else this.state = { kind: 'fieldData', bytes };
        return;
      }
      case 'fieldData':
        this.field(piece);
        return;
      case 'extension':
      case 'ended':
        throw new Error(`copy: no piece to read in state ${s.kind}`);
      default:
        exhaustive(s);
    }
  }

  /** One field of the tuple read; the last one hands the tuple on. */
  private field(data: Buffer | null): void {
    this.fields.push(data);
    const oids = this.sink.fieldOids;
    if (this.fields.length < oids.length) {
      this.state = { kind: 'fieldLength' };
      return;
    }
    const fields = this.fields;
    this.fields = [];
    this.state = { kind: 'fieldCount' };
    const values = fields.map((b, k) => {
      if (b === null) return null;
      try {
        return decodeBinaryParam(oids[k]!, b);
      } catch (err) {
        throw err instanceof AllotError ? this.sink.located(err, k) : err;
      }
    });
    this.sink.binaryRow(values);
  }
}

function badCopy(message: string): AllotError {
  return new AllotError(SqlState.badCopyFileFormat, message);
}

function exhaustive(x: never): never {
  throw new Error(`copy: unexpected state ${JSON.stringify(x)}`);
}
