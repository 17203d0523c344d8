import { createRequire } from 'node:module';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { decodeMessage, FrameReader, parseSaslInitialResponse, parseSaslResponse } from '../../src/wire/frontend.js';
import { deriveScramCredentials, type ScramCredentials, ScramSession } from '../../src/wire/scram.js';
import { protocolError } from './helpers.js';

/** node-postgres' own SCRAM client, the one our users run. */
type ClientSession = { response: string; clientNonce: string; serverSignature?: string };
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[]): ClientSession;
  continueSession(session: ClientSession, password: string, serverFirst: string): Promise<void>;
  finalizeSession(session: ClientSession, serverFinal: string): void;
};

/** The body of a 'p' message as it reaches the server, through framing and decoding. */
function overTheWire(bytes: Buffer): Buffer {
  const reader = new FrameReader(1 << 20);
  reader.push(bytes);
  const m = reader.next();
  const decoded = m && decodeMessage(m.code, m.body);
  if (decoded?.type !== 'Password') throw new Error('expected a Password message');
  return decoded.data;
}

/** Runs pg's client against a ScramSession; returns what finish() said. */
async function authenticate(creds: ScramCredentials, password: string) {
  const client = sasl.startSession(['SCRAM-SHA-256']);
  const initial = parseSaslInitialResponse(overTheWire(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', client.response)));
  expect(initial.mechanism).toBe('SCRAM-SHA-256');
  const server = new ScramSession(creds);
  await sasl.continueSession(client, password, server.serverFirst(initial.response));
  const result = server.finish(parseSaslResponse(overTheWire(serialize.sendSCRAMClientFinalMessage(client.response))));
  return { client, result };
}

describe('SCRAM-SHA-256 against the pg client', () => {
  const creds = deriveScramCredentials('correct horse battery staple');

  it('accepts the right password, and the client accepts the server signature', async () => {
    const { client, result } = await authenticate(creds, 'correct horse battery staple');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.serverFinal).toMatch(/^v=[A-Za-z0-9+/]+=*$/);
    expect(() => sasl.finalizeSession(client, result.serverFinal)).not.toThrow();
  });

  it('refuses a wrong password', async () => {
    expect((await authenticate(creds, 'correct horse battery stapler')).result).toEqual({ ok: false });
  });

  it('normalises non-ASCII passwords as pg does (SASLprep mapping and NFKC)', async () => {
    const composed = deriveScramCredentials('p\u00e4ssw\u00f6rd\u00a0x'); // ä, ö precomposed, no-break space
    expect((await authenticate(composed, 'pa\u0308ssw\u00f6rd x')).result.ok).toBe(true); // ä decomposed, plain space
  });

  it('works with any salt and iteration count the client allows', async () => {
    const custom = deriveScramCredentials('pw', Buffer.from('0123456789abcdef0123'), 10_000);
    expect(custom.iterations).toBe(10_000);
    expect((await authenticate(custom, 'pw')).result.ok).toBe(true);
  });

  it('derives the same keys for the same password and salt, different ones for another salt', () => {
    const salt = Buffer.alloc(16, 7);
    const a = deriveScramCredentials('pw', salt);
    const b = deriveScramCredentials('pw', salt);
    expect(a.storedKey).toEqual(b.storedKey);
    expect(a.serverKey).toEqual(b.serverKey);
    expect(deriveScramCredentials('pw', Buffer.alloc(16, 8)).storedKey).not.toEqual(a.storedKey);
  });

  it('rejects a bad iteration count or an empty salt', () => {
    expect(() => deriveScramCredentials('pw', undefined, 0)).toThrow(RangeError);
    expect(() => deriveScramCredentials('pw', undefined, 1_000_000)).toThrow(RangeError);
    expect(() => deriveScramCredentials('pw', Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('SCRAM message checks', () => {
  const creds = deriveScramCredentials('pw', Buffer.alloc(16, 1));
  const serverNonce = Buffer.alloc(18, 2);
  const serverNonceText = serverNonce.toString('base64');

  it('answers with the combined nonce, the salt and the iterations', () => {
    const first = new ScramSession(creds, serverNonce).serverFirst('n,,n=,r=clientnonce');
    expect(first).toBe(`r=clientnonce${serverNonceText},s=${creds.salt.toString('base64')},i=4096`);
    // 'y,,' (client could bind but thinks we cannot) and extensions after the nonce are fine.
    expect(new ScramSession(creds).serverFirst('y,,n=ignored,r=abc,x=ext')).toMatch(/^r=abc/);
  });

  it('throws ProtocolError on malformed client-first messages', () => {
    const cases = [
      '',
      'garbage',
      'n,,',
      'n,a=admin,n=,r=abc', // authorization identity
      'x,,n=,r=abc',
      'n,,r=abc', // no user attribute
      'n,,n=,r=', // empty nonce
      'n,,n=,r=a,b', // nonce then a non-attribute
      'n,,n=,r=ab\u00e9', // non-printable nonce
      'n,,m=ext,n=,r=abc',
      'n,,n=,r=abc,m=mandatory',
    ];
    for (const message of cases) {
      const err = protocolError(() => new ScramSession(creds).serverFirst(message));
      expect(err.message).toBe('malformed SCRAM message');
      expect(err.sqlstate).toBe('08P01');
    }
    expect(protocolError(() => new ScramSession(creds).serverFirst('p=tls-server-end-point,,n=,r=abc')).message).toBe('SCRAM channel binding is not supported');
  });

  it('throws ProtocolError on malformed client-final messages', () => {
    const nonce = `abc${serverNonceText}`;
    const proof = Buffer.alloc(32).toString('base64');
    const cases = [
      '',
      `c=biws,r=${nonce}`, // no proof
      `c=biws,r=${nonce},p=!!!!`, // proof not base64
      `c=biws,r=${nonce},p=${Buffer.alloc(16).toString('base64')}`, // proof of the wrong length
      `r=${nonce},c=biws,p=${proof}`, // attributes out of order
      `c=eSws,r=${nonce},p=${proof}`, // binding says 'y,,' but the client sent 'n,,'
      `c=biws,r=${nonce},m=x,p=${proof}`,
    ];
    for (const message of cases) {
      const session = new ScramSession(creds, serverNonce);
      session.serverFirst('n,,n=,r=abc');
      expect(protocolError(() => session.finish(message)).message).toBe('malformed SCRAM message');
    }
  });

  it('refuses a final message with another nonce', async () => {
    const client = sasl.startSession(['SCRAM-SHA-256']);
    const server = new ScramSession(creds);
    await sasl.continueSession(client, 'pw', server.serverFirst(client.response));
    const tampered = client.response.replace(/,r=([^,]+),/, (_, n: string) => `,r=${n}x,`);
    expect(server.finish(tampered)).toEqual({ ok: false });
  });

  it('runs once: steps out of order or repeated throw', async () => {
    const session = new ScramSession(creds);
    expect(() => session.finish('c=biws,r=x,p=x')).toThrow('SCRAM exchange out of order');
    const client = sasl.startSession(['SCRAM-SHA-256']);
    await sasl.continueSession(client, 'pw', session.serverFirst(client.response));
    expect(() => session.serverFirst(client.response)).toThrow('SCRAM exchange out of order');
    expect(session.finish(client.response).ok).toBe(true);
    expect(() => session.finish(client.response)).toThrow('SCRAM exchange out of order');
  });
});
