/** What a log record carries: the instant it was decided at and the effects it made. */
import type { Effect } from '../engine/types.js';

export interface RecordBody {
  readonly now: number;
  readonly effects: readonly Effect[];
}

/** The record payload as JSON text; the log writes it into the record's buffer. */
export function encodeBody(body: RecordBody): string {
  return JSON.stringify(body);
}

export function decodeBody(payload: Buffer): RecordBody {
  const v = JSON.parse(payload.toString('utf8')) as RecordBody;
  if (typeof v !== 'object' || v === null || typeof v.now !== 'number' || !Array.isArray(v.effects)) {
    throw new Error('record payload is not a {now, effects} object');
  }
  return v;
}
