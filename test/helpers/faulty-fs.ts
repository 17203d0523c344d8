/** A file system that fails, or waits, on cue: for tests of fsync errors, full disks and timing. */
import { nodeFileSystem, type FileSystem, type LogFile } from '../../src/storage/files.js';

export class FaultyFs implements FileSystem {
  /** When set, every datasync of a log file throws it (the log cannot even erase a failed batch). */
  syncError: Error | null = null;
  /** Datasyncs still to fail with `syncFailure`, one each (then they work again). */
  private syncFailures = 0;
  private syncFailure: Error | null = null;
  /** When set, every write to a log file throws it, and creating a log file does too. */
  writeError: Error | null = null;
  /** When set, datasync waits for this promise first. */
  syncGate: Promise<void> | null = null;
  syncs = 0;

  private releaseGate: (() => void) | null = null;

  /** Makes the next `n` datasyncs fail with `err` (a transient fault: the log can erase the batch). */
  failSyncs(n: number, err: Error): void {
    this.syncFailures = n;
    this.syncFailure = err;
  }

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
  rename = nodeFileSystem.rename;
  unlink = nodeFileSystem.unlink;
  fsyncDir = nodeFileSystem.fsyncDir;

  async createLogFile(path: string, bytes: number): Promise<LogFile> {
    if (this.writeError !== null) throw this.writeError;
    return this.wrap(await nodeFileSystem.createLogFile(path, bytes));
  }

  async openLogFile(path: string): Promise<LogFile> {
    return this.wrap(await nodeFileSystem.openLogFile(path));
  }

  private wrap(inner: LogFile): LogFile {
    const outer = this;
    return {
      get path() {
        return inner.path;
      },
      // No descriptor: the log writes through writeAt and datasync, where faults are injected.
      fd: null,
      capacity: inner.capacity,
      writeAt(buffers, position) {
        // Refused before any byte is written.
        if (outer.writeError !== null) throw Object.assign(new Error(outer.writeError.message), outer.writeError, { bytesWritten: 0 });
        inner.writeAt(buffers, position);
      },
      async datasync() {
        if (outer.syncGate !== null) await outer.syncGate;
        outer.syncs++;
        if (outer.syncError !== null) throw outer.syncError;
        if (outer.syncFailures > 0) {
          outer.syncFailures--;
          throw outer.syncFailure!;
        }
        await inner.datasync();
      },
      close: () => inner.close(),
    };
  }
}

export function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
