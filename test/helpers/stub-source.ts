/**
 * A Partner Center client whose answers are fixed pages: for run tests that need an exact input
 * (the same referral twice, in a chosen order) without a sandbox. The real client does the paging,
 * so nextLink handling and the run's page loop are the production ones.
 */
import { PartnerCenterClient } from '../../src/source/client.js';
import { LIST_PATH } from '../../src/source/next-link.js';

export const STUB_API = 'https://partner-center.test';

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
