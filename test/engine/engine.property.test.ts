/**
 * Random sequences of operations, run against the engine and the brute-force model: they must
 * agree on every accept/reject (and the SQLSTATE and entries named), every result, the whole
 * state after each step, and every availability answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, type CapturedState } from '../../src/engine/engine.js';
import type { Command, CommandResult, Conflict, PoolStrategy } from '../../src/engine/types.js';
import { Limits } from '../../src/engine/limits.js';
import { AllotError } from '../../src/errors.js';
import { emptyModel, modelAvailability, modelExecute, modelNextFree, sameConflicts, type ModelResult, type ModelState } from './model.js';

const RUNS = Number(process.env.ALLOT_PROPERTY_RUNS ?? 1000);
// Offers on refusal look this far either side, so the model can try every start.
(Limits as { offerHorizonMs: number }).offerHorizonMs = 12;
const NEXT_HORIZON = 30;
(Limits as { nextFreeHorizonMs: number }).nextFreeHorizonMs = NEXT_HORIZON;

const rid = fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4');
const ruleId = fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5');
const bookingId = fc.constantFrom('b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7');
const holdId = fc.constantFrom('h0', 'h1', 'h2', 'h3');
const groupId = fc.option(fc.constantFrom('g0', 'g1'), { nil: null });
const policyId = fc.option(fc.constantFrom('p0', 'p0', 'p0', 'p1', 'p2'), { nil: null, freq: 3 });
const userId = fc.option(fc.constantFrom('ann', 'ann', 'bob'), { nil: null, freq: 4 });
const caps = fc.uniqueArray(fc.constantFrom('c0', 'c1', 'c2'), { maxLength: 3 });
const needs = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as string[]) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom('c0', 'c1'), { maxLength: 2 }) },
);
/** Mostly well-formed spans on a 0..40 line, now and then an empty or inverted one. */
const span = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.integer({ min: 0, max: 36 }), fc.integer({ min: 1, max: 8 })).map(([s, l]) => ({ start: s, end: s + l })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })).map(([s, e]) => ({ start: s, end: e })) },
);

const createResource = fc
  .record({
    id: rid,
    parentId: fc.option(rid, { nil: null }),
    capacity: fc.integer({ min: 0, max: 3 }),
    before: fc.integer({ min: 0, max: 2 }),
    after: fc.integer({ min: 0, max: 3 }),
    caps,
    strategy: fc.option(fc.constantFrom<PoolStrategy>('id_order', 'fewest_bookings', 'round_robin'), { nil: undefined }),
  })
  .map(
    (r): Command => ({
      type: 'CreateResource',
      resource: {
        id: r.id,
        parentId: r.parentId,
        name: null,
        capacity: r.capacity,
        bufferBeforeMs: r.before,
        bufferAfterMs: r.after,
        capabilities: r.caps,
        ...(r.strategy !== undefined ? { poolStrategy: r.strategy } : {}),
      },
    }),
  );
const updateResource = fc
  .record({
    id: rid,
    parentId: fc.option(fc.option(rid, { nil: null }), { nil: undefined }),
    capacity: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    before: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    after: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    caps: fc.option(caps, { nil: undefined }),
    // Offline now and then, back online more often.
    status: fc.option(fc.constantFrom<'online' | 'offline'>('online', 'online', 'offline'), { nil: undefined, freq: 2 }),
    strategy: fc.option(fc.constantFrom<PoolStrategy>('id_order', 'fewest_bookings', 'round_robin'), { nil: undefined, freq: 3 }),
    cursor: fc.option(fc.option(rid, { nil: null }), { nil: undefined, freq: 4 }),
  })
  .map(
    (r): Command => ({
      type: 'UpdateResource',
      id: r.id,
      patch: {
        ...(r.parentId !== undefined ? { parentId: r.parentId } : {}),
        ...(r.capacity !== undefined ? { capacity: r.capacity } : {}),
        ...(r.before !== undefined ? { bufferBeforeMs: r.before } : {}),
        ...(r.after !== undefined ? { bufferAfterMs: r.after } : {}),
        ...(r.caps !== undefined ? { capabilities: r.caps } : {}),
        ...(r.status !== undefined ? { status: r.status, statusReason: r.status === 'offline' ? 'service' : null } : {}),
        ...(r.strategy !== undefined ? { poolStrategy: r.strategy } : {}),
        ...(r.cursor !== undefined ? { poolCursor: r.cursor } : {}),
      },
    }),
  );
const createRule = fc
  .record({ id: ruleId, resourceId: rid, span, blocking: fc.boolean(), policyId: fc.option(fc.constantFrom('p0', 'p1'), { nil: null, freq: 3 }) })
  .map((r): Command => ({ type: 'CreateRule', rule: { id: r.id, resourceId: r.resourceId, ...r.span, blocking: r.blocking, policyId: r.policyId } }));
const updateRule = fc
  .record({ id: ruleId, span: fc.option(span, { nil: undefined }), blocking: fc.option(fc.boolean(), { nil: undefined }) })
  .map((r): Command => ({ type: 'UpdateRule', id: r.id, patch: { ...(r.span ?? {}), ...(r.blocking !== undefined ? { blocking: r.blocking } : {}) } }));
const placeHold = fc
  .record({ id: holdId, resourceId: rid, span, ttl: fc.integer({ min: 0, max: 6 }), caps: needs, userId, policyId, groupId, skip: fc.boolean() })
  .map(
    (r) =>
      (now: number): Command => ({
        type: 'PlaceHold',
        hold: {
          id: r.id,
          resourceId: r.resourceId,
          ...r.span,
          expiresAt: now + r.ttl,
          label: null,
          capabilities: r.caps,
          userId: r.userId,
          policyId: r.policyId,
          groupId: r.groupId,
        },
        ...(r.skip ? { onConflictSkip: true } : {}),
      }),
  );
const createBooking = fc.record({ id: bookingId, resourceId: rid, span, caps: needs, userId, policyId, groupId, skip: fc.boolean() }).map(
  (r): Command => ({
    type: 'CreateBooking',
    booking: { id: r.id, resourceId: r.resourceId, ...r.span, capabilities: r.caps, userId: r.userId, policyId: r.policyId, groupId: r.groupId },
    ...(r.skip ? { onConflictSkip: true } : {}),
  }),
);
const convertHold = fc.record({ id: bookingId, hold: holdId }).map((r): Command => ({ type: 'CreateBooking', booking: { id: r.id, holdId: r.hold } }));
/** Bookings by what they are: a resource, a user, a policy, a span, or several of these. */
const bookingFilter = fc
  .record(
    {
      resourceId: rid,
      userId: fc.constantFrom('ann', 'bob'),
      policyId: fc.constantFrom('p0', 'p1'),
      startFrom: fc.integer({ min: 0, max: 40 }),
      endTo: fc.integer({ min: 0, max: 46 }),
    },
    { requiredKeys: [] },
  )
  .map((filter) => ({ filter }));
const updateBookings = fc
  .record({
    target: fc.oneof(
      bookingId.map((id) => ({ id })),
      fc.constantFrom('g0', 'g1').map((g) => ({ groupId: g })),
      bookingFilter,
    ),
    span: fc.option(
      fc.oneof(
        span,
        fc.integer({ min: 1, max: 44 }).map((end) => ({ end })),
      ),
      { nil: undefined },
    ),
    resourceId: fc.option(rid, { nil: undefined }),
    owner: fc.option(fc.record({ userId, policyId }), { nil: undefined, freq: 4 }),
    // Computed from each row: moved by `shift`, or its end moved by `grow` (SET "end" = "end" + …).
    perRow: fc.option(fc.record({ shift: fc.integer({ min: -3, max: 3 }), grow: fc.integer({ min: -2, max: 3 }) }), { nil: undefined, freq: 3 }),
  })
  .map(
    (r): Command => ({
      type: 'UpdateBookings',
      target: r.target,
      patch: { ...(r.span ?? {}), ...(r.resourceId !== undefined ? { resourceId: r.resourceId } : {}), ...(r.owner ?? {}) },
      ...(r.perRow !== undefined
        ? { perRow: (b: { start: number; end: number }) => ({ start: b.start + r.perRow!.shift, end: b.end + r.perRow!.shift + r.perRow!.grow }) }
        : {}),
    }),
  );
const cancelBookings = fc
  .oneof(
    bookingId.map((id) => ({ id })),
    fc.constantFrom('g0', 'g1').map((g) => ({ groupId: g })),
    bookingFilter,
  )
  .map((target): Command => ({ type: 'CancelBookings', target }));

const outageId = fc.constantFrom('o0', 'o1', 'o2');
const outageCaps = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as string[]) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom('c0', 'c1'), { minLength: 1, maxLength: 2 }) },
);
const createOutage = fc
  .record({
    id: outageId,
    resourceId: rid,
    planned: fc.boolean(),
    start: fc.integer({ min: 0, max: 36 }),
    length: fc.option(fc.integer({ min: 1, max: 10 }), { nil: null }),
    window: fc.integer({ min: 0, max: 6 }),
    caps: outageCaps,
  })
  .map(
    (r): Command => ({
      type: 'CreateOutage',
      outage: {
        id: r.id,
        resourceId: r.resourceId,
        kind: r.planned ? 'planned' : 'unplanned',
        start: r.start,
        end: r.length === null ? null : r.start + r.length,
        slidingWindowMs: r.planned ? null : r.window,
        capabilities: r.caps,
        reason: null,
        declaredAt: 0,
      },
    }),
  );
const updateOutage = fc
  .record({
    id: outageId,
    end: fc.option(fc.option(fc.integer({ min: 0, max: 46 }), { nil: null }), { nil: undefined }),
    window: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  })
  .map(
    (r): Command => ({
      type: 'UpdateOutage',
      id: r.id,
      patch: { ...(r.end !== undefined ? { end: r.end } : {}), ...(r.window !== undefined ? { slidingWindowMs: r.window } : {}) },
    }),
  );

/** Limits on the 0..40 line; null (no limit) as often as not. */
const limit = (max: number): fc.Arbitrary<number | null> => fc.option(fc.integer({ min: 0, max }), { nil: null });
const policyLimits = fc.record({
  minDurationMs: limit(3),
  maxDurationMs: fc.option(fc.integer({ min: 3, max: 8 }), { nil: null }),
  bookAheadMs: fc.option(fc.integer({ min: 5, max: 30 }), { nil: null }),
  maxBookings: limit(3),
  maxUsageMs: fc.option(fc.integer({ min: 2, max: 16 }), { nil: null }),
  startsWithinMs: fc.option(fc.integer({ min: 5, max: 40 }), { nil: null, freq: 4 }),
  allowStartInPastMs: limit(6),
});
/** A policy that is mostly quotas, so users run into them. */
const quotas = fc.record({
  minDurationMs: fc.constant(null),
  maxDurationMs: fc.constant(null),
  bookAheadMs: fc.constant(null),
  maxBookings: fc.integer({ min: 1, max: 3 }),
  maxUsageMs: fc.option(fc.integer({ min: 4, max: 16 }), { nil: null, freq: 4 }),
  startsWithinMs: fc.constant(null),
  allowStartInPastMs: fc.constant(null),
});
const createPolicy = fc
  .record({ id: fc.constantFrom('p0', 'p1', 'p2'), limits: policyLimits })
  .map((r): Command => ({ type: 'CreatePolicy', policy: { id: r.id, name: null, ...r.limits } }));
const updatePolicy = fc
  .record({
    id: fc.constantFrom('p0', 'p1', 'p2'),
    limits: policyLimits,
    keys: fc.uniqueArray(
      fc.constantFrom('minDurationMs', 'maxDurationMs', 'bookAheadMs', 'maxBookings', 'maxUsageMs', 'startsWithinMs', 'allowStartInPastMs'),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map((r): Command => ({ type: 'UpdatePolicy', id: r.id, patch: Object.fromEntries(r.keys.map((k) => [k, r.limits[k as keyof typeof r.limits]])) }));
const bookFromPool = fc
  .record({
    ids: fc.array(bookingId, { minLength: 1, maxLength: 2 }),
    pool: fc.constantFrom('r0', 'r0', 'r1', 'r4'),
    span,
    caps: needs,
    userId,
    policyId,
    groupId,
  })
  .map(
    (r): Command => ({
      type: 'BookFromPool',
      request: { ids: r.ids, poolId: r.pool, ...r.span, capabilities: r.caps, label: null, userId: r.userId, policyId: r.policyId, groupId: r.groupId },
    }),
  );

type MakeCommand = (now: number) => Command;
const constant = (a: fc.Arbitrary<Command>): fc.Arbitrary<MakeCommand> => a.map((c) => () => c);
const command: fc.Arbitrary<MakeCommand> = fc.oneof(
  { weight: 4, arbitrary: constant(createResource) },
  { weight: 2, arbitrary: constant(updateResource) },
  { weight: 1, arbitrary: constant(rid.map((id): Command => ({ type: 'DeleteResource', id }))) },
  { weight: 3, arbitrary: constant(createRule) },
  { weight: 1, arbitrary: constant(updateRule) },
  { weight: 1, arbitrary: constant(ruleId.map((id): Command => ({ type: 'DeleteRule', id }))) },
  { weight: 3, arbitrary: placeHold },
  { weight: 1, arbitrary: constant(holdId.map((id): Command => ({ type: 'ReleaseHold', id }))) },
  { weight: 1, arbitrary: constant(fc.constantFrom('g0', 'g1').map((g): Command => ({ type: 'ReleaseHoldGroup', groupId: g }))) },
  { weight: 1, arbitrary: constant(bookingFilter.map(({ filter }): Command => ({ type: 'ReleaseHolds', filter }))) },
  { weight: 8, arbitrary: constant(createBooking) },
  { weight: 2, arbitrary: constant(convertHold) },
  { weight: 2, arbitrary: constant(updateBookings) },
  { weight: 1, arbitrary: constant(cancelBookings) },
  { weight: 1, arbitrary: constant(fc.integer({ min: 1, max: 3 }).map((limit): Command => ({ type: 'ExpireHolds', limit }))) },
  { weight: 2, arbitrary: constant(createOutage) },
  { weight: 1, arbitrary: constant(updateOutage) },
  { weight: 1, arbitrary: constant(outageId.map((id): Command => ({ type: 'DeleteOutage', id }))) },
  { weight: 2, arbitrary: constant(fc.constant<Command>({ type: 'ApplyOutages', limit: 10_000 })) },
  { weight: 1, arbitrary: constant(createPolicy) },
  { weight: 1, arbitrary: constant(updatePolicy) },
  { weight: 1, arbitrary: constant(fc.constantFrom('p0', 'p1', 'p2').map((id): Command => ({ type: 'DeletePolicy', id }))) },
  { weight: 3, arbitrary: constant(bookFromPool) },
);

const query = fc.record({
  resourceIds: fc.uniqueArray(fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'rX'), { minLength: 1, maxLength: 3 }),
  start: fc.integer({ min: 0, max: 30 }),
  length: fc.integer({ min: 1, max: 14 }),
  minDurationMs: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  capabilities: fc.option(needs, { nil: undefined }),
  policyId: fc.option(fc.constantFrom('p0', 'p1'), { nil: undefined }),
  minAvailable: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  probe: fc.record({ resourceId: rid, start: fc.integer({ min: 0, max: 36 }), length: fc.integer({ min: 1, max: 6 }) }),
  next: fc.record({ id: rid, pool: fc.boolean(), quantity: fc.integer({ min: 1, max: 2 }), userId }),
});

/** Pool rows of one statement, mostly of one span (one event's roles), matched together. */
const poolStatement = fc
  .record({ rows: fc.array(bookFromPool, { minLength: 2, maxLength: 3 }), span, same: fc.boolean() })
  .map(({ rows, span: common, same }) =>
    rows.map((c, i): MakeCommand => {
      const req = (c as Extract<Command, { type: 'BookFromPool' }>).request;
      // Ids per row, so rows do not collide on them by chance.
      const ids = req.ids.map((_, k) => `b${(i * 2 + k) % 8}`);
      return () => ({ type: 'BookFromPool', request: { ...req, ids, ...(same ? common : {}) } });
    }),
  );
const batch = fc.oneof(
  { weight: 6, arbitrary: fc.array(command, { minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.array(command, { minLength: 2, maxLength: 3 }) },
  { weight: 1, arbitrary: poolStatement },
);
const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('batch' as const), advance: fc.integer({ min: 0, max: 3 }), commands: batch }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('query' as const), advance: fc.integer({ min: 0, max: 2 }), q: query }) },
);

/** A starting tree: r0 { r1 { r3 }, r2 }, r4; random capacities, buffers and capabilities. */
const TREE: [string, string | null][] = [
  ['r0', null],
  ['r1', 'r0'],
  ['r2', 'r0'],
  ['r3', 'r1'],
  ['r4', null],
];
const setup = fc
  .tuple(
    fc.array(fc.record({ capacity: fc.integer({ min: 0, max: 3 }), before: fc.integer({ min: 0, max: 2 }), after: fc.integer({ min: 0, max: 3 }), caps }), {
      minLength: 5,
      maxLength: 5,
    }),
    fc.array(createRule, { maxLength: 3 }),
    fc.tuple(quotas, policyLimits),
  )
  .map(([cfg, rules, [p0, p1]]): Command[] => [
    { type: 'CreatePolicy', policy: { id: 'p0', name: null, ...p0 } },
    { type: 'CreatePolicy', policy: { id: 'p1', name: null, ...p1 } },
    ...TREE.map(([id, parentId], i): Command => {
      const c = cfg[i]!;
      // Mostly bookable: capacity 0 only now and then.
      const capacity = c.capacity === 0 && i % 2 === 0 ? 1 : c.capacity;
      return {
        type: 'CreateResource',
        resource: { id, parentId, name: null, capacity, bufferBeforeMs: c.before, bufferAfterMs: c.after, capabilities: c.caps },
      };
    }),
    ...rules,
  ]);

/** What an export holds: the captured state, less holds already expired. */
function restoreCommands(s: CapturedState, now: number): Command[] {
  return [
    ...s.resources.map((resource): Command => ({ type: 'CreateResource', resource })),
    ...s.policies.map((policy): Command => ({ type: 'CreatePolicy', policy })),
    ...s.rules.map((rule): Command => ({ type: 'CreateRule', rule })),
    ...s.bookings.map((b): Command => ({ type: 'CreateBooking', booking: b, restore: true })),
    ...s.holds.filter((h) => h.expiresAt > now).map((hold): Command => ({ type: 'PlaceHold', hold, restore: true })),
    ...s.outages.map((outage): Command => ({ type: 'CreateOutage', outage, restore: true })),
  ];
}

function offersOf(err: AllotError): unknown {
  return (JSON.parse(err.detail ?? '{}') as { offers?: unknown }).offers;
}

function conflictsOf(err: AllotError): Conflict[] {
  try {
    const d = JSON.parse(err.detail ?? '{}') as { conflicts?: Conflict[] };
    return sameConflicts(d.conflicts ?? []);
  } catch {
    return [];
  }
}

function resultOf(r: CommandResult): ModelResult {
  switch (r.type) {
    case 'skipped':
      return { type: 'skipped' };
    case 'count':
      return { type: 'count', count: r.count };
    default:
      return { type: 'rows', ids: r.rows.map((x) => x.id) };
  }
}

function stateOf(e: Engine): unknown {
  const s = e.store;
  const byId = <T extends { id: string }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    resources: byId([...s.resources.values()].map((n) => n.resource)),
    rules: byId(s.rules.values()),
    bookings: byId(s.bookings.values()),
    holds: byId(s.holds.values()),
    outages: byId(s.outages.values()),
    policies: byId(s.policies.values()),
  };
}

function modelStateOf(m: ModelState): unknown {
  const byId = <T extends { id: string }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    resources: byId(m.resources.values()),
    rules: byId(m.rules.values()),
    bookings: byId(m.bookings.values()),
    holds: byId(m.holds.values()),
    outages: byId(m.outages.values()),
    policies: byId(m.policies.values()),
  };
}

describe('engine agrees with the brute-force model', () => {
  it(`on ${RUNS} random sequences of operations`, () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 10, maxLength: 40 }), (initial, steps) => {
        const engine = new Engine({ checkInvariants: true });
        let model = emptyModel();
        let now = 0;
        for (const st of [{ kind: 'batch' as const, advance: 0, commands: initial.map((c) => () => c) }, ...steps]) {
          now += st.advance;
          if (st.kind === 'batch') {
            const cmds = st.commands.map((make) => make(now));
            const want = modelExecute(model, cmds, now);
            let got: { ok: true; results: ModelResult[] } | { ok: false; sqlstate: string; conflicts: Conflict[]; offers: unknown };
            const before = stateOf(engine);
            try {
              const out = engine.execute(cmds, now);
              got = { ok: true, results: out.results.map(resultOf) };
              // The inverse effects undo the batch exactly (a failed log write relies on it),
              // and replaying the effects redoes it.
              const after = stateOf(engine);
              engine.replay([...out.inverse].reverse());
              expect(stateOf(engine)).toEqual(before);
              engine.replay(out.effects);
              expect(stateOf(engine)).toEqual(after);
            } catch (err) {
              if (!(err instanceof AllotError)) throw err;
              got = { ok: false, sqlstate: err.sqlstate, conflicts: conflictsOf(err), offers: err.sqlstate === '23P01' ? offersOf(err) : undefined };
            }
            if (want.ok) {
              expect(got, JSON.stringify(cmds)).toEqual({ ok: true, results: want.results });
              model = want.state;
            } else {
              expect(got, JSON.stringify(cmds)).toEqual({
                ok: false,
                sqlstate: want.error.sqlstate,
                conflicts: want.error.conflicts,
                offers: want.error.offers,
              });
            }
            expect(stateOf(engine)).toEqual(modelStateOf(model));
          } else {
            const q = { ...st.q, end: st.q.start + st.q.length };
            // next_free: the first three back-to-back starts from the window's start where an
            // entry of the probe's length fits, on a resource or (quantity 1 or 2) from a pool.
            const nf = st.q.next;
            const ask = {
              ...(nf.pool ? { poolId: nf.id } : { resourceId: nf.id }),
              quantity: nf.pool ? nf.quantity : 1,
              length: st.q.probe.length,
              capabilities: st.q.capabilities ?? [],
              policyId: st.q.policyId ?? null,
              userId: nf.userId,
            };
            const gotNext = engine.nextFree({ ...ask, start: q.start, end: q.start + ask.length }, q.start, 3, now);
            expect(gotNext, JSON.stringify(ask)).toEqual(modelNextFree(model, ask, q.start, 3, now, NEXT_HORIZON));
            // availability_explain: every blocked instant of the window is named, and every
            // stretch named is blocked (policy rows speak of starts, not instants: left out).
            for (const rid of q.resourceIds) {
              if (engine.resource(rid) === undefined) continue;
              const rows = engine
                .explainAvailability({ resourceId: rid, start: q.start, end: q.end, capabilities: q.capabilities ?? [], policyId: q.policyId ?? null }, now)
                .filter((x) => x.reason !== 'policy');
              const spans = modelAvailability(
                model,
                { resourceIds: [rid], start: q.start, end: q.end, capabilities: q.capabilities, policyId: q.policyId },
                now,
              );
              const free = spans.merged ? spans.spans : spans.perResource[0]!.spans;
              for (let t = q.start; t < q.end; t++) {
                const open = free.some((x) => x.start <= t && t < x.end);
                const named = rows.some((x) => x.start <= t && t < x.end);
                expect(named, `${rid} at ${t}: ${JSON.stringify(rows)}`).toBe(!open);
              }
            }
            const plain = engine.availability(q, now);
            expect(plain, JSON.stringify(q)).toEqual(modelAvailability(model, q, now));
            // Spans made another way (the SQL layer's rows) carry the same values, with their resource.
            const made = engine.availabilityWith(q, now, (rid, start, end, free) => ({ rid, start, end, free }));
            expect(made).toEqual(
              plain.merged
                ? { merged: true, spans: plain.spans.map((s) => ({ rid: null, ...s })) }
                : {
                    merged: false,
                    perResource: plain.perResource.map((r) => ({ resourceId: r.resourceId, spans: r.spans.map((s) => ({ rid: r.resourceId, ...s })) })),
                  },
            );
            // A booking fits exactly where availability says every instant of it is free.
            const p = st.q.probe;
            const end = p.start + p.length;
            const free = engine.availability({ resourceIds: [p.resourceId], start: p.start, end }, now);
            const spans = free.merged ? [] : free.perResource[0]!.spans;
            const covered = spans.reduce((n, s) => n + (s.end - s.start), 0) === p.length;
            let fits = true;
            try {
              engine.dryRun([{ type: 'CreateBooking', booking: { id: 'probe', resourceId: p.resourceId, start: p.start, end } }], now, () => undefined);
            } catch (err) {
              if (!(err instanceof AllotError)) throw err;
              fits = false;
            }
            if (engine.resource(p.resourceId) !== undefined) expect(fits, JSON.stringify(p)).toBe(covered);
            expect(stateOf(engine)).toEqual(modelStateOf(model));
          }
        }
        // Export and import: the state restores exactly into an empty engine, whatever the
        // policies would now say, and the restored engine decides the same from there on.
        const restored = new Engine({ checkInvariants: true });
        restored.execute(restoreCommands(engine.capture(), now), now);
        engine.execute([{ type: 'ExpireHolds', limit: 10_000 }], now);
        expect(stateOf(restored)).toEqual(stateOf(engine));
      }),
      { numRuns: RUNS },
    );
  });
});
