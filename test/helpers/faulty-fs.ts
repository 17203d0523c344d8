/** A file system that fails, or waits, on cue: for tests of fsync errors, full disks and timing. */
import { nodeFileSystem, type AppendFile, type FileSystem } from '../../src/storage/files.js';

export class FaultyFs implements FileSystem {
  /** When set, every datasync of a log file throws it. */
  syncError: Error | null = null;
  /** When set, every append to a log file throws it (after writing nothing). */
  appendError: Error | null = null;
  /** When set, datasync waits for this promise first. */
  syncGate: Promise<void> | null = null;
  syncs = 0;

  private releaseGate: (() => void) | null = null;

  /** Holds every datasync until `release()`. */
  hold(): void {
    this.syncGate = new Promise((r) => (this.releaseGate = r));
  }

  release(): void {
    this.releaseGate?.();
    this.syncGate = null;
    this.releaseGate = null;
  }

  mkdirp = nodeFileSystem.mkdirp;
  readdir = nodeFileSystem.readdir;
  readFile = nodeFileSystem.readFile;
  writeAtomic = nodeFileSystem.writeAtomic;
  truncate = nodeFileSystem.truncate;
  unlink = nodeFileSystem.unlink;
  exists = nodeFileSystem.exists;
  fsyncDir = nodeFileSystem.fsyncDir;

  async openAppend(path: string): Promise<AppendFile> {
    const inner = await nodeFileSystem.openAppend(path);
    const outer = this;
    return {
      path,
      get size() {
        return inner.size;
      },
      async append(buffers) {
        if (outer.appendError !== null) throw outer.appendError;
        await inner.append(buffers);
      },
      async datasync() {
        if (outer.syncGate !== null) await outer.syncGate;
        outer.syncs++;
        if (outer.syncError !== null) throw outer.syncError;
        await inner.datasync();
      },
      truncate: (n) => inner.truncate(n),
      close: () => inner.close(),
    };
  }
}

export function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
