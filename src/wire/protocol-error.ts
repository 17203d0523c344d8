import { AllotError, SqlState, type SqlStateCode } from '../errors.js';

/**
 * A client broke the protocol. It is an AllotError, so the one place that turns errors into
 * ErrorResponse handles it too. Thrown by FrameReader it means the stream is out of sync and the
 * connection must end; thrown while decoding one framed message the stream is still in sync
 * (PostgreSQL answers those with a plain ERROR and skips to Sync).
 */
export class ProtocolError extends AllotError {
  constructor(message: string, sqlstate: SqlStateCode = SqlState.protocolViolation) {
    super(sqlstate, message);
    this.name = 'ProtocolError';
  }
}
