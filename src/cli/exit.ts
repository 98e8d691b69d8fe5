/** Exit codes, stable for scripts and schedulers. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  configInvalid: 3,
  authRequired: 4,
  alreadyRunning: 5,
  /** An incremental sync found no change since the watermark. */
  nothingToDo: 6,
  /** A full sync would have removed too much of the latest table; nothing was published. */
  shrinkRefused: 7,
  /** Partner Center's one webhook registration of the tenant names another URL; nothing was changed. */
  webhookInUse: 8,
  /** A write named a version (--if-match) the referral has moved on from; nothing was changed. */
  stale: 9,
} as const;

/** Ends a command with a given exit code after it has printed what it had to say. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
