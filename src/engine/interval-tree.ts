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

class Node<T extends Span> {
  left: Node<T> | null = null;
  right: Node<T> | null = null;
  maxEnd: number;
  constructor(
    readonly item: T,
    /** Below 2^31, so V8 keeps it a small integer rather than a boxed number. */
    readonly priority: number,
  ) {
    this.maxEnd = item.end;
  }
}

/** Orders items with the same start; 0 only for the same item. */
export type TieBreak<T> = (a: T, b: T) => number;

function fix<T extends Span>(n: Node<T>): void {
  let m = n.item.end;
  if (n.left !== null && n.left.maxEnd > m) m = n.left.maxEnd;
  if (n.right !== null && n.right.maxEnd > m) m = n.right.maxEnd;
  n.maxEnd = m;
}

function rotateRight<T extends Span>(n: Node<T>): Node<T> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  fix(n);
  fix(l);
  return l;
}

function rotateLeft<T extends Span>(n: Node<T>): Node<T> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  fix(n);
  fix(r);
  return r;
}

// Plain recursive functions rather than closures: a query allocates nothing.
function visitOverlapping<T extends Span>(n: Node<T> | null, a: number, b: number, fn: (item: T) => void): void {
  while (n !== null && n.maxEnd > a) {
    visitOverlapping(n.left, a, b, fn);
    if (n.item.start >= b) return;
    if (n.item.end > a) fn(n.item);
    n = n.right;
  }
}

function collectOverlapping<T extends Span>(n: Node<T> | null, a: number, b: number, out: T[]): void {
  while (n !== null && n.maxEnd > a) {
    collectOverlapping(n.left, a, b, out);
    if (n.item.start >= b) return;
    if (n.item.end > a) out.push(n.item);
    n = n.right;
  }
}

/** In-order walk of the items with start >= t; returns false once `fn` asked to stop. */
function startingFrom<T extends Span>(n: Node<T> | null, t: number, fn: (item: T) => boolean): boolean {
  while (n !== null) {
    if (n.item.start >= t) {
      if (!startingFrom(n.left, t, fn)) return false;
      if (!fn(n.item)) return false;
    }
    n = n.right;
  }
  return true;
}

export class IntervalTree<T extends Span> {
  private root: Node<T> | null = null;
  private count = 0;
  private seed = 0x2545f491;

  /**
   * `tieBreak` orders items that start together. Nodes hold no key of their own: a key string
   * per item (a prefixed id) was about a ninth of the memory each booking takes.
   */
  constructor(private readonly tieBreak: TieBreak<T>) {}

  private compare(a: T, b: T): number {
    if (a.start !== b.start) return a.start < b.start ? -1 : 1;
    return this.tieBreak(a, b);
  }

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

  insert(item: T): void {
    if (!(item.start <= item.end)) throw new Error(`interval-tree: malformed span [${item.start}, ${item.end})`);
    const node = new Node(item, this.nextPriority());
    this.root = this.insertAt(this.root, node);
    this.count++;
  }

  private insertAt(n: Node<T> | null, node: Node<T>): Node<T> {
    if (n === null) return node;
    const c = this.compare(node.item, n.item);
    if (c === 0) throw new Error(`interval-tree: duplicate item at ${node.item.start}`);
    if (c < 0) {
      n.left = this.insertAt(n.left, node);
      if (n.left.priority > n.priority) return rotateRight(n);
    } else {
      n.right = this.insertAt(n.right, node);
      if (n.right.priority > n.priority) return rotateLeft(n);
    }
    fix(n);
    return n;
  }

  /** Removes the item that compares equal (same start, tie-break 0); returns whether it was there. */
  delete(item: T): boolean {
    const before = this.count;
    this.root = this.deleteAt(this.root, item);
    return this.count < before;
  }

  private deleteAt(n: Node<T> | null, item: T): Node<T> | null {
    if (n === null) return null;
    const c = this.compare(item, n.item);
    if (c < 0) n.left = this.deleteAt(n.left, item);
    else if (c > 0) n.right = this.deleteAt(n.right, item);
    else {
      this.count--;
      return this.merge(n.left, n.right);
    }
    fix(n);
    return n;
  }

  private merge(a: Node<T> | null, b: Node<T> | null): Node<T> | null {
    if (a === null) return b;
    if (b === null) return a;
    if (a.priority > b.priority) {
      a.right = this.merge(a.right, b);
      fix(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    fix(b);
    return b;
  }

  /** Calls `fn` for every item with start < b and end > a, in (start, tie-break) order. */
  overlapping(a: number, b: number, fn: (item: T) => void): void {
    visitOverlapping(this.root, a, b, fn);
  }

  /** Every item with start < b and end > a, in (start, tie-break) order, appended to `out`. */
  collectOverlapping(a: number, b: number, out: T[]): T[] {
    collectOverlapping(this.root, a, b, out);
    return out;
  }

  /** Items with start < t, in order, until `fn` returns false. */
  startingBefore(t: number, fn: (item: T) => boolean): void {
    let stop = false;
    const walk = (n: Node<T> | null): void => {
      if (n === null || stop) return;
      walk(n.left);
      if (stop || n.item.start >= t) {
        stop = true;
        return;
      }
      if (!fn(n.item)) {
        stop = true;
        return;
      }
      walk(n.right);
    };
    walk(this.root);
  }

  /** Items with start >= t, in order, until `fn` returns false. */
  startingFrom(t: number, fn: (item: T) => boolean): void {
    startingFrom(this.root, t, fn);
  }

  /** The first item in order, if any. */
  first(): T | undefined {
    let n = this.root;
    if (n === null) return undefined;
    while (n.left !== null) n = n.left;
    return n.item;
  }

  /** All items in (start, tie-break) order. */
  *[Symbol.iterator](): IterableIterator<T> {
    const stack: Node<T>[] = [];
    let n = this.root;
    while (n !== null || stack.length > 0) {
      while (n !== null) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      yield top.item;
      n = top.right;
    }
  }

  /** Checks the ordering, heap and augmentation invariants; for tests. */
  assertValid(): void {
    let seen = 0;
    const walk = (n: Node<T> | null, lo: Node<T> | null, hi: Node<T> | null): number => {
      if (n === null) return -Infinity;
      seen++;
      if (lo !== null && this.compare(n.item, lo.item) <= 0) throw new Error('interval-tree: order');
      if (hi !== null && this.compare(n.item, hi.item) >= 0) throw new Error('interval-tree: order');
      if (n.left !== null && n.left.priority > n.priority) throw new Error('interval-tree: heap');
      if (n.right !== null && n.right.priority > n.priority) throw new Error('interval-tree: heap');
      const m = Math.max(n.item.end, walk(n.left, lo, n), walk(n.right, n, hi));
      if (m !== n.maxEnd) throw new Error('interval-tree: maxEnd');
      return m;
    };
    walk(this.root, null, null);
    if (seen !== this.count) throw new Error('interval-tree: count');
  }
}
