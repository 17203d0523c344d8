/**
 * Recurring rules as the indexes and placement see them: a rule's series (parsed once per rule
 * object, which is immutable), the span it covers from its first occurrence to its last, and its
 * occurrences within a window, each shown as the rule over that occurrence's span.
 */
import { type Occurrence, occurrencesOverlapping, parseRRule, seriesEnd, type Series } from './recurrence.js';
import { FOREVER } from './spans.js';
import type { Ms, Rule } from './types.js';

const series = new WeakMap<Rule, Series>();

/** The series of a recurring rule (null for a one-off one). */
export function seriesOf(rule: Rule): Series | null {
  const rec = rule.recurrence;
  if (rec === undefined) return null;
  let s = series.get(rule);
  if (s === undefined) {
    s = { start: rule.start, end: rule.end, zone: rec.tz, rule: parseRRule(rec.rrule, rec.tz), exdates: rec.exdates };
    series.set(rule, s);
  }
  return s;
}

/** [start, end) of everything the rule covers: its window, or its series from first to last occurrence. */
export function ruleExtent(rule: Rule): { start: Ms; end: Ms } {
  const s = seriesOf(rule);
  if (s === null) return { start: rule.start, end: rule.end };
  return { start: rule.start, end: Math.min(FOREVER, seriesEnd(s)) };
}

/**
 * Occurrences are expanded a block of time at a time and kept, per rule: a week's query
 * reads one or two blocks' lists instead of walking the calendar again.
 */
const BLOCK_MS = 28 * 86_400_000;
/** Blocks kept per rule; past this its cache starts over (queries rarely roam that widely). */
const MAX_BLOCKS = 64;

const blocks = new WeakMap<Rule, Map<number, readonly Rule[]>>();

/** An occurrence as the rule over its span (the first is the rule itself). */
function windowOf(rule: Rule, o: Occurrence): Rule {
  return o.start === rule.start ? rule : { ...rule, start: o.start, end: o.end };
}

/** The rule's occurrences overlapping block `k`, as the rule over each span. */
function blockWindows(rule: Rule, s: Series, k: number): readonly Rule[] {
  let m = blocks.get(rule);
  if (m === undefined) {
    m = new Map();
    blocks.set(rule, m);
  }
  let list = m.get(k);
  if (list === undefined) {
    list = occurrencesOverlapping(s, k * BLOCK_MS, (k + 1) * BLOCK_MS).map((o) => windowOf(rule, o));
    if (m.size >= MAX_BLOCKS) m.clear();
    m.set(k, list);
  }
  return list;
}

/** The rule's windows overlapping [a, b): itself, or each occurrence as the rule over its span. */
export function ruleWindows(rule: Rule, a: Ms, b: Ms, out: Rule[]): void {
  const s = seriesOf(rule);
  if (s === null) {
    if (rule.start < b && rule.end > a) out.push(rule);
    return;
  }
  const first = Math.floor(a / BLOCK_MS);
  const last = Math.floor((b - 1) / BLOCK_MS);
  if (last - first > 2) {
    // A wide window: walked once rather than cached block by block.
    for (const o of occurrencesOverlapping(s, a, b)) out.push(windowOf(rule, o));
    return;
  }
  for (let k = first; k <= last; k++) {
    const from = k * BLOCK_MS;
    for (const w of blockWindows(rule, s, k)) {
      // One that also overlaps the block before was taken there.
      if (k > first && w.start < from) continue;
      if (w.start < b && w.end > a) out.push(w);
    }
  }
}
