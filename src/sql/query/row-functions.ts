/**
 * What a select list computes across rows rather than from one: set-returning functions
 * (`SELECT unnest(indkey)`, several in lockstep, as PostgreSQL 10+ runs them) and window
 * functions (`row_number() OVER (PARTITION BY … ORDER BY …)`). The expression compiler collects
 * them into slots; the SELECT planner fills the slots for each output row.
 */
import type { Expr } from 'pgsql-ast-parser';
import { AllotError, SqlState } from '../../errors.js';
import { systemContext } from '../casts.js';
import type { Compiled, EvalEnv } from '../expr.js';
import { SYSTEM_TABLE_FUNCTIONS } from '../system/functions.js';
import { elementType, formatValue, parseTextArray, type SqlType, type Value } from '../types.js';

/** A field of a record value (what `_pg_expandarray` returns): records are arrays of their fields. */
export interface RecordField {
  readonly name: string;
  readonly type: SqlType;
}

export interface SetFunction {
  readonly args: readonly Compiled[];
  /** Its rows for one source row's argument values: each a value, or a record's fields. */
  rows(values: readonly Value[], env: EvalEnv): Value[];
}

export class SetFunctionSlots {
  readonly list: SetFunction[] = [];
}

/** Functions that return rows, as they may stand in a select list. */
export const SET_FUNCTIONS: ReadonlySet<string> = new Set(['unnest', 'generate_series', 'generate_subscripts', ...SYSTEM_TABLE_FUNCTIONS.keys()]);

function asList(v: Value): readonly (string | null)[] {
  return Array.isArray(v) ? v : parseTextArray(String(formatValue(v)));
}

const MAX_SET_ROWS = 1_000_000;

/**
 * A set-returning call in a select list: its slot, and the type and record fields its value has.
 * `args` are compiled by the caller.
 */
export function setFunctionCall(name: string, args: readonly Compiled[], slots: SetFunctionSlots): Compiled & { fields?: readonly RecordField[] } {
  const { type, fields, rows } = setFunctionOf(
    name,
    args.map((a) => a.type),
  );
  const slot = slots.list.push({ args, rows }) - 1;
  return { type, eval: (_row, env) => env.srf?.[slot] ?? null, ...(fields !== undefined ? { fields } : {}) };
}

/**
 * A set-returning function by name, for arguments of `types`: the type of its values (a record
 * for several columns, with their fields), and its rows for given argument values. In a select
 * list and in FROM alike.
 */
export function setFunctionOf(
  name: string,
  types: readonly SqlType[],
): { type: SqlType; fields: readonly RecordField[] | undefined; rows: SetFunction['rows'] } {
  let type: SqlType;
  let fields: readonly RecordField[] | undefined;
  let rows: SetFunction['rows'];
  switch (name) {
    case 'unnest': {
      const element = elementType(types[0] ?? 'text[]') ?? 'text';
      type = element;
      rows = ([a]) =>
        a === null || a === undefined ? [] : asList(a).map((x) => (x === null ? null : element === 'text' || element === 'name' ? x : Number(x)));
      break;
    }
    case 'generate_series':
      type = types.includes('int8') ? 'int8' : 'int4';
      rows = ([a, b, c]) => {
        if (a === null || b === null || c === null || a === undefined || b === undefined) return [];
        const step = c === undefined ? 1 : Number(c);
        if (step === 0) throw new AllotError(SqlState.invalidParameterValue, 'step size cannot equal zero');
        const n = Math.max(0, Math.floor((Number(b) - Number(a)) / step) + 1);
        if (n > MAX_SET_ROWS) throw new AllotError(SqlState.programLimitExceeded, `generate_series of ${n} rows; the limit is ${MAX_SET_ROWS}`);
        return Array.from({ length: n }, (_, i) => Number(a) + i * step);
      };
      break;
    case 'generate_subscripts': {
      type = 'int4';
      const vector = types[0] === 'int2vector' || types[0] === 'oidvector';
      rows = ([a]) => (a === null || a === undefined ? [] : asList(a).map((_, i) => i + (vector ? 0 : 1)));
      break;
    }
    default: {
      const f = SYSTEM_TABLE_FUNCTIONS.get(name);
      if (f === undefined) throw new AllotError(SqlState.undefinedFunction, `function ${name}() does not exist in allot`);
      const columns = f.columns(types);
      if (columns.length === 1) {
        type = columns[0]!.type;
        rows = (values, env) => f.rows(values, systemContext(env.session), types).map((r) => r[0] ?? null);
      } else {
        type = 'record';
        fields = columns.map((c) => ({ name: c.name, type: c.type }));
        rows = (values, env) => f.rows(values, systemContext(env.session), types).map((r) => r.map((x) => (x === null ? null : String(formatValue(x)))));
      }
    }
  }
  return { type, fields, rows };
}

/** `(record).field`: the field's value, of its type. */
export function recordField(record: Compiled & { fields?: readonly RecordField[] }, field: string): Compiled {
  const fields = record.fields;
  const i = fields?.findIndex((f) => f.name === field) ?? -1;
  if (fields === undefined || i < 0) throw new AllotError(SqlState.undefinedColumn, `column "${field}" not found in data type ${record.type}`);
  const type = fields[i]!.type;
  const numeric = type === 'int2' || type === 'int4' || type === 'int8' || type === 'oid';
  return {
    type,
    eval: (row, env) => {
      const v = record.eval(row, env);
      if (v === null || !Array.isArray(v)) return null;
      const x = v[i] ?? null;
      return x === null ? null : numeric ? Number(x) : x;
    },
  };
}

/**
 * The output rows for one source row: one per row of the longest set function, the shorter
 * ones padded with nulls. With none, the one environment as given.
 */
export function expandSetFunctions(slots: SetFunctionSlots, row: readonly Value[], env: EvalEnv): EvalEnv[] {
  if (slots.list.length === 0) return [env];
  const lists = slots.list.map((f) =>
    f.rows(
      f.args.map((a) => a.eval(row, env)),
      env,
    ),
  );
  const n = Math.max(...lists.map((l) => l.length));
  const out: EvalEnv[] = [];
  for (let i = 0; i < n; i++) out.push({ ...env, srf: lists.map((l) => l[i] ?? null) });
  return out;
}

// ---- window functions ----------------------------------------------------------------------

export interface WindowKey {
  readonly expr: Compiled;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

export interface WindowCall {
  readonly fn: string;
  readonly arg: Compiled | null;
  readonly partitionBy: readonly Compiled[];
  readonly orderBy: readonly WindowKey[];
}

export class WindowSlots {
  readonly list: WindowCall[] = [];
}

const WINDOW_FUNCTIONS: ReadonlySet<string> = new Set(['row_number', 'rank', 'dense_rank', 'count', 'sum', 'min', 'max']);

export function windowCall(call: WindowCall, slots: WindowSlots): Compiled {
  if (!WINDOW_FUNCTIONS.has(call.fn))
    throw new AllotError(SqlState.featureNotSupported, `${call.fn}() OVER … is not supported by allot; it has ${[...WINDOW_FUNCTIONS].join(', ')}`);
  const slot = slots.list.push(call) - 1;
  const type: SqlType = call.fn === 'min' || call.fn === 'max' ? (call.arg?.type ?? 'int8') : 'int8';
  return { type, eval: (_row, env) => env.window?.[slot] ?? null };
}

type Cmp = (a: Value, b: Value) => number;

/**
 * Each window slot's value for each row (by row index): rows grouped by PARTITION BY, ordered by
 * ORDER BY; rank functions count peers; aggregates run over the partition, or, with ORDER BY,
 * up to the row and its peers (PostgreSQL's default frame).
 */
export function computeWindows(slots: WindowSlots, rows: readonly (readonly Value[])[], env: EvalEnv, compare: Cmp): Value[][] {
  const values: Value[][] = rows.map(() => new Array<Value>(slots.list.length).fill(null));
  slots.list.forEach((w, k) => {
    const parts = new Map<string, number[]>();
    rows.forEach((r, i) => {
      const key = w.partitionBy.map((p) => String(formatValue(p.eval(r, env)))).join('\u0001');
      const list = parts.get(key);
      if (list === undefined) parts.set(key, [i]);
      else list.push(i);
    });
    for (const idx of parts.values()) {
      const keys = idx.map((i) => w.orderBy.map((o) => o.expr.eval(rows[i]!, env)));
      const order = idx.map((_, j) => j).sort((a, b) => orderCompare(keys[a]!, keys[b]!, w.orderBy, compare) || a - b);
      fill(
        w,
        order.map((j) => idx[j]!),
        order.map((j) => keys[j]!),
        rows,
        env,
        compare,
        (i, v) => (values[i]![k] = v),
      );
    }
  });
  return values;
}

function orderCompare(a: readonly Value[], b: readonly Value[], keys: readonly WindowKey[], compare: Cmp): number {
  for (let i = 0; i < keys.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    const k = keys[i]!;
    if (x === null && y === null) continue;
    if (x === null) return k.nullsFirst ? -1 : 1;
    if (y === null) return k.nullsFirst ? 1 : -1;
    const c = compare(x, y) * (k.desc ? -1 : 1);
    if (c !== 0) return c;
  }
  return 0;
}

function fill(
  w: WindowCall,
  order: readonly number[],
  keys: readonly (readonly Value[])[],
  rows: readonly (readonly Value[])[],
  env: EvalEnv,
  compare: Cmp,
  set: (row: number, v: Value) => void,
): void {
  const peers = (a: number, b: number): boolean => orderCompare(keys[a]!, keys[b]!, w.orderBy, compare) === 0;
  let rank = 0;
  let dense = 0;
  for (let j = 0; j < order.length; j++) {
    const newPeerGroup = j === 0 || !peers(j - 1, j);
    if (newPeerGroup) {
      rank = j + 1;
      dense++;
    }
    if (w.fn === 'row_number') set(order[j]!, j + 1);
    else if (w.fn === 'rank') set(order[j]!, rank);
    else if (w.fn === 'dense_rank') set(order[j]!, dense);
    else {
      // The frame: the whole partition, or (with ORDER BY) up to the last peer of this row.
      let end = order.length;
      if (w.orderBy.length > 0) {
        end = j + 1;
        while (end < order.length && peers(j, end)) end++;
      }
      set(
        order[j]!,
        aggregate(
          w,
          order.slice(0, end).map((i) => rows[i]!),
          env,
          compare,
        ),
      );
    }
  }
}

function aggregate(w: WindowCall, frame: readonly (readonly Value[])[], env: EvalEnv, compare: Cmp): Value {
  const vals = w.arg === null ? frame.map(() => 1 as Value) : frame.map((r) => w.arg!.eval(r, env)).filter((v) => v !== null);
  switch (w.fn) {
    case 'count':
      return vals.length;
    case 'sum':
      return vals.length === 0 ? null : vals.reduce<number>((a, b) => a + Number(b), 0);
    case 'min':
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
    default:
      return vals.length === 0 ? null : vals.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
  }
}

/** The ORDER BY items of an OVER clause, as window keys. */
export function windowKeys(
  orderBy: readonly { by: Expr; order?: 'ASC' | 'DESC' | null; nulls?: 'FIRST' | 'LAST' | null }[] | null | undefined,
  compile: (e: Expr) => Compiled,
): WindowKey[] {
  return (orderBy ?? []).map((o) => {
    const desc = o.order === 'DESC';
    return { expr: compile(o.by), desc, nullsFirst: o.nulls === 'FIRST' || (o.nulls == null && desc) };
  });
}
