/**
 * Every SQL example in README.md, run for real through psql against one fresh database, in
 * order, with its output compared to the text block that follows it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesExpected, psql } from '../helpers/psql.js';
import { startServer, type TestServer } from '../helpers/server.js';

interface Example {
  readonly sql: string;
  readonly expected: string;
  readonly line: number;
}

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  const re = /```sql\n([\s\S]*?)```\s*\n```text\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) {
    out.push({ sql: m[1]!, expected: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const all = examples(readme);
const docs = ['sql.md', 'sessions.md'].map((name) => ({ name, examples: examples(readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8')) }));

let srv: TestServer;
beforeAll(async () => {
  // The documents show what a newcomer sees: the server's defaults (instants as timestamptz).
  srv = await startServer({ times: 'timestamptz' });
});
afterAll(async () => {
  await srv.close();
});

describe('README examples through psql', () => {
  it('has examples, and every sql block is followed by its output', () => {
    expect(all.length).toBeGreaterThan(10);
    expect((readme.match(/```sql\n/g) ?? []).length).toBe(all.length);
  });

  it('prints exactly what the README shows, example after example', async () => {
    for (const ex of all) {
      const { output } = await psql(srv, 'readme', [], ex.sql);
      if (!matchesExpected(output, ex.expected)) {
        expect(`README.md line ${ex.line}:\n${output}`).toBe(`README.md line ${ex.line}:\n${ex.expected}`);
      }
    }
  });
});

describe('docs/ examples through psql', () => {
  for (const doc of docs) {
    it(`docs/${doc.name} prints what it shows`, async () => {
      expect(doc.examples.length).toBeGreaterThan(0);
      for (const ex of doc.examples) {
        const { output } = await psql(srv, `docs_${doc.name.replace(/\W/g, '_')}`, [], ex.sql);
        if (!matchesExpected(output, ex.expected)) {
          expect(`docs/${doc.name} line ${ex.line}:\n${output}`).toBe(`docs/${doc.name} line ${ex.line}:\n${ex.expected}`);
        }
      }
    });
  }
});

describe('the README program example', () => {
  it('runs with node and pg against the server', async () => {
    const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const c = await srv.client('shop1');
    await c.query(`INSERT INTO resources (id) VALUES ('room-1')`);
    await c.query(`INSERT INTO bookings (resource_id, start, "end") VALUES ('room-1', '2026-03-02T14:30:00Z', '2026-03-02T15:30:00Z')`);
    const program = `${block!.replace('postgres://app:allot@127.0.0.1:5433/shop1', srv.url('shop1'))}\nawait client.end();\n`;
    const dir = mkdtempSync(join(process.cwd(), '.readme-example-'));
    try {
      writeFileSync(join(dir, 'example.mjs'), program);
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [join(dir, 'example.mjs')], { timeout: 30_000 }, (err, stdout, stderr) =>
          err !== null ? reject(new Error(stderr)) : resolve(stdout),
        ),
      );
      expect(out).toContain('taken by');
      expect(out).toContain("resource_id: 'room-1'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the README client example', () => {
  it('runs with tsx against the server: a booking, a refusal with its conflicts, free time, and the events', async () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const c = await srv.client('client_example');
    await c.query(`INSERT INTO resources (id) VALUES ('room-1')`);
    const entry = new URL('../../src/client/index.ts', import.meta.url).pathname;
    const program = block!.replace("from 'allot/client'", `from '${entry}'`).replace('postgres://app:allot@127.0.0.1:5433/shop1', srv.url('client_example'));
    expect(program).not.toBe(block);
    const dir = mkdtempSync(join(process.cwd(), '.readme-example-'));
    try {
      writeFileSync(join(dir, 'example.ts'), program);
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', join(dir, 'example.ts')], { timeout: 30_000 }, (err, stdout, stderr) =>
          err !== null ? reject(new Error(stderr)) : resolve(stdout),
        ),
      );
      expect(out).toMatch(/^booked [0-9A-Z]{26} 1772467200000$/m);
      expect(out).toContain("taken by [ 'booking' ]");
      expect(out).toContain('free [ [ 1772463600000, 1772467200000 ], [ 1772470800000, 1772474400000 ] ]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('psql -c', () => {
  it('runs statements given with -c, and reports errors with their SQLSTATE in verbose mode', async () => {
    const ok = await psql(srv, 'psql_c', ['-c', `INSERT INTO resources (id) VALUES ('r1')`, '-c', `SELECT id, capacity FROM resources`]);
    expect(ok.code).toBe(0);
    expect(matchesExpected(ok.output, 'INSERT 0 1\n id | capacity\n----+----------\n r1 |        1\n(1 row)')).toBe(true);
    const bad = await psql(srv, 'psql_c', ['-v', 'VERBOSITY=verbose', '-c', `INSERT INTO resources (id) VALUES ('r1')`]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('ERROR:  23505: resource "r1" already exists');
  });

  it('runs a -c string of several statements as one transaction', async () => {
    const r = await psql(srv, 'psql_multi', ['-c', `INSERT INTO resources (id) VALUES ('a'); INSERT INTO resources (id) VALUES ('a')`]);
    expect(r.code).toBe(1);
    const count = await psql(srv, 'psql_multi', ['-t', '-A', '-c', 'SELECT count(*) FROM resources']);
    expect(count.output.trim()).toBe('0');
  });
});
