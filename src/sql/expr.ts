/**
 * Expressions: pgsql-ast-parser nodes compiled once, per plan, into closures over a row and the
 * bound parameters. Compiling also infers what each `$n` must be from where it stands
 * (`start >= $1` makes $1 a time), which Describe reports and Bind uses to read values.
 */
import type { Expr, ExprList, Statement } from 'pgsql-ast-parser';
import type { ReadContext } from './plan/index.js';
import { AllotError, SqlState } from '../errors.js';
import type { ColumnDef, Domain } from './tables/columns.js';
import { castTarget, castValue, systemContext, timeZoneOf } from './casts.js';
import { SYSTEM_FUNCTIONS, type SystemFunction } from './system/functions.js';
import { advisoryKey, type AdvisoryLockView } from './advisory.js';
import {
  recordField,
  SET_FUNCTIONS,
  setFunctionCall,
  windowCall,
  windowKeys,
  type RecordField,
  type SetFunctionSlots,
  type WindowSlots,
} from './query/row-functions.js';
import {
  dateTrunc,
  extractField,
  extractFromInterval,
  formatTimestamp,
  normalizeTimeZone,
  parseInterval,
  parseTimestamptz,
  toTimestamp,
  zoneOffsetMs,
} from './time.js';
import { SCALAR_FUNCTIONS, type ScalarFunction } from './functions.js';
import type { LiftedLiteral } from './lexer.js';
import { clip, elementType, formatValue, typeOid, parseBool, parseInt8, parseTextArray, parseTime, type SqlType, type Value } from './types.js';

/** What an expression can ask of the session it runs in. */
export interface SessionView {
  readonly database: string;
  readonly user: string;
  readonly pid: number;
  /** Every database of the server, by name. */
  databases(): readonly string[];
  setting(name: string): string | undefined;
  setSetting(name: string, value: string): void;
  notify(channel: string, payload: string): void;
  /** The session's advisory locks (pg_advisory_* functions); absent where a plan runs alone. */
  readonly advisory?: AdvisoryLockView;
}

export interface EvalEnv {
  readonly params: readonly Value[];
  readonly session: SessionView;
  /** In an aggregated select list: each aggregate's value over the rows, by its slot. */
  readonly aggregates?: readonly Value[];
  /** The rows of the enclosing queries, innermost last: what a correlated subquery reads. */
  readonly outer?: readonly (readonly Value[])[];
  /** The state a general query reads (set by its run), for subqueries and now(). */
  readonly read?: ReadContext;
  /** Per execution: results of uncorrelated subqueries, computed once. */
  readonly memo?: Map<object, unknown>;
  /** The statement's instant where no read context is (a write's values): now(), 'now'. */
  readonly now?: number;
  /** The current values of the select list's set-returning calls, by slot. */
  readonly srf?: readonly Value[];
  /** The current row's values of the select list's window calls, by slot. */
  readonly window?: readonly Value[];
}

export type Eval = (row: readonly Value[], env: EvalEnv) => Value;

export interface Compiled {
  readonly type: SqlType;
  /** A record's fields (`_pg_expandarray(…)` gives (x, n)): its value is an array of them. */
  readonly fields?: readonly RecordField[];
  readonly eval: Eval;
  /** Set when the expression is exactly one column, or one parameter, or a constant. */
  readonly column?: number;
  /** How a value compared with this one is read (a time column reads ISO-8601 text too). */
  readonly domain?: Domain;
  readonly param?: number;
  readonly constant?: boolean;
}

const AGGREGATES = ['count', 'min', 'max', 'sum', 'avg', 'bool_and', 'bool_or', 'every', 'array_agg', 'string_agg'] as const;

export interface Aggregate {
  readonly fn: (typeof AGGREGATES)[number];
  /** string_agg's separator. */
  readonly separator?: Compiled;
  /** Null for count(*). */
  readonly arg: Compiled | null;
  /** `count(DISTINCT x)`: each distinct value counts once. */
  readonly distinct: boolean;
  /** `FILTER (WHERE …)`: only the rows it holds for are folded. */
  readonly filter: Compiled | null;
}

/** The parameters of a statement: inferred domains, and which ones were lifted literals. */
export class ParamSlots {
  readonly domains: (Domain | null)[] = [];
  /**
   * `declared`: types the client declared in Parse, by index (null: infer); `declaredOids`: the
   * OIDs it declared, which ParameterDescription repeats (0: infer); `times`: how the session
   * shows instants, which an inferred time parameter is described as.
   */
  constructor(
    readonly declared: readonly (SqlType | null)[] = [],
    readonly lifted: ReadonlyMap<number, LiftedLiteral['kind']> = new Map(),
    readonly declaredOids: readonly number[] = [],
    readonly times: 'timestamptz' | 'ms' = 'ms',
  ) {}

  /** The OID ParameterDescription reports: the declared one, else the inferred type's. */
  oidOf(index: number): number {
    const declared = this.declaredOids[index] ?? 0;
    return declared !== 0 ? declared : typeOid[this.typeOf(index)];
  }

  use(index: number, domain: Domain | undefined): void {
    while (this.domains.length <= index) this.domains.push(null);
    if (domain !== undefined && this.domains[index] === null) this.domains[index] = domain;
  }

  /** The type reported in ParameterDescription and used to read binary values. */
  typeOf(index: number): SqlType {
    const declared = this.declared[index];
    if (declared !== undefined && declared !== null) return declared;
    const d = this.domains[index] ?? null;
    if (d === null) {
      const lifted = this.lifted.get(index);
      return lifted === 'integer' ? 'int4' : lifted === 'bigint' ? 'int8' : lifted === 'numeric' ? 'numeric' : 'text';
    }
    if (this.times === 'timestamptz' && d === 'time') return 'timestamptz';
    if (this.times === 'timestamptz' && d === 'duration') return 'interval';
    if (this.times === 'timestamptz' && d === 'time[]') return 'timestamptz[]';
    return domainType(d);
  }

  get count(): number {
    return Math.max(this.domains.length, this.declared.length);
  }
}

function domainType(d: Domain): SqlType {
  switch (d) {
    case 'time':
    case 'duration':
    case 'int':
      return 'int8';
    case 'bool':
      return 'bool';
    case 'text[]':
      return 'text[]';
    case 'time[]':
      return 'int8[]';
    case 'text':
      return 'text';
  }
}

/** How values compared with, or written into, something of type `t` are read. */
export function typeDomain(t: SqlType): Domain | undefined {
  switch (t) {
    case 'bool':
      return 'bool';
    case 'timestamptz':
    case 'timestamp':
    case 'date':
      return 'time';
    case 'timestamptz[]':
      return 'time[]';
    case 'interval':
      return 'duration';
    case 'int8':
    case 'int4':
    case 'int2':
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc':
    case 'regnamespace':
    case 'regrole':
    case 'xid':
      return 'int';
    case 'text':
    case 'name':
    case 'varchar':
    case 'char':
      return 'text';
    case 'unknown':
    case 'numeric':
    case 'float4':
    case 'float8':
    case 'json':
    case 'jsonb':
    case 'bytea':
    case 'pg_node_tree':
    case 'record':
    case 'void':
      return undefined;
    default:
      return 'text[]';
  }
}

export interface Scope {
  readonly columns: readonly ColumnDef[];
  /** Names a column may be qualified with: the table's name and its alias. */
  readonly qualifiers: ReadonlySet<string>;
  /**
   * For a row made of several tables (a join): each column's qualifiers, by position. Absent:
   * every column has `qualifiers`.
   */
  readonly tables?: readonly ReadonlySet<string>[];
  /** Columns that unqualified names and `*` skip (the second copy of a USING column). */
  readonly hidden?: ReadonlySet<number>;
  /** The enclosing query's scope: a name not found here is looked up there (correlation). */
  readonly outer?: Scope;
  /** On a subquery's own scope: set when a name inside it resolves outside it. */
  readonly correlation?: { correlated: boolean };
  /** Plans the subqueries of expressions (the general query planner sets it). */
  readonly subqueries?: SubqueryPlanner;
  /** Present where aggregates may stand (a SELECT's list and ORDER BY): they are collected here. */
  readonly aggregates?: AggregateSlots;
  /** Inside an aggregate's argument, where another aggregate may not stand. */
  readonly inAggregate?: boolean;
  /** Present in a select list: set-returning calls (`unnest(…)`) are collected here. */
  readonly setFunctions?: SetFunctionSlots;
  /** Present in a select list and ORDER BY: window calls (`… OVER (…)`) are collected here. */
  readonly windows?: WindowSlots;
}

/**
 * The aggregates of a select list, each folded over the rows once; the expressions around them
 * (`count(*) + 1`, `max(start)::text`) are then evaluated on the results.
 */
export class AggregateSlots {
  readonly list: Aggregate[] = [];
  /** Columns referred to outside any aggregate: with an aggregate present, those are an error. */
  bareColumns = 0;
}

export const EMPTY_SCOPE: Scope = { columns: [], qualifiers: new Set() };

/** A subquery in an expression, planned against the scope it stands in. */
export interface SubqueryPlan {
  readonly types: readonly SqlType[];
  /** Whether it reads the rows of enclosing queries (else it is computed once per execution). */
  readonly correlated: boolean;
  run(env: EvalEnv): Value[][];
}

export interface SubqueryPlanner {
  plan(stmt: Statement, scope: Scope, params: ParamSlots): SubqueryPlan;
}

/** A parameter that stands where only a literal may (ORDER BY 1): plan from the original text. */
export class NeedsLiteral extends Error {}

/** Reads a bound value for a given domain, with the error a PostgreSQL user would expect. */
export function coerce(v: Value, domain: Domain | null, what: string, zone = 'UTC'): Value {
  if (v === null || domain === null) return v;
  switch (domain) {
    case 'time':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') return parseTime(v, zone);
      break;
    case 'duration':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') return /^\s*[+-]?\d+\s*$/.test(v) ? parseInt8(v) : parseInterval(v);
      break;
    case 'int':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') return parseInt8(v);
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return parseBool(v);
      break;
    case 'text':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return formatValue(v);
      break;
    case 'text[]':
      if (Array.isArray(v)) return v;
      if (typeof v === 'string') return parseTextArray(v);
      break;
    case 'time[]':
      if (Array.isArray(v) || typeof v === 'string') {
        const items = typeof v === 'string' ? parseTextArray(v) : (v as readonly (string | null)[]);
        return items.map((x) => (x === null ? null : String(/^\s*[+-]?\d+\s*$/.test(x) ? parseInt8(x) : parseTime(x, zone))));
      }
      break;
  }
  throw new AllotError(
    SqlState.datatypeMismatch,
    `${what} must be of type ${domain === 'time' ? 'bigint (or ISO-8601 text)' : domain === 'time[]' ? 'timestamptz[]' : domainType(domain)}, got ${clip(String(formatValue(v)))}`,
  );
}

function undefinedColumn(name: string): AllotError {
  return new AllotError(SqlState.undefinedColumn, `column "${name}" does not exist`);
}

export function compileExpr(ast: Expr, scope: Scope, params: ParamSlots, hint?: Domain): Compiled {
  switch (ast.type) {
    case 'integer': {
      const v = ast.value;
      if (!Number.isSafeInteger(v)) throw new AllotError(SqlState.numericValueOutOfRange, `integer ${v} is out of range`);
      return { type: Math.abs(v) <= 2_147_483_647 ? 'int4' : 'int8', eval: () => v, constant: true };
    }
    case 'numeric': {
      const v = ast.value;
      return { type: 'numeric', eval: () => String(v), constant: true };
    }
    case 'string':
      return compileString(ast, hint);
    case 'boolean': {
      const v = ast.value;
      return { type: 'bool', eval: () => v, constant: true };
    }
    case 'null':
      return { type: hint !== undefined ? domainType(hint) : 'text', eval: () => null, constant: true };
    case 'parameter':
      return compileParameter(ast, params, hint);
    case 'ref':
      return compileRef(ast, scope);
    case 'cast':
      return compileCast(ast, scope, params);
    case 'unary':
      return compileUnary(ast, scope, params);
    case 'binary':
      return compileBinary(ast, scope, params);
    case 'ternary':
      return compileBetween(ast, scope, params);
    case 'keyword':
      return compileKeyword(ast.keyword);
    case 'call':
      return compileCall(ast, scope, params, hint);
    case 'array':
      return compileArrayLiteral(ast, scope, params);
    case 'select':
    case 'union':
    case 'union all':
    case 'values':
    case 'with':
    case 'with recursive':
      return compileScalarSubquery(ast, scope, params);
    case 'array select':
      return compileArraySubquery(ast.select, scope, params);
    case 'case':
      return compileCase(ast, scope, params, hint);
    case 'arrayIndex':
      return compileArrayIndex(ast, scope, params);
    case 'extract':
      return compileExtract(ast, scope, params);
    case 'substring':
      return compileSubstring(ast, scope, params);
    case 'list':
      throw new AllotError(SqlState.syntaxError, 'a parenthesised list is only allowed after IN');
    case 'default':
      throw new AllotError(SqlState.syntaxError, 'DEFAULT is only allowed in VALUES');
    default:
      throw new AllotError(SqlState.featureNotSupported, `expressions of kind "${ast.type}" are not supported by allot`);
  }
}

/** A string literal: text, or read in the domain `hint` asks for (a time in the session's TimeZone). */
function compileString(ast: Extract<Expr, { type: 'string' }>, hint: Domain | undefined): Compiled {
  const v = ast.value;
  if (hint === 'time' && !/^\s*[+-]?\d+\s*$/.test(v)) {
    // A wall clock is read in the TimeZone of the session that runs the plan; 'now' and
    // 'today' at the statement's instant.
    const relative = /^\s*(now|today|tomorrow|yesterday)\s*$/i.test(v);
    if (!relative) coerce(v, 'time', 'value'); // refuses bad text at plan time
    let zone = '';
    let ms = 0;
    return {
      type: 'int8',
      domain: 'time',
      constant: true,
      eval: (_row, env) => {
        const z = env.session === undefined ? 'UTC' : timeZoneOf(env.session);
        if (relative) return parseTime(v, z, env.read?.now ?? env.now);
        if (z !== zone) {
          ms = parseTime(v, z);
          zone = z;
        }
        return ms;
      },
    };
  }
  if (hint === 'time[]') {
    // Checked now, read where it is written, in the TimeZone of the session that runs the plan.
    coerce(v, 'time[]', 'value');
    return { type: 'text', eval: () => v, constant: true };
  }
  if (hint !== undefined) {
    const c = coerce(v, hint, 'value');
    return { type: domainType(hint), eval: () => c, constant: true };
  }
  return { type: 'text', eval: () => v, constant: true };
}

/** `$n`: its type inferred from where it stands, its value the bound one. */
function compileParameter(ast: Extract<Expr, { type: 'parameter' }>, params: ParamSlots, hint: Domain | undefined): Compiled {
  const index = Number(ast.name.slice(1)) - 1;
  if (!Number.isInteger(index) || index < 0 || index >= 65_535) throw new AllotError(SqlState.syntaxError, `bad parameter ${ast.name}`);
  params.use(index, hint);
  return {
    get type(): SqlType {
      return params.typeOf(index);
    },
    eval: (_row, env) => env.params[index] ?? null,
    param: index,
    constant: true,
  };
}

/** `x [NOT] BETWEEN a AND b`, its bounds read in x's domain. */
function compileBetween(ast: Extract<Expr, { type: 'ternary' }>, scope: Scope, params: ParamSlots): Compiled {
  const value = compileExpr(ast.value, scope, params);
  const d = value.domain ?? typeDomain(value.type);
  const lo = compileExpr(ast.lo, scope, params, d);
  const hi = compileExpr(ast.hi, scope, params, d);
  const not = ast.op === 'NOT BETWEEN';
  return {
    type: 'bool',
    eval: (row, env) => {
      const v = value.eval(row, env);
      const a = lo.eval(row, env);
      const b = hi.eval(row, env);
      if (v === null || a === null || b === null) return null;
      const inside = compare(v, a) >= 0 && compare(v, b) <= 0;
      return not ? !inside : inside;
    },
  };
}

/** `ARRAY[…]`: a text array of its items. */
function compileArrayLiteral(ast: ExprList, scope: Scope, params: ParamSlots): Compiled {
  const items = ast.expressions.map((e) => compileExpr(e, scope, params, 'text'));
  return {
    type: 'text[]',
    eval: (row, env) =>
      items.map((it) => {
        const v = it.eval(row, env);
        return v === null ? null : String(formatValue(v));
      }),
    constant: items.every((i) => i.constant === true),
  };
}

/** `substring(v FROM f FOR n)`. */
function compileSubstring(ast: Extract<Expr, { type: 'substring' }>, scope: Scope, params: ParamSlots): Compiled {
  const value = compileExpr(ast.value, scope, params, 'text');
  const from = ast.from != null ? compileExpr(ast.from, scope, params, 'int') : null;
  const len = ast.for != null ? compileExpr(ast.for, scope, params, 'int') : null;
  return {
    type: 'text',
    eval: (row, env) => {
      const v = value.eval(row, env);
      const f = from === null ? 1 : from.eval(row, env);
      const n = len === null ? undefined : len.eval(row, env);
      if (v === null || f === null || n === null) return null;
      return substring(String(formatValue(v)), toNumber(f), n === undefined ? undefined : toNumber(n));
    },
  };
}

/** Positions of the columns of `scope` a reference names. */
function matches(scope: Scope, name: string, table: string | undefined): number[] {
  const out: number[] = [];
  scope.columns.forEach((c, i) => {
    if (c.name !== name) return;
    if (table === undefined) {
      if (scope.hidden?.has(i) !== true) out.push(i);
    } else if ((scope.tables?.[i] ?? scope.qualifiers).has(table)) out.push(i);
  });
  return out;
}

function hasQualifier(scope: Scope, table: string): boolean {
  return scope.tables !== undefined ? scope.tables.some((t) => t.has(table)) : scope.qualifiers.has(table);
}

/**
 * A column reference: found in the row's own tables, or in an enclosing query's (a correlated
 * subquery reads that row from `env.outer`).
 */
function compileRef(ast: Extract<Expr, { type: 'ref' }>, scope: Scope): Compiled {
  const name = ast.name;
  if (name === '*') throw new AllotError(SqlState.syntaxError, '"*" is only allowed as a whole select list or in count(*)');
  const table = ast.table?.name;
  let depth = 0;
  const crossed: Scope[] = [];
  for (let s: Scope | undefined = scope; s !== undefined; s = s.outer, depth++) {
    const hits = matches(s, name, table);
    if (hits.length > 1) throw new AllotError(SqlState.ambiguousColumn, `column reference "${name}" is ambiguous`);
    const i = hits[0];
    if (i === undefined) {
      if (table !== undefined && hasQualifier(s, table)) throw new AllotError(SqlState.undefinedColumn, `column ${table}.${name} does not exist`);
      crossed.push(s);
      continue;
    }
    const col = s.columns[i]!;
    for (const c of crossed) if (c.correlation !== undefined) c.correlation.correlated = true;
    if (depth === 0) {
      if (scope.aggregates !== undefined) scope.aggregates.bareColumns++;
      return { type: col.type, eval: (row) => row[i] ?? null, column: i, domain: col.domain, ...(col.fields !== undefined ? { fields: col.fields } : {}) };
    }
    const d = depth;
    return { type: col.type, eval: (_row, env) => env.outer?.[env.outer.length - d]?.[i] ?? null, domain: col.domain };
  }
  if (table !== undefined) throw new AllotError(SqlState.undefinedTable, `missing FROM-clause entry for table "${table}"`);
  throw undefinedColumn(name);
}

/** PostgreSQL's substring(s from f for n): positions from 1, a start before 1 shortens the count. */
export function substring(s: string, from: number, count?: number): string {
  const chars = [...s];
  if (count !== undefined && count < 0) throw new AllotError(SqlState.substringError, 'negative substring length not allowed');
  const start = Math.max(from, 1);
  const end = count === undefined ? chars.length + 1 : from + count;
  return end <= start ? '' : chars.slice(start - 1, end - 1).join('');
}

function planSubquery(stmt: Statement, scope: Scope, params: ParamSlots): SubqueryPlan {
  if (scope.subqueries === undefined) throw new AllotError(SqlState.featureNotSupported, 'subqueries are not supported here');
  return scope.subqueries.plan(stmt, scope, params);
}

/** A subquery's rows for one evaluation: once per execution when it reads no outer row. */
function subqueryRows(plan: SubqueryPlan, row: readonly Value[], env: EvalEnv): Value[][] {
  if (!plan.correlated && env.memo !== undefined) {
    const hit = env.memo.get(plan) as Value[][] | undefined;
    if (hit !== undefined) return hit;
    const rows = plan.run(env);
    env.memo.set(plan, rows);
    return rows;
  }
  return plan.run({ ...env, outer: [...(env.outer ?? []), row] });
}

function oneColumn(plan: SubqueryPlan): SqlType {
  if (plan.types.length !== 1) throw new AllotError(SqlState.syntaxError, 'subquery must return only one column');
  return plan.types[0]!;
}

function compileScalarSubquery(stmt: Statement, scope: Scope, params: ParamSlots): Compiled {
  const plan = planSubquery(stmt, scope, params);
  const type = oneColumn(plan);
  return {
    type,
    eval: (row, env) => {
      const rows = subqueryRows(plan, row, env);
      if (rows.length > 1) throw new AllotError(SqlState.cardinalityViolation, 'more than one row returned by a subquery used as an expression');
      return rows[0]?.[0] ?? null;
    },
  };
}

function compileArraySubquery(stmt: Statement, scope: Scope, params: ParamSlots): Compiled {
  const plan = planSubquery(stmt, scope, params);
  const element = oneColumn(plan);
  return {
    type: arrayOf(element),
    eval: (row, env) => subqueryRows(plan, row, env).map((r) => (r[0] === null || r[0] === undefined ? null : String(formatValue(r[0])))),
  };
}

function compileExists(stmt: Statement, scope: Scope, params: ParamSlots): Compiled {
  const plan = planSubquery(stmt, scope, params);
  return { type: 'bool', eval: (row, env) => subqueryRows(plan, row, env).length > 0 };
}

/** `x IN (SELECT …)`, `x = ANY (SELECT …)`: null when no row matches and one was null, as SQL says. */
function compileInSubquery(left: Compiled, stmt: Statement, scope: Scope, params: ParamSlots, not: boolean): Compiled {
  const plan = planSubquery(stmt, scope, params);
  oneColumn(plan);
  return {
    type: 'bool',
    eval: (row, env) => {
      const v = left.eval(row, env);
      const rows = subqueryRows(plan, row, env);
      if (rows.length === 0) return not;
      if (v === null) return null;
      let sawNull = false;
      for (const r of rows) {
        const x = r[0] ?? null;
        if (x === null) sawNull = true;
        else if (compare(v, x) === 0) return !not;
      }
      return sawNull ? null : not;
    },
  };
}

function isStatement(e: Expr): e is Extract<Expr, { type: 'select' | 'union' | 'union all' | 'values' | 'with' | 'with recursive' }> {
  return e.type === 'select' || e.type === 'union' || e.type === 'union all' || e.type === 'values' || e.type === 'with' || e.type === 'with recursive';
}

/** The array type of an element type; text[] where allot has no closer one. */
export function arrayOf(t: SqlType): SqlType {
  switch (t) {
    case 'bool':
      return 'bool[]';
    case 'char':
      return 'char[]';
    case 'name':
      return 'name[]';
    case 'int2':
      return 'int2[]';
    case 'int4':
      return 'int4[]';
    case 'int8':
      return 'int8[]';
    case 'oid':
      return 'oid[]';
    default:
      return 'text[]';
  }
}

function compileCase(ast: Extract<Expr, { type: 'case' }>, scope: Scope, params: ParamSlots, hint?: Domain): Compiled {
  const subject = ast.value != null ? compileExpr(ast.value, scope, params) : null;
  const subjectDomain = subject === null ? undefined : (subject.domain ?? typeDomain(subject.type));
  const whens = ast.whens.map((w) => ({
    when: compileExpr(w.when, scope, params, subject === null ? 'bool' : subjectDomain),
    value: compileExpr(w.value, scope, params, hint),
  }));
  const first = whens.find((w) => w.value.type !== 'unknown' && !(w.value.constant === true && w.value.eval([], NO_ENV) === null))?.value;
  const otherwise = ast.else != null ? compileExpr(ast.else, scope, params, hint ?? typeDomain(first?.type ?? 'text')) : null;
  const type = first?.type ?? otherwise?.type ?? 'text';
  return {
    type,
    eval: (row, env) => {
      const v = subject === null ? null : subject.eval(row, env);
      for (const w of whens) {
        const c = w.when.eval(row, env);
        const hit = subject === null ? c !== null && toBool(c) : v !== null && c !== null && compare(v, c) === 0;
        if (hit) return w.value.eval(row, env);
      }
      return otherwise === null ? null : otherwise.eval(row, env);
    },
  };
}

/** An environment for evaluating constants at plan time. */
const NO_ENV = { params: [], session: undefined as unknown as SessionView } satisfies EvalEnv;

/** `a[i]`: arrays count from 1; int2vector and oidvector, as in PostgreSQL, from 0. */
function compileArrayIndex(ast: Extract<Expr, { type: 'arrayIndex' }>, scope: Scope, params: ParamSlots): Compiled {
  const arr = compileExpr(ast.array, scope, params);
  const index = compileExpr(ast.index, scope, params, 'int');
  const element = elementType(arr.type) ?? 'text';
  const base = arr.type === 'int2vector' || arr.type === 'oidvector' ? 0 : 1;
  const domain = typeDomain(element);
  return {
    type: element,
    eval: (row, env) => {
      const a = arr.eval(row, env);
      const i = index.eval(row, env);
      if (a === null || i === null) return null;
      const xs = asArray(a);
      const x = xs?.[toNumber(i) - base];
      if (x === undefined || x === null) return null;
      return domain === undefined || domain === 'text' ? x : coerce(x, domain, 'array element');
    },
  };
}

/**
 * The statement's instant: the read's (a block's first write fixes it), or the write's. The
 * SQL layer asks the session's clock; the engine never does.
 */
function instantOf(env: EvalEnv): number {
  return env.read?.now ?? env.now ?? Date.now();
}

function compileExtract(ast: Extract<Expr, { type: 'extract' }>, scope: Scope, params: ParamSlots): Compiled {
  const field = ast.field.name.toLowerCase();
  const from = compileExpr(ast.from, scope, params);
  const interval = from.type === 'interval';
  return {
    type: 'numeric',
    eval: (row, env) => {
      const v = from.eval(row, env);
      if (v === null) return null;
      const ms = toNumber(v);
      return interval
        ? extractFromInterval(field, ms)
        : extractField(field, ms, from.type === 'timestamp' || from.type === 'date' ? 'UTC' : timeZoneOf(env.session));
    },
  };
}

function compileKeyword(keyword: string): Compiled {
  switch (keyword) {
    case 'current_user':
    case 'session_user':
    case 'user':
      return { type: 'name', eval: (_r, env) => env.session.user };
    case 'current_schema':
      return { type: 'name', eval: () => 'public' };
    case 'current_catalog':
      return { type: 'name', eval: (_r, env) => env.session.database };
    case 'current_timestamp':
      return { type: 'timestamptz', domain: 'time', eval: (_r, env) => instantOf(env) };
    case 'localtimestamp':
      return { type: 'timestamp', domain: 'time', eval: (_r, env) => instantOf(env) + zoneOffsetMs(instantOf(env), timeZoneOf(env.session)) };
    case 'current_date':
      return {
        type: 'date',
        domain: 'time',
        eval: (_r, env) => dateTrunc('day', instantOf(env), timeZoneOf(env.session)) + zoneOffsetMs(instantOf(env), timeZoneOf(env.session)),
      };
    default:
      throw new AllotError(SqlState.featureNotSupported, `${keyword} is not supported by allot`);
  }
}

function compileCast(ast: Extract<Expr, { type: 'cast' }>, scope: Scope, params: ParamSlots): Compiled {
  const target = castTarget(ast.to as Parameters<typeof castTarget>[0]);
  const domain = typeDomain(target);
  // A parameter takes its type from the cast (a reg* type is given by name); a literal stays as
  // written until the cast reads it.
  const reg = target === 'regclass' || target === 'regtype' || target === 'regproc' || target === 'regnamespace' || target === 'regrole';
  const inner = compileExpr(ast.operand, scope, params, ast.operand.type === 'parameter' ? (reg ? 'text' : domain) : undefined);
  const from = inner.type;
  const cast: Eval = (row, env) => castValue(inner.eval(row, env), from, target, env.session, env.read?.now);
  if (inner.param !== undefined) return { type: target, eval: cast, param: inner.param, constant: true, ...(domain !== undefined ? { domain } : {}) };
  return { type: target, eval: cast, ...(domain !== undefined ? { domain } : {}) };
}

function compileUnary(ast: Extract<Expr, { type: 'unary' }>, scope: Scope, params: ParamSlots): Compiled {
  const op = ast.op;
  if (op === '-' || op === '+') {
    const inner = compileExpr(ast.operand, scope, params, 'int');
    return {
      type: inner.type,
      eval: (row, env) => {
        const v = inner.eval(row, env);
        if (v === null) return null;
        const n = toNumber(v);
        return op === '-' ? (n === 0 ? 0 : -n) : n;
      },
      constant: inner.constant,
    };
  }
  const inner = compileExpr(ast.operand, scope, params, op === 'NOT' ? 'bool' : undefined);
  switch (op) {
    case 'NOT':
      return {
        type: 'bool',
        eval: (row, env) => {
          const v = inner.eval(row, env);
          return v === null ? null : !toBool(v);
        },
      };
    case 'IS NULL':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) === null };
    case 'IS NOT NULL':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) !== null };
    case 'IS TRUE':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) === true };
    case 'IS NOT TRUE':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) !== true };
    case 'IS FALSE':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) === false };
    case 'IS NOT FALSE':
      return { type: 'bool', eval: (row, env) => inner.eval(row, env) !== false };
    default:
      throw new AllotError(SqlState.featureNotSupported, `operator ${op} is not supported by allot`);
  }
}

function compileBinary(ast: Extract<Expr, { type: 'binary' }>, scope: Scope, params: ParamSlots): Compiled {
  const op = ast.op;
  if (op === 'AND' || op === 'OR') return compileLogical(op, ast, scope, params);
  if ((op === 'IN' || op === 'NOT IN') && isStatement(ast.right)) {
    return compileInSubquery(compileExpr(ast.left, scope, params), ast.right, scope, params, op === 'NOT IN');
  }
  if (ast.right.type === 'call' && ast.right.args.length === 1 && isStatement(ast.right.args[0]!)) {
    const fn = ast.right.function.name.toLowerCase();
    if ((fn === 'any' || fn === 'some') && op === '=')
      return compileInSubquery(compileExpr(ast.left, scope, params), ast.right.args[0] as Statement, scope, params, false);
    if (fn === 'all' && op === '!=') return compileInSubquery(compileExpr(ast.left, scope, params), ast.right.args[0] as Statement, scope, params, true);
  }
  if (op === 'IN' || op === 'NOT IN') return compileInList(op, ast, scope, params);
  // `x = ANY(array)`
  if (ast.right.type === 'call' && ast.right.function.name.toLowerCase() === 'any' && ast.right.args.length === 1)
    return compileAnyArray(op, ast, ast.right.args[0]!, scope, params);
  let l = compileExpr(ast.left, scope, params);
  const r = compileExpr(ast.right, scope, params, l.param === undefined ? operandHint(op, l) : undefined);
  if (l.param !== undefined) {
    // The left side is a bare parameter: it takes its type from the right.
    params.use(l.param, operandHint(op, r));
    l = compileExpr(ast.left, scope, params);
  }
  return compileOperator(op, l, r);
}

/** A binary operator on its compiled operands. */
function compileOperator(op: string, l: Compiled, r: Compiled): Compiled {
  switch (op) {
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const test = COMPARE[op]!;
      return {
        type: 'bool',
        eval: (row, env) => {
          const a = l.eval(row, env);
          const b = r.eval(row, env);
          return a === null || b === null ? null : test(compare(a, b));
        },
      };
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return compileArithmetic(op, l, r);
    case 'AT TIME ZONE':
      return compileAtTimeZone(l, r);
    case '||':
      return {
        type: 'text',
        eval: (row, env) => {
          const a = l.eval(row, env);
          const b = r.eval(row, env);
          return a === null || b === null ? null : String(formatValue(a)) + String(formatValue(b));
        },
      };
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return compileLike(op, l, r);
    case '~':
    case '~*':
    case '!~':
    case '!~*':
      return compileRegexMatch(op, l, r);
    case '@>':
    case '<@':
    case '&&':
      return compileArrayOperator(op, l, r);
    default:
      throw new AllotError(SqlState.featureNotSupported, `operator ${op} is not supported by allot`);
  }
}

function compileLogical(op: 'AND' | 'OR', ast: Extract<Expr, { type: 'binary' }>, scope: Scope, params: ParamSlots): Compiled {
  const l = compileExpr(ast.left, scope, params, 'bool');
  const r = compileExpr(ast.right, scope, params, 'bool');
  if (op === 'AND') {
    return {
      type: 'bool',
      eval: (row, env) => {
        const a = l.eval(row, env);
        if (a !== null && !toBool(a)) return false;
        const b = r.eval(row, env);
        if (b !== null && !toBool(b)) return false;
        return a === null || b === null ? null : true;
      },
    };
  }
  return {
    type: 'bool',
    eval: (row, env) => {
      const a = l.eval(row, env);
      if (a !== null && toBool(a)) return true;
      const b = r.eval(row, env);
      if (b !== null && toBool(b)) return true;
      return a === null || b === null ? null : false;
    },
  };
}

/** `x [NOT] IN (…)` over a list of values. */
function compileInList(op: 'IN' | 'NOT IN', ast: Extract<Expr, { type: 'binary' }>, scope: Scope, params: ParamSlots): Compiled {
  const l = compileExpr(ast.left, scope, params);
  const d = l.domain ?? typeDomain(l.type);
  const items = inListItems(ast.right).map((e) => compileExpr(e, scope, params, d));
  const not = op === 'NOT IN';
  return {
    type: 'bool',
    eval: (row, env) => {
      const v = l.eval(row, env);
      if (v === null) return null;
      let sawNull = false;
      for (const it of items) {
        const x = it.eval(row, env);
        if (x === null) sawNull = true;
        else if (compare(v, x) === 0) return !not;
      }
      return sawNull ? null : not;
    },
  };
}

/** `x = ANY(array)`. */
function compileAnyArray(op: string, ast: Extract<Expr, { type: 'binary' }>, array: Expr, scope: Scope, params: ParamSlots): Compiled {
  const l = compileExpr(ast.left, scope, params);
  const arr = compileExpr(array, scope, params, 'text[]');
  if (op !== '=') throw new AllotError(SqlState.featureNotSupported, `only = ANY(…) is supported`);
  const d = l.domain ?? typeDomain(l.type);
  return {
    type: 'bool',
    eval: (row, env) => {
      const v = l.eval(row, env);
      const a = arr.eval(row, env);
      if (v === null || a === null) return null;
      const xs = Array.isArray(a) ? a : parseTextArray(String(a));
      let sawNull = false;
      for (const x of xs) {
        if (x === null) sawNull = true;
        else if (compare(v, coerce(x, d ?? null, 'array element')) === 0) return true;
      }
      return sawNull ? null : false;
    },
  };
}

function compileArithmetic(op: string, l: Compiled, r: Compiled): Compiled {
  const type = arithmeticType(op, l.type, r.type);
  const exact = type === 'int8' || type === 'int4' || type === 'timestamptz' || type === 'interval';
  const f = exact ? ARITH[op]! : FLOAT_ARITH[op]!;
  return {
    type,
    ...(typeDomain(type) !== undefined ? { domain: typeDomain(type)! } : {}),
    eval: (row, env) => {
      const a = l.eval(row, env);
      const b = r.eval(row, env);
      if (a === null || b === null) return null;
      return f(exact ? toNumber(a) : toFloat(a), exact ? toNumber(b) : toFloat(b));
    },
    constant: l.constant === true && r.constant === true,
  };
}

/** timestamptz AT TIME ZONE z: the wall clock there (a timestamp); timestamp AT TIME ZONE z: the instant. */
function compileAtTimeZone(l: Compiled, r: Compiled): Compiled {
  const local = l.type === 'timestamp';
  return {
    type: local ? 'timestamptz' : 'timestamp',
    eval: (row, env) => {
      const a = l.eval(row, env);
      const z = r.eval(row, env);
      if (a === null || z === null) return null;
      const zone = normalizeTimeZone(String(formatValue(z)));
      const ms = toNumber(a);
      return local ? parseTimestamptz(formatTimestamp(ms).replace(/ BC$/, ''), zone) : ms + zoneOffsetMs(ms, zone);
    },
  };
}

function compileLike(op: string, l: Compiled, r: Compiled): Compiled {
  const insensitive = op.includes('ILIKE');
  const not = op.startsWith('NOT');
  return {
    type: 'bool',
    eval: (row, env) => {
      const a = l.eval(row, env);
      const b = r.eval(row, env);
      if (a === null || b === null) return null;
      const hit = likeRegex(String(b), insensitive).test(String(formatValue(a)));
      return not ? !hit : hit;
    },
  };
}

/** POSIX regular expressions, read as JavaScript's (the same for what catalogs and apps send). */
function compileRegexMatch(op: string, l: Compiled, r: Compiled): Compiled {
  const insensitive = op.includes('*');
  const not = op.startsWith('!');
  let last: { pattern: string; re: RegExp } | null = null;
  return {
    type: 'bool',
    eval: (row, env) => {
      const a = l.eval(row, env);
      const b = r.eval(row, env);
      if (a === null || b === null) return null;
      const pattern = String(formatValue(b));
      if (last === null || last.pattern !== pattern) last = { pattern, re: posixRegex(pattern, insensitive) };
      const hit = last.re.test(String(formatValue(a)));
      return not ? !hit : hit;
    },
  };
}

/** The array operators @>, <@ and &&. */
function compileArrayOperator(op: string, l: Compiled, r: Compiled): Compiled {
  return {
    type: 'bool',
    eval: (row, env) => {
      const a = asArray(l.eval(row, env));
      const b = asArray(r.eval(row, env));
      if (a === null || b === null) return null;
      if (op === '@>') return b.every((x) => a.includes(x));
      if (op === '<@') return a.every((x) => b.includes(x));
      return a.some((x) => x !== null && b.includes(x));
    },
  };
}

function operandHint(op: string, other: Compiled): Domain | undefined {
  if (op === '@>' || op === '<@' || op === '&&') return 'text[]';
  if (op === '||' || op.includes('LIKE')) return 'text';
  if (other.domain !== undefined) return other.domain;
  if (other.column !== undefined || other.param !== undefined || other.constant !== true) {
    return typeDomain(other.type) ?? undefined;
  }
  return other.type === 'int4' || other.type === 'int8' ? 'int' : undefined;
}

const COMPARE: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '<>': (c) => c !== 0,
  '!=': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

const ARITH: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => checkedInt(a + b),
  '-': (a, b) => checkedInt(a - b),
  '*': (a, b) => checkedInt(a * b),
  '/': (a, b) => {
    if (b === 0) throw new AllotError(SqlState.divisionByZero, 'division by zero');
    return Math.trunc(a / b);
  },
  '%': (a, b) => {
    if (b === 0) throw new AllotError(SqlState.divisionByZero, 'division by zero');
    return a % b;
  },
};

const FLOAT_ARITH: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => {
    if (b === 0) throw new AllotError(SqlState.divisionByZero, 'division by zero');
    return a / b;
  },
  '%': (a, b) => {
    if (b === 0) throw new AllotError(SqlState.divisionByZero, 'division by zero');
    return a % b;
  },
};

const INTEGERS: ReadonlySet<SqlType> = new Set(['int2', 'int4', 'int8', 'oid', 'unknown', 'text', 'varchar']);

/**
 * The type of `a op b`, as PostgreSQL's operators give it: instants minus instants are
 * intervals, an instant plus an interval (or, allot's shorthand, milliseconds) an instant,
 * intervals scale by numbers; integers stay integers, anything with a float or numeric is one.
 */
function arithmeticType(op: string, a: SqlType, b: SqlType): SqlType {
  const time = (t: SqlType): boolean => t === 'timestamptz' || t === 'timestamp';
  if (time(a) && time(b)) {
    if (op !== '-') throw new AllotError(SqlState.undefinedFunction, `operator does not exist: ${a} ${op} ${b}`);
    return 'interval';
  }
  if (time(a) || time(b)) {
    if (op === '+' || (op === '-' && time(a))) return time(a) ? a : b;
    throw new AllotError(SqlState.undefinedFunction, `operator does not exist: ${a} ${op} ${b}`);
  }
  if (a === 'interval' || b === 'interval') {
    if ((op === '+' || op === '-') && (a === b || INTEGERS.has(a === 'interval' ? b : a))) return 'interval';
    if (op === '*' || (op === '/' && a === 'interval')) return 'interval';
    throw new AllotError(SqlState.undefinedFunction, `operator does not exist: ${a} ${op} ${b}`);
  }
  if (a === 'float8' || b === 'float8' || a === 'float4' || b === 'float4') return 'float8';
  if (a === 'numeric' || b === 'numeric') return 'numeric';
  return (a === 'int4' || a === 'int2') && (b === 'int4' || b === 'int2') ? 'int4' : 'int8';
}

function toFloat(v: Value): number {
  if (typeof v === 'number') return v;
  const n = Number(typeof v === 'string' ? v.trim() : NaN);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(n)) return n;
  throw new AllotError(SqlState.datatypeMismatch, `expected a number, got ${clip(String(formatValue(v)))}`);
}

function checkedInt(n: number): number {
  if (!Number.isSafeInteger(n)) throw new AllotError(SqlState.numericValueOutOfRange, 'bigint out of range');
  return n;
}

function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseInt8(v);
  throw new AllotError(SqlState.datatypeMismatch, `expected a number, got ${clip(String(formatValue(v)))}`);
}

export function toBool(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return parseBool(v);
  throw new AllotError(SqlState.datatypeMismatch, `argument must be of type boolean, got ${clip(String(formatValue(v)))}`);
}

function asArray(v: Value): readonly (string | null)[] | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v;
  return parseTextArray(String(v));
}

/** Orders two non-null values: numbers numerically, text by code point, mixed by coercion. */
export function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number' && typeof b === 'string') return a - parseTime(b);
  if (typeof a === 'string' && typeof b === 'number') return parseTime(a) - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if ((typeof a === 'boolean' && typeof b === 'number') || (typeof a === 'number' && typeof b === 'boolean')) {
    throw new AllotError(SqlState.datatypeMismatch, `cannot compare a number with a boolean: ${String(formatValue(a))} and ${String(formatValue(b))}`);
  }
  if (typeof a === 'boolean') return Number(a) - Number(toBool(b));
  if (typeof b === 'boolean') return Number(toBool(a)) - Number(b);
  const x = String(formatValue(a));
  const y = String(formatValue(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function posixRegex(pattern: string, insensitive: boolean): RegExp {
  try {
    return new RegExp(
      pattern.replace(/\[\[:(\w+):\]\]/g, (_m, cls: string) => POSIX_CLASSES[cls] ?? _m),
      insensitive ? 'i' : '',
    );
  } catch (e) {
    throw new AllotError(SqlState.invalidRegularExpression, `invalid regular expression: ${(e as Error).message}`);
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: '[A-Za-z]',
  digit: '[0-9]',
  alnum: '[A-Za-z0-9]',
  space: '\\s',
  upper: '[A-Z]',
  lower: '[a-z]',
  punct: '[!-/:-@[-`{-~]',
  word: '\\w',
  xdigit: '[0-9A-Fa-f]',
};

function likeRegex(pattern: string, insensitive: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`, insensitive ? 'i' : '');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every function a statement may call, by name (docs/sql.md lists them; a test checks). */
export function functionNames(): string[] {
  return [...new Set([...CALLS.keys(), ...SCALAR_FUNCTIONS.keys(), ...SYSTEM_FUNCTIONS.keys(), ...SET_FUNCTIONS])].sort();
}

/** What the compiler of one function is given: the call, its name (lower case), its arguments and scope. */
interface Call {
  readonly name: string;
  readonly args: readonly Expr[];
  readonly scope: Scope;
  readonly params: ParamSlots;
  readonly hint: Domain | undefined;
  readonly call: CallAst;
  /** Refuses any other number of arguments, as PostgreSQL finds no such function. */
  arity(n: number | number[]): void;
}

type CallAst = Extract<Expr, { type: 'call' }> & { distinct?: string; filter?: Expr; over?: unknown; withinGroup?: unknown; orderBy?: unknown };

function compileCall(ast: Extract<Expr, { type: 'call' }>, scope: Scope, params: ParamSlots, hint?: Domain): Compiled {
  const name = ast.function.name.toLowerCase();
  const schema = ast.function.schema?.toLowerCase();
  if (schema !== undefined && schema !== 'pg_catalog' && schema !== 'public' && schema !== 'information_schema')
    throw new AllotError(SqlState.undefinedFunction, `function ${schema}.${name} does not exist`);
  const args = ast.args;
  const arity = (n: number | number[]): void => {
    const ok = Array.isArray(n) ? n.includes(args.length) : args.length === n;
    if (!ok) throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
  };
  const call = ast as CallAst;
  if (call.over != null) return compileWindowCall(name, args, call.over, scope, params);
  if (name === '__field' && args.length === 2) {
    const field = args[1]!;
    // The field name is a literal the simple protocol lifted: plan from the original text.
    if (field.type === 'parameter' && params.lifted.has(Number(field.name.slice(1)) - 1)) throw new NeedsLiteral();
    if (field.type === 'string') return recordField(compileExpr(args[0]!, scope, params), field.value);
  }
  if (scope.setFunctions !== undefined && SET_FUNCTIONS.has(name)) {
    const { setFunctions, windows: _w, ...rest } = scope;
    return setFunctionCall(
      name,
      args.map((a) => compileExpr(a, rest, params)),
      setFunctions,
    );
  }
  if (call.withinGroup != null) throw new AllotError(SqlState.featureNotSupported, `WITHIN GROUP is not supported by allot`);
  const aggregate = (AGGREGATES as readonly string[]).includes(name);
  if (!aggregate) {
    // Only an aggregate takes these; PostgreSQL refuses them on a plain function the same way.
    if (call.distinct === 'distinct') throw new AllotError(SqlState.wrongObjectType, `DISTINCT specified, but ${name} is not an aggregate function`);
    if (call.filter != null) throw new AllotError(SqlState.wrongObjectType, `FILTER specified, but ${name} is not an aggregate function`);
    if (call.orderBy != null) throw new AllotError(SqlState.wrongObjectType, `ORDER BY specified, but ${name} is not an aggregate function`);
  }
  if (name === 'exists' && args.length === 1 && isStatement(args[0]!)) return compileExists(args[0], scope, params);
  const compiler = CALLS.get(name);
  if (compiler !== undefined) return compiler({ name, args, scope, params, hint, call, arity });
  const f = SCALAR_FUNCTIONS.get(name);
  if (f !== undefined) return compileScalar(name, f, args, scope, params);
  const system = SYSTEM_FUNCTIONS.get(name);
  if (system !== undefined) return compileSystem(name, system, args, scope, params);
  throw new AllotError(SqlState.undefinedFunction, `function ${name}() does not exist in allot`, {
    hint: 'docs/sql.md (Functions) lists the functions allot has.',
  });
}

/** `fn(…) OVER (…)`: its argument, partition and order read per row, outside any aggregate. */
function compileWindowCall(name: string, args: readonly Expr[], over: NonNullable<CallAst['over']>, scope: Scope, params: ParamSlots): Compiled {
  if (scope.windows === undefined) throw new AllotError(SqlState.windowingError, `window functions are not allowed here`);
  const { windows, setFunctions: _s, aggregates: _a, ...rest } = scope;
  const inner: Scope = rest;
  const star = args.length === 1 && args[0]!.type === 'ref' && (args[0] as { name: string }).name === '*';
  const arg = args.length === 0 || star ? null : compileExpr(args[0]!, inner, params);
  return windowCall(
    {
      fn: name,
      arg,
      partitionBy: (over.partitionBy ?? []).map((e) => compileExpr(e, inner, params)),
      orderBy: windowKeys(over.orderBy, (e) => compileExpr(e, inner, params)),
    },
    windows,
  );
}

function compileAggregate({ name, args, scope, params, call, arity }: Call): Compiled {
  arity(name === 'string_agg' ? 2 : 1);
  const slots = scope.aggregates;
  if (slots === undefined) {
    throw new AllotError(
      SqlState.groupingError,
      scope.inAggregate === true
        ? 'aggregate function calls cannot be nested'
        : `aggregate functions such as ${name}() are only allowed in the select list and ORDER BY of a SELECT`,
    );
  }
  // The argument is read per row, where neither another aggregate nor the bare-column count applies.
  const { aggregates: _slots, ...rest } = scope;
  const inner: Scope = { ...rest, inAggregate: true };
  const star = name === 'count' && args[0]!.type === 'ref' && (args[0] as { name: string }).name === '*';
  const arg = star ? null : compileExpr(args[0]!, inner, params);
  const filter = call.filter != null ? compileExpr(call.filter, inner, params, 'bool') : null;
  // An ORDER BY inside count, min, max or sum cannot change its result: accepted and unused.
  const separator = name === 'string_agg' ? compileExpr(args[1]!, inner, params, 'text') : undefined;
  const slot =
    slots.list.push({ fn: name as Aggregate['fn'], arg, distinct: call.distinct === 'distinct', filter, ...(separator !== undefined ? { separator } : {}) }) -
    1;
  return {
    type: aggregateType(name as Aggregate['fn'], arg?.type ?? 'int8'),
    eval: (_row, env) => {
      if (env.aggregates === undefined) throw new Error('aggregate evaluated outside aggregation');
      return env.aggregates[slot] ?? null;
    },
  };
}

function compileCurrentSetting({ args, scope, params, arity }: Call): Compiled {
  arity([1, 2]);
  const key = compileExpr(args[0]!, scope, params, 'text');
  const missingOk = args[1] !== undefined ? compileExpr(args[1], scope, params, 'bool') : null;
  return {
    type: 'text',
    eval: (row, env) => {
      const k = String(key.eval(row, env)).toLowerCase();
      const v = env.session.setting(k);
      if (v === undefined) {
        if (missingOk !== null && missingOk.eval(row, env) === true) return null;
        throw new AllotError(SqlState.undefinedObject, `unrecognized configuration parameter "${k}"`);
      }
      return v;
    },
  };
}

function compileSetConfig({ args, scope, params, arity }: Call): Compiled {
  arity(3);
  const key = compileExpr(args[0]!, scope, params, 'text');
  const value = compileExpr(args[1]!, scope, params, 'text');
  compileExpr(args[2]!, scope, params, 'bool');
  return {
    type: 'text',
    eval: (row, env) => {
      const v = String(value.eval(row, env));
      env.session.setSetting(String(key.eval(row, env)).toLowerCase(), v);
      return v;
    },
  };
}

/** A function of no arguments: its type and value. */
function niladic(type: SqlType, value: (env: EvalEnv) => Value, domain?: Domain): (c: Call) => Compiled {
  return ({ arity }) => {
    arity(0);
    return { type, ...(domain !== undefined ? { domain } : {}), eval: (_r, env) => value(env) };
  };
}

function compileToTimestamp({ args, scope, params, arity }: Call): Compiled {
  arity(1);
  const a = compileExpr(args[0]!, scope, params);
  return {
    type: 'timestamptz',
    domain: 'time',
    eval: (row, env) => {
      const v = a.eval(row, env);
      return v === null ? null : toTimestamp(toFloat(v));
    },
  };
}

function compileDateTrunc({ args, scope, params, arity }: Call): Compiled {
  arity([2, 3]);
  const field = compileExpr(args[0]!, scope, params, 'text');
  const ts = compileExpr(args[1]!, scope, params, 'time');
  const zone = args[2] !== undefined ? compileExpr(args[2], scope, params, 'text') : null;
  const local = ts.type === 'timestamp' || ts.type === 'date';
  return {
    type: local ? 'timestamp' : 'timestamptz',
    domain: 'time',
    eval: (row, env) => {
      const f = field.eval(row, env);
      const v = ts.eval(row, env);
      const z = zone === null ? null : zone.eval(row, env);
      if (f === null || v === null || (zone !== null && z === null)) return null;
      const tz = local ? 'UTC' : z !== null ? normalizeTimeZone(String(z)) : timeZoneOf(env.session);
      return dateTrunc(String(f).toLowerCase(), toNumber(v), tz);
    },
  };
}

function compileDatePart({ args, scope, params, arity }: Call): Compiled {
  arity(2);
  const field = compileExpr(args[0]!, scope, params, 'text');
  const ts = compileExpr(args[1]!, scope, params, 'time');
  return {
    type: 'float8',
    eval: (row, env) => {
      const f = field.eval(row, env);
      const v = ts.eval(row, env);
      if (f === null || v === null) return null;
      const name = String(f).toLowerCase();
      return ts.type === 'interval'
        ? extractFromInterval(name, toNumber(v))
        : extractField(name, toNumber(v), ts.type === 'timestamp' ? 'UTC' : timeZoneOf(env.session));
    },
  };
}

function compilePgNotify({ args, scope, params, arity }: Call): Compiled {
  arity(2);
  const channel = compileExpr(args[0]!, scope, params, 'text');
  const payload = compileExpr(args[1]!, scope, params, 'text');
  return {
    type: 'text',
    eval: (row, env) => {
      const ch = channel.eval(row, env);
      if (ch === null || ch === '') throw new AllotError(SqlState.invalidParameterValue, 'channel name cannot be empty');
      env.session.notify(String(ch), String(payload.eval(row, env) ?? ''));
      return '';
    },
  };
}

function compileLowerUpper({ name, args, scope, params, arity }: Call): Compiled {
  arity(1);
  const a = compileExpr(args[0]!, scope, params, 'text');
  return {
    type: 'text',
    eval: (row, env) => {
      const v = a.eval(row, env);
      return v === null ? null : name === 'lower' ? String(formatValue(v)).toLowerCase() : String(formatValue(v)).toUpperCase();
    },
  };
}

function compileLength({ args, scope, params, arity }: Call): Compiled {
  arity(1);
  const a = compileExpr(args[0]!, scope, params, 'text');
  return {
    type: 'int4',
    eval: (row, env) => {
      const v = a.eval(row, env);
      return v === null ? null : [...String(formatValue(v))].length;
    },
  };
}

function compileArrayLength({ name, args, scope, params, arity }: Call): Compiled {
  arity(name === 'cardinality' ? 1 : 2);
  const a = compileExpr(args[0]!, scope, params, 'text[]');
  return {
    type: 'int4',
    eval: (row, env) => {
      const v = asArray(a.eval(row, env));
      if (v === null) return null;
      return name === 'array_length' && v.length === 0 ? null : v.length;
    },
  };
}

function compileCoalesce({ args, scope, params, hint }: Call): Compiled {
  if (args.length === 0) throw new AllotError(SqlState.syntaxError, 'coalesce needs at least one argument');
  const first = compileExpr(args[0]!, scope, params, hint);
  const rest = args.slice(1).map((a) => compileExpr(a, scope, params, typeDomain(first.type) ?? hint));
  const all = [first, ...rest];
  return {
    type: first.type,
    eval: (row, env) => {
      for (const a of all) {
        const v = a.eval(row, env);
        if (v !== null) return v;
      }
      return null;
    },
  };
}

const ADVISORY = [
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
];

/** The functions compileCall itself knows, by name: each a compiler of its calls. */
const CALLS: ReadonlyMap<string, (c: Call) => Compiled> = new Map<string, (c: Call) => Compiled>([
  ...ADVISORY.map((n) => [n, ({ name, args, scope, params }: Call) => compileAdvisory(name, args, scope, params)] as const),
  ...['now', 'statement_timestamp', 'transaction_timestamp', 'clock_timestamp'].map((n) => [n, niladic('timestamptz', instantOf, 'time')] as const),
  ['to_timestamp', compileToTimestamp],
  ['date_trunc', compileDateTrunc],
  ['date_part', compileDatePart],
  ...AGGREGATES.map((n) => [n, compileAggregate] as const),
  ['coalesce', compileCoalesce],
  ['lower', compileLowerUpper],
  ['upper', compileLowerUpper],
  ['length', compileLength],
  ['char_length', compileLength],
  ['cardinality', compileArrayLength],
  ['array_length', compileArrayLength],
  ['version', niladic('text', (env) => `PostgreSQL ${env.session.setting('server_version') ?? ''} (allot time-allocation database)`)],
  ['current_setting', compileCurrentSetting],
  ['set_config', compileSetConfig],
  ['current_database', niladic('name', (env) => env.session.database)],
  ['current_schema', niladic('name', () => 'public')],
  ['current_user', niladic('name', (env) => env.session.user)],
  ['session_user', niladic('name', (env) => env.session.user)],
  ['pg_backend_pid', niladic('int4', (env) => env.session.pid)],
  ['pg_is_in_recovery', niladic('bool', () => false)],
  ['pg_notify', compilePgNotify],
]);

function aggregateType(fn: Aggregate['fn'], arg: SqlType): SqlType {
  switch (fn) {
    case 'count':
      return 'int8';
    case 'sum':
      return arg === 'interval' ? 'interval' : arg === 'float8' || arg === 'float4' ? 'float8' : arg === 'numeric' || arg === 'int8' ? 'numeric' : 'int8';
    case 'avg':
      return arg === 'interval' ? 'interval' : arg === 'float8' || arg === 'float4' ? 'float8' : 'numeric';
    case 'bool_and':
    case 'bool_or':
    case 'every':
      return 'bool';
    case 'array_agg':
      return arrayOf(arg);
    case 'string_agg':
      return 'text';
    default:
      return arg;
  }
}

/**
 * pg_advisory_lock and its kin, on the session's lock table (src/tenant/advisory-locks.ts): a
 * key of one bigint or two int4s (separate spaces), each call taking or giving back at once; a
 * lock that must wait makes the session wait and run the statement again (LockWait).
 */
function compileAdvisory(name: string, args: readonly Expr[], scope: Scope, params: ParamSlots): Compiled {
  const all = name === 'pg_advisory_unlock_all';
  if (all ? args.length !== 0 : args.length !== 1 && args.length !== 2)
    throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
  const keys = args.map((a) => compileExpr(a, scope, params, 'int'));
  const mode = name.endsWith('_shared') ? 'shared' : 'exclusive';
  const lockScope = name.includes('_xact_') ? 'xact' : 'session';
  const kind = all ? 'all' : name.startsWith('pg_try_') ? 'try' : name.includes('unlock') ? 'unlock' : 'lock';
  return {
    type: kind === 'try' || kind === 'unlock' ? 'bool' : 'void',
    eval: (row, env) => {
      const locks = env.session.advisory;
      if (locks === undefined) throw new AllotError(SqlState.featureNotSupported, `${name}() needs a session`);
      if (kind === 'all') {
        locks.unlockAll();
        return '';
      }
      const values = keys.map((k) => k.eval(row, env));
      if (values.some((v) => v === null)) return null;
      const key = advisoryKey(values[0] as number, values[1] as number | undefined);
      if (kind === 'try') return locks.tryLock(key, mode, lockScope);
      if (kind === 'unlock') return locks.unlock(key, mode);
      locks.lock(key, mode, lockScope);
      return '';
    },
  };
}

/** A call of a system catalog function: its arguments, then the function with the session's catalog. */
function compileSystem(name: string, f: SystemFunction, args: readonly Expr[], scope: Scope, params: ParamSlots): Compiled {
  if (args.length < f.args[0] || args.length > f.args[1])
    throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
  const compiled = args.map((a) => compileExpr(a, scope, params));
  const types = compiled.map((c) => c.type);
  const strict = f.strict !== false;
  return {
    type: f.returns(types),
    eval: (row, env) => {
      const values = compiled.map((c) => c.eval(row, env));
      if (strict && values.some((v) => v === null)) return null;
      return f.call(values, systemContext(env.session), types);
    },
  };
}

/** A call of one of SCALAR_FUNCTIONS: arguments evaluated, then the function (null in, null out when strict). */
function compileScalar(name: string, f: ScalarFunction, args: readonly Expr[], scope: Scope, params: ParamSlots): Compiled {
  if (args.length < f.args[0] || args.length > f.args[1])
    throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
  const compiled = args.map((a) => compileExpr(a, scope, params));
  const strict = f.strict !== false;
  const allConstant = compiled.every((c) => c.constant === true) && compiled.every((c) => c.param === undefined);
  return {
    type: f.returns(compiled.map((c) => c.type)),
    eval: (row, env) => {
      const values = compiled.map((c) => c.eval(row, env));
      if (strict && values.some((v) => v === null)) return null;
      return f.call(values);
    },
    ...(allConstant && name !== 'gen_random_uuid' ? { constant: true } : {}),
  };
}

/**
 * The values of `x IN (…)`. The parser reads a one-value list, `IN ('a')` or `IN ($1)`, as the
 * value itself in parentheses; a subquery is not supported.
 */
export function inListItems(right: Expr): Expr[] {
  if (right.type === 'list') return [...right.expressions];
  if (
    right.type === 'select' ||
    right.type === 'union' ||
    right.type === 'union all' ||
    right.type === 'values' ||
    right.type === 'with' ||
    right.type === 'with recursive'
  ) {
    throw new AllotError(SqlState.featureNotSupported, 'IN takes a list of values; subqueries are not supported');
  }
  return [right];
}
