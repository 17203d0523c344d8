/**
 * Row sources of the general read path besides allot's tables: the system catalog and
 * functions in FROM (set-returning ones such as generate_series and unnest, or any scalar
 * function, which gives one row).
 */
import type { FromCall } from 'pgsql-ast-parser';
import { AllotError, SqlState } from '../../errors.js';
import type { TimeOutput } from '../catalog.js';
import { systemContext } from '../casts.js';
import { compileExpr, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import { SYSTEM_TABLE_FUNCTIONS } from '../system/functions.js';
import { findSystemTable, type SystemColumn } from '../system/tables.js';
import { parseTextArray, type SqlType, type Value } from '../types.js';
import type { Rel, RelColumn } from './select.js';

export interface SystemTableRef {
  readonly oid: number;
  readonly columns: readonly SystemColumn[];
  rows(env: EvalEnv, times: TimeOutput): Value[][];
}

/** A table of pg_catalog or information_schema, or undefined. */
export function systemTableOf(schema: string | undefined, name: string): SystemTableRef | undefined {
  const t = findSystemTable(schema, name);
  if (t === undefined) return undefined;
  return { oid: t.oid, columns: t.columns, rows: (env) => t.rows(systemContext(env.session)) };
}

export function systemTableRows(t: SystemTableRef, env: EvalEnv, times: TimeOutput): Value[][] {
  return t.rows(env, times);
}

const MAX_SERIES_ROWS = 1_000_000;

function column(name: string, type: SqlType): RelColumn {
  return { name, type, domain: type === 'int8' || type === 'int4' ? 'int' : 'text', qualifier: null, tableOid: 0, columnAttr: 0 };
}

/** A function in FROM as a relation of its rows. */
export function tableFunction(call: FromCall, params: ParamSlots, scope: Scope): Rel {
  const name = call.function.name.toLowerCase();
  const args = call.args.map((a) => compileExpr(a, scope, params, name === 'unnest' ? 'text[]' : undefined));
  switch (name) {
    case 'generate_series': {
      if (args.length < 2 || args.length > 3) throw new AllotError(SqlState.undefinedFunction, `function generate_series does not take ${args.length} arguments`);
      const type: SqlType = args.some((a) => a.type === 'int8') ? 'int8' : 'int4';
      return {
        columns: [column('generate_series', type)],
        run(env) {
          const [a, b, c] = args.map((x) => x.eval([], env));
          if (a === null || b === null || c === null) return [];
          const from = Number(a);
          const to = Number(b);
          const step = c === undefined ? 1 : Number(c);
          if (step === 0) throw new AllotError(SqlState.invalidParameterValue, 'step size cannot equal zero');
          const n = Math.max(0, Math.floor((to - from) / step) + 1);
          if (n > MAX_SERIES_ROWS) throw new AllotError(SqlState.programLimitExceeded, `generate_series of ${n} rows; the limit is ${MAX_SERIES_ROWS}`);
          const out: Value[][] = [];
          for (let i = 0; i < n; i++) out.push([from + i * step]);
          return out;
        },
      };
    }
    case 'unnest': {
      if (args.length !== 1) throw new AllotError(SqlState.featureNotSupported, 'unnest of several arrays is not supported by allot');
      const arg = args[0]!;
      return {
        columns: [column('unnest', 'text')],
        run(env) {
          const v = arg.eval([], env);
          if (v === null) return [];
          const xs = Array.isArray(v) ? v : parseTextArray(String(v));
          return xs.map((x) => [x]);
        },
      };
    }
    default: {
      const system = SYSTEM_TABLE_FUNCTIONS.get(name);
      if (system !== undefined) {
        if (args.length < system.args[0] || args.length > system.args[1]) throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
        const types = args.map((a) => a.type);
        return {
          columns: system.columns(types).map((c) => column(c.name, c.type)),
          run: (env) => system.rows(args.map((a) => a.eval([], env)), systemContext(env.session), types),
        };
      }
      // Any other function: one row of its value, in a column named after it.
      const e = compileExpr({ ...call, type: 'call' }, scope, params);
      return { columns: [column(name, e.type)], run: (env) => [[e.eval([], env)]] };
    }
  }
}
