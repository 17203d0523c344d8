/**
 * One COPY FROM STDIN in progress: each record of data becomes the row of an INSERT of text
 * parameters as it arrives (its commands built at once, so an error names its line and nothing
 * waits as text), and CopyDone writes every row as one statement: all of them or none, one log
 * record, at most Limits.maxBatchCommands rows (54000 past them, refused as soon as the row past
 * the limit arrives).
 */
import { Limits } from '../engine/limits.js';
import type { Command } from '../engine/types.js';
import { AllotError, SqlState } from '../errors.js';
import type { CopyStatement } from '../sql/copy.js';
import { checkHeader, isEndMarker, parseRecord, type CopyFormat } from '../sql/copy-format.js';
import { coerce, type EvalEnv } from '../sql/expr.js';
import type { Value } from '../sql/types.js';
import { newId } from './ids.js';

/** Characters of a bad line quoted in an error's DETAIL. */
const QUOTED_LINE_CHARS = 100;

export class CopyIn {
  readonly format: CopyFormat;
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
    if (++this.rows > Limits.maxBatchCommands) {
      throw new AllotError(SqlState.programLimitExceeded, `COPY of more than ${Limits.maxBatchCommands} rows; the limit is ${Limits.maxBatchCommands} per statement`, {
        hint: `Split the data into COPYs of at most ${Limits.maxBatchCommands} rows: each is all or nothing.`,
      });
    }
    const plan = this.statement.insert;
    const values: Value[] = fields.map((v, k) => this.withContext(text, k, () => coerce(v, plan.params.domains[k] ?? null, `column "${columns[k]}"`)));
    const commands = this.withContext(text, null, () => plan.build({ params: values, session: this.session }, newId));
    for (const c of commands) this.commands.push(c);
  }

  /** CopyDone: every row, written as one statement. Returns the tag. */
  async finish(): Promise<string> {
    if (this.commands.length > 0) await this.commit(this.commands);
    return `COPY ${this.rows}`;
  }

  /**
   * Runs `fn` for the current line; an error it throws says where, as PostgreSQL's CONTEXT
   * does (`COPY bookings, line 3, column start: "x"`), in its DETAIL, or after its message when
   * it has a DETAIL of its own.
   */
  private withContext<T>(text: string, column: number | null, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof AllotError)) throw err;
      const where =
        column === null
          ? `COPY ${this.statement.table}, line ${this.line}: "${clip(text)}"`
          : `COPY ${this.statement.table}, line ${this.line}, column ${this.statement.columns[column]}: "${clip(text.length === 0 ? '' : this.fieldText(text, column))}"`;
      throw new AllotError(err.sqlstate, err.detail === undefined ? err.message : `${err.message} (${where})`, {
        detail: err.detail ?? where,
        ...(err.hint !== undefined ? { hint: err.hint } : {}),
      });
    }
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

function clip(s: string): string {
  return s.length > QUOTED_LINE_CHARS ? `${s.slice(0, QUOTED_LINE_CHARS)}…` : s;
}
