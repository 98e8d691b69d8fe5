/**
 * Failures → `application/problem+json` (RFC 9457), with the correlation id (the invocation id) in
 * the body and the `x-correlation-id` header. What a failure says is src/common/problems.ts; the log
 * keeps the whole error, found by the correlation id. Every text still passes through redact().
 */
import type { HttpResponseInit } from '@azure/functions';
import type { Problem } from '../common/problems.js';
import { redact } from '../common/redact.js';

export const CORRELATION_HEADER = 'x-correlation-id';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The RFC 9457 members every refusal has; the local host's own refusals are this alone. */
export function problemBody(status: number, title: string, detail?: string) {
  return { type: 'about:blank', title, status, ...(detail === undefined ? {} : { detail: redact(detail) }) };
}

export function problemResponse(problem: Problem, correlationId: string, instance?: string): HttpResponseInit {
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    [CORRELATION_HEADER]: correlationId,
  };
  if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
  const body = {
    ...problemBody(problem.status, problem.title, problem.detail),
    ...(problem.target === undefined ? {} : { target: problem.target }),
    ...(instance === undefined ? {} : { instance }),
    correlationId,
  };
  return { status: problem.status, headers, body: JSON.stringify(body) };
}
