/**
 * Planning: one statement's AST becomes a Plan, once; executing a plan only evaluates its
 * compiled expressions against bound parameters. Plans know SQL and the engine's commands,
 * nothing about sockets.
 */
import type { DeleteStatement, Expr, InsertStatement, SelectedColumn, SelectFromStatement, Statement, UpdateStatement } from 'pgsql-ast-parser';
import type { Engine } from '../engine/engine.js';
import type { SpanMaker } from '../engine/availability.js';
import { Limits } from '../engine/limits.js';
import type { Command, CommandResult } from '../engine/types.js';
import { AllotError, SqlState, unsupported } from '../errors.js';
import { columnType, type ColumnDef, type TableDef, type TimeOutput } from './tables/columns.js';
import type { Fields } from './tables/fields.js';
import { StoredTables, Tables, type AllotTable, type StoredTable } from './tables/index.js';
import type { Entity, StoredTableModule, WriteTarget } from './tables/stored.js';
import { needsGeneralPlan, planGeneralQuery } from './query/select.js';
import { AggregateSlots, coerce, compare, compileExpr, EMPTY_SCOPE, inListItems, NeedsLiteral, ParamSlots, toBool, type Aggregate, type Compiled, type EvalEnv, type Scope } from './expr.js';
import { formatValue, type SqlType, type Value } from './types.js';
import { EXPORT_VERSION, exportRows, jsonLines } from './export.js';
import { settingIsOn } from './settings.js';
import { timeZoneOf } from './casts.js';
import type { Utility } from './utility.js';

export interface OutColumn {
  readonly name: string;
  readonly type: SqlType;
  readonly tableOid: number;
  readonly columnAttr: number;
  /** The column's own type where `type` only says how it is sent (a domain: sql_identifier). */
  readonly typeOid?: number;
  readonly typmod?: number;
}

/** Reads happen against an engine at an instant (inside a block, one that includes its writes). */
export interface ReadContext {
  readonly engine: Engine;
  readonly now: number;
}

/**
 * A result's rows: an array, or rows made from immutable entities as they are asked for, so a
 * result waiting for a slow client holds a reference a row, not the row (see LazyRows).
 */
export interface ResultRows {
  readonly length: number;
  at(i: number): Value[] | undefined;
}

/**
 * Rows made on demand from entities picked at one instant. Entities never change (a change
 * makes a new one), so a row made later, while the reply drains, is the row of that instant.
 */
export class LazyRows<T> implements ResultRows {
  constructor(
    private readonly items: readonly T[],
    private readonly make: (item: T) => Value[],
  ) {}

  get length(): number {
    return this.items.length;
  }

  at(i: number): Value[] | undefined {
    const x = this.items[i];
    return x === undefined ? undefined : this.make(x);
  }
}

export interface QueryPlan {
  readonly kind: 'query';
  readonly params: ParamSlots;
  readonly columns: readonly OutColumn[];
  run(read: ReadContext, env: EvalEnv): ResultRows;
}

export interface WritePlan {
  readonly kind: 'write';
  readonly verb: 'insert' | 'update' | 'delete';
  readonly params: ParamSlots;
  /** RETURNING columns, or null: no rows. */
  readonly columns: readonly OutColumn[] | null;
  build(env: EvalEnv, newId: () => string): Command[];
  finish(results: readonly CommandResult[], env: EvalEnv): { rows: Value[][]; tag: string };
}

export interface UtilityPlan {
  readonly kind: 'utility';
  readonly params: ParamSlots;
  readonly utility: Utility;
  readonly columns: readonly OutColumn[] | null;
}

export interface EmptyPlan {
  readonly kind: 'empty';
  readonly params: ParamSlots;
  readonly columns: null;
}

export type Plan = QueryPlan | WritePlan | UtilityPlan | EmptyPlan;

export function planStatement(stmt: Statement, params: ParamSlots, times: TimeOutput = 'ms'): Plan {
  switch (stmt.type) {
    case 'select':
      return needsGeneralPlan(stmt) ? planGeneralQuery(stmt, params, times) : planSelect(stmt, params, times);
    case 'insert':
      return planInsert(stmt, params, times);
    case 'update':
      return planUpdate(stmt, params, times);
    case 'delete':
      return planDelete(stmt, params, times);
    case 'union':
    case 'union all':
    case 'values':
    case 'with':
      return planGeneralQuery(stmt, params, times);
    case 'with recursive':
      throw unsupported('WITH RECURSIVE is not supported by allot');
    default:
      throw unsupported(`${stmt.type.toUpperCase()} statements are not supported by allot`, `allot's tables are fixed: ${TABLE_LIST}. See the README.`);
  }
}

// ---- table resolution ---------------------------------------------------------------------

/** For messages: every table a client can name. */
const TABLE_LIST = Object.keys(Tables).join(', ');

type Source =
  | { readonly kind: 'allot'; readonly table: StoredTable; readonly def: TableDef }
  | { readonly kind: 'availability'; readonly def: TableDef }
  | { readonly kind: 'policy_usage'; readonly def: TableDef }
  | { readonly kind: 'allot_export'; readonly def: TableDef }
  | { readonly kind: 'none'; readonly def: null };

function resolveTable(name: { name: string; schema?: string }): Source {
  // The parser has folded unquoted names to lower case; a quoted "Resources" is another name.
  const schema = name.schema;
  const table = name.name;
  if (schema === undefined || schema === 'public') {
    if (table in Tables) {
      const t = table as AllotTable;
      if (t === 'availability') return { kind: 'availability', def: Tables.availability };
      if (t === 'policy_usage') return { kind: 'policy_usage', def: Tables.policy_usage };
      if (t === 'allot_export') return { kind: 'allot_export', def: Tables.allot_export };
      return { kind: 'allot', table: t, def: Tables[t] };
    }
  }
  throw new AllotError(SqlState.undefinedTable, `relation "${schema !== undefined ? `${schema}.` : ''}${table}" does not exist`, {
    hint: `allot has the tables ${TABLE_LIST}.`,
  });
}

const typedDefs = new Map<TableDef, TableDef>();

/** A table as a session with time output `times` sees it: instants timestamptz, durations interval. */
function typedDef<T extends TableDef | null>(def: T, times: TimeOutput): T {
  if (def === null || times === 'ms') return def;
  let t = typedDefs.get(def);
  if (t === undefined) {
    t = { ...def, columns: def.columns.map((c) => ({ ...c, type: columnType(c, times) })) };
    typedDefs.set(def, t);
  }
  return t as T;
}

function scopeOf(def: TableDef | null, alias?: string): Scope {
  if (def === null) return EMPTY_SCOPE;
  return { columns: def.columns, qualifiers: new Set([def.name, ...(alias !== undefined ? [alias] : [])]) };
}

function outColumn(name: string, type: SqlType, def: TableDef | null, index: number | undefined): OutColumn {
  return { name, type, tableOid: def !== null && index !== undefined ? def.oid : 0, columnAttr: index !== undefined && def !== null ? index + 1 : 0 };
}

// ---- projections -------------------------------------------------------------------------

export interface Projection {
  readonly columns: OutColumn[];
  readonly exprs: Compiled[];
  /** When every item is a bare column: their positions in the source row. */
  readonly picks: readonly number[] | null;
}

function picksOf(exprs: readonly Compiled[]): number[] | null {
  const picks: number[] = [];
  for (const e of exprs) {
    if (e.column === undefined) return null;
    picks.push(e.column);
  }
  return picks;
}

function compileProjection(list: readonly SelectedColumn[], scope: Scope, def: TableDef | null, params: ParamSlots): Projection {
  const columns: OutColumn[] = [];
  const exprs: Compiled[] = [];
  for (const item of list) {
    const e = item.expr;
    if (e.type === 'ref' && e.name === '*') {
      if (def === null) throw new AllotError(SqlState.syntaxError, 'SELECT * with no tables specified is not valid');
      if (scope.aggregates !== undefined) scope.aggregates.bareColumns += def.columns.length;
      def.columns.forEach((col, i) => {
        columns.push(outColumn(col.name, col.type, def, i));
        exprs.push({ type: col.type, eval: (row) => row[i] ?? null, column: i });
      });
      continue;
    }
    const c = compileExpr(e, scope, params);
    exprs.push(c);
    columns.push(outColumn(item.alias?.name ?? defaultName(e), c.type, def, c.column));
  }
  return { columns, exprs, picks: picksOf(exprs) };
}

export function defaultName(e: Expr): string {
  switch (e.type) {
    case 'ref':
      return e.name;
    case 'call': {
      // `(record).field`, rewritten for the parser as __field(record, 'field'), is named after the field.
      const field = e.args[1];
      if (e.function.name === '__field' && field?.type === 'string') return field.value;
      return e.function.name.toLowerCase();
    }
    case 'cast':
      // As PostgreSQL names it: after the column or function it casts (through other casts), else after the type.
      return castSourceName(e.operand) ?? (e.to as { name?: string }).name ?? '?column?';
    case 'keyword':
      return e.keyword;
    default:
      return '?column?';
  }
}

function castSourceName(e: Expr): string | null {
  if (e.type === 'ref' || e.type === 'call') return defaultName(e);
  return e.type === 'cast' ? castSourceName(e.operand) : null;
}

/** RETURNING: a projection over the written table's row. */
function compileReturning(list: readonly SelectedColumn[] | null | undefined, def: TableDef, params: ParamSlots, times: TimeOutput): Projection | null {
  if (list === undefined || list === null || list.length === 0) return null;
  const typed = typedDef(def, times);
  return compileProjection(list, scopeOf(typed), typed, params);
}

/** One row of the select list. */
export function projectOne(p: Projection, row: readonly Value[], env: EvalEnv): Value[] {
  const exprs = p.exprs;
  const n = exprs.length;
  const o: Value[] = new Array(n);
  const picks = p.picks;
  if (picks !== null) for (let k = 0; k < n; k++) o[k] = row[picks[k]!] ?? null;
  else for (let k = 0; k < n; k++) o[k] = exprs[k]!.eval(row, env);
  return o;
}

export function project(p: Projection, rows: readonly (readonly Value[])[], env: EvalEnv): Value[][] {
  const out: Value[][] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = projectOne(p, rows[i]!, env);
  return out;
}

// ---- SELECT -----------------------------------------------------------------------------

export function conjuncts(e: Expr | null | undefined): Expr[] {
  if (e === undefined || e === null) return [];
  if (e.type === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** `col = v`, `col IN (…)`, `col <op> v` with v constant or a parameter, either way round. */
interface Predicate {
  readonly column: string;
  readonly op: '=' | 'IN' | '<' | '<=' | '>' | '>=';
  readonly values: Compiled[];
}

const FLIP: Record<string, Predicate['op']> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function asPredicate(e: Expr, scope: Scope, params: ParamSlots): Predicate | null {
  if (e.type !== 'binary') return null;
  const col = scope.columns;
  const domainOf = (name: string): ColumnDef['domain'] | undefined => col.find((c) => c.name === name)?.domain;
  const valueOf = (x: Expr, name: string): Compiled | null => {
    // `col = ANY(…)` is a membership test, not a value: the full WHERE handles it.
    if (x.type === 'ref' || (x.type === 'call' && x.function.name.toLowerCase() === 'any')) return null;
    const c = compileExpr(x, scope, params, domainOf(name));
    return c.constant === true ? c : null;
  };
  if (e.op === 'IN' && e.left.type === 'ref') {
    const name = e.left.name;
    const values = inListItems(e.right).map((x) => valueOf(x, name));
    if (values.some((v) => v === null)) return null;
    if (values.length > Limits.maxIdsPerInList) {
      throw new AllotError(SqlState.programLimitExceeded, `IN list of ${values.length} values; the limit is ${Limits.maxIdsPerInList}`);
    }
    return { column: name, op: 'IN', values: values as Compiled[] };
  }
  const op = FLIP[e.op];
  if (op === undefined) return null;
  if (e.left.type === 'ref' && e.right.type !== 'ref') {
    const v = valueOf(e.right, e.left.name);
    return v === null ? null : { column: e.left.name, op: e.op as Predicate['op'], values: [v] };
  }
  if (e.right.type === 'ref' && e.left.type !== 'ref') {
    const v = valueOf(e.left, e.right.name);
    return v === null ? null : { column: e.right.name, op, values: [v] };
  }
  return null;
}

export interface Hints {
  ids: Compiled[] | null;
  resourceIds: Compiled[] | null;
  groupId: Compiled | null;
  parentId: Compiled | null;
  /** Bounds on start/end, used to narrow a per-resource scan: entries overlapping [lo, hi). */
  lo: { expr: Compiled; adjust: number }[];
  hi: { expr: Compiled; adjust: number }[];
}

export function extractHints(where: Expr | null | undefined, scope: Scope, params: ParamSlots): Hints {
  const h: Hints = { ids: null, resourceIds: null, groupId: null, parentId: null, lo: [], hi: [] };
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, scope, params);
    if (p === null) continue;
    const eqOrIn = p.op === '=' || p.op === 'IN';
    if (p.column === 'id' && eqOrIn) h.ids = p.values;
    else if (p.column === 'resource_id' && eqOrIn) h.resourceIds = p.values;
    else if (p.column === 'group_id' && p.op === '=') h.groupId = p.values[0]!;
    else if (p.column === 'parent_id' && p.op === '=') h.parentId = p.values[0]!;
    // An entry [s, e) with s >= A, s > A, e > A or e >= A ends after A - 1; with e <= B,
    // e < B, s < B or s <= B it starts before B + 1. The full WHERE still decides.
    else if ((p.column === 'start' || p.column === 'end') && (p.op === '>=' || p.op === '>')) h.lo.push({ expr: p.values[0]!, adjust: -1 });
    else if ((p.column === 'start' || p.column === 'end') && (p.op === '<=' || p.op === '<')) h.hi.push({ expr: p.values[0]!, adjust: 1 });
  }
  return h;
}

function evalAll(xs: readonly Compiled[], env: EvalEnv): Value[] {
  return xs.map((x) => x.eval([], env));
}

function bound(list: Hints['lo'], env: EvalEnv, pick: (a: number, b: number) => number, fallback: number): number {
  let v = fallback;
  for (const b of list) {
    const x = b.expr.eval([], env);
    const n = typeof x === 'number' ? x : null;
    if (n !== null) v = pick(v, n + b.adjust);
  }
  return v;
}

/** Entities of one table and how a row is made of one: rows drawn lazily from them. */
export interface Drawn {
  readonly items: readonly unknown[];
  readonly row: (item: unknown) => Value[];
}

function drawn<T>(items: readonly T[], row: (x: T) => Value[]): Drawn {
  return { items, row: row as (item: unknown) => Value[] };
}

/** Candidate entities of an allot table, narrowed by the WHERE's index-friendly conjuncts. */
export function candidates(table: StoredTable, h: Hints, read: ReadContext, env: EvalEnv): Drawn {
  const { engine, now } = read;
  const ids = h.ids === null ? null : evalAll(h.ids, env).filter(isText);
  const lo = bound(h.lo, env, Math.max, -Infinity);
  const hi = bound(h.hi, env, Math.min, Infinity);
  const byResource = <T>(fn: (rid: string) => T[]): T[] | null => {
    if (h.resourceIds === null) return null;
    const rids = [...new Set(evalAll(h.resourceIds, env).filter(isText))];
    return rids.flatMap(fn);
  };
  const byId = <T>(get: (id: string) => T | undefined): T[] =>
    ids!.flatMap((id) => {
      const x = get(id);
      return x === undefined ? [] : [x];
    });
  const m = StoredTables[table];
  return drawn(m.candidates({ engine, now, hints: h, env, ids, lo, hi, byResource, byId }), m.row);
}

export function planSelect(ast: SelectFromStatement, params: ParamSlots, times: TimeOutput = 'ms'): QueryPlan {
  if (ast.distinct != null) throw unsupported('SELECT DISTINCT is not supported by allot');
  if (ast.groupBy != null || ast.having != null) throw unsupported('GROUP BY and HAVING are not supported by allot');
  if (ast.for != null) throw unsupported('SELECT … FOR UPDATE/SHARE is not supported by allot', 'Write statements in allot are checked atomically; no row locks are needed.');
  const from = ast.from ?? [];
  if (from.length > 1 || (from[0] !== undefined && (from[0].type !== 'table' || from[0].join !== undefined))) {
    throw unsupported('joins and subqueries are not supported by allot: select from one table at a time');
  }
  const fromTable = from[0]?.type === 'table' ? from[0] : undefined;
  const resolved: Source = fromTable === undefined ? { kind: 'none', def: null } : resolveTable(fromTable.name);
  const source = { ...resolved, def: typedDef(resolved.def, times) } as Source;
  const scope = scopeOf(source.def, fromTable?.name.alias);
  // Aggregates may stand anywhere in the select list and ORDER BY, and nowhere else.
  const aggregates = new AggregateSlots();
  const listScope: Scope = { ...scope, aggregates };
  const projection = compileProjection(ast.columns ?? [], listScope, source.def, params);
  let whereAst: Expr | null = ast.where ?? null;
  let virtualRows: ((read: ReadContext, env: EvalEnv, picks: readonly number[] | null) => Value[][]) | null = null;
  if (source.kind === 'availability' || source.kind === 'policy_usage') {
    // The window and options (or the users asked about) are read from WHERE; what is left
    // filters the rows.
    const a = source.kind === 'availability' ? planAvailability(ast.where, scope, params) : planPolicyUsage(ast.where, scope, params);
    virtualRows = a.rows;
    whereAst = a.rest;
  }
  const where = whereAst !== null ? compileExpr(whereAst, scope, params, 'bool') : null;
  const order = (ast.orderBy ?? []).map((o) => compileOrder(o.by, o.order ?? undefined, o.nulls ?? undefined, projection, listScope, params));
  const aggregated = aggregates.list.length > 0;
  if (aggregated && aggregates.bareColumns > 0) {
    throw new AllotError(SqlState.groupingError, 'a column must appear in an aggregate function: allot has no GROUP BY');
  }
  const limitExpr = ast.limit?.limit;
  const offsetExpr = ast.limit?.offset;
  const limit = limitExpr != null ? compileExpr(limitExpr, EMPTY_SCOPE, params, 'int') : null;
  const offset = offsetExpr != null ? compileExpr(offsetExpr, EMPTY_SCOPE, params, 'int') : null;

  let rowsOf: (read: ReadContext, env: EvalEnv) => Value[][];
  // An allot table's rows are made from its entities, lazily where nothing needs them all.
  let drawnOf: ((read: ReadContext, env: EvalEnv) => Drawn) | null = null;
  switch (source.kind) {
    case 'none':
      rowsOf = () => [[]];
      break;
    case 'allot': {
      const hints = extractHints(ast.where, scope, params);
      drawnOf = (read, env) => candidates(source.table, hints, read, env);
      rowsOf = (read, env) => {
        const d = drawnOf!(read, env);
        return d.items.map(d.row);
      };
      break;
    }
    case 'availability':
    case 'policy_usage':
      rowsOf = (read, env) => virtualRows!(read, env, null);
      break;
    case 'allot_export':
      // The whole state at one instant: entities are immutable, so capture is a copy of references.
      rowsOf = (read, env) => {
        const header = { allot_export: EXPORT_VERSION, database: env.session.database, exported_at: read.now };
        return [...jsonLines(header, exportRows(read.engine.capture(), read.now))].map((line) => [line]);
      };
      break;
  }

  // Availability with a plain select list and nothing else to do: the rows come out projected.
  const picks = projection.picks;
  const direct = source.kind === 'availability' && picks !== null && where === null && order.length === 0 && !aggregated && limit === null && offset === null;
  return {
    kind: 'query',
    params,
    columns: projection.columns,
    run(read, env) {
      if (direct) return tooMany(virtualRows!(read, env, picks));
      if (drawnOf !== null && !aggregated) return drawnRows(drawnOf(read, env), env);
      let rows = rowsOf(read, env);
      if (where !== null) rows = rows.filter((r) => truthy(where.eval(r, env)));
      tooMany(rows);
      const off = offset === null ? 0 : nonNegative(offset.eval([], env), 'OFFSET');
      const lim = limit === null ? Infinity : nonNegative(limit.eval([], env), 'LIMIT');
      if (aggregated) {
        // One row, which LIMIT and OFFSET apply to like any other.
        const folded: EvalEnv = { params: env.params, session: env.session, aggregates: aggregates.list.map((a) => fold(a, rows, env)) };
        return off === 0 && lim > 0 ? [projection.exprs.map((e) => e.eval([], folded))] : [];
      }
      if (order.length === 0) {
        if (off > 0 || lim !== Infinity) rows = rows.slice(off, off + lim);
        return project(projection, rows, env);
      }
      let pairs = rows.map((r) => {
        const out = projectOne(projection, r, env);
        return { item: out, keys: order.map((o) => o.key(r, out, env)) };
      });
      pairs = sortByKeys(pairs, order);
      if (off > 0 || lim !== Infinity) pairs = pairs.slice(off, off + lim);
      return pairs.map((p) => p.item);
    },
  };

  /** An allot table's result: filtered, ordered and cut on entities; rows made as they are sent. */
  function drawnRows(d: Drawn, env: EvalEnv): ResultRows {
    const { row } = d;
    let items = where === null ? d.items : d.items.filter((x) => truthy(where.eval(row(x), env)));
    tooManyRows(items.length);
    const off = offset === null ? 0 : nonNegative(offset.eval([], env), 'OFFSET');
    const lim = limit === null ? Infinity : nonNegative(limit.eval([], env), 'LIMIT');
    if (order.length > 0) {
      // Only the sort keys are kept beside each entity, not its row.
      const outputs = order.some((o) => o.usesOutput);
      const keyed = items.map((x) => {
        const src = row(x);
        const out = outputs ? projectOne(projection, src, env) : null;
        return { item: x, keys: order.map((o) => o.key(src, out, env)) };
      });
      items = sortByKeys(keyed, order).map((k) => k.item);
    }
    if (off > 0 || lim !== Infinity) items = items.slice(off, off + lim);
    return new LazyRows(items, (x) => projectOne(projection, row(x), env));
  }
}

/** Sorts by the keys computed for each item, ORDER BY's first key first. */
export function sortByKeys<T>(keyed: { item: T; keys: Value[] }[], order: readonly Order[]): { item: T; keys: Value[] }[] {
  return keyed.sort((a, b) => {
    for (let k = 0; k < order.length; k++) {
      const c = order[k]!.compare(a.keys[k]!, b.keys[k]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** Refuses a result of more than Limits.maxResultRows rows; returns it otherwise. */
function tooMany(rows: Value[][]): Value[][] {
  tooManyRows(rows.length);
  return rows;
}

export function tooManyRows(n: number): void {
  if (n > Limits.maxResultRows) {
    throw new AllotError(SqlState.programLimitExceeded, `the query matched ${n} rows; the limit is ${Limits.maxResultRows}`, { hint: 'Narrow it with WHERE or LIMIT.' });
  }
}

export function truthy(v: Value): boolean {
  return v !== null && toBool(v);
}

export function nonNegative(v: Value, what: string): number {
  if (v === null) return what === 'LIMIT' ? Infinity : 0;
  const n = coerce(v, 'int', what) as number;
  if (n < 0) throw new AllotError(SqlState.invalidRowCountInLimitClause, `${what} must not be negative`);
  return n;
}

export function fold(agg: Aggregate, all: readonly Value[][], env: EvalEnv): Value {
  const rows = agg.filter === null ? all : all.filter((r) => truthy(agg.filter!.eval(r, env)));
  if (agg.arg === null) return rows.length;
  let vals = rows.map((r) => agg.arg!.eval(r, env)).filter((v) => v !== null);
  if (agg.distinct) {
    // Equal values (by type and text form) count once.
    const seen = new Set<string>();
    vals = vals.filter((v) => {
      const k = `${typeof v}:${String(formatValue(v))}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  switch (agg.fn) {
    case 'count':
      return vals.length;
    case 'min':
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
    case 'max':
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
    case 'sum':
      return vals.length === 0 ? null : vals.reduce<number>((a, b) => a + numberOf(b, 'sum argument'), 0);
    case 'avg':
      return vals.length === 0 ? null : vals.reduce<number>((a, b) => a + numberOf(b, 'avg argument'), 0) / vals.length;
    case 'bool_and':
    case 'every':
      return vals.length === 0 ? null : vals.every((v) => toBool(v));
    case 'bool_or':
      return vals.length === 0 ? null : vals.some((v) => toBool(v));
    case 'array_agg':
      // Nulls are kept in an array_agg; only the ones of the argument, not of the rows' filter.
      return rows.length === 0 ? null : rows.map((r) => agg.arg!.eval(r, env)).map((v) => (v === null ? null : String(formatValue(v))));
    case 'string_agg': {
      if (vals.length === 0) return null;
      const sep = agg.separator!.eval(all[0] ?? [], env);
      return vals.map((v) => String(formatValue(v))).join(sep === null ? '' : String(sep));
    }
  }
}

function numberOf(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return coerce(v, 'int', what) as number;
}

/** One ORDER BY item: its key for a row (of the table, `src`, or of the select list, `out`) and how keys compare. */
export interface Order {
  /** Whether the key is a select-list column (`out` is needed), not an expression over the row. */
  readonly usesOutput: boolean;
  key(src: readonly Value[], out: readonly Value[] | null, env: EvalEnv): Value;
  compare(x: Value, y: Value): number;
}

export function compileOrder(by: Expr, dir: 'ASC' | 'DESC' | undefined, nulls: 'FIRST' | 'LAST' | undefined, p: Projection, scope: Scope, params: ParamSlots): Order {
  const desc = dir === 'DESC';
  // PostgreSQL puts NULLs last ascending and first descending.
  const nullsFirst = nulls === 'FIRST' || (nulls === undefined && desc);
  const sign = desc ? -1 : 1;
  const cmpValues = (x: Value, y: Value): number => {
    if (x === null && y === null) return 0;
    if (x === null) return nullsFirst ? -1 : 1;
    if (y === null) return nullsFirst ? 1 : -1;
    return sign * compare(x, y);
  };
  if (by.type === 'parameter' && params.lifted.has(Number(by.name.slice(1)) - 1)) throw new NeedsLiteral();
  if (by.type === 'integer') {
    const i = by.value - 1;
    if (i < 0 || i >= p.columns.length) throw new AllotError(SqlState.invalidColumnReference, `ORDER BY position ${by.value} is not in select list`);
    return outputKey(p, i, cmpValues);
  }
  if (by.type === 'ref' && by.table === undefined) {
    const i = p.columns.findIndex((c) => c.name === by.name);
    if (i >= 0 && !scope.columns.some((c) => c.name === by.name)) return outputKey(p, i, cmpValues);
  }
  const e = compileExpr(by, scope, params);
  return { usesOutput: false, key: (src, _out, env) => e.eval(src, env), compare: cmpValues };
}

/** A key that is select-list column `i`: read off the projected row, or (a plain column) off the source row. */
function outputKey(p: Projection, i: number, compare: (x: Value, y: Value) => number): Order {
  const pick = p.picks?.[i];
  if (pick !== undefined) return { usesOutput: false, key: (src) => src[pick] ?? null, compare };
  return { usesOutput: true, key: (_src, out) => out![i] ?? null, compare };
}

// ---- availability -----------------------------------------------------------------------

/**
 * `SELECT … FROM availability WHERE resource_id = X (or IN (…)) AND start >= A AND "end" <= B
 * [AND min_duration = D] [AND min_available = N] [AND capabilities = '{…}'] [AND policy_id = P]`.
 * Conjuncts on other columns (free) filter the rows.
 */
function planAvailability(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv, picks: readonly number[] | null) => Value[][]; rest: Expr | null } {
  const keyScope: Scope = {
    columns: [
      ...scope.columns,
      { name: 'min_duration', type: 'int8', domain: 'duration' },
      { name: 'min_available', type: 'int8', domain: 'int' },
      { name: 'capabilities', type: 'text[]', domain: 'text[]' },
      { name: 'policy_id', type: 'text', domain: 'text' },
      { name: 'pool_id', type: 'text', domain: 'text' },
    ],
    qualifiers: scope.qualifiers,
  };
  // Each resource_id condition is a set of ids; several must all hold, so they intersect.
  const resourceIdSets: Compiled[][] = [];
  const starts: { e: Compiled; adjust: number }[] = [];
  const ends: { e: Compiled; adjust: number }[] = [];
  let minDuration: Compiled | null = null;
  let minAvailable: Compiled | null = null;
  let capabilities: Compiled | null = null;
  let policy: Compiled | null = null;
  let pool: Compiled | null = null;
  const rest: Expr[] = [];
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, keyScope, params);
    const one = p?.values[0];
    if (p === null || one === undefined) rest.push(c);
    else if (p.column === 'resource_id' && (p.op === '=' || p.op === 'IN')) resourceIdSets.push(p.values);
    else if (p.column === 'start' && (p.op === '>=' || p.op === '>')) starts.push({ e: one, adjust: p.op === '>' ? 1 : 0 });
    else if (p.column === 'end' && (p.op === '<=' || p.op === '<')) ends.push({ e: one, adjust: p.op === '<' ? -1 : 0 });
    else if (p.column === 'min_duration' && p.op === '=') minDuration = one;
    else if (p.column === 'min_available' && p.op === '=') minAvailable = one;
    else if (p.column === 'capabilities' && p.op === '=') capabilities = one;
    else if (p.column === 'policy_id' && p.op === '=') policy = one;
    else if (p.column === 'pool_id' && p.op === '=') pool = one;
    else if (['min_duration', 'min_available', 'capabilities', 'policy_id', 'pool_id'].includes(p.column)) {
      throw unsupported(`availability takes ${p.column} only as ${p.column} = …`);
    } else rest.push(c);
  }
  if (resourceIdSets.length > 0 && pool !== null) throw new AllotError(SqlState.syntaxError, 'availability takes resource_id or pool_id, not both');
  if (resourceIdSets.length === 0 && pool === null) {
    throw new AllotError(SqlState.featureNotSupported, 'availability needs resource_id = …, resource_id IN (…) or pool_id = …', {
      hint: `SELECT * FROM availability WHERE resource_id = 'room-1' AND start >= 1772355600000 AND "end" <= 1772384400000`,
    });
  }
  if (starts.length === 0 || ends.length === 0) {
    throw new AllotError(SqlState.featureNotSupported, 'availability needs a window: start >= … AND "end" <= …', {
      hint: `SELECT * FROM availability WHERE resource_id = 'room-1' AND start >= 1772355600000 AND "end" <= 1772384400000`,
    });
  }
  const poolId = pool;
  const remaining = andAll(rest);
  const rows = (read: ReadContext, env: EvalEnv, picks: readonly number[] | null): Value[][] => {
    const num = (x: Compiled): number | null => {
      const v = x.eval([], env);
      return v === null ? null : (coerce(v, 'int', 'availability bound') as number);
    };
    let start = -Infinity;
    for (const s of starts) start = Math.max(start, (num(s.e) ?? -Infinity) + s.adjust);
    let end = Infinity;
    for (const e of ends) end = Math.min(end, (num(e.e) ?? Infinity) + e.adjust);
    if (!(start < end) || !Number.isFinite(start) || !Number.isFinite(end)) return [];
    const md = minDuration === null ? undefined : (num(minDuration) ?? undefined);
    const ma = minAvailable === null ? undefined : (num(minAvailable) ?? undefined);
    const capsValue = capabilities === null ? null : capabilities.eval([], env);
    const caps = capsValue === null ? undefined : (coerce(capsValue, 'text[]', 'capabilities') as readonly (string | null)[]).filter((x): x is string => x !== null);
    let rids: string[];
    if (resourceIdSets.length > 0) {
      rids = evalAll(resourceIdSets[0]!, env).filter(isText);
      for (const more of resourceIdSets.slice(1)) {
        const also = new Set(evalAll(more, env).filter(isText));
        rids = rids.filter((id) => also.has(id));
      }
    } else {
      // A pool stands for its members that have the capabilities, as a pool booking picks them.
      const pid = poolId!.eval([], env);
      rids = isText(pid) ? read.engine.poolMembers(pid, caps ?? []).map((r) => r.id) : [];
      if (rids.length > Limits.maxIdsPerInList) {
        throw new AllotError(SqlState.programLimitExceeded, `pool "${String(pid)}" has ${rids.length} members; availability takes at most ${Limits.maxIdsPerInList} at once`);
      }
    }
    if (rids.length === 0) return [];
    if (ma !== undefined && ma > rids.length) return [];
    const pol = policy === null ? undefined : policy.eval([], env);
    const answer = read.engine.availabilityWith(
      {
        resourceIds: rids,
        start,
        end,
        ...(md !== undefined ? { minDurationMs: md } : {}),
        ...(ma !== undefined ? { minAvailable: ma } : {}),
        ...(caps !== undefined ? { capabilities: caps } : {}),
        ...(typeof pol === 'string' ? { policyId: pol } : {}),
      },
      read.now,
      availabilityRow(picks),
    );
    // The engine made these lists for this query alone: they are the rows.
    if (answer.merged) return answer.spans as Value[][];
    if (answer.perResource.length === 1) return answer.perResource[0]!.spans as Value[][];
    const out: Value[][] = [];
    for (const r of answer.perResource) for (const row of r.spans) out.push(row);
    return out;
  };
  return { rows, rest: remaining };
}

/**
 * Rows of availability: (resource_id, start, end, free), or only the columns `picks` names, in
 * its order, so a plain select list costs no second array per row.
 */
function availabilityRow(picks: readonly number[] | null): SpanMaker<Value[]> {
  if (picks === null) return (rid, start, end, free) => [rid, start, end, free];
  // Up to four columns the row is one literal, which V8 makes an array of doubles from the start
  // when it holds only numbers; a fresh array filled in (or picks.map) starts as small integers
  // and is reallocated when the first time goes in, about 40 bytes more garbage a row.
  const [c0, c1, c2, c3] = picks;
  switch (picks.length) {
    case 1:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free)];
    case 2:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free), pick(c1!, rid, start, end, free)];
    case 3:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free), pick(c1!, rid, start, end, free), pick(c2!, rid, start, end, free)];
    case 4:
      return (rid, start, end, free) => [pick(c0!, rid, start, end, free), pick(c1!, rid, start, end, free), pick(c2!, rid, start, end, free), pick(c3!, rid, start, end, free)];
  }
  return (rid, start, end, free) => picks.map((c) => pick(c, rid, start, end, free));
}

/** Column `c` (0 resource_id, 1 start, 2 end, 3 free) of an availability row. */
function pick(c: number, resourceId: string | null, start: number, end: number, free: number): Value {
  return c === 1 ? start : c === 2 ? end : c === 3 ? free : resourceId;
}

function andAll(parts: readonly Expr[]): Expr | null {
  return parts.reduce<Expr | null>((acc, e) => (acc === null ? e : { type: 'binary', op: 'AND', left: acc, right: e }), null);
}

// ---- policy_usage -----------------------------------------------------------------------

/**
 * `SELECT … FROM policy_usage [WHERE user_id = U (or IN (…))] [AND policy_id = P (or IN (…))]`:
 * with users named, one row per user and (named, or every) policy, zeros included; without, one
 * row per user and policy with live or future entries. Other conjuncts filter the rows.
 */
function planPolicyUsage(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  let users: Compiled[] | null = null;
  let policies: Compiled[] | null = null;
  const rest: Expr[] = [];
  for (const c of conjuncts(where)) {
    const p = asPredicate(c, scope, params);
    if (p !== null && p.column === 'user_id' && (p.op === '=' || p.op === 'IN')) users = p.values;
    else if (p !== null && p.column === 'policy_id' && (p.op === '=' || p.op === 'IN')) policies = p.values;
    else rest.push(c);
  }
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const { engine, now } = read;
    const wantedPolicies = policies === null ? null : new Set(evalAll(policies, env).filter(isText));
    let pairs: { userId: string; policyId: string }[];
    if (users !== null) {
      const policyIds = wantedPolicies === null ? engine.allPolicies().map((x) => x.id) : [...wantedPolicies];
      pairs = [...new Set(evalAll(users, env).filter(isText))].flatMap((userId) => policyIds.map((policyId) => ({ userId, policyId })));
    } else {
      pairs = engine.usageKeys().filter((k) => wantedPolicies === null || wantedPolicies.has(k.policyId));
    }
    const out: Value[][] = [];
    for (const { userId, policyId } of pairs) {
      const policy = engine.policy(policyId);
      if (policy === undefined) continue;
      const { count, usageMs } = engine.usage(userId, policyId, now);
      if (users === null && count === 0) continue;
      out.push([
        userId,
        policyId,
        count,
        usageMs,
        policy.maxBookings === null ? null : Math.max(0, policy.maxBookings - count),
        policy.maxUsageMs === null ? null : Math.max(0, policy.maxUsageMs - usageMs),
      ]);
    }
    return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0));
  };
  return { rows, rest: andAll(rest) };
}

// ---- writes -----------------------------------------------------------------------------

function writableTable(name: { name: string; schema?: string }, verb: string): { table: StoredTableModule; def: TableDef } {
  const src = resolveTable(name);
  if (src.kind === 'allot') return { table: StoredTables[src.table], def: src.def };
  if (src.kind === 'availability') throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} availability: it is computed from bookings, holds and rules`);
  if (src.kind === 'allot_export') throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} allot_export: it is the state as a whole, read-only; load an export with allot import`);
  if (src.kind === 'policy_usage') throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} policy_usage: it is computed from bookings, holds and policies`);
  throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} the system catalog`);
}

function columnOf(def: TableDef, name: string, writeOnlyOk: boolean): ColumnDef {
  const c = def.columns.find((x) => x.name === name) ?? (writeOnlyOk ? def.writeOnly?.find((x) => x.name === name) : undefined);
  if (c === undefined) throw new AllotError(SqlState.undefinedColumn, `column "${name}" of relation "${def.name}" does not exist`);
  return c;
}

function resultRows(results: readonly CommandResult[]): Entity[] {
  const out: Entity[] = [];
  for (const r of results) {
    if (r.type !== 'skipped' && r.type !== 'count') out.push(...r.rows);
  }
  return out;
}

function writeFinisher(show: (e: Entity) => Value[], returning: Projection | null, tag: (n: number) => string) {
  return (results: readonly CommandResult[], env: EvalEnv): { rows: Value[][]; tag: string } => {
    const entities = resultRows(results);
    // A converted hold shows up as the booking it became.
    const rows = returning === null ? [] : project(returning, entities.map(show), env);
    return { rows, tag: tag(entities.length) };
  };
}

function planInsert(ast: InsertStatement, params: ParamSlots, times: TimeOutput): WritePlan {
  const { table, def } = writableTable(ast.into, 'insert into');
  if (ast.insert == null) throw new AllotError(SqlState.syntaxError, 'syntax error at end of input: INSERT needs VALUES (…)');
  if (ast.insert.type !== 'values') throw unsupported('INSERT … SELECT is not supported by allot; use VALUES');
  const names = ast.columns?.map((c) => c.name) ?? def.columns.map((c) => c.name);
  const cols = names.map((n) => columnOf(def, n, true));
  table.checkInsert?.(names);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new AllotError(SqlState.duplicateColumn, `column "${n}" specified more than once`);
    seen.add(n);
  }
  const rows = ast.insert.values.map((row) => {
    if (row.length > cols.length) throw new AllotError(SqlState.syntaxError, 'INSERT has more expressions than target columns');
    if (row.length < cols.length) throw new AllotError(SqlState.syntaxError, 'INSERT has more target columns than expressions');
    return row.map((cell, i) => (cell.type === 'default' ? null : compileExpr(cell, EMPTY_SCOPE, params, cols[i]!.domain)));
  });
  if (rows.length > Limits.maxBatchCommands) {
    throw new AllotError(SqlState.programLimitExceeded, `INSERT of ${rows.length} rows; the limit is ${Limits.maxBatchCommands} per statement`);
  }
  let skip = false;
  if (ast.onConflict != null) {
    if (ast.onConflict.do !== 'do nothing') throw unsupported('ON CONFLICT … DO UPDATE is not supported by allot; use ON CONFLICT DO NOTHING, or UPDATE');
    skip = true;
  }
  const returning = compileReturning(ast.returning, def, params, times);
  return {
    kind: 'write',
    verb: 'insert',
    params,
    columns: returning?.columns ?? null,
    build(env, newId) {
      let made = 0;
      const restore = settingIsOn(env.session.setting('allot.restore'));
      return rows.map((row) => {
        const f: Fields = new Map();
        row.forEach((cell, i) => {
          if (cell === null) return;
          const col = cols[i]!;
          f.set(col.name, coerce(cell.eval([], env), col.domain, `column "${col.name}"`, timeZoneOf(env.session)));
        });
        const cmd = table.insert(f, newId, skip, restore);
        made += rowsOf(cmd);
        if (made > Limits.maxBatchCommands) throw overBatch(made);
        return cmd;
      });
    },
    finish: writeFinisher(table.row, returning, (n) => `INSERT 0 ${n}`),
  };
}

/** Rows a command may write: a pool booking one per member it books. */
function rowsOf(cmd: Command): number {
  return cmd.type === 'BookFromPool' ? cmd.request.ids.length : 1;
}

function overBatch(rows: number): AllotError {
  return new AllotError(SqlState.programLimitExceeded, `INSERT of ${rows} or more rows (counting each booking a pool row makes); the limit is ${Limits.maxBatchCommands} per statement`);
}

/** `WHERE id = v`, `WHERE id IN (…)` or, for a table with group writes (bookings), `WHERE group_id = v`. */
function writeTarget(where: Expr | null | undefined, table: StoredTableModule, def: TableDef, params: ParamSlots, verb: string): WriteTarget {
  const scope = scopeOf(def);
  const parts = conjuncts(where);
  const p = parts.length === 1 ? asPredicate(parts[0]!, scope, params) : null;
  const groups = table.byGroup !== undefined;
  if (p !== null && p.column === 'id' && (p.op === '=' || p.op === 'IN')) return { kind: 'ids', values: p.values };
  if (p !== null && groups && p.column === 'group_id' && p.op === '=') return { kind: 'group', value: p.values[0]! };
  const forms = groups ? 'WHERE id = …, WHERE id IN (…) or WHERE group_id = …' : 'WHERE id = … or WHERE id IN (…)';
  throw unsupported(`${verb} on ${def.name} needs ${forms}`, 'allot changes rows by their id, so every change is checked and logged as one command.');
}

function planUpdate(ast: UpdateStatement, params: ParamSlots, times: TimeOutput): WritePlan {
  const { table, def } = writableTable(ast.table, 'update');
  if (ast.from != null) throw unsupported('UPDATE … FROM is not supported by allot');
  const assigned = new Set<string>();
  const sets = ast.sets.map((s) => {
    const col = columnOf(def, s.column.name, true);
    if (assigned.has(col.name)) throw new AllotError(SqlState.syntaxError, `multiple assignments to same column "${col.name}"`);
    assigned.add(col.name);
    if (col.name === 'id') throw unsupported(`the id of a row in ${def.name} cannot be changed`, 'Delete the row and insert a new one.');
    if (s.value.type === 'default') throw unsupported('SET … = DEFAULT is not supported by allot');
    // Compiled against the row's columns only to say clearly that they cannot be used here.
    const seen = new AggregateSlots();
    const value = compileExpr(s.value, { ...scopeOf(def), aggregates: seen }, params, col.domain);
    const agg = seen.list[0];
    if (agg !== undefined) throw new AllotError(SqlState.groupingError, `aggregate functions such as ${agg.fn}() are only allowed in the select list and ORDER BY of a SELECT`);
    if (seen.bareColumns > 0) {
      throw unsupported(`SET ${col.name} = …: a new value must be a constant or a parameter; allot does not compute it from the row's columns`, 'Read the row, then UPDATE with the new value as a parameter.');
    }
    return { col, value };
  });
  const target = writeTarget(ast.where, table, def, params, 'UPDATE');
  const returning = compileReturning(ast.returning, def, params, times);
  table.checkUpdate?.(assigned, target);
  const group = table.byGroup;
  return {
    kind: 'write',
    verb: 'update',
    params,
    columns: returning?.columns ?? null,
    build(env) {
      const f = setFields(sets, env);
      const ids = target.kind === 'ids' ? [...new Set(evalAll(target.values, env))] : [];
      const patch = table.patch(f);
      if (target.kind === 'group' && group !== undefined) {
        const g = target.value.eval([], env);
        return isText(g) ? [group.update(g, patch)] : [];
      }
      return ids.filter(isText).map((id) => table.update(id, patch));
    },
    finish: writeFinisher(table.updatedRow ?? table.row, returning, (n) => `UPDATE ${n}`),
  };
}

/** The values of an UPDATE's SET list, read as their columns' domains. */
function setFields(sets: readonly { col: ColumnDef; value: Compiled }[], env: EvalEnv): Fields {
  const f: Fields = new Map();
  for (const s of sets) f.set(s.col.name, coerce(s.value.eval([], env), s.col.domain, `column "${s.col.name}"`, timeZoneOf(env.session)));
  return f;
}

function isText(v: Value): v is string {
  return typeof v === 'string';
}

function planDelete(ast: DeleteStatement, params: ParamSlots, times: TimeOutput): WritePlan {
  const { table, def } = writableTable(ast.from, 'delete from');
  const target = writeTarget(ast.where, table, def, params, 'DELETE');
  const returning = compileReturning(ast.returning, def, params, times);
  const group = table.byGroup;
  return {
    kind: 'write',
    verb: 'delete',
    params,
    columns: returning?.columns ?? null,
    build(env) {
      if (target.kind === 'group' && group !== undefined) {
        const g = target.value.eval([], env);
        return isText(g) ? [group.delete(g)] : [];
      }
      const ids = target.kind === 'ids' ? [...new Set(evalAll(target.values, env))].filter(isText) : [];
      return ids.map((id) => table.delete(id));
    },
    finish: writeFinisher(table.row, returning, (n) => `DELETE ${n}`),
  };
}

export { formatValue };
