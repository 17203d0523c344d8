/**
 * What follows the session: the time output (instants and durations as timestamptz and
 * interval, or as bigint milliseconds), the user, the databases, the settings.
 */
import { describe, expect, it } from 'vitest';
import { relationByName } from '../../../src/sql/system/relations.js';
import { col, rowsOf, session } from './helpers.js';

const column = (times: 'timestamptz' | 'ms', table: string, name: string): Record<string, unknown> => {
  const ctx = session(times);
  const row = rowsOf(ctx, 'columns', 'information_schema').find((r) => r[1] === 'public' && r[2] === table && r[3] === name) ?? [];
  const at = (c: string): unknown => row[col('columns', c, 'information_schema')];
  const attr = rowsOf(ctx, 'pg_attribute').find((r) => r[0] === relationByName(times, 2200, table)?.oid && r[1] === name) ?? [];
  return {
    atttypid: attr[2],
    attlen: attr[4],
    data_type: at('data_type'),
    udt_name: at('udt_name'),
    column_default: at('column_default'),
    datetime_precision: at('datetime_precision'),
  };
};

describe('time output', () => {
  it('timestamptz: instants are timestamptz, durations interval (as in database allot)', () => {
    // SELECT atttypid, attlen … / data_type, udt_name, column_default, datetime_precision FROM information_schema.columns …
    expect(column('timestamptz', 'bookings', 'start')).toEqual({
      atttypid: 1184,
      attlen: 8,
      data_type: 'timestamp with time zone',
      udt_name: 'timestamptz',
      column_default: null,
      datetime_precision: 6,
    });
    expect(column('timestamptz', 'resources', 'buffer_before')).toEqual({
      atttypid: 1186,
      attlen: 16,
      data_type: 'interval',
      udt_name: 'interval',
      column_default: "'00:00:00'::interval",
      datetime_precision: 6,
    });
    expect(column('timestamptz', 'outages', 'declared_at')).toMatchObject({ atttypid: 1184, column_default: 'now()' });
    expect(column('timestamptz', 'policies', 'max_bookings')).toMatchObject({ atttypid: 20, data_type: 'bigint' });
    expect(column('timestamptz', 'availability', 'end')).toMatchObject({ atttypid: 1184, data_type: 'timestamp with time zone' });
  });

  it('ms: instants and durations are bigint milliseconds (as in database allot_ms)', () => {
    expect(column('ms', 'bookings', 'start')).toEqual({
      atttypid: 20,
      attlen: 8,
      data_type: 'bigint',
      udt_name: 'int8',
      column_default: null,
      datetime_precision: null,
    });
    expect(column('ms', 'resources', 'buffer_before')).toEqual({
      atttypid: 20,
      attlen: 8,
      data_type: 'bigint',
      udt_name: 'int8',
      column_default: '0',
      datetime_precision: null,
    });
    expect(column('ms', 'outages', 'declared_at')).toMatchObject({ atttypid: 20, column_default: '((EXTRACT(epoch FROM now()) * (1000)::numeric))::bigint' });
    expect(column('ms', 'availability', 'end')).toMatchObject({ atttypid: 20, data_type: 'bigint' });
  });

  it("ms: the views' definitions say bigint", () => {
    const def = rowsOf(session('ms'), 'pg_views').find((r) => r[1] === 'availability')?.[3];
    expect(def).toBe(' SELECT NULL::text AS resource_id,\n    NULL::bigint AS start,\n    NULL::bigint AS "end",\n    NULL::bigint AS free\n  WHERE false;');
  });
});

describe('the user and the databases', () => {
  it('the session user owns everything, as the bootstrap superuser', () => {
    const ctx = { ...session(), user: 'ann' };
    expect(
      rowsOf(ctx, 'pg_roles')
        .find((r) => r[12] === 10)
        ?.slice(0, 2),
    ).toEqual(['ann', true]);
    expect(rowsOf(ctx, 'pg_tables').find((r) => r[1] === 'bookings')?.[2]).toBe('ann');
    expect(rowsOf(ctx, 'pg_namespace').find((r) => r[1] === 'pg_catalog')?.[3]).toEqual(['ann=UC/ann', '=U/ann']);
    expect(rowsOf(ctx, 'pg_class').find((r) => r[1] === 'pg_type')?.[30]).toEqual(['ann=arwdDxt/ann', '=r/ann']);
    // aclitem quotes a name with other than letters, digits and _ (CREATE ROLE "my-user"; SELECT '"my-user"=r/"my-user"'::aclitem → "my-user"=r/"my-user")
    expect(rowsOf({ ...ctx, user: 'my-user' }, 'pg_class').find((r) => r[1] === 'pg_type')?.[30]).toEqual(['"my-user"=arwdDxt/"my-user"', '=r/"my-user"']);
  });

  it('pg_database has every database, each keeping its oid', () => {
    const ctx = { ...session(), databases: ['a', 'b', 'allot'] };
    const rows = rowsOf(ctx, 'pg_database');
    expect(rows.map((r) => r[1])).toEqual(['a', 'b', 'allot']);
    const again = rowsOf({ ...ctx, databases: ['allot'] }, 'pg_database');
    expect(again[0]?.[0]).toBe(rows[2]?.[0]);
    expect(rowsOf(ctx, 'pg_stat_activity')[0]?.slice(0, 2)).toEqual([rows[2]?.[0], 'allot']);
  });
});

describe('pg_settings', () => {
  it("shows the parameters allot knows, with PostgreSQL's descriptions and the session's values", () => {
    const ctx = session('timestamptz', { timezone: 'UTC', datestyle: 'ISO, DMY', application_name: 'psql' });
    const rows = rowsOf(ctx, 'pg_settings');
    const get = (name: string): unknown[] | undefined => rows.find((r) => r[0] === name);
    // SELECT * FROM pg_settings WHERE name = 'DateStyle' (PostgreSQL: ISO, MDY from postgresql.conf)
    expect(get('DateStyle')?.slice(0, 9)).toEqual([
      'DateStyle',
      'ISO, DMY',
      null,
      'Client Connection Defaults / Locale and Formatting',
      'Sets the display format for date and time values.',
      'Also controls interpretation of ambiguous date inputs.',
      'user',
      'string',
      'session',
    ]);
    expect(get('search_path')?.slice(0, 2)).toEqual(['search_path', '"$user", public']);
    expect(get('search_path')?.[8]).toBe('default');
    expect(get('IntervalStyle')?.[11]).toEqual(['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']);
    // PostgreSQL hides is_superuser and custom placeholders (allot.restore) from pg_settings
    expect(get('is_superuser')).toBeUndefined();
    expect(get('allot.restore')).toBeUndefined();
  });
});
