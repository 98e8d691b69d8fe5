/**
 * How much CPU the sandbox spends serving a whole book: it must never be what holds up a benchmark
 * of the client. A plain keep-alive HTTPS loop pulls every page; the sandbox reports its own CPU.
 */

import { readFileSync } from 'node:fs';
import { accessToken, sandboxAgent, send } from '../../dev/sandbox-http.js';
import type { Scenario } from '../run.js';
import { mb } from '../run-workers.js';
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
      const agent = sandboxAgent(readFileSync(sandbox.env.PARTNER_CENTER_CA_FILE, 'utf8'));
      const token = (await accessToken(sandbox, agent)).accessToken;
      const before = await sandbox.stats();
      const began = performance.now();
      let url: string | undefined = `${sandbox.baseUrl}/v1.0/engagements/referrals?$top=100`;
      let served = 0;
      while (url) {
        const res = await send(agent, url, { headers: { Authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`${res.status} from ${new URL(url).pathname}`);
        const page = res.json<{ value: unknown[]; '@odata.nextLink'?: string }>();
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
        sandbox_rss_mb: mb(after.process.rssBytes),
      };
    } finally {
      await sandbox.stop();
    }
  },
};
