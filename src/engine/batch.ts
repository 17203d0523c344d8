/** What a command handler decides with: the state it reads and the open batch it adds effects to. */
import type { Queries } from './queries.js';
import type { Store } from './state.js';
import type { Effect } from './types.js';

export interface Batch {
  readonly store: Store;
  /** Reads that record what their answer depends on (a hold, a group's members, a pool's). */
  readonly read: Queries;
  /** Applies `e` to the state and adds it, with what undoes it, to the batch. */
  emit(e: Effect): void;
  /** Adds an effect the handler has applied to the store itself, with what undoes it. */
  record(e: Effect, inverse: Effect): void;
}
