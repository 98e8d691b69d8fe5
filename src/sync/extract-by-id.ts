/**
 * An event run's extract: each referral an event named, fetched by id (`GET …/referrals/{id}`) a few
 * at a time, handed on in pages like a listing's so the run writes them the same way. A referral
 * Partner Center answers 404 for (deleted, or out of the user's sight since the event) is not an
 * error: it is reported, and its event is done. One Partner Center keeps failing for (after the
 * client's retries) is reported too and left out, so one bad referral does not hold up the others'
 * events; a failure that is not about one referral (sign-in, throttling) fails the run.
 */
import { UpstreamError } from '../common/errors.js';
import type { PartnerCenterClient } from '../source/client.js';
import type { ExtractedPage } from './extract.js';

const PAGE_SIZE = 20;

export interface ByIdOptions {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Called with each id Partner Center answered 404 for. */
  readonly onNotFound: (id: string) => void;
  /** Called with each id Partner Center kept failing for; without it, such a failure fails the run. */
  readonly onFailed?: (id: string, error: UpstreamError) => void;
}

export async function* extractByIds(
  client: PartnerCenterClient,
  ids: readonly string[],
  options: ByIdOptions,
): AsyncGenerator<ExtractedPage> {
  const width = Math.max(1, options.concurrency);
  for (let start = 0, pageNumber = 1; start < ids.length; start += PAGE_SIZE, pageNumber++) {
    const batch = ids.slice(start, start + PAGE_SIZE);
    const referrals: unknown[] = [];
    for (let i = 0; i < batch.length; i += width) {
      const found = await Promise.all(
        batch.slice(i, i + width).map(async (id) => {
          try {
            return { id, referral: await client.getReferral(id, options) };
          } catch (error) {
            if (!(error instanceof UpstreamError) || !options.onFailed) throw error;
            options.onFailed(id, error);
            return { id, failed: true };
          }
        }),
      );
      for (const { id, referral, failed } of found) {
        if (failed) continue;
        if (referral === undefined) options.onNotFound(id);
        else referrals.push(referral);
      }
    }
    yield {
      referrals,
      pageNumber,
      range: 0,
      requestId: undefined,
      odataCount: undefined,
      nextLink: undefined,
      bytes: 0,
    };
  }
}
