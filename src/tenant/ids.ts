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

const ulid = monotonicFactory(pooledRandom);

/**
 * A new id. ulid assembles it from pieces, which V8 keeps as a tree of partial strings for as
 * long as the id lives (it lives as long as its booking). Reading a character makes V8 join
 * them into one flat string and drop the pieces: about 100 bytes less for every stored entry.
 * (The character is checked, so the read is not optimised away.)
 */
export function newId(): string {
  const id = ulid();
  if (id.charCodeAt(0) > 0x7f) throw new Error(`ulid made a non-ASCII id: ${id}`);
  return id;
}
