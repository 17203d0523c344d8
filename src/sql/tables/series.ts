/**
 * `INSERT INTO bookings (…, rrule, tz)` (and holds): a row per occurrence of a finite series,
 * expanded here, before the engine sees it, so the log holds the bookings themselves and replay
 * never expands anything. The statement's commands are one batch: all of them or none, or with
 * ON CONFLICT DO NOTHING those that fit.
 */
import { Limits } from '../../engine/limits.js';
import { type Occurrence, occurrencesOverlapping, parseRRule, type Series, zoneOf } from '../../engine/recurrence.js';
import { checkSpan } from '../../engine/validate.js';
import { AllotError, SqlState } from '../../errors.js';
import { column } from './columns.js';
import { type Fields, num, required, text } from './fields.js';

/** The write-only columns a table that books series takes. */
export const SERIES_COLUMNS = [column.text('rrule'), column.text('tz')];

const DAY_MS = 86_400_000;
/** How far one step of an UNTIL series' walk reaches: its occurrences are gathered a stretch at a time. */
const STRETCH_MS = 400 * DAY_MS;

/**
 * The rows `f` stands for: itself without an rrule, else one per occurrence (its own id, the
 * occurrence's start and end, and one group_id for all: the one given, or a new ULID).
 */
export function expandSeries(f: Fields, newId: () => string, table: 'bookings' | 'holds'): Fields[] {
  const rrule = text(f, 'rrule') ?? null;
  const tz = text(f, 'tz') ?? null;
  if (rrule === null) {
    if (tz !== null) throw invalid('tz applies only to a recurring insert: set rrule too');
    f.delete('rrule');
    f.delete('tz');
    return [f];
  }
  const what = table === 'bookings' ? 'booking' : 'hold';
  if (f.get('id') !== undefined && f.get('id') !== null) {
    throw invalid(`a recurring ${what} is a row per occurrence: leave out id, and read the ids back with RETURNING id`);
  }
  if (f.get('hold_id') !== undefined && f.get('hold_id') !== null) throw invalid('a booking made from a hold is one booking: leave out rrule');
  const zone = zoneOf(tz ?? 'UTC').name;
  const rule = parseRRule(rrule, zone);
  if (rule.count === null && rule.until === null) {
    throw invalid(`a recurring ${what} needs COUNT or UNTIL in its rrule: only rules may recur forever`);
  }
  const start = required(num(f, 'start'), 'start');
  const end = required(num(f, 'end'), 'end');
  checkSpan(what, start, end);
  const occurrences = finiteOccurrences({ start, end, zone, rule, exdates: [] }, what);
  const groupId = text(f, 'group_id') ?? newId();
  return occurrences.map((o) => {
    const row: Fields = new Map(f);
    row.delete('rrule');
    row.delete('tz');
    row.set('start', o.start);
    row.set('end', o.end);
    row.set('group_id', groupId);
    return row;
  });
}

/** Every occurrence of a series with COUNT or UNTIL; 54000 past Limits.maxSeriesEntries. */
function finiteOccurrences(s: Series, what: string): Occurrence[] {
  const tooMany = (): AllotError =>
    new AllotError(
      SqlState.programLimitExceeded,
      `the series makes more than ${Limits.maxSeriesEntries} ${what}s; the limit is ${Limits.maxSeriesEntries} per series`,
      { hint: 'Book a shorter stretch (a smaller COUNT or an earlier UNTIL), and the rest later.' },
    );
  if (s.rule.count !== null) {
    if (s.rule.count > Limits.maxSeriesEntries) throw tooMany();
    return occurrencesOverlapping(s, s.start, Number.POSITIVE_INFINITY);
  }
  const until = s.rule.until as number;
  const out: Occurrence[] = [];
  // Occurrences start at or after the first; each stretch takes those that start inside it.
  for (let a = s.start; a <= until; a += STRETCH_MS) {
    for (const o of occurrencesOverlapping(s, a, Math.min(a + STRETCH_MS, until + 1))) {
      if (o.start >= a) out.push(o);
    }
    if (out.length > Limits.maxSeriesEntries) throw tooMany();
  }
  return out;
}

function invalid(message: string): AllotError {
  return new AllotError(SqlState.invalidParameterValue, message);
}
