/**
 * The sandbox's `$skiptoken`: an opaque, signed keyset cursor. It carries the whole query (as the
 * seed example's nextLink carries nothing else) plus the order value and id of the last item served,
 * so a pass resumes exactly after that item however the book changed meanwhile. The HMAC makes a
 * tampered or foreign token a 400 instead of a silently different query.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadQueryError } from '../src/common/errors.js';
import type { Cursor } from './store.js';

export interface SkipTokenState {
  /** The list request's OData options as sent (raw text, re-parsed on every page). */
  readonly options: Readonly<Record<string, string>>;
  readonly cursor: Cursor;
  /** Pages served so far in this pass (drives the repeat-nextLink fault). */
  readonly page: number;
  /** Items still allowed when $top is a limit rather than a page size. */
  readonly remaining?: number;
}

export class SkipTokenCodec {
  constructor(private readonly secret: Buffer) {}

  encode(state: SkipTokenState): string {
    const body = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  decode(token: string): SkipTokenState {
    const [body, signature, ...rest] = token.split('.');
    if (!body || !signature || rest.length > 0 || !this.verify(body, signature)) {
      throw new BadQueryError('$skiptoken', '$skiptoken is not one this service issued');
    }
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SkipTokenState;
    } catch (error) {
      throw new BadQueryError('$skiptoken', '$skiptoken is not one this service issued', { cause: error });
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
  }

  private verify(body: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
