/**
 * `referrals-lake serve` hosting the events path as a user runs it (issue 20, point 7): a child
 * process given the sandbox's settings and no storage setting starts Azurite (blob and queue)
 * itself and says where, without its key; the receiver URL it prints, registered with the sandbox,
 * takes a change's signed event onto the queue, and serve's own worker lands the referral's row in
 * referrals_latest within the flush interval. On SIGTERM it stops Azurite too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { StorageError } from '../../src/common/errors.js';
import { readSnapshot } from '../../src/lake/delta/log.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../helpers/azurite.js';
import { type ServeProcess, startServe } from '../helpers/cli.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { copyToLocal, type DuckDb, openDuckDb } from '../helpers/duckdb.js';
import { accessToken, send } from '../helpers/sandbox-http.js';

let sandbox: Sandbox;
let duck: DuckDb;
let work: string;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([
    startSandbox({ count: 40, seed: 9, webhooks: { retryDelaysMs: [200], attemptTimeoutMs: 5000 } }),
    openDuckDb(),
  ]);
  work = await mkdtemp(join(tmpdir(), 'serve-events-'));
});

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Started {
  receiverUrl: string;
  azurite: { blobEndpoint: string; queueEndpoint: string; location: string };
  queues: { function: string; queue: string; poison: string }[];
}

/** True when something accepts connections on the URL's port. */
function listening(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Registers `url` for referral-updated with the sandbox, as `webhooks register` will. */
async function register(url: string): Promise<void> {
  // A second sign-in: serve's worker redeems the bootstrap token in the settings.
  const { accessToken: token } = await accessToken(sandbox, sandbox.identity.issueBootstrapRefreshToken(0));
  const res = await send(sandbox, `${sandbox.env.PARTNER_CENTER_WEBHOOKS_BASE_URL}/webhooks/v1/registration`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ WebhookUrl: url, WebhookEvents: ['referral-updated'] }),
  });
  expect(res.status, res.text).toBe(200);
}

/** The referral's updatedDateTime in referrals_latest (epoch ms), once a version of the table holds it. */
async function latestUpdatedAt(blobEndpoint: string, id: string): Promise<number | undefined> {
  const lake = new BlobStorageTarget({
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    container: 'referrals-lake',
  });
  // Until the first run, no container (404) or no version of the table.
  const snapshot = await readSnapshot(lake, 'referrals_latest').catch((error: unknown) => {
    if (error instanceof StorageError && error.details.status === 404) return undefined;
    throw error;
  });
  if (!snapshot || snapshot.version < 0) return undefined;
  const dir = await mkdtemp(join(work, 'copy-'));
  await copyToLocal(lake, 'referrals_latest/', dir);
  const [row] = await duck.query(
    `SELECT epoch_ms(_source_updated_date_time) AS at FROM ${deltaParquetSource(join(dir, 'referrals_latest'))} WHERE referral_id = '${id}'`,
  );
  return row ? Number(row.at) : undefined;
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms\n${serve?.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('referrals-lake serve with the events path', () => {
  it('starts Azurite when no storage is set, and lands a change in the sandbox in the lake through its receiver and worker', async () => {
    serve = await startServe({
      cwd: work,
      env: { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') },
    });
    const started = serve.line as unknown as Started;
    expect(started.receiverUrl).toBe(`${serve.baseUrl}/api/partner-center/events`);
    expect(started.queues).toEqual([
      { function: 'processReferralEvents', queue: 'referral-events', poison: 'referral-events-poison' },
    ]);
    expect(started.azurite.blobEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    expect(started.azurite.location).toBe(join(work, '.data', 'serve-azurite'));
    // What serve tells a person (stderr, after the JSON line): Azurite's endpoints, never its key.
    await until(async () => (serve?.stderr().includes('referrals-lake webhooks register') ? true : undefined), 5000);
    const guide = serve.stderr();
    expect(guide).toContain(`blob ${started.azurite.blobEndpoint}, queue ${started.azurite.queueEndpoint}`);
    expect(guide).toContain('data kept in .data/serve-azurite/');
    expect(guide).toContain(`referrals-lake webhooks register --url ${started.receiverUrl}`);
    expect(guide).toMatch(/GET\s+\/api\/triggers\/referrals\s+the flows' trigger: not declared yet/);
    for (const printed of [guide, JSON.stringify(serve.line)]) {
      expect(printed).not.toContain(AZURITE_KEY);
      expect(printed).not.toMatch(/AccountKey/i);
    }

    await register(started.receiverUrl);
    const changedAt = Date.now();
    const [id] = sandbox.mutate(1).updated;
    if (!id) throw new Error('the sandbox changed nothing');
    const expected = Date.parse(sandbox.store.all().find((r) => r.id === id)?.updatedDateTime ?? '');
    // A lone event runs at once; EVENTS_FLUSH_SECONDS (30 by default) bounds the wait.
    const landed = await until(async () => {
      const at = await latestUpdatedAt(started.azurite.blobEndpoint, id);
      return at === expected ? at : undefined;
    }, 30_000);
    expect(landed).toBe(expected);
    expect(Date.now() - changedAt).toBeLessThan(30_000);
    // The invocation ends once its run has published: the message is then deleted, not retried.
    const executed = /"message":"executed","function":"processReferralEvents".*"outcome":"succeeded"/;
    await until(async () => (executed.test(serve?.stderr() ?? '') ? true : undefined), 10_000);

    expect(await serve.stop()).toBe(0);
    expect(await listening(started.azurite.blobEndpoint)).toBe(false);
    expect(await listening(started.azurite.queueEndpoint)).toBe(false);
  }, 60_000);
});
