/**
 * A transaction block's savepoints, as PostgreSQL keeps them: a stack of names where the newest
 * of a name wins. RELEASE drops a savepoint and every one made after it (their writes stay);
 * ROLLBACK TO drops those made after it and keeps it, to be rolled back to again. Each remembers
 * where the block stood when it was made: the draft's mark (null: before the block's first
 * write), and how many NOTIFYs and cursors the block had by then, so what came after is undone.
 */
import type { DraftMark } from '../engine/engine.js';
import { AllotError, SqlState } from '../errors.js';

/** Savepoints one block may hold at once (RELEASE or ROLLBACK TO free them). */
export const MAX_SAVEPOINTS = 10_000;

export interface Savepoint {
  readonly name: string;
  readonly mark: DraftMark | null;
  readonly notifies: number;
  /** The session's cursor generation when it was made: cursors declared later go with a ROLLBACK TO. */
  readonly cursorsFrom: number;
}

export class Savepoints {
  private readonly stack: Savepoint[] = [];

  get size(): number {
    return this.stack.length;
  }

  push(sp: Savepoint): void {
    if (this.stack.length >= MAX_SAVEPOINTS) {
      throw new AllotError(SqlState.programLimitExceeded, `this transaction already holds ${MAX_SAVEPOINTS} savepoints, the limit`, {
        hint: 'RELEASE savepoints that are no longer needed.',
      });
    }
    this.stack.push(sp);
  }

  /** Drops the newest savepoint named `name` and every later one. */
  release(name: string): void {
    this.stack.length = this.find(name);
  }

  /** Drops every savepoint after the newest named `name`, and returns it. */
  rollbackTo(name: string): Savepoint {
    const i = this.find(name);
    this.stack.length = i + 1;
    return this.stack[i]!;
  }

  clear(): void {
    this.stack.length = 0;
  }

  private find(name: string): number {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i]!.name === name) return i;
    throw new AllotError(SqlState.invalidSavepointSpecification, `savepoint "${name}" does not exist`);
  }
}
