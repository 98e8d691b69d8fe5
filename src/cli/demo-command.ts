/**
 * `referrals-lake demo`: shows the project working with no Azure account and no config. Until the
 * sync pipeline lands (issue 5), it starts the sandbox, signs in through MSAL exactly as a real run
 * would (refresh token → delegated token), asks the Referrals API for the newest referrals, prints
 * them, and stops what it started.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import { loadPartnerCenterConfig } from '../config.js';
import { startSandbox } from '../sandbox/sandbox.js';
import type { Referral } from '../schema/referral-resource.js';
import { createConfidentialClient } from '../source/auth/msal-app.js';

interface ListPage {
  '@odata.count'?: number;
  value: Referral[];
  '@odata.nextLink'?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Start the sandbox, sign in, and print the newest referrals (no Azure account needed).')
    .action(async () => {
      const sandbox = await startSandbox({ count: 5000, seed: 1 });
      try {
        const config = loadPartnerCenterConfig(sandbox.env);
        const app = createConfidentialClient(config);
        const auth = await app.acquireTokenByRefreshToken({
          refreshToken: config.bootstrapRefreshToken ?? '',
          scopes: [config.scope],
          forceCache: true,
        });
        if (!auth) throw new Error('the sandbox gave no token');
        const url = `${config.apiBaseUrl}/v1.0/engagements/referrals?$top=5&$count=true&$orderby=createdDateTime%20desc`;
        const page = await getJson<ListPage>(url, auth.accessToken, config.caPem);
        printPage(sandbox.baseUrl, page);
      } finally {
        await sandbox.close();
      }
    });
}

function printPage(baseUrl: string, page: ListPage): void {
  const out = process.stdout;
  out.write(`Sandbox Partner Center at ${baseUrl}: ${page['@odata.count']} referrals.\n`);
  out.write('The five newest, fetched through MSAL + the Referrals API:\n\n');
  const rows = page.value.map((r) => [
    r.createdDateTime.slice(0, 19),
    r.direction ?? '',
    r.type ?? '',
    `${r.status}/${r.substatus}`,
    r.customerProfile?.name ?? '',
    r.details?.dealValue === undefined || r.details?.dealValue === null
      ? ''
      : `${r.details.dealValue} ${r.details.currency ?? ''}`,
  ]);
  const header = ['created (UTC)', 'direction', 'type', 'status', 'customer', 'deal value'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  for (const row of [header, ...rows]) {
    out.write(`  ${row.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join('  ')}\n`);
  }
  out.write('\nRun your own: `npx referrals-lake sandbox --count 5000` prints its base URL and settings as JSON.\n');
}

function getJson<T>(url: string, token: string, caPem: string | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const ca = caPem ? [...rootCertificates, caPem] : undefined;
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, ca },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`the Referrals API answered ${res.statusCode}`));
          else resolve(JSON.parse(text) as T);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
