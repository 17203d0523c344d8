/**
 * The general read path: SELECT with joins, subqueries, CTEs, GROUP BY/HAVING, DISTINCT, UNION
 * and VALUES, over allot's tables and the system catalog, at one consistent instant. Planned
 * once into relations whose `run` makes rows; expressions are compileExpr's closures.
 *
 * The single-table path in plan/select.ts stays the hot path: a statement goes here only when it needs
 * what that path lacks (see needsGeneralPlan), and a simple single-table part of a general query
 * (a derived table over availability, say) is still planned there.
 */
import type { Expr, From, SelectFromStatement, SelectedColumn, Statement } from 'pgsql-ast-parser';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { columnType, type ColumnDef, type TableDef, type TimeOutput } from '../tables/columns.js';
import { isStoredTable, Tables, type StoredTable } from '../tables/index.js';
import { AggregateSlots, compare, compileExpr, type ParamSlots, typeDomain, type Compiled, type EvalEnv, type Scope, type SubqueryPlan } from '../expr.js';
import { andAll, candidates, conjuncts, extractHints } from '../plan/hints.js';
import { compileOrder, sortByKeys } from '../plan/order.js';
import { defaultName, projectOne, type Projection } from '../plan/projection.js';
import { fold } from '../plan/aggregate.js';
import { offsetAndLimit, tooManyRows, truthy } from '../plan/rows.js';
import { TABLE_LIST } from '../plan/resolve.js';
import { planSelect } from '../plan/select.js';
import type { OutColumn, QueryPlan, ReadContext } from '../plan/index.js';
import { formatValue, type SqlType, type Value } from '../types.js';
import { computeWindows, expandSetFunctions, SET_FUNCTIONS, SetFunctionSlots, WindowSlots } from './row-functions.js';
import { systemTableRows, systemTableOf, tableFunction } from './sources.js';

/** A column of a relation: what a reference finds, and what RowDescription says of it. */
export interface RelColumn extends ColumnDef {
  /** The names it may be qualified with (its table's alias, or name). */
  readonly qualifier: string | null;
  readonly tableOid: number;
  readonly columnAttr: number;
  /** The second copy of a USING column: skipped by `*` and by unqualified names. */
  readonly hidden?: boolean;
  /** RowDescription's type where it is not `type`'s (a catalog domain such as sql_identifier). */
  readonly typeOid?: number;
  readonly typmod?: number;
}

/** A planned relation: its columns, and its rows for one execution (`env.read` set). */
export interface Rel {
  readonly columns: readonly RelColumn[];
  run(env: EvalEnv): Value[][];
}

/** A WITH query while its statement runs: planned once, its rows made once per execution. */
interface Cte {
  readonly rel: Rel;
  /** Rows of the running execution, innermost last (a plan may run inside itself). */
  readonly current: Value[][][];
}

interface PlanCtx {
  readonly params: ParamSlots;
  readonly times: TimeOutput;
  readonly ctes: ReadonlyMap<string, Cte>;
  /** The scope of the enclosing query, for correlated subqueries. */
  readonly outer?: Scope;
  /** The flag a correlated reference sets on the subquery being planned. */
  readonly correlation?: { correlated: boolean };
}

// ---- when a statement needs this path -------------------------------------------------------

const SUBQUERY_TYPES = new Set(['select', 'union', 'union all', 'values', 'with', 'with recursive', 'array select']);

/** Whether any node of `node` (an AST fragment) is a subquery. */
function hasSubquery(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(hasSubquery);
  const t = (node as { type?: unknown }).type;
  if (typeof t === 'string' && SUBQUERY_TYPES.has(t)) return true;
  return Object.values(node).some(hasSubquery);
}

/** Whether a select list calls a set-returning or window function (or reads a record's field). */
function hasRowFunction(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(hasRowFunction);
  const n = node as { type?: unknown; function?: { name?: string }; over?: unknown };
  if (n.type === 'call' && (n.over != null || SET_FUNCTIONS.has(n.function?.name?.toLowerCase() ?? '') || n.function?.name === '__field')) return true;
  return Object.values(node).some(hasRowFunction);
}

/**
 * Whether a SELECT needs the general path: more than one table, a join, a derived table or a
 * function in FROM, grouping, DISTINCT, a subquery anywhere, or the system catalog.
 */
export function needsGeneralPlan(ast: SelectFromStatement): boolean {
  const from = ast.from ?? [];
  if (from.length > 1) return true;
  const f = from[0];
  if (f !== undefined) {
    if (f.type !== 'table' || f.join != null) return true;
    const schema = f.name.schema;
    const inAllot = (schema === undefined || schema === 'public') && Object.hasOwn(Tables, f.name.name);
    if (!inAllot) return true;
  }
  if (ast.groupBy != null || ast.having != null || (ast.distinct != null && ast.distinct !== 'all')) return true;
  return hasSubquery(ast.columns) || hasSubquery(ast.where) || hasSubquery(ast.orderBy) || hasSubquery(ast.limit) || hasRowFunction(ast.columns);
}

/** Plans a read statement on the general path as a top-level query. */
export function planGeneralQuery(stmt: Statement, params: ParamSlots, times: TimeOutput): QueryPlan {
  const rel = planRel(stmt, { params, times, ctes: new Map() });
  return {
    kind: 'query',
    params,
    columns: rel.columns.filter((c) => c.hidden !== true).map(outColumnOf),
    run(read: ReadContext, env: EvalEnv) {
      const rows = rel.run({ ...env, read, memo: new Map() });
      tooManyRows(rows.length);
      return rows;
    },
  };
}

function outColumnOf(c: RelColumn): OutColumn {
  return {
    name: c.name,
    type: c.type,
    tableOid: c.tableOid,
    columnAttr: c.columnAttr,
    ...(c.typeOid !== undefined ? { typeOid: c.typeOid } : {}),
    ...(c.typmod !== undefined ? { typmod: c.typmod } : {}),
  };
}

// ---- statements -------------------------------------------------------------------------

function planRel(stmt: Statement, ctx: PlanCtx): Rel {
  switch (stmt.type) {
    case 'select':
      return planSelectRel(stmt, ctx);
    case 'union':
    case 'union all':
      return planUnion(stmt, ctx);
    case 'values':
      return planValues(stmt.values, ctx);
    case 'with':
      return planWith(stmt, ctx);
    case 'with recursive':
      throw unsupported('WITH RECURSIVE is not supported by allot');
    default:
      throw unsupported(`${stmt.type.toUpperCase()} is not allowed in a query`);
  }
}

function planWith(stmt: Extract<Statement, { type: 'with' }>, ctx: PlanCtx): Rel {
  const ctes = new Map(ctx.ctes);
  const own: Cte[] = [];
  for (const b of stmt.bind) {
    const s = b.statement;
    if (s.type === 'insert' || s.type === 'update' || s.type === 'delete') throw unsupported('data-modifying statements in WITH are not supported by allot');
    const rel = planRel(s, { ...ctx, ctes });
    const cte: Cte = { rel: renamed(rel, b.alias.name, null), current: [] };
    ctes.set(b.alias.name, cte);
    own.push(cte);
  }
  const body = planRel(stmt.in, { ...ctx, ctes });
  return {
    columns: body.columns,
    run(env) {
      for (const c of own) c.current.push(c.rel.run(env));
      try {
        return body.run(env);
      } finally {
        for (const c of own) c.current.pop();
      }
    },
  };
}

function planUnion(stmt: Extract<Statement, { type: 'union' | 'union all' }>, ctx: PlanCtx): Rel {
  // The parser hangs a trailing ORDER BY / LIMIT on the last SELECT; it applies to the union.
  let right = stmt.right;
  let tail: Pick<SelectFromStatement, 'orderBy' | 'limit'> | null = null;
  if (right.type === 'select' && (right.orderBy != null || right.limit != null)) {
    tail = { orderBy: right.orderBy, limit: right.limit };
    right = { ...right, orderBy: null, limit: null };
  }
  const l = planRel(stmt.left, ctx);
  const r = planRel(right, ctx);
  const lv = visible(l.columns);
  if (lv.length !== visible(r.columns).length) throw new AllotError(SqlState.syntaxError, 'each UNION query must have the same number of columns');
  const distinct = stmt.type === 'union';
  const columns = lv.map((c) => ({ ...c, qualifier: null, tableOid: 0, columnAttr: 0 }));
  const union: Rel = {
    columns,
    run(env) {
      const rows = [...l.run(env), ...r.run(env)];
      return distinct ? dedupe(rows) : rows;
    },
  };
  return tail === null ? union : orderAndLimit(union, tail, ctx);
}

/** ORDER BY and LIMIT over a relation's own columns (after a UNION). */
function orderAndLimit(rel: Rel, tail: Pick<SelectFromStatement, 'orderBy' | 'limit'>, ctx: PlanCtx): Rel {
  const scope = scopeOf(rel.columns, ctx);
  const projection: Projection = {
    columns: rel.columns.map(outColumnOf),
    exprs: rel.columns.map((c, i) => ({ type: c.type, eval: (row: readonly Value[]) => row[i] ?? null, column: i })),
    picks: rel.columns.map((_, i) => i),
  };
  const order = (tail.orderBy ?? []).map((o) => compileOrder(o.by, o.order ?? undefined, o.nulls ?? undefined, projection, scope, ctx.params));
  const cut = limitOf(tail, ctx);
  return {
    columns: rel.columns,
    run(env) {
      let rows = rel.run(env);
      if (order.length > 0)
        rows = sortByKeys(
          rows.map((r) => ({ item: r, keys: order.map((o) => o.key(r, r, env)) })),
          order,
        ).map((k) => k.item);
      return cut(rows, env);
    },
  };
}

function planValues(values: readonly Expr[][], ctx: PlanCtx): Rel {
  const width = values[0]?.length ?? 0;
  const scope: Scope = { columns: [], qualifiers: new Set(), ...(ctx.outer !== undefined ? { outer: ctx.outer } : {}), subqueries: subqueryPlanner(ctx) };
  const rows = values.map((row) => {
    if (row.length !== width) throw new AllotError(SqlState.syntaxError, 'VALUES lists must all be the same length');
    return row.map((e) => compileExpr(e, scope, ctx.params));
  });
  const columns: RelColumn[] = (rows[0] ?? []).map((c, i) => ({
    name: `column${i + 1}`,
    type: c.type,
    domain: domainOf(c.type),
    qualifier: null,
    tableOid: 0,
    columnAttr: 0,
  }));
  return { columns, run: (env) => rows.map((r) => r.map((c) => c.eval([], env))) };
}

// ---- SELECT -----------------------------------------------------------------------------

function planSelectRel(ast: SelectFromStatement, ctx: PlanCtx): Rel {
  if (ast.for != null)
    throw unsupported('SELECT … FOR UPDATE/SHARE is not supported by allot', 'Write statements in allot are checked atomically; no row locks are needed.');
  const simple = simpleSelect(ast, ctx);
  if (simple !== null) return simple;
  const from = planFrom(ast.from ?? [], ast.where ?? null, ctx);
  const scope: Scope = { ...scopeOf(from.columns, ctx), ...(ctx.correlation !== undefined ? { correlation: ctx.correlation } : {}) };
  const where = ast.where != null ? compileExpr(ast.where, scope, ctx.params, 'bool') : null;
  const slots = new AggregateSlots();
  const setFunctions = new SetFunctionSlots();
  const windows = new WindowSlots();
  const listScope: Scope = { ...scope, aggregates: slots, setFunctions, windows };
  const projection = compileSelectList(ast.columns ?? [], listScope, from.columns, ctx);
  const groupBy = (ast.groupBy ?? []).map((g) => groupKey(g, projection, scope, ctx.params));
  const having = ast.having != null ? compileExpr(ast.having, listScope, ctx.params, 'bool') : null;
  const order = (ast.orderBy ?? []).map((o) => compileOrder(o.by, o.order ?? undefined, o.nulls ?? undefined, projection, listScope, ctx.params));
  const grouped = groupBy.length > 0 || slots.list.length > 0 || having !== null;
  if (grouped && groupBy.length === 0 && slots.bareColumns > 0) {
    throw new AllotError(SqlState.groupingError, 'a column must appear in the GROUP BY clause or be used in an aggregate function');
  }
  const distinctOn = Array.isArray(ast.distinct) ? ast.distinct.map((e) => compileExpr(e, listScope, ctx.params)) : null;
  const distinct = ast.distinct === 'distinct';
  const cut = limitOf(ast, ctx);
  const width = from.columns.length;
  if (grouped && (setFunctions.list.length > 0 || windows.list.length > 0)) {
    throw unsupported('set-returning and window functions are not supported by allot together with GROUP BY or aggregates');
  }
  const columns: RelColumn[] = projection.columns.map((c, i) => {
    const fields = projection.exprs[i]!.fields;
    return {
      name: c.name,
      type: c.type,
      domain: domainOf(c.type),
      qualifier: null,
      tableOid: c.tableOid,
      columnAttr: c.columnAttr,
      ...(fields !== undefined ? { fields } : {}),
      ...(c.typeOid !== undefined ? { typeOid: c.typeOid } : {}),
      ...(c.typmod !== undefined ? { typmod: c.typmod } : {}),
    };
  });
  return {
    columns,
    run(env) {
      let rows = from.run(env);
      if (where !== null) rows = rows.filter((r) => truthy(where.eval(r, env)));
      // Each output row with what ORDER BY and DISTINCT ON read: its source row and environment.
      let out: { item: Value[]; src: readonly Value[]; env: EvalEnv }[];
      if (grouped) {
        out = [];
        for (const group of groups(rows, groupBy, env, width)) {
          const genv: EvalEnv = { ...env, aggregates: slots.list.map((a) => fold(a, group.rows, env)) };
          if (having !== null && !truthy(having.eval(group.first, genv))) continue;
          out.push({ item: projectOne(projection, group.first, genv), src: group.first, env: genv });
        }
      } else {
        const win = windows.list.length > 0 ? computeWindows(windows, rows, env, compare) : null;
        out = [];
        rows.forEach((r, i) => {
          const renv = win === null ? env : { ...env, window: win[i]! };
          for (const e of expandSetFunctions(setFunctions, r, renv)) out.push({ item: projectOne(projection, r, e), src: r, env: e });
        });
        tooManyRows(out.length);
      }
      if (order.length > 0) {
        const keyed = out.map((o) => ({ item: o, keys: order.map((k) => k.key(o.src, o.item, o.env)) }));
        out = sortByKeys(keyed, order).map((k) => k.item);
      }
      let result = out.map((o) => o.item);
      if (distinctOn !== null) {
        const seen = new Set<string>();
        result = out
          .filter((o) => {
            const k = keyOf(distinctOn.map((d) => d.eval(o.src, o.env)));
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          })
          .map((o) => o.item);
      } else if (distinct) result = dedupe(result);
      return cut(result, env);
    },
  };
}

/**
 * A SELECT the single-table path plans: one allot table, nothing it lacks, and (inside a
 * subquery) no reference to the enclosing query. Its rows are taken whole.
 */
function simpleSelect(ast: SelectFromStatement, ctx: PlanCtx): Rel | null {
  if (needsGeneralPlan(ast)) return null;
  const f = ast.from?.[0];
  if (f !== undefined && f.type === 'table' && f.name.schema === undefined && ctx.ctes.has(f.name.name)) return null;
  const virtual =
    f !== undefined &&
    f.type === 'table' &&
    (f.name.name === 'availability' ||
      f.name.name === 'policy_usage' ||
      f.name.name === 'allot_export' ||
      f.name.name === 'calendar' ||
      f.name.name === 'next_free' ||
      f.name.name === 'availability_explain');
  if (ctx.outer !== undefined && !virtual) return null;
  const plan = planSelect(ast, ctx.params, ctx.times);
  return {
    columns: plan.columns.map((c) => ({
      name: c.name,
      type: c.type,
      domain: domainOf(c.type),
      qualifier: null,
      tableOid: c.tableOid,
      columnAttr: c.columnAttr,
    })),
    run(env) {
      const read = env.read;
      if (read === undefined) throw new Error('a general query ran without its read context');
      const rows = plan.run(read, env);
      const out: Value[][] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = rows.at(i)!;
      return out;
    },
  };
}

function limitOf(ast: Pick<SelectFromStatement, 'limit'>, ctx: PlanCtx): (rows: Value[][], env: EvalEnv) => Value[][] {
  const scope: Scope = { columns: [], qualifiers: new Set(), subqueries: subqueryPlanner(ctx) };
  const limit = ast.limit?.limit != null ? compileExpr(ast.limit.limit, scope, ctx.params, 'int') : null;
  const offset = ast.limit?.offset != null ? compileExpr(ast.limit.offset, scope, ctx.params, 'int') : null;
  if (limit === null && offset === null) return (rows) => rows;
  return (rows, env) => {
    const { off, lim } = offsetAndLimit(offset, limit, env);
    return rows.slice(off, off + lim);
  };
}

/** A GROUP BY item: a select-list position (`GROUP BY 1`), an output name, or an expression. */
function groupKey(g: Expr, projection: Projection, scope: Scope, params: ParamSlots): Compiled {
  if (g.type === 'integer') {
    const e = projection.exprs[g.value - 1];
    if (e === undefined) throw new AllotError(SqlState.invalidColumnReference, `GROUP BY position ${g.value} is not in select list`);
    return e;
  }
  if (g.type === 'ref' && g.table === undefined && !scope.columns.some((c) => c.name === g.name)) {
    const i = projection.columns.findIndex((c) => c.name === g.name);
    if (i >= 0) return projection.exprs[i]!;
  }
  return compileExpr(g, scope, params);
}

interface Group {
  readonly first: readonly Value[];
  readonly rows: Value[][];
}

/** Rows by their GROUP BY key, in order of first appearance; no keys: one group, even of none. */
function groups(rows: readonly Value[][], keys: readonly Compiled[], env: EvalEnv, width: number): Group[] {
  if (keys.length === 0) return [{ first: rows[0] ?? new Array<Value>(width).fill(null), rows: [...rows] }];
  const byKey = new Map<string, Group>();
  for (const r of rows) {
    const k = keyOf(keys.map((key) => key.eval(r, env)));
    const g = byKey.get(k);
    if (g === undefined) byKey.set(k, { first: r, rows: [r] });
    else g.rows.push(r);
  }
  return [...byKey.values()];
}

/** A key under which equal values (as SQL compares them for grouping) meet. */
function keyOf(values: readonly Value[]): string {
  return values.map((v) => (v === null ? '\u0000' : `${typeof v}:${String(formatValue(v))}`)).join('\u0001');
}

function dedupe(rows: Value[][]): Value[][] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = keyOf(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function visible(columns: readonly RelColumn[]): RelColumn[] {
  return columns.filter((c) => c.hidden !== true);
}

/** The select list: `*` and `t.*` expand to the (visible) columns they name. */
function compileSelectList(list: readonly SelectedColumn[], scope: Scope, columns: readonly RelColumn[], ctx: PlanCtx): Projection {
  const out: OutColumn[] = [];
  const exprs: Compiled[] = [];
  const star = (i: number): void => {
    const c = columns[i]!;
    if (scope.aggregates !== undefined) scope.aggregates.bareColumns++;
    out.push(outColumnOf(c));
    exprs.push({ type: c.type, eval: (row) => row[i] ?? null, column: i, domain: c.domain });
  };
  for (const item of list) {
    const e = item.expr;
    if (e.type === 'ref' && e.name === '*') {
      const q = e.table?.name;
      if (q === undefined && columns.length === 0) throw new AllotError(SqlState.syntaxError, 'SELECT * with no tables specified is not valid');
      const picked = columns.map((c, i) => ({ c, i })).filter(({ c }) => c.hidden !== true && (q === undefined || c.qualifier === q));
      if (q !== undefined && picked.length === 0) throw new AllotError(SqlState.undefinedTable, `missing FROM-clause entry for table "${q}"`);
      for (const { i } of picked) star(i);
      continue;
    }
    const c = compileExpr(e, scope, ctx.params);
    exprs.push(c);
    const src = c.column !== undefined ? columns[c.column] : undefined;
    const same = src !== undefined && src.type === c.type;
    out.push({
      name: item.alias?.name ?? defaultName(e),
      type: c.type,
      tableOid: src?.tableOid ?? 0,
      columnAttr: src?.columnAttr ?? 0,
      ...(same && src.typeOid !== undefined ? { typeOid: src.typeOid } : {}),
      ...(same && src.typmod !== undefined ? { typmod: src.typmod } : {}),
    });
  }
  const picks: number[] = [];
  for (const x of exprs) if (x.column !== undefined) picks.push(x.column);
  return { columns: out, exprs, picks: picks.length === exprs.length ? picks : null };
}

// ---- FROM -------------------------------------------------------------------------------

/** A column's domain from its type (text where allot reads nothing more specific). */
export function domainOf(t: SqlType): ColumnDef['domain'] {
  return typeDomain(t) ?? 'text';
}

function scopeOf(columns: readonly RelColumn[], ctx: PlanCtx): Scope {
  const hidden = new Set<number>();
  columns.forEach((c, i) => {
    if (c.hidden === true) hidden.add(i);
  });
  return {
    columns,
    qualifiers: new Set(columns.flatMap((c) => (c.qualifier === null ? [] : [c.qualifier]))),
    tables: columns.map((c) => new Set(c.qualifier === null ? [] : [c.qualifier])),
    ...(hidden.size > 0 ? { hidden } : {}),
    ...(ctx.outer !== undefined ? { outer: ctx.outer } : {}),
    subqueries: subqueryPlanner(ctx),
  };
}

/** A relation's columns under a new qualifier (an alias), optionally renamed (`AS t(a, b)`). */
function renamed(rel: Rel, qualifier: string | null, names: readonly string[] | null): Rel {
  if (names !== null && names.length > rel.columns.length) {
    throw new AllotError(
      SqlState.invalidColumnReference,
      `table "${qualifier ?? ''}" has ${rel.columns.length} columns available but ${names.length} columns specified`,
    );
  }
  return { columns: rel.columns.map((c, i) => ({ ...c, name: names?.[i] ?? c.name, qualifier })), run: rel.run };
}

function subqueryPlanner(ctx: PlanCtx): NonNullable<Scope['subqueries']> {
  return {
    plan(stmt: Statement, scope: Scope, params: ParamSlots): SubqueryPlan {
      const correlation = { correlated: false };
      const rel = planRel(stmt, { params, times: ctx.times, ctes: ctx.ctes, outer: scope, correlation });
      return { types: visible(rel.columns).map((c) => c.type), correlated: correlation.correlated, run: (env) => rel.run(env) };
    },
  };
}

/** FROM's items joined left to right; none: one empty row. */
function planFrom(items: readonly From[], where: Expr | null, ctx: PlanCtx): Rel {
  if (items.length === 0) return { columns: [], run: () => [[]] };
  let acc: Rel | null = null;
  for (const item of items) {
    const rel = planFromItem(item, where, ctx);
    if (acc === null) {
      if (item.join != null) throw new AllotError(SqlState.syntaxError, 'a join needs a table on its left');
      acc = rel;
      continue;
    }
    acc = item.join == null ? crossJoin(acc, rel) : join(acc, rel, item.join, ctx);
  }
  return acc!;
}

function planFromItem(item: From, where: Expr | null, ctx: PlanCtx): Rel {
  if (item.lateral === true) throw unsupported('LATERAL is not supported by allot');
  switch (item.type) {
    case 'table':
      return tableRel(item.name, where, ctx);
    case 'statement': {
      const rel = planRel(item.statement, { ...ctx });
      return renamed(rel, item.alias, item.columnNames?.map((n) => n.name) ?? null);
    }
    case 'call': {
      const rel = tableFunction(item, ctx.params, {
        columns: [],
        qualifiers: new Set(),
        ...(ctx.outer !== undefined ? { outer: ctx.outer } : {}),
        subqueries: subqueryPlanner(ctx),
      });
      const withOrdinality = item.withOrdinality === true ? ordinality(rel) : rel;
      const alias = item.alias?.name;
      // `f(…) AS g` of a function with one column names the column g too, as in PostgreSQL.
      const names = item.alias?.columns?.map((n) => n.name) ?? (alias !== undefined && rel.columns.length === 1 ? [alias] : null);
      return renamed(withOrdinality, alias ?? item.function.name, names);
    }
  }
}

function ordinality(rel: Rel): Rel {
  return {
    columns: [...rel.columns, { name: 'ordinality', type: 'int8', domain: 'int', qualifier: null, tableOid: 0, columnAttr: 0 }],
    run: (env) => rel.run(env).map((r, i) => [...r, i + 1]),
  };
}

/** A table named in FROM: a WITH query, one of allot's tables, or the system catalog. */
function tableRel(name: { name: string; schema?: string; alias?: string; columnNames?: { name: string }[] | null }, where: Expr | null, ctx: PlanCtx): Rel {
  const qualifier = name.alias ?? name.name;
  const names = name.columnNames?.map((n) => n.name) ?? null;
  const cte = name.schema === undefined ? ctx.ctes.get(name.name) : undefined;
  if (cte !== undefined) {
    const rows = (): Value[][] => {
      const current = cte.current[cte.current.length - 1];
      if (current === undefined) throw new Error(`WITH query ${name.name} read outside its statement`);
      return current;
    };
    return renamed({ columns: cte.rel.columns, run: rows }, qualifier, names);
  }
  if ((name.schema === undefined || name.schema === 'public') && Object.hasOwn(Tables, name.name)) {
    if (!isStoredTable(name.name)) {
      throw unsupported(
        `${name.name} can be joined only as a subquery with its own WHERE`,
        `For example: SELECT … FROM (SELECT * FROM ${name.name} WHERE …) AS a JOIN resources r ON r.id = a.resource_id`,
      );
    }
    return renamed(storedTableRel(name.name, qualifier, where, ctx), qualifier, names);
  }
  const system = systemTableOf(name.schema, name.name);
  if (system === undefined) {
    throw new AllotError(SqlState.undefinedTable, `relation "${name.schema !== undefined ? `${name.schema}.` : ''}${name.name}" does not exist`, {
      hint: `allot has the tables ${TABLE_LIST}.`,
    });
  }
  return renamed(
    {
      columns: system.columns.map((c, i) => ({
        name: c.name,
        type: c.type,
        domain: domainOf(c.type),
        qualifier,
        tableOid: system.oid,
        columnAttr: i + 1,
        ...(c.typeOid !== undefined ? { typeOid: c.typeOid } : {}),
        ...(c.typmod !== undefined ? { typmod: c.typmod } : {}),
      })),
      run: (env) => systemTableRows(system, env, ctx.times),
    },
    qualifier,
    names,
  );
}

/**
 * One of allot's stored tables, its rows narrowed, where the WHERE allows, by the conditions on
 * it alone that an index answers (the whole WHERE still decides).
 */
function storedTableRel(table: StoredTable, qualifier: string, where: Expr | null, ctx: PlanCtx): Rel {
  const def: TableDef = Tables[table];
  const columns: RelColumn[] = def.columns.map((c, i) => ({ ...c, type: columnType(c, ctx.times), qualifier, tableOid: def.oid, columnAttr: i + 1 }));
  const own = conjuncts(where).filter((c) => onlyRefersTo(c, qualifier, def));
  const ownScope: Scope = { columns: def.columns, qualifiers: new Set([qualifier]) };
  let hints: ReturnType<typeof extractHints> | null = null;
  try {
    hints = extractHints(andAll(own), ownScope, ctx.params);
  } catch {
    hints = null; // the general WHERE reports what is wrong with it
  }
  const h = hints ?? extractHints(null, ownScope, ctx.params);
  return {
    columns,
    run(env) {
      const read = env.read;
      if (read === undefined) throw new Error('a general query ran without its read context');
      const d = candidates(table, h, read, env);
      return d.items.map(d.row);
    },
  };
}

/** Whether every column reference in `e` is to the table `qualifier` (and none is in a subquery). */
function onlyRefersTo(e: Expr, qualifier: string, def: TableDef): boolean {
  let ok = true;
  const visit = (node: unknown): void => {
    if (!ok || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as { type?: string; name?: string; table?: { name: string } };
    if (typeof n.type === 'string' && SUBQUERY_TYPES.has(n.type)) {
      ok = false;
      return;
    }
    if (n.type === 'ref') {
      if (n.table !== undefined ? n.table.name !== qualifier : !def.columns.some((c) => c.name === n.name)) ok = false;
      return;
    }
    Object.values(node).forEach(visit);
  };
  visit(e);
  return ok;
}

// ---- joins ------------------------------------------------------------------------------

function crossJoin(l: Rel, r: Rel): Rel {
  return {
    columns: [...l.columns, ...r.columns],
    run(env) {
      const left = l.run(env);
      const right = r.run(env);
      const out: Value[][] = [];
      for (const a of left) for (const b of right) out.push([...a, ...b]);
      tooManyRows(out.length);
      return out;
    },
  };
}

type JoinClause = NonNullable<From['join']>;

function join(l: Rel, r: Rel, clause: JoinClause, ctx: PlanCtx): Rel {
  if (clause.type === 'CROSS JOIN') return crossJoin(l, r);
  const columns: RelColumn[] = [...l.columns, ...r.columns];
  const lw = l.columns.length;
  const rw = r.columns.length;
  const scope: Scope = { ...scopeOf(columns, ctx), ...(ctx.correlation !== undefined ? { correlation: ctx.correlation } : {}) };
  let cond: Compiled | null;
  let keys: { left: Compiled; right: Compiled } | null;
  if (clause.using != null) {
    // USING (a, b): equal columns of the same name, shown once (the left copy).
    const pairs = clause.using.map((u) => {
      const li = l.columns.findIndex((c) => c.name === u.name && c.hidden !== true);
      const ri = r.columns.findIndex((c) => c.name === u.name && c.hidden !== true);
      if (li < 0 || ri < 0)
        throw new AllotError(SqlState.undefinedColumn, `column "${u.name}" specified in USING clause does not exist in ${li < 0 ? 'left' : 'right'} table`);
      columns[lw + ri] = { ...columns[lw + ri]!, hidden: true };
      return [li, lw + ri] as const;
    });
    cond = { type: 'bool', eval: (row) => pairs.every(([a, b]) => row[a] !== null && row[b] !== null && compare(row[a]!, row[b]!) === 0) };
    const [li, ri] = pairs[0]!;
    keys = sameKind(columns[li]!.type, columns[ri]!.type)
      ? { left: { type: columns[li]!.type, eval: (row) => row[li] ?? null }, right: { type: columns[ri]!.type, eval: (row) => row[ri - lw] ?? null } }
      : null;
  } else {
    const on = clause.on ?? null;
    cond = on === null ? null : compileExpr(on, scope, ctx.params, 'bool');
    keys = on === null ? null : equiKeys(on, lw, scope, ctx.params);
  }
  const kind = clause.type;
  return {
    columns,
    run(env) {
      const left = l.run(env);
      const right = r.run(env);
      const out: Value[][] = [];
      const rightMatched = kind === 'RIGHT JOIN' || kind === 'FULL JOIN' ? new Uint8Array(right.length) : null;
      const nullLeft = new Array<Value>(lw).fill(null);
      const nullRight = new Array<Value>(rw).fill(null);
      const index = keys === null ? null : hashRight(right, keys.right, env);
      for (const a of left) {
        let matched = false;
        const probe = index === null ? null : index.get(keyOf([keys!.left.eval(a, env)]));
        const candidates = index === null ? right.map((_, j) => j) : (probe ?? []);
        for (const j of candidates) {
          const row = [...a, ...right[j]!];
          if (cond === null || truthy(cond.eval(row, env))) {
            matched = true;
            if (rightMatched !== null) rightMatched[j] = 1;
            out.push(row);
          }
        }
        if (!matched && (kind === 'LEFT JOIN' || kind === 'FULL JOIN')) out.push([...a, ...nullRight]);
        tooManyRows(out.length);
      }
      if (rightMatched !== null)
        right.forEach((b, j) => {
          if (rightMatched[j] === 0) out.push([...nullLeft, ...b]);
        });
      return out;
    },
  };
}

/**
 * For ON conditions with `left column = right column` among their conjuncts: the two sides, so
 * the join looks rows up by key instead of trying every pair (the full ON still decides).
 */
function equiKeys(on: Expr, leftWidth: number, scope: Scope, params: ParamSlots): { left: Compiled; right: Compiled } | null {
  for (const c of conjuncts(on)) {
    if (c.type !== 'binary' || c.op !== '=') continue;
    let a: Compiled;
    let b: Compiled;
    try {
      a = compileExpr(c.left, scope, params);
      b = compileExpr(c.right, scope, params);
    } catch {
      continue;
    }
    if (a.column === undefined || b.column === undefined) continue;
    const [x, y] = a.column < leftWidth ? [a, b] : [b, a];
    if (x.column! >= leftWidth || y.column! < leftWidth) continue;
    // Keys compare as text, so both sides must be of one kind (numbers with numbers).
    if (sameKind(x.type, y.type)) {
      const shift = leftWidth;
      const right: Compiled = { type: y.type, eval: (row) => row[y.column! - shift] ?? null };
      return { left: x, right };
    }
  }
  return null;
}

function sameKind(a: SqlType, b: SqlType): boolean {
  const numeric = (t: SqlType): boolean => domainOf(t) === 'int' || domainOf(t) === 'time' || domainOf(t) === 'duration';
  if (numeric(a) || numeric(b)) return numeric(a) && numeric(b);
  return domainOf(a) === domainOf(b);
}

function hashRight(rows: readonly Value[][], key: Compiled, env: EvalEnv): Map<string, number[]> {
  const m = new Map<string, number[]>();
  rows.forEach((r, j) => {
    const v = key.eval(r, env);
    if (v === null) return; // null never equals anything
    const k = keyOf([v]);
    const list = m.get(k);
    if (list === undefined) m.set(k, [j]);
    else list.push(j);
  });
  return m;
}
