/**
 * `GET /api/triggers/referrals`: the polling trigger of Power Automate and Logic Apps, on the
 * protocol their engines speak. The first call (the flow's filters, no state) answers 202 with a
 * `Location` holding a sealed state at the head of the change feed: a flow starts from now. Every
 * later call is to the last `Location`: 200 with `{ value: [changes] }` when there are changes after
 * the state, else 202; both with the next `Location` and a `Retry-After`. Each change is answered
 * once per state, oldest first (feed.ts); a poll reads the lake, never Partner Center.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { contextLogger } from '../../common/azure-functions.js';
import { StorageError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { problemFor } from '../../common/problems.js';
import { createRowLineEncoder } from '../../lake/formats/ndjson-writer.js';
import type { Row } from '../../schema/table.js';
import { REFERRAL_VERSIONS } from '../../schema/tables.js';
import { CONTENT_TYPES } from '../encode.js';
import { linkBack } from '../links.js';
import { CORRELATION_HEADER, problemResponse } from '../problem.js';
import { queryOf } from '../request.js';
import { FeedExpiredError, headPosition, readChanges } from './feed.js';
import { rowMatcher } from './filters.js';
import { triggerInstance } from './instance.js';
import { BACKLOG_POLL_SECONDS, FEED_LIMITS, POLL_SECONDS } from './polling.js';
import { checkSameFilters, readTriggerRequest } from './request.js';
import { RESTART_ADVICE, STATE_PARAM, type TriggerState } from './state.js';

const encodeChange = createRowLineEncoder(REFERRAL_VERSIONS);

export async function referralsTriggerHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const logger = contextLogger(context);
  const correlationId = context.invocationId;
  try {
    const asked = readTriggerRequest(queryOf(request.url));
    const { target, codec } = await triggerInstance();
    if (asked.state === undefined) {
      const state: TriggerState = { filters: asked.filters, position: await headPosition(target) };
      logger.info('trigger started', { version: state.position.version });
      return answer(request, codec.seal(state), POLL_SECONDS, correlationId);
    }
    const state = codec.open(asked.state);
    checkSameFilters(asked.filters, state.filters);
    const read = await readChanges(target, state.position, rowMatcher(state.filters), FEED_LIMITS);
    const next = codec.seal({ filters: state.filters, position: read.next });
    const retryAfter = read.more ? BACKLOG_POLL_SECONDS : POLL_SECONDS;
    logger.info('trigger polled', { changes: read.changes.length, more: read.more, version: read.next.version });
    return answer(request, next, retryAfter, correlationId, encodeChanges(read.changes, logger));
  } catch (error) {
    return failure(error, logger, correlationId);
  }
}

function answer(
  request: HttpRequest,
  state: string,
  retryAfter: number,
  correlationId: string,
  changes: readonly string[] = [],
): HttpResponseInit {
  const headers = {
    location: linkBack(request, STATE_PARAM, state),
    'retry-after': String(retryAfter),
    [CORRELATION_HEADER]: correlationId,
  };
  if (changes.length === 0) return { status: 202, headers };
  return {
    status: 200,
    headers: { ...headers, 'content-type': CONTENT_TYPES.json },
    body: `{"value":[${changes.join(',')}]}`,
  };
}

/**
 * The changes as JSON objects. A row the lake's column contract refuses is logged and left out: it
 * would fail every poll of this state otherwise, and the lake's tables still hold it.
 */
function encodeChanges(rows: readonly Row[], logger: Logger): string[] {
  const encoded: string[] = [];
  for (const [i, row] of rows.entries()) {
    try {
      encoded.push(encodeChange(row, i + 1));
    } catch (error) {
      logger.error('a change the trigger cannot answer was left out', { referralId: row.referral_id, error });
    }
  }
  return encoded;
}

function failure(error: unknown, logger: Logger, correlationId: string): HttpResponseInit {
  if (error instanceof FeedExpiredError) {
    logger.warn('trigger state no longer readable in the lake', { version: error.version, reason: error.message });
    return problemResponse(
      {
        status: 410,
        title: 'Trigger state expired',
        detail:
          'The lake no longer holds the changes since this trigger last polled (kept LAKE_RETENTION_DAYS), or its ' +
          `referral_versions table was made anew; ${RESTART_ADVICE}. The referrals tables hold what happened meanwhile.`,
      },
      correlationId,
    );
  }
  if (error instanceof StorageError) {
    // The lake did not answer: the engine should try again later, not give up on the flow.
    logger.error('trigger poll failed: the lake did not answer', { error });
    const response = problemResponse(
      { status: 503, title: 'Lake unavailable', detail: 'The lake could not be read; the next poll tries again.' },
      correlationId,
    );
    return { ...response, headers: { ...response.headers, 'retry-after': String(POLL_SECONDS) } };
  }
  const problem = problemFor(error);
  (problem.status >= 500 ? logger.error : logger.warn)('trigger poll failed', { status: problem.status, error });
  return problemResponse(problem, correlationId);
}
