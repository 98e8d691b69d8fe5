/**
 * A sandbox, the production Partner Center source signed in to it, and a local webhook receiver:
 * what the webhook registration tests share. Delivery attempts come a few milliseconds apart, so a
 * failing receiver is given up on (10 attempts) at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import { createPartnerCenterSource, type PartnerCenterSource } from '../../src/source/create.js';
import { Receiver } from './webhook-receiver.js';

export interface WebhooksHarness {
  readonly sandbox: Sandbox;
  readonly source: PartnerCenterSource;
  readonly receiver: Receiver;
  /** A folder for token caches, removed by close(). */
  readonly work: string;
  close(): Promise<void>;
}

export async function startWebhooksHarness(seed: number): Promise<WebhooksHarness> {
  const sandbox = await startSandbox({ count: 5, seed, webhooks: { retryDelaysMs: [5], attemptTimeoutMs: 1000 } });
  const work = await mkdtemp(join(tmpdir(), 'webhooks-'));
  const config = loadPartnerCenterConfig({ ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') });
  const source = createPartnerCenterSource(config, { retry: { baseDelayMs: 5, maxDelayMs: 50 } });
  const receiver = await Receiver.start();
  return {
    sandbox,
    source,
    receiver,
    work,
    async close() {
      source.close();
      await receiver.close();
      await sandbox.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
