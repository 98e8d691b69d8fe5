/**
 * `referrals-lake serve` (through startServeChild, the demo's and the benchmarks' launcher) stopped
 * while its worker holds an event waiting for the flush. serve's own shutdown then takes over 5 s (the
 * queue host waits 5 s for running invocations before it gives their messages back, then Azurite
 * stops), and stop() must let it finish: killed early, serve leaves the Azurite it started running,
 * an orphan nobody stops. And serve must then exit, not wait for the held event's flush.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeChild, startServeChild } from '../../dev/cli/serve-child.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { listening } from '../helpers/process.js';

let sandbox: Sandbox;
let work: string;
let serve: ServeChild | undefined;

beforeAll(async () => {
  sandbox = await startSandbox({ count: 20, seed: 7, webhooks: { retryDelaysMs: [200], attemptTimeoutMs: 5000 } });
  work = await mkdtemp(join(tmpdir(), 'serve-child-test-'));
});
afterAll(async () => {
  await serve?.stop();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('startServeChild', () => {
  it('lets serve finish stopping with an invocation held for the flush, so the Azurite it started stops too', async () => {
    serve = await startServeChild(
      { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') },
      { dataDir: join(work, 'data') },
    );
    const azurite = serve.azurite;
    if (!azurite) throw new Error('serve started no Azurite');
    sandbox.webhooks.register({
      webhookUrl: serve.receiverUrl,
      webhookEvents: ['referral-updated'],
      signatureInMsHeader: false,
    });
    // A lone event runs at once; the next one waits for the flush (30 s), its invocation held open.
    sandbox.mutate(1);
    await serve.waitForLog((l) => l.message === 'event run summary', 30_000);
    sandbox.mutate(1);
    await serve.waitForLog(
      (l) => l.message === 'executing' && serve?.logged((e) => e.message === 'executing').length === 2,
      10_000,
    );

    const began = Date.now();
    await serve.stop();
    // The queue host's 5 s wait for running invocations, then the rest; not the flush (30 s), not a kill (20 s).
    expect(Date.now() - began).toBeGreaterThan(5000);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(await listening(azurite.blobEndpoint)).toBe(false);
    expect(await listening(azurite.queueEndpoint)).toBe(false);
  }, 90_000);
});
