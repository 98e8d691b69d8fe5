/**
 * The write routes' HTTP side: `POST /api/referrals/{id}/accept`, `POST /api/referrals/{id}/decline`,
 * `PATCH /api/referrals/{id}`, `POST /api/referrals` (create: 201). Off unless LIVE_WRITES_ENABLED is true (403 naming it); behind a
 * function key of their own (docs/security.md); Idempotency-Key honoured; the change itself is
 * src/actions/act.ts, audited there. The answer is the referral after the change as the lake's flat
 * row (as GET /api/referrals/{id} gives it), with its eTag in the ETag header for the next change.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { createNewReferral, type WriteOutcome, type WriteRequest, writeReferral } from '../actions/act.js';
import { type ActionKind, appendAudit, keyCaller } from '../actions/audit.js';
import { type Claim, checkIdempotencyKey, IdempotencyStore, type StoredAnswer } from '../actions/idempotency.js';
import { contextLogger } from '../common/azure-functions.js';
import { BadQueryError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type Problem, problemFor } from '../common/problems.js';
import { readSetting } from '../config.js';
import { CONTENT_TYPES, flatLine, flatRow } from './encode.js';
import { liveInstance } from './instance.js';
import { liveLake } from './lake.js';
import { KEY_PARAM, REFERRAL_ID_PATTERN } from './params.js';
import { CORRELATION_HEADER, problemResponse } from './problem.js';
import { queryOf } from './request.js';

const MAX_BODY_BYTES = 64 * 1024;
export const WRITES_SETTING = 'LIVE_WRITES_ENABLED';

type WriteAction = WriteRequest['action'];

export const acceptReferralHandler = writeHandler('accept');
export const declineReferralHandler = writeHandler('decline');
export const updateReferralHandler = writeHandler('patch');
export const createReferralHandler = writeHandler('create');

/** One write, read from its request: what it is (for an Idempotency-Key) and how to do it. */
interface WriteJob {
  readonly referralId?: string;
  readonly fingerprint: string;
  run(idempotencyKey: string | undefined, logger: Logger): Promise<Ran>;
}

/** A job's answer, and whether its Idempotency-Key keeps it (false: the job surely changed nothing). */
interface Ran {
  readonly answer: StoredAnswer;
  readonly keep: boolean;
}

function writeHandler(action: ActionKind) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const logger = contextLogger(context);
    const correlationId = context.invocationId;
    const caller = callerOf(request);
    const attempt: Attempt = { action, caller, correlationId, logger, referralId: request.params.id };
    try {
      if (readSetting(process.env, 'LIVE_WRITES_ENABLED') !== true) return await disabled(attempt);
      const job = await readJob(action, request, caller, correlationId);
      const key = request.headers.get('idempotency-key') ?? undefined;
      if (key === undefined) return toResponse((await job.run(undefined, logger)).answer, correlationId);
      return await once(job, key, attempt);
    } catch (error) {
      // Every attempt is audited: one refused before it was read (bad id, body, header) too.
      return problemResponse(await endedEarly(attempt, error), correlationId);
    }
  };
}

/** Logs and audits an attempt that failed before src/actions/act.ts took it; the problem to answer. */
async function endedEarly(attempt: Attempt, error: unknown, idempotencyKey?: string): Promise<Problem> {
  const problem = problemFor(error);
  (problem.status >= 500 ? attempt.logger.error : attempt.logger.warn)('referral write failed', {
    action: attempt.action,
    status: problem.status,
    error,
  });
  await auditAttempt(attempt, {
    status: problem.status,
    outcome: problem.status >= 500 ? 'failed' : 'refused',
    detail: problem.detail,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  });
  return problem;
}

/** Who asked for which write: what every audit record of the attempt names. */
interface Attempt {
  readonly action: ActionKind;
  readonly caller: string;
  readonly correlationId: string;
  readonly logger: Logger;
  readonly referralId: string | undefined;
}

/** An audit record for an attempt that ended before src/actions/act.ts could audit it. */
async function auditAttempt(
  { action, caller, correlationId, logger, referralId }: Attempt,
  end: { status: number; outcome: string; detail?: string; idempotencyKey?: string },
): Promise<void> {
  const record = {
    time: new Date().toISOString(),
    action,
    caller,
    ...(referralId ? { referralId } : {}),
    ...end,
    correlationId,
  };
  const lake = await liveLake().catch(() => undefined);
  if (lake) await appendAudit(lake, record, logger);
  else logger.warn('referral write', record);
}

/** The job under an Idempotency-Key: run by the first request, its answer given to the repeats. */
async function once(job: WriteJob, key: string, attempt: Attempt): Promise<HttpResponseInit> {
  const { caller, correlationId, logger } = attempt;
  const problem = checkIdempotencyKey(key);
  if (problem) throw new BadQueryError('Idempotency-Key', problem);
  const claim = await new IdempotencyStore(await liveLake()).claim(key, caller, job.fingerprint);
  if (claim.kind === 'conflict') {
    await auditAttempt(attempt, {
      status: claim.status,
      outcome: 'conflict',
      detail: claim.detail,
      idempotencyKey: key,
    });
    return problemResponse(
      { status: claim.status, title: 'Idempotency-Key conflict', detail: claim.detail, target: 'Idempotency-Key' },
      correlationId,
    );
  }
  if (claim.kind === 'replay') {
    await auditAttempt(attempt, { status: claim.answer.status, outcome: 'replayed', idempotencyKey: key });
    const headers = { ...claim.answer.headers, 'idempotent-replayed': 'true' };
    return toResponse({ ...claim.answer, headers }, correlationId);
  }
  let ran: Ran;
  try {
    ran = await job.run(key, logger);
  } catch (error) {
    // The write never started (the app could not reach its lake or its settings): nothing to keep.
    ran = { answer: storedProblem(await endedEarly(attempt, error, key), correlationId), keep: false };
  }
  await settleClaim(claim, ran, logger);
  return toResponse(ran.answer, correlationId);
}

/**
 * Keeps the answer for the key's repeats, or frees the key when the job changed nothing. A failure
 * here is logged, not answered: the change is done (or not) whatever the lake says, and the caller
 * must hear how it went; the unanswered claim then holds the key until it expires (idempotency.ts).
 */
async function settleClaim(claim: Extract<Claim, { kind: 'claimed' }>, ran: Ran, logger: Logger): Promise<void> {
  try {
    if (ran.keep) await claim.finish(ran.answer);
    else await claim.release();
  } catch (error) {
    logger.error('the Idempotency-Key record could not be settled; the key stays taken until it expires', {
      error,
    });
  }
}

async function readJob(
  action: ActionKind,
  request: HttpRequest,
  caller: string,
  correlationId: string,
): Promise<WriteJob> {
  const deps = async (logger: Logger) => ({ client: liveInstance().source.client, target: await liveLake(), logger });
  if (action === 'create') {
    checkNoQuery(request);
    const input = await readBody(request);
    return {
      fingerprint: JSON.stringify(['create', input ?? null]),
      run: async (idempotencyKey, logger) => {
        const asked = { input, caller, correlationId, ...(idempotencyKey ? { idempotencyKey } : {}) };
        return answerOf(await createNewReferral(await deps(logger), asked), correlationId, 201, logger);
      },
    };
  }
  const asked = await readWriteRequest(action, request, caller, correlationId);
  return {
    referralId: asked.referralId,
    fingerprint: JSON.stringify([asked.action, asked.referralId, asked.ifMatch ?? null, asked.input ?? null]),
    run: async (idempotencyKey, logger) => {
      const request = { ...asked, ...(idempotencyKey ? { idempotencyKey } : {}) };
      return answerOf(await writeReferral(await deps(logger), request), correlationId, 200, logger);
    },
  };
}

/** The outcome as an answer that can be kept for an Idempotency-Key and given again. */
function answerOf(outcome: WriteOutcome, correlationId: string, doneStatus: 200 | 201, logger: Logger): Ran {
  if (outcome.kind === 'failed') {
    logger.error('referral write failed', {
      status: outcome.problem.status,
      mayHaveLanded: outcome.mayHaveLanded,
      error: outcome.error,
    });
    return { answer: storedProblem(outcome.problem, correlationId), keep: outcome.mayHaveLanded };
  }
  if (outcome.kind === 'refused') {
    const { status, title, detail, target } = outcome;
    return {
      answer: storedProblem({ status, title, detail, ...(target ? { target } : {}) }, correlationId),
      keep: true,
    };
  }
  const row = flatRow(outcome.referral, `live-${correlationId}`, Date.now() * 1000);
  const body = row ? flatLine(row, 1) : JSON.stringify(outcome.referral);
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES.json };
  if (typeof outcome.referral.eTag === 'string') headers.etag = outcome.referral.eTag;
  return { answer: { status: doneStatus, body, headers }, keep: true };
}

function storedProblem(problem: Problem, correlationId: string): StoredAnswer {
  const response = problemResponse(problem, correlationId);
  return {
    status: problem.status,
    body: String(response.body),
    headers: response.headers as Record<string, string>,
  };
}

async function disabled(attempt: Attempt): Promise<HttpResponseInit> {
  const detail = `Writes are off in this function app: set the app setting ${WRITES_SETTING}=true to allow them.`;
  await auditAttempt(attempt, { status: 403, outcome: 'disabled', detail });
  return problemResponse(
    { status: 403, title: 'Writes disabled', detail, target: WRITES_SETTING },
    attempt.correlationId,
  );
}

async function readWriteRequest(
  action: WriteAction,
  request: HttpRequest,
  caller: string,
  correlationId: string,
): Promise<WriteRequest> {
  const referralId = request.params.id ?? '';
  if (!REFERRAL_ID_PATTERN.test(referralId)) throw new BadQueryError('id', 'the referral id must be a GUID');
  checkNoQuery(request);
  const ifMatch = request.headers.get('if-match') ?? undefined;
  const input = await readBody(request);
  if (action === 'accept' && input !== undefined && !isEmptyObject(input)) {
    throw new BadQueryError('body', 'accepting takes no body (or {})');
  }
  return { action, referralId, ...(ifMatch !== undefined ? { ifMatch } : {}), input, caller, correlationId };
}

function checkNoQuery(request: HttpRequest): void {
  for (const name of queryOf(request.url).keys()) {
    if (name !== KEY_PARAM) {
      throw new BadQueryError(name, `unknown parameter '${name.slice(0, 40)}'; the change goes in the body`);
    }
  }
}

/** The JSON body, undefined when there is none. */
async function readBody(request: HttpRequest): Promise<unknown> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new BadQueryError('body', `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadQueryError('body', 'the body is not JSON');
  }
}

/** Names the caller by a digest of the key it presented: the audit can tell callers apart, never learn a key. */
function callerOf(request: HttpRequest): string {
  const key = request.headers.get('x-functions-key') ?? request.query.get(KEY_PARAM);
  return key ? keyCaller(key) : 'anonymous';
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

function toResponse(answer: StoredAnswer, correlationId: string): HttpResponseInit {
  return {
    status: answer.status,
    headers: { ...answer.headers, [CORRELATION_HEADER]: correlationId },
    body: answer.body,
  };
}
