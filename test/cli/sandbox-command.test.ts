import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPartnerCenterConfig, SETTING_NAMES } from '../../src/config.js';

import { BIN } from '../helpers/cli.js';

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

async function firstLine(proc: ChildProcess): Promise<string> {
  if (!proc.stdout) throw new Error('no stdout');
  const lines = createInterface({ input: proc.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  return line;
}

describe('referrals-lake sandbox', () => {
  it('prints one JSON line with the base URL and every setting a sync needs, then stops cleanly on SIGTERM', async () => {
    child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0', '--count', '50', '--seed', '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await firstLine(child);
    const { baseUrl, env } = JSON.parse(line) as { baseUrl: string; env: Record<string, string> };
    expect(baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const name of Object.keys(env)) expect(SETTING_NAMES).toContain(name);
    expect(Object.keys(env)).toContain('PARTNER_CENTER_REFRESH_TOKEN');
    const config = loadPartnerCenterConfig(env);
    expect(config.apiBaseUrl).toBe(baseUrl);
    expect(config.webhooksBaseUrl).toBe(baseUrl);
    expect(config.webhookCertificateHosts).toEqual([new URL(baseUrl).host]);
    expect(config.caPem).toContain('BEGIN CERTIFICATE');

    const stats = await fetchJson(`${baseUrl}/_sandbox/stats`, config.caPem ?? '');
    expect(stats).toMatchObject({ referrals: 50 });

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('refuses a bad flag with a usage error', async () => {
    child = spawn(process.execPath, [BIN, 'sandbox', '--count', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toMatch(/--count/);
  });
});

async function fetchJson(url: string, caPem: string): Promise<unknown> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    request(url, { ca: caPem }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve(JSON.parse(text)));
    })
      .on('error', reject)
      .end();
  });
}
