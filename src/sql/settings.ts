/** Session settings: what SET, SHOW, RESET and current_setting() see. */
import { AllotError, SqlState } from '../errors.js';
import { normalizeTimeZone, tzdataVersion } from './time.js';

export const SERVER_VERSION = '16.4';
const SERVER_VERSION_NUM = '160004';

/** Defaults, keyed by lower-case name. */
export const DEFAULT_SETTINGS: ReadonlyMap<string, string> = new Map([
  ['server_version', SERVER_VERSION],
  ['server_version_num', SERVER_VERSION_NUM],
  ['server_encoding', 'UTF8'],
  ['client_encoding', 'UTF8'],
  ['datestyle', 'ISO, MDY'],
  ['intervalstyle', 'postgres'],
  ['timezone', 'UTC'],
  ['integer_datetimes', 'on'],
  ['standard_conforming_strings', 'on'],
  ['application_name', ''],
  ['search_path', '"$user", public'],
  ['transaction_isolation', 'read committed'],
  ['default_transaction_isolation', 'read committed'],
  ['transaction_read_only', 'off'],
  ['default_transaction_read_only', 'off'],
  ['in_hot_standby', 'off'],
  ['is_superuser', 'off'],
  ['extra_float_digits', '1'],
  ['client_min_messages', 'notice'],
  ['statement_timeout', '0'],
  ['lock_timeout', '0'],
  ['idle_in_transaction_session_timeout', '0'],
  ['bytea_output', 'hex'],
  ['max_identifier_length', '63'],
  ['lc_messages', 'C'],
  ['lc_monetary', 'C'],
  ['lc_numeric', 'C'],
  ['lc_time', 'C'],
  ['row_security', 'on'],
  ['jit', 'off'],
  ['synchronous_commit', 'on'],
  ['max_connections', '256'],
  // INSERTs re-create exported rows: see `restore` on engine commands.
  ['allot.restore', 'off'],
  // A refused booking or hold names where it would fit instead (DETAIL "offers").
  ['allot.offers', 'on'],
  // How instants and durations come out: timestamptz and interval, or bigint milliseconds.
  ['allot.times', 'timestamptz'],
  ['allot.tzdata', tzdataVersion()],
]);

const ON_WORDS: ReadonlySet<string> = new Set(['on', 'true', '1', 'yes', 't', 'y']);

/** A boolean setting's value as PostgreSQL spells booleans. */
export function settingIsOn(value: string | undefined): boolean {
  // Asked on every write (allot.restore, default_transaction_read_only): no list built per call.
  return value !== undefined && ON_WORDS.has(value.toLowerCase());
}

/** Settings a client cannot change. */
const READ_ONLY = new Set([
  'allot.tzdata',
  'server_version',
  'server_version_num',
  'server_encoding',
  'integer_datetimes',
  'max_identifier_length',
  'in_hot_standby',
  'is_superuser',
  'max_connections',
  'transaction_read_only',
]);

/** Settings reported to the client with ParameterStatus when they change, as PostgreSQL does. */
export const REPORTED = new Map([
  ['application_name', 'application_name'],
  ['client_encoding', 'client_encoding'],
  ['datestyle', 'DateStyle'],
  ['intervalstyle', 'IntervalStyle'],
  ['timezone', 'TimeZone'],
  ['integer_datetimes', 'integer_datetimes'],
  ['standard_conforming_strings', 'standard_conforming_strings'],
  ['server_version', 'server_version'],
  ['server_encoding', 'server_encoding'],
  ['is_superuser', 'is_superuser'],
  ['session_authorization', 'session_authorization'],
  ['in_hot_standby', 'in_hot_standby'],
  ['default_transaction_read_only', 'default_transaction_read_only'],
  ['search_path', 'search_path'],
]);

/** Checks a SET; returns the value to store. Custom settings (`app.x`) are free-form. */
export function validateSetting(name: string, value: string): string {
  if (READ_ONLY.has(name)) throw new AllotError(SqlState.cantChangeRuntimeParam, `parameter "${name}" cannot be changed`);
  if (!DEFAULT_SETTINGS.has(name) && !name.includes('.') && name !== 'session_authorization') {
    throw new AllotError(SqlState.undefinedObject, `unrecognized configuration parameter "${name}"`);
  }
  switch (name) {
    case 'client_encoding': {
      // PostgreSQL ignores everything but letters and digits in an encoding's name ('utf-8', asyncpg's "'utf-8'").
      const v = value.toUpperCase().replace(/[^A-Z0-9]/g, '');
      if (v !== 'UTF8' && v !== 'UNICODE')
        throw new AllotError(SqlState.invalidParameterValue, `allot speaks only UTF8; cannot set client_encoding to "${value}"`);
      return 'UTF8';
    }
    case 'timezone':
      // Any IANA zone, a number of hours, or a POSIX zone, kept as PostgreSQL shows it.
      return normalizeTimeZone(value);
    case 'allot.times': {
      const v = value.toLowerCase();
      if (v === 'timestamptz' || v === 'ms') return v;
      throw new AllotError(SqlState.invalidParameterValue, `invalid value for parameter "allot.times": "${value}"`, {
        hint: 'Available values: timestamptz (instants as timestamptz, durations as interval), ms (both as bigint milliseconds).',
      });
    }
    case 'allot.restore':
    case 'allot.offers': {
      const v = value.toLowerCase();
      if (['on', 'true', '1', 'yes', 't', 'y'].includes(v)) return 'on';
      if (['off', 'false', '0', 'no', 'f', 'n'].includes(v)) return 'off';
      throw new AllotError(SqlState.invalidParameterValue, `parameter "${name}" requires a Boolean value, not "${value}"`);
    }
    case 'standard_conforming_strings':
      if (!['on', 'true', '1', 'yes'].includes(value.toLowerCase()))
        throw new AllotError(SqlState.invalidParameterValue, 'standard_conforming_strings is always on in allot');
      return 'on';
    default:
      return value;
  }
}
