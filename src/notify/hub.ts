/**
 * LISTEN/NOTIFY fan-out within one tenant. Resource channels match case-insensitively, so
 * `LISTEN resource_01JX…` (folded to lower case by the SQL rules for unquoted names) still
 * hears resource "01JX…"; every other channel matches exactly, as in PostgreSQL (`"MyChan"`
 * and `mychan` are two channels). Delivery never blocks: each listener queues and is cut off,
 * explicitly, when it falls too far behind.
 */
export interface Listener {
  /** Called with the channel name as the listener spelled it. */
  deliver(channel: string, payload: string): void;
}

const RESOURCE_PREFIX = 'resource_';

function channelKey(channel: string): string {
  const lower = channel.toLowerCase();
  return lower.startsWith(RESOURCE_PREFIX) ? lower : channel;
}

export class NotifyHub {
  private readonly channels = new Map<string, Map<Listener, string>>();

  listen(l: Listener, channel: string): void {
    const key = channelKey(channel);
    let subs = this.channels.get(key);
    if (subs === undefined) this.channels.set(key, (subs = new Map()));
    subs.set(l, channel);
  }

  unlisten(l: Listener, channel: string): void {
    const key = channelKey(channel);
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
    const subs = this.channels.get(channelKey(channel));
    if (subs === undefined) return;
    for (const [l, spelled] of subs) l.deliver(spelled, payload);
  }

  hasListeners(channel: string): boolean {
    return this.channels.has(channelKey(channel));
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
