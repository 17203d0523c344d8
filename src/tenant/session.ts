/**
 * One client's session in a tenant: settings, the transaction block, LISTEN channels. It runs
 * plans; it knows nothing of bytes or sockets.
 *
 * Transactions: outside a block every write statement commits on its own. Inside a block
 * (BEGIN, or the implicit block of a multi-statement simple query) every write is decided at one
 * instant, the block's (its first write's, as PostgreSQL's now() is its transaction's), on top
 * of the block's earlier writes: they stay applied in the engine as the block's draft, so a
 * statement decides only its own commands. Anything else that touches the engine takes the draft
 * out; the block's next statement puts it back, deciding its writes again at the block's instant
 * if another commit came in between, and fails with 40001 (aborting the block) if they no longer
 * give what its client was shown. COMMIT does the same, then logs the draft as one record.
 */
import type { Draft, Engine, ExecOutcome } from '../engine/engine.js';
import type { Command } from '../engine/types.js';
import { AllotError, SqlState } from '../errors.js';
import type { Listener } from '../notify/hub.js';
import type { EvalEnv, SessionView } from '../sql/expr.js';
import type { OutColumn, Plan, ReadContext, ResultRows } from '../sql/plan.js';
import { DEFAULT_SETTINGS, REPORTED, settingIsOn, validateSetting } from '../sql/settings.js';
import type { Value } from '../sql/types.js';
import type { Utility } from '../sql/utility.js';
import { newId } from './ids.js';
import type { Tenant } from './tenant.js';

export type StatementOutcome =
  | { readonly kind: 'rows'; readonly columns: readonly OutColumn[]; readonly rows: ResultRows; readonly tag: string }
  | { readonly kind: 'command'; readonly tag: string }
  | { readonly kind: 'empty' };

export interface Notice {
  readonly severity: 'WARNING' | 'NOTICE';
  readonly code: string;
  readonly message: string;
}

/** Channels one session may listen to at once. */
export const MAX_LISTEN_CHANNELS = 1_000;

const NONE_CHANGED: readonly [string, string][] = Object.freeze([]);
const NO_NOTICES: readonly Notice[] = Object.freeze([]);

type TxState = 'idle' | 'block' | 'failed';

export class Session implements SessionView {
  readonly database: string;
  readonly user: string;
  readonly pid: number;
  private readonly settings = new Map<string, string>();
  private readonly localSettings = new Map<string, string>();
  private readonly changedReported = new Map<string, string>();
  private readonly notices: Notice[] = [];
  private tx: TxState = 'idle';
  /** True while the block is the implicit one of a multi-statement query. */
  private implicit = false;
  private readonly listDatabases: () => readonly string[];
  /** READ ONLY was given to this block (or default_transaction_read_only was on at BEGIN). */
  private txReadOnly = false;
  /** The block's writes, from its first one on. */
  private draft: Draft | null = null;
  private pendingNotifies: { channel: string; payload: string }[] = [];
  private readonly channels = new Set<string>();

  constructor(
    readonly tenant: Tenant,
    opts: { user: string; pid: number; applicationName?: string; databases?: () => readonly string[] },
    private readonly listener: Listener,
  ) {
    this.database = tenant.name;
    this.listDatabases = opts.databases ?? (() => [tenant.name]);
    this.user = opts.user;
    this.pid = opts.pid;
    for (const [k, v] of DEFAULT_SETTINGS) this.settings.set(k, v);
    this.settings.set('session_authorization', opts.user);
    if (opts.applicationName !== undefined) this.settings.set('application_name', opts.applicationName);
  }

  // ---- SessionView ----------------------------------------------------------------------

  databases(): readonly string[] {
    return this.listDatabases();
  }

  setting(name: string): string | undefined {
    // A database the disk made read-only refuses every write, in a block or not.
    if (name === 'transaction_read_only') return this.readOnlyNow() || this.tenant.readOnly !== null ? 'on' : 'off';
    return this.localSettings.get(name) ?? this.settings.get(name);
  }

  /** Whether writes are refused now: a READ ONLY block, or default_transaction_read_only outside one. */
  private readOnlyNow(): boolean {
    return this.tx === 'idle' || this.implicit ? settingIsOn(this.setting('default_transaction_read_only')) : this.txReadOnly;
  }

  setSetting(name: string, value: string): void {
    const v = validateSetting(name, value);
    this.settings.set(name, v);
    const reported = REPORTED.get(name);
    if (reported !== undefined) this.changedReported.set(reported, v);
  }

  notify(channel: string, payload: string): void {
    if (this.tx === 'idle') this.tenant.hub.publish(channel, payload);
    else this.pendingNotifies.push({ channel, payload });
  }

  // ---- state for the wire layer -----------------------------------------------------------

  /** ReadyForQuery's status: idle, in a block, or in a failed block. */
  get status(): 'I' | 'T' | 'E' {
    if (this.tx === 'idle' || this.implicit) return 'I';
    return this.tx === 'block' ? 'T' : 'E';
  }

  /** Settings changed since last asked, as ParameterStatus names. */
  drainParameterChanges(): readonly [string, string][] {
    if (this.changedReported.size === 0) return NONE_CHANGED; // nearly always: asked after every statement
    const out = [...this.changedReported.entries()];
    this.changedReported.clear();
    return out;
  }

  drainNotices(): readonly Notice[] {
    return this.notices.length === 0 ? NO_NOTICES : this.notices.splice(0);
  }

  /** Runs the statements of one simple-protocol Query as one implicit block, as PostgreSQL does. */
  beginImplicit(): void {
    if (this.tx === 'idle') {
      this.tx = 'block';
      this.implicit = true;
    }
  }

  /** Ends a simple query's implicit block: commits it, or drops it after an error. */
  async endImplicit(failed: boolean): Promise<void> {
    if (!this.implicit) return;
    if (failed || this.tx === 'failed') {
      this.resetTx();
      return;
    }
    await this.commitBlock();
  }

  /** A statement failed: inside a block the block is now aborted, and nothing of it stays in the engine. */
  fail(): void {
    if (this.tx === 'block' && !this.implicit) this.tx = 'failed';
    else if (this.implicit) this.tx = 'failed';
    if (this.tx === 'failed') this.dropDraft();
  }

  close(): void {
    this.tenant.hub.unlistenAll(this.listener);
    this.channels.clear();
    this.resetTx();
  }

  // ---- running plans --------------------------------------------------------------------

  private env(values: readonly Value[]): EvalEnv {
    return { params: values, session: this };
  }

  async run(plan: Plan, values: readonly Value[]): Promise<StatementOutcome> {
    // After a failed write whose fate is unknown, memory may contradict the disk: no answers.
    const down = this.tenant.unavailable;
    if (down !== null) throw down;
    if (this.tx === 'failed' && !(plan.kind === 'utility' && (plan.utility.type === 'rollback' || plan.utility.type === 'commit'))) {
      throw new AllotError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    switch (plan.kind) {
      case 'empty':
        return { kind: 'empty' };
      case 'utility': {
        const out = await this.utility(plan.utility);
        return out.kind === 'rows' && plan.columns !== null ? { ...out, columns: plan.columns } : out;
      }
      case 'query': {
        const env = this.env(values);
        const rows = await this.settled(() => this.read((read) => plan.run(read, env)));
        return { kind: 'rows', columns: plan.columns, rows, tag: `SELECT ${rows.length}` };
      }
      case 'write': {
        if (this.readOnlyNow()) throw new AllotError(SqlState.readOnlySqlTransaction, `cannot execute ${plan.verb.toUpperCase()} in a read-only transaction`);
        const env = this.env(values);
        const commands = plan.build(env, newId);
        const results = await this.write(commands);
        const { rows, tag } = plan.finish(results.results, env);
        return plan.columns === null ? { kind: 'command', tag } : { kind: 'rows', columns: plan.columns, rows, tag };
      }
    }
  }

  /**
   * Runs `fn` against the engine, then waits until every log record its answer (or its error)
   * depended on is durable: nothing leaves the server that rests on a write not yet on disk.
   */
  private async settled<T>(fn: () => T): Promise<T> {
    const store = this.tenant.engineFor(this.draft).store;
    store.resetReads();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      await this.settleReads(store);
      throw err;
    }
    await this.settleReads(store);
    return result;
  }

  private async settleReads(store: Engine['store']): Promise<void> {
    const wait = this.tenant.settle(store.readDep);
    if (wait !== null) await wait;
  }

  /**
   * The engine for this session's statements: the committed state, plus, inside a block, the
   * block's draft, put back if anything took it out since the block's last statement.
   */
  private engine(): Engine {
    const draft = this.draft;
    const engine = this.tenant.engineFor(draft);
    if (draft === null || engine.drafted === draft) return engine;
    let back: boolean;
    try {
      back = engine.reopenDraft(draft);
    } catch (err) {
      if (!(err instanceof AllotError)) throw err;
      throw new AllotError(SqlState.serializationFailure, `the transaction no longer fits and was rolled back: ${err.message}`, {
        ...(err.detail !== undefined ? { detail: err.detail } : {}),
        hint: 'Another session committed first. Run the transaction again.',
      });
    }
    if (!back) {
      throw new AllotError(SqlState.serializationFailure, 'could not serialize access: another session changed what this transaction read or wrote', {
        hint: 'Another session committed first. Run the transaction again.',
      });
    }
    return engine;
  }

  /** Reads see the committed state at the current instant, plus this block's own writes inside a block. */
  private read<T>(fn: (read: ReadContext) => T): T {
    return fn({ engine: this.engine(), now: this.tenant.now() });
  }

  /** Not async itself: outside a block the tenant's commit is the answer, with no promise around it. */
  private write(commands: Command[]): Promise<Pick<ExecOutcome, 'results'>> {
    if (commands.length === 0) return Promise.resolve({ results: [] });
    if (this.tx === 'idle') return this.tenant.commit(commands);
    return this.writeInBlock(commands);
  }

  /** Decides the statement's commands on top of the block's draft, at the block's instant. */
  private writeInBlock(commands: Command[]): Promise<Pick<ExecOutcome, 'results'>> {
    // Refused now rather than at COMMIT: the block could never commit.
    const failure = this.tenant.readOnly;
    if (failure !== null) return Promise.reject(failure);
    return this.settled(() => {
      const engine = this.engine();
      this.draft ??= engine.openDraft(this.tenant.now());
      return engine.draft(this.draft, commands);
    });
  }

  /**
   * Puts the draft back (deciding it again if another commit came in since) and commits it as
   * one record, with nothing in between: no other session can run before the record is made.
   */
  private async commitBlock(): Promise<void> {
    const draft = this.draft;
    const notifies = this.pendingNotifies;
    try {
      if (draft !== null) {
        // Not 40001 for a block that could never commit: retrying it would not help.
        const failure = this.tenant.readOnly;
        if (failure !== null) throw failure;
        const store = this.tenant.engineFor(draft).store;
        store.resetReads();
        try {
          this.engine();
        } catch (err) {
          await this.settleReads(store);
          throw err;
        }
        // A record waits for every one before it; a block that wrote nothing makes none, so
        // its answer waits for what deciding it again read.
        const dep = store.readDep;
        await this.tenant.commit(draft);
        const wait = this.tenant.settle(dep);
        if (wait !== null) await wait;
      }
    } finally {
      this.resetTx();
    }
    for (const n of notifies) this.tenant.hub.publish(n.channel, n.payload);
  }

  /** Takes the block's draft out of the engine, if it is in, and forgets it. */
  private dropDraft(): void {
    if (this.draft !== null) this.tenant.engineFor(this.draft).closeDraft(this.draft);
    this.draft = null;
  }

  private resetTx(): void {
    this.tx = 'idle';
    this.txReadOnly = false;
    this.implicit = false;
    this.dropDraft();
    this.pendingNotifies = [];
    this.localSettings.clear();
  }

  private async utility(u: Utility): Promise<StatementOutcome> {
    switch (u.type) {
      case 'begin':
        if (this.tx !== 'idle' && !this.implicit) {
          this.notices.push({ severity: 'WARNING', code: SqlState.activeSqlTransaction, message: 'there is already a transaction in progress' });
        } else {
          if (this.implicit) this.implicit = false;
          else this.tx = 'block';
          this.txReadOnly = u.readOnly ?? settingIsOn(this.setting('default_transaction_read_only'));
        }
        return { kind: 'command', tag: 'BEGIN' };
      case 'setTransaction':
        if (this.tx === 'idle' || this.implicit) {
          this.notices.push({ severity: 'WARNING', code: SqlState.noActiveSqlTransaction, message: 'SET TRANSACTION can only be used in transaction blocks' });
        } else if (u.readOnly !== null) this.txReadOnly = u.readOnly;
        return { kind: 'command', tag: 'SET' };
      case 'commit': {
        if (this.tx === 'idle') {
          this.notices.push({ severity: 'WARNING', code: SqlState.noActiveSqlTransaction, message: 'there is no transaction in progress' });
          return { kind: 'command', tag: 'COMMIT' };
        }
        if (this.tx === 'failed') {
          this.resetTx();
          return { kind: 'command', tag: 'ROLLBACK' };
        }
        await this.commitBlock();
        return { kind: 'command', tag: 'COMMIT' };
      }
      case 'rollback':
        if (this.tx === 'idle') this.notices.push({ severity: 'WARNING', code: SqlState.noActiveSqlTransaction, message: 'there is no transaction in progress' });
        this.resetTx();
        return { kind: 'command', tag: 'ROLLBACK' };
      case 'set':
        if (u.value === null) this.reset(u.name);
        else if (u.local) {
          if (this.tx === 'idle') {
            this.notices.push({ severity: 'WARNING', code: SqlState.noActiveSqlTransaction, message: 'SET LOCAL can only be used in transaction blocks' });
          } else this.localSettings.set(u.name, validateSetting(u.name, u.value));
        } else this.setSetting(u.name, u.value);
        return { kind: 'command', tag: 'SET' };
      case 'setIgnored':
        return { kind: 'command', tag: 'SET' };
      case 'show': {
        if (u.name === 'all') {
          const rows = [...this.settings.keys()].sort().map((k): Value[] => [k, this.setting(k) ?? '', '']);
          return { kind: 'rows', columns: [], rows, tag: 'SHOW' };
        }
        const v = this.setting(u.name);
        if (v === undefined) throw new AllotError(SqlState.undefinedObject, `unrecognized configuration parameter "${u.name}"`);
        return { kind: 'rows', columns: [], rows: [[v]], tag: 'SHOW' };
      }
      case 'reset':
        if (u.name === 'all') for (const k of [...this.settings.keys()]) this.reset(k);
        else this.reset(u.name);
        return { kind: 'command', tag: 'RESET' };
      case 'listen': {
        if (!this.channels.has(u.channel) && this.channels.size >= MAX_LISTEN_CHANNELS) {
          throw new AllotError(SqlState.programLimitExceeded, `this session already listens on ${MAX_LISTEN_CHANNELS} channels, the limit`, { hint: 'UNLISTEN some, or use allot_events for everything.' });
        }
        this.channels.add(u.channel);
        this.tenant.hub.listen(this.listener, u.channel);
        return { kind: 'command', tag: 'LISTEN' };
      }
      case 'unlisten':
        if (u.channel === null) {
          this.tenant.hub.unlistenAll(this.listener);
          this.channels.clear();
        } else {
          this.tenant.hub.unlisten(this.listener, u.channel);
          this.channels.delete(u.channel);
        }
        return { kind: 'command', tag: 'UNLISTEN' };
      case 'notify':
        this.notify(u.channel, u.payload);
        return { kind: 'command', tag: 'NOTIFY' };
      case 'discard':
        this.tenant.hub.unlistenAll(this.listener);
        this.channels.clear();
        for (const k of [...this.settings.keys()]) this.reset(k);
        return { kind: 'command', tag: 'DISCARD ALL' };
      case 'deallocate':
        // Prepared statements live in the connection; it handles DEALLOCATE before us.
        return { kind: 'command', tag: 'DEALLOCATE' };
    }
  }

  private reset(name: string): void {
    const def = DEFAULT_SETTINGS.get(name) ?? (name === 'session_authorization' ? this.user : undefined);
    if (def === undefined) {
      if (name.includes('.')) {
        this.settings.delete(name);
        return;
      }
      throw new AllotError(SqlState.undefinedObject, `unrecognized configuration parameter "${name}"`);
    }
    if (this.settings.get(name) === def) return;
    this.settings.set(name, def);
    const reported = REPORTED.get(name);
    if (reported !== undefined) this.changedReported.set(reported, def);
  }

  /** Channels this session listens on. */
  get listening(): ReadonlySet<string> {
    return this.channels;
  }
}

export function isOutcomeWithRows(o: StatementOutcome): o is Extract<StatementOutcome, { kind: 'rows' }> {
  return o.kind === 'rows';
}
