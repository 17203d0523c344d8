/**
 * Arithmetic on sets of half-open spans. A "span list" is sorted, non-overlapping and
 * non-adjacent (maximal): the normal form every function here returns.
 */
import type { Span } from './interval-tree.js';

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

/** Span list `a` intersected with span list `b`. */
export function intersectSpans(a: readonly Span[], b: readonly Span[]): MutableSpan[] {
  const out: MutableSpan[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (start < end) out.push({ start, end });
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/** Clips a span list to [a, b). */
export function clipSpans(spans: readonly Span[], a: number, b: number): MutableSpan[] {
  return intersectSpans(spans, [{ start: a, end: b }]);
}

export function spanLength(s: Span): number {
  return s.end - s.start;
}

/**
 * A step function of how many of `intervals` cover each instant of [a, b): consecutive
 * segments tiling [a, b), each with a constant count, adjacent segments differing.
 */
export function coverageSteps(intervals: readonly Span[], a: number, b: number): { start: number; end: number; count: number }[] {
  const points = new Map<number, number>();
  for (const iv of intervals) {
    const s = Math.max(iv.start, a);
    const e = Math.min(iv.end, b);
    if (s >= e) continue;
    points.set(s, (points.get(s) ?? 0) + 1);
    points.set(e, (points.get(e) ?? 0) - 1);
  }
  const times = [...points.keys()].sort((x, y) => x - y);
  const out: { start: number; end: number; count: number }[] = [];
  let count = 0;
  let cur = a;
  for (const t of times) {
    if (t > cur) {
      pushStep(out, cur, t, count);
      cur = t;
    }
    count += points.get(t)!;
  }
  if (cur < b) pushStep(out, cur, b, count);
  return out;
}

function pushStep(out: { start: number; end: number; count: number }[], start: number, end: number, count: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.count === count && last.end === start) last.end = end;
  else out.push({ start, end, count });
}

/**
 * Given a step function over [a, b) and widths `left`, `right`, returns the step function
 * g(t) = max of f over [t - left, t + right] (closed), restricted to [ga, gb). f is taken as 0
 * outside its segments. Used to turn "how many footprints cover u" into "how much capacity a
 * new entry whose span contains t would find taken", given the resource's buffers.
 */
export function slidingMax(
  steps: readonly { start: number; end: number; count: number }[],
  left: number,
  right: number,
  ga: number,
  gb: number,
): { start: number; end: number; count: number }[] {
  // A segment [p, q) of value v raises g to v for t in [p - right, q + left).
  const expanded = steps
    .filter((s) => s.count > 0)
    .map((s) => ({ start: s.start - right, end: s.end + left, weight: s.count }));
  return coverageStepsFromWeighted(expanded, ga, gb, 'max');
}

/** The pointwise max (or sum) of weighted intervals over [a, b), as a step function. */
export function coverageStepsFromWeighted(
  intervals: readonly { start: number; end: number; weight: number }[],
  a: number,
  b: number,
  mode: 'max' | 'sum',
): { start: number; end: number; count: number }[] {
  type Ev = { t: number; w: number; add: boolean };
  const evs: Ev[] = [];
  for (const iv of intervals) {
    const s = Math.max(iv.start, a);
    const e = Math.min(iv.end, b);
    if (s >= e) continue;
    evs.push({ t: s, w: iv.weight, add: true }, { t: e, w: iv.weight, add: false });
  }
  evs.sort((x, y) => x.t - y.t);
  const out: { start: number; end: number; count: number }[] = [];
  const live = new Map<number, number>();
  let sum = 0;
  let max = 0;
  let cur = a;
  let i = 0;
  while (i < evs.length) {
    const t = evs[i]!.t;
    if (t > cur) {
      pushStep(out, cur, t, mode === 'sum' ? sum : max);
      cur = t;
    }
    while (i < evs.length && evs[i]!.t === t) {
      const ev = evs[i]!;
      if (mode === 'sum') sum += ev.add ? ev.w : -ev.w;
      else {
        const c = (live.get(ev.w) ?? 0) + (ev.add ? 1 : -1);
        if (c === 0) live.delete(ev.w);
        else live.set(ev.w, c);
      }
      i++;
    }
    if (mode === 'max') {
      max = 0;
      for (const w of live.keys()) if (w > max) max = w;
    }
  }
  if (cur < b) pushStep(out, cur, b, mode === 'sum' ? sum : max);
  return out;
}
