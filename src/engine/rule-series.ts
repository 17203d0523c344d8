/**
 * Recurring rules as the indexes and placement see them: a rule's series (parsed once per rule
 * object, which is immutable), the span it covers from its first occurrence to its last, and its
 * occurrences within a window, each shown as the rule over that occurrence's span.
 */
import { occurrencesOverlapping, parseRRule, seriesEnd, type Series } from './recurrence.js';
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

/** The rule's windows overlapping [a, b): itself, or each occurrence as the rule over its span. */
export function ruleWindows(rule: Rule, a: Ms, b: Ms, out: Rule[]): void {
  const s = seriesOf(rule);
  if (s === null) {
    if (rule.start < b && rule.end > a) out.push(rule);
    return;
  }
  for (const o of occurrencesOverlapping(s, a, b)) out.push(o.start === rule.start ? rule : { ...rule, start: o.start, end: o.end });
}
