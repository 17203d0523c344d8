/** vitest's global setup: the outside clients are there before any test starts (see clients.ts). */
import { ensureClientsOrExit } from './clients.js';

export async function setup(): Promise<void> {
  await ensureClientsOrExit();
}
