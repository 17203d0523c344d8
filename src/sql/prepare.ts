/**
 * From statement text to a Plan, keeping the slow parser off the hot path: plans are cached by
 * text (extended protocol) or by text with its literals lifted out as parameters (simple
 * protocol), so statements that differ only in their values are parsed once.
 */
import { parse, type Statement } from 'pgsql-ast-parser';
import { Limits } from '../engine/limits.js';
import { AllotError, SqlState } from '../errors.js';
import { coerce, NeedsLiteral, ParamSlots, typeDomain } from './expr.js';
import type { TimeOutput } from './tables/columns.js';
import {
  liftLiterals,
  liftSingleStatement,
  rewriteForParser,
  splitStatements,
  tokenize,
  type LiftedLiteral,
  type LiftedStatement,
  type Token,
} from './lexer.js';
import { planStatement, type Plan } from './plan/index.js';
import { collapseValuesRows, expandValuesRows } from './values-rows.js';
import { parseInt8, typeOfOid, type ParamValue, type SqlType, type Value } from './types.js';
import { isUtility, parseUtility } from './utility.js';

/**
 * What one cached plan is taken to cost, per token of its statement. A plan holds a tree for
 * every token and a slot for every parameter: measured from about 160 bytes a token (a long
 * VALUES list of literals) to about 1,060 (an IN list of parameters), so the estimate sits at the
 * top. The statement text (the key) is counted on top, as UTF-16.
 */
export const PLAN_BYTES_PER_TOKEN = 1024;

/**
 * A bounded map from key to plan that forgets the oldest entries when full: full of entries, or
 * of estimated bytes (5,000 one-line statements are a few MB; 5,000 statements of 10,000 rows
 * would be hundreds of GB). A plan estimated above the whole budget is not kept at all. (Least
 * recently used would cost a delete and an insert on every hit; a working set of plans fits
 * easily.)
 */
export class PlanCache {
  private readonly map: BoundedPlans;
  /**
   * Plans for simple-protocol statements read by liftSingleStatement, by its key. Only a
   * statement that the general path planned under the same key goes in, so a hit here is the
   * plan the general path would have found.
   */
  private readonly single: BoundedPlans;
  hits = 0;
  misses = 0;

  /** `maxBytes` is shared: half for each of the two maps. */
  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number = Number.MAX_SAFE_INTEGER,
  ) {
    this.map = new BoundedPlans(maxEntries, Math.floor(maxBytes / 2));
    this.single = new BoundedPlans(maxEntries, Math.floor(maxBytes / 2));
  }

  get(key: string): Plan | undefined {
    const p = this.map.get(key);
    if (p === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return p;
  }

  /** `tokens`: how many tokens the statement has, which is what its plan's size follows. */
  set(key: string, plan: Plan, tokens = 0): void {
    this.map.set(key, plan, tokens);
  }

  getSingle(key: string): Plan | undefined {
    return this.single.get(key);
  }

  setSingle(key: string, plan: Plan, tokens = 0): void {
    this.single.set(key, plan, tokens);
  }

  get size(): number {
    return this.map.size;
  }

  /** Estimated bytes of every plan held. */
  get bytes(): number {
    return this.map.bytes + this.single.bytes;
  }
}

class BoundedPlans {
  private readonly plans = new Map<string, { readonly plan: Plan; readonly bytes: number }>();
  bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.plans.size;
  }

  get(key: string): Plan | undefined {
    return this.plans.get(key)?.plan;
  }

  set(key: string, plan: Plan, tokens: number): void {
    const bytes = 2 * key.length + PLAN_BYTES_PER_TOKEN * tokens;
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.plans.set(key, { plan, bytes });
    this.bytes += bytes;
    while (this.plans.size > this.maxEntries || this.bytes > this.maxBytes) this.delete(this.plans.keys().next().value!);
    if (this.plans.size > this.maxEntries || this.bytes > this.maxBytes || this.bytes < 0)
      throw new Error(`plan cache over its bounds: ${this.plans.size} plans, ${this.bytes} bytes`);
  }

  private delete(key: string): void {
    const old = this.plans.get(key);
    if (old === undefined) return;
    this.plans.delete(key);
    this.bytes -= old.bytes;
  }
}

/** Longest statement text accepted. */
export const MAX_STATEMENT_BYTES = 1 << 20;

/**
 * Bounds on a statement's shape, checked on its tokens before the parser sees it: the parser's
 * time and memory grow with the square of a list's length (a 50,000-value IN list took minutes
 * and ran the server out of memory), so what would be refused after parsing is refused first.
 */
export const StatementLimits = {
  /** Items in one parenthesised or bracketed list: an IN list, ARRAY[…], a row. */
  maxListItems: Limits.maxIdsPerInList,
  /** Rows after VALUES. */
  maxValuesRows: Limits.maxBatchCommands,
  /** Words, numbers, strings and symbols outside the VALUES rows. */
  maxTokensOutsideValues: 20_000,
} as const;

function tooLarge(message: string): AllotError {
  return new AllotError(SqlState.programLimitExceeded, message, { hint: 'Split it into several statements (a transaction keeps them all or nothing).' });
}

export function checkStatementShape(tokens: readonly Token[]): void {
  const open: number[] = []; // items so far in each list still open
  let valuesRows = 0; // > 0 while in the rows after a top-level VALUES
  let outside = 0;
  for (const t of tokens) {
    if (t.kind === 'op') {
      if (t.text === '(' || t.text === '[') open.push(1);
      else if (t.text === ')' || t.text === ']') open.pop();
      else if (t.text === ',') {
        const depth = open.length;
        if (depth > 0) {
          if (++open[depth - 1]! > StatementLimits.maxListItems)
            throw tooLarge(`a list of more than ${StatementLimits.maxListItems} items; the limit is ${StatementLimits.maxListItems}`);
        } else if (valuesRows > 0 && ++valuesRows > StatementLimits.maxValuesRows) {
          throw tooLarge(`more than ${StatementLimits.maxValuesRows} rows after VALUES; the limit is ${StatementLimits.maxValuesRows} per statement`);
        }
      }
    } else if (t.kind === 'word' && open.length === 0) {
      const w = t.text.toLowerCase();
      if (w === 'values') valuesRows = 1;
      else if (valuesRows > 0 && (w === 'on' || w === 'returning')) valuesRows = 0;
    }
    if (valuesRows === 0 && ++outside > StatementLimits.maxTokensOutsideValues) {
      throw tooLarge(
        `a statement of more than ${StatementLimits.maxTokensOutsideValues} words and symbols (besides its VALUES rows); the limit is ${StatementLimits.maxTokensOutsideValues}`,
      );
    }
  }
}

/** Parses one statement as written (errors as 42601 with the parser's position). */
export function parseOne(text: string): Statement {
  let stmts: Statement[];
  try {
    stmts = parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const first = msg.split('\n').find((l) => l.trim().length > 0) ?? msg;
    const near = /Unexpected \w+ token: "([^"]*)"/.exec(msg)?.[1];
    throw new AllotError(SqlState.syntaxError, near !== undefined ? `syntax error at or near "${near}"` : `syntax error: ${first}`);
  }
  if (stmts.length !== 1) throw new AllotError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement');
  return stmts[0]!;
}

/**
 * Parses one statement; a long VALUES list of rows alike is parsed as its first row and copied
 * (see values-rows.ts), which gives the same tree in linear time.
 */
export function parseStatement(text: string): Statement {
  const collapsed = collapseValuesRows(text, tokenize(text));
  if (collapsed !== null) {
    let one: Statement | null = null;
    try {
      one = parseOne(collapsed.text);
    } catch {
      // The error is reported from the whole text, where its position is.
    }
    const whole = one === null ? null : expandValuesRows(one, collapsed);
    if (whole !== null) return whole;
  }
  return parseOne(text);
}

const EMPTY: Plan = { kind: 'empty', params: new ParamSlots(), columns: null };

function utilityPlan(tokens: readonly Token[], times: TimeOutput): Plan {
  const utility = parseUtility(tokens, times);
  const columns =
    utility.type === 'show'
      ? utility.name === 'all'
        ? [
            { name: 'name', type: 'text' as const, tableOid: 0, columnAttr: 0 },
            { name: 'setting', type: 'text' as const, tableOid: 0, columnAttr: 0 },
            { name: 'description', type: 'text' as const, tableOid: 0, columnAttr: 0 },
          ]
        : [{ name: utility.name, type: 'text' as const, tableOid: 0, columnAttr: 0 }]
      : null;
  return { kind: 'utility', params: new ParamSlots(), utility, columns };
}

/** One statement of a simple-protocol Query, planned and with its lifted values. */
export interface SimpleStatement {
  readonly text: string;
  readonly plan: Plan;
  readonly values: readonly Value[];
}

/**
 * What plans depend on in a session: how it shows times (plans of each way are cached apart)
 * and its TimeZone (what literal wall clocks mean).
 */
export interface PlanContext {
  readonly times: TimeOutput;
  readonly zone: string;
}

const DEFAULT_PLAN_CONTEXT: PlanContext = { times: 'timestamptz', zone: 'UTC' };

/** A plan cache key for a session's way of showing times. */
function keyFor(key: string, ctx: PlanContext): string {
  return ctx.times === 'timestamptz' ? key : `\u0002${ctx.times}\u0002${key}`;
}

/** Splits a simple-protocol string and plans each statement. */
export function prepareSimple(sql: string, cache: PlanCache, context: PlanContext | (() => PlanContext) = DEFAULT_PLAN_CONTEXT): (() => SimpleStatement)[] {
  // Read as each statement is planned: a SET earlier in the same string applies to the next.
  const contextNow = typeof context === 'function' ? context : (): PlanContext => context;
  if (sql.length > MAX_STATEMENT_BYTES / 3 && Buffer.byteLength(sql) > MAX_STATEMENT_BYTES) {
    throw new AllotError(SqlState.programLimitExceeded, `query text of ${Buffer.byteLength(sql)} bytes exceeds the limit of ${MAX_STATEMENT_BYTES}`);
  }
  // One plain statement whose shape was planned before: no tokens, no second lookup.
  const single = liftSingleStatement(sql);
  if (single !== null) {
    const ctx = contextNow();
    const plan = cache.getSingle(keyFor(single.key, ctx));
    if (plan !== undefined) return [() => ({ text: single.text, plan, values: bindLifted(plan.params, single.literals, ctx.zone) })];
  }
  // Statements are planned one at a time, as they run: an error in the third does not stop
  // the first two, as in PostgreSQL.
  return splitStatements(sql).map((s) => () => planSimple(s.text, s.tokens, cache, single, contextNow()));
}

function planSimple(original: string, originalTokens: Token[], cache: PlanCache, single: LiftedStatement | null, ctx: PlanContext): SimpleStatement {
  if (originalTokens.length === 0) return { text: original, plan: EMPTY, values: [] };
  if (isUtility(originalTokens)) return { text: original, plan: utilityPlan(originalTokens, ctx.times), values: [] };
  const quoted = rewriteForParser(original, originalTokens);
  const text = quoted ?? original;
  const tokens = quoted === null ? originalTokens : tokenize(quoted);
  if (tokens.some((t) => t.kind === 'param')) {
    const p = tokens.find((t) => t.kind === 'param') as { index: number };
    throw new AllotError(SqlState.undefinedParameter, `there is no parameter $${p.index}`);
  }
  checkStatementShape(tokens);
  const { key, literals } = liftLiterals(text, tokens);
  let plan = cache.get(keyFor(key, ctx));
  if (plan === undefined) {
    const lifted = new Map(literals.map((l, i) => [i, l.kind] as const));
    try {
      plan = planStatement(parseStatement(key.split('\u0000')[0]!), new ParamSlots([], lifted, [], ctx.times), ctx.times);
      cache.set(keyFor(key, ctx), plan, tokens.length);
    } catch (e) {
      if (!(e instanceof NeedsLiteral) && !(e instanceof AllotError && e.sqlstate === SqlState.syntaxError)) throw e;
      // Lifting changed the meaning (ORDER BY 1) or the grammar: plan the text as written.
      const fullKey = keyFor(`\u0001${text}`, ctx);
      plan = cache.get(fullKey);
      if (plan === undefined) {
        plan = planStatement(parseStatement(text), new ParamSlots([], new Map(), [], ctx.times), ctx.times);
        cache.set(fullKey, plan, tokens.length);
      }
      return { text, plan, values: [] };
    }
  }
  // The one-pass reading of this statement agrees with the general one: later statements of
  // the same shape can take the short way.
  if (single !== null && single.key === key && single.text === text) cache.setSingle(keyFor(key, ctx), plan, tokens.length);
  return { text, plan, values: bindLifted(plan.params, literals, ctx.zone) };
}

function bindLifted(slots: ParamSlots, literals: readonly LiftedLiteral[], zone: string): Value[] {
  return literals.map((l, i) => {
    const d = slots.domains[i] ?? null;
    if (d !== null) return coerce(l.text, d, `literal ${l.text}`, zone);
    if (l.kind === 'integer' || l.kind === 'bigint') return parseInt8(l.text);
    return l.kind === 'numeric' ? plainDecimal(l.text) : l.text;
  });
}

/** Exponents beyond this are left as written rather than spelled out digit by digit. */
const MAX_SPELLED_EXPONENT = 1000;

/**
 * A numeric literal as PostgreSQL prints it: `1e3` is 1000, `1.50e1` is 15.0 (the digits after
 * the point are those written, less the exponent), `1e-3` is 0.001.
 */
export function plainDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(text);
  if (m === null) return text;
  const [, sign = '', int = '', frac = '', expText = '0'] = m;
  const exp = Number(expText);
  if (Math.abs(exp) > MAX_SPELLED_EXPONENT) return text;
  let digits = int + frac;
  let point = int.length + exp; // where the decimal point falls in `digits`
  if (point < 1) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const rest = digits.slice(point);
  return `${sign === '-' ? '-' : ''}${whole}${rest.length > 0 ? `.${rest}` : ''}`;
}

/** Plans the text of an extended-protocol Parse. */
export function prepareExtended(sql: string, paramOids: readonly number[], cache: PlanCache, ctx: PlanContext = DEFAULT_PLAN_CONTEXT): Plan {
  if (Buffer.byteLength(sql) > MAX_STATEMENT_BYTES) {
    throw new AllotError(SqlState.programLimitExceeded, `query text of ${Buffer.byteLength(sql)} bytes exceeds the limit of ${MAX_STATEMENT_BYTES}`);
  }
  const key = keyFor(paramOids.length === 0 ? sql : `${paramOids.join(',')}\u0000${sql}`, ctx);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const statements = splitStatements(sql);
  if (statements.length > 1) throw new AllotError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement');
  const s = statements[0];
  let plan: Plan;
  if (s === undefined) plan = EMPTY;
  else if (isUtility(s.tokens)) plan = utilityPlan(s.tokens, ctx.times);
  else {
    checkStatementShape(s.tokens);
    plan = planStatement(
      parseStatement(rewriteForParser(s.text, s.tokens) ?? s.text),
      new ParamSlots(paramOids.map(typeOfOid), new Map(), paramOids, ctx.times),
      ctx.times,
    );
  }
  cache.set(key, plan, s?.tokens.length ?? 0);
  return plan;
}

/** Reads Bind's parameter values as the plan's inferred types (wall clocks in `zone`). */
export function bindParams(slots: ParamSlots, raw: readonly ParamValue[], zone = 'UTC'): Value[] {
  const count = slots.count;
  if (raw.length !== count) {
    throw new AllotError(SqlState.protocolViolation, `bind message supplies ${raw.length} parameters, but prepared statement requires ${count}`);
  }
  return raw.map((v, i) => {
    const domain = slots.domains[i] ?? null;
    const declared: SqlType | null = slots.declared[i] ?? null;
    const d = domain ?? (declared === null ? null : (typeDomain(declared) ?? null));
    return coerce(v, d, `parameter $${i + 1}`, zone);
  });
}

export { tokenize };
