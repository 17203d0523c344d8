/**
 * The outside clients the tests drive allot with: psql, pg_isready, pgbench and psycopg2.
 *
 * `npm test` runs this file first (and vitest's global setup runs it again, for a direct
 * `npx vitest run <file>`). When everything is there it costs one parallel round of
 * `--version` calls. When something is missing it installs it with apt-get if it can (root,
 * or passwordless sudo), saying so in one line; otherwise it fails at once with one line
 * naming the apt-get command. A test never skips for want of a client.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const APT_GET = '/usr/bin/apt-get';

/**
 * Debian's python, where apt installs psycopg2 (a pyenv python may shadow it on PATH). On an
 * apt machine it is used even before it exists: installing python3-psycopg2 brings it.
 */
export const PYTHON = existsSync('/usr/bin/python3') || existsSync(APT_GET) ? '/usr/bin/python3' : 'python3';

interface Client {
  readonly name: string;
  readonly command: readonly [string, ...string[]];
  /** The Debian package that provides it. */
  readonly aptPackage: string;
}

// pgbench is in the server package (postgresql-15 through the postgresql metapackage), not in
// postgresql-client. /usr/bin/pgbench and /usr/bin/psql are postgresql-client-common's
// pg_wrapper, present without the real binary, so each is run rather than looked up on PATH.
const CLIENTS: readonly Client[] = [
  { name: 'psql', command: ['psql', '--version'], aptPackage: 'postgresql-client' },
  { name: 'pg_isready', command: ['pg_isready', '--version'], aptPackage: 'postgresql-client' },
  { name: 'pgbench', command: ['pgbench', '--version'], aptPackage: 'postgresql' },
  { name: `psycopg2 for ${PYTHON}`, command: [PYTHON, '-c', 'import psycopg2'], aptPackage: 'python3-psycopg2' },
];

/** Installing takes a while on a cold machine: apt-get update and the server package. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** Another test run may be installing at the same moment; wait for its dpkg lock. */
const APT_LOCK_TIMEOUT_S = 300;
/** A `--version` answers at once; this is for a machine busy with other tests. */
const CHECK_TIMEOUT_MS = 10_000;
/** apt-get's output, kept to show if it fails. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** What ensureClients throws: one line saying what to install. */
export class ClientsMissing extends Error {
  override readonly name = 'ClientsMissing';
}

interface Run {
  readonly ok: boolean;
  readonly output: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = CHECK_TIMEOUT_MS): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES }, (err: ExecFileException | null, stdout, stderr) => resolve({ ok: err === null, output: `${stdout}${stderr}` }));
  });
}

async function missing(): Promise<Client[]> {
  const found = await Promise.all(CLIENTS.map((c) => run(c.command[0], c.command.slice(1))));
  return CLIENTS.filter((_, i) => !found[i]!.ok);
}

/** `[]` as root, `['sudo', '-n']` with passwordless sudo, null when apt-get cannot be run. */
async function aptPrefix(): Promise<string[] | null> {
  if (!existsSync(APT_GET)) return null;
  if (process.getuid?.() === 0) return [];
  return (await run('sudo', ['-n', 'true'])).ok ? ['sudo', '-n'] : null;
}

async function apt(prefix: readonly string[], args: readonly string[]): Promise<Run> {
  const argv = [...prefix, APT_GET, '-o', `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`, ...args];
  return run(argv[0]!, argv.slice(1), { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, INSTALL_TIMEOUT_MS);
}

function names(clients: readonly Client[]): string {
  return clients.map((c) => c.name).join(', ');
}

/** Makes every client present, or throws ClientsMissing with the one line to show. */
export async function ensureClients(): Promise<void> {
  const absent = await missing();
  if (absent.length === 0) return;
  const packages = [...new Set(absent.map((c) => c.aptPackage))];
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...packages];
  const prefix = await aptPrefix();
  if (prefix === null) {
    const them = packages.length === 1 ? 'it' : 'them';
    const how = existsSync(APT_GET)
      ? `install ${them} as root with: apt-get install -y ${packages.join(' ')} (npm test does this itself when run as root)`
      : `install PostgreSQL's client tools (psql, pg_isready, pgbench) and psycopg2 for ${PYTHON}`;
    throw new ClientsMissing(`allot tests: missing ${names(absent)}; ${how}`);
  }
  const sudo = prefix.length > 0 ? 'sudo ' : '';
  process.stderr.write(`allot tests: missing ${names(absent)}; installing ${packages.join(' ')} (${sudo}apt-get install, once on this machine)\n`);
  // The package lists a machine arrives with may be too old to install from: update only then.
  let result = await apt(prefix, install);
  if (!result.ok) {
    const update = await apt(prefix, ['update', '-qq']);
    result = update.ok ? await apt(prefix, install) : update;
  }
  const still = await missing();
  if (still.length > 0) {
    if (!result.ok) process.stderr.write(result.output);
    const left = [...new Set(still.map((c) => c.aptPackage))].join(' ');
    throw new ClientsMissing(`allot tests: installing did not bring ${names(still)}; run: ${sudo}apt-get update && ${sudo}apt-get install -y ${left}`);
  }
}

/**
 * ensureClients, or its one line on stderr and exit code 1. Thrown instead, the line would
 * come wrapped: in a stack trace here, in vitest's "No test files found" and an error banner
 * from its global setup.
 */
export async function ensureClientsOrExit(): Promise<void> {
  try {
    await ensureClients();
  } catch (err) {
    if (!(err instanceof ClientsMissing)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await ensureClientsOrExit();
