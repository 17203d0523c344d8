/**
 * Statements pgsql-ast-parser does not parse or that need no plan: transaction control,
 * session settings, LISTEN/UNLISTEN/NOTIFY and prepared-statement housekeeping. Read from the
 * lexer's tokens.
 */
import { AllotError, SqlState } from '../errors.js';
import { Tables } from './catalog.js';
import type { Token } from './lexer.js';

export type Utility =
  /** `readOnly` null: the access mode was not given (default_transaction_read_only decides). */
  | { readonly type: 'begin'; readonly readOnly: boolean | null }
  | { readonly type: 'setTransaction'; readonly readOnly: boolean | null }
  | { readonly type: 'commit' }
  | { readonly type: 'rollback' }
  | { readonly type: 'set'; readonly name: string; readonly value: string | null; readonly local: boolean }
  | { readonly type: 'setIgnored'; readonly what: string }
  | { readonly type: 'show'; readonly name: string }
  | { readonly type: 'reset'; readonly name: string }
  | { readonly type: 'listen'; readonly channel: string }
  | { readonly type: 'unlisten'; readonly channel: string | null }
  | { readonly type: 'notify'; readonly channel: string; readonly payload: string }
  | { readonly type: 'discard' }
  | { readonly type: 'deallocate'; readonly name: string | null };

const UTILITY_WORDS = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'set', 'show', 'reset', 'listen', 'unlisten', 'notify', 'discard', 'deallocate', 'savepoint', 'release', 'prepare', 'execute', 'copy', 'vacuum', 'analyze', 'lock', 'truncate', 'create', 'drop', 'alter', 'grant', 'revoke', 'explain', 'checkpoint', 'declare', 'fetch', 'close', 'move', 'do', 'call', 'comment']);

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

export function parseUtility(tokens: readonly Token[]): Utility {
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
      if (w(1) === 'to' || (w(1) === 'transaction' && w(2) === 'to') || (w(1) === 'work' && w(2) === 'to')) throw unsupported('ROLLBACK TO SAVEPOINT');
      if (w(1) === 'prepared') throw unsupported('ROLLBACK PREPARED');
      return { type: 'rollback' };
    case 'set':
      return parseSet(tokens);
    case 'show': {
      if (w(1) === 'transaction' && w(2) === 'isolation' && w(3) === 'level') return { type: 'show', name: 'transaction_isolation' };
      if (w(1) === 'time' && w(2) === 'zone') return { type: 'show', name: 'timezone' };
      const name = dottedName(tokens, 1);
      expectEnd(tokens, name.next);
      return { type: 'show', name: name.name };
    }
    case 'reset': {
      if (w(1) === 'all') return { type: 'reset', name: 'all' };
      if (w(1) === 'time' && w(2) === 'zone') return { type: 'reset', name: 'timezone' };
      const name = dottedName(tokens, 1);
      expectEnd(tokens, name.next);
      return { type: 'reset', name: name.name };
    }
    case 'listen': {
      const channel = ident(tokens[1], 'a channel name');
      expectEnd(tokens, 2);
      return { type: 'listen', channel };
    }
    case 'unlisten': {
      if (tokens[1]?.kind === 'op' && tokens[1].text === '*') {
        expectEnd(tokens, 2);
        return { type: 'unlisten', channel: null };
      }
      const channel = ident(tokens[1], 'a channel name or *');
      expectEnd(tokens, 2);
      return { type: 'unlisten', channel };
    }
    case 'notify': {
      const channel = ident(tokens[1], 'a channel name');
      let payload = '';
      if (tokens[2] !== undefined) {
        const comma = tokens[2];
        const p = tokens[3];
        if (comma.kind !== 'op' || comma.text !== ',' || p?.kind !== 'string') throw new AllotError(SqlState.syntaxError, "syntax error: expected NOTIFY channel [, 'payload']");
        payload = p.text;
        expectEnd(tokens, 4);
      }
      if (Buffer.byteLength(payload) >= 8000) throw new AllotError(SqlState.invalidParameterValue, 'payload string too long (the limit is 8000 bytes)');
      return { type: 'notify', channel, payload };
    }
    case 'discard':
      return { type: 'discard' };
    case 'deallocate': {
      let i = 1;
      if (w(i) === 'prepare') i++;
      if (w(i) === 'all') return { type: 'deallocate', name: null };
      return { type: 'deallocate', name: ident(tokens[i], 'a prepared statement name') };
    }
    case 'savepoint':
    case 'release':
      throw unsupported('SAVEPOINT', 'A transaction block in allot is all or nothing; ROLLBACK undoes all of it.');
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

function dottedName(tokens: readonly Token[], at: number): { name: string; next: number } {
  let name = ident(tokens[at], 'a parameter name');
  let i = at + 1;
  while (tokens[i]?.kind === 'op' && (tokens[i] as { text: string }).text === '.') {
    name += '.' + ident(tokens[i + 1], 'a parameter name');
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
