/**
 * `POST /api/partner-center/events` for the Functions host: the raw body (bytes, as signed) and the
 * headers to the receiver (receive.ts), its status back, one log line. The receiver and its queue
 * are made once per process, on the first event.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { contextLogger } from '../common/azure-functions.js';
import { loadEventsConfig, loadWebhookReceiverConfig } from '../config.js';
import { MAX_EVENT_BYTES, type ReferralEventMessage } from './event.js';
import { createEventQueue, FAST_RETRY } from './queue.js';
import { createEventReceiver, type EventReceiver } from './receive.js';

let receiver: Promise<EventReceiver> | undefined;

function eventReceiver(): Promise<EventReceiver> {
  receiver ??= (async () => {
    const queue = await createEventQueue<ReferralEventMessage>(loadEventsConfig(process.env), {
      retryOptions: FAST_RETRY,
    });
    return createEventReceiver(loadWebhookReceiverConfig(process.env), queue);
  })().catch((error: unknown) => {
    receiver = undefined;
    throw error;
  });
  return receiver;
}

/**
 * The body's bytes as sent (the signature covers them, a byte-order mark included: not text()), or
 * undefined past `max`: a chunked body declares no length, and is read no further than that.
 */
async function readCapped(request: HttpRequest, max: number): Promise<Buffer | undefined> {
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export async function partnerCenterEventsHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const logger = contextLogger(context);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_EVENT_BYTES) {
    logger.warn('refused a Partner Center event', { status: 400, reason: 'too_large', bytes: declared });
    return { status: 400, jsonBody: { reason: 'too_large' } };
  }
  const body = await readCapped(request, MAX_EVENT_BYTES);
  if (!body) {
    logger.warn('refused a Partner Center event', { status: 400, reason: 'too_large' });
    return { status: 400, jsonBody: { reason: 'too_large' } };
  }
  const result = await (await eventReceiver()).receive(body, request.headers);
  const fields = { status: result.status, ...result.logFields };
  if (result.status === 200) logger.info('Partner Center event', fields);
  else if (result.status === 503) logger.error('could not queue a Partner Center event', fields);
  else logger.warn('refused a Partner Center event', fields);
  // A short answer shows in Partner Center's validation status; it never echoes the event.
  const { outcome, reason } = result.logFields as { outcome?: unknown; reason?: unknown };
  return { status: result.status, jsonBody: { outcome, ...(reason === undefined ? {} : { reason }) } };
}
