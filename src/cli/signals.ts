/**
 * SIGTERM and SIGINT: the first stops the server gracefully (see AllotServer.close) and exits 0;
 * a second, while that is under way, exits at once with 1.
 */
import type { Logger } from 'pino';

export type Signal = 'SIGTERM' | 'SIGINT';

export function handleSignals(
  server: { close(): Promise<void> },
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
  on: (signal: Signal, fn: () => void) => void = (signal, fn) => void process.on(signal, fn),
): void {
  let stopping = false;
  const stop = (signal: Signal): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      exit(1);
      return;
    }
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections; finishing statements in flight');
    server.close().then(
      () => exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  on('SIGINT', () => stop('SIGINT'));
  on('SIGTERM', () => stop('SIGTERM'));
}
