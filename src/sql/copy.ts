/**
 * COPY as SQL: the statement and its options (PostgreSQL's `WITH (FORMAT csv, …)` and the older
 * `WITH CSV HEADER`, checked as PostgreSQL checks them). `COPY t FROM STDIN` is planned as
 * the INSERT of one row of parameters, `INSERT INTO t (cols) VALUES ($1, …)`, run once per row
 * of data (its parameters' types, as the session sees them, are what binary fields are read
 * as); `COPY t TO STDOUT` as `SELECT cols FROM t`, `COPY (query) TO STDOUT` as the query.
 * The formats of the rows are in copy-format.ts; bytes and messages are the wire's
 * (src/wire/copy.ts).
 */
import { AllotError, SqlState } from '../errors.js';
import { Tables } from './tables/index.js';
import type { TimeOutput } from './tables/columns.js';
import type { CopyFormat } from './copy-format.js';
import { ParamSlots } from './expr.js';
import type { Token } from './lexer.js';
import { planStatement, type QueryPlan, type WritePlan } from './plan/index.js';
import { parseStatement } from './prepare.js';
import { planQueryText, textOfTokens } from './token-text.js';

export type { CopyFormat };

export type CopyStatement =
  | { readonly type: 'copyFrom'; readonly table: string; readonly columns: readonly string[]; readonly insert: WritePlan; readonly format: CopyFormat }
  | { readonly type: 'copyTo'; readonly query: QueryPlan; readonly format: CopyFormat; readonly columns: readonly string[] };

const word = (t: Token | undefined): string | null => (t?.kind === 'word' ? t.text.toLowerCase() : null);
const isOp = (t: Token | undefined, op: string): boolean => t?.kind === 'op' && t.text === op;

function syntax(message: string): AllotError {
  return new AllotError(SqlState.syntaxError, `syntax error: ${message}`);
}

function ident(t: Token | undefined, what: string): string {
  if (t?.kind === 'word') return t.text.toLowerCase();
  if (t?.kind === 'quoted') return t.text;
  throw syntax(`expected ${what}`);
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `(a, b, …)` at `at`: the names and the index after `)`. */
function nameList(tokens: readonly Token[], at: number, what: string): { names: string[]; next: number } {
  if (!isOp(tokens[at], '(')) throw syntax(`expected (${what}, …)`);
  const names: string[] = [];
  let i = at + 1;
  for (;;) {
    names.push(ident(tokens[i], what));
    i++;
    if (isOp(tokens[i], ')')) return { names, next: i + 1 };
    if (!isOp(tokens[i], ',')) throw syntax(`expected , or ) in the list of ${what}s`);
    i++;
  }
}

/** The index of the `)` closing the `(` at `at`. */
function closing(tokens: readonly Token[], at: number): number {
  let depth = 0;
  for (let i = at; i < tokens.length; i++) {
    if (isOp(tokens[i], '(')) depth++;
    else if (isOp(tokens[i], ')') && --depth === 0) return i;
  }
  throw syntax('unbalanced parentheses in COPY');
}

export function parseCopy(tokens: readonly Token[], times: TimeOutput): CopyStatement {
  let i = 1;
  // `COPY BINARY t …`, PostgreSQL's oldest spelling (BINARY is a keyword, never a table's name).
  const prefix: Options = {};
  if (word(tokens[i]) === 'binary' && (tokens[i + 1]?.kind === 'word' || tokens[i + 1]?.kind === 'quoted')) {
    prefix.format = 'binary';
    i++;
  }
  let source: { kind: 'query'; query: QueryPlan } | { kind: 'table'; table: string; qualified: string; columns: string[] | null };
  if (isOp(tokens[i], '(')) {
    const end = closing(tokens, i);
    source = { kind: 'query', query: planQueryText(textOfTokens(tokens.slice(i + 1, end)), 'COPY (query)', times) };
    i = end + 1;
  } else {
    let table = ident(tokens[i], 'a table name after COPY');
    let qualified = quoteIdent(table);
    i++;
    if (isOp(tokens[i], '.')) {
      table = ident(tokens[i + 1], 'a table name');
      qualified += `.${quoteIdent(table)}`;
      i += 2;
    }
    let columns: string[] | null = null;
    if (isOp(tokens[i], '(')) {
      const list = nameList(tokens, i, 'column');
      columns = list.names;
      i = list.next;
    }
    source = { kind: 'table', table, qualified, columns };
  }
  const direction = word(tokens[i]);
  if (direction !== 'from' && direction !== 'to') throw syntax('expected FROM or TO in COPY');
  if (direction === 'from' && source.kind === 'query') throw syntax('COPY (query) can only go TO STDOUT');
  i++;
  const target = tokens[i];
  const targetWord = word(target);
  const pipe = targetWord === 'stdin' || targetWord === 'stdout';
  const program = targetWord === 'program';
  if (!pipe && !program && target?.kind !== 'string') throw syntax('expected STDIN, STDOUT, a file name or PROGRAM in COPY');
  i += program ? 2 : 1;
  if (word(tokens[i]) === 'where') throw new AllotError(SqlState.featureNotSupported, 'COPY FROM … WHERE is not supported by allot');
  const format = parseOptions(tokens, i, direction === 'from', prefix);
  if (!pipe) refuseServerFile(direction === 'from', program);
  if (format.binary && direction === 'to') {
    throw new AllotError(SqlState.featureNotSupported, 'COPY TO STDOUT (FORMAT binary) is not supported by allot', {
      hint: 'Use FORMAT text or FORMAT csv; COPY FROM STDIN takes FORMAT binary.',
    });
  }
  if (source.kind === 'query') return { type: 'copyTo', query: source.query, format, columns: source.query.columns.map((c) => c.name) };
  if (direction === 'to') {
    const cols = source.columns === null ? '*' : source.columns.map(quoteIdent).join(', ');
    const query = planQueryText(`SELECT ${cols} FROM ${source.qualified}`, 'COPY', times);
    return { type: 'copyTo', query, format, columns: query.columns.map((c) => c.name) };
  }
  return copyFrom(source.table, source.qualified, source.columns, format, times);
}

/** PostgreSQL's answer to a client that is not superuser: the server's files are not the client's. */
function refuseServerFile(from: boolean, program: boolean): never {
  const role = program ? 'pg_execute_server_program' : from ? 'pg_read_server_files' : 'pg_write_server_files';
  const what = program ? 'to or from an external program' : from ? 'from a file' : 'to a file';
  throw new AllotError(SqlState.insufficientPrivilege, `must be superuser or have privileges of the ${role} role to COPY ${what}`, {
    hint: "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.",
  });
}

function copyFrom(table: string, qualified: string, given: string[] | null, format: CopyFormat, times: TimeOutput): CopyStatement {
  const def = (Tables as Record<string, { columns: readonly { name: string }[] } | undefined>)[table];
  const columns = given ?? def?.columns.map((c) => c.name) ?? [];
  if (columns.length === 0) {
    // Not a table rows can be written to: the INSERT planner says why, in its words.
    planStatement(parseStatement(`INSERT INTO ${qualified} VALUES ($1)`), new ParamSlots());
    throw new AllotError(SqlState.undefinedTable, `relation "${table}" does not exist`);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new AllotError(SqlState.duplicateColumn, `column "${c}" specified more than once`);
    seen.add(c);
  }
  const sql = `INSERT INTO ${qualified} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map((_, k) => `$${k + 1}`).join(', ')})`;
  // Planned with the session's times, so its parameters' types are the columns' as a SELECT
  // shows them (timestamptz or int8): the types a binary COPY's fields are sent in.
  const plan = planStatement(parseStatement(sql), new ParamSlots([], new Map(), [], times), times);
  if (plan.kind !== 'write') throw new Error('copy: an INSERT did not plan as a write');
  for (const c of [...format.forceNotNull, ...format.forceNull]) {
    if (!seen.has(c)) throw new AllotError(SqlState.invalidColumnReference, `FORCE_NOT_NULL column "${c}" not referenced by COPY`);
  }
  return { type: 'copyFrom', table, columns, insert: plan, format };
}

// ---- options ----------------------------------------------------------------------------

interface Options {
  format?: 'text' | 'csv' | 'binary';
  delimiter?: string;
  null?: string;
  quote?: string;
  escape?: string;
  header?: boolean | 'match';
  forceQuote?: string[] | '*';
  forceNotNull?: string[];
  forceNull?: string[];
}

function redundant(): AllotError {
  return new AllotError(SqlState.syntaxError, 'conflicting or redundant options');
}

function set<K extends keyof Options>(o: Options, key: K, value: Options[K]): void {
  if (o[key] !== undefined) throw redundant();
  o[key] = value;
}

function stringValue(t: Token | undefined, option: string): string {
  if (t?.kind === 'string') return t.text;
  throw syntax(`${option} needs a quoted string`);
}

function boolOrMatch(t: Token | undefined): boolean | 'match' | null {
  const v = t?.kind === 'word' || t?.kind === 'string' ? t.text.toLowerCase() : t?.kind === 'number' ? t.text : null;
  if (v === null) return null;
  if (['true', 'on', '1', 't', 'yes'].includes(v)) return true;
  if (['false', 'off', '0', 'f', 'no'].includes(v)) return false;
  if (v === 'match') return 'match';
  return null;
}

/**
 * `[WITH] (name value, …)` or the older `[WITH] [BINARY] [DELIMITER [AS] 'c'] [NULL [AS] 'x']
 * [CSV [HEADER] [QUOTE …] [ESCAPE …] [FORCE …]]`; `prefix`: what `COPY BINARY t` said.
 */
function parseOptions(tokens: readonly Token[], at: number, from: boolean, prefix: Options): CopyFormat {
  let i = at;
  if (word(tokens[i]) === 'with') i++;
  const o: Options = { ...prefix };
  if (isOp(tokens[i], '(')) {
    const end = closing(tokens, i);
    i = parseOptionList(tokens, i + 1, end, o);
    if (i !== end) throw syntax('expected , or ) in COPY options');
    i = end + 1;
  } else i = parseOldOptions(tokens, i, o);
  const t = tokens[i];
  if (t !== undefined) throw new AllotError(SqlState.syntaxError, `syntax error at or near "${t.kind === 'param' ? `$${t.index}` : t.text}"`);
  return validate(o, from);
}

function parseOptionList(tokens: readonly Token[], from: number, end: number, o: Options): number {
  let i = from;
  while (i < end) {
    const name = word(tokens[i]);
    const v = tokens[i + 1];
    const hasValue = i + 1 < end && !isOp(v, ',');
    i += hasValue ? 2 : 1;
    switch (name) {
      case 'format': {
        const f = v?.kind === 'word' || v?.kind === 'string' ? v.text.toLowerCase() : '';
        if (f !== 'text' && f !== 'csv' && f !== 'binary') throw new AllotError(SqlState.invalidParameterValue, `COPY format "${f}" not recognized`);
        set(o, 'format', f);
        break;
      }
      case 'header': {
        const h = hasValue ? boolOrMatch(v) : true;
        if (h === null) throw new AllotError(SqlState.invalidParameterValue, 'header requires a Boolean value or "match"');
        set(o, 'header', h);
        break;
      }
      case 'delimiter':
        set(o, 'delimiter', stringValue(v, 'DELIMITER'));
        break;
      case 'null':
        set(o, 'null', stringValue(v, 'NULL'));
        break;
      case 'quote':
        set(o, 'quote', stringValue(v, 'QUOTE'));
        break;
      case 'escape':
        set(o, 'escape', stringValue(v, 'ESCAPE'));
        break;
      case 'encoding':
        checkEncoding(stringValue(v, 'ENCODING'));
        break;
      case 'force_quote':
      case 'force_not_null':
      case 'force_null': {
        let cols: string[] | '*';
        if (isOp(v, '*') && name === 'force_quote') cols = '*';
        else {
          const list = nameList(tokens, i - 1, 'column');
          cols = list.names;
          i = list.next;
        }
        if (name === 'force_quote') set(o, 'forceQuote', cols);
        else set(o, name === 'force_null' ? 'forceNull' : 'forceNotNull', cols as string[]);
        break;
      }
      case 'freeze':
        break; // nothing to freeze: accepted, as PostgreSQL accepts it for a table made in the same transaction
      default:
        throw new AllotError(SqlState.syntaxError, `option "${name ?? tokens[i - 1]?.kind}" not recognized`);
    }
    if (isOp(tokens[i], ',')) i++;
  }
  return i;
}

function parseOldOptions(tokens: readonly Token[], from: number, o: Options): number {
  let i = from;
  const value = (option: string): string => {
    if (word(tokens[i]) === 'as') i++;
    return stringValue(tokens[i++], option);
  };
  for (;;) {
    const w = word(tokens[i]);
    if (w === null) return i;
    i++;
    switch (w) {
      case 'binary':
        set(o, 'format', 'binary');
        break;
      case 'delimiter':
        set(o, 'delimiter', value('DELIMITER'));
        break;
      case 'null':
        set(o, 'null', value('NULL'));
        break;
      case 'csv':
        set(o, 'format', 'csv');
        break;
      case 'header':
        set(o, 'header', true);
        break;
      case 'quote':
        set(o, 'quote', value('QUOTE'));
        break;
      case 'escape':
        set(o, 'escape', value('ESCAPE'));
        break;
      case 'encoding':
        checkEncoding(value('ENCODING'));
        break;
      case 'force': {
        const kind = word(tokens[i]);
        if (kind === 'quote') {
          i++;
          if (isOp(tokens[i], '*')) {
            set(o, 'forceQuote', '*');
            i++;
          } else set(o, 'forceQuote', oldColumns());
        } else if (kind === 'not' && word(tokens[i + 1]) === 'null') {
          i += 2;
          set(o, 'forceNotNull', oldColumns());
        } else if (kind === 'null') {
          i++;
          set(o, 'forceNull', oldColumns());
        } else throw syntax('expected FORCE QUOTE, FORCE NOT NULL or FORCE NULL');
        break;
      }
      default:
        throw new AllotError(
          SqlState.syntaxError,
          `syntax error at or near "${tokens[i - 1]!.kind === 'word' ? (tokens[i - 1] as { text: string }).text : w}"`,
        );
    }
  }

  /** The old syntax's column list: names separated by commas, without parentheses. */
  function oldColumns(): string[] {
    const names = [ident(tokens[i++], 'a column name')];
    while (isOp(tokens[i], ',')) {
      names.push(ident(tokens[i + 1], 'a column name'));
      i += 2;
    }
    return names;
  }
}

function checkEncoding(name: string): void {
  if (!/^(utf-?8|unicode)$/i.test(name))
    throw new AllotError(SqlState.invalidParameterValue, `allot speaks only UTF8; COPY ENCODING "${name}" is not supported`);
}

/** PostgreSQL's checks of ProcessCopyOptions, with its messages. */
function validate(o: Options, from: boolean): CopyFormat {
  const csv = o.format === 'csv';
  const binary = o.format === 'binary';
  if (binary && o.delimiter !== undefined) throw new AllotError(SqlState.syntaxError, 'cannot specify DELIMITER in BINARY mode');
  if (binary && o.null !== undefined) throw new AllotError(SqlState.syntaxError, 'cannot specify NULL in BINARY mode');
  const delimiter = o.delimiter ?? (csv ? ',' : '\t');
  const nul = o.null ?? (csv ? '' : '\\N');
  const bad = (message: string): AllotError => new AllotError(SqlState.invalidParameterValue, message);
  const unsupported = (message: string): AllotError => new AllotError(SqlState.featureNotSupported, message);
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f) throw unsupported('COPY delimiter must be a single one-byte character');
  if (delimiter === '\n' || delimiter === '\r') throw bad('COPY delimiter cannot be newline or carriage return');
  if (nul.includes('\n') || nul.includes('\r')) throw bad('COPY null representation cannot use newline or carriage return');
  if (!csv && '\\.abcdefghijklmnopqrstuvwxyz0123456789'.includes(delimiter)) throw bad(`COPY delimiter cannot be "${delimiter}"`);
  if (binary && o.header !== undefined && o.header !== false) throw unsupported('cannot specify HEADER in BINARY mode');
  if (!csv && o.quote !== undefined) throw unsupported('COPY quote available only in CSV mode');
  if (!csv && o.escape !== undefined) throw unsupported('COPY escape available only in CSV mode');
  if (!csv && o.forceQuote !== undefined) throw unsupported('COPY force quote available only in CSV mode');
  if (!csv && o.forceNotNull !== undefined) throw unsupported('COPY force not null available only in CSV mode');
  if (!csv && o.forceNull !== undefined) throw unsupported('COPY force null available only in CSV mode');
  if (from && o.forceQuote !== undefined) throw unsupported('COPY force quote only available using COPY TO');
  if (!from && (o.forceNotNull !== undefined || o.forceNull !== undefined)) throw unsupported('COPY force not null only available using COPY FROM');
  if (!from && o.header === 'match') throw unsupported('cannot use "match" with HEADER in COPY TO');
  const quote = o.quote ?? '"';
  const escapeChar = o.escape ?? quote;
  if (csv && (quote.length !== 1 || quote.charCodeAt(0) > 0x7f)) throw unsupported('COPY quote must be a single one-byte character');
  if (csv && (escapeChar.length !== 1 || escapeChar.charCodeAt(0) > 0x7f)) throw unsupported('COPY escape must be a single one-byte character');
  if (csv && delimiter === quote) throw bad('COPY delimiter and quote must be different');
  if (nul.includes(delimiter)) throw unsupported('COPY delimiter must not appear in the NULL specification');
  if (csv && nul.includes(quote)) throw unsupported('CSV quote character must not appear in the NULL specification');
  return {
    csv,
    binary,
    delimiter,
    null: nul,
    quote,
    escape: escapeChar,
    header: o.header ?? false,
    forceQuote: o.forceQuote ?? [],
    forceNotNull: o.forceNotNull ?? [],
    forceNull: o.forceNull ?? [],
  };
}
