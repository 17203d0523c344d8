/**
 * The remaining system functions: encodings, quoting, to_reg*, the search path, one-dimensional
 * array helpers, relation sizes, and facts about the session and server.
 */
import { formatTextArray, type SqlType, type Value } from '../types.js';
import { array, fn, flag, num, text, type SystemFunction } from './function-types.js';
import { creationNamespace, explicitSearchPath, namespaceName, quoteIdent, searchPath } from './names.js';
import { regInOrNull, type RegType } from './reg.js';

/** PostgreSQL's encodings by number (pg_wchar.h's pg_enc). */
const ENCODINGS = [
  'SQL_ASCII',
  'EUC_JP',
  'EUC_CN',
  'EUC_KR',
  'EUC_TW',
  'EUC_JIS_2004',
  'UTF8',
  'MULE_INTERNAL',
  'LATIN1',
  'LATIN2',
  'LATIN3',
  'LATIN4',
  'LATIN5',
  'LATIN6',
  'LATIN7',
  'LATIN8',
  'LATIN9',
  'LATIN10',
  'WIN1256',
  'WIN1258',
  'WIN866',
  'WIN874',
  'KOI8R',
  'WIN1251',
  'WIN1252',
  'ISO_8859_5',
  'ISO_8859_6',
  'ISO_8859_7',
  'ISO_8859_8',
  'WIN1250',
  'WIN1253',
  'WIN1254',
  'WIN1255',
  'WIN1257',
  'KOI8U',
  'SJIS',
  'BIG5',
  'GBK',
  'UHC',
  'GB18030',
  'JOHAB',
  'SHIFT_JIS_2004',
];

/** Other names pg_char_to_encoding accepts (encnames.c), after clean_encoding_name. */
const ENCODING_ALIASES: ReadonlyMap<string, number> = new Map([
  ['unicode', 6],
  ['iso88591', 8],
  ['iso88592', 9],
  ['iso88593', 10],
  ['iso88594', 11],
  ['iso88599', 12],
  ['iso885910', 13],
  ['iso885913', 14],
  ['iso885914', 15],
  ['iso885915', 16],
  ['iso885916', 17],
  ['shiftjis', 35],
  ['mskanji', 35],
  ['koi8', 22],
  ['tcvn', 19],
  ['tcvn5712', 19],
  ['vscii', 19],
  ['abc', 19],
  ['alt', 20],
  ['win', 23],
  ['windows1250', 29],
  ['windows1251', 23],
  ['windows1252', 24],
  ['windows1253', 30],
  ['windows1254', 31],
  ['windows1255', 32],
  ['windows1256', 18],
  ['windows1257', 33],
  ['windows1258', 19],
  ['windows866', 20],
  ['windows874', 21],
  ['shiftjis2004', 41],
  ['eucjis2004', 5],
]);

const clean = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function charToEncoding(name: string): number {
  const key = clean(name);
  const i = ENCODINGS.findIndex((e) => clean(e) === key);
  return i >= 0 ? i : (ENCODING_ALIASES.get(key) ?? -1);
}

/** quote_literal: quotes doubled; with a backslash, the E'' form with backslashes doubled. */
function quoteLiteral(s: string): string {
  const body = s.replace(/['\\]/g, (c) => c + c);
  return s.includes('\\') ? `E'${body}'` : `'${body}'`;
}

/** A value as text, as its cast to text shows it (quote_literal(anyelement)). */
function asText(v: Value): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return formatTextArray(v as readonly (string | null)[]);
  return String(v);
}

/** int2vector and oidvector count their elements from 0, other arrays from 1. */
function lowerBound(argTypes: readonly SqlType[] | undefined): number {
  const t = argTypes?.[0];
  return t === 'int2vector' || t === 'oidvector' ? 0 : 1;
}

/** array_lower/array_upper(array, dim): only dimension 1 of a non-empty array has bounds. */
function bound(which: 'lower' | 'upper'): SystemFunction['call'] {
  return (args, _ctx, argTypes) => {
    const xs = array(args[0], 'array');
    if (num(args[1], 'dimension') !== 1 || xs.length === 0) return null;
    const lower = lowerBound(argTypes);
    return which === 'lower' ? lower : lower + xs.length - 1;
  };
}

function toReg(name: string, type: RegType, returns: SqlType): SystemFunction {
  return fn(name, [1, 1], returns, (args, ctx) => regInOrNull(type, text(args[0], 'name'), ctx));
}

/** pg_size_pretty(bigint): bytes up to 10 kB, then kB, MB, GB, TB, PB, halves rounded away from 0. */
function sizePretty(size: number): string {
  const units: [string, number, boolean, number][] = [
    ['bytes', 10 * 1024, false, 0],
    ['kB', 20 * 1024 - 1, true, 10],
    ['MB', 20 * 1024 - 1, true, 20],
    ['GB', 20 * 1024 - 1, true, 30],
    ['TB', 20 * 1024 - 1, true, 40],
    ['PB', 20 * 1024 - 1, true, 50],
  ];
  let n = size;
  for (let i = 0; i < units.length; i++) {
    const [name, limit, round, bits] = units[i] ?? ['bytes', 0, false, 0];
    const next = units[i + 1];
    if (next === undefined || Math.abs(n) < limit) {
      if (round) n = Math.trunc((n + (n < 0 ? -1 : 1)) / 2);
      return `${n} ${name}`;
    }
    const shift = next[3] - bits - (next[2] ? 1 : 0) + (round ? 1 : 0);
    n = Math.trunc(n / 2 ** shift);
  }
  return `${n} bytes`;
}

export const MISC_FUNCTIONS: readonly SystemFunction[] = [
  fn('pg_encoding_to_char', [1, 1], 'name', (args) => ENCODINGS[num(args[0], 'encoding')] ?? ''),
  fn('pg_char_to_encoding', [1, 1], 'int4', (args) => charToEncoding(text(args[0], 'encoding'))),
  fn('quote_ident', [1, 1], 'text', (args) => quoteIdent(text(args[0], 'identifier'))),
  fn('quote_literal', [1, 1], 'text', (args) => quoteLiteral(asText(args[0] ?? null))),
  fn('quote_nullable', [1, 1], 'text', (args) => (args[0] === null || args[0] === undefined ? 'NULL' : quoteLiteral(asText(args[0]))), false),
  toReg('to_regclass', 'regclass', 'regclass'),
  toReg('to_regtype', 'regtype', 'regtype'),
  toReg('to_regproc', 'regproc', 'regproc'),
  toReg('to_regnamespace', 'regnamespace', 'regnamespace'),
  toReg('to_regrole', 'regrole', 'regrole'),
  fn('current_schemas', [1, 1], 'name[]', (args, ctx) =>
    (flag(args[0]) ? searchPath(ctx) : explicitSearchPath(ctx)).map((oid) => namespaceName(oid) ?? String(oid)),
  ),
  fn('current_schema', [0, 0], 'name', (_args, ctx) => {
    const ns = creationNamespace(ctx);
    return ns === undefined ? null : (namespaceName(ns) ?? null);
  }),
  fn(
    'array_to_string',
    [2, 3],
    'text',
    (args) => {
      if (args[0] === null || args[1] === null) return null;
      const nullText = args[2] === undefined || args[2] === null ? null : text(args[2], 'null string');
      const parts = array(args[0], 'array').flatMap((x) => (x === null ? (nullText === null ? [] : [nullText]) : [x]));
      return parts.join(text(args[1], 'delimiter'));
    },
    false,
  ),
  fn('array_lower', [2, 2], 'int4', bound('lower')),
  fn('array_upper', [2, 2], 'int4', bound('upper')),
  fn('array_ndims', [1, 1], 'int4', (args) => (array(args[0], 'array').length === 0 ? null : 1)),
  fn('array_length', [2, 2], 'int4', (args) => {
    const xs = array(args[0], 'array');
    return num(args[1], 'dimension') === 1 && xs.length > 0 ? xs.length : null;
  }),
  fn('cardinality', [1, 1], 'int4', (args) => array(args[0], 'array').length),
  // allot keeps its rows in memory, in no relation files: every relation's size on disk is 0.
  fn('pg_relation_size', [1, 2], 'int8', () => 0),
  fn('pg_total_relation_size', [1, 1], 'int8', () => 0),
  fn('pg_table_size', [1, 1], 'int8', () => 0),
  fn('pg_indexes_size', [1, 1], 'int8', () => 0),
  fn('pg_database_size', [1, 1], 'int8', () => 0),
  fn('pg_size_pretty', [1, 1], 'text', (args) => sizePretty(num(args[0], 'size'))),
  fn('pg_postmaster_start_time', [0, 0], 'timestamptz', (_args, ctx) => ctx.serverStartedAtMs ?? null),
  fn('txid_current', [0, 0], 'int8', (_args, ctx) => ctx.transactionId ?? 1),
  fn('pg_current_xact_id', [0, 0], 'int8', (_args, ctx) => ctx.transactionId ?? 1),
  fn('inet_server_addr', [0, 0], 'text', () => null),
  fn('inet_server_port', [0, 0], 'int4', () => null),
  fn('inet_client_addr', [0, 0], 'text', () => null),
  fn('inet_client_port', [0, 0], 'int4', () => null),
  fn('pg_backend_pid', [0, 0], 'int4', (_args, ctx) => ctx.backendPid ?? null),
  fn('pg_is_in_recovery', [0, 0], 'bool', () => false),
  fn('pg_my_temp_schema', [0, 0], 'oid', () => 0),
  fn('pg_is_other_temp_schema', [1, 1], 'bool', () => false),
];
