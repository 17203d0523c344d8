/**
 * Every catalog query the frameworks were seen to send (test/fixtures/compat/queries/, captured
 * from PostgreSQL), replayed against allot: each must be answered, not refused.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus } from '../helpers/corpus.js';
import { startServer, type TestServer } from '../helpers/server.js';

const queries = readCorpus().filter(
  (e) =>
    /^\s*(select|with)\b/i.test(e.text) &&
    !/\b(bookings|resources|holds|rules|outages|policies)\b/i.test(e.text.replace(/'[^']*'/g, '')) &&
    // Values captured in binary are shown as hex; they cannot be replayed as text.
    !e.values.some((v) => v?.startsWith('\\x')),
);

let srv: TestServer;
let c: pg.Client;
beforeAll(async () => {
  srv = await startServer({ times: 'timestamptz' });
  c = await srv.client('corpus');
});
afterAll(async () => {
  await srv.close();
});

describe('the catalog queries frameworks send', () => {
  it('has queries from every framework', () => {
    expect(new Set(queries.map((q) => q.file.replace(/\.sql$/, ''))).size).toBeGreaterThanOrEqual(8);
  });

  it('answers every one', async () => {
    const refused: string[] = [];
    for (const q of queries) {
      try {
        await (q.protocol === 'extended' ? c.query({ text: q.text, values: [...q.values] }) : c.query(q.text));
      } catch (e) {
        refused.push(`${q.file}: ${(e as Error).message}\n  ${q.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
    }
    expect(refused).toEqual([]);
  });
});
