/**
 * Genuine webhook deliveries, sent at a fixed rate by a client that times the answers.
 *
 * `WebhookRecorder` is registered as the tenant's webhook URL: it keeps each delivery the sandbox
 * sends (the body's bytes and its signature headers, exactly as signed) and answers 200, as a
 * receiver that keeps up would. `sendAtRate` then POSTs them to a receiver on a fixed schedule, open
 * loop (each request leaves when due, whether or not earlier ones were answered, so a slow receiver
 * shows as slow answers rather than as fewer requests), over keep-alive connections that are
 * retired after 4 s idle, before a Node server's 5 s keep-alive timeout can close one under a
 * request. Each answer is timed from just before the request is written to its last byte.
 */
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** The headers a signed delivery carries (docs/sandbox.md, "Signature"). */
const SIGNED_HEADERS = [
  'content-type',
  'authorization',
  'x-ms-signature',
  'x-ms-certificate-url',
  'x-ms-signature-algorithm',
];
const IDLE_SOCKET_MS = 4000;
/** An answer not complete by then is a failure (Partner Center's own attempts are shorter). */
const ANSWER_TIMEOUT_MS = 30_000;

export interface RecordedDelivery {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export class WebhookRecorder {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every delivery so far, in the order they arrived. */
    readonly deliveries: RecordedDelivery[],
  ) {}

  static async start(): Promise<WebhookRecorder> {
    const deliveries: RecordedDelivery[] = [];
    const server = createServer((req, res) => void keep(req, res, deliveries));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return new WebhookRecorder(server, `http://127.0.0.1:${port}/api/partner-center/events`, deliveries);
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

async function keep(req: IncomingMessage, res: ServerResponse, into: RecordedDelivery[]): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const name of SIGNED_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  into.push({ body: Buffer.concat(chunks), headers });
  res.writeHead(200).end();
}

export interface TimedAnswer {
  /** How late the request left against its schedule (ms). */
  readonly lateMs: number;
  /** When it left, ms after the first one. */
  readonly sentMs: number;
  /** From just before the request was written to the answer's last byte (ms). */
  readonly ms: number;
  /** The status; 0 when there was no answer. */
  readonly status: number;
  /** Why there was no answer. */
  readonly error?: string;
}

/** POSTs each delivery to `url`, the i-th at start + i / perSecond; resolves when all are answered. */
export async function sendAtRate(
  url: string,
  deliveries: readonly RecordedDelivery[],
  perSecond: number,
): Promise<TimedAnswer[]> {
  const agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  try {
    const start = performance.now();
    const answers: Promise<TimedAnswer>[] = [];
    for (const [i, delivery] of deliveries.entries()) {
      const due = start + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await delay(wait);
      answers.push(post(url, delivery, agent, start, due));
    }
    return await Promise.all(answers);
  } finally {
    agent.destroy();
  }
}

function post(url: string, delivery: RecordedDelivery, agent: Agent, start: number, due: number): Promise<TimedAnswer> {
  const headers = { ...delivery.headers, 'content-length': String(delivery.body.length) };
  return new Promise((resolve) => {
    let began = 0;
    const done = (status: number, error?: string) =>
      resolve({
        lateMs: began - due,
        sentMs: began - start,
        ms: performance.now() - began,
        status,
        ...(error === undefined ? {} : { error }),
      });
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', (error) => done(0, error.message));
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    began = performance.now();
    req.end(delivery.body);
  });
}
