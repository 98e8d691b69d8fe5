/**
 * A deliberately plain HTTPS client for testing the sandbox itself: no retries, no repair magic
 * beyond what a test asks for. (The product's client lives in src/source and is tested separately.)
 * The requests and the token exchange are dev/sandbox-http.ts (the benchmark uses them too);
 * here they take the in-process Sandbox, with one keep-alive agent each.
 */
import type { Agent } from 'node:https';
import {
  accessToken as exchangeRefreshToken,
  type RawResponse,
  type SendOptions,
  sandboxAgent,
  send as sendWith,
} from '../../dev/sandbox-http.js';
import type { Sandbox } from '../../sandbox/sandbox.js';

export type { RawResponse };

const agents = new WeakMap<Sandbox, Agent>();

function agentFor(sandbox: Sandbox): Agent {
  let agent = agents.get(sandbox);
  if (!agent) {
    agent = sandboxAgent(sandbox.caPem);
    agents.set(sandbox, agent);
  }
  return agent;
}

export function send(sandbox: Sandbox, url: string, options: SendOptions = {}): Promise<RawResponse> {
  return sendWith(agentFor(sandbox), url, options);
}

/** A fresh access token for the seeded admin, straight from the token endpoint (refresh_token grant). */
export function accessToken(sandbox: Sandbox, refreshToken = sandbox.env.PARTNER_CENTER_REFRESH_TOKEN) {
  return exchangeRefreshToken(sandbox, agentFor(sandbox), refreshToken);
}

export function listUrl(sandbox: Sandbox, params: Record<string, string> = {}): string {
  const url = new URL('/v1.0/engagements/referrals', sandbox.baseUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/** The seed example's nextLink is http:// and lacks /engagements; tests repair it the obvious way. */
export function repairNextLink(sandbox: Sandbox, link: string): string {
  const url = new URL(link);
  const base = new URL(sandbox.baseUrl);
  url.protocol = base.protocol;
  if (url.pathname === '/v1.0/referrals') url.pathname = '/v1.0/engagements/referrals';
  return url.toString();
}

export interface ListPage {
  value: Array<Record<string, unknown> & { id: string }>;
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
  '@odata.context'?: string;
}

/** Follows nextLinks until none; returns every page. `between` runs after each page. */
export async function listAll(
  sandbox: Sandbox,
  token: string,
  params: Record<string, string> = {},
  between?: (pageIndex: number) => void | Promise<void>,
): Promise<ListPage[]> {
  const pages: ListPage[] = [];
  let url: string | undefined = listUrl(sandbox, params);
  while (url) {
    const res = await send(sandbox, url, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`page ${pages.length + 1}: ${res.status} ${res.text}`);
    const page = res.json<ListPage>();
    pages.push(page);
    await between?.(pages.length);
    url = page['@odata.nextLink'] ? repairNextLink(sandbox, page['@odata.nextLink']) : undefined;
    if (pages.length > 100_000) throw new Error('runaway paging');
  }
  return pages;
}
