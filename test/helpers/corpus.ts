/**
 * The statements frameworks send, captured from PostgreSQL (test/fixtures/compat/queries/*.sql):
 * read into entries that a test replays against allot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CorpusEntry {
  readonly file: string;
  readonly kind: string;
  readonly protocol: 'simple' | 'extended';
  readonly text: string;
  /** For extended entries: the first values bound, as text (null for NULL). */
  readonly values: readonly (string | null)[];
}

const DIR = fileURLToPath(new URL('../fixtures/compat/queries/', import.meta.url));

/** Reads a `first values: 'a', 'b', NULL, 3` list. */
function parseValues(line: string): (string | null)[] {
  const out: (string | null)[] = [];
  const re = /\s*(?:'((?:[^']|'')*)'|(NULL|None)|([^,]+))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0] !== '') {
    if (m[1] !== undefined) out.push(m[1].replace(/''/g, "'"));
    else if (m[2] !== undefined) out.push(null);
    else out.push(m[3]!.trim());
  }
  return out;
}

export function readCorpus(): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const chunks = readFileSync(join(DIR, file), 'utf8').split(/^-- next$/m);
    for (const chunk of chunks) {
      const lines = chunk.split('\n');
      // Two layouts: `-- kind: catalog/session` … `first values: 'a', 'b'`, and `-- [catalog]` …
      // `-- parameters as sent: $1 = 'a', $2 = 'b'`.
      const kind = (/^-- kind: ([^;]+)/m.exec(chunk)?.[1] ?? /^-- \[(\w+)\]/m.exec(chunk)?.[1] ?? '').trim();
      const protocol = /^-- (sent as: Parse|protocol: extended)/m.test(chunk) ? 'extended' : 'simple';
      const valuesLine = /first values: (.*)$/m.exec(chunk)?.[1] ?? /^-- parameters as sent: (.*)$/m.exec(chunk)?.[1]?.replace(/\$\d+ = /g, '');
      const text = lines
        .filter((l) => !l.startsWith('-- '))
        .join('\n')
        .trim();
      if (text === '' || kind === '') continue;
      entries.push({ file, kind, protocol, text, values: valuesLine === undefined ? [] : parseValues(valuesLine) });
    }
  }
  return entries;
}

export function corpusDir(): string {
  return DIR;
}
