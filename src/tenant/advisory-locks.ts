/**
 * Advisory locks, as PostgreSQL's pg_advisory_lock family: one table per database, locks held
 * per session, exclusive or shared, each taken as often as it is released (they count), at
 * session level (until unlocked, or the session ends) or transaction level (until the block
 * ends, or the statement outside one). Waiting is first come, first served: a request that
 * conflicts with one already waiting waits behind it, and a wait that would close a cycle of
 * sessions waiting for each other is refused at once (40P01) rather than hanging.
 *
 * Expression functions run synchronously, so a lock that must wait throws LockWait: the session
 * awaits its `granted` and runs the statement again, when the same call finds the lock granted.
 */
import { AllotError, SqlState } from '../errors.js';
import type { AdvisoryKey, AdvisoryLockView, LockMode, LockScope } from '../sql/advisory.js';

/** Locks one session may hold at once, counting each take (PostgreSQL's bound is its lock table). */
export const MAX_ADVISORY_LOCKS = 10_000;

/** Who holds locks: a session, by its backend pid (for messages). */
export interface LockHolder {
  readonly pid: number;
}

/** The session's wait for a lock; the session awaits `granted` and runs its statement again. */
export class LockWait extends Error {
  constructor(
    readonly granted: Promise<void>,
    readonly cancel: (err: AllotError) => void,
  ) {
    super('waiting for an advisory lock');
    this.name = 'LockWait';
  }
}

interface Counts {
  session: number;
  xact: number;
}

interface Waiter {
  readonly holder: LockHolder;
  readonly mode: LockMode;
  readonly scope: LockScope;
  readonly resolve: () => void;
  readonly reject: (err: AllotError) => void;
}

interface Lock {
  readonly exclusive: Map<LockHolder, Counts>;
  readonly shared: Map<LockHolder, Counts>;
  readonly queue: Waiter[];
}

const WARNING_NOT_HELD = (mode: LockMode): string => `you don't own a lock of type ${mode === 'exclusive' ? 'ExclusiveLock' : 'ShareLock'}`;

export class AdvisoryLocks {
  private readonly locks = new Map<AdvisoryKey, Lock>();
  /** What each holder waits for, for the deadlock check. */
  private readonly waitingFor = new Map<LockHolder, AdvisoryKey>();
  /** Locks granted while their holder waited: the statement run again takes them without counting twice. */
  private readonly prepaid = new Map<LockHolder, Set<string>>();
  private readonly held = new Map<LockHolder, number>();

  /** Takes the lock if nothing stands in the way; false if something does (pg_try_advisory_lock). */
  tryLock(holder: LockHolder, key: AdvisoryKey, mode: LockMode, scope: LockScope): boolean {
    if (this.takePrepaid(holder, key, mode, scope)) return true;
    const lock = this.lockOf(key);
    if (!this.grantable(lock, holder, mode, lock.queue.length)) {
      this.dropIfUnused(key, lock);
      return false;
    }
    this.grant(lock, holder, mode, scope);
    return true;
  }

  /** Takes the lock, or throws LockWait to be awaited (pg_advisory_lock); 40P01 if waiting would deadlock. */
  lock(holder: LockHolder, key: AdvisoryKey, mode: LockMode, scope: LockScope): void {
    if (this.tryLock(holder, key, mode, scope)) return;
    const lock = this.lockOf(key);
    const blockers = this.blockers(lock, holder, mode, lock.queue.length);
    const cycle = this.cycleFrom(holder, blockers);
    if (cycle !== null) {
      throw new AllotError(SqlState.deadlockDetected, 'deadlock detected', {
        detail: `Process ${holder.pid} waits for ${mode === 'exclusive' ? 'ExclusiveLock' : 'ShareLock'} on advisory lock [${key}]; blocked by process ${cycle.pid}.`,
        hint: 'See server log for query details.',
      });
    }
    let waiter!: Waiter;
    const granted = new Promise<void>((resolve, reject) => {
      waiter = { holder, mode, scope, resolve, reject };
    });
    lock.queue.push(waiter);
    this.waitingFor.set(holder, key);
    throw new LockWait(granted, (err) => this.cancelWait(key, waiter, err));
  }

  /** Releases one session-level take (pg_advisory_unlock); false, and the warning to give, if none is held. */
  unlock(holder: LockHolder, key: AdvisoryKey, mode: LockMode): { released: boolean; warning: string | null } {
    const lock = this.locks.get(key);
    const counts = lock === undefined ? undefined : (mode === 'exclusive' ? lock.exclusive : lock.shared).get(holder);
    if (lock === undefined || counts === undefined || counts.session === 0) return { released: false, warning: WARNING_NOT_HELD(mode) };
    counts.session--;
    this.release(key, lock, holder, mode, counts);
    return { released: true, warning: null };
  }

  /** Undoes one take (of a statement that must wait and run again). */
  giveBack(holder: LockHolder, key: AdvisoryKey, mode: LockMode, scope: LockScope): void {
    const lock = this.locks.get(key);
    const counts = lock === undefined ? undefined : (mode === 'exclusive' ? lock.exclusive : lock.shared).get(holder);
    if (lock === undefined || counts === undefined || counts[scope] === 0) return;
    counts[scope]--;
    this.release(key, lock, holder, mode, counts);
  }

  /** Releases every session-level lock of `holder` (pg_advisory_unlock_all, DISCARD ALL). */
  unlockAll(holder: LockHolder): void {
    this.releaseWhere(holder, (c) => {
      c.session = 0;
    });
  }

  /** The transaction ended: its transaction-level locks go. */
  endOfTransaction(holder: LockHolder): void {
    this.releaseWhere(holder, (c) => {
      c.xact = 0;
    });
  }

  /** The session ended: everything it held or waited for goes. */
  endOfSession(holder: LockHolder): void {
    const key = this.waitingFor.get(holder);
    if (key !== undefined) {
      const lock = this.locks.get(key);
      const w = lock?.queue.find((x) => x.holder === holder);
      if (w !== undefined) this.cancelWait(key, w, new AllotError(SqlState.adminShutdown, 'the session ended'));
    }
    this.releaseWhere(holder, (c) => {
      c.session = 0;
      c.xact = 0;
    });
    this.prepaid.delete(holder);
  }

  /** Whether `holder` has any transaction-level lock (checked after each statement outside a block). */
  hasXact(holder: LockHolder): boolean {
    for (const lock of this.locks.values()) {
      if ((lock.exclusive.get(holder)?.xact ?? 0) > 0 || (lock.shared.get(holder)?.xact ?? 0) > 0) return true;
    }
    return false;
  }

  /** Keys `holder` holds, with their counts, for tests and pg_locks. */
  heldBy(holder: LockHolder): { key: AdvisoryKey; mode: LockMode; session: number; xact: number }[] {
    const out: { key: AdvisoryKey; mode: LockMode; session: number; xact: number }[] = [];
    for (const [key, lock] of this.locks) {
      for (const mode of ['exclusive', 'shared'] as const) {
        const c = (mode === 'exclusive' ? lock.exclusive : lock.shared).get(holder);
        if (c !== undefined) out.push({ key, mode, session: c.session, xact: c.xact });
      }
    }
    return out;
  }

  // ---- the table ------------------------------------------------------------------------

  private lockOf(key: AdvisoryKey): Lock {
    let lock = this.locks.get(key);
    if (lock === undefined) {
      lock = { exclusive: new Map(), shared: new Map(), queue: [] };
      this.locks.set(key, lock);
    }
    return lock;
  }

  private dropIfUnused(key: AdvisoryKey, lock: Lock): void {
    if (lock.exclusive.size === 0 && lock.shared.size === 0 && lock.queue.length === 0) this.locks.delete(key);
  }

  /** Other holders and earlier waiters in conflict with `mode`: a holder never conflicts with itself. */
  private blockers(lock: Lock, holder: LockHolder, mode: LockMode, waitersAhead: number): LockHolder[] {
    const out: LockHolder[] = [];
    for (const h of lock.exclusive.keys()) if (h !== holder) out.push(h);
    if (mode === 'exclusive') for (const h of lock.shared.keys()) if (h !== holder) out.push(h);
    for (let i = 0; i < waitersAhead; i++) {
      const w = lock.queue[i]!;
      if (w.holder !== holder && (mode === 'exclusive' || w.mode === 'exclusive')) out.push(w.holder);
    }
    return out;
  }

  private grantable(lock: Lock, holder: LockHolder, mode: LockMode, waitersAhead: number): boolean {
    return this.blockers(lock, holder, mode, waitersAhead).length === 0;
  }

  private grant(lock: Lock, holder: LockHolder, mode: LockMode, scope: LockScope): void {
    const n = this.held.get(holder) ?? 0;
    if (n >= MAX_ADVISORY_LOCKS) {
      throw new AllotError(SqlState.outOfMemory, 'out of shared memory', {
        hint: `A session holds at most ${MAX_ADVISORY_LOCKS} advisory locks; release some.`,
      });
    }
    const map = mode === 'exclusive' ? lock.exclusive : lock.shared;
    const counts = map.get(holder) ?? { session: 0, xact: 0 };
    counts[scope]++;
    map.set(holder, counts);
    this.held.set(holder, n + 1);
  }

  private release(key: AdvisoryKey, lock: Lock, holder: LockHolder, mode: LockMode, counts: Counts, taken = 1): void {
    const map = mode === 'exclusive' ? lock.exclusive : lock.shared;
    if (counts.session === 0 && counts.xact === 0) map.delete(holder);
    const left = (this.held.get(holder) ?? taken) - taken;
    if (left > 0) this.held.set(holder, left);
    else this.held.delete(holder);
    this.wake(key, lock);
  }

  private releaseWhere(holder: LockHolder, clear: (c: Counts) => void): void {
    for (const [key, lock] of [...this.locks]) {
      for (const mode of ['exclusive', 'shared'] as const) {
        const c = (mode === 'exclusive' ? lock.exclusive : lock.shared).get(holder);
        if (c === undefined) continue;
        const before = c.session + c.xact;
        clear(c);
        const taken = before - c.session - c.xact;
        if (taken > 0) this.release(key, lock, holder, mode, c, taken);
      }
    }
  }

  /** Grants waiting requests from the front of the queue while they fit, first come first served. */
  private wake(key: AdvisoryKey, lock: Lock): void {
    while (lock.queue.length > 0) {
      const w = lock.queue[0]!;
      if (!this.grantable(lock, w.holder, w.mode, 0)) break;
      lock.queue.shift();
      this.waitingFor.delete(w.holder);
      this.grant(lock, w.holder, w.mode, w.scope);
      let paid = this.prepaid.get(w.holder);
      if (paid === undefined) this.prepaid.set(w.holder, (paid = new Set()));
      paid.add(`${key}\u0000${w.mode}\u0000${w.scope}`);
      w.resolve();
    }
    this.dropIfUnused(key, lock);
  }

  private takePrepaid(holder: LockHolder, key: AdvisoryKey, mode: LockMode, scope: LockScope): boolean {
    const paid = this.prepaid.get(holder);
    if (paid === undefined || !paid.delete(`${key}\u0000${mode}\u0000${scope}`)) return false;
    if (paid.size === 0) this.prepaid.delete(holder);
    return true;
  }

  private cancelWait(key: AdvisoryKey, w: Waiter, err: AllotError): void {
    const lock = this.locks.get(key);
    if (lock === undefined) return;
    const i = lock.queue.indexOf(w);
    if (i < 0) return;
    lock.queue.splice(i, 1);
    this.waitingFor.delete(w.holder);
    w.reject(err);
    this.wake(key, lock);
  }

  /** A holder among `blockers` that waits, directly or through others, for `start`; null if none. */
  private cycleFrom(start: LockHolder, blockers: readonly LockHolder[]): LockHolder | null {
    const seen = new Set<LockHolder>();
    const stack = blockers.map((b) => ({ at: b, first: b }));
    while (stack.length > 0) {
      const { at, first } = stack.pop()!;
      if (at === start) return first;
      if (seen.has(at)) continue;
      seen.add(at);
      const key = this.waitingFor.get(at);
      if (key === undefined) continue;
      const lock = this.locks.get(key)!;
      const w = lock.queue.find((x) => x.holder === at)!;
      const ahead = lock.queue.indexOf(w);
      for (const b of this.blockers(lock, at, w.mode, ahead)) stack.push({ at: b, first });
    }
    return null;
  }
}

/**
 * One session's side of the table: what its statements take (given back when one must wait and
 * run again), whether it holds transaction-level locks, and the wait it is in.
 */
export class SessionLocks implements AdvisoryLockView {
  private readonly takes: { key: AdvisoryKey; mode: LockMode; scope: LockScope }[] = [];
  private xactLocked = false;
  private waiting: LockWait | null = null;

  constructor(
    private readonly table: AdvisoryLocks,
    private readonly holder: LockHolder,
    private readonly warn: (message: string) => void,
  ) {}

  tryLock(key: AdvisoryKey, mode: LockMode, scope: LockScope): boolean {
    const got = this.table.tryLock(this.holder, key, mode, scope);
    if (got) this.took(key, mode, scope);
    return got;
  }

  lock(key: AdvisoryKey, mode: LockMode, scope: LockScope): void {
    this.table.lock(this.holder, key, mode, scope);
    this.took(key, mode, scope);
  }

  unlock(key: AdvisoryKey, mode: LockMode): boolean {
    const { released, warning } = this.table.unlock(this.holder, key, mode);
    if (warning !== null) this.warn(warning);
    return released;
  }

  unlockAll(): void {
    this.table.unlockAll(this.holder);
  }

  /** A statement starts: what the last one took is its own for good. */
  statementStarts(): void {
    if (this.takes.length > 0) this.takes.length = 0;
  }

  /**
   * The statement must wait: what it took so far is given back (running again takes it again,
   * so nothing is held twice), then it waits until the lock is granted or the wait cancelled.
   */
  async waitFor(wait: LockWait): Promise<void> {
    for (const t of this.takes.splice(0).reverse()) this.table.giveBack(this.holder, t.key, t.mode, t.scope);
    this.waiting = wait;
    try {
      await wait.granted;
    } finally {
      this.waiting = null;
    }
  }

  cancelWait(): void {
    this.waiting?.cancel(new AllotError(SqlState.queryCanceled, 'canceling statement due to user request'));
  }

  /** The transaction (a block, or a statement outside one) ended: its transaction-level locks go. */
  endOfTransaction(): void {
    if (!this.xactLocked) return;
    this.xactLocked = false;
    this.table.endOfTransaction(this.holder);
  }

  endOfSession(): void {
    this.table.endOfSession(this.holder);
  }

  private took(key: AdvisoryKey, mode: LockMode, scope: LockScope): void {
    if (scope === 'xact') this.xactLocked = true;
    this.takes.push({ key, mode, scope });
  }
}
