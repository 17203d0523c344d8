/**
 * Row sources of the general read path besides allot's tables: the system catalog and
 * functions in FROM (set-returning ones such as generate_series and unnest, or any scalar
 * function, which gives one row).
 */
import type { FromCall } from 'pgsql-ast-parser';
import { AllotError, SqlState } from '../../errors.js';
import type { TimeOutput } from '../tables/columns.js';
import { systemContext } from '../casts.js';
import { compileExpr, type EvalEnv, type ParamSlots, type Scope } from '../expr.js';
import { SYSTEM_TABLE_FUNCTIONS } from '../system/functions.js';
import { findSystemTable, type SystemColumn } from '../system/tables.js';
import type { SqlType, Value } from '../types.js';
import { setFunctionOf } from './row-functions.js';
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

function column(name: string, type: SqlType): RelColumn {
  return { name, type, domain: type === 'int8' || type === 'int4' ? 'int' : 'text', qualifier: null, tableOid: 0, columnAttr: 0 };
}

/** A function in FROM as a relation of its rows. */
export function tableFunction(call: FromCall, params: ParamSlots, scope: Scope): Rel {
  const name = call.function.name.toLowerCase();
  const args = call.args.map((a) => compileExpr(a, scope, params, name === 'unnest' ? 'text[]' : undefined));
  switch (name) {
    case 'generate_series':
    case 'unnest':
    case 'generate_subscripts': {
      // The same functions as in a select list, one column of their values.
      if (name === 'unnest' && args.length !== 1) throw new AllotError(SqlState.featureNotSupported, `${name} of several arrays is not supported by allot`);
      if (name === 'generate_series' && (args.length < 2 || args.length > 3))
        throw new AllotError(SqlState.undefinedFunction, `function generate_series does not take ${args.length} arguments`);
      const f = setFunctionOf(
        name,
        args.map((a) => a.type),
      );
      return {
        columns: [column(name, f.type)],
        run: (env) =>
          f
            .rows(
              args.map((a) => a.eval([], env)),
              env,
            )
            .map((v) => [v]),
      };
    }
    default: {
      const system = SYSTEM_TABLE_FUNCTIONS.get(name);
      if (system !== undefined) {
        if (args.length < system.args[0] || args.length > system.args[1])
          throw new AllotError(SqlState.undefinedFunction, `function ${name} does not take ${args.length} arguments`);
        const types = args.map((a) => a.type);
        return {
          columns: system.columns(types).map((c) => column(c.name, c.type)),
          run: (env) =>
            system.rows(
              args.map((a) => a.eval([], env)),
              systemContext(env.session),
              types,
            ),
        };
      }
      // Any other function: one row of its value, in a column named after it.
      const e = compileExpr({ ...call, type: 'call' }, scope, params);
      return { columns: [column(name, e.type)], run: (env) => [[e.eval([], env)]] };
    }
  }
}
