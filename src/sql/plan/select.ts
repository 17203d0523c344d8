/**
 * SELECT from one of allot's tables (or none): the hot path. Rows are made from the table's
 * entities, lazily where nothing needs them all; the computed tables get theirs from
 * availability.ts. What this path lacks (joins, grouping, subqueries) is ../query/select.ts's.
 */
import type { Expr, SelectFromStatement } from 'pgsql-ast-parser';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { EXPORT_VERSION, exportRows, jsonLines } from '../export.js';
import { AggregateSlots, compileExpr, EMPTY_SCOPE, type Aggregate, type Compiled, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { TimeOutput } from '../tables/columns.js';
import type { Value } from '../types.js';
import { fold } from './aggregate.js';
import { planAvailability, planPolicyUsage } from './availability.js';
import { planCalendar } from './calendar.js';
import { planExplain } from './explain.js';
import { planNextFree } from './next-free.js';
import { candidates, type Drawn, extractHints } from './hints.js';
import type { QueryPlan, ReadContext, ResultRows } from './index.js';
import { compileOrder, sortByKeys, type Order } from './order.js';
import { compileProjection, project, projectOne, type Projection } from './projection.js';
import { resolveTable, scopeOf, type Source, typedDef } from './resolve.js';
import { LazyRows, offsetAndLimit, tooMany, tooManyRows, truthy } from './rows.js';

/** What a SELECT does to the rows of its table: filter, order, cut and project them. */
interface Shape {
  readonly projection: Projection;
  readonly where: Compiled | null;
  readonly order: readonly Order[];
  readonly limit: Compiled | null;
  readonly offset: Compiled | null;
}

/** Rows of the source of a SELECT, all made at once, or (a stored table) drawn lazily from its entities. */
interface RowSource {
  readonly rowsOf: (read: ReadContext, env: EvalEnv) => Value[][];
  readonly drawnOf: ((read: ReadContext, env: EvalEnv) => Drawn) | null;
}

type VirtualRows = (read: ReadContext, env: EvalEnv, picks: readonly number[] | null) => Value[][];

export function planSelect(ast: SelectFromStatement, params: ParamSlots, times: TimeOutput = 'ms'): QueryPlan {
  const { source, alias } = selectSource(ast, times);
  const scope = scopeOf(source.def, alias);
  // Aggregates may stand anywhere in the select list and ORDER BY, and nowhere else.
  const aggregates = new AggregateSlots();
  const listScope: Scope = { ...scope, aggregates };
  const projection = compileProjection(ast.columns ?? [], listScope, source.def, params);
  let whereAst: Expr | null = ast.where ?? null;
  let virtualRows: VirtualRows | null = null;
  if (
    source.kind === 'availability' ||
    source.kind === 'policy_usage' ||
    source.kind === 'calendar' ||
    source.kind === 'next_free' ||
    source.kind === 'availability_explain'
  ) {
    // The window and options (or the users asked about) are read from WHERE; what is left
    // filters the rows.
    const a =
      source.kind === 'availability'
        ? planAvailability(ast.where, scope, params)
        : source.kind === 'calendar'
          ? planCalendar(ast.where, scope, params)
          : source.kind === 'next_free'
            ? planNextFree(ast.where, scope, params, ast.limit)
            : source.kind === 'availability_explain'
              ? planExplain(ast.where, scope, params)
              : planPolicyUsage(ast.where, scope, params);
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
  const shape: Shape = { projection, where, order, limit, offset };
  const { rowsOf, drawnOf } = rowSource(source, ast.where, scope, params, virtualRows);

  // Availability with a plain select list and nothing else to do: the rows come out projected.
  const picks = projection.picks;
  const direct = source.kind === 'availability' && picks !== null && where === null && order.length === 0 && !aggregated && limit === null && offset === null;
  return {
    kind: 'query',
    params,
    columns: projection.columns,
    run(read, env) {
      if (direct) return tooMany(virtualRows!(read, env, picks));
      if (drawnOf !== null && !aggregated) return drawnRows(drawnOf(read, env), shape, env);
      return shapedRows(rowsOf(read, env), shape, aggregated ? aggregates.list : null, env);
    },
  };
}

/** The table a SELECT reads (or none), refusing what this path does not plan. */
function selectSource(ast: SelectFromStatement, times: TimeOutput): { source: Source; alias: string | undefined } {
  if (ast.distinct != null) throw unsupported('SELECT DISTINCT is not supported by allot');
  if (ast.groupBy != null || ast.having != null) throw unsupported('GROUP BY and HAVING are not supported by allot');
  if (ast.for != null)
    throw unsupported('SELECT … FOR UPDATE/SHARE is not supported by allot', 'Write statements in allot are checked atomically; no row locks are needed.');
  const from = ast.from ?? [];
  if (from.length > 1 || (from[0] !== undefined && (from[0].type !== 'table' || from[0].join !== undefined))) {
    throw unsupported('joins and subqueries are not supported by allot: select from one table at a time');
  }
  const fromTable = from[0]?.type === 'table' ? from[0] : undefined;
  const resolved: Source = fromTable === undefined ? { kind: 'none', def: null } : resolveTable(fromTable.name);
  const source = { ...resolved, def: typedDef(resolved.def, times) } as Source;
  return { source, alias: fromTable?.name.alias };
}

function rowSource(source: Source, where: Expr | null | undefined, scope: Scope, params: ParamSlots, virtualRows: VirtualRows | null): RowSource {
  switch (source.kind) {
    case 'none':
      return { rowsOf: () => [[]], drawnOf: null };
    case 'allot': {
      // An allot table's rows are made from its entities, lazily where nothing needs them all.
      const hints = extractHints(where, scope, params);
      const drawnOf = (read: ReadContext, env: EvalEnv): Drawn => candidates(source.table, hints, read, env);
      const rowsOf = (read: ReadContext, env: EvalEnv): Value[][] => {
        const d = drawnOf(read, env);
        return d.items.map(d.row);
      };
      return { rowsOf, drawnOf };
    }
    case 'availability':
    case 'policy_usage':
    case 'calendar':
    case 'next_free':
    case 'availability_explain':
      return { rowsOf: (read, env) => virtualRows!(read, env, null), drawnOf: null };
    case 'allot_export':
      // The whole state at one instant: entities are immutable, so capture is a copy of references.
      return {
        rowsOf: (read, env) => {
          const header = { allot_export: EXPORT_VERSION, database: env.session.database, exported_at: read.now };
          return [...jsonLines(header, exportRows(read.engine.capture(), read.now))].map((line) => [line]);
        },
        drawnOf: null,
      };
  }
}

/** Rows made whole: filtered, folded (`aggregates` not null) or ordered, cut and projected. */
function shapedRows(all: Value[][], shape: Shape, aggregates: readonly Aggregate[] | null, env: EvalEnv): Value[][] {
  const { projection, where, order } = shape;
  let rows = all;
  if (where !== null) rows = rows.filter((r) => truthy(where.eval(r, env)));
  tooMany(rows);
  const { off, lim } = offsetAndLimit(shape.offset, shape.limit, env);
  if (aggregates !== null) {
    // One row, which LIMIT and OFFSET apply to like any other.
    const folded: EvalEnv = { params: env.params, session: env.session, aggregates: aggregates.map((a) => fold(a, rows, env)) };
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
}

/** An allot table's result: filtered, ordered and cut on entities; rows made as they are sent. */
function drawnRows(d: Drawn, shape: Shape, env: EvalEnv): ResultRows {
  const { projection, where, order } = shape;
  const { row } = d;
  let items = where === null ? d.items : d.items.filter((x) => truthy(where.eval(row(x), env)));
  tooManyRows(items.length);
  const { off, lim } = offsetAndLimit(shape.offset, shape.limit, env);
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
