import postgres from 'postgres';
import { startServer } from '../test/helpers/server.js';
const srv = await startServer();
const sql = postgres(srv.url('x'), { debug: (conn: number, q: string, params: unknown[], types: unknown[]) => console.log('Q', q.replace(/\s+/g,' ').slice(0,120), JSON.stringify(params), JSON.stringify(types)) });
await sql`INSERT INTO resources (id) VALUES ('a'), ('b')`;
try { await sql`INSERT INTO resources (id, capabilities) VALUES (${'c'}, ${sql.array(['projector'])})`; } catch (e) { console.log('ERR1', (e as Error).message); }
const p = sql`SELECT start, "end", free FROM availability WHERE resource_id IN (${'a'}, ${'b'}) AND start >= ${0} AND "end" <= ${300} AND min_available = ${2}`;
const t = setTimeout(() => { console.log('HANG'); process.exit(1); }, 3000);
try { console.log(await p); } catch (e) { console.log('ERR2', (e as Error).message); }
clearTimeout(t);
await sql.end(); await srv.close();
