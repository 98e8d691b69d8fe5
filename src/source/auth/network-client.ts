/**
 * MSAL's HTTP client, on node:https instead of MSAL's fetch-based default, for two reasons: the sandbox's
 * Entra stand-in is served by a private CA (PARTNER_CENTER_CA_FILE) that must be trusted on top of the
 * public roots without touching process-wide settings, and keep-alive connections make the many small
 * token/discovery calls of a run cheap.
 *
 * Errors are MSAL AuthErrors (anything else MSAL replaces with a bare "network_error" and loses the
 * cause). Their messages name the host and path only: never a query string, request body or
 * response body, which is where codes, secrets and tokens travel.
 */

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { trustOptions } from '../http/trust.js';

export interface MsalNetworkClientOptions {
  /** Extra CA certificate(s), PEM, trusted in addition to Node's bundled public roots. */
  caPem?: string;
  /** Deadline for a whole request (connect, send, read the answer). Default 30 s. */
  timeoutMs?: number;
  /** Bigger answers are refused; identity responses are a few kB. Default 1 MiB. */
  maxResponseBytes?: number;
}

export interface MsalNetworkClient extends INetworkModule {
  /** Closes idle keep-alive sockets (call when the app or test shuts down). */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export function createMsalNetworkClient(options: MsalNetworkClientOptions = {}): MsalNetworkClient {
  const agent = new Agent({
    keepAlive: true,
    // The extra CA is trusted on top of the public roots, so real Entra keeps working when it is set.
    // (NODE_EXTRA_CA_CERTS entries are not re-added.)
    ...trustOptions(options.caPem),
  });
  const defaults = {
    agent,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
  return {
    sendGetRequestAsync<T>(url: string, requestOptions?: NetworkRequestOptions, timeout?: number) {
      // MSAL passes a timeout only for probes that should fail fast (e.g. region discovery).
      const timeoutMs = timeout && timeout > 0 ? Math.min(timeout, defaults.timeoutMs) : defaults.timeoutMs;
      return send<T>('GET', url, requestOptions, { ...defaults, timeoutMs });
    },
    sendPostRequestAsync<T>(url: string, requestOptions?: NetworkRequestOptions) {
      return send<T>('POST', url, requestOptions, defaults);
    },
    close() {
      agent.destroy();
    },
  };
}

interface SendSettings {
  agent: Agent;
  timeoutMs: number;
  maxResponseBytes: number;
}

async function send<T>(
  method: 'GET' | 'POST',
  url: string,
  options: NetworkRequestOptions | undefined,
  settings: SendSettings,
): Promise<NetworkResponse<T>> {
  const correlationId = options?.correlationId ?? '';
  const target = parseTarget(url, correlationId);
  const response = await exchange(method, target, options, settings, correlationId);
  return {
    status: response.status,
    headers: response.headers,
    body: parseJson<T>(response, target, correlationId),
  };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function exchange(
  method: 'GET' | 'POST',
  target: URL,
  options: NetworkRequestOptions | undefined,
  settings: SendSettings,
  correlationId: string,
): Promise<RawResponse> {
  const body = method === 'POST' ? (options?.body ?? '') : undefined;
  const headers: Record<string, string | number> = { ...options?.headers };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  const where = describe(target);

  return new Promise<RawResponse>((resolve, reject) => {
    const req = httpsRequest(target, {
      method,
      headers,
      agent: settings.agent,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    req.on('error', (error: Error) => {
      const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError';
      const message = timedOut
        ? `${method} ${where} timed out after ${settings.timeoutMs} ms`
        : `${method} ${where} failed: ${errorSummary(error)}`;
      reject(networkError(message, correlationId));
    });
    req.on('response', (res) => {
      readBody(res, settings.maxResponseBytes).then(
        (text) => resolve({ status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: text }),
        (error: unknown) => {
          req.destroy();
          reject(networkError(`${method} ${where}: ${errorSummary(error)}`, correlationId));
        },
      );
    });
    req.end(body);
  });
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy(new Error(`response larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('connection closed before the response was complete')));
  });
}

/** MSAL reads fields off the body for every status (an error answer is JSON too), so non-JSON is an error. */
function parseJson<T>(response: RawResponse, target: URL, correlationId: string): T {
  try {
    return JSON.parse(response.body) as T;
  } catch {
    const type = response.headers['content-type'] ?? 'no content type';
    throw new AuthError(
      'token_parsing_error',
      correlationId,
      `${describe(target)} answered HTTP ${response.status} with a body that is not JSON (${type}, ${response.body.length} characters)`,
    );
  }
}

function parseTarget(url: string, correlationId: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw networkError('MSAL asked for a malformed URL', correlationId);
  }
  if (target.protocol !== 'https:') {
    throw networkError(`only https is supported, not ${target.protocol} (${target.host})`, correlationId);
  }
  return target;
}

/** Host and path only: query strings may carry codes or hints. */
function describe(target: URL): string {
  return `https://${target.host}${target.pathname}`;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** Node's socket/TLS messages (ECONNREFUSED, certificate errors) carry no payload, so they are safe to keep. */
function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

function networkError(message: string, correlationId: string): AuthError {
  return new AuthError('network_error', correlationId, message);
}
