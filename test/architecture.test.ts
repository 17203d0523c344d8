/**
 * The layers README's Architecture section draws are the ones the code has: which folder of src/
 * may load which at run time (`import type` is erased and does not count). A new edge fails here
 * until the picture and this list say it too.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runtimeImports } from './helpers/imports.js';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Each folder's runtime imports of other folders (and of src/errors.ts, shared by all). */
const LAYERS: Record<string, string[]> = {
  wire: ['errors.ts', 'sql', 'tenant'],
  tenant: ['engine', 'errors.ts', 'notify', 'sql', 'storage'],
  sql: ['engine', 'errors.ts'],
  storage: ['engine', 'errors.ts'],
  engine: ['errors.ts'],
  notify: [],
  client: [],
  cli: ['sql'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** A file's layer: its folder under src/, or its own name for a file at the top. */
const layerOf = (file: string): string => relative(src, file).split('/')[0]!;

describe('the layers of src/', () => {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(src)) {
    const from = layerOf(file);
    if (!(from in LAYERS)) continue;
    const to = edges.get(from) ?? new Set<string>();
    edges.set(from, to);
    for (const target of runtimeImports(file).files) if (layerOf(target) !== from) to.add(layerOf(target));
  }

  it('covers every folder of src/', () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.sort()).toEqual(Object.keys(LAYERS).sort());
  });

  for (const [layer, allowed] of Object.entries(LAYERS)) {
    it(`${layer}/ loads only ${allowed.length === 0 ? 'packages' : allowed.join(', ')}`, () => {
      expect([...(edges.get(layer) ?? [])].sort()).toEqual(allowed);
    });
  }

  it('has no cycle between layers', () => {
    const seen = new Set<string>();
    const visit = (layer: string, path: string[]): void => {
      if (path.includes(layer)) throw new Error(`cycle: ${[...path, layer].join(' -> ')}`);
      if (seen.has(layer)) return;
      for (const next of LAYERS[layer] ?? []) visit(next, [...path, layer]);
      seen.add(layer);
    };
    for (const layer of Object.keys(LAYERS)) expect(() => visit(layer, [])).not.toThrow();
  });
});
