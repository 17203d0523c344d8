/** The real server as a child process (for crash tests: SIGKILL, restart, check). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the server wrote to stderr (its pino log). */
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `allot` on a free port with `dataDir`; resolves once it listens, rejects if it exits
 * first. `fileLimit`: the server runs under `ulimit -n` of that many descriptors.
 */
export function startChild(dataDir: string, password: string, env: Record<string, string> = {}, opts: { fileLimit?: number } = {}): Promise<ChildServer> {
  const argv = [process.execPath, '--import', 'tsx', MAIN, '--port', '0', '--data-dir', dataDir, '--password', password, '--log-level', 'info'];
  // bash sets the limit, then becomes the server (exec): the child's pid is the server's.
  const [command, ...args] = opts.fileLimit === undefined ? argv : ['bash', '-c', `ulimit -n ${opts.fileLimit} && exec "$@"`, 'bash', ...argv];
  const child = spawn(command!, args, {
    // These tests read instants back as the milliseconds they wrote (allot.times = ms).
    env: { ...process.env, ALLOT_CHECK_INVARIANTS: '1', ALLOT_TIMES: 'ms', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${err}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /"port":(\d+).*"msg":"allot is listening"/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(m[1]),
          stderr: () => err,
          kill: async (signal) => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`server exited with ${code} before listening:\n${err}`), { exitCode: code, stderr: err }));
    });
  });
}
