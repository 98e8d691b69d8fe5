/**
 * How much CPU the sandbox spends serving a whole book: it must never be what holds up a benchmark
 * of the client. A plain keep-alive HTTPS loop pulls every page; the sandbox reports its own CPU.
 */

import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Scenario } from '../run.js';
import { spawnSandbox } from '../sandbox-process.js';

export const sandboxServingScenario: Scenario = {
  name: 'sandbox-serving',
  title: 'Sandbox: serving the whole book',
  description:
    'The sandbox (a child process) serves every page of N seeded referrals, 100 a page, to a plain keep-alive ' +
    "HTTPS loop that also parses each page. `sandbox_cpu_ms_*` is the sandbox process's own user+system CPU " +
    'for the pass (its stats endpoint reads `process.cpuUsage()` before and after).',
  async run(size) {
    const count = size === 'quick' ? 5000 : 50_000;
    const sandbox = await spawnSandbox(['--count', String(count), '--next-link', 'clean']);
    try {
      const ca = [...rootCertificates, readFileSync(sandbox.env.PARTNER_CENTER_CA_FILE, 'utf8')];
      const agent = new Agent({ keepAlive: true, ca });
      const token = await refreshAccessToken(sandbox.baseUrl, sandbox.env, agent);
      const before = await sandbox.stats();
      const began = performance.now();
      let url: string | undefined = `${sandbox.baseUrl}/v1.0/engagements/referrals?$top=100`;
      let served = 0;
      while (url) {
        const page = JSON.parse(await get(url, agent, { Authorization: `Bearer ${token}` })) as {
          value: unknown[];
          '@odata.nextLink'?: string;
        };
        served += page.value.length;
        url = page['@odata.nextLink'];
      }
      const wallMs = performance.now() - began;
      const after = await sandbox.stats();
      const cpuMs =
        after.process.cpuUserMs + after.process.cpuSystemMs - before.process.cpuUserMs - before.process.cpuSystemMs;
      agent.destroy();
      if (served !== count) throw new Error(`served ${served} of ${count}`);
      return {
        [`sandbox_cpu_ms_${count}`]: Math.round(cpuMs),
        sandbox_cpu_ms_per_5000: Math.round((cpuMs * 5000) / count),
        [`sandbox_wall_ms_${count}`]: Math.round(wallMs),
        sandbox_rss_mb: Math.round(after.process.rssBytes / 2 ** 20),
      };
    } finally {
      await sandbox.stop();
    }
  },
};

async function refreshAccessToken(baseUrl: string, env: Record<string, string>, agent: Agent): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: env.PARTNER_CENTER_CLIENT_ID ?? '',
    client_secret: env.PARTNER_CENTER_CLIENT_SECRET ?? '',
    refresh_token: env.PARTNER_CENTER_REFRESH_TOKEN ?? '',
    scope: `${env.PARTNER_CENTER_SCOPE} offline_access`,
  }).toString();
  const text = await get(
    `${baseUrl}/${env.PARTNER_CENTER_TENANT_ID}/oauth2/v2.0/token`,
    agent,
    {
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body,
  );
  return (JSON.parse(text) as { access_token: string }).access_token;
}

function get(url: string, agent: Agent, headers: Record<string, string>, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers, method: body ? 'POST' : 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${res.statusCode} from ${new URL(url).pathname}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
