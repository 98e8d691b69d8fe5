/**
 * A deliberately plain HTTPS client for the sandbox: no retries, no repair magic, nothing of the
 * product's client (that lives in src/source). The sandbox's own tests use it through
 * test/helpers/sandbox-http.ts, and the benchmark of what serving costs the sandbox
 * (bench/scenarios/sandbox-serving.ts) uses it so that it measures the sandbox, not our client.
 * Development only, like the rest of dev/.
 */
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { SandboxEnv } from '../sandbox/sandbox.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** A keep-alive agent that trusts the sandbox's CA (PEM) besides the usual roots. */
export function sandboxAgent(caPem: string): Agent {
  return new Agent({ keepAlive: true, ca: [...rootCertificates, caPem] });
}

/** One request, the whole body read as UTF-8 text; any status resolves (the caller judges it). */
export function send(agent: Agent, url: string, options: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A fresh access token for the seeded admin, straight from the token endpoint (refresh_token grant). */
export async function accessToken(
  sandbox: { readonly baseUrl: string; readonly env: SandboxEnv },
  agent: Agent,
  refreshToken = sandbox.env.PARTNER_CENTER_REFRESH_TOKEN,
): Promise<{ accessToken: string; refreshToken: string }> {
  const { env } = sandbox;
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: env.PARTNER_CENTER_CLIENT_ID,
    client_secret: env.PARTNER_CENTER_CLIENT_SECRET,
    refresh_token: refreshToken,
    scope: `${env.PARTNER_CENTER_SCOPE} offline_access`,
  }).toString();
  const res = await send(agent, `${sandbox.baseUrl}/${env.PARTNER_CENTER_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.text}`);
  const tokens = res.json<{ access_token: string; refresh_token: string }>();
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}
