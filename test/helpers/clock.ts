/** A clock that moves only when told to: for tests of expiry, windows and a block's instant. */
import type { Clock } from '../../src/tenant/clock.js';

export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
