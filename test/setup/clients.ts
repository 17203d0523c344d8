/**
 * The outside clients the tests drive allot with: psql, pg_isready, pgbench, psycopg2, and the
 * stacks of test/compat: SQLAlchemy, psycopg 3 and asyncpg for Debian's python, pgjdbc with a JDK,
 * and a venv with SQLAlchemy 2.0 over psycopg 3 and psycopg2 (COMPAT_PYTHON).
 *
 * `npm test` runs this file first (and vitest's global setup runs it again, for a direct
 * `npx vitest run <file>`). When everything is there it costs one parallel round of
 * `--version` calls and imports. When something is missing it installs it with apt-get if it
 * can (root, or passwordless sudo), and the venv with pip, saying so in one line each;
 * otherwise it fails at once with one line naming what to run. A test never skips for want of
 * a client.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const APT_GET = '/usr/bin/apt-get';

/**
 * Debian's python, where apt installs psycopg2 (a pyenv python may shadow it on PATH). On an
 * apt machine it is used even before it exists: installing python3-psycopg2 brings it.
 */
export const PYTHON = existsSync('/usr/bin/python3') || existsSync(APT_GET) ? '/usr/bin/python3' : 'python3';

/** Debian's pgjdbc (libpostgresql-jdbc-java), the class path of the Java tests. */
export const PGJDBC_JAR = '/usr/share/java/postgresql.jar';

/** SQLAlchemy 2 for test/compat, which Debian bookworm does not package: a venv of PYTHON's in the repository (.gitignore'd). */
export const COMPAT_VENV = fileURLToPath(new URL('../../.venv-compat', import.meta.url));

/** The venv's python: SQLAlchemy 2.0 with psycopg 3 (C implementation) and psycopg2, exactly COMPAT_PINS. */
export const COMPAT_PYTHON = join(COMPAT_VENV, 'bin', 'python');

/** What pip installs into the venv, from the wheels its own configuration finds (on this image /opt/pypi; PyPI is not needed). */
const COMPAT_PINS = ['SQLAlchemy==2.0.54', 'psycopg[binary]==3.3.6', 'psycopg2-binary==2.9.13'] as const;

/** Prints the venv's versions spelled as COMPAT_PINS (psycopg's pq implementation is "binary" from psycopg-binary). */
const COMPAT_VERSIONS =
  "import sqlalchemy, psycopg, psycopg2; print(f'SQLAlchemy=={sqlalchemy.__version__} psycopg[{psycopg.pq.__impl__}]=={psycopg.__version__} psycopg2-binary=={psycopg2.__version__.split()[0]}')";

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
  // Debian's python makes venvs only with python3-venv (ensurepip and the pip wheel it installs).
  { name: `venv for ${PYTHON}`, command: [PYTHON, '-c', 'import ensurepip'], aptPackage: 'python3-venv' },
  // Debian bookworm's SQLAlchemy is 1.4 (the tests use its 2.0-style API); psycopg is 3.1.
  { name: `SQLAlchemy for ${PYTHON}`, command: [PYTHON, '-c', 'import sqlalchemy'], aptPackage: 'python3-sqlalchemy' },
  { name: `psycopg 3 for ${PYTHON}`, command: [PYTHON, '-c', 'import psycopg'], aptPackage: 'python3-psycopg' },
  { name: `asyncpg for ${PYTHON}`, command: [PYTHON, '-c', 'import asyncpg'], aptPackage: 'python3-asyncpg' },
  // The Java tests launch a single source file, which takes a JDK (its compiler), not a JRE.
  { name: 'a JDK (javac)', command: ['javac', '-version'], aptPackage: 'default-jdk-headless' },
  { name: 'pgjdbc', command: ['test', '-r', PGJDBC_JAR], aptPackage: 'libpostgresql-jdbc-java' },
];

/** Installing takes a while on a cold machine: apt-get update and the server package. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** Another test run may be installing at the same moment; wait for its dpkg lock. */
const APT_LOCK_TIMEOUT_S = 300;
/** A `--version` answers at once; this is for a machine busy with other tests. */
const CHECK_TIMEOUT_MS = 10_000;
/** apt-get's output, kept to show if it fails. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** How often a run waiting for another's venv looks whether it is done. */
const LOCK_POLL_MS = 500;

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
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES }, (err: ExecFileException | null, stdout, stderr) =>
      resolve({ ok: err === null, output: `${stdout}${stderr}` }),
    );
  });
}

async function missing(): Promise<Client[]> {
  const found = await Promise.all(CLIENTS.map((c) => run(c.command[0], c.command.slice(1))));
  return CLIENTS.filter((_, i) => !found[i]!.ok);
}

/** Whether the venv holds exactly COMPAT_PINS; false when it is absent, broken or other versions. */
async function compatVenvReady(): Promise<boolean> {
  const versions = await run(COMPAT_PYTHON, ['-c', COMPAT_VERSIONS]);
  return versions.ok && versions.output.split('\n').includes(COMPAT_PINS.join(' '));
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
  const [absent, venvReady] = await Promise.all([missing(), compatVenvReady()]);
  await ensureAptClients(absent);
  if (!venvReady) await ensureCompatVenv();
}

/** Installs the absent clients with apt-get, or throws ClientsMissing. */
async function ensureAptClients(absent: readonly Client[]): Promise<void> {
  if (absent.length === 0) return;
  const packages = [...new Set(absent.map((c) => c.aptPackage))];
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...packages];
  const prefix = await aptPrefix();
  if (prefix === null) {
    const them = packages.length === 1 ? 'it' : 'them';
    const how = existsSync(APT_GET)
      ? `install ${them} as root with: apt-get install -y ${packages.join(' ')} (npm test does this itself when run as root)`
      : `install PostgreSQL's client tools (psql, pg_isready, pgbench), psycopg2, psycopg 3, SQLAlchemy, asyncpg and venv for ${PYTHON}, a JDK and pgjdbc (${PGJDBC_JAR})`;
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
 * Makes the venv afresh (`venv --clear`: nothing but COMPAT_PINS and what they need) and pip
 * installs COMPAT_PINS into it with pip's own configuration, or throws ClientsMissing. This
 * machine's pip.conf has the local wheels as an extra index, so PyPI stays pip's first index:
 * `--retries 0` makes an unreachable PyPI cost one failed look-up per package, not five
 * retries (some 45 s in all).
 */
async function ensureCompatVenv(): Promise<void> {
  const pins = COMPAT_PINS.join(' ');
  await withLock(`${COMPAT_VENV}.lock`, async () => {
    if (await compatVenvReady()) return; // another run made it while this one waited
    process.stderr.write(
      `allot tests: missing ${pins} in ${COMPAT_VENV}; creating it (${PYTHON} -m venv, then pip install from pip's configured index, once on this machine)\n`,
    );
    const venv = await run(PYTHON, ['-m', 'venv', '--clear', COMPAT_VENV], process.env, INSTALL_TIMEOUT_MS);
    if (!venv.ok) {
      process.stderr.write(venv.output);
      throw new ClientsMissing(`allot tests: ${PYTHON} -m venv ${COMPAT_VENV} failed; for Debian's python3 run: apt-get install -y python3-venv`);
    }
    const pip = await run(COMPAT_PYTHON, ['-m', 'pip', 'install', '--no-input', '--retries', '0', ...COMPAT_PINS], process.env, INSTALL_TIMEOUT_MS);
    if (!pip.ok || !(await compatVenvReady())) {
      process.stderr.write(
        pip.output
          .split('\n')
          .filter((l) => l.startsWith('ERROR'))
          .map((l) => `${l}\n`)
          .join(''),
      );
      throw new ClientsMissing(
        `allot tests: pip could not install ${pins} into ${COMPAT_VENV}; if it found no such wheels, make them reachable through pip's configuration (pip config list: an index-url, extra-index-url or find-links holding them), then run npm test again`,
      );
    }
  });
}

/**
 * Runs `fn` holding a lock file, which two cold test runs at once would otherwise both be
 * building the venv under: the second waits for the first. A lock whose process has died is
 * taken over.
 */
async function withLock(path: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  for (;;) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(String(process.pid));
      await file.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!alive(Number(await readFile(path, 'utf8').catch(() => '')))) await rm(path, { force: true });
    else if (Date.now() > deadline) throw new ClientsMissing(`allot tests: still waiting for the run that holds ${path}; if none is running, remove it`);
    else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/** Whether a process of that id is running (a lock being written has no id yet: counted as alive). */
function alive(pid: number): boolean {
  if (Number.isNaN(pid) || pid === 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
