/**
 * docs/limits.md says what the code enforces: every limit of the wire and SQL layers is in its
 * table with the value the code has, so a change to one without the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { MAX_LISTEN_CHANNELS } from '../../src/tenant/session.js';
import { PLAN_BYTES_PER_TOKEN, MAX_STATEMENT_BYTES } from '../../src/sql/prepare.js';
import { PLAN_CACHE_BYTES, PLAN_CACHE_ENTRIES } from '../../src/server.js';
import { STARTUP_EVICTABLE_AFTER_MS } from '../../src/wire/admission.js';
import { OutBufferLimits } from '../../src/wire/backend.js';
import {
  CLOSE_LINGER_MS,
  END_GRACE_MS,
  MAX_PENDING_NOTIFICATIONS,
  MAX_PREPARED_STATEMENTS,
  MAX_REPLY_BACKLOG_BYTES,
  MAX_SOCKET_BACKLOG_BYTES,
} from '../../src/wire/connection.js';
import { MAX_STARTUP_PACKET_BYTES } from '../../src/wire/frame-reader.js';
import { MAX_OPEN_LOG_FILES } from '../../src/storage/open-logs.js';
import { Limits } from '../../src/engine/limits.js';
import { MAX_ADVISORY_LOCKS } from '../../src/tenant/advisory-locks.js';
import { MAX_CURSOR_ROWS, MAX_CURSORS } from '../../src/tenant/cursors.js';
import { MAX_SAVEPOINTS } from '../../src/tenant/savepoints.js';
import { MAX_COPY_BYTES } from '../../src/wire/copy.js';

const doc = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
const rows = doc.split('\n').filter((l) => l.startsWith('| '));
const defaults = loadConfig([], {});

/** The table row that mentions `key`; exactly one must. */
function row(key: string): string {
  const found = rows.filter((r) => r.includes(key));
  expect(found, `rows of docs/limits.md mentioning ${key}`).toHaveLength(1);
  return found[0]!;
}

const n = (v: number): string => v.toLocaleString('en-US');

describe('docs/limits.md', () => {
  it('names every limit of src/engine/limits.ts, with its value', () => {
    const keys = Object.keys(Limits) as (keyof typeof Limits)[];
    expect(keys.length).toBeGreaterThan(15);
    for (const key of keys) {
      const naming = rows.filter((r) => r.includes(`\`${key}\``));
      expect(naming.length, `rows of docs/limits.md naming ${key}`).toBeGreaterThan(0);
      expect(
        naming.some((r) => r.includes(n(Limits[key]))),
        `${key} = ${n(Limits[key])} in ${naming.join('\n')}`,
      ).toBe(true);
    }
  });

  it.each([
    ['ALLOT_MAX_CONNECTIONS', n(defaults.maxConnections), '53300'],
    ['ALLOT_MAX_STARTUP_CONNECTIONS', n(defaults.maxStartupConnections), '53300'],
    ['ALLOT_STARTUP_TIMEOUT_MS', `${n(defaults.startupTimeoutMs)} ms`, '08006'],
    ['ALLOT_MAX_MESSAGE_BYTES', `${n(defaults.maxMessageBytes)} bytes`, '54000'],
    ['MAX_STARTUP_PACKET_LENGTH', `${n(MAX_STARTUP_PACKET_BYTES)} bytes`, '54000'],
    ['MAX_STATEMENT_BYTES', `${n(MAX_STATEMENT_BYTES)} bytes`, '54000'],
    ['named prepared statements', n(MAX_PREPARED_STATEMENTS), '54000'],
    ['named portals', n(MAX_PREPARED_STATEMENTS), '54000'],
    ['one reply message', `${n(OutBufferLimits.maxBytes)} bytes`, '54000'],
    ['MAX_REPLY_BACKLOG_BYTES', `${n(MAX_REPLY_BACKLOG_BYTES)} bytes`, '—'],
    ['MAX_PENDING_NOTIFICATIONS', `${n(MAX_PENDING_NOTIFICATIONS)} notifications or ${n(MAX_SOCKET_BACKLOG_BYTES)} bytes`, '54000'],
    ['channels one session LISTENs to', n(MAX_LISTEN_CHANNELS), '54000'],
    ['ALLOT_MAX_TENANTS', n(defaults.maxTenants), '53400'],
    ['MAX_OPEN_LOG_FILES', n(MAX_OPEN_LOG_FILES), '—'],
    ['PLAN_CACHE_ENTRIES', `${n(PLAN_CACHE_ENTRIES)} plans and ${n(PLAN_CACHE_BYTES)} bytes`, '—'],
    ['END_GRACE_MS', `${n(END_GRACE_MS)} ms`, '—'],
    ['CLOSE_LINGER_MS', `${n(CLOSE_LINGER_MS)} ms`, '—'],
    ['MAX_SAVEPOINTS', n(MAX_SAVEPOINTS), '54000'],
    ['MAX_ADVISORY_LOCKS', n(MAX_ADVISORY_LOCKS), '53200'],
    ['MAX_CURSORS', `${n(MAX_CURSORS)} cursors and ${n(MAX_CURSOR_ROWS)} rows`, '54000'],
    ['rows one COPY FROM STDIN writes', n(Limits.maxBatchCommands), '54000'],
    ['MAX_COPY_BYTES', `${n(MAX_COPY_BYTES)} bytes`, '54000'],
  ])('has %s at %s, with %s', (key, value, code) => {
    const r = row(key);
    expect(r).toContain(value);
    expect(r).toContain(code);
  });

  it('says how plans are sized and when a connection still authenticating may be closed', () => {
    expect(row('PLAN_CACHE_BYTES')).toContain(`${PLAN_BYTES_PER_TOKEN / 1024} KiB per token`);
    expect(row('ALLOT_MAX_STARTUP_CONNECTIONS')).toContain(`at least ${STARTUP_EVICTABLE_AFTER_MS / 1000} s`);
  });
});
