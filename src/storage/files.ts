/**
 * The file operations storage needs, behind one interface so tests can make a disk fail
 * (fsync errors, a full disk) exactly where they want.
 *
 * Log files are preallocated (zero-filled) before use: writing inside a file's existing size
 * lets fdatasync skip the file's metadata, which makes every commit cheaper. The log's sync
 * thread writes and syncs through a file's descriptor; writeAt and datasync are the event
 * loop's way (synchronous writes of a few KB into the page cache; only fdatasync waits).
 */
import { fdatasync, writevSync, writeSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LogFile {
  readonly path: string;
  /** The open descriptor, which the log's sync thread writes through; null for a file that must be written with writeAt (test doubles). */
  readonly fd: number | null;
  /** Bytes allocated on disk. */
  readonly capacity: number;
  /** Writes at `position`, into the page cache; `datasync` makes it durable. A failure carries `bytesWritten`, what it wrote before it failed. */
  writeAt(buffers: readonly Buffer[], position: number): void;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  mkdirp(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** Creates a zero-filled file of `bytes`, durably (file and directory synced), via a temp name. */
  createLogFile(path: string, bytes: number): Promise<LogFile>;
  openLogFile(path: string): Promise<LogFile>;
  /** Writes a file so it is either wholly there or not: temp file, fsync, rename, fsync dir. */
  writeAtomic(path: string, chunks: AsyncIterable<Buffer>): Promise<number>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  fsyncDir(path: string): Promise<void>;
}

const ZERO_CHUNK = Buffer.alloc(1 << 20);

class NodeLogFile implements LogFile {
  constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
    readonly capacity: number,
  ) {}

  get fd(): number {
    return this.fh.fd;
  }

  writeAt(buffers: readonly Buffer[], position: number): void {
    let written = 0;
    try {
      if (buffers.length === 1) {
        const b = buffers[0]!;
        while (written < b.length) written += writeSync(this.fh.fd, b, written, b.length - written, position + written);
        return;
      }
      let total = 0;
      for (const b of buffers) total += b.length;
      written = writevSync(this.fh.fd, buffers as Buffer[], position);
      if (written < total) {
        // A short write: finish it byte-exactly.
        const rest = Buffer.concat(buffers as Buffer[]);
        while (written < total) written += writeSync(this.fh.fd, rest, written, total - written, position + written);
      }
    } catch (err) {
      // What a failed write already put in the page cache is for the log to erase.
      throw Object.assign(err as Error, { bytesWritten: written });
    }
  }

  datasync(): Promise<void> {
    // The callback form skips FileHandle's own promise bookkeeping, once per commit batch.
    return new Promise((resolve, reject) => fdatasync(this.fh.fd, (err) => (err === null ? resolve() : reject(err))));
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export const nodeFileSystem: FileSystem = {
  async mkdirp(path) {
    await fsp.mkdir(path, { recursive: true });
  },
  readdir: (path) => fsp.readdir(path),
  readFile: (path) => fsp.readFile(path),
  async createLogFile(path, bytes) {
    const tmp = `${path}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      for (let at = 0; at < bytes; at += ZERO_CHUNK.length) {
        const n = Math.min(ZERO_CHUNK.length, bytes - at);
        await fh.write(ZERO_CHUNK, 0, n, at);
      }
      await fh.datasync();
    } catch (err) {
      await fh.close();
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    await fsp.rename(tmp, path);
    await nodeFileSystem.fsyncDir(dirname(path));
    return nodeFileSystem.openLogFile(path);
  },
  async openLogFile(path) {
    const fh = await fsp.open(path, 'r+');
    const { size } = await fh.stat();
    return new NodeLogFile(path, fh, size);
  },
  async writeAtomic(path, chunks) {
    const tmp = `${path}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    let size = 0;
    try {
      for await (const c of chunks) {
        await fh.write(c);
        size += c.length;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
    await nodeFileSystem.fsyncDir(dirname(path));
    return size;
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  async fsyncDir(path) {
    // A directory's entries (new, renamed, removed files) are durable only once it is synced.
    const fh = await fsp.open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
