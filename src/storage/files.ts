/**
 * The file operations storage needs, behind one interface so tests can make a disk fail
 * (fsync errors, ENOSPC) exactly where they want.
 */
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AppendFile {
  readonly path: string;
  /** Length of the file: bytes written so far. */
  readonly size: number;
  /** Appends the buffers with one system call where the platform allows. */
  append(buffers: readonly Buffer[]): Promise<void>;
  datasync(): Promise<void>;
  /** Cuts the file back to `length` bytes (after a failed write). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  mkdirp(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** Opens for appending, creating the file if needed. */
  openAppend(path: string): Promise<AppendFile>;
  /** Writes a file so it is either wholly there or not: temp file, fsync, rename, fsync dir. */
  writeAtomic(path: string, chunks: AsyncIterable<Buffer>): Promise<number>;
  truncate(path: string, length: number): Promise<void>;
  unlink(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  fsyncDir(path: string): Promise<void>;
}

class NodeAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
    public size: number,
  ) {}

  async append(buffers: readonly Buffer[]): Promise<void> {
    let total = 0;
    for (const b of buffers) total += b.length;
    let written = 0;
    let pending: Buffer[] = [...buffers];
    while (written < total) {
      const r = await this.fh.writev(pending, this.size + written);
      written += r.bytesWritten;
      if (written < total) pending = [Buffer.concat(pending).subarray(r.bytesWritten)];
    }
    this.size += total;
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  async truncate(length: number): Promise<void> {
    await this.fh.truncate(length);
    this.size = length;
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
  async openAppend(path) {
    const fh = await fsp.open(path, 'a+');
    const { size } = await fh.stat();
    return new NodeAppendFile(path, fh, size);
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
  truncate: (path, length) => fsp.truncate(path, length),
  unlink: (path) => fsp.unlink(path),
  async exists(path) {
    try {
      await fsp.access(path);
      return true;
    } catch {
      return false;
    }
  },
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
