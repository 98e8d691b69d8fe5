/**
 * A deliberately plain HTTPS client for testing the sandbox itself: no retries, no repair magic
 * beyond what a test asks for. (The product's client lives in src/source and is tested separately.)
 */
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Sandbox } from '../../src/sandbox/sandbox.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

const agents = new WeakMap<Sandbox, Agent>();

function agentFor(sandbox: Sandbox): Agent {
  let agent = agents.get(sandbox);
  if (!agent) {
    agent = new Agent({ keepAlive: true, ca: [...rootCertificates, sandbox.caPem] });
    agents.set(sandbox, agent);
  }
  return agent;
}

export function send(
  sandbox: Sandbox,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: agentFor(sandbox) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A fresh access token for the seeded admin, straight from the token endpoint (refresh_token grant). */
export async function accessToken(sandbox: Sandbox, refreshToken = sandbox.env.PARTNER_CENTER_REFRESH_TOKEN) {
  const { env } = sandbox;
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: env.PARTNER_CENTER_CLIENT_ID,
    client_secret: env.PARTNER_CENTER_CLIENT_SECRET,
    refresh_token: refreshToken,
    scope: `${env.PARTNER_CENTER_SCOPE} offline_access`,
  }).toString();
  const res = await send(sandbox, `${sandbox.baseUrl}/${env.PARTNER_CENTER_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.text}`);
  const tokens = res.json<{ access_token: string; refresh_token: string }>();
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
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
