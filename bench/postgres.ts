/**
 * A throwaway PostgreSQL for side-by-side runs: Debian's server binaries (installed with
 * apt-get if missing), initdb in a temp dir, fsync and synchronous_commit on, loopback only.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const find = (): string | null => {
    if (!existsSync(base)) return null;
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] !== undefined ? join(base, versions[0], 'bin') : null;
  };
  let bin = find();
  if (bin === null) {
    const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
    console.log('installing PostgreSQL (Debian package postgresql) for the side-by-side run…');
    execFileSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length > 0 ? ['apt-get'] : []), 'update', '-qq'], { stdio: 'inherit' });
    execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length > 0 ? ['apt-get'] : []), 'install', '-y', '-qq', 'postgresql'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    bin = find();
    if (bin === null) throw new Error('PostgreSQL installed but its binaries are not under /usr/lib/postgresql');
  }
  return bin;
}

export interface Postgres {
  readonly port: number;
  readonly user: string;
  stop(): Promise<void>;
}

export async function startPostgres(port: number): Promise<Postgres> {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'allot-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    if (asRoot) execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map((a) => `'${a}'`).join(' ')], { stdio: 'ignore' });
    else execFileSync(cmd, args, { stdio: 'ignore' });
  };
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=on',
    '-c',
    'synchronous_commit=on',
    '-c',
    'full_page_writes=on',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=256MB',
  ];
  const child: ChildProcess = asRoot
    ? spawn('su', ['postgres', '-s', '/bin/sh', '-c', [join(bin, 'postgres'), ...args].map((a) => `'${a}'`).join(' ')], { stdio: 'ignore' })
    : spawn(join(bin, 'postgres'), args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    port,
    user: 'postgres',
    async stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', 'stop']);
      } catch {
        child.kill('SIGTERM');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
