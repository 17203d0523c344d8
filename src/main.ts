#!/usr/bin/env node
/**
 * The `allot` command: `serve` (the default) runs the server; `wal verify` checks a data
 * directory; `export` and `import` move a database's state in and out of a running server.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { AllotServer } from './server.js';
import { nodeFileSystem } from './storage/files.js';
import { CorruptionError } from './storage/recovery.js';
import { verifyDir } from './storage/verify.js';
import { handleSignals } from './cli/signals.js';
import { detectFormat, exportCalendars, exportDatabase, importDatabase, TransferError, type ExportFormat } from './cli/transfer.js';
import { ExportFormatError } from './sql/export.js';

const MAIN_HELP = `usage: allot [COMMAND] [options]

commands:
  serve          run the server (the default when no command is given)
  wal verify     check a data directory's logs and snapshots, changing nothing
  export         write a database's state as a SQL script or JSON lines, or calendars as iCalendar
  import         load an export into an empty database

allot COMMAND --help tells more about each.`;

const WAL_HELP = `usage: allot wal verify DIR [--records]

Reads the snapshots and log files of one database directory (DIR/<name>), or of every
database under a data directory, changes nothing, and prints the records, LSN ranges and
any damage. Exits 0 when all is well, 1 when damage was found.`;

const EXPORT_HELP = `usage: allot export --url URL [--format sql|jsonl|ics] [--output FILE]
       allot export --url URL --format ics [--resource ID] [--from T] [--to T] [--output FILE]

Writes the whole state of one database of a running server, captured at one instant: a SQL
script that recreates it through psql (the default), or JSON lines. Holds already expired
are left out. With --format ics, each resource's time over a window as an iCalendar
VCALENDAR (bookings, holds, outages, rules), as SELECT ics FROM calendar gives it.

  --url URL        postgres://user:password@host:port/database (or ALLOT_URL)
  --format F       sql (default), jsonl or ics
  --output FILE    write to FILE instead of standard output
  --resource ID    ics: this resource only (default: every resource, one calendar each)
  --from T         ics: window start, a timestamptz or Unix ms (default: now)
  --to T           ics: window end (default: 366 days after --from; at most 732 days)

Load it with \`allot import\` or \`psql -v ON_ERROR_STOP=1 -f FILE URL\`, into an empty database.`;

const IMPORT_HELP = `usage: allot import --url URL [--format sql|jsonl] [FILE]

Loads an export (from FILE, or standard input) into a database that has no resources and no
policies yet, on any allot server: this is how a database moves between servers. The format
is detected (JSON lines start with "{") unless given. Rows are restored as they were
(SET allot.restore = on): policies are not judged again and outages keep when they were
declared; capacity, rules and planned outages are checked as ever. Exits 0 when everything was
loaded, 1 when a statement failed (the ones before it stay applied).

  --url URL        postgres://user:password@host:port/database (or ALLOT_URL)
  --format F       sql or jsonl`;

/** `--name value` / `--name=value` flags and positional arguments, for the small commands. */
function parseArgs(args: readonly string[], flags: readonly string[], switches: readonly string[] = []): { values: Map<string, string>; positional: string[] } {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(0, eq) : a;
    if (switches.includes(name)) {
      values.set(name, 'true');
      continue;
    }
    if (!flags.includes(name)) throw new ConfigError(`unknown option ${name} (see --help)`);
    const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined) throw new ConfigError(`${name} needs a value`);
    values.set(name, v);
  }
  return { values, positional };
}

function formatOf(v: string | undefined): ExportFormat | undefined {
  if (v === undefined) return undefined;
  if (v !== 'sql' && v !== 'jsonl') throw new ConfigError(`--format must be sql or jsonl${v === 'ics' ? ' here (ics is for allot export)' : ''}, got "${v}"`);
  return v;
}

function urlOf(values: Map<string, string>): string {
  const url = values.get('--url') ?? process.env.ALLOT_URL;
  if (url === undefined || url === '') throw new ConfigError('--url (or ALLOT_URL) is required: postgres://user:password@host:port/database');
  return url;
}

async function walCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(WAL_HELP);
    return 0;
  }
  if (args[0] !== 'verify' || args[1] === undefined) {
    console.error(WAL_HELP);
    return 2;
  }
  const report = await verifyDir(nodeFileSystem, args[1], { records: args.includes('--records') });
  for (const line of report.lines) console.log(line);
  return report.problems === 0 ? 0 : 1;
}

async function exportCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(EXPORT_HELP);
    return 0;
  }
  const { values, positional } = parseArgs(args, ['--url', '--format', '--output', '--resource', '--from', '--to']);
  if (positional.length > 0) throw new ConfigError(`unexpected argument "${positional[0]}" (see --help)`);
  const url = urlOf(values);
  const f = values.get('--format');
  if (f !== undefined && f !== 'sql' && f !== 'jsonl' && f !== 'ics') throw new ConfigError(`--format must be sql, jsonl or ics, got "${f}"`);
  const ics = f === 'ics';
  const format: ExportFormat = f === 'jsonl' ? 'jsonl' : 'sql';
  for (const flag of ['--resource', '--from', '--to']) {
    if (!ics && values.has(flag)) throw new ConfigError(`${flag} is for --format ics`);
  }
  const output = values.get('--output');
  const out = output === undefined ? process.stdout : createWriteStream(output);
  const resource = values.get('--resource');
  const n = ics
    ? await exportCalendars(url, { resources: resource === undefined ? [] : [resource], from: values.get('--from'), to: values.get('--to') }, (text) =>
        out.write(text),
      )
    : await exportDatabase(url, format, (line) => out.write(`${line}\n`));
  if (output !== undefined) {
    await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
    console.error(`allot: exported ${n} ${ics ? 'calendars' : 'rows'} to ${output}`);
  }
  return 0;
}

async function importCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(IMPORT_HELP);
    return 0;
  }
  const { values, positional } = parseArgs(args, ['--url', '--format']);
  if (positional.length > 1) throw new ConfigError(`one file at most, got ${positional.length} (see --help)`);
  const url = urlOf(values);
  const format = formatOf(values.get('--format'));
  const file = positional[0] ?? '-';
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const report = await importDatabase(url, text, format ?? detectFormat(text));
  const counts = Object.entries(report.rows).map(([t, n]) => `${n} ${t}`);
  console.error(`allot: imported ${counts.length > 0 ? counts.join(', ') : 'nothing'} (${report.format}, ${report.statements} statements)`);
  return 0;
}

async function serve(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(helpText());
    return;
  }
  const config = loadConfig(args, process.env);
  const log = createLogger(config.logLevel);
  // ALLOT_CHECK_INVARIANTS=1 re-verifies capacity and indexes after every batch and at
  // recovery: slow, for tests (the crash test runs the server this way).
  const server = new AllotServer({ config, log, checkInvariants: process.env.ALLOT_CHECK_INVARIANTS === '1' });
  // Before start-up, so a signal during recovery stops the server once it is up.
  handleSignals(server, log);
  try {
    await server.listen();
  } catch (err) {
    if (err instanceof CorruptionError) {
      log.fatal({ err: err.message }, 'cannot start: a log is damaged');
      console.error(`allot: cannot start: ${err.message}`);
      process.exit(3);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'wal':
        process.exitCode = await walCommand(rest);
        return;
      case 'export':
        process.exitCode = await exportCommand(rest);
        return;
      case 'import':
        process.exitCode = await importCommand(rest);
        return;
      case 'serve':
        return await serve(rest);
      case 'help':
        console.log(MAIN_HELP);
        return;
      default:
        if (command === '--help' || command === '-h') {
          console.log(`${MAIN_HELP}\n\n${helpText()}`);
          return;
        }
        if (command !== undefined && !command.startsWith('-')) throw new ConfigError(`unknown command "${command}" (see allot --help)`);
        return await serve(args);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`allot: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof TransferError || err instanceof ExportFormatError) {
      console.error(`allot: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

main().catch((err: unknown) => {
  console.error('allot: failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
