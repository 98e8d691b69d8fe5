/**
 * Failures → `application/problem+json` (RFC 9457), with the correlation id (the invocation id) in
 * the body and the `x-correlation-id` header. Typed errors decide the status; every text is passed
 * through redact() so no token or secret reaches a caller, and an unexpected error shows nothing of
 * itself beyond "internal error" (the log has it).
 */
import type { HttpResponseInit } from '@azure/functions';
import {
  AuthRequiredError,
  BadQueryError,
  ConfigError,
  ReferralsLakeError,
  ThrottledError,
  UpstreamError,
} from '../common/errors.js';
import { redact } from '../common/redact.js';

export const CORRELATION_HEADER = 'x-correlation-id';
const LOGIN_HINT = 'Re-run `referrals-lake login` (device code flow) to sign in to Partner Center again.';
/** Retry-After when Partner Center throttled without saying for how long. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** The query part at fault, for 400s. */
  readonly target?: string;
  readonly retryAfterSeconds?: number;
}

export function problemFor(error: unknown): Problem {
  if (error instanceof BadQueryError) {
    return { status: 400, title: 'Bad request', detail: error.message, target: error.target };
  }
  if (error instanceof ThrottledError) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
    return {
      status: 503,
      title: 'Partner Center is throttling',
      detail: `Partner Center asked us to slow down; retry after ${seconds} seconds.`,
      retryAfterSeconds: seconds,
    };
  }
  if (error instanceof AuthRequiredError) {
    // Its message already says to run `referrals-lake login`.
    return { status: 502, title: 'Partner Center sign-in needed', detail: error.message };
  }
  if (error instanceof UpstreamError) {
    const status = error.details.status;
    if (status === 401 || status === 403) {
      return { status: 502, title: 'Partner Center refused the sign-in', detail: `${error.message}. ${LOGIN_HINT}` };
    }
    return { status: 502, title: 'Partner Center failed', detail: error.message };
  }
  if (error instanceof ConfigError) {
    return { status: 500, title: 'Function app misconfigured', detail: `App setting ${error.message}` };
  }
  if (error instanceof ReferralsLakeError) return { status: 500, title: 'Internal error', detail: error.message };
  return { status: 500, title: 'Internal error', detail: 'An unexpected error occurred; the log has the details.' };
}

export function problemResponse(problem: Problem, correlationId: string, instance?: string): HttpResponseInit {
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
    [CORRELATION_HEADER]: correlationId,
  };
  if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
  const body = {
    type: 'about:blank',
    title: problem.title,
    status: problem.status,
    detail: redact(problem.detail),
    ...(problem.target === undefined ? {} : { target: problem.target }),
    ...(instance === undefined ? {} : { instance }),
    correlationId,
  };
  return { status: problem.status, headers, body: JSON.stringify(body) };
}
