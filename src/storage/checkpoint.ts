/**
 * A checkpoint: a snapshot of the state at one LSN, then every older snapshot and every log file
 * the snapshot covers deleted, so recovery reads at most one snapshot and the log after it.
 */
import { join } from 'node:path';
import type { FileSystem } from './files.js';
import { listDir } from './recovery.js';
import { snapshotChunks, snapshotName, type SnapshotState } from './snapshot.js';
import type { Wal } from './wal.js';

/**
 * Writes the snapshot of `state` (taken at `state.lsn`, which must be durable already) into
 * `dir` and prunes what it covers. Returns the snapshot's size in bytes.
 */
export async function writeCheckpoint(fs: FileSystem, dir: string, wal: Wal, state: SnapshotState): Promise<number> {
  const lsn = state.lsn;
  const bytes = await fs.writeAtomic(join(dir, snapshotName(lsn)), snapshotChunks(state));
  // Older snapshots go, and every log file whose records all lie at or before the snapshot:
  // those followed by a file that starts at or before lsn + 1. The file being written stays.
  const { snapshots, segments } = await listDir(fs, dir);
  for (const old of snapshots) if (old.lsn < lsn) await fs.unlink(join(dir, old.name));
  for (let i = 0; i + 1 < segments.length; i++) {
    const path = join(dir, segments[i]!.name);
    if (segments[i + 1]!.firstLsn <= lsn + 1 && path !== wal.currentFile) await fs.unlink(path);
  }
  await fs.fsyncDir(dir);
  return bytes;
}
