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
  | 'already_running';

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
