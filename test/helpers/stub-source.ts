/**
 * A Partner Center client whose answers are fixed pages: for run tests that need an exact input
 * (the same referral twice, in a chosen order) without a sandbox. The real client does the paging,
 * so nextLink handling and the run's page loop are the production ones.
 */
import { PartnerCenterClient } from '../../src/source/client.js';
import { LIST_PATH } from '../../src/source/next-link.js';
import type { SyncOptions } from '../../src/sync/run.js';

export const STUB_API = 'https://partner-center.test';

/** A full run of one listing: what a few fixed pages need. */
export const STUB_SYNC_OPTIONS: SyncOptions = {
  mode: 'full',
  pageSize: 100,
  concurrency: 1,
  rangeField: 'createdDateTime',
  overlapMs: 0,
};

/** Serves these pages in order, whatever the query: page n links to page n + 1. */
export function stubClient(pages: readonly (readonly unknown[])[]): PartnerCenterClient {
  return new PartnerCenterClient({
    apiBaseUrl: STUB_API,
    transport: {
      async get(url) {
        const n = Number(url.searchParams.get('$skiptoken') ?? 0);
        const next = n + 1 < pages.length ? `${STUB_API}${LIST_PATH}?$skiptoken=${n + 1}` : undefined;
        const body = JSON.stringify({ value: pages[n] ?? [], '@odata.nextLink': next });
        return { status: 200, headers: {}, body: Buffer.from(body) };
      },
      close() {},
    },
    tokens: { getAccessToken: async () => 'not-a-real-token' },
  });
}
