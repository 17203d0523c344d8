/**
 * docker/ cannot be built here (no Docker engine on this machine), so it is kept honest by
 * reading: what the Dockerfile copies exists, its entry point is the package's bin, every
 * ALLOT_* variable it and the compose file set is one allot knows, and its health check
 * (pg_isready) really answers "accepting connections" against allot.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { startServer } from '../helpers/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${root}docker/Dockerfile`, 'utf8');
const compose = readFileSync(`${root}docker/compose.yaml`, 'utf8');
const known = new Set(OPTIONS.map((o) => o.env));

describe('docker/', () => {
  it('copies only what exists, and starts the package bin', () => {
    // Continuation lines joined, comments dropped.
    const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => !l.trimStart().startsWith('#'));
    const copies = lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const l of copies) {
      const parts = l.trim().split(/\s+/).slice(1, -1);
      for (const p of parts) expect(existsSync(`${root}${p}`), `${p} (${l.trim()})`).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: Record<string, string> };
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${pkg.bin.allot}"]`);
    // The build stage's output: what `npm run build` makes (CI builds before testing).
    expect(dockerfile).toContain('COPY --from=build /app/dist/src ./dist/src');
    expect(existsSync(`${root}${pkg.bin.allot}`)).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/FROM node:20-bookworm-slim AS build[\s\S]*FROM node:20-bookworm-slim\n/);
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
        execFile('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(srv.port)], (err) => resolve(err === null ? 0 : Number((err as { code?: number }).code ?? 1))),
      );
      expect(code).toBe(0);
      // It opened no database and started no session.
      expect(srv.server.connectionCount).toBe(0);
    } finally {
      await srv.close();
    }
  });
});
