/**
 * One COPY FROM STDIN in progress: each record of data becomes the row of an INSERT of
 * parameters as it arrives (its commands built at once, so an error names its line and nothing
 * waits as text), and CopyDone writes every row as one statement: all of them or none, one log
 * record, at most Limits.maxBatchCommands rows (54000 past them, refused as soon as the row past
 * the limit arrives). A text or CSV record comes as its line; a binary tuple as its fields,
 * decoded by the wire as binary parameters are (src/wire/copy.ts), in the types `fieldOids`
 * names. Both are read as an INSERT's parameters are.
 */
import { Limits } from '../engine/limits.js';
import type { Command } from '../engine/types.js';
import { AllotError, SqlState } from '../errors.js';
import type { CopyStatement } from '../sql/copy.js';
import { checkHeader, isEndMarker, parseRecord, type CopyFormat } from '../sql/copy-format.js';
import { coerce, type EvalEnv } from '../sql/expr.js';
import type { ParamValue, Value } from '../sql/types.js';
import { newId } from './ids.js';

/** Characters of a bad line quoted in an error's DETAIL. */
const QUOTED_LINE_CHARS = 100;

export class CopyIn {
  readonly format: CopyFormat;
  /** Binary: the OIDs of the types the fields are sent in, the columns' as the session sees them (the INSERT's parameters'). */
  readonly fieldOids: readonly number[];
  private readonly commands: Command[] = [];
  private line = 0;
  private rows = 0;
  /** The `\.` line was seen: whatever follows it is not data. */
  private ended = false;

  constructor(
    private readonly statement: Extract<CopyStatement, { type: 'copyFrom' }>,
    private readonly session: EvalEnv['session'],
    private readonly commit: (commands: Command[]) => Promise<unknown>,
  ) {
    this.format = statement.format;
    this.fieldOids = statement.columns.map((_, k) => statement.insert.params.oidOf(k));
  }

  get columns(): number {
    return this.statement.columns.length;
  }

  /** One record of data, without its line terminator. */
  record(text: string): void {
    this.line++;
    if (this.ended) return;
    if (isEndMarker(text)) {
      this.ended = true;
      return;
    }
    const { columns, format } = this.statement;
    if (this.line === 1 && format.header !== false) {
      this.withContext(text, null, () => checkHeader(text, format, columns));
      return;
    }
    const fields = this.withContext(text, null, () => parseRecord(text, format, columns));
    this.row(fields, (column) => this.textWhere(text, column));
  }

  /** One binary tuple's fields, as many as the columns (the wire checked), decoded to their text form. */
  binaryRow(values: readonly ParamValue[]): void {
    this.line++;
    if (values.length !== this.columns) throw new Error(`copy: a binary tuple of ${values.length} fields for ${this.columns} columns`);
    this.row(values, (column) => this.binaryWhere(this.line, column));
  }

  /** An error met reading the binary tuple after the last one handed on, placed as PostgreSQL places it. */
  located(err: AllotError, column: number | null): AllotError {
    return placed(err, this.binaryWhere(this.line + 1, column));
  }

  /** A record's fields, read as the INSERT's parameters: its commands, kept for CopyDone. */
  private row(fields: readonly ParamValue[], where: (column: number | null) => string): void {
    if (++this.rows > Limits.maxBatchCommands) {
      throw new AllotError(
        SqlState.programLimitExceeded,
        `COPY of more than ${Limits.maxBatchCommands} rows; the limit is ${Limits.maxBatchCommands} per statement`,
        {
          hint: `Split the data into COPYs of at most ${Limits.maxBatchCommands} rows: each is all or nothing.`,
        },
      );
    }
    const { insert: plan, columns } = this.statement;
    const values: Value[] = fields.map((v, k) => within(where, k, () => coerce(v, plan.params.domains[k] ?? null, `column "${columns[k]}"`)));
    const commands = within(where, null, () => plan.build({ params: values, session: this.session }, newId));
    for (const c of commands) this.commands.push(c);
  }

  /** CopyDone: every row, written as one statement. Returns the tag. */
  async finish(): Promise<string> {
    if (this.commands.length > 0) await this.commit(this.commands);
    return `COPY ${this.rows}`;
  }

  /** Runs `fn` for the current line of text; an error it throws says where (see `placed`). */
  private withContext<T>(text: string, column: number | null, fn: () => T): T {
    return within((c) => this.textWhere(text, c), column, fn);
  }

  /** `COPY bookings, line 3, column start: "x"`, as PostgreSQL's CONTEXT names a line of text. */
  private textWhere(text: string, column: number | null): string {
    const { table, columns } = this.statement;
    return column === null
      ? `COPY ${table}, line ${this.line}: "${clip(text)}"`
      : `COPY ${table}, line ${this.line}, column ${columns[column]}: "${clip(text.length === 0 ? '' : this.fieldText(text, column))}"`;
  }

  /** `COPY bookings, line 3, column start`: PostgreSQL counts binary tuples as lines, and quotes no bytes. */
  private binaryWhere(line: number, column: number | null): string {
    const { table, columns } = this.statement;
    return column === null ? `COPY ${table}, line ${line}` : `COPY ${table}, line ${line}, column ${columns[column]}`;
  }

  /** The field's text for the error (parsed again: errors are rare). */
  private fieldText(text: string, column: number): string {
    try {
      return parseRecord(text, this.format, this.statement.columns)[column] ?? '';
    } catch {
      return text;
    }
  }
}

/** Runs `fn`; an AllotError it throws says `where(column)` (see `placed`). */
function within<T>(where: (column: number | null) => string, column: number | null, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof AllotError)) throw err;
    throw placed(err, where(column));
  }
}

/**
 * `err` saying where it was met, as PostgreSQL's CONTEXT does: in its DETAIL, or after its
 * message when it has a DETAIL of its own.
 */
function placed(err: AllotError, where: string): AllotError {
  return new AllotError(err.sqlstate, err.detail === undefined ? err.message : `${err.message} (${where})`, {
    detail: err.detail ?? where,
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
  });
}

function clip(s: string): string {
  return s.length > QUOTED_LINE_CHARS ? `${s.slice(0, QUOTED_LINE_CHARS)}…` : s;
}
