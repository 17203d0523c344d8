/**
 * LISTEN/NOTIFY fan-out within one tenant. Channel names match case-insensitively, so
 * `LISTEN resource_01JX…` (folded to lower case by the SQL rules for unquoted names) still
 * hears resource "01JX…". Delivery never blocks: each listener queues and is cut off,
 * explicitly, when it falls too far behind.
 */
export interface Listener {
  /** Called with the channel name as the listener spelled it. */
  deliver(channel: string, payload: string): void;
}

export class NotifyHub {
  private readonly channels = new Map<string, Map<Listener, string>>();

  listen(l: Listener, channel: string): void {
    const key = channel.toLowerCase();
    let subs = this.channels.get(key);
    if (subs === undefined) this.channels.set(key, (subs = new Map()));
    subs.set(l, channel);
  }

  unlisten(l: Listener, channel: string): void {
    const key = channel.toLowerCase();
    const subs = this.channels.get(key);
    if (subs === undefined) return;
    subs.delete(l);
    if (subs.size === 0) this.channels.delete(key);
  }

  unlistenAll(l: Listener): void {
    for (const [key, subs] of this.channels) {
      subs.delete(l);
      if (subs.size === 0) this.channels.delete(key);
    }
  }

  publish(channel: string, payload: string): void {
    const subs = this.channels.get(channel.toLowerCase());
    if (subs === undefined) return;
    for (const [l, spelled] of subs) l.deliver(spelled, payload);
  }

  hasListeners(channel: string): boolean {
    return this.channels.has(channel.toLowerCase());
  }

  get hasAnyListener(): boolean {
    return this.channels.size > 0;
  }

  get listenerCount(): number {
    const all = new Set<Listener>();
    for (const subs of this.channels.values()) for (const l of subs.keys()) all.add(l);
    return all.size;
  }
}
