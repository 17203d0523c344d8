/**
 * A session's cursors (DECLARE … FETCH … CLOSE). A cursor's rows are its query's, read once at
 * DECLARE (one consistent read: rows made of immutable entities, as any SELECT's), and FETCH
 * and MOVE walk them with PostgreSQL's positions: 0 is before the first row, n + 1 after the
 * last. A cursor without HOLD lives until its block ends; one WITH HOLD for the session, unless
 * the block that declared it rolls back.
 */
import { AllotError, SqlState } from '../errors.js';
import type { OutColumn, ResultRows } from '../sql/plan/index.js';
import type { Value } from '../sql/types.js';
import type { FetchDirection } from '../sql/utility.js';

/** Cursors one session may hold open at once. */
export const MAX_CURSORS = 1_000;
/** Rows all of a session's open cursors hold together (each is a SELECT's result, at most 1,000,000 rows). */
export const MAX_CURSOR_ROWS = 1_000_000;

export interface Cursor {
  readonly name: string;
  readonly columns: readonly OutColumn[];
  readonly rows: ResultRows;
  /** SCROLL (true), NO SCROLL (false: moving backward is refused), or neither (null: allowed). */
  readonly scroll: boolean | null;
  readonly hold: boolean;
  readonly binary: boolean;
  /** Declared inside the block still open: a ROLLBACK of it takes even a WITH HOLD cursor. */
  inBlock: boolean;
  /** Order of declaration: a ROLLBACK TO SAVEPOINT takes the cursors declared after it. */
  readonly seq: number;
  pos: number;
  /** A FETCH of it failed: as in PostgreSQL, it cannot be run again, only closed. */
  failed: boolean;
}

/** What one FETCH or MOVE gives: the rows, in the order fetched. */
export interface Fetched {
  readonly rows: ResultRows;
  readonly count: number;
}

const NONE: ResultRows = { length: 0, at: () => undefined };

/** Rows `from`..`to` of a cursor (1-based, inclusive), forward or, when `from > to`, backward. */
class RowRange implements ResultRows {
  readonly length: number;
  private readonly step: 1 | -1;

  constructor(
    private readonly rows: ResultRows,
    private readonly from: number,
    to: number,
  ) {
    this.length = Math.abs(to - from) + 1;
    this.step = from <= to ? 1 : -1;
  }

  at(i: number): Value[] | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return this.rows.at(this.from - 1 + i * this.step);
  }
}

export class Cursors {
  private readonly open = new Map<string, Cursor>();
  private rowsHeld = 0;
  private seq = 0;

  /** The order number the next cursor declared will get. */
  get nextSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.open.size;
  }

  /** Refuses a name already open (42P03), or a cursor beyond the limit. */
  checkNew(name: string): void {
    if (this.open.has(name)) throw new AllotError(SqlState.duplicateCursor, `cursor "${name}" already exists`);
    if (this.open.size >= MAX_CURSORS) {
      throw new AllotError(SqlState.programLimitExceeded, `this session already holds ${MAX_CURSORS} open cursors, the limit`, {
        hint: 'CLOSE cursors that are done.',
      });
    }
  }

  declare(c: Omit<Cursor, 'seq' | 'pos' | 'failed'>): void {
    this.checkNew(c.name);
    if (this.rowsHeld + c.rows.length > MAX_CURSOR_ROWS) {
      throw new AllotError(
        SqlState.programLimitExceeded,
        `the session's open cursors would hold ${this.rowsHeld + c.rows.length} rows; the limit is ${MAX_CURSOR_ROWS}`,
        { hint: 'CLOSE cursors that are done, or narrow the query.' },
      );
    }
    this.open.set(c.name, { ...c, seq: this.seq++, pos: 0, failed: false });
    this.rowsHeld += c.rows.length;
  }

  get(name: string): Cursor {
    const c = this.open.get(name);
    if (c === undefined) throw new AllotError(SqlState.invalidCursorName, `cursor "${name}" does not exist`);
    return c;
  }

  /** The columns of an open cursor, or null (a Describe of a FETCH before its DECLARE). */
  columnsOf(name: string): readonly OutColumn[] | null {
    return this.open.get(name)?.columns ?? null;
  }

  close(name: string): void {
    this.drop(this.get(name));
  }

  closeAll(): void {
    this.open.clear();
    this.rowsHeld = 0;
  }

  /** The block ended: cursors without HOLD go; WITH HOLD ones stay if it committed. */
  endOfBlock(committed: boolean): void {
    for (const c of [...this.open.values()]) {
      if (!c.hold || (!committed && c.inBlock)) this.drop(c);
      else c.inBlock = false;
    }
  }

  /** ROLLBACK TO SAVEPOINT: the cursors declared after it go. */
  dropFrom(seq: number): void {
    for (const c of [...this.open.values()]) if (c.seq >= seq) this.drop(c);
  }

  private drop(c: Cursor): void {
    this.open.delete(c.name);
    this.rowsHeld -= c.rows.length;
  }

  /** FETCH (or, `move`, MOVE) in `direction`: the rows it gives, and where the cursor is now. */
  fetch(name: string, d: FetchDirection, move: boolean): Fetched {
    const c = this.get(name);
    const n = c.rows.length;
    if (c.failed) throw new AllotError(SqlState.objectNotInPrerequisiteState, `portal "${name}" cannot be run`);
    const target = targetOf(c.pos, n, d);
    if (c.scroll === false && movesBack(c.pos, n, d, move)) {
      c.failed = true;
      throw new AllotError(SqlState.objectNotInPrerequisiteState, 'cursor can only scan forward', {
        hint: 'Declare it with SCROLL option to enable backward scan.',
      });
    }
    c.pos = target.pos;
    if (target.from === null) return { rows: NONE, count: 0 };
    const rows = new RowRange(c.rows, target.from, target.to);
    return { rows, count: rows.length };
  }
}

/**
 * Whether PostgreSQL steps back to do it, which a NO SCROLL cursor refuses (its
 * DoPortalRunFetch): going backward (MOVE BACKWARD 0 only counts); fetching the current row
 * again (FETCH 0; MOVE 0 only counts); an absolute row found from the end (LAST, negative ones)
 * or from the start again (0, and rows at most half way to where it stands, unless it has not
 * moved yet), or one at or before where it stands.
 */
function movesBack(pos: number, n: number, d: FetchDirection, move: boolean): boolean {
  const onRow = pos >= 1 && pos <= n;
  switch (d.kind) {
    case 'forward':
      return d.count === 0 && onRow && !move;
    case 'backward':
      return d.count !== 0 || !move;
    case 'relative':
      return d.n < 0 || (d.n === 0 && onRow && !move);
    case 'absolute': {
      if (d.n <= 0) return d.n < 0 || pos !== 0;
      const portalPos = Math.min(pos, n);
      return d.n - 1 <= Math.floor(portalPos / 2) ? pos !== 0 : d.n <= pos;
    }
  }
}

/**
 * Where a FETCH from position `pos` of `n` rows leaves the cursor, and which rows it returns
 * (`from`..`to`, 1-based; null: none).
 */
function targetOf(pos: number, n: number, d: FetchDirection): { pos: number; from: number | null; to: number } {
  const current = pos >= 1 && pos <= n ? { pos, from: pos, to: pos } : { pos, from: null, to: 0 };
  switch (d.kind) {
    case 'forward': {
      if (d.count === 0) return current;
      const k = d.count === 'all' ? Infinity : d.count;
      const from = pos + 1;
      const to = Math.min(pos + k, n);
      return { pos: pos + k > n ? n + 1 : pos + k, from: from <= to ? from : null, to };
    }
    case 'backward': {
      if (d.count === 0) return current;
      const k = d.count === 'all' ? Infinity : d.count;
      const from = Math.min(pos - 1, n);
      const to = Math.max(pos - k, 1);
      return { pos: pos - k < 1 ? 0 : pos - k, from: from >= to && from >= 1 ? from : null, to };
    }
    case 'absolute': {
      return at(d.n >= 0 ? d.n : n + 1 + d.n, n);
    }
    case 'relative':
      return d.n === 0 ? current : at(pos + d.n, n);
  }
}

function at(t: number, n: number): { pos: number; from: number | null; to: number } {
  if (t < 1) return { pos: 0, from: null, to: 0 };
  if (t > n) return { pos: n + 1, from: null, to: 0 };
  return { pos: t, from: t, to: t };
}
