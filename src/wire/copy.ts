/**
 * COPY FROM STDIN's bytes: CopyData messages cut the data anywhere (mid-line, mid-character), so
 * they are joined and cut again into records, each handed on as text the moment its line ends.
 * A record ends at a newline (a \r before it is dropped), except inside a CSV quoted field or
 * after a backslash in the text format, where a line of `\.` (or `\.` ending one) ends the data.
 * Bytes are checked as UTF-8 per record, as a text parameter is. Only the record not yet ended
 * is held, and the whole COPY may send at most MAX_COPY_BYTES.
 */
import { AllotError, SqlState } from '../errors.js';
import { SessionSqlState } from '../sql/session-states.js';
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
    this.total += data.length;
    if (this.total > this.maxBytes) {
      throw new AllotError(SqlState.programLimitExceeded, `COPY data of more than ${this.maxBytes} bytes; the limit is ${this.maxBytes}`, { hint: 'Split the data into several COPYs.' });
    }
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
    if (this.dot) throw new AllotError(SessionSqlState.badCopyFileFormat, 'end-of-copy marker corrupt');
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
      throw new AllotError(SessionSqlState.badCopyFileFormat, 'end-of-copy marker corrupt');
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
