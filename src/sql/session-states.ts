/**
 * SQLSTATEs of savepoints, cursors, COPY and advisory locks that src/errors.ts does not name
 * (as src/wire/protocol-error.ts does for the wire's), named as in PostgreSQL's errcodes.
 */
export const SessionSqlState = {
  /** A WARNING's code (pg_advisory_unlock of a lock not held). */
  warning: '01000',
  /** ROLLBACK TO or RELEASE of a savepoint the block does not have. */
  invalidSavepointSpecification: '3B001',
  /** DECLARE of a cursor name already open (a protocol portal's name too, as in PostgreSQL). */
  duplicateCursor: '42P03',
  /** COPY data that does not make rows of the table's columns. */
  badCopyFileFormat: '22P04',
  /** COPY text-format escapes (\\x, octal) that make bytes which are not UTF-8. */
  characterNotInRepertoire: '22021',
  /** COPY to or from a file of the server. */
  insufficientPrivilege: '42501',
  /** A NO SCROLL cursor asked to move backward. */
  objectNotInPrerequisiteState: '55000',
  /** Waiting for an advisory lock would close a cycle of sessions waiting for each other. */
  deadlockDetected: '40P01',
  /** A session holds as many advisory locks as it may (PostgreSQL: its lock table is full). */
  outOfMemory: '53200',
  /** COPY: a column list naming a column twice. */
  duplicateColumn: '42701',
  /** COPY: FORCE_NOT_NULL or FORCE_NULL of a column not in the COPY. */
  invalidColumnReference: '42P10',
} as const;
