/**
 * Planning: one statement's AST becomes a Plan, once; executing a plan only evaluates its
 * compiled expressions against bound parameters. Plans know SQL and the engine's commands,
 * nothing about sockets. This module holds the Plan types and sends each statement to the
 * planner of its kind: select.ts (one table), ../query/ (the general read path),
 * availability.ts (the computed tables), write.ts (INSERT, UPDATE, DELETE).
 */
import type { Statement } from 'pgsql-ast-parser';
import type { Engine } from '../../engine/engine.js';
import type { Command, CommandResult } from '../../engine/types.js';
import { unsupported } from '../../errors.js';
import type { EvalEnv, ParamSlots } from '../expr.js';
import { needsGeneralPlan, planGeneralQuery } from '../query/select.js';
import type { TimeOutput } from '../tables/columns.js';
import type { SqlType, Value } from '../types.js';
import type { Utility } from '../utility.js';
import { TABLE_LIST } from './resolve.js';
import { planSelect } from './select.js';
import { planDelete, planInsert, planUpdate } from './write.js';

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

/** The kind of statement a plan runs, as the statements counter labels it. */
export function statementKind(plan: Plan): string {
  switch (plan.kind) {
    case 'query':
      return 'select';
    case 'write':
      return plan.verb;
    case 'empty':
      return 'empty';
    case 'utility':
      return plan.utility.type;
  }
}
