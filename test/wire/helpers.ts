import { expect } from 'vitest';
import { ProtocolError } from '../../src/wire/frontend.js';

/** A typed frontend message: type byte, int32 length, body. */
export function frame(code: string, body: Buffer | readonly number[] = []): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeInt32BE(b.length + 4, 1);
  return Buffer.concat([header, b]);
}

/** A startup-phase packet: int32 length, then the body. */
export function startupFrame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([header, body]);
}

export function int32s(...ns: number[]): Buffer {
  const b = Buffer.alloc(ns.length * 4);
  ns.forEach((n, i) => b.writeInt32BE(n, i * 4));
  return b;
}

/** Runs fn and returns the ProtocolError it must throw (anything else fails the test). */
export function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

/** Runs fn; it may return or throw a ProtocolError, but nothing else. */
export function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}
