/**
 * The events receiver under 100 events/s (issue 20), timed by its client. The events are the
 * sandbox's own signed deliveries of real changes, recorded first and then sent to `serve`'s receiver
 * on a fixed schedule (bench/webhook-replay.ts), so that the rate is the receiver's test and not the
 * sandbox's: on the 2-core bench machine the sandbox making and delivering 100 changes a second
 * through `/_sandbox/mutate` fell behind by tens of seconds (its mutate answers did), and a relay
 * timing serve's answers then measured a trickle, not 100/s.
 */
import { cpuMs, processTree } from '../cli-process.js';
import { deliveryLog, startEventsStage } from '../events-stage.js';
import type { Scenario } from '../run.js';
import { quantile, round2 } from '../run-workers.js';
import type { SandboxProcess } from '../sandbox-process.js';
import { sendAtRate, WebhookRecorder } from '../webhook-replay.js';

const RATE = 100;
const REFERRALS = 5000;
/** Sent before the measured ones, at 10/s and not counted: the receiver fetches and caches the signing certificate. */
const WARM_UP = 20;
/** Changes per mutate call while the deliveries are recorded. */
const CHANGES_PER_CALL = 100;
const SETTLE_TIMEOUT_MS = 120_000;

export const eventsReceiverScenario: Scenario = {
  name: 'events-receiver',
  title: 'Events: the receiver at 100 events/s, timed by its client',
  description:
    "`referrals-lake serve` runs as a child process with the sandbox's settings and no storage setting (it starts " +
    `Azurite, blob and queue, itself); the sandbox (another child process, ${REFERRALS} referrals) is synced into ` +
    'that lake by `referrals-lake sync --mode full` first. The events are genuine: the webhook is registered (by ' +
    '`referrals-lake webhooks register`) to a recorder in the bench process, the bench makes changes through ' +
    `\`POST /_sandbox/mutate\` (${CHANGES_PER_CALL} updates a call), and the recorder keeps each signed delivery the ` +
    "sandbox sends, body and signature headers as signed, answering 200. Then a client in the bench POSTs them to serve's " +
    `\`/api/partner-center/events\` at ${RATE} a second on a fixed schedule for 60 s (a quick run: 10 s), open loop ` +
    '(each leaves when due, answered or not), over keep-alive connections, after 20 at 10/s that are not counted (the ' +
    'receiver fetches and caches the signing certificate once). Recorded first and sent after, because the sandbox ' +
    'cannot make and deliver 100 changes a second on this machine while serve and Azurite run: tried live, its mutate ' +
    'answers fell tens of seconds behind and the deliveries came at 10–30 a second. `events_receiver_*_ms_100rps` is ' +
    'the answer time as the client measured it (request written to last byte read) of the events answered 200: ' +
    'signature check (certificate cached), parsing, the queue message into Azurite, the answer. ' +
    '`events_receiver_failed_100rps` counts the others (another status, or no answer within 30 s; target 0). ' +
    "Meanwhile serve's worker takes the messages and makes its event runs, fetching the referrals from the sandbox " +
    '(`events_receiver_worker_runs`: runs published by the time the last answer came), as under a real burst. ' +
    '`events_receiver_serve_cpu_*` is the CPU serve’s process used from the first request to the last answer ' +
    '(receiver and worker together, from /proc), in cores and per event; `events_receiver_azurite_cpu_ms_per_event` ' +
    'the same for the Azurite processes it started. `events_receiver_rate_per_s` is the rate the requests left at, `events_receiver_send_late_max_ms` the most one ' +
    'left behind its schedule. Target: p95 ≤ 1000 ms (the receiver answers within a second). Sandbox, serve, ' +
    'Azurite and the bench share the machine.',
  async run(size) {
    const count = RATE * (size === 'quick' ? 10 : 60);
    let recorder: WebhookRecorder | undefined;
    const stage = await startEventsStage({
      referrals: REFERRALS,
      webhookUrl: async () => {
        recorder = await WebhookRecorder.start();
        return recorder.url;
      },
    });
    try {
      if (!recorder) throw new Error('no recorder');
      await record(stage.sandbox, WARM_UP + count);
      if (recorder.deliveries.length !== WARM_UP + count) {
        throw new Error(`recorded ${recorder.deliveries.length} deliveries of ${WARM_UP + count}`);
      }
      const [warmUp, measured] = [recorder.deliveries.slice(0, WARM_UP), recorder.deliveries.slice(WARM_UP)];
      const refusedWarm = (await sendAtRate(stage.serve.receiverUrl, warmUp, 10)).find((a) => a.status !== 200);
      if (refusedWarm) throw new Error(`warm-up: ${JSON.stringify(refusedWarm)}`);
      const runs = () => stage.serve.logged((line) => line.message === 'event run summary').length;
      const runsBefore = runs();
      const cpuBefore = serveCpu(stage.serve.pid);
      const began = performance.now();
      const answers = await sendAtRate(stage.serve.receiverUrl, measured, RATE);
      const wallMs = performance.now() - began;
      const cpuAfter = serveCpu(stage.serve.pid);
      const ok = answers.filter((a) => a.status === 200);
      const failed = answers.filter((a) => a.status !== 200);
      for (const [why, n] of tally(failed.map((a) => a.error ?? `status ${a.status}`))) {
        process.stderr.write(`bench: events-receiver: ${n} not answered 200: ${why}\n`);
      }
      const ms = ok.map((a) => a.ms);
      const lastSent = Math.max(...answers.map((a) => a.sentMs));
      return {
        events_receiver_p50_ms_100rps: round2(quantile(ms, 0.5)),
        events_receiver_p95_ms_100rps: round2(quantile(ms, 0.95)),
        events_receiver_p99_ms_100rps: round2(quantile(ms, 0.99)),
        events_receiver_max_ms_100rps: round2(Math.max(...ms)),
        events_receiver_events_100rps: answers.length,
        events_receiver_failed_100rps: failed.length,
        events_receiver_rate_per_s: round2(((answers.length - 1) * 1000) / lastSent),
        events_receiver_send_late_max_ms: round2(Math.max(...answers.map((a) => a.lateMs))),
        events_receiver_worker_runs: runs() - runsBefore,
        events_receiver_serve_cpu_cores: round2((cpuAfter.serve - cpuBefore.serve) / wallMs),
        events_receiver_serve_cpu_ms_per_event: round2((cpuAfter.serve - cpuBefore.serve) / answers.length),
        events_receiver_azurite_cpu_ms_per_event: round2((cpuAfter.azurite - cpuBefore.azurite) / answers.length),
      };
    } finally {
      recorder?.close();
      await stage.close();
    }
  },
};

/** Changes in the sandbox until `count` events have been delivered to the recorder, every one at its first attempt. */
async function record(sandbox: SandboxProcess, count: number): Promise<void> {
  for (let made = 0; made < count; made += CHANGES_PER_CALL) {
    await sandbox.control('/_sandbox/mutate', 'POST', { updates: Math.min(CHANGES_PER_CALL, count - made) });
  }
  const log = await deliveryLog(sandbox, count, SETTLE_TIMEOUT_MS);
  const retried = log.events.filter((e) => e.state !== 'delivered' || e.attempts.length !== 1);
  if (!log.reached || log.events.length !== count || retried.length > 0) {
    throw new Error(`${log.events.length} events for ${count} changes, ${retried.length} not delivered at once`);
  }
}

/** CPU used so far (ms) by serve's own process, and by the Azurite processes it started. */
function serveCpu(pid: number): { serve: number; azurite: number } {
  const [serve = pid, ...azurite] = processTree(pid);
  return { serve: cpuMs(serve), azurite: azurite.reduce((sum, each) => sum + cpuMs(each), 0) };
}

function tally(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
