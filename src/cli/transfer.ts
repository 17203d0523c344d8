/**
 * `allot export` and `allot import`: a database's state out of a running server, as JSON lines
 * or a SQL script, and back into an empty database of any server, over the wire.
 */
import pg from 'pg';
import { insertStatements, parseJsonLines, sqlScript, type ExportTable } from '../sql/export.js';
import { splitStatements } from '../sql/lexer.js';

export class TransferError extends Error {}

export type ExportFormat = 'sql' | 'jsonl';

/** What `allot export --format ics` writes: each resource's calendar over a window. */
export interface CalendarExport {
  /** The resources, or every one when empty. */
  readonly resources: readonly string[];
  /** The window, as timestamptz text or milliseconds; from now for a year when absent. */
  readonly from: string | undefined;
  readonly to: string | undefined;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'allot export/import' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new TransferError(`cannot connect to ${redact(url)}: ${(err as Error).message}`);
  }
  return client;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/**
 * Reads the database's whole state, captured at one instant by the server, and writes it to
 * `write` a line at a time. Returns the number of rows.
 */
export async function exportDatabase(url: string, format: ExportFormat, write: (line: string) => void): Promise<number> {
  const client = await connect(url);
  try {
    const r = await client.query<{ line: string }>('SELECT line FROM allot_export');
    const lines = r.rows.map((x) => x.line);
    const { header, rows } = parseJsonLines(lines.join('\n'));
    if (format === 'jsonl') for (const l of lines) write(l);
    else for (const l of sqlScript(header, rows)) write(l);
    return rows.length;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Each resource's VCALENDAR over the window, one after another (an iCalendar stream), in order
 * of id. Returns the number of calendars; a resource that does not exist is an error.
 */
export async function exportCalendars(url: string, q: CalendarExport, write: (text: string) => void): Promise<number> {
  const client = await connect(url);
  try {
    await client.query(`SET allot.times = 'ms'`);
    const ids = q.resources.length > 0 ? q.resources : (await client.query<{ id: string }>('SELECT id FROM resources ORDER BY id')).rows.map((r) => r.id);
    // The window in milliseconds, as the server reads the text; without --to, 366 days on.
    const bounds = await client.query<{ from: string; to: string }>(
      `SELECT $1::timestamptz AS from, coalesce($2::timestamptz, $1::timestamptz + interval '8784 hours') AS to`,
      [instantText(q.from ?? String(Date.now())), q.to === undefined ? null : instantText(q.to)],
    );
    const { from, to } = bounds.rows[0]!;
    let n = 0;
    for (const id of ids) {
      const r = await client.query<{ ics: string }>(`SELECT ics FROM calendar WHERE resource_id = $1 AND start >= $2 AND "end" <= $3`, [id, from, to]);
      const row = r.rows[0];
      if (row === undefined) throw new TransferError(`resource "${id}" does not exist`);
      write(row.ics);
      n++;
    }
    return n;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Milliseconds as an ISO instant; any other text as it is, for the server to read. */
function instantText(v: string): string {
  return /^\s*-?\d+\s*$/.test(v) ? new Date(Number(v)).toISOString() : v;
}

export interface ImportReport {
  readonly format: ExportFormat;
  readonly statements: number;
  /** Rows written, by table (holds already expired are skipped, and not counted). */
  readonly rows: Partial<Record<ExportTable, number>>;
}

/** JSON lines start with `{`; anything else is taken for SQL. */
export function detectFormat(text: string): ExportFormat {
  return text.trimStart().startsWith('{') ? 'jsonl' : 'sql';
}

/**
 * Loads an export into an empty database, one statement at a time (an export may hold more rows
 * than one transaction may write). Refuses a database that already has resources or policies.
 */
export async function importDatabase(url: string, text: string, format: ExportFormat = detectFormat(text)): Promise<ImportReport> {
  let statements: string[];
  if (format === 'jsonl') {
    const { rows } = parseJsonLines(text);
    statements = ['SET allot.restore = on', ...insertStatements(rows), 'RESET allot.restore'];
  } else {
    statements = splitStatements(text).map((s) => s.text);
  }
  const client = await connect(url);
  try {
    const held = await client.query<{ n: string }>(`SELECT count(*) AS n FROM resources`);
    const policies = await client.query<{ n: string }>(`SELECT count(*) AS n FROM policies`);
    const n = Number(held.rows[0]!.n) + Number(policies.rows[0]!.n);
    if (n > 0) {
      throw new TransferError(`the database already holds ${held.rows[0]!.n} resources and ${policies.rows[0]!.n} policies: import into a new, empty database`);
    }
    const rows: Partial<Record<ExportTable, number>> = {};
    for (let i = 0; i < statements.length; i++) {
      const sql = statements[i]!;
      let r: pg.QueryResult;
      try {
        r = await client.query(sql);
      } catch (err) {
        const e = err as Error & { code?: string; detail?: string };
        const what = sql.length > 80 ? `${sql.slice(0, 77)}...` : sql;
        throw new TransferError(
          `import stopped at statement ${i + 1} of ${statements.length} (${what.replace(/\s+/g, ' ')}): ${e.message}${e.code !== undefined ? ` [${e.code}]` : ''}${e.detail !== undefined ? `\n${e.detail}` : ''}\nThe statements before it were applied.`,
        );
      }
      const table = /^\s*INSERT\s+INTO\s+"?(\w+)"?/i.exec(sql)?.[1]?.toLowerCase() as ExportTable | undefined;
      if (table !== undefined) rows[table] = (rows[table] ?? 0) + (r.rowCount ?? 0);
    }
    return { format, statements: statements.length, rows };
  } finally {
    await client.end().catch(() => undefined);
  }
}
