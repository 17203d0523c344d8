/** Where time comes from. The server uses the system clock; tests drive their own (test/helpers/clock.ts). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
