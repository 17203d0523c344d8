/**
 * Who may take room on the server before proving who they are. A connection is counted against
 * ALLOT_MAX_CONNECTIONS only once it has authenticated; until then it sits in the startup pool,
 * bounded by ALLOT_MAX_STARTUP_CONNECTIONS. A full pool makes room rather than lock real clients
 * out: it names, for closing, the connection that has waited longest among those of the remote
 * address holding the most, provided it has waited a while (a burst of real clients, all young,
 * is not cut down; a crowd of silent sockets is). No I/O and no clock here: `now` is an argument.
 */

/** A connection still authenticating becomes a candidate for closing after this long. */
export const STARTUP_EVICTABLE_AFTER_MS = 1_000;

interface Entry {
  readonly remote: string;
  readonly sinceMs: number;
}

export class StartupPool<C> {
  /** In arrival order: the first evictable one of an address is its longest waiting. */
  private readonly entries = new Map<C, Entry>();
  private readonly perRemote = new Map<string, number>();

  constructor(
    readonly maxConnections: number,
    private readonly evictableAfterMs: number = STARTUP_EVICTABLE_AFTER_MS,
  ) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Takes `conn` in. With room, `{ evict: null }`; when full, `{ evict: victim }` (already out of
   * the pool: the caller closes it); when full of connections too young to close, null (the
   * caller refuses `conn`).
   */
  admit(conn: C, remote: string, nowMs: number): { readonly evict: C | null } | null {
    let evict: C | null = null;
    if (this.entries.size >= this.maxConnections) {
      evict = this.victim(nowMs);
      if (evict === null) return null;
      this.remove(evict);
    }
    this.entries.set(conn, { remote, sinceMs: nowMs });
    this.perRemote.set(remote, (this.perRemote.get(remote) ?? 0) + 1);
    if (this.entries.size > this.maxConnections) throw new Error(`startup pool over its bound: ${this.entries.size} > ${this.maxConnections}`);
    return { evict };
  }

  /** The connection authenticated, or closed. Removing one that is not here does nothing. */
  remove(conn: C): void {
    const e = this.entries.get(conn);
    if (e === undefined) return;
    this.entries.delete(conn);
    const n = this.perRemote.get(e.remote)! - 1;
    if (n === 0) this.perRemote.delete(e.remote);
    else this.perRemote.set(e.remote, n);
  }

  /** The longest waiting evictable connection of the address with the most connections here. */
  private victim(nowMs: number): C | null {
    let best: C | null = null;
    let bestCount = 0;
    for (const [conn, e] of this.entries) {
      if (nowMs - e.sinceMs < this.evictableAfterMs) break; // arrival order: the rest are younger
      const count = this.perRemote.get(e.remote)!;
      if (count > bestCount) {
        best = conn;
        bestCount = count;
      }
    }
    return best;
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (what a dual-stack listener reports). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}
