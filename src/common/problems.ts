/**
 * What a failure means to the caller who asked: typed errors → an HTTP status, a title and a text.
 * Only a 400's text is the error's own message (it is about the caller's request); every other text
 * is written here from the error's type and structured fields, never from its message, which can
 * name server paths (the token cache file, a certificate file, a lake path) or settings' values.
 * The HTTP routes send it as problem+json (src/live/problem.ts); the write audit records its status.
 */
import {
  AuthRequiredError,
  BadQueryError,
  ConfigError,
  ReferralRefusedError,
  ThrottledError,
  UpstreamError,
} from './errors.js';

const LOGIN_HINT = 'Re-run `referrals-lake login` (device code flow) to sign in to Partner Center again.';
const SEE_LOG = "The function app's log has the details under this correlationId.";
/** Retry-After when Partner Center throttled without saying for how long. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;
/** Partner Center's request ids are GUIDs; anything else in that header is not repeated. */
const REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;

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
  if (error instanceof ReferralRefusedError) {
    // Partner Center's words about the caller's change: theirs to read, as a 400 of ours.
    return {
      status: 400,
      title: 'Refused by Partner Center',
      detail: error.message,
      ...(error.target !== undefined ? { target: error.target } : {}),
    };
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
    return {
      status: 502,
      title: 'Partner Center sign-in needed',
      detail: `The function app has no usable Partner Center sign-in. ${error.nextStep}`,
    };
  }
  if (error instanceof UpstreamError) return upstreamProblem(error);
  if (error instanceof ConfigError) {
    // The setting's name is ours to show; the message may hold its value (a file path).
    return {
      status: 500,
      title: 'Function app misconfigured',
      detail: `App setting ${error.setting} is missing or not valid; fix it in the function app's configuration. ${SEE_LOG}`,
    };
  }
  return { status: 500, title: 'Internal error', detail: `An unexpected error occurred. ${SEE_LOG}` };
}

function upstreamProblem(error: UpstreamError): Problem {
  const { status, requestId } = error.details;
  if (status === 401 || status === 403) {
    const role =
      status === 403
        ? ' The signed-in user needs the Partner Center role Referrals admin (to see every referral) or Referrals user.'
        : '';
    return {
      status: 502,
      title: 'Partner Center refused the sign-in',
      detail: `Partner Center answered ${status}.${role} ${LOGIN_HINT}`,
    };
  }
  const answered = status === undefined ? 'could not be reached or sent an unusable answer' : `answered ${status}`;
  const id = requestId !== undefined && REQUEST_ID.test(requestId) ? ` (Request-ID ${requestId})` : '';
  return {
    status: 502,
    title: 'Partner Center failed',
    detail: `Partner Center ${answered}${id}; try again later. ${SEE_LOG}`,
  };
}
