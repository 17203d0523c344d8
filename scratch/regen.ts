// One-off: print actual psql output of each example of a doc (to review before updating it).
import { readFileSync, writeFileSync } from 'node:fs';
import { psql } from '../test/helpers/psql.js';
import { startServer } from '../test/helpers/server.js';
const file = process.argv[2]!;
const md = readFileSync(file, 'utf8');
const srv = await startServer();
const re = /```sql\n([\s\S]*?)```\s*\n```text\n([\s\S]*?)```/g;
let out = '';
let last = 0;
for (let m = re.exec(md); m !== null; m = re.exec(md)) {
  const { output } = await psql(srv, 'regen', [], m[1]!);
  const text = output.split('\n').map((l) => l.trimEnd()).join('\n').replace(/^\n+|\n+$/g, '') + '\n';
  out += md.slice(last, m.index) + '```sql\n' + m[1] + '```\n\n```text\n' + text + '```';
  last = m.index + m[0].length;
}
out += md.slice(last);
writeFileSync(file + '.new', out);
await srv.close();
