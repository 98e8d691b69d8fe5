/**
 * Typed errors → problem+json: what a caller is told. Whatever an error's message says (another
 * part of the app words it, and it may name the token cache file or any other server path), no
 * answer but a 400 repeats it; the answer is written from the error's type and fields.
 */
import { HttpResponse } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import {
  AlreadyRunningError,
  AuthRequiredError,
  AzureCliError,
  ConfigError,
  DeltaConflictError,
  DeltaLogError,
  type ErrorCode,
  FunctionKeysError,
  InconsistentRunError,
  ReferralRefusedError,
  type ReferralsLakeError,
  ShrinkRefusedError,
  StorageError,
  ThrottledError,
  UpstreamError,
  WebhookInUseError,
  WebhookNotReadyError,
} from '../../src/common/errors.js';
import { problemFor } from '../../src/common/problems.js';
import { problemResponse } from '../../src/live/problem.js';

/** Paths as a message might carry them: relative, absolute, Windows, a file URL, a lake path. */
const PATHS = [
  '.data/msal-token-cache.json',
  '/home/site/wwwroot/.data/msal-token-cache.json',
  'C:\\home\\site\\cert.pem',
  'file:///var/run/secrets/pc.pem',
  '_state/msal-token-cache.json',
];
const MESSAGE = `Entra ID refused the cached sign-in (file ${PATHS.join(', ')}) while reading /tmp/x`;
const CAUSE = new Error(`ENOENT: no such file or directory, open '${PATHS[1]}'`);

/**
 * One error of every code a caller can meet, but bad_query and referral_refused (their messages are
 * about the caller's request) and bad_event (the webhook receiver answers it with its own 400, never
 * through problem+json).
 */
const ERRORS: Record<Exclude<ErrorCode, 'bad_query' | 'bad_event' | 'referral_refused'>, ReferralsLakeError[]> = {
  config_invalid: [new ConfigError('PARTNER_CENTER_CLIENT_CERTIFICATE_FILE', MESSAGE, { cause: CAUSE })],
  auth_required: [new AuthRequiredError(MESSAGE, { cause: CAUSE })],
  run_inconsistent: [new InconsistentRunError(MESSAGE, { cause: CAUSE })],
  throttled: [new ThrottledError(MESSAGE, 12, 'a1b2', { cause: CAUSE })],
  upstream_failed: [
    new UpstreamError(MESSAGE, {}, { cause: CAUSE }),
    new UpstreamError(MESSAGE, { url: PATHS[1], status: 500, requestId: 'f00d-1234' }),
    new UpstreamError(MESSAGE, { status: 401 }),
    new UpstreamError(MESSAGE, { status: 403 }),
    new UpstreamError(MESSAGE, { status: 502, requestId: PATHS[1] }),
  ],
  storage_failed: [new StorageError(MESSAGE, { operation: 'read', path: PATHS[4] as string }, { cause: CAUSE })],
  already_running: [new AlreadyRunningError(MESSAGE, { cause: CAUSE })],
  lake_invalid: [new DeltaLogError(MESSAGE, PATHS[4] as string, { cause: CAUSE })],
  lake_conflict: [new DeltaConflictError(PATHS[4] as string, 3)],
  shrink_refused: [new ShrinkRefusedError(90, 100, 0.2, PATHS[4] as string)],
  // The CLI's webhook commands raise these; should one ever reach an HTTP answer, it says nothing of itself.
  webhook_in_use: [new WebhookInUseError({ webhookUrl: 'https://crm.example/hook', webhookEvents: [] }, MESSAGE)],
  webhook_not_ready: [new WebhookNotReadyError(MESSAGE, { cause: CAUSE })],
  // The CLI's keys command raises these.
  azure_cli_failed: [new AzureCliError(MESSAGE, true, { cause: CAUSE })],
  function_keys_conflict: [new FunctionKeysError(MESSAGE, { cause: CAUSE })],
};

async function answer(error: unknown): Promise<{ status: number; text: string }> {
  const response = new HttpResponse(problemResponse(problemFor(error), 'corr-1') as never);
  return { status: response.status, text: await response.text() };
}

describe('problem+json from typed errors', () => {
  const cases: Array<[string, unknown]> = [
    ...Object.values(ERRORS).flatMap((errors) => errors.map((e): [string, unknown] => [e.name, e])),
    ['a plain Error', new Error(MESSAGE, { cause: CAUSE })],
  ];
  for (const [what, error] of cases) {
    it(`${what}: no server path and nothing of its message reaches the answer`, async () => {
      const { status, text } = await answer(error);
      expect(status).toBeGreaterThanOrEqual(500);
      for (const path of [...PATHS, '/tmp/x', 'msal-token-cache', 'ENOENT']) expect(text).not.toContain(path);
      expect(text).not.toContain('refused the cached sign-in');
      expect(JSON.parse(text)).toMatchObject({ status, correlationId: 'corr-1', detail: expect.any(String) });
    });
  }

  it('each answer still says what to do next', async () => {
    const detail = async (error: unknown) => (JSON.parse((await answer(error)).text) as { detail: string }).detail;
    expect(await detail(ERRORS.auth_required[0])).toContain('referrals-lake login');
    // The sign-in's own next step (a command or a setting, never a path) reaches the caller.
    const step = 'Set PARTNER_CENTER_REFRESH_TOKEN to a refresh token for this tenant.';
    expect(await detail(new AuthRequiredError(`${MESSAGE} in ${PATHS[0]}`, { nextStep: step }))).toContain(step);
    expect(await detail(new UpstreamError(MESSAGE, { status: 401 }))).toContain('referrals-lake login');
    expect(await detail(new UpstreamError(MESSAGE, { status: 403 }))).toMatch(/Referrals admin/);
    expect(await detail(ERRORS.config_invalid[0])).toContain('App setting PARTNER_CENTER_CLIENT_CERTIFICATE_FILE');
    expect(await detail(new UpstreamError(MESSAGE, { status: 500, requestId: 'f00d-1234' }))).toMatch(
      /answered 500 \(Request-ID f00d-1234\); try again later/,
    );
    expect(await detail(ERRORS.throttled[0])).toMatch(/retry after 12 seconds/);
    for (const error of [ERRORS.storage_failed[0], ERRORS.upstream_failed[0], new Error('x')]) {
      expect(await detail(error)).toMatch(/log has the details under this correlationId/);
    }
  });

  it("a write Partner Center refused is the caller's 400, with its words and the field it named", async () => {
    const refused = new ReferralRefusedError(
      '/substatus',
      "Partner Center refused the change: 'Won' does not fit status Active",
    );
    const { status, text } = await answer(refused);
    expect(status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({
      title: 'Refused by Partner Center',
      target: '/substatus',
      detail: "Partner Center refused the change: 'Won' does not fit status Active",
    });
  });
});
