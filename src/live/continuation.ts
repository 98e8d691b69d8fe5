/**
 * Our own continuation token: where the next answer resumes, sealed (sealed.ts) so the caller can
 * neither read nor change it. Partner Center's nextLink (and its skiptoken) never leaves the
 * function in clear.
 *
 * The sealed body is { v, e: expires, c: { spec, page, skip, returned } }. Rotating the Entra ID
 * credential the key derives from invalidates outstanding tokens, which costs a flow one restarted
 * listing; tokens live an hour anyway.
 */
import { BadQueryError } from '../common/errors.js';
import type { PartnerCenterConfig } from '../config.js';
import type { ListSpec } from './request.js';
import { Sealer } from './sealed.js';

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
const AAD = 'referrals-lake live list continuation v1';

export class ContinuationCodec {
  private readonly sealer: Sealer;

  constructor(
    secret: string | Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.sealer = new Sealer(secret, { key: 'live-list continuation token v1', purpose: AAD });
  }

  /** A codec keyed from the app's Entra ID credential (see sealed.ts). */
  static fromConfig(config: PartnerCenterConfig): ContinuationCodec {
    return new ContinuationCodec(Sealer.secretOf(config));
  }

  seal(continuation: Continuation): string {
    return this.sealer.seal({ v: VERSION, e: this.now() + TOKEN_LIFETIME_MS, c: continuation });
  }

  /** The continuation, or a 400-worthy BadQueryError when the token is tampered with, foreign or old. */
  open(token: string): Continuation {
    const invalid = (why: string) =>
      new BadQueryError('continuation', `the continuation token is ${why}; start the listing again`);
    const opened = this.sealer.open(token);
    if ('failure' in opened) throw invalid(opened.failure);
    const body = opened.body as { v: number; e: number; c: Continuation };
    if (body.v !== VERSION) throw invalid('from another version');
    if (body.e < this.now()) throw invalid('expired');
    return body.c;
  }
}
