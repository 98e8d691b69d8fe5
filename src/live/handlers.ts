/**
 * The HTTP handlers of the live list: request → validated query → Partner Center (through the
 * instance's one client) → streamed answer, or problem+json. One file per function under
 * src/functions/ registers them; `referrals-lake serve` hosts the same declarations.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { contextLogger } from '../common/azure-functions.js';
import { BadQueryError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { problemFor } from '../common/problems.js';
import type { Continuation } from './continuation.js';
import { CONTENT_TYPES, encodeAnswer, flatColumns, flatLine, flatRow } from './encode.js';
import { liveInstance } from './instance.js';
import { linkBack } from './links.js';
import { openListing } from './listing.js';
import { buildOpenApi } from './openapi.js';
import { KEY_PARAM, REFERRAL_ID_PATTERN, SHAPES } from './params.js';
import { CORRELATION_HEADER, problemResponse } from './problem.js';
import { queryOf, readListRequest } from './request.js';

export async function listReferralsHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const logger = contextLogger(context);
  const correlationId = context.invocationId;
  const began = performance.now();
  try {
    const parsed = readListRequest(queryOf(request.url));
    const live = liveInstance();
    const at: Continuation =
      'continuation' in parsed ? live.codec.open(parsed.continuation) : { spec: parsed.spec, skip: 0, returned: 0 };
    const { spec } = at;
    const columns = flatColumns(spec.columns);
    const listing = await openListing(live.source.client, live.pageSize, at);
    let skipped = 0;
    const body = encodeAnswer(listing.items, {
      format: spec.format,
      shape: spec.shape,
      columns,
      runId: `live-${correlationId}`,
      nextLink: () => {
        const position = listing.next();
        return position && linkBack(request, 'continuation', live.codec.seal({ spec, ...position }));
      },
      onSkipped: () => {
        skipped++;
      },
    });
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPES[spec.format], [CORRELATION_HEADER]: correlationId },
      body: logged(body, logger, () => ({ ms: Math.round(performance.now() - began), skipped })),
    };
  } catch (error) {
    return failure(error, logger, correlationId, request);
  }
}

export async function getReferralHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const logger = contextLogger(context);
  const correlationId = context.invocationId;
  try {
    const id = request.params.id ?? '';
    if (!REFERRAL_ID_PATTERN.test(id)) throw new BadQueryError('id', 'the referral id must be a GUID');
    const query = queryOf(request.url);
    for (const name of query.keys()) {
      if (name !== 'shape' && name !== KEY_PARAM) throw new BadQueryError(name, `unknown parameter '${name}'`);
    }
    const shape = query.get('shape') ?? 'flat';
    if (!(SHAPES as readonly string[]).includes(shape)) {
      throw new BadQueryError('shape', `shape must be one of ${SHAPES.join(', ')}`);
    }
    const referral = await liveInstance().source.client.getReferral(id);
    if (referral === undefined) {
      return problemResponse({ status: 404, title: 'Not found', detail: `No referral ${id}` }, correlationId);
    }
    let text = JSON.stringify(referral);
    if (shape === 'flat') {
      const row = flatRow(referral, `live-${correlationId}`, Date.now() * 1000);
      if (!row) {
        return problemResponse(
          {
            status: 502,
            title: 'Unreadable referral',
            detail: 'Partner Center sent a referral with no usable id; ask for shape=raw',
          },
          correlationId,
        );
      }
      text = flatLine(row, 1);
    }
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPES.json, [CORRELATION_HEADER]: correlationId },
      body: text,
    };
  } catch (error) {
    return failure(error, logger, correlationId, request);
  }
}

export async function openApiHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return openApiAnswer(buildOpenApi(new URL(request.url).host), context);
}

/** The write routes' own connector description (src/live/openapi-writes.ts). */
export async function writesOpenApiHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const { buildWritesOpenApi } = await import('./openapi-writes.js');
  return openApiAnswer(buildWritesOpenApi(new URL(request.url).host), context);
}

function openApiAnswer(document: Record<string, unknown>, context: InvocationContext): HttpResponseInit {
  return {
    status: 200,
    headers: { 'content-type': CONTENT_TYPES.json, [CORRELATION_HEADER]: context.invocationId },
    body: JSON.stringify(document, null, 2),
  };
}

function failure(error: unknown, logger: Logger, correlationId: string, request: HttpRequest): HttpResponseInit {
  const problem = problemFor(error);
  const log = problem.status >= 500 ? logger.error : logger.warn;
  log('live list request failed', { status: problem.status, path: new URL(request.url).pathname, error });
  return problemResponse(problem, correlationId);
}

/** Passes the answer through, logging its end or its failure (headers are gone by then: the stream is cut). */
async function* logged(
  body: AsyncIterable<Buffer>,
  logger: Logger,
  summary: () => Record<string, number>,
): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      yield chunk;
    }
    logger.info('live list answered', { bytes, ...summary() });
  } catch (error) {
    logger.error('live list answer cut short by a failure', { bytes, ...summary(), error });
    throw error;
  }
}
