/**
 * Sealed tokens: state the app hands a caller and gets back (a listing's continuation, a flow
 * trigger's position), which the caller can neither read nor change.
 *
 * AES-256-GCM over deflated JSON. The key must be the same on every instance of the app (the next
 * call may land on another instance) and must not be something a caller can learn. Rather than a
 * new setting, it is derived (HKDF-SHA256) from the credential the app already holds for Entra ID:
 * the client secret, or the certificate's private key; each kind of token under its own label, so
 * one kind is never taken for another.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { PartnerCenterConfig } from '../config.js';

export interface SealLabels {
  /** HKDF info: which key. */
  readonly key: string;
  /** Authenticated data: which kind of token. */
  readonly purpose: string;
}

/** Why a token could not be opened, in words for the caller. */
export type OpenFailure = 'malformed' | 'not valid (changed, or sealed with another key)';

export class Sealer {
  private readonly key: Buffer;
  private readonly aad: Buffer;

  constructor(secret: string | Buffer, labels: SealLabels) {
    if (secret.length < 16) throw new Error('sealing needs a secret of at least 16 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, 'referrals-lake', labels.key, 32) as ArrayBuffer);
    this.aad = Buffer.from(labels.purpose);
  }

  /** The secret a sealer is keyed from (see the module comment). */
  static secretOf(config: PartnerCenterConfig): string | Buffer {
    const secret = config.clientSecret ?? config.clientCertificate?.privateKey;
    if (!secret) throw new Error('no client secret or certificate to derive the sealing key from');
    return secret;
  }

  seal(body: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(this.aad);
    const sealed = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify(body))), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The body sealed in `token`, or why it cannot be opened. */
  open(token: string): { readonly body: unknown } | { readonly failure: OpenFailure } {
    if (!/^[A-Za-z0-9_-]{40,12000}$/.test(token)) return { failure: 'malformed' };
    const bytes = Buffer.from(token, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
      decipher.setAAD(this.aad);
      decipher.setAuthTag(bytes.subarray(12, 28));
      const plain = inflateRawSync(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]));
      return { body: JSON.parse(plain.toString('utf8')) as unknown };
    } catch {
      return { failure: 'not valid (changed, or sealed with another key)' };
    }
  }
}
