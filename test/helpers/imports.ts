/** The runtime imports of our source files (`import type` is erased, so it does not count), for tests of the module structure. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface Imports {
  /** Source files imported, as absolute .ts paths. */
  readonly files: string[];
  /** Packages imported (`node:` modules left out), by package name. */
  readonly packages: string[];
}

/** What `file` imports at run time: `import x from`, `import { a } from`, `export … from`, `import 'm'`. */
export function runtimeImports(file: string): Imports {
  const files: string[] = [];
  const packages: string[] = [];
  const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of readFileSync(file, 'utf8').matchAll(re)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) files.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    else if (!spec.startsWith('node:')) packages.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return { files, packages };
}

/** Every source file `entry` loads at run time, itself included, and the packages they import. */
export function runtimeClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const got = runtimeImports(file);
    for (const p of got.packages) packages.add(p);
    queue.push(...got.files);
  }
  return { files, packages };
}
