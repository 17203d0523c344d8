/**
 * What connection pools send to hand a session to the next client: DISCARD ALL (every cursor
 * closed, every prepared statement deallocated, UNLISTEN *, RESET ALL; refused in a block with
 * 25001, as PostgreSQL does), DISCARD PLANS|TEMP|SEQUENCES, RESET ALL, UNLISTEN *, CLOSE ALL,
 * and asyncpg's reset query, all in one simple-query message.
 */
import type pg from 'pg';
import type { ParameterStatusMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

async function setting(c: pg.Client, name: string): Promise<string> {
  return (await c.query(`SHOW ${name}`)).rows[0][name] as string;
}

/** Notifications `c` hears on `channel` after `NOTIFY channel` from another session. */
async function hears(c: pg.Client, other: pg.Client, channel: string): Promise<boolean> {
  const heard: string[] = [];
  const on = (n: pg.Notification): void => void heard.push(n.channel);
  c.on('notification', on);
  await other.query(`NOTIFY ${channel}`);
  await c.query('SELECT 1');
  await new Promise((r) => setTimeout(r, 50));
  await c.query('SELECT 1');
  c.off('notification', on);
  return heard.includes(channel);
}

describe('DISCARD ALL', () => {
  it('closes every cursor, deallocates prepared statements, stops listening and resets every setting', async () => {
    const c = await srv.client('discard-all');
    const other = await srv.client('discard-all');
    await c.query(`INSERT INTO resources (id) VALUES ('a')`);
    await c.query({ name: 'named', text: 'SELECT id FROM resources' });
    await c.query('DECLARE held CURSOR WITH HOLD FOR SELECT id FROM resources');
    await c.query('LISTEN chan');
    await c.query(`SET application_name = 'pooled'`);
    await c.query(`SET myapp.tenant = 'acme'`);
    expect(await hears(c, other, 'chan')).toBe(true);

    expect((await c.query('DISCARD ALL')).command).toBe('DISCARD');
    expect((await pgError(c.query('FETCH held'))).code).toBe('34000');
    // pg believes "named" is still prepared and sends only Bind: the server no longer has it.
    expect((await pgError(c.query({ name: 'named', text: 'SELECT id FROM resources' }))).code).toBe('26000');
    expect(await hears(c, other, 'chan')).toBe(false);
    expect(await setting(c, 'application_name')).toBe('');
    expect((await c.query(`SELECT current_setting('myapp.tenant', true) AS v`)).rows).toEqual([{ v: null }]);
  });

  it('tells the client the reported settings it changed back (ParameterStatus), as PostgreSQL does', async () => {
    const raw = await RawClient.connect(srv.port);
    await raw.login({ database: 'discard-status', password: srv.password });
    await raw.query(`SET application_name = 'pooled'`);
    const from = raw.received.length;
    await raw.query('DISCARD ALL');
    const status = raw.received.slice(from).filter((m) => m.name === 'parameterStatus') as ParameterStatusMessage[];
    expect(status.map((m) => [m.parameterName, m.parameterValue])).toEqual([['application_name', '']]);
    raw.destroy();
  });

  it('is refused inside a block, the implicit one of a multi-statement query too (25001), changing nothing', async () => {
    const c = await srv.client('discard-block');
    await c.query(`SET application_name = 'kept'`);
    await c.query('BEGIN');
    const err = await pgError(c.query('DISCARD ALL'));
    expect([err.code, err.message]).toEqual(['25001', 'DISCARD ALL cannot run inside a transaction block']);
    await c.query('ROLLBACK');
    const implicit = await pgError(c.query('SELECT 1; DISCARD ALL'));
    expect(implicit.code).toBe('25001');
    expect(await setting(c, 'application_name')).toBe('kept');
  });
});

describe('the other resets', () => {
  it('DISCARD PLANS, TEMP, TEMPORARY and SEQUENCES answer with their tags, in a block too, and reset nothing', async () => {
    const c = await srv.client('discard-others');
    await c.query(`SET application_name = 'kept'`);
    await c.query('BEGIN');
    for (const [what, tag] of [
      ['PLANS', 'DISCARD PLANS'],
      ['TEMP', 'DISCARD TEMP'],
      ['TEMPORARY', 'DISCARD TEMP'],
      ['SEQUENCES', 'DISCARD SEQUENCES'],
    ] as const) {
      expect((await c.query(`DISCARD ${what}`)).command).toBe('DISCARD');
      const raw = await RawClient.connect(srv.port);
      await raw.login({ database: 'discard-others', password: srv.password });
      await raw.query(`DISCARD ${what}`);
      expect(raw.received.some((m) => m.name === 'commandComplete' && (m as unknown as { text: string }).text === tag)).toBe(true);
      raw.destroy();
    }
    await c.query('COMMIT');
    expect(await setting(c, 'application_name')).toBe('kept');
    expect((await pgError(c.query('DISCARD EVERYTHING'))).code).toBe('42601');
  });

  it('RESET ALL puts every setting back and drops custom ones; UNLISTEN * stops every channel', async () => {
    const c = await srv.client('reset-all');
    const other = await srv.client('reset-all');
    await c.query(`SET application_name = 'x'`);
    await c.query(`SET statement_timeout = '5s'`);
    await c.query(`SET myapp.user_id = '42'`);
    expect((await c.query('RESET ALL')).command).toBe('RESET');
    expect(await setting(c, 'application_name')).toBe('');
    expect(await setting(c, 'statement_timeout')).toBe('0');
    expect((await c.query(`SELECT current_setting('myapp.user_id', true) AS v`)).rows).toEqual([{ v: null }]);
    await c.query('LISTEN one');
    await c.query('LISTEN two');
    expect((await c.query('UNLISTEN *')).command).toBe('UNLISTEN');
    expect(await hears(c, other, 'one')).toBe(false);
    expect(await hears(c, other, 'two')).toBe(false);
  });

  it('CLOSE ALL closes every cursor, held ones and those of the block', async () => {
    const c = await srv.client('close-all');
    await c.query('DECLARE held CURSOR WITH HOLD FOR SELECT 1');
    await c.query('BEGIN');
    await c.query('DECLARE mine CURSOR FOR SELECT 1');
    expect((await c.query('CLOSE ALL')).command).toBe('CLOSE');
    expect((await pgError(c.query('FETCH mine'))).code).toBe('34000');
    await c.query('ROLLBACK');
    expect((await pgError(c.query('FETCH held'))).code).toBe('34000');
  });

  it("asyncpg's pool release, its advisory-lock call aside: one simple-query message, all of it succeeding", async () => {
    const c = await srv.client('asyncpg-reset');
    await c.query('DECLARE held CURSOR WITH HOLD FOR SELECT 1');
    await c.query(`SET application_name = 'asyncpg'`);
    await c.query('LISTEN chan');
    const results = (await c.query('CLOSE ALL; UNLISTEN *; RESET ALL;')) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.command)).toEqual(['CLOSE', 'UNLISTEN', 'RESET']);
    expect((await pgError(c.query('FETCH held'))).code).toBe('34000');
    expect(await setting(c, 'application_name')).toBe('');
  });

  it("asyncpg's pool release, whole: SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;", async () => {
    const c = await srv.client('asyncpg-reset-whole');
    const results = (await c.query('SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;')) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.command)).toEqual(['SELECT', 'CLOSE', 'UNLISTEN', 'RESET']);
  });
});
