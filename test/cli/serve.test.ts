/**
 * `referrals-lake serve` as a user runs it: a child process hosting the registered HTTP functions,
 * pointed at an in-process sandbox by environment; curl-like requests over plain HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.js';
import { httpGet as get, type ServeProcess, startServe } from '../helpers/cli.js';

let sandbox: Sandbox;
let work: string;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  sandbox = await startSandbox({ count: 300, seed: 4 });
  work = await mkdtemp(join(tmpdir(), 'serve-test-'));
});
afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

describe('referrals-lake serve', () => {
  it('prints one JSON line, requires the function key, serves the live list, and stops on SIGTERM', async () => {
    serve = await startServe({ env: { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') } });
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

    const openapi = await get(`${baseUrl}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(JSON.parse(openapi.text)).toMatchObject({ swagger: '2.0', host: baseUrl.replace('http://', '') });

    expect(await serve.stop()).toBe(0);
  }, 60_000);
});
