/**
 * The protocol ceiling: a server that speaks just enough of the protocol for pgbench and does
 * no work, built on allot's own wire codec. What allot gets compared with it is what its engine,
 * SQL and log cost on top of Node and the protocol.
 *
 * Every statement "inserts one row", except a SELECT when `selectRows` is given: that answers
 * with those rows, encoded once at start-up, so the ceiling of a read workload counts only the
 * bytes on the wire and what the client does with them.
 *
 * With `durableDir`, every insert is also written to allot's log and answered only once it is
 * on disk: the same group commit, the same fdatasync, a record of the same size. That is what
 * durability alone allows a Node server here, with no engine and no SQL at all.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { nodeFileSystem, type FileSystem } from '../src/storage/files.js';
import { segmentName, Wal } from '../src/storage/wal.js';
import * as B from '../src/wire/backend.js';
import { decodeMessage, decodeStartup, FrameReader } from '../src/wire/frontend.js';

export interface NullServerOptions {
  /** Rows of int8 values every SELECT answers with (text format), and their column names. */
  readonly selectRows?: { readonly columns: readonly string[]; readonly rows: readonly (readonly number[])[] };
  /**
   * Makes every insert durable before its answer, through allot's own log (group commit,
   * fdatasync) in this directory: the ceiling of a durable server with no engine and no SQL.
   */
  readonly durableDir?: string;
  /** The file system the log uses (tests hold its fdatasync). */
  readonly fs?: FileSystem;
}

/** As many bytes as the payload of allot's record for one booking of workload 1 (binary form). */
const RECORD_PAYLOAD = Buffer.alloc(73, 1);

export async function startNullServer(opts: NullServerOptions = {}): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const select = opts.selectRows === undefined ? null : encodeSelect(opts.selectRows);
  let wal: Wal | null = null;
  let lsn = 0;
  if (opts.durableDir !== undefined) {
    const fs = opts.fs ?? nodeFileSystem;
    await fs.mkdirp(opts.durableDir);
    const file = await fs.createLogFile(join(opts.durableDir, segmentName(1)), 16 << 20);
    wal = new Wal(fs, opts.durableDir, { file, end: 0 }, 0, () => undefined);
  }
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const reader = new FrameReader(1 << 24);
    const out = new B.OutBuffer();
    let started = false;
    const params = new Map<string, number>();
    const selects = new Set<string>();
    let portalSelects = false;
    // With a log: the last insert not yet on disk. Every answer after it waits for it, so
    // answers leave in order (the log makes records durable in the order they came).
    let last: Promise<void> | null = null;
    const insert = (): void => {
      if (wal !== null) last = wal.append(++lsn, RECORD_PAYLOAD);
      B.commandComplete(out, 'INSERT 0 1');
    };
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (;;) {
        if (!started) {
          const body = reader.nextStartup();
          if (body === null) break;
          const p = decodeStartup(body);
          if (p.type === 'SSLRequest' || p.type === 'GSSENCRequest') {
            socket.write('N');
            continue;
          }
          if (p.type === 'CancelRequest') {
            socket.end();
            return;
          }
          started = true;
          B.authenticationOk(out);
          B.parameterStatus(out, 'server_version', '16.4');
          B.parameterStatus(out, 'client_encoding', 'UTF8');
          B.parameterStatus(out, 'standard_conforming_strings', 'on');
          B.backendKeyData(out, 1, 1);
          B.readyForQuery(out, 'I');
          continue;
        }
        const f = reader.next();
        if (f === null) break;
        const m = decodeMessage(f.code, f.body);
        switch (m.type) {
          case 'Query':
            if (select !== null && isSelect(m.sql)) out.bytes(select.description).bytes(select.rows);
            else insert();
            B.readyForQuery(out, 'I');
            break;
          case 'Parse':
            params.set(m.name, new Set(m.sql.match(/\$\d+/g) ?? []).size);
            if (select !== null && isSelect(m.sql)) selects.add(m.name);
            else selects.delete(m.name);
            B.parseComplete(out);
            break;
          case 'Describe':
            if (m.kind === 'S')
              B.parameterDescription(
                out,
                Array.from({ length: params.get(m.name) ?? 0 }, () => 25),
              );
            if ((m.kind === 'S' ? selects.has(m.name) : portalSelects) && select !== null) out.bytes(select.description);
            else B.noData(out);
            break;
          case 'Bind':
            portalSelects = selects.has(m.statement);
            B.bindComplete(out);
            break;
          case 'Execute':
            if (portalSelects && select !== null) out.bytes(select.rows);
            else insert();
            break;
          case 'Sync':
            B.readyForQuery(out, 'I');
            break;
          case 'Terminate':
            socket.end();
            return;
          default:
            break;
        }
      }
      if (out.length === 0) return;
      const bytes = out.take();
      if (last === null) {
        socket.write(bytes);
        return;
      }
      const after = last;
      after.then(
        () => {
          socket.write(bytes);
          if (last === after) last = null;
        },
        () => socket.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    server,
    close: async () => {
      server.close();
      await wal?.close();
    },
  };
}

function isSelect(sql: string): boolean {
  return /^\s*select\b/i.test(sql);
}

/** The RowDescription, and the DataRows with their CommandComplete, as bytes to send as they are. */
function encodeSelect(spec: NonNullable<NullServerOptions['selectRows']>): { description: Buffer; rows: Buffer } {
  const out = new B.OutBuffer();
  B.rowDescription(
    out,
    spec.columns.map((name) => ({ name, tableOid: 0, columnAttr: 0, typeOid: 20, typeSize: 8, typeMod: -1, format: 0 })),
  );
  const description = out.take();
  for (const r of spec.rows) B.dataRow(out, r);
  B.commandComplete(out, `SELECT ${spec.rows.length}`);
  return { description, rows: out.take() };
}
