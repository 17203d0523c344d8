/**
 * Advisory locks (src/tenant/advisory-locks.ts), as PostgreSQL's: exclusive and shared, counted,
 * session or transaction level, first come first served, deadlocks refused with 40P01, and
 * everything released when a session ends; then through a Session, as the pg_advisory_*
 * functions will call them: a lock that must wait makes the statement wait and run again.
 */
import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { ParamSlots } from '../../src/sql/expr.js';
import type { Plan } from '../../src/sql/plan/index.js';
import { advisoryKey } from '../../src/sql/advisory.js';
import { AdvisoryLocks, LockWait, type LockHolder } from '../../src/tenant/advisory-locks.js';
import { systemClock } from '../../src/tenant/clock.js';
import { Session } from '../../src/tenant/session.js';
import { Tenant } from '../../src/tenant/tenant.js';

const a: LockHolder = { pid: 1 };
const b: LockHolder = { pid: 2 };
const c: LockHolder = { pid: 3 };
const K = advisoryKey(42);

/** Takes a lock that must wait: the wait's promise, and whether it has been granted. */
function waitFor(
  locks: AdvisoryLocks,
  holder: LockHolder,
  key = K,
  mode: 'exclusive' | 'shared' = 'exclusive',
): { wait: LockWait; granted: () => boolean; failed: () => unknown } {
  let granted = false;
  let failed: unknown = null;
  try {
    locks.lock(holder, key, mode, 'session');
  } catch (err) {
    if (!(err instanceof LockWait)) throw err;
    err.granted.then(
      () => (granted = true),
      (e: unknown) => (failed = e),
    );
    return { wait: err, granted: () => granted, failed: () => failed };
  }
  throw new Error('expected to wait');
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('advisory locks', () => {
  it('exclusive excludes everyone else; shared only exclusive; a holder never conflicts with itself', () => {
    const locks = new AdvisoryLocks();
    expect(locks.tryLock(a, K, 'exclusive', 'session')).toBe(true);
    expect(locks.tryLock(a, K, 'shared', 'session')).toBe(true);
    expect(locks.tryLock(b, K, 'shared', 'session')).toBe(false);
    expect(locks.tryLock(b, advisoryKey(42, 0), 'exclusive', 'session')).toBe(true); // the two-key space is another
    locks.unlockAll(a);
    expect(locks.tryLock(b, K, 'shared', 'session')).toBe(true);
    expect(locks.tryLock(c, K, 'shared', 'session')).toBe(true);
    expect(locks.tryLock(a, K, 'exclusive', 'session')).toBe(false);
  });

  it('counts: a lock taken twice is held until it is released twice; releasing one not held warns', () => {
    const locks = new AdvisoryLocks();
    locks.tryLock(a, K, 'exclusive', 'session');
    locks.tryLock(a, K, 'exclusive', 'session');
    expect(locks.unlock(a, K, 'exclusive')).toEqual({ released: true, warning: null });
    expect(locks.tryLock(b, K, 'exclusive', 'session')).toBe(false);
    expect(locks.unlock(a, K, 'exclusive').released).toBe(true);
    expect(locks.tryLock(b, K, 'exclusive', 'session')).toBe(true);
    expect(locks.unlock(a, K, 'exclusive')).toEqual({ released: false, warning: "you don't own a lock of type ExclusiveLock" });
    expect(locks.unlock(a, K, 'shared').warning).toBe("you don't own a lock of type ShareLock");
  });

  it('transaction-level locks go at the end of the transaction, not with unlock or unlock_all', () => {
    const locks = new AdvisoryLocks();
    locks.tryLock(a, K, 'exclusive', 'xact');
    expect(locks.unlock(a, K, 'exclusive').released).toBe(false);
    locks.unlockAll(a);
    expect(locks.hasXact(a)).toBe(true);
    expect(locks.tryLock(b, K, 'exclusive', 'session')).toBe(false);
    locks.endOfTransaction(a);
    expect(locks.hasXact(a)).toBe(false);
    expect(locks.tryLock(b, K, 'exclusive', 'session')).toBe(true);
  });

  it('grants waiters first come first served, and a request behind a waiter it conflicts with waits too', async () => {
    const locks = new AdvisoryLocks();
    locks.tryLock(a, K, 'shared', 'session');
    const bWaits = waitFor(locks, b); // exclusive, behind a's shared
    expect(locks.tryLock(c, K, 'shared', 'session')).toBe(false); // would pass b: it waits its turn
    const cWaits = waitFor(locks, c, K, 'shared');
    locks.unlockAll(a);
    await tick();
    expect([bWaits.granted(), cWaits.granted()]).toEqual([true, false]);
    // b's statement runs again and finds the lock taken for it, counted once.
    locks.lock(b, K, 'exclusive', 'session');
    expect(locks.heldBy(b)).toEqual([{ key: K, mode: 'exclusive', session: 1, xact: 0 }]);
    locks.unlockAll(b);
    await tick();
    expect(cWaits.granted()).toBe(true);
  });

  it('refuses a wait that would close a cycle with 40P01, naming who is in the way', () => {
    const locks = new AdvisoryLocks();
    const K2 = advisoryKey(7);
    locks.tryLock(a, K, 'exclusive', 'session');
    locks.tryLock(b, K2, 'exclusive', 'session');
    waitFor(locks, a, K2); // a waits for b
    let err: unknown;
    try {
      locks.lock(b, K, 'exclusive', 'session'); // b would wait for a
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AllotError);
    expect([(err as AllotError).sqlstate, (err as AllotError).message, (err as AllotError).detail]).toEqual([
      '40P01',
      'deadlock detected',
      'Process 2 waits for ExclusiveLock on advisory lock [42]; blocked by process 1.',
    ]);
  });

  it('a session that ends releases everything and stops waiting; a cancelled wait lets those behind it on', async () => {
    const locks = new AdvisoryLocks();
    locks.tryLock(a, K, 'exclusive', 'session');
    locks.tryLock(a, advisoryKey(1), 'shared', 'xact');
    const bWaits = waitFor(locks, b);
    const cWaits = waitFor(locks, c);
    bWaits.wait.cancel(new AllotError('57014', 'canceling statement due to user request'));
    await tick();
    expect((bWaits.failed() as AllotError).sqlstate).toBe('57014');
    locks.endOfSession(a);
    await tick();
    expect(cWaits.granted()).toBe(true);
    expect(locks.heldBy(a)).toEqual([]);
  });
});

describe('advisory locks through a session', () => {
  const tenant = Tenant.inMemory({ name: 'locks', clock: systemClock, log: createLogger('silent') });
  const session = (pid: number): Session => new Session(tenant, { user: 'u', pid }, { deliver: () => undefined });

  /** A query whose evaluation calls `fn`, as a pg_advisory_* function would. */
  function query(fn: (s: Session) => unknown): Plan {
    return { kind: 'query', params: new ParamSlots(), columns: [], run: (_read, env) => [[String(fn(env.session as Session))]] };
  }

  it('waits for a lock held elsewhere and runs again once it is granted; unlock_all and the end of the session release', async () => {
    const one = session(11);
    const two = session(12);
    await one.run(
      query((s) => s.advisory.lock(K, 'exclusive', 'session')),
      [],
    );
    let runs = 0;
    const waiting = two.run(
      query((s) => (runs++, s.advisory.lock(K, 'exclusive', 'session'))),
      [],
    );
    await tick();
    expect(runs).toBe(1);
    await one.run(
      query((s) => s.advisory.unlockAll()),
      [],
    );
    await waiting;
    expect(runs).toBe(2);
    expect(tenant.advisoryLocks.heldBy(two)).toEqual([{ key: K, mode: 'exclusive', session: 1, xact: 0 }]);
    two.close();
    expect(tenant.advisoryLocks.heldBy(two)).toEqual([]);
  });

  it("releases a statement's transaction-level locks when it ends outside a block, and a block's at its end", async () => {
    const s = session(13);
    await s.run(
      query((x) => x.advisory.tryLock(K, 'exclusive', 'xact')),
      [],
    );
    expect(tenant.advisoryLocks.heldBy(s)).toEqual([]);
    s.beginImplicit();
    await s.run(
      query((x) => x.advisory.tryLock(K, 'exclusive', 'xact')),
      [],
    );
    expect(tenant.advisoryLocks.heldBy(s)).toHaveLength(1);
    await s.endImplicit(false);
    expect(tenant.advisoryLocks.heldBy(s)).toEqual([]);
    s.close();
  });

  it('a cancelled wait fails the statement with 57014', async () => {
    const one = session(14);
    const two = session(15);
    await one.run(
      query((s) => s.advisory.lock(K, 'exclusive', 'session')),
      [],
    );
    const waiting = two.run(
      query((s) => s.advisory.lock(K, 'exclusive', 'session')),
      [],
    );
    await tick();
    two.cancelLockWait();
    await expect(waiting).rejects.toMatchObject({ sqlstate: '57014' });
    one.close();
    two.close();
  });

  it('unlock of a lock not held answers false with a WARNING for the client', async () => {
    const s = session(16);
    const out = await s.run(
      query((x) => x.advisory.unlock(K, 'exclusive')),
      [],
    );
    expect(out.kind === 'rows' && out.rows.at(0)).toEqual(['false']);
    expect(s.drainNotices()).toEqual([{ severity: 'WARNING', code: '01000', message: "you don't own a lock of type ExclusiveLock" }]);
    s.close();
  });
});
