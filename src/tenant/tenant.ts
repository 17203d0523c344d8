/**
 * A tenant: one database name's engine, log, notify hub and reaper. Tenants share nothing.
 * Every change goes through `commit`: decided and applied in memory, appended to the log, and
 * only once the record is on disk are its events published and its reply let go. A reply that
 * read state changed by a record still on its way to disk waits for that record (`settle`);
 * one that read nothing pending does not wait at all.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Engine, type Draft, type ExecOutcome } from '../engine/engine.js';
import type { Command, Effect } from '../engine/types.js';
import { AllotError, SqlState } from '../errors.js';
import { ALL_EVENTS_CHANNEL, eventOf, resourceChannel } from '../notify/events.js';
import { NotifyHub } from '../notify/hub.js';
import { nodeFileSystem, type FileSystem } from '../storage/files.js';
import { encodeBody } from '../storage/payload.js';
import { writeCheckpoint } from '../storage/checkpoint.js';
import { recover, type Recovered } from '../storage/recovery.js';
import { type StorageFailure, Wal, WalLimits } from '../storage/wal.js';
import { Limits } from '../engine/limits.js';
import { AdvisoryLocks } from './advisory-locks.js';
import type { Clock } from './clock.js';
import { Reaper } from './reaper.js';

/** Log bytes after which a checkpoint (snapshot + dropping older log files) starts. */
const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;

export interface TenantOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Re-verify engine invariants after every batch (tests). */
  readonly checkInvariants?: boolean;
  /** Where the tenant's log and snapshots live; absent: memory only (engine tests, benches). */
  readonly storage?: {
    readonly dir: string;
    readonly fs?: FileSystem;
    readonly checkpointBytes?: number;
    /** Log file sizes: the first, and the most they grow to. */
    readonly segmentBytes?: { readonly first: number; readonly max: number };
    /** How often a long recovery logs its progress (default every second). */
    readonly recoveryProgressMs?: number;
  };
}

interface Storage {
  readonly dir: string;
  readonly fs: FileSystem;
  readonly wal: Wal;
  readonly checkpointBytes: number;
}

/** A block's draft, or (an array) the commands of one statement. */
function isDraft(what: readonly Command[] | Draft): what is Draft {
  return !Array.isArray(what);
}

export class Tenant {
  readonly name: string;
  /** The engine itself; reached through `engine` (or a block's `engineFor`), never directly. */
  private readonly core: Engine;
  readonly hub = new NotifyHub();
  /** The database's advisory locks, held by its sessions. */
  readonly advisoryLocks = new AdvisoryLocks();
  readonly clock: Clock;
  readonly log: Logger;
  readonly reaper: Reaper;
  private lsn: number;
  private readonly storage: Storage | null;
  /** Records applied in memory but not yet on disk, with what undoes them. */
  private pending: { lsn: number; inverse: readonly Effect[] }[] = [];
  private failure: StorageFailure | null = null;
  /** Set when a failed write's records may be on disk after all: memory and disk may disagree. */
  private unsure: AllotError | null = null;
  private checkpointing: Promise<void> | null = null;

  private constructor(opts: TenantOptions, engine: Engine, lsn: number, storage: Storage | null) {
    this.name = opts.name;
    this.clock = opts.clock;
    this.log = opts.log;
    this.core = engine;
    this.lsn = lsn;
    this.storage = storage;
    this.core.store.changedUpTo(lsn);
    this.reaper = new Reaper({
      log: this.log,
      now: () => this.now(),
      nextHoldExpiry: () => this.engine.nextHoldExpiry(),
      hasOutages: () => this.engine.store.outages.size > 0,
      nextOutageDeadline: (now) => this.engine.nextOutageDeadline(now),
      commit: (commands) => this.commit(commands),
    });
  }

  /** A tenant in memory only: nothing survives a restart. */
  static inMemory(opts: Omit<TenantOptions, 'storage'>): Tenant {
    return new Tenant(opts, new Engine({ checkInvariants: opts.checkInvariants ?? false }), 0, null);
  }

  /** Opens (recovering if needed) the tenant stored in `opts.storage.dir`. */
  static async open(opts: TenantOptions & { storage: NonNullable<TenantOptions['storage']> }): Promise<Tenant> {
    const fs = opts.storage.fs ?? nodeFileSystem;
    const dir = opts.storage.dir;
    const rec: Recovered = await recover(fs, dir, opts.log, {
      checkInvariants: opts.checkInvariants ?? false,
      ...(opts.storage.recoveryProgressMs !== undefined ? { progressMs: opts.storage.recoveryProgressMs } : {}),
    });
    const segmentPath = join(dir, rec.segment.name);
    const limits =
      opts.storage.segmentBytes !== undefined
        ? { firstSegmentBytes: opts.storage.segmentBytes.first, maxSegmentBytes: opts.storage.segmentBytes.max }
        : WalLimits;
    const file = rec.segment.exists ? await fs.openLogFile(segmentPath) : await fs.createLogFile(segmentPath, limits.firstSegmentBytes);
    let tenant: Tenant | null = null;
    const wal = new Wal(fs, dir, { file, end: rec.segment.end }, rec.lastLsn, (err, unknown) => tenant?.onStorageFailure(err, unknown), limits);
    tenant = new Tenant(opts, rec.engine, rec.lastLsn, { dir, fs, wal, checkpointBytes: opts.storage.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES });
    opts.log.info(
      {
        lsn: rec.lastLsn,
        snapshotLsn: rec.stats.snapshotLsn,
        records: rec.stats.records,
        bytes: rec.stats.bytes,
        ms: Math.round(rec.stats.ms),
        truncatedBytes: rec.stats.truncatedBytes,
      },
      'database recovered',
    );
    tenant.reaper.schedule();
    return tenant;
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * The engine as committed: a transaction block's draft in it is taken out first. Every use of
   * the engine but an open block's own goes through here (reads outside a block, commits, the
   * reaper, checkpoints, events, metrics), so none ever sees writes not committed.
   */
  get engine(): Engine {
    this.core.closeDraft();
    return this.core;
  }

  /**
   * The engine for the block whose draft is `mine` (null before its first write): any other
   * block's draft is taken out first; `mine` stays in if it is in (else the block puts it back).
   */
  engineFor(mine: Draft | null): Engine {
    if (this.core.drafted !== mine) this.core.closeDraft();
    return this.core;
  }

  get lastLsn(): number {
    return this.lsn;
  }

  get durableLsn(): number {
    return this.storage === null ? this.lsn : this.storage.wal.durableLsn;
  }

  get walStats(): Wal['stats'] | null {
    return this.storage?.wal.stats ?? null;
  }

  /** Calls `fn` with the records and fdatasync time of every durable batch. */
  observeCommits(fn: (records: number, syncMs: number) => void): void {
    if (this.storage !== null) this.storage.wal.onBatch = fn;
  }

  /** Set once a write to the log failed: the tenant answers reads but refuses writes. */
  get readOnly(): StorageFailure | null {
    return this.failure ?? this.storage?.wal.failed ?? null;
  }

  /**
   * Set once a failed write left records whose fate is unknown (they may be on disk): the state
   * in memory may not be what a restart finds, so the database answers nothing until then.
   */
  get unavailable(): AllotError | null {
    return this.unsure;
  }

  /**
   * Decides the commands at the current instant and commits them as one record, resolving once
   * it is durable. A transaction block's draft (put back in the engine by its block) is kept as
   * it was decided, at the block's instant: the record holds the effects its client was shown.
   * A refusal waits, like a read, for any pending record it depended on.
   */
  async commit(what: readonly Command[] | Draft): Promise<ExecOutcome> {
    // Failing (the log takes no more records), or failed.
    const failed = this.readOnly;
    if (failed !== null) throw failed;
    const now = isDraft(what) ? what.now : this.now();
    const store = this.core.store;
    store.resetReads();
    let outcome: ExecOutcome;
    try {
      outcome = isDraft(what) ? this.core.keepDraft(what) : this.engine.execute(what, now);
    } catch (err) {
      const wait = this.settle(store.readDep);
      if (wait !== null) await wait;
      throw err;
    }
    if (outcome.effects.length === 0) {
      const wait = this.settle(store.readDep);
      if (wait !== null) await wait;
      return outcome;
    }
    const lsn = ++this.lsn;
    store.markChanged(outcome.effects, outcome.inverse, lsn);
    if (this.storage !== null) {
      this.pending.push({ lsn, inverse: outcome.inverse });
      await this.storage.wal.append(lsn, encodeBody({ now, effects: outcome.effects }));
      const durable = this.storage.wal.durableLsn;
      let k = 0;
      while (k < this.pending.length && this.pending[k]!.lsn <= durable) k++;
      if (k > 0) this.pending.splice(0, k);
    }
    this.publish(outcome.effects, lsn);
    this.reaper.schedule();
    this.maybeCheckpoint();
    return outcome;
  }

  /** Null when everything up to `lsn` is durable; else a promise for it (58030 if it never will be). */
  settle(lsn: number): Promise<void> | null {
    if (this.storage === null || lsn <= this.storage.wal.durableLsn) return null;
    return this.storage.wal.waitDurable(lsn);
  }

  /**
   * The log failed, and every record's fate is settled: undo every record not on disk, newest
   * first, and refuse writes from now. `unknown`: some of those may be on disk after all, so
   * nothing is answered from memory until a restart reads the disk.
   */
  private onStorageFailure(err: StorageFailure, unknown: boolean): void {
    this.failure = err;
    const durable = this.storage!.wal.durableLsn;
    if (unknown) {
      this.unsure = new AllotError(
        SqlState.ioError,
        `database "${this.name}" is unavailable until the server restarts: a write to its log failed and whether it reached the disk is unknown`,
        {
          hint: 'Fix the disk and restart the server: recovery reads what the disk holds.',
        },
      );
      this.log.error({ err: err.reason, durableLsn: durable }, 'log write failed and could not be undone on disk; database is unavailable until restart');
    } else this.log.error({ err: err.reason, durableLsn: durable }, 'log write failed; database is read-only until restart');
    // Records up to `durable` are kept: their writers are answered OK (their commits may not
    // have run on yet to drop them from `pending`).
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.lsn > durable) this.engine.replay([...p.inverse].reverse());
    }
    this.pending = [];
    this.lsn = durable;
    this.engine.store.forgetChangesAfter(this.lsn);
  }

  private publish(effects: readonly Effect[], lsn: number): void {
    // Building payloads costs more than the write itself: skip it when nobody listens.
    if (!this.hub.hasAnyListener) return;
    for (const effect of effects) {
      const ev = eventOf(effect, lsn);
      this.hub.publish(ALL_EVENTS_CHANNEL, ev.payload);
      // The resource's own channel, then each ancestor's. A deleted resource is no longer in
      // the tree, so its chain starts at its parent.
      let id: string | null = ev.resourceId;
      if (ev.isResource && effect.type === 'ResourceDeleted') {
        this.hub.publish(resourceChannel(effect.resource.id), ev.payload);
        id = effect.resource.parentId;
      }
      for (let depth = 0; id !== null && depth < Limits.maxTreeDepth; depth++) {
        this.hub.publish(resourceChannel(id), ev.payload);
        id = this.engine.store.resources.get(id)?.resource.parentId ?? null;
      }
    }
  }

  // ---- checkpoints ----------------------------------------------------------------------

  private maybeCheckpoint(): void {
    const s = this.storage;
    if (s === null || this.checkpointing !== null || this.failure !== null) return;
    if (s.wal.bytesSinceCheckpoint >= s.checkpointBytes) void this.checkpoint();
  }

  /**
   * Writes a snapshot of the state at the last LSN and drops the log and snapshots it covers,
   * so recovery time stays bounded. The event loop keeps serving while it runs. Resolves when
   * done (or when the one already running is done).
   */
  checkpoint(): Promise<void> {
    if (this.checkpointing === null) {
      this.checkpointing = this.writeCheckpoint().finally(() => {
        this.checkpointing = null;
      });
    }
    return this.checkpointing;
  }

  private async writeCheckpoint(): Promise<void> {
    const s = this.storage;
    if (s === null || this.failure !== null) return;
    const lsn = this.lsn;
    const state = { lsn, now: this.now(), ...this.engine.capture() };
    s.wal.markCheckpoint();
    try {
      await (s.wal.waitDurable(lsn) ?? Promise.resolve());
      const t0 = performance.now();
      const bytes = await writeCheckpoint(s.fs, s.dir, s.wal, state);
      this.log.info(
        {
          lsn,
          bytes,
          ms: Math.round(performance.now() - t0),
          entities: state.resources.length + state.policies.length + state.rules.length + state.bookings.length + state.holds.length + state.outages.length,
        },
        'checkpoint written',
      );
    } catch (err) {
      this.log.error({ err }, 'checkpoint failed; the log is kept');
    }
  }

  /** Finishes queued log writes and stops timers. */
  async close(): Promise<void> {
    this.reaper.stop();
    if (this.checkpointing !== null) await this.checkpointing;
    const wal = this.storage?.wal;
    if (wal === undefined) return;
    await wal.close();
    const st = wal.stats;
    this.log.info(
      {
        lsn: this.lsn,
        records: st.records,
        fdatasyncs: st.batches,
        recordsPerSync: st.batches === 0 ? 0 : Number((st.records / st.batches).toFixed(2)),
        avgSyncMs: st.batches === 0 ? 0 : Number((st.syncMs / st.batches).toFixed(3)),
        bytes: st.bytes,
      },
      'database closed',
    );
  }
}
