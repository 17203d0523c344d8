/**
 * The computed table calendar: `SELECT ics FROM calendar WHERE resource_id = … (or IN (…)) AND
 * start >= … AND "end" <= …` gives a row per resource, its time over the window as a VCALENDAR
 * (sql/ics.ts). Conjuncts on other columns filter the rows.
 */
import type { Expr } from 'pgsql-ast-parser';
import type { Booking, Hold } from '../../engine/types.js';
import type { EvalEnv, ParamSlots, Scope } from '../expr.js';
import { icsCalendar } from '../ics.js';
import type { Value } from '../types.js';
import { boundedWindowOf, requireResourcesAndWindow, resourceIdsOf, windowKeys } from './availability.js';
import { andAll } from './hints.js';
import type { ReadContext } from './index.js';

const EXAMPLE = `SELECT ics FROM calendar WHERE resource_id = 'room-1' AND start >= '2026-03-01' AND "end" <= '2026-04-01'`;

export function planCalendar(
  where: Expr | null | undefined,
  scope: Scope,
  params: ParamSlots,
): { rows: (read: ReadContext, env: EvalEnv) => Value[][]; rest: Expr | null } {
  const keys = windowKeys(where, scope, params, 'calendar', []);
  requireResourcesAndWindow(keys, 'calendar', EXAMPLE);
  const { resourceIdSets, rest } = keys;
  const rows = (read: ReadContext, env: EvalEnv): Value[][] => {
    const window = boundedWindowOf(keys, env, 'calendar');
    if (window === null) return [];
    const { start, end } = window;
    const { engine, now } = read;
    const out: Value[][] = [];
    for (const rid of [...new Set(resourceIdsOf(resourceIdSets, env))].sort()) {
      const resource = engine.resource(rid);
      if (resource === undefined) continue;
      const entries = engine.entriesOn(rid, start, end, now) as (Booking | Hold)[];
      const outages = engine.outagesOn(rid).filter((o) => o.start < end && (o.end === null || o.end > start));
      const rules = engine.rulesOn(rid, start, end);
      out.push([rid, start, end, icsCalendar({ resource, entries, outages, rules, start, end, now })]);
    }
    return out;
  };
  return { rows, rest: andAll(rest) };
}
