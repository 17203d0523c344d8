/**
 * Memory in use after full collections, so only what is still reachable counts: the JS heap
 * plus the typed arrays' backing stores, which live outside it (the engine's indexes keep
 * their times in typed arrays).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null = null;

export function memoryUsedAfterGc(): number {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
