/**
 * `/_sandbox/…` routes: what a test or benchmark in another process needs to steer the sandbox.
 * They exist only in the sandbox (Partner Center has nothing like them) and listen on loopback.
 *   GET  /_sandbox/stats             counters (requests, token grants, faults injected)
 *   GET  /_sandbox/referrals         the current book as NDJSON, createdDateTime order
 *   POST /_sandbox/mutate            {"updates": n, "creates": m, "removes": k} → ids changed, created, removed
 *   PUT  /_sandbox/faults            a FaultPlan as JSON, or {"spec": "<CLI form>"}
 *   POST /_sandbox/expire-tokens     every access token issued so far expires
 *   POST /_sandbox/device/approve    {"userCode": "…"} approves a pending device code
 *   POST /_sandbox/refresh-token     a new bootstrap refresh token for the seeded admin (a second "login")
 *   GET  /_sandbox/webhooks/events   every webhook event (delivered, parked, dropped, pending) with its
 *                                    attempts; ?settled=N&timeoutMs=M first waits until N have settled
 *   GET  /_sandbox/clock             the sandbox clock: {now, advancedMs}
 *   POST /_sandbox/clock             {"advanceDays": d} moves it on and runs the expiry job → {now, advancedMs, expired}
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxClock } from './clock.js';
import type { ExpiryJob } from './expiry.js';
import { type FaultInjector, faultPlanSchema, parseFaultSpec } from './faults.js';
import type { IdentityProvider } from './identity.js';
import type { Mutator } from './mutator.js';
import { readJsonObject, sendError, sendJson } from './referrals-api.js';
import type { SandboxStats } from './sandbox.js';
import type { ReferralStore } from './store.js';
import type { WebhookDelivery } from './webhook-delivery.js';

interface ControlContext {
  readonly identity: IdentityProvider;
  readonly faults: FaultInjector;
  readonly store: ReferralStore;
  readonly mutator: Mutator;
  readonly deliveries: WebhookDelivery;
  readonly clock: SandboxClock;
  readonly expiry: ExpiryJob;
  readonly stats: () => SandboxStats;
}

/** The longest a control request waits for webhook deliveries. */
const MAX_WAIT_MS = 120_000;
/** The furthest one request moves the clock: ten years, far past any deadline a test needs. */
const MAX_ADVANCE_DAYS = 3650;

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ControlContext,
): Promise<boolean> {
  if (!url.pathname.startsWith('/_sandbox/')) return false;
  const route = `${req.method} ${url.pathname}`;
  try {
    switch (route) {
      case 'GET /_sandbox/stats':
        sendJson(res, 200, ctx.stats());
        return true;
      case 'GET /_sandbox/referrals':
        sendReferrals(res, ctx.store);
        return true;
      case 'POST /_sandbox/mutate': {
        const body = await readJsonObject(req);
        sendJson(
          res,
          200,
          ctx.mutator.mutate(nonNegative(body.updates, 1), nonNegative(body.creates, 0), nonNegative(body.removes, 0)),
        );
        return true;
      }
      case 'PUT /_sandbox/faults': {
        const body = await readJsonObject(req);
        ctx.faults.replace(typeof body.spec === 'string' ? parseFaultSpec(body.spec) : faultPlanSchema.parse(body));
        sendJson(res, 200, ctx.faults.current);
        return true;
      }
      case 'POST /_sandbox/expire-tokens':
        ctx.identity.expireAccessTokens();
        sendJson(res, 200, { expired: true });
        return true;
      case 'POST /_sandbox/refresh-token':
        sendJson(res, 200, { refreshToken: ctx.identity.issueBootstrapRefreshToken(0) });
        return true;
      case 'GET /_sandbox/clock':
        sendJson(res, 200, { now: new Date(ctx.clock.nowMs()).toISOString(), advancedMs: ctx.clock.advancedMs });
        return true;
      case 'POST /_sandbox/clock': {
        const body = await readJsonObject(req);
        sendJson(res, 200, ctx.expiry.advance(days(body.advanceDays)));
        return true;
      }
      case 'GET /_sandbox/webhooks/events':
        sendJson(res, 200, await webhookEvents(url, ctx.deliveries));
        return true;
      case 'POST /_sandbox/device/approve': {
        const body = await readJsonObject(req);
        const approved = typeof body.userCode === 'string' && ctx.identity.approveDeviceCode(body.userCode);
        sendJson(res, approved ? 200 : 404, { approved });
        return true;
      }
      default:
        sendError(res, 404, 'NotFound', `No sandbox control route ${route}`, randomUUID());
        return true;
    }
  } catch (error) {
    sendError(res, 400, 'BadRequest', error instanceof Error ? error.message : String(error), randomUUID());
    return true;
  }
}

function sendReferrals(res: ServerResponse, store: ReferralStore): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
  for (const referral of store.all()) res.write(`${store.jsonOf(referral.id)}\n`);
  res.end();
}

/** The delivery log, after waiting (when asked) until `settled` events are no longer pending. */
async function webhookEvents(url: URL, deliveries: WebhookDelivery) {
  const settled = url.searchParams.get('settled');
  const reached =
    settled === null
      ? true
      : await deliveries.waitForSettled(
          nonNegative(Number(settled), 0),
          Math.min(nonNegative(Number(url.searchParams.get('timeoutMs') ?? 10_000), 0), MAX_WAIT_MS),
        );
  return { reached, settled: deliveries.settledCount, events: deliveries.events() };
}

/** Days to move the clock: a number from 0 (run the expiry job without moving) to MAX_ADVANCE_DAYS; fractions allowed. */
function days(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_ADVANCE_DAYS) {
    throw new Error(`advanceDays must be a number of days from 0 to ${MAX_ADVANCE_DAYS}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonNegative(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`expected a whole number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}
