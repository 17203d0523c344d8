/**
 * Arithmetic on sets of half-open spans. A "span list" is sorted, non-overlapping and
 * non-adjacent (maximal): the normal form every function here returns.
 */
import type { Span } from './interval-tree.js';

/** The end of what has none (an outage of unknown end, a rule recurring forever): finite, as spans need. */
export const FOREVER = Number.MAX_SAFE_INTEGER;

export interface MutableSpan {
  start: number;
  end: number;
}

/** Union of arbitrary spans, as a span list. Empty spans are dropped. */
export function mergeSpans(spans: readonly Span[]): MutableSpan[] {
  const sorted = spans.filter((s) => s.start < s.end).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: MutableSpan[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s.start <= last.end) {
      if (s.end > last.end) last.end = s.end;
    } else {
      out.push({ start: s.start, end: s.end });
    }
  }
  return out;
}

/** Span list `a` minus span list `b`. */
export function subtractSpans(a: readonly Span[], b: readonly Span[]): MutableSpan[] {
  const out: MutableSpan[] = [];
  let j = 0;
  for (const s of a) {
    let cur = s.start;
    while (j < b.length && b[j]!.end <= cur) j++;
    let k = j;
    while (k < b.length && b[k]!.start < s.end) {
      const cut = b[k]!;
      if (cut.start > cur) out.push({ start: cur, end: cut.start });
      if (cut.end > cur) cur = cut.end;
      k++;
    }
    if (cur < s.end) out.push({ start: cur, end: s.end });
  }
  return out;
}

export interface Step {
  start: number;
  end: number;
  count: number;
}

/**
 * A step function of how many of `intervals` cover each instant of [a, b): consecutive
 * segments tiling [a, b), each with a constant count, adjacent segments differing.
 */
export function coverageSteps(intervals: readonly Span[], a: number, b: number): Step[] {
  const n = intervals.length;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const iv = intervals[i]!;
    const s = Math.max(iv.start, a);
    const e = Math.min(iv.end, b);
    if (s >= e) continue;
    starts[m] = s;
    ends[m] = e;
    m++;
  }
  const ss = starts.subarray(0, m).sort();
  const es = ends.subarray(0, m).sort();
  const out: Step[] = [];
  let count = 0;
  let cur = a;
  let i = 0;
  let j = 0;
  while (i < m || j < m) {
    // Ends before starts at the same instant: half-open spans that touch do not overlap.
    const t = j < m && (i >= m || es[j]! <= ss[i]!) ? es[j]! : ss[i]!;
    if (t > cur) {
      pushStep(out, cur, t, count);
      cur = t;
    }
    while (j < m && es[j] === t) {
      count--;
      j++;
    }
    while (i < m && ss[i] === t) {
      count++;
      i++;
    }
  }
  if (cur < b) pushStep(out, cur, b, count);
  return out;
}

function pushStep(out: Step[], start: number, end: number, count: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.count === count && last.end === start) last.end = end;
  else out.push({ start, end, count });
}

/**
 * Given a step function f (0 outside its steps) and widths `left`, `right`, returns the step
 * function g(t) = max of f over [t - left, t + right] (closed), restricted to [ga, gb). Used to
 * turn "how many footprints cover u" into "how much capacity a new entry whose span contains t
 * would find taken", given the resource's buffers. A step [p, q) of value v raises g to v for
 * t in [p - right, q + left); steps are ordered, so they enter and leave that window in the
 * same order and a monotonic queue gives the max in O(n).
 */
export function slidingMax(steps: readonly Step[], left: number, right: number, ga: number, gb: number): Step[] {
  const items = steps.filter((s) => s.count > 0);
  const n = items.length;
  const out: Step[] = [];
  const queue: number[] = []; // indices into items, values decreasing
  let head = 0;
  let i = 0; // next to enter
  let j = 0; // next to leave
  let cur = ga;
  const value = (): number => (head < queue.length ? items[queue[head]!]!.count : 0);
  while (i < n || j < i) {
    const enterAt = i < n ? items[i]!.start - right : Infinity;
    const leaveAt = j < i ? items[j]!.end + left : Infinity;
    const t = Math.min(enterAt, leaveAt);
    if (t >= gb) break;
    if (t > cur) {
      pushStep(out, cur, t, value());
      cur = t;
    }
    while (j < i && items[j]!.end + left === t) {
      if (head < queue.length && queue[head] === j) head++;
      j++;
    }
    while (i < n && items[i]!.start - right === t) {
      const v = items[i]!.count;
      while (queue.length > head && items[queue[queue.length - 1]!]!.count <= v) queue.pop();
      queue.push(i);
      i++;
    }
  }
  if (cur < gb) pushStep(out, cur, gb, value());
  return out;
}
