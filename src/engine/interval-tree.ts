/**
 * An interval tree: a treap ordered by start, then by the owner's tie-break (unique among items),
 * whose nodes carry the largest `end` in their subtree, so "every item overlapping [a, b)" costs
 * O(log n + k) rather than a scan.
 * Priorities come from a fixed-seed generator: the shape never affects any answer, and the
 * same inserts always give the same tree.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Orders items with the same start; 0 only for the same item. */
export type TieBreak<T> = (a: T, b: T) => number;

/** No node: a child slot that is empty. */
const NIL = -1;
/** Per node: start, end, largest end below (Float64Array, stride 3). */
const START = 0;
const END = 1;
const MAX_END = 2;
/** Per node: left, right, priority (Int32Array, stride 3). */
const LEFT = 0;
const RIGHT = 1;
const PRIORITY = 2;
/**
 * Slots a tree takes at its first item. 16 rather than 4: a resource's first dozen bookings
 * then cost no regrowth of its two arrays (4 and 8 made two, a new pair each, for most
 * resources in a spread-out workload), for 432 more bytes on a resource that holds few.
 */
const FIRST_CAPACITY = 16;
/** Shared by every tree that never held an item (most resources have no rules or outages). */
const NO_TIMES = new Float64Array(0);
const NO_LINKS = new Int32Array(0);

/**
 * The tree lives in two typed arrays, a node being an index: times are doubles, which V8 would
 * box one by one as object fields, and a query reads them from contiguous memory without
 * touching the items until one overlaps. Freed slots are reused.
 */
export class IntervalTree<T extends Span> {
  private times = NO_TIMES;
  private links = NO_LINKS;
  private items: (T | undefined)[] = [];
  private root = NIL;
  private count = 0;
  private free = NIL; // freed slots, chained through LEFT
  private used = 0; // slots ever handed out
  private seed = 0x2545f491;

  /**
   * `tieBreak` orders items that start together. Nodes hold no key of their own: a key string
   * per item (a prefixed id) was about a ninth of the memory each booking takes.
   */
  constructor(private readonly tieBreak: TieBreak<T>) {}

  get size(): number {
    return this.count;
  }

  private nextPriority(): number {
    // xorshift32
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed >>> 1;
  }

  private alloc(item: T): number {
    let i = this.free;
    if (i !== NIL) this.free = this.links[i * 3 + LEFT]!;
    else {
      i = this.used++;
      if (i * 3 >= this.times.length) {
        const cap = Math.max(FIRST_CAPACITY, i * 2);
        const times = new Float64Array(cap * 3);
        times.set(this.times);
        this.times = times;
        const links = new Int32Array(cap * 3);
        links.set(this.links);
        this.links = links;
      }
    }
    const t = i * 3;
    this.times[t + START] = item.start;
    this.times[t + END] = item.end;
    this.times[t + MAX_END] = item.end;
    this.links[t + LEFT] = NIL;
    this.links[t + RIGHT] = NIL;
    this.links[t + PRIORITY] = this.nextPriority();
    this.items[i] = item;
    return i;
  }

  private release(i: number): void {
    this.items[i] = undefined;
    this.links[i * 3 + LEFT] = this.free;
    this.free = i;
  }

  /** Orders `item` against node `n`. */
  private compareTo(item: T, n: number): number {
    const s = this.times[n * 3 + START]!;
    if (item.start !== s) return item.start < s ? -1 : 1;
    return this.tieBreak(item, this.items[n]!);
  }

  private fix(n: number): void {
    const times = this.times;
    const links = this.links;
    let m = times[n * 3 + END]!;
    const l = links[n * 3 + LEFT]!;
    const r = links[n * 3 + RIGHT]!;
    if (l !== NIL && times[l * 3 + MAX_END]! > m) m = times[l * 3 + MAX_END]!;
    if (r !== NIL && times[r * 3 + MAX_END]! > m) m = times[r * 3 + MAX_END]!;
    times[n * 3 + MAX_END] = m;
  }

  private rotateRight(n: number): number {
    const links = this.links;
    const l = links[n * 3 + LEFT]!;
    links[n * 3 + LEFT] = links[l * 3 + RIGHT]!;
    links[l * 3 + RIGHT] = n;
    this.fix(n);
    this.fix(l);
    return l;
  }

  private rotateLeft(n: number): number {
    const links = this.links;
    const r = links[n * 3 + RIGHT]!;
    links[n * 3 + RIGHT] = links[r * 3 + LEFT]!;
    links[r * 3 + LEFT] = n;
    this.fix(n);
    this.fix(r);
    return r;
  }

  insert(item: T): void {
    if (!(item.start <= item.end)) throw new Error(`interval-tree: malformed span [${item.start}, ${item.end})`);
    const node = this.alloc(item);
    try {
      this.root = this.insertAt(this.root, node);
    } catch (e) {
      this.release(node);
      throw e;
    }
    this.count++;
  }

  private insertAt(n: number, node: number): number {
    if (n === NIL) return node;
    const links = this.links;
    const c = this.compareTo(this.items[node]!, n);
    if (c === 0) throw new Error(`interval-tree: duplicate item at ${this.times[node * 3 + START]}`);
    if (c < 0) {
      const l = this.insertAt(links[n * 3 + LEFT]!, node);
      links[n * 3 + LEFT] = l;
      if (links[l * 3 + PRIORITY]! > links[n * 3 + PRIORITY]!) return this.rotateRight(n);
    } else {
      const r = this.insertAt(links[n * 3 + RIGHT]!, node);
      links[n * 3 + RIGHT] = r;
      if (links[r * 3 + PRIORITY]! > links[n * 3 + PRIORITY]!) return this.rotateLeft(n);
    }
    this.fix(n);
    return n;
  }

  /** Removes the item that compares equal (same start, tie-break 0); returns whether it was there. */
  delete(item: T): boolean {
    const before = this.count;
    this.root = this.deleteAt(this.root, item);
    return this.count < before;
  }

  private deleteAt(n: number, item: T): number {
    if (n === NIL) return NIL;
    const links = this.links;
    const c = this.compareTo(item, n);
    if (c < 0) links[n * 3 + LEFT] = this.deleteAt(links[n * 3 + LEFT]!, item);
    else if (c > 0) links[n * 3 + RIGHT] = this.deleteAt(links[n * 3 + RIGHT]!, item);
    else {
      this.count--;
      const merged = this.merge(links[n * 3 + LEFT]!, links[n * 3 + RIGHT]!);
      this.release(n);
      return merged;
    }
    this.fix(n);
    return n;
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    const links = this.links;
    if (links[a * 3 + PRIORITY]! > links[b * 3 + PRIORITY]!) {
      links[a * 3 + RIGHT] = this.merge(links[a * 3 + RIGHT]!, b);
      this.fix(a);
      return a;
    }
    links[b * 3 + LEFT] = this.merge(a, links[b * 3 + LEFT]!);
    this.fix(b);
    return b;
  }

  /** Calls `fn` for every item with start < b and end > a, in (start, tie-break) order. */
  overlapping(a: number, b: number, fn: (item: T) => void): void {
    this.visit(this.root, a, b, fn);
  }

  // Plain recursive methods rather than closures: a query allocates nothing.
  private visit(n: number, a: number, b: number, fn: (item: T) => void): void {
    const times = this.times;
    const links = this.links;
    while (n !== NIL && times[n * 3 + MAX_END]! > a) {
      this.visit(links[n * 3 + LEFT]!, a, b, fn);
      if (times[n * 3 + START]! >= b) return;
      if (times[n * 3 + END]! > a) fn(this.items[n]!);
      n = links[n * 3 + RIGHT]!;
    }
  }

  /** Every item with start < b and end > a, in (start, tie-break) order, appended to `out`. */
  collectOverlapping(a: number, b: number, out: T[]): T[] {
    this.collect(this.root, a, b, out, out.length);
    return out;
  }

  /**
   * The same items written into `out` from index `from` on, over whatever is there (a list
   * reused from query to query is not regrown); returns the index after the last one written.
   */
  collectInto(a: number, b: number, out: (T | undefined)[], from: number): number {
    return this.collect(this.root, a, b, out, from);
  }

  private collect(n: number, a: number, b: number, out: (T | undefined)[], k: number): number {
    const times = this.times;
    const links = this.links;
    while (n !== NIL && times[n * 3 + MAX_END]! > a) {
      k = this.collect(links[n * 3 + LEFT]!, a, b, out, k);
      if (times[n * 3 + START]! >= b) return k;
      if (times[n * 3 + END]! > a) out[k++] = this.items[n]!;
      n = links[n * 3 + RIGHT]!;
    }
    return k;
  }

  /** Items with start < t, in order, until `fn` returns false. */
  startingBefore(t: number, fn: (item: T) => boolean): void {
    for (const i of this.inOrder()) {
      if (this.times[i * 3 + START]! >= t || !fn(this.items[i]!)) return;
    }
  }

  /** Items with start >= t, in order, until `fn` returns false. */
  startingFrom(t: number, fn: (item: T) => boolean): void {
    this.from(this.root, t, fn);
  }

  private from(n: number, t: number, fn: (item: T) => boolean): boolean {
    while (n !== NIL) {
      if (this.times[n * 3 + START]! >= t) {
        if (!this.from(this.links[n * 3 + LEFT]!, t, fn)) return false;
        if (!fn(this.items[n]!)) return false;
      }
      n = this.links[n * 3 + RIGHT]!;
    }
    return true;
  }

  /** The first item in order, if any. */
  first(): T | undefined {
    let n = this.root;
    if (n === NIL) return undefined;
    while (this.links[n * 3 + LEFT] !== NIL) n = this.links[n * 3 + LEFT]!;
    return this.items[n];
  }

  /** Node indices in (start, tie-break) order. */
  private *inOrder(): IterableIterator<number> {
    const stack: number[] = [];
    let n = this.root;
    while (n !== NIL || stack.length > 0) {
      while (n !== NIL) {
        stack.push(n);
        n = this.links[n * 3 + LEFT]!;
      }
      const top = stack.pop()!;
      yield top;
      n = this.links[top * 3 + RIGHT]!;
    }
  }

  /** All items in (start, tie-break) order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const i of this.inOrder()) yield this.items[i]!;
  }

  /** Checks the ordering, heap and augmentation invariants, and that each node holds its item's span; for tests. */
  assertValid(): void {
    let seen = 0;
    const { times, links } = this;
    const walk = (n: number, lo: number, hi: number): number => {
      if (n === NIL) return -Infinity;
      seen++;
      const item = this.items[n];
      if (item === undefined) throw new Error('interval-tree: freed node in the tree');
      if (times[n * 3 + START] !== item.start || times[n * 3 + END] !== item.end) throw new Error('interval-tree: span');
      if (lo !== NIL && this.compareTo(item, lo) <= 0) throw new Error('interval-tree: order');
      if (hi !== NIL && this.compareTo(item, hi) >= 0) throw new Error('interval-tree: order');
      const l = links[n * 3 + LEFT]!;
      const r = links[n * 3 + RIGHT]!;
      if (l !== NIL && links[l * 3 + PRIORITY]! > links[n * 3 + PRIORITY]!) throw new Error('interval-tree: heap');
      if (r !== NIL && links[r * 3 + PRIORITY]! > links[n * 3 + PRIORITY]!) throw new Error('interval-tree: heap');
      const m = Math.max(item.end, walk(l, lo, n), walk(r, n, hi));
      if (m !== times[n * 3 + MAX_END]) throw new Error('interval-tree: maxEnd');
      return m;
    };
    walk(this.root, NIL, NIL);
    if (seen !== this.count) throw new Error('interval-tree: count');
  }
}
