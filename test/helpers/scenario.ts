/** Runs a framework scenario (a Python or Java program under test/fixtures/compat/) against a test server. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestServer } from './server.js';

export interface ScenarioRun {
  /** What it printed, line by line. */
  readonly lines: string[];
  /** Its stderr, with the exit status when it failed. */
  readonly stderr: string;
}

/** A fixture of test/fixtures/compat/ by file name. */
export function compatFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/compat/${name}`, import.meta.url));
}

/**
 * Runs `command args… host port password database [extra…]` to its end or its first failure:
 * every scenario takes the server's address, password and database after its own arguments.
 */
export function runScenario(
  srv: TestServer,
  command: string,
  args: readonly string[],
  database: string,
  extra: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<ScenarioRun> {
  return new Promise((resolve) =>
    execFile(command, [...args, '127.0.0.1', String(srv.port), srv.password, database, ...extra], { timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ lines: stdout.split('\n').filter((l) => l !== ''), stderr: err !== null ? `${err.message}\n${stderr}` : stderr }),
    ),
  );
}
