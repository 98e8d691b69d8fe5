/**
 * `referrals-lake demo`: shows the project working with no Azure account and no config. Until the
 * sync pipeline lands (issue 5), it starts the sandbox, signs in exactly as an unattended run does
 * (bootstrap refresh token → persisted MSAL cache → delegated token), streams every referral through
 * the Partner Center client, prints the newest, and stops what it started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadPartnerCenterConfig } from '../config.js';
import { startSandbox } from '../sandbox/sandbox.js';
import type { Referral } from '../schema/referral-resource.js';
import { createPartnerCenterSource } from '../source/create.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Start the sandbox, sign in, stream every referral and print the newest (no Azure account needed).')
    .action(async () => {
      const sandbox = await startSandbox({ count: 5000, seed: 1 });
      const work = await mkdtemp(join(tmpdir(), 'referrals-lake-demo-'));
      const config = loadPartnerCenterConfig({
        ...sandbox.env,
        PARTNER_CENTER_TOKEN_CACHE: join(work, 'msal-cache.json'),
      });
      const source = createPartnerCenterSource(config);
      try {
        const began = performance.now();
        let count = 0;
        for await (const _ of source.client.listReferrals({ top: 100 })) count++;
        const seconds = (performance.now() - began) / 1000;
        const newest = source.client.listReferrals({
          top: 5,
          orderBy: { field: 'createdDateTime', direction: 'desc' },
        });
        const first = await newest.pages()[Symbol.asyncIterator]().next();
        printSummary(
          sandbox.baseUrl,
          count,
          seconds,
          source.client.stats.pages,
          (first.value?.referrals ?? []) as Referral[],
        );
      } finally {
        source.close();
        await sandbox.close();
        await rm(work, { recursive: true, force: true });
      }
    });
}

function printSummary(baseUrl: string, count: number, seconds: number, pages: number, newest: Referral[]): void {
  const out = process.stdout;
  out.write(`Sandbox Partner Center at ${baseUrl}\n`);
  out.write(
    `Streamed ${count} referrals in ${pages - 1} pages in ${seconds.toFixed(2)} s (${Math.round(count / seconds)}/s).\n`,
  );
  out.write('The five newest:\n\n');
  const rows = newest.map((r) => [
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
  out.write(
    '\nRun your own: `node bin/referrals-lake.js sandbox --count 5000` prints its base URL and settings as JSON.\n',
  );
}
