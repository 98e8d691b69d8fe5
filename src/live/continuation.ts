/**
 * Our own continuation token: where the next answer resumes, sealed so the caller can neither read
 * nor change it. Partner Center's nextLink (and its skiptoken) never leaves the function in clear.
 *
 * AES-256-GCM over deflated JSON { spec, page, skip, returned, expires }. The key must be the same
 * on every instance of the app (the next page may land on another instance) and must not be
 * something a caller can learn. Rather than a new setting, it is derived (HKDF-SHA256) from the
 * credential the app already holds for Entra ID: the client secret, or the certificate's private
 * key. Rotating that credential invalidates outstanding tokens, which costs a flow one restarted
 * listing; tokens live an hour anyway.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BadQueryError } from '../common/errors.js';
import type { PartnerCenterConfig } from '../config.js';
import type { ListSpec } from './request.js';

export interface Position {
  /** The upstream page to fetch next (a repaired, pinned nextLink); absent: the query's first page. */
  readonly page?: string;
  /** Items of that page already returned. */
  readonly skip: number;
  /** Items returned so far in the whole listing (for `$top`). */
  readonly returned: number;
}

export interface Continuation extends Position {
  readonly spec: ListSpec;
}

export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const VERSION = 1;
const AAD = Buffer.from('referrals-lake live list continuation v1');

export class ContinuationCodec {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < 16) throw new Error('the continuation key needs a secret of at least 16 bytes');
    this.key = Buffer.from(
      hkdfSync('sha256', secret, 'referrals-lake', 'live-list continuation token v1', 32) as ArrayBuffer,
    );
  }

  /** A codec keyed from the app's Entra ID credential (see the module comment). */
  static fromConfig(config: PartnerCenterConfig): ContinuationCodec {
    const secret = config.clientSecret ?? config.clientCertificate?.privateKey;
    if (!secret) throw new Error('no client secret or certificate to derive the continuation key from');
    return new ContinuationCodec(secret);
  }

  seal(continuation: Continuation): string {
    const body = { v: VERSION, e: this.now() + TOKEN_LIFETIME_MS, c: continuation };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify(body))), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The continuation, or a 400-worthy BadQueryError when the token is tampered with, foreign or old. */
  open(token: string): Continuation {
    const invalid = (why: string) =>
      new BadQueryError('continuation', `the continuation token is ${why}; start the listing again`);
    if (!/^[A-Za-z0-9_-]{40,12000}$/.test(token)) throw invalid('malformed');
    const bytes = Buffer.from(token, 'base64url');
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(12, 28));
      plain = inflateRawSync(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]));
    } catch {
      throw invalid('not valid (changed, or sealed with another key)');
    }
    const body = JSON.parse(plain.toString('utf8')) as { v: number; e: number; c: Continuation };
    if (body.v !== VERSION) throw invalid('from another version');
    if (body.e < this.now()) throw invalid('expired');
    return body.c;
  }
}
