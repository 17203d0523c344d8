/**
 * Connections that have not authenticated cannot take the slots of real clients: a session slot
 * (ALLOT_MAX_CONNECTIONS) is counted only once a client has proved its password, and connections
 * still authenticating have a bound of their own (ALLOT_MAX_STARTUP_CONNECTIONS). When that is
 * full, the one that has waited longest, from the address holding the most, is closed to make
 * room, so a crowd of silent sockets never locks a real client out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { pgError, startServer, type TestServer } from '../helpers/server.js';

const open: RawClient[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});

/** `n` sockets that send a startup packet and then never answer the password request. */
async function hangers(srv: TestServer, n: number, localAddress = '127.0.0.1'): Promise<RawClient[]> {
  const cs = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = await RawClient.connect(srv.port, { localAddress });
      c.send(serialize.startup({ user: 'mallory', database: 'test' }));
      return c;
    }),
  );
  open.push(...cs);
  // Every one of them has been asked for its password (or refused).
  for (const c of cs) await c.next('authenticationSASL').catch(() => undefined);
  return cs;
}

async function realClient(srv: TestServer): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'alice', password: srv.password, database: 'test' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function canWork(srv: TestServer): Promise<void> {
  const c = await realClient(srv);
  expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  await c.end();
}

describe('unauthenticated connections', () => {
  it('do not count against ALLOT_MAX_CONNECTIONS: 50 silent ones on a server of 50 slots, and a real client still gets in', async () => {
    const srv = await startServer({ maxConnections: 50 });
    try {
      await hangers(srv, 50);
      expect(srv.server.connectionCount).toBe(0);
      await canWork(srv);
      // And the 50 slots are all there for real clients.
      const fifty = await Promise.all(Array.from({ length: 50 }, () => realClient(srv)));
      expect(srv.server.connectionCount).toBe(50);
      const refused = await pgError(realClient(srv));
      expect(refused.code).toBe('53300');
      await Promise.all(fifty.map((c) => c.end()));
    } finally {
      await srv.close();
    }
  });

  it('beyond the startup bound (300 silent ones, default settings), the longest waiting is closed with 53300 and a real client gets in', async () => {
    const srv = await startServer({});
    try {
      const hung = await hangers(srv, 300);
      // Some were refused at once (the bound is full of young connections), never a real client's slot.
      await sleep(1_100);
      await canWork(srv);
      await canWork(srv);
      const told = hung.filter((c) => c.errors().some((e) => e.code === '53300'));
      expect(told.length).toBeGreaterThan(0);
      for (const c of told) expect(c.errors().map((e) => `${e.severity} ${e.code}`)).toEqual(['FATAL 53300']);
      expect(srv.server.connectionCount).toBe(0);
    } finally {
      await srv.close();
    }
  }, 30_000);

  it('are made room for from the address holding the most of them, not from a client that is merely slow', async () => {
    const srv = await startServer({ maxStartupConnections: 20 });
    try {
      // A real client from 127.0.0.1, slow to answer its challenge.
      const slow = await RawClient.connect(srv.port);
      open.push(slow);
      slow.send(serialize.startup({ user: 'alice', database: 'test' }));
      await slow.next('authenticationSASL');
      // A crowd from 127.0.0.2 fills the bound.
      const crowd = await hangers(srv, 19, '127.0.0.2');
      await sleep(1_100);
      // More of the crowd arrive: room is made from the crowd's own address.
      crowd.push(...(await hangers(srv, 10, '127.0.0.2')));
      await canWork(srv);
      expect(crowd.filter((c) => c.errors().some((e) => e.code === '53300')).length).toBeGreaterThanOrEqual(10);
      expect(slow.isOpen).toBe(true);
      expect(slow.errors()).toEqual([]);
      open.splice(open.indexOf(slow), 1);
      slow.destroy();
    } finally {
      await srv.close();
    }
  }, 30_000);
});
