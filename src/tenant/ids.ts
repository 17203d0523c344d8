/**
 * ULIDs for rows inserted without an id. ulid's default randomness asks the OS for one byte at
 * a time (a system call per character); here randomness comes from a pool refilled 4 KiB at a
 * time, which makes an id cost well under a microsecond.
 */
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = Buffer.alloc(4096);
let next = pool.length;

function pooledRandom(): number {
  if (next >= pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

export const newId: () => string = monotonicFactory(pooledRandom);
