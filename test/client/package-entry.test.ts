/**
 * `allot/client` is an entry of its own: an app that only talks to allot loads the client and
 * pg, not the server's SQL parser, logger or metrics. Checked on the import graph of the source
 * (runtime imports only: `import type` is erased) and on package.json's `exports`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runtimeClosure } from '../helpers/imports.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the allot/client entry', () => {
  it('loads pg and nothing of the server', () => {
    const { packages, files } = runtimeClosure(join(root, 'src/client/index.ts'));
    expect([...packages].sort()).toEqual(['pg']);
    expect([...files].map((f) => relative(root, f))).toEqual(['src/client/index.ts']);
  });

  it('the server does load the parser, logger and metrics (the check sees them)', () => {
    const { packages } = runtimeClosure(join(root, 'src/main.ts'));
    for (const p of ['pgsql-ast-parser', 'pino', 'prom-client']) expect(packages).toContain(p);
  });

  it('is exported by package.json, next to the server entry', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    // What tsconfig.build.json emits for each source file.
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions?: { outDir?: string } };
    expect(build.compilerOptions?.outDir ?? 'dist').toBe('dist');
  });

  it('pg-protocol is only a test dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('pg-protocol');
    expect(Object.keys(pkg.devDependencies)).toContain('pg-protocol');
    const { packages } = runtimeClosure(join(root, 'src/index.ts'));
    expect(packages).not.toContain('pg-protocol');
  });
});
