/**
 * COPY's text and CSV formats, as PostgreSQL writes and reads them: one record of data (a line,
 * without its terminator) to its fields, and a row of values to its line. The statement and its
 * options are in copy.ts; the binary format, bytes throughout, is the wire's (src/wire/copy.ts).
 */
import { AllotError, SqlState } from '../errors.js';
import { formatValue, type Value } from './types.js';

export interface CopyFormat {
  readonly csv: boolean;
  /** PostgreSQL's binary format (COPY FROM only): tuples of fields in their types' send format; the options below are unused. */
  readonly binary: boolean;
  /** One character (a byte: ASCII). */
  readonly delimiter: string;
  /** The text that stands for NULL. */
  readonly null: string;
  readonly quote: string;
  readonly escape: string;
  /** The first line names the columns; `match`: COPY FROM checks them. */
  readonly header: boolean | 'match';
  /** COPY TO, CSV: columns always quoted (`*`: all). */
  readonly forceQuote: readonly string[] | '*';
  /** COPY FROM, CSV: columns where the NULL text is read as that text. */
  readonly forceNotNull: readonly string[];
  /** COPY FROM, CSV: columns where the NULL text is NULL even quoted. */
  readonly forceNull: readonly string[];
}

function badCopy(message: string): AllotError {
  return new AllotError(SqlState.badCopyFileFormat, message);
}

/**
 * One record of COPY FROM data (its line terminator removed) as its fields: text, or null for
 * the NULL text. `columns` names the fields it must have. Throws 22P04 for a record of another
 * shape, with PostgreSQL's messages.
 */
export function parseRecord(record: string, f: CopyFormat, columns: readonly string[]): (string | null)[] {
  const fields = f.csv ? csvFields(record, f, columns) : textFields(record, f);
  if (fields.length > columns.length) throw badCopy('extra data after last expected column');
  if (fields.length < columns.length) throw badCopy(`missing data for column "${columns[fields.length]}"`);
  return fields;
}

/** Text format: delimited fields with backslash escapes; a field written exactly as the NULL text is NULL. */
function textFields(record: string, f: CopyFormat): (string | null)[] {
  const out: (string | null)[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i <= record.length; i++) {
    if (i === record.length || (record[i] === f.delimiter && !escaped)) {
      const raw = record.slice(start, i);
      out.push(raw === f.null ? null : unescapeText(raw));
      start = i + 1;
      escaped = false;
      continue;
    }
    escaped = record[i] === '\\' && !escaped;
  }
  return out;
}

const TEXT_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * PostgreSQL's backslash sequences: \b \f \n \r \t \v, \ and 1–3 octal digits, \x and 1–2 hex
 * digits (bytes, so \xc3\xa9 is é), and \ before any other character is that character.
 */
function unescapeText(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  const bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length === 0) return;
    const b = Buffer.from(bytes);
    bytes.length = 0;
    const s = b.toString('utf8');
    if (Buffer.byteLength(s) !== b.length || s.includes('\uFFFD') || s.includes('\0')) {
      throw new AllotError(
        SqlState.characterNotInRepertoire,
        `invalid byte sequence for encoding "UTF8": ${[...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(' ')}`,
      );
    }
    out += s;
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\' || i + 1 >= raw.length) {
      flushBytes();
      out += c;
      continue;
    }
    const e = raw[++i]!;
    const octal = /^[0-7]{1,3}/.exec(raw.slice(i, i + 3));
    const hex = e === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(raw.slice(i + 1, i + 3)) : null;
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8) & 0xff);
      i += octal[0].length - 1;
    } else if (hex !== null) {
      bytes.push(parseInt(hex[0], 16));
      i += hex[0].length;
    } else {
      flushBytes();
      out += TEXT_ESCAPES[e] ?? e;
    }
  }
  flushBytes();
  return out;
}

/**
 * CSV: fields separated by the delimiter, quoted ones may hold anything (a quote inside is
 * written twice, or after the escape character); an unquoted field written as the NULL text is
 * NULL, a quoted one never (unless FORCE_NULL), and FORCE_NOT_NULL reads the NULL text as text.
 */
function csvFields(record: string, f: CopyFormat, columns: readonly string[]): (string | null)[] {
  const out: (string | null)[] = [];
  let i = 0;
  const n = record.length;
  for (;;) {
    let value = '';
    let quoted = false;
    let unquotedText = '';
    while (i < n && record[i] !== f.delimiter) {
      if (record[i] === f.quote) {
        quoted = true;
        i++;
        for (;;) {
          if (i >= n) throw badCopy('unterminated CSV quoted field');
          const c = record[i]!;
          if (c === f.escape && i + 1 < n && (record[i + 1] === f.quote || record[i + 1] === f.escape) && (f.escape !== f.quote || record[i + 1] === f.quote)) {
            value += record[i + 1];
            i += 2;
          } else if (c === f.quote) {
            i++;
            break;
          } else {
            value += c;
            i++;
          }
        }
      } else {
        value += record[i];
        unquotedText += record[i];
        i++;
      }
    }
    const column = columns[out.length];
    const isNullText = quoted ? value === f.null && column !== undefined && f.forceNull.includes(column) : unquotedText === f.null && value === f.null;
    const notNull = column !== undefined && f.forceNotNull.includes(column);
    out.push(isNullText && !notNull ? null : value);
    if (i >= n) return out;
    i++; // the delimiter
  }
}

/** The end-of-data marker, a line of `\.`. */
export function isEndMarker(record: string): boolean {
  return record === '\\.';
}

/** The header line COPY FROM … HEADER MATCH checks against the columns. */
export function checkHeader(record: string, f: CopyFormat, columns: readonly string[]): void {
  if (f.header !== 'match') return;
  const names = f.csv ? csvFields(record, { ...f, forceNotNull: [], forceNull: [] }, []) : textFields(record, f);
  if (names.length !== columns.length) throw badCopy(`wrong number of fields in header line: got ${names.length}, expected ${columns.length}`);
  names.forEach((got, k) => {
    if (got === null) throw badCopy(`column name mismatch in header line field ${k + 1}: got null value ("${f.null}"), expected "${columns[k]}"`);
    if (got !== columns[k]) throw badCopy(`column name mismatch in header line field ${k + 1}: got "${got}", expected "${columns[k]}"`);
  });
}

/** One row of COPY TO output, with its line's \n: values as they are sent as text, escaped or quoted. */
export function encodeRecord(row: readonly Value[], f: CopyFormat, columns: readonly string[], texts?: readonly ((v: Value) => string | null)[]): string {
  let out = '';
  for (let k = 0; k < row.length; k++) {
    if (k > 0) out += f.delimiter;
    const v = row[k] ?? null;
    const text = texts === undefined ? formatValue(v) : texts[k]!(v);
    if (text === null) out += f.null;
    // A lone `\.` would read back as the end of the data: quoted when it is a whole line.
    else
      out += f.csv
        ? csvField(text, f, f.forceQuote === '*' || f.forceQuote.includes(columns[k] ?? '') || (row.length === 1 && text === '\\.'))
        : textField(text, f);
  }
  return `${out}\n`;
}

/** The header line of COPY TO … HEADER: the column names, written as values are. */
export function encodeHeader(columns: readonly string[], f: CopyFormat): string {
  return `${columns.map((c) => (f.csv ? csvField(c, f, false) : textField(c, f))).join(f.delimiter)}\n`;
}

function textField(s: string, f: CopyFormat): string {
  let out = '';
  for (const c of s) {
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else if (c === '\v') out += '\\v';
    else if (c === f.delimiter) out += `\\${c}`;
    else out += c;
  }
  return out;
}

function csvField(s: string, f: CopyFormat, force: boolean): string {
  const needs = force || s === f.null || [...s].some((c) => c === f.delimiter || c === f.quote || c === '\n' || c === '\r');
  if (!needs) return s;
  let out = f.quote;
  for (const c of s) out += c === f.quote || c === f.escape ? f.escape + c : c;
  return out + f.quote;
}
