/**
 * One client's session in a tenant: settings, the transaction block and its savepoints, cursors,
 * COPY, LISTEN channels and advisory locks. It runs plans; it knows nothing of bytes or sockets.
 *
 * Transactions: outside a block every write statement commits on its own. Inside a block
 * (BEGIN, or the implicit block of a multi-statement simple query) every write is decided at one
 * instant, the block's (its first write's, as PostgreSQL's now() is its transaction's), on top
 * of the block's earlier writes: they stay applied in the engine as the block's draft, so a
 * statement decides only its own commands. Anything else that touches the engine takes the draft
 * out; the block's next statement puts it back, deciding its writes again at the block's instant
 * if another commit came in between, and fails with 40001 (aborting the block) if they no longer
 * give what its client was shown. COMMIT does the same, then logs the draft as one record.
 * A savepoint is a mark in the draft; ROLLBACK TO cuts the draft back to it (savepoints.ts).
 */
import type { Draft, Engine, ExecOutcome } from '../engine/engine.js';
import type { Command } from '../engine/types.js';
import { AllotError, SqlState } from '../errors.js';
import type { Listener } from '../notify/hub.js';
import type { EvalEnv, SessionView } from '../sql/expr.js';
import type { SqlType } from '../sql/types.js';
import type { OutColumn, Plan, ReadContext, ResultRows } from '../sql/plan/index.js';
import { DEFAULT_SETTINGS, REPORTED, settingIsOn, validateSetting } from '../sql/settings.js';
import type { Value } from '../sql/types.js';
import type { Utility } from '../sql/utility.js';
import type { CopyFormat } from '../sql/copy-format.js';
import { LockWait, SessionLocks } from './advisory-locks.js';
import { CopyIn } from './copy-in.js';
import { Cursors } from './cursors.js';
import { newId } from './ids.js';
import { Savepoints } from './savepoints.js';
import type { Tenant } from './tenant.js';

export type StatementOutcome =
  /** `binary`: a BINARY cursor's FETCH, whose rows go out in binary in the simple protocol. */
  | { readonly kind: 'rows'; readonly columns: readonly OutColumn[]; readonly rows: ResultRows; readonly tag: string; readonly binary?: boolean }
  | { readonly kind: 'command'; readonly tag: string }
  | { readonly kind: 'empty' }
  /** COPY FROM STDIN: the connection feeds the client's data to `copy`, then asks it to finish. */
  | { readonly kind: 'copyIn'; readonly copy: CopyIn }
  /** COPY TO STDOUT: rows read at one instant, for the connection to send as lines of `format`. */
  | {
      readonly kind: 'copyOut';
      readonly columns: readonly string[];
      readonly types: readonly SqlType[];
      readonly rows: ResultRows;
      readonly format: CopyFormat;
    };

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
  /** Settings the startup packet gave: what RESET goes back to. */
  private readonly startupValues = new Map<string, string>();
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
  private readonly savepoints = new Savepoints();
  private readonly cursors = new Cursors();
  /** The session's advisory locks, for the pg_advisory_* functions (`env.session.advisory`). */
  readonly advisory: SessionLocks;
  private readonly channels = new Set<string>();

  constructor(
    readonly tenant: Tenant,
    opts: { user: string; pid: number; applicationName?: string; databases?: () => readonly string[]; settings?: ReadonlyMap<string, string> },
    private readonly listener: Listener,
  ) {
    this.database = tenant.name;
    this.listDatabases = opts.databases ?? (() => [tenant.name]);
    this.user = opts.user;
    this.pid = opts.pid;
    for (const [k, v] of DEFAULT_SETTINGS) this.settings.set(k, v);
    this.settings.set('session_authorization', opts.user);
    this.advisory = new SessionLocks(tenant.advisoryLocks, this, (message) => this.notices.push({ severity: 'WARNING', code: SqlState.warning, message }));
    if (opts.applicationName !== undefined) {
      this.settings.set('application_name', opts.applicationName);
      this.startupValues.set('application_name', opts.applicationName);
    }
    // The server's own defaults (--times): what RESET goes back to, as for startup settings.
    for (const [k, v] of opts.settings ?? []) {
      this.settings.set(k, v);
      this.startupValues.set(k, v);
    }
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
      this.resetTx(false);
      return;
    }
    await this.commitBlock();
  }

  /**
   * A statement failed: inside a block the block is now aborted, and nothing of it stays in the
   * engine. The draft is kept out of it, for a ROLLBACK TO SAVEPOINT to go back into.
   */
  fail(): void {
    if (this.tx === 'block' && !this.implicit) this.tx = 'failed';
    else if (this.implicit) this.tx = 'failed';
    if (this.tx === 'failed' && this.draft !== null) this.tenant.engineFor(this.draft).closeDraft(this.draft);
  }

  close(): void {
    this.tenant.hub.unlistenAll(this.listener);
    this.channels.clear();
    this.resetTx(false);
    this.cursors.closeAll();
    this.advisory.endOfSession();
  }

  /** A CancelRequest came: a statement waiting for an advisory lock stops waiting (57014). */
  cancelLockWait(): void {
    this.advisory.cancelWait();
  }

  /** A statement's advisory lock must wait: it waits, then runs again and finds the lock granted. */
  private async afterLockWait(wait: LockWait, plan: Plan, values: readonly Value[]): Promise<StatementOutcome> {
    await this.advisory.waitFor(wait);
    return this.run(plan, values);
  }

  /** After a statement outside a block (its own transaction), its transaction-level advisory locks go. */
  private endOfStatement(): void {
    if (this.tx === 'idle') this.advisory.endOfTransaction();
  }

  // ---- running plans --------------------------------------------------------------------

  /** A statement's environment; `now` is one instant for all of it (a block's, inside one). */
  private env(values: readonly Value[]): EvalEnv {
    return { params: values, session: this, now: this.draft?.now ?? this.tenant.now() };
  }

  async run(plan: Plan, values: readonly Value[]): Promise<StatementOutcome> {
    // After a failed write whose fate is unknown, memory may contradict the disk: no answers.
    const down = this.tenant.unavailable;
    if (down !== null) throw down;
    if (
      this.tx === 'failed' &&
      !(plan.kind === 'utility' && (plan.utility.type === 'rollback' || plan.utility.type === 'commit' || plan.utility.type === 'rollbackTo'))
    ) {
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
        this.advisory.statementStarts();
        const env = this.env(values);
        let rows: ResultRows;
        try {
          rows = await this.settled(() => this.read((read) => plan.run(read, env)));
        } catch (err) {
          if (err instanceof LockWait) return this.afterLockWait(err, plan, values);
          this.endOfStatement();
          throw err;
        }
        this.endOfStatement();
        return { kind: 'rows', columns: plan.columns, rows, tag: `SELECT ${rows.length}` };
      }
      case 'write': {
        if (this.readOnlyNow()) throw new AllotError(SqlState.readOnlySqlTransaction, `cannot execute ${plan.verb.toUpperCase()} in a read-only transaction`);
        this.advisory.statementStarts();
        const env = this.env(values);
        let commands: Command[];
        try {
          commands = plan.build(env, newId);
        } catch (err) {
          if (err instanceof LockWait) return this.afterLockWait(err, plan, values);
          this.endOfStatement();
          throw err;
        }
        try {
          const results = await this.write(commands);
          const { rows, tag } = plan.finish(results.results, env);
          return plan.columns === null ? { kind: 'command', tag } : { kind: 'rows', columns: plan.columns, rows, tag };
        } finally {
          this.endOfStatement();
        }
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
    let committed = false;
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
      committed = true;
    } finally {
      this.resetTx(committed);
    }
    for (const n of notifies) this.tenant.hub.publish(n.channel, n.payload);
  }

  /** Takes the block's draft out of the engine, if it is in, and forgets it. */
  private dropDraft(): void {
    if (this.draft !== null) this.tenant.engineFor(this.draft).closeDraft(this.draft);
    this.draft = null;
  }

  /** The block is over: committed, or rolled back (its WITH HOLD cursors go with it then). */
  private resetTx(committed: boolean): void {
    this.cursors.endOfBlock(committed);
    this.advisory.endOfTransaction();
    this.tx = 'idle';
    this.txReadOnly = false;
    this.implicit = false;
    this.dropDraft();
    this.pendingNotifies = [];
    this.savepoints.clear();
    this.localSettings.clear();
  }

  /** SAVEPOINT, RELEASE and ROLLBACK TO exist only in a block BEGIN opened (PostgreSQL's 25P01). */
  private requireBlock(what: string): void {
    if (this.tx === 'idle' || this.implicit) throw new AllotError(SqlState.noActiveSqlTransaction, `${what} can only be used in transaction blocks`);
  }

  private savepoint(name: string): void {
    this.requireBlock('SAVEPOINT');
    const mark = this.draft === null ? null : this.tenant.engineFor(this.draft).markDraft(this.draft);
    this.savepoints.push({ name, mark, notifies: this.pendingNotifies.length, cursorsFrom: this.cursors.nextSeq });
  }

  /**
   * Undoes what the block did after the savepoint and leaves the aborted state. The draft is cut
   * back to its mark; the block's next statement puts it back in the engine (deciding the kept
   * writes again, at the block's instant, if another session committed meanwhile).
   */
  private rollbackToSavepoint(name: string): void {
    this.requireBlock('ROLLBACK TO SAVEPOINT');
    const sp = this.savepoints.rollbackTo(name);
    if (this.draft !== null) this.tenant.engineFor(this.draft).rewindDraft(this.draft, sp.mark);
    this.pendingNotifies.length = sp.notifies;
    this.cursors.dropFrom(sp.cursorsFrom);
    this.tx = 'block';
  }

  private async utility(u: Utility): Promise<StatementOutcome> {
    switch (u.type) {
      case 'begin':
      case 'setTransaction':
      case 'commit':
      case 'savepoint':
      case 'release':
      case 'rollbackTo':
      case 'rollback':
        return this.transactionControl(u);
      case 'set':
      case 'setIgnored':
      case 'show':
      case 'reset':
        return this.settingCommand(u);
      case 'listen':
      case 'unlisten':
      case 'notify':
        return this.listenCommand(u);
      case 'discard':
        if (u.what === 'all') this.discardAll();
        return { kind: 'command', tag: `DISCARD ${u.what.toUpperCase()}` };
      case 'deallocate':
        // Prepared statements live in the connection; it handles DEALLOCATE before us.
        return { kind: 'command', tag: 'DEALLOCATE' };
      case 'declare':
        return this.declareCursor(u);
      case 'copyFrom':
        if (this.readOnlyNow()) throw new AllotError(SqlState.readOnlySqlTransaction, 'cannot execute COPY FROM in a read-only transaction');
        return { kind: 'copyIn', copy: new CopyIn(u, this, (commands) => this.write(commands)) };
      case 'copyTo': {
        const env = this.env([]);
        const rows = await this.settled(() => this.read((read) => u.query.run(read, env)));
        return { kind: 'copyOut', columns: u.columns, types: u.query.columns.map((c) => c.type), rows, format: u.format };
      }
      case 'fetch': {
        const cursor = this.cursors.get(u.name);
        const got = this.cursors.fetch(u.name, u.direction, u.move);
        if (u.move) return { kind: 'command', tag: `MOVE ${got.count}` };
        return { kind: 'rows', columns: cursor.columns, rows: got.rows, tag: `FETCH ${got.count}`, binary: cursor.binary };
      }
      case 'close':
        if (u.name === null) this.cursors.closeAll();
        else this.cursors.close(u.name);
        return { kind: 'command', tag: u.name === null ? 'CLOSE CURSOR ALL' : 'CLOSE CURSOR' };
    }
  }

  /** BEGIN, COMMIT, ROLLBACK, savepoints and SET TRANSACTION. */
  private async transactionControl(
    u: Extract<Utility, { type: 'begin' | 'setTransaction' | 'commit' | 'savepoint' | 'release' | 'rollbackTo' | 'rollback' }>,
  ): Promise<StatementOutcome> {
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
          this.resetTx(false);
          return { kind: 'command', tag: 'ROLLBACK' };
        }
        await this.commitBlock();
        return { kind: 'command', tag: 'COMMIT' };
      }
      case 'savepoint':
        this.savepoint(u.name);
        return { kind: 'command', tag: 'SAVEPOINT' };
      case 'release':
        this.requireBlock('RELEASE SAVEPOINT');
        this.savepoints.release(u.name);
        return { kind: 'command', tag: 'RELEASE' };
      case 'rollbackTo':
        this.rollbackToSavepoint(u.name);
        return { kind: 'command', tag: 'ROLLBACK' };
      case 'rollback':
        if (this.tx === 'idle')
          this.notices.push({ severity: 'WARNING', code: SqlState.noActiveSqlTransaction, message: 'there is no transaction in progress' });
        this.resetTx(false);
        return { kind: 'command', tag: 'ROLLBACK' };
    }
  }

  /** SET, SHOW and RESET. */
  private settingCommand(u: Extract<Utility, { type: 'set' | 'setIgnored' | 'show' | 'reset' }>): StatementOutcome {
    switch (u.type) {
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
    }
  }

  /** LISTEN, UNLISTEN and NOTIFY. */
  private listenCommand(u: Extract<Utility, { type: 'listen' | 'unlisten' | 'notify' }>): StatementOutcome {
    switch (u.type) {
      case 'listen': {
        if (!this.channels.has(u.channel) && this.channels.size >= MAX_LISTEN_CHANNELS) {
          throw new AllotError(SqlState.programLimitExceeded, `this session already listens on ${MAX_LISTEN_CHANNELS} channels, the limit`, {
            hint: 'UNLISTEN some, or use allot_events for everything.',
          });
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
    }
  }

  /** DECLARE: the query's rows are read now, as one consistent read (a block's own writes included). */
  private async declareCursor(u: Extract<Utility, { type: 'declare' }>): Promise<StatementOutcome> {
    if (!u.hold && this.tx === 'idle') throw new AllotError(SqlState.noActiveSqlTransaction, 'DECLARE CURSOR can only be used in transaction blocks');
    this.cursors.checkNew(u.name); // before reading, which may be long
    const env = this.env([]);
    const rows = await this.settled(() => this.read((read) => u.query.run(read, env)));
    this.cursors.declare({ name: u.name, columns: u.query.columns, rows, scroll: u.scroll, hold: u.hold, binary: u.binary, inBlock: this.tx !== 'idle' });
    return { kind: 'command', tag: 'DECLARE CURSOR' };
  }

  /** The columns of an open cursor, for a Describe of a FETCH from it (null: none such). */
  cursorColumns(name: string): readonly OutColumn[] | null {
    return this.cursors.columnsOf(name);
  }

  /**
   * DISCARD ALL: the session as a new one would find it, for a pool handing it to another
   * client. Prepared statements are the connection's; it deallocates them once this succeeds.
   */
  private discardAll(): void {
    if (this.tx !== 'idle') throw new AllotError(SqlState.activeSqlTransaction, 'DISCARD ALL cannot run inside a transaction block');
    this.cursors.closeAll();
    this.advisory.unlockAll();
    this.tenant.hub.unlistenAll(this.listener);
    this.channels.clear();
    for (const k of [...this.settings.keys()]) this.reset(k);
  }

  private reset(name: string): void {
    // As PostgreSQL: a value the client gave at startup is the session's default.
    const def = this.startupValues.get(name) ?? DEFAULT_SETTINGS.get(name) ?? (name === 'session_authorization' ? this.user : undefined);
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
