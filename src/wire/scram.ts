import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './protocol-error.js';

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, as PostgreSQL speaks it: no channel binding
 * (gs2 header 'n,,' or 'y,,'), and the user name inside the messages is ignored because the
 * startup packet already named the user.
 */

export const ScramLimits = {
  saltBytes: 16,
  defaultIterations: 4096,
  /** node-postgres refuses more by default (scramMaxIterations), so more would lock its users out. */
  maxIterations: 100_000,
  /** Random bytes in the server's half of the nonce (PostgreSQL uses 18). */
  nonceBytes: 18,
} as const;

export interface ScramCredentials {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/**
 * PBKDF2 is slow on purpose: derive once per password and keep the result, never per connection.
 *
 * SASLprep (RFC 4013) is applied as node-postgres and libpq apply it: the steps that change bytes
 * (non-ASCII spaces to U+0020, "mapped to nothing" characters removed, NFKC), without the
 * prohibited-character and bidi checks, which change nothing for passwords that pass them. ASCII
 * passwords are unaffected.
 */
export function deriveScramCredentials(
  password: string,
  salt: Buffer = randomBytes(ScramLimits.saltBytes),
  iterations: number = ScramLimits.defaultIterations,
): ScramCredentials {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > ScramLimits.maxIterations) {
    throw new RangeError(`SCRAM iterations must be an integer from 1 to ${ScramLimits.maxIterations}, got ${iterations}`);
  }
  if (salt.length === 0) throw new RangeError('SCRAM salt must not be empty');
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, 'sha256');
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

type ScramState = { step: 'start' } | { step: 'challenged'; gs2Header: string; clientFirstBare: string; serverFirst: string; nonce: string } | { step: 'done' };

/** One authentication exchange: serverFirst, then finish, once each. */
export class ScramSession {
  private state: ScramState = { step: 'start' };
  private readonly serverNonce: string;

  constructor(
    private readonly creds: ScramCredentials,
    nonceBytes: Buffer = randomBytes(ScramLimits.nonceBytes),
  ) {
    this.serverNonce = nonceBytes.toString('base64');
  }

  /** Answers client-first-message ('n,,n=user,r=nonce') with server-first-message. */
  serverFirst(clientFirstMessage: string): string {
    if (this.state.step !== 'start') throw new ProtocolError('SCRAM exchange out of order');
    const gs2Header = clientFirstMessage.slice(0, 3);
    if (clientFirstMessage.startsWith('p=')) throw new ProtocolError('SCRAM channel binding is not supported');
    if (gs2Header !== 'n,,' && gs2Header !== 'y,,') throw malformed();
    const clientFirstBare = clientFirstMessage.slice(3);
    const [user, clientNonce, ...extensions] = attributes(clientFirstBare);
    if (user?.name !== 'n' || clientNonce?.name !== 'r' || !isPrintable(clientNonce.value)) throw malformed();
    checkExtensions(extensions);
    const nonce = clientNonce.value + this.serverNonce;
    const serverFirst = `r=${nonce},s=${this.creds.salt.toString('base64')},i=${this.creds.iterations}`;
    this.state = { step: 'challenged', gs2Header, clientFirstBare, serverFirst, nonce };
    return serverFirst;
  }

  /**
   * Checks client-final-message ('c=biws,r=nonce,p=proof'). ok: false for a wrong password or
   * nonce; a message that is not SCRAM at all throws.
   */
  finish(clientFinalMessage: string): { ok: true; serverFinal: string } | { ok: false } {
    const state = this.state;
    if (state.step !== 'challenged') throw new ProtocolError('SCRAM exchange out of order');
    this.state = { step: 'done' };
    const proofAt = clientFinalMessage.lastIndexOf(',p=');
    if (proofAt < 0) throw malformed();
    const withoutProof = clientFinalMessage.slice(0, proofAt);
    const proof = base64(clientFinalMessage.slice(proofAt + 3));
    const [binding, nonce, ...extensions] = attributes(withoutProof);
    if (binding?.name !== 'c' || nonce?.name !== 'r' || proof.length !== this.creds.storedKey.length) throw malformed();
    checkExtensions(extensions);
    // Without channel binding, c= only echoes the gs2 header; a mismatch is a confused client.
    if (binding.value !== Buffer.from(state.gs2Header).toString('base64')) throw malformed();
    if (nonce.value !== state.nonce) return { ok: false };

    const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(this.creds.storedKey, authMessage));
    if (!timingSafeEqual(sha256(clientKey), this.creds.storedKey)) return { ok: false };
    return { ok: true, serverFinal: `v=${hmac(this.creds.serverKey, authMessage).toString('base64')}` };
  }
}

// ---------------------------------------------------------------------------------------------

function malformed(): ProtocolError {
  return new ProtocolError('malformed SCRAM message');
}

/** 'a=x,b=y' as ordered pairs; each must be one letter, '=', then a value. */
function attributes(text: string): { name: string; value: string }[] {
  return text.split(',').map((pair) => {
    if (!/^[A-Za-z]=/.test(pair)) throw malformed();
    return { name: pair[0]!, value: pair.slice(2) };
  });
}

/** Extensions may follow and are ignored, except 'm', which RFC 5802 says must fail. */
function checkExtensions(extensions: readonly { name: string }[]): void {
  if (extensions.some((e) => e.name === 'm')) throw malformed();
}

/** RFC 5802 'printable': %x21-2B / %x2D-7E, non-empty. */
function isPrintable(s: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Buffer.from(…, 'base64') skips garbage silently; SCRAM fields must be exact base64. */
function base64(s: string): Buffer {
  if (!BASE64.test(s)) throw malformed();
  return Buffer.from(s, 'base64');
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// Joiners and variation selectors combine with their neighbours; RFC 3454 B.1 drops them for that.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each of these code points is dropped on its own, joiner or not
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

function saslPrep(password: string): string {
  return password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}
