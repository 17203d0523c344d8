#!/usr/bin/env node
/** `allot` / `npm start`: runs the server until SIGINT or SIGTERM. */
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { AllotServer } from './server.js';
import { nodeFileSystem } from './storage/files.js';
import { CorruptionError } from './storage/recovery.js';
import { verifyDir } from './storage/verify.js';

const WAL_HELP = `usage: allot wal verify DIR [--records]

Reads the snapshots and log files of one database directory (DIR/<name>), or of every
database under a data directory, changes nothing, and prints the records, LSN ranges and
any damage. Exits 0 when all is well, 1 when damage was found.`;

async function walCommand(args: string[]): Promise<number> {
  if (args[0] !== 'verify' || args[1] === undefined || args.includes('--help')) {
    console.log(WAL_HELP);
    return args.includes('--help') ? 0 : 2;
  }
  const report = await verifyDir(nodeFileSystem, args[1], { records: args.includes('--records') });
  for (const line of report.lines) console.log(line);
  return report.problems === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'wal') {
    process.exitCode = await walCommand(args.slice(1));
    return;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(helpText());
    return;
  }
  const rest = args[0] === 'serve' ? args.slice(1) : args;
  let config;
  try {
    config = loadConfig(rest, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`allot: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // ALLOT_CHECK_INVARIANTS=1 re-verifies capacity and indexes after every batch and at
  // recovery: slow, for tests (the crash test runs the server this way).
  const server = new AllotServer({ config, log, checkInvariants: process.env.ALLOT_CHECK_INVARIANTS === '1' });
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
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('allot: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
