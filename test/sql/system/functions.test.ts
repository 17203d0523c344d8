/**
 * The system functions against PostgreSQL 15: each expectation is what psql printed for the
 * same call in database allot (fixtures/allot-schema.sql), as the comment above it shows.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_FUNCTIONS, SYSTEM_TABLE_FUNCTIONS } from '../../../src/sql/system/functions.js';
import { PG_PROC_ROWS } from '../../../src/sql/system/data/pg-proc.js';
import { relationByName } from '../../../src/sql/system/relations.js';
import type { SqlType, Value } from '../../../src/sql/types.js';
import { fixture, rowsOf, session } from './helpers.js';

const ctx = session();

function call(name: string, ...args: Value[]): Value {
  const f = SYSTEM_FUNCTIONS.get(name);
  if (f === undefined) throw new Error(`no function ${name}`);
  if (f.strict !== false && args.some((a) => a === null)) return null;
  return f.call(args, ctx);
}

function typed(name: string, argTypes: SqlType[], ...args: Value[]): Value {
  const f = SYSTEM_FUNCTIONS.get(name);
  if (f === undefined) throw new Error(`no function ${name}`);
  return f.call(args, ctx, argTypes);
}

function table(name: string, argTypes: SqlType[], ...args: Value[]): Value[][] {
  const f = SYSTEM_TABLE_FUNCTIONS.get(name);
  if (f === undefined) throw new Error(`no table function ${name}`);
  return f.rows(args, ctx, argTypes);
}

function error(f: () => unknown): [string, string] | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    const err = e as { sqlstate?: string; message: string };
    return [err.sqlstate ?? '?', err.message];
  }
}

const oid = (name: string): number => relationByName('timestamptz', 2200, name)?.oid ?? -1;

describe('definitions', () => {
  it('pg_get_indexdef', () => {
    // SELECT pg_get_indexdef('bookings_pkey'::regclass), (…, 1, true), (…, 2, false), (…, 0, true), pg_get_indexdef('bookings'::regclass)
    expect(call('pg_get_indexdef', oid('bookings_pkey'))).toBe('CREATE UNIQUE INDEX bookings_pkey ON public.bookings USING btree (id)');
    expect(call('pg_get_indexdef', oid('bookings_pkey'), 1, true)).toBe('id');
    expect(call('pg_get_indexdef', oid('bookings_pkey'), 2, false)).toBe('');
    expect(call('pg_get_indexdef', oid('bookings_pkey'), 0, true)).toBe('CREATE UNIQUE INDEX bookings_pkey ON bookings USING btree (id)');
    expect(call('pg_get_indexdef', oid('bookings'))).toBeNull();
    expect(call('pg_get_indexdef', 99_999)).toBeNull();
  });

  it('pg_get_constraintdef', () => {
    // SELECT pg_get_constraintdef(oid, true) FROM pg_constraint WHERE conname = 'bookings_pkey'; pg_get_constraintdef(99999)
    const pk = rowsOf(ctx, 'pg_constraint').find((r) => r[1] === 'bookings_pkey')?.[0] ?? null;
    expect(call('pg_get_constraintdef', pk)).toBe('PRIMARY KEY (id)');
    expect(call('pg_get_constraintdef', pk, true)).toBe('PRIMARY KEY (id)');
    expect(call('pg_get_constraintdef', 99_999)).toBeNull();
  });

  it('pg_get_viewdef and pg_get_ruledef', () => {
    const availability =
      ' SELECT NULL::text AS resource_id,\n    NULL::timestamp with time zone AS start,\n    NULL::timestamp with time zone AS "end",\n    NULL::bigint AS free\n  WHERE false;';
    // SELECT pg_get_viewdef('availability'::regclass, true), pg_get_viewdef('availability'), (…, 20), pg_get_viewdef('bookings'::regclass)
    expect(call('pg_get_viewdef', oid('availability'), true)).toBe(availability);
    expect(call('pg_get_viewdef', 'availability')).toBe(availability);
    expect(call('pg_get_viewdef', oid('availability'), 20)).toBe(availability);
    expect(call('pg_get_viewdef', oid('bookings'))).toBeNull();
    expect(call('pg_get_viewdef', 'bookings')).toBeNull();
    expect(call('pg_get_viewdef', 99_999)).toBeNull();
    expect(error(() => call('pg_get_viewdef', 'nosuch'))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    // SELECT pg_get_viewdef('pg_roles'::regclass) = (SELECT definition FROM pg_views WHERE viewname = 'pg_roles') → t
    expect(call('pg_get_viewdef', 12_000)).toBe(rowsOf(ctx, 'pg_views').find((r) => r[1] === 'pg_roles')?.[3]);
    expect(String(call('pg_get_viewdef', 12_000))).toContain("'********'::text AS rolpassword");
    // SELECT pg_get_ruledef(oid), pg_get_ruledef(oid, true) FROM pg_rewrite WHERE ev_class = 'availability'::regclass
    const rule = rowsOf(ctx, 'pg_rewrite').find((r) => r[2] === oid('availability'))?.[0] ?? null;
    expect(call('pg_get_ruledef', rule)).toBe(`CREATE RULE "_RETURN" AS\n    ON SELECT TO public.availability DO INSTEAD ${availability}`);
    expect(call('pg_get_ruledef', rule, true)).toBe(`CREATE RULE "_RETURN" AS\n    ON SELECT TO availability DO INSTEAD ${availability}`);
    expect(call('pg_get_ruledef', 99_999)).toBeNull();
  });

  it('has no triggers, partition keys, statistics objects or serial sequences', () => {
    // SELECT pg_get_triggerdef(99999), pg_get_partkeydef('bookings'::regclass), pg_get_statisticsobjdef_columns(99999),
    //        pg_get_serial_sequence('bookings', 'id') → all NULL
    expect(call('pg_get_triggerdef', 99_999)).toBeNull();
    expect(call('pg_get_partkeydef', oid('bookings'))).toBeNull();
    expect(call('pg_get_statisticsobjdef_columns', 99_999)).toBeNull();
    expect(call('pg_get_serial_sequence', 'bookings', 'id')).toBeNull();
    expect(error(() => call('pg_get_serial_sequence', 'nosuch', 'id'))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    expect(error(() => call('pg_get_serial_sequence', 'bookings', 'nosuch'))).toEqual(['42703', 'column "nosuch" of relation "bookings" does not exist']);
  });

  it('pg_get_expr shows the defaults; a relation that does not exist gives NULL', () => {
    // SELECT pg_get_expr(adbin, 99999), pg_get_expr(adbin, 0), pg_get_expr(adbin, adrelid, true) FROM pg_attrdef (capacity) → NULL | 1 | 1
    const capacity = rowsOf(ctx, 'pg_attrdef').find((r) => r[1] === oid('resources') && r[2] === 4) ?? [];
    expect(call('pg_get_expr', capacity[3] ?? null, 99_999)).toBeNull();
    expect(call('pg_get_expr', capacity[3] ?? null, 0)).toBe('1');
    expect(call('pg_get_expr', capacity[3] ?? null, capacity[1] ?? null, true)).toBe('1');
    // the time_stamp domain's default: SELECT pg_get_expr(typdefaultbin, 0) FROM pg_type WHERE oid = 13232 → CURRENT_TIMESTAMP(2)
    const timeStamp = rowsOf(ctx, 'pg_type').find((r) => r[0] === 13_232) ?? [];
    expect(call('pg_get_expr', timeStamp[29] ?? null, 0)).toBe('CURRENT_TIMESTAMP(2)');
  });

  it('pg_get_function_identity_arguments, _arguments and _result, for every served function', () => {
    const rows = fixture('timestamptz').functions?.rows ?? [];
    expect(rows.length).toBeGreaterThan(150);
    for (const [procOid, identity, args, result] of rows) {
      expect(call('pg_get_function_identity_arguments', Number(procOid)), `oid ${procOid}`).toBe(identity);
      expect(call('pg_get_function_arguments', Number(procOid)), `oid ${procOid}`).toBe(args);
      expect(call('pg_get_function_result', Number(procOid)), `oid ${procOid}`).toBe(result);
    }
    expect(call('pg_get_function_identity_arguments', 99_999)).toBeNull();
  });
});

describe('names and descriptions', () => {
  it('pg_get_userbyid', () => {
    // SELECT pg_get_userbyid(12345), pg_get_userbyid(10), pg_get_userbyid(0)
    expect(call('pg_get_userbyid', 12_345)).toBe('unknown (OID=12345)');
    expect(call('pg_get_userbyid', 10)).toBe('postgres');
    expect(call('pg_get_userbyid', 0)).toBe('unknown (OID=0)');
  });

  it('the *_is_visible tests', () => {
    // SELECT pg_collation_is_visible(100), (99999), pg_table_is_visible('bookings'::regclass), (99999),
    //        pg_type_is_visible(13226), (23), pg_function_is_visible('format_type'::regproc), (99999)
    expect(call('pg_collation_is_visible', 100)).toBe(true);
    expect(call('pg_collation_is_visible', 99_999)).toBeNull();
    expect(call('pg_table_is_visible', oid('bookings'))).toBe(true);
    expect(call('pg_table_is_visible', 99_999)).toBeNull();
    expect(call('pg_type_is_visible', 13_226)).toBe(false);
    expect(call('pg_type_is_visible', 23)).toBe(true);
    expect(call('pg_function_is_visible', 1081)).toBe(true);
    expect(call('pg_function_is_visible', 99_999)).toBeNull();
    expect(call('pg_table_is_visible', 13_295)).toBe(false);
  });

  it("obj_description and col_description: PostgreSQL's comments, and allot's on its tables", () => {
    // SELECT obj_description(11, 'pg_namespace'), obj_description(11), obj_description(23, 'pg_type'), obj_description(11, 'nosuch')
    expect(call('obj_description', 11, 'pg_namespace')).toBe('system catalog schema');
    expect(call('obj_description', 11)).toBe('system catalog schema');
    expect(call('obj_description', 23, 'pg_type')).toBe('-2 billion to 2 billion integer, 4-byte storage');
    expect(call('obj_description', 11, 'nosuch')).toBeNull();
    expect(call('obj_description', 1247, 'pg_class')).toBeNull();
    // COMMENT ON TABLE / COLUMN as allot's catalog has them (PostgreSQL's stand-in tables have none)
    expect(call('obj_description', oid('bookings'), 'pg_class')).toBe('Booked spans of a resource; allot refuses any that would not fit.');
    expect(call('col_description', oid('bookings'), 1)).toBe('Unique id; a new ULID when omitted.');
    expect(call('col_description', oid('bookings'), 99)).toBeNull();
    expect(call('shobj_description', 1, 'pg_database')).toBeNull();
  });

  it('every allot table and column has a comment', () => {
    for (const r of rowsOf(ctx, 'pg_class').filter((c) => c[2] === 2200 && c[16] !== 'i')) {
      expect(call('obj_description', r[0] ?? null, 'pg_class'), String(r[1])).toEqual(expect.any(String));
      const attnums = rowsOf(ctx, 'pg_attribute')
        .filter((a) => a[0] === r[0] && (a[5] as number) > 0)
        .map((a) => a[5] ?? null);
      for (const n of attnums) expect(call('col_description', r[0] ?? null, n), `${String(r[1])}.${String(n)}`).toEqual(expect.any(String));
    }
  });

  it('quote_ident, quote_literal, quote_nullable', () => {
    // SELECT quote_ident('bookings'), ('Bookings'), ('end'), ('user'), ('a b'), ('a"b'), ('abort'), ('char'), ('_x1$'), ('1x'), ('between'), ('authorization'), ('')
    const idents = ['bookings', 'Bookings', 'end', 'user', 'a b', 'a"b', 'abort', 'char', '_x1$', '1x', 'between', 'authorization', ''];
    expect(idents.map((i) => call('quote_ident', i))).toEqual([
      'bookings',
      '"Bookings"',
      '"end"',
      '"user"',
      '"a b"',
      '"a""b"',
      'abort',
      '"char"',
      '"_x1$"',
      '"1x"',
      '"between"',
      '"authorization"',
      '""',
    ]);
    // SELECT quote_literal('O''Reilly'), quote_literal('a\b'), quote_literal(42), quote_literal(true), quote_literal(array['a','b c']), quote_nullable(null::text), quote_nullable('x'), quote_literal('')
    expect(call('quote_literal', "O'Reilly")).toBe("'O''Reilly'");
    expect(call('quote_literal', 'a\\b')).toBe("E'a\\\\b'");
    expect(call('quote_literal', 42)).toBe("'42'");
    expect(call('quote_literal', true)).toBe("'true'");
    expect(call('quote_literal', ['a', 'b c'])).toBe(`'{a,"b c"}'`);
    expect(call('quote_nullable', null)).toBe('NULL');
    expect(call('quote_nullable', 'x')).toBe("'x'");
    expect(call('quote_literal', '')).toBe("''");
  });

  it('encodings', () => {
    // SELECT pg_encoding_to_char(6), (0), (999), (-1); pg_char_to_encoding('UTF8'), ('utf-8'), ('latin1'), ('nosuch'), …
    expect([6, 0, 999, -1, 41].map((e) => call('pg_encoding_to_char', e))).toEqual(['UTF8', 'SQL_ASCII', '', '', 'SHIFT_JIS_2004']);
    const names = [
      'UTF8',
      'utf-8',
      'UTF_8',
      'unicode',
      'latin1',
      'iso-8859-1',
      'win1252',
      'windows1252',
      'cp1252',
      'sjis',
      'mskanji',
      'koi8',
      'euc_jp',
      'ascii',
      'sql_ascii',
      'tcvn',
      'alt',
      'win',
      'latin9',
      'iso885915',
      'nosuch',
      'utf 8',
    ];
    expect(names.map((n) => call('pg_char_to_encoding', n))).toEqual([6, 6, 6, 6, 8, 8, 24, 24, -1, 35, 35, 22, 1, -1, 0, 19, 20, 23, 16, 16, -1, 6]);
  });

  it('to_regclass, to_regtype, to_regproc, to_regnamespace, to_regrole: NULL for what does not exist', () => {
    // SELECT to_regclass('nosuch'), to_regtype('nosuch'), to_regtype('int'), to_regproc('nosuch'), to_regproc('format_type'),
    //        to_regnamespace('nosuch'), to_regnamespace('public'), to_regrole('nosuch'), to_regrole('postgres'), to_regclass('nosch.x'), to_regtype('text[]')
    expect(call('to_regclass', 'bookings')).toBe(oid('bookings'));
    expect(call('to_regclass', 'nosuch')).toBeNull();
    expect(call('to_regtype', 'nosuch')).toBeNull();
    expect(call('to_regtype', 'int')).toBe(23);
    expect(call('to_regproc', 'nosuch')).toBeNull();
    expect(call('to_regproc', 'format_type')).toBe(1081);
    expect(call('to_regnamespace', 'nosuch')).toBeNull();
    expect(call('to_regnamespace', 'public')).toBe(2200);
    expect(call('to_regrole', 'nosuch')).toBeNull();
    expect(call('to_regrole', 'postgres')).toBe(10);
    expect(call('to_regclass', 'nosch.x')).toBeNull();
    expect(call('to_regtype', 'text[]')).toBe(1009);
  });

  it('current_schemas and current_schema follow search_path', () => {
    // SHOW search_path → "$user", public; SELECT current_schemas(true), current_schemas(false), current_schema()
    expect(call('current_schemas', true)).toEqual(['pg_catalog', 'public']);
    expect(call('current_schemas', false)).toEqual(['public']);
    expect(call('current_schema')).toBe('public');
    // SET search_path = pg_catalog → {pg_catalog} {pg_catalog} pg_catalog
    const catalogOnly = session('timestamptz', { search_path: 'pg_catalog' });
    expect(SYSTEM_FUNCTIONS.get('current_schemas')?.call([false], catalogOnly)).toEqual(['pg_catalog']);
    // SET search_path = public, pg_catalog → {public,pg_catalog} both
    const publicFirst = session('timestamptz', { search_path: 'public, pg_catalog' });
    expect(SYSTEM_FUNCTIONS.get('current_schemas')?.call([true], publicFirst)).toEqual(['public', 'pg_catalog']);
    // SET search_path = '$user', nosuch, public → {pg_catalog,public} {public} public
    const missing = session('timestamptz', { search_path: '"$user", nosuch, public' });
    expect(SYSTEM_FUNCTIONS.get('current_schemas')?.call([true], missing)).toEqual(['pg_catalog', 'public']);
    expect(SYSTEM_FUNCTIONS.get('current_schema')?.call([], missing)).toBe('public');
    // SET search_path = ''; SELECT current_schemas(true), current_schemas(false), current_schema() IS NULL → {pg_catalog} {} t
    const empty = session('timestamptz', { search_path: '""' });
    expect(SYSTEM_FUNCTIONS.get('current_schemas')?.call([true], empty)).toEqual(['pg_catalog']);
    expect(SYSTEM_FUNCTIONS.get('current_schemas')?.call([false], empty)).toEqual([]);
    expect(SYSTEM_FUNCTIONS.get('current_schema')?.call([], empty)).toBeNull();
  });
});

describe('privileges', () => {
  it('the session user, as superuser, has every privilege', () => {
    // SELECT has_table_privilege('bookings', 'select'), has_table_privilege('postgres', 'bookings', 'INSERT'),
    //        has_table_privilege('bookings', 'select, update with grant option') → t t t
    expect(call('has_table_privilege', 'bookings', 'select')).toBe(true);
    expect(call('has_table_privilege', 'postgres', 'bookings', 'INSERT')).toBe(true);
    expect(call('has_table_privilege', 'bookings', 'select, update with grant option')).toBe(true);
    expect(call('has_table_privilege', 'bookings', 'SELECT WITH GRANT OPTION')).toBe(true);
    expect(call('has_tablespace_privilege', 'pg_default', 'create')).toBe(true);
    expect(call('has_any_column_privilege', 'bookings', 'update')).toBe(true);
    expect(call('has_column_privilege', 'bookings', 'id', 'update')).toBe(true);
    expect(call('has_column_privilege', 'bookings', 1, 'select')).toBe(true);
    expect(call('has_column_privilege', 'bookings', 99, 'select')).toBeNull();
    expect(call('has_table_privilege', 99_999, 'select')).toBeNull();
    expect(call('pg_has_role', 'pg_monitor', 'member')).toBe(true);
  });

  it('other roles have what PUBLIC has', () => {
    // SELECT has_table_privilege('pg_monitor', 'bookings', 'select'), ('pg_monitor', 'pg_class', 'select'), ('public', 'pg_class', 'select'),
    //        ('pg_monitor', 'pg_class', 'insert'), has_schema_privilege('pg_monitor', 'public', 'usage' | 'create'),
    //        has_database_privilege('pg_monitor', 'allot', 'connect' | 'create'), has_function_privilege('pg_monitor', 'format_type(oid,integer)', 'execute'),
    //        has_type_privilege('pg_monitor', 'int4', 'usage'), pg_has_role('pg_monitor', 'postgres', 'member') → f t t f t f t f t t f
    expect(call('has_table_privilege', 'pg_monitor', 'bookings', 'select')).toBe(false);
    expect(call('has_table_privilege', 'pg_monitor', 'pg_class', 'select')).toBe(true);
    expect(call('has_table_privilege', 'public', 'pg_class', 'select')).toBe(true);
    expect(call('has_table_privilege', 'pg_monitor', 'pg_class', 'insert')).toBe(false);
    expect(call('has_schema_privilege', 'pg_monitor', 'public', 'usage')).toBe(true);
    expect(call('has_schema_privilege', 'pg_monitor', 'public', 'create')).toBe(false);
    expect(call('has_database_privilege', 'pg_monitor', 'allot', 'connect')).toBe(true);
    expect(call('has_database_privilege', 'pg_monitor', 'allot', 'create')).toBe(false);
    expect(call('has_function_privilege', 'pg_monitor', 'format_type(oid,integer)', 'execute')).toBe(true);
    expect(call('has_type_privilege', 'pg_monitor', 'int4', 'usage')).toBe(true);
    expect(call('pg_has_role', 'pg_monitor', 'postgres', 'member')).toBe(false);
  });

  it('raises for names that do not exist and privileges that are not', () => {
    expect(error(() => call('has_table_privilege', 'bookings', 'selec'))).toEqual(['22023', 'unrecognized privilege type: "selec"']);
    expect(error(() => call('has_table_privilege', 'bookings', 'maintain'))).toEqual(['22023', 'unrecognized privilege type: "maintain"']);
    expect(error(() => call('has_table_privilege', 'nosuch', 'select'))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    expect(error(() => call('has_table_privilege', 'nosuchrole', 'bookings', 'select'))).toEqual(['42704', 'role "nosuchrole" does not exist']);
    expect(error(() => call('has_schema_privilege', 'nosuch', 'usage'))).toEqual(['3F000', 'schema "nosuch" does not exist']);
    expect(error(() => call('has_column_privilege', 'bookings', 'nosuch', 'select'))).toEqual([
      '42703',
      'column "nosuch" of relation "bookings" does not exist',
    ]);
    expect(error(() => call('has_function_privilege', 'nosuch(int)', 'execute'))).toEqual(['42883', 'function "nosuch(int)" does not exist']);
    expect(error(() => call('has_tablespace_privilege', 'nosuch', 'create'))).toEqual(['42704', 'tablespace "nosuch" does not exist']);
    expect(error(() => call('has_database_privilege', 'nosuch', 'connect'))).toEqual(['3D000', 'database "nosuch" does not exist']);
    expect(error(() => call('has_sequence_privilege', 'nosuch', 'usage'))).toEqual(['42P01', 'relation "nosuch" does not exist']);
    expect(error(() => call('has_sequence_privilege', 'bookings', 'usage'))).toEqual(['42809', '"bookings" is not a sequence']);
    expect(error(() => call('pg_has_role', 'nosuch', 'member'))).toEqual(['42704', 'role "nosuch" does not exist']);
    expect(error(() => call('pg_has_role', 'postgres', 'foo'))).toEqual(['22023', 'unrecognized privilege type: "foo"']);
  });
});

describe('arrays', () => {
  it('array_to_string', () => {
    // SELECT array_to_string(array['a',null,'c'], ','), (…, ',', '*'), (array[]::text[], ','), (array['a'], null), (null::text[], ',')
    expect(call('array_to_string', ['a', null, 'c'], ',')).toBe('a,c');
    expect(call('array_to_string', ['a', null, 'c'], ',', '*')).toBe('a,*,c');
    expect(call('array_to_string', [], ',')).toBe('');
    expect(call('array_to_string', ['a'], null)).toBeNull();
    expect(call('array_to_string', null, ',')).toBeNull();
  });

  it('bounds, dimensions and lengths of one-dimensional arrays', () => {
    // SELECT array_upper(array['a','b'],1), array_lower(…,1), array_upper(…,2), array_ndims(…), array_ndims(array[]::text[]),
    //        array_length(…,1), array_length(array[]::text[],1), cardinality(array[]::text[]), cardinality(…), array_upper(array[]::text[], 1)
    expect(call('array_upper', ['a', 'b'], 1)).toBe(2);
    expect(call('array_lower', ['a', 'b'], 1)).toBe(1);
    expect(call('array_upper', ['a', 'b'], 2)).toBeNull();
    expect(call('array_ndims', ['a', 'b'])).toBe(1);
    expect(call('array_ndims', [])).toBeNull();
    expect(call('array_length', ['a', 'b'], 1)).toBe(2);
    expect(call('array_length', [], 1)).toBeNull();
    expect(call('cardinality', [])).toBe(0);
    expect(call('cardinality', ['a', 'b'])).toBe(2);
    expect(call('array_upper', [], 1)).toBeNull();
  });

  it('int2vector and oidvector count from 0', () => {
    // SELECT array_lower(indkey, 1), array_upper(indkey, 1), array_lower(indclass, 1), array_upper(indclass, 1)
    //   FROM pg_index WHERE indexrelid = 'bookings_pkey'::regclass → 0 0 0 0
    const index = rowsOf(ctx, 'pg_index').find((r) => r[0] === oid('bookings_pkey')) ?? [];
    expect(typed('array_lower', ['int2vector', 'int4'], index[15] ?? null, 1)).toBe(0);
    expect(typed('array_upper', ['int2vector', 'int4'], index[15] ?? null, 1)).toBe(0);
    expect(typed('array_lower', ['oidvector', 'int4'], index[17] ?? null, 1)).toBe(0);
    expect(typed('array_upper', ['oidvector', 'int4'], index[17] ?? null, 1)).toBe(0);
    // SELECT * FROM generate_subscripts('1 2'::int2vector, 1) → 0, 1
    expect(table('generate_subscripts', ['int2vector', 'int4'], ['1', '2'], 1)).toEqual([[0], [1]]);
  });

  it('generate_subscripts and information_schema._pg_expandarray', () => {
    // SELECT * FROM generate_subscripts('{a,b,c}'::text[], 1) → 1 2 3; (…, 1, true) → 3 2 1
    expect(table('generate_subscripts', ['text[]', 'int4'], ['a', 'b', 'c'], 1)).toEqual([[1], [2], [3]]);
    expect(table('generate_subscripts', ['text[]', 'int4', 'bool'], ['a', 'b', 'c'], 1, true)).toEqual([[3], [2], [1]]);
    // SELECT (information_schema._pg_expandarray('1 3'::int2vector)).* → 1|1, 3|2; ('{a,b}'::text[]) → a|1, b|2
    expect(table('_pg_expandarray', ['int2vector'], ['1', '3'])).toEqual([
      [1, 1],
      [3, 2],
    ]);
    expect(table('_pg_expandarray', ['text[]'], ['a', 'b'])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(SYSTEM_TABLE_FUNCTIONS.get('_pg_expandarray')?.columns(['int2vector'])).toEqual([
      { name: 'x', type: 'int2' },
      { name: 'n', type: 'int4' },
    ]);
  });
});

describe('sizes and the server', () => {
  it('pg_size_pretty', () => {
    // SELECT pg_size_pretty(0::bigint), (10239), (10240), (20971519), (20971520), (1073741824), (-12345678),
    //        (1125899906842624), (9007199254740991), (1536), (10752), (-10752)
    const sizes = [0, 10_239, 10_240, 20_971_519, 20_971_520, 1_073_741_824, -12_345_678, 1_125_899_906_842_624, 9_007_199_254_740_991, 1536, 10_752, -10_752];
    expect(sizes.map((s) => call('pg_size_pretty', s))).toEqual([
      '0 bytes',
      '10239 bytes',
      '10 kB',
      '20 MB',
      '20 MB',
      '1024 MB',
      '-12 MB',
      '1024 TB',
      '8192 TB',
      '1536 bytes',
      '11 kB',
      '-11 kB',
    ]);
  });

  it('relation sizes are 0: allot keeps rows in memory, not in relation files', () => {
    // PostgreSQL: pg_relation_size('bookings') 0 for the empty table; its index and TOAST table take pages, allot's do not.
    for (const f of ['pg_relation_size', 'pg_total_relation_size', 'pg_table_size', 'pg_indexes_size']) expect(call(f, oid('bookings'))).toBe(0);
  });

  it('facts about the session and server', () => {
    // SELECT pg_tablespace_location(1663), pg_is_in_recovery(), pg_my_temp_schema(), pg_is_other_temp_schema(11) → '' f 0 f
    expect(call('pg_tablespace_location', 1663)).toBe('');
    expect(call('pg_is_in_recovery')).toBe(false);
    expect(call('pg_my_temp_schema')).toBe(0);
    expect(call('pg_is_other_temp_schema', 11)).toBe(false);
    expect(call('inet_server_addr')).toBeNull();
    const withFacts = { ...ctx, backendPid: 4242, serverStartedAtMs: 1_772_355_600_000, transactionId: 77 };
    expect(SYSTEM_FUNCTIONS.get('pg_backend_pid')?.call([], withFacts)).toBe(4242);
    expect(SYSTEM_FUNCTIONS.get('pg_postmaster_start_time')?.call([], withFacts)).toBe(1_772_355_600_000);
    expect(SYSTEM_FUNCTIONS.get('txid_current')?.call([], withFacts)).toBe(77);
  });
});

describe('pg_get_keywords', () => {
  it("is PostgreSQL 15's keyword list", () => {
    // SELECT count(*), count(*) FILTER (WHERE catcode = 'R'), count(*) FILTER (WHERE NOT barelabel) FROM pg_get_keywords() → 460 77 39
    const rows = table('pg_get_keywords', []);
    expect(rows.length).toBe(460);
    expect(rows.filter((r) => r[1] === 'R').length).toBe(77);
    expect(rows.filter((r) => r[2] === false).length).toBe(39);
    // SELECT * FROM pg_get_keywords() WHERE word IN ('all', 'between', 'abort', 'char', 'authorization')
    const pick = rows.filter((r) => ['all', 'between', 'abort', 'char', 'authorization'].includes(String(r[0])));
    expect(pick).toEqual([
      ['abort', 'U', true, 'unreserved', 'can be bare label'],
      ['all', 'R', true, 'reserved', 'can be bare label'],
      ['authorization', 'T', true, 'reserved (can be function or type name)', 'can be bare label'],
      ['between', 'C', true, 'unreserved (cannot be function or type name)', 'can be bare label'],
      ['char', 'C', false, 'unreserved (cannot be function or type name)', 'requires AS'],
    ]);
  });
});

describe('the function catalog', () => {
  it('has pg_proc rows for every system function, so their names are regprocs', () => {
    const names = new Set(PG_PROC_ROWS.map((r) => r[1]));
    for (const name of [...SYSTEM_FUNCTIONS.keys(), ...SYSTEM_TABLE_FUNCTIONS.keys()]) expect(names.has(name), name).toBe(true);
  });

  it('declares every result type', () => {
    for (const f of SYSTEM_FUNCTIONS.values()) expect(typeof f.returns([]), f.name).toBe('string');
    expect(SYSTEM_FUNCTIONS.size).toBe(67);
    expect(SYSTEM_TABLE_FUNCTIONS.size).toBe(3);
  });
});
