/**
 * Export and import formats: a database's whole state as JSON lines (one row a line, tables in
 * an order they can be loaded in) or as a SQL script that recreates it through psql. Both name
 * tables and columns as SQL does, and both restore under `SET allot.restore = on`, so what
 * depended on the moment an entity was first made (policy limits, an outage's declared_at) is
 * kept rather than judged again.
 */
import type { CapturedState } from '../engine/engine.js';
import { bookingRow } from './tables/bookings.js';
import { holdRow } from './tables/holds.js';
import { outageRow } from './tables/outages.js';
import { policyRow } from './tables/policies.js';
import { resourceRow } from './tables/resources.js';
import { ruleRow } from './tables/rules.js';
import { Tables, type StoredTable } from './tables/index.js';
import type { Value } from './types.js';

export const EXPORT_VERSION = 1;

/** Tables in load order: each after everything its rows name. */
export const EXPORT_TABLES = ['resources', 'policies', 'rules', 'bookings', 'holds', 'outages'] as const satisfies readonly StoredTable[];
export type ExportTable = (typeof EXPORT_TABLES)[number];

export interface ExportHeader {
  readonly allot_export: number;
  readonly database: string;
  /** When the state was captured, Unix ms. */
  readonly exported_at: number;
}

export interface ExportRow {
  readonly table: ExportTable;
  /** Column name to value, as SELECT * shows it (times in ms). */
  readonly row: Readonly<Record<string, Value>>;
}

export class ExportFormatError extends Error {}

/** Every row of a captured state, in load order. Expired holds are left out: they are gone. */
export function* exportRows(state: CapturedState, now: number): Generator<ExportRow> {
  const rowsOf: Record<ExportTable, () => Value[][]> = {
    resources: () => state.resources.map(resourceRow),
    policies: () => state.policies.map(policyRow),
    rules: () => state.rules.map(ruleRow),
    bookings: () => state.bookings.map(bookingRow),
    holds: () => state.holds.filter((h) => h.expiresAt > now).map(holdRow),
    outages: () => state.outages.map(outageRow),
  };
  for (const table of EXPORT_TABLES) {
    const names = Tables[table].columns.map((c) => c.name);
    for (const values of rowsOf[table]()) {
      const row: Record<string, Value> = {};
      names.forEach((n, i) => {
        row[n] = values[i] ?? null;
      });
      yield { table, row };
    }
  }
}

/** The JSON-lines export: a header line, one line per row, and a trailer with the row count. */
export function* jsonLines(header: ExportHeader, rows: Iterable<ExportRow>): Generator<string> {
  yield JSON.stringify(header);
  let n = 0;
  for (const r of rows) {
    n++;
    yield JSON.stringify({ [r.table]: r.row });
  }
  yield JSON.stringify({ end: true, rows: n });
}

/** Reads a JSON-lines export, checking its header, every row's table and columns, and the trailer. */
export function parseJsonLines(text: string): { header: ExportHeader; rows: ExportRow[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parse = (line: string, n: number): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw new ExportFormatError(`line ${n}: not JSON`);
    }
  };
  if (lines.length < 2) throw new ExportFormatError('not an allot export: too short (a header and a trailer at least)');
  const header = parse(lines[0]!, 1) as ExportHeader;
  if (typeof header !== 'object' || header === null || header.allot_export !== EXPORT_VERSION) {
    throw new ExportFormatError(`line 1: not an allot export of version ${EXPORT_VERSION}`);
  }
  const trailer = parse(lines[lines.length - 1]!, lines.length) as { end?: boolean; rows?: number };
  if (trailer?.end !== true) throw new ExportFormatError('the export is truncated: its last line is not the trailer');
  const rows: ExportRow[] = [];
  let order = 0;
  for (let i = 1; i < lines.length - 1; i++) {
    const o = parse(lines[i]!, i + 1) as Record<string, unknown>;
    const keys = typeof o === 'object' && o !== null ? Object.keys(o) : [];
    const table = keys[0] as ExportTable;
    if (keys.length !== 1 || !(EXPORT_TABLES as readonly string[]).includes(table)) {
      throw new ExportFormatError(`line ${i + 1}: expected {"<table>": {…}} with one of ${EXPORT_TABLES.join(', ')}`);
    }
    const at = EXPORT_TABLES.indexOf(table);
    if (at < order) throw new ExportFormatError(`line ${i + 1}: ${table} after ${EXPORT_TABLES[order]}; rows must come in load order`);
    order = at;
    const row = o[table] as Record<string, Value>;
    const known = new Set(Tables[table].columns.map((c) => c.name));
    for (const k of Object.keys(row ?? {})) if (!known.has(k)) throw new ExportFormatError(`line ${i + 1}: ${table} has no column "${k}"`);
    rows.push({ table, row });
  }
  if (trailer.rows !== rows.length) throw new ExportFormatError(`the export holds ${rows.length} rows, its trailer says ${String(trailer.rows)}`);
  return { header, rows };
}

/** A SQL literal for a value of an allot column. */
function sqlLiteral(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ExportFormatError(`${v} is not an integer allot stores`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return sqlString(arrayText(v as readonly (string | null)[]));
  return sqlString(String(v));
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `{a,"b c","d\"e"}`: a text[] in PostgreSQL's array syntax, quoting elements that need it. */
function arrayText(xs: readonly (string | null)[]): string {
  const el = (x: string | null): string => {
    if (x === null) return 'NULL';
    if (x !== '' && !/[{},"\\\s]/.test(x) && x.toUpperCase() !== 'NULL') return x;
    return `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  };
  return `{${xs.map(el).join(',')}}`;
}

/** Rows per INSERT statement: well inside the 10,000 rows one statement may write. */
const ROWS_PER_INSERT = 500;

/** Multi-row INSERTs that recreate the rows, in order (no SET: see `sqlScript`). */
export function* insertStatements(rows: Iterable<ExportRow>): Generator<string> {
  let table: ExportTable | null = null;
  let batch: string[] = [];
  let columns: string[] = [];
  const flush = function* (): Generator<string> {
    if (table === null || batch.length === 0) return;
    yield `INSERT INTO ${table} (${columns.map(quoteColumn).join(', ')}) VALUES\n  ${batch.join(',\n  ')};`;
    batch = [];
  };
  for (const r of rows) {
    if (r.table !== table || batch.length === ROWS_PER_INSERT) {
      yield* flush();
      table = r.table;
      // Every column of the table, in its order; a missing one is NULL (or its default).
      columns = Tables[r.table].columns.map((c) => c.name);
    }
    batch.push(`(${columns.map((c) => sqlLiteral(r.row[c] ?? null)).join(', ')})`);
  }
  yield* flush();
}

/** `end` and `start` are keywords to some parsers; quote every column to be safe. */
function quoteColumn(c: string): string {
  return `"${c}"`;
}

/** The SQL export: comments saying what it is, `SET allot.restore = on`, and the INSERTs. */
export function* sqlScript(header: ExportHeader, rows: readonly ExportRow[]): Generator<string> {
  yield `-- allot export of database "${header.database}" at ${new Date(header.exported_at).toISOString()}: ${rows.length} rows`;
  yield `-- Load it into an empty database: psql -v ON_ERROR_STOP=1 -f FILE "postgres://…/newdb", or allot import`;
  yield `SET allot.restore = on;`;
  yield* insertStatements(rows);
  yield `RESET allot.restore;`;
}
