/**
 * `referrals-lake`: the operator's command line (sync, login, check, webhooks, keys, the writes). Each subcommand lives in its
 * own file; this one only wires them into commander and maps errors to exit codes. The development
 * commands (sandbox, serve, demo) live in dev/cli/, which adds them to this program: the app never
 * imports the sandbox or the dev tools.
 */
import { Command, CommanderError } from 'commander';
import { ReferralsLakeError } from '../common/errors.js';
import { redact } from '../common/redact.js';
import { registerCheckCommand } from './check-command.js';
import { CliExit, EXIT } from './exit.js';
import { registerKeysCommand } from './keys-command.js';
import { registerLoginCommand } from './login-command.js';
import { registerSyncCommand } from './sync-command.js';
import { registerWebhooksCommand } from './webhooks-command.js';
import { registerWriteCommands } from './write-commands.js';

export { EXIT };

/** Adds commands beside the operator's (dev/cli adds the sandbox, serve and demo). */
export type ProgramExtension = (program: Command) => void;

export function buildProgram(extend?: ProgramExtension): Command {
  const program = new Command('referrals-lake')
    .description('Export Partner Center referrals to a data lake.')
    .showHelpAfterError()
    .exitOverride();
  registerSyncCommand(program);
  registerLoginCommand(program);
  registerCheckCommand(program);
  registerWebhooksCommand(program);
  registerWriteCommands(program);
  registerKeysCommand(program);
  extend?.(program);
  return program;
}

export async function main(argv: readonly string[], extend?: ProgramExtension): Promise<number> {
  try {
    await buildProgram(extend).parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CliExit) return error.exitCode;
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`referrals-lake: ${redact(message)}\n`);
  if (!(error instanceof ReferralsLakeError)) return EXIT.failure;
  switch (error.code) {
    case 'config_invalid':
    case 'bad_query':
      return EXIT.configInvalid;
    case 'auth_required':
      return EXIT.authRequired;
    case 'already_running':
      return EXIT.alreadyRunning;
    case 'shrink_refused':
      return EXIT.shrinkRefused;
    case 'webhook_in_use':
      return EXIT.webhookInUse;
    default:
      return EXIT.failure;
  }
}
