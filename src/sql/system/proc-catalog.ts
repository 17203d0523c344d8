/** pg_proc: the rows allot serves (src/sql/system/data/pg-proc.ts), by oid and by name. */
import { PG_PROC_ROWS, type PgProcRow } from './data/pg-proc.js';

/** Column positions of a pg_proc row. */
export const P = {
  oid: 0,
  proname: 1,
  pronamespace: 2,
  proowner: 3,
  prolang: 4,
  procost: 5,
  prorows: 6,
  provariadic: 7,
  prosupport: 8,
  prokind: 9,
  prosecdef: 10,
  proleakproof: 11,
  proisstrict: 12,
  proretset: 13,
  provolatile: 14,
  proparallel: 15,
  pronargs: 16,
  pronargdefaults: 17,
  prorettype: 18,
  proargtypes: 19,
  proallargtypes: 20,
  proargmodes: 21,
  proargnames: 22,
  proargdefaults: 23,
  protrftypes: 24,
  prosrc: 25,
  probin: 26,
  prosqlbody: 27,
  proconfig: 28,
  proacl: 29,
} as const;

export type { PgProcRow };

let byOid: ReadonlyMap<number, PgProcRow> | undefined;
let byName: ReadonlyMap<string, readonly PgProcRow[]> | undefined;

export function procByOid(oid: number): PgProcRow | undefined {
  byOid ??= new Map(PG_PROC_ROWS.map((r) => [r[P.oid], r]));
  return byOid.get(oid);
}

/** Every served function of that name, in any namespace. */
export function procsByName(name: string): readonly PgProcRow[] {
  if (byName === undefined) {
    const m = new Map<string, PgProcRow[]>();
    for (const r of PG_PROC_ROWS) {
      const list = m.get(r[P.proname]);
      if (list === undefined) m.set(r[P.proname], [r]);
      else list.push(r);
    }
    byName = m;
  }
  return byName.get(name) ?? [];
}
