/**
 * Savepoints in a draft (`markDraft` / `rewindDraft`): for random blocks of statements,
 * savepoints, RELEASEs and ROLLBACK TOs, with other sessions' commits and look-ins taking the
 * draft out between steps, and refused statements aborting the block until a ROLLBACK TO, the
 * draft must always hold exactly what one execute of the statements still kept gives at the
 * block's instant (after those commits), and COMMIT must keep exactly that, as the brute-force
 * model says. The model of savepoints is PostgreSQL's: a stack of names, the newest of a name
 * wins, RELEASE drops it and every later one, ROLLBACK TO drops the later ones and keeps it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, type Draft, type DraftMark } from '../../src/engine/engine.js';
import type { Command, CommandResult } from '../../src/engine/types.js';
import { Limits } from '../../src/engine/limits.js';
import { AllotError } from '../../src/errors.js';
import { book, hold, newEngine, resource } from './helpers.js';
import { emptyModel, modelExecute, type ModelResult, type ModelState } from './model.js';

const RUNS = Number(process.env.ALLOT_PROPERTY_RUNS ?? 1000);
// The model tries every start of an offer's horizon: keep it to the small time line.
(Limits as { offerHorizonMs: number }).offerHorizonMs = 12;

// ---- commands on a small world: r0 { r1, r2 }, r3; a 0..40 time line ---------------------

const rid = fc.constantFrom('r0', 'r1', 'r2', 'r3');
const bookingId = fc.constantFrom('b0', 'b1', 'b2', 'b3', 'b4');
const holdId = fc.constantFrom('h0', 'h1');
const span = fc.tuple(fc.integer({ min: 0, max: 34 }), fc.integer({ min: 1, max: 6 })).map(([s, l]) => ({ start: s, end: s + l }));

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({ id: bookingId, resourceId: rid, span, skip: fc.boolean() })
      .map((r) => book(r.id, r.resourceId, r.span.start, r.span.end, r.skip ? { onConflictSkip: true } : {})),
  },
  { weight: 3, arbitrary: fc.record({ id: holdId, resourceId: rid, span }).map((r) => hold(r.id, r.resourceId, r.span.start, r.span.end, 100)) },
  { weight: 2, arbitrary: fc.record({ id: bookingId, hold: holdId }).map((r): Command => ({ type: 'CreateBooking', booking: { id: r.id, holdId: r.hold } })) },
  { weight: 2, arbitrary: fc.record({ id: bookingId, span }).map((r): Command => ({ type: 'UpdateBookings', target: { id: r.id }, patch: r.span })) },
  { weight: 2, arbitrary: bookingId.map((id): Command => ({ type: 'CancelBookings', target: { id } })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ id: rid, capacity: fc.integer({ min: 0, max: 3 }) })
      .map((r): Command => ({ type: 'UpdateResource', id: r.id, patch: { capacity: r.capacity } })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ ids: fc.uniqueArray(bookingId, { minLength: 1, maxLength: 2 }), span }).map(
      (r): Command => ({
        type: 'BookFromPool',
        request: { ids: r.ids, poolId: 'r0', ...r.span, capabilities: [], label: null, userId: null, policyId: null, groupId: null },
      }),
    ),
  },
);

const name = fc.constantFrom('a', 'b', 'c');

type Step =
  | { readonly kind: 'statement'; readonly commands: Command[] }
  | { readonly kind: 'savepoint'; readonly name: string }
  | { readonly kind: 'release'; readonly name: string }
  | { readonly kind: 'rollbackTo'; readonly name: string }
  | { readonly kind: 'look' }
  | { readonly kind: 'commit'; readonly commands: Command[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.array(command, { minLength: 1, maxLength: 3 }).map((commands): Step => ({ kind: 'statement', commands })) },
  { weight: 3, arbitrary: name.map((n): Step => ({ kind: 'savepoint', name: n })) },
  { weight: 1, arbitrary: name.map((n): Step => ({ kind: 'release', name: n })) },
  { weight: 3, arbitrary: name.map((n): Step => ({ kind: 'rollbackTo', name: n })) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'look' }) },
  { weight: 1, arbitrary: fc.array(command, { minLength: 1, maxLength: 2 }).map((commands): Step => ({ kind: 'commit', commands })) },
);

const block = fc.record({
  setup: fc.array(command, { maxLength: 6 }),
  steps: fc.array(step, { minLength: 1, maxLength: 16 }),
  end: fc.constantFrom('commit', 'commit', 'rollback'),
});

const WORLD: Command[] = [
  resource('r0', { capacity: 0 }),
  resource('r1', { parentId: 'r0', capacity: 2, bufferAfterMs: 1 }),
  resource('r2', { parentId: 'r0' }),
  resource('r3', { capacity: 2 }),
];
const NOW = 5;

// ---- comparing ------------------------------------------------------------------------------

function stateOf(e: Engine): unknown {
  const c = e.capture();
  const byId = <T extends { id: string }>(xs: readonly T[]): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    resources: byId(c.resources),
    policies: byId(c.policies),
    rules: byId(c.rules),
    bookings: byId(c.bookings),
    holds: byId(c.holds),
    outages: byId(c.outages),
  };
}

function modelStateOf(m: ModelState): unknown {
  const byId = <T extends { id: string }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    resources: byId(m.resources.values()),
    policies: byId(m.policies.values()),
    rules: byId(m.rules.values()),
    bookings: byId(m.bookings.values()),
    holds: byId(m.holds.values()),
    outages: byId(m.outages.values()),
  };
}

function resultOf(r: CommandResult): ModelResult {
  if (r.type === 'skipped') return { type: 'skipped' };
  if (r.type === 'count') return { type: 'count', count: r.count };
  return { type: 'rows', ids: r.rows.map((x) => x.id) };
}

function refused<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AllotError) return null;
    throw err;
  }
}

/** A savepoint of the test's block: the engine's mark, and how many statements were kept then. */
interface Saved {
  readonly name: string;
  readonly mark: DraftMark;
  readonly kept: number;
}

// ---- the property ---------------------------------------------------------------------------

describe('savepoints in a draft', () => {
  it(`keep exactly the statements not rolled back, as one execute and the model give them (${RUNS} random blocks)`, () => {
    fc.assert(
      fc.property(block, ({ setup, steps, end }) => {
        const engine = new Engine({ checkInvariants: true });
        const twin = new Engine({ checkInvariants: true });
        let model = emptyModel();
        const commitElsewhere = (cmds: Command[]): void => {
          const got = refused(() => engine.execute(cmds, NOW));
          const want = modelExecute(model, cmds, NOW);
          expect(got !== null).toBe(want.ok);
          if (want.ok) {
            twin.execute(cmds, NOW);
            model = want.state;
          }
        };
        commitElsewhere(WORLD);
        for (const c of setup) commitElsewhere([c]);
        const d: Draft = engine.openDraft(NOW);
        /** Statements kept, in order: what the draft must hold. */
        const kept: Command[][] = [];
        const saved: Saved[] = [];
        let aborted = false;
        /** The draft in the engine again, as a block's next statement puts it; false: 40001. */
        const putBack = (): boolean => {
          if (engine.drafted === d) return true;
          return refused(() => engine.reopenDraft(d)) === true;
        };
        const keptCommands = (): Command[] => kept.flat();
        /** Where each kept statement ends in `keptCommands()`. */
        const keptEnds = (): number[] => {
          let n = 0;
          return kept.map((st) => (n += st.length));
        };
        /** In the engine, the draft holds what one execute of the kept statements gives on what others committed. */
        const checkDraft = (): void => {
          const all = keptCommands();
          expect(d.commands).toEqual(all);
          expect(engine.drafted).toBe(d);
          const once = twin.dryRun(all, NOW, (o) => ({ effects: [...o.effects], state: stateOf(twin) }), keptEnds());
          expect(d.effects).toEqual(once.effects);
          expect(stateOf(engine)).toEqual(once.state);
        };
        for (const s of steps) {
          if (aborted && s.kind !== 'rollbackTo' && s.kind !== 'look' && s.kind !== 'commit') continue;
          switch (s.kind) {
            case 'statement': {
              if (!putBack()) {
                aborted = true;
                expect(engine.drafted).toBeNull();
                expect(stateOf(engine)).toEqual(stateOf(twin));
                break;
              }
              const before = stateOf(engine);
              const out = refused(() => engine.draft(d, s.commands));
              if (out === null) {
                expect(stateOf(engine)).toEqual(before);
                // The session takes a failed block's draft out and waits for ROLLBACK (TO).
                engine.closeDraft(d);
                aborted = true;
                expect(d.commands).toEqual(keptCommands());
              } else {
                kept.push(s.commands);
                checkDraft();
              }
              break;
            }
            case 'savepoint':
              saved.push({ name: s.name, mark: engine.markDraft(d), kept: kept.length });
              break;
            case 'release': {
              const i = saved.map((x) => x.name).lastIndexOf(s.name);
              if (i >= 0) saved.length = i;
              break;
            }
            case 'rollbackTo': {
              const i = saved.map((x) => x.name).lastIndexOf(s.name);
              if (i < 0) break; // 3B001: the block stays as it is (aborted, in a session)
              const sp = saved[i]!;
              saved.length = i + 1;
              engine.rewindDraft(d, sp.mark);
              kept.length = sp.kept;
              aborted = false;
              expect(d.commands).toEqual(keptCommands());
              if (putBack()) checkDraft();
              else {
                // What others committed leaves no room for even the kept statements: 40001.
                aborted = true;
                expect(
                  refused(() =>
                    twin.dryRun(
                      keptCommands(),
                      NOW,
                      (o) => o.effects.length === d.effects.length && JSON.stringify(o.effects) === JSON.stringify(d.effects),
                      keptEnds(),
                    ),
                  ),
                ).not.toBe(true);
              }
              break;
            }
            case 'look':
              engine.closeDraft();
              expect(stateOf(engine)).toEqual(stateOf(twin));
              break;
            case 'commit':
              engine.closeDraft();
              commitElsewhere(s.commands);
              break;
          }
        }
        if (end === 'rollback' || aborted || !putBack()) {
          engine.closeDraft(d);
          expect(stateOf(engine)).toEqual(stateOf(twin));
          return;
        }
        const all = keptCommands();
        const committed = engine.keepDraft(d);
        if (all.length === 0) {
          expect(committed.effects).toEqual([]);
          expect(stateOf(engine)).toEqual(stateOf(twin));
          return;
        }
        const once = twin.execute(all, NOW, keptEnds());
        expect(committed.effects).toEqual(once.effects);
        expect(stateOf(engine)).toEqual(stateOf(twin));
        const want = modelExecute(model, all, NOW, keptEnds());
        expect(want.ok).toBe(true);
        if (want.ok) {
          expect(once.results.map(resultOf)).toEqual(want.results);
          expect(modelStateOf(want.state)).toEqual(stateOf(engine));
        }
        // The inverse undoes exactly what was committed (a failed log write relies on it).
        engine.replay([...committed.inverse].reverse());
        twin.replay([...once.inverse].reverse());
        expect(stateOf(engine)).toEqual(stateOf(twin));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('rewindDraft', () => {
  it('undoes in the store while the draft stayed in, and cuts the draft short while it was out', () => {
    const e = newEngine();
    e.execute([resource('r', { capacity: 3 })], 0);
    const d = e.openDraft(0);
    e.draft(d, [book('a', 'r', 0, 10)]);
    const m = e.markDraft(d);
    e.draft(d, [book('b', 'r', 0, 10)]);
    e.rewindDraft(d, m);
    expect(e.drafted).toBe(d);
    expect(e.booking('b')).toBeUndefined();
    expect(d.commands).toHaveLength(1);
    // Taken out and put back after the mark: the mark's store position means nothing now.
    e.draft(d, [book('c', 'r', 0, 10)]);
    e.closeDraft();
    expect(e.reopenDraft(d)).toBe(true);
    e.rewindDraft(d, m);
    expect(e.drafted).toBeNull();
    expect(e.reopenDraft(d)).toBe(true);
    expect([e.booking('a')?.id, e.booking('c')]).toEqual(['a', undefined]);
    // To the start: nothing of the draft is left, and its instant stays.
    e.rewindDraft(d, null);
    expect(e.booking('a')).toBeUndefined();
    expect([d.commands.length, d.effects.length, d.rows, d.now]).toEqual([0, 0, 0, 0]);
    expect(e.keepDraft(d).effects).toEqual([]);
  });

  it("refuses a mark of another draft, or one past the draft's end", () => {
    const e = newEngine();
    e.execute([resource('r', { capacity: 3 })], 0);
    const d = e.openDraft(0);
    e.draft(d, [book('a', 'r', 0, 10)]);
    const late = e.markDraft(d);
    e.rewindDraft(d, null);
    expect(() => e.rewindDraft(d, late)).toThrow('past its end');
    e.closeDraft();
    const other = e.openDraft(0);
    expect(() => e.rewindDraft(other, late)).toThrow('a mark not made on this draft');
  });
});
