/** Logs are pino JSON on stderr. */
import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'allot' } }, pino.destination(2));
}

export type { Logger };
