/**
 * HTTPS requests with connection reuse, an optional extra trusted CA, and a deadline per request.
 * It knows nothing of Partner Center: status codes are returned, not judged; only transport
 * failures (reset, timeout, TLS) throw, as TransportError, so the retry policy can tell them apart.
 * Reading referrals needs only GET; the webhook registration API also writes (RequestTransport).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { safeUrl } from '../../common/redact.js';
import { trustOptions } from './trust.js';

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Transport {
  get(
    url: URL,
    headers: Readonly<Record<string, string>>,
    options?: { signal?: AbortSignal },
  ): Promise<TransportResponse>;
  close(): void;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A transport that also writes. Kept apart from Transport so that the GET-only transports tests
 * and the certificate cache hand around need not grow a method they never use.
 */
export interface RequestTransport extends Transport {
  request(
    method: HttpMethod,
    url: URL,
    headers: Readonly<Record<string, string>>,
    options?: { body?: string; signal?: AbortSignal },
  ): Promise<TransportResponse>;
}

/** A request that never got a whole answer: connection refused or reset, timeout, TLS failure. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface HttpsTransportOptions {
  /** Extra CA (PEM) trusted on top of the public roots: the sandbox, or a TLS-inspecting proxy. */
  readonly caPem?: string;
  readonly timeoutMs?: number;
  /** Answers larger than this are refused (a page of 100 referrals is a few hundred kB). */
  readonly maxResponseBytes?: number;
  readonly maxSockets?: number;
}

export function createHttpsTransport(options: HttpsTransportOptions = {}): RequestTransport {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.maxSockets ?? 16,
    ...trustOptions(options.caPem),
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const limits = { timeoutMs, maxBytes };
  return {
    get: (url, headers, { signal } = {}) => sendOnce(agent, 'GET', url, headers, { ...limits, signal }),
    request: (method, url, headers, { body, signal } = {}) =>
      sendOnce(agent, method, url, headers, { ...limits, signal }, body),
    close: () => agent.destroy(),
  };
}

function sendOnce(
  agent: Agent,
  method: HttpMethod,
  url: URL,
  headers: Readonly<Record<string, string>>,
  limits: { timeoutMs: number; maxBytes: number; signal?: AbortSignal },
  body?: string,
): Promise<TransportResponse> {
  const shown = safeUrl(url);
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([deadline, limits.signal]) : deadline;
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      const timedOut = deadline.aborted;
      const reason = timedOut ? `timed out after ${limits.timeoutMs} ms` : describe(error);
      reject(new TransportError(`${method} ${shown} failed: ${reason}`, shown, timedOut, { cause: error }));
    };
    if (url.protocol !== 'https:') {
      fail(new Error(`refusing ${url.protocol} (only https is used)`));
      return;
    }
    // A known length rather than chunked encoding: some front ends refuse chunked request bodies.
    const sent = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, agent, headers: sent, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          req.destroy(new Error(`answer larger than ${limits.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('connection closed mid-body')));
      res.on('end', () => {
        if (!res.complete) {
          fail(new Error('connection closed mid-body'));
          return;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `${error.message} (${code})` : error.message;
}
