/**
 * `referrals-lake serve` as a user runs it: a child process hosting the registered HTTP functions,
 * pointed at an in-process sandbox by environment; curl-like requests over plain HTTP.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
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

describe('referrals-lake serve', () => {
  it('prints one JSON line, requires the function key, serves the live list, and stops on SIGTERM', async () => {
    // No storage setting: serve starts Azurite, its data under the working folder (serve-events.test.ts).
    serve = await startServe({
      cwd: work,
      env: { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') },
    });
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

    expect(await serve.stop()).toBe(0);
  }, 60_000);
});
