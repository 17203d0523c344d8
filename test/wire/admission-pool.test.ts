/** The startup pool's rule, on its own (the clock is an argument): who is closed to make room. */
import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, StartupPool, STARTUP_EVICTABLE_AFTER_MS } from '../../src/wire/admission.js';

const OLD = STARTUP_EVICTABLE_AFTER_MS;

describe('StartupPool', () => {
  it('takes connections in while there is room', () => {
    const pool = new StartupPool<string>(2);
    expect(pool.admit('a', '10.0.0.1', 0)).toEqual({ evict: null });
    expect(pool.admit('b', '10.0.0.2', 0)).toEqual({ evict: null });
    expect(pool.size).toBe(2);
  });

  it('when full of young connections, refuses the newcomer (a burst of real clients is not cut down)', () => {
    const pool = new StartupPool<string>(2);
    pool.admit('a', '10.0.0.1', 0);
    pool.admit('b', '10.0.0.1', 10);
    expect(pool.admit('c', '10.0.0.2', OLD - 1)).toBe(null);
    expect(pool.size).toBe(2);
  });

  it('when full, closes the longest waiting connection of the address holding the most', () => {
    const pool = new StartupPool<string>(4);
    pool.admit('slow-real-client', '10.0.0.1', 0);
    pool.admit('crowd-1', '10.0.0.9', 1);
    pool.admit('crowd-2', '10.0.0.9', 2);
    pool.admit('crowd-3', '10.0.0.9', 3);
    expect(pool.admit('crowd-4', '10.0.0.9', OLD + 10)).toEqual({ evict: 'crowd-1' });
    expect(pool.admit('crowd-5', '10.0.0.9', OLD + 10)).toEqual({ evict: 'crowd-2' });
    expect(pool.size).toBe(4);
  });

  it('among addresses holding as many, closes the longest waiting', () => {
    const pool = new StartupPool<string>(2);
    pool.admit('a', '10.0.0.1', 0);
    pool.admit('b', '10.0.0.2', 5);
    expect(pool.admit('c', '10.0.0.3', OLD + 10)).toEqual({ evict: 'a' });
  });

  it('forgets a connection that authenticated or closed, once', () => {
    const pool = new StartupPool<string>(1);
    pool.admit('a', '10.0.0.1', 0);
    pool.remove('a');
    pool.remove('a');
    expect(pool.size).toBe(0);
    expect(pool.admit('b', '10.0.0.1', 1)).toEqual({ evict: null });
  });
});

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['::ffff:192.0.2.2', false],
    ['10.127.0.1', false],
    ['fe80::1', false],
    [undefined, false],
  ])('%s: %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});
