/**
 * Plain scalar functions: each a small pure function over its arguments' values, as
 * PostgreSQL defines it. compileCall handles the ones that need more (aggregates, the
 * session's settings, NOTIFY); the system catalog's functions live in system/functions.ts.
 */
import * as crypto from 'node:crypto';
import { AllotError, SqlState } from '../errors.js';
import { clip, formatValue, parseInt8, parseTextArray, type SqlType, type Value } from './types.js';

export interface ScalarFunction {
  /** Fewest and most arguments (Infinity: any number). */
  readonly args: readonly [number, number];
  returns(argTypes: readonly SqlType[]): SqlType;
  /** Called with the arguments' values; when `strict`, not called if one is null (the result is null). */
  call(args: readonly Value[]): Value;
  /** Null in, null out (default true). */
  readonly strict?: boolean;
}

function str(v: Value): string {
  return String(formatValue(v));
}

function int(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseInt8(v, 'integer');
  throw new AllotError(SqlState.datatypeMismatch, `${what} must be an integer, got ${clip(str(v))}`);
}

function num(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new AllotError(SqlState.datatypeMismatch, `${what} must be a number, got ${clip(str(v))}`);
}

function arr(v: Value): readonly (string | null)[] {
  return Array.isArray(v) ? v : parseTextArray(str(v));
}

const text = (): SqlType => 'text';
const first = (t: readonly SqlType[]): SqlType => t[0] ?? 'text';
/** The type of a numeric result: the widest of the arguments'. */
const numeric = (t: readonly SqlType[]): SqlType =>
  t.includes('numeric') ? 'numeric' : t.includes('float8') ? 'float8' : t.includes('int8') ? 'int8' : (t[0] ?? 'int4');

function trimmer(mode: 'both' | 'leading' | 'trailing'): ScalarFunction {
  return {
    args: [1, 2],
    returns: text,
    call: ([s, chars]) => {
      const set = new Set([...(chars === undefined ? ' ' : str(chars))]);
      const c = [...str(s!)];
      let a = 0;
      let b = c.length;
      if (mode !== 'trailing') while (a < b && set.has(c[a]!)) a++;
      if (mode !== 'leading') while (b > a && set.has(c[b - 1]!)) b--;
      return c.slice(a, b).join('');
    },
  };
}

/** Rounds half away from zero, as numeric's round does. */
function roundTo(x: number, places: number): number {
  const f = 10 ** places;
  const r = (Math.sign(x) * Math.round(Math.abs(x) * f)) / f;
  return r === 0 ? 0 : r;
}

export const SCALAR_FUNCTIONS: ReadonlyMap<string, ScalarFunction> = new Map<string, ScalarFunction>([
  ['nullif', { args: [2, 2], returns: first, strict: false, call: ([a, b]) => (a !== null && b !== null && str(a!) === str(b!) ? null : a!) }],
  ['greatest', { args: [1, Infinity], returns: first, strict: false, call: (xs) => pickBy(xs, (c) => c > 0) }],
  ['least', { args: [1, Infinity], returns: first, strict: false, call: (xs) => pickBy(xs, (c) => c < 0) }],
  ['concat', { args: [0, Infinity], returns: text, strict: false, call: (xs) => xs.map((x) => (x === null ? '' : str(x))).join('') }],
  [
    'concat_ws',
    {
      args: [1, Infinity],
      returns: text,
      strict: false,
      call: ([sep, ...xs]) =>
        sep === null || sep === undefined
          ? null
          : xs
              .filter((x) => x !== null)
              .map(str)
              .join(str(sep)),
    },
  ],
  [
    'substr',
    {
      args: [2, 3],
      returns: text,
      call: ([s, f, n]) =>
        [...str(s!)].slice(Math.max(int(f!, 'start') - 1, 0), n === undefined ? undefined : Math.max(int(f!, 'start') - 1 + int(n, 'count'), 0)).join(''),
    },
  ],
  ['replace', { args: [3, 3], returns: text, call: ([s, a, b]) => str(s!).split(str(a!)).join(str(b!)) }],
  ['split_part', { args: [3, 3], returns: text, call: ([s, d, n]) => splitPart(str(s!), str(d!), int(n!, 'field position')) }],
  [
    'strpos',
    {
      args: [2, 2],
      returns: () => 'int4',
      call: ([s, sub]) => [...str(s!).slice(0, Math.max(0, str(s!).indexOf(str(sub!))))].length + (str(s!).includes(str(sub!)) ? 1 : 0),
    },
  ],
  [
    'left',
    {
      args: [2, 2],
      returns: text,
      call: ([s, n]) => {
        const c = [...str(s!)];
        const k = int(n!, 'count');
        return c.slice(0, k < 0 ? Math.max(c.length + k, 0) : k).join('');
      },
    },
  ],
  [
    'right',
    {
      args: [2, 2],
      returns: text,
      call: ([s, n]) => {
        const c = [...str(s!)];
        const k = int(n!, 'count');
        return (k < 0 ? c.slice(Math.min(-k, c.length)) : c.slice(Math.max(c.length - k, 0))).join('');
      },
    },
  ],
  ['btrim', trimmer('both')],
  ['trim', trimmer('both')],
  ['ltrim', trimmer('leading')],
  ['rtrim', trimmer('trailing')],
  ['repeat', { args: [2, 2], returns: text, call: ([s, n]) => str(s!).repeat(Math.max(0, Math.min(int(n!, 'count'), 1_000_000))) }],
  ['reverse', { args: [1, 1], returns: text, call: ([s]) => [...str(s!)].reverse().join('') }],
  [
    'initcap',
    {
      args: [1, 1],
      returns: text,
      call: ([s]) =>
        str(s!)
          .toLowerCase()
          .replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
    },
  ],
  ['md5', { args: [1, 1], returns: text, call: ([s]) => md5(str(s!)) }],
  ['abs', { args: [1, 1], returns: first, call: ([x]) => Math.abs(num(x!, 'abs argument')) }],
  ['sign', { args: [1, 1], returns: first, call: ([x]) => Math.sign(num(x!, 'sign argument')) }],
  [
    'round',
    {
      args: [1, 2],
      returns: (t) => (t[0] === 'float8' && t.length === 1 ? 'float8' : 'numeric'),
      call: ([x, p]) => roundTo(num(x!, 'round argument'), p === undefined ? 0 : int(p, 'places')),
    },
  ],
  [
    'trunc',
    {
      args: [1, 2],
      returns: (t) => (t[0] === 'float8' && t.length === 1 ? 'float8' : 'numeric'),
      call: ([x, p]) => {
        const f = 10 ** (p === undefined ? 0 : int(p, 'places'));
        return Math.trunc(num(x!, 'trunc argument') * f) / f;
      },
    },
  ],
  ['floor', { args: [1, 1], returns: first, call: ([x]) => Math.floor(num(x!, 'floor argument')) }],
  ['ceil', { args: [1, 1], returns: first, call: ([x]) => Math.ceil(num(x!, 'ceil argument')) }],
  ['ceiling', { args: [1, 1], returns: first, call: ([x]) => Math.ceil(num(x!, 'ceiling argument')) }],
  [
    'mod',
    {
      args: [2, 2],
      returns: numeric,
      call: ([a, b]) => {
        const d = num(b!, 'mod divisor');
        if (d === 0) throw new AllotError(SqlState.divisionByZero, 'division by zero');
        return num(a!, 'mod argument') % d;
      },
    },
  ],
  ['power', { args: [2, 2], returns: () => 'float8', call: ([a, b]) => num(a!, 'power base') ** num(b!, 'power exponent') }],
  ['sqrt', { args: [1, 1], returns: () => 'float8', call: ([x]) => Math.sqrt(num(x!, 'sqrt argument')) }],
  [
    'array_to_string',
    {
      args: [2, 3],
      returns: text,
      call: ([a, sep, nul]) =>
        arr(a!)
          .flatMap((x) => (x === null ? (nul === undefined || nul === null ? [] : [str(nul)]) : [x]))
          .join(str(sep!)),
    },
  ],
  ['array_upper', { args: [2, 2], returns: () => 'int4', call: ([a, d]) => (int(d!, 'dimension') === 1 && arr(a!).length > 0 ? arr(a!).length : null) }],
  ['array_lower', { args: [2, 2], returns: () => 'int4', call: ([a, d]) => (int(d!, 'dimension') === 1 && arr(a!).length > 0 ? 1 : null) }],
  ['array_ndims', { args: [1, 1], returns: () => 'int4', call: ([a]) => (arr(a!).length > 0 ? 1 : null) }],
  [
    'array_position',
    {
      args: [2, 2],
      returns: () => 'int4',
      call: ([a, x]) => {
        const i = arr(a!).indexOf(str(x!));
        return i < 0 ? null : i + 1;
      },
    },
  ],
  [
    'array_append',
    {
      args: [2, 2],
      returns: first,
      strict: false,
      call: ([a, x]) => [...(a === null || a === undefined ? [] : arr(a)), x === null || x === undefined ? null : str(x)],
    },
  ],
  [
    'array_cat',
    {
      args: [2, 2],
      returns: first,
      strict: false,
      call: ([a, b]) => [...(a === null || a === undefined ? [] : arr(a)), ...(b === null || b === undefined ? [] : arr(b))],
    },
  ],
  ['array_remove', { args: [2, 2], returns: first, call: ([a, x]) => arr(a!).filter((e) => e !== str(x!)) }],
  [
    'string_to_array',
    {
      args: [2, 3],
      returns: () => 'text[]',
      call: ([s, d, nul]) => stringToArray(str(s!), d === null ? null : str(d!), nul === undefined || nul === null ? null : str(nul)),
    },
  ],
  ['to_json', { args: [1, 1], returns: () => 'json', strict: false, call: ([x]) => JSON.stringify(jsonOf(x ?? null)) }],
  ['json_build_object', { args: [0, Infinity], returns: () => 'json', strict: false, call: (xs) => jsonObject(xs) }],
  ['jsonb_build_object', { args: [0, Infinity], returns: () => 'jsonb', strict: false, call: (xs) => jsonObject(xs) }],
  ['json_build_array', { args: [0, Infinity], returns: () => 'json', strict: false, call: (xs) => JSON.stringify(xs.map(jsonOf)) }],
  ['gen_random_uuid', { args: [0, 0], returns: text, call: () => crypto.randomUUID() }],
  // allot publishes nothing to logical replication (psql's \d asks).
  ['pg_relation_is_publishable', { args: [1, 1], returns: () => 'bool', call: () => false }],
]);

function pickBy(xs: readonly Value[], better: (c: number) => boolean): Value {
  let best: Value = null;
  for (const x of xs) {
    if (x === null) continue;
    if (best === null || better(compareLoose(x, best))) best = x;
  }
  return best;
}

function compareLoose(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = str(a);
  const y = str(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function splitPart(s: string, d: string, n: number): string {
  if (n === 0) throw new AllotError(SqlState.invalidParameterValue, 'field position must not be zero');
  const parts = d === '' ? [s] : s.split(d);
  const i = n > 0 ? n - 1 : parts.length + n;
  return parts[i] ?? '';
}

function stringToArray(s: string, d: string | null, nul: string | null): (string | null)[] {
  const parts = d === null ? [...s] : d === '' ? [s] : s.split(d);
  return s === '' ? [] : parts.map((p) => (nul !== null && p === nul ? null : p));
}

function jsonOf(v: Value): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v;
  return v;
}

function jsonObject(xs: readonly Value[]): string {
  if (xs.length % 2 !== 0) throw new AllotError(SqlState.invalidParameterValue, 'argument list must have even number of elements');
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i += 2) {
    if (xs[i] === null) throw new AllotError(SqlState.invalidParameterValue, 'null value not allowed for object key');
    parts.push(`${JSON.stringify(str(xs[i]!))} : ${JSON.stringify(jsonOf(xs[i + 1] ?? null))}`);
  }
  return `{${parts.join(', ')}}`;
}

function md5(s: string): string {
  return crypto.createHash('md5').update(s, 'utf8').digest('hex');
}
