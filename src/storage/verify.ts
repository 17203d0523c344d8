/**
 * `allot wal verify DIR`: reads a tenant's snapshots and log files (or every tenant under a
 * data directory) without changing anything, and reports records, LSN ranges and any damage.
 */
import { join } from 'node:path';
import type { FileSystem } from './files.js';
import { decodeBody } from './payload.js';
import { decodeRecord } from './record.js';
import { endOfData, listDir } from './recovery.js';
import { readSnapshot } from './snapshot.js';

export interface VerifyReport {
  readonly lines: string[];
  readonly problems: number;
}

export async function verifyDir(fs: FileSystem, dir: string, opts: { records?: boolean } = {}): Promise<VerifyReport> {
  const lines: string[] = [];
  let problems = 0;
  const { snapshots, segments } = await listDir(fs, dir);
  if (snapshots.length === 0 && segments.length === 0) {
    // A data directory: verify each tenant in it.
    const names = (await fs.readdir(dir)).sort();
    let tenants = 0;
    for (const name of names) {
      const sub = join(dir, name);
      const inner = await listDir(fs, sub).catch(() => null);
      if (inner === null || (inner.snapshots.length === 0 && inner.segments.length === 0)) continue;
      tenants++;
      lines.push(`database ${name}:`);
      const r = await verifyDir(fs, sub, opts);
      lines.push(...r.lines.map((l) => `  ${l}`));
      problems += r.problems;
    }
    if (tenants === 0) lines.push(`${dir}: no allot log files or snapshots here`);
    return { lines, problems };
  }
  for (const s of snapshots) {
    try {
      const state = readSnapshot(await fs.readFile(join(dir, s.name)));
      lines.push(
        `${s.name}: snapshot at LSN ${state.lsn}: ${state.resources.length} resources, ${state.rules.length} rules, ${state.bookings.length} bookings, ${state.holds.length} holds`,
      );
    } catch (err) {
      problems++;
      lines.push(`${s.name}: DAMAGED: ${(err as Error).message}`);
    }
  }
  let prev: number | null = null;
  for (const seg of segments) {
    const buf = await fs.readFile(join(dir, seg.name));
    let at = 0;
    let count = 0;
    let first: number | null = null;
    let last: number | null = null;
    // Log files are preallocated: the records end where zeros begin.
    const dataEnd = endOfData(buf, 0);
    while (at < dataEnd) {
      const r = decodeRecord(buf, at);
      if (r.kind !== 'record') {
        problems++;
        lines.push(
          `${seg.name}: ${r.kind === 'bad' ? r.reason : 'short record'} at byte ${at} (${dataEnd - at} bytes of data from there; a torn tail if nothing after it reads)`,
        );
        break;
      }
      if (prev !== null && r.lsn !== prev + 1) {
        problems++;
        lines.push(`${seg.name}: LSN ${r.lsn} at byte ${at} follows ${prev}`);
      }
      let summary = '';
      try {
        const body = decodeBody(r.payload);
        summary = `${body.effects.length} effects: ${[...new Set(body.effects.map((e) => e.type))].join(', ')}`;
      } catch (err) {
        problems++;
        summary = `UNREADABLE PAYLOAD: ${(err as Error).message}`;
      }
      if (opts.records === true) lines.push(`  LSN ${r.lsn} at byte ${at}, ${r.next - at} bytes, ${summary}`);
      first ??= r.lsn;
      last = r.lsn;
      prev = r.lsn;
      count++;
      at = r.next;
    }
    lines.push(`${seg.name}: ${count} records${first !== null ? `, LSN ${first} to ${last}` : ''}, ${at} bytes used of ${buf.length}`);
  }
  // Torn tails recovery cut off, kept for inspection: not damage, but worth knowing of.
  for (const name of (await fs.readdir(dir)).filter((n) => /\.log\.torn-\d+(-\d+)?$/.test(n)).sort()) {
    const bytes = (await fs.readFile(join(dir, name))).length;
    lines.push(`${name}: ${bytes} bytes a start-up cut off as a torn tail, kept for inspection (delete it when done)`);
  }
  lines.push(problems === 0 ? 'no damage found' : `${problems} problem(s) found`);
  return { lines, problems };
}
