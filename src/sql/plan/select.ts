/**
 * SELECT from one of allot's tables (or none): the hot path. Rows are made from the table's
 * entities, lazily where nothing needs them all; the computed tables get theirs from
 * availability.ts. What this path lacks (joins, grouping, subqueries) is ../query/select.ts's.
 */
import type { Expr, SelectFromStatement } from 'pgsql-ast-parser';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { EXPORT_VERSION, exportRows, jsonLines } from '../export.js';
import { AggregateSlots, compileExpr, EMPTY_SCOPE, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { TimeOutput } from '../tables/columns.js';
import type { Value } from '../types.js';
import { fold } from './aggregate.js';
import { planAvailability, planPolicyUsage } from './availability.js';
import { candidates, type Drawn, extractHints } from './hints.js';
import type { QueryPlan, ReadContext, ResultRows } from './index.js';
import { compileOrder, sortByKeys } from './order.js';
import { compileProjection, project, projectOne } from './projection.js';
import { resolveTable, scopeOf, type Source, typedDef } from './resolve.js';
import { LazyRows, nonNegative, tooMany, tooManyRows, truthy } from './rows.js';
import { rowsOf } from './write.js';

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
