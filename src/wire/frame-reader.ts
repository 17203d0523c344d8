import { SqlState } from '../errors.js';
import { ProtocolError } from './protocol-error.js';

/** Cutting the client's byte stream into startup packets and typed messages. */

/**
 * PostgreSQL refuses startup packets above 10,000 bytes (MAX_STARTUP_PACKET_LENGTH): they arrive
 * before authentication, so a stranger must not make us buffer a whole message's worth.
 */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

/** Type byte + int32 length. */
const MESSAGE_HEADER_BYTES = 5;
/** Startup packets have no type byte: int32 length, then at least an int32 code. */
const STARTUP_HEADER_BYTES = 4;
const MIN_STARTUP_PACKET_BYTES = 8;
const EMPTY = Buffer.alloc(0);
/** Consumed chunk slots are dropped in bulk once this many pile up, keeping shifts amortised O(1). */
const COMPACT_AFTER_CHUNKS = 64;

/**
 * Accumulates socket chunks and cuts them into messages. Chunks are kept as a list and never
 * concatenated: a body inside one chunk is a zero-copy view of it, a body spanning chunks is copied
 * once into a buffer of its exact size. Returned bodies are never overwritten, so a portal may keep
 * Bind parameters (views into the body) for as long as it likes; a view pins its whole chunk, so
 * copy what is kept for long. Pushed chunks must not be modified afterwards (socket chunks never are).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  /** Index of the oldest chunk still holding unread bytes. */
  private first = 0;
  /** Bytes of chunks[first] already read. */
  private offset = 0;
  private total = 0;

  constructor(private readonly maxMessageBytes: number) {
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < MESSAGE_HEADER_BYTES) {
      throw new RangeError(`maxMessageBytes must be an integer >= ${MESSAGE_HEADER_BYTES}, got ${maxMessageBytes}`);
    }
  }

  /** Bytes received and not yet returned as a message. */
  get buffered(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The next startup-phase packet's body (after its int32 length), or null until it is complete. */
  nextStartup(): Buffer | null {
    if (this.total < STARTUP_HEADER_BYTES) return null;
    const length = this.int32At(0);
    if (length < MIN_STARTUP_PACKET_BYTES) throw new ProtocolError(`invalid startup packet length ${length}`);
    const limit = Math.min(this.maxMessageBytes, MAX_STARTUP_PACKET_BYTES);
    if (length > limit) {
      throw new ProtocolError(`startup packet of ${length} bytes exceeds the limit of ${limit}`, SqlState.programLimitExceeded);
    }
    if (this.total < length) return null;
    this.skip(STARTUP_HEADER_BYTES);
    return this.take(length - STARTUP_HEADER_BYTES);
  }

  /** The next typed message, or null until it is complete. */
  next(): { code: number; body: Buffer } | null {
    if (this.total < MESSAGE_HEADER_BYTES) return null;
    const length = this.int32At(1);
    if (length < 4) throw new ProtocolError(`invalid message length ${length}`);
    if (length > this.maxMessageBytes) {
      throw new ProtocolError(`message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`, SqlState.programLimitExceeded);
    }
    if (this.total < 1 + length) return null;
    const code = this.byteAt(0);
    this.skip(MESSAGE_HEADER_BYTES);
    return { code, body: this.take(length - 4) };
  }

  /** A byte `index` bytes past the read position; the caller has checked `index < total`. */
  private byteAt(index: number): number {
    let i = this.first;
    let at = this.offset + index;
    for (;;) {
      const chunk = this.chunks[i++]!;
      if (at < chunk.length) return chunk[at]!;
      at -= chunk.length;
    }
  }

  private int32At(index: number): number {
    return (this.byteAt(index) << 24) | (this.byteAt(index + 1) << 16) | (this.byteAt(index + 2) << 8) | this.byteAt(index + 3) | 0;
  }

  /** Consumes n buffered bytes (n <= total) without copying them anywhere. */
  private skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const chunk = this.chunks[this.first]!;
      const count = Math.min(chunk.length - this.offset, n);
      this.offset += count;
      n -= count;
      if (this.offset === chunk.length) this.dropHead();
    }
  }

  /** Consumes n buffered bytes (n <= total) and returns them. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.total -= n;
    const head = this.chunks[this.first]!;
    if (this.offset + n <= head.length) {
      const view = head.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === head.length) this.dropHead();
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[this.first]!;
      const count = Math.min(chunk.length - this.offset, n - written);
      chunk.copy(out, written, this.offset, this.offset + count);
      written += count;
      this.offset += count;
      if (this.offset === chunk.length) this.dropHead();
    }
    return out;
  }

  private dropHead(): void {
    this.chunks[this.first] = EMPTY;
    this.first++;
    this.offset = 0;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= COMPACT_AFTER_CHUNKS && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
