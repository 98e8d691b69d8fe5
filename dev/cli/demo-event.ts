/**
 * The demo's last step (issue 20, point 7): one event travelling. `referrals-lake serve` (a child
 * process, dev/cli/serve-child.ts) hosts the receiver and the worker against the demo's Azurite; its
 * receiver URL is registered with the sandbox through the sandbox's own registration API (what
 * `referrals-lake webhooks register` does); a flow accepts one lead through serve's write route
 * (issue 21) and the sandbox applies it as Partner Center would, and the demo follows
 * it: the signed delivery (the sandbox's delivery log), the receiver queueing it and the worker's
 * event run (serve's log lines), then the row in referrals_latest read back with DuckDB, before and
 * after, and the flows' trigger (started before the change) answering it, each step timed from the
 * change.
 */
import { join } from 'node:path';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { decodeDataPath } from '../../src/lake/delta/actions.js';
import { readSnapshot } from '../../src/lake/delta/log.js';
import type { StorageTarget } from '../../src/lake/storage/storage.js';
import { accessToken, sandboxAgent, send } from '../sandbox-http.js';
import { sqlString, withDuckDb } from './duckdb.js';
import { type Out, printTable } from './print.js';
import type { LogLine, ServeChild } from './serve-child.js';

/** The events the demo registers for: what a change to a referral sends. */
const EVENTS = ['referral-created', 'referral-updated'];
/** How long each step may take before the demo gives up (the worker's first run includes a sign-in). */
const STEP_TIMEOUT_MS = 20_000;
const WORKER = 'processReferralEvents';

export interface OneEvent {
  readonly sandbox: Sandbox;
  readonly serve: ServeChild;
  /** The lake on Azurite, which serve's worker writes. */
  readonly lake: StorageTarget;
  /** The full sync's referrals_latest file (a path in the lake). */
  readonly fullSyncLatest: string;
  /** Copies the whole lake into `copyDir`, where DuckDB reads it. */
  readonly copy: () => Promise<void>;
  readonly copyDir: string;
}

/**
 * Prints the section and returns the files of referrals_latest's newest version (paths in the lake);
 * throws when a step does not happen in time (with serve's last log lines).
 */
export async function showOneEvent(out: Out, event: OneEvent): Promise<string[]> {
  const { sandbox, serve } = event;
  out(
    "One event, travelling: a flow accepts a lead → Partner Center (the sandbox) → its signed webhook → the receiver → the queue → the worker → the lake → the flows' trigger",
  );
  await registerReceiver(sandbox, serve.receiverUrl);
  out(
    `  \`referrals-lake serve\` (${serve.baseUrl}) hosts the write routes, the receiver and the worker; its receiver URL,`,
  );
  out(`  ${serve.receiverUrl}, is registered with the sandbox for ${EVENTS.join(', ')}.`);

  // A flow's trigger, started before the change as a flow would have been.
  const trigger = await startTrigger(serve);
  const settled = sandbox.webhookDeliveries.settledCount;
  const changedAt = Date.now();
  const { id, answer } = await acceptLead(sandbox, serve);
  const delivery = await deliveryOf(sandbox, settled, id);
  const queued = await serve.waitForLog(
    (l) => l.message === 'Partner Center event' && l.referralId === id && l.outcome === 'queued',
    STEP_TIMEOUT_MS,
  );
  const taken = await serve.waitForLog(
    (l) => l.message === 'executing' && l.function === WORKER && Date.parse(l.time) >= changedAt,
    STEP_TIMEOUT_MS,
  );
  const ran = await serve.waitForLog(
    (l) => l.message === 'executed' && l.invocationId === taken.invocationId,
    STEP_TIMEOUT_MS,
  );
  if (ran.outcome !== 'succeeded') throw new Error(`the worker's event run failed:\n${serve.tail()}`);
  const runId = await eventRunId(serve, taken);
  const newest = await newestFiles(event.lake);
  const readAt = Date.now();
  const fired = await pollTrigger(serve, trigger, id);
  const firedAt = Date.now();
  // Copied after the timings: the copy is the demo's, not a step of the event's way.
  await event.copy();
  const rows = await readBeforeAndAfter(event, newest, id);

  const at = (time: string | number) => elapsed((typeof time === 'number' ? time : Date.parse(time)) - changedAt);
  printTable(
    out,
    [
      [
        at(changedAt),
        'flow',
        `POST /api/referrals/${short(id)}/accept answered ${answer}: accepted in Partner Center, audited`,
      ],
      [at(delivery.sentAt), 'webhook', `${delivery.eventName}, RSA-signed, POSTed to the receiver`],
      [at(queued.time), 'receiver', `signature checked, event queued; answered ${delivery.status}`],
      [at(taken.time), 'worker', `${WORKER} took the message (dequeueCount ${String(taken.dequeueCount)})`],
      [at(ran.time), 'event run', `${runId} published referrals_latest and the other tables`],
      [at(readAt), 'lake', "referrals_latest's newest version holds the row (read back with DuckDB below, times UTC)"],
      [at(firedAt), 'trigger', `GET /api/triggers/referrals answered ${fired}: a flow on it runs now`],
    ],
    [true],
  );
  printTable(out, [['referral_id', 'status', 'substatus', 'updated_date_time', '_run_id', ''], ...rows]);
  out();
  return newest;
}

/** A flow accepting an incoming lead waiting for an answer, through serve's write route and its own key. */
async function acceptLead(sandbox: Sandbox, serve: ServeChild): Promise<{ id: string; answer: number }> {
  const lead = sandbox.store.all().find((r) => r.direction === 'Incoming' && r.status === 'New');
  if (!lead?.id) throw new Error('the sandbox has no lead waiting for an answer');
  const res = await fetch(`${serve.baseUrl}/api/referrals/${lead.id}/accept`, {
    method: 'POST',
    headers: { 'x-functions-key': serve.writeKey, 'idempotency-key': `demo-accept-${lead.id}` },
  });
  if (res.status !== 200) throw new Error(`the accept failed: HTTP ${res.status} ${await res.text()}`);
  return { id: lead.id, answer: res.status };
}

/** The first call of a flow's trigger: serve answers 202 and where to poll. */
async function startTrigger(serve: ServeChild): Promise<string> {
  const res = await fetch(`${serve.baseUrl}/api/triggers/referrals`, {
    headers: { 'x-functions-key': serve.functionKey },
  });
  const location = res.headers.get('location');
  if (res.status !== 202 || !location) throw new Error(`the trigger did not start: HTTP ${res.status}`);
  return location;
}

/** The trigger's next poll, which must answer the change to `id`; says what it answered. */
async function pollTrigger(serve: ServeChild, location: string, id: string): Promise<string> {
  const res = await fetch(location, { headers: { 'x-functions-key': serve.functionKey } });
  const body = res.status === 200 ? ((await res.json()) as { value: { referral_id: string }[] }) : { value: [] };
  const ids = body.value.map((change) => change.referral_id);
  if (!ids.includes(id))
    throw new Error(`the trigger did not answer the change: HTTP ${res.status}, ${ids.length} changes`);
  return `200 with ${ids.length} change${ids.length === 1 ? '' : 's'} (referral ${short(id)})`;
}

/** POST /webhooks/v1/registration as the seeded admin (a fresh sign-in: the sync redeemed the first). */
async function registerReceiver(sandbox: Sandbox, url: string): Promise<void> {
  const agent = sandboxAgent(sandbox.caPem);
  try {
    const { accessToken: token } = await accessToken(sandbox, agent, sandbox.identity.issueBootstrapRefreshToken(0));
    const registration = `${sandbox.env.PARTNER_CENTER_WEBHOOKS_BASE_URL}/webhooks/v1/registration`;
    // One URL per tenant: PUT replaces whatever is registered, POST registers the first.
    for (const method of ['PUT', 'POST']) {
      const res = await send(agent, registration, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ WebhookUrl: url, WebhookEvents: EVENTS }),
      });
      if (res.status === 200) return;
      if (res.status !== 404) throw new Error(`the sandbox refused the registration: HTTP ${res.status} ${res.text}`);
    }
    throw new Error('the sandbox refused the registration');
  } finally {
    agent.destroy();
  }
}

/** The sandbox's delivery of the event for referral `id`, once settled. */
async function deliveryOf(
  sandbox: Sandbox,
  settledBefore: number,
  id: string,
): Promise<{ eventName: string; sentAt: string; status: number }> {
  const deliveries = sandbox.webhookDeliveries;
  if (!(await deliveries.waitForSettled(settledBefore + 1, STEP_TIMEOUT_MS))) {
    throw new Error(`the sandbox did not deliver the event within ${STEP_TIMEOUT_MS} ms`);
  }
  const record = deliveries.events().find((e) => e.resourceUri.endsWith(`/${encodeURIComponent(id)}`));
  const attempt = record?.attempts.at(-1);
  if (!record || !attempt || record.state !== 'delivered') {
    throw new Error(`the event was not delivered (${record?.state ?? 'not sent'}: ${attempt?.message ?? ''})`);
  }
  return { eventName: record.eventName, sentAt: attempt.at, status: attempt.status ?? 0 };
}

/** The run id of the event run that invocation waited for (the worker logs its summary). */
async function eventRunId(serve: ServeChild, invocation: LogLine): Promise<string> {
  const summary = await serve.waitForLog(
    (l) => l.message === 'event run summary' && l.invocationId === invocation.invocationId,
    STEP_TIMEOUT_MS,
  );
  return String((summary.summary as { runId?: unknown } | undefined)?.runId ?? '(run id not logged)');
}

/** The data files of referrals_latest's newest version, as its Delta log names them. */
async function newestFiles(lake: StorageTarget): Promise<string[]> {
  const snapshot = await readSnapshot(lake, 'referrals_latest');
  return [...snapshot.files.keys()].map((path) => `referrals_latest/${decodeDataPath(path)}`);
}

/**
 * The referral's row in referrals_latest before (the full sync's file, which the event run's commit
 * removed from the table but left in place) and after (the newest version's files), both read from
 * the local copy.
 */
async function readBeforeAndAfter(event: OneEvent, newest: readonly string[], id: string): Promise<string[][]> {
  return withDuckDb(async (connection) => {
    const local = (path: string) => sqlString(join(event.copyDir, ...path.split('/')));
    const row = async (files: readonly string[], label: string) => {
      const reader = await connection.runAndReadAll(
        `SELECT status, substatus, updated_date_time, _run_id FROM read_parquet([${files.map(local).join(', ')}])
         WHERE referral_id = ${sqlString(id)}`,
      );
      const [r] = reader.getRowObjectsJS();
      if (!r) throw new Error(`referral ${id} is not in referrals_latest (${label})`);
      const updated = r.updated_date_time instanceof Date ? r.updated_date_time.toISOString() : '';
      return [
        short(id),
        text(r.status),
        text(r.substatus),
        updated.slice(0, 23).replace('T', ' '),
        text(r._run_id),
        label,
      ];
    };
    return [await row([event.fullSyncLatest], 'before: the full sync'), await row(newest, 'after: the event run')];
  });
}

/** `+1.234 s`: ms since the change. */
function elapsed(ms: number): string {
  return `+${(ms / 1000).toFixed(3)} s`;
}

function short(id: string): string {
  return `${id.slice(0, 8)}…`;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}
