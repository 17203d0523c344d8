/**
 * Recurring rules in the engine: they open and close time like one-off rules (writes and
 * availability), occurrence by occurrence in their zone, across DST; a change that would strand
 * an entry is refused naming it; one-off blocking rules override single dates; and replaying the
 * effects rebuilds the same state.
 */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Rule } from '../../src/engine/types.js';
import { book, conflictIds, newEngine, refusal, resource, rule } from './helpers.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const utc = (s: string): number => Date.parse(`${s}Z`);
/** Open weekdays 09:00–17:00 in Berlin, forever, from Monday 2 March 2026 (CET: 08:00Z–16:00Z). */
const weekdays = (id = 'hours', opts: Partial<Rule> = {}) =>
  rule(id, 'room', utc('2026-03-02T08:00'), utc('2026-03-02T16:00'), {
    recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', tz: 'Europe/Berlin', exdates: [] },
    ...opts,
  });

/** Free spans of the room over [a, b). */
function spansOf(e: Engine, a: number, b: number): readonly { start: number; end: number; free: number }[] {
  const ans = e.availability({ resourceIds: ['room'], start: a, end: b }, NOW);
  return ans.merged ? ans.spans : ans.perResource[0]!.spans;
}

describe('recurring rules', () => {
  it('open weekday hours in local time on both sides of the DST change, and close weekends', () => {
    const e = newEngine();
    e.execute([resource('room'), weekdays()], NOW);
    // Friday 27 March, CET: 09:00 local is 08:00Z. Monday 30 March, CEST: 09:00 local is 07:00Z.
    e.execute(
      [book('fri', 'room', utc('2026-03-27T08:00'), utc('2026-03-27T16:00')), book('mon', 'room', utc('2026-03-30T07:00'), utc('2026-03-30T15:00'))],
      NOW,
    );
    const early = refusal(e, [book('x', 'room', utc('2026-03-31T06:30'), utc('2026-03-31T07:30'))]);
    expect([early.sqlstate, early.message]).toEqual([
      '23P01',
      'booking "x" [2026-03-31T06:30:00.000Z, 2026-03-31T07:30:00.000Z) does not fit on resource "room": the time is not open (closed time on "room" [2026-03-31T06:30:00.000Z, 2026-03-31T07:00:00.000Z))',
    ]);
    expect(refusal(e, [book('sat', 'room', utc('2026-03-28T09:00'), utc('2026-03-28T10:00'))]).sqlstate).toBe('23P01');
    const free = spansOf(e, utc('2026-03-27T00:00'), utc('2026-03-31T00:00'));
    expect(free).toEqual([]);
    expect(spansOf(e, utc('2026-03-31T00:00'), utc('2026-04-01T00:00'))).toEqual([{ start: utc('2026-03-31T07:00'), end: utc('2026-03-31T15:00'), free: 1 }]);
  });

  it('years on, a forever rule still opens the same local hours', () => {
    const e = newEngine();
    e.execute([resource('room'), weekdays()], NOW);
    expect(spansOf(e, utc('2031-07-07T00:00'), utc('2031-07-08T00:00'))).toEqual([{ start: utc('2031-07-07T07:00'), end: utc('2031-07-07T15:00'), free: 1 }]);
  });

  it('a recurring blocking rule closes each occurrence, and a refusal names that occurrence', () => {
    const e = newEngine();
    const lunch = rule('lunch', 'room', utc('2026-03-02T11:00'), utc('2026-03-02T12:00'), {
      blocking: true,
      recurrence: { rrule: 'FREQ=DAILY', tz: 'Europe/Berlin', exdates: [] },
    });
    e.execute([resource('room'), weekdays(), lunch], NOW);
    const err = refusal(e, [book('x', 'room', utc('2026-04-01T09:30'), utc('2026-04-01T10:30'))]);
    expect(JSON.parse(String(err.detail))).toEqual({
      conflicts: [{ kind: 'rule', id: 'lunch', resource_id: 'room', start: utc('2026-04-01T10:00'), end: utc('2026-04-01T11:00') }],
      // The nearest hours that fit: before lunch, then the nearer of an hour earlier and after lunch.
      offers: [
        { resource_id: 'room', start: utc('2026-04-01T09:00'), end: utc('2026-04-01T10:00') },
        { resource_id: 'room', start: utc('2026-04-01T08:00'), end: utc('2026-04-01T09:00') },
        { resource_id: 'room', start: utc('2026-04-01T11:00'), end: utc('2026-04-01T12:00') },
      ],
    });
  });

  it('skips its exdates, and a one-off blocking rule closes a single date', () => {
    const e = newEngine();
    e.execute(
      [
        resource('room'),
        weekdays('hours', { recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', tz: 'Europe/Berlin', exdates: [utc('2026-03-03T08:00')] } }),
      ],
      NOW,
    );
    expect(refusal(e, [book('tue', 'room', utc('2026-03-03T09:00'), utc('2026-03-03T10:00'))]).sqlstate).toBe('23P01');
    e.execute([rule('closed-4th', 'room', utc('2026-03-04T00:00'), utc('2026-03-05T00:00'), { blocking: true })], NOW);
    expect(conflictIds(refusal(e, [book('wed', 'room', utc('2026-03-04T09:00'), utc('2026-03-04T10:00'))]))).toEqual(['closed-4th']);
    e.execute([book('thu', 'room', utc('2026-03-05T09:00'), utc('2026-03-05T10:00'))], NOW);
  });

  it('refuses a change that would strand a booking, naming it, and a rule it cannot expand with 22023', () => {
    const e = newEngine();
    e.execute([resource('room'), weekdays(), book('b', 'room', utc('2026-06-03T08:00'), utc('2026-06-03T09:00'))], NOW);
    const err = refusal(e, [{ type: 'UpdateRule', id: 'hours', patch: { rrule: 'FREQ=WEEKLY;BYDAY=MO,TU' } }]);
    expect([err.sqlstate, conflictIds(err)]).toEqual(['23P01', ['b']]);
    const blocking = refusal(e, [
      rule('shut', 'room', utc('2026-03-04T00:00'), utc('2026-03-04T12:00'), { blocking: true, recurrence: { rrule: 'FREQ=WEEKLY', tz: 'UTC', exdates: [] } }),
    ]);
    expect(conflictIds(blocking)).toEqual(['b']);
    expect(refusal(e, [weekdays('bad', { recurrence: { rrule: 'FREQ=HOURLY', tz: 'Europe/Berlin', exdates: [] } })]).sqlstate).toBe('22023');
    expect(refusal(e, [weekdays('bad', { recurrence: { rrule: 'FREQ=DAILY', tz: 'Mars/Olympus', exdates: [] } })]).message).toBe(
      'time zone "Mars/Olympus" is not an IANA zone this server knows',
    );
  });

  it('stores the rule in canonical form, and replaying its effects rebuilds the same state', () => {
    const e = newEngine();
    const out = e.execute(
      [
        resource('room'),
        rule('r', 'room', utc('2026-03-02T08:00'), utc('2026-03-02T16:00'), {
          recurrence: { rrule: 'rrule:byday=mo,fr;freq=weekly;until=20260401', tz: 'europe/berlin', exdates: [3, 1, 3] },
        }),
      ],
      NOW,
    );
    expect(e.rule('r')?.recurrence).toEqual({ rrule: 'FREQ=WEEKLY;UNTIL=20260401T215959Z;BYDAY=MO,FR', tz: 'Europe/Berlin', exdates: [1, 3] });
    const copy = newEngine();
    copy.replay(out.effects);
    expect(copy.capture()).toEqual(e.capture());
    // UNTIL ends the series: no hours after 1 April.
    expect(spansOf(e, utc('2026-04-03T00:00'), utc('2026-04-04T00:00'))).toEqual([]);
    // A rule that stops recurring is a one-off window again.
    expect(refusal(e, [{ type: 'UpdateRule', id: 'r', patch: { rrule: null, tz: 'UTC' } }]).message).toBe(
      'rule "r" does not recur: tz and exdates apply only to a rule with an rrule',
    );
    e.execute([{ type: 'UpdateRule', id: 'r', patch: { tz: 'America/New_York' } }], NOW);
    expect(e.rule('r')?.recurrence?.tz).toBe('America/New_York');
    e.execute([{ type: 'UpdateRule', id: 'r', patch: { rrule: null } }], NOW);
    expect(e.rule('r')?.recurrence).toBeUndefined();
  });
});
