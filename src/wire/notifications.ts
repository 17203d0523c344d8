/**
 * Notifications waiting for one connection, counted and sized. The connection moves them into its
 * socket only while the socket holds little, so when a listener falls too far behind, what is
 * dropped are whole messages still here, and the error saying so goes out right after the ones
 * already sent: the client never sees a stream cut mid-message.
 */
import * as B from './backend.js';

/** Notifications queued for one connection before it is cut off as too slow. */
export const MAX_PENDING_NOTIFICATIONS = 10_000;

/** Bytes of a NotificationResponse besides its channel and payload: type, length, pid, two NULs. */
const MESSAGE_OVERHEAD_BYTES = 11;
/** Consumed slots are dropped in bulk once this many pile up. */
const COMPACT_AFTER = 1_024;

export class NotificationQueue {
  private items: { readonly channel: string; readonly payload: string }[] = [];
  private head = 0;
  private queuedBytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Bytes the queued notifications take on the wire (UTF-16 lengths: exact for ASCII, the usual case). */
  get bytes(): number {
    return this.queuedBytes;
  }

  push(channel: string, payload: string): void {
    this.items.push({ channel, payload });
    this.queuedBytes += MESSAGE_OVERHEAD_BYTES + channel.length + payload.length;
  }

  /** Writes notifications, oldest first, until about `roomBytes` are written or none are left. */
  writeInto(out: B.OutBuffer, pid: number, roomBytes: number): void {
    const start = out.length;
    while (this.head < this.items.length && out.length - start < roomBytes) {
      const n = this.items[this.head]!;
      this.items[this.head++] = EMPTY;
      this.queuedBytes -= MESSAGE_OVERHEAD_BYTES + n.channel.length + n.payload.length;
      B.notificationResponse(out, pid, n.channel, n.payload);
    }
    if (this.head === this.items.length) this.clear();
    else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
  }
}

const EMPTY = { channel: '', payload: '' };
