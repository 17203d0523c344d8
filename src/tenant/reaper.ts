/**
 * The reaper turns the passing of time into logged commands: it releases holds once they have
 * expired. It is driven by a timer set for the earliest deadline, never a scan of everything,
 * and works through a burst in bounded chunks so queries keep flowing.
 */
import type { Tenant } from './tenant.js';

/** Holds released per command; between chunks the event loop serves queries. */
export const REAPER_CHUNK = 1_000;
/** setTimeout's limit: longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private armedFor: number | null = null;
  private running = false;
  private stopped = false;

  constructor(private readonly tenant: Tenant) {}

  /** Re-arms the timer for the earliest deadline; cheap to call after every commit. */
  schedule(): void {
    if (this.stopped || this.running) return;
    const next = this.tenant.engine.nextHoldExpiry();
    if (next === null) {
      this.disarm();
      return;
    }
    if (this.armedFor === next && this.timer !== null) return;
    this.disarm();
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.tenant.now()));
    this.armedFor = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = null;
      void this.runDue();
    }, delay);
    this.timer.unref();
  }

  /** Releases everything due now, a chunk at a time. Returns how many holds it released. */
  async runDue(): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    let total = 0;
    try {
      for (;;) {
        const next = this.tenant.engine.nextHoldExpiry();
        if (next === null || next > this.tenant.now()) break;
        const outcome = await this.tenant.commit([{ type: 'ExpireHolds', limit: REAPER_CHUNK }]);
        const r = outcome.results[0];
        const n = r !== undefined && r.type === 'count' ? r.count : 0;
        total += n;
        if (n < REAPER_CHUNK) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.tenant.log.error({ err, tenant: this.tenant.name }, 'reaper failed to release expired holds');
    } finally {
      this.running = false;
    }
    this.schedule();
    return total;
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
