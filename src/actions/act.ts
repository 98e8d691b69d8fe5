/**
 * One write to a referral, from whoever asks (the HTTP routes, the CLI): read the referral as it is
 * now, check the change against the rules (rules.ts), send it conditionally (If-Match: the
 * caller's, else the eTag just read: never a blind write), and audit the attempt whatever its end.
 * The answer is the referral after the change, a refusal saying why there was none, or the failure
 * (never thrown: the attempt is audited with the status the caller hears).
 */
import {
  AuthRequiredError,
  BadQueryError,
  ReferralRefusedError,
  ThrottledError,
  UpstreamError,
} from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type Problem, problemFor } from '../common/problems.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import type { Referral } from '../schema/referral-resource.js';
import type { JsonPatchOperation, PartnerCenterClient } from '../source/client.js';
import { type ActionKind, type AuditRecord, appendAudit, type StatusPair } from './audit.js';
import { ifMatchAccepts, ifMatchTags } from './if-match.js';
import {
  acceptOperations,
  changeOperations,
  checkChanges,
  checkDeclineInput,
  declineOperations,
  newReferralBody,
} from './rules.js';

export interface WriteRequest {
  readonly action: Exclude<ActionKind, 'create'>;
  readonly referralId: string;
  /** The caller's If-Match: the version its change was made against. */
  readonly ifMatch?: string;
  /** decline: `{ reason }`; patch: the fields to change. */
  readonly input?: unknown;
  readonly caller: string;
  readonly idempotencyKey?: string;
  readonly correlationId: string;
}

/** A change not made, and why: `reason` is what the audit calls it. */
export interface Refusal {
  readonly kind: 'refused';
  /** refused (checked here), rejected (by Partner Center), stale (412), not-found, failed (no eTag to send). */
  readonly reason: 'refused' | 'rejected' | 'stale' | 'not-found' | 'failed';
  readonly status: 400 | 404 | 412 | 502;
  readonly title: string;
  readonly detail: string;
  readonly target?: string;
}

export type WriteOutcome =
  | { readonly kind: 'done'; readonly referral: Referral }
  | Refusal
  /**
   * It broke (Partner Center failed or throttled, the sign-in is gone). `mayHaveLanded`: the change
   * was sent and Partner Center may have applied it (a 5xx, a lost answer); false when it surely did
   * not (nothing sent yet, or refused unprocessed: 429, 401, 403).
   */
  | { readonly kind: 'failed'; readonly problem: Problem; readonly error: unknown; readonly mayHaveLanded: boolean };

export interface WriteDependencies {
  readonly client: PartnerCenterClient;
  readonly target: StorageTarget;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export async function writeReferral(deps: WriteDependencies, request: WriteRequest): Promise<WriteOutcome> {
  const audit = new AttemptAudit(deps, 200, {
    action: request.action,
    caller: request.caller,
    referralId: request.referralId,
    ...(request.ifMatch !== undefined ? { ifMatch: request.ifMatch } : {}),
    ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    correlationId: request.correlationId,
  });
  try {
    // What can be judged without the referral is judged first: a bad input costs Partner Center nothing.
    const tags = checkInput(request);
    const current = (await deps.client.getReferral(request.referralId)) as Referral | undefined;
    if (!current) return audit.end(notFound(request.referralId));
    audit.before = statusOf(current);
    // A caller deciding on an older version hears so, not what its change would break now.
    if (tags && !ifMatchAccepts(tags, current.eTag)) {
      return audit.end(
        stale(
          `The referral changed since the version If-Match names (its eTag is now ${current.eTag}); read it again and decide anew.`,
        ),
      );
    }
    audit.operations = planned(request, current);
    // The version checked above: the caller's (it named this eTag) or the one just read. Never blind.
    const eTag = current.eTag;
    if (typeof eTag !== 'string' || eTag === '') {
      return audit.end({
        kind: 'refused',
        reason: 'failed',
        status: 502,
        title: 'No eTag',
        detail:
          'Partner Center sent the referral without an eTag, and a change is never sent unconditionally; nothing was changed.',
      });
    }
    audit.sent = true;
    const result = await deps.client.patchReferral(request.referralId, audit.operations, { ifMatch: eTag });
    if (result.kind === 'not-found') return audit.end(notFound(request.referralId));
    if (result.kind === 'stale') {
      return audit.end(
        stale(
          'The referral changed while the change was being sent; nothing was changed. Read it again and decide anew.',
        ),
      );
    }
    // 204 sends no body: the referral as it is now is one more read.
    const after = (result.referral ?? (await deps.client.getReferral(request.referralId))) as Referral | undefined;
    if (!after) return audit.end(notFound(request.referralId));
    return audit.end({ kind: 'done', referral: after });
  } catch (error) {
    return audit.end(outcomeOfError(error, 'Change refused', audit.sent));
  }
}

export interface CreateRequest {
  /** The flat fields of NEW_REFERRAL_FIELDS. */
  readonly input: unknown;
  readonly caller: string;
  readonly idempotencyKey?: string;
  readonly correlationId: string;
}

/**
 * Creates an outgoing co-sell referral: the input checked and turned into Partner Center's shape
 * before anything is sent, the POST sent once (a create is never repeated but after a 429: use an
 * Idempotency-Key to retry safely), the attempt audited.
 */
export async function createNewReferral(deps: WriteDependencies, request: CreateRequest): Promise<WriteOutcome> {
  const audit = new AttemptAudit(deps, 201, {
    action: 'create',
    caller: request.caller,
    ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    correlationId: request.correlationId,
  });
  try {
    const body = newReferralBody(request.input);
    audit.sent = true;
    const referral = (await deps.client.createReferral(body)) as Referral;
    return audit.end({ kind: 'done', referral });
  } catch (error) {
    return audit.end(outcomeOfError(error, 'Referral refused', audit.sent));
  }
}

type AttemptFacts = Omit<AuditRecord, 'time' | 'status' | 'outcome' | 'operations' | 'before' | 'after' | 'detail'>;

/** The audit record of one attempt: what it asked, what it learned on the way, how it ended. */
class AttemptAudit {
  operations?: JsonPatchOperation[];
  before?: StatusPair;
  /** Whether the change went to Partner Center. */
  sent = false;
  private readonly started: Date;

  constructor(
    private readonly deps: WriteDependencies,
    private readonly doneStatus: 200 | 201,
    private readonly facts: AttemptFacts,
  ) {
    this.started = (deps.now ?? (() => new Date()))();
  }

  /** Audits the attempt as it ended and hands the outcome on. */
  async end(outcome: WriteOutcome): Promise<WriteOutcome> {
    const record: AuditRecord = {
      time: this.started.toISOString(),
      ...this.facts,
      ...(outcome.kind === 'done' && this.facts.referralId === undefined && typeof outcome.referral.id === 'string'
        ? { referralId: outcome.referral.id }
        : {}),
      status: statusOfOutcome(outcome, this.doneStatus),
      outcome: outcome.kind === 'refused' ? outcome.reason : outcome.kind,
      ...(this.operations ? { operations: this.operations } : {}),
      ...(this.before ? { before: this.before } : {}),
      ...(outcome.kind === 'done' ? { after: statusOf(outcome.referral) } : {}),
      ...(outcome.kind === 'refused' ? { detail: outcome.detail } : {}),
      ...(outcome.kind === 'failed' ? { detail: outcome.problem.detail } : {}),
    };
    await appendAudit(this.deps.target, record, this.deps.logger);
    return outcome;
  }
}

function statusOfOutcome(outcome: WriteOutcome, doneStatus: number): number {
  if (outcome.kind === 'done') return doneStatus;
  return outcome.kind === 'failed' ? outcome.problem.status : outcome.status;
}

/** A failure as the caller will hear it: its own input or Partner Center's refusal is a 400, anything else failed. */
function outcomeOfError(error: unknown, refusedTitle: string, sent: boolean): WriteOutcome {
  if (error instanceof BadQueryError || error instanceof ReferralRefusedError) {
    const ours = error instanceof BadQueryError;
    return {
      kind: 'refused',
      reason: ours ? 'refused' : 'rejected',
      status: 400,
      title: ours ? refusedTitle : 'Refused by Partner Center',
      detail: error.message,
      ...(error.target !== undefined ? { target: error.target } : {}),
    };
  }
  return { kind: 'failed', problem: problemFor(error), error, mayHaveLanded: sent && !refusedUnprocessed(error) };
}

/** Partner Center answered without applying anything: throttled, or the sign-in refused. */
function refusedUnprocessed(error: unknown): boolean {
  if (error instanceof ThrottledError || error instanceof AuthRequiredError) return true;
  const status = error instanceof UpstreamError ? error.details.status : undefined;
  return status === 401 || status === 403 || status === 429;
}

function stale(detail: string): Refusal {
  return { kind: 'refused', reason: 'stale', status: 412, title: 'Changed since read', detail, target: 'If-Match' };
}

function planned(request: WriteRequest, current: Referral): JsonPatchOperation[] {
  switch (request.action) {
    case 'accept':
      return acceptOperations(current);
    case 'decline':
      return declineOperations(current, request.input);
    case 'patch':
      return changeOperations(current, request.input);
  }
}

/** Checks what the request says on its own; the If-Match tags it names, if any. */
function checkInput(request: WriteRequest): string[] | undefined {
  const tags = request.ifMatch === undefined ? undefined : ifMatchTags(request.ifMatch);
  if (request.action === 'decline') checkDeclineInput(request.input);
  if (request.action === 'patch') checkChanges(request.input);
  return tags;
}

function notFound(id: string): Refusal {
  return {
    kind: 'refused',
    reason: 'not-found',
    status: 404,
    title: 'Not found',
    detail: `No referral ${id} (or not one the signed-in user sees)`,
  };
}

function statusOf(referral: Referral): StatusPair {
  return { status: referral.status ?? null, substatus: referral.substatus ?? null };
}
