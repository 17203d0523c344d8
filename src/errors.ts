/**
 * The one error class of allot. Every layer throws it; the wire layer turns it into an
 * ErrorResponse in one place. `detail` is shown to clients as DETAIL (JSON for conflicts).
 */
export class AllotError extends Error {
  readonly sqlstate: SqlStateCode;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(sqlstate: SqlStateCode, message: string, opts: { detail?: string | object; hint?: string } = {}) {
    // These are answers to clients, not bugs: a stack trace would cost more than the error
    // (ON CONFLICT DO NOTHING makes and drops one per skipped row).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AllotError';
    this.sqlstate = sqlstate;
    this.detail = typeof opts.detail === 'object' ? JSON.stringify(opts.detail) : opts.detail;
    this.hint = opts.hint;
  }
}

/** A feature_not_supported error (0A000): what allot does not do, and what to do instead. */
export function unsupported(what: string, hint?: string): AllotError {
  return new AllotError(SqlState.featureNotSupported, what, hint !== undefined ? { hint } : {});
}

/** SQLSTATEs used by allot, named as in PostgreSQL's errcodes. */
export const SqlState = {
  featureNotSupported: '0A000',
  stringDataRightTruncation: '22001',
  datetimeFieldOverflow: '22008',
  invalidDatetimeFormat: '22007',
  invalidParameterValue: '22023',
  invalidTextRepresentation: '22P02',
  numericValueOutOfRange: '22003',
  nullValueNotAllowed: '22004',
  notNullViolation: '23502',
  foreignKeyViolation: '23503',
  uniqueViolation: '23505',
  checkViolation: '23514',
  exclusionViolation: '23P01',
  activeSqlTransaction: '25001',
  noActiveSqlTransaction: '25P01',
  readOnlySqlTransaction: '25006',
  inFailedSqlTransaction: '25P02',
  invalidPassword: '28P01',
  serializationFailure: '40001',
  syntaxError: '42601',
  undefinedTable: '42P01',
  undefinedColumn: '42703',
  undefinedObject: '42704',
  duplicatePreparedStatement: '42P05',
  invalidSqlStatementName: '26000',
  invalidCursorName: '34000',
  protocolViolation: '08P01',
  connectionFailure: '08006',
  queryCanceled: '57014',
  adminShutdown: '57P01',
  divisionByZero: '22012',
  groupingError: '42803',
  windowingError: '42P20',
  wrongObjectType: '42809',
  invalidColumnReference: '42P10',
  undefinedFunction: '42883',
  datatypeMismatch: '42804',
  cannotCoerce: '42846',
  ambiguousColumn: '42702',
  cardinalityViolation: '21000',
  programLimitExceeded: '54000',
  stackDepthLimitExceeded: '54001',
  tooManyConnections: '53300',
  ioError: '58030',
  internalError: 'XX000',
  warning: '01000',
  invalidSavepointSpecification: '3B001',
  duplicateCursor: '42P03',
  badCopyFileFormat: '22P04',
  characterNotInRepertoire: '22021',
  insufficientPrivilege: '42501',
  objectNotInPrerequisiteState: '55000',
  cantChangeRuntimeParam: '55P02',
  deadlockDetected: '40P01',
  outOfMemory: '53200',
  duplicateColumn: '42701',
  invalidSchemaName: '3F000',
  invalidCatalogName: '3D000',
  ambiguousFunction: '42725',
  invalidName: '42602',
  intervalFieldOverflow: '22015',
  invalidTimeZoneDisplacementValue: '22009',
  invalidBinaryRepresentation: '22P03',
  substringError: '22011',
  invalidRegularExpression: '2201B',
  invalidRowCountInLimitClause: '2201W',
  undefinedParameter: '42P02',
  configurationLimitExceeded: '53400',
  nameTooLong: '42622',
  invalidAuthorizationSpecification: '28000',
} as const;

/** A SQLSTATE allot answers with: one of SqlState's. */
export type SqlStateCode = (typeof SqlState)[keyof typeof SqlState];

/**
 * A statement nested deeper than the JavaScript stack allows (a chain of thousands of operators)
 * overflows while it is compiled or evaluated: that is the client's statement, not a server
 * fault, and PostgreSQL answers it with 54001.
 */
export function asStackDepthError(err: unknown): AllotError | null {
  if (!(err instanceof RangeError) || !/call stack size/i.test(err.message)) return null;
  return new AllotError(SqlState.stackDepthLimitExceeded, 'stack depth limit exceeded: the statement nests too deeply', {
    hint: 'Long chains of operators or parentheses nest; use IN (…) or = ANY($1) for many values, or split the statement.',
  });
}

/**
 * A statement whose fate the server cannot know: its log record may or may not have reached the
 * disk (a write or fdatasync failed and the server could not make sure it will never be
 * replayed). No answer can be true, so the connection ends without one, as after a PostgreSQL
 * PANIC: the client sees a broken connection, which every driver reports as "outcome unknown".
 */
export class OutcomeUnknown extends Error {
  constructor(readonly reason: unknown) {
    super(`the log's state on disk is unknown after a failed write: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'OutcomeUnknown';
  }
}
