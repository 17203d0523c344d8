/**
 * What the SQL layer's pg_advisory_lock functions ask of a session's advisory locks. The lock
 * table itself, with its waits and deadlock check, is the tenant's (src/tenant/advisory-locks.ts).
 */

/** A lock's key: `pg_advisory_lock(bigint)` and `pg_advisory_lock(int4, int4)` are separate spaces. */
export type AdvisoryKey = string;

export type LockMode = 'exclusive' | 'shared';
export type LockScope = 'session' | 'xact';

export function advisoryKey(a: number | string, b?: number | string): AdvisoryKey {
  return b === undefined ? `${a}` : `${a}:${b}`;
}

/**
 * What expression functions see of a session's locks (`env.session.advisory`): the pg_advisory_*
 * functions are each one call. `lock` throws LockWait when it must wait; the session handles it.
 */
export interface AdvisoryLockView {
  /** pg_try_advisory_lock[_shared] and pg_try_advisory_xact_lock[_shared]: true if taken. */
  tryLock(key: AdvisoryKey, mode: LockMode, scope: LockScope): boolean;
  /** pg_advisory_lock[_shared] and pg_advisory_xact_lock[_shared]: returns once taken. */
  lock(key: AdvisoryKey, mode: LockMode, scope: LockScope): void;
  /** pg_advisory_unlock[_shared]: false (and a WARNING to the client) if the session holds no such lock. */
  unlock(key: AdvisoryKey, mode: LockMode): boolean;
  /** pg_advisory_unlock_all. */
  unlockAll(): void;
}
