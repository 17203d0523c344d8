/**
 * A tenant: one database name's engine, notify hub and reaper. Tenants share nothing. Every
 * change goes through `commit`, which decides it, makes it durable and only then publishes
 * its events and lets the reply go.
 */
import type { Logger } from 'pino';
import { Engine, type ExecOutcome } from '../engine/engine.js';
import type { Command } from '../engine/types.js';
import { ALL_EVENTS_CHANNEL, eventOf, resourceChannel } from '../notify/events.js';
import { NotifyHub } from '../notify/hub.js';
import type { Clock } from './clock.js';
import { Reaper } from './reaper.js';

export interface TenantOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Re-verify engine invariants after every batch (tests). */
  readonly checkInvariants?: boolean;
}

export class Tenant {
  readonly name: string;
  readonly engine: Engine;
  readonly hub = new NotifyHub();
  readonly clock: Clock;
  readonly log: Logger;
  readonly reaper: Reaper;
  /** Log sequence number of the last committed record. */
  private lsn = 0;

  constructor(opts: TenantOptions) {
    this.name = opts.name;
    this.clock = opts.clock;
    this.log = opts.log;
    this.engine = new Engine({ checkInvariants: opts.checkInvariants ?? false });
    this.reaper = new Reaper(this);
  }

  now(): number {
    return this.clock.now();
  }

  get lastLsn(): number {
    return this.lsn;
  }

  /**
   * Decides the commands at the current instant and commits them as one record. `verify` may
   * refuse the outcome (a transaction whose writes no longer decide the same way).
   */
  async commit(commands: readonly Command[], verify?: (outcome: ExecOutcome) => void): Promise<ExecOutcome> {
    const outcome = this.engine.execute(commands, this.now(), verify);
    if (outcome.effects.length > 0) {
      this.lsn++;
      this.publish(outcome, this.lsn);
    }
    this.reaper.schedule();
    return outcome;
  }

  private publish(outcome: ExecOutcome, lsn: number): void {
    for (const effect of outcome.effects) {
      const ev = eventOf(effect, lsn);
      this.hub.publish(ALL_EVENTS_CHANNEL, ev.payload);
      // The resource's own channel, then each ancestor's. A deleted resource is no longer in
      // the tree, so its chain starts at its parent.
      let id: string | null = ev.resourceId;
      if (ev.isResource && effect.type === 'ResourceDeleted') {
        this.hub.publish(resourceChannel(id), ev.payload);
        id = effect.resource.parentId;
      }
      for (let depth = 0; id !== null && depth < 64; depth++) {
        this.hub.publish(resourceChannel(id), ev.payload);
        id = this.engine.resource(id)?.parentId ?? null;
      }
    }
  }

  close(): void {
    this.reaper.stop();
  }
}
