/**
 * The sandbox's Referrals API: `GET /v1.0/engagements/referrals` and `…/referrals/{id}`, answered
 * the way ../shared/partner-center/ describes Partner Center: bearer auth, OData options, keyset
 * `$skiptoken` paging, `Request-ID` headers, OData error bodies, and the faults of the run. The
 * writes, `PATCH …/referrals/{id}` and `POST …/referrals`, are routed here with the same auth,
 * headers and faults; their rules live in write-service.ts and the files it calls.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BadQueryError } from '../src/common/errors.js';
import type { OrderBy } from '../src/odata/ast.js';
import { parseListQuery } from '../src/odata/parse.js';
import type { Referral } from '../src/schema/referral-resource.js';
import type { FaultDecision, FaultInjector } from './faults.js';
import { parsePatch } from './json-patch.js';
import type { SkipTokenCodec, SkipTokenState } from './skiptoken.js';
import type { ReferralStore } from './store.js';
import { InvalidWriteError } from './write-error.js';
import type { WriteService } from './write-service.js';

export const LIST_PATH = '/v1.0/engagements/referrals';
/** Where the seed example's nextLink points: wrong path, plain http. A client must repair it. */
export const SEED_STYLE_LIST_PATH = '/v1.0/referrals';
const DEFAULT_ORDER: OrderBy = { field: 'createdDateTime', direction: 'asc' };
const SUPPORTED_OPTIONS = new Set(['$filter', '$orderby', '$top', '$skip', '$select', '$count', '$skiptoken']);

export interface ApiOptions {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** 'page-size': $top sets the page size and paging continues; 'limit': $top caps the whole result. */
  readonly topMode: 'page-size' | 'limit';
  /** 'seed': nextLink as in the docs' example (http://…/v1.0/referrals?…); 'clean': https + the real path. */
  readonly nextLinkStyle: 'seed' | 'clean';
}

export type Caller = { readonly email: string; readonly role: 'admin' | 'user' };

export type AuthResult =
  | { readonly ok: true; readonly caller: Caller }
  | {
      readonly ok: false;
      readonly status: 401 | 403;
      readonly error: string;
      readonly description: string;
      readonly wwwAuthenticate?: string;
    };

export interface ApiDependencies {
  readonly store: ReferralStore;
  readonly writes: WriteService;
  readonly faults: FaultInjector;
  readonly skipTokens: SkipTokenCodec;
  readonly authenticate: (authorization: string | undefined) => Promise<AuthResult>;
  readonly expireTokens: () => void;
  /** Called after each page is served, for the mutate-while-paging fault. */
  readonly afterPage: () => void;
  /** https://127.0.0.1:port */
  readonly origin: () => string;
}

export interface ApiStats {
  requests: number;
  pagesServed: number;
  referralsServed: number;
  unauthorized: number;
  badRequests: number;
  /** PATCHes and POSTs that changed the book. */
  writes: number;
}

export class ReferralsApi {
  readonly stats: ApiStats = {
    requests: 0,
    pagesServed: 0,
    referralsServed: 0,
    unauthorized: 0,
    badRequests: 0,
    writes: 0,
  };

  constructor(
    private readonly options: ApiOptions,
    private readonly deps: ApiDependencies,
  ) {}

  /** Handles the request if it is for the API; returns false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const isList = url.pathname === LIST_PATH || url.pathname === `${LIST_PATH}/`;
    const idMatch = url.pathname.startsWith(`${LIST_PATH}/`) ? url.pathname.slice(LIST_PATH.length + 1) : undefined;
    if (!isList && !idMatch) return false;
    const requestId = headerValue(req, 'ms-requestid') ?? randomUUID();
    res.setHeader('Request-ID', requestId);
    const correlationId = headerValue(req, 'ms-correlationid');
    if (correlationId) res.setHeader('MS-CorrelationId', correlationId);
    const allowed = idMatch ? ITEM_METHODS : COLLECTION_METHODS;
    if (!allowed.includes(req.method ?? '')) {
      res.setHeader('Allow', allowed.join(', '));
      sendError(
        res,
        405,
        'MethodNotAllowed',
        `${req.method} is not allowed here; use ${allowed.join(' or ')}`,
        requestId,
      );
      return true;
    }
    const n = ++this.stats.requests;
    const delay = this.deps.faults.latencyMs(n);
    if (delay > 0) await sleep(delay);
    if (this.deps.faults.expiresTokensAt(n)) this.deps.expireTokens();
    const auth = await this.deps.authenticate(headerValue(req, 'authorization'));
    if (!auth.ok) {
      this.stats.unauthorized++;
      sendAuthError(res, auth, requestId);
      return true;
    }
    const fault = this.deps.faults.decide(n);
    if (answeredByFault(res, fault, requestId)) return true;
    try {
      if (req.method === 'PATCH')
        await this.patch(req, res, decodeURIComponent(idMatch ?? ''), auth.caller, fault, requestId);
      else if (req.method === 'POST') await this.create(req, res, fault);
      else if (idMatch) this.getOne(res, decodeURIComponent(idMatch), auth.caller, url, fault, requestId);
      else this.list(res, url, auth.caller, fault);
    } catch (error) {
      const invalid = asInvalidInput(error);
      if (!invalid) throw error;
      this.stats.badRequests++;
      sendError(res, 400, 'BadRequest', invalid.message, requestId, invalid.target);
    }
    return true;
  }

  /**
   * `PATCH …/referrals/{id}`: the body is read and parsed first (a malformed patch is a 400 whatever
   * the id), then an id the caller cannot see is a 404, a stale If-Match a 412, a rule broken a 400;
   * only then is anything written. 204, or 200 with the referral under `Prefer: return=representation`.
   */
  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    caller: Caller,
    fault: FaultDecision,
    requestId: string,
  ): Promise<void> {
    const operations = parsePatch(await readJson(req));
    const ifMatch = headerValue(req, 'if-match');
    const outcome = this.deps.writes.patch(id, operations, ifMatch, visibleTo(caller));
    if (outcome.kind === 'not-found') {
      sendError(res, 404, 'NotFound', `Referral '${id}' was not found`, requestId);
      return;
    }
    if (outcome.kind === 'stale') {
      const message = `The referral has changed since the ETag ${ifMatch} was read; GET it again for its current eTag`;
      sendError(res, 412, 'PreconditionFailed', message, requestId, 'If-Match');
      return;
    }
    this.stats.writes++;
    if (prefersRepresentation(req)) sendBody(res, this.deps.store.jsonOf(id) ?? '', fault);
    else sendNoContent(res, fault);
  }

  /** `POST …/referrals`: 201 with the referral as stored, and its address in Location. */
  private async create(req: IncomingMessage, res: ServerResponse, fault: FaultDecision): Promise<void> {
    const referral = this.deps.writes.create(await readJsonObject(req));
    this.stats.writes++;
    res.setHeader('Location', `${this.deps.origin()}${LIST_PATH}/${encodeURIComponent(referral.id)}`);
    sendBody(res, this.deps.store.jsonOf(referral.id) ?? '', fault, 201);
  }

  private getOne(res: ServerResponse, id: string, caller: Caller, url: URL, fault: FaultDecision, requestId: string) {
    const referral = this.deps.store.get(id);
    if (!referral || !visibleTo(caller)(referral)) {
      sendError(res, 404, 'NotFound', `Referral '${id}' was not found`, requestId);
      return;
    }
    const select = parseListQuery(pickOptions(url)).select;
    const json = select ? JSON.stringify(project(referral, select)) : (this.deps.store.jsonOf(id) ?? '');
    this.stats.referralsServed++;
    sendBody(res, json, fault);
  }

  private list(res: ServerResponse, url: URL, caller: Caller, fault: FaultDecision): void {
    const { options, state } = this.requestState(url);
    const query = parseListQuery(options);
    const orderBy = query.orderBy ?? DEFAULT_ORDER;
    const limitMode = this.options.topMode === 'limit' && query.top !== undefined;
    const remaining = limitMode ? (state?.remaining ?? query.top ?? 0) : undefined;
    const pageSize = Math.min(
      limitMode ? this.options.defaultPageSize : (query.top ?? this.options.defaultPageSize),
      this.options.maxPageSize,
      remaining ?? Number.POSITIVE_INFINITY,
    );
    const visible = visibleTo(caller);
    const page = this.deps.store.page({
      filter: query.filter,
      orderBy,
      pageSize,
      cursor: state?.cursor,
      skip: query.skip,
      visibleTo: caller.role === 'admin' ? undefined : visible,
    });
    const pageNumber = (state?.page ?? 0) + 1;
    const left = remaining === undefined ? undefined : remaining - page.items.length;
    let nextLink: string | undefined;
    if (page.next && (left === undefined || left > 0)) {
      const next: SkipTokenState = { options, cursor: page.next, page: pageNumber, remaining: left };
      const token = this.deps.faults.repeatsNextLink(pageNumber) && state ? url.searchParams.get('$skiptoken') : null;
      nextLink = this.link(token ?? this.deps.skipTokens.encode(next));
    }
    const count = query.count ? this.deps.store.count(query.filter, visible) : page.items.length;
    const values = query.select
      ? page.items.map((r) => JSON.stringify(project(r, query.select ?? [])))
      : page.jsonItems;
    const body =
      `{"@odata.context":${JSON.stringify(this.contextUrl())},"@odata.count":${count},"value":[${values.join(',')}]` +
      (nextLink ? `,"@odata.nextLink":${JSON.stringify(nextLink)}}` : '}');
    this.stats.pagesServed++;
    this.stats.referralsServed += page.items.length;
    sendBody(res, body, fault);
    this.deps.afterPage();
  }

  /** The OData options of this request: from the skiptoken when paging, else from the URL. */
  private requestState(url: URL): { options: Record<string, string>; state?: SkipTokenState } {
    for (const key of url.searchParams.keys()) {
      if (key.startsWith('$') && !SUPPORTED_OPTIONS.has(key)) {
        throw new BadQueryError(key, `The query option '${key}' is not supported`);
      }
    }
    const token = url.searchParams.get('$skiptoken');
    if (token === null) return { options: pickOptions(url) };
    const state = this.deps.skipTokens.decode(token);
    return { options: { ...state.options }, state };
  }

  private link(skipToken: string): string {
    const origin = this.deps.origin();
    if (this.options.nextLinkStyle === 'clean') return `${origin}${LIST_PATH}?$skiptoken=${skipToken}`;
    return `${origin.replace(/^https:/, 'http:')}${SEED_STYLE_LIST_PATH}?$skiptoken=${skipToken}`;
  }

  private contextUrl(): string {
    const origin = this.deps.origin();
    return `${this.options.nextLinkStyle === 'seed' ? origin.replace(/^https:/, 'http:') : origin}/v1.0/$metadata#Referrals`;
  }
}

const ITEM_METHODS = ['GET', 'PATCH'];
const COLLECTION_METHODS = ['GET', 'POST'];

/** A request the service would answer 400, with the `target` its error body names; undefined for any other error. */
function asInvalidInput(error: unknown): { message: string; target?: string } | undefined {
  if (error instanceof BadQueryError || error instanceof InvalidWriteError) return error;
  if (error instanceof BadRequestBodyError) return { message: error.message, target: 'body' };
  return undefined;
}

/** RFC 7240 `Prefer: return=representation`, among any other preferences sent. */
function prefersRepresentation(req: IncomingMessage): boolean {
  return /(^|[\s,;])return=representation($|[\s,;])/i.test(headerValue(req, 'prefer') ?? '');
}

function pickOptions(url: URL): Record<string, string> {
  const options: Record<string, string> = {};
  for (const key of ['$filter', '$orderby', '$top', '$skip', '$select', '$count']) {
    const value = url.searchParams.get(key);
    if (value !== null) options[key] = value;
  }
  return options;
}

/** A Referrals user sees the referrals whose partner team they are on; an admin sees all. */
function visibleTo(caller: Caller): (referral: Referral) => boolean {
  if (caller.role === 'admin') return () => true;
  const email = caller.email.toLowerCase();
  return (referral) =>
    Array.isArray(referral.team) &&
    referral.team.some((m) => typeof m?.email === 'string' && m.email.toLowerCase() === email);
}

function project(referral: Referral, select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select) if (name in referral) out[name] = referral[name];
  return out;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Answers the request with the fault's response when the fault replaces the whole answer. */
function answeredByFault(res: ServerResponse, fault: FaultDecision, requestId: string): boolean {
  if (fault.kind === 'throttle') {
    res.setHeader('Retry-After', String(fault.retryAfterSeconds));
    sendJson(res, 429, {
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${fault.retryAfterSeconds} seconds.`,
    });
    return true;
  }
  if (fault.kind === 'serverError') {
    const code = fault.status === 503 ? 'ServiceUnavailable' : 'InternalServerError';
    sendError(res, fault.status, code, 'The service had a temporary failure; callers may retry.', requestId);
    return true;
  }
  return false;
}

/**
 * Sends a body, or the broken version of it that a reset/malformed fault asks for. After a write
 * the change is already made when the fault breaks the answer: the client cannot tell whether it
 * happened, which is what a retried write must be ready for.
 */
function sendBody(res: ServerResponse, body: string, fault: FaultDecision, status = 200): void {
  const bytes = Buffer.from(body, 'utf8');
  if (fault.kind === 'reset') {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
    return;
  }
  if (fault.kind === 'malformed') {
    const cut = Buffer.concat([bytes.subarray(0, Math.floor(bytes.length / 2)), Buffer.from('<!-- upstream error')]);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': cut.length });
    res.end(cut);
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
  res.end(bytes);
}

/** 204 after a write; a reset fault drops the connection instead, the change made but never confirmed. */
function sendNoContent(res: ServerResponse, fault: FaultDecision): void {
  if (fault.kind === 'reset') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(204);
  res.end();
}

const MAX_BODY_BYTES = 64 * 1024;

/** A request body that is too large, not JSON, or not a JSON object: the caller answers 400. */
export class BadRequestBodyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BadRequestBodyError';
  }
}

/** A request's JSON object body ({} when empty); throws BadRequestBodyError saying what is wrong. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parsed = await readJson(req);
  if (parsed === undefined) return {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new BadRequestBodyError('body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** A request's JSON body, any JSON value (undefined when empty); throws BadRequestBodyError when too large or not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestBodyError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestBodyError(`body is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
  res.end(bytes);
}

/** Partner Center's error body: `{ error: { code, message, target, innerError } }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  target?: string,
): void {
  sendJson(res, status, {
    error: { code, message, target: target ?? null, innerError: { requestId, date: new Date().toISOString() } },
  });
}

export function sendAuthError(res: ServerResponse, auth: Extract<AuthResult, { ok: false }>, requestId: string): void {
  res.setHeader('WWW-Authenticate', auth.wwwAuthenticate ?? `Bearer error="${auth.error}"`);
  sendError(res, auth.status, auth.status === 401 ? 'Unauthorized' : 'Forbidden', auth.description, requestId);
}
