/**
 * What the system catalog needs to know of a session. The catalog is pure: every row and every
 * function result follows from this and from allot's fixed tables (src/sql/tables/).
 */
import type { TimeOutput } from '../tables/columns.js';

export interface SystemContext {
  /** The session's database (an allot tenant). */
  readonly database: string;
  /** The session user: the catalog shows it as the bootstrap superuser, oid 10. */
  readonly user: string;
  /** Every database of the server. */
  readonly databases: readonly string[];
  /** A session setting by lower-case name (server_version, timezone, search_path, …). */
  setting(name: string): string | undefined;
  /** How instants and durations come out; allot columns' types follow columnType(col, times). */
  readonly times: TimeOutput;
  /** The session's backend process id, as BackendKeyData told the client (pg_backend_pid()). */
  readonly backendPid?: number;
  /** When the server started, Unix milliseconds (pg_postmaster_start_time()). */
  readonly serverStartedAtMs?: number;
  /** When the session started, Unix milliseconds (pg_stat_activity.backend_start). */
  readonly sessionStartedAtMs?: number;
  /** The current transaction's number, if the server counts them (txid_current()). */
  readonly transactionId?: number;
}
