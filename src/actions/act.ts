/**
 * One write to a referral, from whoever asks (the HTTP routes, the CLI): read the referral as it is
 * now, check the change against the rules (rules.ts), send it conditionally (If-Match: the
 * caller's, else the eTag just read: never a blind write), and audit the attempt whatever its end.
 * The answer is the referral after the change, or a problem saying why there was none.
 */
import { BadQueryError, ReferralRefusedError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import type { Referral } from '../schema/referral-resource.js';
import type { JsonPatchOperation, PartnerCenterClient } from '../source/client.js';
import { type ActionKind, type AuditRecord, appendAudit, type StatusPair } from './audit.js';
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

export type WriteOutcome =
  | { readonly kind: 'done'; readonly referral: Referral }
  | {
      readonly kind: 'refused';
      readonly status: 400 | 404 | 412 | 502;
      readonly title: string;
      readonly detail: string;
      readonly target?: string;
    };

export interface WriteDependencies {
  readonly client: PartnerCenterClient;
  readonly target: StorageTarget;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export async function writeReferral(deps: WriteDependencies, request: WriteRequest): Promise<WriteOutcome> {
  const started = (deps.now ?? (() => new Date()))();
  let operations: JsonPatchOperation[] | undefined;
  let before: StatusPair | undefined;
  const audit = (outcome: WriteOutcome, extra: Partial<AuditRecord> = {}) =>
    appendAudit(
      deps.target,
      {
        time: started.toISOString(),
        action: request.action,
        caller: request.caller,
        referralId: request.referralId,
        status: outcome.kind === 'done' ? 200 : outcome.status,
        outcome: outcome.kind === 'done' ? 'done' : outcomeName(outcome),
        ...(operations ? { operations } : {}),
        ...(request.ifMatch !== undefined ? { ifMatch: request.ifMatch } : {}),
        ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
        ...(before ? { before } : {}),
        ...(outcome.kind === 'done' ? { after: statusOf(outcome.referral) } : { detail: outcome.detail }),
        correlationId: request.correlationId,
        ...extra,
      },
      deps.logger,
    );
  const finish = async (outcome: WriteOutcome) => {
    await audit(outcome);
    return outcome;
  };
  try {
    // What can be judged without the referral is judged first: a bad input costs Partner Center nothing.
    checkInput(request);
    const current = (await deps.client.getReferral(request.referralId)) as Referral | undefined;
    if (!current) return finish(notFound(request.referralId));
    before = statusOf(current);
    // A caller deciding on an older version hears so, not what its change would break now.
    if (request.ifMatch !== undefined && request.ifMatch !== current.eTag) {
      return finish({
        kind: 'refused',
        status: 412,
        title: 'Changed since read',
        detail: `The referral changed since the version If-Match names (its eTag is now ${current.eTag}); read it again and decide anew.`,
        target: 'If-Match',
      });
    }
    operations = planned(request, current);
    const ifMatch = request.ifMatch ?? current.eTag;
    if (typeof ifMatch !== 'string' || ifMatch === '') {
      return finish({
        kind: 'refused',
        status: 502,
        title: 'No eTag',
        detail:
          'Partner Center sent the referral without an eTag, and a change is never sent unconditionally; nothing was changed.',
      });
    }
    const result = await deps.client.patchReferral(request.referralId, operations, { ifMatch });
    if (result.kind === 'not-found') return finish(notFound(request.referralId));
    if (result.kind === 'stale') {
      return finish({
        kind: 'refused',
        status: 412,
        title: 'Changed since read',
        detail:
          'The referral changed while the change was being sent; nothing was changed. Read it again and decide anew.',
        target: 'If-Match',
      });
    }
    // 204 sends no body: the referral as it is now is one more read.
    const after = (result.referral ?? (await deps.client.getReferral(request.referralId))) as Referral | undefined;
    if (!after) return finish(notFound(request.referralId));
    return finish({ kind: 'done', referral: after });
  } catch (error) {
    if (error instanceof BadQueryError || error instanceof ReferralRefusedError) {
      return finish({
        kind: 'refused',
        status: 400,
        title: error instanceof BadQueryError ? 'Change refused' : 'Refused by Partner Center',
        detail: error.message,
        ...(error.target !== undefined ? { target: error.target } : {}),
      });
    }
    await audit(
      { kind: 'refused', status: 502, title: 'Failed', detail: (error as Error).message },
      { outcome: 'failed' },
    );
    throw error;
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
  const started = (deps.now ?? (() => new Date()))();
  const audit = (outcome: WriteOutcome, status: number, name: string) =>
    appendAudit(
      deps.target,
      {
        time: started.toISOString(),
        action: 'create',
        caller: request.caller,
        ...(outcome.kind === 'done' && typeof outcome.referral.id === 'string'
          ? { referralId: outcome.referral.id }
          : {}),
        status,
        outcome: name,
        ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
        ...(outcome.kind === 'done' ? { after: statusOf(outcome.referral) } : { detail: outcome.detail }),
        correlationId: request.correlationId,
      },
      deps.logger,
    );
  try {
    const body = newReferralBody(request.input);
    const referral = (await deps.client.createReferral(body)) as Referral;
    const outcome: WriteOutcome = { kind: 'done', referral };
    await audit(outcome, 201, 'done');
    return outcome;
  } catch (error) {
    if (error instanceof BadQueryError || error instanceof ReferralRefusedError) {
      const outcome: WriteOutcome = {
        kind: 'refused',
        status: 400,
        title: error instanceof BadQueryError ? 'Referral refused' : 'Refused by Partner Center',
        detail: error.message,
        ...(error.target !== undefined ? { target: error.target } : {}),
      };
      await audit(outcome, 400, error instanceof BadQueryError ? 'refused' : 'rejected');
      return outcome;
    }
    await audit({ kind: 'refused', status: 502, title: 'Failed', detail: (error as Error).message }, 502, 'failed');
    throw error;
  }
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

function checkInput(request: WriteRequest): void {
  if (request.action === 'decline') checkDeclineInput(request.input);
  if (request.action === 'patch') checkChanges(request.input);
}

function notFound(id: string): WriteOutcome {
  return {
    kind: 'refused',
    status: 404,
    title: 'Not found',
    detail: `No referral ${id} (or not one the signed-in user sees)`,
  };
}

function outcomeName(outcome: Extract<WriteOutcome, { kind: 'refused' }>): string {
  if (outcome.status === 404) return 'not-found';
  if (outcome.status === 412) return 'stale';
  if (outcome.title === 'Refused by Partner Center') return 'rejected';
  return outcome.status === 400 ? 'refused' : 'failed';
}

function statusOf(referral: Referral): StatusPair {
  return { status: referral.status ?? null, substatus: referral.substatus ?? null };
}
