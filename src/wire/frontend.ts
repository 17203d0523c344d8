/**
 * Decoding what clients send: the startup packet and the typed messages of protocol 3.0, after
 * frame-reader.ts (re-exported here) has cut them out of the stream. Nothing here knows sessions or
 * SQL; a malformed input is a ProtocolError, never a RangeError.
 */

import { SqlState } from '../errors.js';
import { BodyReader, utf8 } from './body-reader.js';
import { ProtocolError } from './protocol-error.js';

export { BodyReader, utf8 } from './body-reader.js';
export { FrameReader, MAX_STARTUP_PACKET_BYTES } from './frame-reader.js';
export { ProtocolError } from './protocol-error.js';

// ---------------------------------------------------------------------------------------------
// Startup.

export type StartupPacket =
  | { type: 'SSLRequest' }
  | { type: 'GSSENCRequest' }
  | { type: 'CancelRequest'; processId: number; secretKey: number }
  | { type: 'Startup'; protocolMajor: number; protocolMinor: number; params: Map<string, string> };

const CANCEL_REQUEST_CODE = 80877102;
const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const SUPPORTED_PROTOCOL_MAJOR = 3;

/**
 * Decodes a startup-phase packet body (after the length). A minor version above 0 is accepted and
 * returned: the session answers it with NegotiateProtocolVersion.
 */
export function decodeStartup(body: Buffer): StartupPacket {
  const r = new BodyReader(body, 'startup packet');
  const code = r.int32();
  switch (code) {
    case SSL_REQUEST_CODE:
      r.end();
      return { type: 'SSLRequest' };
    case GSSENC_REQUEST_CODE:
      r.end();
      return { type: 'GSSENCRequest' };
    case CANCEL_REQUEST_CODE: {
      const processId = r.int32();
      const secretKey = r.int32();
      r.end();
      return { type: 'CancelRequest', processId, secretKey };
    }
  }
  const protocolMajor = code >>> 16;
  const protocolMinor = code & 0xffff;
  if (protocolMajor !== SUPPORTED_PROTOCOL_MAJOR) {
    throw new ProtocolError(
      `unsupported frontend protocol ${protocolMajor}.${protocolMinor}: server supports ${SUPPORTED_PROTOCOL_MAJOR}.0`,
      SqlState.featureNotSupported,
    );
  }
  const params = new Map<string, string>();
  for (let key = r.cstring(); key !== ''; key = r.cstring()) params.set(key, r.cstring());
  r.end();
  return { type: 'Startup', protocolMajor, protocolMinor, params };
}

// ---------------------------------------------------------------------------------------------
// Messages.

export type FrontendMessage =
  | { type: 'Query'; sql: string }
  | { type: 'Parse'; name: string; sql: string; paramTypes: number[] }
  /**
   * Formats are validated: each 0 (text) or 1 (binary), and paramFormats has 0, 1 or params.length
   * entries. Params are views into the message body, not copies.
   */
  | { type: 'Bind'; portal: string; statement: string; paramFormats: number[]; params: (Buffer | null)[]; resultFormats: number[] }
  | { type: 'Describe'; kind: 'S' | 'P'; name: string }
  /** maxRows 0 means all rows (the wire's negative values too). */
  | { type: 'Execute'; portal: string; maxRows: number }
  | { type: 'Close'; kind: 'S' | 'P'; name: string }
  | { type: 'Sync' }
  | { type: 'Flush' }
  | { type: 'Terminate' }
  /** 'p': a password, SASLInitialResponse or SASLResponse; only auth knows which it expects. */
  | { type: 'Password'; data: Buffer }
  | { type: 'FunctionCall' }
  /** The data is a view into the message body. */
  | { type: 'CopyData'; data: Buffer }
  | { type: 'CopyDone' }
  | { type: 'CopyFail'; message: string }
  | { type: 'Unknown'; code: number };

/** Type bytes of frontend messages. */
export const FrontendCode = {
  Query: 0x51, // Q
  Parse: 0x50, // P
  Bind: 0x42, // B
  Describe: 0x44, // D
  Execute: 0x45, // E
  Close: 0x43, // C
  Sync: 0x53, // S
  Flush: 0x48, // H
  Terminate: 0x58, // X
  Password: 0x70, // p
  FunctionCall: 0x46, // F
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
} as const;

const TEXT_FORMAT = 0;
const BINARY_FORMAT = 1;

export function decodeMessage(code: number, body: Buffer): FrontendMessage {
  switch (code) {
    case FrontendCode.Query:
      return decodeQuery(new BodyReader(body, 'Query message'));
    case FrontendCode.Parse:
      return decodeParse(new BodyReader(body, 'Parse message'));
    case FrontendCode.Bind:
      return decodeBind(new BodyReader(body, 'Bind message'));
    case FrontendCode.Describe:
      return { type: 'Describe', ...decodeTarget(new BodyReader(body, 'Describe message')) };
    case FrontendCode.Close:
      return { type: 'Close', ...decodeTarget(new BodyReader(body, 'Close message')) };
    case FrontendCode.Execute:
      return decodeExecute(new BodyReader(body, 'Execute message'));
    case FrontendCode.Sync:
      new BodyReader(body, 'Sync message').end();
      return { type: 'Sync' };
    case FrontendCode.Flush:
      new BodyReader(body, 'Flush message').end();
      return { type: 'Flush' };
    case FrontendCode.Terminate:
      new BodyReader(body, 'Terminate message').end();
      return { type: 'Terminate' };
    case FrontendCode.Password:
      return { type: 'Password', data: body };
    case FrontendCode.FunctionCall:
      return { type: 'FunctionCall' };
    case FrontendCode.CopyData:
      return { type: 'CopyData', data: body };
    case FrontendCode.CopyDone:
      new BodyReader(body, 'CopyDone message').end();
      return { type: 'CopyDone' };
    case FrontendCode.CopyFail: {
      const r = new BodyReader(body, 'CopyFail message');
      const message = r.cstring();
      r.end();
      return { type: 'CopyFail', message };
    }
    default:
      return { type: 'Unknown', code };
  }
}

function decodeQuery(r: BodyReader): FrontendMessage {
  const sql = r.cstring();
  r.end();
  return { type: 'Query', sql };
}

function decodeParse(r: BodyReader): FrontendMessage {
  const name = r.cstring();
  const sql = r.cstring();
  const paramTypes = new Array<number>(countOf(r, 4));
  for (let i = 0; i < paramTypes.length; i++) paramTypes[i] = r.uint32();
  r.end();
  return { type: 'Parse', name, sql, paramTypes };
}

function decodeBind(r: BodyReader): FrontendMessage {
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = readFormats(r);
  const params = new Array<Buffer | null>(countOf(r, 4));
  for (let i = 0; i < params.length; i++) {
    const length = r.int32();
    if (length < -1) throw r.malformed();
    params[i] = length === -1 ? null : r.bytes(length);
  }
  const resultFormats = readFormats(r);
  r.end();
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw new ProtocolError(`bind message has ${paramFormats.length} parameter formats but ${params.length} parameters`);
  }
  return { type: 'Bind', portal, statement, paramFormats, params, resultFormats };
}

function readFormats(r: BodyReader): number[] {
  const formats = new Array<number>(countOf(r, 2));
  for (let i = 0; i < formats.length; i++) {
    const format = r.int16();
    if (format !== TEXT_FORMAT && format !== BINARY_FORMAT) {
      throw new ProtocolError(`unsupported format code: ${format}`, SqlState.invalidParameterValue);
    }
    formats[i] = format;
  }
  return formats;
}

/**
 * Reads a count of items of at least `minItemBytes` each, refusing one the body cannot hold, so a
 * forged count never sizes an array.
 */
function countOf(r: BodyReader, minItemBytes: number): number {
  const count = r.uint16();
  if (count * minItemBytes > r.remaining) throw r.malformed();
  return count;
}

function decodeTarget(r: BodyReader): { kind: 'S' | 'P'; name: string } {
  const kind = r.byte();
  if (kind !== 0x53 && kind !== 0x50) throw r.malformed();
  const name = r.cstring();
  r.end();
  return { kind: kind === 0x53 ? 'S' : 'P', name };
}

function decodeExecute(r: BodyReader): FrontendMessage {
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { type: 'Execute', portal, maxRows: Math.max(0, maxRows) };
}

// ---------------------------------------------------------------------------------------------
// Bodies of 'p' messages, interpreted by auth according to what it asked for.

/** SASLInitialResponse: mechanism, then the client-first-message ('' when the length is -1). */
export function parseSaslInitialResponse(data: Buffer): { mechanism: string; response: string } {
  const r = new BodyReader(data, 'SASLInitialResponse message');
  const mechanism = r.cstring();
  const length = r.int32();
  if (length < -1) throw r.malformed();
  const response = length === -1 ? '' : utf8(r.bytes(length));
  r.end();
  return { mechanism, response };
}

/** SASLResponse: the whole body is the message (e.g. SCRAM's client-final-message). */
export function parseSaslResponse(data: Buffer): string {
  return utf8(data);
}

/** PasswordMessage: one C string (cleartext password). */
export function parsePassword(data: Buffer): string {
  const r = new BodyReader(data, 'PasswordMessage');
  const password = r.cstring();
  r.end();
  return password;
}
