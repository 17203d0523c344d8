/**
 * The reaper turns the passing of time into logged commands: it releases holds once they have
 * expired, evicts what unplanned outages' windows reach, and ends outages whose end has passed.
 * It is driven by a timer set for the earliest deadline, never a fixed-interval scan, and works
 * through a burst in bounded chunks so queries keep flowing between them.
 */
import type { Logger } from 'pino';
import type { Command, CommandResult } from '../engine/types.js';

/** Holds released (or entries evicted) per command; between chunks the event loop serves queries. */
const REAPER_CHUNK = 1_000;
/** setTimeout's limit: longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the reaper needs of its database: the time, the engine's deadlines, and commits. */
export interface ReaperHost {
  readonly log: Logger;
  now(): number;
  /** The earliest expiry of a hold still in the state (expired or not), if any. */
  nextHoldExpiry(): number | null;
  /** Whether any outage is declared. */
  hasOutages(): boolean;
  /** When outages next need the reaper, if ever. */
  nextOutageDeadline(now: number): number | null;
  /** Commits commands as a statement does: logged, then published. */
  commit(commands: readonly Command[]): Promise<{ readonly results: readonly CommandResult[] }>;
}

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private armedFor: number | null = null;
  private running = false;
  private stopped = false;
  /** After a due deadline that produced no work, wait a second rather than spin. */
  private backoffUntil = 0;

  constructor(private readonly host: ReaperHost) {}

  /** The earliest instant anything falls due, if anything ever does. */
  nextDeadline(): number | null {
    const hold = this.host.nextHoldExpiry();
    const outage = this.host.hasOutages() ? this.host.nextOutageDeadline(this.host.now()) : null;
    if (hold === null) return outage;
    if (outage === null) return hold;
    return Math.min(hold, outage);
  }

  /** Re-arms the timer for the earliest deadline; cheap to call after every commit. */
  schedule(): void {
    if (this.stopped || this.running) return;
    const next = this.nextDeadline();
    if (next === null) {
      this.disarm();
      return;
    }
    const at = Math.max(next, this.backoffUntil);
    if (this.armedFor === at && this.timer !== null) return;
    this.disarm();
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.host.now()));
    this.armedFor = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = null;
      void this.runDue();
    }, delay);
    this.timer.unref();
  }

  /** Does everything due now, a chunk at a time. Returns how many holds and entries it handled. */
  async runDue(): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    let total = 0;
    try {
      for (;;) {
        const next = this.nextDeadline();
        if (next === null || next > this.host.now()) break;
        let did = 0;
        if ((this.host.nextHoldExpiry() ?? Infinity) <= this.host.now()) did += await this.chunk({ type: 'ExpireHolds', limit: REAPER_CHUNK });
        if (this.host.hasOutages()) did += await this.chunk({ type: 'ApplyOutages', limit: REAPER_CHUNK });
        total += did;
        if (did === 0) {
          this.backoffUntil = this.host.now() + 1_000;
          this.host.log.warn({ deadline: next }, 'reaper found a deadline due but nothing to do; retrying in a second');
          break;
        }
        // Let queries in between chunks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.host.log.error({ err }, 'reaper failed');
    } finally {
      this.running = false;
    }
    this.schedule();
    return total;
  }

  private async chunk(cmd: Command): Promise<number> {
    const outcome = await this.host.commit([cmd]);
    const r = outcome.results[0];
    return r !== undefined && r.type === 'count' ? r.count : 0;
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = null;
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }
}
