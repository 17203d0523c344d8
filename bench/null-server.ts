/**
 * The protocol ceiling: a server that speaks just enough of the protocol for pgbench and does
 * no work (every statement "inserts one row"), built on allot's own wire codec. What allot gets
 * compared with it is what its engine, SQL and log cost on top of Node and the protocol.
 */
import { createServer, type Server } from 'node:net';
import * as B from '../src/wire/backend.js';
import { decodeMessage, decodeStartup, FrameReader } from '../src/wire/frontend.js';

export function startNullServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const reader = new FrameReader(1 << 24);
    const out = new B.OutBuffer();
    let started = false;
    const params = new Map<string, number>();
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
            B.commandComplete(out, 'INSERT 0 1');
            B.readyForQuery(out, 'I');
            break;
          case 'Parse':
            params.set(m.name, new Set(m.sql.match(/\$\d+/g) ?? []).size);
            B.parseComplete(out);
            break;
          case 'Describe':
            if (m.kind === 'S') B.parameterDescription(out, Array.from({ length: params.get(m.name) ?? 0 }, () => 25));
            B.noData(out);
            break;
          case 'Bind':
            B.bindComplete(out);
            break;
          case 'Execute':
            B.commandComplete(out, 'INSERT 0 1');
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
      if (out.length > 0) socket.write(out.take());
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server })));
}
