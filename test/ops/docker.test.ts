/**
 * docker/ cannot be built here (no Docker engine on this machine), so it is kept honest by
 * reading and by running its parts: what the Dockerfile copies exists, its build step's tsc
 * makes the file its entry point (the package's bin) names, every ALLOT_* variable it and the
 * compose file set is one allot knows, and its health check (pg_isready) really answers
 * "accepting connections" against allot.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { startServer } from '../helpers/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${root}docker/Dockerfile`, 'utf8');
const compose = readFileSync(`${root}docker/compose.yaml`, 'utf8');
const known = new Set(OPTIONS.map((o) => o.env));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: Record<string, string> };

describe('docker/', () => {
  it('copies only what exists, and starts the package bin', () => {
    // Continuation lines joined, comments dropped.
    const lines = dockerfile
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'));
    const copies = lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const l of copies) {
      const parts = l.trim().split(/\s+/).slice(1, -1);
      for (const p of parts) expect(existsSync(`${root}${p}`), `${p} (${l.trim()})`).toBe(true);
    }
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${pkg.bin.allot}"]`);
    // The build stage's output (that it holds the bin: the next test).
    expect(dockerfile).toContain('COPY --from=build /app/dist/src ./dist/src');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/FROM node:20-bookworm-slim AS build[\s\S]*FROM node:20-bookworm-slim\n/);
  });

  it("builds the package bin with its build stage's tsc", async () => {
    // Run here into a temp dir, not ./dist: a fresh clone has none, and a stale one proves nothing.
    const project = /^RUN npx tsc -p (\S+) /m.exec(dockerfile)?.[1];
    expect(project).toBeDefined();
    const tsc = (args: string[]): Promise<string> =>
      new Promise((resolve, reject) =>
        execFile(
          process.execPath,
          [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}${project!}`, ...args],
          { timeout: 60_000 },
          (err, stdout, stderr) => (err !== null ? reject(new Error(`tsc ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`)) : resolve(stdout)),
        ),
      );
    const outDir = (JSON.parse(await tsc(['--showConfig'])) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
    const bin = pkg.bin.allot!;
    const inOut = relative(join(root, outDir), join(root, bin));
    expect(inOut.startsWith('..'), `${bin} is outside the build's outDir ${outDir}`).toBe(false);
    const out = mkdtempSync(join(tmpdir(), 'allot-docker-build-'));
    try {
      await tsc(['--outDir', out]);
      expect(existsSync(join(out, inOut)), `${inOut} in the build output`).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('sets only variables allot knows', () => {
    const used = [...`${dockerfile}\n${compose}`.matchAll(/\b(ALLOT_[A-Z_]+)\b/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(5);
    for (const v of used) expect(known.has(v), v).toBe(true);
  });

  it('checks health with pg_isready, which allot answers as accepting connections', async () => {
    expect(dockerfile).toContain('CMD pg_isready -q -h 127.0.0.1 -p "$ALLOT_PORT" || exit 1');
    const srv = await startServer();
    try {
      const code = await new Promise<number>((resolve) =>
        execFile('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(srv.port)], (err) =>
          resolve(err === null ? 0 : Number((err as { code?: number }).code ?? 1)),
        ),
      );
      expect(code).toBe(0);
      // It opened no database and started no session.
      expect(srv.server.connectionCount).toBe(0);
    } finally {
      await srv.close();
    }
  });
});
