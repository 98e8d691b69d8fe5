/**
 * The project's small set of typed errors. The CLI maps `code` to exit codes and the HTTP function
 * maps it to problem+json statuses, so every failure a user can meet is one of these, with the
 * underlying error kept as `cause` (never with a token or secret in its message).
 */

export type ErrorCode =
  | 'config_invalid'
  | 'bad_query'
  | 'auth_required'
  | 'throttled'
  | 'upstream_failed'
  | 'storage_failed'
  | 'already_running'
  | 'run_inconsistent'
  | 'lake_invalid'
  | 'lake_conflict'
  | 'shrink_refused'
  | 'bad_event'
  | 'webhook_in_use'
  | 'webhook_not_ready'
  | 'referral_refused'
  | 'azure_cli_failed'
  | 'function_keys_conflict';

export abstract class ReferralsLakeError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or malformed; `setting` names it. */
export class ConfigError extends ReferralsLakeError {
  readonly code = 'config_invalid';

  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
  }
}

export type BadEventReason =
  | 'too_large'
  | 'not_json'
  | 'not_an_object'
  | 'unknown_event'
  | 'foreign_resource'
  | 'bad_resource_uri'
  | 'bad_change_date';

/**
 * A webhook event body the receiver does not act on: too large, not a JSON object, an event it does
 * not know, a resource outside Partner Center. `reason` is the code a log line and a test key on;
 * the message may name a field or a host, never quote the body.
 */
export class BadEventError extends ReferralsLakeError {
  readonly code = 'bad_event';

  constructor(
    readonly reason: BadEventReason,
    message: string,
  ) {
    super(message);
  }
}

/** An OData query option is malformed or asks for something not supported; `target` names the part. */
export class BadQueryError extends ReferralsLakeError {
  readonly code = 'bad_query';

  constructor(
    readonly target: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Partner Center refused a write (a 400): what it said, and the field it named when it named one. */
export class ReferralRefusedError extends ReferralsLakeError {
  readonly code = 'referral_refused';

  constructor(
    readonly target: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * No usable sign-in: the token cache holds no account for these settings, or Entra refused it. The
 * message ends with what to do next: by default, sign in again.
 */
export class AuthRequiredError extends ReferralsLakeError {
  readonly code = 'auth_required';
  /** What to do about it, in words safe to show an HTTP caller (a command or a setting's name, no path). */
  readonly nextStep: string;

  constructor(reason: string, options: { cause?: unknown; nextStep?: string } = {}) {
    const { nextStep = 'Run `referrals-lake login` to sign in again (device code flow).', ...errorOptions } = options;
    super(`${reason}. ${nextStep}`, errorOptions);
    this.nextStep = nextStep;
  }
}

/** Partner Center kept answering 429 past the retry budget. */
export class ThrottledError extends ReferralsLakeError {
  readonly code = 'throttled';

  constructor(
    message: string,
    readonly retryAfterSeconds: number | undefined,
    readonly requestId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Partner Center failed: an error status, a page that is not a referral page, or a transport
 * failure past the retry budget. `url` has no query values that could carry a token.
 */
export class UpstreamError extends ReferralsLakeError {
  readonly code = 'upstream_failed';

  constructor(
    message: string,
    readonly details: { url?: string; status?: number; requestId?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another run holds the lease. */
export class AlreadyRunningError extends ReferralsLakeError {
  readonly code = 'already_running';
}

/**
 * A lake storage operation failed (Blob Storage, ADLS Gen2, Azurite or a local folder). The message
 * names the operation, the path and the target as `describe()` prints it: never an account key, SAS
 * or connection string, and the cause is a scrubbed copy of the SDK error for the same reason.
 * `status` is the HTTP status of the failed storage call when there was one (403, 404, 503, …).
 */
export class StorageError extends ReferralsLakeError {
  readonly code = 'storage_failed';

  constructor(
    message: string,
    readonly details: { operation: string; path: string; status?: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A run's own output failed a check before publication: a bug in this program, not a fault of
 * Partner Center or the store. The run publishes nothing; the previous latest tables stay.
 */
export class InconsistentRunError extends ReferralsLakeError {
  readonly code = 'run_inconsistent';
}

/**
 * A state file of the lake (a run's publish journal, a table's log or keys file) is not what this
 * version wrote or expects. `file` names it; the run stops before it writes anything.
 */
export class LakeStateError extends ReferralsLakeError {
  readonly code = 'lake_invalid';

  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/**
 * A table's `_delta_log` cannot be followed: bad JSON, a missing version, a protocol this writer does
 * not implement, or a table that is not the one declared. `file` names the log file. Nothing is
 * written to such a table.
 */
export class DeltaLogError extends LakeStateError {}

/** Another writer committed the version this one was about to commit; nothing was overwritten. */
export class DeltaConflictError extends ReferralsLakeError {
  readonly code = 'lake_conflict';

  constructor(
    readonly table: string,
    readonly version: number,
  ) {
    super(`${table}: another writer committed version ${version} first`);
  }
}

/**
 * A full run would drop more of the latest table than SYNC_MAX_VANISH_FRACTION allows: the pull was
 * probably not the whole book (the wrong user signed in, a role lost), so nothing was published. The
 * run's own files stay for inspection; `--allow-shrink` accepts a book that really shrank.
 */
export class ShrinkRefusedError extends ReferralsLakeError {
  readonly code = 'shrink_refused';

  constructor(
    readonly vanished: number,
    readonly previous: number,
    readonly limit: number,
    readonly runFolder: string,
  ) {
    super(
      `this full run would remove ${vanished} of the ${previous} referrals in referrals_latest ` +
        `(${percent(vanished / previous)}), more than SYNC_MAX_VANISH_FRACTION allows (${percent(limit)}); ` +
        `nothing was published, and the run's files are kept in ${runFolder}. Check that the signed-in user ` +
        'sees the whole book (PARTNER_CENTER_USERNAME, the Partner Center role); if the book really shrank, ' +
        'run `referrals-lake sync --mode full --allow-shrink`',
    );
  }
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A tenant's webhook registration as the CLI reports it. */
export interface RegisteredWebhook {
  readonly webhookUrl: string;
  readonly webhookEvents: readonly string[];
}

/**
 * The tenant's one webhook registration names another URL than the one asked for, so writing (or
 * removing) it would cut off whoever receives its events now: possibly a co-sell CRM connector.
 * Nothing was changed; the message names the URL registered now and the flag that overrides.
 */
export class WebhookInUseError extends ReferralsLakeError {
  readonly code = 'webhook_in_use';

  constructor(
    readonly registered: RegisteredWebhook,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A webhook command cannot do its step with the registration as it is (none, or one without the
 * test event); the message says which command makes it ready.
 */
export class WebhookNotReadyError extends ReferralsLakeError {
  readonly code = 'webhook_not_ready';
}

/**
 * The Azure CLI (`az`) is missing, not signed in, or one of its calls failed. The message names the
 * call and quotes az's own error, redacted: the calls carry no key in their arguments (a key goes to
 * az in a file), and every key read is registered with redact() before anything could print it.
 */
export class AzureCliError extends ReferralsLakeError {
  readonly code = 'azure_cli_failed';

  constructor(
    message: string,
    /** The service may answer later (a function not found yet right after a deploy, a host starting). */
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The function keys on the app are not in a state `referrals-lake keys` may settle alone: the
 * functions of a group hold different values of its key, or a write function accepts the read key.
 * Nothing was changed; the message names the functions (never a value) and what settles it.
 */
export class FunctionKeysError extends ReferralsLakeError {
  readonly code = 'function_keys_conflict';
}
