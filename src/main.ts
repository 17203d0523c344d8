/** `allot` / `npm start`: runs the server until SIGINT or SIGTERM. */
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { AllotServer } from './server.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
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
  const server = new AllotServer({ config, log });
  await server.listen();
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
