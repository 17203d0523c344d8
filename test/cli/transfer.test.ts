/**
 * `allot export` and `allot import` as processes, between two real servers: a database with
 * every kind of row (and values that need quoting) goes out as SQL and as JSON lines, comes back
 * through `allot import` and through `psql -f`, and is the same, row for row; its export from
 * the new server is the export it came from.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from '../helpers/dump.js';
import { psql } from '../helpers/psql.js';
import { startServer, type TestServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'allot-transfer-'));
const H = 3_600_000;
const now = Date.now();

function allot(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startServer();
  b = await startServer();
  const c = await a.client('source');
  await c.query(`INSERT INTO resources (id, name, capacity, buffer_before, buffer_after, capabilities) VALUES
    ('site', 'Site "North"', 0, 0, 0, '{}'),
    ('studio', 'It''s the studio', 2, 60000, 900000, '{"night vision",4k,"a,b","quote\\"d"}'),
    ('rig', 'Rïg ✓', 1, 0, 0, '{}')`);
  await c.query(`UPDATE resources SET parent_id = 'site' WHERE id IN ('studio', 'rig')`);
  await c.query(`INSERT INTO policies (id, name, min_duration, max_duration, book_ahead, max_bookings, max_usage, starts_within, allow_start_in_past)
    VALUES ('lab', 'Lab; course', 60000, 7200000, 30 * 86400000, 3, 4 * 3600000, NULL, NULL), ('open', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  await c.query(
    `INSERT INTO rules (id, resource_id, start, "end", blocking, policy_id) VALUES
    ('site-open', 'site', $1, $2, false, NULL),
    ('lab-only', 'rig', $1, $2, false, 'lab'),
    ('closed', 'studio', $3, $4, true, NULL)`,
    [now - 10 * 86_400_000, now + 60 * 86_400_000, now + 5 * H, now + 6 * H],
  );
  await c.query(
    `INSERT INTO bookings (id, resource_id, start, "end", label, capabilities, user_id, policy_id, group_id) VALUES
    ('b1', 'studio', $1, $2, 'line one
line two', '{4k}', 'ann', NULL, 'g'),
    ('b2', 'studio', $3, $4, NULL, '{"night vision"}', NULL, NULL, 'g'),
    ('b3', 'rig', $5, $6, '☃ -- not a comment', '{}', 'ann', 'lab', NULL),
    ('past', 'rig', $7, $8, 'over', '{}', 'ann', 'lab', NULL)`,
    [now + H, now + 2 * H, now + 3 * H, now + 4 * H, now + 2 * H, now + 3 * H, now - 3 * H, now - 2 * H],
  );
  await c.query(
    `INSERT INTO holds (id, resource_id, start, "end", expires_at, label, capabilities, user_id, policy_id) VALUES
    ('h1', 'rig', $1, $2, $3, 'cart', '{}', 'bob', 'lab')`,
    [now + 4 * H, now + 5 * H, now + 24 * H],
  );
  await c.query(`INSERT INTO outages (id, resource_id, start, "end", capabilities, reason) VALUES ('service', 'studio', $1, $2, '{4k}', 'lens')`, [
    now + 10 * H,
    now + 11 * H,
  ]);
  await c.query(`INSERT INTO outages (id, resource_id, start, sliding_window, reason) VALUES ('leak', 'site', $1, 60000, 'far future')`, [
    now + 40 * 86_400_000,
  ]);
  // Tightened after the fact: b3 (1 h) and the past booking no longer fit the policy
  // as new bookings would, yet they are part of the state and must come back.
  await c.query(`UPDATE policies SET max_duration = 1800000, allow_start_in_past = 0, max_bookings = 1 WHERE id = 'lab'`);
});
afterAll(async () => {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('export and import', () => {
  it('round-trips a database exactly, as SQL through allot import and psql -f, and as JSON lines', async () => {
    const sqlFile = join(dir, 'source.sql');
    const jsonFile = join(dir, 'source.jsonl');
    let r = await allot(['export', '--url', a.url('source'), '--output', sqlFile]);
    expect(r.stderr).toContain('exported 15 rows');
    expect(r.code).toBe(0);
    r = await allot(['export', '--url', a.url('source'), '--format', 'jsonl']);
    expect(r.code).toBe(0);
    writeFileSync(jsonFile, r.stdout);
    const sql = readFileSync(sqlFile, 'utf8');
    expect(sql).toMatch(/^-- allot export of database "source" at \d{4}-/);
    expect(sql).toContain('SET allot.restore = on;');
    expect(r.stdout.split('\n')[0]).toMatch(/^\{"allot_export":1,"database":"source","exported_at":\d+\}$/);

    const viaSql = await allot(['import', '--url', b.url('via_sql'), sqlFile]);
    expect(viaSql.stderr).toBe('allot: imported 3 resources, 2 policies, 3 rules, 4 bookings, 1 holds, 2 outages (sql, 8 statements)\n');
    expect(viaSql.code).toBe(0);
    const viaJson = await allot(['import', '--url', b.url('via_json')], readFileSync(jsonFile, 'utf8'));
    expect(viaJson.code).toBe(0);
    expect(viaJson.stderr).toContain('(jsonl, 8 statements)');
    const viaPsql = await psql(b, 'via_psql', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile]);
    expect(viaPsql.code).toBe(0);

    const want = await dump(await a.client('source'));
    expect(want.bookings).toHaveLength(4);
    for (const db of ['via_sql', 'via_json', 'via_psql']) expect(await dump(await b.client(db)), db).toEqual(want);

    // Exported again from its new home, it is the same export, but for the header.
    const again = await allot(['export', '--url', b.url('via_sql'), '--format', 'jsonl']);
    const body = (s: string): string[] => s.trim().split('\n').slice(1);
    expect(body(again.stdout)).toEqual(body(readFileSync(jsonFile, 'utf8')));
  });

  it('refuses a database that is not empty, and a damaged export, changing nothing', async () => {
    const c = await b.client('busy');
    await c.query(`INSERT INTO resources (id) VALUES ('mine')`);
    const jsonl = (await allot(['export', '--url', a.url('source'), '--format', 'jsonl'])).stdout;
    let r = await allot(['import', '--url', b.url('busy'), '-'], jsonl);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the database already holds 1 resources and 0 policies: import into a new, empty database');
    const truncated = jsonl.trim().split('\n').slice(0, -2).join('\n');
    r = await allot(['import', '--url', b.url('fresh'), '-'], truncated);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the export is truncated');
    expect((await (await b.client('fresh')).query('SELECT count(*) FROM resources')).rows[0].count).toBe('0');
  });

  it('says where an import stopped when a statement fails', async () => {
    const r = await allot(
      ['import', '--url', b.url('partial'), '-'],
      `INSERT INTO resources (id) VALUES ('a');\nINSERT INTO bookings (resource_id, start, "end") VALUES ('nope', 1, 2);\n`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('import stopped at statement 2 of 2');
    expect(r.stderr).toContain('[23503]');
    expect(r.stderr).toContain('The statements before it were applied.');
  });
});

describe('the allot command', () => {
  it('has help for every command, and refuses what it does not know with exit 2', async () => {
    for (const [args, text] of [
      [['--help'], 'usage: allot [COMMAND] [options]'],
      [['serve', '--help'], '--data-dir'],
      [['export', '--help'], 'usage: allot export --url URL'],
      [['import', '--help'], 'usage: allot import --url URL'],
      [['wal', '--help'], 'usage: allot wal verify DIR'],
    ] as const) {
      const r = await allot([...args]);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain(text);
    }
    for (const [args, text] of [
      [['frobnicate'], 'unknown command "frobnicate"'],
      [['export'], '--url (or ALLOT_URL) is required'],
      [['export', '--url', 'x', '--format', 'xml'], '--format must be sql, jsonl or ics'],
      [['import', '--url', 'x', '--format', 'ics'], 'ics is for allot export'],
      [['serve', '--port', 'x'], 'ALLOT_PORT must be an integer'],
      [['import', '--bogus', '1'], 'unknown option --bogus'],
    ] as const) {
      const r = await allot([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
    }
  });
});
