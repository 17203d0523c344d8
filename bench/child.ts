/** The real server as a child process for a benchmark, on a data directory of its own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BenchServer {
  readonly port: number;
  /** SIGTERM; resolves with everything the server logged once it has exited. */
  stop(): Promise<string>;
}

/** The built server (npm run bench), or the sources through tsx (a bench run alone with tsx). */
function serverArgs(): string[] {
  const js = fileURLToPath(new URL('../src/main.js', import.meta.url));
  return existsSync(js) ? [js] : ['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url))];
}

/** Starts allot on a free port; resolves once it listens. */
export function startBenchServer(dataDir: string, password: string): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, [...serverArgs(), '--port', '0', '--data-dir', dataDir, '--password', password, '--log-level', 'info'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /"port":(\d+).*"msg":"allot is listening"/.exec(err);
      if (m !== null) {
        resolve({
          port: Number(m[1]),
          stop: () =>
            new Promise((res) => {
              child.once('exit', () => res(err));
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}
