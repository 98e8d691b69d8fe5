/**
 * `referrals-lake serve` as a user runs it: a child process given an in-process sandbox's settings
 * and no storage setting, so that it starts Azurite (blob and queue) itself and says where, without
 * its key. Curl-like requests over plain HTTP to the live list; then the events path (issue 20,
 * point 7): the receiver URL it prints, registered with the sandbox, takes a change's signed event
 * onto the queue, and serve's own worker lands the referral's row in referrals_latest within the
 * flush interval. On SIGTERM it stops, Azurite with it. One serve process for all: each start costs
 * Azurite's too.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { StorageError } from '../../src/common/errors.js';
import { readSnapshot } from '../../src/lake/delta/log.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../helpers/azurite.js';
import { httpGet as get, type ServeProcess, startServe } from '../helpers/cli.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { copyToLocal, type DuckDb, openDuckDb } from '../helpers/duckdb.js';
import { listening } from '../helpers/process.js';
import { accessToken, send } from '../helpers/sandbox-http.js';

let sandbox: Sandbox;
let duck: DuckDb;
let work: string;
let serve: ServeProcess;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([
    startSandbox({ count: 300, seed: 4, webhooks: { retryDelaysMs: [200], attemptTimeoutMs: 5000 } }),
    openDuckDb(),
  ]);
  work = await mkdtemp(join(tmpdir(), 'serve-test-'));
  // No storage setting: serve starts Azurite, its data under the working folder.
  serve = await startServe({
    cwd: work,
    env: { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') },
  });
}, 30_000);
afterAll(async () => {
  // SIGTERM first, even after a failed test: serve stops the Azurite it started only when it can.
  if (serve && serve.child.exitCode === null) {
    const killer = setTimeout(() => serve.child.kill('SIGKILL'), 8_000);
    await serve.stop();
    clearTimeout(killer);
  }
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/**
 * A request with `bytes` of headers, written 10 KB at a time, its answer read once the client has
 * sent it all (as curl does): a server that closes while the rest is still coming resets the
 * connection, and such a client loses the answer (`error` is then EPIPE or ECONNRESET).
 */
async function sendHeadersSlowly(
  baseUrl: string,
  bytes: number,
): Promise<{ status: number; type: string; text: string; error?: string }> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
  let received = '';
  let error: string | undefined;
  socket.on('data', (c: Buffer) => {
    received += c.toString();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  socket.write(`GET /api/referrals HTTP/1.1\r\nhost: ${hostname}\r\n`);
  for (let sent = 0; sent < bytes && error === undefined; sent += 10_000) {
    socket.write(`x-filler-${sent}: ${'a'.repeat(10_000)}\r\n`);
    await delay(20);
  }
  if (error === undefined) socket.end('\r\n');
  await closed;
  const [head = '', text = ''] = received.split('\r\n\r\n');
  const type = /^content-type: (.*)$/im.exec(head)?.[1] ?? '';
  return { status: Number(head.split(' ')[1]), type, text, ...(error === undefined ? {} : { error }) };
}

interface Started {
  receiverUrl: string;
  azurite: { blobEndpoint: string; queueEndpoint: string; location: string };
  queues: { function: string; queue: string; poison: string }[];
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

describe('referrals-lake serve', () => {
  it('prints one JSON line, requires the function key, and serves the live list', async () => {
    const { baseUrl, functionKey } = serve;
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(functionKey.length).toBeGreaterThanOrEqual(24);

    expect((await get(`${baseUrl}/api/referrals`)).status).toBe(401);
    expect((await get(`${baseUrl}/api/referrals`, { 'x-functions-key': 'wrong' })).status).toBe(401);
    expect((await get(`${baseUrl}/api/nothing-here?code=${functionKey}`)).status).toBe(404);

    const first = await get(`${baseUrl}/api/referrals?direction=Incoming&maxItems=40`, {
      'x-functions-key': functionKey,
    });
    expect(first.status, `${first.text}\n${serve.stderr()}`).toBe(200);
    const page = JSON.parse(first.text) as { value: Array<{ referral_id: string }>; nextLink: string };
    const incoming = sandbox.store.all().filter((r) => r.direction === 'Incoming');
    expect(page.value.map((r) => r.referral_id)).toEqual(incoming.slice(0, 40).map((r) => r.id));
    // The key came as a header, so the nextLink does not carry it; it points back at this host.
    expect(page.nextLink.startsWith(`${baseUrl}/api/referrals?continuation=`)).toBe(true);
    const second = await get(page.nextLink, { 'x-functions-key': functionKey });
    expect((JSON.parse(second.text) as typeof page).value[0]?.referral_id).toBe(incoming[40]?.id);

    const ndjson = await get(`${baseUrl}/api/referrals?format=ndjson&maxItems=500&code=${functionKey}`);
    expect(ndjson.type).toMatch(/x-ndjson/);
    expect(ndjson.text.trimEnd().split('\n')).toHaveLength(300);

    const bad = await get(`${baseUrl}/api/referrals?$expand=team&code=${functionKey}`);
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/problem\+json/);

    // Malformed percent-encoding is refused by the handler, in the query and in the route alike.
    for (const path of ['/api/referrals?status=%zz', '/api/referrals/%zz']) {
      const malformed = await get(`${baseUrl}${path}`, { 'x-functions-key': functionKey });
      expect([malformed.status, malformed.type], `${path}: ${malformed.text}`).toEqual([400, PROBLEM_JSON]);
    }

    // Over Node's limit (16 KiB of request line and headers): a problem+json 431, even when the
    // request goes on well past the limit.
    const longQuery = await get(`${baseUrl}/api/referrals?status=${'a'.repeat(20_000)}&code=${functionKey}`);
    const bigHeaders = await sendHeadersSlowly(baseUrl, 100_000);
    expect(bigHeaders.error, 'the connection was reset under the answer').toBeUndefined();
    for (const tooLarge of [longQuery, bigHeaders]) {
      expect([tooLarge.status, tooLarge.type]).toEqual([431, PROBLEM_JSON]);
      expect(JSON.parse(tooLarge.text)).toMatchObject({ status: 431, detail: expect.stringMatching(/16384 bytes/) });
    }
    // The host still answers afterwards.
    expect((await get(`${baseUrl}/api/openapi.json`)).status).toBe(200);

    const openapi = await get(`${baseUrl}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(JSON.parse(openapi.text)).toMatchObject({ swagger: '2.0', host: baseUrl.replace('http://', '') });
  }, 60_000);

  it('lands a change in the sandbox in the lake through its receiver and worker, on the Azurite it started; stops it on SIGTERM', async () => {
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
    expect(guide).toMatch(/GET\s+\/api\/triggers\/referrals\s+referralsTrigger \(function key\)/);
    for (const printed of [guide, JSON.stringify(serve.line)]) {
      expect(printed).not.toContain(AZURITE_KEY);
      expect(printed).not.toMatch(/AccountKey/i);
    }

    // A flow's trigger, started before the change: it answers the change once the lake has it.
    const key = { 'x-functions-key': serve.functionKey };
    const trigger = await get(`${serve.baseUrl}/api/triggers/referrals`, key);
    expect(trigger.status).toBe(202);

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
    const changes = await get(trigger.location ?? '', key);
    expect(changes.status).toBe(200);
    expect(JSON.parse(changes.text).value.map((c: { referral_id: string }) => c.referral_id)).toEqual([id]);
    // The invocation ends once its run has published: the message is then deleted, not retried.
    const executed = /"message":"executed","function":"processReferralEvents".*"outcome":"succeeded"/;
    await until(async () => (executed.test(serve?.stderr() ?? '') ? true : undefined), 10_000);

    expect(await serve.stop()).toBe(0);
    expect(await listening(started.azurite.blobEndpoint)).toBe(false);
    expect(await listening(started.azurite.queueEndpoint)).toBe(false);
  }, 60_000);
});
