/**
 * Engine micro-benchmarks: the engine alone, no SQL, wire or disk.
 *  - booking-with-check on a resource already holding 100,000 entries;
 *  - a 7-day availability query over 10,000 bookings;
 *  - a 7-day availability query under a forever weekly rule, and under the same hours as one-off
 *    rules (issue 24: within 2x);
 *  - the memory one booking takes (heap and typed arrays), ids made as an INSERT without one makes them.
 */
import { daysFromCivil, localToInstant, zoneRule } from '../src/engine/calendar.js';
import { Engine } from '../src/engine/engine.js';
import type { Command } from '../src/engine/types.js';
import { newId } from '../src/tenant/ids.js';
import { memoryUsedAfterGc } from './heap.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

export interface EngineBenchResult {
  readonly name: string;
  readonly opsPerSec: number;
  readonly usPerOp: number;
  readonly ops: number;
}

function measure(name: string, minMs: number, op: (i: number) => void): EngineBenchResult {
  for (let i = 0; i < 200; i++) op(i); // warm up
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < minMs) {
    for (let k = 0; k < 100; k++) op(200 + ops++);
    elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return { name, ops, opsPerSec: Math.round((ops / elapsedMs) * 1000), usPerOp: Number(((elapsedMs * 1000) / ops).toFixed(2)) };
}

function book(id: string, resourceId: string, start: number, end: number): Command {
  return { type: 'CreateBooking', booking: { id, resourceId, start, end } };
}

/** Fills a resource with `n` bookings of 30 minutes, one every hour from T0. */
function filled(n: number, capacity: number): Engine {
  const e = new Engine();
  e.execute(
    [{ type: 'CreateResource', resource: { id: 'r', parentId: null, name: null, capacity, bufferBeforeMs: 0, bufferAfterMs: 5 * MIN, capabilities: [] } }],
    T0,
  );
  for (let i = 0; i < n; i += 1000) {
    const batch: Command[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(book(`b${j}`, 'r', T0 + j * 60 * MIN, T0 + j * 60 * MIN + 30 * MIN));
    e.execute(batch, T0);
  }
  return e;
}

export function runEngineBench(opts: { quick?: boolean } = {}): EngineBenchResult[] {
  const ms = opts.quick ? 500 : 2000;
  const results: EngineBenchResult[] = [];

  // Booking-with-check among 100k entries: each op books a free 15-minute slot (in the gap after
  // an existing booking's buffer) and then cancels it, so the resource stays at 100k. Ids are
  // fresh each time: V8's Map turns pathological (tens of µs) when one key is set and deleted
  // over and over in a large map.
  const big = filled(100_000, 1);
  const slot = (i: number): number => T0 + ((i * 7919) % 100_000) * 60 * MIN + 40 * MIN;
  results.push(
    measure('book with check, 100k entries on the resource (accepted)', ms, (i) => {
      big.execute([book(`x${i}`, 'r', slot(i), slot(i) + 15 * MIN)], T0);
      big.execute([{ type: 'CancelBookings', target: { id: `x${i}` } }], T0);
    }),
  );
  // The same refusal without its offers (SET allot.offers = off): what offers cost.
  results.push(
    measure('book with check, 100k entries on the resource (refused, offers off)', ms, (i) => {
      try {
        big.execute([{ ...book('y', 'r', slot(i) - 20 * MIN, slot(i)), offers: false } as Command], T0);
        throw new Error('bench: expected a conflict');
      } catch (err) {
        if (!(err instanceof Error) || !('sqlstate' in err)) throw err;
      }
    }),
  );
  // Half of that op is the cancel; measure a conflicting attempt on its own too.
  results.push(
    measure('book with check, 100k entries on the resource (refused, conflict named, 3 offers)', ms, (i) => {
      try {
        big.execute([book('y', 'r', slot(i) - 20 * MIN, slot(i))], T0);
        throw new Error('bench: expected a conflict');
      } catch (err) {
        if (!(err instanceof Error) || !('sqlstate' in err)) throw err;
      }
    }),
  );
  const big3 = filled(100_000, 3);
  results.push(
    measure('book with check, capacity 3, 100k entries (accepted + cancel)', ms, (i) => {
      big3.execute([book(`x${i}`, 'r', slot(i) - 30 * MIN, slot(i))], T0);
      big3.execute([{ type: 'CancelBookings', target: { id: `x${i}` } }], T0);
    }),
  );

  // Availability over 7 days among 10k bookings: (a) all 10k inside the window, (b) 10k spread
  // over 417 days and the window somewhere in the middle.
  const dense = new Engine();
  dense.execute(
    [{ type: 'CreateResource', resource: { id: 'r', parentId: null, name: null, capacity: 1, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [] } }],
    T0,
  );
  for (let i = 0; i < 10_000; i += 1000) {
    const batch: Command[] = [];
    for (let j = i; j < i + 1000; j++) batch.push(book(`b${j}`, 'r', T0 + j * 60_480, T0 + j * 60_480 + 30_000));
    dense.execute(batch, T0);
  }
  results.push(
    measure('availability, 7 days, 10k bookings inside the window', ms, () => {
      dense.availability({ resourceIds: ['r'], start: T0, end: T0 + 7 * DAY }, T0);
    }),
  );
  const sparse = filled(10_000, 1);
  results.push(
    measure('availability, 7 days, on a resource of 10k bookings (168 in the window)', ms, (i) => {
      const start = T0 + (i % 400) * DAY;
      sparse.availability({ resourceIds: ['r'], start, end: start + 7 * DAY }, T0);
    }),
  );
  results.push(...openingHours(ms));
  results.push(...pools(ms));
  return results;
}

/**
 * A crew of 10 (c0 can direct, c1..c9 only film), each with a booking every other hour for 40
 * days: a statement of 9 cameras and 1 director, decided (and undone) at a free hour. Trying
 * members row by row gives c0 a camera and leaves no director, so the matching search decides;
 * beside it, the same statement with the director row first (row by row suffices), and one
 * refused (10 cameras and a director from 10 people).
 */
function pools(ms: number): EngineBenchResult[] {
  const e = new Engine();
  const crew: Command[] = [
    { type: 'CreateResource', resource: { id: 'crew', parentId: null, name: null, capacity: 0, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [] } },
  ];
  for (let k = 0; k < 10; k++) {
    crew.push({
      type: 'CreateResource',
      resource: {
        id: `c${k}`,
        parentId: 'crew',
        name: null,
        capacity: 1,
        bufferBeforeMs: 0,
        bufferAfterMs: 0,
        capabilities: k === 0 ? ['camera', 'director'] : ['camera'],
      },
    });
  }
  e.execute(crew, T0);
  for (let k = 0; k < 10; k++) {
    const batch: Command[] = [];
    for (let h = 0; h < 40 * 24; h += 2) batch.push(book(`c${k}-${h}`, `c${k}`, T0 + h * 60 * MIN, T0 + (h + 1) * 60 * MIN));
    e.execute(batch, T0);
  }
  const row = (i: number, role: string, quantity: number, hour: number): Command => ({
    type: 'BookFromPool',
    request: {
      ids: Array.from({ length: quantity }, (_, k) => `p${i}-${role}-${k}`),
      poolId: 'crew',
      start: T0 + hour * 60 * MIN,
      end: T0 + (hour + 1) * 60 * MIN,
      capabilities: [role],
      label: null,
      userId: null,
      policyId: null,
      groupId: null,
    },
  });
  const hour = (i: number): number => 1 + 2 * (i % 400);
  const run = (cmds: Command[], ok: boolean): void => {
    try {
      e.dryRun(cmds, T0, () => undefined);
      if (!ok) throw new Error('bench: expected a refusal');
    } catch (err) {
      if (ok || !(err instanceof Error) || !('sqlstate' in err)) throw err;
    }
  };
  return [
    measure('pool statement, 1 director + 9 cameras of 10 (row by row suffices)', ms, (i) => {
      run([row(i, 'director', 1, hour(i)), row(i, 'camera', 9, hour(i))], true);
    }),
    measure('pool statement, 9 cameras + 1 director of 10 (the matching search decides)', ms, (i) => {
      run([row(i, 'camera', 9, hour(i)), row(i, 'director', 1, hour(i))], true);
    }),
    measure('pool statement, 10 cameras + 1 director of 10 (refused, the row named)', ms, (i) => {
      run([row(i, 'camera', 10, hour(i)), row(i, 'director', 1, hour(i))], false);
    }),
  ];
}

/**
 * Weekdays 09:00-17:00 Berlin time as one forever RRULE, and as the same windows one-off (two
 * years of them), each resource with a booking every weekday: 7-day availability, the window
 * moving through the year. The answers are compared before anything is timed.
 */
function openingHours(ms: number): EngineBenchResult[] {
  const berlin = zoneRule('Europe/Berlin')!;
  const resource = (e: Engine): void => {
    e.execute(
      [{ type: 'CreateResource', resource: { id: 'r', parentId: null, name: null, capacity: 1, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [] } }],
      T0,
    );
  };
  const day0 = daysFromCivil(2026, 1, 5); // a Monday
  const at = (day: number, hour: number): number => localToInstant((day0 + day) * DAY + hour * 3_600_000, berlin, 'earlier');
  const weekly = new Engine();
  resource(weekly);
  weekly.execute(
    [
      {
        type: 'CreateRule',
        rule: {
          id: 'hours',
          resourceId: 'r',
          start: at(0, 9),
          end: at(0, 17),
          blocking: false,
          policyId: null,
          recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', tz: 'Europe/Berlin', exdates: [] },
        },
      },
    ],
    T0,
  );
  const oneOff = new Engine();
  resource(oneOff);
  const rules: Command[] = [];
  const bookings: Command[] = [];
  for (let d = 0; d < 730; d++) {
    if (d % 7 >= 5) continue;
    rules.push({ type: 'CreateRule', rule: { id: `h${d}`, resourceId: 'r', start: at(d, 9), end: at(d, 17), blocking: false, policyId: null } });
    if (d < 365) bookings.push(book(`b${d}`, 'r', at(d, 11), at(d, 12)));
  }
  oneOff.execute(rules, T0);
  for (const e of [weekly, oneOff]) e.execute(bookings, T0);
  const window = (i: number): { resourceIds: string[]; start: number; end: number } => {
    const start = at(i % 350, 0);
    return { resourceIds: ['r'], start, end: start + 7 * DAY };
  };
  for (let i = 0; i < 350; i++) {
    const a = JSON.stringify(weekly.availability(window(i), T0));
    if (a !== JSON.stringify(oneOff.availability(window(i), T0))) throw new Error(`bench: the weekly rule and its one-off copies differ on day ${i}`);
  }
  return [
    measure('availability, 7 days, under one forever weekly rule (weekdays 9-17 Berlin)', ms, (i) => {
      weekly.availability(window(i), T0);
    }),
    measure('availability, 7 days, under the same hours as 520 one-off rules', ms, (i) => {
      oneOff.availability(window(i), T0);
    }),
  ];
}

export interface EngineMemoryResult {
  readonly bookings: number;
  readonly resources: number;
  readonly bytesPerBooking: number;
}

/**
 * Heap per booking: `bookings` at random over `resources` (capacity 1), measured after full
 * collections before and after, so only what the engine keeps counts.
 */
export function engineMemory(opts: { bookings: number; resources: number }): EngineMemoryResult {
  const e = new Engine();
  const resources: Command[] = [];
  for (let i = 0; i < opts.resources; i++)
    resources.push({
      type: 'CreateResource',
      resource: { id: `r${i}`, parentId: null, name: null, capacity: 1, bufferBeforeMs: 0, bufferAfterMs: 0, capabilities: [] },
    });
  e.execute(resources, T0);
  const before = memoryUsedAfterGc();
  // Slots of an hour over ~11 years, drawn without repeats per resource: no booking is refused.
  const perResource = Math.ceil(opts.bookings / opts.resources);
  for (let j = 0; j < opts.bookings; j++) {
    const r = j % opts.resources;
    const k = (Math.floor(j / opts.resources) * 7919) % (perResource * 97);
    e.execute([book(newId(), `r${r}`, T0 + k * 60 * MIN, T0 + k * 60 * MIN + 30 * MIN)], T0);
  }
  const bytes = memoryUsedAfterGc() - before;
  // Read after the measure, so the engine is certainly still reachable during it.
  if (e.store.bookings.size !== opts.bookings) throw new Error('bench: a booking was refused');
  return { bookings: opts.bookings, resources: opts.resources, bytesPerBooking: Math.round(bytes / opts.bookings) };
}

export function printEngineBench(results: readonly EngineBenchResult[]): void {
  console.log('engine (no SQL, no wire, no disk)');
  for (const r of results) console.log(`  ${r.name.padEnd(78)} ${String(r.opsPerSec).padStart(9)} ops/s ${String(r.usPerOp).padStart(8)} µs/op`);
}
