/** Select lists and RETURNING: their output columns, the default names of their items, and rows projected through them. */
import type { Expr, SelectedColumn } from 'pgsql-ast-parser';
import { AllotError, SqlState } from '../../errors.js';
import { type Compiled, compileExpr, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import type { TableDef, TimeOutput } from '../tables/columns.js';
import type { SqlType, Value } from '../types.js';
import type { OutColumn } from './index.js';
import { scopeOf, typedDef } from './resolve.js';

function outColumn(name: string, type: SqlType, def: TableDef | null, index: number | undefined): OutColumn {
  return { name, type, tableOid: def !== null && index !== undefined ? def.oid : 0, columnAttr: index !== undefined && def !== null ? index + 1 : 0 };
}

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

export function compileProjection(list: readonly SelectedColumn[], scope: Scope, def: TableDef | null, params: ParamSlots): Projection {
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
export function compileReturning(list: readonly SelectedColumn[] | null | undefined, def: TableDef, params: ParamSlots, times: TimeOutput): Projection | null {
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
