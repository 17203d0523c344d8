/** psql's own commands against allot, through the real psql binary. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../helpers/psql.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

/** The rows of psql's "List of relations", as cells. */
function relations(output: string): string[][] {
  return output
    .split('\n')
    .filter((l) => l.startsWith(' public'))
    .map((l) => l.split('|').map((x) => x.trim()));
}

describe('psql meta-commands', () => {
  it('\\dt lists the stored tables, owned by the user asking', async () => {
    const { output, code } = await psql(srv, 'meta', ['-c', '\\dt']);
    expect(code).toBe(0);
    expect(relations(output)).toEqual(['bookings', 'holds', 'outages', 'policies', 'resources', 'rules'].map((t) => ['public', t, 'table', 'tester']));
    expect(output).toContain('(6 rows)');
  });

  it('\\d lists the stored tables and the computed ones as views', async () => {
    const { output, code } = await psql(srv, 'meta', ['-c', '\\d']);
    expect(code).toBe(0);
    const views = new Set(['allot_export', 'availability', 'availability_explain', 'calendar', 'next_free', 'policy_usage']);
    const names = [
      'allot_export',
      'availability',
      'availability_explain',
      'bookings',
      'calendar',
      'holds',
      'next_free',
      'outages',
      'policies',
      'policy_usage',
      'resources',
      'rules',
    ];
    expect(relations(output)).toEqual(names.map((t) => ['public', t, views.has(t) ? 'view' : 'table', 'tester']));
  });

  it('\\l lists the databases the server holds', async () => {
    await psql(srv, 'other-db', ['-c', 'SELECT 1']);
    const { output, code } = await psql(srv, 'meta', ['-c', '\\l']);
    expect(code).toBe(0);
    const rows = output
      .split('\n')
      .map((l) => l.split('|').map((x) => x.trim()))
      .filter((cells) => cells.length === 8 && cells[0] !== 'Name');
    expect(rows).toContainEqual(['meta', 'tester', 'UTF8', 'C.UTF-8', 'C.UTF-8', '', 'libc', '']);
    expect(rows).toContainEqual(['other-db', 'tester', 'UTF8', 'C.UTF-8', 'C.UTF-8', '', 'libc', '']);
    expect(rows.map((r) => r[0])).toEqual([...rows.map((r) => r[0]!)].sort());
  });

  it('\\dt with a pattern, \\d of a table and a view, \\di, \\df, \\dn and \\du answer as PostgreSQL does', async () => {
    const { output } = await psql(srv, 'meta', [], '\\dt book*\n\\d bookings\n\\d availability\n\\di\n\\df\n\\dn\n\\du\n');
    expect(output).not.toMatch(/ERROR/);
    expect(relations(output.slice(0, output.indexOf('Table "public.bookings"')))).toEqual([['public', 'bookings', 'table', 'tester']]);
    expect(output).toContain('Table "public.bookings"');
    expect(output).toMatch(/^ start +\| (timestamp with time zone|bigint) +\| +\| not null \|/m);
    expect(output).toMatch(/^ capabilities +\| text\[\] +\| +\| not null \| '\{\}'::text\[\]/m);
    expect(output).toContain('"bookings_pkey" PRIMARY KEY, btree (id)');
    expect(output).toContain('View "public.availability"');
    expect(output).toMatch(/^ public \| resources_pkey +\| index \| tester \| resources/m);
    expect(output).toContain('List of functions');
    expect(output).toMatch(/^ public +\| pg_database_owner/m);
    expect(output).toMatch(/^ tester +\| Superuser/m);
  });

  it('a meta-command allot cannot answer fails with an error, and the session goes on', async () => {
    const { output } = await psql(srv, 'meta', [], "\\dl\nSELECT 'still here' AS s;\n");
    expect(output).toMatch(/^ERROR: {2}relation "pg_catalog.pg_largeobject_metadata" does not exist/m);
    expect(output).toContain('still here');
  });
});
