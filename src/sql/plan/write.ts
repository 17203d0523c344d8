/**
 * INSERT, UPDATE and DELETE on a stored table: the statement checked at plan time, then per
 * execution the engine commands its table's module makes, and the rows RETURNING shows.
 */
import type { DeleteStatement, Expr, InsertStatement, UpdateStatement } from 'pgsql-ast-parser';
import { Limits } from '../../engine/limits.js';
import type { BookingFilter, Command, CommandResult } from '../../engine/types.js';
import { AllotError, SqlState, unsupported } from '../../errors.js';
import { timeZoneOf } from '../casts.js';
import { AggregateSlots, coerce, type Compiled, compileExpr, EMPTY_SCOPE, type EvalEnv, type ParamSlots } from '../expr.js';
import { settingIsOn } from '../settings.js';
import type { ColumnDef, TableDef, TimeOutput } from '../tables/columns.js';
import type { Fields } from '../tables/fields.js';
import { expandSeries } from '../tables/series.js';
import { StoredTables } from '../tables/index.js';
import type { Entity, FilterPart, StoredTableModule, WriteTarget } from '../tables/stored.js';
import type { Value } from '../types.js';
import { asPredicate, conjuncts, evalAll, isText } from './hints.js';
import type { WritePlan } from './index.js';
import { compileReturning, project, type Projection } from './projection.js';
import { resolveTable, scopeOf } from './resolve.js';

function writableTable(name: { name: string; schema?: string }, verb: string): { table: StoredTableModule; def: TableDef } {
  const src = resolveTable(name);
  if (src.kind === 'allot') return { table: StoredTables[src.table], def: src.def };
  if (src.kind === 'availability')
    throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} availability: it is computed from bookings, holds and rules`);
  if (src.kind === 'allot_export')
    throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} allot_export: it is the state as a whole, read-only; load an export with allot import`);
  if (src.kind === 'next_free' || src.kind === 'availability_explain')
    throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} ${src.def.name}: it is computed from the state`);
  if (src.kind === 'calendar')
    throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} calendar: it is computed from bookings, holds, outages and rules`);
  if (src.kind === 'policy_usage')
    throw new AllotError(SqlState.featureNotSupported, `cannot ${verb} policy_usage: it is computed from bookings, holds and policies`);
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

export function planInsert(ast: InsertStatement, params: ParamSlots, times: TimeOutput): WritePlan {
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
      const offers = env.session.setting('allot.offers') === 'on';
      const commands: Command[] = [];
      for (const row of rows) {
        const f: Fields = new Map();
        row.forEach((cell, i) => {
          if (cell === null) return;
          const col = cols[i]!;
          f.set(col.name, coerce(cell.eval([], env), col.domain, `column "${col.name}"`, timeZoneOf(env.session)));
        });
        // A recurring row is a row per occurrence, all in this statement's one batch.
        for (const one of table.series === undefined ? [f] : expandSeries(f, newId, table.series)) {
          const row = table.insert(one, newId, skip, restore);
          const cmd = offers || !(row.type === 'CreateBooking' || row.type === 'PlaceHold' || row.type === 'BookFromPool') ? row : { ...row, offers: false };
          made += rowsOf(cmd);
          if (made > Limits.maxBatchCommands) throw overBatch(made);
          commands.push(cmd);
        }
      }
      return commands;
    },
    finish: writeFinisher(table.row, returning, (n) => `INSERT 0 ${n}`),
  };
}

/** Rows a command may write: a pool booking one per member it books. */
export function rowsOf(cmd: Command): number {
  return cmd.type === 'BookFromPool' ? cmd.request.ids.length : 1;
}

function overBatch(rows: number): AllotError {
  return new AllotError(
    SqlState.programLimitExceeded,
    `INSERT of ${rows} or more rows (counting each booking a pool row makes); the limit is ${Limits.maxBatchCommands} per statement`,
  );
}

/** `WHERE id = v`, `WHERE id IN (…)` or, for a table with group writes (bookings), `WHERE group_id = v`. */
function writeTarget(where: Expr | null | undefined, table: StoredTableModule, def: TableDef, params: ParamSlots, verb: string): WriteTarget {
  const scope = scopeOf(def);
  const parts = conjuncts(where);
  const p = parts.length === 1 ? asPredicate(parts[0]!, scope, params) : null;
  const groups = table.byGroup !== undefined;
  if (p !== null && p.column === 'id' && (p.op === '=' || p.op === 'IN')) return { kind: 'ids', values: p.values };
  if (p !== null && groups && p.column === 'group_id' && p.op === '=') return { kind: 'group', value: p.values[0]! };
  if (table.byFilter !== undefined) {
    const filter = filterTarget(parts, scope, params);
    if (filter !== null) return filter;
  }
  const forms =
    table.byFilter !== undefined
      ? 'WHERE id = …, id IN (…), group_id = …, or conditions on resource_id, user_id, policy_id (=), start (>=) and "end" (<=) joined by AND'
      : groups
        ? 'WHERE id = …, WHERE id IN (…) or WHERE group_id = …'
        : 'WHERE id = … or WHERE id IN (…)';
  throw unsupported(`${verb} on ${def.name} needs ${forms}`, 'allot changes rows by their id, so every change is checked and logged as one command.');
}

/** A WHERE of `resource_id = …`, `user_id = …`, `policy_id = …`, `start >= …` and `"end" <= …` conjuncts, or null. */
function filterTarget(parts: readonly Expr[], scope: ReturnType<typeof scopeOf>, params: ParamSlots): WriteTarget | null {
  if (parts.length === 0) return null;
  const out: FilterPart[] = [];
  for (const c of parts) {
    const p = asPredicate(c, scope, params);
    const v = p?.values[0];
    if (p === null || v === undefined) return null;
    if ((p.column === 'resource_id' || p.column === 'user_id' || p.column === 'policy_id') && p.op === '=') out.push({ column: p.column, value: v, adjust: 0 });
    else if (p.column === 'start' && (p.op === '>=' || p.op === '>')) out.push({ column: 'start', value: v, adjust: p.op === '>' ? 1 : 0 });
    else if (p.column === 'end' && (p.op === '<=' || p.op === '<')) out.push({ column: 'end', value: v, adjust: p.op === '<' ? -1 : 0 });
    else return null;
  }
  return { kind: 'filter', parts: out };
}

/** A filter target's conditions for one execution, or null where one is NULL (it matches nothing); later ones narrow. */
function filterOf(parts: readonly FilterPart[], env: EvalEnv): BookingFilter | null {
  const f: { -readonly [K in keyof BookingFilter]: BookingFilter[K] } = {};
  const text = (v: Value): string | null => (typeof v === 'string' ? v : null);
  for (const part of parts) {
    const v = part.value.eval([], env);
    if (v === null) return null;
    switch (part.column) {
      case 'resource_id':
      case 'user_id':
      case 'policy_id': {
        const s = text(v);
        const key = part.column === 'resource_id' ? 'resourceId' : part.column === 'user_id' ? 'userId' : 'policyId';
        if (s === null || (f[key] !== undefined && f[key] !== s)) return null;
        f[key] = s;
        break;
      }
      case 'start': {
        const n = (coerce(v, 'time', 'start', timeZoneOf(env.session)) as number) + part.adjust;
        f.startFrom = Math.max(f.startFrom ?? Number.NEGATIVE_INFINITY, n);
        break;
      }
      case 'end': {
        const n = (coerce(v, 'time', 'end', timeZoneOf(env.session)) as number) + part.adjust;
        f.endTo = Math.min(f.endTo ?? Number.POSITIVE_INFINITY, n);
        break;
      }
    }
  }
  return f;
}

export function planUpdate(ast: UpdateStatement, params: ParamSlots, times: TimeOutput): WritePlan {
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
    if (agg !== undefined)
      throw new AllotError(SqlState.groupingError, `aggregate functions such as ${agg.fn}() are only allowed in the select list and ORDER BY of a SELECT`);
    const fromRow = seen.bareColumns > 0;
    if (fromRow && table.withPerRow === undefined) {
      throw unsupported(
        `SET ${col.name} = …: in ${def.name} a new value must be a constant or a parameter; only bookings compute it from the row's columns`,
        'Read the row, then UPDATE with the new value as a parameter.',
      );
    }
    return { col, value, fromRow };
  });
  const constant = sets.filter((s) => !s.fromRow);
  const computed = sets.filter((s) => s.fromRow);
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
      const f = setFields(constant, env);
      const ids = target.kind === 'ids' ? [...new Set(evalAll(target.values, env))] : [];
      const patch = table.patch(f);
      // Values read from the row are computed in the engine's step, from each row as it stands.
      const tz = timeZoneOf(env.session);
      const perRow =
        computed.length === 0 || table.withPerRow === undefined
          ? (cmd: Command): Command => cmd
          : (cmd: Command): Command =>
              table.withPerRow!(cmd, (e) => {
                const row = table.row(e);
                const g: Fields = new Map();
                for (const s of computed) g.set(s.col.name, coerce(s.value.eval(row, env), s.col.domain, `column "${s.col.name}"`, tz));
                return table.patch(g);
              });
      if (target.kind === 'group' && group !== undefined) {
        const g = target.value.eval([], env);
        return isText(g) ? [perRow(group.update(g, patch))] : [];
      }
      if (target.kind === 'filter' && table.byFilter !== undefined) {
        const filter = filterOf(target.parts, env);
        return filter === null ? [] : [perRow(table.byFilter.update(filter, patch))];
      }
      return ids.filter(isText).map((id) => perRow(table.update(id, patch)));
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

export function planDelete(ast: DeleteStatement, params: ParamSlots, times: TimeOutput): WritePlan {
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
      if (target.kind === 'filter' && table.byFilter !== undefined) {
        const filter = filterOf(target.parts, env);
        return filter === null ? [] : [table.byFilter.delete(filter)];
      }
      const ids = target.kind === 'ids' ? [...new Set(evalAll(target.values, env))].filter(isText) : [];
      return ids.map((id) => table.delete(id));
    },
    finish: writeFinisher(table.row, returning, (n) => `DELETE ${n}`),
  };
}
