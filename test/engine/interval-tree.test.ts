/** The interval tree against a sorted list: the list is the spec, the tree must agree. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalTree } from '../../src/engine/interval-tree.js';

interface Item {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

const byId = (a: Item, b: Item): number => a.id - b.id;
const order = (a: Item, b: Item): number => a.start - b.start || a.id - b.id;

type Op =
  | { readonly kind: 'insert'; readonly start: number; readonly length: number }
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'query'; readonly a: number; readonly length: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), start: fc.integer({ min: 0, max: 200 }), length: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('query' as const), a: fc.integer({ min: -10, max: 250 }), length: fc.integer({ min: 0, max: 60 }) }) },
);

describe('interval tree', () => {
  it('answers every query as a scan of a sorted list would, through inserts and deletes that reuse slots', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const tree = new IntervalTree<Item>(byId);
        let list: Item[] = [];
        let nextId = 0;
        const reused: (Item | undefined)[] = [{ id: -1, start: 0, end: 0 }, undefined, { id: -2, start: 5, end: 6 }];
        for (const o of ops) {
          if (o.kind === 'insert') {
            const item = { id: nextId++, start: o.start, end: o.start + o.length };
            tree.insert(item);
            list.push(item);
            list.sort(order);
          } else if (o.kind === 'delete') {
            if (list.length === 0) {
              expect(tree.delete({ id: -1, start: 0, end: 0 })).toBe(false);
              continue;
            }
            const victim = list[o.pick % list.length]!;
            expect(tree.delete(victim)).toBe(true);
            expect(tree.delete(victim)).toBe(false);
            list = list.filter((x) => x !== victim);
          } else {
            const [a, b] = [o.a, o.a + o.length];
            const want = list.filter((x) => x.start < b && x.end > a);
            expect(tree.collectOverlapping(a, b, [])).toEqual(want);
            // collectInto writes over a list kept between queries, from any index, and says where it stopped.
            const keep = reused.slice(0, o.a & 3);
            const end = tree.collectInto(a, b, reused, keep.length);
            expect(end).toBe(keep.length + want.length);
            expect(reused.slice(0, keep.length)).toEqual(keep);
            expect(reused.slice(keep.length, end)).toEqual(want);
            const seen: Item[] = [];
            tree.overlapping(a, b, (x) => seen.push(x));
            expect(seen).toEqual(want);
            const from: Item[] = [];
            tree.startingFrom(a, (x) => from.push(x) < 3);
            expect(from).toEqual(list.filter((x) => x.start >= a).slice(0, 3));
            const before: Item[] = [];
            tree.startingBefore(a, (x) => before.push(x) < 5);
            expect(before).toEqual(list.filter((x) => x.start < a).slice(0, 5));
          }
          expect(tree.size).toBe(list.length);
          expect(tree.first()).toBe(list[0]);
          tree.assertValid();
        }
        expect([...tree]).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a duplicate and a malformed span, and stays whole after the refusal', () => {
    const tree = new IntervalTree<Item>(byId);
    const a = { id: 1, start: 10, end: 20 };
    tree.insert(a);
    expect(() => tree.insert({ id: 1, start: 10, end: 30 })).toThrow(/duplicate/);
    expect(() => tree.insert({ id: 2, start: 30, end: 20 })).toThrow(/malformed/);
    tree.insert({ id: 3, start: 10, end: 12 });
    expect([...tree].map((x) => x.id)).toEqual([1, 3]);
    expect(tree.size).toBe(2);
    tree.assertValid();
  });
});
