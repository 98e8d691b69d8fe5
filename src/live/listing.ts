/**
 * One answer of the live list: referrals from Partner Center, page by page as the response is
 * written (memory holds one upstream page), up to `maxItems`, then a position to resume from.
 *
 * The first page is fetched before the answer starts, so a refused query, a sign-in problem or
 * throttling still becomes a proper status; later failures can only cut the stream short.
 */

import type { ListQuery } from '../odata/ast.js';
import type { PartnerCenterClient, ReferralPage } from '../source/client.js';
import type { Continuation, Position } from './continuation.js';
import type { ListSpec } from './request.js';

export interface LiveListing {
  /** The referrals of this answer, as Partner Center sent them. */
  readonly items: AsyncIterable<unknown>;
  /** Once `items` is exhausted: where the next answer resumes, or undefined when the listing is done. */
  next(): Position | undefined;
}

/**
 * The query sent upstream. `$top` there is a page size (Partner Center's nextLinks go on), never
 * more than the caller wants in all; it depends only on the spec, so an answer that resumes inside
 * the first page re-issues the very same query and finds the same items where it left off.
 */
export function upstreamQuery(spec: ListSpec, pageSize: number): ListQuery {
  return { ...spec.query, top: Math.max(1, Math.min(pageSize, spec.limit ?? pageSize)) };
}

export async function openListing(
  client: PartnerCenterClient,
  pageSize: number,
  at: Continuation,
  signal?: AbortSignal,
): Promise<LiveListing> {
  const { spec } = at;
  const limit = spec.limit ?? Number.POSITIVE_INFINITY;
  const left = limit - at.returned;
  const pages = client
    .listReferrals(upstreamQuery(spec, pageSize), { signal, startAt: at.page })
    .pages()
    [Symbol.asyncIterator]();
  const first = left > 0 ? await pages.next() : ({ done: true, value: undefined } as const);
  let next: Position | undefined;

  async function* items(): AsyncGenerator<unknown> {
    let result: IteratorResult<ReferralPage> = first;
    let pageUrl = at.page;
    let skip = at.skip;
    let returned = at.returned;
    let emitted = 0;
    try {
      while (!result.done) {
        const page = result.value;
        for (let i = skip; i < page.referrals.length; i++) {
          if (returned >= limit) return;
          if (emitted >= spec.maxItems) {
            next = { page: pageUrl, skip: i, returned };
            return;
          }
          yield page.referrals[i];
          emitted++;
          returned++;
        }
        if (page.nextLink === undefined || returned >= limit) return;
        if (emitted >= spec.maxItems) {
          next = { page: page.nextLink, skip: 0, returned };
          return;
        }
        pageUrl = page.nextLink;
        skip = 0;
        result = await pages.next();
      }
    } finally {
      await pages.return?.();
    }
  }

  return { items: items(), next: () => next };
}
