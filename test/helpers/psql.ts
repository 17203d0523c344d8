/** Runs the real psql binary against a test server. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from './server.js';

export interface PsqlResult {
  /** stdout and stderr as psql interleaves them, with `psql:<file>:<line>: ` prefixes removed. */
  readonly output: string;
  readonly code: number;
}

export function psql(
  srv: Pick<TestServer, 'port' | 'password'>,
  database: string,
  args: readonly string[],
  input?: string,
  sslmode = 'prefer',
): Promise<PsqlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'allot-psql-'));
  const file = join(dir, 'script.sql');
  const fileArgs = input !== undefined ? (writeFileSync(file, input), ['-f', file]) : [];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'sh',
      [
        '-c',
        'exec psql "$@" 2>&1',
        'psql',
        '-X',
        '-h',
        '127.0.0.1',
        '-p',
        String(srv.port),
        '-U',
        'tester',
        '-d',
        database,
        '-P',
        'pager=off',
        ...args,
        ...fileArgs,
      ],
      { env: { ...process.env, PGPASSWORD: srv.password, PGCONNECT_TIMEOUT: '10', PAGER: '', PGSSLMODE: sslmode }, timeout: 60_000 },
      (err, stdout) => {
        rmSync(dir, { recursive: true, force: true });
        if (err !== null && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ output: stdout.replace(/^psql:[^:\n]*:\d+: /gm, ''), code: err === null ? 0 : (err.code as number) });
      },
    );
    child.stdin?.end();
  });
}

/** Compares psql output with an expected text where `…` matches anything within a line. */
export function matchesExpected(actual: string, expected: string): boolean {
  const norm = (s: string): string[] =>
    s
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trim()
      .split('\n');
  const a = norm(actual);
  const e = norm(expected);
  if (a.length !== e.length) return false;
  return e.every((line, i) => {
    const re = new RegExp(
      `^${line
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return re.test(a[i]!);
  });
}
