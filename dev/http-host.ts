/**
 * A thin local host for the registered HTTP functions, where Azure Functions Core Tools are absent
 * (flows under development, the demo, the benchmark). It is an adapter, not a second
 * implementation: node request → `HttpRequest` → the same handler `func start` registers (the
 * declarations the function files export, found as the host finds them) → the response, its body
 * streamed. Like Azure for authLevel `function`, it wants the function key in `x-functions-key` or
 * the `code` query parameter. What it refuses itself (no route, no key, a request Node cannot
 * parse) is problem+json like the handlers' refusals. `func start` stays the production path.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import azureFunctions, { type LogHandler } from '@azure/functions';
import { loadHttpFunctions } from '../src/cli/function-modules.js';
import type { HttpFunction } from '../src/common/azure-functions.js';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../src/live/problem.js';

// The package is CommonJS: from ESM its classes come through the default export.
const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;

export interface HttpHostOptions {
  readonly port?: number;
  /** The function key of the read routes; a random one when absent. */
  readonly functionKey?: string;
  /** The function key of the write routes (`keys: 'write'`); a random one, never the read key, when absent. */
  readonly writeKey?: string;
  readonly functions?: readonly HttpFunction[];
  /** Where the functions' log lines go (stderr by default: stdout is for the one JSON line). */
  readonly logHandler?: LogHandler;
}

export interface HttpHost {
  /** `http://127.0.0.1:PORT` (functions are under `/api/`). */
  readonly baseUrl: string;
  readonly functionKey: string;
  readonly writeKey: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

interface CompiledRoute {
  readonly fn: HttpFunction;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** `referrals/{id}` → /^\/api\/referrals\/([^/]+)$/ with names ['id']. */
function compileRoute(fn: HttpFunction): CompiledRoute {
  const names: string[] = [];
  const source = fn.route
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] as string);
      return '([^/]+)';
    })
    .join('/');
  return { fn, pattern: new RegExp(`^/api/${source}$`), names };
}

const stderrLog: LogHandler = (_level, ...args) => {
  process.stderr.write(`${args.map(String).join(' ')}\n`);
};

export async function startHttpHost(options: HttpHostOptions = {}): Promise<HttpHost> {
  const functionKey = options.functionKey ?? randomBytes(24).toString('base64url');
  const writeKey = options.writeKey ?? randomBytes(24).toString('base64url');
  if (writeKey === functionKey) throw new Error('the write key must not be the read key');
  const routes = (options.functions ?? (await loadHttpFunctions())).map(compileRoute);
  const logHandler = options.logHandler ?? stderrLog;
  let baseUrl = '';
  // Connections with a response under way: a refusal written on them would land inside that response.
  const busy = new WeakSet<Duplex>();
  const server = createServer((req, res) => {
    busy.add(req.socket);
    res.once('close', () => busy.delete(req.socket));
    serve(req, res).catch((error: unknown) => {
      logHandler('error', `local host: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendStatus(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    // Several functions may share a route with different methods (GET and PATCH referrals/{id}).
    const matches = routes
      .map((route) => ({ route, found: route.pattern.exec(url.pathname) }))
      .filter((m) => m.found !== null);
    if (matches.length === 0) return sendStatus(res, 404, 'No function at this path');
    const match = matches.find((m) => (m.route.fn.methods ?? ['GET']).includes(method as never));
    if (!match?.found) return sendStatus(res, 405, 'Method not allowed');
    const { fn, names } = match.route;
    const key = fn.keys === 'write' ? writeKey : functionKey;
    if (fn.authLevel !== 'anonymous' && !keyMatches(req, url, key)) {
      return sendStatus(res, 401, "This function's key is needed (x-functions-key header or code parameter)");
    }
    const params = Object.fromEntries(names.map((name, i) => [name, routeValue(match.found?.[i + 1] ?? '')]));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const body = await readBody(req, method);
    if (body === 'too-large') return sendStatus(res, 413, `The body is over this host's ${MAX_BODY_BYTES} bytes`);
    const request = new HttpRequest({
      method,
      url: url.href,
      headers,
      params,
      ...(body ? { body: { bytes: body } } : {}),
    });
    const context = new InvocationContext({ invocationId: randomUUID(), functionName: fn.name, logHandler });
    const result = await fn.handler(request, context);
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body || method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res);
  }

  const refused = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (refused.has(socket)) {
      // Node goes on parsing what still arrives and reports each chunk; past the limit, stop reading.
      if ((socket as Socket).bytesRead > DRAIN_LIMIT_BYTES) socket.destroy();
      return;
    }
    refused.add(socket);
    const problem = clientProblem(error);
    if (!problem || !socket.writable || busy.has(socket)) {
      socket.destroy();
      return;
    }
    logHandler('warning', `local host: refused a request (${problem.status}, ${error.code ?? error.message})`);
    const body = problemJson(problem.status, problem.title, problem.detail);
    socket.end(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    // The rest of an oversized request is still on its way. Closing now would reset the connection
    // and the client could lose the answer with it, so it is read and dropped for a while first.
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
  });

  baseUrl = await listen(server, options.port ?? 0);
  return {
    baseUrl,
    functionKey,
    writeKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Azure's limit on an HTTP function's request body (100 MB); the handlers set their own, lower ones. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

/**
 * The request body as the bytes sent (a signature covers them exactly), or undefined for a GET or
 * HEAD; 'too-large' past MAX_BODY_BYTES, read no further.
 */
async function readBody(req: IncomingMessage, method: string): Promise<Buffer | undefined | 'too-large'> {
  if (method === 'GET' || method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A route segment, percent-decoded. One that is not valid percent-encoding goes to the handler as
 * typed, so the handler refuses it as it refuses any malformed id (a 400), not this adapter (a 500).
 */
function routeValue(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function keyMatches(req: IncomingMessage, url: URL, expected: string): boolean {
  const header = req.headers['x-functions-key'];
  const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** How much of a refused request is read and dropped, and for how long, before the connection closes. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const DRAIN_MS = 5_000;

function problemJson(status: number, title: string, detail?: string): string {
  return JSON.stringify(problemBody(status, title, detail));
}

function sendStatus(res: ServerResponse, status: number, detail: string): void {
  res.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE });
  res.end(problemJson(status, detail));
}

/**
 * Node's own answers to a request it could not parse are bare (an empty 431 for a query or headers
 * over its limit); these say what was wrong, as problem+json like every other refusal. Undefined:
 * nothing worth answering (the client went away).
 */
function clientProblem(error: NodeJS.ErrnoException): { status: number; title: string; detail: string } | undefined {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      title: 'Request Header Fields Too Large',
      detail:
        `The request line and headers together are over this host's limit of ${maxHeaderSize} bytes ` +
        '(a long query string counts): shorten $filter, or send fewer or shorter headers.',
    };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, title: 'Request Timeout', detail: 'The request did not arrive in time.' };
  }
  if (error.code?.startsWith('HPE_')) {
    return { status: 400, title: 'Bad Request', detail: 'The request is not well-formed HTTP/1.1.' };
  }
  return undefined;
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve(`http://${HOST}:${bound}`);
    });
  });
}
