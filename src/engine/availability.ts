/**
 * Free time: where a new entry's span could go. For each instant t of open time, `free` is the
 * capacity minus the most footprints a new entry whose span contains t would meet; an entry
 * fits exactly when every instant of its span has free >= 1. Spans are clipped to the window,
 * maximal (adjacent spans differ in `free`) and ordered.
 */
import { AllotError, SqlState } from '../errors.js';
import { Limits } from './limits.js';
import { entriesTouching, footprint, missingCapabilities, offlineConflicts, openSpans } from './placement.js';
import { outageMatches } from './outages.js';
import { coverageSteps, mergeSpans, slidingMax, subtractSpans, type MutableSpan } from './spans.js';
import { isHold, type Entry, type ResourceNode, type Store } from './state.js';
import type { AvailabilityQuery, FreeSpan, Ms } from './types.js';
import { checkInteger, checkSpan } from './validate.js';

export type AvailabilityAnswer<R = FreeSpan> =
  | { readonly merged: false; readonly perResource: readonly { readonly resourceId: string; readonly spans: readonly R[] }[] }
  | { readonly merged: true; readonly spans: readonly R[] };

/**
 * Makes one span of an answer (resource null when merged). The engine's own answer is FreeSpan
 * objects; the SQL layer makes its rows straight away, so a week's ~190 spans are not made twice.
 */
export type SpanMaker<R> = (resourceId: string | null, start: Ms, end: Ms, free: number) => R;

const freeSpan: SpanMaker<FreeSpan> = (_resourceId, start, end, free) => ({ start, end, free });

/** Spans made by `make` from FreeSpans (the same list when `make` makes FreeSpans). */
function remake<R>(resourceId: string | null, spans: readonly FreeSpan[], make: SpanMaker<R>): R[] {
  if ((make as unknown) === freeSpan) return spans as unknown as R[];
  return spans.map((s) => make(resourceId, s.start, s.end, s.free));
}

export function availability(store: Store, q: AvailabilityQuery, now: Ms): AvailabilityAnswer {
  return availabilityWith(store, q, now, freeSpan);
}

/** The same answer, each span made by `make`. */
export function availabilityWith<R>(store: Store, q: AvailabilityQuery, now: Ms, make: SpanMaker<R>): AvailabilityAnswer<R> {
  checkSpan('availability window', q.start, q.end);
  if (q.end - q.start > Limits.maxWindowMs) {
    throw new AllotError(
      SqlState.programLimitExceeded,
      `availability window of ${q.end - q.start} ms is longer than the limit of ${Limits.maxWindowMs} ms (${Limits.maxWindowMs / 86_400_000} days)`,
    );
  }
  if (q.resourceIds.length === 0) throw new AllotError(SqlState.invalidParameterValue, 'availability needs at least one resource_id');
  if (q.resourceIds.length > Limits.maxIdsPerInList) {
    throw new AllotError(SqlState.programLimitExceeded, `availability over ${q.resourceIds.length} resources; the limit is ${Limits.maxIdsPerInList}`);
  }
  const minDuration = q.minDurationMs ?? 0;
  checkInteger('min_duration', minDuration, 0, Limits.maxWindowMs);
  // Like any SELECT, an id that matches no resource contributes no rows rather than an error.
  const ids = [...new Set(q.resourceIds)];
  if (q.minAvailable === undefined && minDuration === 0) {
    return { merged: false, perResource: ids.map((id) => ({ resourceId: id, spans: freeSpans(store, id, q, now, make) })) };
  }
  const perResource = ids.map((id) => ({ resourceId: id, spans: freeSpans(store, id, q, now, freeSpan) }));
  if (q.minAvailable === undefined) {
    return {
      merged: false,
      perResource: perResource.map((r) => ({ resourceId: r.resourceId, spans: remake(r.resourceId, dropShort(r.spans, minDuration), make) })),
    };
  }
  // More than the resources asked about is simply never met (no rows), as the SQL layer answers.
  if (!Number.isSafeInteger(q.minAvailable) || q.minAvailable < 1) {
    throw new AllotError(SqlState.invalidParameterValue, `min_available must be a whole number of at least 1, got ${q.minAvailable}`);
  }
  // Count, at each instant, how many resources have room for one more entry.
  const counts = coverageSteps(
    perResource.flatMap((r) => r.spans),
    q.start,
    q.end,
  );
  const spans = counts.filter((s) => s.count >= q.minAvailable!).map((s) => ({ start: s.start, end: s.end, free: s.count }));
  return { merged: true, spans: remake(null, dropShort(spans, minDuration), make) };
}

/** Time outages on the resource or an ancestor close to an entry requiring `caps`, within [a, b). */
function outageSpans(store: Store, resourceId: string, caps: readonly string[], a: Ms, b: Ms): MutableSpan[] {
  const spans: { start: Ms; end: Ms }[] = [];
  for (let id: string | null = resourceId; id !== null; ) {
    const node = store.mustNode(id);
    node.outages.overlapping(a, b, (sp) => {
      if (outageMatches(sp.outage, caps)) spans.push({ start: sp.start, end: sp.end });
    });
    id = node.resource.parentId;
  }
  return mergeSpans(spans);
}

/** Free spans of one resource, before the min_duration filter. */
function freeSpans<R>(store: Store, resourceId: string, q: AvailabilityQuery, now: Ms, make: SpanMaker<R>): R[] {
  const node = store.node(resourceId);
  if (node === undefined) return [];
  const r = node.resource;
  if (r.capacity === 0) return [];
  if (missingCapabilities(r, q.capabilities ?? []).length > 0) return [];
  // Offline, it or an ancestor: no time is open to new entries.
  if (offlineConflicts(store, resourceId).length > 0) return [];
  let open = openSpans(store, resourceId, q.policyId ?? null, q.start, q.end);
  if (store.outages.size > 0) {
    const closed = outageSpans(store, resourceId, q.capabilities ?? [], q.start, q.end);
    if (closed.length > 0) open = subtractSpans(open, closed);
  }
  if (open.length === 0) return [];
  if (r.capacity === 1) return freeSpansCapacityOne(node, open, q, now, make);
  // free(t) depends on footprints met by a new entry containing t: instants up to
  // buffer_before before t and buffer_after after it.
  const lo = q.start - r.bufferBeforeMs;
  const hi = q.end + r.bufferAfterMs + 1;
  const fps = entriesTouching(node, lo, hi, now).map((e) => footprint(r, e.start, e.end));
  const taken = slidingMax(coverageSteps(fps, lo, hi), r.bufferBeforeMs, r.bufferAfterMs, q.start, q.end);
  // Both lists are ordered: walk them together.
  const out: FreeSpan[] = [];
  let k = 0;
  for (const step of taken) {
    const free = r.capacity - step.count;
    if (free <= 0) continue;
    while (k < open.length && open[k]!.end <= step.start) k++;
    for (let m = k; m < open.length && open[m]!.start < step.end; m++) {
      const start = Math.max(open[m]!.start, step.start);
      const end = Math.min(open[m]!.end, step.end);
      if (start < end) pushSpan(out, start, end, free);
    }
  }
  return remake(resourceId, out, make);
}

/**
 * Capacity 1, the common case: t is free exactly when no entry's span comes within the
 * buffers of it, i.e. t lies outside every [start - before - after, end + before + after).
 * Entries come from the index in start order, so the union is one pass.
 */
function freeSpansCapacityOne<R>(node: ResourceNode, open: readonly { start: Ms; end: Ms }[], q: AvailabilityQuery, now: Ms, make: SpanMaker<R>): R[] {
  const pad = node.resource.bufferBeforeMs + node.resource.bufferAfterMs;
  // One scratch list for every query, emptied (to undefined) before returning so it keeps no
  // entry alive: a week's answer walks hundreds of entries, and a fresh list would be regrown.
  const count = node.entries.collectInto(q.start - pad, q.end + pad, scratch.list, 0);
  try {
    return gapsCapacityOne(node.resource.id, scratch.list, count, open, q, now, pad, make);
  } finally {
    if (count > SCRATCH_KEPT) scratch.list = [];
    else scratch.list.fill(undefined, 0, count);
  }
}

/** Longest scratch list kept between queries (a bigger one is dropped after its query). */
const SCRATCH_KEPT = 65_536;
const scratch: { list: (Entry | undefined)[] } = { list: [] };

/** Free spans around the first `count` entries of `taken` (in start order), for capacity 1. */
function gapsCapacityOne<R>(
  resourceId: string,
  taken: readonly (Entry | undefined)[],
  count: number,
  open: readonly { start: Ms; end: Ms }[],
  q: AvailabilityQuery,
  now: Ms,
  pad: Ms,
  make: SpanMaker<R>,
): R[] {
  const out: R[] = [];
  const clipped: FreeSpan[] = []; // with open/closed rules: spans that may need merging
  // No open/closed rules in the window (the usual case): free time is the gaps between blocks,
  // never adjacent to each other, so they go straight out.
  const whole = open.length === 1 && open[0]!.start <= q.start && open[0]!.end >= q.end;
  let k = 0; // index into open
  let cursor = q.start; // everything before it is decided
  for (let i = 0; i <= count; i++) {
    let until: Ms; // the next block's start (clipped to the window); the window's end after the last
    let blockEnd: Ms;
    if (i < count) {
      const e = taken[i]!;
      if (isHold(e) && e.expiresAt <= now) continue;
      until = e.start - pad;
      blockEnd = e.end + pad;
      if (until > q.end) until = q.end;
    } else {
      until = q.end;
      blockEnd = q.end;
    }
    if (until > cursor) {
      // Free time is [cursor, until) intersected with the open spans.
      if (whole) out.push(make(resourceId, cursor, until, 1));
      else {
        while (k < open.length && open[k]!.end <= cursor) k++;
        for (let m = k; m < open.length && open[m]!.start < until; m++) {
          const start = Math.max(open[m]!.start, cursor);
          const end = Math.min(open[m]!.end, until);
          if (start < end) pushSpan(clipped, start, end, 1);
        }
      }
    }
    if (blockEnd > cursor) cursor = blockEnd;
    if (cursor >= q.end) break;
  }
  return whole ? out : remake(resourceId, clipped, make);
}

function pushSpan(out: FreeSpan[], start: Ms, end: Ms, free: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.end === start && last.free === free) out[out.length - 1] = { start: last.start, end, free };
  else out.push({ start, end, free });
}

/**
 * Drops free time in stretches shorter than `minDuration`: a stretch is a run of adjacent
 * spans (whatever their `free`), since an entry may span several of them.
 */
function dropShort(spans: readonly FreeSpan[], minDuration: Ms): readonly FreeSpan[] {
  if (minDuration <= 0) return spans;
  const keep = new Set<number>();
  for (const run of mergeSpans(spans)) {
    if (run.end - run.start >= minDuration) keep.add(run.start);
  }
  const out: FreeSpan[] = [];
  let runStart = Number.NaN;
  let prevEnd = Number.NaN;
  for (const s of spans) {
    if (s.start !== prevEnd) runStart = s.start;
    prevEnd = s.end;
    if (keep.has(runStart)) out.push(s);
  }
  return out;
}
