/**
 * Statements pgsql-ast-parser does not parse or that need no plan: transaction control,
 * session settings, LISTEN/UNLISTEN/NOTIFY and prepared-statement housekeeping. Read from the
 * lexer's tokens.
 */
import { AllotError, SqlState } from '../errors.js';
import { timeZoneFromInterval } from './time.js';
import { Tables } from './tables/index.js';
import type { TimeOutput } from './tables/columns.js';
import { parseCopy, type CopyStatement } from './copy.js';
import type { Token } from './lexer.js';
import type { QueryPlan } from './plan/index.js';
import { planQueryText, textOfTokens } from './token-text.js';

/** Where a FETCH or MOVE goes: NEXT is forward 1, PRIOR backward 1, FIRST absolute 1, LAST absolute -1. */
export type FetchDirection =
  | { readonly kind: 'forward' | 'backward'; readonly count: number | 'all' }
  | { readonly kind: 'absolute' | 'relative'; readonly n: number };

export type Utility =
  /** `readOnly` null: the access mode was not given (default_transaction_read_only decides). */
  | { readonly type: 'begin'; readonly readOnly: boolean | null }
  | { readonly type: 'setTransaction'; readonly readOnly: boolean | null }
  | { readonly type: 'commit' }
  | { readonly type: 'rollback' }
  | { readonly type: 'savepoint'; readonly name: string }
  | { readonly type: 'release'; readonly name: string }
  | { readonly type: 'rollbackTo'; readonly name: string }
  | { readonly type: 'set'; readonly name: string; readonly value: string | null; readonly local: boolean }
  | { readonly type: 'setIgnored'; readonly what: string }
  | { readonly type: 'show'; readonly name: string }
  | { readonly type: 'reset'; readonly name: string }
  | { readonly type: 'listen'; readonly channel: string }
  | { readonly type: 'unlisten'; readonly channel: string | null }
  | { readonly type: 'notify'; readonly channel: string; readonly payload: string }
  /** DISCARD ALL resets the session; PLANS, TEMP and SEQUENCES have nothing to discard in allot. */
  | { readonly type: 'discard'; readonly what: 'all' | 'plans' | 'temp' | 'sequences' }
  | { readonly type: 'deallocate'; readonly name: string | null }
  /** `scroll`: SCROLL (true), NO SCROLL (false) or neither (null). */
  | {
      readonly type: 'declare';
      readonly name: string;
      readonly query: QueryPlan;
      readonly scroll: boolean | null;
      readonly hold: boolean;
      readonly binary: boolean;
    }
  | { readonly type: 'fetch'; readonly name: string; readonly direction: FetchDirection; readonly move: boolean }
  /** `name` null: CLOSE ALL. */
  | { readonly type: 'close'; readonly name: string | null }
  | CopyStatement;

const UTILITY_WORDS = new Set([
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'set',
  'show',
  'reset',
  'listen',
  'unlisten',
  'notify',
  'discard',
  'deallocate',
  'savepoint',
  'release',
  'prepare',
  'execute',
  'copy',
  'vacuum',
  'analyze',
  'lock',
  'truncate',
  'create',
  'drop',
  'alter',
  'grant',
  'revoke',
  'explain',
  'checkpoint',
  'declare',
  'fetch',
  'close',
  'move',
  'do',
  'call',
  'comment',
]);

export function isUtility(tokens: readonly Token[]): boolean {
  const first = tokens[0];
  return first !== undefined && first.kind === 'word' && UTILITY_WORDS.has(first.text.toLowerCase());
}

/** An identifier as PostgreSQL reads it: unquoted folds to lower case. */
function ident(t: Token | undefined, what: string): string {
  if (t?.kind === 'word') return t.text.toLowerCase();
  if (t?.kind === 'quoted') return t.text;
  throw new AllotError(SqlState.syntaxError, `syntax error: expected ${what}`);
}

function word(t: Token | undefined): string | null {
  return t?.kind === 'word' ? t.text.toLowerCase() : null;
}

function unsupported(what: string, hint?: string): AllotError {
  return new AllotError(SqlState.featureNotSupported, `${what} is not supported by allot`, hint !== undefined ? { hint } : {});
}

function expectEnd(tokens: readonly Token[], at: number): void {
  const t = tokens[at];
  if (t !== undefined) {
    const shown = t.kind === 'param' ? `$${t.index}` : t.text;
    throw new AllotError(SqlState.syntaxError, `syntax error at or near "${shown}"`);
  }
}

export function parseUtility(tokens: readonly Token[], times: TimeOutput = 'timestamptz'): Utility {
  const w = (i: number): string | null => word(tokens[i]);
  const first = w(0)!;
  switch (first) {
    case 'begin':
    case 'start': {
      if (first === 'start' && w(1) !== 'transaction') throw new AllotError(SqlState.syntaxError, 'syntax error: expected START TRANSACTION');
      // Isolation levels are accepted and ignored (allot's blocks are re-checked at COMMIT);
      // READ ONLY is kept: writes in the block are refused.
      return { type: 'begin', readOnly: accessMode(tokens, 1) };
    }
    case 'commit':
    case 'end':
      return { type: 'commit' };
    case 'rollback':
    case 'abort':
      return parseRollback(tokens, w, first);
    case 'savepoint': {
      const name = ident(tokens[1], 'a savepoint name');
      expectEnd(tokens, 2);
      return { type: 'savepoint', name };
    }
    case 'release': {
      const at = w(1) === 'savepoint' ? 2 : 1;
      const name = ident(tokens[at], 'a savepoint name');
      expectEnd(tokens, at + 1);
      return { type: 'release', name };
    }
    case 'set':
      return parseSet(tokens);
    case 'show':
      return parseShow(tokens, w);
    case 'reset':
      return parseReset(tokens, w);
    case 'listen': {
      const channel = ident(tokens[1], 'a channel name');
      expectEnd(tokens, 2);
      return { type: 'listen', channel };
    }
    case 'unlisten':
      return parseUnlisten(tokens);
    case 'notify':
      return parseNotify(tokens);
    case 'discard':
      return parseDiscard(tokens, w);
    case 'deallocate': {
      let i = 1;
      if (w(i) === 'prepare') i++;
      if (w(i) === 'all') return { type: 'deallocate', name: null };
      return { type: 'deallocate', name: ident(tokens[i], 'a prepared statement name') };
    }
    case 'declare':
      return parseDeclare(tokens, times);
    case 'copy':
      return parseCopy(tokens, times);
    case 'fetch':
    case 'move':
      return parseFetch(tokens, first === 'move');
    case 'close':
      return parseClose(tokens, w);
    case 'prepare':
    case 'execute':
      throw unsupported('SQL-level PREPARE/EXECUTE', 'Use the extended protocol (every driver does this for parameterised queries).');
    case 'create':
    case 'drop':
    case 'alter':
    case 'truncate':
      throw unsupported(`${first.toUpperCase()}`, `allot's tables are fixed: ${Object.keys(Tables).join(', ')}. See the README.`);
    default:
      throw unsupported(first.toUpperCase());
  }
}

/** `ROLLBACK [WORK | TRANSACTION] [TO [SAVEPOINT] name]`, or ABORT. */
function parseRollback(tokens: readonly Token[], w: (i: number) => string | null, first: string): Utility {
  if (w(1) === 'prepared') throw unsupported('ROLLBACK PREPARED');
  let i = w(1) === 'work' || w(1) === 'transaction' ? 2 : 1;
  if (w(i) === 'to') {
    if (first === 'abort') throw new AllotError(SqlState.syntaxError, 'syntax error at or near "TO"');
    i += w(i + 1) === 'savepoint' ? 2 : 1;
    const name = ident(tokens[i], 'a savepoint name');
    expectEnd(tokens, i + 1);
    return { type: 'rollbackTo', name };
  }
  return { type: 'rollback' };
}

function parseShow(tokens: readonly Token[], w: (i: number) => string | null): Utility {
  if (w(1) === 'transaction' && w(2) === 'isolation' && w(3) === 'level') return { type: 'show', name: 'transaction_isolation' };
  if (w(1) === 'time' && w(2) === 'zone') return { type: 'show', name: 'timezone' };
  const name = dottedName(tokens, 1);
  expectEnd(tokens, name.next);
  return { type: 'show', name: name.name };
}

function parseReset(tokens: readonly Token[], w: (i: number) => string | null): Utility {
  if (w(1) === 'all') return { type: 'reset', name: 'all' };
  if (w(1) === 'time' && w(2) === 'zone') return { type: 'reset', name: 'timezone' };
  const name = dottedName(tokens, 1);
  expectEnd(tokens, name.next);
  return { type: 'reset', name: name.name };
}

function parseUnlisten(tokens: readonly Token[]): Utility {
  if (tokens[1]?.kind === 'op' && tokens[1].text === '*') {
    expectEnd(tokens, 2);
    return { type: 'unlisten', channel: null };
  }
  const channel = ident(tokens[1], 'a channel name or *');
  expectEnd(tokens, 2);
  return { type: 'unlisten', channel };
}

/** `NOTIFY channel [, 'payload']`. */
function parseNotify(tokens: readonly Token[]): Utility {
  const channel = ident(tokens[1], 'a channel name');
  let payload = '';
  if (tokens[2] !== undefined) {
    const comma = tokens[2];
    const p = tokens[3];
    if (comma.kind !== 'op' || comma.text !== ',' || p?.kind !== 'string')
      throw new AllotError(SqlState.syntaxError, "syntax error: expected NOTIFY channel [, 'payload']");
    payload = p.text;
    expectEnd(tokens, 4);
  }
  if (Buffer.byteLength(payload) >= 8000) throw new AllotError(SqlState.invalidParameterValue, 'payload string too long (the limit is 8000 bytes)');
  return { type: 'notify', channel, payload };
}

function parseDiscard(tokens: readonly Token[], w: (i: number) => string | null): Utility {
  const what = w(1);
  expectEnd(tokens, 2);
  if (what === 'all' || what === 'plans' || what === 'temp' || what === 'sequences') return { type: 'discard', what };
  if (what === 'temporary') return { type: 'discard', what: 'temp' };
  throw new AllotError(SqlState.syntaxError, 'syntax error: expected DISCARD ALL, PLANS, SEQUENCES or TEMP');
}

function parseClose(tokens: readonly Token[], w: (i: number) => string | null): Utility {
  if (w(1) === 'all') {
    expectEnd(tokens, 2);
    return { type: 'close', name: null };
  }
  const name = ident(tokens[1], 'a cursor name or ALL');
  expectEnd(tokens, 2);
  return { type: 'close', name };
}

/** `DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [NO SCROLL | SCROLL] CURSOR [WITH | WITHOUT HOLD] FOR query`. */
function parseDeclare(tokens: readonly Token[], times: TimeOutput): Utility {
  const w = (k: number): string | null => word(tokens[k]);
  const name = ident(tokens[1], 'a cursor name');
  let i = 2;
  let scroll: boolean | null = null;
  let binary = false;
  for (;;) {
    const o = w(i);
    if (o === 'cursor') break;
    if (o === 'binary') binary = true;
    else if (o === 'scroll') scroll = true;
    else if (o === 'no' && w(i + 1) === 'scroll') {
      scroll = false;
      i++;
    } else if (o !== 'insensitive' && o !== 'asensitive')
      throw new AllotError(SqlState.syntaxError, 'syntax error: expected DECLARE name [BINARY] [NO SCROLL | SCROLL] CURSOR [WITH HOLD] FOR query');
    i++;
  }
  i++;
  let hold = false;
  if ((w(i) === 'with' || w(i) === 'without') && w(i + 1) === 'hold') {
    hold = w(i) === 'with';
    i += 2;
  }
  if (w(i) !== 'for') throw new AllotError(SqlState.syntaxError, 'syntax error: expected FOR query after DECLARE … CURSOR');
  const query = planQueryText(textOfTokens(tokens.slice(i + 1)), 'DECLARE CURSOR', times);
  return { type: 'declare', name, query, scroll, hold, binary };
}

/** `FETCH|MOVE [direction] [FROM | IN] name`. */
function parseFetch(tokens: readonly Token[], move: boolean): Utility {
  const w = (k: number): string | null => word(tokens[k]);
  let i = 1;
  let direction: FetchDirection = { kind: 'forward', count: 1 };
  const count = (kind: 'forward' | 'backward'): void => {
    if (w(i) === 'all') {
      direction = { kind, count: 'all' };
      i++;
      return;
    }
    const n = signedInt(tokens, i);
    if (n === null) return void (direction = { kind, count: 1 });
    i = n.next;
    const back = (kind === 'backward') !== n.value < 0;
    direction = { kind: back ? 'backward' : 'forward', count: Math.abs(n.value) };
  };
  const d = w(i);
  if (d === 'next' || d === 'prior' || d === 'first' || d === 'last') {
    direction = d === 'next' ? { kind: 'forward', count: 1 } : d === 'prior' ? { kind: 'backward', count: 1 } : { kind: 'absolute', n: d === 'first' ? 1 : -1 };
    i++;
  } else if (d === 'absolute' || d === 'relative') {
    const n = signedInt(tokens, i + 1);
    if (n === null) throw new AllotError(SqlState.syntaxError, `syntax error: expected a number after ${d.toUpperCase()}`);
    direction = { kind: d, n: n.value };
    i = n.next;
  } else if (d === 'all') {
    direction = { kind: 'forward', count: 'all' };
    i++;
  } else if (d === 'forward' || d === 'backward') {
    i++;
    count(d);
  } else if (signedInt(tokens, i) !== null) count('forward');
  if (w(i) === 'from' || w(i) === 'in') i++;
  const name = ident(tokens[i], 'a cursor name');
  expectEnd(tokens, i + 1);
  return { type: 'fetch', name, direction, move };
}

/** An integer, with an optional sign, at `at`; null if there is none. */
function signedInt(tokens: readonly Token[], at: number): { value: number; next: number } | null {
  let i = at;
  let sign = 1;
  const t = tokens[i];
  if (t?.kind === 'op' && (t.text === '-' || t.text === '+')) {
    if (t.text === '-') sign = -1;
    i++;
  }
  const n = tokens[i];
  if (n?.kind !== 'number' || !/^\d+$/.test(n.text)) return null;
  return { value: sign * Number(n.text), next: i + 1 };
}

function dottedName(tokens: readonly Token[], at: number): { name: string; next: number } {
  let name = ident(tokens[at], 'a parameter name');
  let i = at + 1;
  while (tokens[i]?.kind === 'op' && (tokens[i] as { text: string }).text === '.') {
    name += `.${ident(tokens[i + 1], 'a parameter name')}`;
    i += 2;
  }
  return { name, next: i };
}

/** READ ONLY (true) or READ WRITE (false) among a transaction's modes, the last one given; null if none. */
function accessMode(tokens: readonly Token[], from: number): boolean | null {
  let mode: boolean | null = null;
  for (let i = from; i < tokens.length - 1; i++) {
    if (word(tokens[i]) !== 'read') continue;
    const next = word(tokens[i + 1]);
    if (next === 'only') mode = true;
    else if (next === 'write') mode = false;
  }
  return mode;
}

function parseSet(tokens: readonly Token[]): Utility {
  let i = 1;
  let local = false;
  const w = (k: number): string | null => word(tokens[k]);
  if (w(i) === 'session') {
    i++;
    if (w(i) === 'characteristics') {
      const mode = accessMode(tokens, i + 1);
      if (mode === null) return { type: 'setIgnored', what: 'SET SESSION CHARACTERISTICS' };
      return { type: 'set', name: 'default_transaction_read_only', value: mode ? 'on' : 'off', local: false };
    }
  } else if (w(i) === 'local') {
    local = true;
    i++;
  }
  if (w(i) === 'transaction') return { type: 'setTransaction', readOnly: accessMode(tokens, i + 1) };
  if (w(i) === 'time' && w(i + 1) === 'zone') {
    // SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE (Sequelize): an offset east of UTC.
    const str = tokens[i + 3];
    if (w(i + 2) === 'interval' && str?.kind === 'string') {
      const qualifier = tokens
        .slice(i + 4)
        .map((t) => word(t) ?? '?')
        .join(' ');
      return { type: 'set', name: 'timezone', value: timeZoneFromInterval(str.text, qualifier === '' ? undefined : qualifier), local };
    }
    if (w(i + 2) === 'local' && tokens[i + 3] === undefined) return { type: 'set', name: 'timezone', value: null, local };
    const v = valueList(tokens, i + 2);
    return { type: 'set', name: 'timezone', value: v, local };
  }
  if (w(i) === 'names') return { type: 'set', name: 'client_encoding', value: valueList(tokens, i + 1), local };
  const name = dottedName(tokens, i);
  i = name.next;
  const sep = tokens[i];
  if (sep === undefined || !((sep.kind === 'op' && sep.text === '=') || (sep.kind === 'word' && sep.text.toLowerCase() === 'to'))) {
    throw new AllotError(SqlState.syntaxError, `syntax error: expected SET ${name.name} TO value`);
  }
  return { type: 'set', name: name.name, value: valueList(tokens, i + 1), local };
}

/** The value of a SET: a comma-separated list of words, strings and numbers; DEFAULT is null. */
function valueList(tokens: readonly Token[], at: number): string | null {
  const parts: string[] = [];
  let i = at;
  if (word(tokens[i]) === 'default' && tokens[i + 1] === undefined) return null;
  for (;;) {
    const t = tokens[i];
    if (t === undefined) break;
    let neg = '';
    let v = t;
    if (t.kind === 'op' && t.text === '-' && tokens[i + 1]?.kind === 'number') {
      neg = '-';
      v = tokens[++i]!;
    }
    if (v.kind === 'word' || v.kind === 'quoted' || v.kind === 'string' || v.kind === 'number') parts.push(neg + v.text);
    else throw new AllotError(SqlState.syntaxError, 'syntax error in SET value');
    i++;
    const sep = tokens[i];
    if (sep === undefined) break;
    if (sep.kind !== 'op' || sep.text !== ',') throw new AllotError(SqlState.syntaxError, 'syntax error in SET value');
    i++;
  }
  if (parts.length === 0) throw new AllotError(SqlState.syntaxError, 'SET needs a value');
  return parts.join(', ');
}
