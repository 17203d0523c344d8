import { parse } from 'pgsql-ast-parser';
for (const q of [`SELECT * FROM availability WHERE resource_id = 'x' AND start >= 1 AND end <= 5`, `INSERT INTO rules (id, resource_id, start, end, blocking) VALUES ('a','b',1,2,false)`, `UPDATE rules SET start = 1, end = 2 WHERE id = 'x'`, `SELECT 1 <> 2`]) {
  try { console.log(JSON.stringify(parse(q)).slice(0, 400)); } catch (e) { console.log('ERR', q, e.message.split('\n')[0]); }
}
