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

describe('psql meta-commands', () => {
  it('\\dt lists the stored tables, owned by the user asking', async () => {
    const { output, code } = await psql(srv, 'meta', ['-c', '\\dt']);
    expect(code).toBe(0);
    const rows = output
      .split('\n')
      .filter((l) => l.startsWith(' public'))
      .map((l) => l.split('|').map((x) => x.trim()));
    expect(rows).toEqual(['bookings', 'holds', 'outages', 'policies', 'resources', 'rules'].map((t) => ['public', t, 'table', 'tester']));
    expect(output).toContain('(6 rows)');
  });

  it('a meta-command allot cannot answer fails with an error, and the session goes on', async () => {
    const { output } = await psql(srv, 'meta', [], "\\dt book*\nSELECT 'still here' AS s;\n");
    expect(output).toMatch(/^ERROR: {2}\S/m);
    expect(output).toContain('still here');
  });
});
